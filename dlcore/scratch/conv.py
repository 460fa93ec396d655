"""2-D convolution, fast: forward and backward by im2col and one matrix product (chapter 09).

Deep learning's "convolution" is a cross-correlation (the kernel is not
flipped). With x (N, C, H, W), filters w (F, C, kh, kw), bias b (F,),
stride s, zero padding p and dilation d:

    out[n, f, h, w'] = b[f] + sum_{c, i, j} w[f, c, i, j] x_pad[n, c, h*s + i*d, w'*s + j*d]

Written with cols = im2col(x_pad), a (C*kh*kw, N*Ho*Wo) matrix, and the
filters as a (F, C*kh*kw) matrix Wm, this is out = Wm cols + b. The backward
pass is then the backward pass of a linear layer, plus col2im:

    dWm = dout_m cols^T,   db = sum of dout over n, h, w,   dcols = Wm^T dout_m,   dx = col2im(dcols)

``dlcore.scratch.conv_naive`` computes the same thing with explicit loops,
for reading; this module is the one to use.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore.errors import ShapeError, as_float_array, expect_ndim, format_shape
from dlcore.scratch.im2col import conv_output_size, im2col, pad2d

__all__ = ["ConvSpec", "Conv2dCache", "conv2d_forward", "conv2d_backward", "check_conv_inputs", "as_pair"]


class ConvSpec(NamedTuple):
    """The geometry of one convolution, each entry a (height, width) pair."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    out_size: tuple[int, int]


class Conv2dCache(NamedTuple):
    """What conv2d_backward needs from the forward pass."""

    cols: np.ndarray  # (C*kh*kw, N*Ho*Wo) the input windows
    w: np.ndarray  # (F, C, kh, kw)
    x_shape: tuple[int, int, int, int]  # (N, C, H, W)
    spec: ConvSpec


def as_pair(func: str, name: str, value: int | tuple[int, int], minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each >= minimum, as a (height, width) pair."""
    pair = (value, value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum for v in pair)):
        raise ValueError(f"{func}: {name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _channels(count: int) -> str:
    return f"{count} channel" if count == 1 else f"{count} channels"


def check_conv_inputs(func: str, x, w, b, stride, padding, dilation):
    """Validate a convolution's arguments; return x, w, b as float arrays and the ConvSpec.

    Raises:
        ShapeError: x not 4-D, w not 4-D, channel mismatch, b not (F,), or a
            kernel larger than the padded input.
        ValueError: a stride, padding or dilation that is not a valid int or pair.
    """
    x = as_float_array(func, "x", x)
    w = as_float_array(func, "w", w)
    b = as_float_array(func, "b", b)
    expect_ndim(func, "x", x, 4, "(N, C, H, W); add a channel axis to a grey image with x[:, None]")
    expect_ndim(func, "w", w, 4, "(F, C, kh, kw)")
    N, C, H, W = x.shape
    F, C_w, kh, kw = w.shape
    if min(F, kh, kw) < 1:
        raise ShapeError(f"{func}: w has shape {format_shape(w.shape)} but expected (F, C, kh, kw) with at least "
                         f"one filter and a kernel of at least 1x1")
    if min(C, H, W) < 1:
        raise ShapeError(f"{func}: x has shape {format_shape(x.shape)} but expected (N, C, H, W) with C, H, W >= 1")
    if C_w != C:
        raise ShapeError(f"{func}: w has shape {format_shape(w.shape)} but x has {_channels(C)}; "
                         f"expected w.shape[1] == C ({C})")
    if b.shape != (F,):
        raise ShapeError(f"{func}: b has shape {format_shape(b.shape)} but expected (F,) = ({F},), "
                         f"one bias per filter (F = w.shape[0])")
    stride = as_pair(func, "stride", stride, 1)
    padding = as_pair(func, "padding", padding, 0)
    dilation = as_pair(func, "dilation", dilation, 1)
    Ho = conv_output_size(H, kh, stride[0], padding[0], dilation[0])
    Wo = conv_output_size(W, kw, stride[1], padding[1], dilation[1])
    if Ho < 1 or Wo < 1:
        raise ShapeError(
            f"{func}: the {kh}x{kw} kernel (dilation {dilation}) spans more than the padded input "
            f"{H + 2 * padding[0]}x{W + 2 * padding[1]}; output would be {Ho}x{Wo}. Pad more or use a smaller kernel"
        )
    if x.dtype != w.dtype:
        w, b = w.astype(x.dtype), b.astype(x.dtype)  # compute in x's precision (float32 stays float32)
    return x, w, b, ConvSpec((kh, kw), stride, padding, dilation, (Ho, Wo))


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int | tuple[int, int] = 1,
                   padding: int | tuple[int, int] = 0, dilation: int | tuple[int, int] = 1,
                   ) -> tuple[np.ndarray, Conv2dCache]:
    """2-D cross-correlation of a batch with a bank of filters, as torch.nn.functional.conv2d.

    out[n, f] = b[f] + sum_c x_pad[n, c] (*) w[f, c]   ((*): cross-correlation at stride s, dilation d)

    Args:
        x: (N, C, H, W) input.
        w: (F, C, kh, kw) filters.
        b: (F,) biases.
        stride, padding, dilation: an int or an (along H, along W) pair; zero padding.

    Returns:
        out (N, F, Ho, Wo) with Ho = floor((H + 2p - d(kh-1) - 1)/s) + 1 (likewise Wo), and the cache.

    Raises:
        ShapeError, ValueError: see :func:`check_conv_inputs`.
    """
    x, w, b, spec = check_conv_inputs("conv2d_forward", x, w, b, stride, padding, dilation)
    N = x.shape[0]
    F = w.shape[0]
    Ho, Wo = spec.out_size
    cols = im2col(pad2d(x, spec.padding), spec.kernel, spec.stride, spec.dilation, spec.out_size)  # (C*kh*kw, N*Ho*Wo)
    out = w.reshape(F, -1) @ cols  # (F, N*Ho*Wo)
    out = out.reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3)  # (N, F, Ho, Wo), a view
    out = out + b.reshape(1, F, 1, 1)  # the addition also makes the result contiguous
    return out, Conv2dCache(cols, w, x.shape, spec)


def conv2d_backward(dout: np.ndarray, cache: Conv2dCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`conv2d_forward`.

    dw = dout_m cols^T,  db[f] = sum_{n,h,w} dout[n, f, h, w],  dx = col2im(w_m^T dout_m) without the padding

    The last two are computed transposed (one row per window), d cols one kernel offset at a time, and
    col2im adds channels-last: the same numbers, in the orientation in which BLAS multiplies fastest.

    Args:
        dout: (N, F, Ho, Wo) upstream gradient.
        cache: from :func:`conv2d_forward`.

    Returns:
        dx (N, C, H, W), dw (F, C, kh, kw), db (F,).
    """
    if not isinstance(cache, Conv2dCache):
        raise TypeError(f"conv2d_backward: cache must be the Conv2dCache that conv2d_forward returned, "
                        f"got {type(cache).__name__}")
    cols, w, x_shape, spec = cache
    dout = as_float_array("conv2d_backward", "dout", dout).astype(w.dtype, copy=False)  # the forward's precision
    N, C, H, W = x_shape
    F = w.shape[0]
    Ho, Wo = spec.out_size
    if dout.shape != (N, F, Ho, Wo):
        raise ShapeError(f"conv2d_backward: dout has shape {format_shape(dout.shape)} but expected "
                         f"(N, F, Ho, Wo) = {format_shape((N, F, Ho, Wo))}, the forward output's shape")
    (kh, kw), (sh, sw), (dil_h, dil_w), (ph, pw) = spec.kernel, spec.stride, spec.dilation, spec.padding
    # G_m^T: one row per window (n, h, w), one column per filter, the layout both products below want.
    dout_rows = np.ascontiguousarray(dout.transpose(0, 2, 3, 1)).reshape(N * Ho * Wo, F)  # a copy
    db = dout_rows.sum(axis=0)  # (F,)
    dw = (cols @ dout_rows).T.reshape(w.shape)  # cols G_m^T = dW_m^T: (C*kh*kw, F) -> (F, C, kh, kw)
    # d cols = W_m^T G_m, one kernel offset (a, b) at a time and transposed: the offset's block of d cols is
    # G_m^T W[:, :, a, b], one row per window and one column per channel. OpenBLAS runs these products faster
    # than the one large W_m^T G_m, and each block adds whole pixels (all C channels side by side) back into a
    # channels-last array: col2im without a strided read.
    w_offsets = np.ascontiguousarray(w.transpose(2, 3, 0, 1))  # (kh, kw, F, C)
    dx_pad = np.zeros((N, H + 2 * ph, W + 2 * pw, C), dtype=w.dtype)
    for a in range(kh):
        for b in range(kw):  # col2im: every window's gradient goes back to the pixels it read
            rows = slice(a * dil_h, a * dil_h + sh * (Ho - 1) + 1, sh)
            columns = slice(b * dil_w, b * dil_w + sw * (Wo - 1) + 1, sw)
            dx_pad[:, rows, columns] += (dout_rows @ w_offsets[a, b]).reshape(N, Ho, Wo, C)
    dx = dx_pad[:, ph:ph + H, pw:pw + W].transpose(0, 3, 1, 2)  # padding is not an input; back to (N, C, H, W)
    return np.ascontiguousarray(dx), dw, db
