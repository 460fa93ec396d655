"""Chapter 03: the deep-stack statistics (dlcore.scratch.depth_statistics).

Per-block statistics are compared with the same network rebuilt in PyTorch (float64,
autograd for the gradients): the two compute the same numbers by independent routes,
so they agree to rounding (tolerances from tests/tolerances.py).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

from dlcore.errors import ShapeError
from dlcore.scratch import Identity, ReLU, Sequential
from dlcore.scratch.depth_statistics import (
    _norm,
    collapse_linear_stack,
    deep_network,
    depth_statistics,
    network_statistics,
)
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

RTOL = PARITY_RTOL_FLOAT64

TORCH_ACTIVATIONS = {
    "sigmoid": lambda z, p: torch.sigmoid(z),
    "tanh": lambda z, p: torch.tanh(z),
    "relu": lambda z, p: torch.relu(z),
    "leaky_relu": lambda z, p: torch.nn.functional.leaky_relu(z, p.get("negative_slope", 0.01)),
    "elu": lambda z, p: torch.nn.functional.elu(z, p.get("alpha", 1.0)),
    "gelu": lambda z, p: torch.nn.functional.gelu(z, approximate=p.get("approximate", "none")),
    "identity": lambda z, p: z,
}


def torch_statistics(network: Sequential, x: np.ndarray, name: str, params: dict):
    """The same measurements by PyTorch autograd on the same weights."""
    h = torch.tensor(x, dtype=torch.float64)
    outputs, weights = [], []
    for linear in network.layers[0::2]:
        W = torch.tensor(linear.W.value, requires_grad=True)
        weights.append(W)
        h = TORCH_ACTIVATIONS[name](h @ W + torch.tensor(linear.b.value), params)
        h.retain_grad()
        outputs.append(h)
    (h.sum() / h.shape[0]).backward()  # default dout = ones / N
    return {
        "mean": np.array([o.detach().mean().item() for o in outputs]),
        "std": np.array([o.detach().std(unbiased=False).item() for o in outputs]),
        "grad_norm": np.array([o.grad.norm().item() for o in outputs]),
        "weight_grad_norm": np.array([W.grad.norm().item() for W in weights]),
        "dead": np.array([(o.detach() == 0).all(dim=0).double().mean().item() for o in outputs]),
    }


@pytest.mark.parametrize(
    "name, params",
    [("sigmoid", {}), ("tanh", {}), ("relu", {}), ("leaky_relu", {"negative_slope": 0.2}),
     ("elu", {"alpha": 0.7}), ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("identity", {})],
)
def test_statistics_match_pytorch_autograd(name, params):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 5))  # non-square, odd sizes
    network = deep_network(4, 6, name, in_features=5, rng=rng, weight_scale=1.3, bias=0.1, **params)
    ours = network_statistics(network, x)
    theirs = torch_statistics(network, x, name, params)
    for key, expected in theirs.items():
        np.testing.assert_allclose(getattr(ours, key), expected, rtol=RTOL, atol=PARITY_ATOL_FLOAT64, err_msg=key)


def test_default_upstream_gradient_and_input_gradient_match_pytorch():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 3))  # batch size 1
    network = deep_network(3, 4, "tanh", in_features=3, rng=rng)
    xt = torch.tensor(x, requires_grad=True)
    h = xt
    for linear in network.layers[0::2]:
        h = torch.tanh(h @ torch.tensor(linear.W.value) + torch.tensor(linear.b.value))
    h.sum().backward()
    stats = network_statistics(network, x)
    assert math.isclose(stats.input_grad_norm, xt.grad.norm().item(), rel_tol=RTOL)


def test_custom_upstream_gradient_is_used():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3))
    network = deep_network(2, 5, "relu", in_features=3, rng=rng)
    dout = np.zeros((4, 5))
    stats = network_statistics(network, x, dout=dout)
    assert np.all(stats.grad_norm == 0.0) and stats.input_grad_norm == 0.0
    doubled = network_statistics(network, x, dout=2 * np.ones((4, 5)) / 4)
    single = network_statistics(network, x)
    np.testing.assert_allclose(doubled.grad_norm, 2 * single.grad_norm, rtol=RTOL)


def test_network_layout_weight_scale_and_bias():
    rng = np.random.default_rng(4)
    network = deep_network(3, 400, "tanh", in_features=300, rng=rng, weight_scale=2.0, bias=-0.5)
    assert len(network) == 6
    first, second = network[0], network[2]
    assert first.W.shape == (300, 400) and second.W.shape == (400, 400)
    # W ~ U(-a, a), a = g sqrt(3 / D_in): bounded by a, variance g^2 / D_in.
    assert np.abs(first.W.value).max() <= 2.0 * math.sqrt(3 / 300)
    assert math.isclose(first.W.value.var(), 4.0 / 300, rel_tol=0.02)
    assert math.isclose(second.W.value.var(), 4.0 / 400, rel_tol=0.02)
    assert np.all(first.b.value == -0.5)
    assert network[1].name == "tanh"


def test_dead_units_counted_exactly():
    # Two ReLU units on positive inputs: unit 0 has negative weights (dead), unit 1 positive.
    rng = np.random.default_rng(5)
    network = deep_network(1, 2, "relu", in_features=3, rng=rng)
    network[0].W.value[...] = np.array([[-1.0, 1.0]] * 3)
    x = np.abs(rng.standard_normal((6, 3))) + 0.1
    stats = network_statistics(network, x)
    assert stats.dead.tolist() == [0.5]
    assert stats.saturated.tolist() == [0.5]  # the dead unit has f' = 0 on every example
    network[0].W.value[:, 0] = 1.0
    assert network_statistics(network, x).dead.tolist() == [0.0]


def test_saturation_share_responds_to_bias():
    x = np.random.default_rng(6).standard_normal((32, 8))
    saturated = depth_statistics(x, 2, 16, "sigmoid", rng=np.random.default_rng(0), bias=50.0)
    healthy = depth_statistics(x, 2, 16, "sigmoid", rng=np.random.default_rng(0), weight_scale=0.1)
    assert saturated.saturated.tolist() == [1.0, 1.0]
    assert healthy.saturated.tolist() == [0.0, 0.0]


def test_sigmoid_gradient_vanishes_and_he_scaled_relu_keeps_it():
    x = np.random.default_rng(7).standard_normal((64, 32))
    sig = depth_statistics(x, 20, 64, "sigmoid", rng=np.random.default_rng(0))
    # Each block multiplies the gradient by sigma' <= 1/4 times a weight matrix of gain 1.
    assert sig.grad_norm[0] < 1e-6 * sig.grad_norm[-1]
    relu = depth_statistics(x, 20, 64, "relu", rng=np.random.default_rng(0), weight_scale=math.sqrt(2))
    assert 1e-2 < relu.grad_norm[0] / relu.grad_norm[-1] < 1e2


@pytest.mark.parametrize("name", ["step", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "identity"])
@pytest.mark.parametrize("weight_scale", [1e-3, 1e2])
def test_extremes_stay_finite_without_warnings(name, weight_scale):
    x = np.random.default_rng(8).standard_normal((16, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stats = depth_statistics(x, 50, 32, name, rng=np.random.default_rng(0), weight_scale=weight_scale)
    for key in ("mean", "std", "saturated", "dead", "grad_norm", "weight_grad_norm"):
        values = getattr(stats, key)
        assert values.shape == (50,) and np.all(np.isfinite(values)), key
    assert stats.depth == 50


def test_inputs_unchanged_and_deterministic():
    x = np.random.default_rng(9).standard_normal((5, 4))
    copy = x.copy()
    a = depth_statistics(x, 3, 6, "elu", rng=np.random.default_rng(1))
    b = depth_statistics(x, 3, 6, "elu", rng=np.random.default_rng(1))
    np.testing.assert_array_equal(x, copy)
    np.testing.assert_array_equal(a.grad_norm, b.grad_norm)


def test_norm_does_not_overflow_or_underflow():
    assert math.isclose(_norm(np.full(4, 1e200)), 2e200, rel_tol=1e-12)
    assert math.isclose(_norm(np.full(4, 1e-200)), 2e-200, rel_tol=1e-12)
    assert _norm(np.zeros(3)) == 0.0


def test_collapse_linear_stack_equals_the_network():
    rng = np.random.default_rng(10)
    network = deep_network(6, 5, "identity", in_features=3, rng=rng, bias=0.3)
    network[4].W.value[...] = rng.standard_normal((5, 5))
    W, b = collapse_linear_stack(network)
    assert W.shape == (3, 5) and b.shape == (5,)
    for x in (rng.standard_normal((1, 3)), rng.standard_normal((7, 3))):
        np.testing.assert_allclose(network(x), x @ W + b, rtol=1e-12, atol=1e-14)


def test_collapse_refuses_non_linear_stacks():
    network = deep_network(2, 3, "tanh", in_features=2, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="layer 1 is Tanh\\(\\), which is not linear"):
        collapse_linear_stack(network)
    with pytest.raises(TypeError, match="no Linear layer"):
        collapse_linear_stack(Sequential(Identity()))


def test_shape_errors_name_the_argument():
    rng = np.random.default_rng(11)
    network = deep_network(2, 3, "relu", in_features=4, rng=rng)
    with pytest.raises(ShapeError, match=r"network_statistics: x has shape \(5, 3\) but expected \(N, D\) = \(\*, 4\)"):
        network_statistics(network, np.zeros((5, 3)))
    with pytest.raises(ShapeError, match=r"x has shape \(4,\) \(1-D\) but expected a 2-D array"):
        network_statistics(network, np.zeros(4))
    with pytest.raises(ShapeError, match=r"dout has shape \(5, 2\) but expected \(N, M\) = \(5, 3\)"):
        network_statistics(network, np.zeros((5, 4)), dout=np.zeros((5, 2)))
    with pytest.raises(ShapeError, match=r"depth_statistics: x has shape \(4,\)"):
        depth_statistics(np.zeros(4), 2, 3, "relu", rng=rng)


def test_bad_arguments_raise_clear_errors():
    rng = np.random.default_rng(12)
    with pytest.raises(ValueError, match="depth must be a positive integer, got 0"):
        deep_network(0, 3, "relu", in_features=2, rng=rng)
    with pytest.raises(ValueError, match="weight_scale must be a finite number > 0"):
        deep_network(2, 3, "relu", in_features=2, rng=rng, weight_scale=0.0)
    with pytest.raises(ValueError, match="weight_scale must be a finite number > 0"):
        deep_network(2, 3, "relu", in_features=2, rng=rng, weight_scale=float("nan"))
    with pytest.raises(ValueError, match="unknown activation 'softmax'"):
        deep_network(2, 3, "softmax", in_features=2, rng=rng)
    with pytest.raises(TypeError, match="relu takes no parameter alpha"):
        deep_network(2, 3, "relu", in_features=2, rng=rng, alpha=1.0)
    with pytest.raises(TypeError, match="expected a Sequential of \\(Linear, activation\\) pairs"):
        network_statistics(Sequential(ReLU()), np.zeros((2, 2)))


def test_stack_statistics_on_given_weights_matches_pytorch_and_depth_statistics():
    from dlcore.scratch import ACTIVATIONS
    from dlcore.scratch.depth_statistics import random_stack, stack_statistics
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4))
    weights, biases = random_stack(3, 6, in_features=4, rng=np.random.default_rng(8), weight_scale=1.4, bias=0.2)
    network = deep_network(3, 6, "elu", in_features=4, rng=np.random.default_rng(8), weight_scale=1.4, bias=0.2)
    for W, linear in zip(weights, network.layers[0::2]):
        np.testing.assert_array_equal(W, linear.W.value)
    spec = ACTIVATIONS["elu"]
    mean, std, grad_norm, saturated = stack_statistics(x, weights, biases, spec.function, spec.derivative,
                                                       np.ones((5, 6)) / 5)
    theirs = torch_statistics(network, x, "elu", {})
    for got, key in ((mean, "mean"), (std, "std"), (grad_norm, "grad_norm")):
        np.testing.assert_allclose(got, theirs[key], rtol=RTOL, atol=PARITY_ATOL_FLOAT64, err_msg=key)
    np.testing.assert_array_equal(saturated, network_statistics(network, x).saturated)


def test_stack_statistics_rejects_parameters_that_do_not_chain():
    from dlcore.scratch import ACTIVATIONS
    from dlcore.scratch.depth_statistics import stack_statistics
    spec = ACTIVATIONS["tanh"]
    x, dout = np.zeros((2, 3)), np.zeros((2, 4))
    with pytest.raises(ShapeError, match=r"weights\[1\] has shape \(5, 4\)"):
        stack_statistics(x, [np.zeros((3, 4)), np.zeros((5, 4))], [np.zeros(4)] * 2, spec.function, spec.derivative, dout)
    with pytest.raises(ShapeError, match=r"biases\[0\]"):
        stack_statistics(x, [np.zeros((3, 4))], [np.zeros(3)], spec.function, spec.derivative, dout)
    with pytest.raises(ShapeError, match="one of each per block"):
        stack_statistics(x, [np.zeros((3, 4))], [], spec.function, spec.derivative, dout)
    with pytest.raises(ShapeError, match="dout"):
        stack_statistics(x, [np.zeros((3, 4))], [np.zeros(4)], spec.function, spec.derivative, np.zeros((2, 3)))
