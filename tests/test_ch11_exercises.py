"""Chapter 11 checks: each passes the reference and fails plausible wrong answers with their diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.exercises import ch11
from dlcore.exercises.core import ExerciseFailed


def _not_done(*args, **kwargs):
    raise NotImplementedError("Exercise 11.x: write your code here")


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def test_rnn_cell():
    assert ch11.check_rnn_cell(ch11.reference_rnn_cell).passed
    assert ch11.check_rnn_cell(lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + h @ Wh.T + (bi + bh))).passed
    wrong = {
        "the weights are used untransposed": lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi + bi + h @ Wh + bh),
        "W_hh is used untransposed": lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + h @ Wh + bh),
        "b_hh is missing": lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + h @ Wh.T),
        "h_prev is ignored": lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + bh),
        "you applied the sigmoid": lambda x, h, Wi, Wh, bi, bh: _sigmoid(x @ Wi.T + bi + h @ Wh.T + bh),
        "you returned the pre-activation": lambda x, h, Wi, Wh, bi, bh: x @ Wi.T + bi + h @ Wh.T + bh,
        "REPLACES its state": lambda x, h, Wi, Wh, bi, bh: h + np.tanh(x @ Wi.T + bi + h @ Wh.T + bh),
    }
    for message, function in wrong.items():
        with pytest.raises(ExerciseFailed, match=message):
            ch11.check_rnn_cell(function)
    with pytest.raises(NotImplementedError, match="Exercise 11.1 is not done yet"):
        ch11.check_rnn_cell(_not_done)


def test_lstm_parameter_count():
    assert ch11.check_lstm_parameter_count(lambda D, H: 4 * (H * D + H * H + 2 * H)).passed
    wrong = {
        "TWO bias vectors": lambda D, H: 4 * H * (D + H + 1),
        "the biases are missing": lambda D, H: 4 * H * (D + H),
        "a GRU": lambda D, H: 3 * H * (D + H + 2),
        "a plain RNN": lambda D, H: H * (D + H + 2),
        "the recurrent weights are missing": lambda D, H: 4 * H * (D + 2),
        "D and Hh are swapped": lambda D, H: 4 * D * (D + H + 2),
    }
    for message, function in wrong.items():
        with pytest.raises(ExerciseFailed, match=message):
            ch11.check_lstm_parameter_count(function)
    with pytest.raises(NotImplementedError, match="Exercise 11.2 is not done yet"):
        ch11.check_lstm_parameter_count(_not_done)


def test_lstm_parameter_count_agrees_with_pytorch():
    import torch

    lstm = torch.nn.LSTM(10, 20)
    assert sum(p.numel() for p in lstm.parameters()) == ch11.reference_lstm_parameter_count(10, 20) == 2560


def test_gradient_factor():
    assert ch11.check_gradient_factor(lambda w, h: np.prod([w * (1 - v * v) for v in h[1:]])).passed
    wrong = {
        "off by one step": lambda w, h: np.prod(w * (1 - h[:-1] ** 2)),
        "the tanh derivative is missing": lambda w, h: w ** (len(h) - 1),
        "w is missing": lambda w, h: np.prod(1 - h[1:] ** 2),
        "you added them": lambda w, h: np.sum(w * (1 - h[1:] ** 2)),
        "h_t is already tanh": lambda w, h: np.prod(w * (1 - np.tanh(h[1:]) ** 2)),
        "the square is missing": lambda w, h: np.prod(w * (1 - h[1:])),
        "the SIGMOID's derivative": lambda w, h: np.prod(w * h[1:] * (1 - h[1:])),
    }
    for message, function in wrong.items():
        with pytest.raises(ExerciseFailed, match=message):
            ch11.check_gradient_factor(function)
    with pytest.raises(NotImplementedError, match="Exercise 11.3 is not done yet"):
        ch11.check_gradient_factor(_not_done)


def test_gradient_prediction():
    right = ("vanishing", "exploding", "vanishing", "stable", "stable")
    assert [regime for regime, _ in ch11.measure_gradient_regimes()] == list(right)
    assert ch11.check_gradient_prediction(right).passed
    with pytest.raises(ExerciseFailed, match="LSTM \\(scale 1, gate bias 0\\) is vanishing, not stable: with zero gate"):
        ch11.check_gradient_prediction(("vanishing", "exploding", "stable", "stable", "stable"))
    with pytest.raises(ExerciseFailed, match="RNN \\(scale 4, gate bias 0\\) is exploding, not vanishing"):
        ch11.check_gradient_prediction(("vanishing", "vanishing", "vanishing", "stable", "stable"))
    with pytest.raises(ExerciseFailed, match="should be a tuple of 5 words"):
        ch11.check_gradient_prediction(("vanishing",))
    with pytest.raises(NotImplementedError, match="Exercise 11.4 is not done yet"):
        ch11.check_gradient_prediction(...)
