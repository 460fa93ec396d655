"""Neurons, layers and an MLP made of scalar :class:`~dlcore.scratch.autograd.Value` objects (chapter 05).

A neuron computes tanh(w · x + b) (or just w · x + b in the output layer),
one ``Value`` operation at a time, so that ``loss.backward()`` on any
expression of the outputs reaches every weight. Slow (one Python object per
multiplication) and meant for small 2-D problems, where every step can be
followed; ``dlcore.scratch.Linear`` does the same with whole arrays.

Parameters are listed in a fixed order, which exercise 5.4's check relies
on: layer by layer, neuron by neuron, each neuron's weights and then its bias.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from dlcore.errors import expect_generator, expect_positive_int
from dlcore.scratch.autograd import Value

__all__ = ["Neuron", "Layer", "MLP", "scores", "hinge_loss", "accuracy"]


def _check_count(func: str, name: str, value: object) -> int:
    return expect_positive_int(func, name, value)


class Neuron:
    """One unit: tanh(w · x + b), or w · x + b when ``nonlinear`` is False.

    Weights are drawn from U(-1, 1) with ``rng``; the bias starts at 0.
    ``value`` is the scalar type the parameters are made of (dlcore's
    :class:`Value` by default; any class with the same operations works).
    """

    def __init__(self, n_inputs: int, rng: np.random.Generator, nonlinear: bool = True, *, value: type = Value) -> None:
        n_inputs = _check_count("Neuron", "n_inputs", n_inputs)
        rng = expect_generator("Neuron", rng)
        self.w = [value(float(rng.uniform(-1.0, 1.0))) for _ in range(n_inputs)]
        self.b = value(0.0)
        self.nonlinear = nonlinear

    def __call__(self, x: Sequence) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"Neuron: got {len(x)} inputs, expected {len(self.w)}")
        total = self.b
        for w_i, x_i in zip(self.w, x):
            total = total + w_i * x_i
        return total.tanh() if self.nonlinear else total

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]


class Layer:
    """``n_outputs`` independent neurons that read the same inputs; returns a list of Values."""

    def __init__(self, n_inputs: int, n_outputs: int, rng: np.random.Generator, nonlinear: bool = True, *,
                 value: type = Value) -> None:
        n_outputs = _check_count("Layer", "n_outputs", n_outputs)
        self.neurons = [Neuron(n_inputs, rng, nonlinear, value=value) for _ in range(n_outputs)]

    def __call__(self, x: Sequence) -> list[Value]:
        return [neuron(x) for neuron in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in neuron.parameters()]


class MLP:
    """Layers of sizes ``layer_sizes`` on ``n_inputs`` inputs: tanh hidden layers, a linear output layer.

    ``MLP(2, [8, 1], rng)`` is a 2-8-1 network; calling it on a list of
    numbers returns the list of output Values.
    """

    def __init__(self, n_inputs: int, layer_sizes: Sequence[int], rng: np.random.Generator, *,
                 value: type = Value) -> None:
        sizes = [_check_count("MLP", "n_inputs", n_inputs)] + [_check_count("MLP", "layer size", s) for s in layer_sizes]
        if len(sizes) < 2:
            raise ValueError("MLP: layer_sizes must name at least one layer, e.g. [8, 1]")
        last = len(sizes) - 2
        self.layers = [Layer(sizes[i], sizes[i + 1], rng, nonlinear=i < last, value=value) for i in range(last + 1)]

    def __call__(self, x: Sequence) -> list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]


def scores(model, X: np.ndarray) -> list:
    """The first output Value of ``model`` for each row of X (N, D): a list of N Values.

    Accepts a model that returns a list of outputs or, for one output, a bare Value.
    """
    found = []
    for row in np.asarray(X, dtype=np.float64):
        out = model([float(v) for v in row])
        found.append(out[0] if isinstance(out, (list, tuple)) else out)
    return found


def hinge_loss(scores: Sequence, labels: Sequence[int]) -> Value:
    """Mean hinge loss (1/N) Σ max(0, 1 − y s) of scores s with labels y in {−1, +1}; a Value."""
    if len(scores) != len(labels) or not len(scores):
        raise ValueError(f"hinge_loss: got {len(scores)} scores and {len(labels)} labels; expected equal, non-zero counts")
    total = 0.0
    for score, label in zip(scores, labels):
        total = (1.0 - score * float(label)).relu() + total
    return total * (1.0 / len(scores))


def accuracy(scores: Sequence, labels: Sequence[int]) -> float:
    """The share of scores whose sign agrees with the label in {−1, +1}."""
    return float(np.mean([(s.data > 0) == (y > 0) for s, y in zip(scores, labels)]))
