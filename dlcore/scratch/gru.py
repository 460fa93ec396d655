"""Gated recurrent unit (GRU): cell, layer over a sequence and its backward pass (chapter 11).

One step, exactly as PyTorch's nn.GRUCell (gate blocks in the order r, z, n)::

    r = sigma(x W_ir^T + b_ir + h W_hr^T + b_hr)           reset gate
    z = sigma(x W_iz^T + b_iz + h W_hz^T + b_hz)           update gate
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))      candidate (r multiplies AFTER the matrix, with b_hn)
    h' = (1 - z) * n + z * h

There is no separate cell state and no output gate; z decides how much of the
old state is kept (z = 1: copy h unchanged, the gradient passes through as
dh * z) and r how much of it the candidate may read. Both gates use sigma; the
candidate uses tanh.

Backward (dh: gradient w.r.t. h')::

    dn = dh (1 - z);  dz = dh (h - n);  da_n = dn (1 - n^2)
    da_r = da_n (h W_hn^T + b_hn) r (1 - r);  da_z = dz z (1 - z)
    input side: [da_r, da_z, da_n];  hidden side: [da_r, da_z, da_n * r]
    dh_prev = dh z + (hidden side) W_hh

Shapes and names follow :mod:`dlcore.scratch.rnn` (weights as nn.GRU's weight_ih_l0 (3 Hh, D),
weight_hh_l0 (3 Hh, Hh), bias_ih_l0 and bias_hh_l0 (3 Hh,)).

Public API: ``gru_cell_forward(x_t, h_prev, W_ih, W_hh, b_ih, b_hh) -> (h, GRUCellCache)``,
``gru_cell_backward(dh, cache) -> (dx_t, dh_prev, dW_ih, dW_hh, db_ih, db_hh)``,
``gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh) -> (out, GRUCache)``,
``gru_backward(dout, cache, dh_n=None) -> (dx, dh0, dW_ih, dW_hh, db_ih, db_hh)`` and the module ``GRU``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore.errors import ShapeError, as_float_array, expect_shape, format_shape
from dlcore.scratch.rnn import RecurrentLayer, check_cache, check_recurrent_inputs, final_state_gradient

__all__ = ["GRUCellCache", "GRUCache", "gru_cell_forward", "gru_cell_backward", "gru_forward", "gru_backward", "GRU"]

GATE_NAMES = "r, z, n"


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # no overflow for large |a|


def _step_forward(ax: np.ndarray, h_prev: np.ndarray, W_hh: np.ndarray, b_hh: np.ndarray, Hh: int):
    """ax = x W_ih^T + b_ih (N, 3 Hh). Returns h, r, z, n, and hn = h_prev W_hn^T + b_hn."""
    ah = h_prev @ W_hh.T + b_hh  # (N, 3 Hh)
    rz = _sigmoid(ax[:, :2 * Hh] + ah[:, :2 * Hh])
    r, z = rz[:, :Hh], rz[:, Hh:]
    hn = ah[:, 2 * Hh:]
    n = np.tanh(ax[:, 2 * Hh:] + r * hn)
    return n + z * (h_prev - n), r, z, n, hn  # (1 - z) n + z h_prev


def _step_backward(dh, h_prev, r, z, n, hn, Hh: int, dax: np.ndarray, dah: np.ndarray) -> np.ndarray:
    """Fill dax and dah (N, 3 Hh), the gradients of x W_ih^T + b_ih and h W_hh^T + b_hh; return dh's direct part."""
    da_n = dh * (1.0 - z) * (1.0 - n * n)
    np.multiply(da_n * hn, r * (1.0 - r), out=dax[:, :Hh])
    np.multiply(dh * (h_prev - n), z * (1.0 - z), out=dax[:, Hh:2 * Hh])
    dax[:, 2 * Hh:] = da_n
    dah[:, :2 * Hh] = dax[:, :2 * Hh]
    np.multiply(da_n, r, out=dah[:, 2 * Hh:])
    return dh * z


class GRUCellCache(NamedTuple):
    """What one step's backward needs."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, Hh)
    r: np.ndarray  # (N, Hh)
    z: np.ndarray  # (N, Hh)
    n: np.ndarray  # (N, Hh)
    hn: np.ndarray  # (N, Hh) h_prev W_hn^T + b_hn, which r multiplies
    W_ih: np.ndarray  # (3 Hh, D)
    W_hh: np.ndarray  # (3 Hh, Hh)


def gru_cell_forward(x_t: np.ndarray, h_prev: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray, b_ih: np.ndarray,
                     b_hh: np.ndarray) -> tuple[np.ndarray, GRUCellCache]:
    """One GRU step (nn.GRUCell): h = (1 - z) n + z h_prev.

    Args:
        x_t: (N, D); h_prev: (N, Hh); W_ih (3 Hh, D), W_hh (3 Hh, Hh), b_ih, b_hh (3 Hh,).

    Returns:
        h (N, Hh) and the cache. Raises ShapeError on inconsistent shapes.
    """
    func = "gru_cell_forward"
    x_t, h_prev, W_ih, W_hh, b_ih, b_hh = check_recurrent_inputs(func, x_t, h_prev, W_ih, W_hh, b_ih, b_hh, 3,
                                                                 GATE_NAMES, names=("x_t", "h_prev"))
    if x_t.ndim != 2:
        raise ShapeError(f"{func}: x_t has shape {format_shape(x_t.shape)} but expected (N, D): one step")
    Hh = W_hh.shape[1]
    h, r, z, n, hn = _step_forward(x_t @ W_ih.T + b_ih, h_prev, W_hh, b_hh, Hh)
    return h, GRUCellCache(x_t, h_prev, r, z, n, hn, W_ih, W_hh)


def gru_cell_backward(dh: np.ndarray, cache: GRUCellCache) -> tuple[np.ndarray, ...]:
    """Gradients of one GRU step.

    Returns:
        dx_t (N, D), dh_prev (N, Hh), dW_ih (3 Hh, D), dW_hh (3 Hh, Hh), db_ih (3 Hh,), db_hh (3 Hh,).
    """
    check_cache("gru_cell_backward", cache, GRUCellCache, "gru_cell_forward")
    dh = as_float_array("gru_cell_backward", "dh", dh)
    expect_shape("gru_cell_backward", "dh", dh, cache.n.shape, "(N, Hh)", "the cell's output shape")
    Hh = cache.n.shape[1]
    dax, dah = np.empty((2, dh.shape[0], 3 * Hh), dtype=np.result_type(dh, cache.n))
    direct = _step_backward(dh, cache.h_prev, cache.r, cache.z, cache.n, cache.hn, Hh, dax, dah)
    return (dax @ cache.W_ih, direct + dah @ cache.W_hh, dax.T @ cache.x, dah.T @ cache.h_prev,
            dax.sum(axis=0), dah.sum(axis=0))


class GRUCache(NamedTuple):
    """What gru_backward needs."""

    x: np.ndarray  # (T, N, D)
    h0: np.ndarray  # (N, Hh)
    r: np.ndarray  # (T, N, Hh)
    z: np.ndarray  # (T, N, Hh)
    n: np.ndarray  # (T, N, Hh)
    hn: np.ndarray  # (T, N, Hh)
    out: np.ndarray  # (T, N, Hh) h_1 ... h_T
    W_ih: np.ndarray  # (3 Hh, D)
    W_hh: np.ndarray  # (3 Hh, Hh)


def gru_forward(x: np.ndarray, h0: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray, b_ih: np.ndarray,
                b_hh: np.ndarray) -> tuple[np.ndarray, GRUCache]:
    """A GRU layer over a sequence, as nn.GRU (one layer, batch_first=False).

    Args:
        x: (T, N, D); h0: (N, Hh); weights as in :func:`gru_cell_forward`.

    Returns:
        out (T, N, Hh) (out[-1] is h_n) and the cache.
    """
    func = "gru_forward"
    x, h0, W_ih, W_hh, b_ih, b_hh = check_recurrent_inputs(func, x, h0, W_ih, W_hh, b_ih, b_hh, 3, GATE_NAMES)
    if x.ndim != 3:
        raise ShapeError(f"{func}: x has shape {format_shape(x.shape)} but expected (T, N, D); "
                         f"for one step use gru_cell_forward")
    T, N, D = x.shape
    Hh = W_hh.shape[1]
    dtype = np.result_type(x, W_ih, h0)
    r, z, n, hn, out = (np.empty((T, N, Hh), dtype=dtype) for _ in range(5))
    projected = (x.reshape(T * N, D) @ W_ih.T + b_ih).reshape(T, N, 3 * Hh)  # (T*N, D) -> (T, N, 3Hh)
    h = h0
    for t in range(T):
        h, r[t], z[t], n[t], hn[t] = _step_forward(projected[t], h, W_hh, b_hh, Hh)
        out[t] = h
    return out, GRUCache(x, h0, r, z, n, hn, out, W_ih, W_hh)


def gru_backward(dout: np.ndarray, cache: GRUCache, dh_n: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for :func:`gru_forward`.

    Args:
        dout: (T, N, Hh); cache: from gru_forward; dh_n: optional (N, Hh) gradient w.r.t. h_n.

    Returns:
        dx (T, N, D), dh0 (N, Hh), dW_ih (3 Hh, D), dW_hh (3 Hh, Hh), db_ih (3 Hh,), db_hh (3 Hh,).
    """
    func = "gru_backward"
    check_cache(func, cache, GRUCache, "gru_forward")
    x, h0, r, z, n, hn, out, W_ih, W_hh = cache
    dout = as_float_array(func, "dout", dout)
    expect_shape(func, "dout", dout, out.shape, "(T, N, Hh)", "the forward output's shape")
    T, N, D = x.shape
    Hh = W_hh.shape[1]
    dh = final_state_gradient(func, "dh_n", dh_n, (N, Hh), out.dtype)
    dax, dah = (np.empty((T, N, 3 * Hh), dtype=out.dtype) for _ in range(2))
    h_prev = np.concatenate([h0[None], out[:-1]])  # (T, N, Hh) the state each step started from
    for t in range(T - 1, -1, -1):
        direct = _step_backward(dout[t] + dh, h_prev[t], r[t], z[t], n[t], hn[t], Hh, dax[t], dah[t])
        dh = direct + dah[t] @ W_hh
    dax_rows, dah_rows = dax.reshape(T * N, 3 * Hh), dah.reshape(T * N, 3 * Hh)
    dx = (dax_rows @ W_ih).reshape(T, N, D)
    return (dx, dh, dax_rows.T @ x.reshape(T * N, D), dah_rows.T @ h_prev.reshape(T * N, Hh),
            dax_rows.sum(axis=0), dah_rows.sum(axis=0))


class GRU(RecurrentLayer):
    """A one-layer GRU over (T, N, D) sequences, parameters named and laid out as nn.GRU's."""

    gates = 3

    def forward(self, x: np.ndarray, h0: np.ndarray | None = None) -> np.ndarray:
        x = as_float_array("GRU", "x", x)
        out, self._cache = gru_forward(x, self._initial(x, h0), *self.weights())
        self.h_n = out[-1]
        return out

    def backward(self, dout: np.ndarray, dh_n: np.ndarray | None = None) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError("GRU.backward: call forward first")
        dx, self.dh0, *grads = gru_backward(dout, self._cache, dh_n)
        self._accumulate(grads)
        return dx
