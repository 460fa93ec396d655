"""The procedurally drawn 28x28 digits (dlcore.data.glyphs)."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.data.glyphs import digit_strokes, make_digits28


def test_shapes_types_and_range():
    X, y = make_digits28(300, seed=0)
    assert X.shape == (300, 28, 28) and X.dtype == np.float32
    assert y.shape == (300,) and y.dtype == np.int64
    assert X.min() >= 0.0 and X.max() <= 1.0
    assert set(np.unique(y)) == set(range(10))


def test_the_same_seed_gives_the_same_images_and_another_seed_does_not():
    a, la = make_digits28(50, seed=3)
    b, lb = make_digits28(50, seed=3)
    c, _ = make_digits28(50, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert not np.array_equal(a, c)
    d, _ = make_digits28(50, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, d)


def test_each_image_has_ink_centred_like_mnist():
    X, _ = make_digits28(200, seed=1)
    ink = X.reshape(200, -1).sum(axis=1)
    assert ink.min() > 20, "every digit is drawn with a visible amount of ink"
    rows, cols = np.nonzero(X.mean(axis=0) > 0.05)
    assert 1 <= rows.min() and rows.max() <= 26 and 1 <= cols.min() and cols.max() <= 26
    assert X[:, :, :1].max() < 0.5 and X[:, :, -1:].max() < 0.5, "the borders stay (nearly) empty"


def test_the_ten_classes_are_learnable_and_not_trivially_separable():
    X, y = make_digits28(1500, seed=2)
    X_test, y_test = make_digits28(500, seed=5)

    def features(images):
        return np.c_[images.reshape(len(images), -1), np.ones(len(images))]

    # A ridge-regression classifier on one-hot targets (closed form, fast).
    A = features(X)
    W = np.linalg.solve(A.T @ A + np.eye(A.shape[1]), A.T @ np.eye(10)[y])
    accuracy = (np.argmax(features(X_test) @ W, axis=1) == y_test).mean()
    # A linear model should do well but not perfectly: the variation is real.
    assert 0.8 < accuracy < 0.99, accuracy


def test_noise_and_size():
    clean, _ = make_digits28(20, seed=0)
    noisy, _ = make_digits28(20, seed=0, noise=0.3)
    assert noisy.min() >= 0 and noisy.max() <= 1 and np.abs(noisy - clean).mean() > 0.05
    small, _ = make_digits28(5, seed=0, size=16)
    assert small.shape == (5, 16, 16)


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_samples=0), "num_samples must be an int >= 1"),
    (dict(num_samples=5, size=4), "size must be an int >= 8"),
    (dict(num_samples=5, noise=-1.0), "noise must be a finite number >= 0"),
    (dict(num_samples=5, rng=3), "rng must be a numpy Generator"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make_digits28(**kwargs)


def test_strokes_are_copies_and_digits_are_checked():
    strokes = digit_strokes(7)
    strokes[0][:] = 0
    assert digit_strokes(7)[0].any()
    with pytest.raises(ValueError, match=r"digit must be an int in 0\.\.9"):
        digit_strokes(10)
