"""Max and average pooling, forward and backward (chapter 09).

Pooling summarises each kh x kw window of each channel separately (no
weights, no mixing of channels):

    max:     out[n, c, h, w] = max_{i, j} x_pad[n, c, h*s + i, w*s + j]
    average: out[n, c, h, w] = (1 / (kh kw)) sum_{i, j} x_pad[n, c, h*s + i, w*s + j]

Backward: the average sends dout / (kh kw) to every position of its window;
the max sends all of dout to the one position that won (the first one in
reading order if several tie, as PyTorch does) and nothing to the others.

Both are computed by looping over the offsets of the window, each step one
vectorised operation on a strided view of the whole batch. Max pooling is
separable: a window's maximum is the maximum over its kh rows of each row's
maximum over its kw columns. So it takes kw + kh steps instead of kh*kw, and
the first (column) round runs along whole image rows, where NumPy is fastest.
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
    """Where each window's winner is: all max-pool backward needs."""

    row: np.ndarray  # (N, C, Ho, Wo) int, the row offset i (0 <= i < kh) of each window's winner
    column: np.ndarray  # (N, C, Hp, Wo) int, for each padded row, the column offset j (0 <= j < kw) of its winner
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


def _steps(offset: int, stride: int, count: int) -> slice:
    """The ``count`` positions offset, offset + stride, ... along one axis: offset ``offset`` of every window."""
    return slice(offset, offset + stride * (count - 1) + 1, stride)


def maxpool2d_forward(x: np.ndarray, kernel_size: int | tuple[int, int] = 2, stride=None,
                      padding: int | tuple[int, int] = 0) -> tuple[np.ndarray, MaxPoolCache]:
    """Max over each window, per channel, as torch.nn.functional.max_pool2d.

    Args:
        x: (N, C, H, W).
        kernel_size: window size, an int or a pair.
        stride: default the kernel size (disjoint windows).
        padding: at most half the kernel; pads with -inf.

    Returns:
        out (N, C, Ho, Wo), Ho = floor((H + 2p - kh)/s) + 1; and the cache (where the winners are).
    """
    x, spec = _check("maxpool2d_forward", x, kernel_size, stride, padding)
    x_pad = pad2d(x, spec.padding, value=-np.inf)
    (kh, kw), (sh, sw), (Ho, Wo) = spec.kernel, spec.stride, spec.out_size
    # Round 1: in every row of x_pad, the best of the kw columns of each window. Round 2: the best of those kh rows.
    # Ties go to the earlier offset in both rounds: the top row that holds the maximum, and in it the leftmost
    # position, which is the first maximum in reading order, as PyTorch picks.
    row_max, column = _tournament([x_pad[:, :, :, _steps(j, sw, Wo)] for j in range(kw)])  # (N, C, Hp, Wo)
    out, row = _tournament([row_max[:, :, _steps(i, sh, Ho)] for i in range(kh)])  # (N, C, Ho, Wo)
    if out.base is not None:
        out = out.copy()  # a 1x1 window leaves a view of x; the output must be its own array
    row = np.broadcast_to(row, out.shape)  # a scalar when kh = 1
    column = np.broadcast_to(column, row_max.shape)
    return out, MaxPoolCache(row, column, x.shape, spec)


def _tournament(values: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Elementwise maximum of equally shaped arrays and the index of the winner (the first one on a tie).

    The arrays meet in pairs, round after round, as in a knock-out tournament; the indices travel with them.
    """
    entrants = [(value, np.int16(index)) for index, value in enumerate(values)]
    while len(entrants) > 1:
        paired = [_play(*entrants[i], *entrants[i + 1]) for i in range(0, len(entrants) - 1, 2)]
        entrants = paired + ([entrants[-1]] if len(entrants) % 2 else [])
    return entrants[0]


def _play(left, left_index, right, right_index):
    """The winner of two (values, offsets) entrants, elementwise; on a tie the left (earlier) one wins."""
    right_wins = right > left  # strictly greater: ties keep the earlier offset, as PyTorch does
    # Offsets by arithmetic on the mask: np.where on small integers is several times slower here.
    return np.maximum(left, right), left_index + right_wins * (right_index - left_index)


def _route(dvalues: np.ndarray, winner: np.ndarray, shape: tuple[int, ...], axis: int, kernel: int,
           stride: int, count: int) -> np.ndarray:
    """Backward of one round: each entry of dvalues goes to the offset that won it along ``axis`` (2 or 3)."""
    grad = np.zeros(shape, dtype=dvalues.dtype)
    for offset in range(kernel):
        where = [slice(None)] * 4
        where[axis] = _steps(offset, stride, count)
        target = grad[tuple(where)]  # a strided view: the positions at this offset of every window
        if stride >= kernel:  # disjoint windows: each position receives from one window at most
            np.multiply(dvalues, winner == offset, out=target)  # written in place, no temporary
        else:
            target += dvalues * (winner == offset)
    return grad


def maxpool2d_backward(dout: np.ndarray, cache: MaxPoolCache) -> np.ndarray:
    """dx (N, C, H, W): each dout value goes to its window's winning position, zero elsewhere."""
    row, column, x_shape, spec = cache
    dout = _check_dout("maxpool2d_backward", dout, x_shape, spec)
    N, C, H, W = x_shape
    (kh, kw), (sh, sw), (ph, pw), (Ho, Wo) = spec.kernel, spec.stride, spec.padding, spec.out_size
    Hp, Wp = H + 2 * ph, W + 2 * pw
    drow_max = _route(dout, row, (N, C, Hp, Wo), 2, kh, sh, Ho)  # round 2 backwards: to the winning rows
    dx_pad = _route(drow_max, column, (N, C, Hp, Wp), 3, kw, sw, Wo)  # round 1 backwards: to the winning columns
    if ph or pw:
        return dx_pad[:, :, ph:ph + H, pw:pw + W].copy()  # padding is not an input: drop its gradient
    return dx_pad


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
