"""The Elman recurrent network: a cell, a layer over a sequence, and backpropagation through time (chapter 11).

One step of the recurrence (PyTorch's nn.RNNCell with nonlinearity 'tanh')::

    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)

The SAME four parameters are used at every step (parameter sharing through
time). The layer unrolls the cell over T steps; backpropagation through time
(BPTT) runs the unrolled graph backwards, so each parameter's gradient is the
sum of its gradients at every step:

    da_t = (dout_t + dh_t) * (1 - h_t^2)          (dh_t: what flows back from step t+1)
    dh_{t-1} = da_t W_hh,   dW_hh = sum_t da_t^T h_{t-1},   dW_ih = sum_t da_t^T x_t

Layout, shared by rnn.py, lstm.py and gru.py (and by PyTorch, so that the
weights load into nn.RNN / nn.LSTM / nn.GRU unchanged):

    x        (T, N, D)      sequence first, as nn.RNN with batch_first=False
    h0       (N, Hh)        initial state (PyTorch's h0 is (1, N, Hh) for one layer)
    out      (T, N, Hh)     the hidden state at every step; out[-1] is the final state h_n
    W_ih     (G Hh, D)      weight_ih_l0, G = 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n)
    W_hh     (G Hh, Hh)     weight_hh_l0
    b_ih     (G Hh,)        bias_ih_l0
    b_hh     (G Hh,)        bias_hh_l0

Public API (used by chapter 12 as well):

- ``rnn_cell_forward(x_t, h_prev, W_ih, W_hh, b_ih, b_hh) -> (h, RNNCellCache)``
  and ``rnn_cell_backward(dh, cache) -> (dx_t, dh_prev, dW_ih, dW_hh, db_ih, db_hh)``: one step.
- ``rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh) -> (out, RNNCache)`` and
  ``rnn_backward(dout, cache, dh_n=None) -> (dx, dh0, dW_ih, dW_hh, db_ih, db_hh)``: a sequence.
- ``RNN(input_size, hidden_size, rng=...)``: the module; ``forward(x, h0=None)`` returns out and
  keeps ``h_n``; ``backward(dout, dh_n=None)`` returns dx, keeps ``dh0`` and accumulates the
  parameter gradients; ``torch_state_dict()`` / ``load_torch_state_dict(sd)`` convert weights.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, NamedTuple

import numpy as np

from dlcore.errors import (ShapeError, as_float_array, expect_generator, expect_positive_int, expect_shape,
                           format_shape)
from dlcore.scratch.module import Module, Parameter

if TYPE_CHECKING:
    import torch

__all__ = [
    "RNNCellCache", "RNNCache", "rnn_cell_forward", "rnn_cell_backward", "rnn_forward", "rnn_backward",
    "check_recurrent_inputs", "init_recurrent_weights", "RecurrentLayer", "RNN",
]

PARAMETER_NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def check_recurrent_inputs(func: str, x: np.ndarray, h0: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray,
                           b_ih: np.ndarray, b_hh: np.ndarray, gates: int, gate_names: str, *,
                           names: tuple[str, str] = ("x", "h0")) -> tuple[np.ndarray, ...]:
    """Validate a layer's (or, with T absent, a cell's) inputs; return them as float arrays.

    ``x`` is (T, N, D) for a layer or (N, D) for a cell; the weights must be (G Hh, D),
    (G Hh, Hh), (G Hh,), (G Hh,) with G = ``gates``, Hh >= 1. ``names`` are the caller's names
    for x and h0 (a cell's ``("x_t", "h_prev")``), so that a message names the argument passed.
    """
    x_name, h_name = names
    x = as_float_array(func, x_name, x)
    if x.ndim not in (2, 3):
        raise ShapeError(f"{func}: {x_name} has shape {format_shape(x.shape)} but expected (T, N, D) for a sequence "
                         f"(time first, as nn.RNN with batch_first=False) or (N, D) for one step")
    if x.ndim == 3 and x.shape[0] == 0:
        raise ShapeError(f"{func}: {x_name} has shape {format_shape(x.shape)}: a sequence of T = 0 steps; expected at "
                         f"least one step")
    W_ih, W_hh = as_float_array(func, "W_ih", W_ih), as_float_array(func, "W_hh", W_hh)
    b_ih, b_hh = as_float_array(func, "b_ih", b_ih), as_float_array(func, "b_hh", b_hh)
    if W_hh.ndim != 2 or W_hh.shape[0] != gates * W_hh.shape[1]:
        raise ShapeError(f"{func}: W_hh has shape {format_shape(W_hh.shape)} but expected ({gates} Hh, Hh): "
                         f"{gates} block(s) of rows ({gate_names}), one column per hidden unit")
    if W_hh.shape[1] == 0:
        raise ShapeError(f"{func}: W_hh has shape {format_shape(W_hh.shape)}: hidden size Hh = 0; expected Hh >= 1")
    Hh = W_hh.shape[1]
    D = x.shape[-1]
    expect_shape(func, "W_ih", W_ih, (gates * Hh, D), f"({gates} Hh, D)", f"Hh = {Hh} from W_hh, D = {x_name}.shape[-1]")
    expect_shape(func, "b_ih", b_ih, (gates * Hh,), f"({gates} Hh,)", f"Hh = {Hh}")
    expect_shape(func, "b_hh", b_hh, (gates * Hh,), f"({gates} Hh,)", f"Hh = {Hh}")
    h0 = as_float_array(func, h_name, h0)
    expect_shape(func, h_name, h0, (x.shape[-2], Hh), "(N, Hh)", f"N = {x.shape[-2]} from {x_name}, Hh = {Hh}")
    return x, h0, W_ih, W_hh, b_ih, b_hh


def init_recurrent_weights(input_size: int, hidden_size: int, gates: int,
                           rng: np.random.Generator) -> dict[str, np.ndarray]:
    """PyTorch's default: every weight and bias drawn from U(-1/sqrt(Hh), 1/sqrt(Hh)), keyed by PyTorch's names."""
    func = "init_recurrent_weights"
    input_size = expect_positive_int(func, "input_size", input_size)
    hidden_size = expect_positive_int(func, "hidden_size", hidden_size)
    gates = expect_positive_int(func, "gates", gates)
    expect_generator(func, rng)
    bound = 1.0 / np.sqrt(hidden_size)
    shapes = [(gates * hidden_size, input_size), (gates * hidden_size, hidden_size),
              (gates * hidden_size,), (gates * hidden_size,)]
    return {name: rng.uniform(-bound, bound, size=shape) for name, shape in zip(PARAMETER_NAMES, shapes)}


def check_cache(func: str, cache: object, kind: type, forward: str) -> None:
    """Raise a TypeError naming ``cache`` unless it is the record that ``forward`` returns."""
    if not isinstance(cache, kind):
        raise TypeError(f"{func}: cache must be the {kind.__name__} that {forward} returned, got {type(cache).__name__}")


def final_state_gradient(func: str, name: str, grad: np.ndarray | None, shape: tuple[int, int],
                         dtype: np.dtype) -> np.ndarray:
    """The gradient arriving at a final state (``dh_n``, ``dc_n``): zeros of ``shape`` when None, else checked."""
    if grad is None:
        return np.zeros(shape, dtype=dtype)
    grad = as_float_array(func, name, grad)
    expect_shape(func, name, grad, shape, "(N, Hh)", "the final state's shape")
    return grad


# ---------------------------------------------------------------- one step

class RNNCellCache(NamedTuple):
    """What one step's backward needs."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, Hh)
    h: np.ndarray  # (N, Hh) tanh of the pre-activation, whose derivative is 1 - h^2
    W_ih: np.ndarray  # (Hh, D)
    W_hh: np.ndarray  # (Hh, Hh)


def rnn_cell_forward(x_t: np.ndarray, h_prev: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray, b_ih: np.ndarray,
                     b_hh: np.ndarray) -> tuple[np.ndarray, RNNCellCache]:
    """One Elman step: h = tanh(x_t W_ih^T + b_ih + h_prev W_hh^T + b_hh), as nn.RNNCell.

    Args:
        x_t: (N, D) input at this step; h_prev: (N, Hh) previous hidden state.
        W_ih: (Hh, D), W_hh: (Hh, Hh), b_ih and b_hh: (Hh,).

    Returns:
        h (N, Hh) and the cache. Raises ShapeError on inconsistent shapes.
    """
    x_t, h_prev, W_ih, W_hh, b_ih, b_hh = check_recurrent_inputs(
        "rnn_cell_forward", x_t, h_prev, W_ih, W_hh, b_ih, b_hh, 1, "one tanh layer", names=("x_t", "h_prev"))
    if x_t.ndim != 2:
        raise ShapeError(f"rnn_cell_forward: x_t has shape {format_shape(x_t.shape)} but expected (N, D): one step")
    h = np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
    return h, RNNCellCache(x_t, h_prev, h, W_ih, W_hh)


def rnn_cell_backward(dh: np.ndarray, cache: RNNCellCache) -> tuple[np.ndarray, ...]:
    """Gradients of one step: da = dh (1 - h^2); dx = da W_ih, dh_prev = da W_hh, dW = da^T (input).

    Returns:
        dx_t (N, D), dh_prev (N, Hh), dW_ih (Hh, D), dW_hh (Hh, Hh), db_ih (Hh,), db_hh (Hh,).
    """
    check_cache("rnn_cell_backward", cache, RNNCellCache, "rnn_cell_forward")
    dh = as_float_array("rnn_cell_backward", "dh", dh)
    expect_shape("rnn_cell_backward", "dh", dh, cache.h.shape, "(N, Hh)", "the cell's output shape")
    da = dh * (1.0 - cache.h * cache.h)  # tanh'(a) = 1 - tanh(a)^2
    db = da.sum(axis=0)
    return da @ cache.W_ih, da @ cache.W_hh, da.T @ cache.x, da.T @ cache.h_prev, db, db.copy()


# ---------------------------------------------------------------- a sequence

class RNNCache(NamedTuple):
    """What rnn_backward needs: the inputs, every hidden state and the recurrent weights."""

    x: np.ndarray  # (T, N, D)
    h0: np.ndarray  # (N, Hh)
    out: np.ndarray  # (T, N, Hh) h_1 ... h_T
    W_ih: np.ndarray  # (Hh, D)
    W_hh: np.ndarray  # (Hh, Hh)


def rnn_forward(x: np.ndarray, h0: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray, b_ih: np.ndarray,
                b_hh: np.ndarray) -> tuple[np.ndarray, RNNCache]:
    """An Elman layer over a sequence: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), t = 1..T.

    The input projection of all T steps is one matrix product; only the
    recurrent part h_{t-1} W_hh^T has to wait for the previous step.

    Args:
        x: (T, N, D); h0: (N, Hh); W_ih (Hh, D), W_hh (Hh, Hh), b_ih, b_hh (Hh,) as nn.RNN's *_l0.

    Returns:
        out (T, N, Hh) with out[t] = h_{t+1} (out[-1] is h_n), and the cache.

    Raises:
        ShapeError: x not 3-D, or any shape inconsistent with x and W_hh.
    """
    x, h0, W_ih, W_hh, b_ih, b_hh = check_recurrent_inputs(
        "rnn_forward", x, h0, W_ih, W_hh, b_ih, b_hh, 1, "one tanh layer")
    if x.ndim != 3:
        raise ShapeError(f"rnn_forward: x has shape {format_shape(x.shape)} but expected (T, N, D); "
                         f"for one step use rnn_cell_forward")
    T, N, D = x.shape
    Hh = W_hh.shape[1]
    out = np.empty((T, N, Hh), dtype=np.result_type(x, W_ih, h0))
    projected = (x.reshape(T * N, D) @ W_ih.T + (b_ih + b_hh)).reshape(T, N, Hh)  # (T*N, D) -> (T, N, Hh)
    h = h0
    for t in range(T):
        h = np.tanh(projected[t] + h @ W_hh.T)
        out[t] = h
    return out, RNNCache(x, h0, out, W_ih, W_hh)


def rnn_backward(dout: np.ndarray, cache: RNNCache, dh_n: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for :func:`rnn_forward`.

    Going from t = T down to 1: dh = dout_t + (what step t+1 sent back);
    da_t = dh (1 - h_t^2); step t-1 receives da_t W_hh. The weight gradients sum
    over steps, computed at the end as two matrix products over all T N rows.

    Args:
        dout: (T, N, Hh) gradient of the loss w.r.t. every output.
        cache: from rnn_forward.
        dh_n: optional (N, Hh) gradient w.r.t. the final state returned separately
            (PyTorch's h_n); it adds to dout[-1].

    Returns:
        dx (T, N, D), dh0 (N, Hh), dW_ih (Hh, D), dW_hh (Hh, Hh), db_ih (Hh,), db_hh (Hh,).
    """
    check_cache("rnn_backward", cache, RNNCache, "rnn_forward")
    x, h0, out, W_ih, W_hh = cache
    dout = as_float_array("rnn_backward", "dout", dout)
    expect_shape("rnn_backward", "dout", dout, out.shape, "(T, N, Hh)", "the forward output's shape")
    T, N, D = x.shape
    Hh = W_hh.shape[1]
    da = np.empty_like(out)  # (T, N, Hh) gradient of every step's pre-activation
    dh = final_state_gradient("rnn_backward", "dh_n", dh_n, (N, Hh), out.dtype)
    for t in range(T - 1, -1, -1):
        da[t] = (dout[t] + dh) * (1.0 - out[t] * out[t])
        dh = da[t] @ W_hh  # to step t-1 (or to h0)
    h_prev = np.concatenate([h0[None], out[:-1]])  # (T, N, Hh) the state each step started from
    da_rows = da.reshape(T * N, Hh)
    dx = (da_rows @ W_ih).reshape(T, N, D)
    dW_ih = da_rows.T @ x.reshape(T * N, D)
    dW_hh = da_rows.T @ h_prev.reshape(T * N, Hh)
    db = da_rows.sum(axis=0)
    return dx, dh, dW_ih, dW_hh, db, db.copy()


# ---------------------------------------------------------------- modules

class RecurrentLayer(Module):
    """Shared by RNN, LSTM and GRU: PyTorch-named parameters, conversion to and from PyTorch."""

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, *, rng: np.random.Generator) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = expect_positive_int(name, "input_size", input_size)
        self.hidden_size = expect_positive_int(name, "hidden_size", hidden_size)
        expect_generator(name, rng)  # required, as Linear's: two layers must not start identical by default
        for key, value in init_recurrent_weights(self.input_size, self.hidden_size, self.gates, rng).items():
            setattr(self, key, Parameter(value, key))
        self.h_n: np.ndarray | None = None
        self.dh0: np.ndarray | None = None
        self._cache = None

    def weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return tuple(getattr(self, key).value for key in PARAMETER_NAMES)

    def _initial(self, x: np.ndarray, state) -> np.ndarray:
        if x.ndim != 3:
            raise ShapeError(f"{type(self).__name__}: x has shape {format_shape(x.shape)} but expected (T, N, D) "
                             f"(time first; for batch-first data use x.transpose(1, 0, 2))")
        return np.zeros((x.shape[1], self.hidden_size)) if state is None else state

    def _accumulate(self, grads) -> None:
        for key, grad in zip(PARAMETER_NAMES, grads):
            getattr(self, key).accumulate(grad)

    def torch_state_dict(self) -> dict[str, torch.Tensor]:
        """The parameters as a state dict that ``nn.RNN/nn.LSTM/nn.GRU(...).load_state_dict`` accepts (float64)."""
        import torch

        return {key: torch.tensor(getattr(self, key).value) for key in PARAMETER_NAMES}

    def load_torch_state_dict(self, state_dict: Mapping[str, torch.Tensor]) -> None:
        """Copy weights from a one-layer PyTorch module's ``state_dict()`` (shapes must match)."""
        for key in PARAMETER_NAMES:
            if key not in state_dict:
                raise ValueError(f"{type(self).__name__}.load_torch_state_dict: state_dict has no {key!r}; expected the "
                                 f"state_dict() of a one-layer nn.{type(self).__name__} with biases")
            value = np.asarray(state_dict[key].detach().cpu().numpy(), dtype=np.float64)
            expect_shape(f"{type(self).__name__}.load_torch_state_dict", key, value, getattr(self, key).shape)
            getattr(self, key).value = value.copy()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"


class RNN(RecurrentLayer):
    """A one-layer tanh RNN over (T, N, D) sequences, parameters named and laid out as nn.RNN's."""

    gates = 1

    def forward(self, x: np.ndarray, h0: np.ndarray | None = None) -> np.ndarray:
        x = as_float_array("RNN", "x", x)
        out, self._cache = rnn_forward(x, self._initial(x, h0), *self.weights())
        self.h_n = out[-1]
        return out

    def backward(self, dout: np.ndarray, dh_n: np.ndarray | None = None) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError("RNN.backward: call forward first")
        dx, self.dh0, *grads = rnn_backward(dout, self._cache, dh_n)
        self._accumulate(grads)
        return dx
