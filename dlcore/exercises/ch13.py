"""Checks for chapter 13's exercises (autoencoders, VAEs, RBMs).

- 13.1 implement the reparameterized sample z = mu + sigma eps    -> :func:`check_reparameterize`
- 13.2 derive the KL divergence between two univariate Gaussians  -> :func:`check_kl_two_gaussians`
- 13.3 implement the free energy of a Bernoulli RBM               -> :func:`check_free_energy`
- 13.4 predict the reconstruction error of PCA with k components  -> :func:`check_pca_error_prediction`
- 13.5 predict what an ideal denoising autoencoder outputs        -> :func:`check_denoiser_prediction`
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.exercises.core import not_done_message
from dlcore.exercises.core import Case, CheckResult, check_value, mistake_diagnosis
from dlcore.exercises.functions import check_array_function
from dlcore.scratch.rbm import free_energy

__all__ = [
    "check_reparameterize", "check_kl_two_gaussians", "check_free_energy", "check_pca_error_prediction",
    "reference_reparameterize", "reference_kl_two_gaussians", "PCA_EIGENVALUES", "PCA_CODE_SIZE",
    "check_denoiser_prediction", "reference_denoiser", "DENOISER_PROBES",
]




# ---------------------------------------------------------------- 13.1 reparameterization

def reference_reparameterize(mu: np.ndarray, logvar: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """z = mu + exp(logvar / 2) * eps, element-wise; all (N, L)."""
    return mu + np.exp(0.5 * logvar) * eps


_REPARAMETERIZE_MISTAKES = [
    (lambda m, lv, e: m + np.exp(lv) * e, "you scaled eps by exp(logvar) = sigma², the VARIANCE; the sample needs "
                                          "the standard deviation sigma = exp(logvar / 2)"),
    (lambda m, lv, e: m + lv * e, "logvar is log sigma², not sigma: exponentiate it and halve the exponent, "
                                  "sigma = exp(logvar / 2)"),
    (lambda m, lv, e: m + np.exp(-0.5 * lv) * e, "wrong sign in the exponent: sigma = exp(+logvar / 2); "
                                                 "exp(-logvar / 2) is 1 / sigma"),
    (lambda m, lv, e: np.exp(0.5 * lv) * e, "the mean is missing: z = mu + sigma * eps"),
    (lambda m, lv, e: m + np.sqrt(np.abs(lv)) * e, "sqrt(logvar) is not sigma: sigma = sqrt(exp(logvar)) "
                                                   "= exp(logvar / 2)"),
    (lambda m, lv, e: m * np.exp(0.5 * lv) * e, "mu is added, not multiplied: z = mu + sigma * eps"),
]


def check_reparameterize(reparameterize: Callable) -> CheckResult:
    """Exercise 13.1: ``reparameterize(mu, logvar, eps)`` -> z of shape (N, L).

    Recognises: the variance exp(logvar) used as the scale, logvar used as sigma, the wrong
    sign in the exponent, the mean forgotten, sqrt(logvar), mu multiplied instead of added,
    a wrong shape, and changing an input in place.
    """
    rng = np.random.default_rng(13)
    cases = [
        Case((rng.standard_normal((4, 2)), rng.uniform(-3.0, 2.0, (4, 2)), rng.standard_normal((4, 2))),
             description="mu, logvar, eps of shape (4, 2) with logvar in [-3, 2]"),
        Case((np.array([[1.5, -2.0, 0.0]]), np.array([[0.7, -1.2, 2.0]]), np.array([[0.3, 1.0, -0.5]])),
             description="a batch of one with L = 3"),
    ]
    return check_array_function(
        "13.1", reparameterize, reference_reparameterize, cases, diagnoses=[mistake_diagnosis(_REPARAMETERIZE_MISTAKES)],
        hint="sigma = exp(logvar / 2); z = mu + sigma * eps, element by element.",
        success="z is a deterministic, differentiable function of (mu, logvar); the randomness is all in eps.",
    )


# ---------------------------------------------------------------- 13.2 KL of two Gaussians

def reference_kl_two_gaussians(m1, s1, m2, s2):
    """KL(N(m1, s1²) || N(m2, s2²)) = log(s2 / s1) + (s1² + (m1 - m2)²) / (2 s2²) - 1/2, element-wise."""
    m1, s1, m2, s2 = (np.asarray(a, dtype=np.float64) for a in (m1, s1, m2, s2))
    return np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5


_KL_MISTAKES = [
    (lambda m1, s1, m2, s2: reference_kl_two_gaussians(m2, s2, m1, s1),
     "you computed KL(N(m2, s2²) || N(m1, s1²)): the KL divergence is not symmetric; the expectation is taken "
     "under the FIRST distribution, and it is the second one's variance that divides"),
    (lambda m1, s1, m2, s2: reference_kl_two_gaussians(m1, s1, m2, s2) + 0.5,
     "the constant -1/2 is missing: check that your formula gives KL(p || p) = 0"),
    (lambda m1, s1, m2, s2: reference_kl_two_gaussians(m1, s1, m2, s2) + np.log(s2 / s1),
     "the log term should be log(s2 / s1) = (1/2) log(s2² / s1²); you have log(s2² / s1²), twice too big"),
    (lambda m1, s1, m2, s2: np.log(s2 / s1) + (s1 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5,
     "E[(x - m2)²] under N(m1, s1²) is s1² + (m1 - m2)²: the VARIANCE s1², you used the std s1"),
    (lambda m1, s1, m2, s2: np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / s2 ** 2 - 0.5,
     "the factor 1/2 of the quadratic term is missing: log N(x; m, s²) contains -(x - m)² / (2 s²)"),
    (lambda m1, s1, m2, s2: np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 1.0,
     "the constant is -1/2 (from E[(x - m1)²] / (2 s1²) = 1/2), not -1"),
    (lambda m1, s1, m2, s2: np.log(s1 / s2) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5,
     "the log term has the wrong sign: log q1(x) - log q2(x) contains -log s1 + log s2 = log(s2 / s1)"),
]


def check_kl_two_gaussians(kl_two_gaussians: Callable) -> CheckResult:
    """Exercise 13.2: ``kl_two_gaussians(m1, s1, m2, s2)`` = KL(N(m1, s1²) || N(m2, s2²)), s = standard deviations.

    Recognises: the arguments' roles swapped, the -1/2 missing or -1, the log term doubled
    or with the wrong sign, the std used for the variance, and the 1/2 of the quadratic term missing.
    """
    cases = [
        Case((0.5, 0.8, -1.0, 1.5), description="m1 = 0.5, s1 = 0.8, m2 = -1, s2 = 1.5"),
        Case((np.array([0.0, 2.0, -1.0]), np.array([2.0, 0.3, 1.0]), np.array([1.0, 0.0, 0.5]),
              np.array([0.5, 1.0, 3.0])), description="arrays m1 = [0, 2, -1], s1 = [2, 0.3, 1], m2 = [1, 0, 0.5], "
                                                     "s2 = [0.5, 1, 3]"),
        Case((1.0, 1.0, 1.0, 1.0), description="two identical distributions (the KL must be 0)"),
    ]
    return check_array_function(
        "13.2", kl_two_gaussians, reference_kl_two_gaussians, cases, diagnoses=[mistake_diagnosis(_KL_MISTAKES)],
        hint="KL = E_{x ~ N(m1, s1²)}[log N(x; m1, s1²) - log N(x; m2, s2²)]; use E[(x - m1)²] = s1² and "
             "E[(x - m2)²] = s1² + (m1 - m2)².",
        success="with m2 = 0, s2 = 1 and summed over dimensions it is the VAE's KL term, "
                "1/2 Σ (mu² + sigma² - 1 - log sigma²).",
    )


# ---------------------------------------------------------------- 13.3 free energy

def _softplus_naive(x):
    return np.log(1.0 + np.exp(x))


_FREE_ENERGY_MISTAKES = [
    (lambda v, W, b, c: -np.logaddexp(0.0, v @ W + c).sum(axis=1),
     "the visible bias term -v·b is missing: F(v) = -v·b - Σ_j softplus(c_j + (vW)_j)"),
    (lambda v, W, b, c: v @ b + np.logaddexp(0.0, v @ W + c).sum(axis=1),
     "the sign is flipped: p(v) ∝ exp(-F(v)), so F(v) = -v·b - Σ_j softplus(...)"),
    (lambda v, W, b, c: -v @ b - (v @ W + c).sum(axis=1),
     "summing h_j over {0, 1} gives log(1 + e^x) (softplus), not x: the state h_j = 0 contributes e^0 = 1"),
    (lambda v, W, b, c: -v @ b - (1 / (1 + np.exp(-(v @ W + c)))).sum(axis=1),
     "that is the sigmoid, p(h_j = 1 | v); the free energy needs the softplus log(1 + e^x), whose derivative "
     "is the sigmoid"),
    (lambda v, W, b, c: -v @ b - np.logaddexp(0.0, v @ W).sum(axis=1),
     "the hidden biases c are missing inside the softplus: softplus(c_j + (vW)_j)"),
]


def check_free_energy(rbm_free_energy: Callable) -> CheckResult:
    """Exercise 13.3: ``rbm_free_energy(v, W, b, c)`` -> F(v) of shape (N,), for v (N, D), W (D, Hh).

    Recognises: the visible bias forgotten, the sign flipped, x instead of softplus(x), the
    sigmoid instead of the softplus, c forgotten, a wrong shape, and the overflow of
    log(1 + exp(x)) on large inputs (reported through the numerical warning).
    """
    rng = np.random.default_rng(31)
    v = (rng.random((5, 6)) < 0.5).astype(np.float64)
    cases = [
        Case((v, rng.standard_normal((6, 4)), rng.standard_normal(6), rng.standard_normal(4)),
             description="binary v (5, 6), W (6, 4), b (6,), c (4,)"),
        Case((rng.random((1, 3)), rng.standard_normal((3, 7)), rng.standard_normal(3), rng.standard_normal(7)),
             description="a batch of one with grey values, D = 3, Hh = 7"),
        Case((np.ones((2, 4)), np.full((4, 3), 200.0), np.zeros(4), np.array([0.0, 10.0, -900.0])),
             description="large weights: activations of 800 and -100"),
    ]
    return check_array_function(
        "13.3", rbm_free_energy, lambda v, W, b, c: free_energy(v, W, b, c), cases,
        diagnoses=[mistake_diagnosis(_FREE_ENERGY_MISTAKES)],
        hint="Sum exp(-E(v, h)) over the 2^Hh hidden vectors: it factorises over j into Π_j (1 + e^{c_j + (vW)_j}).",
        warning_hint="log(1 + exp(x)) overflows for x > 709; np.logaddexp(0, x) computes the same softplus safely.",
        success="F(v) is what makes p(v) = exp(-F(v)) / Z computable up to Z; its gradient gives CD's update.",
    )


# ---------------------------------------------------------------- 13.4 PCA prediction

PCA_EIGENVALUES = (5.0, 3.0, 1.5, 0.3, 0.2)  # variances along the principal axes of the 5-D data
PCA_CODE_SIZE = 2


def check_pca_error_prediction(predicted_error) -> CheckResult:
    """Exercise 13.4: the mean squared reconstruction error (summed over the 5 coordinates) of the best
    linear autoencoder with a code of size 2, for centred data with covariance eigenvalues 5, 3, 1.5, 0.3, 0.2.

    Recognises: the kept variance (8), the error per coordinate (2 / 5), the two smallest
    eigenvalues only (0.5), the largest ones dropped (the error of keeping the smallest), and
    a fraction of the total variance.
    """
    values = np.array(PCA_EIGENVALUES)
    k = PCA_CODE_SIZE
    expected = float(values[k:].sum())
    total = float(values.sum())
    wrong = {
        float(values[:k].sum()): "that is the variance the code KEEPS (the top two eigenvalues); the error is "
                                 "what it loses",
        expected / len(values): "that is the error per coordinate; the question sums the squared error over all "
                                "5 coordinates",
        float(values[-k:].sum()): "only the two smallest eigenvalues: a code of size 2 keeps 2 directions and "
                                  "loses the other 5 - 2 = 3",
        float(values[:-k].sum()): "that is the error of keeping the two SMALLEST directions; the best code keeps "
                                  "the largest",
        expected / total: "that is the fraction of the variance lost; the question asks for the error itself",
    }

    def diagnose(got, _expected):
        try:
            value = float(got)
        except (TypeError, ValueError):
            return None
        for candidate, message in wrong.items():
            if np.isclose(value, candidate, rtol=1e-3):
                return message
        return None

    return check_value(
        "13.4", predicted_error, expected, name="your predicted error", diagnoses=[diagnose], rtol=1e-3,
        hint="The best rank-k reconstruction keeps the top-k principal directions; the squared error it "
             "makes is the variance along the others.",
        success="the error is the sum of the discarded eigenvalues, 1.5 + 0.3 + 0.2 = 2.0 (Eckart-Young).",
    )


# ---------------------------------------------------------------- 13.5 what a denoiser outputs

DENOISER_PROBES = (0.0, 3.0, -5.0)  # noisy inputs x~ at which the learner predicts the ideal denoiser's output


def reference_denoiser(noisy, noise_std: float = 1.0):
    """E[x | x~] for x = ±1 with probability 1/2 each and x~ = x + N(0, noise_std²): tanh(x~ / noise_std²)."""
    return np.tanh(np.asarray(noisy, dtype=np.float64) / noise_std ** 2)


def check_denoiser_prediction(prediction) -> CheckResult:
    """Exercise 13.5: the ideal squared-error denoiser's outputs at x~ = 0, 3, -5 for clean x = ±1 (equally likely)
    and unit Gaussian noise; answers within 0.05 of tanh(x~) pass.

    Recognises: the identity (a denoiser that returns its input), the most likely clean value
    (sign or nearest of ±1, which is what a 0-1 loss would give, not the squared error), outputs
    outside [-1, 1], and a wrong number of values.
    """
    label = "13.5"
    if prediction is Ellipsis:
        raise not_done_message("Exercise 13.5 is not done yet: return your three predicted outputs.")
    expected = reference_denoiser(DENOISER_PROBES)
    try:
        got = np.asarray(prediction, dtype=np.float64)
    except (TypeError, ValueError):
        got = None
    if got is None or got.shape != expected.shape:
        return check_value(label, prediction, expected, name="your prediction",
                           hint="return three numbers, the outputs at x~ = 0, 3 and -5, e.g. (0.1, 0.2, 0.3)")
    messages = []
    if np.allclose(got, DENOISER_PROBES, atol=0.05):
        messages.append("you predicted the identity, r(x~) = x~: the network was trained to output the CLEAN x, "
                        "and every clean value is ±1, so its output is an average of ±1")
    elif np.any(np.abs(got) > 1.05):
        messages.append("an output outside [-1, 1]: the squared-error optimum is E[x | x~], an average of clean "
                        "values, and every clean value is ±1")
    elif abs(got[0]) > 0.5:
        messages.append("at x~ = 0 the clean values +1 and -1 are equally likely; the squared error is minimised by "
                        "their MEAN, 0, not by either one (picking the most likely value is what a 0-1 loss does)")

    def diagnose(_got, _expected):
        return messages[0] if messages else None

    return check_value(
        label, tuple(got), tuple(expected), name="your prediction", diagnoses=[diagnose], atol=0.05, rtol=0.0,
        hint="The minimiser of E||x - r(x~)||² is r(x~) = E[x | x~]; weigh +1 and -1 by their posterior "
             "probabilities given x~ (Bayes' rule with Gaussian likelihoods).",
        success="r*(x~) = E[x | x~] = tanh(x~) here: 0 where the two clean values are equally likely, and ±1 "
                "(not x~) far from 0.",
    )
