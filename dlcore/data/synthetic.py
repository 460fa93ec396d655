"""The course's own data generators (2-D classification sets and 1-D regression).

Each returns ``X`` of shape (N, 2) float64 and ``y`` of shape (N,) int64
(classes 0..K-1), except :func:`make_noisy_function`, which returns (N,) x
and (N,) y for regression. Written here rather than taken from scikit-learn so
that students can read every line, and so that the streams are fixed by the
course, not by a library version.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.errors import expect_int

__all__ = [
    "make_xor", "make_moons", "make_circles", "make_spirals", "make_blobs",
    "make_noisy_function", "train_test_split",
]


def _rng(func: str, seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise TypeError(f"{func}: pass seed=<int> or seed=<np.random.Generator>; data must be reproducible")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{func}: seed must be a non-negative int or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _check_count(func: str, name: str, value: int, minimum: int = 1) -> int:
    return expect_int(func, name, value, minimum)


def _check_noise(func: str, noise: float) -> float:
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"{func}: noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def make_xor(n_samples: int | None = None, noise: float = 0.0, seed: int | np.random.Generator | None = 0):
    """The XOR problem.

    With ``n_samples=None``: the four corners of the unit square, labels
    x1 XOR x2 (the truth table the perceptron cannot learn). Otherwise points
    drawn uniformly in [-1, 1]^2 labelled by whether their signs differ
    (the 'checkerboard' XOR), with Gaussian ``noise`` added to the inputs.
    """
    if n_samples is None:
        X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
        return X, np.array([0, 1, 1, 0], dtype=np.int64)
    n_samples = _check_count("make_xor", "n_samples", n_samples)
    noise = _check_noise("make_xor", noise)
    rng = _rng("make_xor", seed)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    return X + noise * rng.standard_normal(X.shape), y


def make_moons(n_samples: int = 200, noise: float = 0.1, seed: int | np.random.Generator | None = 0):
    """Two interleaving half circles (class 0 on top, class 1 below and shifted)."""
    n_samples = _check_count("make_moons", "n_samples", n_samples, 2)
    noise = _check_noise("make_moons", noise)
    rng = _rng("make_moons", seed)
    n_top = n_samples // 2
    n_bottom = n_samples - n_top
    angle_top = np.linspace(0.0, np.pi, n_top)
    angle_bottom = np.linspace(0.0, np.pi, n_bottom)
    top = np.column_stack([np.cos(angle_top), np.sin(angle_top)])
    bottom = np.column_stack([1.0 - np.cos(angle_bottom), 0.5 - np.sin(angle_bottom)])
    X = np.vstack([top, bottom])
    y = np.concatenate([np.zeros(n_top, np.int64), np.ones(n_bottom, np.int64)])
    X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(n_samples)
    return X[order], y[order]


def make_circles(
    n_samples: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int | np.random.Generator | None = 0
):
    """A small circle (class 1) inside a large one (class 0); ``factor`` = radius ratio."""
    n_samples = _check_count("make_circles", "n_samples", n_samples, 2)
    noise = _check_noise("make_circles", noise)
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor!r}")
    rng = _rng("make_circles", seed)
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    angle_outer = rng.uniform(0, 2 * np.pi, n_outer)
    angle_inner = rng.uniform(0, 2 * np.pi, n_inner)
    outer = np.column_stack([np.cos(angle_outer), np.sin(angle_outer)])
    inner = factor * np.column_stack([np.cos(angle_inner), np.sin(angle_inner)])
    X = np.vstack([outer, inner]) + noise * rng.standard_normal((n_samples, 2))
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n_inner, np.int64)])
    order = rng.permutation(n_samples)
    return X[order], y[order]


def make_spirals(
    n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, turns: float = 1.0,
    seed: int | np.random.Generator | None = 0,
):
    """``n_classes`` interleaved spiral arms; radius grows from 0 to 1 along each arm."""
    n_samples = _check_count("make_spirals", "n_samples", n_samples, 2)
    n_classes = _check_count("make_spirals", "n_classes", n_classes, 2)
    noise = _check_noise("make_spirals", noise)
    rng = _rng("make_spirals", seed)
    labels = np.arange(n_samples) % n_classes
    radius = np.empty(n_samples)
    for k in range(n_classes):
        members = labels == k
        radius[members] = np.linspace(0.05, 1.0, members.sum())
    angle = 2 * np.pi * (turns * radius + labels / n_classes) + noise * rng.standard_normal(n_samples)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    order = rng.permutation(n_samples)
    return X[order], labels.astype(np.int64)[order]


def make_blobs(
    n_samples: int = 200, centers: int | np.ndarray = 3, spread: float = 0.5,
    seed: int | np.random.Generator | None = 0,
):
    """Gaussian blobs: ``centers`` random centres in [-3, 3]^2 (or the given (K, 2) array)."""
    n_samples = _check_count("make_blobs", "n_samples", n_samples, 1)
    rng = _rng("make_blobs", seed)
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        centers = rng.uniform(-3.0, 3.0, size=(_check_count("make_blobs", "centers", centers), 2))
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2 or centers.shape[1] != 2:
        raise ValueError(f"make_blobs: centers must be an int or a (K, 2) array, got shape {centers.shape}")
    if not np.isfinite(spread) or spread <= 0:
        raise ValueError(f"make_blobs: spread must be a positive number, got {spread!r}")
    y = np.arange(n_samples) % len(centers)
    X = centers[y] + spread * rng.standard_normal((n_samples, 2))
    order = rng.permutation(n_samples)
    return X[order], y.astype(np.int64)[order]


def make_noisy_function(
    n_samples: int = 30,
    noise: float = 0.2,
    function: Callable[[np.ndarray], np.ndarray] | None = None,
    low: float = 0.0,
    high: float = 1.0,
    seed: int | np.random.Generator | None = 0,
):
    """Regression data y = f(x) + noise, x uniform in [low, high] (sorted).

    The default f(x) = sin(2 pi x) is the classic curve-fitting example of
    chapter 01. Returns (x, y), both of shape (N,).
    """
    n_samples = _check_count("make_noisy_function", "n_samples", n_samples, 1)
    noise = _check_noise("make_noisy_function", noise)
    if not high > low:
        raise ValueError(f"make_noisy_function: need high > low, got low={low}, high={high}")
    rng = _rng("make_noisy_function", seed)
    function = (lambda t: np.sin(2 * np.pi * t)) if function is None else function
    x = np.sort(rng.uniform(low, high, n_samples))
    y = np.asarray(function(x), dtype=np.float64) + noise * rng.standard_normal(n_samples)
    return x, y


def train_test_split(X: np.ndarray, y: np.ndarray, test_fraction: float = 0.25, seed: int | np.random.Generator | None = 0):
    """Shuffle and split into (X_train, X_test, y_train, y_test)."""
    X = np.asarray(X)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"train_test_split: X has {len(X)} rows but y has {len(y)}; they must match")
    if not 0 < test_fraction < 1:
        raise ValueError(f"train_test_split: test_fraction must be in (0, 1), got {test_fraction!r}")
    n_test = int(round(len(X) * test_fraction))
    if n_test == 0 or n_test == len(X):
        raise ValueError(
            f"train_test_split: {len(X)} rows with test_fraction={test_fraction} leaves an empty split"
        )
    order = _rng("train_test_split", seed).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
