"""Checks for chapter 07's exercises (training deep networks).

- 7.1 predict which deep networks vanish, explode or are stable -> :func:`check_regime_prediction`
- 7.2 derive the variance of a layer's pre-activation          -> :func:`check_output_variance`
- 7.3 implement Xavier and He initialisation                   -> :func:`check_init_weights`
- 7.4 derive one step of batch norm's backward pass            (a derivation, no check)
- 7.5 implement batch norm forward (both modes) and backward   -> :func:`check_batchnorm`
- 7.6 implement gradient-norm clipping and a loop that uses it -> :func:`check_clipping`
- 7.7 implement inverted dropout forward and backward          -> :func:`check_dropout`

The ``reference_*`` functions have the learner's signatures and run dlcore's
kernels; later notebook cells fall back on them until a check passes.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

import numpy as np

from dlcore.exercises.core import Case, CheckResult, Mistake, fail, not_done, not_done_message
from dlcore.exercises.functions import check_function
from dlcore.exercises.learner import accept, learner_call
from dlcore.exercises.verdicts import check_verdicts
from dlcore.scratch import init
from dlcore.scratch.batchnorm import (BatchNorm1d, batchnorm_backward, batchnorm_eval_forward, batchnorm_forward,
                                      update_running_stats)
from dlcore.scratch.dropout import Dropout, dropout_backward, dropout_forward
from dlcore.scratch.module import Parameter
from dlcore.scratch.clipping import clip_grad_norm, total_grad_norm

__all__ = [
    "check_regime_prediction", "check_output_variance", "check_init_weights", "check_batchnorm", "check_clipping",
    "check_dropout", "reference_init_weights", "reference_train_clipped", "reference_batchnorm_forward", "reference_batchnorm_backward",
    "reference_dropout_forward", "reference_dropout_backward", "measure_regimes", "REGIME_CONFIGS", "REFERENCES",
]


# ---------------------------------------------------------------- 7.1 predict the regimes

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
    for activation, scheme in REGIME_CONFIGS:
        model = scratch_mlp(2, 3, hidden=width, depth=depth, activation=activation, init=scheme,
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
    """Exercise 7.1: a tuple of five regimes ('vanishing', 'stable' or 'exploding') for REGIME_CONFIGS,
    or the learner's function that returns it.

    The check measures ||dL/dh_1|| / ||dL/dh_30|| of each 30-layer, 64-unit network at
    initialisation (below 1e-3: vanishing, above 1e3: exploding) and explains each wrong entry;
    the mistake id names the first wrong configuration and the word ("regime-relu-xavier-stable").
    """
    label = "7.1"
    if callable(prediction):
        prediction = learner_call(label, prediction)
    if prediction is Ellipsis:
        raise not_done_message("Exercise 7.1 is not done yet: return your five predictions.")
    measured = measure_regimes()
    return check_verdicts(
        label, prediction, [regime for regime, _ in measured], cases=[f"{a} + {i}" for a, i in REGIME_CONFIGS],
        ids=[f"regime-{a}-{i}" for a, i in REGIME_CONFIGS], vocabulary=REGIMES,
        reasons=[_REGIME_REASONS[config] for config in REGIME_CONFIGS],
        measured="; ".join(f"{a} + {i}: ratio {r:.1e} ({regime})" for (a, i), (regime, r) in zip(REGIME_CONFIGS, measured)),
        hint="Per layer the gradient is multiplied by about √(n Var(w) E[f'(z)²]): compare that with 1.",
        example="e.g. return ('stable', 'stable', 'stable', 'stable', 'stable'), edited")


# ---------------------------------------------------------------- 7.2 variance of a pre-activation

def _output_variance(fan_in, weight_var, input_mean, input_var):
    return np.asarray(fan_in * weight_var * (input_var + np.asarray(input_mean, dtype=np.float64) ** 2),
                      dtype=np.float64)


_VARIANCE_MISTAKES = [
    Mistake("input-mean-missing", lambda n, v, m, s2: n * v * s2 + 0 * m,
            "the mean of the inputs is missing: E[w² x²] = Var(w) E[x²] and E[x²] = s² + μ², not s². After a "
            "ReLU the inputs have μ > 0"),
    Mistake("weight-std-not-variance", lambda n, v, m, s2: n * np.sqrt(v) * (s2 + np.square(m)),
            "you used the std of the weights; the variance of w x involves E[w²] = Var(w)"),
    Mistake("fan-in-missing", lambda n, v, m, s2: v * (s2 + np.square(m)) + 0 * n,
            "fan_in is missing: z sums n independent terms, so their variances add up n times"),
    Mistake("fan-in-squared", lambda n, v, m, s2: np.square(n) * v * (s2 + np.square(m)),
            "n² is what correlated terms would give; independent terms add their variances: n, not n²"),
    Mistake("mean-not-squared", lambda n, v, m, s2: n * v * (s2 + m), "E[x²] = s² + μ², with μ squared"),
]


def check_output_variance(output_variance: Callable) -> CheckResult:
    """Exercise 7.2: Var(z) for z = Σ_{d=1}^{n} w_d x_d, w_d i.i.d. (mean 0, variance v) independent of
    x_d i.i.d. (mean μ, variance s²).

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
    return check_function(
        "7.2", output_variance, _output_variance, cases, mistakes=_VARIANCE_MISTAKES,
        hint="Var(z) = Σ Var(w_d x_d) (independent terms); Var(w x) = E[w²] E[x²] − (E[w] E[x])² with E[w] = 0.",
        success="Var(z) = n Var(w) E[x²]. With E[x²] = Var(z_prev)/2 after a ReLU, keeping Var(z) constant needs "
                "Var(w) = 2/n: He's initialisation.",
    )


# ---------------------------------------------------------------- 7.3 Xavier and He initialisation

def reference_init_weights(shape, scheme, nonlinearity, rng, distribution="normal"):
    """Xavier (gain 1) or He (fan_in, the nonlinearity's gain) weights of ``shape`` = (fan_in, fan_out).

    ``distribution`` 'normal' draws N(0, std²), 'uniform' U(−a, a) with a = √3 std (the same variance).
    """
    if scheme not in ("xavier", "he"):
        raise ValueError(f"init_weights: scheme must be 'xavier' or 'he', got {scheme!r}")
    if distribution == "normal":
        return init.initialize(shape, scheme, rng=rng, nonlinearity=nonlinearity)
    if distribution != "uniform":
        raise ValueError(f"init_weights: distribution must be 'normal' or 'uniform', got {distribution!r}")
    fan_in, fan_out = init.fans(shape)
    bound = (init.xavier_bound(fan_in, fan_out) if scheme == "xavier"
             else init.kaiming_bound(fan_in, init.calculate_gain(nonlinearity)))
    return init.uniform(shape, bound, rng=rng)


def _gain(nonlinearity: str) -> float:
    return {"relu": math.sqrt(2.0), "leaky_relu": math.sqrt(2.0 / (1.0 + 0.01**2)), "tanh": 5.0 / 3.0}.get(
        nonlinearity, 1.0)


def _init_variant(shape, scheme, nonlinearity, seed, distribution="normal", *,
                  std_of: Callable[[int, int, float, str], float], draw: str = "as asked"):
    """Weights drawn like the reference, with another std (``std_of(fan_in, fan_out, gain, scheme)``) or draw."""
    fan_in, fan_out = shape
    std = std_of(fan_in, fan_out, _gain(nonlinearity), scheme)
    rng = np.random.default_rng(seed)
    draw = distribution if draw == "as asked" else draw
    if draw == "uniform":
        return rng.uniform(-math.sqrt(3.0) * std, math.sqrt(3.0) * std, shape)
    if draw == "uniform-bound-std":
        return rng.uniform(-std, std, shape)
    if draw == "transposed":
        return std * rng.standard_normal(tuple(reversed(shape))).T
    return std * rng.standard_normal(shape)


def _right_std(fan_in, fan_out, gain, scheme):
    return math.sqrt(2.0 / (fan_in + fan_out)) if scheme == "xavier" else gain / math.sqrt(fan_in)


def _he_only(wrong: Callable[[int, int, float], float]):
    return lambda i, o, g, s: wrong(i, o, g) if s == "he" else _right_std(i, o, g, s)


def _xavier_only(wrong: Callable[[int, int, float], float]):
    return lambda i, o, g, s: wrong(i, o, g) if s == "xavier" else _right_std(i, o, g, s)


def _init_mistake(id: str, message: str, std_of=_right_std, draw: str = "as asked") -> Mistake:
    return Mistake(id, functools.partial(_init_variant, std_of=std_of, draw=draw), message)


_INIT_MISTAKES = [
    _init_mistake("he-fan-out", "He scales by fan_IN (the inputs that add up in z = Σ w x); you used fan_out, "
                                "which keeps the backward signal instead", _he_only(lambda i, o, g: g / math.sqrt(o))),
    _init_mistake("he-gain-missing", "He's weights lack the activation's gain: ReLU zeroes half of its inputs, so "
                                     "the variance needs a factor 2 (gain √2); tanh's gain is 5/3",
                  _he_only(lambda i, o, g: 1.0 / math.sqrt(i))),
    _init_mistake("relu-gain-for-every-activation", "you used ReLU's gain √2 whatever the nonlinearity; the gain "
                                                    "depends on it (tanh 5/3, sigmoid and linear 1)",
                  _he_only(lambda i, o, g: math.sqrt(2.0 / i))),
    _init_mistake("gain-squared", "the gain multiplies the standard deviation, so it enters the variance squared; "
                                  "you multiplied the std by gain²", _he_only(lambda i, o, g: g * g / math.sqrt(i))),
    _init_mistake("he-variance-as-std", "you scaled the normal draws by the VARIANCE gain² / fan_in; scale them by "
                                        "the standard deviation, its square root",
                  _he_only(lambda i, o, g: g * g / i)),
    _init_mistake("xavier-variance-as-std", "you scaled the normal draws by Xavier's VARIANCE; scale them by the "
                                            "standard deviation, its square root",
                  _xavier_only(lambda i, o, g: 2.0 / (i + o))),
    _init_mistake("xavier-with-gain", "Xavier here is Glorot's scheme with gain 1 (torch's xavier_normal_ "
                                      "default); you multiplied it by the nonlinearity's gain",
                  _xavier_only(lambda i, o, g: g * math.sqrt(2.0 / (i + o)))),
    _init_mistake("xavier-factor-2-missing", "Xavier's variance is the harmonic mean of 1/fan_in and 1/fan_out, "
                                             "2 / (fan_in + fan_out): the factor 2 is missing",
                  _xavier_only(lambda i, o, g: math.sqrt(1.0 / (i + o)))),
    _init_mistake("xavier-fan-in-only", "Xavier averages the forward condition (fan_in) with the backward one "
                                        "(fan_out); you kept fan_in only", _xavier_only(lambda i, o, g: math.sqrt(1.0 / i))),
    _init_mistake("uniform-not-normal", "your weights are uniform where distribution='normal' asks for "
                                        "std · rng.standard_normal(shape)", draw="uniform"),
    _init_mistake("normal-not-uniform", "your weights are normal where distribution='uniform' asks for "
                                        "rng.uniform(-a, a, shape)", draw="normal"),
    _init_mistake("uniform-bound-is-std", "you used the standard deviation as the uniform bound a; U(−a, a) has "
                                          "variance a²/3, so a must be larger than the std", draw="uniform-bound-std"),
    _init_mistake("transposed-draw", "you drew a (fan_out, fan_in) array and transposed it; draw the (fan_in, "
                                     "fan_out) shape directly, so that your weights equal torch's replayed ones",
                  draw="transposed"),
]


def check_init_weights(init_weights: Callable) -> CheckResult:
    """Exercise 7.3: ``init_weights(shape, scheme, nonlinearity, rng, distribution="normal")`` -> W of
    ``shape`` = (fan_in, fan_out).

    'xavier': variance 2 / (fan_in + fan_out), gain 1; 'he': variance gain² / fan_in with the gain of
    ``nonlinearity``; 'normal' scales one draw ``rng.standard_normal(shape)`` (or ``rng.normal``),
    'uniform' draws ``rng.uniform(-a, a, shape)`` with the same variance.
    Recognises: fan_out for He, the gain missing, ReLU's gain for every nonlinearity, the gain
    squared, the variance used as the std (either scheme), a gain applied to Xavier, Xavier without
    its factor 2 or with fan_in only, uniform draws for normal ones and the reverse, the std used as
    the uniform bound, and a transposed draw. A pass makes the chapter's networks draw their
    weights with the learner's function.
    """
    cases = [Case((shape, scheme, nonlinearity, seed, distribution),
                  description=f"shape={shape}, scheme={scheme!r}, nonlinearity={nonlinearity!r}, "
                              f"distribution={distribution!r}")
             for seed, (shape, scheme, nonlinearity, distribution) in enumerate([
                 ((256, 64), "he", "relu", "normal"), ((256, 64), "xavier", "relu", "normal"),
                 ((30, 500), "he", "tanh", "normal"), ((784, 10), "xavier", "tanh", "normal"),
                 ((20, 8), "he", "linear", "normal"), ((12, 7), "he", "leaky_relu", "normal"),
                 ((1, 1), "he", "sigmoid", "normal"), ((64, 32), "he", "relu", "uniform"),
                 ((100, 50), "xavier", "tanh", "uniform"), ((40, 90), "he", "tanh", "uniform")])]

    def run(shape, scheme, nonlinearity, seed, distribution):
        return init_weights(shape, scheme, nonlinearity, np.random.default_rng(seed), distribution)

    result = check_function(
        "7.3", run, lambda shape, scheme, nonlinearity, seed, distribution: reference_init_weights(
            shape, scheme, nonlinearity, np.random.default_rng(seed), distribution),
        cases, name="init_weights", mistakes=_INIT_MISTAKES,
        forbid=[init.initialize, init.xavier_normal, init.kaiming_normal, init.normal, init.xavier_std,
                init.kaiming_std, init.calculate_gain, init.xavier_uniform, init.kaiming_uniform, init.uniform,
                init.xavier_bound, init.kaiming_bound],
        hint="section 2.2: write down the variance for each scheme first; then find the normal's std, or the "
             "uniform's bound, that has this variance.",
        success="these are the weights torch.nn.init's xavier_normal_, xavier_uniform_, kaiming_normal_ and "
                "kaiming_uniform_ draw from the same random numbers. The chapter's networks now draw their weights "
                "with your function.",
    )
    accept("init_weights", init_weights, "7.3")
    return result


# ---------------------------------------------------------------- 7.5 batch norm forward and backward

def reference_batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """(out, new running mean, new running variance) of batch norm over (N, D) input, as torch.nn.BatchNorm1d."""
    if training:
        out, cache = batchnorm_forward(x, gamma, beta, eps=eps)
        new_mean, new_var = update_running_stats(running_mean, running_var, cache, momentum)
        return out, new_mean, new_var
    out, _ = batchnorm_eval_forward(x, gamma, beta, running_mean, running_var, eps=eps)
    return out, np.array(running_mean, dtype=np.float64), np.array(running_var, dtype=np.float64)


def reference_batchnorm_backward(dout, x, gamma, eps=1e-5):
    """(dx, dgamma, dbeta) of training-mode batch norm; dlcore.scratch.batchnorm does the work."""
    _, cache = batchnorm_forward(x, gamma, np.zeros_like(gamma), eps=eps)
    return batchnorm_backward(dout, cache)


def _bn_forward_variant(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5, *, ddof=0,
                        running_ddof=1, old_weight=False, eps_outside=False, axis=0, eval_batch=False,
                        eval_update=False, swap=False, affine=True):
    batch_mean = x.mean(axis=axis, keepdims=True)
    batch_var = x.var(axis=axis, ddof=ddof, keepdims=True)
    if training or eval_batch:
        mean, var = batch_mean, batch_var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / (np.sqrt(var) + eps) if eps_outside else (x - mean) / np.sqrt(var + eps)
    out = (x_hat * beta + gamma if swap else x_hat * gamma + beta) if affine else x_hat
    if training or eval_update:  # the running averages per feature (axis 0), whatever normalised ``out``
        new_weight = 1.0 - momentum if old_weight else momentum
        new_mean = (1.0 - new_weight) * running_mean + new_weight * x.mean(axis=0)
        new_var = (1.0 - new_weight) * running_var + new_weight * x.var(axis=0, ddof=running_ddof)
        return out, new_mean, new_var
    return out, running_mean.copy(), running_var.copy()


def _bn_mistake(id: str, message: str, **options: Any) -> Mistake:
    return Mistake(id, functools.partial(_bn_forward_variant, **options), message)


_BN_FORWARD_MISTAKES = [
    _bn_mistake("unbiased-variance-normalised", "you normalised with the UNBIASED variance (dividing by N − 1); "
                "batch norm normalises with the biased one, mean((x − μ)²); only the running average uses "
                "N/(N − 1)", ddof=1),
    _bn_mistake("wrong-axis", "the statistics are taken over the wrong axis: each FEATURE (column) is normalised "
                              "over the batch, axis=0; you normalised each example over its features", axis=1),
    _bn_mistake("eps-outside-root", "ε is outside the square root: divide by √(var + ε), not √var + ε (the two "
                                    "differ a lot for a feature of tiny variance)", eps_outside=True),
    _bn_mistake("affine-missing", "γ and β are not applied: out = γ x̂ + β", affine=False),
    _bn_mistake("gamma-beta-swapped", "γ and β are swapped: γ scales, β shifts", swap=True),
    _bn_mistake("eval-uses-batch-statistics", "in evaluation mode you normalised with the batch's statistics; "
                "evaluation uses the running averages, so an example's output no longer depends on its batch",
                eval_batch=True),
    _bn_mistake("eval-updates-running", "in evaluation mode the running statistics must come back unchanged; "
                                        "yours were updated with the batch", eval_update=True),
    _bn_mistake("momentum-weights-old", "your running averages give weight `momentum` to the OLD value; in "
                "PyTorch's convention momentum (0.1) is the weight of the NEW batch statistic",
                old_weight=True),
    _bn_mistake("biased-running-variance", "the running variance averages the UNBIASED batch variance "
                "(times N/(N − 1)), as PyTorch does; you averaged the biased one", running_ddof=0),
]


def _bn_backward_variant(dout, x, gamma, eps=1e-5, *, no_gamma=False, constants=False, no_var_term=False,
                         no_mean_term=False, axis=0, swap=False, dgamma_x=False, ddof=0, sums=False):
    mu = x.mean(axis=axis, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=axis, ddof=ddof, keepdims=True) + eps)
    x_hat = (x - mu) * inv_std
    g = np.ones_like(gamma) if no_gamma else gamma
    dx_hat = dout * g
    average = (lambda a: a.sum(axis=axis, keepdims=True)) if sums else (lambda a: a.mean(axis=axis, keepdims=True))
    mean_term = 0.0 if no_mean_term else average(dx_hat)
    var_term = 0.0 if no_var_term else x_hat * average(dx_hat * x_hat)
    dx = dx_hat * inv_std if constants else inv_std * (dx_hat - mean_term - var_term)
    dgamma = (dout * (x if dgamma_x else x_hat)).sum(axis=0)
    dbeta = dout.sum(axis=0)
    return (dx, dbeta, dgamma) if swap else (dx, dgamma, dbeta)


def _bn_backward_mistake(id: str, message: str, **options: Any) -> Mistake:
    return Mistake(id, functools.partial(_bn_backward_variant, **options), message)


_BN_BACKWARD_MISTAKES = [
    _bn_backward_mistake("dx-gamma-missing", "dx lacks the factor γ: the gradient reaching x̂ is dout · γ",
                         no_gamma=True),
    _bn_backward_mistake("statistics-as-constants", "you treated μ and σ² as constants: that is the gradient of "
                         "evaluation mode. In training every x_i also moves μ and σ² (section 4.2's other two paths)",
                         constants=True),
    _bn_backward_mistake("variance-path-missing", "the path through the variance is missing from dx",
                         no_var_term=True),
    _bn_backward_mistake("mean-path-missing", "the path through the mean is missing from dx", no_mean_term=True),
    _bn_backward_mistake("sums-not-means", "the two correction terms are averages over the batch (1/m Σ), not sums",
                         sums=True),
    _bn_backward_mistake("wrong-axis", "the sums run over the wrong axis: statistics, and their gradients, are per "
                                       "feature over the batch (axis=0)", axis=1),
    _bn_backward_mistake("dgamma-dbeta-swapped", "dgamma and dbeta are swapped: β shifts (its gradient sums dout), "
                                                 "γ scales x̂", swap=True),
    _bn_backward_mistake("dgamma-uses-x", "dgamma multiplies dout by the NORMALISED input x̂, not by x",
                         dgamma_x=True),
    _bn_backward_mistake("unbiased-variance", "the forward statistics use the unbiased variance; batch norm uses "
                                              "the biased one", ddof=1),
]


def _bn_forward_cases(rng: np.random.Generator) -> list[Case]:
    wide = rng.standard_normal((8, 3)) * np.array([1.0, 5.0, 1e-3]) + np.array([0.0, 2.0, -1.0])
    gamma, beta = np.array([1.5, -0.5, 2.0]), np.array([0.1, 0.2, -0.3])
    running_mean, running_var = np.array([0.5, 1.0, -2.0]), np.array([2.0, 0.5, 3.0])
    return [
        Case((wide, gamma, beta, running_mean, running_var, True),
             description="training: x (8, 3) with feature scales 1, 5 and 0.001, γ = [1.5, −0.5, 2], "
                         "β = [0.1, 0.2, −0.3], running mean [0.5, 1, −2], running var [2, 0.5, 3]"),
        Case((wide, gamma, beta, running_mean, running_var, False),
             description="evaluation: the same x, γ, β and running statistics"),
        Case((rng.standard_normal((2, 5)) * 3.0, rng.standard_normal(5), rng.standard_normal(5), np.zeros(5),
              np.ones(5), True), description="training, a batch of N = 2 with D = 5 features"),
        Case((rng.standard_normal((16, 4)) + 1.0, np.ones(4), np.zeros(4), np.zeros(4), np.ones(4), True),
             dict(momentum=0.3, eps=0.1), description="training, x (16, 4), momentum = 0.3, eps = 0.1"),
    ]


def _bn_backward_cases() -> list[Case]:
    rng, data = np.random.default_rng(74), np.random.default_rng(7)
    wide = data.standard_normal((8, 3)) * np.array([1.0, 5.0, 1e-3]) + np.array([0.0, 2.0, -1.0])
    two = data.standard_normal((2, 5)) * 3.0
    x = data.standard_normal((16, 4))
    return [
        Case((rng.standard_normal((8, 3)), wide, np.array([1.5, -0.5, 2.0])),
             description="x (8, 3) with feature scales 1, 5 and 0.001, γ = [1.5, −0.5, 2], a random dout"),
        Case((rng.standard_normal((2, 5)), two, data.standard_normal(5)), description="a batch of N = 2 with D = 5"),
        Case((rng.standard_normal((16, 4)), x, np.ones(4)), dict(eps=0.1), description="x (16, 4), γ = 1, eps = 0.1"),
    ]


def check_batchnorm(batchnorm_forward_fn: Callable, batchnorm_backward_fn: Callable) -> CheckResult:
    """Exercise 7.5: batch norm over (N, D) input, forward in both modes and backward in training mode.

    ``batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5)``
    -> (out, new running mean, new running var), without changing its inputs;
    ``batchnorm_backward(dout, x, gamma, eps=1e-5)`` -> (dx, dgamma, dbeta).

    Forward: recognises the unbiased variance in the normalisation, the wrong axis, ε outside the
    root, γ and β missing or swapped, batch statistics (or an update) in evaluation mode,
    momentum weighting the old value, and a biased running variance. Backward: γ missing from
    dx, μ and σ² as constants, either path missing, sums instead of means, the wrong axis, dγ and
    dβ swapped, dγ from x, and the unbiased variance. Every message names the output (out,
    running_var, dx, dgamma, ...) and an index in the learner's own array.
    """
    import torch.nn.functional

    forward_forbidden = [batchnorm_forward, batchnorm_eval_forward, batchnorm_backward, update_running_stats,
                         BatchNorm1d.forward, torch.nn.functional.batch_norm]
    check_function(
        "7.5", batchnorm_forward_fn, reference_batchnorm_forward, _bn_forward_cases(np.random.default_rng(7)),
        name="batchnorm_forward", outputs=("out", "running_mean", "running_var"), mistakes=_BN_FORWARD_MISTAKES,
        forbid=forward_forbidden,
        hint="section 4.1: which statistics does each mode use, which variance is averaged, and what weight does "
             "momentum give to the new value?",
        success="batchnorm_forward matches torch.nn.BatchNorm1d in training and evaluation mode.",
    )
    return check_function(
        "7.5", batchnorm_backward_fn, reference_batchnorm_backward, _bn_backward_cases(),
        name="batchnorm_backward", outputs=("dx", "dgamma", "dbeta"), mistakes=_BN_BACKWARD_MISTAKES,
        forbid=forward_forbidden,
        hint="section 4.2 and your derivation (exercise 7.4). Check yourself: each column of dx sums to 0.",
        success="batchnorm_backward matches autograd through torch's BatchNorm1d. The chapter's batch-norm "
                "networks now run on your two functions.",
    )


# ---------------------------------------------------------------- 7.6 gradient-norm clipping and a loop that uses it

def reference_train_clipped(model, optimizer, batches, loss_fn, max_norm):
    """Train on ``batches`` with global gradient-norm clipping; (losses, grad_norms, clipped), one entry per step.

    Each step: zero the gradients, forward, ``loss_fn(scores, targets) -> (loss, dscores)``, backward,
    clip the gradients to ``max_norm`` (``float('inf')``: never clip), record the loss, the norm
    BEFORE clipping and whether it was clipped, then step. A loss or norm that is not finite is
    recorded and ends the loop before the step.
    """
    losses, norms = [], []
    for x, target in batches:
        optimizer.zero_grad()
        loss, dscores = loss_fn(model.forward(x), target)
        model.backward(dscores)
        norm = clip_grad_norm(model.parameters(), max_norm)
        losses.append(float(loss))
        norms.append(float(norm))
        if not (math.isfinite(loss) and math.isfinite(norm)):
            break
        optimizer.step()
    norms_array = np.array(norms)
    return np.array(losses), norms_array, norms_array > max_norm


def _global_norm(grads, norm_type):
    if norm_type == math.inf:
        return max(float(np.max(np.abs(g))) for g in grads)
    return float(sum(np.sum(np.abs(g) ** norm_type) for g in grads) ** (1.0 / norm_type))


def _clip_variant(grads, max_norm, norm_type=2.0, *, scope="global", factor="min", eps=1e-6, returned="before",
                  in_place=True, norm="as asked"):
    """(returned norm, *clipped grads) of one way to clip; the defaults are the right one."""
    grads = [np.array(g, dtype=np.float64) for g in grads]
    used_norm = 2.0 if norm == "always-2" else norm_type
    total = _global_norm(grads, used_norm)
    if norm == "squared":
        total = total**2
    clipped = []
    for g in grads:
        size = _global_norm([g], used_norm) if scope == "per-tensor" else total
        ratio = max_norm / (size + eps)
        coefficient = ratio if factor == "always" else min(1.0, ratio)
        clipped.append(g * coefficient if in_place else g)
    after = _global_norm(clipped, used_norm)
    return (after if returned == "after" else total, *clipped)


def _clip_mistake(id: str, message: str, **options: Any) -> Mistake:
    return Mistake(id, functools.partial(_clip_variant, **options), message)


_CLIP_MISTAKES = [
    _clip_mistake("small-gradients-scaled-up", "a gradient SHORTER than max_norm was scaled up to max_norm: the "
                  "factor max_norm / (norm + 1e-6) must never exceed 1, clipping only ever shrinks", factor="always"),
    _clip_mistake("norm-after-clipping", "you returned the norm AFTER clipping; torch.nn.utils.clip_grad_norm_ "
                  "returns the total norm BEFORE clipping (what a training loop logs to see explosions)",
                  returned="after"),
    _clip_mistake("not-in-place", "the gradients came back unchanged although their norm was above max_norm: "
                  "rescale each p.grad itself (in place), not a copy the caller never sees", in_place=False),
    _clip_mistake("per-tensor-norm", "you clipped each parameter's gradient by its OWN norm; clipping treats all "
                  "gradients as one long vector, so every gradient gets the same factor (and the direction of the "
                  "whole vector is kept)", scope="per-tensor"),
    _clip_mistake("norm-not-square-rooted", "your total norm is the sum of squares without the square root",
                  norm="squared"),
    _clip_mistake("norm-type-ignored", "you used the 2-norm whatever norm_type is; norm_type=p takes "
                  "(Σ|g|^p)^(1/p) over all entries, and norm_type=inf the largest |entry|", norm="always-2"),
    _clip_mistake("eps-missing", "the 1e-6 is missing: PyTorch divides by (norm + 1e-6), which matters for tiny "
                  "gradients and keeps a zero gradient from dividing by zero", eps=0.0),
]


def _clip_cases() -> list[Case]:
    rng = np.random.default_rng(77)

    def grads(*scales):
        return tuple(s * rng.standard_normal(shape) for s, shape in zip(scales, [(4, 3), (3,), (3, 2)]))

    return [
        Case((grads(0.1, 0.1, 0.1), 1.0, 2.0), description="three gradients of total norm about 0.4, max_norm = 1"),
        Case((grads(5.0, 1.0, 3.0), 1.0, 2.0), description="three gradients of total norm about 20, max_norm = 1"),
        Case((grads(4.0, 0.1, 0.2), 5.0, 2.0), description="one large gradient (norm about 14) and two small ones, "
                                                           "max_norm = 5"),
        Case((grads(1.0, 2.0, 0.5), 2.0, math.inf), description="norm_type = inf, max_norm = 2"),
        Case((grads(1.0, 2.0, 0.5), 3.0, 1.0), description="norm_type = 1, max_norm = 3"),
        Case((grads(1e-4, 1e-4, 1e-4), 1e-4, 2.0), description="tiny gradients (total norm about 4e-4), "
                                                                "max_norm = 1e-4"),
        Case((grads(0.0, 0.0, 0.0), 1.0, 2.0), description="all gradients zero, max_norm = 1"),
        Case((grads(50.0, 50.0, 50.0), math.inf, 2.0), description="large gradients, max_norm = inf (never clip)"),
    ]


def _bad_max_norm(clip_grad_norm_fn: Callable) -> None:
    """The learner's function must refuse a max_norm that cannot be a norm, with a ValueError naming it."""
    for bad in (0.0, -1.0, math.nan):
        parameter = Parameter(np.zeros(3))
        parameter.grad[...] = [3.0, 4.0, 0.0]
        try:
            clip_grad_norm_fn([parameter], bad)
        except NotImplementedError:
            raise not_done("7.6") from None
        except ValueError as error:
            if "max_norm" not in str(error):
                fail("7.6", f"clip_grad_norm(params, max_norm={bad!r}) raised ValueError({str(error)!r}), which does "
                            f"not say which argument is wrong", "name max_norm and the value you got in the message",
                     mistake="bad-max-norm-message")
            continue
        except Exception as error:
            fail("7.6", f"clip_grad_norm(params, max_norm={bad!r}) raised {type(error).__name__}, expected ValueError",
                 "check max_norm first and raise ValueError", mistake="bad-max-norm-wrong-error")
        fail("7.6", f"clip_grad_norm(params, max_norm={bad!r}) raised no error", "a maximum norm must be a positive "
             "number (inf allowed); anything else would silently zero or flip the gradients, or make them nan",
             mistake="bad-max-norm-accepted")


_LOOP_DATA_SEED = 78


def _loop_run(train_fn: Callable, clip_fn: Callable, seed: int, lr: float, max_norm: float, loss: str,
              blow_up_at: int = 0, *, zero_grad: bool = True, clip_first: bool = True, stop: bool = True,
              record_after: bool = False):
    """Build a small network and batches from the seeds, run ``train_fn``; the flags build known mistakes."""
    from dlcore.scratch.losses import mse_loss, softmax_cross_entropy
    from dlcore.scratch.optim import SGD
    from dlcore.training.models import scratch_mlp

    data = np.random.default_rng(_LOOP_DATA_SEED + seed)
    x = data.standard_normal((48, 3))
    if loss == "mse":
        target, outputs, loss_of = 3.0 + x @ np.array([[1.0], [-2.0], [0.5]]), 1, mse_loss
    else:
        target, outputs, loss_of = (x[:, 0] + x[:, 1] > 0).astype(int), 2, softmax_cross_entropy
    batches = [(x[i:i + 8], target[i:i + 8]) for i in range(0, 48, 8)] * 2
    calls = []

    def loss_fn(scores, targets):
        calls.append(1)
        value, dscores = loss_of(scores, targets)
        return (math.inf if len(calls) == blow_up_at else value), dscores

    model = scratch_mlp(3, outputs, hidden=8, depth=2, activation="relu", init="he", rng=np.random.default_rng(seed))
    optimizer = SGD(model.parameters(), lr=lr, momentum=0.9)
    if train_fn is not None:
        return train_fn(model, optimizer, batches, loss_fn, max_norm)
    losses, norms = [], []  # the known mistakes
    for xb, tb in batches:
        if zero_grad:
            optimizer.zero_grad()
        value, dscores = loss_fn(model.forward(xb), tb)
        model.backward(dscores)
        if not clip_first:
            optimizer.step()
        norm = clip_fn(model.parameters(), max_norm)
        if record_after:
            norm = math.sqrt(sum(float(np.sum(p.grad**2)) for p in model.parameters()))
        losses.append(value)
        norms.append(norm)
        if stop and not (math.isfinite(value) and math.isfinite(norm)):
            break
        if clip_first:
            optimizer.step()
    return np.array(losses), np.array(norms), np.array(norms) > max_norm


def _loop_mistake(id: str, message: str, **options: Any) -> Mistake:
    return Mistake(id, lambda *args: _loop_run(None, clip_grad_norm, *args, **options), message)


_LOOP_MISTAKES = [
    _loop_mistake("gradients-not-zeroed", "the gradients are not zeroed before each backward pass, so they "
                  "accumulate over the steps (backward ADDS into p.grad)", zero_grad=False),
    _loop_mistake("step-before-clipping", "the optimizer steps BEFORE the gradients are clipped, so every step uses "
                  "the unclipped gradient and clipping changes nothing", clip_first=False),
    _loop_mistake("norm-recorded-after-clipping", "the recorded norms are those AFTER clipping; record the norm "
                  "that clip_grad_norm returns (before clipping), or you cannot see the explosions it caught",
                  record_after=True),
    _loop_mistake("no-stop-on-non-finite", "the loop kept training after the loss stopped being finite; record that "
                  "step and stop before the optimizer's step", stop=False),
]


def check_clipping(clip_grad_norm_fn: Callable, train_clipped_fn: Callable) -> CheckResult:
    """Exercise 7.6: ``clip_grad_norm(parameters, max_norm, norm_type=2.0)`` as torch.nn.utils.clip_grad_norm_
    (in place, global norm over all gradients, factor min(1, max_norm / (norm + 1e-6)), the norm BEFORE
    clipping returned, ValueError for a max_norm that is not positive), and
    ``train_clipped(model, optimizer, batches, loss_fn, max_norm)`` -> (losses, grad_norms, clipped).

    Recognises, for the clipping: small gradients scaled up, the norm after clipping returned, gradients
    not changed in place, each gradient clipped by its own norm, the square root or norm_type forgotten,
    the 1e-6 missing, and a bad max_norm accepted. For the loop: gradients not zeroed, the step taken
    before clipping, norms recorded after clipping, and no stop on a non-finite loss. A pass makes the
    chapter's clipping experiment run on the learner's two functions.
    """
    import torch.nn.utils

    forbid = [clip_grad_norm, total_grad_norm, torch.nn.utils.clip_grad_norm_, reference_train_clipped]

    def clip_run(grads, max_norm, norm_type):
        params = [Parameter(np.zeros_like(g)) for g in grads]
        for p, g in zip(params, grads):
            p.grad[...] = g
        total = clip_grad_norm_fn(params, max_norm, norm_type=norm_type)
        return (total, *(p.grad for p in params))

    def clip_reference(grads, max_norm, norm_type):
        return _clip_variant(grads, max_norm, norm_type)

    check_function(
        "7.6", clip_run, clip_reference, _clip_cases(), name="clip_grad_norm(parameters, max_norm, norm_type)",
        outputs=("the returned norm", "parameters[0].grad", "parameters[1].grad", "parameters[2].grad"),
        mistakes=_CLIP_MISTAKES, forbid=forbid,
        hint="section 6: ONE norm over all the gradients together, one factor for all, never above 1; return the "
             "norm you measured before changing anything.",
        warning_hint="a zero gradient has norm 0: what in the formula keeps the division finite?",
        report=False,
    )
    _bad_max_norm(clip_grad_norm_fn)
    cases = [
        Case((0, 0.05, 5.0, "mse"), description="regression, 12 steps, lr = 0.05, max_norm = 5 (7 of the 12 steps "
                                                "are clipped)"),
        Case((1, 0.05, math.inf, "mse"), description="regression, 12 steps, lr = 0.05, max_norm = inf"),
        Case((2, 0.1, 0.5, "softmax_cross_entropy"), description="classification, 12 steps, lr = 0.1, max_norm = 0.5"),
        Case((3, 0.05, 1.0, "mse", 4), description="regression, max_norm = 1, the loss of step 4 is inf"),
    ]

    def loop_run(seed, lr, max_norm, loss, blow_up_at=0):
        return _loop_run(train_clipped_fn, clip_grad_norm_fn, seed, lr, max_norm, loss, blow_up_at)

    def loop_reference(seed, lr, max_norm, loss, blow_up_at=0):
        return _loop_run(reference_train_clipped, clip_grad_norm, seed, lr, max_norm, loss, blow_up_at)

    result = check_function(
        "7.6", loop_run, loop_reference, cases, name="train_clipped", outputs=("losses", "grad_norms", "clipped"),
        mistakes=_LOOP_MISTAKES, forbid=[reference_train_clipped, clip_grad_norm, total_grad_norm],
        hint="per batch: zero the gradients, forward, loss, backward, clip with your clip_grad_norm, record, step.",
        success="clip_grad_norm matches torch.nn.utils.clip_grad_norm_ (norm types, the 1e-6, max_norm = inf) and "
                "train_clipped trains with it. The chapter's clipping experiment now runs on your two functions.",
    )
    accept("clip_grad_norm", clip_grad_norm_fn, "7.6")
    accept("train_clipped", train_clipped_fn, "7.6")
    return result


# ---------------------------------------------------------------- 7.7 inverted dropout

def reference_dropout_forward(x, p, rng, training=True):
    """(out, cache) of inverted dropout; keeps a unit where rng.random(x.shape) >= p."""
    return dropout_forward(x, p, training=training, rng=rng)


def reference_dropout_backward(dout, cache):
    """dx of inverted dropout, from the cache of :func:`reference_dropout_forward`."""
    return dropout_backward(dout, cache)


def _dropout_variant(x, p, seed, training, dout, *, keep="at-least-p", train_scale="inverted",
                     eval_form="identity", backward="right"):
    if not training:
        if eval_form == "scaled":
            return x * (1.0 - p), dout * (1.0 - p)
        if eval_form == "dropped":
            mask = np.random.default_rng(seed).random(x.shape) >= p
            return x * mask / (1.0 - p), dout * mask / (1.0 - p)
        return x.copy(), dout.copy()
    u = np.random.default_rng(seed).random(x.shape)
    mask = {"at-least-p": u >= p, "below-p": u < p, "below-1-p": u < 1.0 - p}[keep]
    scale = {"inverted": 1.0 / (1.0 - p), "none": 1.0, "keep": 1.0 - p, "divide-p": 1.0 / p}[train_scale]
    dx = {"right": dout * mask * scale, "no-scale": dout * mask, "no-mask": dout * scale}[backward]
    return x * mask * scale, dx


def _dropout_mistake(id: str, message: str, **options: Any) -> Mistake:
    return Mistake(id, functools.partial(_dropout_variant, **options), message)


# backward-only mistakes first: their forward output is right, so they are tried on dx alone
_DROPOUT_MISTAKES = [
    _dropout_mistake("backward-scale-missing", "dx lacks the 1/(1 − p): the forward pass multiplied each kept value "
                                               "by it, so its gradient must be multiplied too", backward="no-scale"),
    _dropout_mistake("backward-mask-missing", "dx passes gradient to the dropped units; they did not reach the "
                                              "output, so their gradient is 0: reuse the forward mask",
                     backward="no-mask"),
    _dropout_mistake("keeps-with-probability-p", "you KEEP each unit with probability p; p is the probability of "
                                                 "dropping it (keep where the uniform draw is >= p)",
                     keep="below-p"),
    _dropout_mistake("keeps-below-1-p", "you keep each unit with the right probability, but not the units the "
                                        "exercise names: keep those whose uniform draw is >= p (draw < 1 − p keeps "
                                        "others, so your masks cannot be compared with dlcore's or torch's)",
                     keep="below-1-p"),
    _dropout_mistake("not-rescaled", "the kept values are not rescaled: then the next layer sees inputs (1 − p) times "
                                     "smaller in training than in evaluation", train_scale="none"),
    _dropout_mistake("scaled-by-keep-probability", "you multiplied the kept values by 1 − p; inverted dropout "
                                                   "DIVIDES them by 1 − p, so that E[out] = x", train_scale="keep"),
    _dropout_mistake("divided-by-p", "you divided the kept values by p, the drop probability; divide by the "
                                     "probability of keeping a unit", train_scale="divide-p"),
    _dropout_mistake("eval-scaled", "in evaluation mode you scaled by 1 − p: that is the original, non-inverted "
                                    "dropout; with the 1/(1 − p) in training, evaluation is the identity",
                     eval_form="scaled"),
    _dropout_mistake("eval-drops", "in evaluation mode dropout must be switched off (the identity); yours still "
                                   "drops units", eval_form="dropped"),
]


def check_dropout(dropout_forward_fn: Callable, dropout_backward_fn: Callable) -> CheckResult:
    """Exercise 7.7: ``dropout_forward(x, p, rng, training=True)`` -> (out, cache) and
    ``dropout_backward(dout, cache)`` -> dx, inverted dropout keeping a unit where ``rng.random(x.shape) >= p``.

    Runs the learner's forward and then backward on each case and compares out and dx.
    Recognises: the backward without the scale or without the mask, keeping with probability p,
    no rescaling, multiplying by 1 − p, dividing by p, and evaluation mode that scales or still
    drops. A pass makes the chapter's dropout networks run on the learner's two functions.
    """
    import torch.nn.functional

    rng = np.random.default_rng(76)
    cases = [
        Case((rng.standard_normal((6, 5)), 0.3, 0, True, rng.standard_normal((6, 5))),
             description="training, x (6, 5), p = 0.3"),
        Case((rng.standard_normal((4, 8)), 0.75, 1, True, rng.standard_normal((4, 8))),
             description="training, x (4, 8), p = 0.75"),
        Case((rng.standard_normal((3, 4)), 0.5, 2, False, rng.standard_normal((3, 4))),
             description="evaluation, x (3, 4), p = 0.5"),
        Case((rng.standard_normal((2, 3, 4)), 0.2, 3, True, rng.standard_normal((2, 3, 4))),
             description="training, x (2, 3, 4), p = 0.2"),
    ]

    def run(x, p, seed, training, dout):
        out, cache = dropout_forward_fn(x, p, np.random.default_rng(seed), training)
        return out, dropout_backward_fn(dout, cache)

    def reference(x, p, seed, training, dout):
        out, cache = reference_dropout_forward(x, p, np.random.default_rng(seed), training)
        return out, reference_dropout_backward(dout, cache)

    result = check_function(
        "7.7", run, reference, cases, name="dropout_forward / dropout_backward", outputs=("out", "dx"),
        mistakes=_DROPOUT_MISTAKES,
        forbid=[dropout_forward, dropout_backward, Dropout.forward, Dropout.backward, torch.nn.functional.dropout],
        hint="section 8.2: one uniform draw per value, keep where it is >= p, and scale so that E[out] = x; the "
             "backward pass uses what the forward pass kept.",
        success="the same values as dlcore's dropout, which matches torch.nn.functional.dropout. The chapter's "
                "dropout networks now run on your two functions.",
    )
    accept("dropout_forward", dropout_forward_fn, "7.7")
    accept("dropout_backward", dropout_backward_fn, "7.7")
    return result


# The dlcore functions each build exercise rebuilds: their code must not be shown before the exercise.
REFERENCES = {
    "7.3": (init.xavier_std, init.kaiming_std, init.xavier_bound, init.kaiming_bound, init.initialize,
            init.calculate_gain, init.normal, init.uniform),
    "7.5": (batchnorm_forward, batchnorm_eval_forward, batchnorm_backward, update_running_stats),
    "7.6": (clip_grad_norm, total_grad_norm),
    "7.7": (dropout_forward, dropout_backward),
}
