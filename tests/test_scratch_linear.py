"""linear_forward / linear_backward and the Linear module against PyTorch and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.errors import ShapeError
from dlcore.gradcheck import check_gradients
from dlcore.scratch import Linear, linear_backward, linear_forward
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

SHAPES = [(1, 3, 2), (4, 5, 3), (7, 2, 6), (2, 1, 1)]  # (N, D, M): batch of one, non-square, 1x1


@pytest.mark.parametrize("N, D, M", SHAPES)
def test_forward_and_backward_match_torch(rng, N, D, M):
    x, W, b = rng.standard_normal((N, D)), rng.standard_normal((D, M)), rng.standard_normal(M)
    dout = rng.standard_normal((N, M))
    out, cache = linear_forward(x, W, b)
    dx, dW, db = linear_backward(dout, cache)

    tx = torch.tensor(x, requires_grad=True)
    tW = torch.tensor(W.T.copy(), requires_grad=True)  # torch stores (M, D)
    tb = torch.tensor(b, requires_grad=True)
    tout = torch.nn.functional.linear(tx, tW, tb)
    tout.backward(torch.tensor(dout))

    assert out.shape == (N, M) and dx.shape == x.shape and dW.shape == W.shape and db.shape == b.shape
    tolerances = dict(rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
    np.testing.assert_allclose(out, tout.detach().numpy(), **tolerances)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **tolerances)
    np.testing.assert_allclose(dW, tW.grad.numpy().T, **tolerances)
    np.testing.assert_allclose(db, tb.grad.numpy(), **tolerances)


@pytest.mark.parametrize("N, D, M", SHAPES)
def test_gradients_match_finite_differences(rng, N, D, M):
    inputs = {"x": rng.standard_normal((N, D)), "W": rng.standard_normal((D, M)), "b": rng.standard_normal(M)}
    check_gradients(linear_forward, linear_backward, inputs, rng=rng).assert_ok()


def test_inputs_are_not_modified(rng):
    x, W, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)
    copies = [a.copy() for a in (x, W, b)]
    out, cache = linear_forward(x, W, b)
    dout = rng.standard_normal(out.shape)
    dout_copy = dout.copy()
    linear_backward(dout, cache)
    for original, copy in zip((x, W, b, dout), copies + [dout_copy]):
        np.testing.assert_array_equal(original, copy)


def test_wrong_weight_shape_names_the_argument(rng):
    with pytest.raises(ShapeError, match=r"linear_forward: W has shape \(3, 2\) but expected \(D, M\) = \(4, \*\) with D = x.shape\[1\] = 4"):
        linear_forward(rng.standard_normal((5, 4)), rng.standard_normal((3, 2)), np.zeros(2))


def test_wrong_bias_shape_names_the_argument(rng):
    with pytest.raises(ShapeError, match=r"b has shape \(1, 2\) but expected \(M,\) = \(2,\)"):
        linear_forward(rng.standard_normal((5, 4)), rng.standard_normal((4, 2)), np.zeros((1, 2)))


def test_single_example_without_batch_axis_is_refused_with_advice(rng):
    with pytest.raises(ShapeError, match=r"x has shape \(4,\) \(1-D\) but expected a 2-D array .*x\[None, :\]"):
        linear_forward(rng.standard_normal(4), rng.standard_normal((4, 2)), np.zeros(2))


def test_wrong_dout_shape_is_refused(rng):
    _, cache = linear_forward(rng.standard_normal((5, 4)), rng.standard_normal((4, 2)), np.zeros(2))
    with pytest.raises(ShapeError, match=r"linear_backward: dout has shape \(5, 3\) but expected \(N, M\) = \(5, 2\)"):
        linear_backward(np.zeros((5, 3)), cache)


def test_non_numeric_input_is_a_type_error():
    with pytest.raises(TypeError, match="linear_forward: x must be numeric"):
        linear_forward(np.array([["a", "b"]]), np.zeros((2, 1)), np.zeros(1))


def test_module_accumulates_gradients_and_zero_grad_clears(rng):
    layer = Linear(3, 2, rng=rng)
    x = rng.standard_normal((4, 3))
    dout = rng.standard_normal((4, 2))
    layer.forward(x)
    layer.backward(dout)
    once = layer.W.grad.copy()
    layer.forward(x)
    layer.backward(dout)
    np.testing.assert_allclose(layer.W.grad, 2 * once)
    layer.zero_grad()
    assert not layer.W.grad.any() and not layer.b.grad.any()


def test_module_initialisation_is_bounded_and_seeded():
    a = Linear(16, 8, rng=np.random.default_rng(0))
    b = Linear(16, 8, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(a.W.value, b.W.value)
    assert np.abs(a.W.value).max() <= 1 / np.sqrt(16)
    assert a.num_parameters() == 16 * 8 + 8


def test_module_requires_an_explicit_generator():
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        Linear(2, 2, rng=0)
    with pytest.raises(ValueError, match="in_features must be a positive int"):
        Linear(0, 2, rng=np.random.default_rng(0))


def test_backward_before_forward_is_explained(rng):
    with pytest.raises(RuntimeError, match="call forward first"):
        Linear(2, 2, rng=rng).backward(np.zeros((1, 2)))
