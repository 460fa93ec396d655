"""The plotting helpers: titled, labelled, NaN-free figures, and a live curve updated in place."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.data import make_moons
from dlcore.plots import LiveLossPlot, figure_to_png, new_figure, plot_decision_boundary, plot_function_and_derivative


def test_decision_boundary_for_labels_and_for_scores():
    X, y = make_moons(60, seed=0)
    for predict in (lambda P: (P[:, 1] < 0.25).astype(int), lambda P: 1 / (1 + np.exp(-P[:, 0]))):
        fig, ax = new_figure()
        plot_decision_boundary(predict, X, y, ax=ax, title="moons")
        assert ax.get_title() == "moons" and ax.get_xlabel() and ax.get_ylabel()
        assert len(ax.collections) >= 2  # the shading and the points
        assert figure_to_png(fig).startswith(b"\x89PNG")


def test_decision_boundary_refuses_wrong_shapes():
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\), got \(5, 3\)"):
        plot_decision_boundary(lambda P: P[:, 0], np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match=r"y must have shape \(5,\), got \(4,\)"):
        plot_decision_boundary(lambda P: P[:, 0], np.zeros((5, 2)), np.zeros(4))


@pytest.mark.parametrize("name", ["sigmoid", "relu", "gelu"])
def test_function_and_derivative_are_plotted_and_labelled(name):
    left, right = plot_function_and_derivative(name)
    assert name in left.get_title() and "derivative" in right.get_title()
    for ax in (left, right):
        (line,) = ax.get_lines()
        assert np.all(np.isfinite(line.get_ydata()))
        assert ax.get_xlabel() == "$x$"


def test_live_loss_plot_records_and_redraws_without_display():
    plot = LiveLossPlot(title="loss", redraw_every=2, display=False)
    for step in range(5):
        plot.add(step, loss=1.0 / (step + 1), test_loss=2.0 / (step + 1))
    plot.close()
    assert [p[1] for p in plot.history["loss"]] == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    labels = [line.get_label() for line in plot.ax.get_lines()]
    assert labels == ["loss", "test_loss"]
    assert plot.ax.get_title() == "loss"


def test_png_rendering_is_byte_stable():
    def render():
        fig, ax = new_figure()
        ax.plot([0, 1], [1, 0])
        ax.set_title("t")
        return figure_to_png(fig)

    assert render() == render()
