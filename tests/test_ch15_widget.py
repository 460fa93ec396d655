"""Chapter 15: CompressionExplorer, driven by setting its controls."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.widgets.compression import BIT_CHOICES, SPARSITY_GRID, CompressionExplorer


@pytest.fixture(scope="module")
def explorer():
    widget = CompressionExplorer()
    yield widget
    widget.widget.close()


def finite_plot(widget) -> bool:
    data = [np.asarray(line.get_ydata(), dtype=float) for line in widget.lines.values()]
    data += [np.asarray(widget.marker.get_data(), dtype=float)]
    return all(np.all(np.isfinite(d)) for d in data)


def test_defaults_give_a_trained_model_and_its_sizes(explorer):
    state = explorer.state
    assert state.float_accuracy > 0.9
    assert state.sizes["dense float32"] == 4 * 8832
    assert state.sizes["dense, 8 bits"] == 8832
    assert set(state.curves) == {"global", "layerwise"} and state.curves["global"].shape == SPARSITY_GRID.shape


def test_sparsity_and_bits_move_accuracy_and_size(explorer):
    explorer.bits.value = 32
    explorer.sparsity.value = 0.0
    dense = explorer.state
    assert dense.accuracy == pytest.approx(dense.float_accuracy)
    explorer.sparsity.value = 0.98
    sparse = explorer.state
    assert sparse.accuracy < dense.accuracy - 0.3
    assert sparse.sizes["sparse CSR, 32 bits"] < dense.sizes["sparse CSR, 32 bits"] / 10
    assert sparse.sizes["dense, 32 bits"] == dense.sizes["dense, 32 bits"]  # zeros in a dense matrix save nothing
    assert finite_plot(explorer)


def test_every_extreme_setting_is_finite_and_global_beats_layerwise_when_sparse(explorer):
    for bits in (BIT_CHOICES[0][1], BIT_CHOICES[-1][1]):  # 32 and 2 bits: the extremes
        for scope in ("global", "layerwise"):
            for sparsity in (0.0, 0.98):
                explorer.bits.value, explorer.scope.value, explorer.sparsity.value = bits, scope, sparsity
                assert 0 <= explorer.state.accuracy <= 1 and finite_plot(explorer)
    explorer.bits.value = 8
    curves = explorer.state.curves
    high = SPARSITY_GRID >= 0.7
    assert curves["global"][high].mean() > curves["layerwise"][high].mean()
    explorer.bits.value = 2
    assert explorer.state.curves["global"][0] < curves["global"][0]  # 2 bits cost accuracy even unpruned
    assert explorer.renders > 10 and "masking alone saves nothing" in explorer.summary.value


def test_a_float64_model_is_explored_in_float64(explorer):
    import torch

    from dlcore.practice.common import make_mlp
    from dlcore.practice.compression import trained_mlp

    model = make_mlp(seed=0, dtype=torch.float64)
    x_test = np.asarray(explorer.x_test, dtype=np.float32)
    weights, biases, x, y = trained_mlp(model, x_test, explorer.y_test)
    assert {w.dtype for w in weights} == {b.dtype for b in biases} == {x.dtype} == {np.dtype(np.float64)}
    widget = CompressionExplorer(sparsity=0.9, bits=4, trained=(weights, biases, x, y))
    assert widget.state.sizes["dense float32"] == 4 * 8832 and finite_plot(widget)
    assert "full precision" in widget.summary.value
    widget.widget.close()
