"""Reading MNIST-style IDX files (dlcore.data.idx), on tiny files the tests write."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from dlcore.data.idx import IDXError, load_idx_dataset, read_idx, write_idx


def _write_split(folder, split="train", count=5, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, count).astype(np.uint8)
    prefix = "train" if split == "train" else "t10k"
    suffix = ".gz" if gz else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
    return images, labels


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_write_then_read_round_trips(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "a.idx", array)), array)


def test_the_header_is_big_endian_as_the_format_says(tmp_path):
    path = write_idx(tmp_path / "labels", np.array([7, 1, 2], dtype=np.uint8))
    assert path.read_bytes() == bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 1, 2])


@pytest.mark.parametrize("gz", [False, True])
def test_load_returns_scaled_images_and_labels(tmp_path, gz):
    images, labels = _write_split(tmp_path, "test", count=4, gz=gz)
    X, y = load_idx_dataset(tmp_path, "test", check_count=False)
    assert X.shape == (4, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X, images / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)


def test_a_missing_file_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.*make_digits28.*download"):
        load_idx_dataset(tmp_path, name="fashion-mnist")


def test_the_standard_count_is_checked_unless_turned_off(tmp_path):
    _write_split(tmp_path, count=3)
    with pytest.raises(IDXError, match="3 examples in the train split; the standard files have 60000"):
        load_idx_dataset(tmp_path)


def test_mismatched_files_are_refused(tmp_path):
    _write_split(tmp_path, count=3)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, dtype=np.uint8))
    with pytest.raises(IDXError, match="3 images but 4 labels"):
        load_idx_dataset(tmp_path, check_count=False)


def test_a_truncated_file_is_refused(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros((2, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(IDXError, match="truncated"):
        read_idx(path)


def test_a_file_that_is_not_idx_is_refused(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"<html>not found</html>"))
    with pytest.raises(IDXError, match="not an IDX file"):
        read_idx(path)


def test_wrong_image_shape_and_bad_labels_are_named(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 8, 8), dtype=np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(2, dtype=np.uint8))
    with pytest.raises(IDXError, match=r"expected uint8 images of shape \(N, 28, 28\)"):
        load_idx_dataset(tmp_path, check_count=False)
    _write_split(tmp_path, count=2)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([3, 12], dtype=np.uint8))
    with pytest.raises(IDXError, match="label 12; expected 0..9"):
        load_idx_dataset(tmp_path, check_count=False)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_idx_dataset(tmp_path, "validation")
    with pytest.raises(TypeError, match="no IDX type code"):
        write_idx(tmp_path / "b", np.zeros(3, dtype=np.uint16))
