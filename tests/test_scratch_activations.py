"""Every activation and its derivative against PyTorch (values and autograd) and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore.errors import ShapeError
from dlcore.gradcheck import check_gradients
from dlcore.scratch import (
    ACTIVATIONS,
    ELU,
    GELU,
    LeakyReLU,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
    activation_backward,
    activation_forward,
    get_activation,
    sigmoid,
    softmax,
    softmax_backward,
    softmax_forward,
)
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

TORCH_EQUIVALENTS = {
    "step": (lambda t: (t > 0).to(t.dtype), {}),
    "sigmoid": (torch.sigmoid, {}),
    "tanh": (torch.tanh, {}),
    "relu": (F.relu, {}),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.1), {"negative_slope": 0.1}),
    "elu": (lambda t: F.elu(t, 0.7), {"alpha": 0.7}),
    "gelu": (F.gelu, {"approximate": "none"}),
    "identity": (lambda t: t, {}),
}
TANH_GELU = (lambda t: F.gelu(t, approximate="tanh"), {"approximate": "tanh"})


def test_every_activation_has_a_torch_equivalent_under_test():
    assert set(TORCH_EQUIVALENTS) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(TORCH_EQUIVALENTS) + ["gelu-tanh"])
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (2, 3, 4)])
def test_function_and_derivative_match_torch(rng, name, shape):
    torch_fn, params = TANH_GELU if name == "gelu-tanh" else TORCH_EQUIVALENTS[name]
    key = "gelu" if name == "gelu-tanh" else name
    x = rng.standard_normal(shape) * 3
    x[np.abs(x) < 1e-3] = 0.5  # keep away from kinks, where derivatives are conventions
    dout = rng.standard_normal(shape)
    out, cache = activation_forward(x, key, **params)
    dx = activation_backward(dout, cache)

    tx = torch.tensor(x, requires_grad=True)
    tout = torch_fn(tx)
    if tout.requires_grad:
        tout.backward(torch.tensor(dout))
        expected_dx = tx.grad.numpy()
    else:  # the step function has no gradient in torch either
        expected_dx = np.zeros_like(x)
    tolerances = dict(rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
    np.testing.assert_allclose(out, tout.detach().numpy(), **tolerances)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, expected_dx, **tolerances)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_backward_matches_finite_differences(rng, name):
    x = rng.standard_normal((3, 4)) * 2
    x[np.abs(x) < 1e-2] = 0.3  # finite differences straddling a kink would be meaningless
    report = check_gradients(lambda x: activation_forward(x, name), lambda d, c: (activation_backward(d, c),), {"x": x}, rng=rng)
    report.assert_ok()


def test_relu_derivative_at_zero_is_zero_like_torch():
    x = np.zeros(3)
    _, cache = activation_forward(x, "relu")
    tx = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    F.relu(tx).sum().backward()
    np.testing.assert_array_equal(activation_backward(np.ones(3), cache), tx.grad.numpy())


def test_sigmoid_is_stable_for_extreme_inputs():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # overflow would raise here
        out = sigmoid(x)
    np.testing.assert_allclose(out, torch.sigmoid(torch.tensor(x)).numpy(), rtol=1e-12, atol=0)
    assert out[0] >= 0 and out[-1] == 1.0


def test_elu_does_not_overflow_for_large_positive_input():
    with np.errstate(over="raise"):
        out, _ = activation_forward(np.array([1000.0, -1000.0]), "elu")
    np.testing.assert_allclose(out, [1000.0, -1.0])


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_matches_torch_and_is_stable(rng, axis):
    x = rng.standard_normal((4, 5)) * 3
    x[0, 0] = 1000.0  # the naive exp would overflow
    dout = rng.standard_normal(x.shape)
    with np.errstate(over="raise"):
        out, cache = softmax_forward(x, axis=axis)
    dx = softmax_backward(dout, cache)
    tx = torch.tensor(x, requires_grad=True)
    tout = torch.softmax(tx, dim=axis)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
    np.testing.assert_allclose(out.sum(axis=axis), 1.0)


def test_softmax_backward_matches_finite_differences(rng):
    x = rng.standard_normal((3, 4))
    check_gradients(softmax_forward, lambda d, c: (softmax_backward(d, c),), {"x": x}, rng=rng).assert_ok()


def test_inputs_are_not_modified(rng):
    x = rng.standard_normal((3, 4))
    before = x.copy()
    for name in ACTIVATIONS:
        out, cache = activation_forward(x, name)
        activation_backward(np.ones_like(out), cache)
    softmax(x)
    np.testing.assert_array_equal(x, before)


def test_unknown_activation_lists_the_choices():
    with pytest.raises(ValueError, match="unknown activation 'swish'; choose one of step, sigmoid"):
        get_activation("swish")


def test_unknown_parameter_is_named():
    with pytest.raises(TypeError, match="relu takes no parameter alpha"):
        activation_forward(np.zeros(2), "relu", alpha=1.0)


def test_backward_with_wrong_dout_shape_is_a_shape_error():
    _, cache = activation_forward(np.zeros((2, 3)), "tanh")
    with pytest.raises(ShapeError, match=r"activation_backward: dout has shape \(3, 2\) but expected \(2, 3\)"):
        activation_backward(np.zeros((3, 2)), cache)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        GELU(approximate="fast")


def test_modules_compose_and_match_torch_mlp(rng):
    """A scratch MLP (Linear + every module type) equals the same torch MLP, forward and backward."""
    from dlcore.scratch import Linear

    layers = [Linear(4, 6, rng=rng), Tanh(), Linear(6, 5, rng=rng), LeakyReLU(0.2), Linear(5, 5, rng=rng),
              ELU(0.5), Linear(5, 4, rng=rng), GELU(), Linear(4, 3, rng=rng), Sigmoid(), Linear(3, 3, rng=rng),
              ReLU(), Linear(3, 3, rng=rng), Softmax()]
    model = Sequential(*layers)
    x = rng.standard_normal((5, 4))
    dout = rng.standard_normal((5, 3))
    out = model(x)
    dx = model.backward(dout)

    torch_layers = []
    for layer in layers:
        if isinstance(layer, Linear):
            linear = torch.nn.Linear(*layer.W.shape).double()
            with torch.no_grad():
                linear.weight.copy_(torch.tensor(layer.W.value.T))
                linear.bias.copy_(torch.tensor(layer.b.value))
            torch_layers.append(linear)
        else:
            torch_layers.append({
                "Tanh": torch.nn.Tanh(), "LeakyReLU": torch.nn.LeakyReLU(0.2), "ELU": torch.nn.ELU(0.5),
                "GELU": torch.nn.GELU(), "Sigmoid": torch.nn.Sigmoid(), "ReLU": torch.nn.ReLU(),
                "Softmax": torch.nn.Softmax(dim=-1),
            }[type(layer).__name__])
    torch_model = torch.nn.Sequential(*torch_layers)
    tx = torch.tensor(x, requires_grad=True)
    tout = torch_model(tx)
    tout.backward(torch.tensor(dout))
    tolerances = dict(rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
    np.testing.assert_allclose(out, tout.detach().numpy(), **tolerances)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **tolerances)
    scratch_linears = [layer for layer in layers if isinstance(layer, Linear)]
    torch_linears = [layer for layer in torch_layers if isinstance(layer, torch.nn.Linear)]
    for ours, theirs in zip(scratch_linears, torch_linears):
        np.testing.assert_allclose(ours.W.grad, theirs.weight.grad.numpy().T, **tolerances)
        np.testing.assert_allclose(ours.b.grad, theirs.bias.grad.numpy(), **tolerances)
    assert [name for name, _ in model.named_parameters()][:2] == ["0.W", "0.b"]
    assert model.num_parameters() == sum(p.numel() for p in torch_model.parameters())
