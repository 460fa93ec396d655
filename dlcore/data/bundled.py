"""scikit-learn's bundled datasets and sample photo, which ship inside the package (no download).

scikit-learn is imported only when one of these is called.
"""

from __future__ import annotations

import numpy as np

__all__ = ["load_digits", "load_iris", "load_diabetes", "load_grey_photo"]


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """1,797 handwritten digits, 8x8 grey levels 0..16.

    Returns X of shape (1797, 8, 8) float64 scaled to [0, 1], y of shape (1797,) int64.
    """
    from sklearn.datasets import load_digits as _load

    bunch = _load()
    return bunch.images.astype(np.float64) / 16.0, bunch.target.astype(np.int64)


def load_iris() -> tuple[np.ndarray, np.ndarray]:
    """150 irises: X (150, 4) float64 measurements in cm, y (150,) int64 species 0..2."""
    from sklearn.datasets import load_iris as _load

    bunch = _load()
    return bunch.data.astype(np.float64), bunch.target.astype(np.int64)


def load_diabetes() -> tuple[np.ndarray, np.ndarray]:
    """442 patients: X (442, 10) standardised features, y (442,) disease progression."""
    from sklearn.datasets import load_diabetes as _load

    bunch = _load()
    return bunch.data.astype(np.float64), bunch.target.astype(np.float64)


def load_grey_photo(factor: int = 10) -> np.ndarray:
    """scikit-learn's bundled "china.jpg" in grey, averaged over factor x factor blocks, in [0, 1].

    Returns (H, W) float64; factor 10 gives 42 x 64 pixels (small enough to see single windows).
    """
    from sklearn.datasets import load_sample_image

    rgb = load_sample_image("china.jpg").astype(np.float64) / 255.0  # (427, 640, 3)
    grey = rgb @ np.array([0.299, 0.587, 0.114])  # (427, 640) luma
    H, W = (grey.shape[0] // factor) * factor, (grey.shape[1] // factor) * factor
    blocks = grey[:H, :W].reshape(H // factor, factor, W // factor, factor)  # (Ho, f, Wo, f)
    return blocks.mean(axis=(1, 3))
