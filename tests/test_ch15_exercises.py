"""Chapter 15 checks: each accepts two different correct answers, names typical wrong ones by their mistake id,
fails an answer that calls the course's own version, and makes the chapter run on what it accepted."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.exercises import ch15, learner
from dlcore.exercises.core import ExerciseFailed
from dlcore.practice import distill, pruning, quantization
from dlcore.practice.common import make_mlp, tensor_bytes
from dlcore.practice.distill import distillation_loss_and_gradient, torch_loss_from_numpy
from dlcore.practice.pruning import global_magnitude_masks, prune_global, prune_with_masks
from dlcore.practice.quantization import int8_linear, quantize_dynamic_int8, quantize_int8
from tests.helpers import not_done


def fails_with(check, *answers, mistake=None, fragments=()):
    with pytest.raises(ExerciseFailed) as info:
        check(*answers)
    if mistake is not None:
        assert info.value.mistake == mistake, str(info.value)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    return info.value


# ---------------------------------------------------------------- 15.1

def global_masks(weights, amount):
    magnitudes = np.concatenate([np.abs(w).ravel() for w in weights])
    keep = np.ones(magnitudes.size)
    keep[np.argsort(magnitudes, kind="stable")[:int(round(amount * magnitudes.size))]] = 0.0
    return [part.reshape(w.shape) for part, w in zip(np.split(keep, np.cumsum([w.size for w in weights])[:-1]), weights)]


def layerwise_masks(weights, amount):
    return [global_masks([w], amount)[0] for w in weights]


def other_global_masks(weights, amount):
    flat = np.concatenate([np.abs(w).ravel() for w in weights])
    k = int(round(amount * flat.size))
    order = np.lexsort((np.arange(flat.size), flat))  # by magnitude, ties by position
    rank = np.empty(flat.size, dtype=int)
    rank[order] = np.arange(flat.size)
    masks, start = [], 0
    for w in weights:
        masks.append((rank[start:start + w.size] >= k).astype(float).reshape(w.shape))
        start += w.size
    return masks


def other_layerwise_masks(weights, amount):
    masks = []
    for w in weights:
        k = int(round(amount * w.size))
        mask = np.ones(w.shape)
        for index in np.argsort(np.abs(w), axis=None, kind="stable")[:k]:
            mask[np.unravel_index(index, w.shape)] = 0.0
        masks.append(mask)
    return masks


def test_pruning_masks_pass_two_ways_and_the_chapter_runs_on_them(capsys):
    assert ch15.check_pruning_masks(global_masks, layerwise_masks).passed
    assert ch15.check_pruning_masks(other_global_masks, other_layerwise_masks).passed
    used = learner.implementation("global_masks", global_magnitude_masks, label="15.1")
    assert used is other_global_masks
    assert "[using your global_masks, which passed exercise 15.1]" in capsys.readouterr().out
    model = make_mlp(seed=0, dtype=torch.float64)
    ours, theirs = prune_with_masks(model, 0.6, used), prune_global(model, 0.6)
    assert all(torch.equal(a.weight, b.weight) for a, b in zip(ours, theirs) if isinstance(a, torch.nn.Linear))


def _truncated(weights, amount):
    flat = np.concatenate([np.abs(w).ravel() for w in weights])
    keep = np.ones(flat.size)
    keep[np.argsort(flat, kind="stable")[:int(amount * flat.size)]] = 0.0
    return [part.reshape(w.shape) for part, w in zip(np.split(keep, np.cumsum([w.size for w in weights])[:-1]), weights)]


def _largest(weights, amount):
    return [1 - m for m in global_masks(weights, 1 - amount)]


def _signed(weights, amount):
    flat = np.concatenate([w.ravel() for w in weights])
    keep = np.ones(flat.size)
    keep[np.argsort(flat, kind="stable")[:int(round(amount * flat.size))]] = 0.0
    return [part.reshape(w.shape) for part, w in zip(np.split(keep, np.cumsum([w.size for w in weights])[:-1]), weights)]


@pytest.mark.parametrize("wrong_global, wrong_layerwise, mistake", [
    (layerwise_masks, layerwise_masks, "pruned-layer-by-layer"),
    (lambda w, a: [1 - m for m in global_masks(w, a)], layerwise_masks, "masks-inverted"),
    (_largest, layerwise_masks, "removed-largest"),
    (_signed, layerwise_masks, "ranked-signed-values"),
    (_truncated, layerwise_masks, "count-truncated"),
    (global_masks, global_masks, "ranked-all-layers-together"),
    (global_masks, lambda w, a: [_signed([x], a)[0] for x in w], "ranked-signed-values"),
    (global_masks, lambda w, a: [1 - m for m in layerwise_masks(w, a)], "masks-inverted"),
])
def test_pruning_mask_mistakes_are_named(wrong_global, wrong_layerwise, mistake):
    fails_with(ch15.check_pruning_masks, wrong_global, wrong_layerwise, mistake=mistake)
    assert learner.accepted("layerwise_masks") is None


def test_pruning_masks_shapes_delegation_and_not_done():
    fails_with(ch15.check_pruning_masks, lambda w, a: [m.ravel() for m in global_masks(w, a)], layerwise_masks,
               fragments=("the first layer's mask has shape",))
    fails_with(ch15.check_pruning_masks, lambda w, a: pruning.global_magnitude_masks(w, a), layerwise_masks,
               mistake="delegates-to-reference")
    fails_with(ch15.check_pruning_masks, global_masks, lambda w, a: pruning.layerwise_magnitude_masks(w, a),
               mistake="delegates-to-reference")
    with pytest.raises(NotImplementedError, match="Exercise 15.1 is not done yet"):
        ch15.check_pruning_masks(global_masks, not_done)


# ---------------------------------------------------------------- 15.2

def qparams(x_min, x_max, num_bits):
    low, high = min(x_min, 0.0), max(x_max, 0.0)
    scale = (high - low) / (2 ** num_bits - 1)
    return scale, int(np.clip(round(-low / scale), 0, 2 ** num_bits - 1))


def other_qparams(x_min, x_max, num_bits):
    q_max = (1 << num_bits) - 1
    scale = (max(x_max, 0) - min(x_min, 0)) / q_max
    return scale, int(np.rint(-min(x_min, 0) / scale))


def to_codes(x, scale, zero_point, qmin, qmax):
    return np.clip(np.round(x / scale) + zero_point, qmin, qmax)


def from_codes(q, scale, zero_point):
    return scale * (q - zero_point)


def other_to_codes(x, scale, zero_point, qmin, qmax):
    return np.minimum(np.maximum(np.rint(np.divide(x, scale)).astype(np.int64) + zero_point, qmin), qmax)


def other_from_codes(q, scale, zero_point):
    return np.asarray(q, dtype=np.float64) * scale - zero_point * scale


def check_15_2(answer=qparams, quantize=to_codes, dequantize=from_codes):
    return ch15.check_affine_qparams(answer, quantize, dequantize)


def test_affine_qparams_pass_two_ways(capsys):
    assert check_15_2().passed
    assert check_15_2(other_qparams, other_to_codes, other_from_codes).passed
    assert learner.implementation("affine_scale_zero_point", quantization.affine_qparams, label="15.2") is other_qparams
    assert learner.implementation("affine_quantize", quantization.quantize, label="15.2") is other_to_codes


def _with(scale_fn, zero_fn, stretch=True):
    def answer(lo, hi, bits):
        low, high = (min(lo, 0.0), max(hi, 0.0)) if stretch else (lo, hi)
        scale = scale_fn(low, high, bits)
        return scale, zero_fn(min(lo, 0.0), scale)
    return answer


GOOD_SCALE = lambda low, high, b: (high - low) / (2 ** b - 1)  # noqa: E731
GOOD_ZERO = lambda low, scale: round(-low / scale)  # noqa: E731


@pytest.mark.parametrize("wrong, mistake", [
    (_with(lambda low, high, b: (high - low) / 2 ** b, GOOD_ZERO), "divides-by-levels"),
    (_with(GOOD_SCALE, lambda low, scale: round(low / scale)), "zero-point-sign"),
    (_with(GOOD_SCALE, lambda low, scale: -low / scale), "zero-point-not-rounded"),
    (_with(GOOD_SCALE, GOOD_ZERO, stretch=False), "range-leaves-out-zero"),
])
def test_affine_qparams_mistakes_are_named(wrong, mistake):
    fails_with(check_15_2, wrong, mistake=mistake)


@pytest.mark.parametrize("quantize, dequantize, mistake", [
    (lambda x, s, z, lo, hi: np.round(x / s) + z, from_codes, "codes-not-clamped"),
    (lambda x, s, z, lo, hi: np.clip(np.round(x / s) - z, lo, hi), from_codes, "code-zero-point-sign"),
    (lambda x, s, z, lo, hi: np.clip(np.floor(x / s) + z, lo, hi), from_codes, "code-floored"),
    (lambda x, s, z, lo, hi: np.clip(np.round(x * s) + z, lo, hi), from_codes, "code-times-scale"),
    (to_codes, lambda q, s, z: s * (q + z), "decode-adds-zero-point"),
    (to_codes, lambda q, s, z: (q - z) / s, "decode-divides"),
    (to_codes, lambda q, s, z: s * q - z, "decode-zero-point-after-scale"),
])
def test_affine_code_mistakes_are_named(quantize, dequantize, mistake):
    fails_with(check_15_2, qparams, quantize, dequantize, mistake=mistake)


def test_affine_qparams_delegation_and_not_done():
    fails_with(check_15_2, lambda lo, hi, b: quantization.affine_qparams(lo, hi, b), mistake="delegates-to-reference")
    fails_with(check_15_2, qparams, lambda *a: quantization.quantize(*a), mistake="delegates-to-reference")
    with pytest.raises(NotImplementedError, match="Exercise 15.2 is not done yet"):
        check_15_2(not_done)
    with pytest.raises(NotImplementedError, match="Exercise 15.2 is not done yet"):
        check_15_2(qparams, to_codes, not_done)


# ---------------------------------------------------------------- 15.3

def q8(weight):
    scale = np.abs(weight).max(axis=1) / 127
    return np.clip(np.round(weight / scale[:, None]), -127, 127).astype(np.int8), scale


def dq8(codes, scales):
    return codes * scales[:, None]


def linear8(x, codes, scales, bias):
    x_scale = np.abs(x).max() / 127
    x_codes = np.clip(np.round(x / x_scale), -127, 127).astype(np.int8)
    return x_scale * scales * (x_codes.astype(np.int32) @ codes.astype(np.int32).T) + bias


def other_q8(weight):
    scales = np.array([np.max(np.abs(row)) for row in weight]) / 127.0
    codes = np.rint(weight / scales.reshape(-1, 1))
    return np.minimum(np.maximum(codes, -127), 127).astype(np.int8), scales


def other_dq8(codes, scales):
    return np.einsum("md,m->md", codes.astype(np.float64), scales)


def other_linear8(x, codes, scales, bias):
    s_x = float(np.max(np.abs(x))) / 127.0
    q_x = np.rint(x / s_x).clip(-127, 127).astype(np.int8)
    sums = np.einsum("nd,md->nm", q_x.astype(np.int32), codes.astype(np.int32))
    return (sums * scales[None, :]) * s_x + bias[None, :]


def test_int8_kernels_pass_two_ways_and_build_the_model(capsys):
    assert ch15.check_int8_kernels(q8, dq8, linear8).passed
    assert ch15.check_int8_kernels(other_q8, other_dq8, other_linear8).passed
    kernels = (learner.implementation("quantize_int8", quantize_int8, label="15.3"),
               learner.implementation("int8_linear", int8_linear, label="15.3"))
    assert kernels == (other_q8, other_linear8)
    model = make_mlp(seed=0, dtype=torch.float64)
    theirs, ours = quantize_dynamic_int8(model, kernels=(quantize_int8, int8_linear)), quantize_dynamic_int8(model, kernels)
    x = torch.rand(7, 64, dtype=torch.float64)
    assert torch.allclose(ours(x), theirs(x), atol=1e-5)
    assert tensor_bytes(ours) == tensor_bytes(quantize_dynamic_int8(model)) == ch15.mlp_sizes()["int8"]


def _q_per_tensor(weight):
    scale = np.full(weight.shape[0], np.abs(weight).max() / 127)
    return np.clip(np.round(weight / scale[:, None]), -127, 127).astype(np.int8), scale


def _q_scaled(divisor, rounding=np.round):
    def quantize(weight):
        scale = np.abs(weight).max(axis=1) / divisor
        return np.clip(rounding(weight / scale[:, None]), -127, 127).astype(np.int8), scale
    return quantize


def _linear_overflow(x, codes, scales, bias):
    x_scale = np.abs(x).max() / 127
    x_codes = np.clip(np.round(x / x_scale), -127, 127).astype(np.int8)
    return x_scale * scales * (x_codes @ codes.T) + bias


def _linear_float_input(x, codes, scales, bias):
    return x @ (codes * scales[:, None]).T + bias


def _linear_bias_inside(x, codes, scales, bias):
    x_scale = np.abs(x).max() / 127
    x_codes = np.clip(np.round(x / x_scale), -127, 127).astype(np.int8)
    return x_scale * scales * (x_codes.astype(np.int32) @ codes.astype(np.int32).T + bias)


@pytest.mark.parametrize("answers, mistake", [
    ((_q_per_tensor, dq8, linear8), "one-scale-per-tensor"),
    ((_q_scaled(255), dq8, linear8), "scale-255-levels"),
    ((_q_scaled(128), dq8, linear8), "scale-128"),
    ((_q_scaled(127, np.trunc), dq8, linear8), "truncated-codes"),
    ((lambda w: (q8(w)[0].astype(np.float64), q8(w)[1]), dq8, linear8), "codes-not-int8"),
    ((q8, lambda q, s: q / s[:, None], linear8), "dequantize-divides"),
    ((q8, dq8, _linear_overflow), "int8-accumulator-overflows"),
    ((q8, dq8, _linear_float_input), "input-not-quantized"),
    ((q8, dq8, _linear_bias_inside), "bias-rescaled"),
])
def test_int8_mistakes_are_named(answers, mistake):
    fails_with(ch15.check_int8_kernels, *answers, mistake=mistake)
    assert learner.accepted("int8_linear") is None


def test_int8_delegation_and_not_done():
    fails_with(ch15.check_int8_kernels, lambda w: quantization.quantize_int8(w), dq8, linear8,
               mistake="delegates-to-reference")
    fails_with(ch15.check_int8_kernels, q8, dq8, lambda *a: quantization.int8_linear(*a),
               mistake="delegates-to-reference")
    with pytest.raises(NotImplementedError, match="Exercise 15.3 is not done yet"):
        ch15.check_int8_kernels(q8, not_done, linear8)


# ---------------------------------------------------------------- 15.4

def test_quantized_size_matches_the_real_model():
    sizes = ch15.mlp_sizes()
    model = make_mlp()
    assert tensor_bytes(model) == sizes["float32"]
    assert tensor_bytes(quantize_dynamic_int8(model)) == sizes["int8"]
    assert ch15.check_quantized_size(sizes["int8"]).passed
    assert ch15.check_quantized_size(64 * 138 - 0 + 8832 - 64 * 138 + 8 * 138).passed  # written as a sum


@pytest.mark.parametrize("wrong, mistake", [
    (35880, "float32-size"),
    (8970, "everything-divided-by-4"),
    (8832, "weights-only"),
    (8832 + 4 * 138, "one-float-per-unit"),
    (8832 + 4 * 138 + 12, "scale-per-layer"),
])
def test_quantized_size_mistakes_are_named(wrong, mistake):
    fails_with(ch15.check_quantized_size, wrong, mistake=mistake)


def test_quantized_size_not_done_and_unknown():
    fails_with(ch15.check_quantized_size, 12345, fragments=("is not right",))
    with pytest.raises(NotImplementedError, match="is not done yet"):
        ch15.check_quantized_size(...)


# ---------------------------------------------------------------- 15.5

def _log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def distillation(student, teacher, y, temperature, alpha, *, power=2, gradient_power=1):
    N, K = student.shape
    log_s, log_t = _log_softmax(student / temperature), _log_softmax(teacher / temperature)
    kl = np.sum(np.exp(log_t) * (log_t - log_s)) / N
    log_p = _log_softmax(student)
    loss = alpha * temperature ** power * kl - (1 - alpha) * log_p[np.arange(N), y].mean()
    onehot = np.eye(K)[y]
    grad = alpha * temperature ** gradient_power * (np.exp(log_s) - np.exp(log_t)) + (1 - alpha) * (np.exp(log_p) - onehot)
    return loss, grad / N


def other_distillation(student, teacher, y, temperature, alpha):
    s_soft = torch.tensor(student / temperature)
    s_soft = torch.softmax(s_soft, 1).numpy()
    t_soft = torch.softmax(torch.tensor(teacher / temperature), 1).numpy()
    log_ratio = torch.log_softmax(torch.tensor(teacher / temperature), 1).numpy() - \
        torch.log_softmax(torch.tensor(student / temperature), 1).numpy()
    kl = np.mean(np.einsum("nk,nk->n", t_soft, log_ratio))
    log_p = torch.log_softmax(torch.tensor(student), 1).numpy()
    ce = -np.mean(np.take_along_axis(log_p, y[:, None], axis=1))
    gradient = alpha * temperature * (s_soft - t_soft)
    gradient += (1 - alpha) * (np.exp(log_p) - (np.arange(student.shape[1]) == y[:, None]))
    return alpha * temperature**2 * kl + (1 - alpha) * ce, gradient / len(y)


def test_distillation_passes_two_ways_and_trains(capsys):
    assert ch15.check_distillation_loss(distillation).passed
    assert ch15.check_distillation_loss(other_distillation).passed
    used = learner.implementation("distillation_loss", distillation_loss_and_gradient, label="15.5")
    assert used is other_distillation
    loss_fn = torch_loss_from_numpy(used)
    logits = torch.randn(6, 10, dtype=torch.float64, requires_grad=True)
    teacher, y = torch.randn(6, 10, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 4, 5])
    loss_fn(logits, teacher, y, temperature=3.0, alpha=0.6).backward()
    ours = logits.grad.clone()
    logits.grad = None
    distill.distillation_loss_torch(logits, teacher, y, temperature=3.0, alpha=0.6).backward()
    assert torch.allclose(ours, logits.grad, atol=1e-12)


def _naive(student, teacher, y, temperature, alpha):
    def softmax(z):
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
    N, K = student.shape
    s, t, p = softmax(student / temperature), softmax(teacher / temperature), softmax(student)
    loss = alpha * temperature**2 * np.sum(t * np.log(t / s)) / N - (1 - alpha) * np.mean(np.log(p[np.arange(N), y]))
    return loss, (alpha * temperature * (s - t) + (1 - alpha) * (p - np.eye(K)[y])) / N


def _reverse_kl(student, teacher, y, temperature, alpha):
    N, K = student.shape
    log_s, log_t = _log_softmax(student / temperature), _log_softmax(teacher / temperature)
    kl = np.sum(np.exp(log_s) * (log_s - log_t)) / N
    log_p = _log_softmax(student)
    return alpha * temperature ** 2 * kl - (1 - alpha) * log_p[np.arange(N), y].mean(), distillation(
        student, teacher, y, temperature, alpha)[1]


@pytest.mark.parametrize("wrong, mistake", [
    (lambda s, t, y, T, a: distillation(s, t, y, T, a, power=0, gradient_power=-1), "no-t-squared"),
    (lambda s, t, y, T, a: distillation(s, t, y, T, a, power=1, gradient_power=0), "t-not-squared"),
    (lambda s, t, y, T, a: distillation(s, t, y, T, a, gradient_power=2), "gradient-t-squared"),
    (lambda s, t, y, T, a: distillation(s, t, y, T, a, gradient_power=0), "gradient-no-t"),
    (lambda s, t, y, T, a: distillation(s, t, y, T, 1 - a), "alpha-swapped"),
    (lambda s, t, y, T, a: tuple(v * len(y) for v in distillation(s, t, y, T, a)), "summed-over-batch"),
    (_reverse_kl, "kl-reversed"),
])
def test_distillation_mistakes_are_named(wrong, mistake):
    fails_with(ch15.check_distillation_loss, wrong, mistake=mistake)
    assert learner.accepted("distillation_loss") is None


def test_distillation_overflow_delegation_and_not_done():
    fails_with(ch15.check_distillation_loss, _naive, fragments=("warned", "subtract each row's maximum"))
    fails_with(ch15.check_distillation_loss, lambda *a: distill.distillation_loss_and_gradient(*a),
               mistake="delegates-to-reference")

    def via_forward(s, t, y, T, a):
        loss, cache = distill.distillation_forward(s, t, y, temperature=T, alpha=a)
        return loss, distill.distillation_backward(1.0, cache)

    fails_with(ch15.check_distillation_loss, via_forward, mistake="delegates-to-reference")
    with pytest.raises(NotImplementedError, match="Exercise 15.5 is not done yet"):
        ch15.check_distillation_loss(not_done)
