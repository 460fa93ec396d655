"""Checks for chapter 15's exercises (deep learning in practice).

- 15.1 implement global and layer-wise magnitude pruning masks     -> :func:`check_pruning_masks`
- 15.2 derive the scale and zero point of affine quantization      -> :func:`check_affine_qparams`
- 15.3 implement symmetric int8 quantization and an int8 layer     -> :func:`check_int8_kernels`
- 15.4 predict the bytes of a model after dynamic int8             -> :func:`check_quantized_size`
- 15.5 implement the distillation loss and its gradient            -> :func:`check_distillation_loss`

A passing check accepts the learner's functions, and the later cells run on them
(``implementation("global_masks", global_magnitude_masks, label="15.1")`` and so on):
the pruning table, curve and explorer on 15.1's masks, the quantization example on
15.2's parameters, the int8 model on 15.3's kernels, the distillation runs on 15.5's loss.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from dlcore.exercises.core import Case, CheckResult, Mistake, check_value, fail
from dlcore.exercises.functions import check_function
from dlcore.practice import distill, pruning, quantization
from dlcore.practice.distill import distillation_loss_and_gradient
from dlcore.practice.pruning import global_magnitude_masks, layerwise_magnitude_masks
from dlcore.practice.quantization import affine_qparams, dequantize_int8, int8_linear, quantize_int8

__all__ = ["check_pruning_masks", "check_affine_qparams", "check_int8_kernels", "check_quantized_size",
           "check_distillation_loss", "mlp_sizes", "REFERENCES"]

# The course's own versions of what each exercise builds (never shown before the exercise).
REFERENCES = {
    "15.1": (global_magnitude_masks, layerwise_magnitude_masks),
    "15.2": (affine_qparams, quantization.quantize, quantization.dequantize),
    "15.3": (quantize_int8, dequantize_int8, int8_linear),
    "15.5": (distillation_loss_and_gradient, distill.distillation_forward, distill.distillation_backward),
}


# ---------------------------------------------------------------- 15.1 magnitude pruning masks

def _mask_cases() -> list[Case]:
    rng = np.random.default_rng(15)
    big = rng.normal(0, 0.05, (12, 20))   # many small weights
    small = rng.normal(0, 1.0, (3, 12))   # few large ones
    signed = [np.array([[-3.0, 0.1, 2.0], [-0.2, 0.5, -1.0]]), np.array([[0.15, -0.05], [4.0, -0.6]])]
    return [Case((signed, 0.37), description="a (2, 3) and a (2, 2) layer with large negative weights, amount 0.37"),
            Case(([big, small], 0.5), description="a (12, 20) layer of small weights and a (3, 12) layer of large "
                                                  "ones, amount 0.5"),
            Case(([big, small], 0.3), description="the same two layers, amount 0.3")]


def _ranked(weights: list[np.ndarray], amount: float, key: Callable, count: Callable = lambda x: int(round(x))) -> list:
    """Masks removing count(amount * total) weights of smallest key(w) over all arrays (plausible mistakes)."""
    flat = np.concatenate([key(w).ravel() for w in weights])
    keep = np.ones(flat.size)
    keep[np.argsort(flat, kind="stable")[:count(amount * flat.size)]] = 0.0
    out, start = [], 0
    for w in weights:
        out.append(keep[start:start + w.size].reshape(w.shape))
        start += w.size
    return out


def _each_layer(rule: Callable) -> Callable:
    return lambda weights, amount: [rule([w], amount)[0] for w in weights]


_LARGEST = lambda weights, amount: _ranked(weights, amount, lambda w: -np.abs(w))  # noqa: E731
_SIGNED = lambda weights, amount: _ranked(weights, amount, lambda w: w)  # noqa: E731
_FLOOR = lambda weights, amount: _ranked(weights, amount, np.abs, count=int)  # noqa: E731

_GLOBAL_MISTAKES = [
    Mistake("pruned-layer-by-layer", layerwise_magnitude_masks,
            "you pruned each layer separately (layer-wise): global_masks ranks the weights of all layers together"),
    Mistake("masks-inverted", lambda w, a: [1 - m for m in global_magnitude_masks(w, a)],
            "your masks are inverted: they are 1 on the removed weights, but a mask multiplies the weight (1 keeps it)"),
    Mistake("removed-largest", _LARGEST,
            "you removed the LARGEST weights and kept the smallest; magnitude pruning drops the smallest |w|"),
    Mistake("ranked-signed-values", _SIGNED,
            "you ranked the weights by their signed value, so large negative weights were removed; rank by |w|"),
    Mistake("count-truncated", _FLOOR,
            "you remove one weight too few: int() truncates amount * n; the number to remove is round(amount * n)"),
]

_LAYERWISE_MISTAKES = [
    Mistake("ranked-all-layers-together", global_magnitude_masks,
            "you ranked the weights of all layers together (global): layer-wise pruning ranks each layer on its own"),
    Mistake("masks-inverted", lambda w, a: [1 - m for m in layerwise_magnitude_masks(w, a)],
            "your masks are inverted: they are 1 on the removed weights, but a mask multiplies the weight (1 keeps it)"),
    Mistake("removed-largest", _each_layer(_LARGEST),
            "you removed the LARGEST weights of each layer; magnitude pruning drops the smallest |w|"),
    Mistake("ranked-signed-values", _each_layer(_SIGNED),
            "you ranked each layer's weights by their signed value; rank by |w|"),
    Mistake("count-truncated", _each_layer(_FLOOR),
            "some layer loses one weight too few: int() truncates amount * n_l; remove round(amount * n_l)"),
]

_TWO_LAYERS = ("the first layer's mask", "the second layer's mask")


def check_pruning_masks(global_masks: Callable, layerwise_masks: Callable) -> CheckResult:
    """Exercise 15.1: ``global_masks(weights, amount)`` and ``layerwise_masks(weights, amount)``.

    Both return one 0/1 mask per weight array (same shape) removing the weights of smallest |w|:
    round(amount * n) of all n weights together, or round(amount * n_l) of each layer's n_l.
    """
    label = "15.1"
    common = dict(outputs=_TWO_LAYERS, forbid=[pruning.prune_global, pruning.prune_layerwise,
                                                global_magnitude_masks, layerwise_magnitude_masks],
                  hint="rank by |w|, remove exactly round(amount * count) weights, and cut the keep/drop vector back "
                       "into one piece per array (np.split at the cumulative sizes, then reshape)")
    check_function(label, global_masks, global_magnitude_masks, _mask_cases(), name="global_masks",
                   mistakes=_GLOBAL_MISTAKES, report=False, **common)
    return check_function(label, layerwise_masks, layerwise_magnitude_masks, _mask_cases(), name="layerwise_masks",
                          mistakes=_LAYERWISE_MISTAKES, success="the smallest weights go, over the whole network or "
                          "layer by layer; the pruning experiments below now run on your masks.", **common)


# ---------------------------------------------------------------- 15.2 affine quantization parameters

_QPARAM_CASES = [Case((-1.0, 3.0, 8), description="x in [-1, 3], 8 bits"),
                 Case((-0.37, 0.52, 4), description="x in [-0.37, 0.52], 4 bits"),
                 Case((0.5, 2.0, 8), description="x in [0.5, 2] (all positive), 8 bits")]


def _qparams_mistake(*, stretch: bool = True, levels: Callable = lambda b: 2 ** b - 1,
                     zero: Callable = lambda low, scale: round(-low / scale)) -> Callable:
    def qparams(x_min, x_max, num_bits):
        low, high = (min(x_min, 0.0), max(x_max, 0.0)) if stretch else (x_min, x_max)
        scale = (high - low) / levels(num_bits)
        return scale, zero(min(x_min, 0.0), scale)
    return qparams


_QPARAM_MISTAKES = [
    Mistake("range-leaves-out-zero", _qparams_mistake(stretch=False),
            "your scale covers [x_min, x_max] as given, which need not contain 0; stretch the range to contain 0 "
            "first, so that padding and ReLU zeros are represented exactly"),
    Mistake("divides-by-levels", _qparams_mistake(levels=lambda b: 2 ** b),
            "your scale divides by the number of codes 2^b; between 2^b codes there are one fewer steps"),
    Mistake("zero-point-sign", _qparams_mistake(zero=lambda low, scale: round(low / scale)),
            "your zero point has the wrong sign: code 0 must stand for the (stretched) minimum"),
    Mistake("zero-point-not-rounded", _qparams_mistake(zero=lambda low, scale: -low / scale),
            "your zero point is not rounded to an integer: it is a code like any other, so that 0.0 is exact"),
]


_CODES_X = np.array([-1.0, -0.31, 0.0, 0.05, 1.7, 3.0, 3.4, -2.0, 0.0078431372549019607])
_CODE_CASES = [Case((_CODES_X, 4.0 / 255, 64, 0, 255), description="x = [-1, -0.31, 0, 0.05, 1.7, 3, 3.4, -2, 0.00784], "
                                                                   "scale 4/255, zero point 64, codes 0..255"),
               Case((np.array([[0.3, -0.7], [1.25, -2.5]]), 0.5, 3, 0, 7),
                    description="x = [[0.3, -0.7], [1.25, -2.5]], scale 0.5, zero point 3, codes 0..7")]
_DECODE_CASES = [Case((np.array([0, 44, 64, 67, 255]), 4.0 / 255, 64), description="codes [0, 44, 64, 67, 255], "
                                                                                   "scale 4/255, zero point 64"),
                 Case((np.array([[0, 3], [7, 5]]), 0.5, 3), description="codes [[0, 3], [7, 5]], scale 0.5, zero point 3")]

_QUANTIZE_CODE_MISTAKES = [
    Mistake("codes-not-clamped", lambda x, scale, zero, qmin, qmax: np.round(x / scale) + zero,
            "values outside the range give codes outside [qmin, qmax]: clamp the codes"),
    Mistake("code-zero-point-sign", lambda x, scale, zero, qmin, qmax: np.clip(np.round(x / scale) - zero, qmin, qmax),
            "you subtracted the zero point; x = 0 must get the code zero_point, so add it"),
    Mistake("code-times-scale", lambda x, scale, zero, qmin, qmax: np.clip(np.round(x * scale) + zero, qmin, qmax),
            "you multiplied by the scale; the scale is the real step between codes, so divide by it"),
    Mistake("code-floored", lambda x, scale, zero, qmin, qmax: np.clip(np.floor(x / scale) + zero, qmin, qmax),
            "your codes are rounded down; round to the nearest code, so that the error is at most s/2"),
]
_DEQUANTIZE_CODE_MISTAKES = [
    Mistake("decode-adds-zero-point", lambda q, scale, zero: scale * (q + zero),
            "code zero_point must give 0.0: subtract the zero point from the code"),
    Mistake("decode-divides", lambda q, scale, zero: (q - zero) / scale, "a code step is worth scale: multiply by it"),
    Mistake("decode-zero-point-after-scale", lambda q, scale, zero: scale * q - zero,
            "you subtracted the zero point after scaling; it is a code, so subtract it from q first"),
]


def check_affine_qparams(affine_scale_zero_point: Callable[[float, float, int], tuple],
                         affine_quantize: Callable, affine_dequantize: Callable) -> CheckResult:
    """Exercise 15.2: ``affine_scale_zero_point(x_min, x_max, num_bits)`` -> (scale, zero_point), unsigned codes;
    ``affine_quantize(x, scale, zero_point, qmin, qmax)`` -> codes and ``affine_dequantize(q, scale, zero_point)``."""
    label = "15.2"
    check_function(label, affine_scale_zero_point, affine_qparams, _QPARAM_CASES,
                   name="affine_scale_zero_point", outputs=("scale", "zero_point"), mistakes=_QPARAM_MISTAKES,
                   hint="write the two conditions as equations in s and z and solve them; then round z", report=False)
    check_function(label, affine_quantize, quantization.quantize, _CODE_CASES, name="affine_quantize",
                   mistakes=_QUANTIZE_CODE_MISTAKES, report=False,
                   hint="the code of x is the rounded x / scale, shifted by the zero point, clamped to [qmin, qmax]")
    return check_function(label, affine_dequantize, quantization.dequantize, _DECODE_CASES, name="affine_dequantize",
                          mistakes=_DEQUANTIZE_CODE_MISTAKES,
                          success="the quantization example below now uses your scale, zero point and codes.")


# ---------------------------------------------------------------- 15.3 symmetric int8 and an int8 layer

def _int8_weights() -> list[Case]:
    rng = np.random.default_rng(153)
    spread = rng.normal(0, 1.0, (3, 5)) * np.array([[0.01], [1.0], [30.0]])  # rows of very different sizes
    halves = np.array([[0.5, -1.5, 2.5, 127.0], [-3.5, 1.0, 7.0, 0.25]])   # codes that fall exactly on .5
    return [Case((spread,), description="a (3, 5) weight whose rows differ in size by 1000 times"),
            Case((halves,), description="a (2, 4) weight [[0.5, -1.5, 2.5, 127], [-3.5, 1, 7, 0.25]]")]


def _codes(weight, scale):
    return np.clip(np.round(weight / scale), -127, 127).astype(np.int8)


def _quantize_with(scale_of: Callable, rounding: Callable = np.round) -> Callable:
    def quantize(weight):
        scale = scale_of(np.abs(weight))
        return np.clip(rounding(weight / scale[:, None]), -127, 127).astype(np.int8), scale
    return quantize


_QUANTIZE_MISTAKES = [
    Mistake("one-scale-per-tensor", _quantize_with(lambda a: np.full(a.shape[0], a.max() / 127)),
            "you used one scale for the whole matrix; each row (output unit) gets its own scale, max|row| / 127"),
    Mistake("scale-255-levels", _quantize_with(lambda a: a.max(axis=1) / 255),
            "your scale divides by 255: the symmetric int8 codes run from -127 to 127, so the largest |w| is 127 steps"),
    Mistake("scale-128", _quantize_with(lambda a: a.max(axis=1) / 128),
            "your scale divides by 128: the largest |w| of a row must land on code 127, the largest positive code"),
    Mistake("truncated-codes", _quantize_with(lambda a: a.max(axis=1) / 127, np.trunc),
            "your codes are truncated towards 0 (astype(np.int8) cuts off the fraction); round them first"),
    Mistake("scale-per-column", lambda w: (np.clip(np.round(w / (np.abs(w).max(axis=0) / 127)), -127, 127)
                                           .astype(np.int8), np.abs(w).max(axis=0) / 127),
            "your scales are per column (max over axis 0); one scale per row, the output unit"),
]

_DEQUANTIZE_MISTAKES = [
    Mistake("dequantize-divides", lambda q, scale: q / scale[:, None],
            "you divided the codes by the scale; a code stands for code * scale"),
    Mistake("dequantize-int8-product", lambda q, scale: (q * scale[:, None].astype(np.int8)).astype(float),
            "you turned the scales into integers before multiplying; keep them as floats"),
]


def _linear_cases() -> list[Case]:
    rng = np.random.default_rng(1530)
    cases = []
    for (n, d, m), description in [((4, 3, 2), "x (4, 3), a (2, 3) weight"),
                                   ((6, 64, 5), "x (6, 64) of positive values (like ReLU outputs), a (5, 64) weight")]:
        x = rng.normal(size=(n, d)) if d < 10 else np.abs(rng.normal(size=(n, d))) + 1.0
        weight = rng.normal(size=(m, d)) if d < 10 else np.abs(rng.normal(size=(m, d)))
        q, scale = quantize_int8(weight)
        cases.append(Case((x, q, scale, rng.normal(size=m)), description=description))
    return cases


def _linear_with(products: Callable = lambda q_x, q_w: q_x.astype(np.int32) @ q_w.astype(np.int32).T,
                 levels: float = 127, quantize_input: bool = True, bias_inside: bool = False) -> Callable:
    def linear(x, q_weight, weight_scale, bias):
        x_scale = np.abs(x).max() / levels
        q_x = np.clip(np.round(x / x_scale), -127, 127).astype(np.int8) if quantize_input else x / x_scale
        accumulated = products(q_x, q_weight)
        if bias_inside:
            return x_scale * weight_scale * (accumulated + bias)
        return x_scale * weight_scale * accumulated + bias
    return linear


_LINEAR_MISTAKES = [
    Mistake("int8-accumulator-overflows", _linear_with(products=lambda q_x, q_w: q_x @ q_w.T),
            "your sums overflow: a product of two int8 arrays is summed in int8, which wraps around past 127; "
            "convert the codes to np.int32 before the matrix product"),
    Mistake("input-not-quantized", _linear_with(products=lambda x, q_w: x @ q_w.astype(np.float64).T,
                                                quantize_input=False),
            "you multiplied the float input with the weight codes; quantize the input to int8 codes too, so that "
            "the product is an integer one"),
    Mistake("bias-rescaled", _linear_with(bias_inside=True),
            "you added the bias to the integer sums before rescaling; the bias is a float, add it after"),
    Mistake("input-scale-255", _linear_with(levels=255),
            "your input scale divides by 255: symmetric int8 codes run from -127 to 127"),
    Mistake("weight-scale-forgotten", lambda x, q_w, w_scale, bias: _linear_with()(x, q_w, np.ones_like(w_scale), bias),
            "you left out the weights' scales: the integer sums count steps of s_x * s_w,j"),
]


def check_int8_kernels(quantize_int8_fn: Callable, dequantize_int8_fn: Callable, int8_linear_fn: Callable) -> CheckResult:
    """Exercise 15.3: ``quantize_int8(weight) -> (codes, scales)``, ``dequantize_int8(codes, scales)`` and
    ``int8_linear(x, codes, scales, bias)`` (symmetric, int32 sums)."""
    label = "15.3"
    forbid = [quantization.fake_quantize_weights, quantization.quantize, quantization.dequantize, *REFERENCES[label]]
    check_function(label, quantize_int8_fn, quantize_int8, _int8_weights(), name="quantize_int8",
                   outputs=("codes", "scales"), mistakes=_QUANTIZE_MISTAKES, forbid=forbid, report=False,
                   hint="per row: scale = max|w| / 127, codes = the rounded w / scale, clipped to [-127, 127]")
    for case in _int8_weights():
        codes = np.asarray(quantize_int8_fn(case.args[0])[0])
        if codes.dtype != np.int8:
            fail(label, f"your codes are stored as {codes.dtype}, not int8 (on {case.describe()})",
                 "end with .astype(np.int8): one byte per weight is the point", mistake="codes-not-int8")
    dequantize_cases = [Case(quantize_int8(case.args[0]), description=f"the codes and scales of {case.describe()}")
                        for case in _int8_weights()]
    check_function(label, dequantize_int8_fn, dequantize_int8, dequantize_cases, name="dequantize_int8",
                   mistakes=_DEQUANTIZE_MISTAKES, forbid=forbid, report=False)
    return check_function(label, int8_linear_fn, int8_linear, _linear_cases(), name="int8_linear",
                          mistakes=_LINEAR_MISTAKES, forbid=forbid,
                          hint="quantize x with one symmetric scale, multiply the codes with int32 sums, then "
                               "rescale by both scales and add the bias",
                          success="codes, scales and int32 sums agree with the course's; the int8 model below "
                                  "now runs on your kernels.")


# ---------------------------------------------------------------- 15.4 size after dynamic quantization

def mlp_sizes(layers: tuple[int, ...] = (64, 64, 64, 10)) -> dict[str, int]:
    """Bytes of an MLP with these widths: float32, and after ``quantize_dynamic_int8`` (int8 weights,
    float32 bias and one float32 scale per output unit)."""
    weights = sum(a * b for a, b in zip(layers[:-1], layers[1:]))
    outputs = sum(layers[1:])
    return {"float32": 4 * (weights + outputs), "int8": weights + 4 * outputs + 4 * outputs,
            "weights": weights, "outputs": outputs}


def check_quantized_size(predicted_bytes) -> CheckResult:
    """Exercise 15.4: the prediction for ``tensor_bytes(quantize_dynamic_int8(make_mlp()))``."""
    sizes = mlp_sizes()
    weights, outputs = sizes["weights"], sizes["outputs"]
    mistakes = [
        Mistake("float32-size", lambda: sizes["float32"],
                "that is the float32 size: dynamic quantization does store the weights as int8"),
        Mistake("everything-divided-by-4", lambda: sizes["float32"] / 4,
                "you divided everything by 4 (biases in int8 too), but the biases stay float32 and every output "
                "unit also needs a float32 scale"),
        Mistake("weights-only", lambda: weights,
                "you counted only the int8 weights; the biases and the per-unit scales are float32"),
        Mistake("one-float-per-unit", lambda: weights + 4 * outputs,
                "you counted the int8 weights and ONE float32 per output unit; each unit stores two"),
        Mistake("scale-per-layer", lambda: weights + 4 * outputs + 4 * 3,
                "you counted one scale per layer; the weights are quantized with one scale per output unit"),
    ]
    return check_value("15.4", predicted_bytes, sizes["int8"], name="your prediction (bytes)", mistakes=mistakes,
                       hint="layers 64-64-64-10: count the weights, the biases and the scales separately",
                       success=f"{sizes['int8']:,} bytes: {weights:,} int8 weights plus {2 * outputs} float32 numbers "
                               f"(a bias and a scale per output unit), {sizes['float32'] / sizes['int8']:.2f}x "
                               f"smaller than float32, not 4x.")


# ---------------------------------------------------------------- 15.5 the distillation loss

def _distillation_cases() -> list[Case]:
    rng = np.random.default_rng(155)
    student, teacher = rng.normal(size=(5, 4)) * 3, rng.normal(size=(5, 4)) * 3
    y = np.array([0, 3, 1, 1, 2])
    high = 800.0 + rng.normal(size=(3, 10)) * 3   # large logits: exp() of them overflows unless shifted
    return [Case((student, teacher, y, 4.0, 0.7), description="5 examples, 4 classes, T = 4, alpha = 0.7"),
            Case((student, teacher, y, 2.0, 0.25), description="the same logits, T = 2, alpha = 0.25"),
            Case((high, -900.0 + rng.normal(size=(3, 10)) * 3, np.array([9, 0, 4]), 1.5, 0.5),
                 description="3 examples with student logits near 800 and teacher logits near -900, T = 1.5, "
                             "alpha = 0.5")]


def _distillation_mistake(*, power: float = 2, reverse_kl: bool = False, teacher_temperature: bool = True,
                          soft_cross_entropy: bool = False, mean: bool = True, gradient_power: float | None = None,
                          swap_alpha: bool = False) -> Callable:
    """The loss and gradient of a plausible wrong formula, by PyTorch's autograd (float64)."""
    def loss_and_gradient(student_logits, teacher_logits, y, temperature, alpha):
        if swap_alpha:
            alpha = 1 - alpha
        logits = torch.tensor(student_logits, dtype=torch.float64, requires_grad=True)
        log_s = torch.log_softmax(logits / temperature, dim=1)
        log_t = torch.log_softmax(torch.tensor(teacher_logits, dtype=torch.float64)
                                  / (temperature if teacher_temperature else 1.0), dim=1)
        kl = ((log_s.exp() * (log_s - log_t)) if reverse_kl else (log_t.exp() * (log_t - log_s))).sum()
        hard = torch.log_softmax(logits / temperature if soft_cross_entropy else logits, dim=1)
        cross_entropy = -hard[torch.arange(len(y)), torch.as_tensor(y)].sum()
        total = alpha * temperature ** power * kl + (1 - alpha) * cross_entropy
        loss = total / len(y) if mean else total
        loss.backward()
        gradient = logits.grad.numpy()
        if gradient_power is not None:  # the loss right, its gradient with the wrong power of T
            reference_loss, reference_gradient = distillation_loss_and_gradient(student_logits, teacher_logits, y,
                                                                                temperature, alpha)
            soft = torch.softmax(torch.tensor(student_logits) / temperature, 1) - torch.softmax(
                torch.tensor(teacher_logits) / temperature, 1)
            gradient = reference_gradient + alpha * (temperature ** gradient_power - temperature) * soft.numpy() / len(y)
            return reference_loss, gradient
        return float(loss.detach()), gradient
    return loss_and_gradient


_DISTILLATION_MISTAKES = [  # the gradient-only mistakes first: a wrong loss is reported on the loss
    Mistake("gradient-t-squared", _distillation_mistake(gradient_power=2),
            "your loss is right but the soft gradient carries T²: differentiating softmax(z / T) gives another 1/T"),
    Mistake("gradient-no-t", _distillation_mistake(gradient_power=0),
            "your loss is right but the soft gradient lacks its factor: T² from the loss times 1/T from softmax(z / T)"),
    Mistake("no-t-squared", _distillation_mistake(power=0),
            "your soft term lacks the T² factor: without it the distillation term shrinks like 1/T² as T grows"),
    Mistake("t-not-squared", _distillation_mistake(power=1),
            "your soft term is multiplied by T, not T²"),
    Mistake("kl-reversed", _distillation_mistake(reverse_kl=True),
            "your KL divergence runs the wrong way: KL(p_teacher || p_student) weights the log-ratio by the "
            "teacher's probabilities"),
    Mistake("teacher-not-softened", _distillation_mistake(teacher_temperature=False),
            "you softened the student's logits but not the teacher's: divide both by T"),
    Mistake("hard-term-softened", _distillation_mistake(soft_cross_entropy=True),
            "your cross-entropy with the labels uses the softened student; the hard-label term is at T = 1"),
    Mistake("summed-over-batch", _distillation_mistake(mean=False),
            "your loss is summed over the batch; average it (divide by N), the gradient too"),
    Mistake("alpha-swapped", _distillation_mistake(swap_alpha=True),
            "alpha weights the wrong term: alpha belongs to the distillation (KL) term, 1 - alpha to the labels"),
]


def check_distillation_loss(distillation_loss: Callable) -> CheckResult:
    """Exercise 15.5: ``distillation_loss(student_logits, teacher_logits, y, temperature, alpha) -> (loss, dlogits)``."""
    return check_function(
        "15.5", distillation_loss, distillation_loss_and_gradient, _distillation_cases(), name="distillation_loss",
        outputs=("loss", "dlogits"), mistakes=_DISTILLATION_MISTAKES,
        forbid=[distill.distillation_forward, distill.distillation_backward, distill.distillation_loss_torch,
                torch.nn.functional.kl_div],
        warning_hint="subtract each row's maximum before exp(), and take logarithms of softmax as the shifted "
                     "logits minus the log of their exp-sum, never as np.log of a probability",
        hint="compute the loss and its gradient from the two formulas of this section, one term at a time",
        success="loss and gradient agree with the course's; the distillation runs below now train on yours.")
