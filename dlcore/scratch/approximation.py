"""One hidden layer approximates a 1-D continuous function: a construction by hand (chapter 02).

A ReLU unit relu(x - t) is a hinge at t. A sum of hinges plus a constant is a
broken line, so a 1-M-1 network with ReLU hidden units and a linear output
unit can equal the broken line through K + 1 points of g, and refining the
knots drives its error on the interval below any tolerance: the universal
approximation theorem made concrete in one dimension. The weights use the
course's layer convention (x @ W + b, W of shape (inputs, units)), so that
``mlp_forward(x, [(W1, b1)], relu)[-1] @ W2 + b2`` evaluates the network.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.errors import as_float_array, expect_real, expect_shape
from dlcore.scratch.perceptron import relu_interpolation_weights

__all__ = ["GRID_POINTS", "interpolating_network", "network_output", "approximating_network"]

Weights = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
GRID_POINTS = 1001  # where approximating_network measures its error: np.linspace(a, b, GRID_POINTS)


def _check_interval(func: str, a: float, b: float) -> None:
    a, b = expect_real(func, "a", a), expect_real(func, "b", b)
    if not a < b:
        raise ValueError(f"{func}: the interval needs finite a < b, got a = {a}, b = {b}")


def interpolating_network(g: Callable[[np.ndarray], np.ndarray], a: float, b: float, K: int) -> Weights:
    """Weights of a 1-K-1 ReLU network equal on [a, b] to the broken line through g at K + 1 equal knots.

    knots t_k = a + k (b - a) / K; the network is g(a) + sum_k c_k relu(x - t_k) with c_k the
    change of slope at t_k (see :func:`dlcore.scratch.perceptron.relu_interpolation_weights`).

    Args:
        g: an element-wise function of a NumPy array. a, b: the interval. K: the number of pieces, >= 1.

    Returns:
        W1 (1, K), b1 (K,), W2 (K, 1), b2 (1,).

    Raises:
        ValueError: if K < 1 or the interval is empty.
    """
    _check_interval("interpolating_network", a, b)
    if int(K) != K or K < 1:
        raise ValueError(f"interpolating_network: K is the number of pieces, an integer >= 1; got {K}")
    knots = np.linspace(a, b, int(K) + 1)  # (K + 1,)
    return relu_interpolation_weights(knots, np.asarray(g(knots), dtype=np.float64))


def network_output(x: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """The 1-M-1 network relu(x W1 + b1) W2 + b2 on a batch x (N, 1); returns (N, 1).

    Raises:
        ShapeError: unless W1 is (1, M), b1 (M,), W2 (M, 1) and b2 (1,).
    """
    x = as_float_array("network_output", "x", x)
    W1, b1, W2, b2 = (as_float_array("network_output", name, value)
                      for name, value in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)))
    expect_shape("network_output", "x", x, (None, 1), "(N, 1)", "one input")
    expect_shape("network_output", "W1", W1, (1, None), "(1, M)", "one input, M hidden units")
    M = W1.shape[1]
    expect_shape("network_output", "b1", b1, (M,), "(M,)", "one bias per hidden unit")
    expect_shape("network_output", "W2", W2, (M, 1), "(M, 1)", "one output unit")
    expect_shape("network_output", "b2", b2, (1,), "(1,)", "one output bias")
    hidden = np.maximum(x @ W1 + b1, 0.0)  # (N, M)
    return hidden @ W2 + b2  # (N, 1)


def approximating_network(g: Callable[[np.ndarray], np.ndarray], a: float, b: float, tolerance: float,
                          max_pieces: int = 4096) -> Weights:
    """The interpolating network with the fewest pieces K in 1, 2, 4, ... within ``tolerance`` of g.

    The error is max |network(x) - g(x)| over the grid np.linspace(a, b, GRID_POINTS).

    Returns:
        W1 (1, K), b1 (K,), W2 (K, 1), b2 (1,) of :func:`interpolating_network` for that K.

    Raises:
        ValueError: if tolerance <= 0, or no K up to ``max_pieces`` reaches it.
    """
    _check_interval("approximating_network", a, b)
    if not expect_real("approximating_network", "tolerance", tolerance) > 0:
        raise ValueError(f"approximating_network: tolerance must be positive, got {tolerance}")
    grid = np.linspace(a, b, GRID_POINTS)[:, None]  # (GRID_POINTS, 1)
    target = np.asarray(g(grid), dtype=np.float64)
    K = 1
    while K <= max_pieces:
        weights = interpolating_network(g, a, b, K)
        if np.abs(network_output(grid, *weights) - target).max() <= tolerance:
            return weights
        K *= 2
    raise ValueError(f"approximating_network: even {max_pieces} pieces miss the tolerance {tolerance}; "
                     f"is g continuous on [{a}, {b}]?")
