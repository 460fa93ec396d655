"""scikit-learn's bundled datasets, which ship inside the package (no download).

scikit-learn is imported only when one of these is called.
"""

from __future__ import annotations

import numpy as np

__all__ = ["load_digits", "load_iris", "load_diabetes"]


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
