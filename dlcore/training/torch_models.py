"""The chapter's deep MLPs in PyTorch, built from the same plan as the scratch ones (chapter 07).

``torch_mlp(..., rng=np.random.default_rng(s))`` and
``scratch_mlp(..., rng=np.random.default_rng(s))`` hold identical weights
(PyTorch's ``nn.Linear.weight`` is the transpose of dlcore's ``W``), so the
two can be trained side by side and compared step by step.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dlcore.training.models import LayerSpec, mlp_plan

__all__ = ["TorchResidual", "torch_mlp", "copy_scratch_to_torch"]

_TORCH_ACTIVATIONS = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "gelu": nn.GELU,
    "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity,
}


class TorchResidual(nn.Module):
    """out = x + branch(x). ``watch_output`` tells the training loop to record this block's output."""

    watch_output = True

    def __init__(self, branch: nn.Module) -> None:
        super().__init__()
        self.branch = branch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.branch(x)


def _torch_layer(spec: LayerSpec, dtype: torch.dtype) -> nn.Module:
    if spec.kind == "linear":
        D, M = spec.W.shape
        layer = nn.Linear(D, M, dtype=dtype)
        with torch.no_grad():
            layer.weight.copy_(torch.as_tensor(spec.W.T))  # (M, D): PyTorch stores the transpose
            layer.bias.copy_(torch.as_tensor(spec.b))
        return layer
    if spec.kind == "batchnorm":
        return nn.BatchNorm1d(spec.size, dtype=dtype)
    if spec.kind == "activation":
        return _TORCH_ACTIVATIONS[spec.name]()
    if spec.kind == "dropout":
        return nn.Dropout(spec.p)
    if spec.kind == "residual":
        return TorchResidual(nn.Sequential(*(_torch_layer(inner, dtype) for inner in spec.inner)))
    raise ValueError(f"torch_mlp: unknown layer kind {spec.kind!r}")


def torch_mlp(in_features: int, out_features: int, *, hidden: int = 32, depth: int = 4, activation: str = "relu",
              init: str = "he", norm: str = "none", dropout: float = 0.0, residual: bool = False,
              rng: np.random.Generator, dtype: torch.dtype = torch.float64) -> nn.Sequential:
    """The same network as :func:`dlcore.training.models.scratch_mlp` with the same ``rng``, as nn.Sequential.

    Weights are drawn by NumPy from ``rng``; dropout masks come from PyTorch's own generator.
    """
    plan = mlp_plan(in_features, out_features, hidden=hidden, depth=depth, activation=activation, init=init,
                    norm=norm, dropout=dropout, residual=residual, rng=rng)
    return nn.Sequential(*(_torch_layer(spec, dtype) for spec in plan))


def copy_scratch_to_torch(scratch_model, torch_model: nn.Module) -> None:
    """Copy every parameter (W transposed) and batch-norm buffer of a scratch model into a torch model
    of the same layout (e.g. built from the same plan)."""
    from dlcore.training.scratch_adapter import all_modules

    scratch_params = list(scratch_model.named_parameters())
    torch_params = list(torch_model.parameters())
    if len(scratch_params) != len(torch_params):
        raise ValueError(f"copy_scratch_to_torch: the scratch model has {len(scratch_params)} parameters, the torch "
                         f"model {len(torch_params)}; they must have the same layout")
    buffers = [b for m in all_modules(scratch_model) if hasattr(m, "named_buffers") for _, b in m.named_buffers()]
    torch_buffers = [b for name, b in torch_model.named_buffers() if not name.endswith("num_batches_tracked")]
    with torch.no_grad():
        for (name, p), t in zip(scratch_params, torch_params):
            value = p.value.T if p.name == "W" else p.value
            if tuple(t.shape) != value.shape:
                raise ValueError(f"copy_scratch_to_torch: {name} has shape {value.shape} (as PyTorch stores it) "
                                 f"but the torch parameter has shape {tuple(t.shape)}")
            t.copy_(torch.as_tensor(value))
        for b, t in zip(buffers, torch_buffers):
            t.copy_(torch.as_tensor(b))
