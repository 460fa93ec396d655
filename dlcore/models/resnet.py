"""ResNet (He, Zhang, Ren and Sun, 2015) and small plain/residual networks for experiments (chapter 10).

:class:`ResNet` builds ResNet-18/34 (basic blocks) and ResNet-50 (bottlenecks) in torchvision's
layout: a 7×7 stride-2 stem and a max pool, four stages of blocks (64, 128, 256, 512 channels;
each later stage halves H and W in its first block, whose shortcut is a strided 1×1 projection),
a global average pool and one linear layer. Parameters at 1000 classes: 11,689,512 (18),
21,797,672 (34), 25,557,032 (50).

:class:`SmallConvNet` is a CIFAR-style network for small images: a 3×3 stem, then ``num_blocks``
basic blocks in three stages (widths w, 2w, 4w), with or without shortcuts, so that a *plain* and
a *residual* network of the same depth have the same layers and the same parameter count.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dlcore.models.blocks import BasicBlock, Bottleneck, ConvBNReLU
from dlcore.errors import check_float_dtype

__all__ = ["ResNet", "SmallConvNet", "STAGES", "weight_gradient_norms", "plain_and_residual"]

# depth: (block class, blocks per stage)
STAGES = {18: (BasicBlock, (2, 2, 2, 2)), 34: (BasicBlock, (3, 4, 6, 3)), 50: (Bottleneck, (3, 4, 6, 3)),
          101: (Bottleneck, (3, 4, 23, 3)), 152: (Bottleneck, (3, 8, 36, 3))}


def _stage(block, in_channels: int, channels: int, num_blocks: int, stride: int, **kwargs) -> nn.Sequential:
    blocks = [block(in_channels, channels, stride, **kwargs)]
    blocks += [block(channels * block.expansion, channels, 1, **kwargs) for _ in range(num_blocks - 1)]
    return nn.Sequential(*blocks)


class ResNet(nn.Module):
    """ResNet-``depth`` (18, 34, 50, 101 or 152): (N, in_channels, 224, 224) → (N, num_classes) logits."""

    def __init__(self, depth: int = 18, num_classes: int = 1000, in_channels: int = 3, *,
                 basic_block: type[nn.Module] = BasicBlock, bottleneck: type[nn.Module] = Bottleneck,
                 make_stage=None) -> None:
        """``basic_block``, ``bottleneck`` and ``make_stage(block, in_channels, channels, num_blocks, stride)``
        replace the course's own (chapter 10's exercises build them)."""
        super().__init__()
        if depth not in STAGES:
            raise ValueError(f"ResNet: depth must be one of {sorted(STAGES)}, got {depth!r}")
        kind, counts = STAGES[depth]
        block = basic_block if kind is BasicBlock else bottleneck
        make_stage = make_stage or _stage
        self.stem = nn.Sequential(ConvBNReLU(in_channels, 64, 7, stride=2, padding=3),
                                  nn.MaxPool2d(3, stride=2, padding=1))
        stages, channels = [], 64
        for index, (width, count) in enumerate(zip((64, 128, 256, 512), counts)):
            stages.append(make_stage(block, channels, width, count, 1 if index == 0 else 2))
            channels = width * block.expansion
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))  # (N, 512 * expansion)


class SmallConvNet(nn.Module):
    """A plain or residual CNN for small images: (N, in_channels, H, W) → (N, num_classes).

    Layers with weights: 1 (stem) + 2·num_blocks (convolutions) + 1 (linear), as in He et al.'s
    CIFAR networks (num_blocks = 3n gives depth 6n + 2; n = 3 is ResNet-20).

    Args:
        num_blocks: basic blocks in all, spread over three stages as evenly as possible.
        residual: True for shortcuts (a ResNet), False for the plain network of the same layers.
        width: channels of the first stage (then 2·width, 4·width, each stage halving H and W).
        batch_norm: batch norm after each convolution (He et al.'s plain nets had it too).
        block: the basic block class, ``block(in_channels, channels, stride, residual=..., batch_norm=...)``.
    """

    def __init__(self, num_blocks: int = 3, *, residual: bool = True, width: int = 8, in_channels: int = 1,
                 num_classes: int = 10, batch_norm: bool = True, block: type[nn.Module] = BasicBlock) -> None:
        super().__init__()
        if num_blocks < 1:
            raise ValueError(f"SmallConvNet: num_blocks must be at least 1, got {num_blocks}")
        self.stem = ConvBNReLU(in_channels, width, 3, padding=1, batch_norm=batch_norm)
        counts = [num_blocks // 3 + (1 if i < num_blocks % 3 else 0) for i in range(3)]
        blocks, channels = [], width
        for index, count in enumerate(counts):
            for k in range(count):
                out_channels = width * 2 ** index
                stride = 2 if index > 0 and k == 0 else 1
                blocks.append(block(channels, out_channels, stride, residual=residual, batch_norm=batch_norm))
                channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.blocks(self.stem(x)))
        return self.fc(torch.flatten(x, 1))  # (N, channels)


def plain_and_residual(num_blocks: int, *, seed: int = 0, dtype: torch.dtype = torch.float64,
                       batch_norm: bool = True,
                       block: type[nn.Module] = BasicBlock) -> tuple[SmallConvNet, SmallConvNet]:
    """A plain :class:`SmallConvNet` and its residual twin, with the same weights in every layer they share.

    The residual network is built first, its weights drawn from ``seed`` in float64; the plain
    one then copies every layer it has (all but the shortcut projections), so the two differ only
    in the shortcuts. Both are then converted to ``dtype``: float32 twins are the float64 ones
    rounded, so the two precisions compute with the same weights. Drawing in float64 matters
    for comparisons across machines: float32 draws differ in the last bit between CPUs with and
    without fused multiply-add, and a deep plain network's training amplifies that. PyTorch's
    global random state is left as it was.

    Args:
        num_blocks, batch_norm, block: as for :class:`SmallConvNet`.
        seed: the seed of the weights.
        dtype: the networks' dtype, torch.float32 or torch.float64.

    Returns:
        (plain, residual).

    Raises:
        ValueError: for another dtype (or a bad ``num_blocks``).
    """
    check_float_dtype("plain_and_residual", dtype)
    previous = torch.get_default_dtype()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        torch.set_default_dtype(torch.float64)  # parameters are created, and drawn, in float64
        try:
            residual = SmallConvNet(num_blocks, residual=True, batch_norm=batch_norm, block=block)
            plain = SmallConvNet(num_blocks, residual=False, batch_norm=batch_norm, block=block)
        finally:
            torch.set_default_dtype(previous)
    shared = residual.state_dict()
    plain.load_state_dict({name: shared[name] for name in plain.state_dict()})
    return plain.to(dtype), residual.to(dtype)


def weight_gradient_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[list[str], np.ndarray]:
    """‖∂L/∂W‖ of every convolution and linear layer after one forward and backward pass (training mode).

    Shortcut projections are left out, so the list follows the main path from input to output.

    Args:
        model: any classifier; its gradients are zeroed first and left filled.
        x: (N, C, H, W) inputs; y: (N,) integer labels (cross-entropy loss).

    Returns:
        (names, norms): the layer names and a float array of their gradient norms, input side first.
    """
    model.train()
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    layers = [(name, m) for name, m in model.named_modules()
              if isinstance(m, (nn.Conv2d, nn.Linear)) and "shortcut" not in name]
    return [name for name, _ in layers], np.array([float(m.weight.grad.norm()) for _, m in layers])
