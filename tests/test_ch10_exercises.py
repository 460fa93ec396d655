"""Chapter 10 checks: each passes two different correct answers, fails plausible wrong ones with their diagnosis
(and stable mistake id), fails an answer that uses dlcore's own blocks, stage builder or summary, and reports an
untouched stub as not done."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from dlcore.exercises import ch10
from dlcore.exercises.core import ExerciseFailed
from dlcore.exercises.learner import accepted
from dlcore.models import blocks as reference_blocks
from dlcore.models.resnet import ResNet, _stage
from dlcore.models.summary import summarize
from tests.learner_answers import ch10 as answers
from tests.helpers import not_done


def _answer(source: str, name: str):
    namespace = {"torch": torch, "nn": nn}
    exec(source, namespace)
    return namespace[name]


def _failure(check, answer) -> ExerciseFailed:
    with pytest.raises(ExerciseFailed) as caught:
        check(answer)
    return caught.value


# ---------------------------------------------------------------- 10.1 and 10.2

def test_conv_parameters_passes_two_answers_and_matches_torch():
    assert ch10.check_conv_parameters(ch10.reference_conv_parameters).passed
    assert ch10.check_conv_parameters(_answer(answers.RIGHT["10.1"], "conv_parameters")).passed
    conv = torch.nn.Conv2d(96, 256, 5, groups=2)
    assert sum(p.numel() for p in conv.parameters()) == ch10.reference_conv_parameters(96, 256, 5, True, 2)


@pytest.mark.parametrize("wrong, mistake, message", [
    (lambda c, f, k, bias=True, groups=1: f * (c // groups) * k**2, "bias-missing", "the biases are missing"),
    (lambda c, f, k, bias=True, groups=1: f * (c // groups) * k**2 + f, "bias-always", "with bias=False there are no"),
    (lambda c, f, k, bias=True, groups=1: f * k**2 + (f if bias else 0), "one-channel-per-filter", "spans ALL"),
    (lambda c, f, k, bias=True, groups=1: f * c * k + (f if bias else 0), "k-not-squared", "k² weights per channel"),
    (lambda c, f, k, bias=True, groups=1: f * c * k**2 + (f if bias else 0), "groups-ignored", "groups split"),
    (lambda c, f, k, bias=True, groups=1: f * c * k**2 + (f * c if bias else 0), "bias-per-channel", "per FILTER"),
])
def test_conv_parameters_diagnoses_mistakes(wrong, mistake, message):
    failure = _failure(ch10.check_conv_parameters, wrong)
    assert failure.mistake == mistake and message in str(failure)


def test_conv_parameters_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 10.1 is not done yet"):
        ch10.check_conv_parameters(not_done)


def test_conv_macs_passes_two_answers():
    assert ch10.check_conv_macs(ch10.reference_conv_macs).passed
    assert ch10.check_conv_macs(lambda c, f, k, h, w: (c * k * k) * (f * h * w)).passed


@pytest.mark.parametrize("wrong, mistake, message", [
    (lambda c, f, k, h, w: f * c * k**2, "weights-not-macs", "number of WEIGHTS"),
    (lambda c, f, k, h, w: h * w * f * k**2, "channels-missing", "all C input channels"),
    (lambda c, f, k, h, w: 2 * h * w * f * c * k**2, "flops-not-macs", "you counted FLOPs"),
    (lambda c, f, k, h, w: h * w * f * (c * k**2 + 1), "bias-counted", "the bias add is not"),
    (lambda c, f, k, h, w: h * w * c * k**2, "filters-missing", "there are F output maps"),
    (lambda c, f, k, h, w: h * w * f * c * k, "k-not-squared", "k² positions"),
])
def test_conv_macs_diagnoses_mistakes(wrong, mistake, message):
    failure = _failure(ch10.check_conv_macs, wrong)
    assert failure.mistake == mistake and message in str(failure)


def test_conv_macs_agrees_with_the_summary_tool():
    conv = nn.Conv2d(16, 32, 5)
    rows = summarize(nn.Sequential(conv), (16, 8, 11)).rows
    assert rows[0].macs == ch10.reference_conv_macs(16, 32, 5, 4, 7)


def test_conv_macs_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 10.2 is not done yet"):
        ch10.check_conv_macs(not_done)


# ---------------------------------------------------------------- 10.3

def test_stem_prediction_truth_agrees_with_the_summary_tool():
    from dlcore.models.summary import receptive_field

    assert ch10._stem_truth() == (56, 19)
    assert receptive_field([(k, s) for _, k, s, _ in ch10.STEM])[-1].r == 19
    assert ch10.check_stem_prediction((56, 19)).passed
    assert ch10.check_stem_prediction(lambda: [56, 19]).passed


@pytest.mark.parametrize("wrong, mistake, message", [
    ((56, 11), "field-strides-ignored", "as if every stride were 1"),
    ((56, 13), "field-kernels-added", "adds the kernel sizes"),
    ((112, 19), "size-first-layer-only", "the max pool halves it again"),
    ((55, 15), "size-padding-ignored+field-jump-two", "55 ignores the padding.*jump of 2 to the last convolution"),
    ((56, 20), "", "is not right"),
    (("56", 19), "", "should be a pair of ints"),
])
def test_stem_prediction_diagnoses_mistakes(wrong, mistake, message):
    failure = _failure(ch10.check_stem_prediction, wrong)
    assert failure.mistake == mistake and re.search(message, str(failure))


def test_stem_prediction_not_done():
    def stub():
        raise NotImplementedError("Exercise 10.3: replace this line with your code")

    with pytest.raises(NotImplementedError, match="Exercise 10.3 is not done yet"):
        ch10.check_stem_prediction(stub)


# ---------------------------------------------------------------- 10.4 and 10.5 the blocks

def _variant(base, mistake):
    return type(f"{base.__name__}_{mistake}", (base,), {"mistake": mistake})


class _CopiedBasicBlock(nn.Module):
    """The course's basic block, copied line by line (a correct answer that does not call the course's code)."""

    expansion = 1

    def __init__(self, in_channels, channels, stride=1, *, residual=True, batch_norm=True):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=not batch_norm)
        self.bn1 = nn.BatchNorm2d(channels) if batch_norm else nn.Identity()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm)
        self.bn2 = nn.BatchNorm2d(channels) if batch_norm else nn.Identity()
        self.shortcut = None
        if residual:
            self.shortcut = nn.Identity()
            if stride != 1 or in_channels != channels:
                layers = [nn.Conv2d(in_channels, channels, 1, stride=stride, bias=not batch_norm)]
                self.shortcut = nn.Sequential(*layers, *([nn.BatchNorm2d(channels)] if batch_norm else []))

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out if self.shortcut is None else out + self.shortcut(x))


def test_basic_block_passes_two_answers_and_is_accepted():
    assert ch10.check_basic_block(_CopiedBasicBlock).passed
    right = _answer(answers.RIGHT["10.4"], "BasicBlock")
    assert ch10.check_basic_block(right).passed
    assert accepted("BasicBlock") is right


@pytest.mark.parametrize("mistake, message", [
    ("relu-before-add", "the ReLU comes AFTER the sum"),
    ("no-final-relu", "the final ReLU is missing"),
    ("no-shortcut", "the shortcut is never added"),
    ("shortcut-when-plain", "with residual=False there is no shortcut"),
    ("no-inner-relu", "F has a ReLU between its two convolutions"),
    ("stride-on-second-conv", "the stride belongs to the FIRST"),
    ("bias-with-batch-norm", "a convolution followed by batch norm has no bias"),
    ("always-projects", "the shortcut is the identity when the shapes agree"),
    ("projection-without-bn", "a 1×1 convolution followed by batch norm"),
])
def test_basic_block_diagnoses_mistakes(mistake, message):
    failure = _failure(ch10.check_basic_block, _variant(ch10._WrongBasicBlock, mistake))
    assert failure.mistake == mistake and message in str(failure)
    assert accepted("BasicBlock") is None


def test_basic_block_answers_wrong_answer_of_the_notebook_run_is_caught():
    failure = _failure(ch10.check_basic_block, _answer(answers.WRONG["10.4"], "BasicBlock"))
    assert failure.mistake == "relu-before-add"


def test_basic_block_with_other_layer_names_is_told_the_names():
    class Renamed(_CopiedBasicBlock):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.first = self.conv1
            del self.conv1

        def forward(self, x):
            out = self.bn2(self.conv2(torch.relu(self.bn1(self.first(x)))))
            return torch.relu(out if self.shortcut is None else out + self.shortcut(x))

    failure = _failure(ch10.check_basic_block, Renamed)
    assert "give the layers the names the exercise asks for" in str(failure)


def test_basic_block_that_uses_the_course_block_fails():
    class Wrapped(reference_blocks.BasicBlock):
        pass

    failure = _failure(ch10.check_basic_block, Wrapped)
    assert failure.mistake == "delegates-to-reference" and "BasicBlock.__init__" in str(failure)
    failure = _failure(ch10.check_basic_block, reference_blocks.BasicBlock)
    assert failure.mistake == "delegates-to-reference"


def test_basic_block_not_done():
    class Stub(nn.Module):
        expansion = 1

        def __init__(self, *args, **kwargs):
            super().__init__()
            raise NotImplementedError("Exercise 10.4: replace this line with your code")

    with pytest.raises(NotImplementedError, match="Exercise 10.4 is not done yet"):
        ch10.check_basic_block(Stub)


def test_wrong_block_variants_without_a_mistake_are_the_reference():
    """The mistakes are built on a block that, with no mistake, computes exactly the course's block."""
    for base, reference, specs in [(ch10._WrongBasicBlock, reference_blocks.BasicBlock, [(3, 6, 2), (4, 4, 1)]),
                                   (ch10._WrongBottleneck, reference_blocks.Bottleneck, [(6, 3, 2), (8, 2, 1)])]:
        for args in specs:
            assert ch10._run_block(base, args, {}, torch.randn(2, args[0], 6, 5, dtype=torch.float64),
                                   ch10._state(reference(*args), 0), True)[1] > 0
            torch.testing.assert_close(*(torch.as_tensor(ch10._run_block(
                cls, args, {}, torch.ones(1, args[0], 5, 5, dtype=torch.float64),
                ch10._state(reference(*args), 1), False)[2]) for cls in (base, reference)))


def test_bottleneck_passes_two_answers():
    class Copied(nn.Module):
        expansion = 4

        def __init__(self, in_channels, channels, stride=1):
            super().__init__()
            out = 4 * channels
            self.conv1, self.bn1 = nn.Conv2d(in_channels, channels, 1, bias=False), nn.BatchNorm2d(channels)
            self.conv2 = nn.Conv2d(channels, channels, 3, stride=stride, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(channels)
            self.conv3, self.bn3 = nn.Conv2d(channels, out, 1, bias=False), nn.BatchNorm2d(out)
            self.shortcut = nn.Identity() if stride == 1 and in_channels == out else nn.Sequential(
                nn.Conv2d(in_channels, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))

        def forward(self, x):
            y = torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))
            return torch.relu(self.bn3(self.conv3(y)) + self.shortcut(x))

    assert ch10.check_bottleneck(Copied).passed
    assert ch10.check_bottleneck(_answer(answers.RIGHT["10.5"], "Bottleneck")).passed


@pytest.mark.parametrize("mistake, message", [
    ("no-expansion", "expands to 4·channels"),
    ("stride-on-first-conv", "the stride belongs on the 3×3 convolution"),
    ("relu-before-add", "the ReLU comes AFTER the sum"),
    ("no-middle-relu", "a ReLU after each of its first two convolutions"),
    ("bias-with-batch-norm", "has no bias"),
    ("always-projects", "the shortcut is the identity when the shapes agree"),
])
def test_bottleneck_diagnoses_mistakes(mistake, message):
    failure = _failure(ch10.check_bottleneck, _variant(ch10._WrongBottleneck, mistake))
    assert failure.mistake == mistake and message in str(failure)


def test_bottleneck_that_uses_the_course_block_fails():
    failure = _failure(ch10.check_bottleneck, reference_blocks.Bottleneck)
    assert failure.mistake == "delegates-to-reference" and "Bottleneck" in str(failure)


# ---------------------------------------------------------------- 10.6 the stage builder

def test_make_stage_passes_two_answers_and_builds_the_reference_resnets():
    def loop(block, in_channels, channels, num_blocks, stride):
        stage = nn.Sequential()
        for index in range(num_blocks):
            stage.append(block(in_channels, channels, stride if index == 0 else 1))
            in_channels = channels * block.expansion
        return stage

    assert ch10.check_make_stage(loop).passed
    right = _answer(answers.RIGHT["10.6"], "make_stage")
    assert ch10.check_make_stage(right).passed
    with torch.device("meta"):
        for depth, total in ((18, 11_689_512), (50, 25_557_032)):
            assert sum(p.numel() for p in ResNet(depth, make_stage=right).parameters()) == total


def _stage_mistake(mistake):
    def make_stage(block, in_channels, channels, num_blocks, stride):
        blocks = []
        count = num_blocks - 1 if mistake == "one-block-short" else num_blocks
        for index in range(count):
            c_in = in_channels if index == 0 or mistake == "in-channels-every-block" else (
                channels if mistake == "expansion-forgotten" else channels * block.expansion)
            s = stride if index == 0 or mistake == "stride-every-block" else 1
            if mistake == "stride-on-last-block":
                s = stride if index == count - 1 else 1
            blocks.append(block(c_in, channels, s))
        return blocks if mistake == "returns-a-list" else nn.Sequential(*blocks)
    return make_stage


@pytest.mark.parametrize("mistake, message", [
    ("stride-every-block", "only the FIRST block of a stage has the stride"),
    ("stride-on-last-block", "downsamples in its first block"),
    ("expansion-forgotten", "channels · block.expansion input channels"),
    ("in-channels-every-block", "only the first block receives in_channels"),
    ("one-block-short", "num_blocks blocks in all"),
    ("returns-a-list", "one nn.Sequential"),
])
def test_make_stage_diagnoses_mistakes(mistake, message):
    failure = _failure(ch10.check_make_stage, _stage_mistake(mistake))
    assert failure.mistake == mistake and message in str(failure)


def test_make_stage_that_calls_the_course_builder_fails():
    failure = _failure(ch10.check_make_stage, lambda *args: _stage(*args))
    assert failure.mistake == "delegates-to-reference" and "_stage" in str(failure)


def test_make_stage_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 10.6 is not done yet"):
        ch10.check_make_stage(not_done)


# ---------------------------------------------------------------- 10.7 the layer summary

def test_layer_summary_passes_two_answers():
    assert ch10.check_layer_summary(_answer(answers.RIGHT["10.7"], "layer_summary")).passed

    def from_named_modules(model, input_shape):
        leaves = [(n, m) for n, m in model.named_modules() if not list(m.children())]
        rows, seen = [], set()
        handles = []
        for name, module in leaves:
            def hook(m, inputs, output, name=name):
                rows.append((name, type(m).__name__, tuple(output.shape[1:]),
                             0 if id(m) in seen else sum(p.numel() for p in m.parameters())))
                seen.add(id(m))
            handles.append(module.register_forward_hook(hook))
        p = next(model.parameters())
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, dtype=p.dtype, device=p.device))
        for h in handles:
            h.remove()
        return rows

    assert ch10.check_layer_summary(from_named_modules).passed
    assert accepted("layer_summary") is from_named_modules


@pytest.mark.parametrize("mistake, message", [
    ("every-module", "only LEAF modules"),
    ("batch-axis-kept", "leave out the batch axis"),
    ("named-by-type", "qualified name"),
    ("model-total-each-row", "not the whole model's"),
    ("hooks-left", "remove the hooks"),
])
def test_layer_summary_diagnoses_mistakes(mistake, message):
    failure = _failure(ch10.check_layer_summary, lambda model, input_shape: _rows_of(mistake, model, input_shape))
    assert failure.mistake == mistake and message in str(failure)


def _rows_of(mistake, model, input_shape):
    """What a learner's summary with ``mistake`` returns (rows, and hooks left behind for 'hooks-left')."""
    rows, counted = [], set()
    names = {id(m): (type(m).__name__ if mistake == "named-by-type" else n) for n, m in model.named_modules()}

    def hook(module, inputs, output):
        count = 0 if id(module) in counted else sum(p.numel() for p in module.parameters())
        if mistake == "model-total-each-row":
            count = sum(p.numel() for p in model.parameters())
        counted.add(id(module))
        shape = tuple(output.shape) if mistake == "batch-axis-kept" else tuple(output.shape[1:])
        rows.append((names[id(module)], type(module).__name__, shape, count))

    hooked = list(model.modules()) if mistake == "every-module" else [m for m in model.modules()
                                                                      if not list(m.children())]
    handles = [m.register_forward_hook(hook) for m in hooked]
    p = next(model.parameters())
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *input_shape, dtype=p.dtype, device=p.device))
    if mistake != "hooks-left":
        for h in handles:
            h.remove()
    return list(rows)


def test_layer_summary_that_calls_summarize_fails():
    failure = _failure(ch10.check_layer_summary,
                       lambda model, shape: [(r.name, r.kind, r.output_shape, r.params)
                                             for r in summarize(model, shape).rows])
    assert failure.mistake == "delegates-to-reference" and "summarize" in str(failure)


def test_layer_summary_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 10.7 is not done yet"):
        ch10.check_layer_summary(not_done)


def test_references_name_what_each_exercise_rebuilds():
    assert set(ch10.REFERENCES) == {"10.2", "10.4", "10.5", "10.6", "10.7"}
    assert summarize in ch10.REFERENCES["10.7"] and _stage in ch10.REFERENCES["10.6"]


def test_the_depth_experiments_run_on_a_learners_block_with_the_same_weights():
    """Section 8 builds its networks from the learner's BasicBlock; one that creates its layers in the order the
    exercise asks draws the same weights, so the chapter's numbers stay those of the course's block."""
    from dlcore.models.resnet import plain_and_residual
    from dlcore.models.gradient_spreads import gradient_spreads

    ours, theirs = plain_and_residual(3, seed=2), plain_and_residual(3, seed=2, block=_CopiedBasicBlock)
    for mine, copied in zip(ours, theirs):
        assert isinstance(copied.blocks[0], _CopiedBasicBlock)
        for (name, a), (_, b) in zip(mine.state_dict().items(), copied.state_dict().items()):
            torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    torch.testing.assert_close(torch.as_tensor(gradient_spreads(2, seeds=(0,), block=_CopiedBasicBlock)),
                               torch.as_tensor(gradient_spreads(2, seeds=(0,))), rtol=1e-12, atol=0)
