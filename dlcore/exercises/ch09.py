"""Checks for chapter 09's exercises (convolutional networks), in notebook order.

- 9.1 derive the output size of a convolution (padding, stride, dilation)  -> :func:`check_output_size`
- 9.2 predict the parameter count of LeNet-5's C3                          -> :func:`check_c3_parameters`
- 9.3 predict the receptive field of a C3 unit                             -> :func:`check_c3_receptive_field`
- 9.4 implement conv2d forward with loops                                  -> :func:`check_conv2d_loops`
- 9.5 implement im2col                                                     -> :func:`check_im2col`
- 9.6 derive the matrix form of the backward pass (a "Your derivation" cell, no check)
- 9.7 implement conv forward and backward on im2col (with col2im)          -> :func:`check_conv_im2col`
- 9.8 implement 2x2 max pooling forward and backward                       -> :func:`check_maxpool`

Each known wrong answer is a :class:`Mistake` with a stable id. The build
exercises (9.4, 9.5, 9.7, 9.8) may not call dlcore's version of what they build,
nor PyTorch's or SciPy's ready-made convolution or pooling.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlcore.exercises.core import Case, CheckResult, Mistake, check_value
from dlcore.exercises.functions import check_function
from dlcore.exercises.learner import accept, learner_call
from dlcore.scratch.conv import conv2d_backward, conv2d_forward
from dlcore.scratch.conv_naive import conv2d_naive_backward, conv2d_naive_forward
from dlcore.scratch.im2col import col2im, conv_output_size, im2col, receptive_field, window_view
from dlcore.scratch.pooling import maxpool2d_backward, maxpool2d_forward

__all__ = ["check_output_size", "check_c3_parameters", "check_c3_receptive_field", "check_conv2d_loops",
           "check_im2col", "check_conv_im2col", "check_maxpool", "reference_conv2d_loops", "reference_im2col",
           "OUTPUT_SIZE_CASES", "REFERENCES"]

# The dlcore functions each exercise rebuilds: their code is not shown before the exercise.
REFERENCES = {
    "9.1": (conv_output_size,),
    "9.3": (receptive_field,),
    "9.4": (conv2d_naive_forward,),
    "9.5": (window_view, im2col),
    "9.7": (conv2d_forward, conv2d_backward, col2im),
    "9.8": (maxpool2d_forward, maxpool2d_backward),
}


def _library_shortcuts(*names: str) -> list[Callable[..., Any]]:
    """PyTorch's and SciPy's ready-made versions (imported only when a check runs)."""
    import scipy.signal
    import torch
    import torch.nn.functional as F

    found = {
        "conv": [torch.conv2d, F.conv2d, torch.nn.grad.conv2d_input, torch.nn.grad.conv2d_weight, F.unfold, F.fold,
                 scipy.signal.correlate2d, scipy.signal.convolve2d, scipy.signal.correlate, scipy.signal.convolve],
        "pool": [torch.max_pool2d, F.max_pool2d, F.max_pool2d_with_indices, F.max_unpool2d],
    }
    return [function for name in names for function in found[name]]


# ---------------------------------------------------------------- 9.1 output size

# (size, kernel, stride, padding, dilation): each case separates some of the mistakes below.
OUTPUT_SIZE_CASES = [(32, 5, 1, 0, 1), (28, 5, 1, 2, 1), (7, 3, 2, 0, 1), (8, 3, 2, 1, 1), (10, 3, 1, 0, 2),
                     (9, 3, 2, 2, 3), (1, 1, 1, 0, 1)]

SIZE_MISTAKES = [
    Mistake("dilation-ignored", lambda L, k, s, p, d: (L + 2 * p - k) // s + 1,
            "dilation is missing: a kernel of size k with dilation d spans d(k - 1) + 1 pixels, not k"),
    Mistake("padding-one-side", lambda L, k, s, p, d: (L + p - d * (k - 1) - 1) // s + 1,
            "padding is added on both sides: the padded length is L + 2p, not L + p"),
    Mistake("span-d-times-k", lambda L, k, s, p, d: (L + 2 * p - d * k) // s + 1,
            "the span of a dilated kernel is d(k - 1) + 1 (k taps, d apart), not d k"),
    Mistake("missing-plus-one", lambda L, k, s, p, d: (L + 2 * p - d * (k - 1) - 1) // s,
            "off by one: the first window sits at position 0 and is counted too, so add 1 after dividing"),
    Mistake("true-division", lambda L, k, s, p, d: (L + 2 * p - d * (k - 1) - 1) / s + 1,
            "the division must round down: a window that would run past the padded edge does not exist"),
    Mistake("rounded-up", lambda L, k, s, p, d: -(-(L + 2 * p - d * (k - 1) - 1) // s) + 1,
            "you rounded up; PyTorch (and the formula) round down: a last, incomplete window is dropped"),
    Mistake("articles-formula", lambda L, k, s, p, d: L - k + 1,
            "that is the articles' formula, true only for stride 1, no padding and no dilation"),
]


def check_output_size(output_size: Callable) -> CheckResult:
    """Exercise 9.1: ``output_size(L, k, s, p, d)``, the number of window positions along one axis."""
    cases = [Case(args, description=f"L={args[0]}, k={args[1]}, s={args[2]}, p={args[3]}, d={args[4]}")
             for args in OUTPUT_SIZE_CASES]
    return check_function(
        "9.1", output_size, conv_output_size, cases, name="output_size", mistakes=SIZE_MISTAKES,
        hint="count the positions where the first tap of the window can sit: from 0 to the last one that "
             "keeps the whole dilated kernel inside the padded axis, in steps of s",
        success="the output size of any convolution (and pooling, with d = 1)")


# ---------------------------------------------------------------- 9.2 and 9.3 predictions

C3_PARAMETERS = 16 * (6 * 5 * 5) + 16

C3_MISTAKES = [
    Mistake("biases-missing", lambda: 2400, "the 16 biases are missing: one per filter"),
    Mistake("one-input-map", lambda: 416, "each filter spans all 6 input maps: 6 x 5 x 5 weights, not 25"),
    Mistake("paper-connection-table", lambda: 1516,
            "that is the paper's count with its partial connection table; here C3 sees all 6 maps"),
    Mistake("that-is-c1", lambda: 156, "that is C1 (6 filters of 5x5 over 1 map, plus biases)"),
    Mistake("bias-per-weight", lambda: 2550,
            "there is one bias per filter (16), not one per input map or per weight"),
    Mistake("per-position", lambda: 60000,
            "parameters are shared across positions: the 10 x 10 output size does not multiply them"),
]


def check_c3_parameters(c3_parameters: Callable) -> CheckResult:
    """Exercise 9.2: the weights and biases of C3, 16 filters of 5x5 over all 6 maps of S2."""
    prediction = learner_call("9.2", c3_parameters)
    return check_value("9.2", prediction, C3_PARAMETERS, name="your parameter count", mistakes=C3_MISTAKES,
                       hint="count one filter: C_in x kh x kw weights plus one bias; then multiply by the filters",
                       success="16 filters of 6 x 5 x 5 weights and one bias each, whatever the image size")


C3_RECEPTIVE_FIELD = receptive_field([(5, 1), (2, 2), (5, 1)])  # C1, S2, C3

FIELD_MISTAKES = [
    Mistake("pooling-free", lambda: 9,
            "pooling is not free: S2 makes each step of C3 two input pixels wide, and adds a pixel of its own"),
    Mistake("kernels-add", lambda: 10,
            "kernels do not simply add (5 + 5): stacked windows overlap, so each layer adds (k - 1) x jump"),
    Mistake("sizes-add", lambda: 12,
            "sizes do not add up: r grows by (k - 1) times the jump, the input pixels per step of the layer"),
    Mistake("pool-window-forgotten", lambda: 13,
            "S2's own 2x2 window widens the field by (2 - 1) x 1 pixel before the jump doubles"),
    Mistake("that-is-c1", lambda: 5, "that is C1's field; C3 sits on top of S2 and sees further"),
    Mistake("weights-per-map", lambda: 25,
            "that is the number of weights per input map of a C3 filter (5 x 5), not the field's side"),
]


def check_c3_receptive_field(c3_receptive_field: Callable) -> CheckResult:
    """Exercise 9.3: the side of the input patch one unit of C3 sees (C1 5x5, S2 2x2/2, C3 5x5)."""
    prediction = learner_call("9.3", c3_receptive_field)
    return check_value("9.3", prediction, C3_RECEPTIVE_FIELD, name="your receptive field", mistakes=FIELD_MISTAKES,
                       hint="go layer by layer: r = 1, jump = 1; each layer adds (k - 1) x jump to r and "
                            "multiplies jump by its stride",
                       success="the field grows by (k - 1) x jump per layer, and S2's stride doubles the jump")


# ---------------------------------------------------------------- 9.4 conv2d with loops

def reference_conv2d_loops(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1,
                           padding: int = 0) -> np.ndarray:
    """dlcore's loop convolution with the exercise's signature: out (N, F, Ho, Wo) alone."""
    return conv2d_naive_forward(x, w, b, stride, padding)[0]


def _correlate(x: np.ndarray, w: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """Cross-correlation without bias (N, F, Ho, Wo), for the mistakes below."""
    return conv2d_forward(x, w, np.zeros(w.shape[0]), stride, padding)[0]


def _unstrided_windows(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    out = conv2d_forward(x, w, b, 1, padding)[0]  # every window at stride 1
    Ho = conv_output_size(x.shape[2], w.shape[2], stride, padding)
    Wo = conv_output_size(x.shape[3], w.shape[3], stride, padding)
    return out[:, :, :Ho, :Wo]  # the right count of windows, at the wrong places


LOOP_MISTAKES = [
    Mistake("kernel-flipped",
            lambda x, w, b, stride=1, padding=0: conv2d_forward(x, w[:, :, ::-1, ::-1], b, stride, padding)[0],
            "you flipped the kernel (the mathematicians' convolution); deep learning's conv2d multiplies "
            "w[f, c, a, b] with the window's pixel at the same offset (a, b)"),
    Mistake("bias-missing", lambda x, w, b, stride=1, padding=0: _correlate(x, w, stride, padding),
            "the bias is missing: add b[f] to every output of filter f"),
    Mistake("bias-per-channel",
            lambda x, w, b, stride=1, padding=0: _correlate(x, w, stride, padding) + x.shape[1] * b[:, None, None],
            "the bias is added once per input channel; it belongs once to each output value"),
    Mistake("first-channel-only",
            lambda x, w, b, stride=1, padding=0: conv2d_forward(x[:, :1], w[:, :1], b, stride, padding)[0],
            "only the first input channel is used: a filter spans all C channels, sum over them too"),
    Mistake("window-not-strided", _unstrided_windows,
            "the number of windows is right but they are not s pixels apart: window (i, j) starts at row i*s "
            "and column j*s of the padded input"),
]

LOOP_CASES = [
    Case((np.arange(20.0).reshape(1, 1, 4, 5) % 7, np.array([[[[1.0, 2.0], [0.0, -1.0]]]]), np.array([0.5])),
         description="x of shape (1, 1, 4, 5), one 2x2 filter"),
    Case((np.random.default_rng(90).standard_normal((2, 3, 7, 6)), np.random.default_rng(91).standard_normal((4, 3, 3, 2)),
          np.random.default_rng(92).standard_normal(4)), {"stride": 2, "padding": 1},
         description="x (2, 3, 7, 6), w (4, 3, 3, 2), stride 2, padding 1"),
    Case((np.random.default_rng(93).standard_normal((1, 2, 5, 5)), np.random.default_rng(94).standard_normal((3, 2, 3, 3)),
          np.random.default_rng(95).standard_normal(3)), {"stride": 1, "padding": 2},
         description="x (1, 2, 5, 5), w (3, 2, 3, 3), padding 2"),
]


def check_conv2d_loops(conv2d_loops: Callable) -> CheckResult:
    """Exercise 9.4: ``conv2d_loops(x, w, b, stride=1, padding=0)`` -> out (N, F, Ho, Wo), from the definition."""
    return check_function(
        "9.4", conv2d_loops, reference_conv2d_loops, LOOP_CASES, name="conv2d_loops", mistakes=LOOP_MISTAKES,
        forbid=[conv2d_naive_forward, conv2d_forward, im2col, window_view, *_library_shortcuts("conv")],
        hint="pad x with np.pad, then for each n, f, i, j take the window x_pad[n, :, rows, columns] "
             "(all channels) and sum its product with w[f]",
        success="one window at a time, exactly the definition")


# ---------------------------------------------------------------- 9.5 im2col

def reference_im2col(x_pad: np.ndarray, kh: int, kw: int, stride: int = 1) -> np.ndarray:
    """dlcore's im2col with the exercise's signature: cols (C*kh*kw, N*Ho*Wo)."""
    Ho = conv_output_size(x_pad.shape[2], kh, stride)
    Wo = conv_output_size(x_pad.shape[3], kw, stride)
    return im2col(x_pad, (kh, kw), (stride, stride), (1, 1), (Ho, Wo))


def _cols_grid(x_pad: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    N, C = x_pad.shape[:2]
    cols = reference_im2col(x_pad, kh, kw, stride)
    return cols.reshape(C, kh, kw, N, cols.shape[1] // N)  # (C, kh, kw, N, Ho*Wo)


def _cols_from_grid(grid: np.ndarray) -> np.ndarray:
    return grid.reshape(int(np.prod(grid.shape[:3])), -1)


IM2COL_MISTAKES = [
    Mistake("transposed", lambda x, kh, kw, stride=1: reference_im2col(x, kh, kw, stride).T,
            "you built one row per window; the exercise wants one *column* per window, (C*kh*kw, N*Ho*Wo), so "
            "that the filters (F, C*kh*kw) multiply it from the left"),
    Mistake("rows-offset-major",
            lambda x, kh, kw, stride=1: _cols_from_grid(_cols_grid(x, kh, kw, stride).transpose(1, 2, 0, 3, 4)),
            "the rows are ordered (a, b, c); they must be (c, a, b), the order of w.reshape(F, -1)"),
    Mistake("kernel-axes-swapped",
            lambda x, kh, kw, stride=1: _cols_from_grid(_cols_grid(x, kh, kw, stride).transpose(0, 2, 1, 3, 4)),
            "within a channel the rows run over columns of the window first; row (c, a, b) is c*kh*kw + a*kw + b"),
    Mistake("columns-example-last",
            lambda x, kh, kw, stride=1: _cols_from_grid(_cols_grid(x, kh, kw, stride).transpose(0, 1, 2, 4, 3)),
            "the columns are ordered (i, j, n); they must be (n, i, j): all windows of example 0 first"),
    Mistake("window-not-strided",
            lambda x, kh, kw, stride=1: _cols_from_grid(_cols_grid(x, kh, kw, 1).reshape(
                x.shape[1], kh, kw, x.shape[0], x.shape[2] - kh + 1, x.shape[3] - kw + 1)[
                    ..., :conv_output_size(x.shape[2], kh, stride), :conv_output_size(x.shape[3], kw, stride)]),
            "the number of windows is right but they are not s pixels apart: window (i, j) starts at (i*s, j*s)"),
]

IM2COL_CASES = [
    Case((np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5), 3, 2),
         description="x_pad (2, 3, 4, 5), a 3x2 kernel, stride 1"),
    Case((np.random.default_rng(96).standard_normal((3, 2, 7, 7)), 3, 3, 2),
         description="x_pad (3, 2, 7, 7), a 3x3 kernel, stride 2"),
    Case((np.random.default_rng(97).standard_normal((1, 1, 4, 6)), 2, 2, 2),
         description="x_pad (1, 1, 4, 6), a 2x2 kernel, stride 2"),
]


def check_im2col(im2col_function: Callable) -> CheckResult:
    """Exercise 9.5: ``im2col(x_pad, kh, kw, stride=1)`` -> cols (C*kh*kw, N*Ho*Wo); rows (c, a, b), columns (n, i, j)."""
    return check_function(
        "9.5", im2col_function, reference_im2col, IM2COL_CASES, name="im2col", mistakes=IM2COL_MISTAKES,
        forbid=[im2col, window_view, conv2d_forward, *_library_shortcuts("conv")],
        hint="loop over the kernel offsets (c, a, b) or over the windows; either way cols[(c, a, b), (n, i, j)] "
             "must be x_pad[n, c, i*s + a, j*s + b]",
        success="every window is a column, in the order of w.reshape(F, -1)")


# ---------------------------------------------------------------- 9.7 conv forward and backward on im2col

def _conv_pass(forward: Callable, backward: Callable) -> Callable:
    """One forward and one backward pass of a (forward, backward) pair: (out, dx, dw, db)."""
    def conv_pass(x, w, b, dout, stride=1, padding=0):
        result = forward(x, w, b, stride, padding)
        if not isinstance(result, tuple) or len(result) != 2:
            raise TypeError(f"conv_forward should return the pair (out, cache), got {type(result).__name__}"
                            + (f" of {len(result)}" if isinstance(result, tuple) else ""))
        out, cache = result
        grads = backward(dout, cache)
        if not isinstance(grads, tuple) or len(grads) != 3:
            raise TypeError("conv_backward should return the three gradients (dx, dw, db)")
        return (out, *grads)

    return conv_pass


def _conv_variant(x, w, b, dout, stride=1, padding=0, *, out_order=True, dout_order=True, dw_order=True,
                  db_mean=False, col2im_mode="add", crop=True):
    """The convolution's forward and backward through im2col, with one of the mistakes switched on."""
    N, F, kh, kw = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    columns = reference_im2col(padded, kh, kw, stride)  # (C*kh*kw, N*Ho*Wo)
    Ho, Wo = dout.shape[2], dout.shape[3]
    flat_filters = w.reshape(F, -1)
    product = flat_filters @ columns + b[:, None]  # (F, N*Ho*Wo)
    out = product.reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3) if out_order else product.reshape(N, F, Ho, Wo)
    upstream = dout.transpose(1, 0, 2, 3).reshape(F, -1) if dout_order else dout.reshape(F, -1)
    dw = (upstream @ columns.T).reshape(w.shape) if dw_order else (columns @ upstream.T).reshape(w.shape)
    db = upstream.mean(axis=1) if db_mean else upstream.sum(axis=1)
    dcolumns = flat_filters.T @ upstream  # (C*kh*kw, N*Ho*Wo)
    if col2im_mode == "add":
        dpadded = col2im(dcolumns, padded.shape, (kh, kw), (stride, stride), (1, 1), (Ho, Wo))
    else:
        dpadded = np.zeros(padded.shape)
        grid = dcolumns.reshape(x.shape[1], kh, kw, N, Ho, Wo)
        if col2im_mode == "overwrite-offsets":
            for a in range(kh):
                for c in range(kw):
                    dpadded[:, :, a:a + stride * (Ho - 1) + 1:stride, c:c + stride * (Wo - 1) + 1:stride] = \
                        grid[:, a, c].transpose(1, 0, 2, 3)
        else:  # overwrite, window by window
            for i in range(Ho):
                for j in range(Wo):
                    dpadded[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] = \
                        grid[:, :, :, :, i, j].transpose(3, 0, 1, 2)
    H, W = x.shape[2], x.shape[3]
    dx = dpadded[:, :, padding:padding + H, padding:padding + W] if crop else dpadded
    return out, dx, dw, db


def _variant(**switches) -> Callable:
    return lambda x, w, b, dout, stride=1, padding=0: _conv_variant(x, w, b, dout, stride, padding, **switches)


CONV_MISTAKES = [
    Mistake("out-not-transposed", _variant(out_order=False),
            "out: the product W_m cols has shape (F, N*Ho*Wo), filter first; reshape it to (F, N, Ho, Wo) and "
            "move the filter axis second, rather than reshaping straight to (N, F, Ho, Wo)"),
    Mistake("dout-not-transposed", _variant(dout_order=False),
            "dout must become (F, N*Ho*Wo) with its columns in the order of cols (n, i, j): move the filter "
            "axis first before reshaping, as in the forward pass"),
    Mistake("dw-transposed", _variant(dw_order=False),
            "dw: cols times dout^T has shape (C*kh*kw, F); reshaping it straight to (F, C, kh, kw) scrambles "
            "the weights. Multiply in the other order (shapes: (F, N*Ho*Wo) times (N*Ho*Wo, C*kh*kw))"),
    Mistake("db-mean", _variant(db_mean=True),
            "db: the bias is added to every output of its filter, so its gradient is the sum of dout over "
            "n, i and j, not the mean"),
    Mistake("col2im-overwrites", _variant(col2im_mode="overwrite-offsets"),
            "dx: where windows overlap, a pixel was read several times, so col2im must *add* (+=) the "
            "gradients of every window that read it; assigning (=) keeps only the last"),
    Mistake("col2im-overwrites", _variant(col2im_mode="overwrite-windows"),
            "dx: where windows overlap, a pixel was read several times, so col2im must *add* (+=) the "
            "gradients of every window that read it; assigning (=) keeps only the last"),
    Mistake("padding-not-dropped", _variant(crop=False),
            "dx has the padded input's shape: padding is not an input, so drop its border and return "
            "dx of x's shape (N, C, H, W)"),
]


def _conv_case(seed: int, x_shape, w_shape, stride: int, padding: int) -> Case:
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    Ho = conv_output_size(x_shape[2], w_shape[2], stride, padding)
    Wo = conv_output_size(x_shape[3], w_shape[3], stride, padding)
    dout = rng.standard_normal((x_shape[0], w_shape[0], Ho, Wo))
    return Case((x, w, b, dout), {"stride": stride, "padding": padding},
                description=f"x {x_shape}, w {w_shape}, stride {stride}, padding {padding}")


CONV_CASES = [
    _conv_case(70, (2, 3, 5, 6), (4, 3, 3, 2), 1, 1),
    _conv_case(71, (1, 2, 7, 5), (3, 2, 3, 3), 2, 0),
    _conv_case(72, (3, 1, 4, 4), (2, 1, 2, 2), 2, 1),
]


def check_conv_im2col(conv_forward: Callable, conv_backward: Callable) -> CheckResult:
    """Exercise 9.7: ``conv_forward(x, w, b, stride=1, padding=0) -> (out, cache)`` and
    ``conv_backward(dout, cache) -> (dx, dw, db)``, through the learner's im2col and a col2im.

    Checked as one forward and one backward pass; on success both functions are accepted, so that
    later cells (LeNet-5) run on them.
    """
    reference = _conv_pass(conv2d_forward, conv2d_backward)
    result = check_function(
        "9.7", _conv_pass(conv_forward, conv_backward), reference, CONV_CASES, name="conv_forward/conv_backward",
        outputs=("out", "dx", "dw", "db"), mistakes=CONV_MISTAKES,
        forbid=[conv2d_forward, conv2d_backward, conv2d_naive_forward, conv2d_naive_backward, im2col, col2im,
                window_view, *_library_shortcuts("conv")],
        hint="follow the shapes: cols (C*kh*kw, N*Ho*Wo), W_m (F, C*kh*kw), dout as (F, N*Ho*Wo) in the order "
             "of cols' columns; col2im adds each column back to its window",
        success="forward, and all three gradients, through im2col")
    accept("conv_forward", conv_forward, "9.7")
    accept("conv_backward", conv_backward, "9.7")
    return result


# ---------------------------------------------------------------- 9.8 max pooling

def _maxpool_pass(forward: Callable, backward: Callable) -> Callable:
    """One forward and one backward pass of a pooling pair: (out, dx)."""
    def pool_pass(x, dout):
        result = forward(x)
        if not isinstance(result, tuple) or len(result) != 2:
            raise TypeError(f"maxpool_forward should return the pair (out, cache), got {type(result).__name__}"
                            + (f" of {len(result)}" if isinstance(result, tuple) else ""))
        out, cache = result
        return out, backward(dout, cache)

    return pool_pass


def _windows(x: np.ndarray) -> np.ndarray:
    N, C, H, W = x.shape
    return x.reshape(N, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5)  # (N, C, Ho, Wo, 2, 2)


def _from_windows(grid: np.ndarray) -> np.ndarray:
    N, C, Ho, Wo = grid.shape[:4]
    return grid.transpose(0, 1, 2, 4, 3, 5).reshape(N, C, 2 * Ho, 2 * Wo)


def _spread(values: np.ndarray) -> np.ndarray:
    return np.kron(values, np.ones((2, 2)))  # each (N, C, Ho, Wo) value copied over its window


def _winner_mask(x: np.ndarray, order: str) -> np.ndarray:
    """A one-hot (N, C, H, W) mask of each window's winner, ties going to the first in ``order``."""
    grid = _windows(x)  # (N, C, Ho, Wo, a, b)
    if order == "column-major":
        flat = grid.swapaxes(-1, -2).reshape(*grid.shape[:4], 4)  # (b, a) order
    else:
        flat = grid.reshape(*grid.shape[:4], 4)
    if order == "last":
        position = 3 - flat[..., ::-1].argmax(axis=-1)
    else:
        position = flat.argmax(axis=-1)
    onehot = (np.arange(4) == position[..., None]).reshape(*grid.shape)
    if order == "column-major":
        onehot = onehot.swapaxes(-1, -2)
    return _from_windows(onehot * 1.0)


def _max_out(x: np.ndarray) -> np.ndarray:
    return _windows(x).max(axis=(-1, -2))


MAXPOOL_MISTAKES = [
    Mistake("average-backward", lambda x, dout: (_max_out(x), _spread(dout) / 4),
            "dx is average pooling's (dout / 4 everywhere); max pooling sends all of dout to the one input that won"),
    Mistake("average-forward", lambda x, dout: (_windows(x).mean(axis=(-1, -2)), _spread(dout) / 4),
            "that is average pooling: the output is each window's largest value, not its mean"),
    Mistake("dout-to-all-four", lambda x, dout: (_max_out(x), _spread(dout)),
            "you copied dout to all four inputs of each window; only the maximum influenced the output"),
    Mistake("mask-without-dout", lambda x, dout: (_max_out(x), _winner_mask(x, "row-major")),
            "dx is the mask of the winners without multiplying by dout"),
    Mistake("mask-times-x", lambda x, dout: (_max_out(x), _winner_mask(x, "row-major") * x),
            "you multiplied the mask by x; the gradient that flows back is dout, not the input value"),
    Mistake("ties-all-get-dout", lambda x, dout: (_max_out(x), (x == _spread(_max_out(x))) * _spread(dout)),
            "on a tie you sent dout to every tied input; PyTorch (and the exercise) sends it to one, the first "
            "in reading order, so that each window's gradient sums to dout"),
    Mistake("ties-column-major", lambda x, dout: (_max_out(x), _winner_mask(x, "column-major") * _spread(dout)),
            "on a tie your first winner is the first in column order (down, then across); reading order is "
            "row by row: top-left, top-right, bottom-left, bottom-right"),
    Mistake("ties-last-wins", lambda x, dout: (_max_out(x), _winner_mask(x, "last") * _spread(dout)),
            "on a tie the last of the tied inputs gets dout; it must be the first in reading order (a strict > "
            "when comparing, or argmax, which returns the first maximum)"),
]


def _tie_case() -> Case:
    # Three windows, each a tie: [[0, 7], [7, 7]], [[0, 0], [0, 0]] (as after a ReLU), [[-1, 5], [5, 0]].
    # Reading order, column order and "last wins" pick a different winner in the first window.
    x = np.array([[[[0.0, 7.0, 0.0, 0.0, -1.0, 5.0], [7.0, 7.0, 0.0, 0.0, 5.0, 0.0]]]])
    return Case((x, np.array([[[[1.0, 2.0, 3.0]]]])), description="windows of tied values (as after a ReLU)")


MAXPOOL_CASES = [
    Case((np.random.default_rng(9).standard_normal((2, 3, 4, 6)), np.random.default_rng(10).standard_normal((2, 3, 2, 3))),
         description="x of shape (2, 3, 4, 6)"),
    Case((np.array([[[[0.3, -1.2], [2.0, 0.7]]]]), np.array([[[[2.5]]]])), description="one 2x2 window"),
    _tie_case(),
]


def check_maxpool(maxpool_forward: Callable, maxpool_backward: Callable) -> CheckResult:
    """Exercise 9.8: ``maxpool_forward(x) -> (out, cache)`` and ``maxpool_backward(dout, cache) -> dx`` for 2x2
    windows with stride 2; on a tie the first input in reading order (row by row) wins, as in PyTorch."""
    reference = _maxpool_pass(maxpool2d_forward, maxpool2d_backward)
    result = check_function(
        "9.8", _maxpool_pass(maxpool_forward, maxpool_backward), reference, MAXPOOL_CASES,
        name="maxpool_forward/maxpool_backward", outputs=("out", "dx"), mistakes=MAXPOOL_MISTAKES,
        forbid=[maxpool2d_forward, maxpool2d_backward, *_library_shortcuts("pool")],
        hint="view x as windows with a reshape to (N, C, H/2, 2, W/2, 2); keep in the cache which of the four "
             "positions won, and route dout there",
        success="the maximum forward, and dout routed to each window's first winner")
    accept("maxpool_forward", maxpool_forward, "9.8")
    accept("maxpool_backward", maxpool_backward, "9.8")
    return result
