"""The benchmark report's machinery (not the measurements themselves: those are in `make bench`)."""

from __future__ import annotations

import ipywidgets as widgets
import pytest

from dlcore.tools import bench, benchmarks
from dlcore.tools.benchmarks.common import best_time, ratio_row


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
    assert ratio_row("fast vs slow", fast, slow, budget=2.0, repeat=1).ok
    with pytest.raises(ValueError, match="repeat must be at least 1"):
        best_time(fast, 0)
