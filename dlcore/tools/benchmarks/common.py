"""What every benchmark row shares: the row itself and a fair timer."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

__all__ = ["Row", "best_time", "ratio_row"]


@dataclass
class Row:
    """One line of the report: what was measured, the result, the budget, the verdict."""

    what: str
    measured: str
    budget: str
    ok: bool


def best_time(function: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` calls, in seconds.

    The least disturbed run is the fairest estimate on a shared machine, and
    both sides of a ratio are measured the same way.
    """
    if repeat < 1:
        raise ValueError(f"best_time: repeat must be at least 1, got {repeat}")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def ratio_row(what: str, ours: Callable[[], object], theirs: Callable[[], object], budget: float,
              repeat: int) -> Row:
    """Time ``ours`` against ``theirs`` (after warm-up calls) and report ours/theirs."""
    for _ in range(3):  # warm-up: first calls pay for allocation, dispatch and thread-pool set-up
        ours(), theirs()
    # Interleaved, so that a burst of other load on the machine hits both sides alike.
    ours_best = theirs_best = float("inf")
    for _ in range(max(10, 5 * repeat)):
        ours_best = min(ours_best, best_time(ours, 1))
        theirs_best = min(theirs_best, best_time(theirs, 1))
    ratio = ours_best / theirs_best
    return Row(what, f"{ratio:.2f}x", f"<= {budget:.1f}x", ratio <= budget)
