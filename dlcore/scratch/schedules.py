"""Learning-rate schedules: step, exponential, cosine annealing, linear warm-up, warm-up + cosine (chapter 06).

Two layers, as elsewhere in dlcore:

- closed-form functions ``*_lr(step, base_lr, ...)`` giving the learning rate
  after ``step`` scheduler steps (vectorised: pass an array of steps to plot a
  whole schedule);
- scheduler classes shaped like ``torch.optim.lr_scheduler``: built on an
  optimizer (anything with an ``lr`` attribute, e.g. ``dlcore.scratch.optim.Adam``),
  they set ``optimizer.lr`` at construction and again on every ``step()``.

A schedule is a function of the step count only; it never looks at the loss
(``torch.optim.lr_scheduler.ReduceLROnPlateau`` is the exception that does,
and it *lowers* the rate when the loss stops falling).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.errors import expect_int, expect_real

__all__ = [
    "step_lr", "exponential_lr", "cosine_annealing_lr", "linear_warmup_lr", "warmup_cosine_lr",
    "LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearWarmup", "WarmupCosine",
]


def _check_steps(func: str, step) -> np.ndarray:
    steps = np.asarray(step)
    if not np.issubdtype(steps.dtype, np.integer) or np.any(steps < 0):
        raise ValueError(f"{func}: step must be an int >= 0 (or an array of them), got {step!r}")
    return steps


def _check_count(owner: str, name: str, value, minimum: int = 1) -> int:
    return expect_int(owner, name, value, minimum)


def _check_factor(owner: str, name: str, value, low: float, high: float, low_open: bool = False) -> float:
    value = expect_real(owner, name, value)  # "0.9" as text would pass float() and hide a mistake
    below = value <= low if low_open else value < low
    if not np.isfinite(value) or below or value > high:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}]"
        raise ValueError(f"{owner}: {name} must be in {interval}, got {value!r}")
    return value


def _base_lr(owner: str, optimizer) -> float:
    if not hasattr(optimizer, "lr"):
        raise TypeError(
            f"{owner}: optimizer must have an lr attribute (a dlcore.scratch.optim optimizer), got "
            f"{type(optimizer).__name__}; for a torch optimizer use torch.optim.lr_scheduler"
        )
    return float(optimizer.lr)


def _result(values: np.ndarray):
    return float(values) if np.ndim(values) == 0 else values


def step_lr(step, base_lr: float, step_size: int, gamma: float = 0.1):
    """Multiply by ``gamma`` every ``step_size`` steps: lr_t = base_lr * gamma^floor(t / step_size)."""
    steps = _check_steps("step_lr", step)
    step_size = _check_count("step_lr", "step_size", step_size)
    return _result(base_lr * gamma ** (steps // step_size))


def exponential_lr(step, base_lr: float, gamma: float):
    """Multiply by ``gamma`` every step: lr_t = base_lr * gamma^t."""
    steps = _check_steps("exponential_lr", step)
    return _result(base_lr * gamma ** steps.astype(np.float64))


def cosine_annealing_lr(step, base_lr: float, total_steps: int, min_lr: float = 0.0):
    """Half a cosine from base_lr down to min_lr over ``total_steps``.

    lr_t = min_lr + (base_lr - min_lr) (1 + cos(pi t / T)) / 2,  T = total_steps.
    (Beyond T the cosine climbs back up, as in torch's CosineAnnealingLR.)
    """
    steps = _check_steps("cosine_annealing_lr", step)
    total_steps = _check_count("cosine_annealing_lr", "total_steps", total_steps)
    return _result(min_lr + (base_lr - min_lr) * (1.0 + np.cos(np.pi * steps / total_steps)) / 2.0)


def linear_warmup_lr(step, base_lr: float, warmup_steps: int, start_factor: float = 0.1):
    """Ramp linearly from start_factor * base_lr to base_lr over ``warmup_steps``, then stay.

    lr_t = base_lr (s + (1 - s) min(t, W) / W),  s = start_factor, W = warmup_steps
    """
    steps = _check_steps("linear_warmup_lr", step)
    warmup_steps = _check_count("linear_warmup_lr", "warmup_steps", warmup_steps)
    fraction = np.minimum(steps, warmup_steps) / warmup_steps
    return _result(base_lr * (start_factor + (1.0 - start_factor) * fraction))


def warmup_cosine_lr(step, base_lr: float, warmup_steps: int, total_steps: int,
                     start_factor: float = 0.1, min_lr: float = 0.0):
    """Linear warm-up for ``warmup_steps``, then cosine annealing to min_lr at ``total_steps``."""
    steps = _check_steps("warmup_cosine_lr", step)
    warmup_steps = _check_count("warmup_cosine_lr", "warmup_steps", warmup_steps)
    total_steps = _check_count("warmup_cosine_lr", "total_steps", total_steps, warmup_steps + 1)
    warm = linear_warmup_lr(np.minimum(steps, warmup_steps), base_lr, warmup_steps, start_factor)
    after = np.maximum(steps - warmup_steps, 0)
    cosine = cosine_annealing_lr(after, base_lr, total_steps - warmup_steps, min_lr)
    return _result(np.where(steps < warmup_steps, warm, cosine))


class LRScheduler:
    """Sets ``optimizer.lr = lr_at(t)`` where t counts the calls to :meth:`step` (0 at construction).

    Subclasses give ``lr_at`` from the closed forms above; the optimizer's
    learning rate at construction is the base rate. Call ``step()`` once per
    epoch or per iteration, after ``optimizer.step()``, as in PyTorch.
    """

    def __init__(self, optimizer, lr_at: Callable[[int], float]) -> None:
        self.optimizer = optimizer
        self.base_lr = _base_lr(type(self).__name__, optimizer)
        self.lr_at = lr_at
        self.last_step = 0
        optimizer.lr = float(lr_at(0))

    def step(self) -> None:
        self.last_step += 1
        self.optimizer.lr = float(self.lr_at(self.last_step))

    def get_last_lr(self) -> list[float]:
        """The rate in use now, as a one-element list (torch's return type)."""
        return [self.optimizer.lr]


class StepLR(LRScheduler):
    """As ``torch.optim.lr_scheduler.StepLR``: lr *= gamma every ``step_size`` steps."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1) -> None:
        step_size = _check_count("StepLR", "step_size", step_size)
        gamma = _check_factor("StepLR", "gamma", gamma, 0.0, 1.0, low_open=True)
        base = _base_lr(type(self).__name__, optimizer)
        super().__init__(optimizer, lambda t: step_lr(t, base, step_size, gamma))


class ExponentialLR(LRScheduler):
    """As ``torch.optim.lr_scheduler.ExponentialLR``: lr *= gamma every step."""

    def __init__(self, optimizer, gamma: float) -> None:
        gamma = _check_factor("ExponentialLR", "gamma", gamma, 0.0, 1.0, low_open=True)
        base = _base_lr(type(self).__name__, optimizer)
        super().__init__(optimizer, lambda t: exponential_lr(t, base, gamma))


class CosineAnnealingLR(LRScheduler):
    """As ``torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=min_lr)``."""

    def __init__(self, optimizer, total_steps: int, min_lr: float = 0.0) -> None:
        total_steps = _check_count("CosineAnnealingLR", "total_steps", total_steps)
        base = _base_lr(type(self).__name__, optimizer)
        min_lr = _check_factor("CosineAnnealingLR", "min_lr", min_lr, 0.0, base)
        super().__init__(optimizer, lambda t: cosine_annealing_lr(t, base, total_steps, min_lr))


class LinearWarmup(LRScheduler):
    """As ``torch.optim.lr_scheduler.LinearLR(optimizer, start_factor, end_factor=1.0, total_iters=warmup_steps)``."""

    def __init__(self, optimizer, warmup_steps: int, start_factor: float = 0.1) -> None:
        warmup_steps = _check_count("LinearWarmup", "warmup_steps", warmup_steps)
        start_factor = _check_factor("LinearWarmup", "start_factor", start_factor, 0.0, 1.0, low_open=True)
        base = _base_lr(type(self).__name__, optimizer)
        super().__init__(optimizer, lambda t: linear_warmup_lr(t, base, warmup_steps, start_factor))


class WarmupCosine(LRScheduler):
    """Linear warm-up then cosine annealing; in PyTorch, ``SequentialLR`` of ``LinearLR`` and
    ``CosineAnnealingLR(T_max=total_steps - warmup_steps)`` with ``milestones=[warmup_steps]``."""

    def __init__(self, optimizer, warmup_steps: int, total_steps: int, start_factor: float = 0.1,
                 min_lr: float = 0.0) -> None:
        warmup_steps = _check_count("WarmupCosine", "warmup_steps", warmup_steps)
        total_steps = _check_count("WarmupCosine", "total_steps", total_steps, warmup_steps + 1)
        start_factor = _check_factor("WarmupCosine", "start_factor", start_factor, 0.0, 1.0, low_open=True)
        base = _base_lr(type(self).__name__, optimizer)
        min_lr = _check_factor("WarmupCosine", "min_lr", min_lr, 0.0, base)
        super().__init__(
            optimizer, lambda t: warmup_cosine_lr(t, base, warmup_steps, total_steps, start_factor, min_lr)
        )
