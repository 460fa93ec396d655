"""Chapter 01: polynomial features, least-squares / ridge fits, the ridge objective, bias-variance."""

import numpy as np
import pytest

from dlcore.errors import ShapeError
from dlcore.gradcheck import check_gradients
from dlcore.scratch import polynomial as poly

# Float64 least squares on these small, well-conditioned problems agrees with
# another solver to ~1e-12; 1e-9 leaves room for different LAPACK drivers.
TOL = 1e-9


def test_scale_to_unit_interval_maps_the_ends_and_keeps_the_input():
    x = np.array([2.0, 3.0, 6.0])
    original = x.copy()
    np.testing.assert_allclose(poly.scale_to_unit_interval(x, 2.0, 6.0), [-1.0, -0.5, 1.0])
    np.testing.assert_array_equal(x, original)
    with pytest.raises(ValueError, match="low < high"):
        poly.scale_to_unit_interval(x, 1.0, 1.0)


def test_polynomial_features_columns_are_increasing_powers():
    t = np.array([-1.0, 0.0, 0.5, 2.0])
    phi = poly.polynomial_features(t, 3)
    assert phi.shape == (4, 4)
    np.testing.assert_array_equal(phi[:, 0], 1.0)
    np.testing.assert_allclose(phi, np.stack([t**0, t, t**2, t**3], axis=1))
    assert poly.polynomial_features(np.array([0.3]), 0).shape == (1, 1)  # batch of one, degree 0


def test_polynomial_features_rejects_bad_input_with_a_clear_message():
    with pytest.raises(ShapeError, match=r"polynomial_features: t has shape \(3, 1\) \(2-D\) but expected a 1-D array"):
        poly.polynomial_features(np.zeros((3, 1)), 2)
    with pytest.raises(ValueError, match="degree must be an int >= 0, got -1"):
        poly.polynomial_features(np.zeros(3), -1)
    with pytest.raises(TypeError, match="degree must be an int >= 0, got float 2.5"):  # not silently truncated
        poly.polynomial_features(np.zeros(3), 2.5)


def test_fit_recovers_a_polynomial_exactly_from_noiseless_data():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 1.0, 12)
    true_coef = np.array([0.5, -1.0, 2.0, 0.25])  # in t = 2x - 1
    y = poly.polynomial_features(2 * x - 1, 3) @ true_coef
    fit = poly.fit_polynomial(x, y, 3)
    np.testing.assert_allclose(fit.coef, true_coef, atol=TOL)
    x_new = np.linspace(0, 1, 7)
    np.testing.assert_allclose(poly.predict_polynomial(fit, x_new), poly.polynomial_features(2 * x_new - 1, 3) @ true_coef, atol=TOL)


def test_fit_does_not_change_its_inputs():
    x, y = np.linspace(0, 1, 6), np.arange(6.0)
    x0, y0 = x.copy(), y.copy()
    poly.fit_polynomial(x, y, 4, l2=0.1)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


def test_ridge_fit_solves_the_normal_equations_without_penalising_the_intercept():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1, 15), rng.standard_normal(15)
    degree, l2 = 6, 0.05
    fit = poly.fit_polynomial(x, y, degree, l2)
    phi = poly.polynomial_features(2 * x - 1, degree)
    E = np.diag([0.0] + [1.0] * degree)
    expected = np.linalg.solve(phi.T @ phi + len(x) * l2 * E, phi.T @ y)
    np.testing.assert_allclose(fit.coef, expected, atol=1e-8)
    # A huge penalty leaves only the intercept: the mean of y.
    flat = poly.fit_polynomial(x, y, degree, 1e12)
    np.testing.assert_allclose(flat.coef[0], y.mean(), atol=1e-6)
    np.testing.assert_allclose(flat.coef[1:], 0.0, atol=1e-6)


def test_underdetermined_fit_interpolates_with_minimum_norm():
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 1, 5), rng.standard_normal(5)
    fit = poly.fit_polynomial(x, y, 9)  # 10 coefficients, 5 points
    np.testing.assert_allclose(poly.predict_polynomial(fit, x), y, atol=1e-9)
    phi = poly.polynomial_features(2 * x - 1, 9)
    np.testing.assert_allclose(fit.coef, np.linalg.pinv(phi) @ y, atol=1e-8)


def test_fit_rejects_mismatched_lengths_and_bad_penalty():
    with pytest.raises(ShapeError, match=r"fit_polynomial: y has shape \(4,\) but expected \(N,\) = \(5,\)"):
        poly.fit_polynomial(np.linspace(0, 1, 5), np.zeros(4), 2)
    with pytest.raises(ValueError, match="l2 must be a finite number >= 0"):
        poly.fit_polynomial(np.linspace(0, 1, 5), np.zeros(5), 2, l2=-1.0)


@pytest.mark.parametrize("N, P, l2", [(1, 3, 0.0), (7, 4, 0.3), (3, 6, 1e-2)])
def test_ridge_objective_backward_matches_finite_differences(N, P, l2):
    rng = np.random.default_rng(3)
    phi, y, w = rng.standard_normal((N, P)), rng.standard_normal(N), rng.standard_normal(P)
    report = check_gradients(lambda w: poly.ridge_objective_forward(w, phi, y, l2),
                             poly.ridge_objective_backward, {"w": w}, rng=rng)
    report.assert_ok()


def test_ridge_objective_gradient_check_catches_a_penalised_intercept():
    rng = np.random.default_rng(4)
    phi, y, w = rng.standard_normal((6, 4)), rng.standard_normal(6), rng.standard_normal(4)

    def wrong_backward(dout, cache):  # penalises w[0] too
        return poly.ridge_objective_backward(dout, cache) + dout * np.eye(4)[0] * 2 * cache.l2 * cache.w[0]

    report = check_gradients(lambda w: poly.ridge_objective_forward(w, phi, y, 0.5), wrong_backward, {"w": w}, rng=rng)
    assert not report.passed


def test_ridge_objective_shape_errors():
    with pytest.raises(ShapeError, match=r"ridge_objective_forward: w has shape \(3,\) but expected \(P,\) = \(4,\)"):
        poly.ridge_objective_forward(np.zeros(3), np.zeros((5, 4)), np.zeros(5))
    with pytest.raises(ShapeError, match=r"y has shape \(4,\) but expected \(N,\) = \(5,\)"):
        poly.ridge_objective_forward(np.zeros(4), np.zeros((5, 4)), np.zeros(4))
    _, cache = poly.ridge_objective_forward(np.zeros(4), np.zeros((5, 4)), np.zeros(5))
    with pytest.raises(ShapeError, match="J is a scalar"):
        poly.ridge_objective_backward(np.ones(2), cache)


def test_ridge_objective_matches_pytorch_in_float64():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    phi, y, w, l2 = rng.standard_normal((9, 5)), rng.standard_normal(9), rng.standard_normal(5), 0.2
    value, cache = poly.ridge_objective_forward(w, phi, y, l2)
    w_t = torch.tensor(w, requires_grad=True)
    objective = torch.mean((torch.from_numpy(phi) @ w_t - torch.from_numpy(y)) ** 2) + l2 * torch.sum(w_t[1:] ** 2)
    objective.backward()
    np.testing.assert_allclose(float(value), objective.item(), rtol=1e-12)
    np.testing.assert_allclose(poly.ridge_objective_backward(1.0, cache), w_t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_fit_matches_pytorch_lstsq_in_float64():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x, y = rng.uniform(0, 1, 25), rng.standard_normal(25)
    fit = poly.fit_polynomial(x, y, 5)
    phi = torch.from_numpy(poly.polynomial_features(2 * x - 1, 5))
    solution = torch.linalg.lstsq(phi, torch.from_numpy(y)[:, None]).solution[:, 0].numpy()
    np.testing.assert_allclose(fit.coef, solution, atol=TOL)


def test_bias_variance_from_predictions_decomposes_the_mean_squared_distance():
    rng = np.random.default_rng(7)
    predictions, truth = rng.standard_normal((13, 4)) + 0.3, rng.standard_normal(4)
    bias2, variance = poly.bias_variance_from_predictions(predictions, truth)
    np.testing.assert_allclose(bias2 + variance, np.mean((predictions - truth) ** 2), rtol=1e-12)
    np.testing.assert_allclose(variance, np.mean(predictions.var(axis=0)), rtol=1e-12)
    # Identical predictions: no variance; predictions equal to the truth: no bias either.
    assert poly.bias_variance_from_predictions(np.tile(truth, (5, 1)), truth) == (0.0, 0.0)


def test_bias_variance_from_predictions_checks_shapes():
    with pytest.raises(ShapeError, match=r"truth has shape \(3,\) but expected \(P,\) = \(4,\)"):
        poly.bias_variance_from_predictions(np.zeros((5, 4)), np.zeros(3))
    with pytest.raises(ShapeError, match="expected a 2-D array"):
        poly.bias_variance_from_predictions(np.zeros(4), np.zeros(4))


def test_estimate_bias_variance_is_reproducible_and_adds_up():
    kwargs = dict(n_train=25, noise=0.3, n_resamples=300)
    first = poly.estimate_bias_variance([1, 3, 6], rng=np.random.default_rng(8), **kwargs)
    second = poly.estimate_bias_variance([1, 3, 6], rng=np.random.default_rng(8), **kwargs)
    np.testing.assert_array_equal(first.variance, second.variance)
    assert first.noise == pytest.approx(0.09)
    # bias^2 + variance + noise against an independent measurement: Monte Carlo error only.
    np.testing.assert_allclose(first.bias2 + first.variance + first.noise, first.test_error, rtol=0.05)
    assert first.bias2[0] > 10 * first.bias2[1]  # a line cannot follow the sine; a cubic can
    assert first.variance[2] > first.variance[1]  # more capacity, more variance


def test_estimate_bias_variance_penalty_reduces_variance():
    unpenalised = poly.estimate_bias_variance([9], rng=np.random.default_rng(9), n_train=20, n_resamples=100)
    penalised = poly.estimate_bias_variance([9], rng=np.random.default_rng(9), n_train=20, n_resamples=100, l2=1e-2)
    assert penalised.variance[0] < unpenalised.variance[0] / 10


def test_estimate_bias_variance_requires_a_generator():
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        poly.estimate_bias_variance([1], rng=0)
    with pytest.raises(ValueError, match="n_resamples must be an int >= 2"):
        poly.estimate_bias_variance([1], rng=np.random.default_rng(0), n_resamples=1)


def test_fit_names_itself_when_x_is_not_1d():
    with pytest.raises(ShapeError, match=r"fit_polynomial: x has shape \(3, 1\) \(2-D\) but expected a 1-D array"):
        poly.fit_polynomial(np.zeros((3, 1)), np.zeros(3), 2)
