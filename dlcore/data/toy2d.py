"""Two-dimensional target distributions for generative models (chapter 14).

A GAN on 2-D data can be *seen*: real and generated points on one plot, the
discriminator as a heat map. These samplers draw unlabelled points ``X`` of
shape (N, 2), float64, deterministic given ``seed`` (an int or a NumPy
Generator). The two mixtures also expose their component centres, so that
:func:`dlcore.models.gan_diagnostics.mode_coverage` can count how many modes a
generator reaches.

- ``ring``: 8 Gaussians on a circle of radius 2 (the classic mode-collapse test);
- ``grid``: 25 Gaussians on a 5 x 5 grid with spacing 1;
- ``moons``: two interleaving half circles;
- ``spiral``: one arm winding out from the origin.
"""

from __future__ import annotations

import numpy as np

from dlcore.errors import expect_int

__all__ = [
    "TOY_DISTRIBUTIONS", "ring_centers", "grid_centers", "sample_ring", "sample_grid", "sample_moons",
    "sample_spiral", "sample_toy", "toy_centers", "toy_mode_std",
]

TOY_DISTRIBUTIONS = ("ring", "grid", "moons", "spiral")
RING_STD = 0.08
GRID_STD = 0.05


def _rng(func: str, seed: int | np.random.Generator) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{func}: seed must be a non-negative int or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _count(func: str, num_samples: int) -> int:
    return expect_int(func, "num_samples", num_samples, 1)


def ring_centers(num_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """The (num_modes, 2) centres of the ring, evenly spaced, the first at angle 0."""
    angle = 2 * np.pi * np.arange(num_modes) / num_modes
    return radius * np.column_stack([np.cos(angle), np.sin(angle)])


def grid_centers(side: int = 5, spacing: float = 1.0) -> np.ndarray:
    """The (side * side, 2) centres of the grid, centred on the origin."""
    ticks = (np.arange(side) - (side - 1) / 2) * spacing
    gx, gy = np.meshgrid(ticks, ticks)
    return np.column_stack([gx.ravel(), gy.ravel()])


def _mixture(centers: np.ndarray, std: float, num_samples: int, rng: np.random.Generator) -> np.ndarray:
    component = rng.integers(0, len(centers), size=num_samples)
    return centers[component] + std * rng.standard_normal((num_samples, 2))


def sample_ring(num_samples: int, seed: int | np.random.Generator = 0, *, num_modes: int = 8,
                radius: float = 2.0, std: float = RING_STD) -> np.ndarray:
    """Equal mixture of ``num_modes`` Gaussians N(c_k, std² I) with centres on a circle; (N, 2)."""
    return _mixture(ring_centers(num_modes, radius), std, _count("sample_ring", num_samples), _rng("sample_ring", seed))


def sample_grid(num_samples: int, seed: int | np.random.Generator = 0, *, side: int = 5,
                spacing: float = 1.0, std: float = GRID_STD) -> np.ndarray:
    """Equal mixture of side² Gaussians on a square grid; (N, 2)."""
    return _mixture(grid_centers(side, spacing), std, _count("sample_grid", num_samples), _rng("sample_grid", seed))


def sample_moons(num_samples: int, seed: int | np.random.Generator = 0, *, noise: float = 0.05) -> np.ndarray:
    """Two half circles of radius 1 (one shifted), uniform in angle, centred on the origin; (N, 2)."""
    num_samples, rng = _count("sample_moons", num_samples), _rng("sample_moons", seed)
    angle = rng.uniform(0.0, np.pi, num_samples)
    lower = rng.random(num_samples) < 0.5
    x = np.where(lower, 1.0 - np.cos(angle), np.cos(angle)) - 0.5
    y = np.where(lower, 0.5 - np.sin(angle), np.sin(angle)) - 0.25
    return 1.5 * np.column_stack([x, y]) + noise * rng.standard_normal((num_samples, 2))


def sample_spiral(num_samples: int, seed: int | np.random.Generator = 0, *, turns: float = 1.5,
                  noise: float = 0.04) -> np.ndarray:
    """One spiral arm r = 2t, angle = 2π·turns·t for t ~ U(0.1, 1); (N, 2)."""
    num_samples, rng = _count("sample_spiral", num_samples), _rng("sample_spiral", seed)
    t = rng.uniform(0.1, 1.0, num_samples)
    angle = 2 * np.pi * turns * t
    return 2.0 * t[:, None] * np.column_stack([np.cos(angle), np.sin(angle)]) + noise * rng.standard_normal(
        (num_samples, 2))


_SAMPLERS = {"ring": sample_ring, "grid": sample_grid, "moons": sample_moons, "spiral": sample_spiral}


def sample_toy(name: str, num_samples: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """Draw ``num_samples`` points from the named distribution (one of :data:`TOY_DISTRIBUTIONS`)."""
    if name not in _SAMPLERS:
        raise ValueError(f"sample_toy: name must be one of {TOY_DISTRIBUTIONS}, got {name!r}")
    return _SAMPLERS[name](num_samples, seed)


def toy_centers(name: str) -> np.ndarray | None:
    """The mode centres of ``ring`` and ``grid`` (None for the continuous shapes)."""
    return {"ring": ring_centers(), "grid": grid_centers()}.get(name)


def toy_mode_std(name: str) -> float | None:
    """The per-mode standard deviation of ``ring`` and ``grid`` (None otherwise)."""
    return {"ring": RING_STD, "grid": GRID_STD}.get(name)
