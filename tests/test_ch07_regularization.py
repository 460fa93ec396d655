"""Chapter 07: L1 / L2 / elastic-net penalties, soft thresholding, weight decay and early stopping."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import ElasticNet, Lasso, Ridge

from dlcore.gradcheck import check_gradients
from dlcore.scratch.module import Parameter
from dlcore.scratch.optim import SGD
from dlcore.scratch.regularization import (EarlyStopping, add_penalty, elastic_net_penalty, fit_linear_regularized,
                                           l1_penalty, l2_penalty, soft_threshold)
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64


def _as_kernel(penalty, **kwargs):
    return (lambda w: (np.array(penalty(w, **kwargs)[0]), penalty(w, **kwargs)[1]),
            lambda dout, grad: (dout * grad,))


@pytest.mark.parametrize("penalty, kwargs", [(l2_penalty, dict(strength=0.3)), (l1_penalty, dict(strength=0.7)),
                                             (elastic_net_penalty, dict(strength=0.5, l1_ratio=0.3))])
def test_penalty_gradients_match_finite_differences(rng, penalty, kwargs):
    w = rng.standard_normal((4, 3))
    w[np.abs(w) < 0.05] = 0.5  # keep away from the kink of |w| at 0
    forward, backward = _as_kernel(penalty, **kwargs)
    check_gradients(forward, backward, {"w": w}, rng=rng).assert_ok()


def test_penalty_values(rng):
    w = np.array([[1.0, -2.0], [0.0, 3.0]])
    assert l2_penalty(w, 0.5)[0] == pytest.approx(0.5 * 0.5 * 14)
    assert l1_penalty(w, 0.5)[0] == pytest.approx(0.5 * 6)
    assert np.array_equal(l1_penalty(w, 1.0)[1], np.sign(w))  # subgradient 0 at w = 0
    value, grad = elastic_net_penalty(w, 2.0, 1.0)
    assert value == pytest.approx(l1_penalty(w, 2.0)[0]) and np.array_equal(grad, l1_penalty(w, 2.0)[1])
    value, grad = elastic_net_penalty(w, 2.0, 0.0)
    assert value == pytest.approx(l2_penalty(w, 2.0)[0]) and np.allclose(grad, l2_penalty(w, 2.0)[1])


def test_l1_subgradient_is_what_torch_autograd_gives(rng):
    w = np.array([-1.5, 0.0, 2.0, -0.1])
    tw = torch.tensor(w, requires_grad=True)
    (0.3 * tw.abs().sum()).backward()
    np.testing.assert_allclose(l1_penalty(w, 0.3)[1], tw.grad.numpy())


def test_soft_threshold_stops_at_zero():
    w = np.array([-3.0, -0.5, 0.0, 0.2, 1.0])
    np.testing.assert_array_equal(soft_threshold(w, 0.5), [-2.5, 0.0, 0.0, 0.0, 0.5])
    np.testing.assert_allclose(soft_threshold(w, 0.5), torch.nn.functional.softshrink(torch.tensor(w), 0.5).numpy())


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 12))
    X[:, 1] = X[:, 0] + 0.1 * rng.standard_normal(80)  # two strongly correlated features
    w = np.zeros(12)
    w[[0, 3, 7]] = [2.0, -1.5, 1.0]
    return X, X @ w + 0.5 * rng.standard_normal(80) + 3.0


@pytest.mark.parametrize("strength, l1_ratio", [(0.1, 1.0), (0.1, 0.5), (0.5, 0.0)])
def test_proximal_fit_matches_scikit_learn(regression, strength, l1_ratio):
    X, y = regression
    fit = fit_linear_regularized(X, y, strength, l1_ratio, num_steps=5000)
    if l1_ratio == 0.0:  # Ridge minimises ||y - Xw||^2 + alpha ||w||^2: alpha = N * lambda
        reference = Ridge(alpha=strength * len(X)).fit(X, y)
    elif l1_ratio == 1.0:
        reference = Lasso(alpha=strength, tol=1e-12, max_iter=100_000).fit(X, y)
    else:
        reference = ElasticNet(alpha=strength, l1_ratio=l1_ratio, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(fit.coef, reference.coef_, atol=1e-8)
    assert fit.intercept == pytest.approx(reference.intercept_, abs=1e-8)
    assert np.array_equal(fit.coef == 0, reference.coef_ == 0)  # the same exact zeros
    assert np.all(np.diff(fit.objective) <= 1e-12)  # proximal gradient never increases the objective


def test_l1_gives_exact_zeros_l2_only_shrinks(regression):
    X, y = regression
    lasso = fit_linear_regularized(X, y, 0.1, 1.0, num_steps=3000)
    ridge = fit_linear_regularized(X, y, 0.5, 0.0, num_steps=3000)
    subgradient = fit_linear_regularized(X, y, 0.1, 1.0, method="subgradient", num_steps=3000)
    assert np.sum(lasso.coef == 0) >= 6
    assert np.sum(ridge.coef == 0) == 0
    assert np.sum(subgradient.coef == 0) == 0  # the subgradient method jitters around 0, never on it


def test_sgd_weight_decay_is_the_l2_gradient_and_matches_torch(rng):
    value, grad = rng.standard_normal(5), rng.standard_normal(5)
    decayed, penalised = Parameter(value.copy(), "W"), Parameter(value.copy(), "W")
    optimizers = (SGD([decayed], lr=0.1, weight_decay=0.01), SGD([penalised], lr=0.1))
    tw = torch.tensor(value.copy(), requires_grad=True)
    torch_sgd = torch.optim.SGD([tw], lr=0.1, weight_decay=0.01)
    for _ in range(5):
        decayed.grad[...] = grad
        penalised.grad[...] = grad
        add_penalty([penalised], "l2", 0.01)
        tw.grad = torch.tensor(grad.copy())
        for optimizer in optimizers:
            optimizer.step()
        torch_sgd.step()
    np.testing.assert_allclose(decayed.value, penalised.value, rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
    np.testing.assert_allclose(decayed.value, tw.detach().numpy(), rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)


def test_add_penalty_touches_weights_only(rng):
    W, b = Parameter(rng.standard_normal((2, 3)), "W"), Parameter(rng.standard_normal(3), "b")
    total = add_penalty([W, b], "l1", 0.1)
    assert total == pytest.approx(0.1 * np.abs(W.value).sum())
    assert np.array_equal(b.grad, np.zeros(3)) and np.allclose(W.grad, 0.1 * np.sign(W.value))
    with pytest.raises(ValueError, match="kind must be 'l1', 'l2' or 'elastic_net'"):
        add_penalty([W], "l3", 0.1)


def test_early_stopping_patience_best_state_and_min_delta():
    stopper = EarlyStopping(patience=2)
    decisions = [stopper.step(v, state=f"weights after {i}") for i, v in enumerate([1.0, 0.8, 0.9, 0.85])]
    assert decisions == [False, False, False, True]  # two checks in a row without improvement
    assert stopper.stopped and stopper.best == 0.8 and stopper.best_check == 1
    assert stopper.best_state == "weights after 1"
    strict = EarlyStopping(patience=1, min_delta=0.1)
    assert strict.step(1.0) is False and strict.step(0.95) is True  # 0.05 better is not better enough
    nan = EarlyStopping(patience=1)
    assert nan.step(float("nan")) is True and nan.best_state is None


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="patience must be a positive int"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match=r"l1_ratio must be a finite number in \[0, 1\]"):
        elastic_net_penalty(np.ones(2), 0.1, 1.5)
    with pytest.raises(ValueError, match="strength must be a finite number >= 0"):
        l2_penalty(np.ones(2), -1.0)
    with pytest.raises(ValueError, match="method must be 'proximal' or 'subgradient'"):
        fit_linear_regularized(np.ones((3, 2)), np.ones(3), 0.1, 1.0, method="coordinate")
