"""Plain against residual at initialisation: ‖∂L/∂W‖ layer by layer, and its spread (chapter 10).

A plain :class:`~dlcore.models.resnet.SmallConvNet` and its residual twin
(:func:`~dlcore.models.resnet.plain_and_residual`, the same weights in every layer they share) take one
forward and backward pass on a batch of the course's drawn digits; :func:`initial_gradient_norms` returns
each network's weight-gradient norms from input to output, and :func:`gradient_spread` sums them up in one
number, the first layer's norm over the last convolution's (1 = every layer gets a gradient of the same size).
:func:`gradient_spreads` repeats this for several initialisations; chapter 10 prints it and
:class:`dlcore.widgets.architecture.ResidualExplorer` draws the norms of one.

:func:`gradient_spreads` computes in float64 by default: in float32 the first layer's gradient of a deep
network can come out a few per cent off float64's, so float32 results change in the printed digits from one
CPU to another. Both precisions use the same weights. (Training plain and residual networks of several
depths is a longer experiment: see :mod:`dlcore.models.comparisons`.)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from dlcore.data.glyphs import make_digits28
from dlcore.errors import check_float_dtype
from dlcore.models.blocks import BasicBlock
from dlcore.models.resnet import plain_and_residual, weight_gradient_norms

__all__ = ["glyph_digit_batch", "gradient_spread", "initial_gradient_norms", "gradient_spreads"]


def glyph_digit_batch(num_samples: int, *, size: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The course's drawn digits (:func:`dlcore.data.glyphs.make_digits28`) as one small batch.

    Returns:
        (images, labels): (N, 1, size, size) float32 and (N,) labels.
    """
    X, y = make_digits28(num_samples, seed=seed, size=size)
    return X[:, None].astype(np.float32), y  # (N, 1, size, size)


def gradient_spread(norms: np.ndarray) -> float:
    """‖∂L/∂W‖ of the first layer over that of the last convolution (1 = even flow).

    ``norms``: (L,) weight-gradient norms from input to output, the last one the classifier's
    (as :func:`initial_gradient_norms` returns them). inf when the last convolution's norm is 0.
    """
    return float(norms[0] / norms[-2]) if norms[-2] > 0 else float("inf")


def initial_gradient_norms(num_blocks: int, batch_norm: bool, seed: int, dtype: torch.dtype, x: torch.Tensor,
                           y: torch.Tensor,
                           block: type[torch.nn.Module] = BasicBlock) -> tuple[np.ndarray, np.ndarray]:
    """‖∂L/∂W‖ per layer of a plain network and its residual twin at initialisation, on one batch.

    The twins come from :func:`~dlcore.models.resnet.plain_and_residual` (weights drawn from ``seed``,
    computing in ``dtype``); each takes one forward and backward pass of the cross-entropy on ``x`` (N, 1, H, W)
    in ``dtype`` and ``y`` (N,), on one thread (convolutions this small run faster without thread hand-offs;
    the previous thread count is restored).

    Returns:
        (plain, residual): each (2 · num_blocks + 2,) norms, input side first.
    """
    plain, residual = plain_and_residual(num_blocks, seed=seed, dtype=dtype, batch_norm=batch_norm, block=block)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return weight_gradient_norms(plain, x, y)[1], weight_gradient_norms(residual, x, y)[1]
    finally:
        torch.set_num_threads(threads)


def gradient_spreads(num_blocks: int, *, batch_norm: bool = True, seeds: Sequence[int] = (0, 1, 2),
                     dtype: torch.dtype = torch.float64, block: type[torch.nn.Module] = BasicBlock) -> np.ndarray:
    """:func:`gradient_spread` of the plain and of the residual network, for several initialisations.

    Seed ``s`` gives what ``ResidualExplorer(num_blocks, batch_norm, seed=s, dtype=dtype)`` shows: weights
    drawn from ``s``, one batch of 16 drawn digits from ``s + 1``; in float64 by default, so that every CPU
    prints the same ratios. ``block``: the basic block class the networks are built from.

    Returns:
        (len(seeds), 2) array: column 0 the plain network's spread, column 1 the residual network's.

    Raises:
        ValueError: for a dtype other than torch.float32 and torch.float64, or no seeds.
    """
    check_float_dtype("gradient_spreads", dtype)
    if len(seeds) == 0:
        raise ValueError("gradient_spreads: seeds must name at least one seed, got none")
    rows = []
    for seed in seeds:
        X, y = glyph_digit_batch(16, seed=int(seed) + 1)
        norms = initial_gradient_norms(num_blocks, batch_norm, int(seed), dtype, torch.as_tensor(X, dtype=dtype),
                                       torch.as_tensor(y), block)
        rows.append([gradient_spread(n) for n in norms])
    return np.array(rows)
