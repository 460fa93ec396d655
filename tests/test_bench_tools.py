"""The benchmark report's machinery (not the measurements themselves: those are in `make bench`)."""

from __future__ import annotations

import ipywidgets as widgets
import pytest

from dlcore.tools import bench, benchmarks
from dlcore.tools.benchmarks.common import (Row, best_time, interleaved_ratios, ratio_row, ratio_verdict,
                                            summarize_ratios)


def test_controls_inside_boxes_are_found():
    slider, dropdown, checkbox = widgets.IntSlider(), widgets.Dropdown(options=["a", "b"]), widgets.Checkbox()
    found = bench._leaf_controls([widgets.VBox([slider, widgets.HBox([dropdown])]), checkbox])
    assert found == [slider, dropdown, checkbox]
    assert bench._control_values(dropdown) == ["a", "b"]
    assert bench._control_values(slider) == [100, 0, 50]


def test_every_kernel_benchmark_module_is_discovered():
    names = {module.__name__.rsplit(".", 1)[1] for module in benchmarks.modules()}
    assert {"batchnorm", "conv", "lstm"} <= names and "common" not in names
    assert all(callable(module.run) for module in benchmarks.modules())


def test_ratio_row_reports_ours_over_theirs_against_the_budget():
    slow = lambda: sum(range(20_000))  # noqa: E731
    fast = lambda: None  # noqa: E731
    row = ratio_row("slow vs fast", slow, fast, budget=2.0, repeat=1)
    assert not row.ok and row.measured.endswith("x") and float(row.measured[:-1]) > 2.0
    assert row.spread.startswith("median of 5 runs, min-max ")
    assert ratio_row("fast vs slow", fast, slow, budget=2.0, repeat=1).ok
    with pytest.raises(ValueError, match="repeat must be at least 1"):
        best_time(fast, 0)
    with pytest.raises(ValueError, match="repeat must be at least 1"):
        ratio_row("no calls", fast, slow, budget=2.0, repeat=0)


def test_runs_alternate_the_two_sides_and_give_one_ratio_each():
    calls = []
    ratios = interleaved_ratios(lambda: calls.append("ours"), lambda: calls.append("theirs"), runs=3, calls=4)
    assert calls == ["ours", "theirs"] * 12
    assert len(ratios) == 3 and all(ratio > 0 for ratio in ratios)
    with pytest.raises(ValueError, match="runs and calls must be at least 1"):
        interleaved_ratios(lambda: None, lambda: None, runs=0, calls=4)


def test_summary_is_the_median_and_the_extremes_of_the_runs():
    runs = summarize_ratios([1.9, 1.2, 4.0, 1.5, 1.4])
    assert (runs.median, runs.low, runs.high, runs.count) == (1.5, 1.2, 4.0, 5)
    assert summarize_ratios([1.0, 2.0, 3.0, 4.0]).median == 2.5  # an even count: the mean of the middle two
    with pytest.raises(ValueError, match="no ratios"):
        summarize_ratios([])


def test_one_noisy_run_neither_fails_nor_passes_a_budget():
    disturbed = ratio_verdict("one slow outlier", [1.6, 1.7, 9.0, 1.5, 1.8], budget=2.0)
    assert disturbed.ok and disturbed.measured == "1.70x"
    assert disturbed.spread == "median of 5 runs, min-max 1.50-9.00x"
    lucky = ratio_verdict("one fast outlier", [2.6, 2.4, 0.5, 2.7, 2.5], budget=2.0)
    assert not lucky.ok and lucky.measured == "2.50x"
    assert ratio_verdict("exactly at budget", [2.0, 2.0, 2.0], budget=2.0).ok


def test_report_shows_the_spread_beside_the_median():
    rows = [Row("conv", "1.70x", "<= 2.0x", True, spread="median of 5 runs, min-max 1.50-9.00x"),
            Row("import", "120 ms", "<= 300 ms", False)]
    report = bench.render(rows)
    assert "| conv | 1.70x (median of 5 runs, min-max 1.50-9.00x) | <= 2.0x | ok |" in report
    assert "| import | 120 ms | <= 300 ms | OVER BUDGET |" in report


def test_grading_speed_up_is_the_median_of_interleaved_pairs(monkeypatch):
    # Scripted gradings of 6 notebooks: 1 job takes 60 s in every run; 2 jobs take 30 s, then 60 s (a burst of
    # other load), then 33.3 s. Speed-ups 2.0, 1.0, 1.8: the median (1.8) decides, and one slow run cannot fail it.
    from types import SimpleNamespace

    from dlcore.tools import grade

    durations = iter([60, 30, 60, 60, 60, 100 / 3])
    clock = {"now": 0.0}
    calls = []

    def fake_grade_paths(paths, echo, jobs, progress):
        calls.append(jobs)
        clock["now"] += next(durations)
        return [SimpleNamespace(status="completed") for _ in range(bench.GRADING_NOTEBOOKS)]

    monkeypatch.setattr(grade, "grade_paths", fake_grade_paths)
    monkeypatch.setattr(grade, "default_jobs", lambda: 2)
    monkeypatch.setattr(bench.time, "perf_counter", lambda: clock["now"])
    rows = bench.bench_grading(bench.Path(__file__).resolve().parents[1])
    assert calls == [1, 2, 1, 2, 1, 2]
    speedup = rows[-1]
    assert speedup.measured == "1.80x" and speedup.ok
    assert speedup.spread == "median of 3 runs, min-max 1.00-2.00x"
    assert "6.0 notebooks/min" in rows[0].measured and "median of 3 runs" in rows[0].measured


def test_a_grading_that_does_not_complete_stops_the_benchmark(monkeypatch):
    from types import SimpleNamespace

    from dlcore.tools import grade

    monkeypatch.setattr(grade, "grade_paths", lambda paths, echo, jobs, progress: [SimpleNamespace(status="timeout")])
    monkeypatch.setattr(grade, "default_jobs", lambda: 2)
    with pytest.raises(RuntimeError, match="did not complete at jobs=1"):
        bench.bench_grading(bench.Path(__file__).resolve().parents[1])
