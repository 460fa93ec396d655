"""Chapter 09: ConvolutionExplorer and DigitPad, driven by setting their controls."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.models.lenet import LeNet5
from dlcore.scratch.im2col import conv_output_size
from dlcore.widgets.convolution import CUSTOM, KERNELS, ConvolutionExplorer
from dlcore.widgets.digit_pad import GRID, DigitPad, mosaic, preset_cells


@pytest.fixture(scope="module")
def explorer():
    rng = np.random.default_rng(0)
    widget = ConvolutionExplorer(image=rng.uniform(size=(12, 17)))  # a small image keeps the tests quick
    yield widget
    widget.widget.close()


def test_window_arithmetic_is_the_output_value(explorer):
    explorer.kernel.value = "sharpen"
    explorer.row.value, explorer.col.value = 3, 5
    state = explorer.state
    assert state.value == pytest.approx(float(np.sum(state.window * np.array(KERNELS["sharpen"]))))
    assert state.value == pytest.approx(state.output[3, 5])
    assert "output[3, 5] = " in explorer.summary.value


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (4, 2), (3, 0)])
def test_output_size_follows_the_formula(explorer, stride, padding):
    explorer.stride.value, explorer.padding.value = stride, padding
    H, W = explorer.photo.shape
    assert explorer.state.output.shape == (conv_output_size(H, 3, stride, padding), conv_output_size(W, 3, stride, padding))
    assert explorer.state.padded.shape == (H + 2 * padding, W + 2 * padding)


def test_editing_a_weight_switches_to_custom_and_extremes_stay_finite(explorer):
    explorer.kernel.value = "identity"
    explorer.weights[4].value = 5.0
    assert explorer.kernel.value == CUSTOM
    assert explorer.state.kernel[1, 1] == 5.0
    for slider in explorer.weights:
        slider.value = 0.0  # an all-zero kernel: a flat output, still drawable
    state = explorer.state
    assert np.all(state.output == 0) and np.all(np.isfinite(explorer._output.get_clim()))
    explorer.row.value, explorer.col.value = explorer.row.max, explorer.col.max  # beyond the output: clamped
    state = explorer.state
    assert state.row == state.output.shape[0] - 1 and state.col == state.output.shape[1] - 1


def test_presets_reload_the_sliders(explorer):
    explorer.kernel.value = "vertical edges (Sobel x)"
    np.testing.assert_allclose([s.value for s in explorer.weights], np.ravel(KERNELS["vertical edges (Sobel x)"]))


@pytest.fixture(scope="module")
def pad():
    torch.manual_seed(0)
    widget = DigitPad(model=LeNet5(input_size=28).eval())  # untrained: the test is about the plumbing
    yield widget
    widget.widget.close()


def test_pad_matches_the_torch_model(pad):
    pad.preset.value = "digit 4"
    state = pad.state
    np.testing.assert_array_equal(state.cells, preset_cells()["digit 4"])
    with torch.no_grad():
        x = torch.tensor(state.image, dtype=torch.float32)[None, None]
        expected = torch.softmax(pad.model(x), dim=1)[0].numpy()
        c1 = pad.model.feature_maps(x)["C1"][0].numpy()
    np.testing.assert_allclose(state.probabilities, expected, atol=1e-5)
    np.testing.assert_allclose(state.c1, c1, atol=1e-5)
    assert state.c3.shape == (16, 10, 10)


def test_pad_clicks_shift_and_clear(pad):
    pad.preset.value = "clear"
    assert not pad.state.cells.any() and "empty" in pad.summary.value
    renders = pad.renders
    pad.cells[3 * GRID + 5].value = True  # one click, one redraw
    assert pad.renders == renders + 1 and pad.state.cells[3, 5] == 1
    pad.shift.value = 2
    assert pad.state.cells[3, 7] == 1 and pad.state.cells.sum() == 1
    pad.shift.value = -4
    assert pad.state.cells[3, 1] == 1
    pad.shift.value = 4
    pad.set_cells(np.ones((GRID, GRID)))
    assert pad.state.cells[:, :4].sum() == 0 and np.all(np.isfinite(pad.state.probabilities))
    pad.shift.value = 0


def test_pad_rejects_other_models_and_mosaic_of_constant_maps_is_finite():
    with pytest.raises(TypeError, match="model must be a dlcore.models.lenet.LeNet5"):
        DigitPad(model=torch.nn.Linear(2, 2))
    tiles = mosaic(np.ones((6, 4, 4)), 3)
    assert tiles.shape == (9, 14) and np.all(np.isfinite(tiles[:4, :4]))


def test_presets_are_mnist_test_digits_drawn_the_pad_way():
    from dlcore.data import load_mnist
    from dlcore.training.digits_cnn import to_pad_style

    X, y = load_mnist("test", dtype=np.float32)
    four = X[np.flatnonzero(y == 4)[2]]
    np.testing.assert_array_equal(preset_cells(2)["digit 4"], to_pad_style(four[None, None])[0, 0, ::2, ::2])
    assert set(np.unique(preset_cells()["digit 0"])) == {0.0, 1.0}
    with pytest.raises(ValueError, match="index must be an int from 0 to 99"):
        preset_cells(100)
