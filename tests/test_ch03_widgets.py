"""Chapter 03's explorers, driven by setting their controls as a learner would."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dlcore.widgets.activations import (
    CEILING,
    FLOOR,
    ActivationExplorer,
    DepthExplorer,
    clip_for_log,
)
from tests.helpers import lines_finite


@pytest.fixture(scope="module")
def activation_explorer():
    return ActivationExplorer()


@pytest.fixture(scope="module")
def depth_explorer():
    return DepthExplorer(np.random.default_rng(0))


def test_clip_for_log():
    clipped = clip_for_log(np.array([0.0, np.nan, np.inf, -np.inf, 1e-250, 1e250, 3.0]))
    assert clipped.tolist() == [FLOOR, FLOOR, CEILING, FLOOR, FLOOR, CEILING, 3.0]


def test_activation_explorer_every_function_and_extreme(activation_explorer):
    e = activation_explorer
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e.x_range.value = 10.0 ** e.x_range.max  # 1000: far into every saturated region
        for name in e.activation.options:
            before = e.image.value
            e.activation.value = name
            assert e.image.value != before
            assert lines_finite(e.line_f, e.line_df), name
            assert e.state.name == name
        e.x_range.value = 10.0 ** e.x_range.min
        assert lines_finite(e.line_f, e.line_df)
        e.activation.value = "leaky_relu"
        for slope in (0.0, 1.0):
            e.negative_slope.value = slope
            assert lines_finite(e.line_f, e.line_df)
        e.activation.value = "elu"
        for alpha in (0.0, 5.0):
            e.alpha.value = alpha
            assert lines_finite(e.line_f, e.line_df)
        e.activation.value = "gelu"
        e.approximate.value = "tanh"
        assert e.state.params == {"approximate": "tanh"}
        assert lines_finite(e.line_f, e.line_df)


def test_activation_explorer_saturation_grows_with_the_window(activation_explorer):
    e = activation_explorer
    e.activation.value = "sigmoid"
    e.x_range.value = 1.0
    narrow = e.state.saturated_share
    before = e.image.value
    e.x_range.value = 100.0
    assert e.image.value != before
    assert narrow == 0.0 and e.state.saturated_share > 0.9
    assert "sigmoid" in e.summary.value


def test_activation_explorer_parameters_change_the_curve(activation_explorer):
    e = activation_explorer
    e.x_range.value = 5.0
    e.activation.value = "leaky_relu"
    e.negative_slope.value = 1.0  # the identity: nothing saturates, slope 1 everywhere
    assert e.state.saturated_share == 0.0 and np.all(e.state.df == 1.0)
    e.negative_slope.value = 0.0  # ReLU: the left half saturates
    assert 0.45 < e.state.saturated_share < 0.55
    assert e.alpha.disabled and not e.negative_slope.disabled
    e.activation.value = "elu"
    assert not e.alpha.disabled and e.negative_slope.disabled


def test_activation_explorer_gaussian_averages(activation_explorer):
    e = activation_explorer
    e.x_range.value = 5.0
    e.activation.value = "tanh"
    assert abs(e.state.mean_output) < 1e-12  # odd function: exactly zero-centred
    e.activation.value = "sigmoid"
    assert abs(e.state.mean_output - 0.5) < 1e-12  # sigma(x) - 1/2 is odd
    e.activation.value = "relu"
    assert abs(e.state.mean_slope - 0.5) < 1e-2  # P(u > 0) = 1/2
    assert "not zero-centred" in e.summary.value


def check_depth_plot(d) -> None:
    assert lines_finite(d.line_std, d.line_grad, d.line_saturated, d.line_dead)
    low, high = d.ax_scale.get_ylim()
    assert FLOOR / 10 <= low < high <= CEILING * 10
    assert len(d.line_std.get_xdata()) == d.depth.value


def test_depth_explorer_extremes_never_plot_nan(depth_explorer):
    d = depth_explorer
    with warnings.catch_warnings(), d.without_png():  # the drawn artists are checked, not the pixels
        warnings.simplefilter("error")
        d.depth.value, d.width.value = 50, d.width.max
        for name in d.activation.options:
            d.activation.value = name
            for scale in (1e-3, 1e2):
                d.weight_scale.value = scale
                check_depth_plot(d)
        d.depth.value, d.width.value = 1, d.width.min
        for scale in (1e-3, 1e2):
            d.weight_scale.value = scale
            check_depth_plot(d)
        for bias in (d.bias.min, d.bias.max):
            d.bias.value = bias
            check_depth_plot(d)
    d.bias.value = 0.0


def test_depth_explorer_gradient_vanishes_with_sigmoid_depth(depth_explorer):
    d = depth_explorer
    d.weight_scale.value = 1.0
    d.bias.value = 0.0
    d.width.value = 64
    d.activation.value = "sigmoid"
    d.depth.value = 5
    shallow = d.state.gradient_ratio
    before = d.image.value
    d.depth.value = 30
    assert d.image.value != before
    assert d.state.gradient_ratio < 1e-6 * shallow < shallow < 1
    assert "vanishing gradient" in d.summary.value


def test_depth_explorer_weight_scale_and_bias_directions(depth_explorer):
    d = depth_explorer
    d.activation.value = "relu"
    d.depth.value = 10
    d.bias.value = 0.0
    d.weight_scale.value = 1.0
    std_one = d.state.stats.std[-1]
    d.weight_scale.value = 10.0
    assert d.state.stats.std[-1] > 1e6 * std_one  # each ReLU block multiplies the spread by about g / sqrt(2)
    assert "exploding gradient" in d.summary.value
    d.weight_scale.value = 1.0
    dead_before = d.state.stats.dead.mean()
    d.bias.value = -5.0
    assert d.state.stats.dead.mean() > 0.9 > dead_before
    d.bias.value = 0.0


def test_depth_explorer_step_has_no_gradient(depth_explorer):
    d = depth_explorer
    d.depth.value = 5
    d.activation.value = "step"
    assert np.all(d.state.stats.grad_norm[:-1] == 0.0)
    assert np.all(d.line_grad.get_ydata()[:-1] == FLOOR)
    assert "no gradient reaches the first block" in d.summary.value


def test_depth_explorer_same_picture_when_a_slider_returns(depth_explorer):
    d = depth_explorer
    d.activation.value = "tanh"
    d.depth.value = 12
    first = d.state.stats.grad_norm.copy()
    d.depth.value = 13
    d.depth.value = 12
    np.testing.assert_array_equal(d.state.stats.grad_norm, first)


def test_depth_explorer_requires_a_generator():
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        DepthExplorer(0)
