"""Chapter 16 checks: each passes the reference and fails plausible wrong answers with their diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.exercises import ch16
from dlcore.exercises.core import ExerciseFailed
from dlcore.rl.dqn import dqn_targets
from dlcore.rl.tabular import discounted_returns


def _not_done(*args, **kwargs):
    raise NotImplementedError("Exercise 16.x: write your code here")


# ---------------------------------------------------------------- 16.1

def test_discounted_returns_reference_passes():
    assert ch16.check_discounted_returns(discounted_returns).passed


def _forwards(rewards, gamma):
    out, running = [], 0.0
    for r in rewards:
        running = r + gamma * running
        out.append(running)
    return np.array(out)


@pytest.mark.parametrize("wrong, message", [
    (lambda r, g: np.cumsum(r[::-1])[::-1], "without discounting"),
    (_forwards, "accumulated from the first step forwards"),
    (lambda r, g: np.array([sum(g ** k * r[k] for k in range(t, len(r))) for t in range(len(r))]),
     "the discount must restart at each t"),
    (lambda r, g: np.array([sum(g ** (k + 1) * r[t + k] for k in range(len(r) - t)) for t in range(len(r))]),
     "the first reward is not discounted"),
    (lambda r, g: float(discounted_returns(r, g)[0]), r"your output has shape \(\), expected \(3,\)"),
])
def test_discounted_returns_mistakes_are_diagnosed(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch16.check_discounted_returns(wrong)


def test_discounted_returns_not_done():
    with pytest.raises(NotImplementedError, match="16.1 is not done yet"):
        ch16.check_discounted_returns(_not_done)

# ---------------------------------------------------------------- 16.2


def test_finite_horizon_reference_passes():
    assert ch16.check_finite_horizon_value(ch16.reference_finite_horizon_value).passed


@pytest.mark.parametrize("wrong, message", [
    (lambda r, g, T: r / (1 - g) if g < 1 else r * T, "value of an endless stream"),
    (lambda r, g, T: r * T, "ignores the discount"),
    (lambda r, g, T: r * (1 - g ** (T + 1)) / (1 - g) if g < 1 else r * T, "one step too many"),
    (lambda r, g, T: r * g * (1 - g ** T) / (1 - g) if g < 1 else r * T, "the first reward is not discounted"),
    (lambda r, g, T: r * (1 - g ** T) / (1 - g), "your function warned|nan or inf|ZeroDivisionError"),
])
def test_finite_horizon_mistakes_are_diagnosed(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch16.check_finite_horizon_value(wrong)

# ---------------------------------------------------------------- 16.3


def test_dqn_targets_reference_passes():
    assert ch16.check_dqn_targets(dqn_targets).passed


@pytest.mark.parametrize("wrong, message", [
    (lambda r, q, d, g: r + g * q.max(axis=1), r"multiply the bootstrap term by \(1 − terminated\)"),
    (lambda r, q, d, g: r + g * d * q.max(axis=1), "the mask is inverted"),
    (lambda r, q, d, g: r + g * (1 - d) * q.mean(axis=1), "not the average"),
    (lambda r, q, d, g: r + (1 - d) * q.max(axis=1), "the discount γ is missing"),
    (lambda r, q, d, g: r + g * (1 - d) * q.max(axis=0)[: len(r)], "wrong values|shape"),
])
def test_dqn_targets_mistakes_are_diagnosed(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch16.check_dqn_targets(wrong)

# ---------------------------------------------------------------- 16.4


def test_the_reference_prediction_passes():
    truth = {reward: ch16.policy_outcome(reward) for reward in ch16.PREDICTION_REWARDS}
    assert truth == {-3.0: "pit", -0.04: "goal", 0.5: "never ends"}
    assert ch16.check_behaviour_prediction(truth).passed


@pytest.mark.parametrize("prediction, message", [
    ({-3.0: "goal", -0.04: "goal", 0.5: "never ends"}, "every step hurts more than the pit"),
    ({-3.0: "pit", -0.04: "goal", 0.5: "goal"}, "living is worth 0.5"),
    ({-3.0: "pit", -0.04: "win", 0.5: "never ends"}, "choose one of"),
    ({-3.0: "pit"}, "expected a dict with the keys"),
])
def test_wrong_predictions_are_diagnosed(prediction, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch16.check_behaviour_prediction(prediction)


def test_prediction_not_done():
    with pytest.raises(NotImplementedError, match="16.4 is not done yet"):
        ch16.check_behaviour_prediction(...)
    with pytest.raises(NotImplementedError, match="16.4 is not done yet"):
        ch16.check_behaviour_prediction({-3.0: ..., -0.04: "goal", 0.5: "goal"})
