"""Chapter 01: the capacity explorer, driven by setting its controls as a learner would."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from dlcore.scratch.capacity import MAX_DEGREE, classify_fit  # noqa: E402
from dlcore.widgets.capacity import CapacityExplorer  # noqa: E402


@pytest.fixture(scope="module")
def explorer():
    return CapacityExplorer(degree=3, n_train=15, noise=0.2, seed=0)


def plotted_arrays(explorer):
    """Everything the figure currently draws, as arrays."""
    return {
        "fit": np.asarray(explorer.fit_line.get_ydata(), dtype=float),
        "truth": np.asarray(explorer.truth_line.get_ydata(), dtype=float),
        "points": np.asarray(explorer.points.get_offsets(), dtype=float),
        "train": np.asarray(explorer.train_line.get_ydata(), dtype=float),
        "test": np.asarray(explorer.test_line.get_ydata(), dtype=float),
        "unpenalised": np.asarray(explorer.unpenalised_line.get_ydata(), dtype=float),
    }


def assert_all_finite(explorer):
    for name, values in plotted_arrays(explorer).items():
        assert values.size > 0, name
        assert np.all(np.isfinite(values)), f"{name} contains nan or inf"
    limits = explorer.ax_err.get_ylim()
    assert np.all(np.isfinite(limits)) and limits[0] > 0


def reset(explorer):
    explorer.degree.value, explorer.n_train.value, explorer.noise.value = 3, 15, 0.2
    explorer.l2.value = 10.0**explorer.l2.min  # the slider's exponent minimum means 'off'
    explorer.seed.value = 0


def test_initial_state_is_a_good_cubic_fit(explorer):
    reset(explorer)
    state = explorer.state
    assert state.degree == 3 and state.l2 == 0.0
    assert state.verdict == "good fit"
    assert state.x_train.shape == (15,) and state.train_errors.shape == (MAX_DEGREE + 1,)
    assert "Good fit" in explorer.summary.value
    assert explorer.image.value[:4] == b"\x89PNG"
    assert_all_finite(explorer)


def test_degree_slider_moves_from_underfitting_to_overfitting(explorer):
    reset(explorer)
    before = explorer.image.value
    explorer.degree.value = 0
    assert explorer.state.verdict == "underfitting"
    assert explorer.image.value != before
    explorer.degree.value = 15
    assert explorer.state.verdict == "overfitting"
    assert explorer.state.train_error < 1e-6 < 1.0 < explorer.state.test_error
    assert explorer.state.curve_clipped and "leaves the plotted range" in explorer.summary.value
    explorer.degree.value = MAX_DEGREE
    assert_all_finite(explorer)
    assert np.all(np.abs(explorer.state.curve) <= 1.2 * (1.5 + 3 * 0.2) + 1e-12)


def test_training_error_never_rises_with_degree_without_penalty(explorer):
    reset(explorer)
    train = explorer.state.train_errors
    assert np.all(np.diff(train) <= 1e-10)
    assert explorer.state.test_errors[MAX_DEGREE] > 10 * explorer.state.test_errors.min()


def test_penalty_raises_training_error_and_tames_the_test_error(explorer):
    reset(explorer)
    explorer.degree.value = MAX_DEGREE
    unpenalised = explorer.state
    explorer.l2.value = 1e-3
    moderate = explorer.state
    assert moderate.l2 == pytest.approx(1e-3)
    assert moderate.train_error > unpenalised.train_error
    assert moderate.test_error < unpenalised.test_error / 100
    assert explorer.unpenalised_line.get_visible()
    explorer.l2.value = 10.0**explorer.l2.max  # extreme (lambda = 100): everything collapses towards a constant
    assert explorer.state.verdict == "underfitting"
    assert_all_finite(explorer)


def test_more_training_points_reduce_overfitting(explorer):
    reset(explorer)
    explorer.degree.value = 12
    few = explorer.state.test_error
    explorer.n_train.value = explorer.n_train.max
    many = explorer.state
    assert many.x_train.shape == (200,)
    assert many.test_error < few / 10
    explorer.n_train.value = explorer.n_train.min
    assert explorer.state.x_train.shape == (5,)
    assert "pass through every point" in explorer.summary.value
    assert_all_finite(explorer)


def test_noise_extremes(explorer):
    reset(explorer)
    explorer.noise.value = 0.0
    assert not explorer.noise_line.get_visible()
    assert explorer.state.test_errors.min() < 1e-3  # nothing to overfit: a high enough degree is nearly exact
    assert_all_finite(explorer)
    explorer.noise.value = explorer.noise.max
    assert explorer.noise_line.get_visible()
    assert explorer.state.best_test_error > 0.9  # no model beats the noise variance (1.0) by much
    assert_all_finite(explorer)


def test_resample_button_draws_a_new_training_set(explorer):
    reset(explorer)
    old_x = explorer.state.x_train.copy()
    explorer.resample.click()
    assert explorer.seed.value == 1
    assert not np.array_equal(explorer.state.x_train, old_x)
    explorer.seed.value = 0
    np.testing.assert_array_equal(explorer.state.x_train, old_x)  # same seed, same data


def test_classify_fit_rules():
    assert classify_fit(0.05, 0.06, 0.06) == "good fit"
    assert classify_fit(0.5, 0.6, 0.06) == "underfitting"
    assert classify_fit(0.001, 0.6, 0.06) == "overfitting"


def test_the_explorer_fits_with_the_function_it_is_given():
    calls = []

    def counting_fit(x, y, degree, l2):
        calls.append(degree)
        phi = (2 * x[:, None] - 1) ** np.arange(degree + 1)
        return np.linalg.lstsq(phi, y, rcond=None)[0]

    with_learner = CapacityExplorer(degree=3, n_train=15, noise=0.2, seed=0, fit=counting_fit)
    assert sorted(set(calls)) == list(range(MAX_DEGREE + 1))
    course = CapacityExplorer(degree=3, n_train=15, noise=0.2, seed=0)
    np.testing.assert_allclose(with_learner.compute().train_errors[:8], course.compute().train_errors[:8], rtol=1e-6)


def test_without_png_skips_the_encoding_and_refreshes_the_image_once():
    explorer = CapacityExplorer(degree=3, n_train=15, noise=0.2, seed=0)
    first = explorer.image.value
    with explorer.without_png():
        explorer.degree.value = explorer.degree.max
        assert explorer.image.value == first and explorer.state.degree == explorer.degree.max  # computed, not encoded
    assert explorer.image.value != first and explorer.image.value[:4] == b"\x89PNG"
