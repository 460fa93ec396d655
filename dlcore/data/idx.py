"""Real MNIST and Fashion-MNIST, read from IDX files the learner already has.

The course never downloads anything: every notebook runs on generated or
bundled data (:func:`dlcore.data.make_digits28`, scikit-learn's digits). If you
have the original files, :func:`load_idx_dataset` reads them from a local
folder, checks them, and returns arrays shaped like the course's own data.

The IDX format (LeCun et al.): two zero bytes, a type code (0x08 unsigned
byte, 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64),
the number of dimensions, then each dimension as a big-endian int32, then the
values, big-endian, row-major. Files may be gzip-compressed (``.gz``).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "write_idx", "load_idx_dataset", "IDXError", "SOURCES"]

_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
          0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CODES = {dtype.newbyteorder("="): code for code, dtype in _TYPES.items()}

# Where the learner can get the files (by hand: nothing here touches the network).
SOURCES = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/ (or any MNIST mirror)",
    "fashion-mnist": "https://github.com/zalandoresearch/fashion-mnist (folder data/fashion)",
}
_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
_COUNTS = {"train": 60_000, "test": 10_000}


class IDXError(ValueError):
    """A file that is not a valid IDX file, or a pair of files that do not belong together."""


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (optionally ``.gz``) into an array of its shape and type (native byte order).

    Raises:
        FileNotFoundError: the file does not exist.
        IDXError: a bad header, an unknown type code, or a data length that does not match the header.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_idx: no file at {path}")
    with _open(path) as handle:
        data = handle.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise IDXError(f"read_idx: {path.name} is not an IDX file (it must start with two zero bytes)")
    code, ndim = data[2], data[3]
    if code not in _TYPES:
        raise IDXError(f"read_idx: {path.name} has unknown type code {code:#04x}; expected one of "
                       + ", ".join(f"{c:#04x}" for c in _TYPES))
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(f"read_idx: {path.name} is truncated inside its header")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">i4", count=ndim, offset=4))
    dtype = _TYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise IDXError(f"read_idx: {path.name} has {len(data)} bytes but its header {shape} of "
                       f"{dtype.name} needs {expected}; the file is truncated or not what it claims")
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file (gzip-compressed when the name ends in ``.gz``); returns the path."""
    array = np.asarray(array)
    dtype = array.dtype.newbyteorder("=")
    if dtype not in _CODES:
        raise TypeError(f"write_idx: array dtype {array.dtype} has no IDX type code; "
                        "use uint8, int8, int16, int32, float32 or float64")
    if array.ndim > 255:
        raise ValueError(f"write_idx: IDX allows at most 255 dimensions, got {array.ndim}")
    path = Path(path)
    header = bytes([0, 0, _CODES[dtype], array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    with (gzip.open(path, "wb") if path.suffix == ".gz" else open(path, "wb")) as handle:
        handle.write(header + array.astype(_TYPES[_CODES[dtype]]).tobytes())
    return path


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):
        if (folder / name).is_file():
            return folder / name
    return None


def load_idx_dataset(folder: str | Path, split: str = "train", *, name: str = "mnist",
                     check_count: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """MNIST or Fashion-MNIST images and labels from a local folder.

    Args:
        folder: where the four standard files are (``train-images-idx3-ubyte``,
            ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``,
            each possibly ``.gz``).
        split: ``"train"`` or ``"test"``.
        name: ``"mnist"`` or ``"fashion-mnist"`` (only for the advice on where to get them).
        check_count: require the standard 60,000 / 10,000 examples (turn off for subsets).

    Returns:
        X float32 (N, 28, 28) in [0, 1]; y int64 (N,) with classes 0..9, like
        :func:`dlcore.data.make_digits28`.

    Raises:
        FileNotFoundError: a file is missing; the message says where to get it.
        IDXError: the files are damaged or do not match each other.
    """
    if split not in _FILES:
        raise ValueError(f"load_idx_dataset: split must be 'train' or 'test', got {split!r}")
    if name not in SOURCES:
        raise ValueError(f"load_idx_dataset: name must be one of {sorted(SOURCES)}, got {name!r}")
    folder = Path(folder)
    paths = []
    for stem in _FILES[split]:
        path = _find(folder, stem)
        if path is None:
            raise FileNotFoundError(
                f"load_idx_dataset: {stem} (or {stem}.gz) is not in {folder}. The course runs without it "
                f"(use dlcore.data.make_digits28). To use real {name}, download the four files from "
                f"{SOURCES[name]} by hand and put them in that folder.")
        paths.append(path)
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise IDXError(f"load_idx_dataset: {paths[0].name} holds {images.dtype} of shape {images.shape}; "
                       "expected uint8 images of shape (N, 28, 28)")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise IDXError(f"load_idx_dataset: {paths[1].name} holds {labels.dtype} of shape {labels.shape}; "
                       "expected uint8 labels of shape (N,)")
    if len(images) != len(labels):
        raise IDXError(f"load_idx_dataset: {len(images)} images but {len(labels)} labels; "
                       "the two files are not from the same split")
    if labels.size and labels.max() > 9:
        raise IDXError(f"load_idx_dataset: {paths[1].name} has label {int(labels.max())}; expected 0..9")
    if check_count and len(images) != _COUNTS[split]:
        raise IDXError(f"load_idx_dataset: {len(images)} examples in the {split} split; the standard files "
                       f"have {_COUNTS[split]} (pass check_count=False for a subset)")
    return images.astype(np.float32) / 255.0, labels.astype(np.int64)
