"""Measuring a GAN: mode coverage, the discriminator's field, the theory on a grid (chapter 14).

- :func:`mode_coverage` counts the modes of a Gaussian mixture (the ring or the
  grid of :mod:`dlcore.data.toy2d`) that generated samples reach: mode collapse
  shows as a count that stays low or wanders from mode to mode.
- :func:`discriminator_field` evaluates D(x) on a grid (the heat map) and
  :func:`generator_gradients` the direction -∂ℓ_G/∂x in which the generator's
  loss pushes each generated point (the arrows of the GAN Lab explorer).
- :func:`optimal_discriminator`, :func:`jensen_shannon` and
  :func:`gan_value` evaluate the theory on densities tabulated on a 1-D grid:
  V(D*, G) = -log 4 + 2 JSD(p_data ‖ p_g).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from dlcore.errors import ShapeError, format_shape
from dlcore.models.gan import generator_loss

__all__ = [
    "Coverage", "mode_coverage", "discriminator_field", "generator_gradients", "optimal_discriminator",
    "jensen_shannon", "gan_value",
]


class Coverage(NamedTuple):
    """How a set of samples covers a mixture's modes."""

    modes_covered: int      # modes receiving at least a quarter of their fair share of samples
    num_modes: int
    high_quality: float     # fraction of samples within ``num_std`` standard deviations of some mode
    counts: np.ndarray      # (K,) samples near each mode


def mode_coverage(samples: np.ndarray, centers: np.ndarray, std: float, num_std: float = 3.0) -> Coverage:
    """Assign each sample to its nearest centre if it lies within ``num_std * std`` of it; count per mode.

    Args:
        samples: (N, 2) generated points.
        centers: (K, 2) mode centres; std: the modes' standard deviation.

    A mode counts as covered when it receives at least N / (4K) samples, a
    quarter of what a perfect generator gives it on average.

    Raises:
        ShapeError: if samples and centres do not both have 2 columns.
    """
    samples, centers = np.asarray(samples, dtype=np.float64), np.asarray(centers, dtype=np.float64)
    if samples.ndim != 2 or centers.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise ShapeError(f"mode_coverage: samples {format_shape(samples.shape)} and centers "
                         f"{format_shape(centers.shape)} must be (N, D) and (K, D) with the same D")
    distance = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=2)  # (N, K)
    nearest = distance.argmin(axis=1)
    close = distance[np.arange(len(samples)), nearest] <= num_std * std
    counts = np.bincount(nearest[close], minlength=len(centers))
    covered = int(np.sum(counts >= len(samples) / (4 * len(centers))))
    return Coverage(covered, len(centers), float(close.mean()) if len(samples) else 0.0, counts)


@torch.no_grad()
def discriminator_field(discriminator: nn.Module, xlim: tuple[float, float], ylim: tuple[float, float],
                        resolution: int = 40) -> np.ndarray:
    """D(x) = σ(a(x)) on a resolution x resolution grid, (resolution, resolution).

    Row i holds one y value, increasing with i: ready for ``imshow(origin="lower")``.
    """
    dtype = next(discriminator.parameters()).dtype  # float32 or float64, as the network was built
    xs = torch.linspace(xlim[0], xlim[1], resolution, dtype=dtype)
    ys = torch.linspace(ylim[0], ylim[1], resolution, dtype=dtype)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)  # (resolution², 2)
    return torch.sigmoid(discriminator(points)).reshape(resolution, resolution).numpy().astype(np.float64)


def generator_gradients(discriminator: nn.Module, points: np.ndarray, kind: str = "non_saturating") -> np.ndarray:
    """-∂ℓ_G(x)/∂x at each generated point x: (N, D), the direction the generator's loss moves it.

    ℓ_G is the per-sample generator loss (the batch mean times N), so each row
    does not depend on how many points are passed. G itself moves its samples
    only through its parameters; these are the forces D exerts on them.
    """
    dtype = next(discriminator.parameters()).dtype  # float32 or float64, as the network was built
    x = torch.as_tensor(np.asarray(points), dtype=dtype).clone().requires_grad_(True)
    loss = generator_loss(discriminator(x), kind) * len(x)
    (grad,) = torch.autograd.grad(loss, x)
    return -grad.numpy().astype(np.float64)


def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)); undefined where both densities are 0 (returned as 0.5 there)."""
    p_data, p_g = np.asarray(p_data, dtype=np.float64), np.asarray(p_g, dtype=np.float64)
    total = p_data + p_g
    return np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)


def _kl(p: np.ndarray, q: np.ndarray, dx: float) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])) * dx)


def jensen_shannon(p: np.ndarray, q: np.ndarray, dx: float) -> float:
    """JSD(p ‖ q) = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = (p + q)/2, for densities on a uniform grid of step dx (nats)."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    m = 0.5 * (p + q)
    return 0.5 * _kl(p, m, dx) + 0.5 * _kl(q, m, dx)


def gan_value(discriminator: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, dx: float) -> float:
    """V(D, G) = ∫ p_data log D + p_g log(1 - D) dx for a discriminator tabulated on the same grid."""
    d = np.clip(np.asarray(discriminator, dtype=np.float64), 1e-300, 1.0 - 1e-16)
    p_data, p_g = np.asarray(p_data, dtype=np.float64), np.asarray(p_g, dtype=np.float64)
    integrand = np.where(p_data > 0, p_data * np.log(d), 0.0) + np.where(p_g > 0, p_g * np.log1p(-d), 0.0)
    return float(np.sum(integrand) * dx)
