"""Integer quantization: the arithmetic from scratch, then int8 linear layers (chapter 15).

Affine quantization maps a real interval [x_min, x_max] (stretched to contain 0)
onto the integers [qmin, qmax]:

    q = clamp(round(x / scale) + zero_point, qmin, qmax),   x_hat = scale * (q - zero_point)
    scale = (x_max - x_min) / (qmax - qmin),                zero_point = round(qmin - x_min / scale)

so that 0.0 is represented exactly (by ``zero_point``). Symmetric quantization
fixes zero_point = 0 and scale = max|x| / (2^(b-1) - 1).

The int8 layers keep their weights as plain ``torch.int8`` tensors with one
float32 scale per output unit, and multiply the int8 codes with int32 sums,
which is exact on every CPU. (PyTorch's int8 kernel, ``torch._int_mm``, is not:
on CPUs without AVX512-VNNI, oneDNN's kernel can overflow its 16-bit
intermediate sums, pytorch/pytorch#136746; the chapter only times it.)
PyTorch's own eager API, ``torch.ao.quantization`` (``quantize_dynamic``,
``prepare``/``convert``), is deprecated in this PyTorch and warns on every call
(see :func:`ao_quantization_warnings`); its successor lives in the separate
``torchao`` package, which the course does not install.
"""

from __future__ import annotations

import copy
import warnings
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

__all__ = ["qrange", "affine_qparams", "symmetric_qparams", "quantize", "dequantize", "FakeQuantCache",
           "fake_quantize_forward", "fake_quantize_backward", "fake_quantize_weights", "quantize_int8", "dequantize_int8",
           "int8_linear", "Int8Linear", "KernelInt8Linear",
           "quantize_dynamic_int8", "quantize_static_int8", "ao_quantization_warnings"]

_EPS = float(np.finfo(np.float32).eps)  # the smallest scale, as PyTorch's observers use


def qrange(num_bits: int, signed: bool) -> tuple[int, int]:
    """The integers a ``num_bits`` code can hold: [-2^(b-1), 2^(b-1) - 1] signed, [0, 2^b - 1] unsigned."""
    if not 2 <= num_bits <= 16:
        raise ValueError(f"qrange: num_bits must be in 2..16, got {num_bits}")
    return (-(2 ** (num_bits - 1)), 2 ** (num_bits - 1) - 1) if signed else (0, 2 ** num_bits - 1)


def affine_qparams(x_min: float, x_max: float, num_bits: int = 8, signed: bool = False) -> tuple[float, int]:
    """(scale, zero_point) mapping [min(x_min, 0), max(x_max, 0)] onto the ``num_bits`` integer range."""
    qmin, qmax = qrange(num_bits, signed)
    low, high = min(float(x_min), 0.0), max(float(x_max), 0.0)  # 0 must be exactly representable
    scale = max((high - low) / (qmax - qmin), _EPS)
    zero_point = int(np.clip(round(qmin - low / scale), qmin, qmax))
    return scale, zero_point


def symmetric_qparams(abs_max: float, num_bits: int = 8) -> tuple[float, int]:
    """(scale, 0) with scale = abs_max / (2^(b-1) - 1): the range [-abs_max, abs_max], zero at 0."""
    _, qmax = qrange(num_bits, signed=True)
    return max(float(abs_max) / qmax, _EPS), 0


def quantize(x: np.ndarray, scale: float, zero_point: int, qmin: int, qmax: int) -> np.ndarray:
    """q = clamp(round(x / scale) + zero_point, qmin, qmax) as int64 (round half to even, like PyTorch)."""
    return np.clip(np.round(np.asarray(x, dtype=np.float64) / scale) + zero_point, qmin, qmax).astype(np.int64)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """x_hat = scale * (q - zero_point)."""
    return scale * (np.asarray(q, dtype=np.float64) - zero_point)


class FakeQuantCache(NamedTuple):
    inside: np.ndarray  # (same shape as x) True where x fell inside the representable range


def fake_quantize_forward(x: np.ndarray, scale: float, zero_point: int, qmin: int,
                          qmax: int) -> tuple[np.ndarray, FakeQuantCache]:
    """Quantize then dequantize (the float a quantized model really computes with); same as
    ``torch.fake_quantize_per_tensor_affine``.

    Returns out (shape of x) and the cache for the straight-through backward.
    """
    unclamped = np.round(np.asarray(x, dtype=np.float64) / scale) + zero_point
    inside = (unclamped >= qmin) & (unclamped <= qmax)
    return dequantize(np.clip(unclamped, qmin, qmax), scale, zero_point), FakeQuantCache(inside)


def fake_quantize_backward(dout: np.ndarray, cache: FakeQuantCache) -> np.ndarray:
    """Straight-through estimator: dx = dout inside the range, 0 where the value was clamped.

    round() has derivative 0 almost everywhere, which would stop all learning;
    quantization-aware training pretends it is the identity instead.
    """
    return np.where(cache.inside, dout, 0.0)


def fake_quantize_weights(weight: np.ndarray, num_bits: int) -> np.ndarray:
    """Each row (output unit) of ``weight`` symmetric-quantized to ``num_bits`` and back to float."""
    weight = np.asarray(weight, dtype=np.float64)
    qmin, qmax = qrange(num_bits, signed=True)
    scale = np.maximum(np.abs(weight).max(axis=1, keepdims=True) / qmax, _EPS)  # (M, 1)
    return np.clip(np.round(weight / scale), -qmax, qmax) * scale


def quantize_int8(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 quantization of each row (output unit): (codes (M, D) int8 in [-127, 127], scales (M,)).

    scale_j = max_k |w_jk| / 127 in the weight's own precision; codes = round(w / scale) (half to even).
    """
    weight = np.asarray(weight)
    scale = np.maximum(np.abs(weight).max(axis=1) / 127, _EPS).astype(weight.dtype)  # (M,)
    return np.clip(np.round(weight / scale[:, None]), -127, 127).astype(np.int8), scale


def dequantize_int8(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The reals that int8 codes (M, D) with one scale per row (M,) stand for: scale_j * q_jk."""
    return np.asarray(q) * np.asarray(scale)[:, None]


def int8_linear(x: np.ndarray, q_weight: np.ndarray, weight_scale: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """x W^T + b (N, M) from int8 weight codes: x is quantized symmetrically with one scale for the whole
    batch, the codes are multiplied with int32 sums (exact), and the sums rescaled by s_x * s_w."""
    x = np.asarray(x)
    x_scale = max(float(np.abs(x).max()) / 127, _EPS)
    q_x = np.clip(np.round(x / x_scale), -127, 127).astype(np.int8)  # (N, D)
    accumulated = q_x.astype(np.int32) @ np.asarray(q_weight).astype(np.int32).T  # (N, M) int32, exact
    return x_scale * np.asarray(weight_scale) * accumulated + bias


class Int8Linear(nn.Module):
    """y = x W^T + b with W stored as int8 (one symmetric scale per output unit) and x quantized to int8.

    ``mode="dynamic"``: the input's scale and zero point are measured on every batch;
    ``mode="static"``: they were fixed beforehand from calibration data (``input_range``).
    Integer product: x W^T ~= s_x s_w (q_x q_w^T - z_x * sum_k q_w[:, k]), computed in int32.
    """

    def __init__(self, linear: nn.Linear, mode: str = "dynamic", input_range: tuple[float, float] | None = None):
        super().__init__()
        if mode not in ("dynamic", "static"):
            raise ValueError(f"Int8Linear: mode must be 'dynamic' or 'static', got {mode!r}")
        if mode == "static" and input_range is None:
            raise ValueError("Int8Linear: static mode needs input_range=(min, max) measured on calibration data")
        self.mode = mode
        weight = linear.weight.detach().float()  # (M, D)
        scale = (weight.abs().amax(dim=1) / 127).clamp_min(_EPS)  # (M,)
        self.register_buffer("weight_int8", torch.round(weight / scale[:, None]).clamp(-127, 127).to(torch.int8))
        self.register_buffer("weight_scale", scale)
        bias = linear.bias.detach().float() if linear.bias is not None else torch.zeros(weight.shape[0])
        self.register_buffer("bias", bias)
        if mode == "static":
            input_scale, zero_point = affine_qparams(*input_range, num_bits=8, signed=True)
            self.register_buffer("input_qparams", torch.tensor([input_scale, zero_point], dtype=torch.float32))

    def _input_qparams(self, x: torch.Tensor) -> tuple[float, int]:
        if self.mode == "static":
            return float(self.input_qparams[0]), int(self.input_qparams[1])
        return affine_qparams(float(x.min()), float(x.max()), num_bits=8, signed=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale, zero_point = self._input_qparams(x)
        q_x = torch.clamp(torch.round(x / scale) + zero_point, -128, 127).to(torch.int8)  # (N, D)
        accumulated = q_x.to(torch.int32) @ self.weight_int8.t().to(torch.int32)  # (N, M) int32, exact
        column_sums = self.weight_int8.sum(dim=1, dtype=torch.int32)  # (M,)
        return scale * self.weight_scale * (accumulated - zero_point * column_sums).float() + self.bias


class KernelInt8Linear(nn.Module):
    """A dynamic int8 linear layer computed by NumPy kernels ``(quantize, linear)``, such as
    ``(quantize_int8, int8_linear)`` or a learner's versions of them.

    ``quantize(weight) -> (codes, scales)`` runs once, on the float32-rounded weight;
    ``linear(x, codes, scales, bias)`` on every call. Stores what :class:`Int8Linear` stores.
    """

    def __init__(self, linear: nn.Linear, kernels) -> None:
        super().__init__()
        quantize_weight, self.linear = kernels
        codes, scale = quantize_weight(linear.weight.detach().float().cpu().numpy())  # (M, D), (M,)
        self.register_buffer("weight_int8", torch.as_tensor(np.asarray(codes)))
        self.register_buffer("weight_scale", torch.as_tensor(np.asarray(scale, dtype=np.float32)))
        bias = linear.bias.detach().float() if linear.bias is not None else torch.zeros(linear.out_features)
        self.register_buffer("bias", bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.linear(x.detach().float().cpu().numpy(), self.weight_int8.numpy(), self.weight_scale.numpy(),
                          self.bias.numpy())  # (N, M)
        return torch.as_tensor(np.asarray(out, dtype=np.float32))


def quantize_dynamic_int8(model: nn.Module, kernels=None) -> nn.Module:
    """A copy of ``model`` with every ``nn.Linear`` replaced by a dynamic :class:`Int8Linear`
    (computed by the NumPy ``kernels = (quantize, linear)`` when given, e.g. ``(quantize_int8, int8_linear)``)."""
    quantized = copy.deepcopy(model).eval()
    for name, module in list(quantized.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.Linear):
                setattr(module, child_name, Int8Linear(child, "dynamic") if kernels is None
                        else KernelInt8Linear(child, kernels))
    return quantized


@torch.no_grad()
def quantize_static_int8(model: nn.Module, calibration_x: torch.Tensor) -> nn.Module:
    """A copy with every ``nn.Linear`` replaced by a static :class:`Int8Linear` whose input range is the
    min and max that layer saw on ``calibration_x`` (post-training static quantization).

    ``calibration_x`` is converted to the dtype of the model's parameters (a float64 model is
    calibrated in float64)."""
    quantized = copy.deepcopy(model).eval()
    ranges: dict[nn.Module, list[float]] = {}

    def observe(module, inputs, output):
        low, high = ranges.get(module, [np.inf, -np.inf])
        ranges[module] = [min(low, float(inputs[0].min())), max(high, float(inputs[0].max()))]

    linears = [m for m in quantized.modules() if isinstance(m, nn.Linear)]
    handles = [m.register_forward_hook(observe) for m in linears]
    dtype = next((p.dtype for p in quantized.parameters() if p.is_floating_point()), calibration_x.dtype)
    quantized(calibration_x.to(dtype))
    for handle in handles:
        handle.remove()
    for module in list(quantized.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.Linear):
                setattr(module, child_name, Int8Linear(child, "static", tuple(ranges[child])))
    return quantized


def ao_quantization_warnings() -> list[tuple[str, str]]:
    """What ``torch.ao.quantization.quantize_dynamic`` warns in this PyTorch: (category, first line) pairs.

    The warnings are recorded to be shown, not to be silenced: the course does
    not use this API, because of exactly these warnings.
    """
    from torch.ao import quantization

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quantization.quantize_dynamic(nn.Sequential(nn.Linear(4, 2)), {nn.Linear}, dtype=torch.qint8)
    seen = []
    for warning in caught:
        first_sentence = str(warning.message).strip().split(". ")[0].splitlines()[0]
        entry = (warning.category.__name__, first_sentence.rstrip(".") + ".")
        if entry not in seen:
            seen.append(entry)
    return seen
