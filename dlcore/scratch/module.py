"""Module, Parameter and Sequential: the scaffolding that holds the kernels.

A module's ``forward(x)`` remembers what its ``backward(dout)`` needs; the
backward pass returns dx (the gradient for the layer below) and *adds* the
parameter gradients into ``param.grad``, so gradients from several uses of a
parameter accumulate, exactly as in PyTorch. Call ``zero_grad()`` between steps.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from dlcore.errors import ShapeError, as_float_array, format_shape

__all__ = ["Parameter", "Module", "Sequential"]


class Parameter:
    """A learnable array and the gradient accumulated for it."""

    def __init__(self, value: np.ndarray, name: str = "") -> None:
        self.value = np.asarray(as_float_array("Parameter", "value", value), dtype=np.float64)
        self.grad = np.zeros_like(self.value)
        self.name = name

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def accumulate(self, grad: np.ndarray) -> None:
        """Add ``grad`` to ``self.grad``; its shape must equal the parameter's exactly."""
        grad = np.asarray(grad)
        if grad.shape != self.value.shape:
            raise ShapeError(
                f"Parameter.accumulate: gradient for {self.name or 'parameter'} has shape "
                f"{format_shape(grad.shape)} but the parameter has shape "
                f"{format_shape(self.value.shape)}"
            )
        self.grad += grad

    def __repr__(self) -> str:
        return f"Parameter({self.name or '?'}, shape={format_shape(self.value.shape)})"


class Module:
    """Base class of the scratch layers: parameters, train/eval mode, call = forward."""

    def __init__(self) -> None:
        self.training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x)")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement backward(dout)")

    def __call__(self, x: np.ndarray, *args, **kwargs):
        """``module(x, ...)`` is ``module.forward(x, ...)``: extra arguments (an RNN's h0) pass through."""
        return self.forward(x, *args, **kwargs)

    def children(self) -> Iterator["Module"]:
        for value in vars(self).values():
            if isinstance(value, Module):
                yield value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Yield (dotted name, Parameter) for this module and its children, in definition order."""
        for attribute, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + attribute, value
            elif isinstance(value, Module):
                yield from value.named_parameters(prefix + attribute + ".")

    def parameters(self) -> list[Parameter]:
        return [parameter for _, parameter in self.named_parameters()]

    def zero_grad(self) -> None:
        for parameter in self.parameters():
            parameter.grad[...] = 0.0

    def train(self, mode: bool = True) -> "Module":
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def num_parameters(self) -> int:
        return sum(parameter.value.size for parameter in self.parameters())


class Sequential(Module):
    """Modules applied one after another; backward runs them in reverse."""

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for index, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"Sequential: layer {index} is a {type(layer).__name__}, expected a dlcore "
                    f"scratch Module (e.g. Linear(2, 3) or ReLU())"
                )
        self.layers = list(layers)

    def children(self) -> Iterator[Module]:
        yield from self.layers

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        for index, layer in enumerate(self.layers):
            yield from layer.named_parameters(f"{prefix}{index}.")

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"
