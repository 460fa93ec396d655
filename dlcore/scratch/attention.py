"""Attention from its equations, in NumPy: masks, a softmax that respects them, additive and
scaled dot-product attention (chapter 12).

Shapes: queries Q (..., Tq, dk), keys K (..., Tk, dk), values V (..., Tk, dv); the leading
axes "..." are any batch axes (N, or N and heads), shared by the three.

    scaled dot-product:  S = Q K^T / sqrt(dk),  A = softmax_row(S),  out = A V
    additive (Bahdanau): S_ij = w^T tanh(W_q q_i + W_k k_j + b),  A = softmax_row(S),  out = A V

**Masks.** A mask here is boolean and True where attention is ALLOWED (the convention of
``torch.nn.functional.scaled_dot_product_attention``). Beware: ``torch.nn.MultiheadAttention``
and ``nn.Transformer*`` use the opposite convention for boolean masks (True = blocked).
Masked scores are excluded from the softmax: their weight is exactly 0.

**A fully masked row** (a query allowed to see nothing, e.g. a <pad> query under a padding
mask on its own keys) has no meaningful softmax: sum over an empty set. Filling with -inf
gives 0/0 = NaN, which then spreads through every later layer and every gradient. The
course's choice: such a row gets all-zero weights, so its output is 0 and its gradient 0.
``F.scaled_dot_product_attention`` makes the same choice (in recent versions; checked on
the course's PyTorch); ``nn.MultiheadAttention`` returns NaN. Chapter 12 shows both.

Backward of scaled dot-product attention, with dout = dL/d(out):

    dV = A^T dout,   dA = dout V^T,   dS = A * (dA - rowsum(dA * A)),
    dQ = dS K / sqrt(dk),   dK = dS^T Q / sqrt(dk)

(the middle one is the softmax's vector-Jacobian product, row by row; masked entries have
A = 0 and so get dS = 0 by themselves).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore.errors import ShapeError, as_float_array, expect_nonnegative_int, format_shape

__all__ = [
    "causal_mask", "padding_mask", "masked_softmax", "AttentionCache", "scaled_dot_product_attention_forward",
    "scaled_dot_product_attention_backward", "additive_attention",
]


def causal_mask(T: int, Tk: int | None = None) -> np.ndarray:
    """(T, Tk) bool, True where key j <= query i: position i may look at itself and the past only."""
    T = expect_nonnegative_int("causal_mask", "T", T)
    Tk = T if Tk is None else expect_nonnegative_int("causal_mask", "Tk", Tk)
    return np.tril(np.ones((T, Tk), dtype=bool))


def padding_mask(lengths, T: int) -> np.ndarray:
    """(N, T) bool, True at the first lengths[n] positions of row n (the real tokens), False at <pad>."""
    T = expect_nonnegative_int("padding_mask", "T", T)
    lengths = np.asarray(lengths)
    if lengths.dtype.kind not in "iu" and lengths.size:
        raise TypeError(f"padding_mask: lengths must be integers (numbers of real tokens), got dtype {lengths.dtype}")
    if lengths.ndim != 1:
        raise ShapeError(f"padding_mask: lengths has shape {format_shape(lengths.shape)} but expected (N,)")
    if np.any(lengths < 0) or np.any(lengths > T):
        raise ValueError(f"padding_mask: every length must lie in [0, T = {T}], got {lengths.tolist()}")
    return np.arange(T)[None, :] < lengths[:, None]


def masked_softmax(scores: np.ndarray, mask: np.ndarray | None = None, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis`` over the allowed entries only; fully masked rows give all zeros (never NaN).

    softmax(s)_j = exp(s_j - m) / sum_{allowed l} exp(s_l - m), m = max over the allowed entries.

    Args:
        scores: any shape.
        mask: bool, broadcastable to scores' shape, True = allowed; None = all allowed.
    """
    scores = _checked_scores("masked_softmax", scores, axis)
    if mask is None:
        shifted = scores - scores.max(axis=axis, keepdims=True)  # exp never overflows
        exps = np.exp(shifted)
        return exps / exps.sum(axis=axis, keepdims=True)
    mask = np.broadcast_to(_bool_mask("masked_softmax", mask, scores.shape), scores.shape)
    safe = np.where(mask, scores, -np.inf)
    row_max = safe.max(axis=axis, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)  # fully masked rows: any finite shift will do
    exps = np.where(mask, np.exp(np.where(mask, scores, row_max) - row_max), 0.0)
    total = exps.sum(axis=axis, keepdims=True)
    return exps / np.where(total > 0, total, 1.0)  # 0 / 1 = 0 on fully masked rows


def _checked_scores(func: str, scores, axis) -> np.ndarray:
    """``scores`` as a float array with a valid, non-empty ``axis`` to normalise along."""
    scores = as_float_array(func, "scores", scores)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -scores.ndim <= axis < scores.ndim:
        raise ValueError(f"{func}: axis must be an int in [{-scores.ndim}, {scores.ndim}) for scores of "
                         f"shape {format_shape(scores.shape)}, got {axis!r}")
    if scores.shape[axis] == 0:
        raise ShapeError(f"{func}: scores has shape {format_shape(scores.shape)}: axis {axis} is empty; "
                         f"a softmax needs at least one entry")
    return scores


def _bool_mask(func: str, mask, shape: tuple) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"{func}: mask must be boolean (True = may attend), got dtype {mask.dtype}; "
                        f"an additive float mask (0 / -inf) is not accepted here")
    try:
        broadcast = np.broadcast_shapes(mask.shape, shape)
    except ValueError:
        broadcast = None
    if broadcast != tuple(shape):  # a mask with more axes than the scores would grow them
        raise ShapeError(f"{func}: mask has shape {format_shape(mask.shape)}, which does not broadcast to the "
                         f"scores' shape {format_shape(shape)} (..., Tq, Tk)") from None
    return mask


class AttentionCache(NamedTuple):
    """What scaled_dot_product_attention_backward needs."""

    q: np.ndarray  # (..., Tq, dk)
    k: np.ndarray  # (..., Tk, dk)
    v: np.ndarray  # (..., Tk, dv)
    weights: np.ndarray  # (..., Tq, Tk) the attention weights A (0 where masked)
    scale: float  # 1 / sqrt(dk)


def _check_qkv(func: str, q, k, v) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    q, k, v = (as_float_array(func, name, a) for name, a in (("q", q), ("k", k), ("v", v)))
    for name, array in (("q", q), ("k", k), ("v", v)):
        if array.ndim < 2:
            raise ShapeError(f"{func}: {name} has shape {format_shape(array.shape)} but expected (..., T, d): "
                             f"at least 2-D")
    if q.shape[-1] == 0:
        raise ShapeError(f"{func}: q has shape {format_shape(q.shape)}: key size dk = 0, but the scores are scaled "
                         f"by 1/sqrt(dk); expected dk >= 1")
    if q.shape[-1] != k.shape[-1]:
        raise ShapeError(f"{func}: q has shape {format_shape(q.shape)} and k {format_shape(k.shape)}; "
                         f"expected the same last axis dk (queries and keys are compared by a dot product)")
    if k.shape[:-1] != v.shape[:-1]:
        raise ShapeError(f"{func}: k has shape {format_shape(k.shape)} but v has {format_shape(v.shape)}; "
                         f"expected v.shape[:-1] == k.shape[:-1] (one value per key)")
    if k.shape[-2] == 0:
        raise ShapeError(f"{func}: k has shape {format_shape(k.shape)}: Tk = 0 keys; expected at least one key")
    if q.shape[:-2] != k.shape[:-2]:
        raise ShapeError(f"{func}: q has batch axes {format_shape(q.shape[:-2])} but k has "
                         f"{format_shape(k.shape[:-2])}; expected the same leading axes")
    return q, k, v


def scaled_dot_product_attention_forward(q: np.ndarray, k: np.ndarray, v: np.ndarray,
                                         mask: np.ndarray | None = None) -> tuple[np.ndarray, AttentionCache]:
    """out = softmax(Q K^T / sqrt(dk)) V, with masked entries excluded from the softmax.

    Args:
        q: (..., Tq, dk); k: (..., Tk, dk); v: (..., Tk, dv).
        mask: bool broadcastable to (..., Tq, Tk), True = may attend (e.g. causal_mask(T),
            or padding_mask(lengths, Tk)[:, None, :]); None = everything allowed.

    Returns:
        out (..., Tq, dv), and the cache (its ``weights`` are the attention weights).

    Raises:
        ShapeError: mismatched dk, Tk or batch axes, or a mask that does not broadcast.
    """
    func = "scaled_dot_product_attention_forward"
    q, k, v = _check_qkv(func, q, k, v)
    scale = 1.0 / np.sqrt(q.shape[-1])
    scores = q @ np.swapaxes(k, -1, -2) * scale  # (..., Tq, Tk)
    if mask is not None:
        mask = _bool_mask(func, mask, scores.shape)
    weights = masked_softmax(scores, mask)
    return weights @ v, AttentionCache(q, k, v, weights, scale)


def scaled_dot_product_attention_backward(dout: np.ndarray, cache: AttentionCache) -> tuple[np.ndarray, ...]:
    """(dq, dk, dv) of scaled dot-product attention, shapes of q, k, v; see the module docstring."""
    if not isinstance(cache, AttentionCache):
        raise TypeError(f"scaled_dot_product_attention_backward: cache must be the AttentionCache that "
                        f"scaled_dot_product_attention_forward returned, got {type(cache).__name__}")
    q, k, v, weights, scale = cache
    dout = as_float_array("scaled_dot_product_attention_backward", "dout", dout)  # refuses complex and text
    expected = weights.shape[:-1] + (v.shape[-1],)
    if dout.shape != expected:
        raise ShapeError(f"scaled_dot_product_attention_backward: dout has shape {format_shape(dout.shape)} "
                         f"but expected (..., Tq, dv) = {format_shape(expected)}, the output's shape")
    dv = np.swapaxes(weights, -1, -2) @ dout  # (..., Tk, dv)
    dweights = dout @ np.swapaxes(v, -1, -2)  # (..., Tq, Tk)
    dscores = weights * (dweights - (dweights * weights).sum(axis=-1, keepdims=True))  # softmax VJP per row
    dq = dscores @ k * scale
    dk = np.swapaxes(dscores, -1, -2) @ q * scale
    return dq, dk, dv


def additive_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, W_q: np.ndarray, W_k: np.ndarray,
                               b: np.ndarray, w: np.ndarray,
                               mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bahdanau's attention: S_ij = w . tanh(q_i W_q + k_j W_k + b), out = softmax_row(S) V.

    Args:
        q: (N, Tq, Dq); k: (N, Tk, Dk); v: (N, Tk, dv) (often v = k, the encoder states).
        W_q: (Dq, A); W_k: (Dk, A); b: (A,); w: (A,).
        mask: bool broadcastable to (N, Tq, Tk), True = may attend.

    Returns:
        out (N, Tq, dv) and the weights (N, Tq, Tk).

    Unlike the dot product, q and k may have different sizes and no scaling is needed:
    tanh bounds every feature, so |S_ij| <= sum |w|.
    """
    func = "additive_attention"
    q, k, v = (as_float_array(func, name, a) for name, a in (("q", q), ("k", k), ("v", v)))
    for name, array in (("q", q), ("k", k), ("v", v)):
        if array.ndim != 3:
            raise ShapeError(f"{func}: {name} has shape {format_shape(array.shape)} but expected a 3-D (N, T, D)")
    if k.shape[:2] != v.shape[:2] or q.shape[0] != k.shape[0]:
        raise ShapeError(f"{func}: q {format_shape(q.shape)}, k {format_shape(k.shape)}, v {format_shape(v.shape)}; "
                         f"expected one batch size N and one value per key (v.shape[:2] == k.shape[:2])")
    if k.shape[1] == 0:
        raise ShapeError(f"{func}: k has shape {format_shape(k.shape)}: Tk = 0 keys; expected at least one key")
    w = as_float_array(func, "w", w)
    if w.ndim != 1 or w.size == 0:
        raise ShapeError(f"{func}: w has shape {format_shape(w.shape)} but expected (A,) with A >= 1 attention units")
    A = len(w)
    W_q, W_k, b = (as_float_array(func, name, a) for name, a in (("W_q", W_q), ("W_k", W_k), ("b", b)))
    for name, array, want in (("W_q", W_q, (q.shape[-1], A)), ("W_k", W_k, (k.shape[-1], A)), ("b", b, (A,))):
        if array.shape != want:
            raise ShapeError(f"{func}: {name} has shape {format_shape(array.shape)} but expected "
                             f"{format_shape(want)} (A = len(w) = {A})")
    features = np.tanh((q @ W_q)[:, :, None, :] + (k @ W_k)[:, None, :, :] + b)  # (N, Tq, Tk, A)
    scores = features @ w  # (N, Tq, Tk)
    if mask is not None:
        mask = _bool_mask(func, mask, scores.shape)
    weights = masked_softmax(scores, mask)
    return weights @ v, weights
