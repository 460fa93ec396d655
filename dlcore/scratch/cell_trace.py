"""One sequence through one recurrent cell, step by step, with its gates (chapter 11's explorer).

:func:`sequence_values` turns a short text into T scalar inputs; :func:`run_cell` feeds them to an
RNN, LSTM or GRU cell (batch of one, input size 1) and keeps the hidden state and the gates of
every step, which :class:`dlcore.widgets.recurrent.RecurrentExplorer` draws.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.errors import ShapeError, as_float_array, expect_finite, format_shape
from dlcore.scratch.gradient_flow import GATES
from dlcore.scratch.gru import gru_cell_forward
from dlcore.scratch.lstm import lstm_cell_forward
from dlcore.scratch.rnn import rnn_cell_forward

__all__ = ["MAX_STEPS", "sequence_values", "run_cell"]

MAX_STEPS = 32  # longer texts are cut: the explorer shows one column per step


def sequence_values(text: str, bit_values: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """A sequence as T scalar inputs in [-1, 1]: '0'/'1' strings as ``bit_values`` (-1/+1 by default),
    'sine' as a sine wave, anything else character by character ((code point mod 32) / 16 - 1).
    At most :data:`MAX_STEPS` steps."""
    if len(bit_values) != 2:
        raise ValueError(f"sequence_values: bit_values must be (value of '0', value of '1'), got {bit_values!r}")
    text = str(text)[:MAX_STEPS]
    if text == "sine":
        return np.sin(0.4 * np.arange(24))
    if text and set(text) <= {"0", "1"}:
        return np.array([bit_values[1] if c == "1" else bit_values[0] for c in text], dtype=np.float64)
    return np.array([(ord(c) % 32) / 16.0 - 1.0 for c in text])


def run_cell(kind: str, values: np.ndarray, weights, lstm_cell: Callable = lstm_cell_forward,
             ) -> tuple[np.ndarray, np.ndarray]:
    """Run one sequence (batch of one) through a cell; return hidden (T, Hh) and gates (T, rows, Hh).

    ``weights``: (W_ih, W_hh, b_ih, b_hh) of the cell, in PyTorch's layout, with input size 1. The gate rows
    are the RNN's state h; the LSTM's i, f, g, o and then the cell state c; the GRU's r, z, n.
    ``lstm_cell`` is the LSTM step to run (chapter 11 passes the learner's, once exercise 11.6 passes):
    ``lstm_cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh) -> (h, c, cache)`` with the gates in ``cache.acts``.
    """
    if not isinstance(kind, str) or kind not in GATES:
        raise ValueError(f"run_cell: kind must be one of {sorted(GATES)}, got {kind!r}")
    values = as_float_array("run_cell", "values", values)
    if values.ndim != 1 or values.size == 0:
        raise ShapeError(f"run_cell: values has shape {format_shape(values.shape)} but expected (T,) with T >= 1, "
                         f"one input a step")
    expect_finite("run_cell", "values", values)
    if not isinstance(weights, (tuple, list)) or len(weights) != 4:
        raise TypeError("run_cell: weights must be (W_ih, W_hh, b_ih, b_hh)")
    Hh = np.shape(weights[1])[-1]
    h, c = np.zeros((1, Hh)), np.zeros((1, Hh))
    hidden, gates = [], []
    for value in values:
        x_t = np.array([[value]])  # (N, D) = (1, 1)
        if kind == "lstm":
            h, c, cache = lstm_cell(x_t, h, c, *weights)
            gates.append(np.vstack([cache.acts.reshape(4, Hh), c]))  # (4 Hh,) -> i, f, g, o rows, then c
        elif kind == "gru":
            h, cache = gru_cell_forward(x_t, h, *weights)
            gates.append(np.vstack([cache.r, cache.z, cache.n]))
        else:
            h, _ = rnn_cell_forward(x_t, h, *weights)
            gates.append(h.copy())
        hidden.append(h[0])
    return np.array(hidden), np.array(gates)
