"""Convolutional layers as modules, and LeNet-5 in NumPy (chapter 09).

Thin classes over the kernels of :mod:`dlcore.scratch.conv` and
:mod:`dlcore.scratch.pooling`, composable with ``Sequential`` and trainable
with the optimizers of :mod:`dlcore.scratch.optim` like every other scratch
module. :func:`scratch_lenet5` builds the same network as
:class:`dlcore.models.lenet.LeNet5`, and :func:`copy_lenet_to_torch` gives
the PyTorch one identical weights, so the two can be compared exactly.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.errors import ShapeError, as_float_array, expect_positive_int, format_shape
from dlcore.scratch.activations import ReLU, Sigmoid, Tanh
from dlcore.scratch.conv import as_pair, conv2d_backward, conv2d_forward
from dlcore.scratch.linear import Linear
from dlcore.scratch.module import Module, Parameter, Sequential
from dlcore.scratch.pooling import avgpool2d_backward, avgpool2d_forward, maxpool2d_backward, maxpool2d_forward

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "scratch_lenet5", "copy_lenet_to_torch",
           "scratch_lenet5_from_torch"]


def _need_forward(owner: str, cache) -> None:
    if cache is None:
        raise RuntimeError(f"{owner}.backward: call forward first; there is nothing to differentiate")


class Conv2d(Module):
    """A bank of F filters (F, C, kh, kw) and F biases; forward is conv2d_forward.

    Initialisation as PyTorch's nn.Conv2d: w and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    fan_in = C kh kw. ``kernels`` replaces the pair (conv2d_forward, conv2d_backward) by
    another pair with the same contract, called as ``forward(x, w, b, stride, padding)`` and
    ``backward(dout, cache)`` (chapter 09 trains LeNet-5 on the learner's kernels this way);
    such kernels know no dilation.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int], *,
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 dilation: int | tuple[int, int] = 1, rng: np.random.Generator,
                 kernels: tuple[Callable, Callable] | None = None) -> None:
        super().__init__()
        if kernels is not None and (len(kernels) != 2 or not all(callable(k) for k in kernels)):
            raise TypeError("Conv2d: kernels must be a pair of functions (forward, backward)")
        if kernels is not None and as_pair("Conv2d", "dilation", dilation, 1) != (1, 1):
            raise ValueError(f"Conv2d: kernels of your own take no dilation; got dilation={dilation!r}")
        self.kernels = kernels
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            expect_positive_int("Conv2d", name, value)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"Conv2d: rng must be a numpy Generator (e.g. np.random.default_rng(0)), "
                            f"got {type(rng).__name__}")
        kh, kw = as_pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        bound = 1.0 / np.sqrt(in_channels * kh * kw)
        self.w = Parameter(rng.uniform(-bound, bound, size=(out_channels, in_channels, kh, kw)), "w")
        self.b = Parameter(rng.uniform(-bound, bound, size=out_channels), "b")
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.kernels is None:
            out, self._cache = conv2d_forward(x, self.w.value, self.b.value, self.stride, self.padding,
                                              self.dilation)
        else:
            out, self._cache = self.kernels[0](x, self.w.value, self.b.value, self.stride, self.padding)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        _need_forward("Conv2d", self._cache)
        backward = conv2d_backward if self.kernels is None else self.kernels[1]
        dx, dw, db = backward(dout, self._cache)
        self.w.accumulate(dw)
        self.b.accumulate(db)
        return dx

    def __repr__(self) -> str:
        F, C, kh, kw = self.w.shape
        return (f"Conv2d({C}, {F}, kernel_size=({kh}, {kw}), stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation})")


class _Pool(Module):
    _forward = staticmethod(maxpool2d_forward)
    _backward = staticmethod(maxpool2d_backward)

    def __init__(self, kernel_size: int | tuple[int, int] = 2, stride=None,
                 padding: int | tuple[int, int] = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self._cache = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = self._forward(x, self.kernel_size, self.stride, self.padding)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        _need_forward(type(self).__name__, self._cache)
        return self._backward(dout, self._cache)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding})"


class MaxPool2d(_Pool):
    """Max pooling (no parameters); stride defaults to the kernel size."""


class AvgPool2d(_Pool):
    """Average pooling (no parameters); stride defaults to the kernel size."""

    _forward = staticmethod(avgpool2d_forward)
    _backward = staticmethod(avgpool2d_backward)


class Flatten(Module):
    """(N, C, H, W) -> (N, C*H*W), the bridge from feature maps to linear layers."""

    def __init__(self) -> None:
        super().__init__()
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array("Flatten.forward", "x", x)
        if x.ndim < 2:
            raise ShapeError(f"Flatten.forward: x has shape {format_shape(x.shape)} but expected (N, ...) "
                             f"with a batch axis first")
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)  # (N, C*H*W)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        _need_forward("Flatten", self._shape)
        dout = as_float_array("Flatten.backward", "dout", dout)
        expected = (self._shape[0], int(np.prod(self._shape[1:])))
        if dout.shape != expected:  # a reshape would accept any array of the right size and scramble it
            raise ShapeError(f"Flatten.backward: dout has shape {format_shape(dout.shape)} but expected the forward "
                             f"output's shape (N, C*H*W) = {format_shape(expected)}")
        return dout.reshape(self._shape)  # back to (N, C, H, W)

    def __repr__(self) -> str:
        return "Flatten()"


_ACTIVATIONS = {"tanh": Tanh, "relu": ReLU, "sigmoid": Sigmoid}
_POOLS = {"avg": AvgPool2d, "max": MaxPool2d}


def scratch_lenet5(num_classes: int = 10, in_channels: int = 1, input_size: int = 32, *,
                   activation: str = "tanh", pooling: str = "avg", rng: np.random.Generator,
                   conv_kernels: tuple[Callable, Callable] | None = None) -> Sequential:
    """LeNet-5 from dlcore modules, layer for layer as :class:`dlcore.models.lenet.LeNet5`.

    x (N, in_channels, input_size, input_size) -> logits (N, num_classes); 61,706 parameters at the defaults.
    ``conv_kernels``: a (forward, backward) pair for the three convolutions (see :class:`Conv2d`).
    """
    if input_size not in (28, 32):
        raise ValueError(f"scratch_lenet5: input_size must be 32 or 28 (padded by 2 in C1), got {input_size!r}")
    if activation not in _ACTIVATIONS or pooling not in _POOLS:
        raise ValueError(f"scratch_lenet5: activation must be one of {sorted(_ACTIVATIONS)} and pooling one of "
                         f"{sorted(_POOLS)}, got {activation!r} and {pooling!r}")
    act, pool = _ACTIVATIONS[activation], _POOLS[pooling]
    return Sequential(
        Conv2d(in_channels, 6, 5, padding=2 if input_size == 28 else 0, rng=rng, kernels=conv_kernels),  # C1
        act(),                                                                            # (N, 6, 28, 28)
        pool(2),                                                                          # S2 (N, 6, 14, 14)
        Conv2d(6, 16, 5, rng=rng, kernels=conv_kernels), act(),                           # C3 (N, 16, 10, 10)
        pool(2),                                                                          # S4 (N, 16, 5, 5)
        Conv2d(16, 120, 5, rng=rng, kernels=conv_kernels), act(),                         # C5 (N, 120, 1, 1)
        Flatten(),                                                                        # (N, 120)
        Linear(120, 84, rng=rng), act(),                                                  # F6
        Linear(84, num_classes, rng=rng),                                                 # logits
    )


def copy_lenet_to_torch(scratch: Sequential, model) -> None:
    """Give a :class:`dlcore.models.lenet.LeNet5` the weights of a :func:`scratch_lenet5` network.

    Conv filters copy as they are; a scratch Linear's W (D, M) is the transpose of torch's weight (M, D).
    """
    import torch

    ours = [layer for layer in scratch.layers if isinstance(layer, (Conv2d, Linear))]
    theirs = [layer for layer in model.modules() if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear))]
    if len(ours) != len(theirs):
        raise ValueError(f"copy_lenet_to_torch: {len(ours)} scratch layers with weights but {len(theirs)} in the model")
    with torch.no_grad():
        for layer, target in zip(ours, theirs):
            weight = layer.w.value if isinstance(layer, Conv2d) else layer.W.value.T
            if tuple(target.weight.shape) != weight.shape:
                raise ShapeError(f"copy_lenet_to_torch: weight {format_shape(weight.shape)} does not fit "
                                 f"{format_shape(tuple(target.weight.shape))}")
            target.weight.copy_(torch.as_tensor(weight))
            target.bias.copy_(torch.as_tensor(layer.b.value))


def scratch_lenet5_from_torch(model) -> Sequential:
    """A :func:`scratch_lenet5` holding a copy of a trained :class:`dlcore.models.lenet.LeNet5`'s weights (float64)."""
    import torch

    scratch = scratch_lenet5(model.num_classes, model.in_channels, model.input_size, activation=model.activation,
                             pooling=model.pooling, rng=np.random.default_rng(0))
    ours = [layer for layer in scratch.layers if isinstance(layer, (Conv2d, Linear))]
    theirs = [layer for layer in model.modules() if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear))]
    for layer, source in zip(ours, theirs):
        weight = source.weight.detach().double().numpy()
        if isinstance(layer, Conv2d):
            layer.w.value[...] = weight
        else:
            layer.W.value[...] = weight.T  # torch (M, D) -> dlcore (D, M)
        layer.b.value[...] = source.bias.detach().double().numpy()
    return scratch
