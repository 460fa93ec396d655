"""Properties of the perceptron, polynomial fitting and its capacity, ReLU approximation, the Jordan network and
the naive convolution: reference formulas, PyTorch where it has a counterpart, and every argument's bad values named."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from dlcore.data.synthetic import make_noisy_function
from dlcore.scratch import approximation as Ap
from dlcore.scratch import capacity as Ca
from dlcore.scratch import conv_naive as C
from dlcore.scratch import jordan as J
from dlcore.scratch import perceptron as P
from dlcore.scratch import polynomial as Po
from tests.property_kit import check_mutations, close, conv_case, covers, floats, rejects, torch_conv2d, torch_of

covers(
    P.as_binary_labels, P.perceptron_predict, P.perceptron_update, P.perceptron_train, P.novikoff_bound,
    P.make_separable, P.make_gate, P.xor_step_weights, P.xor_relu_weights, P.relu_interpolation_weights,
    Po.scale_to_unit_interval, Po.polynomial_features, Po.fit_polynomial, Po.predict_polynomial,
    Po.mean_squared_error, Po.ridge_objective_forward, Po.ridge_objective_backward, Po.ridge_objective_gradient,
    Po.bias_variance_from_predictions, Po.estimate_bias_variance, Po.fold_indices, Po.cross_validate,
    Po.fit_coefficients, Ca.true_function, Ca.classify_fit, Ca.fits_of_every_degree,
    Ap.interpolating_network, Ap.network_output, Ap.approximating_network,
    J.jordan_forward, C.conv2d_naive_forward, C.conv2d_naive_backward,
)

RNG = np.random.default_rng(0)
X6 = RNG.normal(size=(6, 2))
Y6 = np.array([0, 1, 0, 1, 1, 0])
NAN = ("NaN",)  # NaN propagates through arithmetic, as in PyTorch; fitting and searching refuse it


# ---------------------------------------------------------------- the perceptron

@given(X=floats((5, 3)), w=floats((3,)), b=st.floats(-2, 2))
def test_perceptron_predict_is_the_step_of_the_affine_map(X, w, b):
    close(P.perceptron_predict(X, w, b), (X @ w + b > 0).astype(int))
    close(P.perceptron_predict(X, w, b, signed=True), np.where(X @ w + b > 0, 1, -1))


@given(x=floats((3,)), w=floats((3,)), b=st.floats(-2, 2), label=st.sampled_from([0, 1]), lr=st.floats(0.1, 2))
def test_perceptron_update_moves_only_on_a_mistake(x, w, b, label, lr):
    predicted = int(x @ w + b > 0)
    new_w, new_b = P.perceptron_update(x, label, w, b, lr)
    close(new_w, w + lr * (label - predicted) * x)
    assert new_b == pytest.approx(b + lr * (label - predicted))


@given(seed=st.integers(0, 500), margin=st.floats(0.05, 0.3))
def test_perceptron_separates_separable_data_within_novikoffs_bound(seed, margin):
    rng = np.random.default_rng(seed)
    w_true, b_true = np.array([1.0, -0.5]), 0.1
    X, y = P.make_separable(40, margin, rng=rng, w=w_true, b=b_true)
    R, gamma, bound = P.novikoff_bound(X, y, w_true, b_true)
    history = P.perceptron_train(X, y, max_epochs=10_000, rng=rng)
    assert history.converged and history.total_updates <= bound
    close(P.perceptron_predict(X, history.w, history.b), y)
    assert gamma > 0 and R >= np.linalg.norm(np.c_[X, np.ones(len(X))], axis=1).max() - 1e-12


@pytest.mark.parametrize("gate, table", [("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1]), ("NAND", [1, 1, 1, 0]),
                                         ("XOR", [0, 1, 1, 0])])
def test_gates_and_the_hand_made_xor_networks(gate, table):
    X, y = P.make_gate(gate)
    close(y, table)
    close(P.as_binary_labels("test", 2 * y - 1), y)
    W1, b1, W2, b2 = P.xor_step_weights()
    assert np.all(((((X @ W1 + b1) > 0) @ W2 + b2).ravel() > 0) == [0, 1, 1, 0])
    W1, b1, W2, b2 = P.xor_relu_weights()
    close((np.maximum(X @ W1 + b1, 0) @ W2 + b2).ravel(), [0, 1, 1, 0])


@given(values=floats((5,)), gaps=floats((4,), 0.1, 2.0), x=floats((20,), -3, 8))
def test_relu_interpolation_passes_through_every_knot(values, gaps, x):
    knots = np.concatenate([[0.0], np.cumsum(gaps)])
    weights = P.relu_interpolation_weights(knots, values)
    close(Ap.network_output(knots[:, None], *weights).ravel(), values, atol=1e-9)
    inside = x[(x >= knots[0]) & (x <= knots[-1])]
    close(Ap.network_output(inside[:, None], *weights).ravel(), np.interp(inside, knots, values), atol=1e-9)


def test_perceptron_bad_arguments_are_named():
    assert check_mutations(P.perceptron_predict, dict(X=X6, w=np.ones(2), b=0.5), accepts={"X": NAN, "w": NAN})
    check_mutations(P.perceptron_update, dict(x=np.ones(2), y=1, w=np.ones(2), b=0.5, learning_rate=1.0),
                    accepts={"x": NAN, "w": NAN, "y": ("zero", "negative")})
    check_mutations(P.perceptron_train, dict(X=X6, y=Y6, learning_rate=1.0, max_epochs=5), accepts={"X": NAN})
    rejects(lambda: P.make_gate("IMPLIES"), "gate")
    rejects(lambda: P.as_binary_labels("f", np.array([0, 2])), "y")
    rejects(lambda: P.relu_interpolation_weights(np.array([0.0, 0.0, 1.0]), np.zeros(3)), "knots")
    rejects(lambda: P.novikoff_bound(X6, Y6, np.ones(2), 0.0), "w")
    rejects(lambda: P.make_separable(10, -0.1, rng=np.random.default_rng(0)), "margin")


# ---------------------------------------------------------------- polynomials

@given(t=floats((7,), -1, 1), degree=st.integers(0, 6))
def test_polynomial_features_are_the_vandermonde_matrix(t, degree):
    close(Po.polynomial_features(t, degree), np.vander(t, degree + 1, increasing=True))


@given(seed=st.integers(0, 300), degree=st.integers(0, 5), l2=st.sampled_from([0.0, 1e-3, 0.1]))
def test_fit_minimises_the_ridge_objective(seed, degree, l2):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 1, 15))
    y = np.sin(4 * x) + 0.1 * rng.normal(size=15)
    fit = Po.fit_polynomial(x, y, degree, l2)
    close(Po.fit_coefficients(x, y, degree, l2), fit.coef)
    phi = Po.polynomial_features(Po.scale_to_unit_interval(x), degree)
    close(Po.ridge_objective_gradient(fit.coef, phi, y, l2), np.zeros(degree + 1), atol=1e-8)  # a stationary point
    close(Po.predict_polynomial(fit, x), phi @ fit.coef)


@given(w=floats((4,)), phi=floats((6, 4)), y=floats((6,)), l2=st.floats(0, 1), dout=st.floats(-2, 2))
def test_ridge_objective_and_its_gradient_equal_autograd(w, phi, y, l2, dout):
    w_t = torch_of(w, True)
    objective = ((torch_of(phi) @ w_t - torch_of(y)) ** 2).mean() + l2 * (w_t[1:] ** 2).sum()
    gradient, = torch.autograd.grad(objective, w_t)
    value, cache = Po.ridge_objective_forward(w, phi, y, l2)
    close(value, objective)
    close(Po.ridge_objective_backward(dout, cache), dout * gradient, atol=1e-10)
    close(Po.ridge_objective_gradient(w, phi, y, l2), gradient, atol=1e-10)


@given(predictions=floats((5, 4)), truth=floats((4,)))
def test_bias_squared_plus_variance_is_the_mean_squared_distance(predictions, truth):
    bias2, variance = Po.bias_variance_from_predictions(predictions, truth)
    assert bias2 + variance == pytest.approx(np.mean((predictions - truth) ** 2), abs=1e-10)
    assert Po.mean_squared_error(predictions[0], truth) == pytest.approx(np.mean((predictions[0] - truth) ** 2))


@given(n=st.integers(2, 40), data=st.data())
def test_folds_partition_the_examples(n, data):
    k = data.draw(st.integers(2, n))
    folds = Po.fold_indices(n, k)
    assert len(folds) == k and sorted(np.concatenate(folds).tolist()) == list(range(n))


@given(low=st.floats(-5, 5), width=st.floats(0.1, 10))
def test_scaling_maps_the_interval_onto_minus_one_one(low, width):
    close(Po.scale_to_unit_interval(np.array([low, low + width]), low, low + width), [-1.0, 1.0])


def test_cross_validation_and_bias_variance_estimates_have_their_shapes():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 1, 24))
    y = np.sin(4 * x) + 0.1 * rng.normal(size=24)
    errors, degree, l2, coef = Po.cross_validate(x, y, degrees=[1, 3], l2_values=[0.0, 0.1], k=3)
    assert errors.shape == (2, 2) and np.all(errors >= 0) and errors.min() == errors[[1, 3].index(degree)].min()
    close(coef, Po.fit_coefficients(x, y, degree, l2))
    curve = Po.estimate_bias_variance([1, 3], rng=rng, n_resamples=20)
    assert len(curve.bias2) == len(curve.variance) == 2


def test_polynomial_bad_arguments_are_named():
    x, y = np.linspace(0, 1, 6), np.ones(6)
    check_mutations(Po.fit_polynomial, dict(x=x, y=y, degree=2, l2=0.1), accepts={"degree": ("zero",)})
    check_mutations(Po.polynomial_features, dict(t=np.linspace(0, 1, 5), degree=3),
                    accepts={"t": NAN, "degree": ("zero",)})
    check_mutations(Po.ridge_objective_forward, dict(w=np.ones(3), phi=np.ones((5, 3)), y=np.ones(5), l2=0.1),
                    accepts={"w": NAN, "phi": NAN, "y": NAN})
    check_mutations(Po.scale_to_unit_interval, dict(x=np.linspace(2, 3, 4), low=2.0, high=3.0), accepts={"x": NAN})
    check_mutations(Po.fold_indices, dict(n=10, k=3))
    check_mutations(Po.bias_variance_from_predictions, dict(predictions=np.ones((4, 5)), truth=np.ones(5)),
                    accepts={"predictions": NAN, "truth": NAN})
    rejects(lambda: Po.mean_squared_error(np.ones(3), np.ones(4)), "target")


# ---------------------------------------------------------------- capacity: every degree on one training set

@given(x=floats((9,), -2, 2))
def test_the_true_function_is_sin_two_pi_x_the_datas_noiseless_curve(x):
    close(Ca.true_function(x), torch.sin(2 * torch.pi * torch_of(x)))
    xs, ys = make_noisy_function(9, 0.0, seed=np.random.default_rng(0))
    close(Ca.true_function(xs), ys)


@given(seed=st.integers(0, 300), n_train=st.integers(3, 30), noise=st.sampled_from([0.0, 0.1, 0.5]),
       penalty=st.sampled_from([0.0, 1e-3, 0.1]))
def test_every_degree_is_fitted_and_its_errors_are_its_fits_errors(seed, n_train, noise, penalty):
    sweep = Ca.fits_of_every_degree(n_train, noise, seed, penalty)
    degrees = Ca.MAX_DEGREE + 1
    assert [f.degree for f in sweep.fits] == list(range(degrees))
    assert sweep.train_errors.shape == sweep.test_errors.shape == (degrees,) and sweep.x_train.shape == (n_train,)
    x_test, y_test = make_noisy_function(Ca.N_TEST, noise, seed=np.random.default_rng([seed, 1]))
    for fit, train, test in zip(sweep.fits, sweep.train_errors, sweep.test_errors):
        close(fit.coef, Po.fit_coefficients(sweep.x_train, sweep.y_train, fit.degree, penalty))
        assert train == pytest.approx(Po.mean_squared_error(Po.predict_polynomial(fit, sweep.x_train), sweep.y_train),
                                      rel=1e-9, abs=1e-20)
        assert test == pytest.approx(Po.mean_squared_error(Po.predict_polynomial(fit, x_test), y_test),
                                     rel=1e-9, abs=1e-20)
    if penalty == 0.0:  # nested least-squares models: a higher degree never fits its training points worse
        assert np.all(np.diff(sweep.train_errors) <= 1e-6 * sweep.train_errors[:-1] + 1e-9)
    best = int(np.argmin(sweep.test_errors))
    assert Ca.classify_fit(sweep.train_errors[best], sweep.test_errors[best], sweep.test_errors[best]) == "good fit"
    again = Ca.fits_of_every_degree(n_train, noise, seed, penalty)
    np.testing.assert_array_equal(again.test_errors, sweep.test_errors)  # one seed, one experiment
    assert not any(a.flags.writeable for a in (sweep.x_train, sweep.y_train, sweep.train_errors, sweep.test_errors,
                                               *(f.coef for f in sweep.fits)))


def test_the_sweep_fits_with_the_function_it_is_given():
    calls = []

    def zero_fit(x, y, degree, l2):
        calls.append((degree, l2))
        return np.zeros(degree + 1)

    sweep = Ca.fits_of_every_degree(12, 0.3, 4, 0.5, fit=zero_fit)
    assert calls == [(d, 0.5) for d in range(Ca.MAX_DEGREE + 1)]
    close(sweep.train_errors, np.full(Ca.MAX_DEGREE + 1, np.mean(sweep.y_train ** 2)))


@given(train=st.floats(0, 10), test=st.floats(0, 10), best=st.floats(0, 10))
def test_the_verdict_follows_its_three_rules(train, test, best):
    verdict = Ca.classify_fit(train, test, best)
    if test <= Ca.GOOD_FIT_FACTOR * best + 1e-3:
        assert verdict == "good fit"
    else:
        assert verdict == ("underfitting" if train >= test / 2 else "overfitting")
    assert Ca.classify_fit(train, float("nan"), best) != "good fit"


def test_capacity_bad_arguments_are_named():
    check_mutations(Ca.fits_of_every_degree, dict(n_train=8, noise=0.2, seed=3, penalty=0.1),
                    accepts={"seed": ("zero",)})


# ---------------------------------------------------------------- ReLU approximation

@given(K=st.integers(1, 12), a=st.floats(-3, 0), width=st.floats(0.5, 4))
def test_interpolating_network_is_exact_at_its_knots(K, a, width):
    weights = Ap.interpolating_network(np.sin, a, a + width, K)
    knots = np.linspace(a, a + width, K + 1)[:, None]
    close(Ap.network_output(knots, *weights), np.sin(knots), atol=1e-9)
    assert weights[0].shape == (1, K)


@given(tolerance=st.sampled_from([0.1, 0.01, 0.001]))
def test_approximating_network_meets_its_tolerance_with_the_fewest_doubled_pieces(tolerance):
    weights = Ap.approximating_network(np.cos, 0.0, 3.0, tolerance)
    grid = np.linspace(0, 3, Ap.GRID_POINTS)[:, None]
    assert np.abs(Ap.network_output(grid, *weights) - np.cos(grid)).max() <= tolerance
    K = weights[0].shape[1]
    if K > 1:
        fewer = Ap.interpolating_network(np.cos, 0.0, 3.0, K // 2)
        assert np.abs(Ap.network_output(grid, *fewer) - np.cos(grid)).max() > tolerance


@given(x=floats((5, 1)), W1=floats((1, 3)), b1=floats((3,)), W2=floats((3, 1)), b2=floats((1,)))
def test_network_output_equals_torch(x, W1, b1, W2, b2):
    close(Ap.network_output(x, W1, b1, W2, b2), torch.relu(torch_of(x) @ torch_of(W1) + torch_of(b1)) @ torch_of(W2)
          + torch_of(b2))


def test_approximation_bad_arguments_are_named():
    weights = dict(x=np.linspace(0, 1, 4)[:, None], W1=np.ones((1, 3)), b1=np.zeros(3), W2=np.ones((3, 1)),
                   b2=np.zeros(1))
    check_mutations(Ap.network_output, weights, accepts={name: NAN for name in weights})
    check_mutations(Ap.interpolating_network, dict(g=np.sin, a=0.0, b=1.0, K=4))
    check_mutations(Ap.approximating_network, dict(g=np.sin, a=0.0, b=1.0, tolerance=0.01))


# ---------------------------------------------------------------- Jordan network

@given(T=st.integers(1, 5), N=st.integers(1, 3), data=st.data())
def test_jordan_forward_feeds_back_its_outputs(T, N, data):
    D, Hh, M = 2, 3, 2
    x, y0 = data.draw(floats((T, N, D))), data.draw(floats((N, M)))
    W_ih, W_yh, b_h = data.draw(floats((Hh, D))), data.draw(floats((Hh, M))), data.draw(floats((Hh,)))
    W_hy, b_y = data.draw(floats((M, Hh))), data.draw(floats((M,)))
    hidden, outputs = J.jordan_forward(x, y0, W_ih, W_yh, b_h, W_hy, b_y)
    y = torch_of(y0)
    for t in range(T):
        h = torch.tanh(F.linear(torch_of(x[t]), torch_of(W_ih), torch_of(b_h)) + F.linear(y, torch_of(W_yh)))
        y = F.linear(h, torch_of(W_hy), torch_of(b_y))
        close(hidden[t], h)
        close(outputs[t], y)


def test_jordan_bad_arguments_are_named():
    args = dict(x=np.ones((4, 2, 3)), y0=np.zeros((2, 1)), W_ih=np.ones((5, 3)), W_yh=np.ones((5, 1)), b_h=np.zeros(5),
                W_hy=np.ones((1, 5)), b_y=np.zeros(1))
    check_mutations(J.jordan_forward, args, accepts={name: NAN for name in args})


# ---------------------------------------------------------------- the naive convolution

@given(case=conv_case(), data=st.data())
def test_naive_convolution_equals_torch(case, data):
    out_t, dout, grads = torch_conv2d(case, data)
    out, cache = C.conv2d_naive_forward(*case)
    close(out, out_t)
    for ours, grad in zip(C.conv2d_naive_backward(dout, cache), grads):
        close(ours, grad, atol=1e-10)


def test_naive_convolution_bad_arguments_are_named():
    args = dict(x=np.ones((1, 2, 5, 5)), w=np.ones((3, 2, 3, 3)), b=np.zeros(3), stride=1, padding=1, dilation=1)
    check_mutations(C.conv2d_naive_forward, args, accepts={"x": NAN, "w": NAN, "b": NAN, "padding": ("zero",)})
    _, cache = C.conv2d_naive_forward(**args)
    rejects(lambda: C.conv2d_naive_backward(np.ones((1, 3, 4, 4)), cache), "dout")
