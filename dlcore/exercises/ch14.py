"""Checks for chapter 14's exercises (generative adversarial networks).

- 14.1 derive the optimal discriminator D*(x)                     -> :func:`check_optimal_discriminator`
- 14.2 derive V(D*, G) in terms of the Jensen–Shannon divergence   -> :func:`check_value_at_optimum`
- 14.3 predict dL_G/da for both losses where D(G(z)) = 0.001       -> :func:`check_gradient_prediction`
- 14.4 implement the non-saturating generator loss (stable)        -> :func:`check_nonsaturating_loss`
- 14.5 implement its gradient with respect to the logits           -> :func:`check_nonsaturating_grad`
- 14.6 implement the discriminator step and the generator step     -> :func:`check_training_steps`
- 14.7 implement the mode-coverage measure                         -> :func:`check_mode_coverage`
- 14.8 implement the training loop around the two steps           -> :func:`check_training_loop`

A passing 14.6 makes the chapter's GANs train with the learner's two steps
(``implementation("discriminator_step", ...)`` and ``"generator_step"``); a
passing 14.7 makes its mode counts the learner's (``"mode_coverage"``); a
passing 14.8 makes them train in the learner's loop (``"train_gan"``).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import torch
from torch.nn import functional as F

from dlcore.exercises.core import Case, CheckResult, Mistake, check_value, passed
from dlcore.exercises.functions import check_function
from dlcore.exercises.learner import accept, learner_call
from dlcore.data.toy2d import sample_toy, toy_centers
from dlcore.models import gan as course_gan
from dlcore.models import gan_diagnostics, gan_loop
from dlcore.models.gan import Gan, mlp_discriminator, mlp_generator
from dlcore.scratch import gan_losses
from dlcore.scratch.activations import sigmoid

__all__ = [
    "check_optimal_discriminator", "check_value_at_optimum", "check_gradient_prediction", "check_nonsaturating_loss",
    "check_nonsaturating_grad", "check_training_steps", "check_mode_coverage", "reference_optimal_discriminator",
    "course_mode_coverage", "run_discriminator_step", "run_generator_step", "check_training_loop",
    "run_training_loop", "PREDICTION_PROBABILITY", "REFERENCES",
]

PREDICTION_PROBABILITY = 0.001  # D(G(z)) in exercise 14.3

# The course's own versions of what each exercise builds (never shown before the exercise).
REFERENCES = {
    "14.4": (gan_losses.generator_loss_forward,),
    "14.5": (gan_losses.generator_loss_backward,),
    "14.6": (course_gan.discriminator_step, course_gan.generator_step),
    "14.7": (gan_diagnostics.mode_coverage,),
    "14.8": (gan_loop.train_gan,),
}


# ---------------------------------------------------------------- 14.1 the optimal discriminator

def reference_optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) (inputs with p_data + p_g > 0)."""
    return p_data / (p_data + p_g)


_OPTIMAL_MISTAKES = [
    Mistake("d-star-swapped", lambda p, q: q / (p + q),
            "you returned the probability of 'generated' (1 − D*): D should be large where the DATA density is "
            "large"),
    Mistake("d-star-density-ratio", lambda p, q: p / q,
            "that is the density ratio D*/(1 − D*), not a probability: it exceeds 1 where the data are denser"),
    Mistake("d-star-one-half", lambda p, q: np.full_like(p, 0.5),
            "0.5 everywhere is D* only once p_g = p_data (the equilibrium), not for any generator"),
    Mistake("d-star-wrong-stationary-point", lambda p, q: p / (p + q) ** 2,
            "check the maximisation: set the derivative of a log y + b log(1 − y) to zero and solve for y"),
    Mistake("d-star-hard-decision", lambda p, q: (p > q).astype(np.float64),
            "a hard 0/1 decision is not the maximiser of the expected log-likelihood: where both densities are "
            "positive the best D is a probability strictly between 0 and 1"),
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
    return check_function(
        "14.1", optimal_discriminator, reference_optimal_discriminator, cases, name="optimal_discriminator_answer",
        mistakes=_OPTIMAL_MISTAKES, forbid=[gan_diagnostics.optimal_discriminator],
        hint="At one x, V's integrand is a log y + b log(1 − y) with a = p_data(x), b = p_g(x); maximise over y.",
        success="D* = p_data / (p_data + p_g); it is 1/2 everywhere exactly when p_g = p_data.",
    )


# ---------------------------------------------------------------- 14.2 V(D*, G) and the JSD

def _value_at_optimum(jsd):
    return -math.log(4.0) + 2.0 * np.asarray(jsd, dtype=np.float64)


_VALUE_MISTAKES = [
    Mistake("jsd-factor-missing", lambda j: -math.log(4.0) + j,
            "the factor in front of the JSD is off: the two KL terms are each KL(· ‖ m), and the JSD is their "
            "AVERAGE, not their sum"),
    Mistake("jsd-constant-log-2", lambda j: -math.log(2.0) + 2 * j,
            "the constant is off: each of the two expectations contributes its own log(1/2) when you rewrite the "
            "denominators with m"),
    Mistake("jsd-both-off", lambda j: -math.log(2.0) + j,
            "both the constant and the factor in front of the JSD are off"),
    Mistake("jsd-sign", lambda j: math.log(4.0) - 2 * j,
            "the sign is reversed: V(D*, G) is smallest when the two distributions are equal (JSD = 0)"),
    Mistake("jsd-base-2-constant", lambda j: -2.0 + 2 * j,
            "you used base-2 logarithms for the constant; stay with natural logs"),
]


def check_value_at_optimum(value_at_optimum: Callable) -> CheckResult:
    """Exercise 14.2: ``value_at_optimum(jsd)`` -> V(D*, G) = -log 4 + 2 JSD(p_data ‖ p_g) (natural logs).

    Recognises: a missing factor 2, -log 2 instead of -log 4, both, the wrong sign, and logs in base 2.
    """
    cases = [Case((np.array([0.0, 0.1, math.log(2.0)]),), description="JSD = [0, 0.1, log 2]"),
             Case((np.array([[0.3], [0.05]]),), description="JSD as a (2, 1) array [[0.3], [0.05]]")]
    return check_function(
        "14.2", value_at_optimum, _value_at_optimum, cases, name="value_at_optimum", mistakes=_VALUE_MISTAKES,
        hint="Write D* and 1 − D* with m = (p_data + p_g)/2 in their denominators, then split off the log(1/2)s.",
        success="the generator facing the best discriminator minimises the Jensen–Shannon divergence; the "
                "minimum -log 4 ≈ -1.386 is reached only at p_g = p_data.",
    )


# ---------------------------------------------------------------- 14.3 predict both gradients

def check_gradient_prediction(prediction) -> CheckResult:
    """Exercise 14.3: (minimax, non-saturating) derivatives of one example's loss w.r.t. its logit at D = 0.001.

    Expected (-σ(a), -(1 − σ(a))) = (-0.001, -0.999); answers within 0.002 pass. Recognises: the two
    swapped, positive signs, derivatives with respect to D instead of the logit, and σ'(a) alone.
    ``prediction`` is the pair, or the learner's function returning it (an untouched stub is "not done yet").
    """
    if callable(prediction):
        prediction = learner_call("14.3", prediction)
    d = PREDICTION_PROBABILITY
    expected = np.array([-d, -(1.0 - d)])
    mistakes = [
        Mistake("prediction-swapped", lambda: expected[::-1],
                "the two are swapped: ask which loss is nearly flat in the logit where D(G(z)) ≈ 0"),
        Mistake("prediction-signs", lambda: -expected,
                "both signs are flipped: increasing the logit (making the fake look more real) lowers both losses"),
        Mistake("prediction-with-respect-to-d", lambda: np.array([-1.0 / (1.0 - d), -1.0 / d]),
                "these are derivatives with respect to D, not to the logit a; multiply by dD/da = D(1 − D)"),
        Mistake("prediction-sigmoid-slope-only", lambda: np.array([-d * (1 - d), -d * (1 - d)]),
                "σ'(a) = D(1 − D) is the same for both; multiply it by each loss's derivative with respect to D"),
    ]
    return check_value(
        "14.3", prediction, expected, name="your (minimax, non-saturating) pair", atol=2e-3, rtol=1e-3,
        mistakes=mistakes, hint="chain rule through D = σ(a): dℓ/da = dℓ/dD · dD/da.",
        success="the minimax loss gives the generator a thousand times less gradient exactly where it is worst.",
    )


# ---------------------------------------------------------------- 14.4 the non-saturating loss

def _nonsaturating_loss(fake_logits):
    return gan_losses.generator_loss_forward(fake_logits, "non_saturating")[0]


_LOSS_MISTAKES = [
    Mistake("ns-loss-is-minimax", lambda a: -np.mean(gan_losses.softplus(a)),
            "that is the MINIMAX loss mean log(1 − D(G(z))); the non-saturating one is -mean log D(G(z))"),
    Mistake("ns-loss-is-discriminators", lambda a: np.mean(gan_losses.softplus(a)),
            "you computed -mean log(1 − D(G(z))), the discriminator's loss on fakes; the generator wants D(G(z)) "
            "large"),
    Mistake("ns-loss-sign", lambda a: -np.mean(gan_losses.softplus(-a)),
            "the sign is flipped: minimising mean log D(G(z)) would make the fakes look MORE fake"),
    Mistake("ns-loss-sum", lambda a: np.sum(gan_losses.softplus(-a)),
            "you summed over the batch; take the mean (a sum makes the step size grow with the batch size)"),
    Mistake("ns-loss-clipped", lambda a: -np.mean(np.log(np.clip(sigmoid(a), 1e-7, 1.0))),
            "clipping D at 1e-7 caps the loss near 16.1 and zeroes its gradient there; rewrite -log σ(a) so that "
            "it is exact and finite for any logit"),
]


def check_nonsaturating_loss(nonsaturating_loss: Callable) -> CheckResult:
    """Exercise 14.4: ``nonsaturating_loss(fake_logits)`` -> -mean log σ(a), finite for any logits.

    Recognises: the minimax loss, the discriminator's loss, a flipped sign, a sum instead of a mean,
    clipped probabilities, and (through a numerical warning) the naive -log(sigmoid(a)).
    """
    cases = [
        Case((np.array([0.0, 2.0, -3.0, 0.5]),), description="logits [0, 2, -3, 0.5]"),
        Case((np.array([-40.0, -800.0, 30.0]),), description="confidently rejected fakes, logits [-40, -800, 30]"),
        Case((np.array([1.5]),), description="a batch of one, logit 1.5"),
    ]
    return check_function(
        "14.4", nonsaturating_loss, _nonsaturating_loss, cases, name="nonsaturating_loss", mistakes=_LOSS_MISTAKES,
        forbid=[gan_losses.softplus, gan_losses.generator_loss_forward],
        hint="-log σ(a) = log(1 + e^{-a}); NumPy has a function for log(e^x + e^y) that never overflows.",
        warning_hint="-log(sigmoid(a)) overflows or takes log(0) for a very negative a; -log σ(a) = log(e^0 + e^{-a}) "
                     "can be computed without ever forming e^{-a} (≈ -a for a << 0)",
        success="for a very negative logit the loss grows like -a, so its slope stays near -1: it never saturates.",
    )


# ---------------------------------------------------------------- 14.5 its gradient

def _nonsaturating_grad(fake_logits):
    _, cache = gan_losses.generator_loss_forward(fake_logits, "non_saturating")
    return gan_losses.generator_loss_backward(1.0, cache)


_GRAD_MISTAKES = [
    Mistake("ns-grad-no-mean", lambda a: sigmoid(a) - 1.0, "the 1/M of the mean is missing"),
    Mistake("ns-grad-is-minimax", lambda a: -sigmoid(a) / len(a),
            "that is the MINIMAX gradient (of mean log(1 − σ(a))); it vanishes where σ(a) ≈ 0"),
    Mistake("ns-grad-sign", lambda a: (1.0 - sigmoid(a)) / len(a),
            "the sign is flipped: increasing a lowers -log σ(a), so the gradient is negative"),
    Mistake("ns-grad-sigmoid-slope-only", lambda a: -sigmoid(a) * (1 - sigmoid(a)) / len(a),
            "σ'(a) = σ(a)(1 − σ(a)) is only the inner derivative; multiply by d(-log D)/dD and simplify"),
    Mistake("ns-grad-with-respect-to-d", lambda a: -1.0 / (len(a) * sigmoid(a)),
            "that is the gradient with respect to D, not to the logit a; chain it with dD/da = D(1 − D)"),
]


def check_nonsaturating_grad(nonsaturating_grad: Callable) -> CheckResult:
    """Exercise 14.5: ``nonsaturating_grad(fake_logits)`` -> dL/da for L = -mean log σ(a), shape (M,).

    Recognises: the missing 1/M, the minimax gradient, the wrong sign, σ'(a) alone, and the
    gradient with respect to D instead of the logit.
    """
    cases = [
        Case((np.array([0.0, 2.0, -3.0, 0.5]),), description="logits [0, 2, -3, 0.5]"),
        Case((np.array([-12.0, -30.0, 4.0]),), description="logits [-12, -30, 4] (two confidently rejected fakes)"),
        Case((np.array([-1.0]),), description="a batch of one, logit -1"),
    ]
    return check_function(
        "14.5", nonsaturating_grad, _nonsaturating_grad, cases, name="nonsaturating_grad", mistakes=_GRAD_MISTAKES,
        forbid=[gan_losses.generator_loss_backward],
        hint="differentiate log(1 + e^{-a}) and write the result with σ; the mean over M examples divides by M.",
        success="-(1 − σ(a))/M: close to -1/M for a rejected fake, 0 only once D is fooled.",
    )


# ---------------------------------------------------------------- 14.6 the two training steps

_LATENT, _HIDDEN = 3, 8


def _networks(seed: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    """A tiny float64 generator (3 -> 8 -> 2) and discriminator (2 -> 8 -> 1), fixed by ``seed``."""
    torch.manual_seed(seed)
    generator = mlp_generator(_LATENT, 2, _HIDDEN, depth=1, dtype=torch.float64)
    discriminator = mlp_discriminator(2, _HIDDEN, depth=1, dtype=torch.float64)
    return generator, discriminator


def _optimizer(name: str, parameters) -> torch.optim.Optimizer:
    return torch.optim.SGD(parameters, lr=0.1) if name == "sgd" else torch.optim.Adam(parameters, lr=0.01)


def _shift_logits(discriminator: torch.nn.Module, shift: float) -> None:
    """Add ``shift`` to every logit of D (its last bias): -800 makes it reject everything with certainty."""
    with torch.no_grad():
        discriminator[-1].bias += shift


def _plant_stale_gradients(module: torch.nn.Module) -> None:
    """Leave gradients in ``module``, as the other network's step of a real round does."""
    for index, parameter in enumerate(module.parameters()):
        parameter.grad = torch.full_like(parameter, 0.3 * (-1) ** index)


def _flat(module: torch.nn.Module) -> np.ndarray:
    return np.concatenate([p.detach().numpy().ravel() for p in module.parameters()])


def _gradient_size(module: torch.nn.Module) -> float:
    return float(sum(float((p.grad ** 2).sum()) for p in module.parameters() if p.grad is not None))


def _numbers(result: Any, count: int, what: str) -> np.ndarray | None:
    if result is None:
        return None
    values = result if isinstance(result, (tuple, list)) else (result,)
    if len(values) != count:
        raise ValueError(f"it should return {what}, got {len(values)} value{'s' * (len(values) != 1)}")
    return np.array([float(v) for v in values])


def run_discriminator_step(step: Callable, seed: int, real: np.ndarray, z: np.ndarray, optimizer: str,
                           shift: float = 0.0):
    """Run ``step(generator, discriminator, opt_d, real, z)`` once on fresh tiny networks (D's logits + ``shift``).

    Returns ((loss, mean D(real), mean D(generated)), D's weights after the step, the squared
    size of the gradients left in G's parameters), or None if ``step`` returned None.
    """
    generator, discriminator = _networks(seed)
    _shift_logits(discriminator, shift)
    opt_d = _optimizer(optimizer, discriminator.parameters())
    _plant_stale_gradients(discriminator)
    values = _numbers(step(generator, discriminator, opt_d, torch.tensor(real), torch.tensor(z)), 3,
                      "(loss, mean D(real), mean D(generated))")
    return None if values is None else (values, _flat(discriminator), _gradient_size(generator))


def run_generator_step(step: Callable, seed: int, z: np.ndarray, optimizer: str, loss: str, shift: float = 0.0):
    """Run ``step(generator, discriminator, opt_g, z, loss)`` once on fresh tiny networks (D's logits + ``shift``).

    Returns (the loss, G's weights after the step, D's weights after the step), or None if
    ``step`` returned None.
    """
    generator, discriminator = _networks(seed)
    _shift_logits(discriminator, shift)
    opt_g = _optimizer(optimizer, generator.parameters())
    _plant_stale_gradients(generator)
    value = _numbers(step(generator, discriminator, opt_g, torch.tensor(z), loss), 1, "the generator's loss")
    return None if value is None else (value, _flat(generator), _flat(discriminator))


# Typical wrong steps, each written as a learner would.

def _d_step_not_detached(generator, discriminator, opt_d, real, z):
    fake = generator(z)
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item(), torch.sigmoid(real_logits).mean().item(), torch.sigmoid(fake_logits).mean().item()


def _d_step_variant(labels_swapped=False, zero_grad=True, scale=1.0, logits_returned=False):
    def step(generator, discriminator, opt_d, real, z):
        with torch.no_grad():
            fake = generator(z)
        real_logits, fake_logits = discriminator(real), discriminator(fake)
        sign = -1.0 if labels_swapped else 1.0
        loss = scale * (F.softplus(-sign * real_logits).mean() + F.softplus(sign * fake_logits).mean())
        if zero_grad:
            opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        shown_real, shown_fake = ((real_logits, fake_logits) if logits_returned
                                  else (torch.sigmoid(real_logits), torch.sigmoid(fake_logits)))
        return loss.item(), shown_real.mean().item(), shown_fake.mean().item()
    return step


def _d_step_zeroed_after_backward(generator, discriminator, opt_d, real, z):
    with torch.no_grad():
        fake = generator(z)
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    loss.backward()
    opt_d.zero_grad()
    opt_d.step()
    return loss.item(), torch.sigmoid(real_logits).mean().item(), torch.sigmoid(fake_logits).mean().item()


def _g_step_variant(kinds_swapped=False, detached=False, zero_grad=True, discriminators_loss=False):
    def step(generator, discriminator, opt_g, z, loss="non_saturating"):
        fake = generator(z).detach() if detached else generator(z)
        logits = discriminator(fake)
        kind = {"minimax": "non_saturating", "non_saturating": "minimax"}[loss] if kinds_swapped else loss
        if discriminators_loss:
            value = F.softplus(logits).mean()
        else:
            value = -F.softplus(logits).mean() if kind == "minimax" else F.softplus(-logits).mean()
        if zero_grad:
            opt_g.zero_grad()
        value.backward()
        opt_g.step()
        return value.item()
    return step


def _d_step_naive_logs(generator, discriminator, opt_d, real, z):
    with torch.no_grad():
        fake = generator(z)
    d_real, d_fake = torch.sigmoid(discriminator(real)), torch.sigmoid(discriminator(fake))
    loss = -torch.log(d_real).mean() - torch.log(1 - d_fake).mean()
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item(), d_real.mean().item(), d_fake.mean().item()


def _g_step_naive_logs(generator, discriminator, opt_g, z, loss="non_saturating"):
    d_fake = torch.sigmoid(discriminator(generator(z)))
    value = torch.log(1 - d_fake).mean() if loss == "minimax" else -torch.log(d_fake).mean()
    opt_g.zero_grad()
    value.backward()
    opt_g.step()
    return value.item()


_NAIVE_LOGS = ("the log of a probability that rounded to 0 or 1 is infinite (here D's logits are about ±800, as "
               "for a discriminator that is certain): compute the loss from the LOGITS, e.g. with F.softplus or "
               "F.binary_cross_entropy_with_logits, never as the log of a sigmoid")


def _d_mistake(id: str, step: Callable, message: str) -> Mistake:
    return Mistake(id, lambda *args: run_discriminator_step(step, *args), message)


def _g_mistake(id: str, step: Callable, message: str) -> Mistake:
    return Mistake(id, lambda *args: run_generator_step(step, *args), message)


_D_STEP_MISTAKES = [
    _d_mistake("d-step-naive-logs", _d_step_naive_logs, _NAIVE_LOGS),
    _d_mistake("d-step-not-detached", _d_step_not_detached,
               "your discriminator step left gradients in the GENERATOR's parameters: D's loss was backpropagated "
               "through G(z). Cut the generated batch from G's graph in D's step"),
    _d_mistake("d-step-labels-swapped", _d_step_variant(labels_swapped=True),
               "your discriminator learns to call real examples fake and generated ones real: the labels are swapped"),
    _d_mistake("d-step-no-zero-grad", _d_step_variant(zero_grad=False),
               "D's parameters still held gradients from the previous generator step (the check leaves some there, "
               "as a real round does), and your step added to them: clear them before backward()"),
    _d_mistake("d-step-zeroed-after-backward", _d_step_zeroed_after_backward,
               "your step cleared the gradients after backward() and before step(), so D did not move"),
    _d_mistake("d-step-half-loss", _d_step_variant(scale=0.5),
               "your loss is half of L_D: the exercise's L_D is the SUM of the two halves' mean losses"),
    _d_mistake("d-step-returns-logits", _d_step_variant(logits_returned=True),
               "you returned the mean logits; the second and third values are mean PROBABILITIES D = σ(a)"),
]

_G_STEP_MISTAKES = [
    _g_mistake("g-step-naive-logs", _g_step_naive_logs, _NAIVE_LOGS),
    _g_mistake("g-step-detached", _g_step_variant(detached=True),
               "your generator did not move: G(z) was cut from G's graph, so no gradient reached its parameters"),
    _g_mistake("g-step-kinds-swapped", _g_step_variant(kinds_swapped=True),
               "you computed the other loss: 'non_saturating' is -mean log D(G(z)), 'minimax' is "
               "mean log(1 − D(G(z)))"),
    _g_mistake("g-step-no-zero-grad", _g_step_variant(zero_grad=False),
               "G's parameters still held gradients (the check leaves some there), and your step added to them: "
               "clear them before backward()"),
    _g_mistake("g-step-discriminators-loss", _g_step_variant(discriminators_loss=True),
               "your generator minimises the discriminator's loss on fakes, -mean log(1 − D(G(z))): that makes its "
               "samples look MORE fake"),
]


def _reference_d_step(*args):
    return run_discriminator_step(course_gan.discriminator_step, *args)


def _reference_g_step(*args):
    return run_generator_step(course_gan.generator_step, *args)


def _step_cases() -> tuple[list[Case], list[Case]]:
    rng = np.random.default_rng(14)
    real = [2.0 + 0.3 * rng.standard_normal((6, 2)), rng.standard_normal((4, 2))]
    z = [rng.standard_normal((6, _LATENT)), rng.standard_normal((4, _LATENT)), rng.standard_normal((5, _LATENT))]
    d_cases = [Case((1, real[0], z[0], "sgd"), description="6 real and 6 generated points, SGD (lr 0.1)"),
               Case((2, real[1], z[1], "adam"), description="4 real and 4 generated points, Adam (lr 0.01)"),
               Case((3, real[1], z[1], "sgd", -800.0), description="a D that rejects everything: logits near -800")]
    g_cases = [Case((1, z[0], "sgd", "non_saturating"), description="6 latent vectors, SGD (lr 0.1), non-saturating"),
               Case((2, z[2], "sgd", "minimax"), description="5 latent vectors, SGD (lr 0.1), minimax"),
               Case((3, z[1], "adam", "non_saturating"),
                    description="4 latent vectors, Adam (lr 0.01), non-saturating"),
               Case((4, z[1], "sgd", "non_saturating", -800.0),
                    description="a D that rejects the fakes: logits near -800"),
               Case((4, z[1], "sgd", "minimax", 800.0), description="a D fooled by the fakes: logits near +800")]
    return d_cases, g_cases


def check_training_steps(discriminator_step: Callable, generator_step: Callable) -> CheckResult:
    """Exercise 14.6: one optimizer step on each network.

    ``discriminator_step(generator, discriminator, opt_d, real, z)`` -> (L_D, mean D(real), mean D(G(z)));
    ``generator_step(generator, discriminator, opt_g, z, loss)`` -> L_G. Each runs on fresh tiny float64
    networks with stale gradients left in the network it trains; compared are the returned numbers,
    the weights after the step, and (for D's step) the gradient left in G.

    Recognises: G(z) not detached in D's step, swapped labels, stale gradients not cleared or cleared
    after backward, half of L_D, logits returned for probabilities; G's output detached in G's step,
    the two generator losses swapped, stale gradients, and the discriminator's loss minimised by G.
    """
    label = "14.6"
    d_cases, g_cases = _step_cases()
    forbid = [course_gan.discriminator_step, course_gan.generator_step, course_gan.discriminator_loss,
              course_gan.generator_loss, course_gan.Gan.discriminator_step, course_gan.Gan.generator_step]
    check_function(
        label, lambda *args: run_discriminator_step(discriminator_step, *args), _reference_d_step, d_cases,
        name="discriminator_step", outputs=("(loss, mean D(real), mean D(generated))", "D's weights after the step",
                                            "the gradient left in G"),
        mistakes=_D_STEP_MISTAKES, forbid=forbid,
        hint="real examples are labelled 1, generated ones 0, with the loss computed from the logits; only D's "
             "optimizer steps, and G must not collect gradients from D's loss.", report=False)
    check_function(
        label, lambda *args: run_generator_step(generator_step, *args), _reference_g_step, g_cases,
        name="generator_step", outputs=("the loss", "G's weights after the step", "D's weights after the step"),
        mistakes=_G_STEP_MISTAKES, forbid=forbid,
        hint="the loss is computed on D's logits for G(z), and its gradient must flow back through D into G.",
        report=False)
    accept("discriminator_step", discriminator_step, label)
    accept("generator_step", generator_step, label)
    return passed(label, "both steps match the course's; the GANs below train with yours.")


# ---------------------------------------------------------------- 14.7 mode coverage

def course_mode_coverage(samples: np.ndarray, centers: np.ndarray, std: float,
                         num_std: float = 3.0) -> tuple[np.ndarray, int, float]:
    """The course's mode coverage with the exercise's return value: (counts (K,), modes covered, high-quality share)."""
    coverage = gan_diagnostics.mode_coverage(samples, centers, std, num_std)
    return coverage.counts, coverage.modes_covered, coverage.high_quality


def _coverage_variant(radius_squared=False, no_radius=False, share=0.25, strict=False, any_sample=False,
                      ignore_std=False, quality_count=False):
    def coverage(samples, centers, std, num_std=3.0):
        squared = ((samples[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)       # (N, K)
        distance = squared if radius_squared else np.sqrt(squared)
        nearest = distance.argmin(axis=1)
        radius = num_std if ignore_std else num_std * std
        close = np.ones(len(samples), bool) if no_radius else distance[np.arange(len(samples)), nearest] <= radius
        counts = np.bincount(nearest[close], minlength=len(centers))
        needed = share * len(samples) / len(centers)
        covered = counts > 0 if any_sample else (counts > needed if strict else counts >= needed)
        return counts, int(covered.sum()), float(close.sum() if quality_count else close.mean())
    return coverage


_COVERAGE_MISTAKES = [
    Mistake("coverage-fair-share", _coverage_variant(share=1.0),
            "a mode is covered with a QUARTER of its fair share N/K, not the whole share"),
    Mistake("coverage-strict", _coverage_variant(strict=True),
            "a mode that receives exactly N/(4K) samples counts as covered (at least, not more than)"),
    Mistake("coverage-any-sample", _coverage_variant(any_sample=True),
            "one stray sample does not cover a mode: it needs at least a quarter of its fair share N/K"),
    Mistake("coverage-quality-count", _coverage_variant(quality_count=True),
            "the third value is the FRACTION of samples near some mode, not their number"),
    Mistake("coverage-no-radius", _coverage_variant(no_radius=True),
            "you counted every sample for its nearest mode, however far away: only samples within num_std "
            "standard deviations count"),
    Mistake("coverage-squared-distance", _coverage_variant(radius_squared=True),
            "you compared a SQUARED distance with the radius num_std · std"),
    Mistake("coverage-std-ignored", _coverage_variant(ignore_std=True),
            "your radius ignores std: it is num_std standard deviations"),
]


def _coverage_cases() -> list[Case]:
    rng = np.random.default_rng(7)
    angles = np.arange(8) * np.pi / 4
    ring = np.stack([2 * np.cos(angles), 2 * np.sin(angles)], axis=1)                  # (8, 2)
    std = 0.05
    # 64 samples, so a mode needs 64 / (4 * 8) = 2: 47 near mode 0, exactly 2 near mode 1, 5 near mode 2,
    # 1 near modes 3 and 7; 3 points 0.2 to 0.35 from modes 4 and 6 (inside only a wrong radius), 2 points
    # 1.5 beyond mode 6 (inside a radius of num_std without std), and 3 more than 3 away from every mode
    near = [ring[k] + 0.5 * std * rng.standard_normal((n, 2)) for k, n in ((0, 47), (1, 2), (2, 5), (3, 1))]
    off = [ring[4] + [0.2, 0.0], ring[4] + [0.0, 0.25], ring[6] + [0.0, -0.35], ring[7] + [0.12, 0.0],
           1.75 * ring[6], 1.76 * ring[6], [-5.0, -5.0], [-5.5, -5.0], [-5.0, -5.5]]
    samples = np.concatenate(near + [np.array(off)])
    grid = np.stack(np.meshgrid(np.arange(3.0), np.arange(3.0)), axis=-1).reshape(9, 2)   # (9, 2)
    counts = [16, 2, 0, 8, 3, 0, 18, 1, 10]                                           # 58, then 14 others
    grid_samples = np.concatenate([grid[k] + 0.1 * rng.standard_normal((n, 2)) for k, n in enumerate(counts)]
                                  + [rng.uniform(-1.0, 3.0, (12, 2)), np.array([[1.5, 1.5], [10.0, 10.0]])])
    return [Case((samples, ring, std), description="64 samples around a ring of 8 modes (std 0.05)"),
            Case((samples, ring, std, 6.0), description="the same with num_std = 6"),
            Case((grid_samples, grid, 0.2), description="72 samples around a 3 x 3 grid of modes (std 0.2)")]


def check_mode_coverage(mode_coverage: Callable) -> CheckResult:
    """Exercise 14.7: ``mode_coverage(samples, centers, std, num_std=3.0)`` -> (counts, modes_covered, high_quality).

    Recognises: no radius, a squared distance against the radius, std ignored, the whole fair share
    (or a strict inequality, or any one sample) needed to cover a mode, and a count for the fraction.
    """
    return check_function(
        "14.7", mode_coverage, course_mode_coverage, _coverage_cases(), name="mode_coverage",
        outputs=("counts", "modes_covered", "high_quality"), mistakes=_COVERAGE_MISTAKES,
        forbid=[gan_diagnostics.mode_coverage],
        hint="assign each sample to its nearest centre, keep it only if that centre is within num_std · std, "
             "count per mode; a mode is covered with at least N / (4K) samples.",
        success="the mode counts below are yours.",
    )


# ---------------------------------------------------------------- 14.8 the training loop

_LOOP_OUTPUTS = gan_loop.HISTORY_KEYS  # each list of the history is compared on its own, by its name


def _loop_gan(seed: int, loss: str, data: str) -> Gan:
    """A tiny float64 GAN on the ring (latent 3, hidden 8, batches of 8, Adam lr 0.01) with the course's steps.

    ``data="sampler"`` draws fresh ring points with NumPy; ``"array"`` draws batches from 64 fixed points
    with the GAN's torch generator, which also draws the noise (so the order of the draws matters).
    """
    torch.manual_seed(seed)
    data_source = (sample_toy("ring", 64, seed) if data == "array"
                   else lambda n, generator: sample_toy("ring", n, generator))
    return Gan(data_source, mlp_generator(_LATENT, 2, _HIDDEN, depth=1, dtype=torch.float64),
               mlp_discriminator(2, _HIDDEN, depth=1, dtype=torch.float64), latent_dim=_LATENT, lr_d=0.01, lr_g=0.01,
               batch_size=8, loss=loss, seed=seed)


def _count_ring_modes(samples: np.ndarray) -> int:
    """Modes of the ring reached, with a wide radius (std 1) so that a tiny, barely trained generator reaches some."""
    return gan_diagnostics.mode_coverage(samples, toy_centers("ring"), 1.0).modes_covered


def run_training_loop(train: Callable, seed: int, num_rounds: int, d_steps: int, g_steps: int, record_every: int,
                      num_samples: int, loss: str, data: str = "sampler", count_modes: bool = True):
    """Run ``train(gan, num_rounds, d_steps=..., ...)`` on a fresh tiny seeded GAN; its history's lists as a tuple.

    ``count_modes=False`` passes ``count_modes=None`` (no mode count), as the chapter's digit GAN does.
    Returns None if ``train`` returned None.
    """
    history = train(_loop_gan(seed, loss, data), num_rounds, d_steps=d_steps, g_steps=g_steps, record_every=record_every,
                    num_samples=num_samples, count_modes=_count_ring_modes if count_modes else None)
    if history is None:
        return None
    if not isinstance(history, dict):
        raise TypeError(f"it should return the history as a dict, got {type(history).__name__}")
    missing = [key for key in _LOOP_OUTPUTS if key not in history]
    if missing:
        raise ValueError(f"the history it returned has no {', '.join(repr(key) for key in missing)} "
                         f"(expected the keys {', '.join(_LOOP_OUTPUTS)})")
    return tuple(history[key] for key in _LOOP_OUTPUTS)


# Typical wrong loops, each written as a learner would (a few switches on one loop).

def _loop_variant(d_steps_ignored=False, g_steps_ignored=False, batch_reused=False, g_reuses_d_noise=False,
                  g_first=False, loss_ignored=False, fresh_noise_per_record=False, rounds_from_zero=False,
                  every_step_recorded=False, noise_first=False, losses_only_at_records=False):
    def train_gan(gan, num_rounds, d_steps=1, g_steps=1, record_every=50, num_samples=1000, count_modes=None):
        d_step, g_step = gan.steps
        history = {key: [] for key in _LOOP_OUTPUTS}
        fixed_z = None if fresh_noise_per_record else gan.sample_latent(num_samples)
        d_noise = None

        def d_phase():
            nonlocal d_noise
            values = None
            for step in range(1 if d_steps_ignored else d_steps):
                if step == 0 or not batch_reused:
                    if noise_first:
                        d_noise, real = gan.sample_latent(), gan.sample_real()
                    else:
                        real, d_noise = gan.sample_real(), gan.sample_latent()
                values = d_step(gan.generator, gan.discriminator, gan.opt_d, real, d_noise)
                if every_step_recorded:
                    for key, value in zip(("d_loss", "d_real", "d_fake"), values):
                        history[key].append(value)
            return values

        def g_phase():
            value = None
            for _ in range(1 if g_steps_ignored else g_steps):
                noise = d_noise if g_reuses_d_noise and d_noise is not None else gan.sample_latent()
                arguments = (gan.generator, gan.discriminator, gan.opt_g, noise)
                value = g_step(*arguments) if loss_ignored else g_step(*arguments, gan.loss)
                if every_step_recorded:
                    history["g_loss"].append(value)
            return value

        for index in range(num_rounds):
            if g_first:
                g_loss = g_phase()
                d_loss, d_real, d_fake = d_phase()
            else:
                d_loss, d_real, d_fake = d_phase()
                g_loss = g_phase()
            round_number = index if rounds_from_zero else index + 1
            recording = round_number % record_every == 0
            if not every_step_recorded and (recording or not losses_only_at_records):
                for key, value in zip(_LOOP_OUTPUTS, (d_loss, g_loss, d_real, d_fake)):
                    history[key].append(value)
            if recording:
                samples = gan.generate(gan.sample_latent(num_samples) if fresh_noise_per_record else fixed_z)
                history["rounds"].append(round_number)
                history["samples"].append(samples)
                if count_modes is not None:
                    history["modes_covered"].append(count_modes(samples))
        return history
    return train_gan


def _loop_mistake(id: str, message: str, **switches) -> Mistake:
    return Mistake(id, lambda *args: run_training_loop(_loop_variant(**switches), *args), message)


_LOOP_MISTAKES = [
    _loop_mistake("loop-d-steps-ignored", "your loop takes one discriminator step per round whatever d_steps is",
                  d_steps_ignored=True),
    _loop_mistake("loop-g-steps-ignored", "your loop takes one generator step per round whatever g_steps is",
                  g_steps_ignored=True),
    _loop_mistake("loop-batch-reused",
                  "your discriminator steps of one round all train on the same real batch and the same noise: draw "
                  "a fresh real batch and fresh noise for EACH discriminator step", batch_reused=True),
    _loop_mistake("loop-noise-drawn-first",
                  "your discriminator step draws its noise before its real batch: draw the real batch first (with "
                  "data held in an array both come from the same random generator, so the order changes them)",
                  noise_first=True),
    _loop_mistake("loop-g-reuses-d-noise",
                  "your generator step reuses the noise of the discriminator step: draw fresh noise for each "
                  "generator step", g_reuses_d_noise=True),
    _loop_mistake("loop-g-first", "your round trains the generator first: a round is d_steps discriminator steps, "
                                  "THEN g_steps generator steps", g_first=True),
    _loop_mistake("loop-loss-ignored",
                  "your generator steps always use the default non-saturating loss: pass the GAN's loss "
                  "(gan.loss) on to the generator step", loss_ignored=True),
    _loop_mistake("loop-fresh-noise-per-record",
                  "you drew new latent vectors at each record: draw one fixed batch of num_samples latent vectors "
                  "before the first round and generate from it at every record (fresh noise makes the records "
                  "incomparable, and its draws shift the noise the training uses)", fresh_noise_per_record=True),
    _loop_mistake("loop-rounds-from-zero",
                  "your records come one round early and are labelled from round 0: count rounds from 1 and record "
                  "after rounds record_every, 2 * record_every, ...", rounds_from_zero=True),
    _loop_mistake("loop-every-step-recorded",
                  "you recorded after every step: the history holds ONE entry per round, the values returned by the "
                  "round's last discriminator step and last generator step", every_step_recorded=True),
    _loop_mistake("loop-losses-only-at-records",
                  "your history has losses and D outputs only for the recorded rounds: append d_loss, g_loss, d_real "
                  "and d_fake after EVERY round (the curves need one point per round); only rounds, samples and "
                  "modes_covered wait for a record", losses_only_at_records=True),
]


def _reference_loop(*args):
    return run_training_loop(gan_loop.train_gan, *args)


def _loop_cases() -> list[Case]:
    return [Case((1, 6, 1, 1, 2, 30, "non_saturating"),
                 description="6 rounds of 1 D step and 1 G step, recording every 2 rounds, non-saturating loss"),
            Case((2, 4, 3, 1, 2, 30, "non_saturating", "array"),
                 description="4 rounds of 3 D steps and 1 G step, real batches drawn from an array of 64 points"),
            Case((3, 4, 1, 2, 4, 30, "minimax"), description="4 rounds of 1 D step and 2 G steps, minimax loss"),
            Case((4, 3, 2, 3, 1, 20, "non_saturating"), description="3 rounds of 2 D steps and 3 G steps, "
                                                                     "recording every round"),
            Case((5, 4, 1, 1, 2, 30, "non_saturating", "sampler", False),
                 description="4 rounds, count_modes=None (no mode count: modes_covered stays empty)")]


def check_training_loop(train_gan: Callable) -> CheckResult:
    """Exercise 14.8: ``train_gan(gan, num_rounds, d_steps=1, g_steps=1, record_every=50, num_samples=1000,
    count_modes=None)`` -> the history dict of :func:`dlcore.models.gan_loop.train_gan`.

    Each case trains a fresh tiny seeded GAN (with the course's two steps) in the learner's loop and in
    the course's, and compares every list of the two histories. Recognises: d_steps or g_steps ignored,
    one batch reused for all D steps of a round, G trained on D's noise, G trained first, the GAN's
    loss not passed on, fresh noise at each record, records one round early, a record after every step,
    losses kept only at the records; one case passes ``count_modes=None``.
    """
    label = "14.8"
    check_function(
        label, lambda *args: run_training_loop(train_gan, *args), _reference_loop, _loop_cases(), name="train_gan",
        outputs=_LOOP_OUTPUTS, mistakes=_LOOP_MISTAKES,
        forbid=[gan_loop.train_gan, Gan.fit, Gan.train_round, Gan.discriminator_step, Gan.generator_step],
        hint="the fixed latent batch is drawn once, first; then, in each round, every discriminator step draws "
             "a real batch and noise, every generator step its own noise; record once per round (skip the mode count when count_modes is None).", report=False)
    accept("train_gan", train_gan, label)
    return passed(label, "your loop trains exactly as the course's; the GANs below train in it.")
