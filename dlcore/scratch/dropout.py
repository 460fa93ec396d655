"""Inverted dropout, forward and backward (chapter 07).

In training mode each value is kept with probability 1 - p and zeroed with
probability p, and the kept values are divided by 1 - p:

    out = x * mask / (1 - p),   mask_i ~ Bernoulli(1 - p) independently

so that E[out] = x: the next layer sees inputs of the same expected size in
training and in evaluation, where dropout is the identity. (The original,
non-inverted form multiplied by 1 - p at test time instead; the same thing,
but every deployed model had to remember it.) The backward pass routes the
gradient through the kept units only, with the same scale:

    dx = dout * mask / (1 - p)

The mask comes from an explicit ``rng``, or is passed in (to replay the mask
PyTorch drew, or to test).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore.errors import as_float_array, expect_shape
from dlcore.scratch.module import Module

__all__ = ["DropoutCache", "dropout_forward", "dropout_backward", "Dropout"]


class DropoutCache(NamedTuple):
    """The kept-units mask and the scale; mask None means the identity (evaluation, or p = 0)."""

    mask: np.ndarray | None  # bool, x's shape: True where the unit is kept
    scale: float  # 1 / (1 - p), or 0 when p = 1 (everything dropped)


def _check_p(func: str, p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{func}: p is the probability of DROPPING a unit and must be in [0, 1], got {p!r}")
    return float(p)


def dropout_forward(x: np.ndarray, p: float, *, training: bool = True, rng: np.random.Generator | None = None,
                    mask: np.ndarray | None = None) -> tuple[np.ndarray, DropoutCache]:
    """Inverted dropout: out = x * mask / (1 - p) in training, out = x in evaluation.

    Args:
        x: an array of any shape.
        p: the probability of dropping each value (PyTorch's ``p``), 0 <= p <= 1.
        training: False gives the identity (no rng needed).
        rng: draws the mask, keep_i = rng.random() >= p. Required in training unless ``mask`` is given.
        mask: boolean array of x's shape, True = kept; replaces the random draw.

    Returns:
        out of x's shape and the cache. p = 1 drops everything (out = 0), as PyTorch does.

    Raises:
        ValueError: p outside [0, 1]. ShapeError: mask not of x's shape.
        TypeError: training without rng or mask.
    """
    func = "dropout_forward"
    p = _check_p(func, p)
    x = as_float_array(func, "x", x)
    if not training or (p == 0.0 and mask is None):
        return x.copy(), DropoutCache(None, 1.0)
    if mask is None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"{func}: in training mode pass rng=<np.random.Generator> (or an explicit mask); "
                            f"got rng={type(rng).__name__}")
        mask = rng.random(x.shape) >= p  # each kept with probability 1 - p
    else:
        mask = np.asarray(mask)
        expect_shape(func, "mask", mask, x.shape, why="the shape of x")
        if mask.dtype != bool:
            if not (np.issubdtype(mask.dtype, np.number) and np.isin(mask, (0, 1)).all()):
                raise ValueError(f"{func}: mask must hold only True/False (or 1/0): True keeps a unit, and the "
                                 f"kept ones are scaled by 1/(1 - p) here; got values other than 0 and 1 "
                                 f"(a mask already scaled by 1/(1 - p)?)")
            mask = mask.astype(bool)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return x * mask * scale, DropoutCache(mask, scale)


def dropout_backward(dout: np.ndarray, cache: DropoutCache) -> np.ndarray:
    """dx = dout * mask / (1 - p): dropped units pass no gradient (identity in evaluation)."""
    dout = as_float_array("dropout_backward", "dout", dout)
    mask, scale = cache
    if mask is None:
        return dout.copy()
    expect_shape("dropout_backward", "dout", dout, mask.shape, why="the forward output's shape")
    return dout * mask * scale


class Dropout(Module):
    """Inverted dropout as a module: random in ``train()`` mode, the identity in ``eval()`` mode.

    ``rng`` is required: each forward pass in training draws a fresh mask from it.
    """

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator) -> None:
        super().__init__()
        self.p = _check_p("Dropout", p)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"Dropout: rng must be a numpy Generator (e.g. np.random.default_rng(0)), "
                            f"got {type(rng).__name__}")
        self.rng = rng
        self._cache: DropoutCache | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = dropout_forward(x, self.p, training=self.training, rng=self.rng)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError("Dropout.backward: call forward first")
        return dropout_backward(dout, self._cache)

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
