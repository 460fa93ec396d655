"""A deep belief network: RBMs stacked by greedy layer-wise pretraining, then fine-tuned as a classifier (chapter 13).

How DBNs are actually trained (Hinton, Osindero and Teh, 2006; Hinton and Salakhutdinov, 2006):

1. Pretraining, unsupervised and one layer at a time: train an RBM on the data with
   contrastive divergence; freeze it; feed the data through it (the hidden
   probabilities p(h = 1 | v)) and train the next RBM on those; and so on. No
   backpropagation is involved, and no labels.
2. Fine-tuning: either generatively (the up-down / wake-sleep algorithm, not built
   here) or, as is common for classification, discriminatively: the stacked weights
   initialise a sigmoid MLP, a softmax layer is put on top, and the whole network is
   trained by backpropagation on labelled data. Only this second stage is "like BP".
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from dlcore.errors import as_float_array, expect_shape
from dlcore.scratch.activations import Sigmoid
from dlcore.scratch.linear import Linear
from dlcore.scratch.module import Sequential
from dlcore.scratch.rbm import RBM, cd_gradient

__all__ = ["DBN", "sigmoid_classifier"]


def _check_sizes(layer_sizes: Sequence[int]) -> list[int]:
    sizes = list(layer_sizes)
    if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
        raise ValueError(f"DBN: layer_sizes must be at least two positive ints (visible, hidden...), "
                         f"got {layer_sizes!r}")
    return sizes


class DBN:
    """A stack of RBMs with sizes ``layer_sizes`` = (D, H1, H2, ...); RBM l has W of shape (sizes[l], sizes[l+1])."""

    def __init__(self, layer_sizes: Sequence[int], *, rng: np.random.Generator) -> None:
        self.layer_sizes = _check_sizes(layer_sizes)
        self.rbms = [RBM(a, b, rng=rng) for a, b in zip(self.layer_sizes[:-1], self.layer_sizes[1:])]

    def pretrain(self, X: np.ndarray, *, num_epochs: int, rng: np.random.Generator, batch_size: int = 32,
                 learning_rate: float = 0.1, k: int = 1, gradient: Callable[..., tuple] = cd_gradient) -> list[list[float]]:
        """Greedy layer-wise pretraining: each RBM is trained by CD-k on the features of the one below.

        Args:
            X: (N, D) unlabelled data in [0, 1].
            num_epochs, batch_size, learning_rate, k, gradient: passed to each :meth:`RBM.fit`.
            rng: shuffles and samples.

        Returns:
            One list of per-epoch reconstruction errors per layer.
        """
        features = as_float_array("DBN.pretrain", "X", X)
        expect_shape("DBN.pretrain", "X", features, (None, self.layer_sizes[0]), "(N, D)",
                     f"D = layer_sizes[0] = {self.layer_sizes[0]}")
        errors = []
        for rbm in self.rbms:
            errors.append(rbm.fit(features, num_epochs=num_epochs, rng=rng, batch_size=batch_size,
                                  learning_rate=learning_rate, k=k, gradient=gradient))
            features = rbm.transform(features)  # the frozen layer's output is the next layer's data
        return errors

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The top layer's hidden probabilities, (N, D) -> (N, sizes[-1])."""
        for rbm in self.rbms:
            X = rbm.transform(X)
        return X

    def to_classifier(self, num_classes: int, *, rng: np.random.Generator) -> Sequential:
        """A sigmoid MLP whose hidden layers start from the RBMs' (W, c), plus a fresh linear output layer.

        The network outputs logits for ``softmax_cross_entropy``; fine-tune it with backprop
        (e.g. ``dlcore.training.train``). The RBMs themselves are not changed.
        """
        net = sigmoid_classifier(self.layer_sizes, num_classes, rng=rng)
        for rbm, layer in zip(self.rbms, net[0::2]):
            layer.W.value[...] = rbm.W
            layer.b.value[...] = rbm.c
        return net


def sigmoid_classifier(layer_sizes: Sequence[int], num_classes: int, *, rng: np.random.Generator,
                       init: str = "uniform") -> Sequential:
    """Linear, Sigmoid, ..., Linear(sizes[-1], K): the DBN's architecture with random initialisation.

    ``init="uniform"`` keeps :class:`Linear`'s default, U(-1/sqrt(fan_in), 1/sqrt(fan_in));
    ``init="glorot"`` redraws every weight matrix from Glorot and Bengio's (2010) uniform
    U(-a, a), a = sqrt(6 / (fan_in + fan_out)), which keeps activations and gradients at a
    similar scale from layer to layer. Biases start at zero either way.
    """
    sizes = _check_sizes(layer_sizes)
    if init not in ("uniform", "glorot"):
        raise ValueError(f"sigmoid_classifier: init must be 'uniform' or 'glorot', got {init!r}")
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [Linear(a, b, rng=rng), Sigmoid()]
    net = Sequential(*layers, Linear(sizes[-1], num_classes, rng=rng))
    if init == "glorot":
        for layer in net[0::2]:
            fan_in, fan_out = layer.W.value.shape
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            layer.W.value[...] = rng.uniform(-bound, bound, size=(fan_in, fan_out))
    return net
