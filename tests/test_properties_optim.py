"""Properties of chapter 06's optimizers, schedules, test surfaces and decay experiment: torch.optim and
torch.optim.lr_scheduler step for step, surfaces' gradients against finite differences, bad input named."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from dlcore.scratch import benchmark_surfaces as BS
from dlcore.scratch import clipping as C
from dlcore.scratch import lr_decay as LD
from dlcore.scratch import optim as O
from dlcore.scratch import schedules as S
from dlcore.scratch import surfaces as SF
from dlcore.scratch.module import Parameter
from tests.property_kit import close, covers, floats, rejects, torch_of

covers(
    O.Optimizer, O.SGD, O.Adagrad, O.RMSprop, O.Adam, O.AdamW, O.sgd_update, O.adagrad_update, O.rmsprop_update,
    O.adam_update,
    S.LRScheduler, S.StepLR, S.ExponentialLR, S.CosineAnnealingLR, S.LinearWarmup, S.WarmupCosine, S.step_lr,
    S.exponential_lr, S.cosine_annealing_lr, S.linear_warmup_lr, S.warmup_cosine_lr,
    BS.get_surface, SF.descend, BS.elongated_quadratic, BS.rosenbrock, BS.saddle, BS.beale, BS.himmelblau,
    LD.least_squares_runs, LD.full_batch_gap_by_direction,
)

OPTIMIZERS = {
    "sgd": (O.SGD, torch.optim.SGD, dict(lr=0.1)),
    "momentum": (O.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    "nesterov": (O.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True)),
    "adagrad": (O.Adagrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.01,
                                                     initial_accumulator_value=0.1)),
    "rmsprop": (O.RMSprop, torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.5)),
    "rmsprop_centered": (O.RMSprop, torch.optim.RMSprop, dict(lr=0.01, centered=True, weight_decay=0.1)),
    "adam": (O.Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.01)),
    "amsgrad": (O.Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True)),
    "adamw": (O.AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1)),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
@given(start=floats((3, 2)), data=st.data())
def test_optimizers_follow_torch_optim_step_for_step(name, start, data):
    ours_cls, theirs_cls, options = OPTIMIZERS[name]
    ours = Parameter(start.copy())
    theirs = torch.nn.Parameter(torch_of(start))
    optimizer, reference = ours_cls([ours], **options), theirs_cls([theirs], **options)
    for _ in range(4):
        grad = data.draw(floats((3, 2)))
        optimizer.zero_grad()
        ours.accumulate(grad)
        optimizer.step()
        theirs.grad = torch_of(grad)
        reference.step()
        close(ours.value, theirs.detach(), rtol=1e-9, atol=1e-12)


SCHEDULES = {
    "step": (lambda o: S.StepLR(o, 3, 0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5)),
    "exponential": (lambda o: S.ExponentialLR(o, 0.9), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9)),
    "cosine": (lambda o: S.CosineAnnealingLR(o, 10, 0.01),
               lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01)),
    "warmup": (lambda o: S.LinearWarmup(o, 4, 0.25),
               lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4)),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedulers_set_torchs_learning_rates(name):
    ours_make, theirs_make = SCHEDULES[name]
    optimizer = O.SGD([Parameter(np.zeros(1))], lr=0.2)
    reference = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.2)
    ours, theirs = ours_make(optimizer), theirs_make(reference)
    for _ in range(10):
        assert optimizer.lr == pytest.approx(reference.param_groups[0]["lr"], rel=1e-12, abs=1e-15)
        reference.step()
        ours.step()
        theirs.step()


@given(base=st.floats(0.01, 1.0), step=st.integers(0, 60), size=st.integers(1, 10), gamma=st.floats(0.1, 0.99),
       total=st.integers(1, 50), warmup=st.integers(1, 20), factor=st.floats(0.01, 1.0))
def test_schedule_functions_follow_their_formulas(base, step, size, gamma, total, warmup, factor):
    assert S.step_lr(step, base, size, gamma) == pytest.approx(base * gamma ** (step // size))
    assert S.exponential_lr(step, base, gamma) == pytest.approx(base * gamma ** step)
    # beyond total_steps the cosine climbs back, as torch's CosineAnnealingLR does
    assert S.cosine_annealing_lr(step, base, total) == pytest.approx(
        base * (1 + math.cos(math.pi * step / total)) / 2, abs=1e-12)
    ramp = factor + (1 - factor) * min(step, warmup) / warmup
    assert S.linear_warmup_lr(step, base, warmup, factor) == pytest.approx(base * ramp)
    combined = S.warmup_cosine_lr(step, base, warmup, warmup + total, factor)
    assert 0 <= combined <= base * (1 + 1e-12)
    optimizer = O.SGD([Parameter(np.zeros(1))], lr=base)
    scheduler = S.WarmupCosine(optimizer, warmup, warmup + total, factor)
    for _ in range(step):
        scheduler.step()
    assert optimizer.lr == pytest.approx(combined)
    custom = S.LRScheduler(O.SGD([Parameter(np.zeros(1))], lr=base), lambda s: base / (1 + s))
    for _ in range(step):
        custom.step()
    assert custom.optimizer.lr == pytest.approx(base / (1 + step))


@pytest.mark.parametrize("name", sorted(BS.SURFACES))
@given(x=st.floats(-2, 2), y=st.floats(-2, 2))
def test_surface_gradients_equal_finite_differences(name, x, y):
    surface = BS.get_surface(name)
    h = 1e-6
    gx, gy = (np.asarray(g, dtype=float) for g in surface.gradient_fn(np.array(x), np.array(y)))
    fx = (surface.value_fn(np.array(x + h), np.array(y)) - surface.value_fn(np.array(x - h), np.array(y))) / (2 * h)
    fy = (surface.value_fn(np.array(x), np.array(y + h)) - surface.value_fn(np.array(x), np.array(y - h))) / (2 * h)
    scale = 1 + abs(float(fx)) + abs(float(fy))
    assert abs(gx - fx) < 1e-5 * scale and abs(gy - fy) < 1e-5 * scale
    for minimum in surface.minima:
        assert abs(surface.value_fn(*map(np.array, minimum))) < 1e-6


@given(condition=st.floats(1, 50), angle=st.floats(0, 3.14), lr=st.floats(0.001, 0.03), steps=st.integers(1, 30))
def test_descend_is_plain_gradient_descent_with_sgd(condition, angle, lr, steps):
    surface = BS.elongated_quadratic(condition, angle)
    path = SF.descend(surface, lambda params: O.SGD(params, lr=lr), start=(1.0, 1.0), num_steps=steps)
    point = np.array([1.0, 1.0])
    for _ in range(steps):
        point = point - lr * np.array([float(g) for g in surface.gradient_fn(*point)])
    close(path.points[-1], point)
    assert path.steps_taken == steps and not path.diverged


@given(seed=st.integers(0, 200), num_steps=st.integers(1, 6))
def test_decay_runs_agree_with_the_closed_form_and_with_a_plain_loop(seed, num_steps):
    rng = np.random.default_rng(seed)
    design, targets = rng.normal(size=(12, 3)), rng.normal(size=12)
    rates = rng.uniform(0.01, 0.1, num_steps)
    batches = np.stack([rng.permutation(12)[:4].reshape(1, 4) for _ in range(num_steps)])  # (T, 1, 4)
    losses = LD.least_squares_runs(design, targets, rates, batches, lambda p: O.SGD(p, lr=0.1), record_every=1)
    optimum = np.linalg.lstsq(design, targets, rcond=None)[0]
    best = np.mean((design @ optimum - targets) ** 2)
    eigenvalues, gaps = LD.full_batch_gap_by_direction(design, targets, rates)
    close(gaps.sum(axis=1), losses[0] - best, atol=1e-10)  # run 0 is the full batch: exactly the closed form
    theta = np.zeros(3)
    for t in range(num_steps):
        rows = batches[t, 0]
        theta = theta - rates[t] * 2 * design[rows].T @ (design[rows] @ theta - targets[rows]) / 4
    assert losses[1, -1] == pytest.approx(np.mean((design @ theta - targets) ** 2))
    close(eigenvalues, np.linalg.eigvalsh(2 * design.T @ design / 12))


@pytest.mark.parametrize("call, argument", [
    (lambda: O.SGD([Parameter(np.ones(2))], lr=-0.1), "lr"),
    (lambda: O.SGD([Parameter(np.ones(2))], lr=0.1, nesterov=True), "nesterov"),
    (lambda: O.SGD([], lr=0.1), "params"),
    (lambda: O.SGD([np.ones(2)], lr=0.1), "params"),
    (lambda: O.Adam([Parameter(np.ones(2))], betas=(0.9, 1.0)), "betas"),
    (lambda: O.RMSprop([Parameter(np.ones(2))], alpha=-0.1), "alpha"),
    (lambda: O.Adagrad([Parameter(np.ones(2))], eps=-1.0), "eps"),
    (lambda: S.StepLR(O.SGD([Parameter(np.ones(2))], lr=0.1), 0), "step_size"),
    (lambda: S.ExponentialLR(O.SGD([Parameter(np.ones(2))], lr=0.1), "0.9"), "gamma"),
    (lambda: S.CosineAnnealingLR(O.SGD([Parameter(np.ones(2))], lr=0.1), 0), "total_steps"),
    (lambda: S.LinearWarmup("optimizer", 3), "optimizer"),
    (lambda: S.step_lr(3, 0.1, 0), "step_size"),
    (lambda: S.warmup_cosine_lr(1, 0.1, 5, 3), "total_steps"),
    (lambda: BS.get_surface("ackley"), "surface"),
    (lambda: BS.elongated_quadratic(0.0), "condition"),
    (lambda: SF.descend(BS.saddle(), lambda p: O.SGD(p, lr=0.1), num_steps=-1), "num_steps"),
    (lambda: LD.least_squares_runs(np.ones((4, 2)), np.ones(4), np.ones(3), np.zeros((2, 1, 2), int),
                                   lambda p: O.SGD(p, lr=0.1), 1), "rates"),
    (lambda: LD.least_squares_runs(np.ones((4, 2)), np.ones(4), np.ones(2), np.zeros((2, 1, 2), int),
                                   lambda p: O.SGD(p, lr=0.1), 0), "record_every"),
])
def test_bad_arguments_are_named(call, argument):
    rejects(call, argument)


# ---------------------------------------------------------------- gradient clipping

covers(C.total_grad_norm, C.clip_grad_norm, C.clip_grad_value)


@given(grads=st.lists(floats((2, 3), -10, 10), min_size=1, max_size=3), max_norm=st.floats(0.01, 20),
       norm_type=st.sampled_from([1.0, 2.0, 3.0, float("inf")]), clip_value=st.floats(0.01, 5))
def test_clipping_equals_torch_nn_utils(grads, max_norm, norm_type, clip_value):
    ours = [Parameter(np.zeros((2, 3))) for _ in grads]
    theirs = [torch.nn.Parameter(torch.zeros(2, 3, dtype=torch.float64)) for _ in grads]
    for parameter, tensor, grad in zip(ours, theirs, grads):
        parameter.accumulate(grad)
        tensor.grad = torch_of(grad)
    assert C.total_grad_norm(ours, norm_type) == pytest.approx(
        float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(t.grad, norm_type) for t in theirs]),
                                       norm_type)), rel=1e-12, abs=1e-12)
    total = C.clip_grad_norm(ours, max_norm, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total == pytest.approx(float(total_t), rel=1e-12, abs=1e-12)
    for parameter, tensor in zip(ours, theirs):
        close(parameter.grad, tensor.grad, rtol=1e-9, atol=1e-12)
    C.clip_grad_value(ours, clip_value)
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for parameter, tensor in zip(ours, theirs):
        close(parameter.grad, tensor.grad)


@pytest.mark.parametrize("call, argument", [
    (lambda: C.clip_grad_norm([Parameter(np.ones(2))], 0.0), "max_norm"),
    (lambda: C.clip_grad_norm([Parameter(np.ones(2))], float("nan")), "max_norm"),
    (lambda: C.clip_grad_norm([np.ones(2)], 1.0), "parameters"),
    (lambda: C.total_grad_norm([Parameter(np.ones(2))], norm_type=0), "norm_type"),
    (lambda: C.clip_grad_value([Parameter(np.ones(2))], -1.0), "clip_value"),
])
def test_clipping_bad_arguments_are_named(call, argument):
    rejects(call, argument)
