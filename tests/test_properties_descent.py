"""Properties of chapter 04's gradient-descent toolkit: losses and gradients against autograd, descent against
its closed forms, every example once per epoch, the descent explorer's surfaces and verdicts, bad arguments named."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlcore.scratch import descent as D
from dlcore.scratch import descent_problems as DP
from dlcore.scratch import surfaces as SF
from dlcore.scratch.losses import mse_loss, softmax_cross_entropy
from tests.property_kit import check_mutations, close, covers, floats, rejects, torch_of

covers(
    D.linear_regression_loss, D.logistic_regression_loss, D.sigmoid_mse_loss, D.least_squares,
    D.linear_regression_hessian, SF.linear_regression_surface, D.minibatch_indices, D.gradient_descent,
    D.gradient_descent_path, SF.quadratic_1d, SF.double_well_1d, D.train_softmax_regression,
    DP.regression_data, DP.descent_problems, DP.linear_model_loss, DP.descent_verdict,
)

LOSSES = {
    "linear": (D.linear_regression_loss, lambda z, y: ((z - y) ** 2).mean()),
    "logistic": (D.logistic_regression_loss, lambda z, y: F.binary_cross_entropy_with_logits(z, y)),
    "sigmoid_mse": (D.sigmoid_mse_loss, lambda z, y: ((torch.sigmoid(z) - y) ** 2).mean()),
}


@pytest.mark.parametrize("name", LOSSES)
@given(N=st.integers(1, 8), D_=st.integers(1, 4), data=st.data())
def test_losses_and_gradients_equal_autograd(name, N, D_, data):
    X, theta = data.draw(floats((N, D_))), data.draw(floats((D_ + 1,)))
    y = data.draw(hnp.arrays(np.float64, (N,), elements=st.sampled_from([0.0, 1.0])))
    ours, reference = LOSSES[name]
    theta_t = torch_of(theta, True)
    loss_t = reference(torch_of(X) @ theta_t[:-1] + theta_t[-1], torch_of(y))
    loss_t.backward()
    loss, grad = ours(theta, X, y)
    close(loss, loss_t)
    close(grad, theta_t.grad, atol=1e-12)


@given(N=st.integers(4, 12), D_=st.integers(1, 3), seed=st.integers(0, 1000))
def test_least_squares_zeroes_the_gradient_and_the_hessian_is_constant(N, D_, seed):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(N, D_)), rng.normal(size=N)
    theta = D.least_squares(X, y)
    close(D.linear_regression_loss(theta, X, y)[1], np.zeros(D_ + 1), atol=1e-9)
    H = D.linear_regression_hessian(X)
    step = rng.normal(size=D_ + 1)
    # a quadratic: the gradient changes by exactly H times the step
    change = D.linear_regression_loss(theta + step, X, y)[1] - D.linear_regression_loss(theta, X, y)[1]
    close(change, H @ step, atol=1e-9)


@given(x=floats((6,)), y=floats((6,)), w=st.floats(-3, 3), b=st.floats(-3, 3))
def test_the_surface_is_the_mse_of_the_one_feature_model(x, y, w, b):
    surface = SF.linear_regression_surface(x, y)
    expected, grad = D.linear_regression_loss(np.array([w, b]), x[:, None], y)
    close(surface.value_fn(np.array(w), np.array(b)), expected, atol=1e-9)
    close(np.array(surface.gradient_fn(np.array(w), np.array(b))).ravel(), grad, atol=1e-9)


@given(N=st.integers(1, 30), data=st.data(), seed=st.integers(0, 1000), drop_last=st.booleans())
def test_minibatches_visit_every_example_once(N, data, seed, drop_last):
    B = data.draw(st.integers(1, N))
    batches = D.minibatch_indices(N, B, np.random.default_rng(seed), drop_last)
    seen = np.concatenate(batches) if batches else np.array([], int)
    assert len(set(seen.tolist())) == len(seen)
    assert len(seen) == (N // B) * B if drop_last else sorted(seen.tolist()) == list(range(N))
    assert all(len(batch) == B for batch in batches[:-1])


@given(curvature=st.floats(0.1, 5), center=st.floats(-2, 2), lr_factor=st.floats(0.05, 2.5), start=st.floats(-3, 3))
def test_descent_on_a_quadratic_follows_its_closed_form(curvature, center, lr_factor, start):
    curve = SF.quadratic_1d(curvature, center)
    lr = lr_factor / curvature
    path, diverged = D.gradient_descent_path(curve.derivative, [start], learning_rate=lr, num_steps=12)
    expected = center + (start - center) * (1 - lr * curvature) ** np.arange(len(path))
    close(path[:, 0], expected, rtol=1e-9, atol=1e-9)
    assert not diverged


def test_double_well_has_its_stated_critical_points():
    curve = SF.double_well_1d()
    for root in (-1.30, 0.17, 1.13):
        assert abs(curve.derivative(np.array(root))) < 0.05
    assert curve.value(np.array(-1.30)) < curve.value(np.array(1.13))


@given(seed=st.integers(0, 1000), batch_size=st.sampled_from([None, 1, 4]))
def test_gradient_descent_steps_equal_a_hand_written_loop(seed, batch_size):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(10, 2)), rng.normal(size=10)
    theta0 = rng.normal(size=3)
    history = D.gradient_descent("linear", X, y, theta0, learning_rate=0.05, num_epochs=3, batch_size=batch_size,
                                 rng=np.random.default_rng(seed))
    order_rng, theta = np.random.default_rng(seed), theta0.copy()
    for _ in range(3):
        for batch in D.minibatch_indices(10, batch_size or 10, order_rng):
            theta = theta - 0.05 * D.linear_regression_loss(theta, X[batch], y[batch])[1]
    close(history.params[-1], theta)


@given(seed=st.integers(0, 1000))
def test_softmax_regression_loop_equals_torch_sgd_with_weight_decay(seed):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(12, 3)), rng.integers(0, 4, 12)
    W, b, losses = D.train_softmax_regression(X, y, np.zeros((3, 4)), np.zeros(4), softmax_cross_entropy,
                                              learning_rate=0.3, num_epochs=2, batch_size=5, seed=seed,
                                              weight_decay=0.01)
    W_t, b_t = torch.zeros(3, 4, dtype=torch.float64, requires_grad=True), torch.zeros(4, dtype=torch.float64,
                                                                                       requires_grad=True)
    order_rng = np.random.default_rng(seed)
    for _ in range(2):
        for batch in D.minibatch_indices(12, 5, order_rng):
            loss = F.cross_entropy(torch_of(X[batch]) @ W_t + b_t, torch.from_numpy(y[batch])) \
                + 0.005 * (W_t ** 2).sum()
            W_t.grad = b_t.grad = None
            loss.backward()
            with torch.no_grad():
                W_t -= 0.3 * W_t.grad
                b_t -= 0.3 * b_t.grad
    close(W, W_t)
    close(b, b_t)
    assert losses.shape == (6,)


def test_bad_arguments_are_named():
    X, y = np.ones((6, 2)), np.zeros(6)
    check_mutations(D.linear_regression_loss, dict(theta=np.ones(3), X=X, y=y),
                    accepts={"theta": ("NaN",), "X": ("NaN",), "y": ("NaN",)})
    check_mutations(D.minibatch_indices, dict(num_examples=10, batch_size=3, rng=np.random.default_rng(0)))
    check_mutations(lambda learning_rate=0.1, num_epochs=2, batch_size=2: D.gradient_descent(
        "linear", X, y, np.zeros(3), learning_rate=learning_rate, num_epochs=num_epochs, batch_size=batch_size,
        rng=np.random.default_rng(0)), dict(learning_rate=0.1, num_epochs=2, batch_size=2))
    rejects(lambda: D.gradient_descent("quadratic", X, y, np.zeros(3), learning_rate=0.1, num_epochs=1), "model")
    rejects(lambda: D.gradient_descent("linear", X, y, np.zeros(3), learning_rate=0.1, num_epochs=1, batch_size=2),
            "rng")
    rejects(lambda: D.gradient_descent_path(lambda p: p, [1.0], learning_rate=0.1, num_steps=3, noise=0.5), "rng")
    rejects(lambda: D.least_squares(np.ones(3), np.ones(3)), "X")
    rejects(lambda: D.train_softmax_regression(X, np.zeros(6, int), np.zeros((3, 2)), np.zeros(2),
                                               softmax_cross_entropy, 0.1, 1, 2, seed=0), "W")


# ---------------------------------------------------------------- the descent explorer's surfaces and verdicts

@given(seed=st.integers(0, 1000))
def test_regression_data_is_the_stated_line_plus_noise(seed):
    x, y = DP.regression_data(seed)
    assert x.shape == y.shape == (DP.NUM_EXAMPLES,)
    assert np.all(np.diff(x) >= 0) and -1.0 <= x.min() and x.max() <= 3.0
    w, b = D.least_squares(x[:, None], y)
    # slope and intercept of y = 1.5 x - 0.5, sigma 0.5, N = 40: standard errors about 0.07 and 0.13
    assert abs(w - 1.5) < 0.5 and abs(b + 0.5) < 0.8
    assert 0.1 < np.std(y - (1.5 * x - 0.5)) < 1.0
    for again, first in zip(DP.regression_data(seed), (x, y)):
        np.testing.assert_array_equal(again, first)


def _point_in(problem: DP.DescentProblem, u: np.ndarray) -> np.ndarray:
    """u in [0, 1]^dims mapped into the problem's window."""
    limits = [problem.xlim] + ([problem.ylim] if problem.dims == 2 else [])
    return np.array([lo + (hi - lo) * t for (lo, hi), t in zip(limits, u)])


@given(seed=st.integers(0, 1000), u=floats((2,), 0.0, 1.0))
def test_each_problems_gradient_is_its_values_derivative(seed, u):
    x, y = DP.regression_data(seed)
    problems = DP.descent_problems(x, y)
    assert tuple(problems) == DP.SURFACE_CHOICES
    h = 1e-5
    for problem in problems.values():
        point = _point_in(problem, u[:problem.dims])
        numeric = np.array([(problem.value(*(point + h * e)) - problem.value(*(point - h * e))) / (2 * h)
                            for e in np.eye(problem.dims)])  # central differences
        close(np.asarray(problem.gradient(point), dtype=float).reshape(problem.dims), numeric, rtol=1e-6, atol=1e-6)
        assert np.asarray(problem.value(*np.array(problem.start))).shape == ()


@given(seed=st.integers(0, 1000))
def test_each_problems_minima_are_stationary_and_its_curvature_is_the_hessians_largest_eigenvalue(seed):
    x, y = DP.regression_data(seed)
    for problem in DP.descent_problems(x, y).values():
        for minimum in problem.minima:
            close(np.asarray(problem.gradient(np.array(minimum)), dtype=float).reshape(problem.dims),
                  np.zeros(problem.dims), atol=1e-9)
        if problem.minima:
            assert problem.value(*np.array(problem.minima[0])) == pytest.approx(problem.minimum_value, abs=1e-12)
            assert all(problem.value(*np.array(m)) >= problem.minimum_value - 1e-12 for m in problem.minima)
        if problem.curvature is not None:  # a quadratic: its gradient is linear, its Hessian constant
            start = np.array(problem.start, dtype=float)
            hessian = np.array([np.asarray(problem.gradient(start + e), dtype=float).reshape(problem.dims)
                                - np.asarray(problem.gradient(start), dtype=float).reshape(problem.dims)
                                for e in np.eye(problem.dims)])
            assert np.linalg.eigvalsh((hessian + hessian.T) / 2)[-1] == pytest.approx(problem.curvature, rel=1e-9)


@given(N=st.integers(1, 8), D_=st.integers(1, 3), data=st.data())
def test_the_linear_model_under_an_mse_function_equals_autograd(N, D_, data):
    X, y, theta = data.draw(floats((N, D_))), data.draw(floats((N,))), data.draw(floats((D_ + 1,)))
    theta_t = torch_of(theta, True)
    loss_t = ((torch_of(X) @ theta_t[:-1] + theta_t[-1] - torch_of(y)) ** 2).mean()
    loss_t.backward()
    loss, grad = DP.linear_model_loss(mse_loss)(theta, X, y)
    close(loss, loss_t)
    close(grad, theta_t.grad, atol=1e-10)
    # the function it is given decides: half the loss, half the gradient
    half = DP.linear_model_loss(lambda pred, target: tuple(0.5 * v for v in mse_loss(pred, target)))
    close(half(theta, X, y)[1], 0.5 * theta_t.grad.numpy(), atol=1e-10)


def _quadratic_run(lr_factor: float, num_steps: int) -> tuple[DP.DescentProblem, np.ndarray, np.ndarray, bool]:
    problem = DP.descent_problems(*DP.regression_data(0))["quadratic (1-D)"]
    points, diverged = D.gradient_descent_path(problem.gradient, problem.start,
                                               learning_rate=lr_factor / problem.curvature, num_steps=num_steps)
    return problem, points, np.array([problem.value(*p) for p in points]), diverged


@given(lr_factor=st.floats(0.2, 0.9), noisy=st.booleans())
def test_the_verdict_on_a_stable_run_is_convergence(lr_factor, noisy):
    problem, points, losses, diverged = _quadratic_run(lr_factor, 200)
    verdict = DP.descent_verdict(problem, points, losses, diverged, stochastic=noisy)
    assert verdict == ("hovering around" if noisy else "converged to") + " the global minimum"


@given(lr_factor=st.floats(2.1, 4.0))
def test_the_verdict_beyond_two_over_L_is_divergence(lr_factor):
    problem, points, losses, diverged = _quadratic_run(lr_factor, 60)
    assert DP.descent_verdict(problem, points, losses, diverged, stochastic=False) == "diverged"


@given(lr_factor=st.floats(1.8, 1.95), num_steps=st.integers(4, 10))
def test_the_verdict_between_one_and_two_over_L_before_settling_is_oscillation(lr_factor, num_steps):
    problem, points, losses, diverged = _quadratic_run(lr_factor, num_steps)  # each step flips the sign of x
    assert DP.descent_verdict(problem, points, losses, diverged, stochastic=False) == "oscillating"


def test_the_verdict_names_a_local_minimum_a_saddle_and_a_runaway():
    problems = DP.descent_problems(*DP.regression_data(0))
    well = problems["double well (1-D)"]
    points, diverged = D.gradient_descent_path(well.gradient, [1.5], learning_rate=0.02, num_steps=400)
    losses = np.array([well.value(*p) for p in points])
    verdict = DP.descent_verdict(well, points, losses, diverged, False)
    assert verdict == "converged to a local minimum (not the global one)"
    assert DP.descent_verdict(well, points[:2], losses[:2], False, False) == "still moving"  # one step says nothing
    saddle = problems["saddle (2-D)"]
    for start, expected in (((1.0, 0.0), "stalled at a stationary point that is no minimum (a saddle)"),
                            ((1.0, 0.1), "ran away downhill: this surface has no minimum")):
        points, diverged = D.gradient_descent_path(saddle.gradient, start, learning_rate=0.1, num_steps=200)
        losses = np.array([saddle.value(*p) for p in points])
        assert DP.descent_verdict(saddle, points, losses, diverged, False) == expected


def test_descent_problem_bad_arguments_are_named():
    x, y = DP.regression_data(0)
    check_mutations(DP.descent_problems, dict(x_data=x, y_data=y))
    check_mutations(DP.regression_data, dict(seed=3), accepts={"seed": ("zero",)})
    rejects(lambda: DP.linear_model_loss("mse"), "mse_loss")
