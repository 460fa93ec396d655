"""Checks for chapter 01, the deep-learning landscape (polynomial capacity and bias-variance).

Each check prints a one-line success or raises ExerciseFailed with a diagnosis;
either way the verdict is recorded in :data:`dlcore.exercises.results`. The
checks return None, so a check cell shows only the verdict.

- :func:`check_polynomial_features` (1.1, implement)
- :func:`check_capacity_prediction` (1.2, predict-then-verify)
- :func:`check_bias_variance` (1.3, derive)
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlcore.errors import format_shape
from dlcore.exercises.core import not_done_message
from dlcore.exercises.core import Case, CheckResult, ExerciseFailed, check_value, results
from dlcore.exercises.functions import check_array_function
from dlcore.scratch.polynomial import (
    bias_variance_from_predictions,
    estimate_bias_variance,
    fit_polynomial,
    polynomial_features,
    predict_polynomial,
)
from dlcore.data import make_noisy_function

__all__ = ["check_polynomial_features", "check_bias_variance", "check_capacity_prediction",
           "CAPACITY_DEGREES", "run_capacity_experiment"]


def _fail(label: str, problem: str, hint: str = "") -> None:
    error = ExerciseFailed(label, problem, hint)
    results.append(CheckResult(label, False, str(error)))
    raise error


def _probe(label: str, learner: Callable[..., Any], *args) -> np.ndarray | None:
    """Call the learner once to look at the shape of its answer; None if it fails
    (check_array_function then reports the failure in its own words)."""
    if not callable(learner):
        return None
    try:
        return np.asarray(learner(*(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args)),
                          dtype=np.float64)
    except NotImplementedError:
        raise not_done_message(
            f"Exercise {label} is not done yet: replace the `raise NotImplementedError` "
            f"in the exercise cell with your code, run that cell, then this one."
        ) from None
    except Exception:
        return None


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-8))


# ----------------------------------------------------------------- 1.1

_FEATURES_HINT = ("Phi[n, j] = t[n] ** j for j = 0, 1, ..., degree: one row per example, "
                  "degree + 1 columns, the constant column of ones first")


def check_polynomial_features(learner: Callable[[np.ndarray, int], np.ndarray]) -> None:
    """Exercise 1.1: ``polynomial_features(t, degree) -> (N, degree + 1)`` with columns t**0 .. t**degree.

    Recognises: the constant column missing (columns t**1 .. t**degree), one
    power short (t**0 .. t**(degree-1)), one power too many, the transpose
    (one row per power), a flat vector, the columns in reverse order (as
    ``np.vander`` returns them), and t * j in place of t ** j.
    """
    label = "1.1"
    t = np.linspace(-1.0, 1.0, 7)
    degree = 3
    expected = polynomial_features(t, degree)  # (7, 4)
    got = _probe(label, learner, t, degree)
    if got is not None and got.shape != expected.shape:
        N = len(t)
        where = f"for t of shape ({N},) and degree = {degree}"
        if got.shape == (N, degree) and _close(got, expected[:, 1:]):
            _fail(label, f"the constant column is missing: you return t**1 .. t**{degree}, shape "
                         f"{format_shape(got.shape)} ({where}), expected {format_shape(expected.shape)}",
                  "start the powers at 0: t**0 = 1 is the intercept's column, without it every curve passes through 0")
        if got.shape == (N, degree) and _close(got, expected[:, :-1]):
            _fail(label, f"one power short: you return t**0 .. t**{degree - 1} ({where})",
                  "range(degree) stops at degree - 1; a degree-D polynomial has D + 1 coefficients: use range(degree + 1)")
        if got.shape == (N, degree + 2):
            _fail(label, f"one power too many: your output has {degree + 2} columns ({where}), expected {degree + 1}",
                  "the powers run from 0 to degree inclusive: range(degree + 1)")
        if got.shape == (degree + 1, N):
            _fail(label, f"your output has shape {format_shape(got.shape)}, the transpose of "
                         f"{format_shape(expected.shape)} ({where})",
                  "one ROW per example and one COLUMN per power, so that Phi @ w gives one prediction per example")
        if got.ndim == 1:
            _fail(label, f"you return a flat vector of shape {format_shape(got.shape)} ({where}), "
                         f"expected a matrix of shape {format_shape(expected.shape)}", _FEATURES_HINT)

    def diagnose(got: np.ndarray, want: np.ndarray, case: Case) -> str | None:
        t_case, degree_case = case.args
        if degree_case > 0 and _close(got, want[:, ::-1]):
            return ("your columns are in reverse order (highest power first, as np.vander returns them); "
                    "the course's convention is column j = t**j, so coef[j] multiplies t**j")
        if _close(got, t_case[:, None] * np.arange(degree_case + 1)):
            return "your column j is t * j; it should be t ** j (a power, not a multiple)"
        return None

    rng = np.random.default_rng(11)
    cases = [
        Case((t, degree), description="t = linspace(-1, 1, 7), degree = 3"),
        Case((np.array([0.5]), 0), description="a single example t = [0.5], degree = 0"),
        Case((rng.uniform(-1, 1, 5), 6), description="5 random t in [-1, 1], degree = 6 (more columns than rows)"),
        Case((np.array([-1.0, 0.0, 0.3, 1.0]), 1), description="t = [-1, 0, 0.3, 1], degree = 1"),
    ]
    check_array_function(label, learner, polynomial_features, cases, diagnoses=[diagnose],
                         hint=_FEATURES_HINT, success="Phi has one row per example and columns 1, t, t^2, ...")


# ----------------------------------------------------------------- 1.2

CAPACITY_DEGREES = (1, 3, 5, 9, 15)


def run_capacity_experiment(seed: int = 13) -> tuple[dict[int, float], float]:
    """The experiment behind exercise 1.2.

    Returns:
        (test_error by degree, averaged over 200 training sets of 20 points with
        noise 0.3, for :data:`CAPACITY_DEGREES`; the largest increase of the
        training error from one degree to the next, over degrees 0..20 and 20
        training sets of 12 points, fitted by unregularised least squares).
    """
    rng = np.random.default_rng(seed)
    curve = estimate_bias_variance(CAPACITY_DEGREES, rng=rng, n_train=20, noise=0.3, n_resamples=200)
    test_errors = {int(d): float(e) for d, e in zip(curve.degrees, curve.test_error)}
    largest_rise = -np.inf
    for _ in range(20):
        x, y = make_noisy_function(12, 0.3, seed=rng)
        train = [np.mean((predict_polynomial(fit_polynomial(x, y, d), x) - y) ** 2) for d in range(21)]
        largest_rise = max(largest_rise, float(np.max(np.diff(train))))
    return test_errors, largest_rise


def check_capacity_prediction(learner: Callable[[], tuple[int, bool]]) -> None:
    """Exercise 1.2: the learner's function returns ``(best_degree, train_error_can_rise)``.

    Runs :func:`run_capacity_experiment`, prints its numbers, and compares.
    Recognises: a degree not in the list, the most flexible degree chosen
    (lowest training error, not test error), the straight line chosen
    (bias), a neighbour of the best chosen, and the belief that the training
    error of least squares can rise with the degree.
    """
    label = "1.2"
    if not callable(learner):
        _fail(label, f"expected a function, got {type(learner).__name__}", "pass the function itself, without calling it")
    try:
        answer = learner()
    except NotImplementedError:
        raise not_done_message(f"Exercise {label} is not done yet: make your function return your prediction, "
                                  "run that cell, then this one.") from None
    if not (isinstance(answer, tuple) and len(answer) == 2):
        _fail(label, f"your function returned {answer!r}; expected a tuple (best_degree, train_error_can_rise)",
              "e.g. return 5, True")
    best_guess, rise_guess = answer
    if isinstance(best_guess, bool) or not isinstance(best_guess, (int, np.integer)) or best_guess not in CAPACITY_DEGREES:
        _fail(label, f"best_degree = {best_guess!r} is not one of the degrees {list(CAPACITY_DEGREES)}",
              "pick the degree from the list whose test error you expect to be lowest")
    if not isinstance(rise_guess, (bool, np.bool_)):
        _fail(label, f"train_error_can_rise = {rise_guess!r}; expected True or False", "answer with a bool")

    test_errors, largest_rise = run_capacity_experiment()
    best = min(test_errors, key=test_errors.get)
    can_rise = largest_rise > 1e-10  # rounding in lstsq moves errors of ~1e-30 around; that is not a rise
    print("Experiment: expected test MSE over 200 training sets of 20 points (noise variance 0.09)")
    for degree, error in test_errors.items():
        marker = "  <- lowest" if degree == best else ""
        print(f"  degree {degree:2d}: {error:10.3g}{marker}")
    # The size of a rounding-level change differs between machines, so only its order is printed.
    rise = f"{largest_rise:.1e}" if can_rise else "none above 1e-10 (rounding level)"
    print(f"Largest rise of the training MSE from degree d to d + 1 (d = 0..19, 20 training sets): {rise}")

    def diagnose_degree(got: int, expected: int) -> str:
        if got == max(CAPACITY_DEGREES):
            return (f"degree {got} has the lowest TRAINING error, not test error: with only 20 points its "
                    "fits swing wildly between training sets (variance), and the test error explodes")
        if got == min(CAPACITY_DEGREES):
            return (f"a degree-{got} polynomial (a straight line) cannot follow a full period of a sine, "
                    "whatever the data: its error is mostly bias^2")
        if got > expected:
            return (f"degree {got} can represent the sine more closely than degree {expected}, but with 20 noisy "
                    "points its extra flexibility costs more variance than it saves in bias")
        return f"degree {got} is too rigid here: its bias^2 is larger than the variance degree {expected} adds"

    def diagnose_rise(got: Any, expected: Any) -> str | None:
        if got and not expected:
            return ("the training error of least squares cannot rise with the degree: every degree-d polynomial "
                    "is also a degree-(d+1) polynomial (top coefficient 0), so the minimum over the larger family "
                    "is at most the minimum over the smaller one")
        return None

    if int(best_guess) != best:
        _fail(label, f"best_degree = {best_guess} is not the lowest-test-error degree ({best}): "
                     + diagnose_degree(int(best_guess), best),
              "look at the table above: test error, not training error, measures generalisation")
    check_value(label, bool(rise_guess), can_rise, name="train_error_can_rise", diagnoses=[diagnose_rise],
                hint="think of the polynomials of degree d as a subset of those of degree d + 1",
                success="the test error is U-shaped in the degree; the training error only falls")


# ----------------------------------------------------------------- 1.3

_BIAS_VARIANCE_HINT = ("average over the R training sets first: y_bar = predictions.mean(axis=0); then "
                       "bias2 = mean over x of (y_bar - truth)**2 and variance = mean over x of "
                       "mean over r of (predictions - y_bar)**2; return (bias2, variance) as two numbers")


def _bias_variance_cases() -> list[Case]:
    rng = np.random.default_rng(12)
    cases = []
    # R = P first: an average over the wrong axis still runs, so it can be recognised.
    for R, P, offset in ((5, 5, 0.4), (40, 8, -0.3), (2, 3, 0.2), (200, 1, 0.7)):
        truth = np.sin(np.linspace(0.0, 3.0, P))
        predictions = truth + offset * np.cos(np.arange(P)) + 0.5 * rng.standard_normal((R, P))
        cases.append(Case((predictions, truth), description=f"predictions of shape ({R}, {P}) (R = {R} fits, P = {P} points)"))
    return cases


def check_bias_variance(learner: Callable[[np.ndarray, np.ndarray], tuple[float, float]]) -> None:
    """Exercise 1.3: ``bias_variance(predictions (R, P), truth (P,)) -> (bias2, variance)``.

    Recognises: the bias not squared (signed or absolute), the variance
    divided by R - 1 (ddof=1), the variance taken around the truth instead of
    the mean prediction (that is bias^2 + variance), the bias squared per fit
    before averaging (same total), the mean over the wrong axis, the two
    numbers swapped, and per-point arrays not averaged over the test points.
    """
    label = "1.3"
    cases = _bias_variance_cases()
    first = cases[0]
    got = _probe(label, learner, *first.args)
    predictions, truth = first.args
    P = truth.shape[0]
    if got is not None and got.shape in ((2, P), (P, 2)):
        _fail(label, f"you return bias^2 and variance for each of the {P} test points (shape "
                     f"{format_shape(got.shape)}); expected two numbers",
              "average each over the test points as well: np.mean(...) over axis 0 of the per-point values")

    def diagnose(got: np.ndarray, want: np.ndarray, case: Case) -> str | None:
        predictions, truth = case.args
        R = predictions.shape[0]
        bias2, variance = want
        mean_prediction = predictions.mean(axis=0)
        if _close(got, np.array([variance, bias2])):
            return "you return (variance, bias2): the order is (bias2, variance)"
        if np.isclose(got[0], bias2) and R > 1 and np.isclose(got[1], variance * R / (R - 1)):
            return (f"your variance is {R}/{R - 1} times too large: you divide by R - 1 (ddof=1). "
                    "Divide by R (ddof=0, np.var's default): then bias^2 + variance equals the mean squared "
                    "distance of the predictions from the truth exactly, which is the decomposition")
        signed, absolute = np.mean(mean_prediction - truth), np.mean(np.abs(mean_prediction - truth))
        if np.isclose(got[0], signed) or np.isclose(got[0], -signed) or np.isclose(got[0], absolute):
            return ("your bias^2 is not squared: you average the (signed or absolute) difference between the "
                    "mean prediction and the truth; square it before averaging over the test points")
        total = bias2 + variance
        if np.isclose(got[1], total) and not np.isclose(variance, total):
            return ("your variance is measured around the truth, so it is bias^2 + variance (the total); "
                    "measure the spread around the mean prediction y_bar = predictions.mean(axis=0)")
        if np.isclose(got[0], total) and not np.isclose(bias2, total):
            return ("your bias^2 squares each fit's error before averaging, which gives the total "
                    "bias^2 + variance; average the predictions over the fits FIRST, then square")
        if predictions.shape[0] == predictions.shape[1]:
            wrong_mean = predictions.mean(axis=1)  # (R,) averaged over test points, not over fits
            if np.isclose(got[0], np.mean((wrong_mean - truth) ** 2)) or np.isclose(got[1], np.mean(predictions.var(axis=1))):
                return ("you average over the wrong axis: rows are the R training sets and columns the P test "
                        "points, so the mean prediction at each point is predictions.mean(axis=0)")
        return None

    check_array_function(label, learner, bias_variance_from_predictions, cases, diagnoses=[diagnose],
                         hint=_BIAS_VARIANCE_HINT,
                         success="bias^2 from the mean prediction, variance as the spread around it")
