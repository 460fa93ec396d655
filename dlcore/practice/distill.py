"""Knowledge distillation: a small student learns from a large teacher's softened outputs (chapter 15).

With temperature T, p^T = softmax(z / T). The student's loss mixes the
distillation term and the ordinary cross-entropy with the labels:

    L = alpha * T^2 * KL(p_teacher^T || p_student^T) + (1 - alpha) * CE(softmax(z_student), y)

averaged over the batch. Its gradient with respect to the student's logits is

    dL/dz = [alpha * T * (p_student^T - p_teacher^T) + (1 - alpha) * (p_student - onehot(y))] / N

The T^2 factor keeps the distillation gradient's size independent of T (each
softened gradient carries a 1/T; for large T the term behaves like T^-2 times
a logit-matching loss).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from dlcore.errors import ShapeError

__all__ = ["DistillCache", "distillation_forward", "distillation_backward", "distillation_loss_and_gradient",
           "distillation_loss_torch", "torch_loss_from_numpy"]


def _softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


class DistillCache(NamedTuple):
    p_student_soft: np.ndarray  # (N, K) softmax(student / T)
    p_teacher_soft: np.ndarray  # (N, K)
    p_student: np.ndarray       # (N, K) softmax(student)
    y: np.ndarray               # (N,)
    temperature: float
    alpha: float


def distillation_forward(student_logits: np.ndarray, teacher_logits: np.ndarray, y: np.ndarray, *,
                         temperature: float = 4.0, alpha: float = 0.5) -> tuple[float, DistillCache]:
    """The distillation loss (module docstring) of student logits (N, K) given teacher logits (N, K), labels (N,).

    Raises ShapeError if the logits' shapes differ or y is not (N,); ValueError for T <= 0 or alpha outside [0, 1].
    """
    student_logits = np.asarray(student_logits, dtype=np.float64)
    teacher_logits = np.asarray(teacher_logits, dtype=np.float64)
    y = np.asarray(y)
    if student_logits.ndim != 2 or teacher_logits.shape != student_logits.shape:
        raise ShapeError(f"distillation_forward: teacher_logits has shape {teacher_logits.shape} but student_logits "
                         f"has {student_logits.shape}; expected two equal (N, K) arrays")
    if y.shape != (student_logits.shape[0],):
        raise ShapeError(f"distillation_forward: y has shape {y.shape}; expected (N,) = ({student_logits.shape[0]},)")
    if temperature <= 0 or not 0 <= alpha <= 1:
        raise ValueError(f"distillation_forward: need temperature > 0 and 0 <= alpha <= 1, got {temperature}, {alpha}")
    N = len(y)
    p_s_soft, p_t_soft = _softmax(student_logits / temperature), _softmax(teacher_logits / temperature)
    p_s = _softmax(student_logits)
    log_ratio = np.log(np.clip(p_t_soft, 1e-300, None)) - np.log(np.clip(p_s_soft, 1e-300, None))
    kl = np.sum(p_t_soft * log_ratio) / N
    cross_entropy = -np.mean(np.log(np.clip(p_s[np.arange(N), y], 1e-300, None)))
    loss = alpha * temperature ** 2 * kl + (1 - alpha) * cross_entropy
    return float(loss), DistillCache(p_s_soft, p_t_soft, p_s, y, float(temperature), float(alpha))


def distillation_backward(dout: float, cache: DistillCache) -> np.ndarray:
    """d loss / d student_logits, shape (N, K) (the teacher gets no gradient)."""
    N = len(cache.y)
    onehot = np.zeros_like(cache.p_student)
    onehot[np.arange(N), cache.y] = 1.0
    soft = cache.alpha * cache.temperature * (cache.p_student_soft - cache.p_teacher_soft)
    hard = (1 - cache.alpha) * (cache.p_student - onehot)
    return dout * (soft + hard) / N


def distillation_loss_and_gradient(student_logits: np.ndarray, teacher_logits: np.ndarray, y: np.ndarray,
                                   temperature: float, alpha: float) -> tuple[float, np.ndarray]:
    """The loss and d loss / d student_logits (N, K) in one call: the reference for exercise 15.5."""
    loss, cache = distillation_forward(student_logits, teacher_logits, y, temperature=temperature, alpha=alpha)
    return loss, distillation_backward(1.0, cache)


class _NumpyLoss(torch.autograd.Function):
    """A loss computed in NumPy with its own gradient, as a node of PyTorch's graph."""

    @staticmethod
    def forward(ctx, student_logits, teacher_logits, y, loss_and_gradient, temperature, alpha):
        loss, gradient = loss_and_gradient(student_logits.detach().cpu().numpy(), teacher_logits.detach().cpu().numpy(),
                                           y.detach().cpu().numpy(), temperature, alpha)
        ctx.save_for_backward(torch.as_tensor(np.asarray(gradient), dtype=student_logits.dtype,
                                              device=student_logits.device))
        return torch.as_tensor(float(loss), dtype=student_logits.dtype, device=student_logits.device)

    @staticmethod
    def backward(ctx, grad_output):
        (gradient,) = ctx.saved_tensors
        return grad_output * gradient, None, None, None, None, None


def torch_loss_from_numpy(loss_and_gradient):
    """A training loss with the signature of :func:`distillation_loss_torch` that runs
    ``loss_and_gradient(student, teacher, y, temperature, alpha) -> (loss, d loss / d student)``,
    NumPy code with a hand-written gradient, in PyTorch's forward and backward passes."""
    def loss(student_logits, teacher_logits, y, *, temperature: float = 4.0, alpha: float = 0.5):
        return _NumpyLoss.apply(student_logits, teacher_logits, y, loss_and_gradient, temperature, alpha)

    return loss


def distillation_loss_torch(student_logits, teacher_logits, y, *, temperature: float = 4.0, alpha: float = 0.5):
    """The same loss with PyTorch ops (``kl_div`` with log-probabilities, batch mean), for training."""
    import torch.nn.functional as F

    soft = F.kl_div(F.log_softmax(student_logits / temperature, dim=1), F.log_softmax(teacher_logits / temperature, dim=1),
                    reduction="batchmean", log_target=True)
    return alpha * temperature ** 2 * soft + (1 - alpha) * F.cross_entropy(student_logits, y)
