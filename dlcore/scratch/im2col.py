"""Sliding windows as a matrix: im2col and its adjoint col2im (chapter 09).

A convolution multiplies every kh x kw window of the input by the same
kernel. im2col copies each window into a column of one matrix, so that the
whole convolution becomes a single matrix product, the operation BLAS does
fastest:

    cols[(c, i, j), (n, h, w)] = x_pad[n, c, h*s + i*d, w*s + j*d]

The copy is made through a *strided view*: NumPy describes an array by a
start address and one step (stride, in bytes) per axis, so a view whose axes
are (c, i, j, n, h, w) with steps (C-step, d*row, d*col, N-step, s*row,
s*col) already "contains" every window without copying anything. Reshaping
that view to a matrix is the one copy.

col2im is the adjoint (transpose) of im2col: it adds every column entry back
to the input position it was read from. Where windows overlap an input value
was read several times, so it receives the sum of several gradients.

Output size along one axis (size L, kernel k, padding p, stride s, dilation d):

    L_out = floor((L + 2p - d(k - 1) - 1) / s) + 1
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from dlcore.errors import ShapeError, expect_nonnegative_int, expect_pair, expect_positive_int

__all__ = ["conv_output_size", "receptive_field", "pad2d", "window_view", "im2col", "col2im"]


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """L_out = floor((L + 2p - d(k-1) - 1) / s) + 1; may be <= 0 when the kernel does not fit."""
    for name, value in (("size", size), ("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        expect_positive_int("conv_output_size", name, value)
    expect_nonnegative_int("conv_output_size", "padding", padding)
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def receptive_field(layers: list[tuple[int, int]] | list[tuple[int, int, int]]) -> int:
    """Side of the input square one output unit sees, through layers given as (kernel, stride[, dilation]).

    r_0 = 1, j_0 = 1;  r_l = r_{l-1} + d_l (k_l - 1) j_{l-1};  j_l = j_{l-1} s_l   (j: input pixels per step)
    """
    size, jump = 1, 1
    for index, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) not in (2, 3):
            raise TypeError(f"receptive_field: layers[{index}] must be (kernel, stride) or (kernel, stride, dilation), "
                            f"got {layer!r}")
        kernel, stride = (expect_positive_int("receptive_field", name, value)
                          for name, value in (("kernel", layer[0]), ("stride", layer[1])))
        dilation = expect_positive_int("receptive_field", "dilation", layer[2]) if len(layer) > 2 else 1
        size += dilation * (kernel - 1) * jump
        jump *= stride
    return size


def pad2d(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """A new (N, C, H + 2ph, W + 2pw) array: x surrounded by ``value`` (x itself is never changed)."""
    if np.ndim(x) != 4:
        raise ShapeError(f"pad2d: x has shape {np.shape(x)} but expected a batch of images (N, C, H, W)")
    ph, pw = expect_pair("pad2d", "padding", padding, minimum=0)
    if ph == 0 and pw == 0:
        return x
    N, C, H, W = x.shape
    out = np.full((N, C, H + 2 * ph, W + 2 * pw), value, dtype=x.dtype)
    out[:, :, ph:ph + H, pw:pw + W] = x
    return out


def window_view(x_pad: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
                dilation: tuple[int, int], out_size: tuple[int, int]) -> np.ndarray:
    """A read-only (C, kh, kw, N, Ho, Wo) view of every window of x_pad (N, C, Hp, Wp); no copy.

    view[c, i, j, n, h, w] = x_pad[n, c, h*sh + i*dh, w*sw + j*dw]
    """
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out_size
    N, C = x_pad.shape[:2]
    step_n, step_c, step_h, step_w = x_pad.strides
    return as_strided(
        x_pad,
        shape=(C, kh, kw, N, Ho, Wo),
        strides=(step_c, dh * step_h, dw * step_w, step_n, sh * step_h, sw * step_w),
        writeable=False,  # a strided view aliases memory: writing through it would corrupt x_pad
    )


def im2col(x_pad: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
           dilation: tuple[int, int], out_size: tuple[int, int]) -> np.ndarray:
    """The (C*kh*kw, N*Ho*Wo) matrix whose columns are the windows of x_pad (N, C, Hp, Wp)."""
    kh, kw = kernel
    Ho, Wo = out_size
    N, C = x_pad.shape[:2]
    windows = window_view(x_pad, kernel, stride, dilation, out_size)  # (C, kh, kw, N, Ho, Wo)
    return windows.reshape(C * kh * kw, N * Ho * Wo)  # the one copy


def col2im(cols: np.ndarray, x_pad_shape: tuple[int, int, int, int], kernel: tuple[int, int],
           stride: tuple[int, int], dilation: tuple[int, int], out_size: tuple[int, int]) -> np.ndarray:
    """Adjoint of :func:`im2col`: add each entry of cols (C*kh*kw, N*Ho*Wo) back to its position.

    Returns an array of ``x_pad_shape`` (N, C, Hp, Wp) (a transposed view of new memory). One strided addition
    per kernel offset (i, j): kh*kw vectorised steps, not one per window.
    """
    (kh, kw), (sh, sw), (dh, dw), (Ho, Wo) = kernel, stride, dilation, out_size
    N, C, Hp, Wp = x_pad_shape
    grid = cols.reshape(C, kh, kw, N, Ho, Wo)
    # Accumulate in (C, N, Hp, Wp) order, the order of cols' rows: each addition then walks both
    # arrays row by row. One transpose at the end restores (N, C, Hp, Wp).
    dx_pad = np.zeros((C, N, Hp, Wp), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (Ho - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (Wo - 1) + 1, sw)
            dx_pad[:, :, rows, columns] += grid[:, i, j]  # (C, N, Ho, Wo)
    return dx_pad.transpose(1, 0, 2, 3)  # (N, C, Hp, Wp), a view
