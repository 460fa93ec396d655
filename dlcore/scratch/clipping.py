"""Gradient clipping, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_ (chapter 07).

Norm clipping treats all gradients as one long vector g and rescales it when
it is too long, keeping its direction:

    total = ||g||_p,   g <- g * min(1, max_norm / (total + 1e-6))

(the 1e-6 is PyTorch's, so that a zero gradient does not divide by zero).
A step can then never be longer than lr * max_norm, which stops a single
exploding gradient from throwing the weights far away. Value clipping
instead clamps every entry to [-clip_value, clip_value], which changes the
direction.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from dlcore.scratch.module import Parameter

__all__ = ["clip_grad_norm", "clip_grad_value", "total_grad_norm"]


def _params(func: str, parameters: Iterable[Parameter]) -> list[Parameter]:
    params = [parameters] if isinstance(parameters, Parameter) else list(parameters)
    for index, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(f"{func}: parameters[{index}] is a {type(p).__name__}, expected a dlcore Parameter "
                            f"(pass model.parameters())")
    return params


def total_grad_norm(parameters: Iterable[Parameter], norm_type: float = 2.0) -> float:
    """||(g_1, ..., g_n)||_p over all entries of all gradients (p = inf: the largest |entry|)."""
    params = _params("total_grad_norm", parameters)
    if not params:
        return 0.0
    if norm_type == float("inf"):
        return max(float(np.max(np.abs(p.grad))) for p in params)
    if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float)) or norm_type <= 0:
        raise ValueError(f"total_grad_norm: norm_type must be a positive number or inf, got {norm_type!r}")
    # the norm of the per-parameter norms equals the norm of everything concatenated
    norms = np.array([np.linalg.norm(p.grad.ravel(), ord=norm_type) for p in params])
    return float(np.linalg.norm(norms, ord=norm_type))


def clip_grad_norm(parameters: Iterable[Parameter], max_norm: float, norm_type: float = 2.0) -> float:
    """Rescale all gradients in place so that their total norm is at most ``max_norm``.

    g <- g * min(1, max_norm / (total + 1e-6)), exactly as torch.nn.utils.clip_grad_norm_.

    Returns:
        The total norm BEFORE clipping (what PyTorch returns too).

    Raises:
        ValueError: max_norm not a positive number.
    """
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float)) or not max_norm > 0:
        raise ValueError(f"clip_grad_norm: max_norm must be a positive number, got {max_norm!r}")
    params = _params("clip_grad_norm", parameters)
    total = total_grad_norm(params, norm_type)
    coefficient = min(float(max_norm) / (total + 1e-6), 1.0)
    for p in params:
        p.grad *= coefficient
    return total


def clip_grad_value(parameters: Iterable[Parameter], clip_value: float) -> None:
    """Clamp every gradient entry to [-clip_value, clip_value] in place (torch.nn.utils.clip_grad_value_)."""
    if isinstance(clip_value, bool) or not isinstance(clip_value, (int, float)) or not clip_value > 0:
        raise ValueError(f"clip_grad_value: clip_value must be a positive number, got {clip_value!r}")
    for p in _params("clip_grad_value", parameters):
        np.clip(p.grad, -clip_value, clip_value, out=p.grad)
