"""VGG (Simonyan and Zisserman, 2014): only 3×3 convolutions, stride 1, padding 1 (chapter 10).

The configurations are the paper's columns A (VGG-11), B (13), D (16) and E (19): numbers are the
filters of a 3×3 convolution, "M" a 2×2 max pool with stride 2. Five pools halve 224 to 7, so the
classifier sees 512·7·7 = 25,088 features. VGG-16 has 138,357,544 parameters, 89% of them in
the three fully connected layers (74% in the first one alone).

With ``batch_norm=True`` the convolutions lose their biases (batch norm's β replaces them):
138,361,768 parameters for VGG-16. torchvision's ``vgg16_bn`` keeps the redundant biases and has
138,365,992, which is 4,224 (the number of convolution filters) more.
"""

from __future__ import annotations

import torch
from torch import nn

from dlcore.models.blocks import ConvBNReLU

__all__ = ["VGG", "CONFIGS"]

CONFIGS: dict[int, list] = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """VGG-``depth`` (11, 13, 16 or 19 layers with weights): (N, in_channels, 224, 224) → (N, num_classes).

    Args:
        depth: the configuration, by its number of weight layers (convolutions + 3 fully connected).
        config: a custom list instead (ints are 3×3 filters, "M" a max pool); overrides ``depth``.
        batch_norm: add batch norm after each convolution (the later "VGG-BN" variants).
        width: filters scale factor for small experiments (1.0 = the paper's).
        hidden: units of the two hidden fully connected layers (4096 in the paper).
    """

    def __init__(self, depth: int = 16, num_classes: int = 1000, in_channels: int = 3, *, config: list | None = None,
                 batch_norm: bool = False, width: float = 1.0, hidden: int = 4096, pooled_size: int = 7,
                 dropout: float = 0.5) -> None:
        super().__init__()
        if config is None and depth not in CONFIGS:
            raise ValueError(f"VGG: depth must be one of {sorted(CONFIGS)}, got {depth!r}")
        layers: list[nn.Module] = []
        channels = in_channels
        for item in (config if config is not None else CONFIGS[depth]):
            if item == "M":
                layers.append(nn.MaxPool2d(2, stride=2))
            else:
                out_channels = max(1, round(int(item) * width))
                layers.append(ConvBNReLU(channels, out_channels, 3, padding=1, batch_norm=batch_norm))
                channels = out_channels
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((pooled_size, pooled_size))
        self.classifier = nn.Sequential(
            nn.Linear(channels * pooled_size * pooled_size, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))  # (N, C*7*7)
