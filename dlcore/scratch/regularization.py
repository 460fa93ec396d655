"""Regularisation: L1, L2 and elastic-net penalties, the proximal step, early stopping (chapter 07).

A penalty is added to the data loss, L_total(w) = L(w) + R(w), with

    L2 (ridge, weight decay):  R = (lambda / 2) ||w||_2^2          dR/dw = lambda w
    L1 (lasso):                R = lambda ||w||_1                  dR/dw = lambda sign(w)  (a subgradient)
    elastic net:               R = lambda (r ||w||_1 + (1 - r)/2 ||w||_2^2),  0 <= r <= 1

(the elastic-net parametrisation is scikit-learn's, alpha = lambda and
l1_ratio = r). L2 pulls every weight towards 0 in proportion to its size:
weights shrink but almost never reach 0. L1 pulls with the same force
lambda whatever the size, which drives small weights to *exactly* 0 at the
optimum: a sparse solution. Plain (sub)gradient steps only make the weights
jitter around 0; the proximal step (soft thresholding) puts them on 0.

For SGD, adding lambda w to the gradient *is* weight decay,
w <- (1 - lr lambda) w - lr g (``SGD(weight_decay=lambda)``); for Adam it is
not (chapter 06).
"""

from __future__ import annotations

from typing import Any, Iterable, NamedTuple

import numpy as np

from dlcore.errors import as_float_array, expect_ndim, expect_positive_int, expect_shape
from dlcore.scratch.module import Parameter

__all__ = [
    "l1_penalty", "l2_penalty", "elastic_net_penalty", "soft_threshold", "add_penalty",
    "RegularizedFit", "fit_linear_regularized", "EarlyStopping",
]


def _check_strength(func: str, name: str, value: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value < 0 or (high is not None and value > high):
        bound = f"in [0, {high:g}]" if high is not None else ">= 0"
        raise ValueError(f"{func}: {name} must be a finite number {bound}, got {value!r}")
    return float(value)


def l2_penalty(w: np.ndarray, strength: float) -> tuple[float, np.ndarray]:
    """(lambda/2) ||w||^2 and its gradient lambda w (w of any shape)."""
    strength = _check_strength("l2_penalty", "strength", strength)
    w = as_float_array("l2_penalty", "w", w)
    return 0.5 * strength * float(np.sum(w * w)), strength * w


def l1_penalty(w: np.ndarray, strength: float) -> tuple[float, np.ndarray]:
    """lambda ||w||_1 and the subgradient lambda sign(w) (0 at w = 0, as PyTorch's autograd gives)."""
    strength = _check_strength("l1_penalty", "strength", strength)
    w = as_float_array("l1_penalty", "w", w)
    return strength * float(np.sum(np.abs(w))), strength * np.sign(w)


def elastic_net_penalty(w: np.ndarray, strength: float, l1_ratio: float) -> tuple[float, np.ndarray]:
    """lambda (r ||w||_1 + (1 - r)/2 ||w||^2) and its (sub)gradient; r = 1 is L1, r = 0 is L2."""
    r = _check_strength("elastic_net_penalty", "l1_ratio", l1_ratio, high=1.0)
    strength = _check_strength("elastic_net_penalty", "strength", strength)
    l1_value, l1_grad = l1_penalty(w, strength * r)
    l2_value, l2_grad = l2_penalty(w, strength * (1.0 - r))
    return l1_value + l2_value, l1_grad + l2_grad


def soft_threshold(w: np.ndarray, threshold: float) -> np.ndarray:
    """The proximal map of threshold ||w||_1: sign(w) max(|w| - threshold, 0).

    Every entry moves towards 0 by ``threshold`` and stops AT 0 instead of
    crossing it, which is how L1 produces exact zeros.
    """
    threshold = _check_strength("soft_threshold", "threshold", threshold)
    w = as_float_array("soft_threshold", "w", w)
    return np.sign(w) * np.maximum(np.abs(w) - threshold, 0.0) + 0.0  # + 0.0 turns -0.0 into 0.0


def add_penalty(parameters: Iterable[Parameter], kind: str, strength: float, l1_ratio: float = 0.5) -> float:
    """Add a penalty's gradient into each parameter's ``.grad``; return the penalty's value.

    ``kind`` is 'l1', 'l2' or 'elastic_net'. Only weights are penalised:
    parameters named ``W`` (biases and batch-norm parameters are left alone,
    as is usual: penalising a bias does not reduce the model's capacity).
    """
    if kind not in ("l1", "l2", "elastic_net"):
        raise ValueError(f"add_penalty: kind must be 'l1', 'l2' or 'elastic_net', got {kind!r}")
    total = 0.0
    for parameter in parameters:
        if parameter.name != "W":
            continue
        if kind == "l1":
            value, grad = l1_penalty(parameter.value, strength)
        elif kind == "l2":
            value, grad = l2_penalty(parameter.value, strength)
        elif kind == "elastic_net":
            value, grad = elastic_net_penalty(parameter.value, strength, l1_ratio)
        else:
            raise ValueError(f"add_penalty: kind must be 'l1', 'l2' or 'elastic_net', got {kind!r}")
        parameter.grad += grad
        total += value
    return total


class RegularizedFit(NamedTuple):
    """A penalised linear regression: coefficients (D,), intercept, and the objective per step."""

    coef: np.ndarray
    intercept: float
    objective: np.ndarray


def fit_linear_regularized(X: np.ndarray, y: np.ndarray, strength: float, l1_ratio: float, *,
                           method: str = "proximal", num_steps: int = 2000) -> RegularizedFit:
    """Minimise (1/2N) ||y - X w - b||^2 + lambda (r ||w||_1 + (1 - r)/2 ||w||^2) by gradient steps.

    scikit-learn's Lasso / Ridge / ElasticNet minimise this same objective
    (alpha = strength, l1_ratio = r). The intercept b is not penalised: X and y
    are centred, and b is recovered at the end.

    Args:
        X: (N, D) inputs. y: (N,) targets.
        strength: lambda >= 0. l1_ratio: r in [0, 1].
        method: 'proximal' (a gradient step on the smooth part, then soft
            thresholding: exact zeros) or 'subgradient' (the L1 term's
            subgradient added to the gradient: the weights jitter around 0).
        num_steps: steps of size 1 / Lipschitz constant of the smooth part.

    Returns:
        A :class:`RegularizedFit`.
    """
    func = "fit_linear_regularized"
    X = as_float_array(func, "X", X)
    y = as_float_array(func, "y", y)
    expect_ndim(func, "X", X, 2, "(N, D)")
    expect_shape(func, "y", y, (X.shape[0],), "(N,)", f"N = X.shape[0] = {X.shape[0]}")
    strength = _check_strength(func, "strength", strength)
    r = _check_strength(func, "l1_ratio", l1_ratio, high=1.0)
    if method not in ("proximal", "subgradient"):
        raise ValueError(f"{func}: method must be 'proximal' or 'subgradient', got {method!r}")
    N = X.shape[0]
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    l2 = strength * (1.0 - r)
    lipschitz = np.linalg.eigvalsh(Xc.T @ Xc / N)[-1] + l2
    step = 1.0 / lipschitz
    l1 = strength * r
    gram, Xty = Xc.T @ Xc / N, Xc.T @ yc / N  # (D, D), (D,): the smooth gradient is gram w - Xty + l2 w
    w = np.zeros(X.shape[1])
    objective = np.empty(num_steps)
    for t in range(num_steps):
        residual = Xc @ w - yc  # (N,)
        objective[t] = 0.5 * (residual @ residual) / N + l1 * np.abs(w).sum() + 0.5 * l2 * (w @ w)
        smooth_grad = gram @ w - Xty + l2 * w
        if method == "proximal":  # soft thresholding, inlined: this loop runs thousands of times
            moved = w - step * smooth_grad
            w = np.sign(moved) * np.maximum(np.abs(moved) - step * l1, 0.0) + 0.0
        else:
            w = w - step * (smooth_grad + l1 * np.sign(w))
    return RegularizedFit(w, float(y_mean - x_mean @ w), objective)


class EarlyStopping:
    """Stop when a monitored value (a validation loss) has not improved for ``patience`` checks.

    Usage, once per epoch::

        stopper = EarlyStopping(patience=10)
        if stopper.step(val_loss, state=copy_of_the_weights):
            restore(stopper.best_state); break

    An improvement is value < best - min_delta. ``state`` is whatever the
    caller wants back at the best point (it should be a copy: the stopper
    keeps the object, it does not copy it). The stopper knows nothing about models.
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0) -> None:
        self.patience = expect_positive_int("EarlyStopping", "patience", patience)
        self.min_delta = _check_strength("EarlyStopping", "min_delta", min_delta)
        self.best = float("inf")
        self.best_check = -1  # index (from 0) of the check with the best value
        self.best_state: Any = None
        self.checks = 0
        self.bad_checks = 0  # consecutive checks without improvement
        self.stopped = False

    def step(self, value: float, state: Any = None) -> bool:
        """Record one check; return True once training should stop."""
        value = float(value)
        if value < self.best - self.min_delta:  # NaN never counts as an improvement
            self.best, self.best_check, self.best_state, self.bad_checks = value, self.checks, state, 0
        else:
            self.bad_checks += 1
        self.checks += 1
        self.stopped = self.bad_checks >= self.patience
        return self.stopped

    def __repr__(self) -> str:
        return (f"EarlyStopping(patience={self.patience}, best={self.best:.4g} at check {self.best_check}, "
                f"checks={self.checks}, stopped={self.stopped})")
