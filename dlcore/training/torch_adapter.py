"""How the training loop drives a PyTorch nn.Module (chapter 07).

The same vocabulary as :mod:`dlcore.training.scratch_adapter`, with PyTorch
doing the work. Per-layer capture uses hooks: a *forward hook* on every
watched module (the activation modules, in ``model.modules()`` order) keeps
its output, and, while recording, registers a *tensor hook* on that output,
which autograd calls with dL/d(output) during ``backward()``. The hooks are
installed when training starts and removed when it ends (``with adapter:``),
so the model is left as it was.

Losses by name, as for scratch models: 'mse', 'binary_cross_entropy_with_logits'
(targets (N, 1) of 0/1) and 'softmax_cross_entropy' (integer labels (N,)).
"""

from __future__ import annotations

import numpy as np

from dlcore.training.scratch_adapter import StepOutput

__all__ = ["TorchAdapter", "ACTIVATION_MODULE_NAMES"]

ACTIVATION_MODULE_NAMES = ("ReLU", "LeakyReLU", "Tanh", "Sigmoid", "ELU", "GELU", "SiLU", "Softplus", "SELU",
                           "PReLU", "Hardtanh", "Mish")


def _torch_loss(name: str):
    import torch.nn.functional as F

    losses = {
        "mse": F.mse_loss,
        "binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
        "softmax_cross_entropy": F.cross_entropy,
    }
    if name not in losses:
        raise ValueError(f"train: unknown loss {name!r}; choose one of {', '.join(losses)}")
    return losses[name]


def _accuracy(name: str, out: np.ndarray, y: np.ndarray) -> float | None:
    if name == "binary_cross_entropy_with_logits":
        return float(np.mean((out > 0) == (y > 0.5)))
    if name == "softmax_cross_entropy":
        return float(np.mean(np.argmax(out, axis=1) == y))
    return None


def _is_watched(module) -> bool:
    return type(module).__name__ in ACTIVATION_MODULE_NAMES or getattr(module, "watch_output", False)


class TorchAdapter:
    """The loop's view of an ``nn.Module`` trained by a ``torch.optim`` optimizer."""

    kind = "torch"

    def __init__(self, model, optimizer, loss: str) -> None:
        import torch

        if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"train: a PyTorch model needs a torch.optim optimizer (e.g. torch.optim.SGD("
                            f"model.parameters(), lr=0.1)), got {type(optimizer).__name__}")
        self.torch = torch
        self.model, self.optimizer, self.loss_name = model, optimizer, loss
        self.loss_fn = _torch_loss(loss)
        first = next(model.parameters(), None)
        if first is None:
            raise ValueError("train: the model has no parameters to train")
        self.dtype = first.dtype
        # a block that records its own output (a residual block) hides the modules inside it
        hidden = {id(inner) for m in model.modules() if getattr(m, "watch_output", False)
                  for inner in m.modules() if inner is not m}
        watched = [m for m in model.modules() if _is_watched(m) and id(m) not in hidden]
        self.layer_names = tuple(f"layer {k}" for k in range(1, len(watched) + 1))
        self._watched = list(zip(watched, self.layer_names))
        self._weights = [p for name, p in model.named_parameters() if name.endswith("weight") and p.ndim >= 2]
        self.weight_names = tuple(f"W{k}" for k in range(1, len(self._weights) + 1))
        self._handles: list = []
        self._recording = False
        self._acts: dict[str, np.ndarray] = {}
        self._grads: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ hooks

    def _forward_hook(self, name: str):
        def hook(module, inputs, output):
            if not self._recording:
                return
            self._acts[name] = output.detach().cpu().numpy().copy()
            if output.requires_grad:
                output.register_hook(lambda grad: self._grads.__setitem__(name, grad.detach().cpu().numpy().copy()))
        return hook

    def __enter__(self) -> "TorchAdapter":
        self._handles = [module.register_forward_hook(self._forward_hook(name)) for module, name in self._watched]
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    # ------------------------------------------------------------------ one step

    def _tensors(self, x: np.ndarray, y: np.ndarray):
        torch = self.torch
        xt = torch.as_tensor(np.asarray(x), dtype=self.dtype)
        yt = torch.as_tensor(np.asarray(y), dtype=torch.long if self.loss_name == "softmax_cross_entropy" else self.dtype)
        return xt, yt

    def forward_backward(self, x: np.ndarray, y: np.ndarray, capture: bool) -> StepOutput:
        self.model.train()
        self.model.zero_grad()
        self._acts, self._grads, self._recording = {}, {}, capture
        try:
            xt, yt = self._tensors(x, y)
            out = self.model(xt)
            loss = self.loss_fn(out, yt)
            loss.backward()
        finally:
            self._recording = False
        out_np = out.detach().cpu().numpy()
        return StepOutput(float(loss.item()), _accuracy(self.loss_name, out_np, np.asarray(y)),
                          dict(self._acts), dict(self._grads))

    def grad_norm(self, max_norm: float | None) -> float:
        params = [p for p in self.model.parameters() if p.grad is not None]
        if max_norm is None:
            return float(np.sqrt(sum(float((p.grad.double() ** 2).sum()) for p in params)))
        return float(self.torch.nn.utils.clip_grad_norm_(params, max_norm))

    def step(self) -> None:
        self.optimizer.step()

    # ------------------------------------------------------------------ weights, evaluation, state

    def weight_values(self) -> dict[str, np.ndarray]:
        return {name: p.detach().cpu().numpy().copy() for name, p in zip(self.weight_names, self._weights)}

    def weight_grads(self) -> dict[str, np.ndarray]:
        return {name: (np.zeros(tuple(p.shape)) if p.grad is None else p.grad.detach().cpu().numpy().copy())
                for name, p in zip(self.weight_names, self._weights)}

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
        was_training = self.model.training
        self.model.eval()
        try:
            with self.torch.no_grad():
                xt, yt = self._tensors(x, y)
                out = self.model(xt)
                loss = float(self.loss_fn(out, yt).item())
        finally:
            self.model.train(was_training)
        return loss, _accuracy(self.loss_name, out.cpu().numpy(), np.asarray(y))

    def state(self):
        return {key: value.detach().clone() for key, value in self.model.state_dict().items()}

    def load_state(self, state) -> None:
        self.model.load_state_dict(state)

    def buffers_state(self):
        return {name: b.detach().clone() for name, b in self.model.named_buffers()}

    def load_buffers(self, state) -> None:
        with self.torch.no_grad():
            for name, b in self.model.named_buffers():
                b.copy_(state[name])
