"""Checks for chapter 01, the deep-learning landscape (polynomial capacity and bias-variance).

Each check prints a one-line success or raises ExerciseFailed with a diagnosis;
either way the verdict is recorded in :data:`dlcore.exercises.results`.

- 1.1 :func:`check_polynomial_features` (implement): the design matrix.
- 1.2 (derive): the gradient of the ridge objective, checked with 1.3's code.
- 1.3 :func:`check_ridge_gradient` (implement): that gradient as code.
- 1.4 :func:`check_fit_polynomial` (implement): least squares with an optional L2 penalty.
- 1.5 :func:`check_capacity_prediction` (predict): which degree generalises, and can training error rise?
- 1.6 :func:`check_bias_variance` (derive): bias² and variance from resampled fits.
- 1.7 :func:`check_cross_validate` (implement): k-fold cross-validation choosing the degree and λ.

A passing 1.3, 1.4, 1.6 or 1.7 makes the later cells run on the learner's function
(``implementation("fit_polynomial", poly.fit_coefficients, label="1.4")`` and so on).
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

import numpy as np

from dlcore.data import make_noisy_function
from dlcore.exercises.core import Case, Mistake, check_value, fail
from dlcore.exercises.functions import check_function
from dlcore.exercises.learner import learner_call
from dlcore.scratch import polynomial as poly
from dlcore.scratch.polynomial import (bias_variance_from_predictions, estimate_bias_variance, fit_coefficients,
                                       fit_polynomial, polynomial_features, predict_polynomial)

__all__ = ["check_polynomial_features", "check_ridge_gradient", "check_fit_polynomial", "check_capacity_prediction", "check_bias_variance",
           "check_cross_validate", "CAPACITY_DEGREES", "run_capacity_experiment", "REFERENCES"]

# The course's own versions of what each exercise builds (never shown before the exercise).
REFERENCES = {
    "1.1": (poly.polynomial_features,),
    "1.3": (poly.ridge_objective_gradient, poly.ridge_objective_backward),
    "1.4": (poly.fit_polynomial, poly.fit_coefficients),
    "1.6": (poly.bias_variance_from_predictions,),
    "1.7": (poly.cross_validate, poly.fold_indices),
}


def _python_function(function: Callable[..., Any]) -> Callable[..., Any]:
    """The Python function behind a NumPy dispatcher (np.vander, np.polyfit), which the delegation guard can watch."""
    return getattr(function, "__wrapped__", function)


# ----------------------------------------------------------------- 1.1

_FEATURES_MISTAKES = [
    Mistake("features-no-constant", lambda t, d: t[:, None] ** np.arange(1, d + 1),
            "the constant column is missing: your powers start at 1, so every curve would pass through 0"),
    Mistake("features-one-power-short", lambda t, d: t[:, None] ** np.arange(d),
            "one power short: a degree-D polynomial has D + 1 coefficients, your last column is t**(degree - 1)"),
    Mistake("features-one-power-too-many", lambda t, d: t[:, None] ** np.arange(d + 2),
            "one power too many: the powers run from 0 to degree, both ends included"),
    Mistake("features-reversed", lambda t, d: t[:, None] ** np.arange(d, -1, -1),
            "your columns are in reverse order (highest power first, as np.vander returns them); "
            "column j must hold t**j, so that coefficient j multiplies t**j"),
    Mistake("features-transposed", lambda t, d: (t[:, None] ** np.arange(d + 1)).T,
            "your matrix is transposed: one ROW per example and one COLUMN per power, so that Phi @ w gives "
            "one prediction per example"),
    Mistake("features-multiple-not-power", lambda t, d: t[:, None] * np.arange(d + 1),
            "your column j is t * j; it should be a power of t, not a multiple"),
    Mistake("features-flat", lambda t, d: t ** d,
            "you return a flat vector (only the highest power); the answer is a matrix with one column per power"),
]


def check_polynomial_features(learner: Callable[[np.ndarray, int], np.ndarray]) -> None:
    """Exercise 1.1: ``polynomial_features(t, degree) -> (N, degree + 1)`` with columns t**0 .. t**degree."""
    rng = np.random.default_rng(11)
    cases = [
        Case((np.linspace(-1.0, 1.0, 7), 3), description="t = linspace(-1, 1, 7), degree = 3"),
        Case((np.array([0.5]), 0), description="a single example t = [0.5], degree = 0"),
        Case((rng.uniform(-1, 1, 5), 6), description="5 random t in [-1, 1], degree = 6 (more columns than rows)"),
        Case((np.array([-1.0, 0.0, 0.3, 1.0]), 1), description="t = [-1, 0, 0.3, 1], degree = 1"),
    ]
    check_function("1.1", learner, polynomial_features, cases, name="polynomial_features",
                   mistakes=_FEATURES_MISTAKES, forbid=[_python_function(np.vander), np.polynomial.polynomial.polyvander],
                   hint="one row per example, one column per power j = 0, 1, ..., degree; broadcasting a column "
                        "of inputs against a row of exponents builds it in one expression",
                   success="Phi has one row per example and columns 1, t, t^2, ...")


# ----------------------------------------------------------------- 1.3

def _gradient_variant(w, phi, y, l2=0.0, *, mistake: str) -> np.ndarray:
    """dJ/dw with one typical mistake."""
    N = len(y)
    residual = phi @ w - y
    if mistake == "gradient-residual-sign":
        residual = -residual
    data = {"gradient-no-factor-2": 1.0 / N, "gradient-sum-not-mean": 2.0}.get(mistake, 2.0 / N) * (phi.T @ residual)
    penalised = w if mistake == "gradient-penalises-intercept" else np.concatenate([[0.0], w[1:]])
    return data + (1.0 if mistake == "gradient-penalty-no-2" else 2.0) * l2 * penalised


_GRADIENT_MISTAKES = [Mistake(key, partial(_gradient_variant, mistake=key), message) for key, message in (
    ("gradient-residual-sign", "your gradient points the wrong way: the residual is prediction minus target, "
                               "phi @ w - y, and its sign matters"),
    ("gradient-no-factor-2", "the derivative of a square (r**2) is 2r: the data term lost its factor 2"),
    ("gradient-sum-not-mean", "your data term is N times too large: J averages the squared errors (1/N)"),
    ("gradient-penalises-intercept", "the penalty's gradient has a non-zero first entry: w[0] is not penalised, "
                                     "so its entry in the penalty's gradient is 0"),
    ("gradient-penalty-no-2", "the derivative of l2 * w_j**2 is 2 * l2 * w_j: the penalty term lost its factor 2"),
)]


def _gradient_cases() -> list[Case]:
    rng = np.random.default_rng(13)
    cases = []
    for N, P, l2 in ((6, 4, 0.1), (3, 5, 0.5), (8, 1, 0.2), (7, 3, 0.0)):
        phi, w, y = rng.standard_normal((N, P)), rng.standard_normal(P), rng.standard_normal(N)
        cases.append(Case((w, phi, y, l2), description=f"phi of shape ({N}, {P}), l2 = {l2}"))
    return cases


def check_ridge_gradient(learner: Callable[..., np.ndarray]) -> None:
    """Exercise 1.3: ``ridge_gradient(w, phi, y, l2) -> dJ/dw`` of shape (P,)."""
    check_function("1.3", learner, poly.ridge_objective_gradient, _gradient_cases(), name="ridge_gradient",
                   mistakes=_GRADIENT_MISTAKES, forbid=[poly.ridge_objective_backward],
                   hint="differentiate the two terms of J separately (exercise 1.2): one matrix product for the data "
                        "term, one vector for the penalty; the result has the shape of w",
                   success="the data term and the penalty's gradient, the intercept left out of the penalty")


# ----------------------------------------------------------------- 1.4

def _fit_variant(x: np.ndarray, y: np.ndarray, degree: int, l2: float = 0.0, *, mistake: str) -> np.ndarray:
    """A typical wrong least-squares/ridge fit; returns its coefficients."""
    N = len(x)
    t = x if mistake == "fit-unscaled-input" else 2.0 * x - 1.0
    phi = t[:, None] ** np.arange(degree + 1)
    if mistake == "fit-ignores-l2":
        l2 = 0.0
    if l2 > 0:
        scale = {"fit-penalty-not-scaled-by-n": np.sqrt(l2), "fit-penalty-not-rooted": N * l2}.get(mistake, np.sqrt(N * l2))
        rows = np.eye(degree + 1) if mistake == "fit-penalises-intercept" else np.eye(degree + 1)[1:]
        phi = np.vstack([phi, scale * rows])
        y = np.concatenate([y, np.zeros(len(rows))])
    coef = np.linalg.lstsq(phi, y, rcond=None)[0]
    return coef[::-1] if mistake == "fit-reversed-coefficients" else coef


_FIT_MISTAKES = [Mistake(key, partial(_fit_variant, mistake=key), message) for key, message in (
    ("fit-unscaled-input", "your fit uses x itself; the features are powers of t = 2x - 1, the input mapped to [-1, 1]"),
    ("fit-reversed-coefficients", "your coefficients are in reverse order (highest power first, as np.polyfit "
                                  "returns them); w[j] must multiply t**j"),
    ("fit-ignores-l2", "with l2 > 0 your coefficients are the unpenalised least-squares ones: the penalty is ignored"),
    ("fit-penalises-intercept", "you penalise the intercept w[0] too; shifting the curve up or down adds no wiggle, "
                                "so the penalty is on w[1:] only"),
    ("fit-penalty-not-scaled-by-n", "your penalty is N times too weak: the objective averages the squared errors "
                                    "(1/N), so the normal equations hold N * l2, not l2"),
    ("fit-penalty-not-rooted", "your penalty rows are scaled by N * l2; a row r appended to the least-squares "
                               "system adds (r . w)**2 to the sum, so the rows need the square root of N * l2"),
)]


def _fit_cases() -> list[Case]:
    rng = np.random.default_rng(12)
    cases = []
    for N, degree, l2, what in ((9, 3, 0.0, "no penalty"), (15, 5, 0.01, "l2 = 0.01"), (12, 4, 0.5, "l2 = 0.5"),
                                (6, 2, 1e-3, "l2 = 0.001")):
        x = np.sort(rng.uniform(0.0, 1.0, N))
        y = np.sin(2 * np.pi * x) + 0.3 * rng.standard_normal(N)
        cases.append(Case((x, y, degree, l2), description=f"{N} points, degree {degree}, {what}"))
    return cases


def check_fit_polynomial(learner: Callable[..., np.ndarray]) -> None:
    """Exercise 1.4: ``fit_polynomial(x, y, degree, l2=0.0) -> w`` of shape (degree + 1,).

    Recognises: x not mapped to t = 2x - 1, the coefficients reversed, l2 ignored, the intercept
    penalised, the penalty not scaled by N, the penalty rows scaled by N l2 instead of its root.
    """
    check_function("1.4", learner, fit_coefficients, _fit_cases(), name="fit_polynomial", mistakes=_FIT_MISTAKES,
                   forbid=[fit_polynomial, _python_function(np.polyfit), np.polynomial.polynomial.polyfit],
                   hint="minimise (1/N)||Phi w - y||^2 + l2 ||w[1:]||^2: write the normal equations above as one "
                        "least-squares problem (extra rows for the penalty) and solve it with np.linalg.lstsq",
                   success="least squares, with the penalty on every coefficient but the intercept")


# ----------------------------------------------------------------- 1.5

CAPACITY_DEGREES = (1, 3, 5, 9, 15)


def run_capacity_experiment(seed: int = 13) -> tuple[dict[int, float], float]:
    """The experiment behind exercise 1.5.

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


_DEGREE_REASONS = {
    1: "a straight line cannot follow a full period of a sine, whatever the data: its error is mostly bias^2",
    5: "degree 5 can follow the sine a little more closely, but with 20 noisy points its extra flexibility costs "
       "more variance than it saves in bias",
    9: "degree 9 costs far more variance than it saves in bias with only 20 noisy points",
    15: "degree 15 has the lowest TRAINING error, not test error: with only 20 points its fits swing wildly "
        "between training sets (variance), and the test error explodes",
}
_RISE_REASON = ("the training error of least squares cannot rise with the degree: every degree-d polynomial is also "
                "a degree-(d+1) polynomial (top coefficient 0), so the best fit in the larger family is at least as good")


def _prediction_mistakes(best: int, can_rise: bool) -> list[Mistake]:
    mistakes = []
    for degree in CAPACITY_DEGREES:
        for rise in (False, True):
            if (degree, rise) == (best, can_rise):
                continue
            reasons = ([_DEGREE_REASONS.get(degree, f"degree {degree} is not the lowest-test-error degree")]
                       if degree != best else []) + ([_RISE_REASON] if rise != can_rise and rise else [])
            ids = ([f"best-degree-{degree}"] if degree != best else []) + (["train-error-rises"] if rise != can_rise else [])
            mistakes.append(Mistake("+".join(ids), (lambda d=degree, r=rise: (d, r)), "; and ".join(reasons) or
                                    "train_error_can_rise is wrong"))
    return mistakes


def check_capacity_prediction(learner: Callable[[], tuple[int, bool]]) -> None:
    """Exercise 1.5: the learner's function returns ``(best_degree, train_error_can_rise)``.

    Runs :func:`run_capacity_experiment`, prints its numbers, and compares. Every wrong pair
    is a known mistake, its id naming the wrong parts (``best-degree-15``, ``train-error-rises``).
    """
    label = "1.5"
    answer = learner_call(label, learner, name="my_prediction")
    if not (isinstance(answer, tuple) and len(answer) == 2):
        fail(label, f"your function returned {answer!r}; expected a pair (best_degree, train_error_can_rise)",
             "end with `return best_degree, train_error_can_rise`, e.g. `return 9, True`", "not-a-pair")
    best_guess, rise_guess = answer
    if isinstance(best_guess, bool) or not isinstance(best_guess, (int, np.integer)) or best_guess not in CAPACITY_DEGREES:
        fail(label, f"best_degree = {best_guess!r} is not one of the degrees {list(CAPACITY_DEGREES)}",
             "pick the degree from the list whose test error you expect to be lowest", "degree-not-offered")
    if not isinstance(rise_guess, (bool, np.bool_)):
        fail(label, f"train_error_can_rise = {rise_guess!r}; expected True or False", "answer with a bool",
             "rise-not-a-bool")

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
    check_value(label, (int(best_guess), bool(rise_guess)), (best, can_rise), name="your prediction",
                mistakes=_prediction_mistakes(best, can_rise),
                hint="look at the table above: test error, not training error, measures generalisation; and think "
                     "of the polynomials of degree d as a subset of those of degree d + 1",
                success="the test error is U-shaped in the degree; the training error only falls")


# ----------------------------------------------------------------- 1.6

def _bias_variance_cases() -> list[Case]:
    rng = np.random.default_rng(12)
    cases = []
    # R = P first: an average over the wrong axis still runs, so it can be recognised.
    for R, P, offset in ((5, 5, 0.4), (40, 8, -0.3), (2, 3, 0.2), (200, 1, 0.7)):
        truth = np.sin(np.linspace(0.0, 3.0, P))
        predictions = truth + offset * np.cos(np.arange(P)) + 0.5 * rng.standard_normal((R, P))
        cases.append(Case((predictions, truth), description=f"predictions of shape ({R}, {P}) (R = {R} fits, P = {P} points)"))
    return cases


def _mean_fit(p: np.ndarray) -> np.ndarray:
    return p.mean(axis=0)


_BIAS_VARIANCE_MISTAKES = [
    Mistake("variance-ddof-1", lambda p, f: (np.mean((_mean_fit(p) - f) ** 2), np.mean(p.var(axis=0, ddof=1))),
            "your variance divides by R - 1 (ddof=1); divide by R, so that bias^2 + variance equals the mean squared "
            "distance of the predictions from the truth exactly"),
    Mistake("bias-not-squared", lambda p, f: (np.mean(_mean_fit(p) - f), np.mean(p.var(axis=0))),
            "your bias^2 is not squared: you average the signed difference between the mean prediction and the truth"),
    Mistake("bias-absolute", lambda p, f: (np.mean(np.abs(_mean_fit(p) - f)), np.mean(p.var(axis=0))),
            "your bias^2 is not squared: you average the absolute difference between the mean prediction and the truth"),
    Mistake("variance-around-truth", lambda p, f: (np.mean((_mean_fit(p) - f) ** 2), np.mean((p - f) ** 2)),
            "your variance is measured around the truth, so it is bias^2 + variance (the total); measure the "
            "spread around the mean prediction"),
    Mistake("bias-squared-per-fit", lambda p, f: (np.mean((p - f) ** 2), np.mean(p.var(axis=0))),
            "your bias^2 squares each fit's error before averaging over the fits, which gives the total "
            "bias^2 + variance; average the predictions over the fits first, then compare with the truth"),
    Mistake("bias-variance-wrong-axis", lambda p, f: (np.mean((p.mean(axis=1) - f) ** 2), np.mean(p.var(axis=1))),
            "you average over the wrong axis: rows are the R training sets and columns the P test points, "
            "so the mean prediction at a test point is an average down a column"),
    Mistake("bias-variance-swapped", lambda p, f: (np.mean(p.var(axis=0)), np.mean((_mean_fit(p) - f) ** 2)),
            "you return (variance, bias2): the order is (bias2, variance)"),
    Mistake("bias-variance-per-point", lambda p, f: ((_mean_fit(p) - f) ** 2, p.var(axis=0)),
            "you return bias^2 and variance for each test point; average each over the P test points as well"),
]


def check_bias_variance(learner: Callable[[np.ndarray, np.ndarray], tuple[float, float]]) -> None:
    """Exercise 1.6: ``bias_variance(predictions (R, P), truth (P,)) -> (bias2, variance)``."""
    check_function("1.6", learner, bias_variance_from_predictions, _bias_variance_cases(), name="bias_variance",
                   outputs=("bias2", "variance"), mistakes=_BIAS_VARIANCE_MISTAKES,
                   hint="follow the decomposition: first the average fit at each test point (over the R rows), "
                        "then the two averages of squared differences, each also averaged over the P points",
                   success="bias^2 from the mean prediction, variance as the spread around it")


# ----------------------------------------------------------------- 1.7

def _cv_variant(x, y, degrees, l2_values, k, fit, *, mistake: str) -> tuple[np.ndarray, Any, Any, np.ndarray]:
    """Cross-validation with one typical mistake; returns (errors, best degree, best l2, w) as the reference does."""
    N = len(x)
    if mistake == "cv-contiguous-folds":
        folds = np.array_split(np.arange(N), k)
    else:
        folds = [np.arange(i, N, k) for i in range(k)]
    if mistake == "cv-last-fold-dropped":
        folds = folds[:-1]
    if mistake == "cv-single-holdout":
        folds = folds[:1]
    errors = np.zeros((len(degrees), len(l2_values)))
    for i, degree in enumerate(degrees):
        for j, l2 in enumerate(l2_values):
            squared, sizes = [], []
            for held_out in folds:
                train = np.setdiff1d(np.arange(N), held_out)
                fitted_on = np.arange(N) if mistake == "cv-validation-in-training" else train
                measured_on = train if mistake == "cv-training-error" else held_out
                w = fit(x[fitted_on], y[fitted_on], degree, l2)
                error = (polynomial_features(2 * x[measured_on] - 1, degree) @ w - y[measured_on]) ** 2
                squared.append(error.sum() if mistake == "cv-pooled-folds" else error.mean())
                sizes.append(len(measured_on))
            if mistake == "cv-pooled-folds":
                errors[i, j] = np.sum(squared) / np.sum(sizes)
            elif mistake == "cv-sum-of-folds":
                errors[i, j] = np.sum(squared)
            else:
                errors[i, j] = np.mean(squared)
    best_i, best_j = np.unravel_index(np.argmin(errors), errors.shape)
    best_degree, best_l2 = degrees[best_i], l2_values[best_j]
    if mistake == "cv-final-fit-on-last-training-folds":
        w = fit(x[np.setdiff1d(np.arange(N), folds[-1])], y[np.setdiff1d(np.arange(N), folds[-1])], best_degree, best_l2)
    else:
        w = fit(x, y, best_degree, best_l2)
    if mistake == "cv-returns-indices":
        return errors, best_i, best_j, w
    return errors, best_degree, best_l2, w


_CV_MISTAKES = [Mistake(key, partial(_cv_variant, mistake=key), message) for key, message in (
    ("cv-validation-in-training", "you fit on all N points, the held-out fold included, so every fold's error is "
                                  "measured on points the fit has seen: fit on the other k - 1 folds only"),
    ("cv-training-error", "you measure each fit on the points it was fitted to (the training folds); the error "
                          "must be measured on the held-out fold"),
    ("cv-contiguous-folds", "your folds are contiguous blocks; the exercise's fold i holds the examples whose index "
                            "n has n % k == i (x arrives sorted, so a block would make each fold an extrapolation)"),
    ("cv-last-fold-dropped", "your loop leaves out the last fold: every one of the k folds is held out once"),
    ("cv-single-holdout", "you hold out only the first fold; k-fold cross-validation holds out each of the k folds "
                          "in turn and averages"),
    ("cv-pooled-folds", "you pool the squared errors of all held-out points; average the k folds' mean squared "
                        "errors instead (they differ when the folds have different sizes)"),
    ("cv-sum-of-folds", "you add up the k fold errors; average them"),
    ("cv-returns-indices", "you return the positions of the best degree and λ in the grid, not their values"),
    ("cv-final-fit-on-last-training-folds", "your final w is fitted on the training part of the last fold only; once "
                                            "the setting is chosen, refit it on all N examples"),
)]


def _cv_cases() -> list[Case]:
    cases = []
    for N, k, degrees, l2_values, seed in ((23, 5, [0, 1, 3, 5], [0.0, 1e-3, 0.1], 31), (12, 3, [1, 2, 4], [0.0, 0.05], 32),
                                           (30, 6, [3, 6, 9], [1e-6, 1e-3, 1e-1, 10.0], 33)):
        x, y = make_noisy_function(N, 0.3, seed=seed)
        cases.append(Case((x, y, degrees, l2_values, k, fit_coefficients),
                          description=f"{N} sorted points, k = {k}, degrees {degrees}, l2 in {l2_values}"))
    return cases


def check_cross_validate(learner: Callable[..., tuple]) -> None:
    """Exercise 1.7: ``cross_validate(x, y, degrees, l2_values, k, fit) -> (errors, best_degree, best_l2, w)``."""
    check_function("1.7", learner, poly.cross_validate, _cv_cases(), name="cross_validate",
                   outputs=("errors", "best_degree", "best_l2", "w"), mistakes=_CV_MISTAKES, forbid=[poly.fold_indices],
                   hint="for each (degree, l2) and each fold i: fit on the examples outside fold i, measure the mean "
                        "squared error on fold i; errors[degree index, l2 index] is the average over the k folds; then "
                        "refit the chosen setting on everything",
                   success="each fold held out once, the k errors averaged, the lowest entry chosen and refitted")
