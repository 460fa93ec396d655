"""Chapter 02: each exercise check passes the reference and diagnoses plausible mistakes."""

import numpy as np
import pytest

from dlcore.exercises import ch02
from dlcore.exercises.core import ExerciseFailed
from dlcore.scratch import sigmoid
from dlcore.scratch.perceptron import make_gate, novikoff_bound, perceptron_update, xor_step_weights


def not_done(*args, **kwargs):
    raise NotImplementedError("Exercise 2.k: replace this line with your code")


def fails_with(check, answer, *fragments):
    with pytest.raises(ExerciseFailed) as caught:
        check(answer)
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)


# ---------------------------------------------------------------- 2.1

def test_layer_forward_reference_passes(capsys):
    ch02.check_layer_forward(lambda x, W, b: sigmoid(x @ W + b))
    assert "Exercise 2.1 passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, fragment", [
    (lambda x, W, b: sigmoid(W @ x + b), "you computed W @ x"),
    (lambda x, W, b: sigmoid(x @ W), "the bias is missing"),
    (lambda x, W, b: sigmoid(x @ W + b[:, None]), "broadcast along the wrong axis"),
    (lambda x, W, b: x @ W + b, "without the activation"),
    (lambda x, W, b: (x @ W + b > 0).astype(float), "you used a step function"),
    (lambda x, W, b: sigmoid(x @ W + b).T, "the transpose of (N, M)"),
    (lambda x, W, b: sigmoid(x @ W + b).ravel() if W.shape[1] == 1 else sigmoid(x @ W + b), "still returns a column"),
])
def test_layer_forward_mistakes_are_diagnosed(wrong, fragment):
    fails_with(ch02.check_layer_forward, wrong, fragment)


def test_layer_forward_in_place_and_unfinished():
    def in_place(x, W, b):
        np.clip(x, -1.0, 1.0, out=x)  # "tidying" the caller's batch in place
        return sigmoid(x @ W + b)
    fails_with(ch02.check_layer_forward, in_place, "changed its input array in place")
    with pytest.raises(NotImplementedError, match="Exercise 2.1 is not done yet"):
        ch02.check_layer_forward(not_done)


# ---------------------------------------------------------------- 2.2

def test_perceptron_update_reference_passes(capsys):
    ch02.check_perceptron_update(perceptron_update)
    assert "Exercise 2.2 passed" in capsys.readouterr().out


def rule(sign=1, on_zero_fires=False, bias=True, use_z=False, always=False, use_lr=True):
    def update(x, y, w, b, learning_rate=1.0):
        z = x @ w + b
        y_hat = int(z >= 0) if on_zero_fires else int(z > 0)
        error = (y - z) if use_z else (2 * y - 1 if always else y - y_hat)
        lr = learning_rate if use_lr else 1.0
        return w + sign * lr * error * x, (b + sign * lr * error if bias else b)
    return update


@pytest.mark.parametrize("wrong, fragment", [
    (rule(sign=-1), "sign error"),
    (rule(on_zero_fires=True), "you treated z = 0 as class 1"),
    (rule(bias=False), "you forgot the bias"),
    (rule(use_z=True), "delta rule"),
    (rule(always=True), "already classified correctly"),
    (rule(use_lr=False), "you ignored learning_rate"),
    (lambda x, y, w, b, learning_rate=1.0: perceptron_update(x, y, w, b, learning_rate)[0], "expected a pair"),
])
def test_perceptron_update_mistakes_are_diagnosed(wrong, fragment):
    fails_with(ch02.check_perceptron_update, wrong, fragment)


def test_perceptron_update_in_place_and_unfinished():
    def in_place(x, y, w, b, learning_rate=1.0):
        error = y - int(x @ w + b > 0)
        w += learning_rate * error * x
        return w, b + learning_rate * error
    fails_with(ch02.check_perceptron_update, in_place, "changed its input array in place")
    with pytest.raises(NotImplementedError, match="Exercise 2.2 is not done yet"):
        ch02.check_perceptron_update(not_done)


# ---------------------------------------------------------------- 2.3

def reference_prediction():
    X, y = make_gate("AND")
    return True, False, novikoff_bound(X, y, np.array([2.0, 2.0]), -3.0)[2]


def test_convergence_prediction_reference_passes(capsys):
    ch02.check_convergence_prediction(reference_prediction)
    out = capsys.readouterr().out
    assert "Exercise 2.3 passed" in out and "AND converged in all 20 runs" in out


@pytest.mark.parametrize("wrong, fragment", [
    (lambda: (True, True, 51.0), "xor_converges = True"),
    (lambda: (False, False, 51.0), "and_converges = False"),
    (lambda: (True, False, 34.0), "you left the bias out of R"),
    (lambda: (True, False, 24.0), "by ||w|| only"),
    (lambda: (True, False, 3.0), "not normalised"),
    (lambda: (True, False, 51.0 ** 0.5), "forgot to square"),
    (lambda: ("yes", False, 51.0), "should be True or False"),
    (lambda: (True, False), "expected a tuple"),
])
def test_convergence_prediction_mistakes_are_diagnosed(wrong, fragment):
    fails_with(ch02.check_convergence_prediction, wrong, fragment)


def test_convergence_prediction_unfinished():
    with pytest.raises(NotImplementedError, match="Exercise 2.3 is not done yet"):
        ch02.check_convergence_prediction(not_done)


# ---------------------------------------------------------------- 2.4

def test_xor_network_reference_and_another_solution_pass(capsys):
    ch02.check_xor_network(xor_step_weights)
    # A different correct answer: h1 = OR, h2 = AND, out = h1 AND NOT h2.
    ch02.check_xor_network(lambda: (np.ones((2, 2)), np.array([-0.5, -1.5]), np.array([[1.0], [-1.0]]),
                                    np.array([-0.5])))
    assert capsys.readouterr().out.count("Exercise 2.4 passed") == 2


def negated_output():
    W1, b1, W2, b2 = xor_step_weights()
    return W1, b1, -W2, -b2


def or_network():
    W1, b1, W2, _ = xor_step_weights()
    return W1, b1, np.array([[1.0], [0.0]]), np.array([-0.5])  # the output copies h1 = OR


@pytest.mark.parametrize("wrong, fragment", [
    (negated_output, "computes XNOR"),
    (or_network, "computes OR"),
    (lambda: (np.ones((2, 2)), np.array([0.0, -1.0]), np.array([[1.0], [-1.0]]), np.array([-0.5])),
     "only because step(0) = 0"),
    (lambda: (xor_step_weights()[0], xor_step_weights()[1], np.ones(2), np.array([-1.5])), "W2 has shape (2,)"),
    (lambda: xor_step_weights()[:3], "expected four arrays"),
])
def test_xor_network_mistakes_are_diagnosed(wrong, fragment):
    fails_with(ch02.check_xor_network, wrong, fragment)


def test_xor_network_unfinished():
    with pytest.raises(NotImplementedError, match="Exercise 2.4 is not done yet"):
        ch02.check_xor_network(not_done)
