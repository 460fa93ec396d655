"""Chapter 07: batch normalisation against finite differences and torch's BatchNorm1d / BatchNorm2d."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.errors import ShapeError
from dlcore.gradcheck import check_gradients
from dlcore.scratch.batchnorm import (BatchNorm1d, BatchNorm2d, batchnorm_backward, batchnorm_eval_forward,
                                      batchnorm_forward, update_running_stats)
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

TOL = dict(rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
SHAPES = [(2, 3), (7, 1), (5, 4), (2, 3, 5), (1, 2, 3, 4), (3, 4, 2, 5)]  # N = 2 (smallest batch), C = 1, 3-D, 4-D


def _inputs(rng, shape):
    C = shape[1]
    x = rng.standard_normal(shape) * rng.uniform(0.5, 3.0, size=(1, C) + (1,) * (len(shape) - 2)) + 1.5
    return x, rng.standard_normal(C), rng.standard_normal(C)


@pytest.mark.parametrize("shape", SHAPES)
def test_training_mode_gradients_match_finite_differences(rng, shape):
    x, gamma, beta = _inputs(rng, shape)
    # With two values per feature, x_hat = ±1 whatever x is (up to eps): dx is O(eps) and drowns in
    # the finite-difference noise. A large eps makes the dependence, and the test, meaningful.
    eps = 0.5 if x.size // shape[1] == 2 else 1e-5
    report = check_gradients(lambda x, gamma, beta: batchnorm_forward(x, gamma, beta, eps=eps), batchnorm_backward,
                             {"x": x, "gamma": gamma, "beta": beta}, rng=rng)
    report.assert_ok()


@pytest.mark.parametrize("shape", SHAPES)
def test_eval_mode_gradients_match_finite_differences(rng, shape):
    x, gamma, beta = _inputs(rng, shape)
    mean, var = rng.standard_normal(shape[1]), rng.uniform(0.5, 2.0, shape[1])
    report = check_gradients(lambda x, gamma, beta: batchnorm_eval_forward(x, gamma, beta, mean, var),
                             batchnorm_backward, {"x": x, "gamma": gamma, "beta": beta}, rng=rng)
    report.assert_ok()


def _torch_bn(shape, momentum):
    layer = (torch.nn.BatchNorm1d if len(shape) < 4 else torch.nn.BatchNorm2d)(shape[1], momentum=momentum,
                                                                              dtype=torch.float64)
    ours = (BatchNorm1d if len(shape) < 4 else BatchNorm2d)(shape[1], momentum=momentum)
    return layer, ours


@pytest.mark.parametrize("shape", [s for s in SHAPES if np.prod(s) // s[1] > 1])
@pytest.mark.parametrize("momentum", [0.1, 0.7, None])
def test_module_matches_torch_outputs_gradients_and_running_stats(rng, shape, momentum):
    layer, ours = _torch_bn(shape, momentum)
    with torch.no_grad():
        gamma, beta = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
        layer.weight.copy_(torch.tensor(gamma))
        layer.bias.copy_(torch.tensor(beta))
    ours.gamma.value[...], ours.beta.value[...] = gamma, beta
    for _ in range(3):  # several batches: the running averages accumulate
        x, _, _ = _inputs(rng, shape)
        dout = rng.standard_normal(shape)
        tx = torch.tensor(x, requires_grad=True)
        layer.zero_grad()
        tout = layer(tx)
        tout.backward(torch.tensor(dout))
        ours.zero_grad()
        out = ours.forward(x)
        dx = ours.backward(dout)
        np.testing.assert_allclose(out, tout.detach().numpy(), **TOL)
        np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL)
        np.testing.assert_allclose(ours.gamma.grad, layer.weight.grad.numpy(), **TOL)
        np.testing.assert_allclose(ours.beta.grad, layer.bias.grad.numpy(), **TOL)
        np.testing.assert_allclose(ours.running_mean, layer.running_mean.numpy(), **TOL)
        np.testing.assert_allclose(ours.running_var, layer.running_var.numpy(), **TOL)
    layer.eval()
    ours.eval()
    x, _, _ = _inputs(rng, shape)
    np.testing.assert_allclose(ours.forward(x), layer(torch.tensor(x)).detach().numpy(), **TOL)


def test_running_variance_is_unbiased_and_normalisation_is_not(rng):
    x = rng.standard_normal((4, 2))
    out, cache = batchnorm_forward(x, np.ones(2), np.zeros(2), eps=0.0)
    np.testing.assert_allclose(out.var(axis=0), 1.0)  # biased statistics in the normalisation
    mean, var = update_running_stats(np.zeros(2), np.ones(2), cache, momentum=1.0)
    np.testing.assert_allclose(var, x.var(axis=0, ddof=1))
    np.testing.assert_allclose(mean, x.mean(axis=0))


def test_eval_mode_does_not_depend_on_the_rest_of_the_batch(rng):
    layer = BatchNorm1d(3)
    for _ in range(5):
        layer.forward(rng.standard_normal((8, 3)))
    layer.eval()
    x = rng.standard_normal((6, 3))
    alone = np.vstack([layer.forward(x[i:i + 1]) for i in range(6)])  # a batch of one works in eval mode
    np.testing.assert_allclose(layer.forward(x), alone, **TOL)
    before = layer.running_mean.copy()
    layer.forward(x)
    np.testing.assert_array_equal(layer.running_mean, before)  # eval never updates the running statistics


def test_inputs_are_not_modified(rng):
    x, gamma, beta = _inputs(rng, (4, 3, 2, 2))
    dout = rng.standard_normal(x.shape)
    copies = [a.copy() for a in (x, gamma, beta, dout)]
    _, cache = batchnorm_forward(x, gamma, beta)
    batchnorm_backward(dout, cache)
    for original, copy in zip((x, gamma, beta, dout), copies):
        np.testing.assert_array_equal(original, copy)


def test_shape_errors_name_the_argument(rng):
    with pytest.raises(ShapeError, match=r"batchnorm_forward: gamma has shape \(4,\) but expected \(C,\) = \(3,\) "
                                         r"with C = x.shape\[1\] = 3"):
        batchnorm_forward(rng.standard_normal((5, 3)), np.ones(4), np.zeros(3))
    with pytest.raises(ShapeError, match=r"x has shape \(5,\) \(1-D\) but expected \(N, D\)"):
        batchnorm_forward(rng.standard_normal(5), np.ones(5), np.zeros(5))
    with pytest.raises(ShapeError, match=r"BatchNorm1d: x has shape \(2, 3, 4, 4\) but expected \(N, C\) or \(N, C, L\)"):
        BatchNorm1d(3).forward(rng.standard_normal((2, 3, 4, 4)))
    with pytest.raises(ShapeError, match=r"BatchNorm2d: x has shape \(2, 5, 4, 4\).*C = num_features = 3"):
        BatchNorm2d(3).forward(rng.standard_normal((2, 5, 4, 4)))
    _, cache = batchnorm_forward(rng.standard_normal((5, 3)), np.ones(3), np.zeros(3))
    with pytest.raises(ShapeError, match=r"batchnorm_backward: dout has shape \(3, 5\)"):
        batchnorm_backward(rng.standard_normal((3, 5)), cache)


def test_a_single_value_per_feature_is_refused_like_torch(rng):
    with pytest.raises(ValueError, match="only 1 value per feature"):
        batchnorm_forward(rng.standard_normal((1, 3)), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        torch.nn.BatchNorm1d(3)(torch.randn(1, 3))


def test_module_arguments_are_checked():
    with pytest.raises(ValueError, match="momentum must be in"):
        BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match="num_features must be a positive int"):
        BatchNorm2d(0)
    with pytest.raises(RuntimeError, match="call forward first"):
        BatchNorm1d(2).backward(np.zeros((3, 2)))


def test_buffers_are_named_and_not_parameters():
    layer = BatchNorm1d(4)
    assert [name for name, _ in layer.named_buffers()] == ["running_mean", "running_var"]
    assert [p.name for p in layer.parameters()] == ["gamma", "beta"]
