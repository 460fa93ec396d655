"""A learner's convolution kernels inside a training run, within a notebook's time budget (chapter 09).

A correct kernel written with Python loops over windows gives the right numbers
but runs hundreds of times slower than a vectorised one: training LeNet-5 on it
would make Run All take minutes. :func:`python_lines` measures how much Python a
kernel runs (a count of executed lines: the same on every machine, unlike a
time), and :func:`training_kernels` decides: a vectorised pair trains the whole
network; a loop-based pair runs the first few forward passes only, through a
:class:`KernelSlice`, and dlcore's reference runs the rest.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np

__all__ = ["python_lines", "KernelSlice", "training_kernels", "LINE_BUDGET"]

# Python lines a forward and backward pass may run on the probe batch (4 images of 32x32, 6 filters of 5x5)
# for the kernels to train LeNet-5 throughout: a loop over the 25 kernel offsets runs about a hundred, a loop
# over the 3,136 windows thousands.
LINE_BUDGET = 1_000

Kernels = tuple[Callable[..., Any], Callable[..., Any]]


def _library_folders() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    folders = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    folders.add(str(Path(__file__).resolve().parents[1]))  # dlcore itself
    return tuple(sorted(folders))


def python_lines(function: Callable[[], Any], *, limit: int = 100_000) -> int:
    """The lines of Python that ``function()`` executes outside the standard library, installed packages
    and dlcore (that is, in the learner's own code); counting stops at ``limit``."""
    library = _library_folders()
    count = 0

    def local(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
            if count >= limit:
                frame.f_trace_lines = False  # enough seen: let the rest run at full speed
        return local

    def calls(frame: Any, event: str, arg: Any) -> Any:
        if count >= limit or frame.f_code.co_filename.startswith(library):
            return None
        return local

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        function()
    finally:
        sys.settrace(previous)
    return count


class SliceCache(NamedTuple):
    """Which pair of kernels made the forward pass (its backward must be the same pair's), and its cache."""

    learners: bool
    cache: Any


class KernelSlice:
    """A (forward, backward) pair for :class:`dlcore.scratch.cnn.Conv2d` that runs the learner's kernels
    for the first ``calls`` forward passes (over all layers that share it) and the reference afterwards."""

    def __init__(self, learner: Kernels, reference: Kernels, calls: int) -> None:
        self.learner, self.reference, self.calls, self.used = learner, reference, calls, 0

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: Any, padding: Any) -> tuple[np.ndarray, SliceCache]:
        learners = self.used < self.calls
        self.used += learners
        out, cache = (self.learner if learners else self.reference)[0](x, w, b, stride, padding)
        return out, SliceCache(learners, cache)

    def backward(self, dout: np.ndarray, cache: SliceCache) -> Any:
        return (self.learner if cache.learners else self.reference)[1](dout, cache.cache)

    @property
    def kernels(self) -> Kernels:
        return self.forward, self.backward


def training_kernels(learner: Kernels, reference: Kernels, *, slice_calls: int,
                     names: tuple[str, str] = ("conv_forward", "conv_backward")) -> tuple[Kernels, str]:
    """The conv kernels to train with, and a sentence saying whose they are.

    ``learner`` is what :func:`dlcore.exercises.learner.implementation` returned (the reference
    itself until the exercise passes: then the sentence is empty). Learner kernels within
    :data:`LINE_BUDGET` on the probe batch train throughout; slower ones run the first
    ``slice_calls`` forward passes (a :class:`KernelSlice`).
    """
    if tuple(learner) == tuple(reference):
        return reference, ""
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((4, 1, 32, 32)), rng.standard_normal((6, 1, 5, 5)), np.zeros(6)

    def probe() -> None:
        out, cache = learner[0](x, w, b, 1, 0)
        learner[1](np.ones_like(out), cache)

    both = f"{names[0]} and {names[1]}"
    if python_lines(probe, limit=LINE_BUDGET + 1) <= LINE_BUDGET:
        return learner, f"your {both} are vectorised: LeNet-5 trains on them throughout"
    sliced = KernelSlice(learner, reference, slice_calls)
    return sliced.kernels, (f"your {both} loop in Python (more than {LINE_BUDGET:,} lines for a batch of 4 images): "
                            f"they run the first {slice_calls} convolution calls and dlcore's faster kernels the rest, "
                            f"which compute the same numbers")
