"""A small Transformer encoder in PyTorch whose attention is a plain function you can swap (chapter 12).

    x_0 = embed(tokens) * sqrt(E) + PE                              (N, T, E)
    block (pre-norm):  x = x + MHA(LN_1(x));  x = x + FFN(LN_2(x))  every position at once
    logits = W_out LN(x)                                            (N, T, V)  one prediction per position

Multi-head self-attention (:func:`multi_head_self_attention`) projects x to Q, K, V with one
linear layer, splits E into h heads of size d = E / h, and calls ``attention(q, k, v, mask)``
on (N, h, T, d) tensors with a boolean mask that is True where attention is allowed (the
convention of :mod:`dlcore.scratch.attention` and of ``F.scaled_dot_product_attention``). Both
functions can be swapped: any function of the same signature written with tensor operations
can drive the model, since autograd differentiates through it and training needs no backward
pass of its own. Chapter 12 trains the model on the learner's attention and multi-head attention.

The task that trains it here is *sorting as tagging*: the model reads a padded string and
predicts, at each real position i, the i-th smallest of its characters. Every output depends on
the whole string (the rank of each character among the others), which self-attention gathers in
one step; the padding mask is part of the answer, since a <pad> key counted as a character
would change every rank.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import nn

from dlcore.data.translation import PAD, EncodedPairs
from dlcore.errors import ShapeError, check_float_dtype, format_shape
from dlcore.scratch.transformer import sinusoidal_positional_encoding
from dlcore.training.torch_fit import fit

__all__ = ["scaled_dot_product_attention", "multi_head_self_attention", "MultiHeadSelfAttention", "EncoderBlock",
           "TinyTransformer", "sorting_labels", "train_tagger", "tagging_accuracy_by_length"]

Attention = Callable[..., tuple[torch.Tensor, torch.Tensor]]
SelfAttention = Callable[..., tuple[torch.Tensor, torch.Tensor]]


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q k^T / sqrt(dk)) v in tensor operations (differentiable); fully masked rows give zeros.

    Args:
        q: (..., Tq, dk); k: (..., Tk, dk); v: (..., Tk, dv).
        mask: bool broadcastable to (..., Tq, Tk), True = may attend; None = all allowed.

    Returns:
        out (..., Tq, dv) and the weights (..., Tq, Tk) (0 where masked).
    """
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ShapeError(f"scaled_dot_product_attention: q {format_shape(tuple(q.shape))}, k "
                         f"{format_shape(tuple(k.shape))}, v {format_shape(tuple(v.shape))}; expected (..., Tq, dk), "
                         f"(..., Tk, dk), (..., Tk, dv)")
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., Tq, Tk)
    if mask is None:
        weights = torch.softmax(scores, dim=-1)
    else:
        scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)  # all -inf row: NaN -> 0
    return weights @ v, weights


def multi_head_self_attention(x: torch.Tensor, qkv: nn.Linear, out: nn.Linear, num_heads: int,
                              mask: torch.Tensor | None = None, *,
                              attention: Attention = scaled_dot_product_attention) -> tuple[torch.Tensor, torch.Tensor]:
    """Multi-head self-attention in tensor operations.

    Args:
        x: (N, T, E).
        qkv: a linear layer E -> 3E whose output columns are [Q | K | V], E each.
        out: the output projection, a linear layer E -> E.
        num_heads: h, which must divide E; head i uses columns i d .. (i+1) d of Q, K and V.
        mask: bool broadcastable to (N, h, T, T), True = may attend; None = all allowed.
        attention: ``attention(q, k, v, mask) -> (out, weights)`` on (N, h, T, d) tensors.

    Returns:
        out (N, T, E) and every head's weights (N, h, T, T).
    """
    N, T, E = x.shape
    if E % num_heads:
        raise ValueError(f"multi_head_self_attention: num_heads = {num_heads} must divide E = {E}")
    q, k, v = qkv(x).reshape(N, T, 3, num_heads, E // num_heads).permute(2, 0, 3, 1, 4)  # each (N, h, T, d)
    heads, weights = attention(q, k, v, mask)  # (N, h, T, d), (N, h, T, T)
    return out(heads.transpose(1, 2).reshape(N, T, E)), weights  # heads side by side: (N, T, h*d)


class MultiHeadSelfAttention(nn.Module):
    """Self-attention with ``num_heads`` heads: the layers' parameters, and the functions that compute it.

    ``self_attention(x, qkv, out, num_heads, mask)`` computes it (default: :func:`multi_head_self_attention`
    on ``attention``).
    """

    def __init__(self, embed_size: int, num_heads: int, attention: Attention, *, dtype: torch.dtype,
                 self_attention: SelfAttention | None = None) -> None:
        super().__init__()
        if embed_size % num_heads:
            raise ValueError(f"MultiHeadSelfAttention: num_heads = {num_heads} must divide embed_size = {embed_size}")
        self.num_heads, self.attention, self.self_attention = num_heads, attention, self_attention
        self.qkv = nn.Linear(embed_size, 3 * embed_size, dtype=dtype)
        self.out = nn.Linear(embed_size, embed_size, dtype=dtype)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, T, E), mask bool broadcastable to (N, h, T, T) -> out (N, T, E), weights (N, h, T, T)."""
        if self.self_attention is not None:
            return self.self_attention(x, self.qkv, self.out, self.num_heads, mask)
        return multi_head_self_attention(x, self.qkv, self.out, self.num_heads, mask, attention=self.attention)


class EncoderBlock(nn.Module):
    """Pre-norm Transformer encoder block (no dropout: the runs are short and printed)."""

    def __init__(self, embed_size: int, num_heads: int, ff_size: int, attention: Attention, *,
                 dtype: torch.dtype, self_attention: SelfAttention | None = None) -> None:
        super().__init__()
        self.norm_1 = nn.LayerNorm(embed_size, dtype=dtype)
        self.attention = MultiHeadSelfAttention(embed_size, num_heads, attention, dtype=dtype,
                                                self_attention=self_attention)
        self.norm_2 = nn.LayerNorm(embed_size, dtype=dtype)
        self.feed_forward = nn.Sequential(nn.Linear(embed_size, ff_size, dtype=dtype), nn.ReLU(),
                                          nn.Linear(ff_size, embed_size, dtype=dtype))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        attended, weights = self.attention(self.norm_1(x), mask)
        x = x + attended
        return x + self.feed_forward(self.norm_2(x)), weights


class TinyTransformer(nn.Module):
    """Embedding + positional encoding + ``num_layers`` encoder blocks + a per-position output layer.

    Args:
        vocab_size: V, token 0 being <pad>.
        attention: ``attention(q, k, v, mask) -> (out, weights)`` in tensor operations
            (default: :func:`scaled_dot_product_attention`).
        self_attention: ``self_attention(x, qkv, out, num_heads, mask) -> (out, weights)``, the whole
            multi-head self-attention (default: :func:`multi_head_self_attention` on ``attention``).
        positional_encoding: ``positional_encoding(T, E) -> (T, E)`` NumPy array (default: the sinusoids
            of :func:`dlcore.scratch.transformer.sinusoidal_positional_encoding`).
        seed: fixes the initial weights (drawn in float64, then converted) without touching the global
            random state.
        dtype: torch.float64 (the chapter's printed runs) or torch.float32.
    """

    def __init__(self, vocab_size: int, *, embed_size: int = 32, num_heads: int = 2, num_layers: int = 2,
                 ff_size: int = 64, max_length: int = 32, attention: Attention = scaled_dot_product_attention,
                 self_attention: SelfAttention | None = None,
                 positional_encoding: Callable[[int, int], np.ndarray] = sinusoidal_positional_encoding,
                 seed: int = 0, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        check_float_dtype("TinyTransformer", dtype)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=PAD, dtype=torch.float64)
            self.blocks = nn.ModuleList(EncoderBlock(embed_size, num_heads, ff_size, attention, dtype=torch.float64,
                                                     self_attention=self_attention) for _ in range(num_layers))
            self.norm = nn.LayerNorm(embed_size, dtype=torch.float64)
            self.output = nn.Linear(embed_size, vocab_size, dtype=torch.float64)
        pe = np.asarray(positional_encoding(max_length, embed_size), dtype=np.float64)
        if pe.shape != (max_length, embed_size):
            raise ShapeError(f"TinyTransformer: positional_encoding({max_length}, {embed_size}) returned shape "
                             f"{format_shape(pe.shape)}; expected (T, E) = ({max_length}, {embed_size})")
        self.register_buffer("pe", torch.from_numpy(pe))
        self.to(dtype)
        self.embed_size = embed_size

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """tokens (N, T) int64, <pad> = 0 -> logits (N, T, V) and each block's weights (N, h, T, T)."""
        N, T = tokens.shape
        if T > len(self.pe):
            raise ShapeError(f"TinyTransformer: sequences of length {T} exceed max_length = {len(self.pe)}")
        key_mask = (tokens != PAD)[:, None, None, :]  # (N, 1, 1, T): every query may see the real keys
        x = self.embedding(tokens) * math.sqrt(self.embed_size) + self.pe[:T]  # (N, T, E)
        maps = []
        for block in self.blocks:
            x, weights = block(x, key_mask)
            maps.append(weights)
        return self.output(self.norm(x)), maps


def sorting_labels(data: EncodedPairs) -> np.ndarray:
    """(N, Ts) labels of sorting as tagging: the source's real tokens in increasing order, then <pad>.

    (The vocabulary numbers characters in sorted order, so sorting the numbers sorts the characters.)
    """
    labels = np.full_like(data.source, PAD)
    for n, length in enumerate(data.source_lengths):
        labels[n, :length] = np.sort(data.source[n, :length])
    return labels


def train_tagger(model: TinyTransformer, data: EncodedPairs, labels: np.ndarray, *, num_epochs: int = 10,
                 batch_size: int = 64, learning_rate: float = 3e-3, seed: int = 0) -> list[float]:
    """Adam on the per-position cross-entropy (<pad> positions ignored); returns each epoch's mean loss.

    ``labels`` (N, Ts) int64 are the wanted tokens at each position of ``data.source``.
    """
    if labels.shape != data.source.shape:
        raise ShapeError(f"train_tagger: labels has shape {format_shape(labels.shape)} but data.source has "
                         f"{format_shape(data.source.shape)}; expected one label per source position")
    indexed = EncodedPairs(data.source, data.source_lengths, labels, data.source_vocab, data.source_vocab)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    def batch_loss(index: np.ndarray) -> torch.Tensor:
        batch = indexed.subset(index)  # trimmed to its longest string
        tokens, wanted = torch.from_numpy(batch.source), torch.from_numpy(batch.target[:, :batch.source.shape[1]])
        logits, _ = model(tokens)
        return nn.functional.cross_entropy(logits.flatten(0, 1), wanted.flatten(), ignore_index=PAD)

    history = fit(model, optimizer, batch_loss, len(indexed), num_epochs=num_epochs, batch_size=batch_size,
                  rng=np.random.default_rng(seed))["loss"]
    model.eval()
    return history


@torch.no_grad()
def tagging_accuracy_by_length(model: TinyTransformer, data: EncodedPairs, labels: np.ndarray) -> dict[int, float]:
    """For every source length in ``data``: the fraction of strings whose every real position is right."""
    model.eval()
    predicted = model(torch.from_numpy(data.source))[0].argmax(-1).numpy()
    real = data.source != PAD
    correct = ((predicted == labels) | ~real).all(axis=1)
    return {int(n): float(correct[data.source_lengths == n].mean()) for n in np.unique(data.source_lengths)}
