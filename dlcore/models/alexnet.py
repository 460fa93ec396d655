"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012), two versions (chapter 10).

- ``variant="torchvision"`` (default): the single-tower layout of the reference implementation
  (64, 192, 384, 256, 256 filters; from Krizhevsky's 2014 "one weird trick" paper): 61,100,840
  parameters at 1000 classes.
- ``variant="original"``: the 2012 paper's two-GPU network (96, 256, 384, 384, 256 filters; conv2,
  conv4 and conv5 split into two groups that see only their own GPU's half of the channels;
  local response normalisation after conv1 and conv2): 60,965,224 parameters. Its first layer
  needs 227×227 inputs to give the paper's 55×55 maps ((227 − 11) / 4 + 1 = 55; 224 does not divide).

Both: 5 convolutional + 3 fully connected layers (8 layers with weights), 3 max pools,
ReLU everywhere, dropout 0.5 before the first two fully connected layers.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["AlexNet"]

# (out_channels, kernel, stride, padding, groups, pool after, LRN after)
_LAYOUTS = {
    "torchvision": [(64, 11, 4, 2, 1, True, False), (192, 5, 1, 2, 1, True, False), (384, 3, 1, 1, 1, False, False),
                    (256, 3, 1, 1, 1, False, False), (256, 3, 1, 1, 1, True, False)],
    "original": [(96, 11, 4, 0, 1, True, True), (256, 5, 1, 2, 2, True, True), (384, 3, 1, 1, 1, False, False),
                 (384, 3, 1, 1, 2, False, False), (256, 3, 1, 1, 2, True, False)],
}


class AlexNet(nn.Module):
    """AlexNet: (N, in_channels, H, W) → (N, num_classes) logits; H = W = 224 (227 for the original).

    An adaptive average pool brings the last maps to 6×6 (a no-op at the intended input size),
    so the classifier sees 256·6·6 = 9216 features for any input large enough.
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, *, variant: str = "torchvision",
                 dropout: float = 0.5) -> None:
        super().__init__()
        if variant not in _LAYOUTS:
            raise ValueError(f"AlexNet: variant must be one of {sorted(_LAYOUTS)}, got {variant!r}")
        layers: list[nn.Module] = []
        channels = in_channels
        for out_channels, kernel, stride, padding, groups, pool, lrn in _LAYOUTS[variant]:
            layers += [nn.Conv2d(channels, out_channels, kernel, stride, padding, groups=groups), nn.ReLU()]
            if lrn:
                layers.append(nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0))
            if pool:
                layers.append(nn.MaxPool2d(3, stride=2))  # overlapping pooling: 3×3 windows, stride 2
            channels = out_channels
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(channels * 6 * 6, 4096), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))  # (N, 256*6*6)
