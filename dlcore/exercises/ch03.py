"""Checks for chapter 03's exercises (activation functions).

- 3.1 implement a numerically stable sigmoid        -> :func:`check_stable_sigmoid`
- 3.2 derive tanh' and write it with np.tanh only   -> :func:`check_tanh_derivative`
- 3.3 implement a stable softmax over the last axis -> :func:`check_stable_softmax`
- 3.4 predict the gradient through k sigmoid blocks -> :func:`check_sigmoid_chain_prediction`
- 3.5 predict the share of dead ReLUs for a bias    -> :func:`check_dead_relu_prediction`
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.exercises.core import not_done_message
from dlcore.exercises.core import Case, CheckResult, check_value, fail, matches
from dlcore.exercises.functions import check_array_function
from dlcore.scratch.activations import Sigmoid, sigmoid, softmax
from dlcore.scratch.depth_statistics import depth_statistics
from dlcore.scratch.linear import Linear
from dlcore.scratch.module import Sequential

__all__ = [
    "check_stable_sigmoid", "check_tanh_derivative", "check_stable_softmax",
    "check_sigmoid_chain_prediction", "check_dead_relu_prediction",
    "measure_sigmoid_chain_gradient", "measure_dead_relu_shares", "CHAIN_CASES", "DEAD_RELU_BIASES",
]



# ---------------------------------------------------------------- 3.1 stable sigmoid

def check_stable_sigmoid(stable_sigmoid: Callable[[np.ndarray], np.ndarray]) -> CheckResult:
    """Exercise 3.1: ``stable_sigmoid(x)`` equals 1 / (1 + e^{-x}) element-wise, for any x.

    Recognises: an overflow warning from e^{-x} at x = -1000 (including the np.where trap,
    which evaluates both branches), nan at large |x| (inf / inf), the derivative
    sigma(1 - sigma) returned instead of sigma, sigma(-x) (sign of the exponent), a changed
    shape (e.g. flattening a batch), and modifying the input in place.
    """
    x = np.array([-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0])
    cases = [
        Case((x,), description="x = [-1000, -30, -1, 0, 1, 30, 1000]"),
        Case((np.linspace(-8.0, 8.0, 12).reshape(3, 4),), description="a (3, 4) batch with values in [-8, 8]"),
        Case((np.array([[700.0, -710.0, 0.5]]),), description="a (1, 3) batch [[700, -710, 0.5]]"),
    ]

    def derivative(got, expected, case):
        s = sigmoid(case.args[0])
        if matches(lambda: s * (1 - s), got):
            return "you returned the derivative σ(x)(1 − σ(x)) instead of σ(x) itself"
        return None

    def sign(got, expected, case):
        if matches(lambda: sigmoid(-case.args[0]), got):
            return ("you computed σ(−x) = 1 / (1 + e^{x}): the exponent's sign is flipped "
                    "(σ(0.5) should be above 1/2)")
        return None

    def nan_at_extremes(got, expected, case):
        x = case.args[0]
        bad = ~np.isfinite(got)
        if bad.any() and np.all(np.abs(x[bad]) > 700):
            return (f"your output is nan or inf at x = {x[bad][0]:g}: with e^x or e^-x of a large number you get "
                    "inf / inf = nan (e^709.8 is already the largest float64)")
        return None

    return check_array_function(
        "3.1", stable_sigmoid, sigmoid, cases,
        diagnoses=[derivative, sign, nan_at_extremes],
        hint="σ(x) = 1/(1+e^{-x}) for x ≥ 0 and e^{x}/(1+e^{x}) for x < 0; both only need z = e^{-|x|} ≤ 1.",
        warning_hint=("e^{-x} overflows for x = -1000 (e^{1000} > 1.8e308). Compute z = np.exp(-np.abs(x)), "
                      "which is never above 1, then use 1/(1+z) where x >= 0 and z/(1+z) where x < 0. "
                      "Beware: np.where(c, a, b) evaluates both a and b everywhere, so an overflowing branch "
                      "still warns even where it is not selected."),
        success="no overflow at ±1000, and the values match 1/(1+e^{-x}).",
    )


# ---------------------------------------------------------------- 3.2 tanh derivative

def _reference_tanh_derivative(x: np.ndarray) -> np.ndarray:
    return 1.0 - np.tanh(x) ** 2


def check_tanh_derivative(tanh_derivative: Callable[[np.ndarray], np.ndarray]) -> CheckResult:
    """Exercise 3.2: ``tanh_derivative(x)`` = d/dx tanh(x) = 1 - tanh(x)^2, for any x.

    Recognises: 1 - tanh (forgot the square), tanh^2 - 1 and 1 + tanh^2 (sign), tanh itself
    (the function, not its derivative), tanh (1 - tanh) (the sigmoid's pattern),
    1 - tanh(x^2) and (1 - tanh)^2 (squared the wrong thing), and an overflow warning from
    cosh or e^x at |x| = 1000 (e.g. 1 / cosh^2).
    """
    cases = [
        Case((np.linspace(-3.0, 3.0, 13),), description="x = linspace(-3, 3, 13)"),
        Case((np.array([[-1000.0, -20.0, 0.0], [0.3, 20.0, 1000.0]]),),
             description="a (2, 3) batch [[-1000, -20, 0], [0.3, 20, 1000]]"),
    ]
    mistakes = [
        (lambda x: 1 - np.tanh(x), "you wrote 1 − tanh(x): the square is missing, it is 1 − tanh(x)²"),
        (lambda x: np.tanh(x) ** 2 - 1,
         "you wrote tanh(x)² − 1: the sign is flipped (the slope of tanh is positive)"),
        (lambda x: 1 + np.tanh(x) ** 2,
         "you wrote 1 + tanh(x)²: it is 1 − tanh(x)² (at x = 0 the slope is 1, far out 0)"),
        (np.tanh, "you returned tanh(x) itself, not its derivative"),
        (lambda x: np.tanh(x) * (1 - np.tanh(x)),
         "you wrote tanh(x)(1 − tanh(x)), the sigmoid's pattern σ(1 − σ); for tanh it is 1 − tanh(x)²"),
        (lambda x: 1 - np.tanh(x**2), "you wrote 1 − tanh(x²): square tanh(x), not x"),
        (lambda x: (1 - np.tanh(x)) ** 2,
         "you wrote (1 − tanh(x))²: only tanh(x) is squared, then subtracted from 1"),
    ]

    def known_mistake(got, expected, case):
        for wrong, message in mistakes:
            if matches(lambda: wrong(case.args[0]), got):
                return message
        return None

    return check_array_function(
        "3.2", tanh_derivative, _reference_tanh_derivative, cases,
        diagnoses=[known_mistake],
        hint="differentiate tanh = sinh / cosh with the quotient rule and use cosh² − sinh² = 1.",
        warning_hint=("cosh(x) and e^x overflow for |x| > 710, so 1/cosh(x)² warns at x = ±1000. Write the "
                      "derivative in terms of t = np.tanh(x), which is always in [-1, 1]."),
        success="tanh'(x) = 1 − tanh(x)², computed without overflow.",
    )


# ---------------------------------------------------------------- 3.3 stable softmax

def check_stable_softmax(stable_softmax: Callable[[np.ndarray], np.ndarray]) -> CheckResult:
    """Exercise 3.3: ``stable_softmax(logits)`` normalises exp(logits) along the last axis, without overflow.

    Recognises: normalising over the wrong axis (axis 0, or axis 1 of a 3-D batch), a missing
    keepdims=True on the max or on the sum (a broadcasting error, or on a square batch a
    silently wrong answer), no normalisation at all, an overflow warning (no maximum
    subtracted), 0/0 from subtracting one global maximum instead of each row's, and a wrong shape.
    """
    cases = [
        Case((np.array([[1.0, 2.0, 3.0], [0.0, 4.0, 1.0], [2.0, -1.0, 0.5]]),), description="a square (3, 3) batch"),
        Case((np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [-2.0, 0.0, 2.0], [0.5, -0.5, 0.0]]),),
             description="a (4, 3) batch of logits"),
        Case((np.array([[3.0, 1.0, 0.2, -1.0, 2.0]]),), description="a batch of one, shape (1, 5)"),
        Case((np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -1002.0]]),),
             description="logits [[1000, 1001, 1002], [-1000, -1000, -1002]]"),
        Case((np.arange(24.0).reshape(2, 3, 4) / 5.0,),
             description="a (2, 3, 4) batch (softmax over the last axis, 4)"),
    ]

    def wrong_axis(got, expected, case):
        x = case.args[0]
        for axis in range(x.ndim - 1):
            if matches(lambda: softmax(x, axis=axis), got):
                return (f"you normalised over axis {axis}; the classes are on the last axis "
                        f"(axis=-1), so each row (the last index) must sum to 1")
        return None

    def keepdims(got, expected, case):
        x = case.args[0]
        if x.ndim != 2:
            return None
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        if matches(lambda: softmax(x - x.max(axis=-1)), got) or matches(lambda: e / e.sum(axis=-1), got):
            return ("a maximum or sum without keepdims=True has shape (N,) and broadcasts along the wrong axis "
                    "(on a square batch silently): use keepdims=True so it has shape (N, 1)")
        return None

    def not_normalised(got, expected, case):
        x = case.args[0]
        if matches(lambda: np.exp(x - x.max(axis=-1, keepdims=True)), got) or matches(lambda: np.exp(x), got):
            return "your rows do not sum to 1: divide the exponentials by their sum over the last axis"
        return None

    return check_array_function(
        "3.3", stable_softmax, softmax, cases,
        diagnoses=[wrong_axis, keepdims, not_normalised],
        hint=("softmax(x)_k = e^{x_k − m} / Σ_j e^{x_j − m} with m the maximum of the same row; keep the reduced "
              "axis with keepdims=True so (N, 1) broadcasts across each row."),
        warning_hint=("exp overflows for logits above ~709, and a whole row of exp(...) that underflows to 0 gives "
                      "0/0. Subtract each row's own maximum, x.max(axis=-1, keepdims=True), before exponentiating "
                      "(one global maximum is not enough when rows differ by hundreds)."),
        success="each row sums to 1, with no overflow for logits of ±1000.",
    )


# ---------------------------------------------------------------- 3.4 gradient through k sigmoid blocks

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


def _call_prediction(label: str, function: Callable, *args):
    if not callable(function):
        fail(label, f"expected a function, got {type(function).__name__}",
              "pass the function itself, without calling it")
    try:
        return function(*args)
    except NotImplementedError:
        raise not_done_message(
            f"Exercise {label} is not done yet: replace the `raise NotImplementedError` in the exercise cell "
            f"with your prediction, run that cell, then this one."
        ) from None
    except Exception as error:
        fail(label, f"your function raised {type(error).__name__}: {error}",
              "return a number (or tuple) computed from the arguments")


def check_sigmoid_chain_prediction(predict: Callable[[int, float], float]) -> CheckResult:
    """Exercise 3.4: ``predict(k, w)`` gives dh_k/dh_0 through k blocks h_l = sigma(w h_{l-1} - w/2).

    The check measures the gradient by backpropagation through dlcore modules for each
    (k, w) in :data:`CHAIN_CASES` and compares. Recognises: ignoring w ((1/4)^k), using
    sigma(0) = 1/2 instead of sigma'(0) = 1/4, an off-by-one exponent, adding the factors
    instead of multiplying them, forgetting the sigmoid's factor (w^k), and w counted once.
    """
    label = "3.4"
    got = np.array([_as_number(label, _call_prediction(label, predict, k, w), f"predict({k}, {w})")
                    for k, w in CHAIN_CASES])
    measured = np.array([measure_sigmoid_chain_gradient(k, w) for k, w in CHAIN_CASES])
    ks = np.array([k for k, _ in CHAIN_CASES], dtype=float)
    ws = np.array([w for _, w in CHAIN_CASES])
    mistakes = [
        (0.25**ks, "you ignored the weight: each block multiplies the gradient by w · σ'(0) = w/4, not 1/4"),
        (0.5**ks, "σ(0) = 1/2 is the value, but the gradient uses the slope σ'(0) = σ(0)(1 − σ(0)) = 1/4, times w"),
        ((ws / 2) ** ks, "σ(0) = 1/2 is the value, but the gradient uses the slope σ'(0) = σ(0)(1 − σ(0)) = 1/4"),
        ((ws / 4) ** (ks - 1), "off by one: each of the k blocks contributes one factor w/4, so the exponent is k"),
        ((ws / 4) ** (ks + 1), "off by one: each of the k blocks contributes one factor w/4, so the exponent is k"),
        (ks * ws / 4, "the chain rule multiplies the factors of the blocks; it does not add them"),
        (ws**ks, "you left out the sigmoid's slope σ'(0) = 1/4 that each block contributes"),
        (ws * 0.25**ks, "the weight appears in every block, so it is raised to the power k as well"),
    ]

    def diagnose(answer, expected):
        for wrong, message in mistakes:
            if np.allclose(answer, wrong, rtol=1e-6):
                return message
        shown = ", ".join(f"predict({k}, {w:g}) = {a:.3g}" for (k, w), a in zip(CHAIN_CASES, answer))
        return f"your predictions ({shown}) differ from the measured gradients"

    table = ", ".join(f"(k={k}, w={w:g}): {m:.3g}" for (k, w), m in zip(CHAIN_CASES, measured))
    return check_value(
        label, got, measured, name="your predictions", diagnoses=[diagnose], rtol=1e-6, atol=1e-12,
        hint=f"measured by backpropagation: {table}. Each block's local derivative is w · σ'(0).",
        success=f"measured {table}, as predicted.",
    )


def _as_number(label: str, value, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        fail(label, f"{where} returned {value!r}, expected a number", "return a float, e.g. 0.25 ** k")


# ---------------------------------------------------------------- 3.5 dead ReLUs and the bias

DEAD_RELU_BIASES = (-5.0, 0.0, 5.0)


def measure_dead_relu_shares() -> tuple[float, ...]:
    """Share of dead units in one ReLU layer (100 units, 256 examples) for each bias in DEAD_RELU_BIASES.

    Inputs x ~ N(0, 1) with D = 64 and weights with Var = 1/D, so each unit's
    pre-activation z = x w + b has a spread of about 1 around b.
    """
    x = np.random.default_rng(3).standard_normal((256, 64))
    return tuple(
        float(depth_statistics(x, 1, 100, "relu", rng=np.random.default_rng(4), bias=bias).dead[0])
        for bias in DEAD_RELU_BIASES
    )


def check_dead_relu_prediction(predict: Callable[[], tuple]) -> CheckResult:
    """Exercise 3.5: ``predict()`` returns the shares of dead ReLUs for biases (-5, 0, +5).

    The check runs the experiment (:func:`measure_dead_relu_shares`) and accepts answers
    within 0.05. Recognises: confusing 'inactive on one example' (about 1/2 at b = 0) with
    'dead on the whole batch', a positive bias thought to kill units, and the wrong length.
    """
    label = "3.5"
    answer = _call_prediction(label, predict)
    measured = np.array(measure_dead_relu_shares())
    try:
        got = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        fail(label, f"predict() returned {answer!r}, expected three numbers", "return a tuple like (0.3, 0.2, 0.1)")
    if got.shape != measured.shape:
        fail(label, f"predict() returned {got.size} value(s), expected 3: one share for each bias -5, 0, +5",
              "return a tuple (share_at_minus_5, share_at_0, share_at_plus_5)")

    def diagnose(answer, expected):
        answer = np.asarray(answer, dtype=np.float64)
        if abs(answer[1] - 0.5) < 0.2:
            return ("at b = 0 each unit is inactive on about half of the examples, but a dead unit must be "
                    "inactive on all 256 of them: probability about (1/2)^256, essentially 0")
        if answer[2] > 0.5:
            return "a positive bias pushes pre-activations up, so units are active on (almost) every example, not dead"
        if answer[0] < 0.5:
            return ("with b = −5 the pre-activation is about N(−5, 1): it is positive with probability about 3e-7 "
                    "per example, so nearly every unit stays at 0 on the whole batch")
        return None

    return check_value(
        label, got, measured, name="your predicted shares", diagnoses=[diagnose], rtol=0.0, atol=0.05,
        hint="dead means the output is 0 for every example of the batch; estimate P(z ≤ 0) for one example first.",
        success="measured dead shares "
        + ", ".join(f"b={b:+g}: {m:.2f}" for b, m in zip(DEAD_RELU_BIASES, measured)) + ".",
    )
