"""Multilayer perceptrons in PyTorch: one builder, and the course's named MLPs (chapters 08-16).

- :func:`sequential_mlp`: Linear layers between consecutive sizes with an activation between
  them, as an ``nn.Sequential``. :func:`make_mlp` and the GAN pair are calls of it, and so are
  chapter 13's encoders and decoders and chapter 16's policy networks; :class:`MLP` and
  :class:`DigitMLP` are written out layer by layer, as chapter 08 shows them.
- :class:`MLP`, :func:`build_mlp`: the playground's classifier of points in the plane (chapter 08).
- :class:`DigitMLP`, :func:`digit_mlp`: 784-64-64-10 for chapter 08's MNIST runs, in float64.
- :func:`make_mlp`: chapter 15's digit classifiers, their weights drawn from a seed.
- :func:`mlp_generator`, :func:`mlp_discriminator`: chapter 14's GAN pair.

The weights are PyTorch's default initialisation (U(±1/sqrt(fan_in)) for weight and bias),
drawn from PyTorch's global generator in the order the layers are built; the factories with a
``seed`` draw them from that seed. Chapter 07's deep MLPs, built by NumPy from one plan for a
scratch model and its PyTorch twin, are :func:`dlcore.training.models.scratch_mlp` and
:func:`dlcore.training.torch_models.torch_mlp`.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Sequence

import torch
from torch import nn

from dlcore.errors import check_float_dtype, expect_positive_int

__all__ = ["sequential_mlp", "ACTIVATIONS", "MLP", "build_mlp", "DigitMLP", "digit_mlp", "make_mlp", "mlp_generator",
           "mlp_discriminator"]

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": nn.Identity}


def sequential_mlp(sizes: Sequence[int], activation: Callable[[], nn.Module] | None = nn.ReLU, *,
                   dtype: torch.dtype | None = None) -> nn.Sequential:
    """Linear layers between consecutive ``sizes``, ``activation()`` after every one but the last.

    sizes = (D, H_1, ..., M) maps (N, D) inputs to (N, M) outputs: Linear(D, H_1), activation,
    ..., Linear(H_k, M), indexed 0, 1, 2, ... in the nn.Sequential (so the weights are "0.weight",
    "2.weight", ...); with ``activation=None`` the layers follow each other directly (a linear network).

    Args:
        sizes: at least two widths, each >= 1.
        activation: a class or function returning a fresh module (nn.ReLU, nn.Tanh,
            ``partial(nn.LeakyReLU, 0.2)``), or None.
        dtype: torch.float32 or torch.float64, the dtype the weights are drawn in; None: PyTorch's default.

    Raises:
        ValueError: for fewer than two sizes, a size below 1 (naming it) or another dtype.
        TypeError: for a size that is not an int, or an activation that is not callable.
    """
    if dtype is not None:
        check_float_dtype("sequential_mlp", dtype)
    if activation is not None and not callable(activation):
        raise TypeError(f"sequential_mlp: activation must be a module class such as nn.ReLU, or None; "
                        f"got {type(activation).__name__}")
    sizes = [expect_positive_int("sequential_mlp", f"sizes[{i}]", size) for i, size in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(f"sequential_mlp: sizes must hold at least two widths (input and output), got {sizes}")
    layers: list[nn.Module] = []
    for position, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, dtype=dtype))
        if activation is not None and position < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class MLP(nn.Module):
    """Two inputs, ``hidden_layers`` layers of ``units`` units with one activation, ``num_classes`` logits.

    ``hidden_layers = 0`` is logistic (softmax) regression: a straight boundary.
    """

    def __init__(self, hidden_layers: int = 2, units: int = 4, activation: str = "tanh", num_classes: int = 2) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if hidden_layers < 0 or units < 1 or num_classes < 1:
            raise ValueError(f"MLP: need hidden_layers >= 0, units >= 1, num_classes >= 1; got {hidden_layers}, "
                             f"{units}, {num_classes}")
        layers: list[nn.Module] = []
        width = 2
        for _ in range(hidden_layers):
            layers += [nn.Linear(width, units), ACTIVATIONS[activation]()]
            width = units
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, 2) -> logits (N, num_classes)."""
        return self.layers(x)


def build_mlp(hidden_layers: int = 2, units: int = 4, activation: str = "tanh", num_classes: int = 2,
              seed: int = 0) -> MLP:
    """An :class:`MLP` with PyTorch's default initialisation drawn from ``seed`` (global RNG state left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MLP(hidden_layers, units, activation, num_classes)


class DigitMLP(nn.Module):
    """784 pixels -> two hidden layers of ``hidden`` ReLU units -> 10 logits, computed in float64.

    The chapter's datasets store float32; the network converts each batch, so that its printed
    training runs repeat to the last printed digit on every processor.
    """

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                    nn.Linear(hidden, 10)).double()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, 784), any float dtype -> logits (N, 10) in float64."""
        return self.layers(x.double())


def digit_mlp(seed: int, hidden: int = 64) -> DigitMLP:
    """A :class:`DigitMLP` with PyTorch's default initialisation drawn from ``seed`` (the global RNG is reseeded)."""
    torch.manual_seed(seed)
    return DigitMLP(hidden)


def make_mlp(in_features: int = 64, hidden: int = 64, num_classes: int = 10, *, seed: int = 0,
             depth: int = 2, dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """``depth`` hidden layers Linear -> ReLU, then a Linear to the class scores; weights from ``seed``.

    (N, in_features) -> (N, num_classes). ``dtype`` (torch.float32 or torch.float64) is the
    parameters' dtype; the weights are drawn directly in it. PyTorch's global generator is
    left as it was. Raises ValueError for another dtype (chapter 15).
    """
    check_float_dtype("make_mlp", dtype)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return sequential_mlp([in_features, *[hidden] * depth, num_classes], nn.ReLU, dtype=dtype)


def mlp_generator(latent_dim: int = 2, output_dim: int = 2, hidden: int = 64, depth: int = 2,
                  output: str = "linear", dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """G: (N, latent_dim) noise -> (N, output_dim) samples; ReLU hidden layers (chapter 14).

    ``output="sigmoid"`` squashes into (0, 1) for grey-level images; ``"linear"``
    leaves 2-D points unbounded. ``dtype`` (float32 or float64) is the weights'
    type from the start: the initial weights are drawn in it (float32 draws
    converted to float64 would carry float32 rounding, which differs between CPUs).

    Raises:
        ValueError: for another ``output`` or ``dtype``.
    """
    if output not in ("linear", "sigmoid"):
        raise ValueError(f"mlp_generator: output must be 'linear' or 'sigmoid', got {output!r}")
    check_float_dtype("mlp_generator", dtype)
    network = sequential_mlp([latent_dim, *[hidden] * depth, output_dim], nn.ReLU, dtype=dtype)
    if output == "sigmoid":
        network.append(nn.Sigmoid())
    return network


def mlp_discriminator(input_dim: int = 2, hidden: int = 64, depth: int = 2,
                      negative_slope: float = 0.2, dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """D: (N, input_dim) -> (N, 1) logits; leaky-ReLU hidden layers (no dead units starve G of gradient).

    ``dtype``: float32 or float64 weights, as for :func:`mlp_generator`; ValueError otherwise (chapter 14).
    """
    check_float_dtype("mlp_discriminator", dtype)
    return sequential_mlp([input_dim, *[hidden] * depth, 1], partial(nn.LeakyReLU, negative_slope), dtype=dtype)
