"""Two-dimensional test surfaces for watching optimizers move (chapters 04 and 06).

Each surface is a :class:`Surface`: a value f(x, y) and its analytic gradient,
both vectorised (``x`` and ``y`` may be scalars or arrays of one shape, so
the same code evaluates one point or a whole contour grid), plus what a plot
needs: a sensible window, a default start and the known minima.

The collection covers the situations optimizers meet in real networks:

- ``elongated_quadratic``: an ill-conditioned valley (plain gradient descent zig-zags);
- ``rosenbrock``: a curved, flat-bottomed banana valley;
- ``saddle``: x^2 - y^2, a point where the gradient vanishes but which is no minimum;
- ``beale``: steep walls and a flat plateau, gradients spanning five orders of magnitude;
- ``himmelblau``: four minima, a local maximum and four saddles.

:func:`descend` runs any optimizer with the ``step()/zero_grad()`` interface of
``dlcore.scratch.optim`` (or torch.optim) on a surface and records its path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import numpy as np

from dlcore.errors import ShapeError, expect_int, expect_nonnegative_int
from dlcore.scratch.module import Parameter

__all__ = [
    "Surface", "Trajectory", "SURFACES", "get_surface", "descend",
    "elongated_quadratic", "rosenbrock", "saddle", "beale", "himmelblau",
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

    def value(self, x, y) -> Array:
        """f(x, y) for scalars or equally shaped arrays (returns an array of that shape)."""
        x, y = self._coordinates("value", x, y)
        return self.value_fn(x, y)

    def gradient(self, x, y) -> tuple[Array, Array]:
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

    def gap(self, values) -> Array:
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


def elongated_quadratic(condition: float = 10.0, angle: float = 0.0) -> Surface:
    """An ill-conditioned bowl: f = (u^2 + condition * v^2) / 2 in coordinates rotated by ``angle``.

    (u, v) = (x cos a + y sin a, -x sin a + y cos a). The Hessian has eigenvalues
    1 and ``condition``, so its condition number is ``condition``; gradient
    descent is stable only for lr < 2 / condition, at which rate the shallow
    direction shrinks by just (1 - lr) per step. With ``angle`` = 0 the axes
    of the valley are the coordinate axes, which per-coordinate methods
    (Adagrad, RMSprop, Adam) exploit; a rotated valley takes that advantage away.

    Raises:
        ValueError: if ``condition`` is not a finite number >= 1.
    """
    if not np.isfinite(condition) or condition < 1:
        raise ValueError(f"elongated_quadratic: condition must be a finite number >= 1, got {condition!r}")
    c, s, k = float(np.cos(angle)), float(np.sin(angle)), float(condition)

    def value(x, y):
        u, v = c * x + s * y, -s * x + c * y
        return 0.5 * (u * u + k * v * v)

    def gradient(x, y):
        u, v = c * x + s * y, -s * x + c * y
        # chain rule through the rotation: df/dx = u du/dx + k v dv/dx
        return u * c - k * v * s, u * s + k * v * c

    degrees = np.degrees(angle)
    suffix = "" if degrees == 0 else f", rotated {degrees:g} deg"
    return Surface(
        name="elongated_quadratic",
        formula=rf"\frac{{1}}{{2}}(u^2 + {k:g}\,v^2){suffix}",
        value_fn=value, gradient_fn=gradient,
        xlim=(-5.0, 5.0), ylim=(-3.0, 3.0), start=(-4.5, 2.0),
        minima=((0.0, 0.0),), minimum_value=0.0,
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Surface:
    """Rosenbrock's banana: f = (a - x)^2 + b (y - x^2)^2, minimum 0 at (a, a^2).

    df/dx = -2 (a - x) - 4 b x (y - x^2),   df/dy = 2 b (y - x^2)
    """
    a, b = float(a), float(b)

    def value(x, y):
        return (a - x) ** 2 + b * (y - x * x) ** 2

    def gradient(x, y):
        inner = y - x * x
        return -2.0 * (a - x) - 4.0 * b * x * inner, 2.0 * b * inner

    return Surface(
        name="rosenbrock", formula=rf"({a:g} - x)^2 + {b:g}\,(y - x^2)^2",
        value_fn=value, gradient_fn=gradient,
        xlim=(-2.0, 2.0), ylim=(-1.0, 3.0), start=(-1.5, 2.5),
        minima=((a, a * a),), minimum_value=0.0,
    )


def saddle() -> Surface:
    """The simplest saddle: f = x^2 - y^2, gradient (2x, -2y), unbounded below.

    The origin is a stationary point that is no minimum: downhill along x
    leads into it, downhill along y leads away. Starting almost on the x axis,
    the tiny y-gradient is the only way out, so plain gradient descent lingers.
    """

    def value(x, y):
        return x * x - y * y

    def gradient(x, y):
        return 2.0 * x, -2.0 * y

    return Surface(
        name="saddle", formula=r"x^2 - y^2", value_fn=value, gradient_fn=gradient,
        xlim=(-2.0, 2.0), ylim=(-2.0, 2.0), start=(-1.8, 0.01),
        minima=(), minimum_value=None,
    )


_BEALE_CONSTANTS = (1.5, 2.25, 2.625)


def beale() -> Surface:
    """Beale's function: f = sum_k (c_k - x + x y^k)^2 with c = (1.5, 2.25, 2.625), minimum 0 at (3, 0.5).

    With r_k = c_k - x + x y^k:  df/dx = sum_k 2 r_k (y^k - 1),  df/dy = sum_k 2 r_k k x y^(k-1).
    """

    def value(x, y):
        return sum((c - x + x * y**k) ** 2 for k, c in enumerate(_BEALE_CONSTANTS, start=1))

    def gradient(x, y):
        gx = np.zeros(np.shape(x))
        gy = np.zeros(np.shape(x))
        for k, c in enumerate(_BEALE_CONSTANTS, start=1):
            residual = c - x + x * y**k
            gx = gx + 2.0 * residual * (y**k - 1.0)
            gy = gy + 2.0 * residual * k * x * y ** (k - 1)
        return gx, gy

    return Surface(
        name="beale", formula=r"\sum_{k=1}^{3} (c_k - x + x y^k)^2",
        value_fn=value, gradient_fn=gradient,
        xlim=(-4.5, 4.5), ylim=(-4.5, 4.5), start=(1.0, 1.5),
        minima=((3.0, 0.5),), minimum_value=0.0,
    )


# Himmelblau's four minima (all with f = 0): one exact, three found numerically.
_HIMMELBLAU_MINIMA = (
    (3.0, 2.0),
    (-2.805118086952745, 3.131312518250573),
    (-3.779310253377747, -3.283185991286170),
    (3.584428340330492, -1.848126526964404),
)


def himmelblau() -> Surface:
    """Himmelblau's function: f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2, four minima of value 0.

    df/dx = 4x (x^2 + y - 11) + 2 (x + y^2 - 7),   df/dy = 2 (x^2 + y - 11) + 4y (x + y^2 - 7).
    Which minimum an optimizer reaches depends on where it starts and how it moves.
    """

    def value(x, y):
        return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2

    def gradient(x, y):
        first, second = x * x + y - 11.0, x + y * y - 7.0
        return 4.0 * x * first + 2.0 * second, 2.0 * first + 4.0 * y * second

    return Surface(
        name="himmelblau", formula=r"(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        value_fn=value, gradient_fn=gradient,
        xlim=(-5.0, 5.0), ylim=(-5.0, 5.0), start=(-0.3, -0.9),
        minima=_HIMMELBLAU_MINIMA, minimum_value=0.0,
    )


# Each name maps to a function building the surface with its default settings.
SURFACES: dict[str, Callable[[], Surface]] = {
    "elongated_quadratic": elongated_quadratic,
    "rosenbrock": rosenbrock,
    "saddle": saddle,
    "beale": beale,
    "himmelblau": himmelblau,
}


def get_surface(name: str) -> Surface:
    """The surface called ``name`` with its default settings.

    Raises:
        ValueError: for an unknown name (the message lists the known ones).
    """
    if name not in SURFACES:
        raise ValueError(f"get_surface: unknown surface {name!r}; choose one of {sorted(SURFACES)}")
    return SURFACES[name]()


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
