"""Chapter 10's explorers, headless, driven through their controls."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.models.gradient_spreads import gradient_spreads
from dlcore.widgets.architecture import ARCHITECTURES, INPUT_SIZES, ArchitectureExplorer, ResidualExplorer
from tests.helpers import figure_finite


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def test_architecture_explorer_reports_reference_totals():
    explorer = ArchitectureExplorer(model="ResNet-18 (2015)", size=224)
    assert explorer.state.summary.total_params == 11_689_512
    assert explorer.state.summary.receptive_field.r == 435
    explorer.model.value = "VGG-16 (2014)"
    assert explorer.state.summary.total_params == 138_357_544
    assert "138,357,544" in explorer.summary.value and "features.0.0" in explorer.summary.value
    assert explorer.image.value and figure_finite(explorer.fig)


def test_architecture_explorer_input_size_changes_compute_not_parameters():
    explorer = ArchitectureExplorer(model="VGG-16 (2014)", size=224)
    big = explorer.state.summary
    explorer.size.value = 32
    small = explorer.state.summary
    assert small.total_params == big.total_params
    conv = lambda s: sum(r.macs for r in s.rows if r.kind == "Conv2d")
    assert conv(big) == 49 * conv(small)


def test_architecture_explorer_survives_every_model_at_extreme_sizes():
    explorer = ArchitectureExplorer(model="LeNet-5 (1998)", size=32)
    explorer.size.value = min(INPUT_SIZES)
    for name in ARCHITECTURES:  # at the smallest size most do not fit: a message, no exception
        explorer.model.value = name
        assert figure_finite(explorer.fig)
    explorer.size.value = max(INPUT_SIZES)
    assert explorer.state.summary.total_params == 25_557_032 and figure_finite(explorer.fig)
    explorer.model.value = "AlexNet (2012)"
    explorer.size.value = 28
    assert explorer.state.summary is None and "too small" in explorer.state.error
    assert "does not fit" in explorer.message.get_text()
    assert "designed for 224×224" in explorer.summary.value
    explorer.model.value = "LeNet-5 (1998)"
    explorer.size.value = 224
    assert explorer.state.summary is None


def test_residual_explorer_shows_the_spread_of_plain_gradients():
    explorer = ResidualExplorer(num_blocks=12)
    state = explorer.state
    assert state.depth == 26 and len(state.plain) == len(state.residual) == 26
    assert state.spread(state.plain) > 3 * state.spread(state.residual)
    explorer.batch_norm.value = False
    assert explorer.state.spread(explorer.state.plain) < 1e-6 < explorer.state.spread(explorer.state.residual)
    assert "plain" in explorer.summary.value


@pytest.mark.parametrize("blocks, batch_norm", [(1, True), (1, False), (20, False), (20, True)])
def test_residual_explorer_extremes_plot_finite_values(blocks, batch_norm):
    explorer = ResidualExplorer(num_blocks=2)
    explorer.num_blocks.value = blocks
    explorer.batch_norm.value = batch_norm
    assert len(explorer.plain_line.get_xdata()) == 2 * blocks + 2
    assert figure_finite(explorer.fig)


def test_residual_explorer_computes_in_float32_and_offers_float64():
    fast = ResidualExplorer(num_blocks=3)
    assert fast.x.dtype == torch.float32
    explorer = ResidualExplorer(num_blocks=3, dtype=torch.float64)
    assert explorer.x.dtype == torch.float64
    # the same weights: the two precisions agree to float32's accuracy
    np.testing.assert_allclose(fast.state.plain, explorer.state.plain, rtol=1e-3)
    np.testing.assert_allclose(fast.state.residual, explorer.state.residual, rtol=1e-3)


@pytest.mark.parametrize("build", [lambda: ResidualExplorer(num_blocks=2, dtype=torch.int32),
                                   lambda: gradient_spreads(2, dtype=torch.float16)])
def test_a_bad_dtype_is_named(build):
    with pytest.raises(ValueError, match=r"(ResidualExplorer|gradient_spreads): dtype must be "
                                         r"torch.float32 or torch.float64"):
        build()


def test_gradient_spreads_are_the_explorers_ratios_for_each_seed():
    spreads = gradient_spreads(4, batch_norm=False, seeds=(0, 2))
    assert spreads.shape == (2, 2)
    for row, seed in zip(spreads, (0, 2)):
        state = ResidualExplorer(num_blocks=4, batch_norm=False, seed=seed, dtype=torch.float64).state
        assert row[0] == state.spread(state.plain) and row[1] == state.spread(state.residual)
    assert spreads[0, 0] != spreads[1, 0]  # another seed, other weights and digits
    with pytest.raises(ValueError, match="gradient_spreads: seeds must name at least one seed"):
        gradient_spreads(2, seeds=())
