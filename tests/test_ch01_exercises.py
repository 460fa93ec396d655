"""Chapter 01 checks: each passes the reference answer and diagnoses plausible mistakes."""

import numpy as np
import pytest

from dlcore.exercises import ExerciseFailed, ch01, results


def not_implemented(*args):
    raise NotImplementedError("Exercise 1.k: replace this line with your code")


def assert_fails(check, learner, *fragments):
    with pytest.raises(ExerciseFailed) as failure:
        check(learner)
    message = str(failure.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in: {message}"
    assert results[-1].passed is False


# ----------------------------------------------------------------- 1.1 polynomial features

def features_reference(t, degree):
    return t[:, None] ** np.arange(degree + 1)


def test_features_reference_passes(capsys):
    ch01.check_polynomial_features(features_reference)
    assert "Exercise 1.1 passed" in capsys.readouterr().out
    assert results[-1].passed and results[-1].label == "1.1"


def test_features_loop_version_passes_too():
    def loop(t, degree):
        return np.column_stack([t**j for j in range(degree + 1)])
    ch01.check_polynomial_features(loop)


@pytest.mark.parametrize("learner, fragments", [
    (lambda t, d: t[:, None] ** np.arange(1, d + 1), ["constant column is missing"]),
    (lambda t, d: t[:, None] ** np.arange(d), ["one power short", "range(degree + 1)"]),
    (lambda t, d: t[:, None] ** np.arange(d + 2), ["one power too many"]),
    (lambda t, d: np.vander(t, d + 1), ["reverse order", "np.vander"]),
    (lambda t, d: (t[:, None] ** np.arange(d + 1)).T, ["the transpose of (7, 4)", "one ROW per example"]),
    (lambda t, d: t[:, None] * np.arange(d + 1), ["t * j; it should be t ** j"]),
    (lambda t, d: t ** d, ["flat vector"]),
])
def test_features_mistakes_are_diagnosed(learner, fragments):
    assert_fails(ch01.check_polynomial_features, learner, "Exercise 1.1", *fragments)


def test_features_in_place_edit_is_caught():
    def shifts_input(t, degree):
        t += 0.5  # writes into the caller's array; the returned values are still right
        return features_reference(t - 0.5, degree)
    assert_fails(ch01.check_polynomial_features, shifts_input, "changed its input array in place")


def test_features_not_implemented():
    with pytest.raises(NotImplementedError, match="Exercise 1.1 is not done yet"):
        ch01.check_polynomial_features(not_implemented)


# ----------------------------------------------------------------- 1.2 predict, then verify

def test_prediction_reference_passes(capsys):
    ch01.check_capacity_prediction(lambda: (3, False))
    out = capsys.readouterr().out
    assert "<- lowest" in out and "Exercise 1.2 passed" in out
    errors, largest_rise = ch01.run_capacity_experiment()
    assert min(errors, key=errors.get) == 3  # the reference answer comes from the experiment
    assert largest_rise <= 1e-10


@pytest.mark.parametrize("answer, fragments", [
    ((15, False), ["lowest TRAINING error", "variance"]),
    ((1, False), ["straight line", "bias^2"]),
    ((5, False), ["costs more variance than it saves in bias"]),
    ((3, True), ["cannot rise with the degree", "top coefficient 0"]),
    ((4, False), ["not one of the degrees [1, 3, 5, 9, 15]"]),
    ((3, "no"), ["expected True or False"]),
    (3, ["expected a tuple (best_degree, train_error_can_rise)"]),
])
def test_prediction_mistakes_are_diagnosed(answer, fragments):
    assert_fails(ch01.check_capacity_prediction, lambda: answer, "Exercise 1.2", *fragments)


def test_prediction_not_implemented():
    with pytest.raises(NotImplementedError, match="Exercise 1.2 is not done yet"):
        ch01.check_capacity_prediction(not_implemented)


# ----------------------------------------------------------------- 1.3 bias-variance

def bias_variance_reference(predictions, truth):
    mean_prediction = predictions.mean(axis=0)
    return float(np.mean((mean_prediction - truth) ** 2)), float(np.mean(predictions.var(axis=0)))


def test_bias_variance_reference_passes(capsys):
    ch01.check_bias_variance(bias_variance_reference)
    assert "Exercise 1.3 passed" in capsys.readouterr().out


@pytest.mark.parametrize("learner, fragments", [
    (lambda p, f: (np.mean((p.mean(0) - f) ** 2), np.mean(p.var(0, ddof=1))), ["5/4 times too large", "ddof=1"]),
    (lambda p, f: (np.mean(p.mean(0) - f), np.mean(p.var(0))), ["bias^2 is not squared"]),
    (lambda p, f: (np.mean(np.abs(p.mean(0) - f)), np.mean(p.var(0))), ["bias^2 is not squared"]),
    (lambda p, f: (np.mean((p.mean(0) - f) ** 2), np.mean((p - f) ** 2)), ["variance is measured around the truth"]),
    (lambda p, f: (np.mean((p - f) ** 2), np.mean(p.var(0))), ["average the predictions over the fits FIRST"]),
    (lambda p, f: (np.mean((p.mean(1) - f) ** 2), np.mean(p.var(1))), ["wrong axis", "predictions.mean(axis=0)"]),
    (lambda p, f: (np.mean(p.var(0)), np.mean((p.mean(0) - f) ** 2)), ["the order is (bias2, variance)"]),
    (lambda p, f: ((p.mean(0) - f) ** 2, p.var(0)), ["for each of the 5 test points", "two numbers"]),
])
def test_bias_variance_mistakes_are_diagnosed(learner, fragments):
    assert_fails(ch01.check_bias_variance, learner, "Exercise 1.3", *fragments)


def test_bias_variance_not_implemented():
    with pytest.raises(NotImplementedError, match="Exercise 1.3 is not done yet"):
        ch01.check_bias_variance(not_implemented)
