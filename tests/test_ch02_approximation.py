"""Chapter 02: the hand-built one-hidden-layer network that approximates a function of one variable."""

import numpy as np
import pytest

from dlcore.errors import ShapeError
from dlcore.scratch.approximation import GRID_POINTS, approximating_network, interpolating_network, network_output


def test_interpolating_network_is_the_broken_line_through_g():
    W1, b1, W2, b2 = interpolating_network(np.exp, -1.0, 2.0, 6)
    assert W1.shape == (1, 6) and b1.shape == (6,) and W2.shape == (6, 1) and b2.shape == (1,)
    knots = np.linspace(-1.0, 2.0, 7)
    x = np.linspace(-1.0, 2.0, 301)[:, None]
    np.testing.assert_allclose(network_output(x, W1, b1, W2, b2)[:, 0], np.interp(x[:, 0], knots, np.exp(knots)),
                               rtol=1e-12, atol=1e-12)
    left = network_output(np.array([[-4.0]]), W1, b1, W2, b2)[0, 0]
    assert left == pytest.approx(np.exp(-1.0))  # constant left of the first knot


def test_error_falls_like_one_over_K_squared():
    x = np.linspace(-np.pi, np.pi, 4001)[:, None]
    errors = [np.abs(network_output(x, *interpolating_network(np.sin, -np.pi, np.pi, K)) - np.sin(x)).max()
              for K in (16, 32, 64)]
    # each piece's error is at most h^2 / 8 max|g''|; halving h divides it by about 4
    assert all(3.5 < errors[k] / errors[k + 1] < 4.5 for k in range(2))


def test_approximating_network_stops_at_the_fewest_pieces():
    grid = np.linspace(0.0, 2.0, GRID_POINTS)[:, None]
    weights = approximating_network(np.exp, 0.0, 2.0, 1e-3)
    K = weights[0].shape[1]
    assert K == 64
    assert np.abs(network_output(grid, *weights) - np.exp(grid)).max() <= 1e-3
    fewer = interpolating_network(np.exp, 0.0, 2.0, K // 2)
    assert np.abs(network_output(grid, *fewer) - np.exp(grid)).max() > 1e-3
    assert approximating_network(lambda x: 3 * x - 1, 0.0, 1.0, 1e-12)[0].shape == (1, 1)  # a line: one piece


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="tolerance must be positive"):
        approximating_network(np.sin, 0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="miss the tolerance"):
        approximating_network(np.sign, -1.0, 1.0, 1e-3, max_pieces=64)  # a jump: no broken line gets close
    with pytest.raises(ValueError, match="number of pieces"):
        interpolating_network(np.sin, 0.0, 1.0, 0)
    with pytest.raises(ValueError, match="finite a < b"):
        interpolating_network(np.sin, 1.0, 1.0, 3)
    W1, b1, W2, b2 = interpolating_network(np.sin, 0.0, 1.0, 3)
    with pytest.raises(ShapeError, match="W2 has shape"):
        network_output(np.zeros((2, 1)), W1, b1, W2[:, 0], b2)
    with pytest.raises(ShapeError, match="x has shape"):
        network_output(np.zeros(2), W1, b1, W2, b2)
