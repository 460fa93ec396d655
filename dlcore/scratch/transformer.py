"""Multi-head attention, sinusoidal positional encoding and one Transformer encoder block, in
NumPy, forward only (chapter 12). Built on :mod:`dlcore.scratch.attention`.

Row-vector convention as in the rest of dlcore: x (N, T, E) times W (E, M). PyTorch stores
``nn.Linear`` weights as (M, E); the ``*_from_torch`` helpers transpose them, so both compute
the same function from the same numbers.

Multi-head attention with h heads, d = E / h:

    Q = x_q W_q + b_q,  K = x_k W_k + b_k,  V = x_v W_v + b_v          (N, T, E) each
    split E into h heads of size d:  Q_i = Q[..., i d:(i+1) d]          (N, h, T, d)
    head_i = softmax(Q_i K_i^T / sqrt(d)) V_i;  out = concat_i(head_i) W_o + b_o

The encoder block is **post-norm** by default, as the original Transformer and
``nn.TransformerEncoderLayer(norm_first=False)``, PyTorch's default:

    post-norm:  x = LN_1(x + MHA(x));      x = LN_2(x + FFN(x))
    pre-norm:   x = x + MHA(LN_1(x));      x = x + FFN(LN_2(x))      (norm_first=True)
    FFN(x) = relu(x W_1 + b_1) W_2 + b_2

Dropout is left out (it is the identity in evaluation mode, which is what the parity
tests compare).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore.errors import (ShapeError, as_float_array, expect_nonnegative_int, expect_positive_int, expect_real,
                           expect_shape, format_shape)
from dlcore.scratch.attention import scaled_dot_product_attention_forward

__all__ = [
    "sinusoidal_positional_encoding", "layer_norm", "MultiHeadParams", "multi_head_attention_forward",
    "mha_params_from_torch", "EncoderBlockParams", "transformer_encoder_block_forward",
    "encoder_block_params_from_torch",
]


def sinusoidal_positional_encoding(T: int, E: int, base: float = 10000.0) -> np.ndarray:
    """(T, E): PE[p, 2i] = sin(p / base^(2i/E)), PE[p, 2i+1] = cos(p / base^(2i/E)).

    Column pair i is a rotation with angular frequency base^(-2i/E) (wavelengths 2 pi .. 2 pi base),
    so PE[p + k] is a fixed linear map (a rotation per pair) of PE[p], whatever p.
    """
    func = "sinusoidal_positional_encoding"
    T, E = expect_nonnegative_int(func, "T", T), expect_positive_int(func, "E", E)
    base = expect_real(func, "base", base, positive=True)
    positions = np.arange(T, dtype=np.float64)[:, None]  # (T, 1)
    frequencies = base ** (-np.arange(0, E, 2, dtype=np.float64) / E)  # (ceil(E/2),)
    angles = positions * frequencies  # (T, ceil(E/2))
    pe = np.zeros((T, E))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, :E // 2])  # odd E: the last sine has no cosine partner
    return pe


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Normalise each position's E features (not the batch, unlike batch norm): gamma (x - mu) / sqrt(var + eps) + beta.

    x is (..., E), gamma and beta (E,); returns an array of x's shape (evaluation only: no cache).
    """
    func = "layer_norm"
    x, gamma, beta = (as_float_array(func, n, a) for n, a in (("x", x), ("gamma", gamma), ("beta", beta)))
    if x.ndim < 1 or x.shape[-1] == 0:
        raise ShapeError(f"{func}: x has shape {format_shape(x.shape)} but expected (..., E) with E >= 1 features")
    E = x.shape[-1]
    for name, array in (("gamma", gamma), ("beta", beta)):
        if array.shape != (E,):
            raise ShapeError(f"{func}: {name} has shape {format_shape(array.shape)} but expected (E,) = ({E},) "
                             f"with E = x.shape[-1]")
    eps = expect_real(func, "eps", eps, positive=True)  # it keeps the division defined
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)  # biased, as in nn.LayerNorm
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


class MultiHeadParams(NamedTuple):
    """Weights of multi-head attention, row-vector convention: every W is (E, E), every b (E,)."""

    W_q: np.ndarray
    W_k: np.ndarray
    W_v: np.ndarray
    W_o: np.ndarray
    b_q: np.ndarray
    b_k: np.ndarray
    b_v: np.ndarray
    b_o: np.ndarray


def _split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    N, T, E = x.shape
    return x.reshape(N, T, num_heads, E // num_heads).transpose(0, 2, 1, 3)  # (N, h, T, d)


def _checked_params(func: str, params: MultiHeadParams, E: int) -> MultiHeadParams:
    """The eight arrays as float arrays, each W (E, E) and each b (E,), or a ShapeError naming the one that is not."""
    if not isinstance(params, MultiHeadParams):
        raise TypeError(f"{func}: params must be a MultiHeadParams, got {type(params).__name__}")
    checked = {}
    for name, array in params._asdict().items():
        array = as_float_array(func, f"params.{name}", array)
        expected = (E, E) if name.startswith("W") else (E,)
        if array.shape != expected:
            raise ShapeError(f"{func}: params.{name} has shape {format_shape(array.shape)} but expected "
                             f"{'(E, E)' if name.startswith('W') else '(E,)'} = {format_shape(expected)} "
                             f"with E = query.shape[2]")
        checked[name] = array
    return MultiHeadParams(**checked)


def _mask(func: str, name: str, mask, shape: tuple[int, int], labels: str) -> np.ndarray:
    """A boolean mask of exactly ``shape``; a float (additive) mask is refused, not silently converted."""
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"{func}: {name} must be boolean (True = may attend), got dtype {mask.dtype}; an additive "
                        f"float mask (0 / -inf, PyTorch's form) is not accepted: pass mask == 0 instead")
    if mask.shape != shape:
        raise ShapeError(f"{func}: {name} has shape {format_shape(mask.shape)} but expected {labels} = "
                         f"{format_shape(shape)}")
    return mask


def multi_head_attention_forward(query: np.ndarray, key: np.ndarray, value: np.ndarray, params: MultiHeadParams,
                                 num_heads: int, *, key_padding_mask: np.ndarray | None = None,
                                 attn_mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Multi-head attention (self-attention when query, key and value are the same array).

    Named after ``torch.nn.functional.multi_head_attention_forward``, whose output and weights it returns
    (this module is forward only: no cache, no backward).

    Args:
        query: (N, Tq, E); key, value: (N, Tk, E).
        params: the eight arrays of :class:`MultiHeadParams`.
        num_heads: h, which must divide E.
        key_padding_mask: (N, Tk) bool, True at REAL keys (e.g. padding_mask(lengths, Tk)).
        attn_mask: (Tq, Tk) bool, True = may attend (e.g. causal_mask(T)).
        (Both True = allowed, the opposite of nn.MultiheadAttention's boolean masks.)

    Returns:
        out (N, Tq, E) and the weights of every head (N, h, Tq, Tk).
    """
    func = "multi_head_attention_forward"
    query, key, value = (as_float_array(func, n, a) for n, a in (("query", query), ("key", key), ("value", value)))
    if query.ndim != 3 or key.shape != value.shape or key.ndim != 3 or key.shape[::2] != query.shape[::2]:
        raise ShapeError(f"{func}: query {format_shape(query.shape)}, key {format_shape(key.shape)}, value "
                         f"{format_shape(value.shape)}; expected (N, Tq, E), (N, Tk, E), (N, Tk, E)")
    N, Tq, E = query.shape
    Tk = key.shape[1]
    num_heads = expect_positive_int(func, "num_heads", num_heads)
    if E == 0 or Tk == 0:
        raise ShapeError(f"{func}: query {format_shape(query.shape)} and key {format_shape(key.shape)}; expected "
                         f"E >= 1 features and Tk >= 1 keys")
    if E % num_heads:
        raise ValueError(f"{func}: num_heads = {num_heads} must divide the embedding size E = {E}")
    params = _checked_params(func, params, E)
    mask = np.ones((N, 1, Tq, Tk), dtype=bool)
    if key_padding_mask is not None:
        mask = mask & _mask(func, "key_padding_mask", key_padding_mask, (N, Tk), "(N, Tk)")[:, None, None, :]
    if attn_mask is not None:
        mask = mask & _mask(func, "attn_mask", attn_mask, (Tq, Tk), "(Tq, Tk)")
    q = _split_heads(query @ params.W_q + params.b_q, num_heads)  # (N, h, Tq, d)
    k = _split_heads(key @ params.W_k + params.b_k, num_heads)  # (N, h, Tk, d)
    v = _split_heads(value @ params.W_v + params.b_v, num_heads)  # (N, h, Tk, d)
    heads, cache = scaled_dot_product_attention_forward(q, k, v, mask)  # (N, h, Tq, d)
    concat = heads.transpose(0, 2, 1, 3).reshape(N, Tq, E)  # (N, Tq, h*d): the heads side by side
    return concat @ params.W_o + params.b_o, cache.weights


def mha_params_from_torch(module) -> MultiHeadParams:
    """The float64 NumPy weights of a ``torch.nn.MultiheadAttention`` (same kdim/vdim as E, with biases)."""
    import torch

    if not isinstance(module, torch.nn.MultiheadAttention):
        raise TypeError(f"mha_params_from_torch: module must be a torch.nn.MultiheadAttention, got "
                        f"{type(module).__name__}")
    if module.in_proj_weight is None or module.in_proj_bias is None or module.out_proj.bias is None:
        raise ValueError("mha_params_from_torch: module must have kdim = vdim = embed_dim and bias=True (one "
                         "stacked in_proj_weight and biases), as MultiHeadParams holds")
    E = module.embed_dim
    W = module.in_proj_weight.detach().double().numpy()  # (3E, E): rows of W_q, W_k, W_v stacked
    b = module.in_proj_bias.detach().double().numpy()  # (3E,)
    W_o = module.out_proj.weight.detach().double().numpy()
    b_o = module.out_proj.bias.detach().double().numpy()
    return MultiHeadParams(W[:E].T.copy(), W[E:2 * E].T.copy(), W[2 * E:].T.copy(), W_o.T.copy(),
                           b[:E].copy(), b[E:2 * E].copy(), b[2 * E:].copy(), b_o.copy())


class EncoderBlockParams(NamedTuple):
    """One encoder block: attention, feed-forward (E -> F -> E, row-vector W's) and two layer norms."""

    attention: MultiHeadParams
    W_1: np.ndarray  # (E, F)
    b_1: np.ndarray  # (F,)
    W_2: np.ndarray  # (F, E)
    b_2: np.ndarray  # (E,)
    gamma_1: np.ndarray  # (E,)
    beta_1: np.ndarray
    gamma_2: np.ndarray
    beta_2: np.ndarray
    eps: float = 1e-5


def _checked_block(func: str, params: EncoderBlockParams, E: int) -> EncoderBlockParams:
    """The block's arrays as float arrays of the shapes in EncoderBlockParams (F from W_1), or a named error."""
    if not isinstance(params, EncoderBlockParams):
        raise TypeError(f"{func}: params must be an EncoderBlockParams, got {type(params).__name__}")
    W_1 = as_float_array(func, "params.W_1", params.W_1)
    if W_1.ndim != 2 or W_1.shape[1] == 0:
        raise ShapeError(f"{func}: params.W_1 has shape {format_shape(W_1.shape)} but expected (E, F) with F >= 1")
    F = W_1.shape[1]
    checked = {"W_1": W_1}
    for name, shape, labels in (("W_1", (E, F), "(E, F)"), ("b_1", (F,), "(F,)"), ("W_2", (F, E), "(F, E)"),
                                ("b_2", (E,), "(E,)"), ("gamma_1", (E,), "(E,)"), ("beta_1", (E,), "(E,)"),
                                ("gamma_2", (E,), "(E,)"), ("beta_2", (E,), "(E,)")):
        array = as_float_array(func, f"params.{name}", getattr(params, name))
        expect_shape(func, f"params.{name}", array, shape, labels, f"E = x.shape[2] = {E}, F = params.W_1.shape[1]")
        checked[name] = array
    return params._replace(**checked)


def transformer_encoder_block_forward(x: np.ndarray, params: EncoderBlockParams, num_heads: int, *,
                                      key_padding_mask: np.ndarray | None = None,
                                      attn_mask: np.ndarray | None = None, norm_first: bool = False) -> np.ndarray:
    """One encoder block on x (N, T, E) -> (N, T, E); post-norm unless norm_first (see the module docstring).

    The forward pass of ``torch.nn.TransformerEncoderLayer``, as the name says (forward only, like this module).
    """
    func = "transformer_encoder_block_forward"
    x = as_float_array(func, "x", x)
    if x.ndim != 3:
        raise ShapeError(f"{func}: x has shape {format_shape(x.shape)} but expected (N, T, E)")
    if not isinstance(norm_first, (bool, np.bool_)):
        raise TypeError(f"{func}: norm_first must be True or False, got {norm_first!r}")
    p = _checked_block(func, params, x.shape[2])

    def attention(h):
        return multi_head_attention_forward(h, h, h, p.attention, num_heads, key_padding_mask=key_padding_mask,
                                            attn_mask=attn_mask)[0]

    def feed_forward(h):
        return np.maximum(h @ p.W_1 + p.b_1, 0.0) @ p.W_2 + p.b_2

    def norm_1(h):
        return layer_norm(h, p.gamma_1, p.beta_1, p.eps)

    def norm_2(h):
        return layer_norm(h, p.gamma_2, p.beta_2, p.eps)

    if norm_first:
        x = x + attention(norm_1(x))
        return x + feed_forward(norm_2(x))
    x = norm_1(x + attention(x))
    return norm_2(x + feed_forward(x))


def encoder_block_params_from_torch(layer) -> EncoderBlockParams:
    """The float64 NumPy weights of a ``torch.nn.TransformerEncoderLayer`` (ReLU activation)."""
    import torch
    import torch.nn.functional as F

    if not isinstance(layer, torch.nn.TransformerEncoderLayer):
        raise TypeError(f"encoder_block_params_from_torch: layer must be a torch.nn.TransformerEncoderLayer, got "
                        f"{type(layer).__name__}")
    if not (layer.activation is F.relu or isinstance(layer.activation, torch.nn.ReLU)):
        raise ValueError(f"encoder_block_params_from_torch: layer must use the ReLU activation (the block's "
                         f"feed-forward is relu), got {layer.activation!r}")
    if layer.linear1.bias is None or layer.norm1.bias is None:
        raise ValueError("encoder_block_params_from_torch: layer must have biases (bias=True)")

    def numpy(t):
        return t.detach().double().numpy().copy()

    return EncoderBlockParams(mha_params_from_torch(layer.self_attn), numpy(layer.linear1.weight).T,
                              numpy(layer.linear1.bias), numpy(layer.linear2.weight).T, numpy(layer.linear2.bias),
                              numpy(layer.norm1.weight), numpy(layer.norm1.bias), numpy(layer.norm2.weight),
                              numpy(layer.norm2.bias), float(layer.norm1.eps))
