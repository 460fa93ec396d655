"""Capacity of a polynomial: one training set fitted at every degree, train and test error, a verdict (chapter 01).

The experiment behind chapter 01's capacity explorer (:class:`dlcore.widgets.capacity.CapacityExplorer`):
``n_train`` noisy points of the true function sin(2 pi x) on [0, 1] and ``N_TEST`` fresh ones from the
same seed, a least-squares polynomial (:mod:`dlcore.scratch.polynomial`) of every degree 0..MAX_DEGREE
fitted to the training points, and the mean squared error of each on both sets:

    train(d) = (1/N) sum_n (p_d(x_n) - y_n)^2,   test(d) likewise on the fresh points.

:func:`classify_fit` names the regime from those numbers alone: a good fit, underfitting or overfitting.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from dlcore.data.synthetic import make_noisy_function
from dlcore.errors import expect_nonnegative_int, expect_positive_int, expect_real
from dlcore.scratch.polynomial import PolynomialFit, fit_coefficients, polynomial_features, scale_to_unit_interval

__all__ = ["MAX_DEGREE", "N_TEST", "GOOD_FIT_FACTOR", "true_function", "classify_fit", "DegreeSweep",
           "fits_of_every_degree"]

MAX_DEGREE = 20
N_TEST = 500
GOOD_FIT_FACTOR = 1.25  # within 25 % of the best test error counts as a good fit


def true_function(x: np.ndarray) -> np.ndarray:
    """The function behind the data, f(x) = sin(2 pi x) (:func:`dlcore.data.make_noisy_function`'s default).

    ``x``: an array of any shape; returns f(x) of the same shape.
    """
    return np.sin(2 * np.pi * x)


def classify_fit(train_error: float, test_error: float, best_test_error: float) -> str:
    """Name the regime: 'good fit', 'underfitting' or 'overfitting'.

    Good fit: the test error is within 25 % (plus 1e-3) of the best test
    error found at any degree. Otherwise, if the training error is at least
    half the test error, the model cannot even fit its training data
    (underfitting); if it is far below, it has fitted the noise (overfitting).
    A NaN test error (a fit that broke down) is never a good fit.
    """
    if test_error <= GOOD_FIT_FACTOR * best_test_error + 1e-3:
        return "good fit"
    return "underfitting" if train_error >= 0.5 * test_error else "overfitting"


class DegreeSweep(NamedTuple):
    """What :func:`fits_of_every_degree` returns; every array is read-only."""

    x_train: np.ndarray  # (N,)
    y_train: np.ndarray  # (N,)
    train_errors: np.ndarray  # (MAX_DEGREE + 1,) mean squared error on the training points, by degree
    test_errors: np.ndarray  # (MAX_DEGREE + 1,) mean squared error on N_TEST fresh points, by degree
    fits: tuple[PolynomialFit, ...]  # MAX_DEGREE + 1 fits, degree 0 first


def fits_of_every_degree(n_train: int, noise: float, seed: int, penalty: float,
                         fit: Callable[[np.ndarray, np.ndarray, int, float], np.ndarray] = fit_coefficients
                         ) -> DegreeSweep:
    """One training set fitted at every degree 0..MAX_DEGREE, and each fit's train and test error.

    The training points are ``make_noisy_function(n_train, noise)`` drawn from ``default_rng([seed, 0])``,
    the N_TEST test points from ``default_rng([seed, 1])``: the same seed gives the same sets at every
    degree and every penalty. ``fit(x, y, degree, l2)`` returns the coefficients (the course's least squares,
    :func:`~dlcore.scratch.polynomial.fit_coefficients`, by default; chapter 01 passes the learner's).

    The arrays are made read-only, so that a caller may keep the results by setting (the explorer refits
    nothing when only its degree slider moves).

    Returns:
        a :class:`DegreeSweep`.

    Raises:
        TypeError, ValueError: for an n_train below 1, a negative or non-finite noise or penalty, or a
        negative seed (each named).
    """
    n_train = expect_positive_int("fits_of_every_degree", "n_train", n_train)
    noise = expect_real("fits_of_every_degree", "noise", noise, minimum=0.0)
    seed = expect_nonnegative_int("fits_of_every_degree", "seed", seed)
    penalty = expect_real("fits_of_every_degree", "penalty", penalty, minimum=0.0)
    x_train, y_train = make_noisy_function(n_train, noise, seed=np.random.default_rng([seed, 0]))
    x_test, y_test = make_noisy_function(N_TEST, noise, seed=np.random.default_rng([seed, 1]))
    fits = tuple(PolynomialFit(np.asarray(fit(x_train, y_train, degree, penalty), dtype=np.float64), degree, penalty,
                               0.0, 1.0) for degree in range(MAX_DEGREE + 1))

    def mean_squared_errors(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # predict_polynomial for every fit, the powers of x computed once: degree d uses the first d + 1
        # columns (copied, so that the product is computed exactly as predict_polynomial computes it)
        phi = polynomial_features(scale_to_unit_interval(x, 0.0, 1.0), MAX_DEGREE)  # (N, MAX_DEGREE + 1)
        return np.array([np.mean((np.ascontiguousarray(phi[:, : f.degree + 1]) @ f.coef - y) ** 2) for f in fits])

    train, test = mean_squared_errors(x_train, y_train), mean_squared_errors(x_test, y_test)
    for array in (x_train, y_train, train, test, *(fit.coef for fit in fits)):
        array.flags.writeable = False
    return DegreeSweep(x_train, y_train, train, test, fits)
