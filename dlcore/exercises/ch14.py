"""Checks for chapter 14's exercises (generative adversarial networks).

- 14.1 derive the optimal discriminator D*(x)                     -> :func:`check_optimal_discriminator`
- 14.2 derive V(D*, G) in terms of the Jensen–Shannon divergence   -> :func:`check_value_at_optimum`
- 14.3 implement the non-saturating generator loss (stable)        -> :func:`check_nonsaturating_loss`
- 14.4 implement its gradient with respect to the logits           -> :func:`check_nonsaturating_grad`
- 14.5 predict dL_G/da for both losses where D(G(z)) = 0.001       -> :func:`check_gradient_prediction`
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from dlcore.exercises.core import Case, CheckResult, check_value, first_mistake
from dlcore.exercises.functions import check_array_function
from dlcore.scratch.activations import sigmoid
from dlcore.scratch.gan_losses import generator_loss_backward, generator_loss_forward, softplus

__all__ = [
    "check_optimal_discriminator", "check_value_at_optimum", "check_nonsaturating_loss", "check_nonsaturating_grad",
    "check_gradient_prediction", "reference_optimal_discriminator", "PREDICTION_PROBABILITY",
]

PREDICTION_PROBABILITY = 0.001  # D(G(z)) in exercise 14.5




# ---------------------------------------------------------------- 14.1 the optimal discriminator

def reference_optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) (inputs with p_data + p_g > 0)."""
    return p_data / (p_data + p_g)


_OPTIMAL_MISTAKES = [
    (lambda p, q: q / (p + q), "you returned p_g / (p_data + p_g): that is 1 − D*, the probability of 'generated'. "
                               "D should be large where the DATA density is large"),
    (lambda p, q: p / q, "p_data / p_g is the density ratio D*/(1 − D*), not a probability: it exceeds 1 where the "
                         "data are denser"),
    (lambda p, q: np.full_like(p, 0.5), "0.5 everywhere is D* only once p_g = p_data (the equilibrium), not for "
                                        "any generator"),
    (lambda p, q: p / (p + q) ** 2, "check the maximisation: setting the derivative of a log D + b log(1 − D) "
                                    "to zero gives a(1 − D) = b D, so D = a / (a + b)"),
    (lambda p, q: (p > q).astype(np.float64), "a hard 0/1 decision is not the maximiser of the expected log-"
                                              "likelihood: where both densities are positive the best D is a "
                                              "probability strictly between 0 and 1"),
]


def check_optimal_discriminator(optimal_discriminator: Callable) -> CheckResult:
    """Exercise 14.1: ``optimal_discriminator(p_data, p_g)`` -> D*(x) elementwise, for arrays of densities.

    Recognises: the two densities swapped (1 − D*), the density ratio, 0.5 everywhere, a wrong
    stationary point, and a hard 0/1 decision.
    """
    cases = [
        Case((np.array([0.4, 0.1, 0.25, 2.0]), np.array([0.1, 0.4, 0.25, 0.5])),
             description="p_data = [0.4, 0.1, 0.25, 2.0], p_g = [0.1, 0.4, 0.25, 0.5]"),
        Case((np.array([0.3, 0.0, 1e-4]), np.array([0.0, 0.3, 1e-4])),
             description="where one density is 0: p_data = [0.3, 0, 1e-4], p_g = [0, 0.3, 1e-4]"),
        Case((np.linspace(0.05, 1.0, 7).reshape(7, 1), np.linspace(1.0, 0.05, 7).reshape(7, 1)),
             description="two (7, 1) columns of densities"),
    ]
    return check_array_function(
        "14.1", optimal_discriminator, reference_optimal_discriminator, cases,
        diagnoses=[lambda got, expected, case: first_mistake(_OPTIMAL_MISTAKES, got, case)],
        hint="At one x, V's integrand is a log D + b log(1 − D) with a = p_data(x), b = p_g(x); maximise over D.",
        success="D* = p_data / (p_data + p_g); it is 1/2 everywhere exactly when p_g = p_data.",
    )


# ---------------------------------------------------------------- 14.2 V(D*, G) and the JSD

def _value_at_optimum(jsd):
    return -math.log(4.0) + 2.0 * np.asarray(jsd, dtype=np.float64)


def check_value_at_optimum(value_at_optimum: Callable) -> CheckResult:
    """Exercise 14.2: ``value_at_optimum(jsd)`` -> V(D*, G) = -log 4 + 2 JSD(p_data ‖ p_g) (natural logs).

    Recognises: a missing factor 2, -log 2 instead of -log 4, the wrong sign, and logs in base 2.
    """
    cases = [Case((np.array([0.0, 0.1, math.log(2.0)]),), description="JSD = [0, 0.1, log 2]"),
             Case((np.array([[0.3], [0.05]]),), description="JSD as a (2, 1) array [[0.3], [0.05]]")]
    mistakes = [
        (lambda j: -math.log(4.0) + j, "the factor 2 is missing: the two KL terms of V(D*, G) + log 4 are each "
                                       "KL(· ‖ m), and JSD is their AVERAGE, so their sum is 2 JSD"),
        (lambda j: -math.log(2.0) + 2 * j, "the constant is -log 4: each of the two expectations contributes "
                                           "-log 2 when you rewrite D* = p_data / (2 m)"),
        (lambda j: -math.log(2.0) + j, "both the constant and the factor are off: V(D*, G) = -log 4 + 2 JSD"),
        (lambda j: math.log(4.0) - 2 * j, "the sign is reversed: V(D*, G) is at its minimum -log 4 when JSD = 0"),
        (lambda j: -2.0 + 2 * j, "you used base-2 logarithms for the constant (log2 4 = 2); stay with natural logs"),
    ]
    return check_array_function(
        "14.2", value_at_optimum, _value_at_optimum, cases,
        diagnoses=[lambda got, expected, case: first_mistake(mistakes, got, case)],
        hint="Write D* = p_data / (2m) and 1 − D* = p_g / (2m) with m = (p_data + p_g)/2, then split off log(1/2).",
        success="the generator facing the best discriminator minimises the Jensen–Shannon divergence; the "
                "minimum -log 4 ≈ -1.386 is reached only at p_g = p_data.",
    )


# ---------------------------------------------------------------- 14.3 the non-saturating loss

def _nonsaturating_loss(fake_logits):
    return generator_loss_forward(fake_logits, "non_saturating")[0]


_LOSS_MISTAKES = [
    (lambda a: -np.mean(softplus(a)), "that is the MINIMAX loss mean log(1 − D(G(z))); the non-saturating one "
                                      "is -mean log D(G(z))"),
    (lambda a: np.mean(softplus(a)), "you computed -mean log(1 − D(G(z))), the discriminator's loss on fakes; "
                                     "the generator wants D(G(z)) large: -mean log D(G(z))"),
    (lambda a: -np.mean(softplus(-a)), "the sign is flipped: minimising mean log D(G(z)) would make the fakes "
                                       "look MORE fake; the loss is -mean log D(G(z))"),
    (lambda a: np.sum(softplus(-a)), "you summed over the batch; take the mean (a sum makes the step size grow "
                                     "with the batch size)"),
    (lambda a: -np.mean(np.log(np.clip(sigmoid(a), 1e-7, 1.0))), "clipping D at 1e-7 caps the loss near 16.1 "
                                                                 "and zeroes its gradient there; use the exact, "
                                                                 "stable softplus(-a) = np.logaddexp(0, -a)"),
]


def check_nonsaturating_loss(nonsaturating_loss: Callable) -> CheckResult:
    """Exercise 14.3: ``nonsaturating_loss(fake_logits)`` -> -mean log σ(a), finite for any logits.

    Recognises: the minimax loss, the discriminator's loss, a flipped sign, a sum instead of a mean,
    clipped probabilities, and (through a numerical warning) the naive -log(sigmoid(a)).
    """
    cases = [
        Case((np.array([0.0, 2.0, -3.0, 0.5]),), description="logits [0, 2, -3, 0.5]"),
        Case((np.array([-40.0, -800.0, 30.0]),), description="confidently rejected fakes, logits [-40, -800, 30]"),
        Case((np.array([1.5]),), description="a batch of one, logit 1.5"),
    ]
    return check_array_function(
        "14.3", nonsaturating_loss, _nonsaturating_loss, cases,
        diagnoses=[lambda got, expected, case: first_mistake(_LOSS_MISTAKES, got, case)],
        hint="-log σ(a) = log(1 + e^{-a}) = softplus(-a); np.logaddexp(0, -a) computes it for any a.",
        warning_hint="-log(sigmoid(a)) overflows or takes log(0) for a very negative a; -log σ(a) = "
                     "np.logaddexp(0, -a) is exact and finite (≈ -a for a << 0)",
        success="for a very negative logit the loss grows like -a, so its slope stays near -1: it never saturates.",
    )


# ---------------------------------------------------------------- 14.4 its gradient

def _nonsaturating_grad(fake_logits):
    _, cache = generator_loss_forward(fake_logits, "non_saturating")
    return generator_loss_backward(1.0, cache)


_GRAD_MISTAKES = [
    (lambda a: sigmoid(a) - 1.0, "the 1/M of the mean is missing: each logit's gradient is -(1 − σ(a)) / M"),
    (lambda a: -sigmoid(a) / len(a), "that is the MINIMAX gradient -σ(a)/M (of mean log(1 − σ(a))); it vanishes "
                                     "where σ(a) ≈ 0"),
    (lambda a: (1.0 - sigmoid(a)) / len(a), "the sign is flipped: increasing a lowers -log σ(a), so the "
                                            "gradient is negative"),
    (lambda a: -sigmoid(a) * (1 - sigmoid(a)) / len(a), "σ'(a) = σ(a)(1 − σ(a)) is only the inner derivative; "
                                                        "multiply by d(-log D)/dD = -1/D and simplify"),
    (lambda a: -1.0 / (len(a) * sigmoid(a)), "-1/(M D) is the gradient with respect to D, not to the logit a; "
                                             "chain it with dD/da = D(1 − D)"),
]


def check_nonsaturating_grad(nonsaturating_grad: Callable) -> CheckResult:
    """Exercise 14.4: ``nonsaturating_grad(fake_logits)`` -> dL/da for L = -mean log σ(a), shape (M,).

    Recognises: the missing 1/M, the minimax gradient, the wrong sign, σ'(a) alone, and the
    gradient with respect to D instead of the logit.
    """
    cases = [
        Case((np.array([0.0, 2.0, -3.0, 0.5]),), description="logits [0, 2, -3, 0.5]"),
        Case((np.array([-12.0, -30.0, 4.0]),), description="logits [-12, -30, 4] (two confidently rejected fakes)"),
        Case((np.array([-1.0]),), description="a batch of one, logit -1"),
    ]
    return check_array_function(
        "14.4", nonsaturating_grad, _nonsaturating_grad, cases,
        diagnoses=[lambda got, expected, case: first_mistake(_GRAD_MISTAKES, got, case)],
        hint="d/da softplus(-a) = -σ(-a) = -(1 − σ(a)); the mean over M examples divides by M.",
        success="-(1 − σ(a))/M: close to -1/M for a rejected fake, 0 only once D is fooled.",
    )


# ---------------------------------------------------------------- 14.5 predict both gradients

def check_gradient_prediction(prediction) -> CheckResult:
    """Exercise 14.5: (minimax, non-saturating) derivatives of one example's loss w.r.t. its logit at D = 0.001.

    Expected (-σ(a), -(1 − σ(a))) = (-0.001, -0.999); answers within 0.002 pass. Recognises: the two
    swapped, positive signs, and derivatives with respect to D instead of the logit.
    """
    d = PREDICTION_PROBABILITY
    expected = np.array([-d, -(1.0 - d)])

    def close(got, target):
        try:
            return bool(np.allclose(np.asarray(got, dtype=np.float64), target, atol=2e-3, rtol=1e-3))
        except (TypeError, ValueError):
            return False

    mistakes = [
        (expected[::-1], "the two are swapped: the MINIMAX loss log(1 − D) is the one that saturates "
                         "(slope -σ(a) ≈ -0.001); the non-saturating -log D has slope ≈ -1"),
        (-expected, "both signs are flipped: increasing the logit (making the fake look more real) lowers both "
                    "losses, so both derivatives are negative"),
        (np.array([-1.0 / (1.0 - d), -1.0 / d]), "these are derivatives with respect to D, not to the logit a = "
                                                 "logit(D); multiply by dD/da = D(1 − D)"),
        (np.array([-d * (1 - d), -d * (1 - d)]), "σ'(a) = D(1 − D) is the same for both; multiply it by each "
                                                 "loss's dℓ/dD (-1/(1 − D) and -1/D)"),
    ]
    diagnoses = [lambda got, _expected, value=value, message=message: message if close(got, value) else None
                 for value, message in mistakes]
    return check_value(
        "14.5", prediction, expected, name="your (minimax, non-saturating) pair", atol=2e-3, rtol=1e-3,
        diagnoses=diagnoses,
        hint="chain rule through D = σ(a): dℓ/da = dℓ/dD · D(1 − D).",
        success="the minimax loss gives the generator a thousand times less gradient exactly where it is worst.",
    )
