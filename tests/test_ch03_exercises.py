"""Chapter 03's exercise checks: the reference passes, plausible mistakes get their diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.exercises import ExerciseFailed, ch03
from dlcore.scratch import sigmoid, softmax


def not_done(*args):
    raise NotImplementedError("Exercise 3.x: write your code here")


def fails_with(check, answer, *fragments):
    with pytest.raises(ExerciseFailed) as info:
        check(answer)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


# ---------------------------------------------------------------- 3.1

def reference_stable_sigmoid(x):
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def test_stable_sigmoid_reference_passes(capsys):
    assert ch03.check_stable_sigmoid(reference_stable_sigmoid).passed
    assert "Exercise 3.1 passed" in capsys.readouterr().out


def test_stable_sigmoid_naive_form_overflows():
    fails_with(ch03.check_stable_sigmoid, lambda x: 1 / (1 + np.exp(-x)),
               'warned "overflow encountered in exp"', "x = [-1000")


def test_stable_sigmoid_where_trap_is_explained():
    def both_branches(x):
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))
    fails_with(ch03.check_stable_sigmoid, both_branches, "overflow", "np.where(c, a, b) evaluates both")


def test_stable_sigmoid_derivative_and_sign_mistakes():
    fails_with(ch03.check_stable_sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x)), "returned the derivative")
    fails_with(ch03.check_stable_sigmoid, lambda x: sigmoid(-x), "σ(−x)", "sign")


def test_stable_sigmoid_nan_and_shape_mistakes():
    def silenced(x):
        with np.errstate(all="ignore"):
            return np.exp(x) / (1 + np.exp(x))
    fails_with(ch03.check_stable_sigmoid, silenced, "nan or inf at x = 1000", "inf / inf")
    fails_with(ch03.check_stable_sigmoid, lambda x: sigmoid(x).ravel(), "shape (12,), expected (3, 4)")


def test_stable_sigmoid_in_place_mistake():
    def in_place(x):
        x *= 1.0
        x[...] = sigmoid(x)
        return x
    fails_with(ch03.check_stable_sigmoid, in_place, "changed its input array in place")


def test_stable_sigmoid_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 3.1 is not done yet"):
        ch03.check_stable_sigmoid(not_done)


# ---------------------------------------------------------------- 3.2

def test_tanh_derivative_reference_passes():
    assert ch03.check_tanh_derivative(lambda x: 1 - np.tanh(x) ** 2).passed


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (lambda x: 1 - np.tanh(x), "the square is missing"),
        (lambda x: np.tanh(x) ** 2 - 1, "the sign is flipped"),
        (np.tanh, "returned tanh(x) itself"),
        (lambda x: np.tanh(x) * (1 - np.tanh(x)), "the sigmoid's pattern"),
        (lambda x: 1 - np.tanh(x**2), "square tanh(x), not x"),
        (lambda x: 1 / np.cosh(x) ** 2, 'warned "overflow encountered in cosh"'),
    ],
)
def test_tanh_derivative_mistakes(wrong, fragment):
    fails_with(ch03.check_tanh_derivative, wrong, fragment)


def test_tanh_derivative_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 3.2 is not done yet"):
        ch03.check_tanh_derivative(not_done)


# ---------------------------------------------------------------- 3.3

def reference_stable_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def test_stable_softmax_reference_passes():
    assert ch03.check_stable_softmax(reference_stable_softmax).passed


def test_stable_softmax_wrong_axis():
    fails_with(ch03.check_stable_softmax, lambda x: softmax(x, axis=0), "normalised over axis 0")

    def hard_coded_axis_1(x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    fails_with(ch03.check_stable_softmax, hard_coded_axis_1, "normalised over axis 1", "axis=-1")


def test_stable_softmax_keepdims_mistakes():
    def max_without_keepdims(x):
        e = np.exp(x - x.max(axis=-1))
        return e / e.sum(axis=-1, keepdims=True)

    def sum_without_keepdims(x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1)
    fails_with(ch03.check_stable_softmax, max_without_keepdims, "without keepdims=True")
    fails_with(ch03.check_stable_softmax, sum_without_keepdims, "without keepdims=True")


def test_stable_softmax_overflow_and_global_max():
    fails_with(ch03.check_stable_softmax, lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True),
               'warned "overflow encountered in exp"', "Subtract each row's own maximum")

    def global_max(x):
        e = np.exp(x - x.max())
        return e / e.sum(axis=-1, keepdims=True)
    fails_with(ch03.check_stable_softmax, global_max, 'warned "invalid value encountered in divide"', "0/0")


def test_stable_softmax_unnormalised():
    fails_with(ch03.check_stable_softmax, lambda x: np.exp(x - x.max(axis=-1, keepdims=True)), "do not sum to 1")


def test_stable_softmax_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 3.3 is not done yet"):
        ch03.check_stable_softmax(not_done)


# ---------------------------------------------------------------- 3.4

def test_chain_measurement_is_the_product_of_local_slopes():
    # sigma'(0) = 1/4 exactly, so the measured gradient is (w/4)^k to rounding.
    assert ch03.measure_sigmoid_chain_gradient(10, 1.0) == pytest.approx(0.25**10, rel=1e-12)
    assert ch03.measure_sigmoid_chain_gradient(3, 8.0) == pytest.approx(8.0, rel=1e-12)


def test_chain_prediction_reference_passes():
    assert ch03.check_sigmoid_chain_prediction(lambda k, w: (w / 4) ** k).passed


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (lambda k, w: 0.25**k, "you ignored the weight"),
        (lambda k, w: 0.5**k, "σ(0) = 1/2 is the value"),
        (lambda k, w: (w / 4) ** (k - 1), "off by one"),
        (lambda k, w: k * w / 4, "does not add them"),
        (lambda k, w: w**k, "left out the sigmoid's slope"),
        (lambda k, w: 0.3**k, "differ from the measured gradients"),
        (lambda k, w: "small", "expected a number"),
    ],
)
def test_chain_prediction_mistakes(wrong, fragment):
    fails_with(ch03.check_sigmoid_chain_prediction, wrong, fragment)


def test_chain_prediction_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 3.4 is not done yet"):
        ch03.check_sigmoid_chain_prediction(not_done)


# ---------------------------------------------------------------- 3.5

def test_dead_relu_measurement():
    minus, zero, plus = ch03.measure_dead_relu_shares()
    assert minus > 0.95 and zero == 0.0 and plus == 0.0


def test_dead_relu_reference_passes():
    assert ch03.check_dead_relu_prediction(lambda: (1.0, 0.0, 0.0)).passed


@pytest.mark.parametrize(
    "wrong, fragment",
    [
        (lambda: (1.0, 0.5, 0.0), "inactive on all 256"),
        (lambda: (0.0, 0.0, 1.0), "positive bias pushes pre-activations up"),
        (lambda: (0.3, 0.0, 0.0), "positive with probability about 3e-7"),
        (lambda: (1.0, 0.0), "expected 3"),
        (lambda: "dead", "expected three numbers"),
    ],
)
def test_dead_relu_mistakes(wrong, fragment):
    fails_with(ch03.check_dead_relu_prediction, wrong, fragment)


def test_dead_relu_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 3.5 is not done yet"):
        ch03.check_dead_relu_prediction(not_done)
