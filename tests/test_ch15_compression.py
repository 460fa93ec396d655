"""Chapter 15: pruning, quantization and distillation (from scratch vs PyTorch; accounting)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from dlcore.errors import ShapeError
from dlcore.gradcheck import numerical_vjp
from dlcore.practice.common import make_mlp, tensor_bytes
from dlcore.practice.distill import distillation_backward, distillation_forward, distillation_loss_torch
from dlcore.practice.pruning import (global_magnitude_masks, layerwise_magnitude_masks, make_permanent, prune_global,
                                     prune_layerwise, sparsity_report, storage_bytes)
from dlcore.practice.quantization import (Int8Linear, affine_qparams, ao_quantization_warnings, dequantize,
                                          fake_quantize_backward, fake_quantize_forward, quantize,
                                          quantize_dynamic_int8, quantize_static_int8, symmetric_qparams)
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

RNG = np.random.default_rng(1515)


# ---------------------------------------------------------------- pruning

def _weights(model):
    return [m.weight.detach().numpy().copy() for m in model if isinstance(m, nn.Linear)]


def test_global_pruning_matches_the_numpy_rule_and_differs_from_layerwise():
    model = make_mlp(seed=3)
    pruned = prune_global(model, 0.6)
    masks = global_magnitude_masks(_weights(model), 0.6)
    got = [m.weight_mask.numpy() for m in pruned if isinstance(m, nn.Linear)]
    assert all(np.array_equal(g, e) for g, e in zip(got, masks))
    report = sparsity_report(pruned)
    total = sum(r.num_weights for r in report)
    assert sum(r.num_zeros for r in report) == round(0.6 * total)
    assert len({round(r.sparsity, 2) for r in report}) > 1  # global: layers end up unequally sparse
    layerwise = sparsity_report(prune_layerwise(model, 0.6))
    assert all(abs(r.sparsity - 0.6) < 0.01 for r in layerwise)
    masks = [x.weight_mask.numpy() for x in prune_layerwise(model, 0.6) if isinstance(x, nn.Linear)]
    assert all(np.array_equal(a, b) for a, b in zip(masks, layerwise_magnitude_masks(_weights(model), 0.6)))


def test_pruning_leaves_the_original_alone_and_masking_does_not_shrink_storage():
    model = make_mlp(seed=3)
    before = [w.copy() for w in _weights(model)]
    pruned = prune_global(model, 0.9)
    assert all(np.array_equal(a, b) for a, b in zip(before, _weights(model)))
    assert tensor_bytes(pruned) > tensor_bytes(model)  # weight_orig + weight_mask: bigger, not smaller
    assert tensor_bytes(make_permanent(pruned)) == tensor_bytes(model)  # dense again, zeros inside


def test_storage_bytes_breaks_even_at_half_sparsity():
    weight = torch.ones(100, 100)
    weight[:, :50] = 0
    sizes = storage_bytes(weight)
    assert sizes["dense"] == 40_000
    assert sizes["csr"] == 5000 * 8 + 101 * 4


# ---------------------------------------------------------------- quantization from scratch

def test_affine_qparams_represent_zero_exactly_and_cover_the_range():
    for low, high, bits in [(-1.0, 3.0, 8), (0.2, 5.0, 4), (-2.0, -0.5, 8)]:
        scale, zero = affine_qparams(low, high, bits)
        assert dequantize(quantize(0.0, scale, zero, 0, 2 ** bits - 1), scale, zero) == 0.0
        x = np.linspace(min(low, 0), max(high, 0), 101)
        error = np.abs(dequantize(quantize(x, scale, zero, 0, 2 ** bits - 1), scale, zero) - x)
        assert error.max() <= scale / 2 + 1e-12
    assert symmetric_qparams(1.27)[0] == pytest.approx(0.01)


@pytest.mark.parametrize("shape", [(1, 5), (7, 3, 2)])
def test_fake_quantize_forward_and_backward_match_pytorch(shape):
    x = RNG.normal(0, 2, shape)
    scale, zero = 0.05, 7
    ours, cache = fake_quantize_forward(x, scale, zero, 0, 63)
    x_t = torch.tensor(x, requires_grad=True)
    theirs = torch.fake_quantize_per_tensor_affine(x_t, scale, zero, 0, 63)
    # PyTorch's kernel computes x / scale in float32 even for float64 tensors: float32 agreement (1e-6)
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-6, atol=1e-6)
    dout = RNG.normal(size=shape)
    theirs.backward(torch.tensor(dout))
    dx = fake_quantize_backward(dout, cache)
    assert dx.shape == x.shape
    np.testing.assert_array_equal(dx, x_t.grad.numpy())
    assert 0 < cache.inside.mean() < 1  # both branches of the straight-through estimator are exercised


def test_int8_linear_is_close_to_float_and_static_needs_a_range():
    linear = nn.Linear(13, 6)
    x = torch.randn(9, 13, generator=torch.Generator().manual_seed(0))
    reference = linear(x).detach()
    dynamic = Int8Linear(linear, "dynamic")
    assert dynamic.weight_int8.dtype == torch.int8 and dynamic.weight_int8.shape == (6, 13)
    assert torch.allclose(dynamic(x), reference, atol=0.05)
    static = Int8Linear(linear, "static", (float(x.min()), float(x.max())))
    assert torch.allclose(static(x), reference, atol=0.05)
    with pytest.raises(ValueError, match="input_range"):
        Int8Linear(linear, "static")


def test_int8_linear_integer_product_is_exact_even_at_the_extreme_codes():
    # torch._int_mm overflows inside oneDNN on CPUs without AVX512-VNNI exactly for codes like these;
    # Int8Linear's int32 product must not (its output is then the exact dequantized affine product)
    linear = nn.Linear(64, 10)
    with torch.no_grad():  # units of all-positive, all-negative and alternating weights, at the largest code
        signs = torch.stack([torch.ones(64), -torch.ones(64), torch.where(torch.arange(64) % 2 == 0, 1.0, -1.0)])
        linear.weight.copy_(signs[torch.arange(10) % 3] * 0.5)
        linear.bias.zero_()
    layer = Int8Linear(linear, "static", (-1.0, 1.0))
    assert layer.weight_int8.abs().min() == 127
    x = torch.stack([torch.ones(64), -torch.ones(64), signs[2]] * 6)  # (18, 64), every code at an end of its range
    scale, zero_point = affine_qparams(-1.0, 1.0, num_bits=8, signed=True)
    q_x = torch.clamp(torch.round(x / scale) + zero_point, -128, 127).long()
    exact = (q_x - zero_point) @ layer.weight_int8.long().t()  # (18, 10) in int64
    expected = scale * layer.weight_scale.double() * exact.double()
    np.testing.assert_allclose(layer(x).double().numpy(), expected.numpy(), rtol=1e-6)


def test_static_calibration_follows_the_model_dtype():
    model = make_mlp(seed=0, dtype=torch.float64).eval()
    x = torch.rand(20, 64, generator=torch.Generator().manual_seed(2))
    single, double = quantize_static_int8(make_mlp(seed=0).eval(), x), quantize_static_int8(model, x)
    assert double[0].input_qparams.dtype == torch.float32
    assert (double(x).argmax(1) == model(x.double()).argmax(1)).float().mean() > 0.9 and single(x).shape == (20, 10)


def test_quantized_models_agree_with_float_and_with_the_deprecated_ao_api():
    model = make_mlp(seed=0).eval()
    x = torch.rand(50, 64, generator=torch.Generator().manual_seed(1))
    float_out = model(x).detach()
    for quantized in (quantize_dynamic_int8(model), quantize_static_int8(model, x)):
        assert (quantized(x).argmax(1) == float_out.argmax(1)).float().mean() > 0.9
        assert torch.allclose(quantized(x), float_out, atol=0.1)
    with pytest.warns(UserWarning, match="deprecated"), pytest.warns(DeprecationWarning, match="deprecated"):
        theirs = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    assert torch.allclose(quantize_dynamic_int8(model)(x), theirs(x), atol=0.1)


def test_ao_quantization_warnings_are_reported():
    categories = {category for category, _ in ao_quantization_warnings()}
    assert "DeprecationWarning" in categories


# ---------------------------------------------------------------- distillation

@pytest.mark.parametrize("N, K, temperature, alpha", [(1, 3, 1.0, 0.5), (6, 5, 4.0, 0.7), (4, 10, 2.5, 1.0)])
def test_distillation_matches_pytorch_and_its_gradient_checks(N, K, temperature, alpha):
    student, teacher = RNG.normal(size=(N, K)) * 3, RNG.normal(size=(N, K)) * 3
    y = RNG.integers(0, K, N)
    inputs = (student.copy(), teacher.copy(), y.copy())
    loss, cache = distillation_forward(student, teacher, y, temperature=temperature, alpha=alpha)
    s_t = torch.tensor(student, requires_grad=True)
    theirs = distillation_loss_torch(s_t, torch.tensor(teacher), torch.tensor(y), temperature=temperature, alpha=alpha)
    assert loss == pytest.approx(theirs.item(), rel=PARITY_RTOL_FLOAT64, abs=PARITY_ATOL_FLOAT64)
    dout = float(RNG.normal())
    dx = distillation_backward(dout, cache)
    assert dx.shape == student.shape
    theirs.backward(torch.tensor(dout, dtype=torch.float64))
    np.testing.assert_allclose(dx, s_t.grad.numpy(), rtol=1e-9, atol=1e-12)
    nudged = student.copy()
    numeric = numerical_vjp(lambda: np.array(distillation_forward(nudged, teacher, y, temperature=temperature,
                                                                  alpha=alpha)[0]), nudged, np.array(dout))
    np.testing.assert_allclose(dx, numeric, rtol=1e-6, atol=1e-8)
    for original, after in zip(inputs, (student, teacher, y)):
        np.testing.assert_array_equal(original, after)


def test_distillation_rejects_bad_shapes_with_a_clear_message():
    with pytest.raises(ShapeError, match=r"teacher_logits has shape \(3, 4\) but student_logits has \(3, 5\)"):
        distillation_forward(np.zeros((3, 5)), np.zeros((3, 4)), np.zeros(3, dtype=int))
    with pytest.raises(ShapeError, match=r"y has shape \(2,\); expected \(N,\) = \(3,\)"):
        distillation_forward(np.zeros((3, 5)), np.zeros((3, 5)), np.zeros(2, dtype=int))
