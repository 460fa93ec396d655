"""2-D convolution with explicit loops, forward and backward (chapter 09): the definition, for reading.

Every output value is one window of the input multiplied entry by entry with
one filter and summed, plus that filter's bias:

    out[n, f, h, w'] = b[f] + sum_{c, i, j} w[f, c, i, j] x_pad[n, c, h*s + i*d, w'*s + j*d]

The backward pass follows the same loops: each output value sends
dout[n, f, h, w'] times the window to dw[f] and times the filter back to the
window's input positions. The loops run in Python, so this is hundreds of
times slower than :mod:`dlcore.scratch.conv`; the tests check that both agree.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore.errors import ShapeError, as_float_array, format_shape
from dlcore.scratch.conv import ConvSpec, check_conv_inputs
from dlcore.scratch.im2col import pad2d

__all__ = ["NaiveConv2dCache", "conv2d_naive_forward", "conv2d_naive_backward"]


class NaiveConv2dCache(NamedTuple):
    """What conv2d_naive_backward needs."""

    x_pad: np.ndarray  # (N, C, H + 2ph, W + 2pw)
    w: np.ndarray  # (F, C, kh, kw)
    x_shape: tuple[int, int, int, int]
    spec: ConvSpec


def _window(h: int, w: int, spec: ConvSpec) -> tuple[slice, slice]:
    (kh, kw), (sh, sw), (dh, dw) = spec.kernel, spec.stride, spec.dilation
    rows = slice(h * sh, h * sh + dh * (kh - 1) + 1, dh)  # kh rows, d apart
    columns = slice(w * sw, w * sw + dw * (kw - 1) + 1, dw)
    return rows, columns


def conv2d_naive_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int | tuple[int, int] = 1,
                         padding: int | tuple[int, int] = 0, dilation: int | tuple[int, int] = 1,
                         ) -> tuple[np.ndarray, NaiveConv2dCache]:
    """The convolution of :func:`dlcore.scratch.conv.conv2d_forward`, one window at a time.

    Args and returns as conv2d_forward: x (N, C, H, W), w (F, C, kh, kw), b (F,) -> out (N, F, Ho, Wo).
    """
    x, w, b, spec = check_conv_inputs("conv2d_naive_forward", x, w, b, stride, padding, dilation)
    x_pad = pad2d(x, spec.padding)
    N, F = x.shape[0], w.shape[0]
    Ho, Wo = spec.out_size
    out = np.zeros((N, F, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for h in range(Ho):
                for v in range(Wo):
                    rows, columns = _window(h, v, spec)
                    out[n, f, h, v] = np.sum(x_pad[n, :, rows, columns] * w[f]) + b[f]
    return out, NaiveConv2dCache(x_pad, w, x.shape, spec)


def conv2d_naive_backward(dout: np.ndarray, cache: NaiveConv2dCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv2d_naive_forward`, by the same loops: dx (N, C, H, W), dw, db."""
    x_pad, w, x_shape, spec = cache
    dout = as_float_array("conv2d_naive_backward", "dout", dout)
    N, C, H, W = x_shape
    F = w.shape[0]
    Ho, Wo = spec.out_size
    if dout.shape != (N, F, Ho, Wo):
        raise ShapeError(f"conv2d_naive_backward: dout has shape {format_shape(dout.shape)} but expected "
                         f"(N, F, Ho, Wo) = {format_shape((N, F, Ho, Wo))}")
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))  # b[f] was added to every output position of filter f
    for n in range(N):
        for f in range(F):
            for h in range(Ho):
                for v in range(Wo):
                    rows, columns = _window(h, v, spec)
                    dw[f] += dout[n, f, h, v] * x_pad[n, :, rows, columns]
                    dx_pad[n, :, rows, columns] += dout[n, f, h, v] * w[f]
    ph, pw = spec.padding
    return dx_pad[:, :, ph:ph + H, pw:pw + W].copy(), dw, db
