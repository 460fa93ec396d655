"""Chapter 06 checks: each passes the reference, fails plausible wrong answers with their diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.exercises import ch06
from dlcore.exercises.core import ExerciseFailed


def _not_done(*args, **kwargs):
    raise NotImplementedError("Exercise 6.x: write your code here")


# ---------------------------------------------------------------- 6.1

def _adam_with(**mistake):
    def adam_step(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        return tuple(ch06._adam_variant(theta, grad, m, v, t, lr, beta1, beta2, eps, **mistake))
    return adam_step


def test_adam_step_reference_passes():
    assert ch06.check_adam_step(ch06.reference_adam_step).passed


def test_adam_variant_without_mistakes_is_the_reference():
    # the diagnoses are only meaningful if the mistake-free variant is right
    assert ch06.check_adam_step(_adam_with()).passed


@pytest.mark.parametrize("mistake, message", [
    (dict(correct=(False, False)), "there is no bias correction"),
    (dict(swap_beta=True), "β multiplies the wrong term"),
    (dict(eps_inside=True), "ε is inside the square root"),
    (dict(old_moments=True), "uses m and v from BEFORE this step's update"),
    (dict(t_shift=1), r"off by one in t: the bias correction uses t \+ 1"),
    (dict(t_shift=-1), "off by one in t: the bias correction uses t − 1"),
    (dict(no_sqrt=True), "lacks the square root"),
])
def test_adam_step_mistakes_are_diagnosed(mistake, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch06.check_adam_step(_adam_with(**mistake))


def test_adam_step_in_place_update_and_bad_return():
    def in_place(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad**2
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v

    with pytest.raises(ExerciseFailed, match="changed its input array in place"):
        ch06.check_adam_step(in_place)

    def only_theta(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        return ch06.reference_adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps)[0]

    with pytest.raises(ExerciseFailed, match=r"must return three arrays \(theta, m, v\)"):
        ch06.check_adam_step(only_theta)

    def ascent(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        new_theta, m, v = ch06.reference_adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps)
        return 2 * theta - new_theta, m, v

    with pytest.raises(ExerciseFailed, match="wrong sign"):
        ch06.check_adam_step(ascent)
    with pytest.raises(NotImplementedError, match="Exercise 6.1 is not done yet"):
        ch06.check_adam_step(_not_done)


# ---------------------------------------------------------------- 6.2

def test_bias_correction():
    assert ch06.check_bias_correction(lambda beta, t: 1 - beta ** np.asarray(t, dtype=float)).passed
    wrong = {
        "the share that is MISSING": lambda beta, t: beta ** np.asarray(t, dtype=float),
        r"not 1 − β\^\{t\+1\}": lambda beta, t: 1 - beta ** (np.asarray(t, dtype=float) + 1),
        r"not 1 − β\^\{t−1\}": lambda beta, t: 1 - beta ** (np.asarray(t, dtype=float) - 1),
        "the correction 1 / \\(1 − β\\^t\\)": lambda beta, t: 1 / (1 - beta ** np.asarray(t, dtype=float)),
        "β and 1 − β are swapped": lambda beta, t: 1 - (1 - beta) ** np.asarray(t, dtype=float),
    }
    for message, answer in wrong.items():
        with pytest.raises(ExerciseFailed, match=message):
            ch06.check_bias_correction(answer)
    with pytest.raises(NotImplementedError):
        ch06.check_bias_correction(_not_done)


def test_bias_correction_matches_simulation():
    # the reference itself, against an actual leaky average of a constant gradient
    beta, g, m = 0.8, 3.0, 0.0
    for t in range(1, 20):
        m = beta * m + (1 - beta) * g
        assert m / g == pytest.approx(ch06._bias_correction(beta, t), rel=1e-12)


# ---------------------------------------------------------------- 6.3

def test_adagrad_step_size():
    assert ch06.check_adagrad_step_size(lambda lr, g, t: lr / np.sqrt(t) + 0 * g).passed
    wrong = {
        "your step grows with": lambda lr, g, t: lr * np.abs(g) / np.sqrt(t) + 0 * t,
        "square ROOT": lambda lr, g, t: lr / np.asarray(t, dtype=float) + 0 * g,
        "off by one": lambda lr, g, t: lr / np.sqrt(np.asarray(t, dtype=float) + 1) + 0 * g,
        "the signed step": lambda lr, g, t: -np.sign(g) * lr / np.sqrt(t),
        "divided by \\|g\\| once too often": lambda lr, g, t: lr / (np.sqrt(t) * np.abs(g)),
    }
    for message, answer in wrong.items():
        with pytest.raises(ExerciseFailed, match=message):
            ch06.check_adagrad_step_size(answer)
    with pytest.raises(NotImplementedError):
        ch06.check_adagrad_step_size(_not_done)


def test_adagrad_step_size_matches_the_optimizer():
    from dlcore.scratch import Parameter
    from dlcore.scratch.optim import Adagrad

    p = Parameter(np.array([0.0]))
    opt = Adagrad([p], lr=0.3, eps=0.0)
    for t in range(1, 30):
        before = p.value.copy()
        p.grad[...] = -7.0
        opt.step()
        assert abs(p.value[0] - before[0]) == pytest.approx(ch06._adagrad_step_size(0.3, -7.0, t), rel=1e-12)


# ---------------------------------------------------------------- 6.4

def test_valley_race_prediction():
    table = ch06.run_valley_race()
    truth = (ch06._winner(table["aligned"]), ch06._winner(table["rotated"]))
    assert ch06.check_valley_race_prediction(truth).passed
    assert ch06.check_valley_race_prediction((truth[0].lower(), f" {truth[1].upper()} ")).passed
    others = [name for name in ch06.RACE_SETTINGS if name not in truth]
    with pytest.raises(ExerciseFailed, match="The race gave"):
        ch06.check_valley_race_prediction((others[0], others[1]))
    with pytest.raises(ExerciseFailed, match="on the rotated valley"):
        ch06.check_valley_race_prediction((truth[0], truth[0]))
    with pytest.raises(ExerciseFailed, match="on the aligned valley"):
        ch06.check_valley_race_prediction(("GD", truth[1]))
    with pytest.raises(ExerciseFailed, match="a pair of names"):
        ch06.check_valley_race_prediction("Adam")
    with pytest.raises(ExerciseFailed, match="a pair of names"):
        ch06.check_valley_race_prediction(("Adam", "Lion"))
    with pytest.raises(NotImplementedError):
        ch06.check_valley_race_prediction(...)
