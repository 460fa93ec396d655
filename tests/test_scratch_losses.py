"""Every loss in dlcore.scratch.losses against PyTorch (value and autograd) and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore.errors import ShapeError
from dlcore.gradcheck import check_gradients
from dlcore.scratch.losses import (
    PROBABILITY_EPS,
    binary_cross_entropy_backward,
    binary_cross_entropy_forward,
    binary_cross_entropy_with_logits_backward,
    binary_cross_entropy_with_logits_forward,
    exponential_loss_backward,
    exponential_loss_forward,
    log_softmax,
    mse_backward,
    mse_forward,
    one_hot,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

TOL = dict(rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
SHAPES = [(1,), (7,), (1, 1), (5, 3), (2, 6)]  # batch of one, 1-D, non-square 2-D


def _torch_value_and_grad(torch_loss, first, *rest):
    t = torch.tensor(first, requires_grad=True)
    loss = torch_loss(t, *rest)
    loss.backward()
    return loss.item(), t.grad.numpy()


def _inputs(rng, kind, shape):
    """A valid (first argument, target) pair for each binary/regression loss."""
    if kind == "mse":
        return rng.standard_normal(shape) * 2, rng.standard_normal(shape)
    if kind == "bce":
        return rng.uniform(0.05, 0.95, shape), rng.integers(0, 2, shape).astype(np.float64)
    if kind == "bce_logits":
        return rng.standard_normal(shape) * 3, rng.integers(0, 2, shape).astype(np.float64)
    if kind == "exp":
        return rng.standard_normal(shape), rng.choice([-1.0, 1.0], shape)
    raise AssertionError(kind)


PAIRWISE = {
    "mse": (mse_forward, mse_backward, lambda t, y: F.mse_loss(t, torch.tensor(y))),
    "bce": (binary_cross_entropy_forward, binary_cross_entropy_backward,
            lambda t, y: F.binary_cross_entropy(t, torch.tensor(y))),
    "bce_logits": (binary_cross_entropy_with_logits_forward, binary_cross_entropy_with_logits_backward,
                   lambda t, y: F.binary_cross_entropy_with_logits(t, torch.tensor(y))),
    "exp": (exponential_loss_forward, exponential_loss_backward,
            lambda t, y: torch.exp(-torch.tensor(y) * t).mean()),
}


@pytest.mark.parametrize("kind", sorted(PAIRWISE))
@pytest.mark.parametrize("shape", SHAPES)
def test_value_and_gradient_match_torch(rng, kind, shape):
    forward, backward, torch_loss = PAIRWISE[kind]
    first, target = _inputs(rng, kind, shape)
    loss, cache = forward(first, target)
    grad = backward(cache)
    expected_loss, expected_grad = _torch_value_and_grad(torch_loss, first, target)
    assert isinstance(loss, float)
    assert grad.shape == first.shape
    np.testing.assert_allclose(loss, expected_loss, **TOL)
    np.testing.assert_allclose(grad, expected_grad, **TOL)


@pytest.mark.parametrize("kind", sorted(PAIRWISE))
@pytest.mark.parametrize("shape", [(1,), (4,), (3, 2)])
def test_gradient_matches_finite_differences(rng, kind, shape):
    forward, backward, _ = PAIRWISE[kind]
    first, target = _inputs(rng, kind, shape)
    report = check_gradients(
        lambda x: forward(x, target),
        lambda dloss, cache: (backward(cache, float(dloss)),),  # dloss: a random scalar upstream gradient
        {"x": first},
        rng=rng,
    )
    report.assert_ok()


@pytest.mark.parametrize("N, K", [(1, 2), (1, 5), (6, 3), (4, 10)])
def test_softmax_cross_entropy_matches_torch(rng, N, K):
    logits = rng.standard_normal((N, K)) * 3
    labels = rng.integers(0, K, N)
    loss, cache = softmax_cross_entropy_forward(logits, labels)
    dlogits = softmax_cross_entropy_backward(cache)
    expected_loss, expected_grad = _torch_value_and_grad(F.cross_entropy, logits, torch.tensor(labels))
    assert dlogits.shape == (N, K)
    np.testing.assert_allclose(loss, expected_loss, **TOL)
    np.testing.assert_allclose(dlogits, expected_grad, **TOL)


@pytest.mark.parametrize("N, K", [(1, 3), (5, 4)])
def test_softmax_cross_entropy_matches_finite_differences(rng, N, K):
    labels = rng.integers(0, K, N)
    check_gradients(
        lambda z: softmax_cross_entropy_forward(z, labels),
        lambda dloss, cache: (softmax_cross_entropy_backward(cache, float(dloss)),),
        {"z": rng.standard_normal((N, K))},
        rng=rng,
    ).assert_ok()


def test_softmax_cross_entropy_gradient_is_softmax_minus_one_hot_over_n(rng):
    logits = rng.standard_normal((4, 3))
    labels = np.array([0, 2, 1, 2])
    _, cache = softmax_cross_entropy_forward(logits, labels)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(softmax_cross_entropy_backward(cache), (probs - one_hot(labels, 3)) / 4, **TOL)


def test_dloss_scales_every_gradient(rng):
    first, target = _inputs(rng, "mse", (3, 2))
    _, cache = mse_forward(first, target)
    np.testing.assert_allclose(mse_backward(cache, 2.5), 2.5 * mse_backward(cache), **TOL)
    _, cache = softmax_cross_entropy_forward(first, np.array([1, 0, 1]))
    np.testing.assert_allclose(softmax_cross_entropy_backward(cache, -3.0), -3.0 * softmax_cross_entropy_backward(cache), **TOL)
    with pytest.raises(ShapeError, match="dloss has shape \\(2,\\) but expected a scalar"):
        mse_backward(cache=mse_forward(first, target)[1], dloss=np.ones(2))


def test_backward_twice_gives_the_same_gradient(rng):
    _, cache = softmax_cross_entropy_forward(rng.standard_normal((3, 4)), np.array([0, 3, 1]))
    first = softmax_cross_entropy_backward(cache)
    np.testing.assert_array_equal(softmax_cross_entropy_backward(cache), first)


# ---------------------------------------------------------------- extreme inputs

def test_logit_losses_are_finite_and_exact_for_extreme_logits():
    z = np.array([-1000.0, 1000.0, -1000.0, 1000.0, 0.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss, cache = binary_cross_entropy_with_logits_forward(z, y)
        grad = binary_cross_entropy_with_logits_backward(cache)
    expected_loss, expected_grad = _torch_value_and_grad(lambda t: F.binary_cross_entropy_with_logits(t, torch.tensor(y)), z)
    np.testing.assert_allclose(loss, expected_loss, **TOL)  # (0 + 0 + 1000 + 1000 + log 2) / 5
    np.testing.assert_allclose(grad, expected_grad, **TOL)

    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    labels = np.array([1, 2])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss, cache = softmax_cross_entropy_forward(logits, labels)
        dlogits = softmax_cross_entropy_backward(cache)
    expected_loss, expected_grad = _torch_value_and_grad(F.cross_entropy, logits, torch.tensor(labels))
    assert np.isfinite(loss) and np.all(np.isfinite(dlogits))
    np.testing.assert_allclose(loss, expected_loss, **TOL)
    np.testing.assert_allclose(dlogits, expected_grad, **TOL)


def test_log_softmax_does_not_underflow_to_minus_infinity():
    z = np.array([[0.0, -800.0]])
    with np.errstate(divide="ignore"):
        naive = np.log(np.exp(z) / np.exp(z).sum())
    assert naive[0, 1] == -np.inf  # the unstable route loses it
    np.testing.assert_allclose(log_softmax(z), [[0.0, -800.0]], atol=1e-12)


def test_probability_cross_entropy_clips_zero_and_one():
    with np.errstate(divide="raise", invalid="raise"):
        loss, cache = binary_cross_entropy_forward(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
        grad = binary_cross_entropy_backward(cache)
    # 1 - eps is rounded to the nearest float64 (spacing 1.1e-16 next to 1), so the
    # second clipped term is log of 1e-12 up to a relative 1e-4: 1e-6 relative in the loss.
    np.testing.assert_allclose(loss, -np.log(PROBABILITY_EPS), rtol=1e-5)
    assert np.all(np.isfinite(grad)) and grad[0] < 0 < grad[1]  # pushes p up, then down


def test_exponential_loss_is_finite_for_large_correct_margins_and_inf_when_beyond_float64():
    loss, cache = exponential_loss_forward(np.array([1000.0, -1000.0]), np.array([1.0, -1.0]))
    assert loss == 0.0 and np.all(np.isfinite(exponential_loss_backward(cache)))
    loss, _ = exponential_loss_forward(np.array([-1000.0]), np.array([1.0]))
    assert loss == np.inf  # e^1000 is not a float64; documented


# ---------------------------------------------------------------- bad input

def test_mse_refuses_to_broadcast_column_against_row(rng):
    with pytest.raises(ShapeError, match=r"mse_forward: target has shape \(4, 1\) but expected \(4,\) with the shape of pred"):
        mse_forward(rng.standard_normal(4), rng.standard_normal((4, 1)))


def test_three_dimensional_prediction_is_refused():
    with pytest.raises(ShapeError, match=r"binary_cross_entropy_with_logits_forward: logits has shape \(2, 2, 2\) \(3-D\) but expected \(N,\) or \(N, M\)"):
        binary_cross_entropy_with_logits_forward(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))


def test_empty_batch_is_refused():
    with pytest.raises(ValueError, match="empty batch"):
        mse_forward(np.zeros(0), np.zeros(0))
    with pytest.raises(ValueError, match="empty batch"):
        softmax_cross_entropy_forward(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_probabilities_outside_unit_interval_suggest_logits():
    with pytest.raises(ValueError, match=r"prob must lie in \[0, 1\], got values from -2 to 3; pass logits"):
        binary_cross_entropy_forward(np.array([-2.0, 3.0]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"target must lie in \[0, 1\]"):
        binary_cross_entropy_with_logits_forward(np.zeros(2), np.array([-1.0, 1.0]))


def test_exponential_loss_rejects_zero_one_targets():
    with pytest.raises(ValueError, match=r"target must be -1 or \+1, found \[0.0\]; for 0/1 labels pass 2 \* y - 1"):
        exponential_loss_forward(np.zeros(3), np.array([0.0, 1.0, 1.0]))


def test_softmax_cross_entropy_label_errors(rng):
    logits = rng.standard_normal((3, 4))
    with pytest.raises(ValueError, match="label 4 is out of range for K = 4 classes; labels must be in 0..3"):
        softmax_cross_entropy_forward(logits, np.array([1, 2, 4]))
    with pytest.raises(ValueError, match="label -1 is out of range"):
        softmax_cross_entropy_forward(logits, np.array([1, -1, 0]))
    with pytest.raises(TypeError, match="labels must be integer class indices in 0..K-1, got dtype float64"):
        softmax_cross_entropy_forward(logits, np.array([1.0, 2.0, 0.0]))
    with pytest.raises(TypeError, match="got dtype bool"):
        softmax_cross_entropy_forward(logits, np.array([True, False, True]))
    with pytest.raises(ShapeError, match=r"labels has shape \(3, 4\) but expected \(N,\) = \(3,\): labels are class indices, not one-hot"):
        softmax_cross_entropy_forward(logits, one_hot(np.array([0, 1, 2]), 4))
    with pytest.raises(ShapeError, match=r"labels has shape \(2,\) but expected \(N,\) = \(3,\) with N = logits.shape\[0\]"):
        softmax_cross_entropy_forward(logits, np.array([0, 1]))
    with pytest.raises(ShapeError, match=r"logits has shape \(4,\) \(1-D\) but expected \(N, K\).*logits\[None, :\]"):
        softmax_cross_entropy_forward(logits[0], np.array([1]))


def test_inputs_are_not_modified(rng):
    logits, labels = rng.standard_normal((3, 4)), np.array([0, 3, 1])
    prob, target = rng.uniform(0, 1, 5), rng.integers(0, 2, 5).astype(float)
    prob[0] = 0.0  # would be clipped, but only in a copy
    copies = [a.copy() for a in (logits, labels, prob, target)]
    softmax_cross_entropy_backward(softmax_cross_entropy_forward(logits, labels)[1])
    binary_cross_entropy_backward(binary_cross_entropy_forward(prob, target)[1])
    for original, copy in zip((logits, labels, prob, target), copies):
        np.testing.assert_array_equal(original, copy)
