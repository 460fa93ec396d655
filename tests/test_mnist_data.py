"""The real-digit sample: bytes pinned by hash, a fixed stratified split, and clear errors."""

import numpy as np
import pytest

from dlcore.data import load_mnist
from dlcore.data import mnist


def test_the_shipped_digits_are_the_ones_the_chapters_were_run_on():
    assert mnist.table_sha256() == mnist.MNIST_SHA256


def test_split_is_stratified_disjoint_and_covers_the_sample():
    X_train, y_train = load_mnist("train")
    X_test, y_test = load_mnist("test")
    X_all, y_all = load_mnist("all")
    assert X_train.shape == (4000, 28, 28) and X_test.shape == (1000, 28, 28) and X_all.shape == (5000, 28, 28)
    assert np.bincount(y_train).tolist() == [400] * 10
    assert np.bincount(y_test).tolist() == [100] * 10
    train_rows = {row.tobytes() for row in X_train.reshape(4000, -1)}
    assert not any(row.tobytes() in train_rows for row in X_test.reshape(1000, -1))
    assert X_all.min() == 0.0 and X_all.max() == 1.0 and X_all.dtype == np.float64


def test_calls_return_fresh_arrays_in_the_dtype_asked_for():
    X, _ = load_mnist("test", dtype=np.float32)
    assert X.dtype == np.float32
    X[:] = 7.0
    assert load_mnist("test")[0].max() == 1.0


def test_pad_and_binarize():
    X, _ = load_mnist("test")
    padded = mnist.pad_images(X[:3])
    assert padded.shape == (3, 32, 32)
    assert np.array_equal(padded[:, 2:30, 2:30], X[:3]) and padded[:, :2].sum() == 0
    assert mnist.pad_images(X[:3, None]).shape == (3, 1, 32, 32)
    binary = mnist.binarize(X[:3])
    assert set(np.unique(binary)) <= {0.0, 1.0} and binary.dtype == X.dtype


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: load_mnist("validation"), "part must be one of"),
        (lambda: load_mnist(dtype=np.int32), "dtype must be"),
        (lambda: mnist.pad_images(np.zeros((2, 28, 28)), size=20), "size must be an integer of at least 28"),
        (lambda: mnist.pad_images(np.zeros((28, 28))), "pad_images: images has shape"),
        (lambda: mnist.binarize(np.zeros(3), threshold=1.0), "threshold must lie strictly between"),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
