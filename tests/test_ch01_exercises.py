"""Chapter 01 checks: each passes right answers written in different ways and diagnoses typical mistakes."""

from functools import partial

import numpy as np
import pytest

from dlcore.exercises import ExerciseFailed, ch01, results
from dlcore.exercises.learner import accepted, implementation
from dlcore.scratch import polynomial as poly


def not_implemented(*args):
    raise NotImplementedError("Exercise 1.k: replace this line with your code")


def assert_fails(check, learner, *fragments, mistake=None):
    with pytest.raises(ExerciseFailed) as failure:
        check(learner)
    message = str(failure.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in: {message}"
    if mistake is not None:
        assert failure.value.mistake == mistake, message
    assert results[-1].passed is False


def as_learner(function):
    """A plain Python function (as a notebook cell defines it) around ``function``."""
    def learner(*args):
        return function(*args)
    return learner


# ----------------------------------------------------------------- 1.1 polynomial features

def features_broadcast(t, degree):
    return t[:, None] ** np.arange(degree + 1)


def features_loop(t, degree):
    return np.column_stack([t**j for j in range(degree + 1)])


def features_cumulative(t, degree):
    phi = np.ones((len(t), degree + 1))
    for j in range(1, degree + 1):
        phi[:, j] = phi[:, j - 1] * t
    return phi


@pytest.mark.parametrize("learner", [features_broadcast, features_loop, features_cumulative])
def test_features_right_answers_pass(learner, capsys):
    ch01.check_polynomial_features(learner)
    assert "Exercise 1.1 passed" in capsys.readouterr().out
    assert results[-1].passed and results[-1].label == "1.1"


@pytest.mark.parametrize("learner, fragments, mistake", [
    (lambda t, d: t[:, None] ** np.arange(1, d + 1), ["constant column is missing"], "features-no-constant"),
    (lambda t, d: t[:, None] ** np.arange(d), ["one power short"], "features-one-power-short"),
    (lambda t, d: t[:, None] ** np.arange(d + 2), ["one power too many"], "features-one-power-too-many"),
    (lambda t, d: t[:, None] ** np.arange(d, -1, -1), ["reverse order", "np.vander"], "features-reversed"),
    (lambda t, d: (t[:, None] ** np.arange(d + 1)).T, ["transposed", "one ROW per example"], "features-transposed"),
    (lambda t, d: t[:, None] * np.arange(d + 1), ["t * j"], "features-multiple-not-power"),
    (lambda t, d: t ** d, ["flat vector"], "features-flat"),
])
def test_features_mistakes_are_diagnosed(learner, fragments, mistake):
    assert_fails(ch01.check_polynomial_features, learner, "Exercise 1.1", *fragments, mistake=mistake)


def test_features_library_shortcuts_and_the_reference_fail():
    assert_fails(ch01.check_polynomial_features, lambda t, d: np.vander(t, d + 1, increasing=True),
                 "vander", mistake="delegates-to-reference")
    assert_fails(ch01.check_polynomial_features, lambda t, d: poly.polynomial_features(t, d),
                 "dlcore.scratch.polynomial.polynomial_features", mistake="delegates-to-reference")


def test_features_in_place_edit_is_caught():
    def shifts_input(t, degree):
        t += 0.5  # writes into the caller's array; the returned values are still right
        return features_broadcast(t - 0.5, degree)
    assert_fails(ch01.check_polynomial_features, shifts_input, "changed its input array in place")


def test_features_not_implemented():
    with pytest.raises(NotImplementedError, match="Exercise 1.1 is not done yet"):
        ch01.check_polynomial_features(not_implemented)


# ----------------------------------------------------------------- 1.3 the gradient of the ridge objective

def gradient_formula(w, phi, y, l2):
    penalty = 2 * l2 * w
    penalty[0] = 0.0
    return 2 / len(y) * phi.T @ (phi @ w - y) + penalty


def gradient_per_example(w, phi, y, l2):
    total = np.zeros_like(w)
    for row, target in zip(phi, y):
        total += 2 * (row @ w - target) * row
    mask = np.r_[0.0, np.ones(len(w) - 1)]
    return total / len(y) + 2 * l2 * mask * w


@pytest.mark.parametrize("learner", [gradient_formula, gradient_per_example])
def test_gradient_right_answers_pass_and_are_used_later(learner, capsys):
    ch01.check_ridge_gradient(learner)
    assert "Exercise 1.3 passed" in capsys.readouterr().out
    assert implementation("ridge_gradient", poly.ridge_objective_gradient, label="1.3") is learner


@pytest.mark.parametrize("mistake, fragments", [
    ("gradient-residual-sign", ["points the wrong way"]),
    ("gradient-no-factor-2", ["data term lost its factor 2"]),
    ("gradient-sum-not-mean", ["N times too large"]),
    ("gradient-penalises-intercept", ["w[0] is not penalised"]),
    ("gradient-penalty-no-2", ["penalty term lost its factor 2"]),
])
def test_gradient_mistakes_are_diagnosed(mistake, fragments):
    learner = as_learner(partial(ch01._gradient_variant, mistake=mistake))
    assert_fails(ch01.check_ridge_gradient, learner, "Exercise 1.3", *fragments, mistake=mistake)
    assert implementation("ridge_gradient", poly.ridge_objective_gradient, label="1.3") is poly.ridge_objective_gradient


def test_gradient_that_calls_the_course_backward_fails():
    def delegates(w, phi, y, l2):
        _, cache = poly.ridge_objective_forward(w, phi, y, l2)
        return poly.ridge_objective_backward(1.0, cache)
    assert_fails(ch01.check_ridge_gradient, delegates, "ridge_objective_backward", mistake="delegates-to-reference")


def test_gradient_not_implemented():
    with pytest.raises(NotImplementedError, match="Exercise 1.3 is not done yet"):
        ch01.check_ridge_gradient(not_implemented)


# ----------------------------------------------------------------- 1.4 least squares with an optional L2 penalty

def fit_stacked(x, y, degree, l2=0.0):
    phi = features_broadcast(2 * x - 1, degree)
    if l2 > 0 and degree > 0:
        phi = np.vstack([phi, np.sqrt(len(x) * l2) * np.eye(degree + 1)[1:]])
        y = np.concatenate([y, np.zeros(degree)])
    return np.linalg.lstsq(phi, y, rcond=None)[0]


def fit_normal_equations(x, y, degree, l2=0.0):
    phi = features_loop(2 * x - 1, degree)
    E = np.eye(degree + 1)
    E[0, 0] = 0.0
    return np.linalg.solve(phi.T @ phi + len(x) * l2 * E, phi.T @ y)


@pytest.mark.parametrize("learner", [fit_stacked, fit_normal_equations])
def test_fit_right_answers_pass_and_are_used_later(learner, capsys):
    ch01.check_fit_polynomial(learner)
    assert "Exercise 1.4 passed" in capsys.readouterr().out
    assert accepted("fit_polynomial") is learner
    assert implementation("fit_polynomial", poly.fit_coefficients, label="1.4") is learner
    assert "[using your fit_polynomial, which passed exercise 1.4]" in capsys.readouterr().out


@pytest.mark.parametrize("mistake, fragments", [
    ("fit-unscaled-input", ["t = 2x - 1"]),
    ("fit-reversed-coefficients", ["reverse order", "np.polyfit"]),
    ("fit-ignores-l2", ["the penalty is ignored"]),
    ("fit-penalises-intercept", ["you penalise the intercept"]),
    ("fit-penalty-not-scaled-by-n", ["N times too weak"]),
    ("fit-penalty-not-rooted", ["square root of N * l2"]),
])
def test_fit_mistakes_are_diagnosed(mistake, fragments):
    learner = as_learner(partial(ch01._fit_variant, mistake=mistake))
    assert_fails(ch01.check_fit_polynomial, learner, "Exercise 1.4", *fragments, mistake=mistake)
    assert accepted("fit_polynomial") is None
    assert implementation("fit_polynomial", poly.fit_coefficients, label="1.4") is poly.fit_coefficients


def test_fit_that_calls_the_course_fit_or_polyfit_fails():
    assert_fails(ch01.check_fit_polynomial, lambda x, y, d, l2=0.0: poly.fit_polynomial(x, y, d, l2).coef,
                 "dlcore.scratch.polynomial.fit_polynomial", mistake="delegates-to-reference")
    assert_fails(ch01.check_fit_polynomial, lambda x, y, d, l2=0.0: np.polyfit(2 * x - 1, y, d)[::-1],
                 "polyfit", mistake="delegates-to-reference")


def test_fit_not_implemented():
    with pytest.raises(NotImplementedError, match="Exercise 1.4 is not done yet"):
        ch01.check_fit_polynomial(not_implemented)


# ----------------------------------------------------------------- 1.5 predict, then verify

def test_prediction_right_answers_pass(capsys):
    ch01.check_capacity_prediction(lambda: (3, False))
    out = capsys.readouterr().out
    assert "<- lowest" in out and "Exercise 1.5 passed" in out
    ch01.check_capacity_prediction(lambda: (np.int64(3), np.bool_(False)))
    errors, largest_rise = ch01.run_capacity_experiment()
    assert min(errors, key=errors.get) == 3  # the right answer comes from the experiment
    assert largest_rise <= 1e-10


@pytest.mark.parametrize("answer, fragments, mistake", [
    ((15, False), ["lowest TRAINING error", "variance"], "best-degree-15"),
    ((1, False), ["straight line", "bias^2"], "best-degree-1"),
    ((5, False), ["costs more variance than it saves in bias"], "best-degree-5"),
    ((3, True), ["cannot rise with the degree", "top coefficient 0"], "train-error-rises"),
    ((15, True), ["lowest TRAINING error", "cannot rise"], "best-degree-15+train-error-rises"),
    ((4, False), ["not one of the degrees [1, 3, 5, 9, 15]"], "degree-not-offered"),
    ((3, "no"), ["expected True or False"], "rise-not-a-bool"),
    (3, ["expected a pair (best_degree, train_error_can_rise)"], "not-a-pair"),
])
def test_prediction_mistakes_are_diagnosed(answer, fragments, mistake):
    assert_fails(ch01.check_capacity_prediction, lambda: answer, "Exercise 1.5", *fragments, mistake=mistake)


def test_prediction_not_implemented():
    with pytest.raises(NotImplementedError, match="Exercise 1.5 is not done yet"):
        ch01.check_capacity_prediction(not_implemented)


# ----------------------------------------------------------------- 1.6 bias-variance

def bias_variance_means(predictions, truth):
    mean_prediction = predictions.mean(axis=0)
    return float(np.mean((mean_prediction - truth) ** 2)), float(np.mean(predictions.var(axis=0)))


def bias_variance_total_minus_bias(predictions, truth):
    R = predictions.shape[0]
    mean_prediction = predictions.sum(axis=0) / R
    bias2 = ((mean_prediction - truth) ** 2).mean()
    total = ((predictions - truth) ** 2).mean()
    return bias2, total - bias2  # the decomposition: variance = total - bias^2


@pytest.mark.parametrize("learner", [bias_variance_means, bias_variance_total_minus_bias])
def test_bias_variance_right_answers_pass(learner, capsys):
    ch01.check_bias_variance(learner)
    assert "Exercise 1.6 passed" in capsys.readouterr().out
    assert accepted("bias_variance") is learner


@pytest.mark.parametrize("learner, fragments, mistake", [
    (lambda p, f: (np.mean((p.mean(0) - f) ** 2), np.mean(p.var(0, ddof=1))), ["R - 1 (ddof=1)"], "variance-ddof-1"),
    (lambda p, f: (np.mean(p.mean(0) - f), np.mean(p.var(0))), ["bias^2 is not squared", "signed"], "bias-not-squared"),
    (lambda p, f: (np.mean(np.abs(p.mean(0) - f)), np.mean(p.var(0))), ["bias^2 is not squared", "absolute"],
     "bias-absolute"),
    (lambda p, f: (np.mean((p.mean(0) - f) ** 2), np.mean((p - f) ** 2)), ["variance is measured around the truth"],
     "variance-around-truth"),
    (lambda p, f: (np.mean((p - f) ** 2), np.mean(p.var(0))), ["average the predictions over the fits first"],
     "bias-squared-per-fit"),
    (lambda p, f: (np.mean((p.mean(1) - f) ** 2), np.mean(p.var(1))), ["wrong axis"], "bias-variance-wrong-axis"),
    (lambda p, f: (np.mean(p.var(0)), np.mean((p.mean(0) - f) ** 2)), ["the order is (bias2, variance)"],
     "bias-variance-swapped"),
    (lambda p, f: ((p.mean(0) - f) ** 2, p.var(0)), ["for each test point"], "bias-variance-per-point"),
])
def test_bias_variance_mistakes_are_diagnosed(learner, fragments, mistake):
    assert_fails(ch01.check_bias_variance, learner, "Exercise 1.6", *fragments, mistake=mistake)
    assert implementation("bias_variance", poly.bias_variance_from_predictions, label="1.6") \
        is poly.bias_variance_from_predictions


def test_bias_variance_that_calls_the_course_function_fails():
    assert_fails(ch01.check_bias_variance, lambda p, f: poly.bias_variance_from_predictions(p, f),
                 "bias_variance_from_predictions", mistake="delegates-to-reference")


def test_bias_variance_not_implemented():
    with pytest.raises(NotImplementedError, match="Exercise 1.6 is not done yet"):
        ch01.check_bias_variance(not_implemented)


# ----------------------------------------------------------------- 1.7 k-fold cross-validation

def cv_masks(x, y, degrees, l2_values, k, fit):
    N = len(x)
    errors = np.zeros((len(degrees), len(l2_values)))
    for a, degree in enumerate(degrees):
        for b, l2 in enumerate(l2_values):
            fold_errors = []
            for i in range(k):
                held_out = np.arange(N) % k == i
                w = fit(x[~held_out], y[~held_out], degree, l2)
                prediction = features_broadcast(2 * x[held_out] - 1, degree) @ w
                fold_errors.append(np.mean((prediction - y[held_out]) ** 2))
            errors[a, b] = np.mean(fold_errors)
    best_a, best_b = np.unravel_index(np.argmin(errors), errors.shape)
    return errors, degrees[best_a], l2_values[best_b], fit(x, y, degrees[best_a], l2_values[best_b])


def cv_slices(x, y, degrees, l2_values, k, fit):
    folds = [np.arange(len(x))[i::k] for i in range(k)]
    table = []
    for degree in degrees:
        row = []
        for l2 in l2_values:
            total = 0.0
            for fold in folds:
                rest = np.setdiff1d(np.arange(len(x)), fold)
                w = fit(x[rest], y[rest], degree, l2)
                total += np.mean((features_loop(2 * x[fold] - 1, degree) @ w - y[fold]) ** 2)
            row.append(total / k)
        table.append(row)
    errors = np.array(table)
    best = min(np.ndindex(errors.shape), key=lambda ab: errors[ab])
    degree, l2 = degrees[best[0]], l2_values[best[1]]
    return errors, degree, l2, fit(x, y, degree, l2)


@pytest.mark.parametrize("learner", [cv_masks, cv_slices])
def test_cross_validate_right_answers_pass_and_are_used_later(learner, capsys):
    ch01.check_cross_validate(learner)
    assert "Exercise 1.7 passed" in capsys.readouterr().out
    assert implementation("cross_validate", poly.cross_validate, label="1.7") is learner


@pytest.mark.parametrize("mistake, fragments", [
    ("cv-validation-in-training", ["held-out fold included"]),
    ("cv-training-error", ["on the points it was fitted to"]),
    ("cv-contiguous-folds", ["contiguous blocks", "n % k == i"]),
    ("cv-last-fold-dropped", ["leaves out the last fold"]),
    ("cv-single-holdout", ["only the first fold"]),
    ("cv-pooled-folds", ["pool the squared errors"]),
    ("cv-sum-of-folds", ["add up the k fold errors"]),
    ("cv-returns-indices", ["positions of the best degree"]),
    ("cv-final-fit-on-last-training-folds", ["refit it on all N examples"]),
])
def test_cross_validate_mistakes_are_diagnosed(mistake, fragments):
    learner = as_learner(partial(ch01._cv_variant, mistake=mistake))
    assert_fails(ch01.check_cross_validate, learner, "Exercise 1.7", *fragments, mistake=mistake)
    assert implementation("cross_validate", poly.cross_validate, label="1.7") is poly.cross_validate


def test_cross_validate_that_calls_the_course_version_fails():
    assert_fails(ch01.check_cross_validate, lambda *args: poly.cross_validate(*args),
                 "dlcore.scratch.polynomial.cross_validate", mistake="delegates-to-reference")


def test_cross_validate_not_implemented():
    with pytest.raises(NotImplementedError, match="Exercise 1.7 is not done yet"):
        ch01.check_cross_validate(not_implemented)


# ----------------------------------------------------------------- the library pieces the checks rely on

def test_cross_validate_reference_matches_a_direct_computation():
    x, y = np.linspace(0, 1, 10), np.sin(np.arange(10.0))
    errors, degree, l2, w = poly.cross_validate(x, y, [1, 2], [0.0, 0.1], 2)
    held = np.arange(10) % 2 == 0
    fold0 = np.mean((poly.polynomial_features(2 * x[held] - 1, 2)
                     @ poly.fit_coefficients(x[~held], y[~held], 2, 0.1) - y[held]) ** 2)
    held = ~held
    fold1 = np.mean((poly.polynomial_features(2 * x[held] - 1, 2)
                     @ poly.fit_coefficients(x[~held], y[~held], 2, 0.1) - y[held]) ** 2)
    np.testing.assert_allclose(errors[1, 1], (fold0 + fold1) / 2)
    assert (degree, l2) == ([1, 2][np.unravel_index(np.argmin(errors), errors.shape)[0]],
                            [0.0, 0.1][np.unravel_index(np.argmin(errors), errors.shape)[1]])
    np.testing.assert_allclose(w, poly.fit_coefficients(x, y, degree, l2))
    with pytest.raises(ValueError, match=r"k must be an int in 2\.\.5"):
        poly.fold_indices(5, 1)


def test_estimate_bias_variance_runs_on_other_implementations():
    calls = []

    def counting_fit(x, y, degree, l2):
        calls.append(degree)
        return poly.fit_coefficients(x, y, degree, l2)

    default = poly.estimate_bias_variance([1, 3], rng=np.random.default_rng(0), n_resamples=5)
    swapped = poly.estimate_bias_variance([1, 3], rng=np.random.default_rng(0), n_resamples=5, fit=counting_fit,
                                          decompose=bias_variance_total_minus_bias)
    assert calls == [1] * 5 + [3] * 5
    np.testing.assert_allclose(swapped.bias2, default.bias2)
    np.testing.assert_allclose(swapped.variance, default.variance)
    np.testing.assert_array_equal(swapped.test_error, default.test_error)
