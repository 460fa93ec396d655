"""dlcore.scratch.descent and chapter 04's landscapes (dlcore.scratch.surfaces): mini-batches, the two models'
gradients, the descent loop, the 1-D curves and the regression surface."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.errors import ShapeError
from dlcore.gradcheck import check_gradients
from dlcore.scratch.descent import (
    gradient_descent,
    gradient_descent_path,
    least_squares,
    linear_regression_hessian,
    linear_regression_loss,
    logistic_regression_loss,
    minibatch_indices,
)
from dlcore.scratch.surfaces import double_well_1d, linear_regression_surface, quadratic_1d
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

TOL = dict(rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)


def _regression(rng, N=30, D=2):
    X = rng.uniform(-1, 2, (N, D))
    y = X @ np.arange(1.0, D + 1) - 0.5 + 0.3 * rng.standard_normal(N)
    return X, y


# ---------------------------------------------------------------- mini-batches

@pytest.mark.parametrize("N, batch_size", [(10, 3), (10, 1), (10, 10), (7, 7), (1, 1), (9, 4)])
def test_each_epoch_uses_every_example_exactly_once(rng, N, batch_size):
    batches = minibatch_indices(N, batch_size, rng)
    assert np.array_equal(np.sort(np.concatenate(batches)), np.arange(N))
    assert [len(b) for b in batches[:-1]] == [batch_size] * (len(batches) - 1)
    assert len(batches) == -(-N // batch_size)
    assert 1 <= len(batches[-1]) <= batch_size


def test_drop_last_removes_only_a_short_final_batch(rng):
    assert [len(b) for b in minibatch_indices(10, 4, rng, drop_last=True)] == [4, 4]
    assert [len(b) for b in minibatch_indices(8, 4, rng, drop_last=True)] == [4, 4]


def test_order_is_reshuffled_between_epochs_and_reproducible_from_the_seed():
    rng = np.random.default_rng(0)
    first, second = minibatch_indices(20, 5, rng), minibatch_indices(20, 5, rng)
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))
    again = minibatch_indices(20, 5, np.random.default_rng(0))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_minibatch_errors():
    with pytest.raises(ValueError, match="batch_size 11 exceeds the 10 examples"):
        minibatch_indices(10, 11, np.random.default_rng(0))
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        minibatch_indices(10, 0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        minibatch_indices(10, 2, 0)


# ---------------------------------------------------------------- model gradients

@pytest.mark.parametrize("which", ["linear", "logistic"])
@pytest.mark.parametrize("N, D", [(1, 1), (6, 3)])
def test_model_gradients_match_torch_and_finite_differences(rng, which, N, D):
    X = rng.standard_normal((N, D))
    y = rng.standard_normal(N) if which == "linear" else rng.integers(0, 2, N).astype(float)
    theta = rng.standard_normal(D + 1)
    function = linear_regression_loss if which == "linear" else logistic_regression_loss
    loss, grad = function(theta, X, y)

    t = torch.tensor(theta, requires_grad=True)
    out = torch.tensor(X) @ t[:-1] + t[-1]
    if which == "linear":
        tloss = torch.nn.functional.mse_loss(out, torch.tensor(y))
    else:
        tloss = torch.nn.functional.binary_cross_entropy_with_logits(out, torch.tensor(y))
    tloss.backward()
    assert grad.shape == theta.shape
    np.testing.assert_allclose(loss, tloss.item(), **TOL)
    np.testing.assert_allclose(grad, t.grad.numpy(), **TOL)
    # (loss, grad) reads as (out, cache): the backward pass scales the gradient by the upstream dloss.
    check_gradients(lambda theta: function(theta, X, y), lambda dloss, grad: (float(dloss) * grad,),
                    {"theta": theta}, rng=rng).assert_ok()


def test_model_shape_errors_name_the_argument(rng):
    X, y = _regression(rng, N=5, D=2)
    with pytest.raises(ShapeError, match=r"theta has shape \(2,\) but expected \(D \+ 1,\) = \(3,\) with D = X.shape\[1\] = 2"):
        linear_regression_loss(np.zeros(2), X, y)
    with pytest.raises(ShapeError, match=r"y has shape \(4,\) but expected \(N,\) = \(5,\)"):
        linear_regression_loss(np.zeros(3), X, y[:4])
    with pytest.raises(ShapeError, match=r"X has shape \(5,\) \(1-D\) but expected a 2-D array .*x\[:, None\]"):
        logistic_regression_loss(np.zeros(2), X[:, 0], y)


# ---------------------------------------------------------------- the descent loop

def test_batch_gradient_descent_reaches_least_squares_and_is_deterministic(rng):
    X, y = _regression(rng)
    L = np.linalg.eigvalsh(linear_regression_hessian(X))[-1]
    history = gradient_descent("linear", X, y, np.zeros(3), learning_rate=1.0 / L, num_epochs=3000)
    assert history.num_steps == 3000 and not history.diverged
    np.testing.assert_allclose(history.params[-1], least_squares(X, y), atol=1e-6)
    assert np.all(np.diff(history.losses) <= 1e-12)  # below 2/L the full-batch loss never rises
    again = gradient_descent("linear", X, y, np.zeros(3), learning_rate=1.0 / L, num_epochs=3000)
    np.testing.assert_array_equal(history.params, again.params)


@pytest.mark.parametrize("batch_size, steps_per_epoch", [(1, 30), (7, 5), (30, 1)])
def test_steps_per_epoch_follow_the_batch_size(rng, batch_size, steps_per_epoch):
    X, y = _regression(rng)
    history = gradient_descent("linear", X, y, np.zeros(3), learning_rate=0.01, num_epochs=4,
                               batch_size=batch_size, rng=rng)
    assert history.num_steps == 4 * steps_per_epoch
    assert history.params.shape == (4 * steps_per_epoch + 1, 3) and history.losses.shape == (4 * steps_per_epoch + 1,)
    assert np.array_equal(np.bincount(history.epochs), [steps_per_epoch] * 4)


def test_one_sgd_step_uses_the_gradient_of_one_example(rng):
    X, y = _regression(rng, N=5)
    theta0 = rng.standard_normal(3)
    history = gradient_descent("linear", X, y, theta0, learning_rate=0.1, num_epochs=1, batch_size=1,
                               rng=np.random.default_rng(7))
    first = minibatch_indices(5, 1, np.random.default_rng(7))[0]
    expected = theta0 - 0.1 * linear_regression_loss(theta0, X[first], y[first])[1]
    np.testing.assert_allclose(history.params[1], expected, **TOL)
    np.testing.assert_allclose(history.batch_losses[0], linear_regression_loss(theta0, X[first], y[first])[0], **TOL)


def test_sgd_gets_close_but_keeps_jittering(rng):
    X, y = _regression(rng, N=40)
    best = least_squares(X, y)
    best_loss = linear_regression_loss(best, X, y)[0]
    history = gradient_descent("linear", X, y, np.zeros(3), learning_rate=0.05, num_epochs=60, batch_size=1, rng=rng)
    tail = history.losses[-200:]
    assert tail.max() < best_loss + 0.2  # close ...
    assert tail.min() > best_loss + 1e-8  # ... but never exactly there with a constant step
    assert np.std(np.diff(tail)) > 1e-6


def test_learning_rate_above_two_over_l_diverges_and_below_converges(rng):
    X, y = _regression(rng)
    L = np.linalg.eigvalsh(linear_regression_hessian(X))[-1]
    above = gradient_descent("linear", X, y, np.zeros(3), learning_rate=2.1 / L, num_epochs=2000)
    below = gradient_descent("linear", X, y, np.zeros(3), learning_rate=1.9 / L, num_epochs=2000)
    assert above.diverged and above.num_steps < 2000
    assert np.all(np.isfinite(above.params)) and np.all(np.isfinite(above.losses))
    assert not below.diverged and below.losses[-1] < below.losses[0]


def test_logistic_regression_loss_falls(rng):
    X = rng.standard_normal((50, 2))
    y = (X[:, 0] - X[:, 1] > 0).astype(float)
    history = gradient_descent("logistic", X, y, np.zeros(3), learning_rate=0.5, num_epochs=20, batch_size=10, rng=rng)
    assert history.losses[-1] < 0.5 * history.losses[0]


def test_descent_input_is_not_modified_and_errors_are_clear(rng):
    X, y = _regression(rng, N=6)
    theta0 = np.ones(3)
    gradient_descent("linear", X, y, theta0, learning_rate=0.1, num_epochs=2)
    np.testing.assert_array_equal(theta0, np.ones(3))
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        gradient_descent("linear", X, y, theta0, learning_rate=0.1, num_epochs=1, batch_size=2)
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        gradient_descent("linear", X, y, theta0, learning_rate=-0.1, num_epochs=1)
    with pytest.raises(ValueError, match="model must be one of \\['linear', 'logistic'\\]"):
        gradient_descent("ridge", X, y, theta0, learning_rate=0.1, num_epochs=1)


# ---------------------------------------------------------------- paths, curves and the surface

def test_quadratic_path_is_a_geometric_sequence():
    curve = quadratic_1d(curvature=4.0, center=1.0)
    for lr in (0.1, 0.4, 0.6):
        points, diverged = gradient_descent_path(curve.derivative, [3.0], learning_rate=lr, num_steps=20)
        expected = 1.0 + 2.0 * (1 - lr * 4.0) ** np.arange(21)
        np.testing.assert_allclose(points[:, 0], expected, rtol=1e-12)
        assert not diverged
    points, diverged = gradient_descent_path(curve.derivative, [3.0], learning_rate=0.6, num_steps=500, bound=1e6)
    assert diverged and np.abs(points).max() <= 1e6


def test_double_well_local_and_global_minimum():
    curve = double_well_1d()
    global_min, local_min = curve.minima
    assert curve.value(np.array(global_min)) < curve.value(np.array(local_min))
    np.testing.assert_allclose(curve.derivative(np.array(curve.minima)), 0.0, atol=1e-9)
    right, _ = gradient_descent_path(curve.derivative, [2.0], learning_rate=0.01, num_steps=2000)
    left, _ = gradient_descent_path(curve.derivative, [-0.5], learning_rate=0.01, num_steps=2000)
    assert abs(right[-1, 0] - local_min) < 1e-6 and abs(left[-1, 0] - global_min) < 1e-6


def test_noise_needs_a_generator_and_perturbs_the_path():
    curve = quadratic_1d()
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        gradient_descent_path(curve.derivative, [1.0], learning_rate=0.1, num_steps=5, noise=1.0)
    clean, _ = gradient_descent_path(curve.derivative, [1.0], learning_rate=0.1, num_steps=5)
    noisy, _ = gradient_descent_path(curve.derivative, [1.0], learning_rate=0.1, num_steps=5, noise=1.0,
                                     rng=np.random.default_rng(0))
    assert not np.allclose(clean, noisy)


def test_path_refuses_a_wrongly_shaped_gradient():
    with pytest.raises(ShapeError, match="gradient returned shape \\(1,\\) for a point of shape \\(2,\\)"):
        gradient_descent_path(lambda p: p[:1], [1.0, 2.0], learning_rate=0.1, num_steps=1)


def test_regression_surface_agrees_with_the_model(rng):
    x = rng.uniform(-1, 3, 25)
    y = 1.5 * x - 0.5 + 0.5 * rng.standard_normal(25)
    surface = linear_regression_surface(x, y)
    for w, b in rng.standard_normal((5, 2)) * 2:
        loss, grad = linear_regression_loss(np.array([w, b]), x[:, None], y)
        np.testing.assert_allclose(surface.value_at([w, b]), loss, rtol=1e-10)
        np.testing.assert_allclose(surface.gradient_at([w, b]), grad, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(surface.minima[0], least_squares(x[:, None], y), rtol=1e-10)
    hessian = linear_regression_hessian(x[:, None])
    numeric = np.array([(surface.gradient_at(e * 1e-4) - surface.gradient_at(-e * 1e-4)) / 2e-4 for e in np.eye(2)])
    np.testing.assert_allclose(hessian, numeric, rtol=1e-8)
