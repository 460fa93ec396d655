"""What every benchmark row shares: the row itself and a fair way to time a ratio.

A ratio "ours / PyTorch" is measured in several *runs*. Each run calls the two
sides alternately (ours, theirs, ours, theirs, ...) and divides the fastest call
of ours by the fastest call of theirs, so a burst of other load on the machine
hits both sides of that run alike. The verdict uses the median of the runs, and
the report shows their spread (min-max): one disturbed run can neither pass nor
fail a budget on its own, and a wide spread says the machine was busy.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable, NamedTuple

__all__ = ["Row", "RatioRuns", "RUNS", "best_time", "interleaved_ratios", "summarize_ratios", "ratio_verdict",
           "ratio_row"]

RUNS = 5  # ratios per row; an odd count, so the median is one of the measured runs


@dataclass
class Row:
    """One line of the report: what was measured, the result, the budget, the verdict.

    ``spread`` (optional) says how much repeated measurements varied, e.g. "runs 1.41-1.70x (5)".
    """

    what: str
    measured: str
    budget: str
    ok: bool
    spread: str = ""


class RatioRuns(NamedTuple):
    """The summary of several measured ratios."""

    median: float
    low: float  # the smallest run
    high: float  # the largest run
    count: int


def best_time(function: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` calls, in seconds.

    The least disturbed call is the fairest estimate on a shared machine, and
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


def interleaved_ratios(ours: Callable[[], object], theirs: Callable[[], object], runs: int,
                       calls: int) -> list[float]:
    """``runs`` ratios; each is ours' fastest of ``calls`` over theirs' fastest, the calls alternating."""
    if runs < 1 or calls < 1:
        raise ValueError(f"interleaved_ratios: runs and calls must be at least 1, got runs={runs}, calls={calls}")
    ratios = []
    for _ in range(runs):
        ours_best = theirs_best = float("inf")
        for _ in range(calls):
            ours_best = min(ours_best, best_time(ours, 1))
            theirs_best = min(theirs_best, best_time(theirs, 1))
        ratios.append(ours_best / theirs_best)
    return ratios


def summarize_ratios(ratios: list[float]) -> RatioRuns:
    """Median, smallest and largest of the runs' ratios."""
    if not ratios:
        raise ValueError("summarize_ratios: no ratios to summarize (measure at least one run)")
    return RatioRuns(statistics.median(ratios), min(ratios), max(ratios), len(ratios))


def ratio_verdict(what: str, ratios: list[float], budget: float) -> Row:
    """The report row for measured ratios: the median against the budget, with the runs' spread."""
    runs = summarize_ratios(ratios)
    return Row(what, f"{runs.median:.2f}x", f"<= {budget:.1f}x", runs.median <= budget,
               spread=f"median of {runs.count} runs, min-max {runs.low:.2f}-{runs.high:.2f}x")


def ratio_row(what: str, ours: Callable[[], object], theirs: Callable[[], object], budget: float,
              repeat: int, runs: int = RUNS) -> Row:
    """Time ``ours`` against ``theirs`` (after warm-up calls) in ``runs`` interleaved runs; judge the median."""
    if repeat < 1:
        raise ValueError(f"ratio_row: repeat must be at least 1, got {repeat}")
    for _ in range(3):  # warm-up: first calls pay for allocation, dispatch and thread-pool set-up
        ours(), theirs()
    ratios = interleaved_ratios(ours, theirs, runs, calls=max(3, 2 * repeat))
    return ratio_verdict(what, ratios, budget)
