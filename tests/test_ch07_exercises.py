"""Chapter 07 checks: each passes the reference and fails plausible wrong answers with their diagnosis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from dlcore.exercises import ch07
from dlcore.exercises.core import ExerciseFailed
from dlcore.scratch.batchnorm import batchnorm_forward

@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Small matrices run faster on one BLAS thread, as in the notebooks (seed_everything(threads=1))."""
    with threadpool_limits(1):
        yield


def _not_done(*args, **kwargs):
    raise NotImplementedError("Exercise 7.x: write your code here")


# ---------------------------------------------------------------- 7.1

def test_init_std_reference_passes():
    assert ch07.check_init_std(ch07.reference_init_std).passed


def _init_with(he, xavier):
    return lambda scheme, fan_in, fan_out: he(fan_in, fan_out) if scheme == "he" else xavier(fan_in, fan_out)


@pytest.mark.parametrize("he, xavier, message", [
    (lambda i, o: math.sqrt(2 / o), lambda i, o: math.sqrt(2 / (i + o)), "He scales by fan_IN"),
    (lambda i, o: math.sqrt(1 / i), lambda i, o: math.sqrt(2 / (i + o)), "the ReLU gain √2 is missing"),
    (lambda i, o: 2 / i, lambda i, o: 2 / (i + o), "you returned the VARIANCE 2 / fan_in"),
    (lambda i, o: math.sqrt(2 / i), lambda i, o: 2 / (i + o), r"you returned the VARIANCE 2 / \(fan_in \+ fan_out\)"),
    (lambda i, o: math.sqrt(6 / i), lambda i, o: math.sqrt(2 / (i + o)), "is the BOUND a of the uniform"),
    (lambda i, o: math.sqrt(2 / i), lambda i, o: math.sqrt(1 / (i + o)), "the factor 2 is missing"),
    (lambda i, o: math.sqrt(2 / i), lambda i, o: math.sqrt(1 / i), "LeCun's scaling"),
    (lambda i, o: math.sqrt(2) / i, lambda i, o: math.sqrt(2 / (i + o)), "the square root must cover fan_in too"),
])
def test_init_std_mistakes_are_diagnosed(he, xavier, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch07.check_init_std(_init_with(he, xavier))


def test_init_std_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 7.1 is not done yet"):
        ch07.check_init_std(_not_done)


# ---------------------------------------------------------------- 7.2

def test_output_variance():
    assert ch07.check_output_variance(lambda n, v, m, s2: n * v * (s2 + np.square(m))).passed
    wrong = {
        "the mean of the inputs is missing": lambda n, v, m, s2: n * v * s2,
        "you used the std of the weights": lambda n, v, m, s2: n * np.sqrt(v) * (s2 + np.square(m)),
        "fan_in is missing": lambda n, v, m, s2: v * (s2 + np.square(m)),
        "n² is what correlated terms would give": lambda n, v, m, s2: np.square(n) * v * (s2 + np.square(m)),
        "with μ squared": lambda n, v, m, s2: n * v * (s2 + m),
    }
    for message, function in wrong.items():
        with pytest.raises(ExerciseFailed, match=message):
            ch07.check_output_variance(function)
    with pytest.raises(NotImplementedError, match="Exercise 7.2 is not done yet"):
        ch07.check_output_variance(_not_done)


# ---------------------------------------------------------------- 7.3

def test_batchnorm_forward_reference_passes():
    assert ch07.check_batchnorm_forward(lambda x, g, b, eps=1e-5: batchnorm_forward(x, g, b, eps=eps)[0]).passed
    assert ch07.check_batchnorm_forward(lambda x, g, b, eps=1e-5: ch07._bn_variant(x, g, b, eps)).passed


@pytest.mark.parametrize("mistake, message", [
    (dict(ddof=1), "UNBIASED variance"),
    (dict(axis=1), "over the wrong axis"),
    (dict(eps_outside=True), "ε is outside the square root"),
    (dict(affine=False), "γ and β are not applied"),
    (dict(swap=True), "γ and β are swapped"),
    (dict(divide_by_var=True), "you divided by the variance"),
    (dict(centre=False), "the mean is not subtracted"),
])
def test_batchnorm_forward_mistakes_are_diagnosed(mistake, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch07.check_batchnorm_forward(lambda x, g, b, eps=1e-5: ch07._bn_variant(x, g, b, eps, **mistake))


def test_batchnorm_forward_in_place_and_not_done():
    def in_place(x, gamma, beta, eps=1e-5):
        x -= x.mean(axis=0)
        return gamma * x / np.sqrt(x.var(axis=0) + eps) + beta

    with pytest.raises(ExerciseFailed, match="changed its input array in place"):
        ch07.check_batchnorm_forward(in_place)
    with pytest.raises(NotImplementedError, match="Exercise 7.3 is not done yet"):
        ch07.check_batchnorm_forward(_not_done)


# ---------------------------------------------------------------- 7.4

def test_batchnorm_backward_reference_passes():
    assert ch07.check_batchnorm_backward(ch07.reference_batchnorm_backward).passed
    assert ch07.check_batchnorm_backward(lambda d, x, g, eps=1e-5: ch07._bn_backward_variant(d, x, g, eps)).passed


@pytest.mark.parametrize("mistake, message", [
    (dict(no_gamma=True), "dx lacks the factor γ"),
    (dict(constants=True), "treated μ and σ² as constants"),
    (dict(no_var_term=True), "the path through the variance is missing"),
    (dict(no_mean_term=True), "the path through the mean is missing"),
    (dict(axis=1), "the sums run over the wrong axis"),
    (dict(swap=True), "dgamma and dbeta are swapped"),
    (dict(dgamma_x=True), "uses the NORMALISED input"),
    (dict(ddof=1), "unbiased variance"),
])
def test_batchnorm_backward_mistakes_are_diagnosed(mistake, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch07.check_batchnorm_backward(lambda d, x, g, eps=1e-5: ch07._bn_backward_variant(d, x, g, eps, **mistake))


def test_batchnorm_backward_bad_returns_and_not_done():
    with pytest.raises(ExerciseFailed, match=r"must return three arrays \(dx, dgamma, dbeta\)"):
        ch07.check_batchnorm_backward(lambda d, x, g, eps=1e-5: ch07.reference_batchnorm_backward(d, x, g, eps)[0])
    with pytest.raises(ExerciseFailed, match="the shapes must be dx"):
        ch07.check_batchnorm_backward(
            lambda d, x, g, eps=1e-5: tuple(a[None] if a.ndim == 1 else a for a in ch07.reference_batchnorm_backward(d, x, g, eps)))
    with pytest.raises(NotImplementedError, match="Exercise 7.4 is not done yet"):
        ch07.check_batchnorm_backward(_not_done)


# ---------------------------------------------------------------- 7.5

RIGHT = ("vanishing", "stable", "vanishing", "stable", "exploding")


def test_regime_prediction_right_answer_matches_the_measurement():
    assert tuple(regime for regime, _ in ch07.measure_regimes()) == RIGHT
    assert ch07.check_regime_prediction(RIGHT).passed
    assert ch07.check_regime_prediction(tuple(p.upper() for p in RIGHT)).passed


@pytest.mark.parametrize("prediction, message", [
    (("vanishing", "stable", "stable", "stable", "exploding"), "ReLU passes only half of its inputs"),
    (("stable", "stable", "vanishing", "stable", "exploding"), r"σ' ≤ 1/4"),
    (("vanishing", "vanishing", "vanishing", "stable", "exploding"), "tanh has slope ≈ 1 near 0"),
    (("vanishing", "stable", "vanishing", "stable", "stable"), "each ReLU layer multiplies the variance by 64/2 = 32"),
    (("vanishing", "stable", "vanishing", "vanishing", "exploding"), "exactly makes up for the half"),
])
def test_regime_prediction_wrong_entries_are_explained(prediction, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch07.check_regime_prediction(prediction)


def test_regime_prediction_bad_form_and_not_done():
    with pytest.raises(ExerciseFailed, match="should be a tuple of 5 words"):
        ch07.check_regime_prediction(("vanishing", "stable"))
    with pytest.raises(ExerciseFailed, match="should be a tuple of 5 words"):
        ch07.check_regime_prediction(("vanishing", "fine", "vanishing", "stable", "exploding"))
    with pytest.raises(NotImplementedError, match="Exercise 7.5 is not done yet"):
        ch07.check_regime_prediction(...)
