"""Chapter 09 checks: each passes the reference and fails plausible wrong answers with their diagnosis."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlcore.exercises import ch09
from dlcore.exercises.core import ExerciseFailed
from dlcore.scratch.im2col import conv_output_size


def _not_done(*args, **kwargs):
    raise NotImplementedError("Exercise 9.x: write your code here")


# ---------------------------------------------------------------- 9.1

def test_output_size_reference_passes():
    assert ch09.check_output_size(conv_output_size).passed


@pytest.mark.parametrize("wrong, message", [
    (lambda L, k, s, p, d: (L + 2 * p - k) // s + 1, "dilation is missing"),
    (lambda L, k, s, p, d: (L + p - d * (k - 1) - 1) // s + 1, "padding is added on both sides"),
    (lambda L, k, s, p, d: (L + 2 * p - d * (k - 1) - 1) // s, "off by one"),
    (lambda L, k, s, p, d: (L + 2 * p - d * (k - 1) - 1) / s + 1, "must round down"),
    (lambda L, k, s, p, d: math.ceil((L + 2 * p - d * (k - 1) - 1) / s) + 1, "you rounded up"),
    (lambda L, k, s, p, d: L - k + 1, "the articles' formula"),
    (lambda L, k, s, p, d: (L + 2 * p - d * k) // s + 1, r"not d k"),
])
def test_output_size_mistakes_are_diagnosed(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch09.check_output_size(wrong)


def test_output_size_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 9.1 is not done yet"):
        ch09.check_output_size(_not_done)


# ---------------------------------------------------------------- 9.2

def _reference_by_reshape(x, dout):
    N, C, H, W = x.shape
    windows = x.reshape(N, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // 2, W // 2, 4)
    onehot = np.arange(4) == windows.argmax(axis=-1)[..., None]  # (N, C, Ho, Wo, 4), first maximum on ties
    dx = onehot * dout[..., None]
    return dx.reshape(N, C, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H, W)


def test_maxpool_backward_reference_and_a_learners_version_pass():
    assert ch09.check_maxpool_backward(ch09.reference_maxpool_backward).passed
    assert ch09.check_maxpool_backward(_reference_by_reshape).passed


def _mask(x):
    from dlcore.scratch.pooling import maxpool2d_forward

    return x == np.kron(maxpool2d_forward(x, 2)[0], np.ones((2, 2)))


@pytest.mark.parametrize("wrong, message", [
    (lambda x, dout: np.kron(dout, np.ones((2, 2))) / 4, "average pooling's backward pass"),
    (lambda x, dout: np.kron(dout, np.ones((2, 2))), "copied dout to all four inputs"),
    (lambda x, dout: _mask(x) * 1.0, "without multiplying by dout"),
    (lambda x, dout: _mask(x) * x, "you multiplied the mask by x"),
    (lambda x, dout: _mask(x) * np.kron(dout, np.ones((2, 2))), "on a tie you sent dout to every tied input"),
    (lambda x, dout: np.zeros((2, 2)), r"your output has shape \(2, 2\)"),
])
def test_maxpool_backward_mistakes_are_diagnosed(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch09.check_maxpool_backward(wrong)


def test_maxpool_backward_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 9.2 is not done yet"):
        ch09.check_maxpool_backward(_not_done)


# ---------------------------------------------------------------- 9.3 and 9.4

def test_predictions_pass_with_the_truth():
    assert ch09.check_c3_parameters(2416).passed
    assert ch09.check_c3_receptive_field(14).passed


@pytest.mark.parametrize("wrong, message", [
    (2400, "the 16 biases are missing"), (416, "each filter spans all 6 input maps"),
    (1516, "the paper's count"), (60000, "parameters are shared"), (1234, r"your parameter count \(1234\) is not right"),
])
def test_c3_parameter_mistakes(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch09.check_c3_parameters(wrong)


@pytest.mark.parametrize("wrong, message", [
    (10, "kernels do not simply add"), (9, "pooling is not free"), (13, "S2's own window"),
    (5, "that is C1's field"), ("fourteen", "should be a number"),
])
def test_receptive_field_mistakes(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch09.check_c3_receptive_field(wrong)


def test_predictions_not_done():
    for check in (ch09.check_c3_parameters, ch09.check_c3_receptive_field):
        with pytest.raises(NotImplementedError, match="is not done yet"):
            check(...)
