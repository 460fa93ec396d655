"""The fully connected (affine) layer: out = x W + b (chapter 02; backward in chapter 05).

W is stored as (D, M), so a batch of row vectors multiplies it from the left.
PyTorch's ``nn.Linear`` stores the transpose, ``weight`` of shape (M, D).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from dlcore.errors import as_float_array, expect_generator, expect_ndim, expect_positive_int, expect_shape
from dlcore.scratch.module import Module, Parameter

__all__ = ["LinearCache", "linear_forward", "linear_backward", "Linear", "mlp_forward"]


class LinearCache(NamedTuple):
    """What linear_backward needs from the forward pass."""

    x: np.ndarray  # (N, D)
    W: np.ndarray  # (D, M)


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, LinearCache]:
    """Affine map of a batch.

    out[n, m] = sum_d x[n, d] W[d, m] + b[m]

    Args:
        x: (N, D) inputs, one row per example.
        W: (D, M) weights.
        b: (M,) bias, one per output unit.

    Returns:
        out of shape (N, M), and the cache for :func:`linear_backward`.

    Raises:
        ShapeError: if the shapes do not fit together.
    """
    x = as_float_array("linear_forward", "x", x)
    W = as_float_array("linear_forward", "W", W)
    b = as_float_array("linear_forward", "b", b)
    expect_ndim("linear_forward", "x", x, 2, "(N, D): one row per example; reshape a single example with x[None, :]")
    N, D = x.shape
    expect_ndim("linear_forward", "W", W, 2, "(D, M)")
    expect_shape("linear_forward", "W", W, (D, None), "(D, M)", f"D = x.shape[1] = {D}")
    M = W.shape[1]
    expect_shape("linear_forward", "b", b, (M,), "(M,)", f"M = W.shape[1] = {M}")
    out = x @ W + b  # (N, M)
    return out, LinearCache(x, W)


def linear_backward(dout: np.ndarray, cache: LinearCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the affine map.

    dx = dout W^T,  dW = x^T dout,  db = sum over the batch of dout

    Args:
        dout: (N, M) upstream gradient dL/dout.
        cache: from :func:`linear_forward`.

    Returns:
        dx (N, D), dW (D, M), db (M,): each the shape of what it differentiates.
    """
    if not isinstance(cache, LinearCache):
        raise TypeError(f"linear_backward: cache must be the LinearCache that linear_forward returned, "
                        f"got {type(cache).__name__}")
    x, W = cache
    dout = as_float_array("linear_backward", "dout", dout)
    expect_shape("linear_backward", "dout", dout, (x.shape[0], W.shape[1]), "(N, M)", "the forward output's shape")
    dx = dout @ W.T  # (N, D)
    dW = x.T @ dout  # (D, M)
    db = dout.sum(axis=0)  # (M,): b was broadcast over the batch, so its gradient sums over it
    return dx, dW, db


class Linear(Module):
    """A fully connected layer holding W (D, M) and b (M,).

    Initialisation: W ~ U(-1/sqrt(D), 1/sqrt(D)), b = 0 (chapter 07 explains the
    choice and the alternatives). ``rng`` is required: layers drawing from one
    hidden default seed would all start identical.
    """

    def __init__(self, in_features: int, out_features: int, *, rng: np.random.Generator) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            expect_positive_int("Linear", name, value)
        expect_generator("Linear", rng)
        bound = 1.0 / np.sqrt(in_features)
        self.W = Parameter(rng.uniform(-bound, bound, size=(in_features, out_features)), "W")
        self.b = Parameter(np.zeros(out_features), "b")
        self._cache: LinearCache | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = linear_forward(x, self.W.value, self.b.value)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError("Linear.backward: call forward first; there is nothing to differentiate")
        dx, dW, db = linear_backward(dout, self._cache)
        self.W.accumulate(dW)
        self.b.accumulate(db)
        return dx

    def __repr__(self) -> str:
        D, M = self.W.shape
        return f"Linear(in_features={D}, out_features={M})"


def mlp_forward(x: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]],
                activation: Callable[[np.ndarray], np.ndarray]) -> list[np.ndarray]:
    """The forward pass of a multilayer perceptron given as plain arrays (chapter 02).

    h_0 = x,  h_l = activation(h_{l-1} W_l + b_l)  for every layer, the last one included.

    Args:
        x: (N, D) a batch. layers: [(W_1, b_1), ...] with W_l of shape (M_{l-1}, M_l) and b_l of shape (M_l,).
        activation: applied element-wise after every layer.

    Returns:
        [h_1, ..., h_L], each (N, M_l): every layer's output, the network's output last.

    Raises:
        ShapeError: if a layer's W does not fit the previous output.
    """
    outputs = []
    h = x
    for W, b in layers:
        z, _ = linear_forward(h, W, b)  # (N, M_l)
        h = activation(z)
        outputs.append(h)
    return outputs
