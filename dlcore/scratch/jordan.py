"""Elman and Jordan networks side by side: what the context layer holds (chapter 11).

Both are simple recurrent networks with a "context" that carries the past:

    Elman (1990):  h_t = tanh(x_t W_ih^T + h_{t-1} W_hh^T + b_h),  y_t = h_t W_hy^T + b_y   context = h_{t-1}
    Jordan (1986): h_t = tanh(x_t W_ih^T + y_{t-1} W_yh^T + b_h),  y_t = h_t W_hy^T + b_y   context = y_{t-1}

The Elman context is the previous hidden state (Hh numbers the network chooses
freely); the Jordan context is the previous OUTPUT (M numbers that the loss
pins to the targets), so a Jordan network can remember only what it has
already said. In both, the weights on [x_t, context] can be written as one
matrix acting on the concatenation; that is bookkeeping, not what tells them apart.

Public API: ``jordan_forward(x, y0, W_ih, W_yh, b_h, W_hy, b_y) -> (hidden, outputs)``
(forward only: training uses PyTorch autograd, or BPTT exactly as in rnn.py with the
extra factor W_hy in the recurrent path).
"""

from __future__ import annotations

import numpy as np

from dlcore.errors import ShapeError, as_float_array, expect_shape, format_shape

__all__ = ["jordan_forward"]


def jordan_forward(x: np.ndarray, y0: np.ndarray, W_ih: np.ndarray, W_yh: np.ndarray, b_h: np.ndarray,
                   W_hy: np.ndarray, b_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A Jordan network over a sequence: the previous output is fed back as context.

    Args:
        x: (T, N, D); y0: (N, M) the initial context; W_ih (Hh, D); W_yh (Hh, M); b_h (Hh,);
        W_hy (M, Hh); b_y (M,).

    Returns:
        hidden (T, N, Hh) and outputs (T, N, M).
    """
    func = "jordan_forward"
    x, y0 = as_float_array(func, "x", x), as_float_array(func, "y0", y0)
    if x.ndim != 3:
        raise ShapeError(f"{func}: x has shape {format_shape(x.shape)} but expected (T, N, D)")
    T, N, D = x.shape
    W_ih, W_yh, W_hy = (as_float_array(func, name, value) for name, value in
                        (("W_ih", W_ih), ("W_yh", W_yh), ("W_hy", W_hy)))
    b_h, b_y = as_float_array(func, "b_h", b_h), as_float_array(func, "b_y", b_y)
    for name, value in (("W_ih", W_ih), ("W_hy", W_hy)):
        if value.ndim != 2:
            raise ShapeError(f"{func}: {name} has shape {format_shape(value.shape)} but expected a 2-D weight matrix")
    Hh, M = W_ih.shape[0], W_hy.shape[0]
    expect_shape(func, "W_ih", W_ih, (Hh, D), "(Hh, D)", "D = x.shape[2]")
    expect_shape(func, "W_yh", W_yh, (Hh, M), "(Hh, M)", f"Hh = {Hh}, M = W_hy.shape[0] = {M}")
    expect_shape(func, "W_hy", W_hy, (M, Hh), "(M, Hh)")
    expect_shape(func, "y0", y0, (N, M), "(N, M)")
    expect_shape(func, "b_h", b_h, (Hh,), "(Hh,)", f"Hh = W_ih.shape[0] = {Hh}")  # (1,) would broadcast silently
    expect_shape(func, "b_y", b_y, (M,), "(M,)", f"M = W_hy.shape[0] = {M}")
    hidden, outputs = np.empty((T, N, Hh)), np.empty((T, N, M))
    y = y0
    for t in range(T):
        hidden[t] = np.tanh(x[t] @ W_ih.T + y @ W_yh.T + b_h)
        y = outputs[t] = hidden[t] @ W_hy.T + b_y
    return hidden, outputs
