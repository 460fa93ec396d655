"""The from-scratch character model that chapter 11 trains on the learner's LSTM cell (dlcore.scratch.char_lstm)."""

from __future__ import annotations

import numpy as np

from dlcore.data.sequences import zen_of_python
from dlcore.scratch.char_lstm import CharLSTM, char_lstm_loss, sample_char_lstm, train_char_lstm
from dlcore.scratch.losses import softmax_cross_entropy_backward, softmax_cross_entropy_forward
from dlcore.scratch.lstm import lstm_cell_backward, lstm_cell_forward, lstm_forward
from dlcore.scratch.cell_trace import run_cell, sequence_values
from dlcore.widgets.recurrent import RecurrentExplorer

TOLERANCE = 1e-6  # float64 central differences with step 1e-6 agree with the analytic gradient to ~1e-9


def _loss(model, ids, targets):
    logits, _, caches = model.run(ids, lstm_cell_forward)
    T, N, V = logits.shape
    loss, cache = softmax_cross_entropy_forward(logits.reshape(T * N, V), targets.reshape(T * N))
    return loss, softmax_cross_entropy_backward(cache).reshape(T, N, V), caches


def test_backward_matches_finite_differences_for_every_parameter():
    rng = np.random.default_rng(0)
    model = CharLSTM(5, 3, 4, rng=rng)
    ids, targets = rng.integers(0, 5, size=(3, 2)), rng.integers(0, 5, size=(3, 2))  # (T, N)
    _, dlogits, caches = _loss(model, ids, targets)
    model.zero_grad()
    model.backward(dlogits, caches, lstm_cell_backward)
    for name, parameter in model.named_parameters():
        numeric = np.zeros_like(parameter.value)
        for index in np.ndindex(parameter.value.shape):
            saved = parameter.value[index]
            parameter.value[index] = saved + 1e-6
            plus = _loss(model, ids, targets)[0]
            parameter.value[index] = saved - 1e-6
            minus = _loss(model, ids, targets)[0]
            parameter.value[index] = saved
            numeric[index] = (plus - minus) / 2e-6
        assert parameter.grad.shape == parameter.value.shape
        assert np.allclose(parameter.grad, numeric, atol=TOLERANCE), name


def test_the_unrolled_cell_equals_the_lstm_layer():
    rng = np.random.default_rng(1)
    model = CharLSTM(7, 3, 5, rng=rng)
    ids = rng.integers(0, 7, size=(6, 2))
    logits, (h, c), _ = model.run(ids, lstm_cell_forward)
    out, cache = lstm_forward(model.embedding.weight.value[ids], np.zeros((2, 5)), np.zeros((2, 5)), *model.weights())
    assert np.allclose(h, out[-1]) and np.allclose(c, cache.c[-1])
    assert np.allclose(logits, out @ model.head.W.value + model.head.b.value)


def test_training_runs_on_the_cell_it_is_given_and_learns():
    calls = {"forward": 0, "backward": 0}

    def counting_forward(*args):
        calls["forward"] += 1
        return lstm_cell_forward(*args)

    def counting_backward(*args):
        calls["backward"] += 1
        return lstm_cell_backward(*args)

    model, vocabulary, losses = train_char_lstm(zen_of_python(), counting_forward, counting_backward, hidden_size=16,
                                                seq_len=8, batch_size=8, num_steps=30, learning_rate=0.05)
    assert calls == {"forward": 30 * 8, "backward": 30 * 8}
    assert losses[0] > np.log(len(vocabulary)) - 0.1 and np.mean(losses[-5:]) < losses[0] - 0.5
    first = sample_char_lstm(model, vocabulary, "Beautiful", 20, lstm_cell_forward, seed=3)
    assert first.startswith("Beautiful") and len(first) == len("Beautiful") + 20
    assert first == sample_char_lstm(model, vocabulary, "Beautiful", 20, lstm_cell_forward, seed=3)
    greedy = sample_char_lstm(model, vocabulary, "The", 10, lstm_cell_forward, temperature=0)
    assert greedy == sample_char_lstm(model, vocabulary, "The", 10, lstm_cell_forward, temperature=0, seed=9)


def test_the_explorer_runs_the_lstm_cell_it_is_given():
    calls = []

    def cell(*args):
        calls.append(1)
        return lstm_cell_forward(*args)

    explorer = RecurrentExplorer(sequence="a single pulse, then silence", cell="lstm", lstm_cell=cell)
    assert len(calls) == len(sequence_values("1000000000000000"))
    default_hidden, _ = run_cell("lstm", sequence_values("101"), explorer.weights["lstm"])
    given_hidden, _ = run_cell("lstm", sequence_values("101"), explorer.weights["lstm"], cell)
    assert np.array_equal(default_hidden, given_hidden)


def test_fixed_vocabulary_and_held_out_loss():
    from dlcore.data.corpus import CHARACTERS

    text = "the cat sat on the mat. " * 20
    model, vocabulary, losses = train_char_lstm(text, lstm_cell_forward, lstm_cell_backward, hidden_size=8,
                                                embedding_dim=4, seq_len=8, batch_size=4, num_steps=3,
                                                vocabulary=CHARACTERS)
    assert vocabulary == CHARACTERS and model.head.W.value.shape[1] == len(CHARACTERS)
    loss = char_lstm_loss(model, vocabulary, text, lstm_cell_forward, num_streams=4, warmup=2)
    assert np.isfinite(loss) and 0 < loss < np.log(len(CHARACTERS)) + 1
    # a uniform model scores exactly ln V
    for parameter in model.parameters():
        parameter.value[...] = 0.0
    uniform = char_lstm_loss(model, vocabulary, text, lstm_cell_forward, num_streams=4)
    assert np.isclose(uniform, np.log(len(CHARACTERS)))
    with np.testing.assert_raises(ValueError):
        char_lstm_loss(model, vocabulary, text[:40], lstm_cell_forward, num_streams=4)
