"""Chapter 05: GraphExplorer, driven by setting its controls and clicking its buttons."""

import math

import numpy as np
import pytest

from dlcore.scratch.autograd import Value, topological_order
from dlcore.widgets.graph import INPUT_RANGE, PRESETS, GraphExplorer, format_number, graph_layout


@pytest.fixture
def explorer():
    widget = GraphExplorer("x*x + x (reused node)")
    yield widget
    widget.widget.close()


def shown_texts(widget):
    return [box.get_text() for box in widget._boxes]


def nothing_undefined_shown(widget) -> bool:
    state = widget.state
    texts = shown_texts(widget) + state.value_texts + state.grad_texts + [widget.summary.value]
    numbers = [v for v in state.values + state.grads if v is not None]
    return all("nan" not in text.lower() for text in texts) and not any(math.isnan(v) for v in numbers)


def test_starts_with_only_the_leaves_known(explorer):
    state = explorer.state
    assert state.phase == "inputs" and state.step == 0
    assert state.num_steps == 2 + 3  # two operations forward, three nodes backward
    assert state.values[0] == 3.0 and state.values[1:] == [None, None]
    assert all(g is None for g in state.grads)
    assert explorer.image.value and "Press <i>step</i>" in explorer.summary.value


def test_forward_then_backward_accumulates_the_reused_node(explorer):
    known = []
    for step in range(explorer.step.max + 1):
        explorer.step.value = step
        known.append(sum(v is not None for v in explorer.state.values))
    assert known == [1, 2, 3, 3, 3, 3]  # one more value per forward step
    explorer.step.value = 4  # backward: the + node and the * node have run, x not yet reached
    state = explorer.state
    assert state.phase == "backward" and state.grads[0] == 7.0 and not state.final[0]
    assert "so far" in shown_texts(explorer)[0]
    assert state.contributions == {0: 6.0}  # x * x passed 2 x = 6 to x (both edges)
    explorer.step.value = 5
    state = explorer.state
    assert state.final == [True, True, True] and state.grads[0] == 7.0  # 2x + 1
    assert "Done:" in explorer.summary.value and "d/dx = 7" in explorer.summary.value


@pytest.mark.parametrize("preset", list(PRESETS))
def test_final_gradients_equal_the_engine(preset):
    widget = GraphExplorer(preset)
    widget.step.value = widget.step.max
    spec = PRESETS[preset]
    leaves = [Value(v) for v in spec.defaults]
    spec.build(*leaves).backward()
    state = widget.state
    got = [state.grads[state.titles.index(name)] for name in spec.inputs]
    assert got == pytest.approx([leaf.grad for leaf in leaves])
    assert all(state.final)
    widget.widget.close()


def test_input_slider_changes_the_state_and_the_image(explorer):
    explorer.step.value = explorer.step.max
    image, renders = explorer.image.value, explorer.renders
    explorer.input_a.value = -2.0
    assert explorer.state.grads[0] == pytest.approx(2 * -2.0 + 1)
    assert explorer.image.value != image and explorer.renders == renders + 1
    assert explorer.state.step == explorer.step.max  # changing an input keeps the step


def test_buttons_move_the_step_within_bounds(explorer):
    explorer.back_button.click()
    assert explorer.step.value == 0
    explorer.next_button.click()
    explorer.next_button.click()
    assert explorer.step.value == 2 and explorer.state.phase == "forward"
    explorer.end_button.click()
    assert explorer.step.value == explorer.step.max
    explorer.next_button.click()
    assert explorer.step.value == explorer.step.max


def test_preset_change_resets_inputs_and_steps(explorer):
    explorer.step.value = 3
    explorer.preset.value = "2-2-1 network with loss"
    state = explorer.state
    assert state.step == 0 and explorer.step.max == state.num_steps > 30
    assert (explorer.input_a.description, explorer.input_b.description) == ("x1", "x2")
    assert not explorer.input_b.disabled
    explorer.preset.value = "a + a (reused node)"
    assert explorer.input_b.disabled and explorer.input_b.description == "(unused)"


def test_saturating_neuron_gradient_vanishes():
    widget = GraphExplorer("neuron sigmoid(w*x + b)")
    widget.step.value = widget.step.max
    widget.input_a.value = 1.0
    slopes = []
    for w in (1.0, 5.0, 15.0, INPUT_RANGE):
        widget.input_b.value = w
        slopes.append(abs(widget.state.grads[widget.state.titles.index("w")]))
    assert slopes == sorted(slopes, reverse=True) and slopes[-1] < 1e-10
    assert nothing_undefined_shown(widget)
    widget.widget.close()


@pytest.mark.parametrize("preset, a, b, words", [
    ("(x + y) / y (division)", 1.0, 0.0, "division by zero"),
    ("exp(x*y) (overflow)", INPUT_RANGE, INPUT_RANGE, "overflows a float"),
    ("exp(x*y) (overflow)", 1e9, -1e9, "overflows"),  # beyond the slider: clamped to -30 * 30, e^-900 is fine
])
def test_extreme_inputs_are_explained_not_plotted_as_nan(preset, a, b, words):
    widget = GraphExplorer(preset)
    widget.step.value = widget.step.max
    widget.input_a.value, widget.input_b.value = a, b
    state = widget.state
    assert nothing_undefined_shown(widget)
    if state.phase == "error":
        assert words in state.error and "undefined here" in widget.summary.value
        assert all(v is None for v, t in zip(state.values, state.titles) if t not in state.inputs)
    else:  # a product of -30 and 30 underflows gracefully instead
        assert state.values[-1] == pytest.approx(math.exp(-INPUT_RANGE**2), abs=1e-300)
    widget.input_b.value = 1.0  # recovers
    assert widget.state.phase == "backward" and nothing_undefined_shown(widget)
    widget.widget.close()


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("a, b", [(INPUT_RANGE, INPUT_RANGE), (-INPUT_RANGE, INPUT_RANGE), (0.0, 0.0), (1e-12, -1e-12)])
def test_every_preset_survives_extremes_at_every_phase(preset, a, b):
    widget = GraphExplorer(preset)
    widget.input_a.value = a
    if not widget.input_b.disabled:
        widget.input_b.value = b
    for step in (0, widget.step.max // 2, widget.step.max):
        widget.step.value = step
        assert nothing_undefined_shown(widget)
        assert widget.image.value
    widget.widget.close()


def test_unknown_preset_is_named():
    with pytest.raises(ValueError, match="unknown preset 'sin'"):
        GraphExplorer("sin")


def test_format_number_never_prints_nan():
    assert format_number(None) == "—"
    assert format_number(float("nan")) == "undefined"
    assert format_number(float("inf")) == "+inf" and format_number(-float("inf")) == "-inf"
    assert format_number(2.0) == "2" and format_number(1e300) == "1e+300"


def test_layout_puts_every_node_right_of_its_parents():
    x, y = Value(1.0), Value(2.0)
    order = topological_order((x * y + x).tanh() * y)
    positions = graph_layout(order)
    index = {id(node): i for i, node in enumerate(order)}
    assert positions.shape == (len(order), 2) and np.all(np.isfinite(positions))
    for i, node in enumerate(order):
        for parent in node.parents:
            assert positions[index[id(parent)], 0] < positions[i, 0]
    assert len({tuple(p) for p in positions}) == len(order)  # no two nodes on top of each other
