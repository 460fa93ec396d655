"""Mini-batches of example indices: one fresh shuffle per epoch, ``batch_size`` at a time (chapters 08 on).

    for index in index_batches(len(x), 32, rng):   # one call = one epoch
        loss = loss_fn(model(x[index]), y[index])

``rng`` is a ``np.random.Generator`` (the indices are int64 NumPy arrays, from
``rng.permutation``), a ``torch.Generator`` (int64 tensors, from ``torch.randperm``)
or None (the examples in order, as NumPy arrays). The permutation is drawn when the
function is called, and it is the only random number the iterator takes: a loop that
draws more numbers from the same generator (noise, a sampled z) gets them in the same
order as a loop that writes ``order = rng.permutation(N)`` out by hand.

Importing this module does not import torch.
"""

from __future__ import annotations

import sys
from typing import Any, Iterator

import numpy as np

from dlcore.errors import expect_nonnegative_int, expect_positive_int

__all__ = ["index_batches", "num_batches", "check_rng"]


def num_batches(num_examples: int, batch_size: int, *, drop_last: bool = False) -> int:
    """How many batches :func:`index_batches` gives per epoch: ceil(N / B), or floor(N / B) with ``drop_last``."""
    num_examples = expect_nonnegative_int("num_batches", "num_examples", num_examples)
    batch_size = expect_positive_int("num_batches", "batch_size", batch_size)
    return num_examples // batch_size if drop_last else -(-num_examples // batch_size)


def check_rng(func: str, rng: Any) -> str:
    """The kind of ``rng``: "numpy", "torch" or "none"; a TypeError naming ``func`` for anything else."""
    if rng is None:
        return "none"
    if isinstance(rng, np.random.Generator):
        return "numpy"
    torch = sys.modules.get("torch")  # a torch.Generator means torch is already imported
    if torch is not None and isinstance(rng, torch.Generator):
        return "torch"
    raise TypeError(f"{func}: rng must be a numpy Generator (np.random.default_rng(0)), a torch.Generator "
                    f"(torch.Generator().manual_seed(0)) or None for the examples in order, got {type(rng).__name__}")


def _permutation(num_examples: int, rng: Any, kind: str):
    if kind == "numpy":
        return rng.permutation(num_examples)
    if kind == "torch":
        return sys.modules["torch"].randperm(num_examples, generator=rng)
    return np.arange(num_examples)


def index_batches(num_examples: int, batch_size: int, rng: Any = None, *, drop_last: bool = False) -> Iterator:
    """The indices 0..N-1 in a random order, cut into consecutive batches of ``batch_size``.

    Every index is in exactly one batch; the last batch holds the remaining ``N % batch_size``
    (if any), or is left out with ``drop_last=True`` (batch norm cannot normalise a batch of one).

    Args:
        num_examples: N, the number of examples (0 gives no batch).
        batch_size: B >= 1; B > N gives one batch of all N (none with ``drop_last``).
        rng: np.random.Generator, torch.Generator, or None for the order 0..N-1.
        drop_last: leave out a last batch smaller than B.

    Returns:
        An iterator of (B,) int64 index arrays (NumPy, or torch tensors for a torch.Generator).

    Raises:
        TypeError: for an rng of another kind, or a size that is not an int.
        ValueError: for N < 0 or B < 1.
    """
    num_examples = expect_nonnegative_int("index_batches", "num_examples", num_examples)
    batch_size = expect_positive_int("index_batches", "batch_size", batch_size)
    order = _permutation(num_examples, rng, check_rng("index_batches", rng))  # drawn now, not at the first batch
    stop = num_examples - num_examples % batch_size if drop_last else num_examples
    return (order[start:start + batch_size] for start in range(0, stop, batch_size))
