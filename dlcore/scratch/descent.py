"""Gradient descent done right: batch, stochastic and mini-batch (chapter 04).

One update is theta <- theta - learning_rate * grad L_B(theta), where L_B is
the mean loss over a batch B of examples. The three classic variants differ
only in |B|:

- batch gradient descent: B = the whole training set (N examples), one step per epoch;
- stochastic gradient descent (SGD): |B| = 1, N steps per epoch;
- mini-batch gradient descent: 1 < |B| < N, ceil(N / |B|) steps per epoch.

An epoch is one pass over the data in a fresh random order (an explicit
``np.random.Generator``), so every example is used exactly once per epoch.
The models here are linear regression (MSE) and logistic regression
(binary cross-entropy from logits), with parameters theta = (w_1..w_D, b).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from dlcore.errors import (ShapeError, as_float_array, expect_ndim, expect_nonnegative_int, expect_positive_int,
                           expect_real, expect_shape)
from dlcore.scratch.activations import sigmoid
from dlcore.scratch.losses import (
    binary_cross_entropy_with_logits_backward,
    binary_cross_entropy_with_logits_forward,
    mse_backward,
    mse_forward,
)

__all__ = [
    "minibatch_indices", "train_softmax_regression", "linear_regression_loss", "logistic_regression_loss",
    "sigmoid_mse_loss", "MODELS", "DescentHistory", "gradient_descent", "least_squares", "linear_regression_hessian",
    "gradient_descent_path",
]

LossAndGradient = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[float, np.ndarray]]


def _positive_int(func: str, name: str, value) -> int:
    return expect_positive_int(func, name, value)


def _positive_float(func: str, name: str, value, allow_zero: bool = False) -> float:
    return expect_real(func, name, value, minimum=0.0) if allow_zero else expect_real(func, name, value, positive=True)


def _generator(func: str, rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{func}: rng must be a numpy Generator (e.g. np.random.default_rng(0)), got {type(rng).__name__}"
        )
    return rng


def minibatch_indices(num_examples: int, batch_size: int, rng: np.random.Generator,
                      drop_last: bool = False) -> list[np.ndarray]:
    """The batches of one epoch: a fresh permutation of 0..N-1 cut into consecutive pieces.

    Every example appears exactly once; the last batch holds the N mod batch_size
    leftovers (dropped if ``drop_last``). Returns a list of int arrays.

    Raises:
        ValueError: a non-positive count, or batch_size > num_examples.
    """
    func = "minibatch_indices"
    num_examples = _positive_int(func, "num_examples", num_examples)
    batch_size = _positive_int(func, "batch_size", batch_size)
    if batch_size > num_examples:
        raise ValueError(f"{func}: batch_size {batch_size} exceeds the {num_examples} examples; "
                         f"use batch_size = {num_examples} for batch gradient descent")
    order = _generator(func, rng).permutation(num_examples)
    batches = [order[start:start + batch_size] for start in range(0, num_examples, batch_size)]
    if drop_last and len(batches[-1]) < batch_size:
        batches.pop()
    return batches


def train_softmax_regression(
    X: np.ndarray, y: np.ndarray, W: np.ndarray, b: np.ndarray,
    loss_fn: Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]],
    learning_rate: float, num_epochs: int, batch_size: int, seed: int, weight_decay: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mini-batch SGD on a linear classifier, logits = X W + b (softmax regression with cross-entropy).

    Each step takes one batch of :func:`minibatch_indices` (a fresh order every
    epoch from ``np.random.default_rng(seed)``, the last batch holding the
    leftovers) and minimises loss_fn(logits_B, y_B) + (weight_decay / 2) ||W||^2
    (the bias is not decayed): W <- W - lr (X_B^T dlogits + weight_decay W), b <- b - lr sum_B dlogits.

    Args:
        X: (N, D) inputs. y: (N,) integer labels. W: (D, K), b: (K,) the start (not modified).
        loss_fn: ``(logits (B, K), labels (B,)) -> (mean loss, dlogits (B, K))``.
        learning_rate: > 0. num_epochs, batch_size: positive ints, batch_size <= N.
        seed: seeds the one generator that draws every epoch's order.
        weight_decay: the L2 coefficient (>= 0).

    Returns:
        (W, b, losses): the trained parameters and the objective on each step's
        batch, measured before the step, shape (num_epochs * ceil(N / batch_size),).

    Raises:
        ShapeError: if X, y, W and b do not fit together. ValueError: bad counts or rates.
    """
    func = "train_softmax_regression"
    X = as_float_array(func, "X", X)
    expect_ndim(func, "X", X, 2, "(N, D): one row per example")
    N, D = X.shape
    expect_shape(func, "y", np.asarray(y), (N,), "(N,)", f"N = X.shape[0] = {N}")
    W = as_float_array(func, "W", W).astype(np.float64)  # a copy: the caller's start stays as it was
    expect_ndim(func, "W", W, 2, "(D, K)")
    expect_shape(func, "W", W, (D, W.shape[1]), "(D, K)", f"D = X.shape[1] = {D}")
    b = as_float_array(func, "b", b).astype(np.float64)
    expect_shape(func, "b", b, (W.shape[1],), "(K,)", f"K = W.shape[1] = {W.shape[1]}")
    learning_rate = _positive_float(func, "learning_rate", learning_rate)
    weight_decay = _positive_float(func, "weight_decay", weight_decay, allow_zero=True)
    num_epochs = _positive_int(func, "num_epochs", num_epochs)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(num_epochs):
        for batch in minibatch_indices(N, batch_size, rng):
            logits = X[batch] @ W + b  # (B, K)
            loss, dlogits = loss_fn(logits, y[batch])  # dlogits (B, K) carries the 1/B of the mean
            losses.append(loss + 0.5 * weight_decay * float(np.sum(W * W)))
            W = W - learning_rate * (X[batch].T @ dlogits + weight_decay * W)  # (D, K)
            b = b - learning_rate * dlogits.sum(axis=0)  # (K,)
    return W, b, np.array(losses)


def _split(func: str, theta, X, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X = as_float_array(func, "X", X)
    expect_ndim(func, "X", X, 2, "(N, D): one row per example; a single feature is x[:, None]")
    N, D = X.shape
    y = as_float_array(func, "y", y)
    expect_shape(func, "y", y, (N,), "(N,)", f"N = X.shape[0] = {N}")
    theta = as_float_array(func, "theta", theta)
    expect_shape(func, "theta", theta, (D + 1,), "(D + 1,)", f"D = X.shape[1] = {D}: the weights, then the bias")
    return theta, X, y


def linear_regression_loss(theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """MSE of the linear model X w + b, and its gradient with respect to theta = (w, b).

    L = (1/N) sum_n (x_n . w + b - y_n)^2;  dL/dw = X^T dpred,  dL/db = sum_n dpred_n

    Args:
        theta: (D + 1,) weights then bias. X: (N, D). y: (N,) targets.

    Returns:
        (loss, gradient of shape (D + 1,)).
    """
    theta, X, y = _split("linear_regression_loss", theta, X, y)
    pred = X @ theta[:-1] + theta[-1]  # (N,)
    loss, cache = mse_forward(pred, y)
    dpred = mse_backward(cache)  # (N,), already holds the 1/N of the mean
    return loss, np.append(X.T @ dpred, dpred.sum())


def logistic_regression_loss(theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Binary cross-entropy of P(y = 1 | x) = sigma(x . w + b), computed from the logits, and its gradient.

    dL/dz_n = (sigma(z_n) - y_n) / N, then the same chain rule as linear regression.

    Args:
        theta: (D + 1,) weights then bias. X: (N, D). y: (N,) labels in {0, 1}.
    """
    theta, X, y = _split("logistic_regression_loss", theta, X, y)
    logits = X @ theta[:-1] + theta[-1]  # (N,)
    loss, cache = binary_cross_entropy_with_logits_forward(logits, y)
    dlogits = binary_cross_entropy_with_logits_backward(cache)
    return loss, np.append(X.T @ dlogits, dlogits.sum())


def sigmoid_mse_loss(theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Squared error of p = sigma(x . w + b) against labels y in {0, 1}, and its gradient (chapter 04, section 4).

    dL/dz_n = dL/dp_n * p_n (1 - p_n): the sigmoid's derivative stays in the gradient, so a confident
    mistake (p near 0 or 1) learns slowly, unlike :func:`logistic_regression_loss`.
    """
    theta, X, y = _split("sigmoid_mse_loss", theta, X, y)
    p = sigmoid(X @ theta[:-1] + theta[-1])  # (N,)
    loss, cache = mse_forward(p, y)
    dlogits = mse_backward(cache) * p * (1.0 - p)  # (N,)
    return loss, np.append(X.T @ dlogits, dlogits.sum())


MODELS: dict[str, LossAndGradient] = {"linear": linear_regression_loss, "logistic": logistic_regression_loss}


@dataclass(frozen=True)
class DescentHistory:
    """What a run of :func:`gradient_descent` did, step by step (S steps).

    ``losses`` is the loss on the whole training set at each recorded
    parameter vector (what we want to fall); ``batch_losses`` the loss on the
    batch each step saw (what the algorithm actually measured: noisy for small batches).
    """

    params: np.ndarray  # (S + 1, D + 1): the start, then theta after each step
    losses: np.ndarray  # (S + 1,)
    batch_losses: np.ndarray  # (S,)
    epochs: np.ndarray  # (S,) the epoch (from 0) each step belongs to
    batch_size: int
    diverged: bool  # stopped early: theta or the loss left `bound` or became non-finite

    @property
    def num_steps(self) -> int:
        return len(self.batch_losses)


def gradient_descent(
    model: str | LossAndGradient,
    X: np.ndarray,
    y: np.ndarray,
    theta0: np.ndarray,
    *,
    learning_rate: float,
    num_epochs: int,
    batch_size: int | None = None,
    rng: np.random.Generator | None = None,
    drop_last: bool = False,
    bound: float = 1e8,
) -> DescentHistory:
    """Batch, stochastic or mini-batch gradient descent on a model of :data:`MODELS`.

    theta <- theta - learning_rate * grad L_B(theta), one step per batch B of
    :func:`minibatch_indices`; batch_size = N (the default) is batch GD, 1 is SGD.

    Args:
        model: ``"linear"``, ``"logistic"`` or a function ``(theta, X, y) -> (loss, grad)``.
        X: (N, D) inputs. y: (N,) targets. theta0: (D + 1,) start (not modified).
        learning_rate: > 0. num_epochs: passes over the data. batch_size: 1..N; None means N.
        rng: required unless batch_size = N (the order of one full batch does not matter).
        bound: the run stops, flagged ``diverged``, once |theta| or the loss exceeds it.

    Returns:
        A :class:`DescentHistory` holding only finite numbers.

    Raises:
        ValueError / TypeError: a bad learning rate, count, batch size, model or rng.
        ShapeError: if X, y and theta0 do not fit together.
    """
    func = "gradient_descent"
    loss_and_gradient = MODELS.get(model) if isinstance(model, str) else model
    if not callable(loss_and_gradient):
        raise ValueError(f"{func}: model must be one of {sorted(MODELS)} or a function, got {model!r}")
    learning_rate = _positive_float(func, "learning_rate", learning_rate)
    num_epochs = _positive_int(func, "num_epochs", num_epochs)
    theta, X, y = _split(func, theta0, X, y)
    N = X.shape[0]
    batch_size = N if batch_size is None else _positive_int(func, "batch_size", batch_size)
    if batch_size < N:
        rng = _generator(func, rng)
    theta = theta.astype(np.float64)  # a copy: the caller's theta0 stays as it was
    params, losses = [theta.copy()], [loss_and_gradient(theta, X, y)[0]]
    batch_losses, epochs = [], []
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(num_epochs):
            batches = [np.arange(N)] if batch_size >= N else minibatch_indices(N, batch_size, rng, drop_last)
            for batch in batches:
                batch_loss, grad = loss_and_gradient(theta, X[batch], y[batch])
                theta = theta - learning_rate * grad
                loss = loss_and_gradient(theta, X, y)[0]
                if not (np.all(np.isfinite(theta)) and np.isfinite(loss)) or np.abs(theta).max() > bound or loss > bound:
                    diverged = True
                    break
                params.append(theta.copy())
                losses.append(loss)
                batch_losses.append(batch_loss)
                epochs.append(epoch)
            if diverged:
                break
    return DescentHistory(np.array(params), np.array(losses), np.array(batch_losses),
                          np.array(epochs, dtype=int), batch_size, diverged)


def least_squares(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The exact minimiser theta* = (w*, b*) of the linear-regression MSE, via np.linalg.lstsq."""
    X = as_float_array("least_squares", "X", X)
    expect_ndim("least_squares", "X", X, 2, "(N, D)")
    y = as_float_array("least_squares", "y", y)
    expect_shape("least_squares", "y", y, (X.shape[0],), "(N,)")
    design = np.column_stack([X, np.ones(len(X))])  # (N, D + 1): a column of ones carries the bias
    return np.linalg.lstsq(design, y, rcond=None)[0]


def linear_regression_hessian(X: np.ndarray) -> np.ndarray:
    """The (constant) Hessian of the linear-regression MSE: (2/N) A^T A with A = [X, 1].

    Its largest eigenvalue L sets the step-size limit: gradient descent on
    this quadratic converges for every start iff 0 < learning_rate < 2 / L.
    """
    X = as_float_array("linear_regression_hessian", "X", X)
    expect_ndim("linear_regression_hessian", "X", X, 2, "(N, D)")
    design = np.column_stack([X, np.ones(len(X))])  # (N, D + 1)
    return 2.0 * design.T @ design / len(X)


def gradient_descent_path(
    gradient: Callable[[np.ndarray], np.ndarray],
    start: Sequence[float] | np.ndarray,
    *,
    learning_rate: float,
    num_steps: int,
    noise: float = 0.0,
    rng: np.random.Generator | None = None,
    bound: float = 1e8,
) -> tuple[np.ndarray, bool]:
    """Plain gradient descent x <- x - learning_rate (grad f(x) + noise * eps) on any function.

    ``noise`` > 0 adds Gaussian noise eps ~ N(0, I) to every gradient, a stand-in
    for the error of a mini-batch estimate when there is no data set behind f.

    Args:
        gradient: maps a point of shape (P,) to its gradient, shape (P,).
        start: (P,) the first point (P = 1 for a function of one variable).
        num_steps: steps to take (>= 0).
        rng: required when noise > 0.
        bound: stop early once |x| exceeds it or x stops being finite.

    Returns:
        (points of shape (S + 1, P), finite only, and whether it diverged).
    """
    func = "gradient_descent_path"
    x = np.atleast_1d(as_float_array(func, "start", start)).astype(np.float64)
    expect_ndim(func, "start", x, 1, "(P,)")
    num_steps = expect_nonnegative_int(func, "num_steps", num_steps)
    learning_rate = _positive_float(func, "learning_rate", learning_rate)
    noise = _positive_float(func, "noise", noise, allow_zero=True)
    if noise > 0:
        rng = _generator(func, rng)
    points, diverged = [x.copy()], False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(num_steps)):
            grad = np.asarray(gradient(x), dtype=np.float64)
            if grad.shape != x.shape:
                raise ShapeError(f"{func}: gradient returned shape {grad.shape} for a point of shape {x.shape}; "
                                 f"a gradient has the shape of the point")
            if noise > 0:
                grad = grad + noise * rng.standard_normal(x.shape)
            x = x - learning_rate * grad
            if not np.all(np.isfinite(x)) or np.abs(x).max() > bound:
                diverged = True
                break
            points.append(x.copy())
    return np.array(points), diverged
