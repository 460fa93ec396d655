"""Checks for chapter 03's exercises (activation functions).

- 3.1 derive tanh' and ELU' from their outputs       -> checked with 3.2's code
- 3.2 implement the activation kernels              -> :func:`check_activation_kernels`
- 3.3 predict the gradient through k sigmoid blocks -> :func:`check_sigmoid_chain_prediction`
- 3.4 implement the per-block statistics of a stack -> :func:`check_stack_statistics`
- 3.5 predict the share of dead ReLUs for a bias    -> :func:`check_dead_relu_prediction`
- 3.6 implement softmax, log-softmax and its backward -> :func:`check_softmax_kernels`

A passing 3.2 makes the rest of the chapter run on the learner's table of
activations (``implementation("activations", ACTIVATIONS, label="3.2")``); a
passing 3.4 does the same for the deep-stack measurements (``stack_statistics``),
and a passing 3.6 for ``softmax``, ``log_softmax`` and ``softmax_backward``.
"""

from __future__ import annotations

import inspect
from typing import Callable

import numpy as np

from dlcore.exercises.core import Case, CheckResult, Mistake, check_value, fail, passed
from dlcore.exercises.functions import check_function
from dlcore.exercises.learner import accept, learner_call
from dlcore.scratch import activations as reference
from dlcore.scratch.activations import ACTIVATIONS, ActivationSpec, Sigmoid
from dlcore.scratch.depth_statistics import (SATURATION_THRESHOLD, depth_statistics, network_statistics,
                                             stack_statistics)
from dlcore.scratch.linear import Linear
from dlcore.scratch.module import Sequential

__all__ = [
    "check_activation_kernels", "check_sigmoid_chain_prediction", "check_stack_statistics", "course_stack_statistics",
    "check_dead_relu_prediction", "check_softmax_kernels", "learner_activation_table", "course_softmax_backward",
    "measure_sigmoid_chain_gradient", "measure_dead_relu_shares", "CHAIN_CASES", "DEAD_RELU_BIASES", "REFERENCES",
]

# The course's own versions of what each exercise builds (never shown before the exercise).
REFERENCES = {
    "3.2": (reference.sigmoid, reference.relu, reference.leaky_relu, reference.elu, reference.gelu,
            reference._sigmoid_derivative, reference._relu_derivative, reference._leaky_relu_derivative,
            reference._gelu_derivative, reference._tanh_derivative, reference._elu_derivative),
    "3.4": (stack_statistics, network_statistics),
    "3.6": (reference.softmax, reference.softmax_backward),
}

_EXTREMES = np.array([-1000.0, -30.0, -1.0, -0.25, 0.0, 0.5, 2.0, 30.0, 1000.0])
_BATCH = np.linspace(-4.0, 4.0, 12).reshape(3, 4)
_KINKS = np.array([[-2.0, -1e-9, 0.0, 1e-9, 3.0]])


def _cases(*extra: Case) -> list[Case]:
    return [Case((_EXTREMES,), description="x = [-1000, -30, -1, -0.25, 0, 0.5, 2, 30, 1000]"),
            Case((_BATCH,), description="a (3, 4) batch with values in [-4, 4]"),
            Case((_KINKS,), description="x = [[-2, -1e-9, 0, 1e-9, 3]] (around the kink at 0)"), *extra]


def _derivative_cases(function: Callable[..., np.ndarray], **params: float) -> list[Case]:
    """Cases for derivative(x, out): out is the reference function's output at x."""
    return [Case((case.args[0], function(case.args[0], **params)), dict(params), case.description)
            for case in _cases()]


_DERIVATIVE_HINTS = {
    "tanh": ("cosh(x) and e^x overflow for |x| > 710, so 1/cosh(x)² warns at x = ±1000; write the slope in terms "
             "of out = tanh(x), which is always in [-1, 1] (Exercise 3.1)."),
    "elu": "e^x overflows for large positive x; on the left side the output already holds α(e^x − 1) (Exercise 3.1).",
}

_OVERFLOW_HINT = ("an exponential of a large positive number overflows (e^{709.8} is the largest float64). Rewrite "
                  "so that every exponent is ≤ 0. np.where(c, a, b) computes both a and b everywhere, so an "
                  "overflowing branch warns even where it is not selected.")


# ---------------------------------------------------------------- 3.2 the activation kernels

_KERNELS = {  # name: (reference function, reference derivative, parameters to test)
    "sigmoid": (reference.sigmoid, reference._sigmoid_derivative, {}),
    "tanh": (reference.tanh, reference._tanh_derivative, {}),
    "relu": (reference.relu, reference._relu_derivative, {}),
    "leaky_relu": (reference.leaky_relu, reference._leaky_relu_derivative, {"negative_slope": 0.1}),
    "elu": (reference.elu, reference._elu_derivative, {"alpha": 0.5}),
    "gelu": (reference.gelu, reference._gelu_derivative, {}),
}

_FUNCTION_MISTAKES = {
    "sigmoid": [Mistake("sigmoid-sign", lambda x: reference.sigmoid(-x),
                        "you computed σ(−x): the exponent's sign is flipped (σ(2) should be above 1/2)"),
                Mistake("sigmoid-derivative", lambda x: reference.sigmoid(x) * (1 - reference.sigmoid(x)),
                        "you returned the slope σ(x)(1 − σ(x)) instead of σ(x)")],
    "relu": [Mistake("relu-abs", lambda x: np.abs(x), "negative inputs must give 0, not |x|"),
             Mistake("relu-min", lambda x: np.minimum(x, 0.0), "you kept the negative side: use the maximum")],
    "leaky_relu": [Mistake("leaky-default-slope", lambda x, negative_slope=0.01: reference.leaky_relu(x, 0.01),
                           "with negative_slope = 0.1 you still used 0.01: use the argument"),
                   Mistake("leaky-slope-on-right", lambda x, negative_slope=0.01: np.where(x > 0, negative_slope * x, x),
                           "the small slope belongs to the negative side")],
    "elu": [Mistake("elu-no-minus-one", lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0))),
                    "left of 0 ELU is α(e^x − 1): it starts at 0 and tends to −α")],
    "gelu": [Mistake("gelu-tanh-approximation", lambda x: reference.gelu(x, approximate="tanh"),
                     "that is GELU's tanh approximation; the exercise asks for x Φ(x) with the exact normal CDF"),
             Mistake("gelu-no-half", lambda x: reference.gelu(x) * 2,
                     "Φ(x) = (1 + erf(x/√2)) / 2: the factor 1/2 is missing")],
}

_DERIVATIVE_MISTAKES = {
    "tanh": [Mistake("tanh-no-square", lambda x, out: 1 - out, "you wrote 1 − tanh(x): the square is missing"),
             Mistake("tanh-sign", lambda x, out: out**2 - 1, "your slope is negative: the sign is flipped"),
             Mistake("tanh-plus", lambda x, out: 1 + out**2, "at x = 0 your slope is not 1: check the sign"),
             Mistake("tanh-function", lambda x, out: out, "you returned tanh(x) itself, not its slope"),
             Mistake("tanh-sigmoid-pattern", lambda x, out: out * (1 - out),
                     "you used the sigmoid's pattern s(1 − s); redo the quotient rule for sinh / cosh")],
    "elu": [Mistake("elu-left-alpha", lambda x, out, alpha=1.0: np.where(x > 0, 1.0, alpha),
                    "left of 0 your slope is the constant α: ELU curves there, its slope changes with x"),
            Mistake("elu-returns-output", lambda x, out, alpha=1.0: out, "you returned the ELU's output, not its slope"),
            Mistake("elu-forgot-alpha", lambda x, out, alpha=1.0: np.where(x > 0, 1.0, out + 1.0),
                    "with α = 0.5 your left slope is wrong: α belongs in it")],
    "sigmoid": [Mistake("sigmoid-derivative-of-output", lambda x, out: reference.sigmoid(out) * (1 - reference.sigmoid(out)),
                        "you applied the sigmoid to out again: out is already σ(x)"),
                Mistake("sigmoid-derivative-squared", lambda x, out: out * out,
                        "you multiplied σ(x) by itself; redo the last step of the derivation in section 2")],
    "relu": [Mistake("relu-derivative-at-zero", lambda x, out: (x >= 0).astype(float),
                     "at exactly x = 0 you return 1; the course, like PyTorch, uses 0 there"),
             Mistake("relu-derivative-output", lambda x, out: out, "you returned the output, not the slope (0 or 1)")],
    "leaky_relu": [Mistake("leaky-derivative-times-x", lambda x, out, negative_slope=0.01: np.where(x > 0, 1.0, negative_slope * x),
                           "left of 0 the slope is the constant negative_slope, not negative_slope · x")],
    "gelu": [Mistake("gelu-derivative-cdf-only", lambda x, out: 0.5 * (1 + _erf(x / np.sqrt(2.0))),
                     "the product rule gives two terms; you kept only Φ(x)"),
             Mistake("gelu-derivative-pdf-only", lambda x, out: x * np.exp(-x**2 / 2) / np.sqrt(2 * np.pi),
                     "the product rule gives two terms; you kept only x φ(x)")],
}


def _erf(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf
    return erf(x)


def _keywords(params: dict) -> str:
    return ", ".join(f"{key}={value}" for key, value in params.items())


def learner_activation_table(functions: dict) -> dict[str, ActivationSpec]:
    """dlcore's table of activations with the learner's functions in place of the course's.

    ``functions`` maps a name to ``(function, derivative)``; names it lacks
    (step, identity) keep the course's version.
    """
    table = dict(ACTIVATIONS)
    for name, (function, derivative) in functions.items():
        base = ACTIVATIONS[name]
        accepted = inspect.signature(function).parameters
        defaults = tuple((key, value) for key, value in base.defaults if key in accepted)
        table[name] = ActivationSpec(name, function, derivative, base.formula, base.chinese, defaults)
    return table


def check_activation_kernels(functions: dict) -> CheckResult:
    """Exercise 3.2: each activation and its derivative(x, out), as in ``{"relu": (relu, relu_derivative), ...}``.

    The tanh and ELU derivatives encode Exercise 3.1's derivation.

    Every function is compared with the course's on extreme values, a batch and
    points around the kink; numerical warnings fail (the sigmoid at ±1000, ELU at
    +1000), and so does a function that calls the course's own. On success the
    rest of the chapter runs on the learner's table (accepted as ``activations``).
    """
    label = "3.2"
    if not isinstance(functions, dict):
        fail(label, f"expected the dict my_activations, got {type(functions).__name__}",
             "pass the dict defined at the end of the exercise cell")
    needed = list(_KERNELS)
    missing = [name for name in needed if name not in functions]
    if missing:
        fail(label, f"my_activations lacks {', '.join(missing)}", "keep the dict as the exercise cell defines it")
    for name, (function_reference, derivative_reference, params) in _KERNELS.items():
        function, derivative = functions[name]
        extra = [Case((_BATCH,), dict(params), f"a (3, 4) batch with {_keywords(params)}")] if params else []
        check_function(label, function, function_reference, _cases(*extra), name=name, mistakes=_FUNCTION_MISTAKES.get(name, ()), warning_hint=_OVERFLOW_HINT,
                       forbid=[reference.activation_forward], report=False)
        check_function(label, derivative, derivative_reference,
                       _derivative_cases(function_reference) + (_derivative_cases(function_reference, **params)[:2] if params else []),
                       name=f"{name}_derivative", mistakes=_DERIVATIVE_MISTAKES.get(name, ()),
                       warning_hint=_DERIVATIVE_HINTS.get(name, _OVERFLOW_HINT), forbid=[reference.activation_backward], report=False)
    table = learner_activation_table(functions)
    accept("activations", table, label)
    return passed(label, "every kernel matches the course's, at ±1000 and at the kinks; the chapter now runs on yours.")


# ---------------------------------------------------------------- 3.3 gradient through k sigmoid blocks

# (k, w): number of blocks and weight of each.
CHAIN_CASES = ((1, 1.0), (10, 1.0), (10, 2.0), (5, 4.0), (3, 8.0))


def measure_sigmoid_chain_gradient(k: int, w: float) -> float:
    """dh_k/dh_0 for k blocks h_l = sigma(w h_{l-1} - w/2), at h_0 = 1/2, by backpropagation.

    Built from dlcore's 1x1 Linear and Sigmoid modules; the bias -w/2 keeps every
    pre-activation at exactly 0, the sigmoid's steepest point.
    """
    rng = np.random.default_rng(0)  # only to construct the layers; every weight is then set
    layers = []
    for _ in range(k):
        linear = Linear(1, 1, rng=rng)
        linear.W.value[...] = w
        linear.b.value[...] = -w / 2
        layers += [linear, Sigmoid()]
    chain = Sequential(*layers)
    chain.forward(np.array([[0.5]]))
    return float(chain.backward(np.array([[1.0]]))[0, 0])


def _as_number(label: str, value, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        fail(label, f"{where} returned {value!r}, expected a number", "return a float computed from k and w")


def check_sigmoid_chain_prediction(predict: Callable[[int, float], float]) -> CheckResult:
    """Exercise 3.3: ``predict(k, w)`` gives dh_k/dh_0 through k blocks h_l = sigma(w h_{l-1} - w/2).

    The check measures the gradient by backpropagation through dlcore modules for each
    (k, w) in :data:`CHAIN_CASES` and compares. Recognises: ignoring w, using sigma(0)
    instead of sigma'(0), an off-by-one exponent, adding the factors instead of
    multiplying them, forgetting the sigmoid's factor, and w counted once.
    """
    label = "3.3"
    got = np.array([_as_number(label, learner_call(label, predict, k, w, name="predict_chain_gradient"),
                               f"predict_chain_gradient({k}, {w:g})") for k, w in CHAIN_CASES])
    measured = np.array([measure_sigmoid_chain_gradient(k, w) for k, w in CHAIN_CASES])
    ks = np.array([k for k, _ in CHAIN_CASES], dtype=float)
    ws = np.array([w for _, w in CHAIN_CASES])
    mistakes = [
        Mistake("ignores-w", lambda: 0.25**ks, "your prediction does not depend on w, but each block multiplies by w"),
        Mistake("value-not-slope", lambda: 0.5**ks,
                "σ(0) = 1/2 is the sigmoid's value; the chain rule needs its slope at 0"),
        Mistake("value-not-slope-times-w", lambda: (ws / 2) ** ks,
                "σ(0) = 1/2 is the sigmoid's value; the chain rule needs its slope at 0"),
        Mistake("off-by-one-low", lambda: (ws / 4) ** (ks - 1), "off by one: each of the k blocks contributes one factor"),
        Mistake("off-by-one-high", lambda: (ws / 4) ** (ks + 1), "off by one: each of the k blocks contributes one factor"),
        Mistake("adds-factors", lambda: ks * ws / 4, "the chain rule multiplies the blocks' factors; it does not add them"),
        Mistake("no-sigmoid-slope", lambda: ws**ks, "you left out the factor that the sigmoid itself contributes"),
        Mistake("w-once", lambda: ws * 0.25**ks, "the weight appears in every block, so it is raised to the power k too"),
    ]
    table = ", ".join(f"(k={k}, w={w:g}): {m:.3g}" for (k, w), m in zip(CHAIN_CASES, measured))
    return check_value(
        label, got, measured, name="your predictions", mistakes=mistakes, rtol=1e-6, atol=1e-12,
        hint=f"measured by backpropagation: {table}. What does one block multiply the gradient by?",
        success=f"measured {table}, as predicted.",
    )


# ---------------------------------------------------------------- 3.4 measuring a deep stack, block by block

course_stack_statistics = stack_statistics  # the course's version, with the exercise's signature


def _stack_variant(x, weights, biases, f, f_derivative, dout, *, slope=True, transpose=True, measured_after=False,
                   block_order=True, last_slope=False, std_per_unit=False, saturated_count=False,
                   slope_from_output=False, statistics_of_z=False, std_ddof=0):
    """What a learner's stack_statistics computes with one typical mistake switched on (plain NumPy)."""
    h, slopes, means, stds, saturated = x, [], [], [], []
    for W, b in zip(weights, biases):
        z = h @ W + b  # (N, M_l)
        h = f(z)
        slopes.append(f_derivative(h, h) if slope_from_output else f_derivative(z, h))
        recorded = z if statistics_of_z else h
        means.append(recorded.mean())
        stds.append(recorded.std(axis=0).mean() if std_per_unit else recorded.std(ddof=std_ddof))
        small = np.abs(slopes[-1]) < SATURATION_THRESHOLD
        saturated.append(small.sum() if saturated_count else small.mean())
    grad, norms = dout, []
    for W, local in zip(reversed(weights), reversed(slopes)):
        local = slopes[-1] if last_slope else local
        if not measured_after:
            norms.append(np.linalg.norm(grad))
        grad = ((grad * local) if slope else grad) @ (W.T if transpose else W)  # (N, M_{l-1})
        if measured_after:
            norms.append(np.linalg.norm(grad))
    norms = norms[::-1] if block_order else norms
    return np.array(means), np.array(stds), np.array(norms), np.array(saturated, dtype=float)


def _stack_case(seed: int, N: int, D: int, widths: tuple[int, ...], activation: str, scale: float, bias: float,
                dout: str, description: str) -> Case:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D))
    weights, biases, width = [], [], D
    for M in widths:
        weights.append(rng.standard_normal((width, M)) * scale / np.sqrt(width))
        biases.append(rng.uniform(-0.5, 0.5, M) + bias)
        width = M
    upstream = np.ones((N, width)) / N if dout == "mean" else rng.standard_normal((N, width))
    spec = ACTIVATIONS[activation]
    return Case((x, weights, biases, spec.function, spec.derivative, upstream), description=description)


_STACK_CASES = [
    _stack_case(41, 6, 5, (5, 5, 5), "tanh", 2.5, 0.0, "random",
                "x (6, 5), three tanh blocks of 5 units (square weights), a random dout"),
    _stack_case(42, 7, 4, (6, 6, 6, 6), "sigmoid", 4.0, 1.0, "random",
                "x (7, 4), four sigmoid blocks of 6 units (W_1 is (4, 6)), a random dout"),
    _stack_case(43, 9, 3, (4, 4, 4, 4, 4), "relu", 1.5, -0.3, "mean",
                "x (9, 3), five ReLU blocks of 4 units, dout = ones / N"),
    _stack_case(44, 1, 3, (2,), "elu", 1.0, 0.0, "random", "a batch of one, x (1, 3), one ELU block of 2 units"),
    _stack_case(45, 5, 4, (3, 3), "gelu", 2.0, 0.0, "random",
                "x (5, 4), two GELU blocks of 3 units (GELU's slope depends on z_l itself), a random dout"),
]

_STACK_MISTAKES = [
    Mistake("stack-no-activation-slope", lambda *a: _stack_variant(*a, slope=False),
            "your gradient passes back through the weights only: on its way back through block l it must also "
            "be multiplied by the activation's slope f'(z_l), element by element"),
    Mistake("stack-w-not-transposed", lambda *a: _stack_variant(*a, transpose=False),
            "the gradient goes back through a block's weights transposed: with W_l of shape (M_{l-1}, M_l), "
            "the product with W_l itself only runs when the block is square, and is wrong there"),
    Mistake("stack-gradient-after-block", lambda *a: _stack_variant(*a, measured_after=True),
            "your norm for block l is that of the gradient after stepping back through block l (∂L/∂h_{l-1}); "
            "record ‖∂L/∂h_l‖, the gradient arriving at block l's output, before the step"),
    Mistake("stack-norms-in-backward-order", lambda *a: _stack_variant(*a, block_order=False),
            "your gradient norms are in the order the backward pass visits the blocks (block L first); "
            "return them with block 1 first, like the other statistics"),
    Mistake("stack-last-slope-everywhere", lambda *a: _stack_variant(*a, last_slope=True),
            "every backward step uses the last block's f'(z): keep each block's own slope from the forward pass"),
    Mistake("stack-std-per-unit", lambda *a: _stack_variant(*a, std_per_unit=True),
            "your std is the average of each unit's spread over the batch; the exercise asks for the standard "
            "deviation of all N × M entries of h_l together"),
    Mistake("stack-statistics-of-z", lambda *a: _stack_variant(*a, statistics_of_z=True),
            "your mean and std describe the pre-activations z_l = h_{l-1} W_l + b_l; record them for the "
            "block's output h_l = f(z_l)"),
    Mistake("stack-std-ddof-1", lambda *a: _stack_variant(*a, std_ddof=1),
            "your std divides by N × M − 1 (ddof=1, PyTorch's default); the exercise asks for NumPy's default, "
            "which divides by N × M"),
    Mistake("stack-slope-from-output", lambda *a: _stack_variant(*a, slope_from_output=True),
            "you called f_derivative(h_l, h_l): its first argument is the block's input z_l. For tanh, sigmoid "
            "and the ReLU family that happens to give the same slope, but GELU's slope depends on z_l itself"),
    Mistake("stack-saturated-count", lambda *a: _stack_variant(*a, saturated_count=True),
            "saturated is a share: the fraction of the N × M unit-examples with |f'(z)| < 0.01, not their count"),
]


def check_stack_statistics(stack_statistics_function: Callable) -> CheckResult:
    """Exercise 3.4: ``stack_statistics(x, weights, biases, f, f_derivative, dout)`` -> (mean, std, grad_norm, saturated).

    Compared with the course's measurement (:func:`dlcore.scratch.depth_statistics.stack_statistics`,
    the machinery of ``depth_statistics``) on square and non-square stacks, a random and the
    batch-mean upstream gradient, and a single block with a batch of one. Recognises: no
    activation slope in the backward pass, W instead of W^T, the gradient measured after
    its block instead of before, norms left in backward order, the last block's slope reused,
    a per-unit std, statistics of z_l instead of h_l, a std with ddof=1, the slope taken at
    h_l instead of z_l (only GELU's case shows it), and a count instead of a share. A function that calls the course's
    ``depth_statistics``, ``network_statistics`` or ``stack_statistics`` fails.
    """
    return check_function(
        "3.4", stack_statistics_function, stack_statistics, _STACK_CASES, name="stack_statistics",
        outputs=("mean", "std", "grad_norm", "saturated"), mistakes=_STACK_MISTAKES,
        forbid=[network_statistics, depth_statistics], rtol=1e-7, atol=1e-12,
        hint=("on the way forward, record each block's statistics from h_l = f(z_l) and keep its f'(z_l) in a "
              "list; then walk back from dout over the blocks in reverse, taking the norm of the gradient that "
              "arrives at a block before stepping through it."),
        success="mean, std, gradient norms and saturated shares match the course's measurement; the chapter's "
                "deep stacks now run on your stack_statistics.")


# ---------------------------------------------------------------- 3.5 dead ReLUs and the bias

DEAD_RELU_BIASES = (-5.0, 0.0, 5.0)


def measure_dead_relu_shares(activation: str | ActivationSpec = "relu") -> tuple[float, ...]:
    """Share of dead units in one ReLU layer (100 units, 256 examples) for each bias in DEAD_RELU_BIASES.

    Inputs x ~ N(0, 1) with D = 64 and weights with Var = 1/D, so each unit's
    pre-activation z = x w + b has a spread of about 1 around b.
    """
    x = np.random.default_rng(3).standard_normal((256, 64))
    return tuple(
        float(depth_statistics(x, 1, 100, activation, rng=np.random.default_rng(4), bias=bias).dead[0])
        for bias in DEAD_RELU_BIASES
    )


def check_dead_relu_prediction(predict: Callable[[], tuple]) -> CheckResult:
    """Exercise 3.5: ``predict()`` returns the shares of dead ReLUs for biases (-5, 0, +5).

    The check runs the experiment (:func:`measure_dead_relu_shares`) and accepts answers
    within 0.05. Recognises: confusing 'inactive on one example' (about 1/2 at b = 0) with
    'dead on the whole batch', a positive bias thought to kill units, and b = -5 thought harmless.
    """
    label = "3.5"
    answer = learner_call(label, predict, name="predict_dead_shares")
    measured = np.array(measure_dead_relu_shares())
    try:
        got = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        fail(label, f"predict_dead_shares() returned {answer!r}, expected three numbers",
             "return a tuple like (0.3, 0.2, 0.1)")
    if got.shape != measured.shape:
        fail(label, f"predict_dead_shares() returned {got.size} value(s), expected 3: one share for each bias -5, 0, +5",
             "return a tuple (share_at_minus_5, share_at_0, share_at_plus_5)")

    def diagnose(answer, expected):
        answer = np.asarray(answer, dtype=np.float64)
        if abs(answer[1] - 0.5) < 0.2:
            return ("at b = 0 each unit is inactive on about half of the examples, but a dead unit must be "
                    "inactive on all 256 of them at once")
        if answer[2] > 0.5:
            return "a positive bias pushes pre-activations up, so units are active on (almost) every example"
        if answer[0] < 0.5:
            return ("with b = −5 the pre-activation is about N(−5, 1): how likely is it to be positive on one "
                    "example, and then on at least one of 256?")
        return None

    return check_value(
        label, got, measured, name="your predicted shares", diagnoses=[diagnose], rtol=0.0, atol=0.05,
        hint="dead means the output is 0 for every example of the batch; estimate P(z ≤ 0) for one example first.",
        success="measured dead shares "
        + ", ".join(f"b={b:+g}: {m:.2f}" for b, m in zip(DEAD_RELU_BIASES, measured)) + ".",
    )


# ---------------------------------------------------------------- 3.6 softmax, log-softmax, backward

_SOFTMAX_CASES = [
    Case((np.array([[1.0, 2.0, 3.0], [0.0, 4.0, 1.0], [2.0, -1.0, 0.5]]),), description="a square (3, 3) batch"),
    Case((np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [-2.0, 0.0, 2.0], [0.5, -0.5, 0.0]]),),
         description="a (4, 3) batch of logits"),
    Case((np.array([[3.0, 1.0, 0.2, -1.0, 2.0]]),), description="a batch of one, shape (1, 5)"),
    Case((np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -1002.0]]),),
         description="logits [[1000, 1001, 1002], [-1000, -1000, -1002]]"),
    Case((np.arange(24.0).reshape(2, 3, 4) / 5.0,), description="a (2, 3, 4) batch (softmax over the last axis, 4)"),
    Case((np.array([[-1000.0, 1000.0, 0.0]]),), description="logits [[-1000, 1000, 0]] (two probabilities underflow to 0)"),
]


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def course_softmax_backward(dout: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The course's softmax backward with the exercise's signature ``(dout, s)``, over the last axis."""
    return reference.softmax_backward(dout, reference.SoftmaxCache(s, -1))


_softmax_backward = course_softmax_backward


def _no_keepdims(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1)


def _backward_cases() -> list[Case]:
    rng = np.random.default_rng(35)
    cases = []
    for case in _SOFTMAX_CASES[:3] + _SOFTMAX_CASES[4:5]:
        s = reference.softmax(case.args[0])
        cases.append(Case((rng.standard_normal(s.shape), s), description=f"dout and s on {case.description}"))
    return cases


def check_softmax_kernels(softmax: Callable, log_softmax: Callable, softmax_backward: Callable) -> CheckResult:
    """Exercise 3.6: ``softmax(logits)``, ``log_softmax(logits)`` over the last axis, and ``softmax_backward(dout, s)``.

    Recognises: the wrong axis, a missing keepdims (silently wrong on a square batch),
    unnormalised rows, the log of a softmax that underflowed (-inf at ±1000), the
    diagonal-only backward s(1 − s) dout, the backward without s in the subtracted
    sum, and overflow from a missing shift.
    """
    label = "3.6"
    check_function(
        label, softmax, reference.softmax, _SOFTMAX_CASES, name="softmax", forbid=[reference.softmax_forward],
        mistakes=[Mistake("softmax-axis-0", lambda x: reference.softmax(x, axis=0),
                          "you normalised over axis 0; the classes are on the last axis"),
                  Mistake("softmax-axis-1-of-3d", lambda x: reference.softmax(x, axis=1),
                          "you normalised over axis 1; the classes are on the last axis (axis=-1)"),
                  Mistake("softmax-no-keepdims", _no_keepdims,
                          "a sum without keepdims=True has shape (N,), which broadcasts along the wrong axis: "
                          "on a square batch it runs without an error and gives wrong numbers"),
                  Mistake("softmax-unnormalised", lambda x: np.exp(x - x.max(axis=-1, keepdims=True)),
                          "your rows do not sum to 1")],
        hint="each row (the last axis) becomes a distribution; reduce with keepdims=True so (N, 1) broadcasts.",
        warning_hint=("exp overflows for logits above ~709, and a row whose exponentials all underflow gives 0/0: "
                      "shift each row by its own maximum before exponentiating."), report=False)
    check_function(
        label, log_softmax, _log_softmax, _SOFTMAX_CASES, name="log_softmax", forbid=[reference.softmax],
        mistakes=[Mistake("log-softmax-no-normaliser", lambda x: x - x.max(axis=-1, keepdims=True),
                          "you subtracted the maximum but not log Σ exp: the rows' exponentials must sum to 1"),
                  Mistake("log-softmax-axis-0", lambda x: _log_softmax(np.moveaxis(x, 0, -1)).swapaxes(0, -1)
                          if x.ndim == 2 else None, "you normalised over axis 0; the classes are on the last axis")],
        hint="log s_k = z_k − log Σ_j e^{z_j}; compute log Σ_j e^{z_j} as m + log Σ_j e^{z_j − m}.",
        warning_hint=("np.log of a softmax that underflowed to 0 is −inf (logits of −1000 next to 1000): compute "
                      "log-softmax directly from the shifted logits, never as the log of softmax."), report=False)
    return check_function(
        label, softmax_backward, _softmax_backward, _backward_cases(), name="softmax_backward",
        forbid=[reference.softmax_backward],
        mistakes=[Mistake("softmax-backward-diagonal", lambda dout, s: dout * s * (1 - s),
                          "you kept only the Jacobian's diagonal s_i(1 − s_i): every output depends on every input"),
                  Mistake("softmax-backward-no-s-in-sum", lambda dout, s: s * (dout - dout.sum(axis=-1, keepdims=True)),
                          "the subtracted term is a sum of dout weighted by s, not a plain sum of dout"),
                  Mistake("softmax-backward-sign", lambda dout, s: -_softmax_backward(dout, s),
                          "your gradient has the wrong sign")],
        hint="dz_j = Σ_i dout_i ∂s_i/∂z_j with ∂s_i/∂z_j = s_i(δ_ij − s_j); do the sum over i without forming the matrix.",
        success="softmax, log-softmax and the backward match the course's; the softmax section now runs on yours.")
