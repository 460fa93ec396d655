"""Checks for chapter 09's exercises (convolutional networks).

- 9.1 derive the output size of a convolution (padding, stride, dilation) -> :func:`check_output_size`
- 9.2 implement the backward pass of 2x2 max pooling                       -> :func:`check_maxpool_backward`
- 9.3 predict the parameter count of LeNet-5's C3                          -> :func:`check_c3_parameters`
- 9.4 predict the receptive field of a C3 unit                             -> :func:`check_c3_receptive_field`
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.exercises.core import Case, CheckResult, check_value, mistake_diagnosis
from dlcore.exercises.functions import check_array_function
from dlcore.scratch.im2col import conv_output_size, receptive_field
from dlcore.scratch.pooling import maxpool2d_backward, maxpool2d_forward

__all__ = ["check_output_size", "check_maxpool_backward", "check_c3_parameters", "check_c3_receptive_field",
           "reference_maxpool_backward", "OUTPUT_SIZE_CASES"]


# ---------------------------------------------------------------- 9.1 output size

# (size, kernel, stride, padding, dilation): each case separates some of the mistakes below.
OUTPUT_SIZE_CASES = [(32, 5, 1, 0, 1), (28, 5, 1, 2, 1), (7, 3, 2, 0, 1), (8, 3, 2, 1, 1), (10, 3, 1, 0, 2),
                     (9, 3, 2, 2, 3), (1, 1, 1, 0, 1)]

_SIZE_MISTAKES = [
    (lambda L, k, s, p, d: (L + 2 * p - k) // s + 1,
     "dilation is missing: a kernel of size k with dilation d spans d(k - 1) + 1 pixels, not k"),
    (lambda L, k, s, p, d: (L + p - d * (k - 1) - 1) // s + 1,
     "padding is added on both sides: the padded length is L + 2p, not L + p"),
    (lambda L, k, s, p, d: (L + 2 * p - d * k) // s + 1,
     "the span of a dilated kernel is d(k - 1) + 1 (k taps, d apart), not d k"),
    (lambda L, k, s, p, d: (L + 2 * p - d * (k - 1) - 1) // s,
     "off by one: the first window sits at position 0 and is counted too, so add 1 after dividing"),
    (lambda L, k, s, p, d: (L + 2 * p - d * (k - 1) - 1) / s + 1,
     "the division must round down: a window that would run past the padded edge does not exist"),
    (lambda L, k, s, p, d: -(-(L + 2 * p - d * (k - 1) - 1) // s) + 1,
     "you rounded up; PyTorch (and the formula) round down: a last, incomplete window is dropped"),
    (lambda L, k, s, p, d: L - k + 1,
     "that is the articles' formula, true only for stride 1, no padding and no dilation"),
]


def check_output_size(output_size: Callable) -> CheckResult:
    """Exercise 9.1: ``output_size(L, k, s, p, d)`` = floor((L + 2p - d(k - 1) - 1) / s) + 1.

    Recognises: dilation ignored, padding counted once, the missing +1, true division instead of
    floor, rounding up, the stride-1 formula of the articles, and a span of d k instead of d(k-1)+1.
    """
    diagnose = mistake_diagnosis(_SIZE_MISTAKES)

    cases = [Case(args, description=f"L={args[0]}, k={args[1]}, s={args[2]}, p={args[3]}, d={args[4]}")
             for args in OUTPUT_SIZE_CASES]
    return check_array_function(
        "9.1", output_size, conv_output_size, cases, diagnoses=[diagnose],
        hint="count the positions where the first tap of the window can sit: from 0 to L + 2p - span, "
             "in steps of s, where span = d(k - 1) + 1",
        success="the output size of any convolution (and pooling, with d = 1)")


# ---------------------------------------------------------------- 9.2 max-pool backward

def reference_maxpool_backward(x: np.ndarray, dout: np.ndarray) -> np.ndarray:
    """dx for 2x2 max pooling with stride 2: dout goes to each window's (first) largest input."""
    _, cache = maxpool2d_forward(x, 2)
    return maxpool2d_backward(dout, cache)


def _spread(dout: np.ndarray) -> np.ndarray:
    return np.kron(dout, np.ones((2, 2)))  # (N, C, H, W): each dout copied over its window


_POOL_MISTAKES = [
    (lambda x, dout: _spread(dout) / 4,
     "that is average pooling's backward pass (dout / 4 everywhere); max pooling sends all of dout "
     "to the one input that won"),
    (lambda x, dout: _spread(dout),
     "you copied dout to all four inputs of each window; only the maximum influenced the output"),
    (lambda x, dout: (x == _spread(maxpool2d_forward(x, 2)[0])) * 1.0,
     "you returned the mask of the winners without multiplying by dout"),
    (lambda x, dout: (x == _spread(maxpool2d_forward(x, 2)[0])) * x,
     "you multiplied the mask by x; the gradient that flows back is dout, not the input value"),
]


def check_maxpool_backward(maxpool_backward: Callable) -> CheckResult:
    """Exercise 9.2: ``maxpool_backward(x, dout)`` for 2x2 windows, stride 2; x (N, C, H, W), H and W even.

    Recognises: average pooling's gradient, dout copied to every input, the bare mask, mask times x.
    Ties are avoided in the checks' inputs except in the last case, where the first position must win.
    """
    rng = np.random.default_rng(9)
    ties = np.zeros((1, 1, 2, 4))
    ties[0, 0, 1, 1] = -1.0  # each window a tie: the first in reading order (row-major) gets dout
    cases = [
        Case((rng.standard_normal((2, 3, 4, 6)), rng.standard_normal((2, 3, 2, 3))), description="x of shape (2, 3, 4, 6)"),
        Case((rng.standard_normal((1, 1, 2, 2)), np.array([[[[2.5]]]])), description="one 2x2 window"),
        Case((ties, np.array([[[[1.0, 2.0]]]])), description="windows of equal values (ties, as after a ReLU)"),
    ]
    mistakes = _POOL_MISTAKES + [
        (lambda x, dout: (x == _spread(maxpool2d_forward(x, 2)[0])) * _spread(dout),
         "on a tie you sent dout to every tied input; PyTorch (and the exercise) sends it to the first one "
         "in reading order, so that the gradient sums to dout"),
    ]

    diagnose = mistake_diagnosis(mistakes)

    return check_array_function(
        "9.2", maxpool_backward, reference_maxpool_backward, cases, diagnoses=[diagnose],
        hint="view x as windows, x.reshape(N, C, H//2, 2, W//2, 2), find each window's argmax and put dout there",
        success="dout routed to each window's maximum")


# ---------------------------------------------------------------- 9.3 and 9.4 predictions

C3_PARAMETERS = 16 * (6 * 5 * 5) + 16  # 2,416


def check_c3_parameters(prediction) -> CheckResult:
    """Exercise 9.3: LeNet-5's C3, 16 filters of 5x5 over all 6 maps of S2, with biases: 2,416."""
    known = {
        2400: "the 16 biases are missing: one per filter",
        416: "each filter spans all 6 input maps: 6 x 5 x 5 = 150 weights, not 25",
        1516: "1,516 is the paper's count with its partial connection table; here C3 sees all 6 maps",
        156: "that is C1 (6 filters of 5x5 over 1 map, plus biases)",
        2550: "a filter's weights are 6 x 5 x 5 = 150 and there is one bias per filter (16), not per weight",
        60000: "parameters are shared across positions: the 10 x 10 output size does not multiply them",
    }

    def diagnose(got, expected):
        try:
            return known.get(int(got))
        except (TypeError, ValueError):
            return None

    return check_value("9.3", prediction, C3_PARAMETERS, name="your parameter count", diagnoses=[diagnose],
                       hint="count one filter: C_in x kh x kw weights plus one bias; then multiply by the filters",
                       success="16 x (6 x 5 x 5) + 16 = 2,416, the same whatever the image size")


C3_RECEPTIVE_FIELD = receptive_field([(5, 1), (2, 2), (5, 1)])  # C1, S2, C3 -> 14


def check_c3_receptive_field(prediction) -> CheckResult:
    """Exercise 9.4: one unit of C3 sees a 14x14 patch of LeNet-5's input (C1 5x5, S2 2x2/2, C3 5x5)."""
    known = {
        9: "pooling is not free: S2 makes each step of C3 two input pixels wide, and adds a pixel of its own",
        10: "kernels do not simply add (5 + 5): stacked windows overlap, r = r_prev + (k - 1) x jump",
        12: "sizes do not add up: r grows by (k - 1) times the jump, the input pixels per step of the layer",
        13: "S2's own window adds (2 - 1) x 1 pixel before the jump doubles: 5 -> 6, then 6 + 4 x 2",
        5: "that is C1's field; C3 sits on top of S2 and sees further",
        25: "that is the number of weights per input map of a C3 filter (5 x 5), not the field's side",
    }

    def diagnose(got, expected):
        try:
            return known.get(int(got))
        except (TypeError, ValueError):
            return None

    return check_value("9.4", prediction, C3_RECEPTIVE_FIELD, name="your receptive field", diagnoses=[diagnose],
                       hint="go layer by layer: r = 1, jump = 1; each layer adds (k - 1) x jump to r and "
                            "multiplies jump by its stride",
                       success="5 after C1, 6 after S2 (jump 2), 6 + 4 x 2 = 14 after C3")
