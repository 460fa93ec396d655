"""Checks for chapter 08's exercises (PyTorch and MLPs in practice).

- 8.1 implement one PyTorch training step                              -> :func:`check_training_step`
- 8.2 derive the gradient of the article's half cross-entropy          -> :func:`check_half_ce_gradient`
- 8.3 predict what the article's XOR network (004 §5(1)) ends up saying -> :func:`check_half_ce_prediction`
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from dlcore.exercises.core import not_done_message
from dlcore.exercises.core import Case, CheckResult, fail, passed
from dlcore.exercises.functions import check_array_function

__all__ = ["check_training_step", "reference_training_step", "check_half_ce_gradient", "reference_half_ce_gradient",
           "check_half_ce_prediction", "half_ce_truth"]


# ---------------------------------------------------------------- 8.1 a training step

def reference_training_step(model, optimizer, x, y) -> float:
    """zero_grad, forward, cross-entropy on the logits, backward, step; the loss before the step as a float."""
    import torch.nn.functional as F

    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def _no_zero_grad(model, optimizer, x, y):
    import torch.nn.functional as F

    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def _softmax_first(model, optimizer, x, y):
    import torch
    import torch.nn.functional as F

    optimizer.zero_grad()
    loss = F.cross_entropy(torch.softmax(model(x), dim=1), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def _nll_of_logits(model, optimizer, x, y):
    import torch.nn.functional as F

    optimizer.zero_grad()
    loss = F.nll_loss(model(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


_STEP_MISTAKES: list[tuple[Callable, str]] = [
    (_no_zero_grad, "the weights match a run WITHOUT optimizer.zero_grad(): PyTorch adds each backward's gradients "
                    "to .grad, so from the second step on you step along the sum of all gradients so far"),
    (_softmax_first, "the weights match F.cross_entropy(softmax(logits), y): cross_entropy applies log-softmax "
                     "itself, so it wants the raw logits"),
    (_nll_of_logits, "the weights match F.nll_loss(logits, y): nll_loss expects log-probabilities; use "
                     "F.cross_entropy on the logits (log-softmax + NLL in one)"),
]


def _run_steps(step, num_steps: int = 3):
    """A fixed small problem: a 2-4-3 tanh network, SGD lr 0.5, ``num_steps`` steps on one batch of 6."""
    import torch
    from torch import nn

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(8)
        model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3)).double()
        x = torch.randn(6, 2, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 2, 1, 0])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    initial = [p.detach().clone() for p in model.parameters()]
    losses = [step(model, optimizer, x, y) for _ in range(num_steps)]
    return initial, [p.detach().clone() for p in model.parameters()], losses


def _same(a, b) -> bool:
    return all(p.shape == q.shape and bool((p - q).abs().max() < 1e-9) for p, q in zip(a, b))


def check_training_step(training_step) -> CheckResult:
    """Exercise 8.1: ``training_step(model, optimizer, x, y)`` must do one SGD step on the cross-entropy and
    return the loss (before the step) as a Python float. Three steps are compared with the reference."""
    import torch

    label = "8.1"
    if not callable(training_step):
        fail(label, f"expected a function, got {type(training_step).__name__}", "pass the function itself")
    try:
        initial, got, losses = _run_steps(training_step)
    except NotImplementedError:
        raise not_done_message("Exercise 8.1 is not done yet: replace the `raise NotImplementedError` in the "
                                  "exercise cell with your code, run that cell, then this one.") from None
    except Exception as error:
        fail(label, f"your function raised {type(error).__name__}: {error}",
             "the order is: optimizer.zero_grad(), logits = model(x), loss = F.cross_entropy(logits, y), "
             "loss.backward(), optimizer.step()")
    _, expected, expected_losses = _run_steps(reference_training_step)
    if not _same(got, expected):
        if _same(got, initial):
            fail(label, "after three calls the weights have not changed",
                 "loss.backward() computes the gradients and optimizer.step() applies them: both are needed, in that "
                 "order (after zero_grad, .grad is None, so a step before backward has nothing to apply)")
        for mistake, message in _STEP_MISTAKES:
            if _same(got, _run_steps(mistake)[1]):
                fail(label, message)
        fail(label, "after three steps the weights differ from one SGD step on F.cross_entropy(model(x), y) "
                    "per call", "use the optimizer you are given (do not make a new one) and the whole batch")
    if any(isinstance(loss, torch.Tensor) for loss in losses):
        fail(label, "you returned a tensor; return a Python float",
             "loss.item() gives the number and lets the graph be freed (keeping tensors keeps every graph)")
    if not all(isinstance(loss, float) for loss in losses):
        fail(label, f"you returned {type(losses[0]).__name__}, expected a Python float", "return loss.item()")
    if not np.allclose(losses, expected_losses, rtol=1e-9):
        fail(label, f"the weights are right but the losses you return ({np.round(losses, 4)}) are not those "
                    f"computed before each step ({np.round(expected_losses, 4)})",
             "return the loss of the forward pass you trained on, not one recomputed after the step")
    return passed(label, f"three steps give the reference weights; losses {np.round(losses, 4).tolist()}")


# ---------------------------------------------------------------- 8.2 half cross-entropy gradient

def _sigmoid(s: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * s))  # = 1 / (1 + exp(-s)) without overflow


def reference_half_ce_gradient(s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """d/ds of L = -sum_n y_n log sigma(s_n): -y (1 - sigma(s)), element by element."""
    return -y * (1.0 - _sigmoid(s))


_HALF_CE_MISTAKES = [
    (lambda s, y: _sigmoid(s) - y, "you returned sigma(s) - y, the gradient of the FULL cross-entropy; the article's "
                                   "loss has no (1 - y) log(1 - p) term"),
    (lambda s, y: -y / _sigmoid(s), "you returned dL/dp = -y / p: chain it through p = sigma(s), whose derivative is "
                                    "sigma(s) (1 - sigma(s))"),
    (lambda s, y: y * (1.0 - _sigmoid(s)), "the sign is flipped: L = -y log sigma(s) DEcreases as s grows, so its "
                                           "derivative is negative where y = 1"),
    (lambda s, y: -y * _sigmoid(s), "d log sigma(s) / ds is 1 - sigma(s) (= sigma'(s) / sigma(s)), not sigma(s)"),
    (lambda s, y: -(1.0 - _sigmoid(s)), "you dropped the factor y: rows with y = 0 contribute nothing to this loss"),
]


def _diagnose_half_ce(got, expected, case: Case):
    s, y = case.args
    for mistake, message in _HALF_CE_MISTAKES:
        with np.errstate(all="ignore"):
            wrong = mistake(s, y)
        if wrong.shape == got.shape and np.allclose(got, wrong, rtol=1e-6, atol=1e-10):
            return f"{message} (on {case.describe()})"
    return None


def check_half_ce_gradient(half_ce_gradient) -> CheckResult:
    """Exercise 8.2: ``half_ce_gradient(s, y)`` -> dL/ds for L = -sum y log sigma(s), same shape as s."""
    s = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    cases = [Case((s, np.array([1.0, 1.0, 1.0, 1.0, 1.0])), description="s = [-3, -0.5, 0, 0.5, 3], all y = 1"),
             Case((s, np.array([0.0, 1.0, 0.0, 1.0, 0.0])), description="the same s, y = [0, 1, 0, 1, 0]"),
             Case((np.array([[-800.0, 40.0]]), np.array([[1.0, 0.0]])),
                  description="large logits [[-800, 40]], shape (1, 2)")]
    return check_array_function("8.2", half_ce_gradient, reference_half_ce_gradient, cases,
                                diagnoses=[_diagnose_half_ce],
                                hint="write p = sigma(s); L = -y log p; dL/ds = dL/dp * dp/ds",
                                warning_hint="compute sigma(s) without exp overflow, e.g. 0.5 * (1 + tanh(s / 2))",
                                success="zero for every y = 0 row, and never positive: this loss only ever "
                                        "pushes p up")


# ---------------------------------------------------------------- 8.3 what the half cross-entropy learns

@functools.lru_cache(maxsize=1)
def half_ce_truth() -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Train the article's 5(1) network once (seed 0): its labels and probabilities on the four XOR rows."""
    from dlcore.articles.article_004_keras_xor import train_xor

    run = train_xor("tf1_as_given", num_runs=1, seed=0)
    return tuple(int(v) for v in run.predictions[0]), tuple(round(float(p), 3) for p in run.outputs[0])


def check_half_ce_prediction(prediction) -> CheckResult:
    """Exercise 8.3: the four labels (for inputs 00, 01, 10, 11) the article's 5(1) network outputs after training."""
    label = "8.3"
    if prediction is Ellipsis:
        raise not_done_message("Exercise 8.3 is not done yet: return your four predicted labels.")
    if (not isinstance(prediction, (tuple, list)) or len(prediction) != 4
            or not all(p in (0, 1) and not isinstance(p, float) for p in prediction)):
        fail(label, f"your prediction should be four labels 0 or 1 (for 00, 01, 10, 11), got {prediction!r}",
             "e.g. return (0, 1, 1, 0)")
    truth, probabilities = half_ce_truth()
    got = tuple(int(p) for p in prediction)
    shown = f"the trained network gives p = {list(probabilities)}, labels {truth}"
    if got == truth:
        return passed(label, shown)
    if got == (0, 1, 1, 0):
        fail(label, f"you predicted that it learns XOR; {shown}",
             "nothing in -sum y log p involves the rows with y = 0, so nothing pushes their output down")
    if got == (0, 0, 0, 0):
        fail(label, f"you predicted everything 0; {shown}",
             "minimising -y log p makes log p larger, i.e. p closer to 1, for the y = 1 rows")
    fail(label, f"you predicted {got}; {shown}",
         "the y = 0 rows have no term in the loss, but they share every weight (and the output bias b2) with the "
         "y = 1 rows: as those are pushed up, so are they")
