"""Data augmentation on image arrays, drawn with an explicit generator (chapter 15).

Each function takes images of shape (N, H, W), returns a new array of the same
shape and dtype, and never changes its input. The random ones take a NumPy
``Generator``, so an augmented epoch is reproducible.

An augmentation must keep the label: a digit shifted by a pixel, turned by ten
degrees or sprinkled with noise is the same digit; a digit flipped left-right
often is not (a mirrored 3 is no digit, a mirrored 2 resembles a 5).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from dlcore.errors import ShapeError

__all__ = ["shift", "rotate", "add_noise", "flip_horizontal", "random_augment", "tensor_augmenter"]


def _check_images(func: str, images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3:
        raise ShapeError(f"{func}: images has shape {images.shape}; expected (N, H, W), a stack of grey images")
    return images


def shift(images: np.ndarray, dy: np.ndarray | int, dx: np.ndarray | int) -> np.ndarray:
    """Move each image by whole pixels (``dy`` down, ``dx`` right), filling with 0; per-image (N,) or one int."""
    images = _check_images("shift", images)
    N, H, W = images.shape
    dy = np.broadcast_to(np.asarray(dy, dtype=np.int64), (N,))
    dx = np.broadcast_to(np.asarray(dx, dtype=np.int64), (N,))
    rows = np.arange(H)[None, :] - dy[:, None]  # (N, H): source row of each output row
    cols = np.arange(W)[None, :] - dx[:, None]  # (N, W)
    inside = ((rows >= 0) & (rows < H))[:, :, None] & ((cols >= 0) & (cols < W))[:, None, :]  # (N, H, W)
    gathered = images[np.arange(N)[:, None, None], np.clip(rows, 0, H - 1)[:, :, None], np.clip(cols, 0, W - 1)[:, None, :]]
    return np.where(inside, gathered, 0).astype(images.dtype)


def rotate(images: np.ndarray, degrees: np.ndarray | float) -> np.ndarray:
    """Turn each image about its centre by ``degrees`` (counter-clockwise), bilinear, zero outside."""
    images = _check_images("rotate", images)
    degrees = np.broadcast_to(np.asarray(degrees, dtype=np.float64), (len(images),))
    out = np.empty_like(images)
    for i, (image, angle) in enumerate(zip(images, degrees)):
        out[i] = ndimage.rotate(image, float(angle), reshape=False, order=1, mode="constant", cval=0.0)
    return np.clip(out, 0.0, 1.0) if images.dtype.kind == "f" else out


def add_noise(images: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """Add N(0, std^2) noise to every pixel and clip to [0, 1]."""
    images = _check_images("add_noise", images)
    return np.clip(images + rng.normal(0.0, std, images.shape), 0.0, 1.0).astype(images.dtype)


def flip_horizontal(images: np.ndarray) -> np.ndarray:
    """Mirror left-right: a good augmentation for cats, a label-changing one for digits."""
    return _check_images("flip_horizontal", images)[:, :, ::-1].copy()


def random_augment(images: np.ndarray, rng: np.random.Generator, *, max_shift: int = 1, max_degrees: float = 10.0,
                   noise_std: float = 0.05, flip_probability: float = 0.0) -> np.ndarray:
    """A fresh random shift in [-max_shift, max_shift]^2, rotation in ±max_degrees and noise for every image,
    and a left-right mirror with probability ``flip_probability`` (0 by default: wrong for digits)."""
    images = _check_images("random_augment", images)
    N = len(images)
    if flip_probability > 0:
        images = np.where((rng.random(N) < flip_probability)[:, None, None], images[:, :, ::-1], images)
    out = shift(images, rng.integers(-max_shift, max_shift + 1, N), rng.integers(-max_shift, max_shift + 1, N))
    if max_degrees > 0:
        out = rotate(out, rng.uniform(-max_degrees, max_degrees, N))
    if noise_std > 0:
        out = add_noise(out, noise_std, rng)
    return out


def tensor_augmenter(image_shape: tuple[int, int], rng: np.random.Generator, **options):
    """A function (N, H*W) float tensor -> a freshly augmented copy, for ``common.fit(augment=...)``."""
    import torch

    def augment(x):
        images = x.numpy().reshape(len(x), *image_shape)  # (N, H, W)
        return torch.as_tensor(random_augment(images, rng, **options).reshape(len(x), -1))  # (N, H*W)

    return augment
