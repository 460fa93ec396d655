"""Loss curves and surfaces, and optimizers descending on them (chapters 04 and 06).

A :class:`Curve1D` is a function of one variable with its derivative; a :class:`Surface` a
function of two variables with its gradient. Both are vectorised (``x`` and ``y`` may be scalars
or arrays of one shape, so the same code evaluates one point or a whole contour grid) and carry
what a plot needs: a sensible window, a default start and the known minima.

Chapter 04's landscapes:

- ``quadratic_1d``: (k / 2) (x - c)^2, where the step-size limits 1/k and 2/k can be read off;
- ``double_well_1d``: a global and a local minimum, so where descent ends depends on where it starts;
- ``linear_regression_surface``: the MSE of w x + b over (w, b), a bowl built from the data.

Chapter 06's classic test surfaces (Rosenbrock, Beale, a saddle, ...) are in
:mod:`dlcore.scratch.benchmark_surfaces`. :func:`descend` runs any optimizer with the
``step()/zero_grad()`` interface of ``dlcore.scratch.optim`` (or torch.optim) on a surface and
records its path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import numpy as np

from dlcore.errors import (ShapeError, as_float_array, expect_int, expect_ndim, expect_nonnegative_int, expect_real,
                           expect_shape)
from dlcore.scratch.descent import least_squares
from dlcore.scratch.module import Parameter

__all__ = [
    "Surface", "Curve1D", "Trajectory", "descend", "quadratic_1d", "double_well_1d", "linear_regression_surface",
]

Array = np.ndarray
ValueFn = Callable[[Array, Array], Array]
GradientFn = Callable[[Array, Array], tuple[Array, Array]]


@dataclass(frozen=True)
class Surface:
    """A function of two variables with its gradient and plotting hints.

    Attributes:
        name: short identifier, e.g. ``"rosenbrock"``.
        formula: the function in LaTeX (for titles).
        value_fn: ``f(x, y)``, vectorised.
        gradient_fn: ``(df/dx, df/dy)(x, y)``, vectorised.
        xlim, ylim: the plotting window.
        start: a default starting point that makes the surface's difficulty visible.
        minima: known minimisers as (x, y) tuples (empty if f is unbounded below).
        minimum_value: the lowest value of f, or None if f is unbounded below.
    """

    name: str
    formula: str
    value_fn: ValueFn
    gradient_fn: GradientFn
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    minimum_value: float | None

    def value(self, x: Array | float, y: Array | float) -> Array:
        """f(x, y) for scalars or equally shaped arrays (returns an array of that shape)."""
        x, y = self._coordinates("value", x, y)
        return self.value_fn(x, y)

    def gradient(self, x: Array | float, y: Array | float) -> tuple[Array, Array]:
        """(df/dx, df/dy) at (x, y); each of the shape of ``x``."""
        x, y = self._coordinates("gradient", x, y)
        gx, gy = self.gradient_fn(x, y)
        return np.broadcast_to(gx, x.shape).copy(), np.broadcast_to(gy, x.shape).copy()

    def value_at(self, point: Sequence[float]) -> float:
        """f at one point given as a length-2 sequence or array."""
        x, y = self._point("value_at", point)
        return float(self.value_fn(np.float64(x), np.float64(y)))

    def gradient_at(self, point: Sequence[float]) -> Array:
        """The gradient at one point, as an array of shape (2,)."""
        x, y = self._point("gradient_at", point)
        gx, gy = self.gradient_fn(np.float64(x), np.float64(y))
        return np.array([gx, gy], dtype=np.float64)

    def grid(self, resolution: int = 200) -> tuple[Array, Array, Array]:
        """``(xx, yy, zz)`` over the plotting window, each (resolution, resolution), for contours."""
        resolution = expect_int("Surface.grid", "resolution", resolution, 2)
        xx, yy = np.meshgrid(np.linspace(*self.xlim, resolution), np.linspace(*self.ylim, resolution))
        return xx, yy, self.value_fn(xx, yy)

    def gap(self, values: Array | Sequence[float]) -> Array:
        """f - min f, the distance to the optimum's value (f itself if f is unbounded below)."""
        values = np.asarray(values, dtype=np.float64)
        return values if self.minimum_value is None else values - self.minimum_value

    def _coordinates(self, method: str, x, y) -> tuple[Array, Array]:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if x.shape != y.shape:
            raise ShapeError(
                f"Surface.{method}: x has shape {x.shape} but y has shape {y.shape}; "
                f"pass coordinates of one shape (e.g. from np.meshgrid)"
            )
        return x, y

    def _point(self, method: str, point) -> tuple[float, float]:
        array = np.asarray(point, dtype=np.float64)
        if array.shape != (2,):
            raise ShapeError(f"Surface.{method}: point must have shape (2,), got {array.shape}")
        return float(array[0]), float(array[1])

    def __repr__(self) -> str:
        return f"Surface({self.name}: f(x, y) = {self.formula})"


@dataclass(frozen=True)
class Curve1D:
    """A function of one variable with its derivative and plotting hints (for the 1-D explorer)."""

    name: str
    formula: str  # LaTeX
    value: Callable[[np.ndarray], np.ndarray]  # vectorised
    derivative: Callable[[np.ndarray], np.ndarray]
    xlim: tuple[float, float]
    start: float
    minima: tuple[float, ...]  # local minimisers, the global one first
    curvature: float | None  # f'' if constant (a quadratic), else None


def quadratic_1d(curvature: float = 1.0, center: float = 0.0) -> Curve1D:
    """f(x) = (curvature / 2) (x - center)^2; gradient descent multiplies x - center by (1 - lr * curvature) per step.

    So it converges monotonically for lr < 1/curvature, with alternating sign for
    1/curvature < lr < 2/curvature, and diverges for lr > 2/curvature.
    """
    k, c = expect_real("quadratic_1d", "curvature", curvature, positive=True), expect_real("quadratic_1d", "center", center)
    formula = f"{k / 2:g}\\,x^2" if c == 0 else f"{k / 2:g}\\,(x - {c:g})^2"
    return Curve1D("quadratic", formula, lambda x: 0.5 * k * (x - c) ** 2,
                   lambda x: k * (x - c), (c - 3.0, c + 3.0), c + 2.5, (c,), k)


def double_well_1d() -> Curve1D:
    """f(x) = x^4 - 3x^2 + x: a global minimum near x = -1.30 and a local one near x = 1.13.

    f'(x) = 4x^3 - 6x + 1; its third root, x = 0.17, is a local maximum. Gradient
    descent started right of it ends in the worse, local minimum.
    """
    minima = tuple(float(r) for r in sorted(np.roots([4.0, 0.0, -6.0, 1.0]).real) if 12 * r * r - 6 > 0)
    return Curve1D("double well", r"x^4 - 3x^2 + x", lambda x: x**4 - 3 * x**2 + x,
                   lambda x: 4 * x**3 - 6 * x + 1, (-2.2, 2.2), 2.0, minima, None)


def linear_regression_surface(x: np.ndarray, y: np.ndarray) -> Surface:
    """The MSE of the one-feature model w x + b as a :class:`Surface` over (w, b).

    L(w, b) = w^2 <x^2> + 2 w b <x> + b^2 - 2 w <xy> - 2 b <y> + <y^2>, with <.> the
    mean over the data: the data enter only through five averages, so a whole
    contour grid costs no more than one point.

    Args:
        x, y: (N,) the feature and the target.
    """
    x = as_float_array("linear_regression_surface", "x", x)
    expect_ndim("linear_regression_surface", "x", x, 1, "(N,)")
    y = as_float_array("linear_regression_surface", "y", y)
    expect_shape("linear_regression_surface", "y", y, x.shape, "(N,)", "the shape of x")
    mx, mxx, mxy, my, myy = x.mean(), (x * x).mean(), (x * y).mean(), y.mean(), (y * y).mean()

    def value(w, b):
        return w * w * mxx + 2 * w * b * mx + b * b - 2 * w * mxy - 2 * b * my + myy

    def gradient(w, b):
        return 2 * (w * mxx + b * mx - mxy), 2 * (w * mx + b - my)

    w_star, b_star = least_squares(x[:, None], y)
    return Surface(
        name="linear regression MSE", formula=r"\frac{1}{N}\sum_n (w x_n + b - y_n)^2",
        value_fn=value, gradient_fn=gradient,
        xlim=(w_star - 3.0, w_star + 3.0), ylim=(b_star - 3.0, b_star + 3.0),
        start=(w_star - 2.5, b_star + 2.5), minima=((float(w_star), float(b_star)),),
        minimum_value=float(value(w_star, b_star)),
    )


class Trajectory(NamedTuple):
    """The path an optimizer took on a surface."""

    points: Array  # (S + 1, 2): the start and the point after each of S steps taken
    values: Array  # (S + 1,): f at each point
    diverged: bool  # stopped early because the point or value left the bound / became non-finite
    steps_taken: int  # S (less than asked for if diverged)


def descend(
    surface: Surface,
    make_optimizer: Callable[[list[Parameter]], object],
    start: Sequence[float] | None = None,
    num_steps: int = 100,
    bound: float = 1e6,
) -> Trajectory:
    """Minimise ``surface`` from ``start`` with an optimizer and record every point.

    Args:
        surface: the function to minimise.
        make_optimizer: builds the optimizer from ``[point]``, one Parameter of
            shape (2,), e.g. ``lambda params: Adam(params, lr=0.1)``.
        start: (x, y); the surface's default start if None.
        num_steps: number of optimizer steps (>= 0).
        bound: stop (and report divergence) as soon as |x| or |y| exceeds it or
            the point or f becomes NaN/inf; the returned arrays hold only finite values.

    Returns:
        A :class:`Trajectory`.
    """
    num_steps = expect_nonnegative_int("descend", "num_steps", num_steps)
    start = surface.start if start is None else start
    point = Parameter(np.array(surface._point("descend", start)), "point")
    optimizer = make_optimizer([point])
    points = [point.value.copy()]
    values = [surface.value_at(point.value)]
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(num_steps)):
            optimizer.zero_grad()
            point.grad += surface.gradient_at(point.value)
            optimizer.step()
            value = surface.value_at(point.value)
            finite = np.all(np.isfinite(point.value)) and np.isfinite(value)
            if not finite or np.max(np.abs(point.value)) > bound:
                diverged = True
                break
            points.append(point.value.copy())
            values.append(value)
    return Trajectory(np.array(points), np.array(values), diverged, len(points) - 1)
