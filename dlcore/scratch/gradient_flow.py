"""How the gradient travels back through time in RNN, LSTM and GRU layers (chapter 11).

For a loss that reads only the last state, L = <g, h_T>, backpropagation through
time gives dL/dh_t for every earlier step. For the Elman RNN

    dL/dh_{t-1} = (dL/dh_t * (1 - h_t^2)) W_hh

a product of T - t matrices: its norm shrinks or grows roughly geometrically
(vanishing or exploding gradients). :func:`state_gradient_norms` measures
||dL/dh_t|| by running the cells' own backward kernels step by step.

Public API: ``recurrent_weights(kind, input_size, hidden_size, *, recurrent_scale, memory_bias, rng)``
and ``state_gradient_norms(kind, x, weights, upstream=None) -> (T,) norms``.
"""

from __future__ import annotations

import numpy as np

from dlcore.errors import (ShapeError, as_float_array, expect_generator, expect_positive_int, expect_real,
                           expect_shape, format_shape)
from dlcore.scratch.gru import gru_cell_backward, gru_cell_forward
from dlcore.scratch.lstm import lstm_cell_backward, lstm_cell_forward
from dlcore.scratch.rnn import rnn_cell_backward, rnn_cell_forward

__all__ = ["GATES", "recurrent_weights", "state_gradient_norms"]

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _check_kind(func: str, kind) -> None:
    if not isinstance(kind, str) or kind not in GATES:
        raise ValueError(f"{func}: kind must be one of {sorted(GATES)}, got {kind!r}")


def recurrent_weights(kind: str, input_size: int, hidden_size: int, *, recurrent_scale: float = 1.0,
                      memory_bias: float = 0.0, rng: np.random.Generator) -> list[np.ndarray]:
    """Weights [W_ih, W_hh, b_ih, b_hh] in PyTorch's layout with a chosen size of the recurrent matrix.

    Each Hh x Hh block of W_hh is recurrent_scale * G / sqrt(Hh) with G standard normal, so
    its spectral radius is close to recurrent_scale; the rest is PyTorch's U(-1/sqrt(Hh), 1/sqrt(Hh)).
    memory_bias is added to the bias of the gate that keeps the old state: the LSTM's forget gate f
    (a common initialisation is 1) and the GRU's update gate z (h' = (1 - z) n + z h). The RNN has no such gate.
    ``rng`` is required (no hidden seed): pass ``np.random.default_rng(0)`` to reproduce a figure.
    """
    func = "recurrent_weights"
    _check_kind(func, kind)
    input_size = expect_positive_int(func, "input_size", input_size)
    hidden_size = expect_positive_int(func, "hidden_size", hidden_size)
    recurrent_scale = expect_real(func, "recurrent_scale", recurrent_scale)
    memory_bias = expect_real(func, "memory_bias", memory_bias)
    expect_generator(func, rng)
    G, Hh, bound = GATES[kind], hidden_size, 1.0 / np.sqrt(hidden_size)
    W_ih = rng.uniform(-bound, bound, size=(G * Hh, input_size))
    W_hh = recurrent_scale * rng.standard_normal((G * Hh, Hh)) / np.sqrt(Hh)
    b_ih, b_hh = rng.uniform(-bound, bound, size=(2, G * Hh))
    if kind == "lstm":
        b_hh[Hh:2 * Hh] += memory_bias  # the f block of (i, f, g, o)
    elif kind == "gru":
        b_hh[Hh:2 * Hh] += memory_bias  # the z block of (r, z, n)
    return [W_ih, W_hh, b_ih, b_hh]


def state_gradient_norms(kind: str, x: np.ndarray, weights, upstream: np.ndarray | None = None) -> np.ndarray:
    """||dL/dh_t|| for t = 0..T (t = 0 is h0) with L = <upstream, h_T>, averaged over the batch.

    Args:
        kind: 'rnn', 'lstm' or 'gru'.
        x: (T, N, D) inputs; weights: [W_ih, W_hh, b_ih, b_hh].
        upstream: (N, Hh) the gradient arriving at h_T (default: all ones / sqrt(Hh), norm 1 per example).

    Returns:
        (T + 1,) the mean over the batch of ||dL/dh_t||_2.
    """
    func = "state_gradient_norms"
    _check_kind(func, kind)
    x = as_float_array(func, "x", x)
    if x.ndim != 3 or x.shape[0] == 0:
        raise ShapeError(f"{func}: x has shape {format_shape(x.shape)} but expected (T, N, D) with T >= 1")
    if not isinstance(weights, (list, tuple)) or len(weights) != 4:
        raise TypeError(f"{func}: weights must be the list [W_ih, W_hh, b_ih, b_hh] that recurrent_weights returns, "
                        f"got {type(weights).__name__} {weights!r:.60}")
    T, N, _ = x.shape
    Hh = np.shape(weights[1])[-1] if np.ndim(weights[1]) else 1  # the first cell step names a malformed W_hh
    h, c = np.zeros((N, Hh)), np.zeros((N, Hh))
    caches = []
    for t in range(T):
        if kind == "lstm":
            h, c, cache = lstm_cell_forward(x[t], h, c, *weights)
        else:
            h, cache = (rnn_cell_forward if kind == "rnn" else gru_cell_forward)(x[t], h, *weights)
        caches.append(cache)
    if upstream is not None:  # checked after the forward steps, which name a malformed weight
        upstream = as_float_array(func, "upstream", upstream)
        expect_shape(func, "upstream", upstream, (N, Hh), "(N, Hh)", "the shape of h_T")
    dh = np.full((N, Hh), 1.0 / np.sqrt(Hh)) if upstream is None else upstream
    dc = np.zeros((N, Hh))
    norms = np.empty(T + 1)
    norms[T] = np.linalg.norm(dh, axis=1).mean()
    for t in range(T - 1, -1, -1):
        if kind == "lstm":
            _, dh, dc, *_ = lstm_cell_backward(dh, dc, caches[t])
        else:
            _, dh, *_ = (rnn_cell_backward if kind == "rnn" else gru_cell_backward)(dh, caches[t])
        norms[t] = np.linalg.norm(dh, axis=1).mean()
    return norms
