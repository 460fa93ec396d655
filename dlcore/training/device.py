"""Device-agnostic PyTorch: pick a device once, move models and batches to it (chapter 08).

    device = pick_device()              # "cuda" if a GPU is there, else "cpu"
    model = model.to(device)
    x, y = to_device((x, y), device)

and the arithmetic that says what a GPU speeds up: :func:`mlp_step_flops`.
"""

from __future__ import annotations

import torch

__all__ = ["pick_device", "to_device", "mlp_step_flops"]


def pick_device(prefer: str | None = None) -> torch.device:
    """``torch.device("cuda")`` when a CUDA GPU is available, else the CPU; ``prefer="cpu"`` forces the CPU.

    Raises:
        ValueError: for a ``prefer`` other than None, "cpu" or "cuda"; "cuda" without a GPU.
    """
    if prefer not in (None, "cpu", "cuda"):
        raise ValueError(f"pick_device: prefer must be None, 'cpu' or 'cuda', got {prefer!r}")
    if prefer == "cuda" and not torch.cuda.is_available():
        raise ValueError("pick_device: prefer='cuda' but torch.cuda.is_available() is False on this machine")
    if prefer == "cpu":
        return torch.device("cpu")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_device(tensors, device: torch.device | str):
    """A tensor, or a tuple/list of tensors, on ``device`` (a no-op for those already there)."""
    if isinstance(tensors, torch.Tensor):
        return tensors.to(device)
    if isinstance(tensors, (tuple, list)):
        return type(tensors)(to_device(t, device) for t in tensors)
    raise TypeError(f"to_device: expected a tensor or a tuple/list of tensors, got {type(tensors).__name__}")


def mlp_step_flops(layer_sizes: list[int], batch_size: int) -> int:
    """Floating-point operations of one training step of an MLP, counting its matrix products only.

    A Linear(D, M) on N rows is N*D*M multiply-adds forward (2 N D M flops) and twice that backward
    (dx and dW): about 6 N D M per layer. Activations, losses and the update add O(N M), negligible
    for wide layers.
    """
    if len(layer_sizes) < 2 or any(int(s) < 1 for s in layer_sizes) or batch_size < 1:
        raise ValueError(f"mlp_step_flops: need >= 2 positive layer sizes and batch_size >= 1, got "
                         f"{layer_sizes!r}, {batch_size!r}")
    return sum(6 * batch_size * d * m for d, m in zip(layer_sizes[:-1], layer_sizes[1:]))
