"""An embedding layer: a lookup table of learnable vectors, as torch.nn.Embedding (chapter 11).

A token index k selects row k of W (V, E). This is the same as multiplying a
one-hot row vector by W, without building the one-hot matrix:

    out[..., :] = W[indices[...], :]

Backward: each row of W receives the sum of the upstream gradients of every
position where its index occurred (an index used twice gets two contributions):

    dW[k] = sum over positions p with indices[p] == k of dout[p]

Public API: ``embedding_forward(indices, W) -> (out, EmbeddingCache)``,
``embedding_backward(dout, cache) -> dW`` and the module ``Embedding(V, E, rng=...)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore.errors import (ShapeError, as_float_array, expect_generator, expect_positive_int, expect_shape,
                           format_shape)
from dlcore.scratch.module import Module, Parameter

__all__ = ["EmbeddingCache", "embedding_forward", "embedding_backward", "Embedding"]


class EmbeddingCache(NamedTuple):
    """What embedding_backward needs."""

    indices: np.ndarray  # any shape, integers in [0, V)
    table_shape: tuple[int, int]  # (V, E)


def _check_indices(func: str, indices, num_embeddings: int) -> np.ndarray:
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"{func}: indices must be integers (token ids), got dtype {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= num_embeddings):
        raise ValueError(f"{func}: indices must lie in [0, {num_embeddings}) (V = W.shape[0]), got values from "
                         f"{indices.min()} to {indices.max()}")
    return indices


def embedding_forward(indices, W) -> tuple[np.ndarray, EmbeddingCache]:
    """Look up one row of W per index: out = W[indices].

    Args:
        indices: integer array of any shape, e.g. (T, N), values in [0, V).
        W: (V, E) the table.

    Returns:
        out of shape indices.shape + (E,), and the cache.

    Raises:
        ShapeError: W not 2-D. TypeError: non-integer indices. ValueError: an index outside [0, V).
    """
    W = as_float_array("embedding_forward", "W", W)
    if W.ndim != 2:
        raise ShapeError(f"embedding_forward: W has shape {format_shape(W.shape)} but expected (V, E)")
    indices = _check_indices("embedding_forward", indices, W.shape[0])
    return W[indices], EmbeddingCache(indices, W.shape)


def embedding_backward(dout, cache: EmbeddingCache) -> np.ndarray:
    """dW (V, E): the upstream gradients added up per index (np.add.at adds repeated indices, += would not)."""
    dout = as_float_array("embedding_backward", "dout", dout)
    expect_shape("embedding_backward", "dout", dout, cache.indices.shape + (cache.table_shape[1],),
                 why="the forward output's shape, indices.shape + (E,)")
    dW = np.zeros(cache.table_shape, dtype=dout.dtype)
    np.add.at(dW, cache.indices.reshape(-1), dout.reshape(-1, cache.table_shape[1]))  # (positions, E)
    return dW


class Embedding(Module):
    """A (V, E) table of vectors initialised from N(0, 1), as nn.Embedding; ``weight`` has PyTorch's name."""

    def __init__(self, num_embeddings: int, embedding_dim: int, *, rng: np.random.Generator) -> None:
        super().__init__()
        num_embeddings = expect_positive_int("Embedding", "num_embeddings", num_embeddings)
        embedding_dim = expect_positive_int("Embedding", "embedding_dim", embedding_dim)
        rng = expect_generator("Embedding", rng)  # required: two tables built without one would start identical
        self.weight = Parameter(rng.standard_normal((int(num_embeddings), int(embedding_dim))), "weight")
        self._cache: EmbeddingCache | None = None

    def forward(self, indices: np.ndarray) -> np.ndarray:
        out, self._cache = embedding_forward(indices, self.weight.value)
        return out

    def backward(self, dout: np.ndarray) -> None:
        """Accumulates dW; returns None, since integer indices have no gradient."""
        if self._cache is None:
            raise RuntimeError("Embedding.backward: call forward first")
        self.weight.accumulate(embedding_backward(dout, self._cache))
        return None

    def __repr__(self) -> str:
        return f"Embedding({self.weight.shape[0]}, {self.weight.shape[1]})"
