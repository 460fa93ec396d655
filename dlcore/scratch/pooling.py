"""Max and average pooling, forward and backward (chapter 09).

Pooling summarises each kh x kw window of each channel separately (no
weights, no mixing of channels):

    max:     out[n, c, h, w] = max_{i, j} x_pad[n, c, h*s + i, w*s + j]
    average: out[n, c, h, w] = (1 / (kh kw)) sum_{i, j} x_pad[n, c, h*s + i, w*s + j]

Backward: the average sends dout / (kh kw) to every position of its window;
the max sends all of dout to the one position that won (the first one in
reading order if several tie, as PyTorch does) and nothing to the others.

Both are computed by looping over the kh*kw offsets (i, j) of the window,
each step one vectorised operation on a strided view of the whole batch.
Padding follows PyTorch: -inf for max pooling (a pad never wins), zeros for
average pooling, counted in the divisor (``count_include_pad=True``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore.errors import ShapeError, as_float_array, expect_ndim, format_shape
from dlcore.scratch.conv import as_pair
from dlcore.scratch.im2col import conv_output_size, pad2d

__all__ = ["PoolSpec", "MaxPoolCache", "AvgPoolCache", "maxpool2d_forward", "maxpool2d_backward",
           "avgpool2d_forward", "avgpool2d_backward"]


class PoolSpec(NamedTuple):
    """A pooling's geometry, each entry a (height, width) pair."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    out_size: tuple[int, int]


class MaxPoolCache(NamedTuple):
    """Which offset of each window won: all max-pool backward needs."""

    argmax: np.ndarray  # (N, C, Ho, Wo) int, offset i*kw + j of the winner in its window
    x_shape: tuple[int, int, int, int]
    spec: PoolSpec


class AvgPoolCache(NamedTuple):
    x_shape: tuple[int, int, int, int]
    spec: PoolSpec


def _check(func: str, x, kernel_size, stride, padding) -> tuple[np.ndarray, PoolSpec]:
    x = as_float_array(func, "x", x)
    expect_ndim(func, "x", x, 4, "(N, C, H, W); add a channel axis to a grey image with x[:, None]")
    kernel = as_pair(func, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else as_pair(func, "stride", stride, 1)
    padding = as_pair(func, "padding", padding, 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{func}: padding {padding} must be at most half the kernel {kernel}, "
                         f"or some windows would hold only padding")
    H, W = x.shape[2:]
    Ho = conv_output_size(H, kernel[0], stride[0], padding[0])
    Wo = conv_output_size(W, kernel[1], stride[1], padding[1])
    if Ho < 1 or Wo < 1:
        raise ShapeError(f"{func}: x has shape {format_shape(x.shape)} but a {kernel[0]}x{kernel[1]} window "
                         f"needs H + 2p >= {kernel[0]} and W + 2p >= {kernel[1]}")
    return x, PoolSpec(kernel, stride, padding, (Ho, Wo))


def _offsets(spec: PoolSpec):
    """Yield (i*kw + j, rows, columns): the slices of x_pad seen at window offset (i, j)."""
    (kh, kw), (sh, sw), (Ho, Wo) = spec.kernel, spec.stride, spec.out_size
    for i in range(kh):
        for j in range(kw):
            yield i * kw + j, slice(i, i + sh * (Ho - 1) + 1, sh), slice(j, j + sw * (Wo - 1) + 1, sw)


def _check_dout(func: str, dout, x_shape, spec: PoolSpec) -> np.ndarray:
    dout = as_float_array(func, "dout", dout)
    expected = x_shape[:2] + spec.out_size
    if dout.shape != expected:
        raise ShapeError(f"{func}: dout has shape {format_shape(dout.shape)} but expected (N, C, Ho, Wo) = "
                         f"{format_shape(expected)}, the forward output's shape")
    return dout


def _scatter(parts, x_shape, spec: PoolSpec, dtype) -> np.ndarray:
    """Add each offset's (N, C, Ho, Wo) gradient back to its positions; drop the padding."""
    N, C, H, W = x_shape
    (kh, kw), (sh, sw), (ph, pw) = spec.kernel, spec.stride, spec.padding
    dx_pad = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=dtype)
    overlapping = sh < kh or sw < kw
    for (k, rows, columns), part in zip(_offsets(spec), parts):
        if overlapping:
            dx_pad[:, :, rows, columns] += part
        else:
            dx_pad[:, :, rows, columns] = part  # windows are disjoint: every position written once at most
    if ph or pw:
        return dx_pad[:, :, ph:ph + H, pw:pw + W].copy()
    return dx_pad


def maxpool2d_forward(x: np.ndarray, kernel_size: int | tuple[int, int] = 2, stride=None,
                      padding: int | tuple[int, int] = 0) -> tuple[np.ndarray, MaxPoolCache]:
    """Max over each window, per channel, as torch.nn.functional.max_pool2d.

    Args:
        x: (N, C, H, W).
        kernel_size: window size, an int or a pair.
        stride: default the kernel size (disjoint windows).
        padding: at most half the kernel; pads with -inf.

    Returns:
        out (N, C, Ho, Wo), Ho = floor((H + 2p - kh)/s) + 1; and the cache (the winners' offsets).
    """
    x, spec = _check("maxpool2d_forward", x, kernel_size, stride, padding)
    x_pad = pad2d(x, spec.padding, value=-np.inf)
    # Leaves: (the values at offset k of every window, k). Reduce them pairwise, as a tournament.
    entrants = [(x_pad[:, :, rows, columns], np.int16(k)) for k, rows, columns in _offsets(spec)]
    while len(entrants) > 1:
        paired = [_play(*entrants[i], *entrants[i + 1]) for i in range(0, len(entrants) - 1, 2)]
        entrants = paired + ([entrants[-1]] if len(entrants) % 2 else [])
    out, argmax = entrants[0]
    out = np.array(out)  # a 1x1 window leaves a view of x; the output must be its own array
    argmax = np.broadcast_to(argmax, out.shape).copy()  # (N, C, Ho, Wo) int16
    return out, MaxPoolCache(argmax, x.shape, spec)


def _play(left, left_index, right, right_index):
    """The winner of two (values, offsets) entrants, elementwise; on a tie the left (earlier) one wins."""
    right_wins = right > left  # strictly greater: ties keep the earlier offset, as PyTorch does
    # Offsets by arithmetic on the mask: np.where on small integers is several times slower here.
    return np.maximum(left, right), left_index + right_wins * (right_index - left_index)


def maxpool2d_backward(dout: np.ndarray, cache: MaxPoolCache) -> np.ndarray:
    """dx (N, C, H, W): each dout value goes to its window's winning position, zero elsewhere."""
    argmax, x_shape, spec = cache
    dout = _check_dout("maxpool2d_backward", dout, x_shape, spec)
    parts = (dout * (argmax == k) for k, _, _ in _offsets(spec))
    return _scatter(parts, x_shape, spec, dout.dtype)


def avgpool2d_forward(x: np.ndarray, kernel_size: int | tuple[int, int] = 2, stride=None,
                      padding: int | tuple[int, int] = 0) -> tuple[np.ndarray, AvgPoolCache]:
    """Mean over each window, per channel, as torch.nn.functional.avg_pool2d (zero padding counted).

    Args and returns as :func:`maxpool2d_forward`.
    """
    x, spec = _check("avgpool2d_forward", x, kernel_size, stride, padding)
    x_pad = pad2d(x, spec.padding)
    out = None
    for k, rows, columns in _offsets(spec):
        view = x_pad[:, :, rows, columns]
        out = view.copy() if out is None else out + view
    out *= 1.0 / (spec.kernel[0] * spec.kernel[1])
    return out, AvgPoolCache(x.shape, spec)


def avgpool2d_backward(dout: np.ndarray, cache: AvgPoolCache) -> np.ndarray:
    """dx (N, C, H, W): each dout value is shared equally by the kh*kw positions of its window."""
    x_shape, spec = cache
    dout = _check_dout("avgpool2d_backward", dout, x_shape, spec)
    share = dout * (1.0 / (spec.kernel[0] * spec.kernel[1]))
    return _scatter((share for _ in _offsets(spec)), x_shape, spec, dout.dtype)
