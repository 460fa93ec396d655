"""Chapter 15 checks: each passes the reference and fails plausible wrong answers with their diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.exercises import ch15
from dlcore.exercises.core import ExerciseFailed
from dlcore.practice.common import make_mlp, tensor_bytes
from dlcore.practice.pruning import global_magnitude_masks, layerwise_magnitude_masks
from dlcore.practice.quantization import affine_qparams, quantize_dynamic_int8


def _not_done(*args):
    raise NotImplementedError("Exercise 15.x: write your code here")


# ---------------------------------------------------------------- 15.1

def test_global_masks_reference_passes():
    assert ch15.check_global_masks(global_magnitude_masks).passed


def _largest(weights, amount):
    return [1 - m for m in global_magnitude_masks(weights, 1 - amount)]


def _signed(weights, amount):
    flat = np.concatenate([w.ravel() for w in weights])
    threshold = np.sort(flat)[int(round(amount * flat.size)) - 1]
    return [(w > threshold).astype(float) for w in weights]


@pytest.mark.parametrize("wrong, message", [
    (layerwise_magnitude_masks, "you pruned each layer separately"),
    (lambda w, a: [1 - m for m in global_magnitude_masks(w, a)], "your masks are inverted"),
    (_largest, "you removed the LARGEST weights"),
    (_signed, "ranked the weights by their signed value"),
    (lambda w, a: [np.ones_like(x) for x in w], "your masks remove 0 of"),
    (lambda w, a: [m.ravel() for m in global_magnitude_masks(w, a)], "one mask per weight array"),
])
def test_global_masks_wrong_answers_are_diagnosed(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch15.check_global_masks(wrong)


def test_global_masks_not_done_raises_not_implemented():
    with pytest.raises(NotImplementedError, match="is not done yet"):
        ch15.check_global_masks(_not_done)


# ---------------------------------------------------------------- 15.2

def test_affine_qparams_reference_passes():
    assert ch15.check_affine_qparams(lambda lo, hi, b: affine_qparams(lo, hi, b)).passed


def _with(scale_fn, zero_fn):
    def qparams(lo, hi, bits):
        low, high = min(lo, 0.0), max(hi, 0.0)
        scale = scale_fn(lo, hi, low, high, bits)
        return scale, zero_fn(low, scale)
    return qparams


GOOD_SCALE = lambda lo, hi, low, high, b: (high - low) / (2 ** b - 1)  # noqa: E731
GOOD_ZERO = lambda low, scale: round(-low / scale)  # noqa: E731


@pytest.mark.parametrize("wrong, message", [
    (_with(lambda lo, hi, low, high, b: (high - low) / 2 ** b, GOOD_ZERO), "divides by 2\\^b"),
    (_with(GOOD_SCALE, lambda low, scale: round(low / scale)), "wrong sign"),
    (_with(GOOD_SCALE, lambda low, scale: -low / scale), "is not an integer"),
    (lambda lo, hi, b: ((hi - lo) / (2 ** b - 1), max(0, round(-lo / ((hi - lo) / (2 ** b - 1))))), "leaves out 0"),
])
def test_affine_qparams_wrong_answers_are_diagnosed(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch15.check_affine_qparams(wrong)


def test_affine_qparams_not_done_raises_not_implemented():
    with pytest.raises(NotImplementedError, match="is not done yet"):
        ch15.check_affine_qparams(_not_done)


# ---------------------------------------------------------------- 15.3

def test_quantized_size_matches_the_real_model():
    sizes = ch15.mlp_sizes()
    model = make_mlp()
    assert tensor_bytes(model) == sizes["float32"]
    assert tensor_bytes(quantize_dynamic_int8(model)) == sizes["int8"]
    assert ch15.check_quantized_size(sizes["int8"]).passed


@pytest.mark.parametrize("wrong, message", [
    (35880, "that is the float32 size"),
    (8970, "you divided everything by 4"),
    (8832, "you counted only the int8 weights"),
    (8832 + 4 * 138, "ONE float32 per output unit"),
    (12345, "is not right"),
])
def test_quantized_size_wrong_answers_are_diagnosed(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch15.check_quantized_size(wrong)


def test_quantized_size_not_done_raises_not_implemented():
    with pytest.raises(NotImplementedError, match="is not done yet"):
        ch15.check_quantized_size(...)
