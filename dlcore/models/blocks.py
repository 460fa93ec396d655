"""The building blocks of the classic CNNs (chapter 10), as small ``nn.Module`` classes.

- :class:`ConvBNReLU`: convolution, optional batch norm, ReLU; the unit every later network repeats.
- :class:`Inception`: GoogLeNet's four parallel branches (1×1; 1×1→3×3; 1×1→"5×5"; pool→1×1),
  concatenated along the channels.
- :class:`BasicBlock`: ResNet-18/34's two 3×3 convolutions plus an identity shortcut.
- :class:`Bottleneck`: ResNet-50's 1×1 (reduce) → 3×3 → 1×1 (expand ×4) plus a shortcut.

Shapes follow the course glossary: x is (N, C, H, W). Every block keeps the
layout of torchvision's definitions, so parameter counts match the reference
implementations exactly (tests/test_ch10_models.py asserts the totals).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ConvBNReLU", "Inception", "BasicBlock", "Bottleneck", "conv_out_size"]


def conv_out_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                  ceil_mode: bool = False) -> int:
    """Output length of a convolution or pooling along one axis: ⌊(size + 2p − d(k − 1) − 1) / s⌋ + 1."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if span < 0:
        raise ValueError(f"conv_out_size: the window ({dilation * (kernel - 1) + 1} wide) does not fit in "
                         f"{size} + 2·{padding} padded inputs")
    return -(-span // stride) + 1 if ceil_mode else span // stride + 1


class ConvBNReLU(nn.Sequential):
    """conv (kh × kw) → batch norm → ReLU, or conv (with bias) → ReLU when ``batch_norm=False``.

    With batch norm the convolution has no bias: the norm's β would cancel it.
    ``eps`` is the batch norm's ε (GoogLeNet in torchvision uses 0.001).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, *, batch_norm: bool = True, eps: float = 1e-5) -> None:
        layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding,
                                             bias=not batch_norm)]
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels, eps=eps))
        layers.append(nn.ReLU(inplace=False))
        super().__init__(*layers)


class Inception(nn.Module):
    """GoogLeNet's module: out = concat[b1(x), b2(x), b3(x), b4(x)] along channels, (N, C, H, W) → (N, C', H, W).

    Args:
        in_channels: C.
        ch1x1: filters of the 1×1 branch.
        ch3x3red, ch3x3: the 1×1 reduction then the 3×3 convolution.
        ch5x5red, ch5x5: the 1×1 reduction then the "5×5" convolution.
        pool_proj: the 1×1 projection after the 3×3 max pool (stride 1).
        five_by_five: the kernel of the "5×5" branch. False (default) builds a 3×3 there, as
            torchvision's GoogLeNet does (a known quirk of its ported weights); True builds the
            paper's 5×5 (padding 2). C' = ch1x1 + ch3x3 + ch5x5 + pool_proj either way.
        batch_norm: True as in torchvision (the 2014 paper had no batch norm).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,
                 pool_proj: int, *, five_by_five: bool = False, batch_norm: bool = True) -> None:
        super().__init__()
        conv = dict(batch_norm=batch_norm, eps=1e-3)
        k = 5 if five_by_five else 3
        self.branch1 = ConvBNReLU(in_channels, ch1x1, 1, **conv)
        self.branch2 = nn.Sequential(ConvBNReLU(in_channels, ch3x3red, 1, **conv),
                                     ConvBNReLU(ch3x3red, ch3x3, 3, padding=1, **conv))
        self.branch3 = nn.Sequential(ConvBNReLU(in_channels, ch5x5red, 1, **conv),
                                     ConvBNReLU(ch5x5red, ch5x5, k, padding=k // 2, **conv))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                     ConvBNReLU(in_channels, pool_proj, 1, **conv))
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)]
        return torch.cat(branches, dim=1)  # (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)


def _shortcut(in_channels: int, out_channels: int, stride: int, batch_norm: bool) -> nn.Module:
    """Identity when shapes agree; otherwise a strided 1×1 projection (ResNet's option B)."""
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    """ResNet-18/34's block: out = relu(F(x) + shortcut(x)), F = conv3×3 → BN → ReLU → conv3×3 → BN.

    ``residual=False`` drops the shortcut (a *plain* block, for the depth experiments):
    out = relu(F(x)). ``watch_output`` asks dlcore's training loop to record the block's output.
    """

    expansion = 1
    watch_output = True

    def __init__(self, in_channels: int, channels: int, stride: int = 1, *, residual: bool = True,
                 batch_norm: bool = True) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=not batch_norm)
        self.bn1 = nn.BatchNorm2d(channels) if batch_norm else nn.Identity()
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, out_channels, 3, padding=1, bias=not batch_norm)
        self.bn2 = nn.BatchNorm2d(out_channels) if batch_norm else nn.Identity()
        self.shortcut = _shortcut(in_channels, out_channels, stride, batch_norm) if residual else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.shortcut is not None:
            out = out + self.shortcut(x)  # the identity path: dL/dx gets dL/dout unchanged
        return self.relu(out)


class Bottleneck(nn.Module):
    """ResNet-50's block: out = relu(F(x) + shortcut(x)), F = 1×1 (C→c) → 3×3 (c→c, stride) → 1×1 (c→4c).

    The stride sits on the 3×3 convolution ("ResNet v1.5", as in torchvision); the 2015 paper put it on
    the first 1×1. The parameter count is the same either way.
    """

    expansion = 4
    watch_output = True

    def __init__(self, in_channels: int, channels: int, stride: int = 1, *, residual: bool = True,
                 batch_norm: bool = True) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = nn.Conv2d(in_channels, channels, 1, bias=not batch_norm)
        self.bn1 = nn.BatchNorm2d(channels) if batch_norm else nn.Identity()
        self.conv2 = nn.Conv2d(channels, channels, 3, stride=stride, padding=1, bias=not batch_norm)
        self.bn2 = nn.BatchNorm2d(channels) if batch_norm else nn.Identity()
        self.conv3 = nn.Conv2d(channels, out_channels, 1, bias=not batch_norm)
        self.bn3 = nn.BatchNorm2d(out_channels) if batch_norm else nn.Identity()
        self.relu = nn.ReLU()
        self.shortcut = _shortcut(in_channels, out_channels, stride, batch_norm) if residual else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.relu(out)
