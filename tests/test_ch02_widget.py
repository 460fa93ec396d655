"""Chapter 02: NeuronPlayground, driven by setting its controls and clicking its buttons."""

import numpy as np
import pytest

from dlcore.scratch.perceptron import make_gate, perceptron_update
from dlcore.widgets.neuron import WEIGHT_RANGE, NeuronPlayground, boundary_segment


@pytest.fixture
def playground():
    explorer = NeuronPlayground(dataset="AND", w1=1.0, w2=1.0, b=-0.5)
    yield explorer
    explorer.widget.close()


def plotted_finite(explorer) -> bool:
    arrays = [explorer._region.get_array(), explorer._hidden_region.get_array(), *explorer._line.get_data(),
              *explorer._output_line.get_data(), *explorer._curve.get_data(),
              explorer._wrong.get_offsets(), *(p.get_offsets() for p in explorer._points)]
    for line in explorer._hidden_lines:
        arrays.extend(line.get_data())
    return all(np.all(np.isfinite(np.asarray(a, dtype=float))) for a in arrays)


def test_initial_state_is_or_line_on_and(playground):
    state = playground.state
    assert state.errors == 2  # OR's line on AND's data: (0, 1) and (1, 0) are wrong
    assert sorted(state.wrong.tolist()) == [1, 2]
    assert state.has_line and playground.image.value
    assert "2 of 4 points misclassified" in playground.summary.value


def test_sliders_move_the_line_and_redraw(playground):
    before = playground.image.value
    renders = playground.renders
    playground.b.value = -1.5  # now AND's line
    assert playground.state.errors == 0
    assert playground.image.value != before and playground.renders == renders + 1
    playground.w2.value = -1.0
    assert playground.state.errors > 0


def test_zero_weights_have_no_line_and_say_so(playground):
    playground.w1.value = 0.0
    playground.w2.value = 0.0
    for b, expected_class in ((0.0, 0), (2.0, 1), (-3.0, 0)):
        playground.b.value = b
        state = playground.state
        assert not state.has_line
        assert len(playground._line.get_xdata()) == 0
        assert np.all(state.predictions == expected_class)
        assert "no boundary line" in playground.summary.value
        assert plotted_finite(playground)


EXTREMES = [(WEIGHT_RANGE, -WEIGHT_RANGE, WEIGHT_RANGE), (1e-12, 0.0, -WEIGHT_RANGE), (0.0, 1e-9, 0.0),
            (1e6, -1e6, 1e6)]


@pytest.mark.parametrize("mode", ["neuron", "xor_mlp"])
def test_extreme_values_do_not_break_anything(mode):
    explorer = NeuronPlayground(dataset="AND", mode=mode)
    for dataset in ("AND", "blobs"):
        explorer.dataset.value = dataset
        for values in EXTREMES:
            explorer.w1.value, explorer.w2.value, explorer.b.value = values
            assert abs(explorer.w1.value) <= WEIGHT_RANGE  # the slider clamps
            assert plotted_finite(explorer), (dataset, values)
        explorer.step_button.click()
        assert plotted_finite(explorer)
    explorer.widget.close()


def test_boundary_segment_is_inside_the_box_and_on_the_line():
    for w, b in (((1.0, 2.0), -0.5), ((0.0, 3.0), 1.0), ((2.0, 0.0), -1.0), ((1e-8, 1.0), 0.2)):
        xs, ys = boundary_segment(np.array(w), b, (-1.0, 1.0), (-2.0, 2.0))
        assert len(xs) == 2
        assert np.all((-1 - 1e-9 <= xs) & (xs <= 1 + 1e-9)) and np.all((-2 - 1e-9 <= ys) & (ys <= 2 + 1e-9))
        np.testing.assert_allclose(w[0] * xs + w[1] * ys + b, 0.0, atol=1e-9)
    assert len(boundary_segment(np.zeros(2), 1.0, (-1, 1), (-1, 1))[0]) == 0
    assert len(boundary_segment(np.array([1.0, 0.0]), -5.0, (-1, 1), (-1, 1))[0]) == 0  # x = 5 is off the box


def test_perceptron_step_applies_the_rule_to_the_next_mistake(playground):
    X, y = make_gate("AND")
    w, b = np.array([playground.w1.value, playground.w2.value]), playground.b.value
    first_wrong = int(playground.state.wrong.min())
    playground.step_button.click()
    w_new, b_new = perceptron_update(X[first_wrong], y[first_wrong], w, b)
    assert (playground.w1.value, playground.w2.value, playground.b.value) == (w_new[0], w_new[1], b_new)
    assert playground.state.steps == 1
    assert f"point {first_wrong}" in playground.summary.value


@pytest.mark.parametrize("dataset", ["AND", "OR", "NAND", "blobs"])
def test_steps_from_reset_converge_on_separable_data(dataset):
    explorer = NeuronPlayground(dataset=dataset)
    explorer.reset_button.click()
    assert (explorer.w1.value, explorer.w2.value, explorer.b.value) == (0.0, 0.0, 0.0)
    for _ in range(60):
        if explorer.state.errors == 0:
            break
        explorer.step_button.click()
    assert explorer.state.errors == 0
    assert "Converged" in explorer.summary.value
    weights = (explorer.w1.value, explorer.w2.value, explorer.b.value)
    explorer.step_button.click()  # nothing left to fix
    assert (explorer.w1.value, explorer.w2.value, explorer.b.value) == weights
    assert "changes nothing" in explorer.summary.value
    explorer.widget.close()


def test_xor_never_converges_but_the_mlp_mode_solves_it():
    explorer = NeuronPlayground(dataset="XOR")
    explorer.reset_button.click()
    errors = []
    for _ in range(20):
        explorer.step_button.click()
        errors.append(explorer.state.errors)
    assert min(errors) >= 1
    assert "No line separates XOR" in explorer.summary.value
    curve = explorer._curve.get_ydata()
    assert len(curve) == 21 and np.all(curve >= 1)  # step 0 plus 20 steps
    explorer.mode.value = "xor_mlp"  # the hand-set output unit
    assert explorer.state.errors == 0
    assert [len(line.get_xdata()) for line in explorer._hidden_lines] == [2, 2]
    assert explorer._output_line.get_visible() and not explorer._curve.get_visible()
    explorer.reset_button.click()  # learn the output unit on the hidden features instead
    assert explorer.state.errors > 0
    for _ in range(30):
        if explorer.state.errors == 0:
            break
        explorer.step_button.click()
    assert explorer.state.errors == 0
    explorer.widget.close()


def test_steps_that_leave_the_slider_range_are_clipped_and_reported():
    explorer = NeuronPlayground(dataset="AND", w1=4.0, w2=4.0, b=-WEIGHT_RANGE)
    # only (1, 1) is wrong (z = -2); its update adds (1, 1, 1) and stays inside the range
    explorer.step_button.click()
    assert explorer.b.value == -WEIGHT_RANGE + 1 and "clipped" not in explorer.summary.value
    explorer.w1.value = WEIGHT_RANGE - 0.5
    explorer.w2.value = -WEIGHT_RANGE
    explorer.b.value = -WEIGHT_RANGE  # (1, 1): z = -10.5, so add x: w1 -> 10.5 is clipped
    explorer.step_button.click()
    assert explorer.w1.value == WEIGHT_RANGE
    assert "clipped" in explorer.summary.value
    explorer.widget.close()


def test_changing_dataset_restarts_the_history(playground):
    playground.step_button.click()
    assert playground.state.steps == 1
    playground.dataset.value = "blobs"
    assert playground.state.steps == 0 and len(playground._curve.get_xdata()) == 0
    assert len(playground.state.y) == 40
