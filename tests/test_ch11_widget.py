"""Chapter 11: RecurrentExplorer and GradientFlowExplorer, headless, driven through their controls."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.scratch.cell_trace import sequence_values
from dlcore.widgets.recurrent import CEILING, FLOOR, SEQUENCES, GradientFlowExplorer, RecurrentExplorer


def plotted_finite(fig) -> bool:
    for ax in fig.axes:
        for line in ax.get_lines():
            for values in line.get_data():
                values = np.asarray(values, dtype=float)
                if values.size and not np.all(np.isfinite(values)):
                    return False
        for image in ax.get_images():
            if not np.all(np.isfinite(np.asarray(image.get_array(), dtype=float))):
                return False
    return True


@pytest.fixture(scope="module")
def explorer():
    e = RecurrentExplorer()
    yield e
    e.widget.close()


def test_sequence_values():
    assert sequence_values("101").tolist() == [1.0, -1.0, 1.0]
    assert len(sequence_values("x" * 100)) == 32
    assert np.all(np.abs(sequence_values("Hello, world!")) <= 1)


def test_every_sequence_and_cell_draws(explorer):
    for name in SEQUENCES:
        explorer.sequence.value = name
        for kind in ("rnn", "lstm", "gru"):
            explorer.cell.value = kind
            state = explorer.state
            assert state.kind == kind and state.hidden.shape == (len(state.values), 8)
            rows = {"rnn": 1, "lstm": 5, "gru": 3}[kind]
            assert state.gates.shape == (len(state.values), rows, 8)
            assert plotted_finite(explorer.fig)
    explorer.cell.value = "lstm"


def test_gates_lie_in_their_ranges(explorer):
    explorer.sequence.value = "a sine wave"
    explorer.cell.value = "gru"
    r, z, n = explorer.state.gates.transpose(1, 0, 2)  # (T, 3, Hh) -> (3, T, Hh)
    assert r.min() >= 0 and z.max() <= 1 and n.min() >= -1
    explorer.cell.value = "lstm"
    i, f, g, o, c = explorer.state.gates.transpose(1, 0, 2)
    np.testing.assert_allclose(explorer.state.hidden, o * np.tanh(c))


def test_step_slider_and_typed_sequence(explorer):
    explorer.text.value = "0110"
    explorer.step.value = explorer.step.max  # past the end of a 4-step sequence: clamped, not an error
    assert explorer.state.step == 3 and "ends at t = 3" in explorer.summary.value
    explorer.step.value = 1
    assert explorer.state.step == 1 and explorer.state.values.tolist() == [-1.0, 1.0, 1.0, -1.0]
    explorer.text.value = "\u00e9\u4e2d!"  # any characters are accepted
    assert len(explorer.state.values) == 3 and plotted_finite(explorer.fig)
    explorer.text.value = ""
    assert explorer.state.source == SEQUENCES[explorer.sequence.value]


def test_gradient_flow_extremes_stay_finite():
    e = GradientFlowExplorer(length=20)
    try:
        for length in (e.length.min, e.length.max):
            for scale in (e.recurrent_scale.min, e.recurrent_scale.max):
                for bias in (e.memory_bias.min, e.memory_bias.max):
                    e.length.value, e.recurrent_scale.value, e.memory_bias.value = length, scale, bias
                    norms = e.state.norms
                    assert all(n.shape == (length + 1,) for n in norms.values())
                    assert all(np.all((n >= FLOOR) & (n <= CEILING)) for n in norms.values())
                    assert plotted_finite(e.fig)
    finally:
        e.widget.close()


def test_gradient_flow_tells_the_story():
    e = GradientFlowExplorer(length=50, recurrent_scale=0.5, memory_bias=0.0)
    try:
        assert e.state.norms["rnn"][0] < 1e-6  # small recurrent weights: the RNN's gradient vanishes
        e.recurrent_scale.value = 3.0
        assert e.state.norms["rnn"][0] > e.state.norms["rnn"][-1]  # large ones: it grows on the way back
        e.recurrent_scale.value, e.memory_bias.value = 1.0, 5.0
        assert e.state.norms["lstm"][0] > 1e-2 and e.state.norms["gru"][0] > 1e-2  # gates biased to remember
    finally:
        e.widget.close()


def test_explorer_shows_given_weights_of_any_hidden_size():
    rng = np.random.default_rng(3)
    Hh = 5
    weights = {"gru": (rng.standard_normal((3 * Hh, 1)), rng.standard_normal((3 * Hh, Hh)),
                       np.zeros(3 * Hh), np.zeros(3 * Hh))}
    trained = RecurrentExplorer(sequence="parity bits 1011001110", cell="gru", weights=weights, bit_values=(0.0, 1.0),
                                weights_label="trained on parity")
    state = trained.compute()
    assert [kind for _, kind in trained.cell.options] == ["gru"]
    assert state.hidden.shape == (10, Hh) and state.gates.shape == (10, 3, Hh)
    assert set(np.unique(state.values)) == {0.0, 1.0}
    assert "5 hidden units (trained on parity)" in trained.describe(state)
    assert plotted_finite(trained.fig)
    trained.widget.close()
