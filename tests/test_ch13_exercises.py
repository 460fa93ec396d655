"""Chapter 13 checks: each passes the reference and fails plausible wrong answers with their diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.exercises import ch13
from dlcore.exercises.core import ExerciseFailed
from dlcore.scratch.rbm import free_energy


def _not_done(*args, **kwargs):
    raise NotImplementedError("Exercise 13.x: write your code here")


# ---------------------------------------------------------------- 13.1

def test_reparameterize_reference_passes():
    assert ch13.check_reparameterize(ch13.reference_reparameterize).passed


@pytest.mark.parametrize("wrong, message", [
    (lambda m, lv, e: m + np.exp(lv) * e, "the VARIANCE"),
    (lambda m, lv, e: m + lv * e, "logvar is log sigma², not sigma"),
    (lambda m, lv, e: m + np.exp(-0.5 * lv) * e, "wrong sign in the exponent"),
    (lambda m, lv, e: np.exp(0.5 * lv) * e, "the mean is missing"),
    (lambda m, lv, e: (m + np.exp(0.5 * lv) * e).T, "shape"),
])
def test_reparameterize_diagnoses(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch13.check_reparameterize(wrong)


def test_reparameterize_in_place_is_caught():
    def in_place(m, lv, e):
        e *= np.exp(0.5 * lv)
        return m + e
    with pytest.raises(ExerciseFailed, match="changed its input array in place"):
        ch13.check_reparameterize(in_place)


def test_reparameterize_not_done():
    with pytest.raises(NotImplementedError, match="13.1 is not done yet"):
        ch13.check_reparameterize(_not_done)


# ---------------------------------------------------------------- 13.2

def test_kl_reference_passes():
    assert ch13.check_kl_two_gaussians(ch13.reference_kl_two_gaussians).passed


@pytest.mark.parametrize("wrong, message", [
    (lambda m1, s1, m2, s2: ch13.reference_kl_two_gaussians(m2, s2, m1, s1), "not symmetric"),
    (lambda m1, s1, m2, s2: np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2), "-1/2 is missing"),
    (lambda m1, s1, m2, s2: np.log(s2 ** 2 / s1 ** 2) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5,
     "twice too big"),
    (lambda m1, s1, m2, s2: np.log(s2 / s1) + (s1 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5, "you used the std s1"),
    (lambda m1, s1, m2, s2: np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / s2 ** 2 - 0.5, "factor 1/2"),
    (lambda m1, s1, m2, s2: np.log(s1 / s2) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5, "wrong sign"),
])
def test_kl_diagnoses(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch13.check_kl_two_gaussians(wrong)


def test_kl_reference_matches_monte_carlo():
    rng = np.random.default_rng(0)
    x = rng.normal(0.5, 0.8, 400_000)
    log_q1 = -0.5 * ((x - 0.5) / 0.8) ** 2 - np.log(0.8)
    log_q2 = -0.5 * ((x + 1.0) / 1.5) ** 2 - np.log(1.5)
    estimate = np.mean(log_q1 - log_q2)
    assert abs(estimate - ch13.reference_kl_two_gaussians(0.5, 0.8, -1.0, 1.5)) < 5e-3


def test_kl_not_done():
    with pytest.raises(NotImplementedError, match="13.2 is not done yet"):
        ch13.check_kl_two_gaussians(_not_done)


# ---------------------------------------------------------------- 13.3

def test_free_energy_reference_passes():
    assert ch13.check_free_energy(free_energy).passed


@pytest.mark.parametrize("wrong, message", [
    (lambda v, W, b, c: -np.logaddexp(0.0, v @ W + c).sum(axis=1), "visible bias term"),
    (lambda v, W, b, c: v @ b + np.logaddexp(0.0, v @ W + c).sum(axis=1), "sign is flipped"),
    (lambda v, W, b, c: -v @ b - (v @ W + c).sum(axis=1), r"log\(1 \+ e\^x\) \(softplus\), not x"),
    (lambda v, W, b, c: -v @ b - np.logaddexp(0.0, v @ W).sum(axis=1), "hidden biases c are missing"),
    (lambda v, W, b, c: -v @ b - np.log(1.0 + np.exp(v @ W + c)).sum(axis=1), "np.logaddexp"),
    (lambda v, W, b, c: -v @ b - np.logaddexp(0.0, v @ W + c).sum(axis=0), "shape"),
])
def test_free_energy_diagnoses(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch13.check_free_energy(wrong)


def test_free_energy_not_done():
    with pytest.raises(NotImplementedError, match="13.3 is not done yet"):
        ch13.check_free_energy(_not_done)


# ---------------------------------------------------------------- 13.4

def test_pca_prediction_passes():
    assert ch13.check_pca_error_prediction(2.0).passed


@pytest.mark.parametrize("wrong, message", [
    (8.0, "the variance the code KEEPS"),
    (0.4, "error per coordinate"),
    (0.5, "only the two smallest"),
    (9.5, "keeping the two SMALLEST"),
    (0.2, "fraction of the variance"),
    (3.0, "is not right"),
    ("two", "should be a number"),
])
def test_pca_prediction_diagnoses(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch13.check_pca_error_prediction(wrong)


def test_pca_prediction_not_done():
    with pytest.raises(NotImplementedError, match="13.4 is not done yet"):
        ch13.check_pca_error_prediction(...)


# ---------------------------------------------------------------- 13.5

def test_denoiser_prediction_passes():
    assert ch13.check_denoiser_prediction(ch13.reference_denoiser(ch13.DENOISER_PROBES)).passed
    assert ch13.check_denoiser_prediction((0.0, 1.0, -1.0)).passed  # within 0.05 of tanh


@pytest.mark.parametrize("wrong, message", [
    ((0.0, 3.0, -5.0), "you predicted the identity"),
    ((0.0, 2.0, -1.0), "outside \\[-1, 1\\]"),
    ((1.0, 1.0, -1.0), "their MEAN, 0"),
    ((0.0, 0.5, -0.5), "is not right"),
    ((0.0, 1.0), "shape"),
])
def test_denoiser_prediction_diagnoses(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch13.check_denoiser_prediction(wrong)


def test_denoiser_prediction_not_done():
    with pytest.raises(NotImplementedError, match="13.5 is not done yet"):
        ch13.check_denoiser_prediction(...)


def test_reference_denoiser_is_the_posterior_mean():
    rng = np.random.default_rng(0)
    x = rng.choice([-1.0, 1.0], 400_000)
    noisy = x + rng.standard_normal(x.shape)
    near = np.abs(noisy - 0.8) < 0.02
    assert abs(x[near].mean() - ch13.reference_denoiser(0.8)) < 0.03
