"""Checks for chapter 06's exercises (optimizers and learning-rate schedules).

- 6.1 implement an optimizer class that runs a step function        -> :func:`check_step_optimizer`
- 6.2 implement SGD with momentum and Nesterov as a step function   -> :func:`check_momentum_step`
- 6.3 derive the size of Adagrad's t-th step, constant g            -> :func:`check_adagrad_step_size`
- 6.4 derive the bias of a leaky average started at zero            -> :func:`check_bias_correction`
- 6.5 implement Adagrad, RMSprop and Adam/AdamW as step functions   -> :func:`check_adaptive_steps`
- 6.6 implement the warm-up + cosine schedule                      -> :func:`check_warmup_cosine`
- 6.7 predict the winners of a race on two valleys                 -> :func:`check_valley_race_prediction`

The step functions' signatures are those of :mod:`dlcore.scratch.optim_steps`;
a check that passes accepts the learner's function, and the chapter's later
cells (:func:`dlcore.exercises.learner.implementation`) run on it.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

import numpy as np

from dlcore.exercises.core import Case, CheckResult, Mistake, check_choice
from dlcore.exercises.functions import check_function
from dlcore.exercises.learner import accept, learner_call
from dlcore.scratch import Parameter, optim_steps
from dlcore.scratch.optim import (SGD, Adam, Optimizer, RMSprop, adagrad_update, adam_update, rmsprop_update,
                                  sgd_update)
from dlcore.scratch.schedules import cosine_annealing_lr, linear_warmup_lr, warmup_cosine_lr
from dlcore.scratch.benchmark_surfaces import elongated_quadratic
from dlcore.scratch.surfaces import descend

__all__ = [
    "check_step_optimizer", "check_momentum_step", "check_adagrad_step_size", "check_bias_correction",
    "check_adaptive_steps",
    "check_warmup_cosine", "check_valley_race_prediction", "run_valley_race", "RACE_SETTINGS", "REFERENCES",
]

# What each exercise rebuilds: none of these functions' code may be shown before the exercise.
REFERENCES = {
    "6.1": (optim_steps.StepOptimizer._update, Optimizer.step, Optimizer.zero_grad),
    "6.2": (optim_steps.momentum_step, sgd_update),
    "6.5": (optim_steps.adagrad_step, optim_steps.rmsprop_step, optim_steps.adam_step, adagrad_update,
            rmsprop_update, adam_update),
    "6.6": (warmup_cosine_lr, cosine_annealing_lr, linear_warmup_lr),
}
_OPTIMIZER_CODE = [sgd_update, adagrad_update, rmsprop_update, adam_update, Optimizer.step]


# ---------------------------------------------------------------- 6.1 an optimizer from a step function

# The rules the check runs the learner's class with: (step function, num_state, counts_steps, options).
STEP_RULES = {
    "momentum": (optim_steps.momentum_step, 1, False, dict(momentum=0.5, nesterov=True)),
    "adam": (optim_steps.adam_step, 2, True, dict(beta1=0.8, beta2=0.9)),
}


def _run_optimizer(optimizer_class, gradients, rates, rule):
    """The parameters after each step, one row per step: (S, P * D) for gradients of shape (S, P, D).

    Builds P parameters of D values, the optimizer on them, and per step sets ``optimizer.lr`` (as a
    schedule would), clears and fills the gradients, and calls ``step()``.
    """
    step_function, num_state, counts_steps, options = STEP_RULES[rule]
    num_steps, num_params, size = gradients.shape
    params = [Parameter(np.linspace(-1.0, 1.0, size) + k) for k in range(num_params)]
    optimizer = optimizer_class(params, step_function, float(rates[0]), num_state=num_state,
                                counts_steps=counts_steps, **options)
    rows = []
    for index in range(num_steps):
        optimizer.lr = float(rates[index])
        optimizer.zero_grad()
        for param, grad in zip(params, gradients[index]):
            param.grad += grad
        optimizer.step()
        rows.append(np.concatenate([np.asarray(param.value, dtype=np.float64).ravel() for param in params]))
    return np.array(rows)  # (S, P * D)


class _FlawedOptimizer:
    """A StepOptimizer with one plausible mistake (``flaw``), for recognising the learner's."""

    def __init__(self, params, step, lr, num_state=1, counts_steps=False, *, flaw="", **options):
        self.params, self.rule, self.lr, self.flaw = list(params), step, lr, flaw
        self.first_lr, self.num_state, self.counts_steps, self.options = lr, num_state, counts_steps, options
        self.state, self.count = [None] * len(self.params), 0

    def zero_grad(self):
        if self.flaw != "no-zero-grad":
            for param in self.params:
                param.grad[...] = 0.0

    def step(self):
        self.count += 1
        for position, param in enumerate(self.params):
            if self.flaw == "count-per-parameter" and position > 0:
                self.count += 1
            slot = 0 if self.flaw == "shared-state" else position
            if self.state[slot] is None or self.flaw == "state-reset":
                self.state[slot] = [np.zeros_like(param.value) for _ in range(self.num_state)]
            extra = [self.count] if self.counts_steps else []
            lr = self.first_lr if self.flaw == "lr-fixed" else self.lr
            new_value, *self.state[slot] = self.rule(param.value, param.grad, *self.state[slot], *extra, lr=lr,
                                                     **self.options)
            param.value[...] = new_value


def _flawed(flaw):
    return lambda gradients, rates, rule: _run_optimizer(partial(_FlawedOptimizer, flaw=flaw), gradients, rates, rule)


STEP_OPTIMIZER_MISTAKES = [
    Mistake("no-zero-grad", _flawed("no-zero-grad"),
            "your zero_grad leaves the gradients as they are: the gradients of every step add up "
            "(backward passes add into .grad)"),
    Mistake("shared-state", _flawed("shared-state"),
            "all your parameters share one set of state arrays: each parameter needs its own"),
    Mistake("state-reset", _flawed("state-reset"),
            "your state starts from zeros at every step: keep each parameter's state from one step to the next"),
    Mistake("count-per-parameter", _flawed("count-per-parameter"),
            "your step number t grows once per parameter: it counts the calls to step(), so every parameter "
            "sees the same t in one call"),
    Mistake("lr-fixed", _flawed("lr-fixed"),
            "your optimizer keeps using the learning rate it was built with: read self.lr at every step, "
            "since schedules change it between steps"),
]


def check_step_optimizer(optimizer_class) -> CheckResult:
    """Exercise 6.1: ``StepOptimizer(params, step, lr, num_state=1, counts_steps=False, **options)``."""
    rng = np.random.default_rng(60)
    cases = [
        Case((rng.standard_normal((6, 2, 3)), np.full(6, 0.1), "momentum"),
             description="two parameters of 3 values, 6 steps of momentum_step (momentum 0.5, Nesterov), lr 0.1 "
                         "(rows: steps; columns: the parameters' values side by side)"),
        Case((rng.standard_normal((5, 3, 2)), np.full(5, 0.05), "adam"),
             description="three parameters of 2 values, 5 steps of adam_step (counts_steps=True), lr 0.05 "
                         "(rows: steps; columns: the parameters' values side by side)"),
        Case((rng.standard_normal((6, 2, 2)), np.array([0.01, 0.02, 0.05, 0.1, 0.05, 0.01]), "adam"),
             description="6 steps of adam_step with a learning rate changed before every step (as a schedule does) "
                         "(rows: steps; columns: the parameters' values side by side)"),
    ]
    runner = partial(_run_optimizer, optimizer_class)
    reference = partial(_run_optimizer, optim_steps.StepOptimizer)
    result = check_function(
        "6.1", runner, reference, cases, name="StepOptimizer", mistakes=STEP_OPTIMIZER_MISTAKES,
        forbid=[Optimizer.step, Optimizer.zero_grad, optim_steps.StepOptimizer._update],
        hint="each parameter keeps its own list of state arrays (zeros before its first step); step() calls the "
             "step function on every parameter and writes the new value into it in place.",
        success="your StepOptimizer runs step functions like a torch.optim optimizer; the chapter uses it "
                "from here on.",
    )
    accept("StepOptimizer", optimizer_class, "6.1")  # later cells want the class, not the check's runner
    return result


# ---------------------------------------------------------------- 6.2 momentum and Nesterov

def _momentum_variant(theta, grad, velocity, lr, momentum=0.9, nesterov=False, *, average=False, old_step=False,
                      plain_nesterov=False, lr_inside=False, sign=1.0):
    """SGD with momentum with one plausible mistake switched on; returns (theta, velocity)."""
    if lr_inside:
        new_velocity = momentum * velocity + lr * grad
        return theta - new_velocity, new_velocity
    new_velocity = momentum * velocity + ((1 - momentum) * grad if average else grad)
    direction = velocity if old_step else new_velocity
    if nesterov and not plain_nesterov:
        direction = grad + momentum * new_velocity
    return theta - sign * lr * direction, new_velocity


MOMENTUM_MISTAKES = [
    Mistake("velocity-averages", partial(_momentum_variant, average=True),
            "your velocity scales the new gradient by (1 − momentum), a moving average; in this chapter's "
            "(PyTorch's) form the new gradient enters the velocity unscaled"),
    Mistake("lr-inside-velocity", partial(_momentum_variant, lr_inside=True),
            "you folded lr into the velocity (it holds lr times the gradients): the velocity here is the "
            "decaying sum of the gradients themselves, and lr multiplies only the step"),
    Mistake("step-uses-old-velocity", partial(_momentum_variant, old_step=True),
            "the step moved along the velocity from BEFORE this step's update: update the velocity with the "
            "new gradient first, then step"),
    Mistake("nesterov-ignored", partial(_momentum_variant, plain_nesterov=True),
            "with nesterov=True your step is plain momentum's: Nesterov's step adds the momentum-scaled "
            "velocity to this step's gradient (the look-ahead of section 3)"),
    Mistake("wrong-sign", partial(_momentum_variant, sign=-1.0),
            "your step goes uphill: move against the velocity"),
]


def check_momentum_step(momentum_step: Callable) -> CheckResult:
    """Exercise 6.2: ``momentum_step(theta, grad, velocity, lr, momentum=0.9, nesterov=False) -> (theta, velocity)``."""
    rng = np.random.default_rng(61)
    cases = [
        Case((np.array([1.0, -2.0, 0.5]), np.array([0.5, 1.0, -4.0]), np.zeros(3)), dict(lr=0.2),
             "the first step (velocity zeros), lr = 0.2, default momentum"),
        Case((rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(4)), dict(lr=0.05, momentum=0.5),
             "a later step (non-zero velocity), lr = 0.05, momentum = 0.5"),
        Case((rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))),
             dict(lr=0.02, momentum=0.9, nesterov=True), "a (2, 3) parameter, non-zero velocity, nesterov=True"),
    ]
    return check_function(
        "6.2", momentum_step, optim_steps.momentum_step, cases, name="momentum_step", outputs=("theta", "velocity"),
        mistakes=MOMENTUM_MISTAKES, forbid=_OPTIMIZER_CODE,
        hint="first the new velocity from the old one and this step's gradient; then the step along it "
             "(or, with nesterov=True, along the look-ahead direction). Return new arrays.",
        success="your momentum_step takes torch.optim.SGD's steps; the next cells run on it.",
    )


# ---------------------------------------------------------------- 6.3 Adagrad's step size

def _adagrad_step_size(lr, g, t):
    t = np.asarray(t, dtype=np.float64)
    return np.asarray(lr, dtype=np.float64) / np.sqrt(t) + 0.0 * np.asarray(g, dtype=np.float64)


def _sizes(formula):
    """A wrong step-size formula, broadcast like the reference (the shape of t and g together)."""
    def compute(lr, g, t):
        t = np.asarray(t, dtype=np.float64)
        return formula(lr, np.asarray(g, dtype=np.float64), t) + 0.0 * t + 0.0 * np.asarray(g, dtype=np.float64)
    return compute


ADAGRAD_SIZE_MISTAKES = [
    Mistake("grows-with-g", _sizes(lambda lr, g, t: lr * np.abs(g) / np.sqrt(t)),
            "your step grows with |g|: after t steps, look again at how g appears above and below the fraction bar"),
    Mistake("divided-by-g-twice", _sizes(lambda lr, g, t: lr / (np.sqrt(t) * np.abs(g))),
            "your step shrinks as |g| grows: you divided by |g| once too often"),
    Mistake("no-square-root", _sizes(lambda lr, g, t: lr / t),
            "your step falls too fast with t: the denominator is the square root of the accumulated sum"),
    Mistake("off-by-one-below", _sizes(lambda lr, g, t: lr / np.sqrt(t - 1)),
            "off by one: count the squared gradients s_t holds on step t, this step's own included"),
    Mistake("off-by-one-above", _sizes(lambda lr, g, t: lr / np.sqrt(t + 1)),
            "off by one: count the squared gradients s_t holds on step t, this step's own included"),
    Mistake("signed-step", _sizes(lambda lr, g, t: -np.sign(g) * lr / np.sqrt(t)),
            "you returned the signed step; the question asks for its size, a positive number"),
    Mistake("upside-down", _sizes(lambda lr, g, t: lr * np.sqrt(t)),
            "your step grows with t: the accumulated sum is in the denominator"),
]


def check_adagrad_step_size(adagrad_step_size: Callable) -> CheckResult:
    """Exercise 6.3: |Δθ_t| of Adagrad (ε = 0, s_0 = 0) under a constant gradient g ≠ 0, a function of (lr, g, t)."""
    cases = [
        Case((0.1, 2.0, np.arange(2, 10)), description="lr = 0.1, g = 2, t = 2..9"),
        Case((0.5, -0.01, np.array([1, 4, 100, 10000])), description="lr = 0.5, g = −0.01, t = 1, 4, 100, 10000"),
        Case((1.0, 300.0, 9), description="lr = 1, g = 300, t = 9"),
    ]
    return check_function(
        "6.3", adagrad_step_size, _adagrad_step_size, cases, name="adagrad_step_size", mistakes=ADAGRAD_SIZE_MISTAKES,
        hint="write s_1, s_2, s_3 for a constant g, then put s_t into the update and simplify.",
        success="the size does not depend on g at all, and it shrinks with t even though the gradient does not.",
    )


# ---------------------------------------------------------------- 6.4 the bias of a leaky average

def _bias_correction(beta, t):
    return 1.0 - np.asarray(beta, dtype=np.float64) ** np.asarray(t, dtype=np.float64)


BIAS_MISTAKES = [
    Mistake("missing-share", lambda b, t: b ** np.asarray(t, float),
            "your values fall towards 0 as t grows, but m_t forgets its zero start: m_t / g must approach 1"),
    Mistake("off-by-one-above", lambda b, t: 1 - b ** (np.asarray(t, float) + 1),
            "off by one: at t = 1 the average holds one gradient, m_1 = (1 − β) g; check your formula there"),
    Mistake("off-by-one-below", lambda b, t: 1 - b ** (np.asarray(t, float) - 1),
            "off by one: at t = 1 the average holds one gradient, m_1 = (1 − β) g; check your formula there"),
    Mistake("correction-factor", lambda b, t: 1 / (1 - b ** np.asarray(t, float)),
            "your values are above 1: that is the factor Adam multiplies by; the question asks for m_t / g"),
    Mistake("beta-swapped", lambda b, t: 1 - (1 - b) ** np.asarray(t, float),
            "β and 1 − β are swapped: the old average is kept with weight β, the new gradient enters with "
            "1 − β"),
    Mistake("first-order", lambda b, t: (1 - b) * np.asarray(t, float),
            "(1 − β) t is right only at t = 1: each older term is β times smaller; add the terms exactly"),
]


def check_bias_correction(bias_correction: Callable) -> CheckResult:
    """Exercise 6.4: ``bias_correction(beta, t)`` = m_t / g for a constant gradient g and m_0 = 0."""
    cases = [
        Case((0.9, np.arange(1, 11)), description="beta = 0.9, t = 1..10"),
        Case((0.999, np.array([1, 10, 100, 1000, 10000])), description="beta = 0.999, t = 1, 10, ..., 10000"),
        Case((0.5, 3), description="beta = 0.5, t = 3 (scalars)"),
    ]
    return check_function(
        "6.4", bias_correction, _bias_correction, cases, name="bias_correction", mistakes=BIAS_MISTAKES,
        hint="write out m_1, m_2, m_3 and factor out (1 − β) g: what is left is a geometric series.",
        success="dividing m_t by this factor undoes the zero start exactly (for a constant gradient).",
    )


# ---------------------------------------------------------------- 6.5 Adagrad, RMSprop, Adam/AdamW

def _adagrad_variant(theta, grad, sum_squares, lr, eps=1e-10, *, forget=False, eps_inside=False, old=False,
                     no_sqrt=False, absolute=False):
    added = np.abs(grad) if absolute else grad**2
    new_sum = added if forget else sum_squares + added
    used = sum_squares if old else new_sum
    denominator = used + eps if no_sqrt else (np.sqrt(used + eps) if eps_inside else np.sqrt(used) + eps)
    return theta - lr * grad / denominator, new_sum


ADAGRAD_MISTAKES = [
    Mistake("no-accumulation", partial(_adagrad_variant, forget=True),
            "your sum_squares holds only this step's squared gradient: Adagrad adds it to the sum of all earlier ones"),
    Mistake("abs-not-square", partial(_adagrad_variant, absolute=True),
            "your sum_squares adds |g|: it accumulates squared gradients"),
    Mistake("old-sum", partial(_adagrad_variant, old=True),
            "the step divides by the sum from BEFORE this step: add this step's squared gradient first"),
    Mistake("eps-inside-sqrt", partial(_adagrad_variant, eps_inside=True),
            "ε is inside the square root: it is added after the root (as in torch.optim)"),
    Mistake("no-sqrt", partial(_adagrad_variant, no_sqrt=True),
            "the denominator lacks the square root: divide by the root of the accumulated sum"),
]


def _rmsprop_variant(theta, grad, square_avg, lr, alpha=0.99, eps=1e-8, *, swapped=False, eps_inside=False,
                     old=False, no_sqrt=False, summed=False):
    if summed:
        new_avg = square_avg + grad**2
    elif swapped:
        new_avg = (1 - alpha) * square_avg + alpha * grad**2
    else:
        new_avg = alpha * square_avg + (1 - alpha) * grad**2
    used = square_avg if old else new_avg
    denominator = used + eps if no_sqrt else (np.sqrt(used + eps) if eps_inside else np.sqrt(used) + eps)
    return theta - lr * grad / denominator, new_avg


RMSPROP_MISTAKES = [
    Mistake("alpha-swapped", partial(_rmsprop_variant, swapped=True),
            "α multiplies the wrong term: the old average is kept with weight α and forgotten slowly"),
    Mistake("sum-not-average", partial(_rmsprop_variant, summed=True),
            "your square_avg is Adagrad's sum: RMSprop keeps a leaky average that forgets old gradients"),
    Mistake("old-average", partial(_rmsprop_variant, old=True),
            "the step divides by the average from BEFORE this step: update it with this step's gradient first"),
    Mistake("eps-inside-sqrt", partial(_rmsprop_variant, eps_inside=True),
            "ε is inside the square root: it is added after the root (as in torch.optim)"),
    Mistake("no-sqrt", partial(_rmsprop_variant, no_sqrt=True),
            "the denominator lacks the square root: divide by the root of the average of g²"),
]


def _adam_variant(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                  decoupled=False, *, correct=(True, True), swap_beta=False, eps_inside=False, old_moments=False,
                  t_shift=0, no_sqrt=False, sign=1.0, decay="right"):
    """Adam/AdamW with one plausible mistake switched on; returns (theta, m, v).

    ``decay``: "right", "ignored", "no-lr" (decoupled decay by 1 − λ), "after" (decoupled decay applied
    after the step), "l2-always" (decay always in the gradient), "decoupled-always".
    """
    if decay == "ignored":
        weight_decay = 0.0
    elif decay == "l2-always":
        decoupled = False
    elif decay == "decoupled-always":
        decoupled = True
    if weight_decay and decoupled and decay not in ("after",):
        theta = theta * (1 - (1.0 if decay == "no-lr" else lr) * weight_decay)
    elif weight_decay and not decoupled:
        grad = grad + weight_decay * theta
    if swap_beta:
        new_m, new_v = (1 - beta1) * m + beta1 * grad, (1 - beta2) * v + beta2 * grad**2
    else:
        new_m, new_v = beta1 * m + (1 - beta1) * grad, beta2 * v + (1 - beta2) * grad**2
    use_m, use_v = (m, v) if old_moments else (new_m, new_v)
    k = t + t_shift
    m_hat = use_m / (1 - beta1**k) if correct[0] else use_m
    v_hat = use_v / (1 - beta2**k) if correct[1] else use_v
    if no_sqrt:
        denominator = v_hat + eps
    else:
        denominator = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
    new_theta = theta - sign * lr * m_hat / denominator
    if weight_decay and decoupled and decay == "after":
        new_theta = new_theta * (1 - lr * weight_decay)
    return new_theta, new_m, new_v


ADAM_MISTAKES = [
    Mistake("no-bias-correction", partial(_adam_variant, correct=(False, False)),
            "there is no bias correction: m and v start at 0, so early on they are far too small; divide each "
            "by the factor of exercise 6.4 before using them"),
    Mistake("m-not-corrected", partial(_adam_variant, correct=(False, True)), "only v is bias-corrected, not m"),
    Mistake("v-not-corrected", partial(_adam_variant, correct=(True, False)), "only m is bias-corrected, not v"),
    Mistake("beta-swapped", partial(_adam_variant, swap_beta=True),
            "β multiplies the wrong term: each average keeps most of its OLD value (weight β) and takes in "
            "the new gradient with weight 1 − β"),
    Mistake("eps-inside-sqrt", partial(_adam_variant, eps_inside=True),
            "ε is inside the square root: Adam adds it after the root (the two differ where v̂ is tiny)"),
    Mistake("old-moments", partial(_adam_variant, old_moments=True),
            "the step uses m and v from BEFORE this step's update: update them with the new gradient first"),
    Mistake("t-plus-one", partial(_adam_variant, t_shift=1),
            "off by one in t: your bias correction uses t + 1; t is already this step's number (1 on the first)"),
    Mistake("t-minus-one", partial(_adam_variant, t_shift=-1),
            "off by one in t: your bias correction uses t − 1; t is already this step's number (1 on the first)"),
    Mistake("no-sqrt", partial(_adam_variant, no_sqrt=True),
            "the denominator lacks the square root: divide by √v̂ + ε, which has the units of g"),
    Mistake("wrong-sign", partial(_adam_variant, sign=-1.0), "your step goes uphill: move against m̂"),
    Mistake("decay-ignored", partial(_adam_variant, decay="ignored"), "weight_decay has no effect in your adam_step"),
    Mistake("decay-without-lr", partial(_adam_variant, decay="no-lr"),
            "your decoupled decay shrinks θ by the factor 1 − λ: AdamW scales the decay by the learning rate too"),
    Mistake("decay-after-step", partial(_adam_variant, decay="after"),
            "your decoupled decay shrinks θ after the Adam step; AdamW (and torch.optim.AdamW) shrinks the old θ, "
            "before the step"),
    Mistake("decay-always-in-gradient", partial(_adam_variant, decay="l2-always"),
            "with decoupled=True your decay still goes into the gradient (L2): AdamW shrinks θ itself, outside "
            "the adaptive step"),
    Mistake("decay-always-decoupled", partial(_adam_variant, decay="decoupled-always"),
            "with decoupled=False your decay shrinks θ directly: plain Adam's weight_decay is an L2 term added to "
            "the gradient"),
]


def check_adaptive_steps(adagrad_step: Callable, rmsprop_step: Callable, adam_step: Callable) -> CheckResult:
    """Exercise 6.5: ``adagrad_step``, ``rmsprop_step`` and ``adam_step`` (signatures in dlcore.scratch.optim_steps)."""
    rng = np.random.default_rng(64)
    later = lambda shape, scale=1.0: scale * rng.standard_normal(shape)  # noqa: E731 (a local shorthand)
    adagrad_cases = [
        Case((np.array([1.0, -1.0, 0.5]), np.array([0.5, -2.0, 1e-3]), np.zeros(3)), dict(lr=0.1),
             "the first step (sum_squares zeros), lr = 0.1"),
        Case((later(4), later(4), rng.random(4)), dict(lr=0.3, eps=1e-3), "a later step, lr = 0.3, eps = 1e-3"),
        Case((later((2, 3)), later((2, 3), 1e-4), 1e-9 * rng.random((2, 3))), dict(lr=0.05, eps=1e-6),
             "a (2, 3) parameter with tiny gradients, eps = 1e-6"),
    ]
    rmsprop_cases = [
        Case((np.array([1.0, -1.0, 0.5]), np.array([0.5, -2.0, 1e-3]), np.zeros(3)), dict(lr=0.01),
             "the first step (square_avg zeros), lr = 0.01, default alpha"),
        Case((later(4), later(4), rng.random(4)), dict(lr=0.1, alpha=0.7, eps=1e-3),
             "a later step, lr = 0.1, alpha = 0.7, eps = 1e-3"),
        Case((later((2, 3)), later((2, 3), 1e-4), 1e-9 * rng.random((2, 3))), dict(lr=0.05, alpha=0.9, eps=1e-6),
             "a (2, 3) parameter with tiny gradients, alpha = 0.9, eps = 1e-6"),
    ]
    adam_cases = [
        Case((later(4), later(4), later(4, 0.1), 0.05 * rng.random(4), 5), dict(lr=0.01),
             "step t = 5 with non-zero m and v, lr = 0.01"),
        Case((np.array([1.0, -1.0, 0.5, 2.0]), np.array([0.5, -2.0, 1e-3, 3.0]), np.zeros(4), np.zeros(4), 1),
             dict(lr=0.1), "the first step (t = 1, m = v = 0), lr = 0.1"),
        Case((later((2, 3)), later((2, 3), 1e-5), np.zeros((2, 3)), 1e-11 * rng.random((2, 3)), 3),
             dict(lr=0.05, beta1=0.5, beta2=0.9, eps=1e-6),
             "a (2, 3) parameter with tiny gradients, β = (0.5, 0.9), ε = 1e-6"),
        Case((later(3), later(3), later(3, 0.1), 0.1 * rng.random(3), 4),
             dict(lr=0.1, weight_decay=0.5, decoupled=True),
             "AdamW: weight_decay = 0.5, decoupled=True, lr = 0.1, t = 4"),
        Case((later(3), later(3), later(3, 0.1), 0.1 * rng.random(3), 4), dict(lr=0.1, weight_decay=0.5),
             "Adam with L2: weight_decay = 0.5, decoupled=False, lr = 0.1, t = 4"),
    ]
    check_function(
        "6.5", adagrad_step, optim_steps.adagrad_step, adagrad_cases, name="adagrad_step",
        outputs=("theta", "sum_squares"), mistakes=ADAGRAD_MISTAKES, forbid=_OPTIMIZER_CODE,
        hint="update the state with this step's gradient first, then divide the gradient by the root of it "
             "(ε after the root). Return new arrays.",
        success="adagrad_step is right.",
    )
    check_function(
        "6.5", rmsprop_step, optim_steps.rmsprop_step, rmsprop_cases, name="rmsprop_step",
        outputs=("theta", "square_avg"), mistakes=RMSPROP_MISTAKES, forbid=_OPTIMIZER_CODE,
        hint="update the leaky average with this step's gradient first, then divide the gradient by its root "
             "(ε after the root). Return new arrays.",
        success="rmsprop_step is right.",
    )
    return check_function(
        "6.5", adam_step, optim_steps.adam_step, adam_cases, name="adam_step", outputs=("theta", "m", "v"),
        mistakes=ADAM_MISTAKES, forbid=_OPTIMIZER_CODE,
        hint="the order matters: weight decay (which kind?), the two averages, their bias corrections, the "
             "step. Return new arrays without changing the arguments.",
        success="adam_step is right: your three rules take torch.optim's steps, and the rest of the chapter "
                "runs on them.",
    )


# ---------------------------------------------------------------- 6.6 warm-up + cosine

def _schedule_variant(step, base_lr, warmup_steps, total_steps, start_factor=0.1, min_lr=0.0, *, from_zero=False,
                      unshifted=False, over_total=False, no_min=False, no_half=False):
    t = np.asarray(step, dtype=np.float64)
    start = 0.0 if from_zero else start_factor
    warm = base_lr * (start + (1 - start) * np.minimum(t, warmup_steps) / warmup_steps)
    elapsed = t if unshifted else t - warmup_steps
    span = total_steps if over_total else total_steps - warmup_steps
    low = 0.0 if no_min else min_lr
    cosine = low + (base_lr - low) * (np.cos(np.pi * elapsed / span) if no_half else
                                      (1 + np.cos(np.pi * elapsed / span)) / 2)
    return np.where(t < warmup_steps, warm, cosine)


SCHEDULE_MISTAKES = [
    Mistake("warmup-from-zero", partial(_schedule_variant, from_zero=True),
            "your warm-up starts at 0: it starts at start_factor × base_lr"),
    Mistake("cosine-not-shifted", partial(_schedule_variant, unshifted=True),
            "your cosine starts counting at step 0: it should start at the end of the warm-up, at base_lr"),
    Mistake("cosine-over-total", partial(_schedule_variant, over_total=True),
            "your cosine runs over total_steps: after the warm-up only total_steps − warmup_steps steps remain, "
            "and the rate must reach min_lr at total_steps"),
    Mistake("min-lr-ignored", partial(_schedule_variant, no_min=True), "your cosine ends at 0, not at min_lr"),
    Mistake("full-cosine", partial(_schedule_variant, no_half=True),
            "your cosine part goes below min_lr: it is half a cosine wave from base_lr down to min_lr"),
]


def check_warmup_cosine(schedule: Callable) -> CheckResult:
    """Exercise 6.6: ``warmup_cosine_lr(step, base_lr, warmup_steps, total_steps, start_factor=0.1, min_lr=0.0)``."""
    cases = [
        Case((np.arange(0, 21), 0.5, 5, 20), dict(start_factor=0.2),
             "steps 0..20, base_lr 0.5, 5 warm-up steps of 20, start_factor 0.2"),
        Case((np.arange(0, 13), 1.0, 3, 10), dict(start_factor=0.25, min_lr=0.1),
             "steps 0..12, base_lr 1, 3 warm-up steps of 10, start_factor 0.25, min_lr 0.1"),
        Case((7, 0.1, 4, 10), description="one step, 7, base_lr 0.1, 4 warm-up steps of 10, default factors"),
    ]
    return check_function(
        "6.6", schedule, warmup_cosine_lr, cases, name="warmup_cosine_lr", mistakes=SCHEDULE_MISTAKES,
        forbid=[cosine_annealing_lr, linear_warmup_lr],
        hint="compute both parts for every step (the warm-up line and the half cosine), then choose between "
             "them with np.where; the cosine part starts where the warm-up ends.",
        success="your schedule gives torch's SequentialLR(LinearLR, CosineAnnealingLR) rates.",
    )


# ---------------------------------------------------------------- 6.7 predict the race

VALLEYS = {"aligned": 0.0, "rotated": np.pi / 6}
RACE_SETTINGS = {
    "GD": lambda params: SGD(params, lr=0.035),
    "momentum": lambda params: SGD(params, lr=0.01, momentum=0.9),
    "RMSprop": lambda params: RMSprop(params, lr=0.05, alpha=0.999),
    "Adam": lambda params: Adam(params, lr=0.1),
}
RACE_START, RACE_STEPS, RACE_THRESHOLD, RACE_CONDITION = (-4.5, 2.0), 300, 1e-4, 50.0
RACE_OPTIONS = {
    "a": "gradient descent wins both races",
    "b": "momentum wins both races",
    "c": "RMSprop wins on the aligned valley, momentum on the rotated one",
    "d": "Adam wins on the aligned valley, momentum on the rotated one",
    "e": "RMSprop wins both races",
    "f": "Adam wins both races",
}
RACE_WHY_NOT = {
    "a": "gradient descent must keep lr < 2/50 for the steep direction and then crawls along the shallow one, "
         "on either valley",
    "b": "on the aligned valley a per-coordinate method divides x by the size of x's own gradients and y by y's: "
         "both coordinates move at a similar pace and the ill-conditioning hardly matters",
    "d": "Adam also rescales each coordinate, but with bias correction its steps are only about lr = 0.1 per "
         "coordinate, so crossing the 4.5 units along x takes 45 steps or more; RMSprop has no bias correction "
         "and its first steps are many times lr (section 5)",
    "e": "on the rotated valley the steep direction mixes x and y, so both coordinates' averages of g² are "
         "dominated by the large steep-direction gradients; with α = 0.999 they remember them for hundreds of "
         "steps and the steps along the valley floor stay tiny",
    "f": "on the rotated valley the steep direction mixes x and y: per-coordinate scaling no longer lines up with "
         "the valley's axes, and the steps along the valley floor stay tiny",
}


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


def check_valley_race_prediction(predict: Callable[[], str]) -> CheckResult:
    """Exercise 6.7: ``predict()`` returns the letter of the option that names both winners; the races are run here."""
    prediction = learner_call("6.7", predict, name="predict_valley_race")
    table = run_valley_race()
    winners = (_winner(table["aligned"]), _winner(table["rotated"]))
    names = {"GD": "gradient descent", "momentum": "momentum", "RMSprop": "RMSprop", "Adam": "Adam"}
    truth = next(key for key, text in RACE_OPTIONS.items()
                 if text == f"{names[winners[0]]} wins both races" and winners[0] == winners[1]
                 or text == f"{names[winners[0]]} wins on the aligned valley, {names[winners[1]]} on the rotated one")
    why_not = {key: f"{reason}. The race gave: {_format(table)}." for key, reason in RACE_WHY_NOT.items()}
    return check_choice("6.7", prediction, RACE_OPTIONS, truth, why_not=why_not,
                        success=f"{RACE_OPTIONS[truth]}. The race gave: {_format(table)}.")
