"""LeNet-5 in PyTorch (chapter 09; compared with later designs in chapter 10).

The layout of LeCun et al. (1998), with the two simplifications every modern
re-implementation makes: C3 connects to all six S2 maps (the paper used a
hand-made table of partial connections), and the output layer is a plain
linear layer (the paper used radial basis functions).

    input (N, 1, 32, 32)
    C1  conv 6@5x5   -> (N, 6, 28, 28)   tanh
    S2  pool 2x2     -> (N, 6, 14, 14)
    C3  conv 16@5x5  -> (N, 16, 10, 10)  tanh
    S4  pool 2x2     -> (N, 16, 5, 5)
    C5  conv 120@5x5 -> (N, 120, 1, 1)   tanh
    F6  linear 84    -> (N, 84)          tanh
    out linear K     -> (N, K) logits

At the defaults the network has 61,706 parameters. For 28x28 inputs (MNIST's
size) C1 pads by 2 so that every later shape is unchanged.
"""

from __future__ import annotations

import torch
from torch import nn

from dlcore.errors import ShapeError

__all__ = ["LeNet5", "lenet5_parameter_count"]

_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}
_POOLS = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}
_PADDING_FOR_SIZE = {32: 0, 28: 2}


class LeNet5(nn.Module):
    """LeNet-5: three convolutions, two 2x2 poolings, two linear layers.

    Args:
        num_classes: K, the number of outputs (logits).
        in_channels: C of the input (1 for grey digits, 3 for colour).
        input_size: 32 (the paper's) or 28 (MNIST's; C1 then pads by 2).
        activation: "tanh" (the paper's), "relu" or "sigmoid".
        pooling: "avg" (the paper's subsampling, without its trainable scale) or "max".

    Shapes: x (N, in_channels, input_size, input_size) -> logits (N, num_classes).

    Raises:
        ValueError: for an unsupported size, activation or pooling.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 32, *,
                 activation: str = "tanh", pooling: str = "avg") -> None:
        super().__init__()
        for name, value in (("num_classes", num_classes), ("in_channels", in_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"LeNet5: {name} must be a positive int, got {value!r}")
        if input_size not in _PADDING_FOR_SIZE:
            raise ValueError(
                f"LeNet5: input_size must be 32 (the paper's) or 28 (padded by 2 in C1), got {input_size!r}; "
                f"resize or pad other images to 32x32"
            )
        if activation not in _ACTIVATIONS:
            raise ValueError(f"LeNet5: activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        if pooling not in _POOLS:
            raise ValueError(f"LeNet5: pooling must be one of {sorted(_POOLS)}, got {pooling!r}")
        act, pool = _ACTIVATIONS[activation], _POOLS[pooling]
        self.input_size, self.in_channels, self.num_classes = input_size, in_channels, num_classes
        self.activation, self.pooling = activation, pooling
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=_PADDING_FOR_SIZE[input_size]), act(),  # C1 (N, 6, 28, 28)
            pool(2),                                                                      # S2 (N, 6, 14, 14)
            nn.Conv2d(6, 16, 5), act(),                                                   # C3 (N, 16, 10, 10)
            pool(2),                                                                      # S4 (N, 16, 5, 5)
            nn.Conv2d(16, 120, 5), act(),                                                 # C5 (N, 120, 1, 1)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),                  # (N, 120)
            nn.Linear(120, 84), act(),     # F6
            nn.Linear(84, num_classes),    # output logits
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        expected = (self.in_channels, self.input_size, self.input_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ShapeError(
                f"LeNet5.forward: x has shape {tuple(x.shape)} but expected (N, {expected[0]}, "
                f"{expected[1]}, {expected[2]}); add a channel axis with x[:, None] if it is missing"
            )
        return self.classifier(self.features(x))

    def feature_maps(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The activations after C1, S2, C3, S4 and C5, by layer name (for plotting)."""
        names = {1: "C1", 2: "S2", 4: "C3", 5: "S4", 7: "C5"}
        maps = {}
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in names:
                maps[names[index]] = x
        return maps


def lenet5_parameter_count(num_classes: int = 10, in_channels: int = 1) -> dict[str, int]:
    """Parameters per layer, by the formula F*(C*kh*kw) + F for a conv and M*D + M for a linear layer."""
    return {
        "C1": 6 * (in_channels * 5 * 5) + 6,
        "C3": 16 * (6 * 5 * 5) + 16,
        "C5": 120 * (16 * 5 * 5) + 120,
        "F6": 84 * 120 + 84,
        "output": num_classes * 84 + num_classes,
    }
