"""Checks for chapter 10's exercises (classic CNN architectures).

- 10.1 derive the parameter count of a convolution            -> :func:`check_conv_parameters`
- 10.2 derive the multiply-accumulates of a convolution       -> :func:`check_conv_macs`
- 10.3 predict the shape and receptive field of ResNet's stem -> :func:`check_stem_prediction`
- 10.4 implement the forward pass of a residual block         -> :func:`check_residual_forward`
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.exercises.core import not_done_message
from dlcore.exercises.core import Case, CheckResult, fail, first_mistake, passed
from dlcore.exercises.functions import check_array_function

__all__ = ["check_conv_parameters", "check_conv_macs", "check_stem_prediction", "check_residual_forward",
           "reference_conv_parameters", "reference_conv_macs", "reference_residual_forward", "STEM"]



# ---------------------------------------------------------------- 10.1 parameters of a convolution

def reference_conv_parameters(in_channels: int, out_channels: int, kernel_size: int, bias: bool = True,
                              groups: int = 1) -> int:
    """F · (C / groups) · k² weights, plus F biases."""
    return out_channels * (in_channels // groups) * kernel_size**2 + (out_channels if bias else 0)


_PARAM_CASES = [
    Case((3, 64, 11), dict(bias=True), "AlexNet's conv1: C = 3, F = 64, k = 11, with bias"),
    Case((64, 128, 3), dict(bias=False), "a ResNet convolution: C = 64, F = 128, k = 3, no bias (batch norm follows)"),
    Case((96, 256, 5), dict(bias=True, groups=2), "the 2012 AlexNet's conv2: C = 96 in 2 groups, F = 256, k = 5"),
    Case((1, 6, 5), dict(bias=True), "LeNet-5's C1: C = 1, F = 6, k = 5, with bias"),
]


def _weights(c, f, k, groups):
    return f * (c // groups) * k**2


_PARAM_MISTAKES = [
    (lambda c, f, k, bias=True, groups=1: _weights(c, f, k, groups),
     "the biases are missing: with bias=True each of the F filters adds one bias"),
    (lambda c, f, k, bias=True, groups=1: _weights(c, f, k, groups) + (f * (c // groups) if bias else 0),
     "one bias per FILTER (F of them), not one per input channel and filter"),
    (lambda c, f, k, bias=True, groups=1: _weights(c, f, k, groups) + f,
     "with bias=False there are no biases: do not add F"),
    (lambda c, f, k, bias=True, groups=1: f * k**2 + (f if bias else 0),
     "each filter spans ALL its input channels: it has C·k·k weights, not k·k"),
    (lambda c, f, k, bias=True, groups=1: f * (c // groups) * k + (f if bias else 0),
     "a k×k kernel has k² weights per channel, not k"),
    (lambda c, f, k, bias=True, groups=1: f * c * k**2 + (f if bias else 0),
     "groups split the input channels: each filter sees only C / groups of them"),
]


def check_conv_parameters(conv_parameters: Callable) -> CheckResult:
    """Exercise 10.1: ``conv_parameters(in_channels, out_channels, kernel_size, bias=True, groups=1)``.

    Recognises: the bias forgotten or counted when bias=False, one bias per input channel, k instead of
    k², each filter seeing one channel only, and groups ignored.
    """
    def diagnose(got, expected, case):
        return first_mistake(_PARAM_MISTAKES, got, case, rtol=1e-9, atol=0)

    return check_array_function(
        "10.1", conv_parameters, reference_conv_parameters, _PARAM_CASES, diagnoses=[diagnose],
        hint="Count one filter first: it has a weight for every input channel it sees and every kernel position; "
             "then multiply by F and add the biases.",
        success="nn.Conv2d(C, F, k, bias=..., groups=...) has exactly this many parameters.",
    )


# ---------------------------------------------------------------- 10.2 MACs of a convolution

def reference_conv_macs(in_channels: int, out_channels: int, kernel_size: int, out_height: int,
                        out_width: int) -> int:
    """One MAC per weight per output position: H_out · W_out · F · C · k²."""
    return out_height * out_width * out_channels * in_channels * kernel_size**2


_MAC_CASES = [
    Case((3, 64, 11, 55, 55), description="AlexNet's conv1: C = 3, F = 64, k = 11, output 55×55"),
    Case((64, 64, 3, 56, 56), description="ResNet's first 3×3: C = F = 64, output 56×56"),
    Case((16, 32, 5, 4, 7), description="C = 16, F = 32, k = 5, a non-square 4×7 output"),
]
_MAC_MISTAKES = [
    (lambda c, f, k, h, w: f * c * k**2, "that is the number of WEIGHTS: each one is used once at every output "
                                         "position, so multiply by H_out · W_out"),
    (lambda c, f, k, h, w: h * w * f * k**2, "every output value sums over all C input channels: C · k² products"),
    (lambda c, f, k, h, w: h * w * f * c * k, "a k×k window has k² positions, not k"),
    (lambda c, f, k, h, w: h * w * c * k**2, "there are F output maps, each with its own filter"),
    (lambda c, f, k, h, w: 2 * h * w * f * c * k**2, "you counted FLOPs (a multiply and an add); a MAC is the pair"),
    (lambda c, f, k, h, w: h * w * f * (c * k**2 + 1), "the bias add is not a multiply-accumulate; the usual "
                                                        "tables leave it out"),
]


def check_conv_macs(conv_macs: Callable) -> CheckResult:
    """Exercise 10.2: ``conv_macs(in_channels, out_channels, kernel_size, out_height, out_width)`` for one image.

    Recognises: the weight count (no output positions), C or F missing, k instead of k², FLOPs (×2) instead
    of MACs, and the bias counted.
    """
    return check_array_function(
        "10.2", conv_macs, reference_conv_macs, _MAC_CASES,
        diagnoses=[lambda got, expected, case: first_mistake(_MAC_MISTAKES, got, case, rtol=1e-9, atol=0)],
        hint="One output value = one dot product of the filter (C·k·k weights) with a window; count the outputs.",
        success="this is the 'MACs' column of dlcore.models.summary.summarize.",
    )


# ---------------------------------------------------------------- 10.3 predict ResNet's stem

# ResNet's stem and first convolution on a 224×224 image: (name, kernel, stride, padding)
STEM = (("conv 7×7, stride 2, padding 3", 7, 2, 3), ("max pool 3×3, stride 2, padding 1", 3, 2, 1),
        ("conv 3×3, stride 1, padding 1", 3, 1, 1))


def _stem_truth(size: int = 224) -> tuple[int, int]:
    r, j = 1, 1
    for _, k, s, p in STEM:
        size = (size + 2 * p - k) // s + 1
        r, j = r + (k - 1) * j, j * s
    return size, r


def check_stem_prediction(prediction) -> CheckResult:
    """Exercise 10.3: ``(output_size, receptive_field)`` after :data:`STEM` on a 224×224 image: (56, 19)."""
    label = "10.3"
    if prediction is Ellipsis:
        raise not_done_message("Exercise 10.3 is not done yet: return (output size, receptive field).")
    if not (isinstance(prediction, (tuple, list)) and len(prediction) == 2
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in prediction)):
        fail(label, f"your prediction should be a pair of ints (output size, receptive field), got {prediction!r}",
             "e.g. return (100, 9)")
    size, field = (int(v) for v in prediction)
    true_size, true_field = _stem_truth()
    problems = []
    if size != true_size:
        known = {112: "112 is the size after the first convolution only: the max pool halves it again",
                 55: "55 ignores the padding: (224 + 2·3 − 7) // 2 + 1 = 112, then (112 + 2·1 − 3) // 2 + 1 = 56",
                 54: "the paddings keep the sizes even: (224 + 6 − 7) // 2 + 1 = 112, (112 + 2 − 3) // 2 + 1 = 56",
                 224: "strides shrink the maps: two stride-2 layers divide 224 by 4"}
        problems.append(known.get(size, f"output size {size} is not right"))
    if field != true_field:
        known = {11: "11 = 7 + 3 + 3 − 2 adds the kernels as if every stride were 1; after a stride-2 layer each "
                     "step of the next kernel moves 2 input pixels, after two of them 4",
                 13: "13 = 7 + 3 + 3 adds the kernel sizes; the field grows by (k − 1)·j, j the product of the "
                     "earlier strides",
                 15: "15 = 7 + 2·2 + 2·2 applies a jump of 2 to the last convolution too; after two stride-2 layers "
                     "the jump is 4",
                 27: "27 = 7 + 2·2 + 4·4 uses (k + 1) or 4·k for the last term; the field grows by (k − 1)·j"}
        problems.append(known.get(field, f"receptive field {field} is not right"))
    if problems:
        fail(label, "; ".join(problems) + ".", "size: ⌊(n + 2p − k) / s⌋ + 1 per layer; field: r ← r + (k − 1)·j, "
                                              "j ← j·s, starting from r = j = 1.")
    return passed(label, f"{true_size}×{true_size} maps, each value sees a {true_field}×{true_field} patch.")


# ---------------------------------------------------------------- 10.4 residual block forward

def reference_residual_forward(x, w1, w2, w_shortcut=None, stride: int = 1):
    """out = relu(conv3×3(relu(conv3×3(x, w1, stride)), w2) + shortcut(x)), padding 1, no biases.

    shortcut(x) = x, or conv1×1(x, w_shortcut, stride) when a projection is given.
    """
    import torch.nn.functional as F

    branch = F.conv2d(F.relu(F.conv2d(x, w1, stride=stride, padding=1)), w2, padding=1)
    shortcut = x if w_shortcut is None else F.conv2d(x, w_shortcut, stride=stride)
    return F.relu(branch + shortcut)


def _residual_variant(x, w1, w2, w_shortcut=None, stride=1, *, mistake: str):
    """The block with one plausible mistake, to recognise it in a learner's output."""
    import torch.nn.functional as F

    late = mistake == "stride_late"
    inner = F.conv2d(x, w1, stride=1 if late else stride, padding=1)
    inner = inner if mistake == "no_inner_relu" else F.relu(inner)
    branch = F.conv2d(inner, w2, stride=stride if late else 1, padding=1)
    shortcut = x if w_shortcut is None else F.conv2d(x, w_shortcut, stride=stride)
    if mistake == "relu_before_add":
        return F.relu(branch) + shortcut
    if mistake == "no_final_relu":
        return branch + shortcut
    if mistake == "no_shortcut":
        return F.relu(branch)
    return F.relu(branch + shortcut)


_RESIDUAL_MISTAKES = [
    ("relu_before_add", "the ReLU comes AFTER the sum: out = relu(F(x) + x). With relu(F(x)) + x the block can only "
                        "add, never subtract, and its output is not kept non-negative"),
    ("no_final_relu", "the final ReLU is missing: out = relu(F(x) + shortcut(x))"),
    ("no_shortcut", "the shortcut is missing: that is a plain block, out = relu(F(x))"),
    ("no_inner_relu", "F has a ReLU between its two convolutions: F(x) = conv(relu(conv(x)))"),
    ("stride_late", "the stride belongs to the FIRST convolution (and to the projection), not the second"),
]


def check_residual_forward(residual_forward: Callable) -> CheckResult:
    """Exercise 10.4: ``residual_forward(x, w1, w2, w_shortcut=None, stride=1)`` with torch tensors.

    Recognises: the ReLU applied before the sum, the final ReLU missing, the shortcut missing, the inner
    ReLU missing, and the stride put on the second convolution.
    """
    import torch

    generator = torch.Generator().manual_seed(10)

    def randn(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    cases = [
        Case((randn(2, 4, 5, 6), randn(4, 4, 3, 3) * 0.3, randn(4, 4, 3, 3) * 0.3),
             description="x (2, 4, 5, 6), an identity shortcut"),
        Case((randn(1, 3, 8, 7), randn(6, 3, 3, 3) * 0.3, randn(6, 6, 3, 3) * 0.3, randn(6, 3, 1, 1)),
             dict(stride=2), description="x (1, 3, 8, 7), 3 → 6 channels, stride 2, a 1×1 projection shortcut"),
    ]

    def diagnose(got, expected, case):
        for mistake, message in _RESIDUAL_MISTAKES:
            try:
                wrong = _residual_variant(*case.args, **case.kwargs, mistake=mistake).numpy()
            except Exception:
                continue
            if wrong.shape == got.shape and np.allclose(got, wrong, rtol=1e-9, atol=1e-12):
                return f"{message} (on {case.description})"
        return None

    def reference(*args, **kwargs):
        return reference_residual_forward(*args, **kwargs).numpy()

    def learner(*args, **kwargs):
        out = residual_forward(*args, **kwargs)
        return out.detach().numpy() if isinstance(out, torch.Tensor) else out

    return check_array_function(
        "10.4", learner, reference, cases, diagnoses=[diagnose],
        hint="torch.nn.functional.conv2d(x, w, stride=..., padding=...) and F.relu; shortcut(x) is x itself or "
             "conv2d(x, w_shortcut, stride=stride).",
        success="this is BasicBlock's forward without batch norm (dlcore.models.blocks).",
    )
