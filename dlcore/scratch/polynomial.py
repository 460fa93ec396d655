"""Polynomial regression, the course's first model, and how to measure its capacity (chapter 01).

A polynomial of degree D in one input is a *linear* model on the features
[1, t, t^2, ..., t^D]: curved in x, linear in its coefficients, so least
squares fits it exactly. Two numerical precautions keep high degrees sound:

- the input x in [low, high] is first mapped to t in [-1, 1], where powers
  stay in [-1, 1] instead of exploding or vanishing;
- the fit calls ``np.linalg.lstsq`` (an SVD) rather than inverting
  Phi^T Phi, whose condition number is the square of Phi's.

The ridge objective J(w) = (1/N) ||Phi w - y||^2 + l2 ||w[1:]||^2 comes as a
forward/backward pair like every kernel of the course. The bias-variance
helpers refit on many training sets drawn from an explicit generator.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np

from dlcore.data.synthetic import make_noisy_function
from dlcore.errors import (ShapeError, as_float_array, expect_finite, expect_int, expect_ndim, expect_nonnegative_int,
                           expect_positive_int, expect_real, expect_shape, format_shape)

__all__ = [
    "scale_to_unit_interval", "polynomial_features", "PolynomialFit", "fit_polynomial",
    "predict_polynomial", "mean_squared_error", "RidgeCache", "ridge_objective_forward",
    "ridge_objective_backward", "ridge_objective_gradient", "bias_variance_from_predictions", "BiasVarianceCurve",
    "estimate_bias_variance", "fold_indices", "cross_validate", "fit_coefficients",
]


def _check_degree(func: str, degree: int) -> int:
    return expect_nonnegative_int(func, "degree", degree)


def _check_l2(func: str, l2: float) -> float:
    return expect_real(func, "l2", l2, minimum=0.0)


def scale_to_unit_interval(x: np.ndarray, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """Map [low, high] affinely onto [-1, 1]: t = 2 (x - low) / (high - low) - 1.

    Args:
        x: (N,) inputs (values outside [low, high] are mapped too, outside [-1, 1]).
        low, high: the interval the data lives in, low < high.

    Returns:
        t of shape (N,), float64.

    Raises:
        ShapeError: if x is not 1-D. ValueError: if not low < high.
    """
    x = as_float_array("scale_to_unit_interval", "x", x).astype(np.float64)
    expect_ndim("scale_to_unit_interval", "x", x, 1, "(N,): one input per example")
    low, high = expect_real("scale_to_unit_interval", "low", low), expect_real("scale_to_unit_interval", "high", high)
    if not high > low:
        raise ValueError(f"scale_to_unit_interval: need finite low < high, got low={low!r}, high={high!r}")
    return 2.0 * (x - low) / (high - low) - 1.0


def polynomial_features(t: np.ndarray, degree: int) -> np.ndarray:
    """The design matrix of a polynomial: Phi[n, j] = t[n] ** j for j = 0..degree.

    Args:
        t: (N,) inputs, ideally already in [-1, 1] (see :func:`scale_to_unit_interval`).
        degree: D >= 0.

    Returns:
        Phi of shape (N, D + 1); column 0 is all ones (the intercept).

    Raises:
        ShapeError: if t is not 1-D. ValueError: for a negative or non-integer degree.
    """
    t = as_float_array("polynomial_features", "t", t).astype(np.float64)
    expect_ndim("polynomial_features", "t", t, 1, "(N,): one input per example")
    degree = _check_degree("polynomial_features", degree)
    return t[:, None] ** np.arange(degree + 1)  # (N, 1) ** (D+1,) -> (N, D+1)


class PolynomialFit(NamedTuple):
    """A fitted polynomial: coefficients on the scaled input, and the scaling."""

    coef: np.ndarray  # (D+1,), coefficient of t**j at index j
    degree: int
    l2: float
    low: float
    high: float


def fit_polynomial(
    x: np.ndarray, y: np.ndarray, degree: int, l2: float = 0.0, low: float = 0.0, high: float = 1.0
) -> PolynomialFit:
    """Least-squares (l2 = 0) or ridge (l2 > 0) fit of a degree-D polynomial.

    Minimises J(w) = (1/N) sum_n (phi(x_n) . w - y_n)^2 + l2 sum_{j>=1} w_j^2.
    The intercept w_0 is not penalised: shifting the curve up or down adds no
    wiggle. Solved as the stacked least-squares problem
    [Phi; sqrt(N l2) E] w = [y; 0], E = the identity without its first row,
    whose normal equations are those of J. With N <= D, lstsq returns the
    minimum-norm solution among the many exact fits.

    Args:
        x, y: (N,) inputs in [low, high] and targets.
        degree: D >= 0. l2: the penalty strength, >= 0.
        low, high: the input interval mapped to [-1, 1].

    Returns:
        A :class:`PolynomialFit`.

    Raises:
        ShapeError: if x or y is not 1-D or their lengths differ.
        ValueError: for a bad degree, l2 or interval.
    """
    func = "fit_polynomial"
    x = as_float_array(func, "x", x)
    expect_ndim(func, "x", x, 1, "(N,): one input per example")
    y = as_float_array(func, "y", y).astype(np.float64)
    phi = polynomial_features(scale_to_unit_interval(x, low, high), degree)  # (N, D+1)
    N = phi.shape[0]
    expect_shape(func, "y", y, (N,), "(N,)", f"N = len(x) = {N}")
    expect_finite(func, "x", x)  # least squares on a NaN fails deep inside LAPACK
    expect_finite(func, "y", y)
    l2 = _check_l2(func, l2)
    if l2 > 0 and degree > 0:
        penalty = np.sqrt(N * l2) * np.eye(degree + 1)[1:]  # (D, D+1): skips the intercept
        phi = np.vstack([phi, penalty])  # (N+D, D+1)
        y = np.concatenate([y, np.zeros(degree)])  # (N+D,)
    coef = np.linalg.lstsq(phi, y, rcond=None)[0]
    return PolynomialFit(coef, degree, l2, float(low), float(high))


def fit_coefficients(x: np.ndarray, y: np.ndarray, degree: int, l2: float = 0.0) -> np.ndarray:
    """The coefficients of :func:`fit_polynomial` for inputs in [0, 1]: shape (D+1,), t**j's at index j."""
    return fit_polynomial(x, y, degree, l2).coef


def predict_polynomial(fit: PolynomialFit, x: np.ndarray) -> np.ndarray:
    """Evaluate a fitted polynomial: y_hat = phi(x) . coef, shape (N,)."""
    t = scale_to_unit_interval(x, fit.low, fit.high)
    return polynomial_features(t, fit.degree) @ fit.coef  # (N, D+1) @ (D+1,) -> (N,)


def mean_squared_error(prediction: np.ndarray, target: np.ndarray) -> float:
    """(1/N) sum_n (prediction_n - target_n)^2, for two arrays of the same shape."""
    prediction = as_float_array("mean_squared_error", "prediction", prediction)
    target = as_float_array("mean_squared_error", "target", target)
    expect_shape("mean_squared_error", "target", target, prediction.shape, why="the shape of prediction")
    return float(np.mean((prediction - target) ** 2))


class RidgeCache(NamedTuple):
    """What ridge_objective_backward needs from the forward pass."""

    phi: np.ndarray  # (N, P) design matrix
    residual: np.ndarray  # (N,) phi @ w - y
    w: np.ndarray  # (P,)
    l2: float


def ridge_objective_forward(
    w: np.ndarray, phi: np.ndarray, y: np.ndarray, l2: float = 0.0
) -> tuple[np.ndarray, RidgeCache]:
    """The ridge objective: loss per example, averaged into the cost, plus the penalty.

    J(w) = (1/N) ||phi w - y||^2 + l2 ||w[1:]||^2   (column 0 of phi is the intercept)

    Args:
        w: (P,) coefficients. phi: (N, P) design matrix. y: (N,) targets. l2: >= 0.

    Returns:
        J as a 0-d array, and the cache for :func:`ridge_objective_backward`.

    Raises:
        ShapeError: if the shapes do not fit together. ValueError: for a bad l2.
    """
    func = "ridge_objective_forward"
    w = as_float_array(func, "w", w)
    phi = as_float_array(func, "phi", phi)
    y = as_float_array(func, "y", y)
    expect_ndim(func, "phi", phi, 2, "(N, P)")
    N, P = phi.shape
    expect_shape(func, "w", w, (P,), "(P,)", f"P = phi.shape[1] = {P}")
    expect_shape(func, "y", y, (N,), "(N,)", f"N = phi.shape[0] = {N}")
    l2 = _check_l2(func, l2)
    residual = phi @ w - y  # (N,)
    cost = np.mean(residual**2) + l2 * np.sum(w[1:] ** 2)
    return np.asarray(cost), RidgeCache(phi, residual, w, l2)


def ridge_objective_backward(dout: float | np.ndarray, cache: RidgeCache) -> np.ndarray:
    """Gradient of the ridge objective with respect to w.

    dJ/dw = (2/N) phi^T (phi w - y) + 2 l2 [0, w_1, ..., w_{P-1}]

    Args:
        dout: the upstream gradient dL/dJ, a scalar (1.0 for J itself).
        cache: from :func:`ridge_objective_forward`.

    Returns:
        dw of shape (P,), the shape of w.
    """
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != ():
        raise ShapeError(f"ridge_objective_backward: dout has shape {format_shape(dout.shape)} "
                         f"but J is a scalar; expected shape ()")
    phi, residual, w, l2 = cache
    penalty_grad = 2.0 * l2 * w
    penalty_grad[0] = 0.0  # the intercept is not penalised
    return dout * (2.0 / len(residual) * (phi.T @ residual) + penalty_grad)  # (P,)


def ridge_objective_gradient(w: np.ndarray, phi: np.ndarray, y: np.ndarray, l2: float = 0.0) -> np.ndarray:
    """dJ/dw of the ridge objective at w, shape (P,): the forward and backward pass in one call."""
    _, cache = ridge_objective_forward(w, phi, y, l2)
    return ridge_objective_backward(1.0, cache)


def bias_variance_from_predictions(predictions: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Squared bias and variance of a model, from its predictions over resampled training sets.

    With y_bar(x) = mean over r of predictions[r, x]:
    bias^2 = mean over x of (y_bar(x) - f(x))^2,
    variance = mean over x of mean over r of (predictions[r, x] - y_bar(x))^2.
    The variance divides by R, not R - 1: then bias^2 + variance equals the
    mean squared distance of the predictions from f exactly.

    Args:
        predictions: (R, P), row r = the model trained on training set r,
            evaluated at P test inputs.
        truth: (P,) the noiseless f at the same inputs.

    Returns:
        (bias2, variance), two floats.

    Raises:
        ShapeError: if the shapes do not fit.
    """
    func = "bias_variance_from_predictions"
    predictions = as_float_array(func, "predictions", predictions)
    truth = as_float_array(func, "truth", truth)
    expect_ndim(func, "predictions", predictions, 2, "(R, P): one row per resampled training set")
    expect_shape(func, "truth", truth, (predictions.shape[1],), "(P,)", "P = predictions.shape[1]")
    mean_prediction = predictions.mean(axis=0)  # (P,): average over training sets
    bias2 = np.mean((mean_prediction - truth) ** 2)
    variance = np.mean(np.mean((predictions - mean_prediction) ** 2, axis=0))
    return float(bias2), float(variance)


class BiasVarianceCurve(NamedTuple):
    """Estimates per degree (arrays of shape (len(degrees),)), and the noise variance."""

    degrees: np.ndarray
    bias2: np.ndarray
    variance: np.ndarray
    noise: float  # sigma^2, the irreducible error
    test_error: np.ndarray  # measured E[(y_hat(x) - y)^2] on fresh noisy targets


def estimate_bias_variance(
    degrees: Sequence[int],
    *,
    rng: np.random.Generator,
    n_train: int = 20,
    noise: float = 0.3,
    l2: float = 0.0,
    n_resamples: int = 200,
    n_test: int = 100,
    function: Callable[[np.ndarray], np.ndarray] | None = None,
    fit: Callable[[np.ndarray, np.ndarray, int, float], np.ndarray] | None = None,
    decompose: Callable[[np.ndarray, np.ndarray], tuple[float, float]] | None = None,
) -> BiasVarianceCurve:
    """Estimate bias^2, variance and noise for each degree by refitting on resampled data.

    Draws ``n_resamples`` training sets of ``n_train`` points from
    :func:`dlcore.data.make_noisy_function` (x uniform in [0, 1]), fits every
    degree on each (the same sets for all degrees, so the curves differ only
    by the model), predicts on ``n_test`` evenly spaced inputs, and applies
    :func:`bias_variance_from_predictions`. ``test_error`` is measured
    independently against fresh noisy targets, so that
    bias2 + variance + noise ~ test_error can be checked, not assumed.

    ``fit(x, y, degree, l2)`` returns the coefficients (default
    :func:`fit_coefficients`) and ``decompose(predictions, truth)`` the pair
    (bias2, variance) (default :func:`bias_variance_from_predictions`), so
    that the experiment can run on other implementations of either.

    Raises:
        TypeError: if rng is not a numpy Generator. ValueError: for bad counts.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"estimate_bias_variance: rng must be a numpy Generator, got {type(rng).__name__}")
    for name, value, minimum in (("n_train", n_train, 1), ("n_resamples", n_resamples, 2), ("n_test", n_test, 1)):
        expect_int("estimate_bias_variance", name, value, minimum)
    degrees = np.array([_check_degree("estimate_bias_variance", d) for d in degrees], dtype=np.int64)
    function = (lambda t: np.sin(2 * np.pi * t)) if function is None else function
    fit = fit_coefficients if fit is None else fit
    decompose = bias_variance_from_predictions if decompose is None else decompose
    x_test = np.linspace(0.0, 1.0, n_test)
    t_test = scale_to_unit_interval(x_test)
    truth = np.asarray(function(x_test), dtype=np.float64)  # (P,)
    training_sets = [make_noisy_function(n_train, noise, function, seed=rng) for _ in range(n_resamples)]
    fresh_targets = truth + noise * rng.standard_normal((n_resamples, n_test))  # (R, P)
    bias2, variance, test_error = (np.empty(len(degrees)) for _ in range(3))
    for k, degree in enumerate(degrees):
        phi_test = polynomial_features(t_test, int(degree))  # (P, D+1)
        predictions = np.stack([phi_test @ fit(x, y, int(degree), l2) for x, y in training_sets])  # (R, P)
        bias2[k], variance[k] = decompose(predictions, truth)
        test_error[k] = np.mean((predictions - fresh_targets) ** 2)
    return BiasVarianceCurve(degrees, bias2, variance, float(noise) ** 2, test_error)


def fold_indices(n: int, k: int) -> list[np.ndarray]:
    """k interleaved folds of range(n): fold i holds the examples n' with n' % k == i.

    Interleaving (rather than contiguous blocks) spreads every fold over the
    input range when the examples are sorted by x, as make_noisy_function returns them.
    """
    n = expect_positive_int("fold_indices", "n", n)
    k = expect_int("fold_indices", "k", k, 2, n)  # at least two folds, at most one example each
    return [np.arange(i, n, k) for i in range(k)]


def cross_validate(
    x: np.ndarray,
    y: np.ndarray,
    degrees: Sequence[int],
    l2_values: Sequence[float],
    k: int,
    fit: Callable[[np.ndarray, np.ndarray, int, float], np.ndarray] | None = None,
) -> tuple[np.ndarray, int, float, np.ndarray]:
    """k-fold cross-validation over a grid of degrees and penalties, then the chosen fit on all the data.

    For every (degree, l2), fits on k - 1 folds (:func:`fold_indices`),
    measures the mean squared error on the held-out fold, and averages the k
    fold errors. The chosen pair is the first lowest in row-major order; it is
    refitted on all N examples.

    Args:
        x, y: (N,) inputs in [0, 1] and targets. degrees, l2_values: the grid.
        k: the number of folds, 2 <= k <= N.
        fit: ``fit(x, y, degree, l2) -> coef`` (default :func:`fit_coefficients`).

    Returns:
        (errors of shape (len(degrees), len(l2_values)), best degree, best l2,
        the coefficients of the best setting fitted on all N examples).
    """
    fit = fit_coefficients if fit is None else fit
    x = as_float_array("cross_validate", "x", x)
    y = as_float_array("cross_validate", "y", y)
    expect_ndim("cross_validate", "x", x, 1, "(N,): one input per example")
    expect_shape("cross_validate", "y", y, x.shape, "(N,)", "the shape of x")
    folds = fold_indices(len(x), k)
    errors = np.zeros((len(degrees), len(l2_values)))
    for i, degree in enumerate(degrees):
        for j, l2 in enumerate(l2_values):
            fold_errors = []
            for held_out in folds:
                train = np.setdiff1d(np.arange(len(x)), held_out)
                coef = fit(x[train], y[train], int(degree), float(l2))
                phi = polynomial_features(scale_to_unit_interval(x[held_out]), int(degree))
                fold_errors.append(np.mean((phi @ coef - y[held_out]) ** 2))
            errors[i, j] = np.mean(fold_errors)
    best_i, best_j = np.unravel_index(int(np.argmin(errors)), errors.shape)
    best_degree, best_l2 = int(degrees[best_i]), float(l2_values[best_j])
    return errors, best_degree, best_l2, fit(x, y, best_degree, best_l2)
