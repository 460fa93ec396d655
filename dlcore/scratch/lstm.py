"""Long short-term memory (LSTM): cell, layer over a sequence and its backward pass (chapter 11).

One step, exactly as PyTorch's nn.LSTMCell (gate blocks in the order i, f, g, o)::

    [a_i, a_f, a_g, a_o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh     (N, 4 Hh)
    i = sigma(a_i)   input gate      f = sigma(a_f)   forget gate
    g = tanh(a_g)    candidate       o = sigma(a_o)   output gate
    c_t = f * c_{t-1} + i * g        the cell state: updated by addition, not by a matrix
    h_t = o * tanh(c_t)

Why it helps: along the cell state, dc_{t-1} = dc_t * f (element-wise, no
weight matrix, no squashing derivative), so the gradient through k steps is the
product of k forget-gate values, which the network can hold near 1.

Backward of one step (dh, dc: what arrives from above and from step t+1)::

    dc = dc + dh * o * (1 - tanh(c)^2)
    da_o = dh tanh(c) o (1 - o),  da_i = dc g i (1 - i),  da_f = dc c_prev f (1 - f),  da_g = dc i (1 - g^2)
    dc_prev = dc * f,  dh_prev = da W_hh,  dx = da W_ih

Shapes and names follow :mod:`dlcore.scratch.rnn` (x is (T, N, D), weights are
nn.LSTM's weight_ih_l0 (4 Hh, D), weight_hh_l0 (4 Hh, Hh), bias_ih_l0 and bias_hh_l0 (4 Hh,)).

Public API: ``lstm_cell_forward(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh) -> (h, c, LSTMCellCache)``,
``lstm_cell_backward(dh, dc, cache) -> (dx_t, dh_prev, dc_prev, dW_ih, dW_hh, db_ih, db_hh)``,
``lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh) -> (out, LSTMCache)`` (c_n is ``cache.c[-1]``),
``lstm_backward(dout, cache, dh_n=None, dc_n=None) -> (dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh)``,
and the module ``LSTM`` (``forward(x, state=None)`` keeps ``h_n, c_n``; ``backward`` keeps ``dh0, dc0``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore.errors import ShapeError, as_float_array, expect_shape, format_shape
from dlcore.scratch.rnn import RecurrentLayer, check_cache, check_recurrent_inputs, final_state_gradient

__all__ = ["LSTMCellCache", "LSTMCache", "lstm_cell_forward", "lstm_cell_backward", "lstm_forward",
           "lstm_backward", "LSTM"]

GATE_NAMES = "i, f, g, o"


def _gate_activations(a: np.ndarray, Hh: int) -> np.ndarray:
    """(N, 4 Hh) pre-activations -> sigma on the i, f, o blocks and tanh on g, in a new array."""
    acts = np.tanh(a * 0.5)  # sigma(a) = (1 + tanh(a / 2)) / 2: no overflow for large |a|
    acts *= 0.5
    acts += 0.5
    np.tanh(a[:, 2 * Hh:3 * Hh], out=acts[:, 2 * Hh:3 * Hh])
    return acts


def _step_backward(dh, dc, acts, c_prev, tanh_c, Hh: int, da: np.ndarray) -> np.ndarray:
    """Fill ``da`` (N, 4 Hh) with the gradient of the pre-activations; return dc_prev."""
    i, f, g, o = acts[:, :Hh], acts[:, Hh:2 * Hh], acts[:, 2 * Hh:3 * Hh], acts[:, 3 * Hh:]
    dc = dc + dh * o * (1.0 - tanh_c * tanh_c)
    np.multiply(dh * tanh_c, o * (1.0 - o), out=da[:, 3 * Hh:])
    np.multiply(dc * g, i * (1.0 - i), out=da[:, :Hh])
    np.multiply(dc * c_prev, f * (1.0 - f), out=da[:, Hh:2 * Hh])
    np.multiply(dc * i, 1.0 - g * g, out=da[:, 2 * Hh:3 * Hh])
    return dc * f


# ---------------------------------------------------------------- one step

class LSTMCellCache(NamedTuple):
    """What one step's backward needs."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, Hh)
    c_prev: np.ndarray  # (N, Hh)
    acts: np.ndarray  # (N, 4 Hh) i, f, g, o after their nonlinearities
    tanh_c: np.ndarray  # (N, Hh)
    W_ih: np.ndarray  # (4 Hh, D)
    W_hh: np.ndarray  # (4 Hh, Hh)


def lstm_cell_forward(x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray,
                      b_ih: np.ndarray, b_hh: np.ndarray) -> tuple[np.ndarray, np.ndarray, LSTMCellCache]:
    """One LSTM step (nn.LSTMCell): gates from x_t and h_prev, c = f c_prev + i g, h = o tanh(c).

    Args:
        x_t: (N, D); h_prev, c_prev: (N, Hh); W_ih (4 Hh, D), W_hh (4 Hh, Hh), b_ih, b_hh (4 Hh,).

    Returns:
        h (N, Hh), c (N, Hh) and the cache. Raises ShapeError on inconsistent shapes.
    """
    func = "lstm_cell_forward"
    x_t, h_prev, W_ih, W_hh, b_ih, b_hh = check_recurrent_inputs(func, x_t, h_prev, W_ih, W_hh, b_ih, b_hh, 4,
                                                                 GATE_NAMES, names=("x_t", "h_prev"))
    if x_t.ndim != 2:
        raise ShapeError(f"{func}: x_t has shape {format_shape(x_t.shape)} but expected (N, D): one step")
    c_prev = as_float_array(func, "c_prev", c_prev)
    expect_shape(func, "c_prev", c_prev, h_prev.shape, "(N, Hh)", "h_prev's shape")
    Hh = W_hh.shape[1]
    acts = _gate_activations(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh, Hh)
    c = acts[:, Hh:2 * Hh] * c_prev + acts[:, :Hh] * acts[:, 2 * Hh:3 * Hh]
    tanh_c = np.tanh(c)
    return acts[:, 3 * Hh:] * tanh_c, c, LSTMCellCache(x_t, h_prev, c_prev, acts, tanh_c, W_ih, W_hh)


def lstm_cell_backward(dh: np.ndarray, dc: np.ndarray, cache: LSTMCellCache) -> tuple[np.ndarray, ...]:
    """Gradients of one LSTM step given dh and dc (each (N, Hh)).

    Returns:
        dx_t (N, D), dh_prev (N, Hh), dc_prev (N, Hh), dW_ih (4 Hh, D), dW_hh (4 Hh, Hh), db_ih, db_hh (4 Hh,).
    """
    check_cache("lstm_cell_backward", cache, LSTMCellCache, "lstm_cell_forward")
    shape = cache.tanh_c.shape
    dh = as_float_array("lstm_cell_backward", "dh", dh)
    dc = as_float_array("lstm_cell_backward", "dc", dc)
    expect_shape("lstm_cell_backward", "dh", dh, shape, "(N, Hh)", "the cell's output shape")
    expect_shape("lstm_cell_backward", "dc", dc, shape, "(N, Hh)", "the cell state's shape")
    da = np.empty_like(cache.acts)
    dc_prev = _step_backward(dh, dc, cache.acts, cache.c_prev, cache.tanh_c, shape[1], da)
    db = da.sum(axis=0)
    return da @ cache.W_ih, da @ cache.W_hh, dc_prev, da.T @ cache.x, da.T @ cache.h_prev, db, db.copy()


# ---------------------------------------------------------------- a sequence

class LSTMCache(NamedTuple):
    """What lstm_backward needs; ``c[-1]`` is the final cell state c_n."""

    x: np.ndarray  # (T, N, D)
    h0: np.ndarray  # (N, Hh)
    c0: np.ndarray  # (N, Hh)
    acts: np.ndarray  # (T, N, 4 Hh)
    c: np.ndarray  # (T, N, Hh) c_1 ... c_T
    tanh_c: np.ndarray  # (T, N, Hh)
    out: np.ndarray  # (T, N, Hh) h_1 ... h_T
    W_ih: np.ndarray  # (4 Hh, D)
    W_hh: np.ndarray  # (4 Hh, Hh)


def lstm_forward(x: np.ndarray, h0: np.ndarray, c0: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray, b_ih: np.ndarray,
                 b_hh: np.ndarray) -> tuple[np.ndarray, LSTMCache]:
    """An LSTM layer over a sequence, as nn.LSTM (one layer, batch_first=False).

    The input projection x_t W_ih^T + b_ih + b_hh of all T steps is one matrix product.

    Args:
        x: (T, N, D); h0, c0: (N, Hh); weights as in :func:`lstm_cell_forward`.

    Returns:
        out (T, N, Hh) (out[-1] is h_n) and the cache (cache.c[-1] is c_n).
    """
    func = "lstm_forward"
    x, h0, W_ih, W_hh, b_ih, b_hh = check_recurrent_inputs(func, x, h0, W_ih, W_hh, b_ih, b_hh, 4, GATE_NAMES)
    if x.ndim != 3:
        raise ShapeError(f"{func}: x has shape {format_shape(x.shape)} but expected (T, N, D); "
                         f"for one step use lstm_cell_forward")
    c0 = as_float_array(func, "c0", c0)
    expect_shape(func, "c0", c0, h0.shape, "(N, Hh)", "h0's shape")
    T, N, D = x.shape
    Hh = W_hh.shape[1]
    dtype = np.result_type(x, W_ih, h0)
    # Speed (the layer loops over time in Python, so every NumPy call per step counts): scale the
    # i, f, o columns by 1/2 once, so that ONE tanh over all four blocks gives tanh(a/2) for them and
    # tanh(a_g) for g; then sigma(a) = tanh(a/2)/2 + 1/2 is one affine map with per-column constants.
    half = np.ones(4 * Hh, dtype=dtype)
    half[:2 * Hh] = half[3 * Hh:] = 0.5
    shift = 1.0 - half  # 0.5 on the sigma blocks, 0 on g
    projected = (x.reshape(T * N, D) @ (W_ih.T * half) + (b_ih + b_hh) * half).reshape(T, N, 4 * Hh)  # (T*N, D) -> (T, N, 4Hh)
    W_hh_T = W_hh.T * half  # (Hh, 4Hh), a new contiguous array
    acts = np.empty((T, N, 4 * Hh), dtype=dtype)
    c, tanh_c, out = (np.empty((T, N, Hh), dtype=dtype) for _ in range(3))
    h, c_prev = h0, c0
    for t in range(T):
        a = np.matmul(h, W_hh_T, out=acts[t])
        a += projected[t]
        np.tanh(a, out=a)
        a *= half
        a += shift  # i, f, o = sigma(pre-activation), g = tanh(pre-activation)
        np.multiply(a[:, Hh:2 * Hh], c_prev, out=c[t])  # f * c_prev
        c[t] += a[:, :Hh] * a[:, 2 * Hh:3 * Hh]  # + i * g
        np.tanh(c[t], out=tanh_c[t])
        h = np.multiply(a[:, 3 * Hh:], tanh_c[t], out=out[t])  # o * tanh(c)
        c_prev = c[t]
    return out, LSTMCache(x, h0, c0, acts, c, tanh_c, out, W_ih, W_hh)


def lstm_backward(dout: np.ndarray, cache: LSTMCache, dh_n: np.ndarray | None = None,
                  dc_n: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for :func:`lstm_forward`.

    Args:
        dout: (T, N, Hh) gradient w.r.t. every output h_t.
        cache: from lstm_forward.
        dh_n, dc_n: optional (N, Hh) gradients w.r.t. the final states returned separately.

    Returns:
        dx (T, N, D), dh0 (N, Hh), dc0 (N, Hh), dW_ih (4 Hh, D), dW_hh (4 Hh, Hh), db_ih, db_hh (4 Hh,).
    """
    func = "lstm_backward"
    check_cache(func, cache, LSTMCache, "lstm_forward")
    x, h0, c0, acts, c, tanh_c, out, W_ih, W_hh = cache
    dout = as_float_array(func, "dout", dout)
    expect_shape(func, "dout", dout, out.shape, "(T, N, Hh)", "the forward output's shape")
    T, N, D = x.shape
    Hh = W_hh.shape[1]
    dh = final_state_gradient(func, "dh_n", dh_n, (N, Hh), out.dtype)
    dc = final_state_gradient(func, "dc_n", dc_n, (N, Hh), out.dtype)
    # Everything that does not depend on the gradient arriving from step t+1 is computed for all
    # T steps at once (a few large NumPy calls instead of many small ones per step):
    i, f, g, o = (acts[..., k * Hh:(k + 1) * Hh] for k in range(4))  # (T, N, Hh) each
    c_prev = np.concatenate([c0[None], c[:-1]])  # (T, N, Hh)
    dc_from_h = o * (1.0 - tanh_c * tanh_c)  # dc/dh through h = o tanh(c)
    da_o_from_h = tanh_c * o * (1.0 - o)  # da_o/dh
    da_ifg_from_c = np.stack([g * i * (1.0 - i), c_prev * f * (1.0 - f), i * (1.0 - g * g)], axis=2)  # (T, N, 3, Hh)
    da = np.empty_like(acts)  # (T, N, 4 Hh) gradient of every step's gate pre-activations
    da_blocks = da.reshape(T, N, 4, Hh)  # a view: the four gate blocks i, f, g, o
    for t in range(T - 1, -1, -1):
        dh = dh + dout[t]
        dc = dc + dh * dc_from_h[t]
        np.multiply(dh, da_o_from_h[t], out=da_blocks[t, :, 3])
        np.multiply(da_ifg_from_c[t], dc[:, None, :], out=da_blocks[t, :, :3])
        dc = dc * f[t]  # to step t-1: the cell state's path, one element-wise product
        dh = da[t] @ W_hh
    h_prev = np.concatenate([h0[None], out[:-1]])  # (T, N, Hh) the state each step started from
    da_rows = da.reshape(T * N, 4 * Hh)
    dx = (da_rows @ W_ih).reshape(T, N, D)
    dW_ih = da_rows.T @ x.reshape(T * N, D)
    dW_hh = da_rows.T @ h_prev.reshape(T * N, Hh)
    db = da_rows.sum(axis=0)
    return dx, dh, dc, dW_ih, dW_hh, db, db.copy()


class LSTM(RecurrentLayer):
    """A one-layer LSTM over (T, N, D) sequences, parameters named and laid out as nn.LSTM's."""

    gates = 4

    def forward(self, x: np.ndarray, state: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """out (T, N, Hh); keeps ``self.h_n`` and ``self.c_n``. ``state`` is (h0, c0) or None (zeros)."""
        x = as_float_array("LSTM", "x", x)
        if state is not None and not (isinstance(state, (tuple, list)) and len(state) == 2):
            raise TypeError(f"LSTM.forward: state must be the pair (h0, c0) of (N, Hh) arrays or None, got "
                            f"{type(state).__name__}" + (f" of shape {format_shape(np.shape(state))}"
                                                         if isinstance(state, np.ndarray) else ""))
        h0 = self._initial(x, None if state is None else state[0])
        c0 = np.zeros_like(h0) if state is None else state[1]
        out, self._cache = lstm_forward(x, h0, c0, *self.weights())
        self.h_n, self.c_n = out[-1], self._cache.c[-1]
        return out

    def backward(self, dout: np.ndarray, dh_n: np.ndarray | None = None, dc_n: np.ndarray | None = None) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError("LSTM.backward: call forward first")
        dx, self.dh0, self.dc0, *grads = lstm_backward(dout, self._cache, dh_n, dc_n)
        self._accumulate(grads)
        return dx
