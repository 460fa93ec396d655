"""Checks for chapter 15's exercises (deep learning in practice).

- 15.1 implement global magnitude pruning masks                -> :func:`check_global_masks`
- 15.2 derive the scale and zero point of affine quantization  -> :func:`check_affine_qparams`
- 15.3 predict the bytes of a model after dynamic int8         -> :func:`check_quantized_size`
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.exercises.core import not_done_message
from dlcore.exercises.core import CheckResult, fail, passed
from dlcore.practice.pruning import global_magnitude_masks, layerwise_magnitude_masks
from dlcore.practice.quantization import affine_qparams

__all__ = ["check_global_masks", "check_affine_qparams", "check_quantized_size", "mlp_sizes"]


def _not_done(label: str) -> NotImplementedError:
    return not_done_message(f"Exercise {label} is not done yet: replace the `raise NotImplementedError` in the "
                               f"exercise cell with your code, run that cell, then this one.")


def _call(label: str, learner: Callable, *args):
    try:
        return learner(*args)
    except NotImplementedError:
        raise _not_done(label) from None
    except Exception as error:  # the learner's bug, reported rather than crashing the check
        fail(label, f"your function raised {type(error).__name__}: {error}")


# ---------------------------------------------------------------- 15.1 global magnitude pruning

def _mask_cases() -> list[tuple[list[np.ndarray], float, str]]:
    rng = np.random.default_rng(15)
    big = rng.normal(0, 0.05, (12, 20))   # many small weights
    small = rng.normal(0, 1.0, (3, 12))    # few large ones
    signed = np.array([[-3.0, 0.1, 2.0], [-0.2, 0.5, -1.0]])
    return [([signed], 0.34, "one 2x3 layer with large negative weights, amount 0.34"),
            ([big, small], 0.5, "a (12, 20) layer of small weights and a (3, 12) layer of large ones, amount 0.5"),
            ([big, small], 0.3, "the same two layers, amount 0.3")]


def check_global_masks(learner: Callable[[list, float], list]) -> CheckResult:
    """``learner(weights, amount)`` must return one 0/1 mask per array, removing the smallest |w| overall."""
    label = "15.1"
    for weights, amount, description in _mask_cases():
        originals = [w.copy() for w in weights]
        got = _call(label, learner, [w.copy() for w in weights], amount)
        if got is None:
            fail(label, "your function returned None", "did you forget the `return` statement?")
        got = [np.asarray(m, dtype=np.float64) for m in got]
        expected = global_magnitude_masks(originals, amount)
        if len(got) != len(expected) or any(g.shape != e.shape for g, e in zip(got, expected)):
            fail(label, f"return one mask per weight array, each of that array's shape; got shapes "
                        f"{[g.shape for g in got]} (on {description})",
                 "split the flat keep/drop vector back into pieces of each array's size and reshape them")
        if all(np.array_equal(g, e) for g, e in zip(got, expected)):
            continue
        removed = sum(int((g == 0).sum()) for g in got)
        total = sum(w.size for w in weights)
        if all(np.array_equal(g, e) for g, e in zip(got, layerwise_magnitude_masks(originals, amount))):
            fail(label, f"you pruned each layer separately (layer-wise) (on {description})",
                 "rank the magnitudes of ALL layers together: concatenate the flattened |w| of every array first")
        if all(np.array_equal(g, 1 - e) for g, e in zip(got, expected)):
            fail(label, f"your masks are inverted: they are 1 on the removed weights (on {description})",
                 "a mask multiplies the weight: 1 keeps it, 0 removes it")
        if all(np.array_equal(g, e) for g, e in zip(got, _ranked_masks(originals, amount, lambda w: -np.abs(w)))):
            fail(label, f"you removed the LARGEST weights and kept the smallest (on {description})",
                 "magnitude pruning drops the weights of smallest |w|: they change the output least")
        if all(np.array_equal(g, e) for g, e in zip(got, _ranked_masks(originals, amount, lambda w: w))):
            fail(label, f"you ranked the weights by their signed value, so large negative weights were removed "
                        f"(on {description})", "rank by magnitude |w| (np.abs): a weight of -3 matters as much as +3")
        if removed != int(round(amount * total)):
            fail(label, f"your masks remove {removed} of {total} weights; expected round(amount * total) = "
                        f"{int(round(amount * total))} (on {description})",
                 "count k from the total number of weights of all layers, and zero exactly k of them")
        fail(label, f"your masks remove the right number of weights but not the smallest |w| overall (on {description})",
             "sort the concatenated |w| once; the first k positions are the ones to zero")
    return passed(label, "the smallest weights of the whole network are the ones removed.")


def _ranked_masks(weights: list[np.ndarray], amount: float, key: Callable) -> list[np.ndarray]:
    """Masks removing the round(amount * total) weights of smallest key(w) over all arrays (plausible mistakes)."""
    flat = np.concatenate([key(w).ravel() for w in weights])
    keep = np.ones(flat.size)
    keep[np.argsort(flat, kind="stable")[:int(round(amount * flat.size))]] = 0.0
    out, start = [], 0
    for w in weights:
        out.append(keep[start:start + w.size].reshape(w.shape))
        start += w.size
    return out


# ---------------------------------------------------------------- 15.2 affine quantization parameters

_QPARAM_CASES = [(-1.0, 3.0, 8, "x in [-1, 3], 8 bits"), (-0.37, 0.52, 4, "x in [-0.37, 0.52], 4 bits"),
                 (0.5, 2.0, 8, "x in [0.5, 2] (all positive), 8 bits")]


def check_affine_qparams(learner: Callable[[float, float, int], tuple]) -> CheckResult:
    """``learner(x_min, x_max, num_bits)`` must return (scale, zero_point) for the unsigned range [0, 2^b - 1]."""
    label = "15.2"
    for x_min, x_max, bits, description in _QPARAM_CASES:
        got = _call(label, learner, x_min, x_max, bits)
        if got is None or np.ndim(got) != 1 or len(got) != 2:
            fail(label, f"return a pair (scale, zero_point); got {got!r} (on {description})")
        scale, zero_point = float(got[0]), got[1]
        expected_scale, expected_zero = affine_qparams(x_min, x_max, bits)
        levels = 2 ** bits - 1
        low, high = min(x_min, 0.0), max(x_max, 0.0)
        if np.isclose(scale, (x_max - x_min) / levels) and not np.isclose(scale, expected_scale):
            fail(label, f"your scale covers [x_min, x_max] = [{x_min}, {x_max}], which leaves out 0 (on {description})",
                 "stretch the range to contain 0 first (x_min -> min(x_min, 0)): padding and ReLU zeros must be exact")
        if np.isclose(scale, (high - low) / 2 ** bits):
            fail(label, f"your scale divides by 2^b = {2 ** bits}; there are 2^b - 1 = {levels} steps between "
                        f"{2 ** bits} levels (on {description})", "count the gaps between levels, not the levels")
        if not np.isclose(scale, expected_scale, rtol=1e-9):
            fail(label, f"scale {scale:.6g} is wrong, expected {expected_scale:.6g} (on {description})",
                 "scale = (x_max - x_min) / (q_max - q_min), with the range stretched to contain 0")
        flipped = low / expected_scale  # the sign mistake, rounded or not
        if expected_zero != 0 and (np.isclose(float(zero_point), flipped) or np.isclose(float(zero_point), round(flipped))):
            fail(label, f"zero point {zero_point} has the wrong sign (on {description})",
                 "x = scale * (q - zero_point) must give x = x_min at q = 0, so zero_point = -x_min / scale")
        if not float(zero_point).is_integer():
            fail(label, f"zero point {zero_point} is not an integer (on {description})",
                 "round it: the zero point is a code like any other, so that 0.0 is represented exactly")
        if int(zero_point) != expected_zero:
            fail(label, f"zero point {zero_point} is wrong, expected {expected_zero} (on {description})",
                 "zero_point = round(q_min - x_min / scale)")
    return passed(label, "scale = (max - min) / (2^b - 1) over a range containing 0, zero point = round(-min / scale).")


# ---------------------------------------------------------------- 15.3 size after dynamic quantization

def mlp_sizes(layers: tuple[int, ...] = (64, 64, 64, 10)) -> dict[str, int]:
    """Bytes of an MLP with these widths: float32, and after ``quantize_dynamic_int8`` (int8 weights,
    float32 bias and one float32 scale per output unit)."""
    weights = sum(a * b for a, b in zip(layers[:-1], layers[1:]))
    outputs = sum(layers[1:])
    return {"float32": 4 * (weights + outputs), "int8": weights + 4 * outputs + 4 * outputs,
            "weights": weights, "outputs": outputs}


def check_quantized_size(predicted_bytes) -> CheckResult:
    """The prediction for ``tensor_bytes(quantize_dynamic_int8(make_mlp()))``."""
    label = "15.3"
    if predicted_bytes is Ellipsis:
        raise not_done_message("Exercise 15.3 is not done yet: replace the ... with your prediction (bytes).")
    sizes = mlp_sizes()
    try:
        value = float(predicted_bytes)
    except (TypeError, ValueError):
        fail(label, f"your prediction should be a number of bytes, got {predicted_bytes!r}")
    if value == sizes["int8"]:
        return passed(label, f"{sizes['int8']:,} bytes: {sizes['weights']:,} int8 weights plus "
                             f"{2 * sizes['outputs']} float32 numbers (a bias and a scale per output unit), "
                             f"{sizes['float32'] / sizes['int8']:.2f}x smaller than float32, not 4x.")
    diagnoses = {
        sizes["float32"]: ("that is the float32 size: dynamic quantization does store the weights as int8",
                           "one byte per weight instead of four"),
        sizes["float32"] / 4: ("you divided everything by 4 (biases in int8 too), but the biases stay float32 and "
                               "every output unit also needs a float32 scale",
                               "count the weights, biases and scales separately"),
        sizes["weights"]: ("you counted only the int8 weights; the biases and the per-unit scales are float32",
                           "add 4 bytes per output unit for the bias and 4 for the scale"),
        sizes["weights"] + 4 * sizes["outputs"]: ("you counted the int8 weights and ONE float32 per output unit; "
                                                   "there are two (the bias and the scale)", ""),
    }
    for wrong, (problem, hint) in diagnoses.items():
        if np.isclose(value, wrong):
            fail(label, problem, hint)
    fail(label, f"{predicted_bytes!r} bytes is not right", "layers 64-64-64-10: count weights, biases and scales")
