"""Checks for chapter 06's exercises (optimizers and learning-rate schedules).

- 6.1 implement one Adam step                               -> :func:`check_adam_step`
- 6.2 derive Adam's bias-correction factor E[m_t] / g       -> :func:`check_bias_correction`
- 6.3 derive the size of Adagrad's t-th step, constant g    -> :func:`check_adagrad_step_size`
- 6.4 predict the winner of a race on two valleys           -> :func:`check_valley_race_prediction`
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.exercises.core import not_done_message
from dlcore.exercises.core import Case, CheckResult, fail, matches, mistake_diagnosis, passed
from dlcore.exercises.functions import check_array_function
from dlcore.scratch.optim import SGD, Adam, AdamState, RMSprop, adam_update
from dlcore.scratch.surfaces import descend, elongated_quadratic

__all__ = [
    "check_adam_step", "check_bias_correction", "check_adagrad_step_size", "check_valley_race_prediction",
    "reference_adam_step", "run_valley_race", "RACE_SETTINGS",
]



# ---------------------------------------------------------------- 6.1 one Adam step

def reference_adam_step(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step (t = 1 for the first): returns (theta, m, v); dlcore.scratch.optim.adam_update does the work."""
    new_theta, state = adam_update(theta, grad, AdamState(t - 1, m, v, None), lr=lr, betas=(beta1, beta2), eps=eps)
    return new_theta, state.m, state.v


def _adam_variant(theta, grad, m, v, t, lr, beta1, beta2, eps, *, correct=(True, True), swap_beta=False,
                  eps_inside=False, old_moments=False, t_shift=0, no_sqrt=False):
    """Adam with one plausible mistake switched on; returns (theta, m, v) stacked."""
    if swap_beta:
        new_m, new_v = (1 - beta1) * m + beta1 * grad, (1 - beta2) * v + beta2 * grad**2
    else:
        new_m, new_v = beta1 * m + (1 - beta1) * grad, beta2 * v + (1 - beta2) * grad**2
    use_m, use_v = (m, v) if old_moments else (new_m, new_v)
    k = t + t_shift
    m_hat = use_m / (1 - beta1**k) if correct[0] else use_m
    v_hat = use_v / (1 - beta2**k) if correct[1] else use_v
    if no_sqrt:
        denom = v_hat + eps
    else:
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
    return np.stack([theta - lr * m_hat / denom, new_m, new_v])


ADAM_MISTAKES = [
    (dict(correct=(False, False)), "there is no bias correction: divide m by (1 − β1^t) and v by (1 − β2^t) "
                                   "before using them (both start at 0, so early on they are far too small)"),
    (dict(correct=(False, True)), "only v is bias-corrected: m̂ = m / (1 − β1^t) is missing"),
    (dict(correct=(True, False)), "only m is bias-corrected: v̂ = v / (1 − β2^t) is missing"),
    (dict(swap_beta=True), "β multiplies the wrong term: m ← β1 m + (1 − β1) g keeps most of the OLD average "
                           "(you wrote (1 − β1) m + β1 g, which mostly forgets it; the same for v)"),
    (dict(eps_inside=True), "ε is inside the square root: Adam divides by √v̂ + ε, not √(v̂ + ε) "
                            "(the two differ where v̂ is tiny, i.e. for small gradients)"),
    (dict(old_moments=True), "the step uses m and v from BEFORE this step's update: update m and v with the "
                             "new gradient first, then use them"),
    (dict(t_shift=1), "off by one in t: the bias correction uses t + 1; t is already the number of this step "
                      "(t = 1 on the first step, where 1 − β1^1 = 1 − β1)"),
    (dict(t_shift=-1), "off by one in t: the bias correction uses t − 1; t is already the number of this step"),
    (dict(no_sqrt=True), "the denominator lacks the square root: divide by √v̂ + ε, which has the units of g"),
]


def check_adam_step(adam_step: Callable) -> CheckResult:
    """Exercise 6.1: ``adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps) -> (theta, m, v)``.

    Recognises: no bias correction (or only one of the two), β on the wrong term of the
    leaky averages, ε inside the square root, the step taken with the old m and v (moments
    updated after use), t off by one either way, a missing square root, a return value that
    is not three arrays, and modifying the input arrays in place (e.g. ``m *= beta1``).
    """
    rng = np.random.default_rng(6)
    cases = [
        Case((rng.standard_normal(4), rng.standard_normal(4), 0.1 * rng.standard_normal(4), 0.05 * rng.random(4), 5),
             dict(lr=0.01), "step t = 5 with non-zero m and v, lr = 0.01"),
        Case((np.array([1.0, -1.0, 0.5, 2.0]), np.array([0.5, -2.0, 1e-3, 3.0]), np.zeros(4), np.zeros(4), 1),
             dict(lr=0.1), "the first step (t = 1, m = v = 0), lr = 0.1"),
        Case((rng.standard_normal((2, 3)), 1e-5 * rng.standard_normal((2, 3)), np.zeros((2, 3)), 1e-11 * rng.random((2, 3)), 3),
             dict(lr=0.05, beta1=0.5, beta2=0.9, eps=1e-6), "a (2, 3) parameter with tiny gradients, β = (0.5, 0.9), ε = 1e-6"),
    ]

    def stacked(function):
        def run(*args, **kwargs):
            out = function(*args, **kwargs)
            if out is None:
                return None
            if not isinstance(out, (tuple, list)) or len(out) != 3:
                raise TypeError(f"adam_step must return three arrays (theta, m, v), got {type(out).__name__}"
                                + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""))
            return np.stack([np.asarray(part, dtype=np.float64) for part in out])  # (3, *theta.shape)
        return run

    def diagnose(got, expected, case):
        kwargs = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8) | case.kwargs
        for mistake, message in ADAM_MISTAKES:
            if matches(lambda: _adam_variant(*case.args, **kwargs, **mistake), got):
                return f"{message} (on {case.description})"
        if matches(lambda: np.stack([2 * case.args[0] - expected[0], expected[1], expected[2]]), got):
            return f"the step has the wrong sign: move against the gradient, theta − lr m̂ / (√v̂ + ε) (on {case.description})"
        return None

    return check_array_function(
        "6.1", stacked(adam_step), stacked(reference_adam_step), cases, diagnoses=[diagnose],
        hint="m = β1 m + (1 − β1) g;  v = β2 v + (1 − β2) g²;  m̂ = m / (1 − β1^t);  v̂ = v / (1 − β2^t);  "
             "theta − lr m̂ / (√v̂ + ε). Return the new (theta, m, v) without changing the arguments.",
        success="your Adam step matches dlcore.scratch.optim.adam_update (and hence torch.optim.Adam).",
    )


# ---------------------------------------------------------------- 6.2 bias correction

def _bias_correction(beta, t):
    return 1.0 - np.asarray(beta, dtype=np.float64) ** np.asarray(t, dtype=np.float64)


def check_bias_correction(bias_correction: Callable) -> CheckResult:
    """Exercise 6.2: ``bias_correction(beta, t)`` = E[m_t] / g = 1 − β^t for a constant gradient, m_0 = 0.

    Recognises: β^t (the missing part instead of what is there), t off by one either way,
    the correction factor 1 / (1 − β^t) instead of the ratio, β and 1 − β swapped, and the
    first-order guess (1 − β) t.
    """
    cases = [
        Case((0.9, np.arange(1, 11)), description="beta = 0.9, t = 1..10"),
        Case((0.999, np.array([1, 10, 100, 1000, 10000])), description="beta = 0.999, t = 1, 10, ..., 10000"),
        Case((0.5, 3), description="beta = 0.5, t = 3 (scalars)"),
    ]
    mistakes = [
        (lambda b, t: b ** np.asarray(t, float), "you returned β^t, the share that is MISSING from m_t; the share present is 1 − β^t"),
        (lambda b, t: 1 - b ** (np.asarray(t, float) + 1), "off by one: after t steps the sum has t terms, "
                                                            "(1 − β)(1 + β + … + β^{t−1}) = 1 − β^t, not 1 − β^{t+1}"),
        (lambda b, t: 1 - b ** (np.asarray(t, float) - 1), "off by one: after t steps the sum has t terms, "
                                                            "(1 − β)(1 + β + … + β^{t−1}) = 1 − β^t, not 1 − β^{t−1}"),
        (lambda b, t: 1 / (1 - b ** np.asarray(t, float)), "you returned the correction 1 / (1 − β^t) that Adam multiplies by; "
                                                            "the question asks for E[m_t] / g, which is below 1"),
        (lambda b, t: 1 - (1 - b) ** np.asarray(t, float), "β and 1 − β are swapped: the old average is kept with weight β"),
        (lambda b, t: (1 - b) * np.asarray(t, float), "(1 − β) t is only the first-order approximation for small t; "
                                                     "sum the geometric series"),
    ]

    diagnose = mistake_diagnosis(mistakes)

    return check_array_function(
        "6.2", bias_correction, _bias_correction, cases, diagnoses=[diagnose],
        hint="Unroll m_t = β m_{t−1} + (1 − β) g from m_0 = 0: m_t = (1 − β) g (1 + β + … + β^{t−1}); sum the series.",
        success="E[m_t] = (1 − β^t) g, so dividing by 1 − β^t removes the bias towards the zero start.",
    )


# ---------------------------------------------------------------- 6.3 Adagrad's step size

def _adagrad_step_size(lr, g, t):
    return np.asarray(lr, dtype=np.float64) / np.sqrt(np.asarray(t, dtype=np.float64)) + 0.0 * np.asarray(g, dtype=np.float64)


def check_adagrad_step_size(adagrad_step_size: Callable) -> CheckResult:
    """Exercise 6.3: |Δθ_t| of Adagrad (ε = 0, s_0 = 0) with a constant gradient g ≠ 0 is lr / √t.

    Recognises: a step proportional to |g| (the g in the numerator does not cancel with the
    √(t g²) below), dividing by |g| twice, lr / t (the square root forgotten), t off by one
    either way, a signed step (a size is positive), and lr √t.
    """
    cases = [
        Case((0.1, 2.0, np.arange(1, 9)), description="lr = 0.1, g = 2, t = 1..8"),
        Case((0.5, -0.01, np.array([1, 4, 100, 10000])), description="lr = 0.5, g = −0.01, t = 1, 4, 100, 10000"),
        Case((1.0, 300.0, 9), description="lr = 1, g = 300, t = 9"),
    ]
    mistakes = [
        (lambda lr, g, t: lr * np.abs(g) / np.sqrt(t) + 0 * t, "your step grows with |g|: the numerator's g and the "
                                                               "denominator's √(t g²) = √t |g| cancel"),
        (lambda lr, g, t: lr * g / np.sqrt(t) + 0 * t, "your step grows with g: the numerator's g and the "
                                                       "denominator's √(t g²) = √t |g| cancel"),
        (lambda lr, g, t: lr / (np.sqrt(t) * np.abs(g)), "you divided by |g| once too often: g / √(t g²) = 1 / √t"),
        (lambda lr, g, t: lr / np.asarray(t, float) + 0 * g, "the denominator is the square ROOT of the sum t g², so the step is lr / √t, not lr / t"),
        (lambda lr, g, t: lr / np.sqrt(np.asarray(t, float) - 1) + 0 * g, "off by one: on step t the sum already holds t squared gradients (this step's included)"),
        (lambda lr, g, t: lr / np.sqrt(np.asarray(t, float) + 1) + 0 * g, "off by one: on step t the sum holds exactly t squared gradients"),
        (lambda lr, g, t: -np.sign(g) * lr / np.sqrt(t), "you returned the signed step −lr sign(g) / √t; the question asks for its size |Δθ_t|"),
        (lambda lr, g, t: lr * np.sqrt(t) + 0 * g, "upside down: the accumulated sum is in the denominator, so steps shrink like 1 / √t"),
    ]

    diagnose = mistake_diagnosis(mistakes)

    return check_array_function(
        "6.3", adagrad_step_size, _adagrad_step_size, cases, diagnoses=[diagnose],
        hint="After t steps with the same g the accumulator is s_t = t g²; the step is lr g / √s_t.",
        success="lr / √t whatever g is: Adagrad's steps shrink to zero even if the gradient does not.",
    )


# ---------------------------------------------------------------- 6.4 predict the race

VALLEYS = {"aligned": 0.0, "rotated": np.pi / 6}
RACE_SETTINGS = {
    "GD": lambda params: SGD(params, lr=0.035),
    "momentum": lambda params: SGD(params, lr=0.01, momentum=0.9),
    "RMSprop": lambda params: RMSprop(params, lr=0.05, alpha=0.999),
    "Adam": lambda params: Adam(params, lr=0.1),
}
RACE_START, RACE_STEPS, RACE_THRESHOLD, RACE_CONDITION = (-4.5, 2.0), 300, 1e-4, 50.0


def run_valley_race() -> dict[str, dict[str, int | None]]:
    """Arrival step (first step with f < 1e-4; None if never within 300 steps) of each racer on each valley."""
    table = {}
    for valley, angle in VALLEYS.items():
        surface = elongated_quadratic(RACE_CONDITION, angle=angle)
        table[valley] = {}
        for name, make in RACE_SETTINGS.items():
            path = descend(surface, make, RACE_START, RACE_STEPS)
            hits = np.flatnonzero(surface.gap(path.values) < RACE_THRESHOLD)
            table[valley][name] = int(hits[0]) if hits.size else None
    return table


def _winner(arrivals: dict[str, int | None]) -> str:
    return min((step, name) for name, step in arrivals.items() if step is not None)[1]


def _format(table) -> str:
    lines = []
    for valley, arrivals in table.items():
        shown = ", ".join(f"{name} {'never' if step is None else step}" for name, step in arrivals.items())
        lines.append(f"{valley} valley: {shown}")
    return "; ".join(lines)


def check_valley_race_prediction(prediction) -> CheckResult:
    """Exercise 6.4: the winners (aligned valley, rotated valley) of the race, run here.

    Recognises: an answer that is not a pair of racer names, the same adaptive method
    named for both valleys (rotation defeats per-coordinate scaling), momentum named for the
    aligned valley, plain gradient descent, and Adam (bias-corrected steps of about lr per coordinate).
    """
    label = "6.4"
    if prediction is Ellipsis:
        raise not_done_message("Exercise 6.4 is not done yet: return your two predictions.")
    names = {name.lower(): name for name in RACE_SETTINGS}
    if (not isinstance(prediction, (tuple, list)) or len(prediction) != 2
            or not all(isinstance(p, str) and p.strip().lower() in names for p in prediction)):
        fail(label, f"your prediction should be a pair of names from {list(RACE_SETTINGS)}, got {prediction!r}",
             "e.g. return (\"GD\", \"Adam\")")
    aligned, rotated = (names[p.strip().lower()] for p in prediction)
    table = run_valley_race()
    truth = (_winner(table["aligned"]), _winner(table["rotated"]))
    measured = f"The race gave: {_format(table)}."
    if (aligned, rotated) == truth:
        return passed(label, f"{truth[0]} wins the aligned valley, {truth[1]} the rotated one. {measured}")
    problems = []
    if aligned != truth[0]:
        problems.append({
            "GD": "on the aligned valley, gradient descent must keep lr < 2/50 for the steep direction and then "
                  "crawls along the shallow one",
            "momentum": "on the aligned valley, RMSprop divides each coordinate by the size of that coordinate's "
                        "own gradients: x only ever sees the shallow direction, y the steep one, so both move at a "
                        "similar pace and the ill-conditioning hardly matters",
            "Adam": "Adam also rescales each coordinate, but with bias correction its steps are only about "
                    "lr = 0.1 per coordinate, so crossing the 4.5 units along x takes 45 steps or more; RMSprop "
                    "has no bias correction, v starts near 0 and its first steps are about lr / √(1 − α) ≈ 1.6",
            "RMSprop": "",
        }[aligned])
    if rotated != truth[1]:
        problems.append({
            "GD": "on the rotated valley, gradient descent is as slow as on the aligned one: it is limited by the "
                  "condition number, not by the orientation",
            "RMSprop": "on the rotated valley, the steep direction mixes x and y, so both coordinates' averages of "
                       "g² are dominated by the large steep-direction gradients; with α = 0.999 they remember them "
                       "for hundreds of steps and the steps along the valley floor stay tiny",
            "Adam": "on the rotated valley, the steep direction mixes x and y, so both coordinates' averages of g² "
                    "are dominated by the large steep-direction gradients and the steps along the valley floor "
                    "stay tiny: per-coordinate scaling no longer lines up with the valley's axes",
            "momentum": "",
        }[rotated])
    fail(label, "; ".join(p for p in problems if p) + f". {measured}",
         "Per-coordinate methods fix curvature that is aligned with the coordinate axes; momentum fixes "
         "ill-conditioning in any orientation.")
