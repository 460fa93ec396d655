"""GoogLeNet, the Inception v1 network (Szegedy et al., 2014) (chapter 10).

22 layers with weights on the longest path (27 counting pools), nine Inception modules, and no
large fully connected layers: a global average pool turns the 1024 final maps into 1024
numbers and one linear layer classifies them. The layout is torchvision's (batch norm in every
convolution, a 3×3 kernel in the "5×5" branch, no auxiliary classifiers): 6,624,904 parameters
at 1000 classes. ``five_by_five=True`` builds the paper's 5×5 kernels instead (7,005,832), and
``batch_norm=False`` drops the batch norms as in the 2014 paper (6,617,624; both together, the
paper's network without its auxiliary classifiers: 6,998,552).
"""

from __future__ import annotations

import torch
from torch import nn

from dlcore.models.blocks import ConvBNReLU, Inception

__all__ = ["GoogLeNet", "INCEPTION_SETTINGS"]

# name: (ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj), the paper's Table 1
INCEPTION_SETTINGS = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}


class GoogLeNet(nn.Module):
    """GoogLeNet: (N, in_channels, 224, 224) → (N, num_classes) logits."""

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, *, five_by_five: bool = False,
                 batch_norm: bool = True, dropout: float = 0.2) -> None:
        super().__init__()
        conv = dict(batch_norm=batch_norm, eps=1e-3)
        self.stem = nn.Sequential(
            ConvBNReLU(in_channels, 64, 7, stride=2, padding=3, **conv), nn.MaxPool2d(3, 2, ceil_mode=True),
            ConvBNReLU(64, 64, 1, **conv), ConvBNReLU(64, 192, 3, padding=1, **conv),
            nn.MaxPool2d(3, 2, ceil_mode=True),
        )
        layers: list[nn.Module] = []
        channels = 192
        for name, setting in INCEPTION_SETTINGS.items():
            if name in ("4a", "5a"):  # a pool between the stages: 28 → 14 → 7
                layers.append(nn.MaxPool2d(3, 2, ceil_mode=True) if name == "4a" else nn.MaxPool2d(2, 2, ceil_mode=True))
            module = Inception(channels, *setting, five_by_five=five_by_five, batch_norm=batch_norm)
            layers.append(module)
            channels = module.out_channels
        self.inception = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)  # global average pooling replaces AlexNet/VGG's big FC layers
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.inception(self.stem(x)))
        return self.fc(self.dropout(torch.flatten(x, 1)))  # (N, 1024)
