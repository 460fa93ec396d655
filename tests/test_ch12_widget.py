"""Chapter 12: AttentionExplorer, driven by setting its controls."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.widgets.attention import MAX_INPUT_LENGTH, AttentionExplorer


@pytest.fixture(scope="module")
def explorer():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    widget = AttentionExplorer()  # trains its own small reversal model
    yield widget
    widget.widget.close()
    torch.set_num_threads(threads)


def test_default_model_reverses_and_looks_at_the_mirror_position(explorer):
    explorer.text.value = "abcdef"
    state = explorer.state
    assert state.output == "fedcba"
    assert state.weights.shape == (7, 6)  # six characters and <eos>, by six inputs
    assert np.allclose(state.weights.sum(1), 1.0, atol=1e-5)
    # output t is input 5 - t; a forward GRU's state h_j summarises x_1..x_j, so the weight peaks at
    # position 5 - t or its right neighbour: the anti-diagonal band
    assert sum(int(np.argmax(state.weights[t]) in (5 - t, 6 - t)) for t in range(6)) >= 5
    assert explorer.image.value and "fedcba" in explorer.summary.value


def test_dropdown_sets_the_text_and_redraws(explorer):
    options = list(explorer.example.options)
    explorer.example.value = options[-1]
    explorer.text.value = "typed by hand"
    for option in options:  # every choice differs from the previous one, so each one is a change
        before = explorer.renders
        explorer.example.value = option
        assert explorer.text.value == option and explorer.state.typed == option
        assert explorer.renders == before + 1  # one redraw, not one for the dropdown and one for the text
    assert explorer.heatmap.get_array().shape == explorer.state.weights.shape


@pytest.mark.parametrize("typed", ["", "XYZ!?", " ", "a" * 100, "<eos>", "a"])
def test_extreme_inputs_neither_raise_nor_plot_nan(explorer, typed):
    explorer.text.value = typed
    state = explorer.state
    assert len(state.source) <= MAX_INPUT_LENGTH
    assert np.all(np.isfinite(np.asarray(explorer.heatmap.get_array(), dtype=float)))
    if not state.source:
        assert state.weights.shape == (0, 0) and "type characters" in explorer.message.get_text()
    if set(typed) - set("abcdefghij"):
        assert "ignored" in explorer.summary.value


def test_model_without_attention_is_refused():
    from dlcore.models.seq2seq import Seq2Seq
    from dlcore.data.translation import Vocabulary

    vocab = Vocabulary("ab")
    with pytest.raises(ValueError, match="the model has no attention"):
        AttentionExplorer(Seq2Seq(len(vocab), len(vocab), attention=None), vocab, vocab)
