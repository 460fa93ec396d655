"""Chapter 14's exercise checks pass the reference answers and diagnose plausible wrong ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit

from dlcore.exercises import ch14
from dlcore.exercises.core import ExerciseFailed


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def fails_with(check, answer, *fragments):
    with pytest.raises(ExerciseFailed) as info:
        check(answer)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def not_done(*args):
    raise NotImplementedError("Exercise 14.x: replace this line with your code")


# ---------------------------------------------------------------- 14.1

def test_optimal_discriminator():
    assert ch14.check_optimal_discriminator(lambda p, q: p / (p + q)).passed
    fails_with(ch14.check_optimal_discriminator, lambda p, q: q / (p + q), "1 − D*")
    fails_with(ch14.check_optimal_discriminator, lambda p, q: p / q, "density ratio")
    fails_with(ch14.check_optimal_discriminator, lambda p, q: np.full_like(p, 0.5), "equilibrium")
    fails_with(ch14.check_optimal_discriminator, lambda p, q: (p > q).astype(float), "hard 0/1")
    with pytest.raises(NotImplementedError, match="is not done yet"):
        ch14.check_optimal_discriminator(not_done)


# ---------------------------------------------------------------- 14.2

def test_value_at_optimum():
    assert ch14.check_value_at_optimum(lambda j: -math.log(4) + 2 * j).passed
    fails_with(ch14.check_value_at_optimum, lambda j: -math.log(4) + j, "factor 2 is missing")
    fails_with(ch14.check_value_at_optimum, lambda j: -math.log(2) + 2 * j, "constant is -log 4")
    fails_with(ch14.check_value_at_optimum, lambda j: math.log(4) - 2 * j, "sign is reversed")
    fails_with(ch14.check_value_at_optimum, lambda j: -2 + 2 * j, "base-2")


# ---------------------------------------------------------------- 14.3

def test_nonsaturating_loss():
    assert ch14.check_nonsaturating_loss(lambda a: np.mean(np.logaddexp(0, -a))).passed
    fails_with(ch14.check_nonsaturating_loss, lambda a: np.mean(-np.logaddexp(0, a)), "MINIMAX")
    fails_with(ch14.check_nonsaturating_loss, lambda a: np.mean(np.logaddexp(0, a)), "discriminator's loss")
    fails_with(ch14.check_nonsaturating_loss, lambda a: np.sum(np.logaddexp(0, -a)), "summed")
    fails_with(ch14.check_nonsaturating_loss, lambda a: -np.mean(np.log(sigmoid(a))), "np.logaddexp(0, -a)")
    fails_with(ch14.check_nonsaturating_loss, lambda a: -np.mean(np.log(np.clip(expit(a), 1e-7, 1))),
               "clipping D")


# ---------------------------------------------------------------- 14.4

def test_nonsaturating_grad():
    assert ch14.check_nonsaturating_grad(lambda a: -(1 - sigmoid(a)) / len(a)).passed
    fails_with(ch14.check_nonsaturating_grad, lambda a: -(1 - sigmoid(a)), "1/M")
    fails_with(ch14.check_nonsaturating_grad, lambda a: -sigmoid(a) / len(a), "MINIMAX gradient")
    fails_with(ch14.check_nonsaturating_grad, lambda a: (1 - sigmoid(a)) / len(a), "sign is flipped")
    fails_with(ch14.check_nonsaturating_grad, lambda a: -1 / (len(a) * sigmoid(a)), "with respect to D")
    fails_with(ch14.check_nonsaturating_grad, lambda a: a[:, None] * 0, "shape")


# ---------------------------------------------------------------- 14.5

def test_gradient_prediction():
    assert ch14.check_gradient_prediction((-0.001, -0.999)).passed
    assert ch14.check_gradient_prediction((0.0, -1.0)).passed  # rounded predictions are fine
    fails_with(ch14.check_gradient_prediction, (-0.999, -0.001), "swapped")
    fails_with(ch14.check_gradient_prediction, (0.001, 0.999), "signs are flipped")
    fails_with(ch14.check_gradient_prediction, (-1.001, -1000.0), "with respect to D")
    fails_with(ch14.check_gradient_prediction, (-1.0, 0.0), "swapped")
    fails_with(ch14.check_gradient_prediction, (-0.5, -0.5), "is not right")
    with pytest.raises(NotImplementedError, match="is not done yet"):
        ch14.check_gradient_prediction(...)
