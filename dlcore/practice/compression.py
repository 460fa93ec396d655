"""Pruned and quantized copies of a small MLP, evaluated in NumPy (chapter 15's compression explorer).

A trained ``nn.Sequential`` MLP of Linear and ReLU layers becomes plain arrays
(:func:`trained_mlp`); :func:`compress_weights` prunes them with a masking rule and
fake-quantizes what is left (symmetric, one scale per output unit), and :func:`mlp_accuracy`
evaluates the result on test images in the weights' own precision (float32 or float64). NumPy,
not PyTorch, because it is fast at this size: one evaluation of the 64-64-64-10 MLP on the digits
takes about a millisecond on one BLAS thread, so hundreds of compressed networks cost a fraction
of a second.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from dlcore.practice.common import as_tensors, digits_split, fit, make_mlp
from dlcore.practice.quantization import fake_quantize_weights

__all__ = ["MLPArrays", "trained_mlp", "default_mlp", "compress_weights", "mlp_accuracy"]

# (weights [(M, D) per layer], biases [(M,) per layer], test inputs (N, D), test labels (N,))
MLPArrays = tuple[list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]
Masker = Callable[[list[np.ndarray], float], list[np.ndarray]]


def trained_mlp(model: torch.nn.Sequential, x_test: np.ndarray, y_test: np.ndarray) -> MLPArrays:
    """The arrays of an already trained ``nn.Sequential`` MLP (Linear/ReLU layers), with its test data.

    The weights keep the model's dtype (float32 or float64), and the test inputs are converted to it.
    """
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    weights = [m.weight.detach().numpy().copy() for m in linears]
    return (weights, [m.bias.detach().numpy().copy() for m in linears], np.asarray(x_test, dtype=weights[0].dtype),
            np.asarray(y_test))


def default_mlp(seed: int = 0) -> MLPArrays:
    """Chapter 15's 64-64-64-10 MLP trained on the 8x8 digits (25 epochs, about a second), as arrays."""
    split = digits_split(seed=seed)
    x, y = as_tensors(split.images_train, split.y_train)
    model = make_mlp(seed=seed)
    with torch.random.fork_rng():
        torch.set_num_threads(1)
        fit(model, x, y, num_epochs=25, learning_rate=3e-3, seed=seed)
    x_test, _ = as_tensors(split.images_test, split.y_test)
    return trained_mlp(model, x_test.numpy(), split.y_test)


def compress_weights(weights: list[np.ndarray], sparsity: float, bits: int, masker: Masker) -> list[np.ndarray]:
    """Prune with ``masker(weights, sparsity)`` (0/1 masks), then fake-quantize each array to ``bits`` (< 32).

    At ``bits`` >= 32 the pruned weights are returned unquantized; each array keeps its dtype.
    """
    pruned = [W * m for W, m in zip(weights, masker(weights, sparsity))]
    if bits >= 32:
        return pruned
    return [fake_quantize_weights(W, bits).astype(W.dtype) for W in pruned]


def mlp_accuracy(weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the MLP h <- relu(h W^T + b) (no ReLU after the last layer) on inputs x (N, D), labels y (N,)."""
    h = x
    for i, (W, b) in enumerate(zip(weights, biases)):
        h = h @ W.T + b  # (N, M)
        if i < len(weights) - 1:
            h = np.maximum(h, 0.0)
    return float(np.mean(h.argmax(axis=1) == y))
