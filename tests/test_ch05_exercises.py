"""Chapter 05's exercise checks: the reference passes, plausible mistakes get their diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.exercises import ExerciseFailed, ch05
from dlcore.scratch.activations import sigmoid
from dlcore.scratch.autograd import mul_backward as reference_mul_backward


def fails_with(check, answer, *fragments):
    with pytest.raises(ExerciseFailed) as info:
        check(answer)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


# ---------------------------------------------------------------- 5.1 mul_backward

def test_mul_backward_reference_passes(capsys):
    assert ch05.check_mul_backward(reference_mul_backward).passed
    assert "Exercise 5.1 passed" in capsys.readouterr().out


def assigning(node):
    a, b = node.parents
    a.grad = b.data * node.grad
    b.grad = a.data * node.grad


def swapped(node):
    a, b = node.parents
    a.grad += a.data * node.grad
    b.grad += b.data * node.grad


def no_upstream(node):
    a, b = node.parents
    a.grad += b.data
    b.grad += a.data


def returns_instead(node):
    a, b = node.parents
    return b.data * node.grad, a.data * node.grad


def flipped_sign(node):
    a, b = node.parents
    a.grad -= b.data * node.grad
    b.grad -= a.data * node.grad


def changes_upstream(node):
    a, b = node.parents
    a.grad += b.data * node.grad
    b.grad += a.data * node.grad
    node.grad = 0.0


@pytest.mark.parametrize("answer, fragments", [
    (assigning, ("assigned the gradient", "+=")),
    (swapped, ("swapped", "d(a b)/da is b")),
    (no_upstream, ("forgot the upstream gradient", "node.grad")),
    (returns_instead, ("changed no gradient",)),
    (flipped_sign, ("sign is flipped",)),
    (changes_upstream, ("changed node.grad",)),
])
def test_mul_backward_mistakes_are_diagnosed(answer, fragments):
    fails_with(ch05.check_mul_backward, answer, *fragments)


def test_mul_backward_assignment_only_for_squares_is_caught():
    def assigns_when_reused(node):  # accumulates, except that x * x overwrites
        a, b = node.parents
        if a is b:
            a.grad = 2 * b.data * node.grad / 2
        else:
            reference_mul_backward(node)

    fails_with(ch05.check_mul_backward, assigns_when_reused, "x * x at x = 3", "expected 2x = 6")


def test_mul_backward_not_done_raises_not_implemented():
    def not_done(node):
        raise NotImplementedError("Exercise 5.1: replace this line with your code")

    with pytest.raises(NotImplementedError, match="Exercise 5.1 is not done yet"):
        ch05.check_mul_backward(not_done)


# ---------------------------------------------------------------- 5.2 predict

def test_reused_prediction_reference_passes(capsys):
    assert ch05.check_reused_prediction(lambda: (-8.0, 4.0)).passed
    assert "de/da = -8" in capsys.readouterr().out


def test_reused_prediction_matches_the_experiment():
    assert ch05.measure_reused_gradients() == pytest.approx((-8.0, 4.0))  # 2ab + 2a, a^2 at a = 2, b = -3


@pytest.mark.parametrize("prediction, fragments", [
    ((-4.0, 4.0), ("only the path directly into e", "three paths")),
    ((-10.0, 4.0), ("every path but the one through d",)),
    ((-2.0, 4.0), ("every path but the one through c",)),
    ((4.0, -8.0), ("swapped the two numbers",)),
    ((-8.0, 2.0), ("de/db = a counts one factor a",)),
    ((1.0, 1.0), ("is not right",)),
])
def test_reused_prediction_mistakes_are_diagnosed(prediction, fragments):
    fails_with(ch05.check_reused_prediction, lambda: prediction, *fragments)


def test_reused_prediction_wrong_type_and_not_done():
    fails_with(ch05.check_reused_prediction, lambda: -8.0, "return a pair")
    fails_with(ch05.check_reused_prediction, lambda: ("minus eight", 4), "must be numbers")
    assert ch05.check_reused_prediction(lambda: np.array([-8.0, 4.0])).passed

    def not_done():
        raise NotImplementedError("Exercise 5.2: replace this line with your code")

    with pytest.raises(NotImplementedError, match="Exercise 5.2 is not done yet"):
        ch05.check_reused_prediction(not_done)


# ---------------------------------------------------------------- 5.3 two-layer backward

def make_backward(*, average=True, sign=1.0, slope="h", layer2_input="h", keepdims=False, bias_axis=0,
                  transpose_dW1=False, order=("dW1", "db1", "dW2", "db2"), inplace=False):
    """A two-layer backward pass with one planted mistake (the defaults give the right answer)."""
    def backward(cache):
        x, y, z1, h, W1, W2, p = cache
        if inplace:
            p -= y
            delta2 = p / len(x)
        else:
            delta2 = sign * (p - y) / (len(x) if average else 1)
        dW2 = {"h": h, "z1": z1}[layer2_input].T @ delta2
        db2 = delta2.sum(axis=0, keepdims=keepdims)
        derivative = {"h": h * (1 - h), "none": 1.0, "article": sigmoid(h) * (1 - sigmoid(h)),
                      "z1": z1 * (1 - z1), "tanh": 1 - h**2}[slope]
        delta1 = (delta2 @ W2.T) * derivative
        dW1 = (x.T @ delta1).T if transpose_dW1 else x.T @ delta1
        db1 = delta1.sum(axis=bias_axis, keepdims=keepdims)
        grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        return tuple(grads[name] for name in order)
    return backward


def test_two_layer_reference_passes(capsys):
    assert ch05.check_two_layer_backward(make_backward()).passed
    assert "Exercise 5.3 passed" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs, fragments", [
    (dict(average=False), ("N = 5 times too large", "mean over the batch")),
    (dict(sign=-1.0), ("sign is flipped",)),
    (dict(slope="none"), ("activation derivative is missing",)),
    (dict(slope="article"), ("applied the sigmoid to h again", "article 001")),
    (dict(slope="z1"), ("you wrote z1 (1 − z1)",)),
    (dict(slope="tanh"), ("tanh's derivative",)),
    (dict(layer2_input="z1"), ("dW2 multiplies what entered layer 2",)),
    (dict(keepdims=True), ("db2 has shape (1, 1) but the bias has shape (1,)", "keepdims")),
    (dict(bias_axis=1), ("db1 has shape (5,)", "axis 1")),
    (dict(transpose_dW1=True), ("dW1 has shape (4, 3), the transpose of W1",)),
    (dict(order=("dW2", "db2", "dW1", "db1")), ("(dW2, db2, dW1, db1)",)),
    (dict(inplace=True), ("changed cache.p in place",)),
])
def test_two_layer_mistakes_are_diagnosed(kwargs, fragments):
    fails_with(ch05.check_two_layer_backward, make_backward(**kwargs), *fragments)


def test_two_layer_transpose_on_a_square_batch_is_caught_by_value():
    def transposes_when_square(cache):
        dW1, db1, dW2, db2 = make_backward()(cache)
        return (dW1.T if dW1.shape[0] == dW1.shape[1] else dW1), db1, dW2, db2

    fails_with(ch05.check_two_layer_backward, transposes_when_square, "dW1 is transposed", "square")


def test_two_layer_sigma_prime_twice_at_the_output():
    def twice(cache):
        x, y, z1, h, W1, W2, p = cache
        delta2 = (p - y) / len(x) * p * (1 - p)
        delta1 = (delta2 @ W2.T) * h * (1 - h)
        return x.T @ delta1, delta1.sum(axis=0), h.T @ delta2, delta2.sum(axis=0)

    fails_with(ch05.check_two_layer_backward, twice, "already cancelled")


def test_two_layer_structural_problems():
    fails_with(ch05.check_two_layer_backward, lambda cache: None, "returned None")
    fails_with(ch05.check_two_layer_backward, lambda cache: (1, 2), "expected four gradients", "length 2")
    fails_with(ch05.check_two_layer_backward, lambda cache: 1 / 0, "raised ZeroDivisionError")

    def not_done(cache):
        raise NotImplementedError("Exercise 5.3: replace this line with your code")

    with pytest.raises(NotImplementedError, match="Exercise 5.3 is not done yet"):
        ch05.check_two_layer_backward(not_done)


def test_two_layer_cache_is_a_real_forward_pass():
    cache = ch05.make_two_layer_cache(5, 3, 4)
    assert cache.x.shape == (5, 3) and cache.h.shape == (5, 4) and cache.p.shape == (5, 1)
    np.testing.assert_allclose(cache.h, sigmoid(cache.z1))
    assert set(np.unique(cache.y)) <= {0.0, 1.0}
