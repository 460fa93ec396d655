"""Chapter 08 checks: each passes the reference and fails plausible wrong answers with their diagnosis."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore.exercises import ch08
from dlcore.exercises.core import ExerciseFailed


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _not_done(*args, **kwargs):
    raise NotImplementedError("Exercise 8.x: replace this line with your code")


# ---------------------------------------------------------------- 8.1

def test_training_step_reference_passes():
    assert ch08.check_training_step(ch08.reference_training_step).passed


def _without_zero_grad(model, optimizer, x, y):
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def _without_step(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    return loss.item()


def _step_before_backward(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    optimizer.step()
    loss.backward()
    return loss.item()


def _softmax_first(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = F.cross_entropy(torch.softmax(model(x), dim=1), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def _returns_tensor(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


def _returns_loss_after(model, optimizer, x, y):
    ch08.reference_training_step(model, optimizer, x, y)
    with torch.no_grad():
        return F.cross_entropy(model(x), y).item()


def _new_optimizer(model, optimizer, x, y):
    return ch08.reference_training_step(model, torch.optim.SGD(model.parameters(), lr=0.1), x, y)


@pytest.mark.parametrize("step, message", [
    (_without_zero_grad, "WITHOUT optimizer.zero_grad"),
    (_without_step, "the weights have not changed"),
    (_step_before_backward, "the weights have not changed"),
    (_softmax_first, r"cross_entropy\(softmax\(logits\), y\)"),
    (_returns_tensor, "you returned a tensor"),
    (_returns_loss_after, "not those computed before each step"),
    (_new_optimizer, "use the optimizer you are given"),
])
def test_training_step_mistakes_are_diagnosed(step, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch08.check_training_step(step)


def test_training_step_not_done_and_crash():
    with pytest.raises(NotImplementedError, match="Exercise 8.1 is not done yet"):
        ch08.check_training_step(_not_done)
    with pytest.raises(ExerciseFailed, match="your function raised"):
        ch08.check_training_step(lambda model, optimizer, x, y: model(x).backward())


# ---------------------------------------------------------------- 8.2

def _sigmoid(s):
    return 0.5 * (1 + np.tanh(0.5 * s))


def test_half_ce_gradient_reference_passes():
    assert ch08.check_half_ce_gradient(ch08.reference_half_ce_gradient).passed


@pytest.mark.parametrize("wrong, message", [
    (lambda s, y: _sigmoid(s) - y, "gradient of the FULL cross-entropy"),
    (lambda s, y: -y / _sigmoid(s), "you returned dL/dp"),
    (lambda s, y: y * (1 - _sigmoid(s)), "the sign is flipped"),
    (lambda s, y: -y * _sigmoid(s), r"d log sigma\(s\) / ds is 1 - sigma\(s\)"),
    (lambda s, y: -(1 - _sigmoid(s)) + 0 * y, "you dropped the factor y"),
])
def test_half_ce_gradient_mistakes_are_diagnosed(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch08.check_half_ce_gradient(wrong)


def test_half_ce_gradient_overflow_is_caught():
    with pytest.raises(ExerciseFailed, match="warned"):
        ch08.check_half_ce_gradient(lambda s, y: -y * (1 - 1 / (1 + np.exp(-s))))


def test_half_ce_gradient_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 8.2 is not done yet"):
        ch08.check_half_ce_gradient(_not_done)


# ---------------------------------------------------------------- 8.3

def test_half_ce_prediction_truth_is_all_ones():
    labels, probabilities = ch08.half_ce_truth()
    assert labels == (1, 1, 1, 1)
    assert all(p > 0.5 for p in probabilities)
    assert ch08.check_half_ce_prediction((1, 1, 1, 1)).passed


@pytest.mark.parametrize("prediction, message", [
    ((0, 1, 1, 0), "you predicted that it learns XOR"),
    ((0, 0, 0, 0), "you predicted everything 0"),
    ((0, 1, 1, 1), "they share every weight"),
    ((1, 1, 1), "four labels 0 or 1"),
    ("1111", "four labels 0 or 1"),
])
def test_half_ce_prediction_mistakes_are_diagnosed(prediction, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch08.check_half_ce_prediction(prediction)


def test_half_ce_prediction_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 8.3 is not done yet"):
        ch08.check_half_ce_prediction(...)
