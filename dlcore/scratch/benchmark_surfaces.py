"""The classic test surfaces for watching optimizers move (chapter 06).

Each is a :class:`~dlcore.scratch.surfaces.Surface` (value, analytic gradient, plotting window,
default start, known minima), chosen for a situation optimizers meet in real networks:

- ``elongated_quadratic``: an ill-conditioned valley (plain gradient descent zig-zags);
- ``rosenbrock``: a curved, flat-bottomed banana valley;
- ``saddle``: x^2 - y^2, a point where the gradient vanishes but which is no minimum;
- ``beale``: steep walls and a flat plateau, gradients spanning five orders of magnitude;
- ``himmelblau``: four minima, a local maximum and four saddles.

``SURFACES`` names them; :func:`get_surface` builds one by name. Run an optimizer on any of them
with :func:`dlcore.scratch.surfaces.descend`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.scratch.surfaces import Surface

__all__ = ["SURFACES", "get_surface", "elongated_quadratic", "rosenbrock", "saddle", "beale", "himmelblau"]


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
