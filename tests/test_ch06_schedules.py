"""dlcore.scratch.schedules against torch.optim.lr_scheduler, step by step."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from dlcore.scratch import Parameter
from dlcore.scratch.optim import SGD, Adam
from dlcore.scratch.schedules import (
    CosineAnnealingLR,
    ExponentialLR,
    LinearWarmup,
    StepLR,
    WarmupCosine,
    cosine_annealing_lr,
    exponential_lr,
    linear_warmup_lr,
    step_lr,
    warmup_cosine_lr,
)
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

BASE_LR = 0.3
NUM_STEPS = 70

L = torch.optim.lr_scheduler
# (name, scratch scheduler factory, torch scheduler factory)
CASES = [
    ("step", lambda o: StepLR(o, step_size=7, gamma=0.5), lambda o: L.StepLR(o, step_size=7, gamma=0.5)),
    ("exponential", lambda o: ExponentialLR(o, gamma=0.95), lambda o: L.ExponentialLR(o, gamma=0.95)),
    ("cosine", lambda o: CosineAnnealingLR(o, total_steps=40, min_lr=0.01),
     lambda o: L.CosineAnnealingLR(o, T_max=40, eta_min=0.01)),  # 70 > 40 steps: past the end, too
    ("warmup", lambda o: LinearWarmup(o, warmup_steps=10, start_factor=0.2),
     lambda o: L.LinearLR(o, start_factor=0.2, end_factor=1.0, total_iters=10)),
    ("warmup-cosine", lambda o: WarmupCosine(o, warmup_steps=8, total_steps=NUM_STEPS, start_factor=0.1, min_lr=0.001),
     lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.1, total_iters=8),
                                  L.CosineAnnealingLR(o, T_max=NUM_STEPS - 8, eta_min=0.001)], milestones=[8])),
]


@pytest.mark.parametrize("name, make, make_torch", CASES, ids=[c[0] for c in CASES])
def test_learning_rates_match_torch(name, make, make_torch):
    opt = SGD([Parameter(np.zeros(2))], lr=BASE_LR)
    scheduler = make(opt)
    weight = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    topt = torch.optim.SGD([weight], lr=BASE_LR)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the torch reference itself must be used without warnings
        tscheduler = make_torch(topt)
        ours, theirs = [opt.lr], [topt.param_groups[0]["lr"]]
        for _ in range(NUM_STEPS):
            topt.step()  # (no gradient: a no-op, but torch expects it before scheduler.step())
            tscheduler.step()
            scheduler.step()
            ours.append(opt.lr)
            theirs.append(topt.param_groups[0]["lr"])
            assert scheduler.get_last_lr() == [opt.lr]
    np.testing.assert_allclose(ours, theirs, rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
    assert len(set(np.round(ours, 12))) > 2  # the rate really changed


def test_closed_forms_at_known_points():
    assert step_lr(13, 1.0, step_size=5, gamma=0.1) == pytest.approx(0.01)
    assert exponential_lr(3, 2.0, gamma=0.5) == pytest.approx(0.25)
    assert cosine_annealing_lr(0, 1.0, 10, 0.1) == pytest.approx(1.0)
    assert cosine_annealing_lr(5, 1.0, 10, 0.1) == pytest.approx(0.55)
    assert cosine_annealing_lr(10, 1.0, 10, 0.1) == pytest.approx(0.1)
    assert linear_warmup_lr(0, 1.0, 4, 0.2) == pytest.approx(0.2)
    assert linear_warmup_lr(2, 1.0, 4, 0.2) == pytest.approx(0.6)
    assert linear_warmup_lr(9, 1.0, 4, 0.2) == pytest.approx(1.0)
    assert warmup_cosine_lr(4, 1.0, 4, 14) == pytest.approx(1.0)
    assert warmup_cosine_lr(14, 1.0, 4, 14, min_lr=0.05) == pytest.approx(0.05)


def test_closed_forms_are_vectorised():
    steps = np.arange(30)
    lrs = warmup_cosine_lr(steps, 1.0, warmup_steps=5, total_steps=29)
    assert lrs.shape == (30,)
    assert np.all(np.diff(lrs[:6]) > 0) and np.all(np.diff(lrs[5:30]) <= 0)
    np.testing.assert_allclose(lrs, [warmup_cosine_lr(int(t), 1.0, 5, 29) for t in steps])


def test_scheduler_drives_an_adam_optimizer():
    p = Parameter(np.array([1.0]))
    opt = Adam([p], lr=0.1)
    scheduler = StepLR(opt, step_size=2, gamma=0.5)
    seen = []
    for _ in range(5):
        seen.append(opt.lr)
        opt.step()
        scheduler.step()
    assert seen == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert scheduler.base_lr == 0.1


@pytest.mark.parametrize("make, error, message", [
    (lambda o: StepLR(o, step_size=0), ValueError, r"StepLR: step_size must be an int >= 1, got 0"),
    (lambda o: StepLR(o, step_size=3, gamma=1.5), ValueError, r"StepLR: gamma must be in \(0, 1\], got 1.5"),
    (lambda o: ExponentialLR(o, gamma=0.0), ValueError, r"ExponentialLR: gamma must be in \(0, 1\]"),
    (lambda o: CosineAnnealingLR(o, total_steps=10, min_lr=5.0), ValueError, r"min_lr must be in \[0, 0.3\]"),
    (lambda o: LinearWarmup(o, warmup_steps=5, start_factor=0.0), ValueError, r"start_factor must be in \(0, 1\]"),
    (lambda o: WarmupCosine(o, warmup_steps=10, total_steps=10), ValueError, r"total_steps must be an int >= 11"),
    (lambda o: StepLR(object(), step_size=3), TypeError, r"optimizer must have an lr attribute"),
])
def test_bad_arguments_are_named(make, error, message):
    opt = SGD([Parameter(np.zeros(1))], lr=BASE_LR)
    with pytest.raises(error, match=message):
        make(opt)
    with pytest.raises(ValueError, match="step must be an int >= 0"):
        step_lr(-1, 1.0, 3)
