"""Chapter 14: GanLabExplorer, headless, driven through its controls."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from dlcore.widgets.ganlab import NUM_ARROWS, RESOLUTION, GanLabExplorer


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    with threadpool_limits(1):
        yield


@pytest.fixture()
def explorer():
    e = GanLabExplorer()
    yield e
    e.widget.close()


def plotted_finite(e) -> bool:
    arrays = [e.heat.get_array(), e.real_points.get_offsets(), e.fake_points.get_offsets(), e.quiver.U, e.quiver.V]
    return all(np.all(np.isfinite(np.asarray(a, dtype=float))) for a in arrays)


def test_constructs_with_defaults_and_draws(explorer):
    s = explorer.state
    assert explorer.renders == 1 and bytes(explorer.image.value).startswith(b"\x89PNG")
    assert s.field.shape == (RESOLUTION, RESOLUTION) and s.arrows.shape == (NUM_ARROWS, 4)
    assert s.real.shape == s.fake.shape == (256, 2)
    assert (s.d_steps_done, s.g_steps_done) == (0, 0) and s.num_modes == 8
    assert "Modes covered" in explorer.summary.value and plotted_finite(explorer)


def test_buttons_step_each_side(explorer):
    explorer.d_steps.value = 3
    explorer.step_discriminator()
    assert (explorer.state.d_steps_done, explorer.state.g_steps_done) == (3, 0)
    explorer.g_steps.value = 0  # a button always does at least one step
    explorer.step_generator()
    assert (explorer.state.d_steps_done, explorer.state.g_steps_done) == (3, 1)
    assert "3 D steps, 1 G steps" in explorer.ax.get_title()


def test_play_ticks_do_bounded_rounds(explorer):
    explorer.d_steps.value, explorer.g_steps.value = 2, 1
    explorer.play.value += 1  # one tick, as the Play widget's timer would
    s = explorer.state
    assert (s.d_steps_done, s.g_steps_done) == (6, 3)  # 10 // 3 = 3 rounds of 2 + 1
    explorer.d_steps.value, explorer.g_steps.value = 0, 0
    explorer.play.value += 1  # nothing to do, still redraws
    assert explorer.state.d_steps_done == 6


def test_a_strong_discriminator_leaves_the_minimax_loss_without_gradient(explorer):
    explorer.d_steps.value = 10
    for _ in range(8):
        explorer.step_discriminator()
    assert explorer.state.d_fake < 0.05
    strong = explorer.state.mean_push
    explorer.loss.value = "minimax"
    assert explorer.state.mean_push < 0.1 * strong
    assert "minimax" in explorer.summary.value


def test_learning_rates_and_distribution(explorer):
    explorer.lr_d.value = 0.1
    explorer.lr_g.value = 1e-4
    assert explorer.gan.opt_d.param_groups[0]["lr"] == pytest.approx(0.1)
    assert explorer.gan.opt_g.param_groups[0]["lr"] == pytest.approx(1e-4)
    assert "D 1.0e-01, G 1.0e-04" in explorer.summary.value
    explorer.play.value += 1
    explorer.distribution.value = "moons"  # starts over
    s = explorer.state
    assert s.distribution == "moons" and s.d_steps_done == 0 and s.num_modes is None
    assert "Modes covered" not in explorer.summary.value


def test_extreme_settings_plot_no_nan(explorer):
    explorer.lr_d.value, explorer.lr_g.value = 0.1, 0.1
    explorer.d_steps.value, explorer.g_steps.value = 10, 10
    for _ in range(3):
        explorer.play.value += 1
    explorer.step_discriminator()
    explorer.step_generator()
    assert plotted_finite(explorer) and np.isfinite(explorer.state.d_fake)
    explorer.reset_button.click()
    assert explorer.state.d_steps_done == 0


def test_runs_on_given_steps_and_coverage():
    from dlcore.models.gan import discriminator_step, generator_step

    used = []

    def d_step(*args):
        used.append("d")
        return discriminator_step(*args)

    def g_step(*args):
        used.append("g")
        return generator_step(*args)

    def coverage(samples, centers, std, num_std=3.0):
        used.append("coverage")
        return np.zeros(len(centers), dtype=int), 3, 0.0

    e = GanLabExplorer(steps=(d_step, g_step), coverage=coverage)
    try:
        e.step_discriminator()
        e.step_generator()
        assert used.count("d") == 1 and used.count("g") == 1 and "coverage" in used
        assert e.state.modes_covered == 3 and "3 of 8" in e.summary.value
    finally:
        e.widget.close()
