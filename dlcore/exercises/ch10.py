"""Checks for chapter 10's exercises (classic CNN architectures), in notebook order.

- 10.1 derive the parameter count of a convolution            -> :func:`check_conv_parameters`
- 10.2 derive the multiply-accumulates of a convolution       -> :func:`check_conv_macs`
- 10.3 predict the shape and receptive field of ResNet's stem -> :func:`check_stem_prediction`
- 10.4 implement ResNet's basic block (an nn.Module)          -> :func:`check_basic_block`
- 10.5 implement ResNet's bottleneck block (an nn.Module)     -> :func:`check_bottleneck`
- 10.6 implement the stage builder                            -> :func:`check_make_stage`
- 10.7 implement a layer-by-layer summary with forward hooks  -> :func:`check_layer_summary`

Each known wrong answer is a :class:`Mistake` with a stable id. A block class is checked by building it,
loading known weights (the reference block's, drawn from a fixed seed) and comparing its ``expansion``, its
parameter count and its output, in training and in evaluation mode. The build exercises may not use
dlcore's blocks, stage builder or summary.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

import numpy as np

from dlcore.exercises.core import Case, CheckResult, Mistake, check_value, fail, passed
from dlcore.exercises.functions import check_function
from dlcore.exercises.learner import accept, learner_call
from dlcore.models import blocks as reference_blocks
from dlcore.models import resnet as reference_resnet
from dlcore.models.summary import layer_macs, summarize

__all__ = ["check_conv_parameters", "check_conv_macs", "check_stem_prediction", "check_basic_block",
           "check_bottleneck", "check_make_stage", "check_layer_summary", "reference_conv_parameters",
           "reference_conv_macs", "reference_make_stage", "reference_layer_summary", "STEM", "REFERENCES"]

# The dlcore code each exercise rebuilds: it is not shown before the exercise.
REFERENCES = {
    "10.2": (layer_macs,),
    "10.4": (reference_blocks.BasicBlock.__init__, reference_blocks.BasicBlock.forward, reference_blocks._shortcut),
    "10.5": (reference_blocks.Bottleneck.__init__, reference_blocks.Bottleneck.forward),
    "10.6": (reference_resnet._stage,),
    "10.7": (summarize,),
}

_BUILT_BY_THE_COURSE = [reference_blocks.BasicBlock.__init__, reference_blocks.BasicBlock.forward,
                        reference_blocks.Bottleneck.__init__, reference_blocks.Bottleneck.forward,
                        reference_blocks._shortcut, reference_resnet._stage, summarize]


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


PARAM_MISTAKES = [
    Mistake("bias-missing", lambda c, f, k, bias=True, groups=1: _weights(c, f, k, groups),
            "the biases are missing: with bias=True each of the F filters adds one bias"),
    Mistake("bias-per-channel",
            lambda c, f, k, bias=True, groups=1: _weights(c, f, k, groups) + (f * (c // groups) if bias else 0),
            "one bias per FILTER (F of them), not one per input channel and filter"),
    Mistake("bias-always", lambda c, f, k, bias=True, groups=1: _weights(c, f, k, groups) + f,
            "with bias=False there are no biases: do not add F"),
    Mistake("one-channel-per-filter", lambda c, f, k, bias=True, groups=1: f * k**2 + (f if bias else 0),
            "each filter spans ALL its input channels: it has C·k·k weights, not k·k"),
    Mistake("k-not-squared", lambda c, f, k, bias=True, groups=1: f * (c // groups) * k + (f if bias else 0),
            "a k×k kernel has k² weights per channel, not k"),
    Mistake("groups-ignored", lambda c, f, k, bias=True, groups=1: f * c * k**2 + (f if bias else 0),
            "groups split the input channels: each filter sees only C / groups of them"),
]


def check_conv_parameters(conv_parameters: Callable) -> CheckResult:
    """Exercise 10.1: ``conv_parameters(in_channels, out_channels, kernel_size, bias=True, groups=1)``."""
    return check_function(
        "10.1", conv_parameters, reference_conv_parameters, _PARAM_CASES, name="conv_parameters",
        mistakes=PARAM_MISTAKES, rtol=0, atol=0,
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
MAC_MISTAKES = [
    Mistake("weights-not-macs", lambda c, f, k, h, w: f * c * k**2,
            "that is the number of WEIGHTS: each one is used once at every output position, so multiply by "
            "H_out · W_out"),
    Mistake("channels-missing", lambda c, f, k, h, w: h * w * f * k**2,
            "every output value sums over all C input channels: C · k² products"),
    Mistake("k-not-squared", lambda c, f, k, h, w: h * w * f * c * k, "a k×k window has k² positions, not k"),
    Mistake("filters-missing", lambda c, f, k, h, w: h * w * c * k**2,
            "there are F output maps, each with its own filter"),
    Mistake("flops-not-macs", lambda c, f, k, h, w: 2 * h * w * f * c * k**2,
            "you counted FLOPs (a multiply and an add); a MAC is the pair"),
    Mistake("bias-counted", lambda c, f, k, h, w: h * w * f * (c * k**2 + 1),
            "the bias add is not a multiply-accumulate; the usual tables leave it out"),
]


def check_conv_macs(conv_macs: Callable) -> CheckResult:
    """Exercise 10.2: ``conv_macs(in_channels, out_channels, kernel_size, out_height, out_width)`` for one image."""
    return check_function(
        "10.2", conv_macs, reference_conv_macs, _MAC_CASES, name="conv_macs", mistakes=MAC_MISTAKES,
        rtol=0, atol=0,
        hint="One output value = one dot product of the filter with a window; count the output values.",
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


_SIZE_SLIPS = {112: ("size-first-layer-only", "112 is the size after the first convolution only: the max pool "
                                              "halves it again"),
               55: ("size-padding-ignored", "55 ignores the padding of the first convolution"),
               54: ("size-padding-ignored-twice", "54 ignores the paddings: they keep the sizes even"),
               224: ("size-strides-ignored", "strides shrink the maps: two stride-2 layers divide 224 by 4")}
_FIELD_SLIPS = {11: ("field-strides-ignored", "11 adds the kernels as if every stride were 1; after a stride-2 "
                                              "layer each step of the next kernel moves 2 input pixels"),
                13: ("field-kernels-added", "13 adds the kernel sizes; the field grows by (k − 1)·j, j the product "
                                            "of the earlier strides"),
                15: ("field-jump-two", "15 applies a jump of 2 to the last convolution too; after two stride-2 "
                                       "layers the jump is 4"),
                27: ("field-k-plus-one", "27 uses (k + 1) or 4·k for the last term; the field grows by (k − 1)·j")}


def _stem_mistakes() -> list[Mistake]:
    size, field = _stem_truth()
    mistakes = [Mistake(i, lambda s=s: (s, field), m) for s, (i, m) in _SIZE_SLIPS.items()]
    mistakes += [Mistake(i, lambda f=f: (size, f), m) for f, (i, m) in _FIELD_SLIPS.items()]
    mistakes += [Mistake(f"{i}+{j}", lambda s=s, f=f: (s, f), f"{m}; {n}")
                 for (s, (i, m)), (f, (j, n)) in itertools.product(_SIZE_SLIPS.items(), _FIELD_SLIPS.items())]
    return mistakes


STEM_MISTAKES = _stem_mistakes()


def check_stem_prediction(prediction: Any) -> CheckResult:
    """Exercise 10.3: ``(output_size, receptive_field)`` after :data:`STEM` on a 224×224 image.

    ``prediction`` is the pair, or the learner's function that returns it.
    """
    if callable(prediction):
        prediction = learner_call("10.3", prediction)
    if prediction is not Ellipsis and not (
            isinstance(prediction, (tuple, list)) and len(prediction) == 2
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in prediction)):
        fail("10.3", f"your prediction should be a pair of ints (output size, receptive field), got {prediction!r}",
             "e.g. return (100, 9)")
    size, field = _stem_truth()
    return check_value("10.3", prediction if prediction is Ellipsis else tuple(int(v) for v in prediction),
                       (size, field), name="your (size, receptive field)", mistakes=STEM_MISTAKES, rtol=0, atol=0,
                       hint="size: ⌊(n + 2p − k) / s⌋ + 1 per layer; field: r ← r + (k − 1)·j, j ← j·s, starting "
                            "from r = j = 1.",
                       success=f"{size}×{size} maps, each value sees a {field}×{field} patch.")


# ---------------------------------------------------------------- 10.4 and 10.5 the residual blocks

def _state(block: Any, seed: int) -> dict:
    """The block's state dict in float64 with every entry drawn from ``seed`` (known weights to load)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, value in block.double().state_dict().items():
        if key.endswith("num_batches_tracked"):
            state[key] = value.clone()
        elif key.endswith("running_var"):
            state[key] = 0.5 + torch.rand(value.shape, generator=generator, dtype=torch.float64)
        elif value.dim() == 1:  # batch norm's γ near 1; biases, β and running means near 0
            state[key] = float(key.endswith("weight")) + 0.2 * torch.randn(value.shape, generator=generator,
                                                                           dtype=torch.float64)
        else:
            fan_in = value[0].numel()
            state[key] = torch.randn(value.shape, generator=generator, dtype=torch.float64) / fan_in**0.5
    return state


def _run_block(block_class: Any, args: tuple, kwargs: dict, x: Any, state: dict, train: bool) -> tuple:
    """(expansion, parameter count, output) of ``block_class(*args, **kwargs)`` with ``state`` loaded."""
    import torch

    expansion = getattr(block_class, "expansion", None)
    module = block_class(*args, **kwargs)
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"it built a {type(module).__name__}, not an nn.Module: subclass nn.Module")
    count = sum(p.numel() for p in module.parameters())
    expected = sum(v.numel() for k, v in state.items() if not k.endswith(("running_mean", "running_var",
                                                                          "num_batches_tracked")))
    if count != expected:
        return expansion, count, np.full(1, np.nan)
    names = sorted(module.state_dict())
    if names != sorted(state):
        raise ValueError(f"its parameters are named {names}, expected {sorted(state)}: give the layers the names "
                         "the exercise asks for")
    module = module.double()
    module.load_state_dict(state)
    module.train(train)
    with torch.no_grad():
        out = module(x.clone())
    return expansion, count, out.detach().numpy()


class _WrongBasicBlock:
    """BasicBlock with one plausible mistake (``mistake``), to recognise it in a learner's results."""

    expansion = 1
    mistake = ""

    def __new__(cls, in_channels, channels, stride=1, *, residual=True, batch_norm=True):
        import torch
        from torch import nn

        mistake = cls.mistake
        bias = (not batch_norm) or mistake == "bias-with-batch-norm"
        late = mistake == "stride-on-second-conv"

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=1 if late else stride, padding=1, bias=bias)
                self.bn1 = nn.BatchNorm2d(channels) if batch_norm else nn.Identity()
                self.conv2 = nn.Conv2d(channels, channels, 3, stride=stride if late else 1, padding=1, bias=bias)
                self.bn2 = nn.BatchNorm2d(channels) if batch_norm else nn.Identity()
                project = (stride != 1 or in_channels != channels or mistake == "always-projects")
                if not residual and mistake != "shortcut-when-plain":
                    self.shortcut = None
                elif not project:
                    self.shortcut = nn.Identity()
                else:
                    layers = [nn.Conv2d(in_channels, channels, 1, stride=stride, bias=bias)]
                    if batch_norm and mistake != "projection-without-bn":
                        layers.append(nn.BatchNorm2d(channels))
                    self.shortcut = nn.Sequential(*layers)

            def forward(self, x):
                inner = self.bn1(self.conv1(x))
                out = self.bn2(self.conv2(inner if mistake == "no-inner-relu" else torch.relu(inner)))
                if mistake == "relu-before-add":
                    return torch.relu(out) + self.shortcut(x)
                if self.shortcut is not None and mistake != "no-shortcut":
                    out = out + self.shortcut(x)
                return out if mistake == "no-final-relu" else torch.relu(out)

        return Block()


class _WrongBottleneck:
    """Bottleneck with one plausible mistake."""

    expansion = 4
    mistake = ""

    def __new__(cls, in_channels, channels, stride=1):
        import torch
        from torch import nn

        mistake = cls.mistake
        out_channels = channels * (1 if mistake == "no-expansion" else 4)
        early = mistake == "stride-on-first-conv"

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                bias = mistake == "bias-with-batch-norm"
                self.conv1 = nn.Conv2d(in_channels, channels, 1, stride=stride if early else 1, bias=bias)
                self.bn1 = nn.BatchNorm2d(channels)
                self.conv2 = nn.Conv2d(channels, channels, 3, stride=1 if early else stride, padding=1, bias=bias)
                self.bn2 = nn.BatchNorm2d(channels)
                self.conv3 = nn.Conv2d(channels, out_channels, 1, bias=bias)
                self.bn3 = nn.BatchNorm2d(out_channels)
                if stride == 1 and in_channels == out_channels and mistake != "always-projects":
                    self.shortcut = nn.Identity()
                else:
                    self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=bias),
                                                  nn.BatchNorm2d(out_channels))

            def forward(self, x):
                out = torch.relu(self.bn1(self.conv1(x)))
                middle = self.bn2(self.conv2(out))
                out = self.bn3(self.conv3(middle if mistake == "no-middle-relu" else torch.relu(middle)))
                if mistake == "relu-before-add":
                    return torch.relu(out) + self.shortcut(x)
                return torch.relu(out + self.shortcut(x))

        return Block()


def _variant(base: type, mistake: str) -> type:
    return type(f"{base.__name__}_{mistake}", (base,), {"mistake": mistake})


def _block_mistakes(base: type, table: list[tuple[str, str]]) -> list[Mistake]:
    return [Mistake(mistake, lambda *args, _m=mistake: _run_block(_variant(base, _m), *args), message)
            for mistake, message in table]


BASIC_MISTAKES = _block_mistakes(_WrongBasicBlock, [
    ("relu-before-add", "the ReLU comes AFTER the sum: out = relu(F(x) + shortcut(x)). With relu(F(x)) + x the "
                        "branch can only add, never subtract"),
    ("no-final-relu", "the final ReLU is missing: out = relu(F(x) + shortcut(x))"),
    ("no-shortcut", "the shortcut is never added: with residual=True the block returns relu(F(x) + shortcut(x))"),
    ("shortcut-when-plain", "with residual=False there is no shortcut at all (a plain block): out = relu(F(x))"),
    ("no-inner-relu", "F has a ReLU between its two convolutions: conv → BN → ReLU → conv → BN"),
    ("stride-on-second-conv", "the stride belongs to the FIRST 3×3 convolution (and to the projection), not the "
                              "second"),
    ("bias-with-batch-norm", "a convolution followed by batch norm has no bias (bias=False): the norm's β replaces "
                             "it; with batch_norm=False the convolutions keep theirs"),
    ("always-projects", "the shortcut is the identity when the shapes agree (stride 1, same channels); a 1×1 "
                        "projection only when they do not"),
    ("projection-without-bn", "the projection shortcut is a 1×1 convolution followed by batch norm"),
])

BOTTLENECK_MISTAKES = _block_mistakes(_WrongBottleneck, [
    ("no-expansion", "the last 1×1 expands to 4·channels (expansion = 4): the block's output has "
                     "channels · expansion maps"),
    ("stride-on-first-conv", "the stride belongs on the 3×3 convolution (as in torchvision, 'ResNet v1.5'); the "
                             "2015 paper put it on the first 1×1, which skips three quarters of the input"),
    ("relu-before-add", "the ReLU comes AFTER the sum: out = relu(F(x) + shortcut(x))"),
    ("no-middle-relu", "F has a ReLU after each of its first two convolutions: 1×1 → BN → ReLU → 3×3 → BN → ReLU "
                       "→ 1×1 → BN"),
    ("bias-with-batch-norm", "a convolution followed by batch norm has no bias (bias=False): the norm's β "
                             "replaces it"),
    ("always-projects", "the shortcut is the identity when the shapes agree (stride 1, in_channels == "
                        "4·channels); a 1×1 projection only when they do not"),
])


def _block_cases(reference: type, specs: list[tuple[tuple, dict, tuple, bool, str]], seed: int) -> list[Case]:
    import torch

    generator = torch.Generator().manual_seed(seed)
    cases = []
    for index, (args, kwargs, shape, train, description) in enumerate(specs):
        state = _state(reference(*args, **kwargs), seed + index)
        x = torch.randn(*shape, generator=generator, dtype=torch.float64)
        cases.append(Case((args, kwargs, x, state, train), description=description))
    return cases


def _check_block(label: str, name: str, learner: Any, reference: type, cases: list[Case],
                 mistakes: list[Mistake], hint: str, success: str) -> CheckResult:
    check_function(label, lambda *args: _run_block(learner, *args), lambda *args: _run_block(reference, *args),
                   cases, name=name, outputs=("expansion", "parameter count", "output"), mistakes=mistakes,
                   forbid=_BUILT_BY_THE_COURSE, hint=hint, report=False)
    accept(name, learner, label)
    return passed(label, success)


def check_basic_block(basic_block: type) -> CheckResult:
    """Exercise 10.4: ``BasicBlock(in_channels, channels, stride=1, *, residual=True, batch_norm=True)``.

    Layers named conv1, bn1, conv2, bn2 and shortcut (an ``nn.Sequential`` of a 1×1 convolution and a batch
    norm when it projects), so that known weights can be loaded into them.
    """
    cases = _block_cases(reference_blocks.BasicBlock, [
        ((4, 4), {}, (2, 4, 6, 5), True, "BasicBlock(4, 4), an identity shortcut, x (2, 4, 6, 5), training mode"),
        ((3, 6, 2), {}, (2, 3, 8, 7), False,
         "BasicBlock(3, 6, stride=2), a projection shortcut, x (2, 3, 8, 7), evaluation mode"),
        ((4, 8, 2), dict(residual=False), (2, 4, 6, 6), True,
         "BasicBlock(4, 8, stride=2, residual=False), a plain block, x (2, 4, 6, 6)"),
        ((3, 5, 2), dict(batch_norm=False), (1, 3, 7, 7), True,
         "BasicBlock(3, 5, stride=2, batch_norm=False), x (1, 3, 7, 7)"),
        ((5, 5), dict(batch_norm=False), (2, 5, 4, 4), True, "BasicBlock(5, 5, batch_norm=False), x (2, 5, 4, 4)"),
    ], seed=104)
    return _check_block(
        "10.4", "BasicBlock", basic_block, reference_blocks.BasicBlock, cases, BASIC_MISTAKES,
        hint="F(x) = bn2(conv2(relu(bn1(conv1(x))))); the block returns relu(F(x) + shortcut(x)), or relu(F(x)) "
             "without a shortcut. Both convolutions are 3×3 with padding 1.",
        success="ResNet-18 and -34, and the plain and residual networks of section 8, can be built from it.")


def check_bottleneck(bottleneck: type) -> CheckResult:
    """Exercise 10.5: ``Bottleneck(in_channels, channels, stride=1)`` with ``expansion = 4``.

    Layers named conv1, bn1, conv2, bn2, conv3, bn3 and shortcut.
    """
    cases = _block_cases(reference_blocks.Bottleneck, [
        ((8, 2), {}, (2, 8, 5, 6), True,
         "Bottleneck(8, 2): 8 → 2 → 2 → 8 channels, an identity shortcut, training mode"),
        ((6, 3, 2), {}, (2, 6, 7, 8), False,
         "Bottleneck(6, 3, stride=2): 6 → 3 → 3 → 12 channels, a projection, evaluation mode"),
        ((4, 4), {}, (1, 4, 5, 5), True, "Bottleneck(4, 4): 4 → 4 → 4 → 16 channels, a projection at stride 1"),
    ], seed=105)
    return _check_block(
        "10.5", "Bottleneck", bottleneck, reference_blocks.Bottleneck, cases, BOTTLENECK_MISTAKES,
        hint="1×1 (in_channels → channels), 3×3 (channels → channels, the stride, padding 1), 1×1 (channels → "
             "4·channels), each followed by batch norm; ReLU after the first two and after the sum.",
        success="ResNet-50, -101 and -152 are built from it.")


# ---------------------------------------------------------------- 10.6 the stage builder

def reference_make_stage(block: Any, in_channels: int, channels: int, num_blocks: int, stride: int) -> Any:
    """dlcore's stage builder with the exercise's signature."""
    return reference_resnet._stage(block, in_channels, channels, num_blocks, stride)


def _recording_block(expansion: int) -> type:
    """A stand-in block class that records the arguments each block is built with."""
    from torch import nn

    class Block(nn.Module):
        def __init__(self, in_channels, channels, stride=1):
            super().__init__()
            self.arguments = (in_channels, channels, stride)

    Block.expansion = expansion
    return Block


def _stage_result(stage: Any) -> tuple:
    """((in_channels, channels, stride) of each block, whether the stage is an nn.Sequential)."""
    from torch import nn

    blocks = list(stage) if isinstance(stage, (nn.Sequential, list, tuple)) else []
    arguments = np.array([getattr(b, "arguments", (-1, -1, -1)) for b in blocks], dtype=float).reshape(-1, 3)
    return arguments, float(isinstance(stage, nn.Sequential))


def _wrong_stage(mistake: str) -> Callable:
    def build(expansion, in_channels, channels, num_blocks, stride):
        block = _recording_block(expansion)
        count = num_blocks - 1 if mistake == "one-block-short" else num_blocks
        blocks = []
        for index in range(count):
            first = index == 0
            c_in = in_channels if first or mistake == "in-channels-every-block" else (
                channels if mistake == "expansion-forgotten" else channels * expansion)
            s = stride if first or mistake == "stride-every-block" else 1
            if mistake == "stride-on-last-block":
                s = stride if index == count - 1 else 1
            blocks.append(block(c_in, channels, s))
        return _stage_result(blocks if mistake == "returns-a-list" else _sequential(blocks))
    return build


def _sequential(blocks: list) -> Any:
    from torch import nn

    return nn.Sequential(*blocks)


STAGE_MISTAKES = [
    Mistake(m, _wrong_stage(m), message) for m, message in [
        ("stride-every-block", "only the FIRST block of a stage has the stride; the others keep the map size "
                               "(stride 1)"),
        ("stride-on-last-block", "the stage downsamples in its first block, not its last"),
        ("expansion-forgotten", "the blocks after the first receive channels · block.expansion input channels "
                                "(the first block's output), not channels"),
        ("in-channels-every-block", "only the first block receives in_channels; each later one receives the "
                                    "previous block's output, channels · block.expansion"),
        ("one-block-short", "the stage has num_blocks blocks in all, the first one included"),
        ("returns-a-list", "return the blocks as one nn.Sequential, so that the stage is a module its network "
                           "can call and register"),
    ]
]


def check_make_stage(make_stage: Callable) -> CheckResult:
    """Exercise 10.6: ``make_stage(block, in_channels, channels, num_blocks, stride)`` → nn.Sequential."""
    cases = [Case((1, 64, 64, 2, 1), description="basic blocks (expansion 1), 64 → 64 channels, 2 blocks, stride 1"),
             Case((1, 64, 128, 3, 2), description="basic blocks, 64 → 128 channels, 3 blocks, stride 2"),
             Case((4, 256, 128, 4, 2), description="bottlenecks (expansion 4), 256 → 128·4 channels, 4 blocks, "
                                                   "stride 2"),
             Case((4, 64, 64, 3, 1), description="bottlenecks, 64 → 64·4 channels, 3 blocks, stride 1")]

    def learner(expansion, in_channels, channels, num_blocks, stride):
        return _stage_result(make_stage(_recording_block(expansion), in_channels, channels, num_blocks, stride))

    def reference(expansion, in_channels, channels, num_blocks, stride):
        return _stage_result(reference_make_stage(_recording_block(expansion), in_channels, channels, num_blocks,
                                                  stride))

    check_function("10.6", learner, reference, cases, name="make_stage",
                   outputs=("(in_channels, channels, stride) of each block", "is an nn.Sequential"),
                   mistakes=STAGE_MISTAKES, forbid=_BUILT_BY_THE_COURSE, rtol=0, atol=0,
                   hint="block i gets (its input channels, channels, its stride): the first block the stage's input "
                        "and stride, every later one the previous block's output channels and stride 1.",
                   report=False)
    accept("make_stage", make_stage, "10.6")
    return passed("10.6", "a ResNet is a stem, four stages and a classifier.")


# ---------------------------------------------------------------- 10.7 the layer summary

def reference_layer_summary(model: Any, input_shape: tuple[int, ...]) -> list[tuple]:
    """(name, type, output shape, parameters) of every leaf module call, from :func:`summarize`."""
    return [(r.name, r.kind, r.output_shape, r.params) for r in summarize(model, input_shape).rows]


def _forward_hook_count(model: Any) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


def _encode_rows(rows: Any, reference_rows: list[tuple], hooks_left: int) -> tuple:
    """Numbers for the comparison: where each (name, type) sits in the reference, shapes, parameters, hooks left."""
    rows = list(rows)
    keys = [(name, kind) for name, kind, _, _ in reference_rows]
    positions, shapes, params = [], [], []
    for row in rows:
        name, kind, shape, count = row
        positions.append(keys.index((name, kind)) if (name, kind) in keys else -1)
        shape = tuple(int(s) for s in shape)
        shapes.append((shape + (-1,) * 5)[:5])
        params.append(int(count))
    return (np.array(positions, dtype=float), np.array(shapes, dtype=float).reshape(-1, 5),
            np.array(params, dtype=float), float(hooks_left))


def _summary_case(build: Callable, input_shape: tuple[int, ...], description: str) -> Case:
    model = build()
    return Case((model, input_shape, reference_layer_summary(model, input_shape)), description=description)


def _wrong_summary(mistake: str) -> Callable:
    def summary(model, input_shape, reference_rows):
        import torch

        before = _forward_hook_count(model)
        rows, counted = [], set()
        names = {id(m): type(m).__name__ if mistake == "named-by-type" else name for name, m in model.named_modules()}

        def hook(module, inputs, output):
            count = 0 if id(module) in counted else sum(p.numel() for p in module.parameters())
            if mistake == "model-total-each-row":
                count = sum(p.numel() for p in model.parameters())
            counted.add(id(module))
            shape = tuple(output.shape) if mistake == "batch-axis-kept" else tuple(output.shape[1:])
            rows.append((names[id(module)], type(module).__name__, shape, count))

        hooked = list(model.modules()) if mistake == "every-module" else \
            [m for m in model.modules() if not list(m.children())]
        handles = [m.register_forward_hook(hook) for m in hooked]
        first = next(model.parameters())
        model.eval()
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), device=first.device, dtype=first.dtype))
        if mistake != "hooks-left":
            for handle in handles:
                handle.remove()
        left = _forward_hook_count(model) - before
        if mistake == "hooks-left":
            for handle in handles:
                handle.remove()
        return _encode_rows(rows, reference_rows, left)
    return summary


SUMMARY_MISTAKES = [
    Mistake(m, _wrong_summary(m), message) for m, message in [
        ("every-module", "only LEAF modules (those without children) get a row: a container's output is the output "
                         "of its last layer, and its parameters are its children's"),
        ("batch-axis-kept", "the output shape is that of ONE example: leave out the batch axis (output.shape[1:])"),
        ("named-by-type", "name each row by the module's qualified name in the model (model.named_modules()), "
                          "e.g. 'features.0', not its type"),
        ("model-total-each-row", "each row counts the parameters of its own module, not the whole model's"),
        ("hooks-left", "remove the hooks when you are done (each register_forward_hook returns a handle with "
                       ".remove()); otherwise they run again at every later forward pass"),
    ]
]


def check_layer_summary(layer_summary: Callable) -> CheckResult:
    """Exercise 10.7: ``layer_summary(model, input_shape)`` → [(name, type name, output shape, parameters), ...]."""
    import torch
    from torch import nn

    from dlcore.models.lenet import LeNet5

    with torch.random.fork_rng():
        torch.manual_seed(107)
        cases = [
            _summary_case(lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                                nn.Flatten(), nn.Linear(4 * 4 * 4, 10)), (1, 8, 8),
                          "a small nn.Sequential on (1, 8, 8)"),
            _summary_case(LeNet5, (1, 32, 32), "LeNet5() on (1, 32, 32)"),
            _summary_case(lambda: reference_blocks.BasicBlock(4, 8, 2), (4, 6, 6),
                          "a basic block with a projection (its ReLU runs twice) on (4, 6, 6)"),
        ]
        with torch.device("meta"):
            cases.append(_summary_case(lambda: nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.BatchNorm2d(8), nn.ReLU(),
                                                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5)),
                                       (3, 64, 64), "a small model on the meta device, (3, 64, 64)"))

    def learner(model, input_shape, reference_rows):
        before = _forward_hook_count(model)
        rows = layer_summary(model, input_shape)
        return _encode_rows(rows, reference_rows, _forward_hook_count(model) - before)

    def reference(model, input_shape, reference_rows):
        return _encode_rows(reference_rows, reference_rows, 0)

    check_function("10.7", learner, reference, cases, name="layer_summary",
                   outputs=("the rows' (name, type)", "output shapes", "parameters", "hooks left on the model"),
                   mistakes=SUMMARY_MISTAKES, forbid=[summarize], rtol=0, atol=0,
                   hint="hook every module without children, run ONE zero example (batch of 1, on the device and in "
                        "the dtype of the model's parameters) under torch.no_grad(), and remove the hooks; "
                        "a module called twice gets a second row with 0 parameters.",
                   report=False)
    accept("layer_summary", layer_summary, "10.7")
    return passed("10.7", "it works on any model, on the meta device too.")
