"""Checks for chapter 07's exercises (training deep networks).

- 7.1 implement the Xavier and He standard deviations         -> :func:`check_init_std`
- 7.2 derive the variance of a layer's pre-activation          -> :func:`check_output_variance`
- 7.3 implement batch norm's forward pass (training mode)      -> :func:`check_batchnorm_forward`
- 7.4 implement batch norm's backward pass (training mode)     -> :func:`check_batchnorm_backward`
- 7.5 predict which deep networks vanish, explode or are stable -> :func:`check_regime_prediction`
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import numpy as np

from dlcore.exercises.core import not_done_message
from dlcore.exercises.core import Case, CheckResult, fail, first_mistake, matches, passed
from dlcore.exercises.functions import check_array_function
from dlcore.scratch.batchnorm import batchnorm_backward, batchnorm_forward
from dlcore.scratch.init import kaiming_std, xavier_std

__all__ = [
    "check_init_std", "check_output_variance", "check_batchnorm_forward", "check_batchnorm_backward",
    "check_regime_prediction", "reference_init_std", "reference_batchnorm_backward", "measure_regimes",
    "REGIME_CONFIGS",
]




# ---------------------------------------------------------------- 7.1 initialisation std

def reference_init_std(scheme: str, fan_in: int, fan_out: int) -> float:
    """Xavier (gain 1): sqrt(2 / (fan_in + fan_out)); He for ReLU: sqrt(2 / fan_in)."""
    if scheme == "xavier":
        return xavier_std(fan_in, fan_out)
    if scheme == "he":
        return kaiming_std(fan_in, math.sqrt(2.0))
    raise ValueError(f"scheme must be 'xavier' or 'he', got {scheme!r}")


_INIT_MISTAKES = {
    "he": [
        (lambda s, i, o: math.sqrt(2.0 / o), "He scales by fan_IN (the inputs that add up in z = Σ w x), "
                                             "you used fan_out: that is the backward variant (mode='fan_out')"),
        (lambda s, i, o: math.sqrt(1.0 / i), "the ReLU gain √2 is missing: ReLU zeroes half of its inputs, "
                                             "E[relu(z)²] = Var(z) / 2, so He doubles the variance to 2 / fan_in"),
        (lambda s, i, o: 2.0 / i, "you returned the VARIANCE 2 / fan_in; the standard deviation is its square root"),
        (lambda s, i, o: math.sqrt(6.0 / i), "√(6 / fan_in) is the BOUND a of the uniform U(−a, a) with that "
                                             "variance (a = √3 std); the question asks for the std of the normal"),
        (lambda s, i, o: math.sqrt(2.0) / i, "the square root must cover fan_in too: std = √(2 / fan_in) = √2 / √fan_in"),
        (lambda s, i, o: math.sqrt(2.0 / (i + o)), "that is Xavier's std; He uses fan_in alone, times the ReLU gain"),
    ],
    "xavier": [
        (lambda s, i, o: 2.0 / (i + o), "you returned the VARIANCE 2 / (fan_in + fan_out); take its square root"),
        (lambda s, i, o: math.sqrt(6.0 / (i + o)), "√(6 / (fan_in + fan_out)) is the BOUND of Xavier's uniform "
                                                   "variant (a = √3 std); the question asks for the std"),
        (lambda s, i, o: math.sqrt(1.0 / (i + o)), "the factor 2 is missing: Xavier's variance is the harmonic mean "
                                                   "of 1/fan_in and 1/fan_out, 2 / (fan_in + fan_out)"),
        (lambda s, i, o: math.sqrt(1.0 / i), "√(1 / fan_in) keeps only the forward condition (LeCun's scaling); "
                                             "Xavier averages it with the backward one: 2 / (fan_in + fan_out)"),
        (lambda s, i, o: math.sqrt(2.0 / i), "that is He's std (fan_in only, gain √2); Xavier uses both fans and gain 1"),
        (lambda s, i, o: math.sqrt(2.0) / (i + o), "the square root must cover the fans too: √(2 / (fan_in + fan_out))"),
    ],
}


def check_init_std(init_std: Callable) -> CheckResult:
    """Exercise 7.1: ``init_std(scheme, fan_in, fan_out)`` for scheme 'xavier' (gain 1) or 'he' (ReLU, fan_in).

    Recognises: fan_out instead of fan_in (He), the missing ReLU gain √2, the variance returned
    instead of the std, the uniform bound (√3 std) instead of the std, the square root applied to
    the numerator only, Xavier's formula for He and He's (or LeCun's) for Xavier, and Xavier
    without its factor 2.
    """
    cases = [Case((scheme, fan_in, fan_out), description=f"scheme={scheme!r}, fan_in={fan_in}, fan_out={fan_out}")
             for scheme, fan_in, fan_out in (("he", 256, 64), ("xavier", 256, 64), ("he", 3, 500),
                                             ("xavier", 784, 10), ("he", 1, 1))]

    def diagnose(got, expected, case):
        return first_mistake(_INIT_MISTAKES[case.args[0]], got, case)

    return check_array_function(
        "7.1", init_std, reference_init_std, cases, diagnoses=[diagnose],
        hint="Xavier: Var(w) = 2 / (fan_in + fan_out). He (ReLU): Var(w) = 2 / fan_in. Return the square root.",
        success="these are the numbers torch.nn.init.xavier_normal_ and kaiming_normal_ (nonlinearity='relu') use.",
    )


# ---------------------------------------------------------------- 7.2 variance of a pre-activation

def _output_variance(fan_in, weight_var, input_mean, input_var):
    return np.asarray(fan_in * weight_var * (input_var + np.asarray(input_mean, dtype=np.float64) ** 2), dtype=np.float64)


def check_output_variance(output_variance: Callable) -> CheckResult:
    """Exercise 7.2: Var(z) for z = Σ_{d=1}^{n} w_d x_d, w_d i.i.d. (mean 0, variance v) independent of
    x_d i.i.d. (mean μ, variance s²): Var(z) = n v (s² + μ²).

    Recognises: the μ² term forgotten (right only for zero-mean inputs, wrong after a ReLU),
    the weights' std used instead of their variance, fan_in missing, fan_in squared, and
    μ instead of μ².
    """
    cases = [
        Case((64, 1.0 / 64, 0.0, 1.0), description="n = 64, Var(w) = 1/64, zero-mean unit-variance inputs"),
        Case((100, 0.02, 0.4, 0.34), description="n = 100, Var(w) = 0.02, inputs with mean 0.4 and variance 0.34 "
                                                 "(ReLU outputs of a standard normal)"),
        Case((np.array([2, 16, 256]), np.array([1.0, 0.125, 2.0 / 256]), np.array([1.0, -0.5, 0.8]),
              np.array([0.25, 2.0, 1.0])), description="arrays of n, Var(w), μ and s²"),
    ]
    mistakes = [
        (lambda n, v, m, s2: n * v * s2 + 0 * m, "the mean of the inputs is missing: E[w² x²] = Var(w) E[x²] and "
                                                 "E[x²] = s² + μ², not s². After a ReLU the inputs have μ > 0"),
        (lambda n, v, m, s2: n * np.sqrt(v) * (s2 + m**2), "you used the std of the weights; the variance of "
                                                          "w x involves E[w²] = Var(w)"),
        (lambda n, v, m, s2: v * (s2 + m**2) + 0 * n, "fan_in is missing: z sums n independent terms, so their "
                                                      "variances add up n times"),
        (lambda n, v, m, s2: n**2 * v * (s2 + m**2), "n² is what correlated terms would give; independent terms "
                                                     "add their variances: n, not n²"),
        (lambda n, v, m, s2: n * v * (s2 + m), "E[x²] = s² + μ², with μ squared"),
    ]
    return check_array_function(
        "7.2", output_variance, _output_variance, cases,
        diagnoses=[lambda got, expected, case: first_mistake(mistakes, got, case)],
        hint="Var(z) = Σ Var(w_d x_d) (independent terms); Var(w x) = E[w²] E[x²] − (E[w] E[x])² with E[w] = 0.",
        success="Var(z) = n Var(w) E[x²]. With E[x²] = Var(z_prev)/2 after a ReLU, keeping Var(z) constant needs "
                "Var(w) = 2/n: He's initialisation.",
    )


# ---------------------------------------------------------------- 7.3 batch norm forward

def _bn_forward(x, gamma, beta, eps=1e-5):
    return batchnorm_forward(x, gamma, beta, eps=eps)[0]


def _bn_variant(x, gamma, beta, eps=1e-5, *, ddof=0, axis=0, eps_outside=False, affine=True, swap=False,
                divide_by_var=False, centre=True):
    mu = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    centred = x - mu if centre else x
    if divide_by_var:
        x_hat = centred / (var + eps)
    else:
        x_hat = centred / (np.sqrt(var) + eps) if eps_outside else centred / np.sqrt(var + eps)
    if not affine:
        return x_hat
    return x_hat * beta + gamma if swap else x_hat * gamma + beta


_BN_FORWARD_MISTAKES = [
    (dict(ddof=1), "you normalised with the UNBIASED variance (dividing by N − 1); batch norm normalises with the "
                   "biased one, mean((x − μ)²) (only the running average uses N/(N − 1))"),
    (dict(axis=1), "the statistics are taken over the wrong axis: each FEATURE (column) is normalised over the "
                   "batch, axis=0; you normalised each example over its features"),
    (dict(eps_outside=True), "ε is outside the square root: x̂ = (x − μ) / √(var + ε), not (x − μ) / (√var + ε) "
                             "(the two differ a lot for a feature of tiny variance)"),
    (dict(affine=False), "γ and β are not applied: out = γ x̂ + β"),
    (dict(swap=True), "γ and β are swapped: γ scales, β shifts"),
    (dict(divide_by_var=True), "you divided by the variance; divide by the standard deviation √(var + ε)"),
    (dict(centre=False), "the mean is not subtracted: x̂ = (x − μ) / √(var + ε)"),
]


def _bn_cases(rng: np.random.Generator) -> list[Case]:
    wide = rng.standard_normal((8, 3)) * np.array([1.0, 5.0, 1e-3]) + np.array([0.0, 2.0, -1.0])
    return [
        Case((wide, np.array([1.5, -0.5, 2.0]), np.array([0.1, 0.2, -0.3])),
             description="x (8, 3) with feature scales 1, 5 and 0.001, γ = [1.5, −0.5, 2], β = [0.1, 0.2, −0.3]"),
        Case((rng.standard_normal((2, 5)) * 3.0, rng.standard_normal(5), rng.standard_normal(5)),
             description="a batch of N = 2 with D = 5 features"),
        Case((rng.standard_normal((16, 4)), np.ones(4), np.zeros(4)), dict(eps=0.1),
             description="x (16, 4), γ = 1, β = 0, eps = 0.1"),
    ]


def check_batchnorm_forward(batchnorm_forward_train: Callable) -> CheckResult:
    """Exercise 7.3: ``batchnorm_forward_train(x, gamma, beta, eps=1e-5)`` -> out, for x of shape (N, D).

    Recognises: the unbiased variance, statistics over the wrong axis, ε outside the square root,
    γ/β not applied or swapped, division by the variance instead of the std, no centring, a
    wrong shape, and changing x in place.
    """
    def diagnose(got, expected, case):
        for mistake, message in _BN_FORWARD_MISTAKES:
            if matches(lambda: _bn_variant(*case.args, **case.kwargs, **mistake), got):
                return f"{message} (on {case.description})"
        return None

    return check_array_function(
        "7.3", batchnorm_forward_train, _bn_forward, _bn_cases(np.random.default_rng(7)), diagnoses=[diagnose],
        hint="μ = x.mean(axis=0), var = x.var(axis=0) (biased), x̂ = (x − μ) / √(var + ε), out = γ x̂ + β.",
        success="your forward pass matches dlcore's batchnorm_forward, and torch's BatchNorm1d in training mode.",
    )


# ---------------------------------------------------------------- 7.4 batch norm backward

def reference_batchnorm_backward(dout, x, gamma, eps=1e-5):
    """(dx, dgamma, dbeta) of training-mode batch norm; dlcore.scratch.batchnorm does the work."""
    _, cache = batchnorm_forward(x, gamma, np.zeros_like(gamma), eps=eps)
    return batchnorm_backward(dout, cache)


def _bn_backward_variant(dout, x, gamma, eps=1e-5, *, no_gamma=False, constants=False, no_var_term=False,
                         no_mean_term=False, axis=0, swap=False, dgamma_x=False, ddof=0):
    mu = x.mean(axis=axis, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=axis, ddof=ddof, keepdims=True) + eps)
    x_hat = (x - mu) * inv_std
    g = np.ones_like(gamma) if no_gamma else gamma
    dx_hat = dout * g
    mean_term = 0.0 if no_mean_term else dx_hat.mean(axis=axis, keepdims=True)
    var_term = 0.0 if no_var_term else x_hat * (dx_hat * x_hat).mean(axis=axis, keepdims=True)
    dx = dx_hat * inv_std if constants else inv_std * (dx_hat - mean_term - var_term)
    dgamma = (dout * (x if dgamma_x else x_hat)).sum(axis=0)
    dbeta = dout.sum(axis=0)
    return (dx, dbeta, dgamma) if swap else (dx, dgamma, dbeta)


_BN_BACKWARD_MISTAKES = [
    (dict(no_gamma=True), "dx lacks the factor γ: the gradient reaching x̂ is dout · γ"),
    (dict(constants=True), "you treated μ and σ² as constants (dx = γ dout / √(var + ε)): that is evaluation "
                           "mode. In training every x_i also moves μ and σ², which adds −mean(dx̂) − x̂ mean(dx̂ x̂)"),
    (dict(no_var_term=True), "the path through the variance is missing: subtract x̂ · mean(dx̂ · x̂) too"),
    (dict(no_mean_term=True), "the path through the mean is missing: subtract mean(dx̂) too"),
    (dict(axis=1), "the sums run over the wrong axis: statistics, and their gradients, are per feature over "
                   "the batch (axis=0)"),
    (dict(swap=True), "dgamma and dbeta are swapped: dβ = Σ dout, dγ = Σ dout · x̂"),
    (dict(dgamma_x=True), "dγ = Σ dout · x̂ uses the NORMALISED input x̂, not x"),
    (dict(ddof=1), "the forward statistics use the unbiased variance; batch norm uses the biased one"),
]


def check_batchnorm_backward(batchnorm_backward_train: Callable) -> CheckResult:
    """Exercise 7.4: ``batchnorm_backward_train(dout, x, gamma, eps=1e-5)`` -> (dx, dgamma, dbeta), training mode.

    Recognises: γ missing from dx, μ and σ² treated as constants (the evaluation-mode gradient),
    the mean path or the variance path missing, sums over the wrong axis, dγ and dβ swapped,
    dγ computed with x instead of x̂, the unbiased variance, a return value that is not three
    arrays, and changing the inputs in place.
    """
    rng = np.random.default_rng(74)
    cases = []
    for case, description in zip(_bn_cases(np.random.default_rng(7)), (
            "x (8, 3) with feature scales 1, 5 and 0.001, γ = [1.5, −0.5, 2], a random dout",
            "a batch of N = 2 with D = 5 features", "x (16, 4), γ = 1, eps = 0.1")):
        x, gamma = case.args[0], case.args[1]
        cases.append(Case((rng.standard_normal(x.shape), x, gamma), case.kwargs, description))

    def stacked(function):
        def run(dout, x, gamma, **kwargs):
            out = function(dout, x, gamma, **kwargs)
            if out is None:
                return None
            if not isinstance(out, (tuple, list)) or len(out) != 3:
                raise TypeError(f"batchnorm_backward_train must return three arrays (dx, dgamma, dbeta), got "
                                f"{type(out).__name__}" + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""))
            dx, dgamma, dbeta = (np.asarray(part, dtype=np.float64) for part in out)
            if dx.shape != x.shape or dgamma.shape != gamma.shape or dbeta.shape != gamma.shape:
                raise TypeError(f"the shapes must be dx {x.shape}, dgamma {gamma.shape}, dbeta {gamma.shape}; got "
                                f"{dx.shape}, {dgamma.shape}, {dbeta.shape}")
            return np.vstack([dx, dgamma[None, :], dbeta[None, :]])  # (N + 2, D)
        return run

    def diagnose(got, expected, case):
        for mistake, message in _BN_BACKWARD_MISTAKES:
            if matches(lambda: np.vstack([np.atleast_2d(a) for a in
                                           _bn_backward_variant(*case.args, **case.kwargs, **mistake)]), got):
                return f"{message} (on {case.description})"
        return None

    return check_array_function(
        "7.4", stacked(batchnorm_backward_train), stacked(reference_batchnorm_backward), cases, diagnoses=[diagnose],
        hint="dx̂ = dout γ;  dx = (dx̂ − mean(dx̂) − x̂ mean(dx̂ x̂)) / √(var + ε) (means over axis 0); "
             "dγ = Σ dout x̂, dβ = Σ dout.",
        success="your backward pass matches dlcore's batchnorm_backward (and autograd through torch's BatchNorm1d).",
    )


# ---------------------------------------------------------------- 7.5 predict the regimes

REGIME_CONFIGS = (("sigmoid", "xavier"), ("tanh", "xavier"), ("relu", "xavier"), ("relu", "he"), ("relu", "standard"))
REGIMES = ("vanishing", "stable", "exploding")


@functools.lru_cache(maxsize=4)
def measure_regimes(depth: int = 30, width: int = 64) -> tuple[tuple[str, float], ...]:
    """(regime, ||dL/dh_1|| / ||dL/dh_L||) of each configuration in REGIME_CONFIGS, measured at initialisation.

    Deterministic (fixed seeds), so it is computed once per process and then remembered.
    """
    from dlcore.data import make_spirals
    from dlcore.training.loop import measure
    from dlcore.training.models import scratch_mlp
    from dlcore.training.stats import gradient_regime

    X, y = make_spirals(256, n_classes=3, seed=0)
    results = []
    for activation, init in REGIME_CONFIGS:
        model = scratch_mlp(2, 3, hidden=width, depth=depth, activation=activation, init=init,
                            rng=np.random.default_rng(0))
        ratio = measure(model, X, y, loss="softmax_cross_entropy").gradient_ratio
        results.append((gradient_regime(ratio), ratio))
    return tuple(results)


_REGIME_REASONS = {
    ("sigmoid", "xavier"): "σ' ≤ 1/4: every layer multiplies the gradient by at most about 1/4 × (weight scale ≈ 1)",
    ("tanh", "xavier"): "tanh has slope ≈ 1 near 0 and Xavier keeps n Var(w) = 1, so the gradient keeps its size",
    ("relu", "xavier"): "ReLU passes only half of its inputs: with Var(w) = 1/n (Xavier, square layers) each layer "
                        "halves the variance, forwards and backwards, (1/√2)^29 ≈ 4e-5 over 30 layers",
    ("relu", "he"): "He's Var(w) = 2/n exactly makes up for the half that ReLU zeroes",
    ("relu", "standard"): "N(0, 1) weights have Var(w) = 1 = 64 × (1/64): each ReLU layer multiplies the variance by "
                          "64/2 = 32, and the gradient grows by √32 per layer",
}


def check_regime_prediction(prediction) -> CheckResult:
    """Exercise 7.5: a tuple of five regimes ('vanishing', 'stable' or 'exploding') for REGIME_CONFIGS.

    The check measures ||dL/dh_1|| / ||dL/dh_30|| of each 30-layer, 64-unit network at
    initialisation (below 1e-3: vanishing, above 1e3: exploding) and explains each wrong entry.
    """
    label = "7.5"
    if prediction is Ellipsis:
        raise not_done_message("Exercise 7.5 is not done yet: return your five predictions.")
    if (not isinstance(prediction, (tuple, list)) or len(prediction) != len(REGIME_CONFIGS)
            or not all(isinstance(p, str) and p.strip().lower() in REGIMES for p in prediction)):
        fail(label, f"your prediction should be a tuple of {len(REGIME_CONFIGS)} words from {REGIMES}, got "
                    f"{prediction!r}", "e.g. return ('vanishing', 'stable', 'stable', 'stable', 'exploding')")
    measured = measure_regimes()
    table = "; ".join(f"{a} + {i}: ratio {r:.1e} ({regime})" for (a, i), (regime, r) in zip(REGIME_CONFIGS, measured))
    wrong = [f"{a} + {i} is {regime}, not {p.strip().lower()}: {_REGIME_REASONS[(a, i)]}"
             for (a, i), p, (regime, _) in zip(REGIME_CONFIGS, prediction, measured) if p.strip().lower() != regime]
    if wrong:
        fail(label, "; ".join(wrong) + f". Measured: {table}.",
             "Per layer the gradient is multiplied by about √(n Var(w) E[f'(z)²]): compare that with 1.")
    return passed(label, f"measured: {table}.")
