"""Chapter 04's DescentExplorer, driven by setting its controls as a learner would."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dlcore.scratch.descent_problems import NUM_EXAMPLES, SURFACE_CHOICES
from dlcore.widgets.descent import DescentExplorer


def plotted_finite(explorer: DescentExplorer) -> bool:
    lines = (explorer.path_line, explorer.start_marker, explorer.end_marker, explorer.loss_line, explorer.curve_line)
    return all(np.all(np.isfinite(np.asarray(line.get_xdata(), dtype=float)))
               and np.all(np.isfinite(np.asarray(line.get_ydata(), dtype=float))) for line in lines)


@pytest.fixture
def explorer():
    return DescentExplorer()


def test_every_surface_at_extreme_settings_draws_only_finite_values(explorer):
    e = explorer
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for surface in SURFACE_CHOICES:
            before = e.image.value
            e.surface.value = surface
            assert e.state.surface == surface
            assert e.image.value != before or surface == SURFACE_CHOICES[0]  # the first is already shown
            e.num_steps.value = e.num_steps.max
            for lr in (10.0 ** e.learning_rate.min, 10.0 ** e.learning_rate.max):
                for start_x in (e.start_x.min, e.start_x.max):
                    e.learning_rate.value, e.start_x.value = lr, start_x
                    assert plotted_finite(e), (surface, lr, start_x)
                    assert np.all(np.isfinite(e.state.losses)) and np.all(np.isfinite(e.state.points))
            e.num_steps.value = e.num_steps.min
            assert plotted_finite(e) and e.state.steps_taken == 0
            e.noise.value = e.noise.max
            e.batch_size.value = e.batch_size.min
            assert plotted_finite(e)


def test_large_learning_rate_is_reported_as_diverged_not_nan(explorer):
    e = explorer
    e.surface.value = "quadratic (1-D)"  # f = 2 x^2, L = 4, limit 2/L = 0.5
    e.num_steps.value = 200
    e.learning_rate.value = 0.45
    assert e.state.threshold == pytest.approx(0.5)
    assert not e.state.diverged and e.state.verdict.startswith("converged")
    e.learning_rate.value = 0.55
    assert e.state.diverged and e.state.verdict == "diverged"
    assert e.note.get_text() == "DIVERGED"
    assert "diverged" in e.summary.value and "above it" in e.summary.value
    assert e.state.steps_taken < 200  # stopped at the bound, not carried on to inf


def test_learning_rate_and_steps_move_the_final_loss_the_expected_way(explorer):
    e = explorer
    e.surface.value = "linear regression MSE (2-D)"
    e.num_steps.value = 30
    final = []
    for lr in (0.001, 0.01, 0.1):
        e.learning_rate.value = lr
        final.append(e.state.losses[-1])
    assert final[0] > final[1] > final[2]
    short = e.state.losses[-1]
    e.num_steps.value = 150
    assert e.state.losses[-1] < short


def test_batch_size_controls_the_noise_on_the_regression_surface(explorer):
    e = explorer
    e.surface.value = "linear regression MSE (2-D)"
    assert not e.batch_size.disabled and e.noise.disabled
    e.learning_rate.value, e.num_steps.value = 0.05, 200
    e.batch_size.value = NUM_EXAMPLES
    assert np.all(np.diff(e.state.losses) <= 1e-12)  # full batch below 2/L: the loss only falls
    assert "batch gradient descent" in e.summary.value
    e.batch_size.value = 1
    assert np.any(np.diff(e.state.losses) > 1e-6)  # one example per step: the full loss goes up at times
    assert e.state.verdict.startswith("hovering")
    assert "stochastic gradient descent, 40 step(s) per epoch" in e.summary.value


def test_gradient_noise_on_analytic_surfaces(explorer):
    e = explorer
    e.surface.value = "elongated quadratic (2-D)"
    assert e.batch_size.disabled and not e.noise.disabled
    e.learning_rate.value, e.num_steps.value = 0.1, 100
    clean = e.state.points.copy()
    e.noise.value = 2.0
    assert not np.allclose(e.state.points, clean)


def test_start_point_decides_which_minimum_is_found(explorer):
    e = explorer
    e.surface.value = "double well (1-D)"
    assert e.start_y.disabled
    e.learning_rate.value, e.num_steps.value = 0.02, 200
    e.start_x.value = 2.0
    assert e.state.verdict == "converged to a local minimum (not the global one)"
    e.start_x.value = -0.5
    assert e.state.verdict == "converged to the global minimum"


def test_saddle_verdicts(explorer):
    e = explorer
    e.surface.value = "saddle (2-D)"
    e.learning_rate.value, e.num_steps.value = 0.1, 200
    e.start_y.value = 0.0  # exactly on the ridge line: no force ever pushes it off
    assert e.state.verdict.startswith("stalled at a stationary point that is no minimum")
    e.start_y.value = 0.5
    assert e.state.verdict.startswith("ran away downhill")


def test_changing_surface_refits_the_start_sliders(explorer):
    e = explorer
    e.surface.value = "elongated quadratic (2-D)"
    assert (e.start_x.min, e.start_x.max, e.start_y.min, e.start_y.max) == (-5.0, 5.0, -3.0, 3.0)
    assert e.state.start == (-4.5, 2.0)
    renders = e.renders
    e.surface.value = "quadratic (1-D)"
    assert e.renders == renders + 1  # one redraw per surface change, not one per slider it adjusts


def test_the_regression_surface_runs_on_a_given_mse_function():
    def learners_mse(pred, target):  # a correct MSE written differently
        residual = pred - target
        return float(residual @ residual / residual.size), residual * (2.0 / residual.size)

    def doubled_gradient(pred, target):
        residual = pred - target
        return float(np.mean(residual**2)), 4.0 * residual / residual.size

    runs = {}
    for name, mse in (("dlcore", None), ("learner", learners_mse), ("wrong", doubled_gradient)):
        e = DescentExplorer(surface="linear regression MSE (2-D)", learning_rate=0.05, num_steps=20, mse_loss=mse)
        e.batch_size.value = 8
        runs[name] = e.state.points
    np.testing.assert_allclose(runs["learner"], runs["dlcore"], rtol=1e-10, atol=1e-12)
    assert not np.allclose(runs["wrong"], runs["dlcore"])
