"""Chapter 04's checks pass the reference answers and diagnose plausible wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.exercises import ExerciseFailed, ch04
from dlcore.scratch.descent import minibatch_indices as reference_minibatches
from dlcore.scratch.losses import softmax_cross_entropy_backward, softmax_cross_entropy_forward


def not_done(*args):
    raise NotImplementedError("Exercise 4.k: write your code here")


# ---------------------------------------------------------------- 4.1

def good_loss(z, y):
    m = z.max(axis=1, keepdims=True)
    log_probs = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return -np.mean(log_probs[np.arange(len(y)), y])


def naive_loss(z, y):  # overflows at 1000
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(y)), y]))


def log_of_stable_softmax(z, y):  # max subtracted, but log(0) for an underflowed probability
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(y)), y]))


def summed_loss(z, y):
    return good_loss(z, y) * len(y)


def off_by_one_loss(z, y):
    m = z.max(axis=1, keepdims=True)
    log_probs = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return -np.mean(log_probs[np.arange(len(y)), y - 1])


def wrong_axis_loss(z, y):
    m = z.max(axis=0)
    lse = m + np.log(np.exp(z - m).sum(axis=0))
    return np.mean(lse - z[np.arange(len(y)), y])


def per_example_loss(z, y):
    m = z.max(axis=1, keepdims=True)
    return (m[:, 0] + np.log(np.exp(z - m).sum(axis=1))) - z[np.arange(len(y)), y]


def test_loss_reference_passes(capsys):
    result = ch04.check_softmax_cross_entropy(good_loss)
    assert result.passed and "Exercise 4.1 passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, diagnosis", [
    (naive_loss, "overflow"),
    (log_of_stable_softmax, "log(softmax(z)) gives log(0)"),
    (summed_loss, "you summed over the batch instead of taking the mean"),
    (off_by_one_loss, "you picked the logit of class y - 1 instead of class y"),
    (wrong_axis_loss, "you normalised over the wrong axis"),
    (lambda z, y: -good_loss(z, y), "wrong sign"),
    (lambda z, y: good_loss(z, y) / np.log(2), "you used log2"),
    (per_example_loss, "one number, the mean over the batch"),
])
def test_loss_mistakes_are_diagnosed(wrong, diagnosis):
    with pytest.raises(ExerciseFailed) as info:
        ch04.check_softmax_cross_entropy(wrong)
    assert diagnosis in str(info.value)


def test_loss_not_implemented():
    with pytest.raises(NotImplementedError, match="Exercise 4.1 is not done yet"):
        ch04.check_softmax_cross_entropy(not_done)


# ---------------------------------------------------------------- 4.2

def stable_softmax(z, axis=1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def good_gradient(z, y):
    g = stable_softmax(z)
    g[np.arange(len(y)), y] -= 1.0
    return g / len(y)


def test_gradient_reference_passes(capsys):
    assert ch04.check_softmax_cross_entropy_gradient(good_gradient).passed
    assert "Exercise 4.2 passed" in capsys.readouterr().out


def test_gradient_reference_agrees_with_the_library():
    z, y = np.array([[0.5, -1.0, 2.0]]), np.array([1])
    np.testing.assert_allclose(good_gradient(z, y), softmax_cross_entropy_backward(softmax_cross_entropy_forward(z, y)[1]))


@pytest.mark.parametrize("wrong, diagnosis", [
    (lambda z, y: good_gradient(z, y) * len(y), "that is the gradient of the SUM"),
    (lambda z, y: -good_gradient(z, y), "sign error"),
    (lambda z, y: stable_softmax(z) / len(y), "without subtracting the one-hot"),
    (lambda z, y: stable_softmax(z), "without subtracting the one-hot"),
    (lambda z, y: good_gradient(z, (y + 1) % z.shape[1]), "one class off"),
    (lambda z, y: good_gradient(z, y) / z.shape[1], "not by N*K"),
    (lambda z, y: (np.exp(z) / np.exp(z).sum(axis=1, keepdims=True) - np.eye(z.shape[1])[y]) / len(y), "overflow"),
    (lambda z, y: good_gradient(z, y).T, "you returned the transpose"),
    (lambda z, y: (stable_softmax(z, axis=0) - np.eye(z.shape[1])[y]) / len(y), "softmax over the batch axis"),
])
def test_gradient_mistakes_are_diagnosed(wrong, diagnosis):
    with pytest.raises(ExerciseFailed) as info:
        ch04.check_softmax_cross_entropy_gradient(wrong)
    assert diagnosis in str(info.value)


def test_gradient_not_implemented():
    with pytest.raises(NotImplementedError, match="Exercise 4.2 is not done yet"):
        ch04.check_softmax_cross_entropy_gradient(not_done)


# ---------------------------------------------------------------- 4.3

def test_experiment_matches_the_theory():
    # L = 5: eta L = 1.5 (sign flips, shrinks), 2.25 (grows), 0.75 (monotone)
    behaviours = [ch04.run_descent_experiment(lr)[0] for lr in ch04.LEARNING_RATES]
    assert behaviours == ["oscillates", "diverges", "converges"]
    _, errors = ch04.run_descent_experiment(0.3)
    # the first steps only: later errors approach the float64 spacing next to w* = 0.8
    np.testing.assert_allclose(errors[1:16] / errors[:15], 1 - 0.3 * 5, rtol=1e-9)


def test_prediction_reference_passes(capsys):
    assert ch04.check_descent_prediction(lambda: ("oscillates", "diverges", "converges")).passed
    assert "2/L = 0.4" in capsys.readouterr().out
    assert ch04.check_descent_prediction(lambda: [" Oscillates", "DIVERGES", "converges"]).passed


@pytest.mark.parametrize("answer, diagnosis", [
    (("converges", "oscillates", "converges"), "Your answers fit a curvature of 2.5"),
    (("diverges", "diverges", "converges"), "Divergence needs |1 − ηL| > 1"),
    (("converges", "diverges", "converges"), "counts as 'oscillates'"),
    (("oscillates", "converge", "converges"), "'converge' is not one of"),
    ("oscillates", "return a tuple of three strings"),
])
def test_prediction_mistakes_are_diagnosed(answer, diagnosis):
    with pytest.raises(ExerciseFailed) as info:
        ch04.check_descent_prediction(lambda: answer)
    assert diagnosis in str(info.value)


def test_prediction_not_implemented():
    with pytest.raises(NotImplementedError, match="Exercise 4.3 is not done yet"):
        ch04.check_descent_prediction(not_done)


# ---------------------------------------------------------------- 4.4

def good_batches(N, B, rng):
    order = rng.permutation(N)
    return [order[i:i + B] for i in range(0, N, B)]


def test_minibatch_reference_passes():
    assert ch04.check_minibatch_indices(good_batches).passed
    assert ch04.check_minibatch_indices(reference_minibatches).passed


@pytest.mark.parametrize("wrong, diagnosis", [
    (lambda N, B, rng: [rng.integers(0, N, min(B, N - i)) for i in range(0, N, B)], "you sampled with replacement"),
    (lambda N, B, rng: good_batches(N, B, rng)[: N // B] or good_batches(N, B, rng), "the last, partial batch was dropped"),
    (lambda N, B, rng: [np.arange(N)[i:i + B] for i in range(0, N, B)], "nothing is shuffled"),
    (lambda N, B, rng: good_batches(N, B, np.random.default_rng()), "your order does not come from rng"),
    (lambda N, B, rng: good_batches(N, B, np.random.default_rng(0)), "came out in the same order"),
    (lambda N, B, rng: np.array_split(rng.permutation(N), max(1, N // B)), "batch sizes"),
    (lambda N, B, rng: rng.permutation(N), "return a list of 1-D index arrays"),
])
def test_minibatch_mistakes_are_diagnosed(wrong, diagnosis):
    with pytest.raises(ExerciseFailed) as info:
        ch04.check_minibatch_indices(wrong)
    assert diagnosis in str(info.value)


def test_minibatch_not_implemented():
    with pytest.raises(NotImplementedError, match="Exercise 4.4 is not done yet"):
        ch04.check_minibatch_indices(not_done)
