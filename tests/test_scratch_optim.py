"""dlcore.scratch.optim against torch.optim: the same trajectory, step by step, in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.data import make_moons
from dlcore.scratch import Linear, Parameter, Sequential, Tanh
from dlcore.scratch.losses import (
    binary_cross_entropy_with_logits_backward,
    binary_cross_entropy_with_logits_forward,
)
from dlcore.scratch.optim import (
    SGD, Adagrad, Adam, AdamState, AdamW, RMSprop, RMSpropState, SGDState, adam_update, rmsprop_update, sgd_update,
)
from dlcore.scratch.benchmark_surfaces import get_surface
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

TOL = dict(rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
NUM_STEPS = 60

# (name, scratch class, torch class, keyword arguments): every optimizer and each of its main options.
CONFIGS = [
    ("sgd", SGD, torch.optim.SGD, dict(lr=0.05)),
    ("sgd-momentum", SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    ("sgd-dampening", SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("sgd-nesterov", SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("sgd-weight-decay", SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
    ("adagrad", Adagrad, torch.optim.Adagrad, dict(lr=0.1)),
    ("adagrad-options", Adagrad, torch.optim.Adagrad,
     dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.1)),
    ("rmsprop", RMSprop, torch.optim.RMSprop, dict(lr=0.01)),
    ("rmsprop-momentum", RMSprop, torch.optim.RMSprop, dict(lr=0.005, alpha=0.9, momentum=0.8)),
    ("rmsprop-centered", RMSprop, torch.optim.RMSprop, dict(lr=0.005, centered=True, weight_decay=0.05)),
    ("rmsprop-all", RMSprop, torch.optim.RMSprop, dict(lr=0.005, centered=True, momentum=0.5, eps=1e-6)),
    ("adam", Adam, torch.optim.Adam, dict(lr=0.02)),
    ("adam-betas", Adam, torch.optim.Adam, dict(lr=0.02, betas=(0.5, 0.9), eps=1e-6)),
    ("adam-l2", Adam, torch.optim.Adam, dict(lr=0.02, weight_decay=0.1)),
    ("adam-amsgrad", Adam, torch.optim.Adam, dict(lr=0.02, amsgrad=True)),
    ("adamw", AdamW, torch.optim.AdamW, dict(lr=0.02)),
    ("adamw-strong", AdamW, torch.optim.AdamW, dict(lr=0.02, weight_decay=0.5, betas=(0.8, 0.99))),
    ("adamw-amsgrad", AdamW, torch.optim.AdamW, dict(lr=0.02, weight_decay=0.1, amsgrad=True)),
]
IDS = [name for name, *_ in CONFIGS]


def _torch_kwargs(kwargs: dict) -> dict:
    # torch.optim picks a foreach/fused path only for GPU tensors; say so, to compare with the plain loop.
    return dict(kwargs, foreach=False)


@pytest.mark.parametrize("name, scratch_cls, torch_cls, kwargs", CONFIGS, ids=IDS)
def test_least_squares_trajectory_matches_torch(name, scratch_cls, torch_cls, kwargs, rng):
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    w0, b0 = rng.standard_normal(3), rng.standard_normal(())
    w, b = Parameter(w0.copy(), "w"), Parameter(b0.copy(), "b")
    opt = scratch_cls([w, b], **kwargs)
    tw = torch.tensor(w0, requires_grad=True)
    tb = torch.tensor(b0, requires_grad=True)
    topt = torch_cls([tw, tb], **_torch_kwargs(kwargs))
    tX, ty = torch.tensor(X), torch.tensor(y)
    for _ in range(NUM_STEPS):
        opt.zero_grad()
        residual = X @ w.value + b.value - y  # (N,)
        w.grad += 2.0 * X.T @ residual / len(y)
        b.grad += 2.0 * residual.mean()
        opt.step()
        topt.zero_grad()
        torch.mean((tX @ tw + tb - ty) ** 2).backward()
        topt.step()
        np.testing.assert_allclose(w.value, tw.detach().numpy(), **TOL)
        np.testing.assert_allclose(b.value, tb.detach().numpy(), **TOL)
    assert not np.allclose(w.value, w0)  # it moved: a do-nothing optimizer would not pass vacuously


@pytest.mark.parametrize("name, scratch_cls, torch_cls, kwargs", CONFIGS, ids=IDS)
def test_mlp_trajectory_matches_torch(name, scratch_cls, torch_cls, kwargs):
    rng = np.random.default_rng(7)
    X, y = make_moons(64, noise=0.2, seed=rng)
    model = Sequential(Linear(2, 8, rng=rng), Tanh(), Linear(8, 1, rng=rng))
    tensors = [torch.tensor(p.value.copy(), requires_grad=True) for p in model.parameters()]
    opt = scratch_cls(model.parameters(), **kwargs)
    topt = torch_cls(tensors, **_torch_kwargs(kwargs))
    tX, ty = torch.tensor(X), torch.tensor(y, dtype=torch.float64)
    for _ in range(NUM_STEPS):
        opt.zero_grad()
        logits = model(X)[:, 0]  # (N,)
        _, cache = binary_cross_entropy_with_logits_forward(logits, y.astype(np.float64))
        model.backward(binary_cross_entropy_with_logits_backward(cache)[:, None])  # (N, 1)
        opt.step()
        W1, b1, W2, b2 = tensors
        tlogits = (torch.tanh(tX @ W1 + b1) @ W2 + b2)[:, 0]
        topt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(tlogits, ty).backward()
        topt.step()
        for p, t in zip(model.parameters(), tensors):
            np.testing.assert_allclose(p.value, t.detach().numpy(), **TOL)


@pytest.mark.parametrize("name, scratch_cls, torch_cls, kwargs", CONFIGS, ids=IDS)
def test_rosenbrock_trajectory_matches_torch(name, scratch_cls, torch_cls, kwargs):
    surface = get_surface("rosenbrock")
    kwargs = dict(kwargs, lr=kwargs["lr"] / 50)  # Rosenbrock's gradients are large near the start
    point = Parameter(np.array(surface.start), "point")
    opt = scratch_cls([point], **kwargs)
    tpoint = torch.tensor(surface.start, dtype=torch.float64, requires_grad=True)
    topt = torch_cls([tpoint], **_torch_kwargs(kwargs))
    for _ in range(NUM_STEPS):
        opt.zero_grad()
        point.grad += surface.gradient_at(point.value)
        opt.step()
        topt.zero_grad()
        x, y = tpoint[0], tpoint[1]
        ((1 - x) ** 2 + 100 * (y - x * x) ** 2).backward()
        topt.step()
        np.testing.assert_allclose(point.value, tpoint.detach().numpy(), **TOL)


def test_momentum_buffer_starts_as_the_gradient():
    # torch's convention: no (1 - dampening) factor on the very first step.
    value, grad = np.array([1.0, -2.0]), np.array([0.5, 4.0])
    new, state = sgd_update(value, grad, SGDState(None), lr=0.1, momentum=0.9, dampening=0.5)
    np.testing.assert_array_equal(state.velocity, grad)
    np.testing.assert_allclose(new, value - 0.1 * grad)


def test_update_functions_do_not_modify_their_inputs(rng):
    value, grad = rng.standard_normal(4), rng.standard_normal(4)
    zeros = np.zeros(4)
    adam_state = AdamState(3, rng.standard_normal(4), rng.random(4), rng.random(4))
    rms_state = RMSpropState(rng.random(4) + 1.0, rng.standard_normal(4) * 0.1, rng.standard_normal(4))
    snapshot = [a.copy() for a in (value, grad, *adam_state[1:], *rms_state)]
    adam_update(value, grad, adam_state, lr=0.1, weight_decay=0.1, decoupled=True, amsgrad=True)
    rmsprop_update(value, grad, rms_state, lr=0.1, momentum=0.9, centered=True)
    sgd_update(value, grad, SGDState(zeros), lr=0.1, momentum=0.9, weight_decay=0.1)
    for before, after in zip(snapshot, (value, grad, *adam_state[1:], *rms_state)):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(zeros, 0.0)


def test_adam_and_adamw_agree_without_decay_and_differ_with_it(rng):
    start = rng.standard_normal(3)
    paths = {}
    for cls, wd in ((Adam, 0.0), (AdamW, 0.0), (Adam, 0.5), (AdamW, 0.5)):
        p = Parameter(start.copy())
        opt = cls([p], lr=0.1, weight_decay=wd)
        for _ in range(20):
            opt.zero_grad()
            p.grad += np.array([10.0, 1.0, 0.01]) * p.value  # a badly scaled quadratic
            opt.step()
        paths[cls.__name__, wd] = p.value.copy()
    np.testing.assert_array_equal(paths["Adam", 0.0], paths["AdamW", 0.0])
    assert not np.allclose(paths["Adam", 0.5], paths["AdamW", 0.5], rtol=1e-3)


def test_step_reads_lr_attribute_each_time():
    p = Parameter(np.array([1.0]))
    opt = SGD([p], lr=0.1)
    p.grad[...] = 1.0
    opt.step()
    opt.lr = 0.0
    opt.step()
    np.testing.assert_allclose(p.value, [0.9])
    opt.zero_grad()
    np.testing.assert_array_equal(p.grad, [0.0])


@pytest.mark.parametrize("make, message", [
    (lambda ps: SGD(ps, lr=-0.1), r"SGD: lr must be >= 0, got -0.1"),
    (lambda ps: SGD(ps, lr=0.1, momentum=1.0), r"SGD: momentum must be in \[0, 1\), got 1.0"),
    (lambda ps: SGD(ps, lr=0.1, nesterov=True), r"nesterov=True needs momentum > 0"),
    (lambda ps: Adam(ps, betas=(0.9, 1.0)), r"Adam: betas\[1\] must be in \[0, 1\), got 1.0"),
    (lambda ps: Adam(ps, betas=(-0.1, 0.9)), r"Adam: betas\[0\] must be in \[0, 1\), got -0.1"),
    (lambda ps: AdamW(ps, eps=-1e-8), r"AdamW: eps must be >= 0"),
    (lambda ps: AdamW(ps, weight_decay=float("nan")), r"AdamW: weight_decay must be >= 0, got nan"),
    (lambda ps: Adam(ps, betas=0.9), r"betas must be a pair"),
    (lambda ps: RMSprop(ps, alpha=1.5), r"RMSprop: alpha must be in \[0, 1\), got 1.5"),
    (lambda ps: Adagrad(ps, lr_decay=-1), r"Adagrad: lr_decay must be >= 0"),
    (lambda ps: Adam([], lr=0.1), r"Adam: params is empty"),
])
def test_bad_hyperparameters_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make([Parameter(np.zeros(2))])


def test_bad_params_are_reported():
    with pytest.raises(TypeError, match=r"params\[1\] is a ndarray, expected a dlcore Parameter"):
        SGD([Parameter(np.zeros(2)), np.zeros(2)], lr=0.1)
    p = Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="same Parameter twice"):
        SGD([p, p], lr=0.1)
    with pytest.raises(TypeError, match="lr must be a number"):
        SGD([p], lr="0.1")
