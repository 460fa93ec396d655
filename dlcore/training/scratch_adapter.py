"""How the training loop drives a dlcore scratch model (chapter 07).

An adapter gives the loop one vocabulary for both kinds of model: a
forward/backward pass that can also capture every watched layer's output and
the gradient arriving at it, the weights and their gradients, an optimizer
step, evaluation, and a copy of the state to restore (early stopping).

For a scratch :class:`~dlcore.scratch.module.Sequential`, capturing needs no
hooks: the adapter runs the layers one by one itself, keeping each watched
layer's output on the way forward and the ``dout`` handed to its backward on
the way back. Watched layers are the activation modules and residual blocks
at the top level of the Sequential; weights are the parameters named ``W``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore.scratch.activations import Activation
from dlcore.scratch.module import Module, Sequential
from dlcore.scratch.train import LOSSES
from dlcore.scratch.clipping import clip_grad_norm

__all__ = ["StepOutput", "ScratchAdapter", "all_modules"]


class StepOutput(NamedTuple):
    """One forward/backward pass: the batch loss, accuracy, and what was captured (empty if not recording)."""

    loss: float
    accuracy: float | None
    activations: dict[str, np.ndarray]
    activation_grads: dict[str, np.ndarray]


def all_modules(module: Module):
    """The module and every module inside it, depth first."""
    yield module
    for child in module.children():
        yield from all_modules(child)


def _is_watched(layer: Module) -> bool:
    from dlcore.training.models import Residual

    return isinstance(layer, (Activation, Residual))


class ScratchAdapter:
    """The loop's view of a scratch model trained by a dlcore.scratch.optim optimizer."""

    kind = "scratch"

    def __init__(self, model: Module, optimizer, loss: str) -> None:
        if loss not in LOSSES:
            raise ValueError(f"train: unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        if optimizer is not None:  # None: measuring only, no step will be taken
            params = getattr(optimizer, "params", None)
            if params is None or not hasattr(optimizer, "step"):
                raise TypeError(f"train: a scratch model needs a dlcore.scratch.optim optimizer (e.g. "
                                f"SGD(model.parameters(), lr=0.1)), got {type(optimizer).__name__}")
            own = {id(p) for p in model.parameters()}
            if not any(id(p) in own for p in params):
                raise ValueError("train: the optimizer holds none of the model's parameters; build it from "
                                 "model.parameters()")
        self.model, self.optimizer, self.spec = model, optimizer, LOSSES[loss]
        layers = model.layers if isinstance(model, Sequential) else []
        watched = [layer for layer in layers if _is_watched(layer)]
        self.layer_names = tuple(f"layer {k}" for k in range(1, len(watched) + 1))
        self._watched = {id(layer): name for layer, name in zip(watched, self.layer_names)}
        self._params = model.parameters()  # the model's structure is fixed: walk it once, not every step
        self._weights = [p for name, p in model.named_parameters() if p.name == "W" and p.value.ndim >= 2]
        self.weight_names = tuple(f"W{k}" for k in range(1, len(self._weights) + 1))

    # ------------------------------------------------------------------ one step

    def forward_backward(self, x: np.ndarray, y: np.ndarray, capture: bool) -> StepOutput:
        model = self.model
        model.train()
        for parameter in self._params:
            parameter.grad[...] = 0.0
        activations: dict[str, np.ndarray] = {}
        grads: dict[str, np.ndarray] = {}
        capture = capture and isinstance(model, Sequential)
        if capture:
            out = x
            for layer in model.layers:
                out = layer.forward(out)
                if id(layer) in self._watched:
                    activations[self._watched[id(layer)]] = out
        else:
            out = model.forward(x)
        loss, cache = self.spec.forward(out, y)
        dout = self.spec.backward(cache)
        if capture:
            for layer in reversed(model.layers):
                if id(layer) in self._watched:
                    grads[self._watched[id(layer)]] = dout
                dout = layer.backward(dout)
        else:
            model.backward(dout)
        accuracy = self.spec.accuracy(out, y) if self.spec.accuracy is not None else None
        return StepOutput(float(loss), accuracy, activations, grads)

    def grad_norm(self, max_norm: float | None) -> float:
        """The total gradient norm; if ``max_norm`` is given, clip to it (as torch's clip_grad_norm_)."""
        params = self._params
        if max_norm is None:
            return float(np.sqrt(sum(float(np.sum(p.grad * p.grad)) for p in params)))
        return clip_grad_norm(params, max_norm)

    def step(self) -> None:
        self.optimizer.step()

    # ------------------------------------------------------------------ weights, evaluation, state

    def weight_values(self) -> dict[str, np.ndarray]:
        return {name: p.value.copy() for name, p in zip(self.weight_names, self._weights)}

    def weight_grads(self) -> dict[str, np.ndarray]:
        return {name: p.grad.copy() for name, p in zip(self.weight_names, self._weights)}

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
        model = self.model
        was_training = model.training
        model.eval()
        try:
            out = model.forward(x)
        finally:
            model.train(was_training)
        loss, _ = self.spec.forward(out, y)
        return float(loss), (self.spec.accuracy(out, y) if self.spec.accuracy is not None else None)

    def _buffers(self) -> list[np.ndarray]:
        return [buffer for module in all_modules(self.model) if hasattr(module, "named_buffers")
                for _, buffer in module.named_buffers()]

    def state(self) -> list[np.ndarray]:
        """A copy of every parameter and buffer (running statistics)."""
        return [p.value.copy() for p in self._params] + [b.copy() for b in self._buffers()]

    def load_state(self, state: list[np.ndarray]) -> None:
        for target, value in zip([p.value for p in self._params] + self._buffers(), state):
            target[...] = value

    def buffers_state(self) -> list[np.ndarray]:
        return [b.copy() for b in self._buffers()]

    def load_buffers(self, state: list[np.ndarray]) -> None:
        for target, value in zip(self._buffers(), state):
            target[...] = value

    def __enter__(self) -> "ScratchAdapter":
        return self

    def __exit__(self, *exc) -> None:
        return None
