"""Chapter 10's exercise checks pass the reference answers and diagnose plausible wrong ones."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dlcore.exercises import ch10
from dlcore.exercises.core import ExerciseFailed


def not_done(*args, **kwargs):
    raise NotImplementedError("Exercise: replace this line with your code")


# ---------------------------------------------------------------- 10.1

def test_conv_parameters_reference_passes_and_matches_torch():
    ch10.check_conv_parameters(ch10.reference_conv_parameters)
    conv = torch.nn.Conv2d(96, 256, 5, groups=2)
    assert sum(p.numel() for p in conv.parameters()) == ch10.reference_conv_parameters(96, 256, 5, True, 2)


@pytest.mark.parametrize("wrong, message", [
    (lambda c, f, k, bias=True, groups=1: f * (c // groups) * k**2, "the biases are missing"),
    (lambda c, f, k, bias=True, groups=1: f * (c // groups) * k**2 + f, "with bias=False there are no biases"),
    (lambda c, f, k, bias=True, groups=1: f * k**2 + (f if bias else 0), "spans ALL its input channels"),
    (lambda c, f, k, bias=True, groups=1: f * c * k + (f if bias else 0), "k² weights per channel"),
    (lambda c, f, k, bias=True, groups=1: f * c * k**2 + (f if bias else 0), "groups split the input channels"),
    (lambda c, f, k, bias=True, groups=1: f * c * k**2 + (f * c if bias else 0), "one bias per FILTER"),
])
def test_conv_parameters_diagnoses_mistakes(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch10.check_conv_parameters(wrong)


def test_conv_parameters_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 10.1 is not done yet"):
        ch10.check_conv_parameters(not_done)


# ---------------------------------------------------------------- 10.2

def test_conv_macs_reference_passes():
    ch10.check_conv_macs(ch10.reference_conv_macs)


@pytest.mark.parametrize("wrong, message", [
    (lambda c, f, k, h, w: f * c * k**2, "number of WEIGHTS"),
    (lambda c, f, k, h, w: h * w * f * k**2, "all C input channels"),
    (lambda c, f, k, h, w: 2 * h * w * f * c * k**2, "you counted FLOPs"),
    (lambda c, f, k, h, w: h * w * f * (c * k**2 + 1), "the bias add is not a multiply-accumulate"),
    (lambda c, f, k, h, w: h * w * c * k**2, "there are F output maps"),
])
def test_conv_macs_diagnoses_mistakes(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch10.check_conv_macs(wrong)


def test_conv_macs_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 10.2 is not done yet"):
        ch10.check_conv_macs(not_done)


# ---------------------------------------------------------------- 10.3

def test_stem_prediction_truth_agrees_with_the_summary_tool():
    from dlcore.models.summary import receptive_field

    assert ch10._stem_truth() == (56, 19)
    assert receptive_field([(k, s) for _, k, s, _ in ch10.STEM])[-1].r == 19
    ch10.check_stem_prediction((56, 19))


@pytest.mark.parametrize("wrong, message", [
    ((56, 11), "adds the kernels as if every stride were 1"),
    ((56, 13), "adds the kernel sizes"),
    ((112, 19), "the max pool halves it again"),
    ((55, 15), "55 ignores the padding.*jump of 2 to the last convolution"),
    ((56, 20), "receptive field 20 is not right"),
    (("56", 19), "should be a pair of ints"),
])
def test_stem_prediction_diagnoses_mistakes(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch10.check_stem_prediction(wrong)


def test_stem_prediction_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 10.3 is not done yet"):
        ch10.check_stem_prediction(...)


# ---------------------------------------------------------------- 10.4

def test_residual_forward_reference_passes_and_matches_the_block():
    ch10.check_residual_forward(ch10.reference_residual_forward)
    from dlcore.models.blocks import BasicBlock

    block = BasicBlock(3, 6, stride=2, batch_norm=False).double()
    with torch.no_grad():
        for conv in (block.conv1, block.conv2, block.shortcut[0]):
            conv.bias.zero_()
    x = torch.randn(2, 3, 8, 7, dtype=torch.float64)
    expected = ch10.reference_residual_forward(x, block.conv1.weight, block.conv2.weight, block.shortcut[0].weight, 2)
    torch.testing.assert_close(block(x), expected)


def _variant(mistake):
    return lambda x, w1, w2, w_shortcut=None, stride=1: ch10._residual_variant(x, w1, w2, w_shortcut, stride,
                                                                               mistake=mistake)


@pytest.mark.parametrize("mistake, message", [
    ("relu_before_add", "the ReLU comes AFTER the sum"),
    ("no_final_relu", "the final ReLU is missing"),
    ("no_shortcut", "the shortcut is missing"),
    ("no_inner_relu", "F has a ReLU between its two convolutions"),
    ("stride_late", "the stride belongs to the FIRST convolution"),
])
def test_residual_forward_diagnoses_mistakes(mistake, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch10.check_residual_forward(_variant(mistake))


def test_residual_forward_without_padding_reports_the_shape():
    def unpadded(x, w1, w2, w_shortcut=None, stride=1):
        out = F.conv2d(F.relu(F.conv2d(x, w1, stride=stride)), w2)
        return F.relu(out)

    with pytest.raises(ExerciseFailed, match="shape"):
        ch10.check_residual_forward(unpadded)


def test_residual_forward_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 10.4 is not done yet"):
        ch10.check_residual_forward(not_done)
