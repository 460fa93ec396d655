"""Five loss surfaces to descend on, their data, and a verdict on a run (chapter 04).

The experiment behind chapter 04's descent explorer (:class:`dlcore.widgets.descent.DescentExplorer`):

- :func:`regression_data`: y = 1.5 x - 0.5 + noise, the data behind the linear-regression surface;
- :func:`descent_problems`: the surfaces of :mod:`dlcore.scratch.surfaces` and two of
  :mod:`dlcore.scratch.benchmark_surfaces`, each with its window, start, minima and, for a quadratic,
  its largest curvature L (gradient descent is stable for learning rates below 2 / L);
- :func:`linear_model_loss`: the loss and gradient of the linear model X w + b under any MSE function
  (the learner's, from exercise 4.1), for :func:`dlcore.scratch.descent.gradient_descent`;
- :func:`descent_verdict`: what a run did (converged, oscillating, diverged, stalled at a saddle, ...),
  from its numbers alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from dlcore.data.synthetic import make_noisy_function
from dlcore.errors import as_float_array, expect_finite, expect_ndim, expect_nonnegative_int, expect_shape
from dlcore.scratch.benchmark_surfaces import get_surface
from dlcore.scratch.descent import linear_regression_hessian
from dlcore.scratch.surfaces import double_well_1d, linear_regression_surface, quadratic_1d

__all__ = ["NUM_EXAMPLES", "SURFACE_CHOICES", "STATIONARY_GRADIENT", "regression_data", "DescentProblem",
           "descent_problems", "linear_model_loss", "descent_verdict"]

SURFACE_CHOICES = ("quadratic (1-D)", "double well (1-D)", "linear regression MSE (2-D)",
                   "elongated quadratic (2-D)", "saddle (2-D)")
STATIONARY_GRADIENT = 1e-4  # a gradient norm below this counts as having stopped
NUM_EXAMPLES = 40  # training points behind the linear-regression surface


def regression_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The linear-regression surface's data: y = 1.5 x - 0.5 + noise (sigma 0.5), x uniform in [-1, 3], N = 40.

    x is not centred, so slope and intercept are correlated and the MSE bowl is a tilted, elongated ellipse.

    Returns:
        (x, y), each (NUM_EXAMPLES,), x sorted.

    Raises:
        TypeError, ValueError: for a seed that is not an int >= 0.
    """
    seed = expect_nonnegative_int("regression_data", "seed", seed)
    return make_noisy_function(NUM_EXAMPLES, 0.5, function=lambda t: 1.5 * t - 0.5, low=-1.0, high=3.0,
                               seed=np.random.default_rng(seed))


@dataclass(frozen=True)
class DescentProblem:
    """One surface to descend on, with everything a run and its verdict need."""

    name: str
    dims: int
    value: object  # vectorised f: f(x) for 1-D, f(x, y) for 2-D
    gradient: object  # (P,) -> (P,)
    xlim: tuple[float, float]
    ylim: tuple[float, float] | None
    start: tuple[float, ...]
    minima: tuple[tuple[float, ...], ...]  # the global minimum first
    minimum_value: float | None
    curvature: float | None  # L, the largest Hessian eigenvalue, if the surface is a quadratic
    formula: str


def descent_problems(x_data: np.ndarray, y_data: np.ndarray) -> dict[str, DescentProblem]:
    """The five surfaces of :data:`SURFACE_CHOICES`, by name; the linear-regression one is built on (x_data, y_data).

    L of the regression surface is the largest eigenvalue of its Hessian
    (:func:`~dlcore.scratch.descent.linear_regression_hessian`); the elongated quadratic's is 10; the double
    well and the saddle have none.

    Args:
        x_data, y_data: (N,) the feature and the target (e.g. :func:`regression_data`).

    Raises:
        ShapeError: if x_data is not 1-D or y_data has another shape. TypeError: for non-numeric data.
        ValueError: for data holding a NaN or an infinity.
    """
    func = "descent_problems"
    x_data = as_float_array(func, "x_data", x_data)
    expect_ndim(func, "x_data", x_data, 1, "(N,): one feature per example")
    y_data = as_float_array(func, "y_data", y_data)
    expect_shape(func, "y_data", y_data, x_data.shape, "(N,)", "the shape of x_data")
    expect_finite(func, "x_data", x_data)  # a NaN leaves no least-squares minimum to mark
    expect_finite(func, "y_data", y_data)
    quad, well = quadratic_1d(curvature=4.0), double_well_1d()
    mse = linear_regression_surface(x_data, y_data)
    L_mse = float(np.linalg.eigvalsh(linear_regression_hessian(x_data[:, None]))[-1])
    problems = {}
    for name, curve in (("quadratic (1-D)", quad), ("double well (1-D)", well)):
        minima = tuple((m,) for m in curve.minima)
        problems[name] = DescentProblem(name, 1, curve.value, lambda p, c=curve: c.derivative(p), curve.xlim, None,
                                        (curve.start,), minima, float(curve.value(np.array(curve.minima[0]))),
                                        curve.curvature, curve.formula)
    for name, surface, curvature in (("linear regression MSE (2-D)", mse, L_mse),
                                     ("elongated quadratic (2-D)", get_surface("elongated_quadratic"), 10.0),
                                     ("saddle (2-D)", get_surface("saddle"), None)):
        problems[name] = DescentProblem(name, 2, surface.value_fn, lambda p, s=surface: s.gradient_at(p),
                                        surface.xlim, surface.ylim, surface.start, surface.minima,
                                        surface.minimum_value, curvature, surface.formula)
    return problems


def linear_model_loss(mse_loss: Callable) -> Callable:
    """The ``(theta, X, y) -> (loss, gradient)`` of the linear model X w + b under a given MSE function.

    ``mse_loss(pred, target) -> (loss, dpred)``, e.g. :func:`dlcore.scratch.losses.mse_loss` or the learner's
    from exercise 4.1; theta = (w_1 .. w_D, b), X (N, D), y (N,). By the chain rule dL/dw = X^T dpred and
    dL/db = sum(dpred).

    Raises:
        TypeError: if mse_loss is not callable.
    """
    if not callable(mse_loss):
        raise TypeError(f"linear_model_loss: mse_loss must be a function (pred, target) -> (loss, dpred), "
                        f"got {type(mse_loss).__name__}")

    def loss_and_gradient(theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        loss, dpred = mse_loss(X @ theta[:-1] + theta[-1], y)  # dpred (N,)
        return float(loss), np.append(X.T @ dpred, np.sum(dpred))
    return loss_and_gradient


def descent_verdict(problem: DescentProblem, points: np.ndarray, losses: np.ndarray, diverged: bool,
                    stochastic: bool) -> str:
    """Name what a run of gradient descent on ``problem`` did, from the numbers alone.

    One of: "ran away downhill: this surface has no minimum", "diverged", "still moving",
    "converged to" / "hovering around" (with noisy gradients) "the global minimum" or "a local minimum
    (not the global one)", "stalled at a stationary point that is no minimum (a saddle)", "oscillating".

    Args:
        problem: the surface.
        points: (S + 1, dims) the start and every point after it.
        losses: (S + 1,) f at each point.
        diverged: whether the run was stopped for leaving the bound.
        stochastic: whether its gradients were noisy (mini-batches or added noise).
    """
    if problem.minimum_value is None and len(losses) > 1 and losses[-1] < losses[0] - 1.0 and (
            diverged or np.abs(points[-1]).max() > 10 * np.abs(np.array(problem.xlim)).max()):
        return "ran away downhill: this surface has no minimum"
    if diverged or (len(losses) > 3 and losses[-1] > losses[0] + 1.0 and losses[-1] > losses[-2] > losses[-3]):
        return "diverged"
    if len(points) < 3:
        return "still moving"
    steps = np.diff(points, axis=0)[-10:]
    grad_norm = np.linalg.norm(np.asarray(problem.gradient(points[-1]), dtype=float))
    nearest = min(problem.minima, key=lambda m: np.linalg.norm(points[-1] - np.array(m)), default=None)
    close = nearest is not None and np.linalg.norm(points[-1] - np.array(nearest)) < 0.05 * (1 + np.abs(nearest).max())
    if (grad_norm < STATIONARY_GRADIENT and close) or (stochastic and close):
        where = "the global minimum" if nearest == problem.minima[0] else "a local minimum (not the global one)"
        return f"converged to {where}" if not stochastic else f"hovering around {where}"
    if grad_norm < STATIONARY_GRADIENT:
        return "stalled at a stationary point that is no minimum (a saddle)"
    if len(steps) >= 2 and np.mean(np.sum(steps[1:] * steps[:-1], axis=1) < 0) > 0.5:
        return "oscillating"
    return "still moving"
