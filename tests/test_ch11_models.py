"""Chapter 11: the article's XOR RNN (errors reproduced, fix trains), Jordan network, sequence models."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.articles import article_004_rnn_xor as article
from dlcore.data.sequences import make_parity, zen_of_python
from dlcore.errors import ShapeError
from dlcore.models.recurrent import CharLM, sample_text, train_char_lm
from dlcore.scratch.jordan import jordan_forward
from dlcore.scratch.sequence_model import SequenceClassifier, per_step_accuracy, train_sequence_classifier


def test_article_errors_are_reproduced():
    given = article.run_as_given(num_epochs=3)
    assert given.error.startswith("IndexError: too many indices") and given.epoch == 0
    batched = article.run_with_batch_axis(num_epochs=3)
    assert batched.error.startswith("RuntimeError: Trying to backward through the graph a second time")
    assert batched.epoch == 1 and len(batched.losses) == 1
    detached = article.run_detached(num_epochs=5)
    assert detached.error is None and len(detached.losses) == 5


def test_article_fixed_version_learns_xor():
    model, run = article.train_fixed(num_epochs=150)
    assert run.accuracy == 1.0 and run.losses[-1] < run.losses[0]


def test_jordan_feeds_back_the_output():
    rng = np.random.default_rng(0)
    T, N, D, Hh, M = 4, 2, 3, 5, 1
    W_ih, W_yh, b_h = rng.standard_normal((Hh, D)), rng.standard_normal((Hh, M)), rng.standard_normal(Hh)
    W_hy, b_y = rng.standard_normal((M, Hh)), rng.standard_normal(M)
    x, y0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, M))
    hidden, outputs = jordan_forward(x, y0, W_ih, W_yh, b_h, W_hy, b_y)
    assert hidden.shape == (T, N, Hh) and outputs.shape == (T, N, M)
    np.testing.assert_allclose(hidden[2], np.tanh(x[2] @ W_ih.T + outputs[1] @ W_yh.T + b_h))
    with pytest.raises(ShapeError, match=r"W_yh has shape \(5, 2\) but expected \(Hh, M\)"):
        jordan_forward(x, y0, W_ih, np.zeros((Hh, 2)), b_h, W_hy, b_y)


def test_scratch_sequence_classifier_learns_running_parity():
    X, y = make_parity(256, 4, seed=0)
    model = SequenceClassifier("gru", 1, 8, 2, rng=np.random.default_rng(0))
    history = train_sequence_classifier(model, X, y, num_steps=150, learning_rate=0.03, rng=np.random.default_rng(1))
    assert history["loss"][-1] < 0.2 and max(history["grad_norm"]) > 0
    assert per_step_accuracy(model, *make_parity(64, 4, seed=1)).min() > 0.9
    with pytest.raises(ValueError, match="kind must be one of"):
        SequenceClassifier("transformer", 1, 8, 2, rng=np.random.default_rng(0))


def test_char_lm_sampling_is_reproducible():
    model, vocabulary, losses = train_char_lm(zen_of_python(), hidden_size=16, seq_len=8, num_steps=5)
    assert isinstance(model, CharLM) and len(losses) == 5
    first = sample_text(model, vocabulary, "Beautiful", 30, seed=3)
    assert first == sample_text(model, vocabulary, "Beautiful", 30, seed=3)
    assert first.startswith("Beautiful") and len(first) == 39
    greedy = sample_text(model, vocabulary, "The", 10, temperature=0)
    assert greedy == sample_text(model, vocabulary, "The", 10, temperature=0, seed=9)
    logits, _ = model(torch.zeros((5, 2), dtype=torch.long))
    assert logits.shape == (5, 2, len(vocabulary))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_state_gradient_norms_agree_with_the_layer_backward(kind):
    """The per-step measurement (cell kernels) gives the same dL/dh_0 as the layer's BPTT with dh_n."""
    from dlcore.scratch.gradient_flow import recurrent_weights, state_gradient_norms
    from dlcore.scratch.gru import gru_backward, gru_forward
    from dlcore.scratch.lstm import lstm_backward, lstm_forward
    from dlcore.scratch.rnn import rnn_backward, rnn_forward

    rng = np.random.default_rng(2)
    x = rng.standard_normal((12, 3, 2))
    weights = recurrent_weights(kind, 2, 5, recurrent_scale=1.5, memory_bias=1.0, rng=rng)
    upstream = rng.standard_normal((3, 5))
    norms = state_gradient_norms(kind, x, weights, upstream)
    h0 = np.zeros((3, 5))
    if kind == "lstm":
        out, cache = lstm_forward(x, h0, h0, *weights)
        dh0 = lstm_backward(np.zeros_like(out), cache, upstream)[1]
    else:
        forward, backward = (rnn_forward, rnn_backward) if kind == "rnn" else (gru_forward, gru_backward)
        out, cache = forward(x, h0, *weights)
        dh0 = backward(np.zeros_like(out), cache, upstream)[1]
    assert norms.shape == (13,)
    np.testing.assert_allclose(norms[0], np.linalg.norm(dh0, axis=1).mean(), rtol=1e-10)
    np.testing.assert_allclose(norms[-1], np.linalg.norm(upstream, axis=1).mean(), rtol=1e-12)
