"""Checks for chapter 04's exercises (loss functions and gradient descent).

- 4.1 implement MSE and binary cross-entropy on logits, each with its gradient -> :func:`check_regression_and_binary_losses`
- 4.2 derive the gradient of softmax cross-entropy (a derivation in the text; 4.3 encodes it)
- 4.3 implement softmax cross-entropy with its gradient                        -> :func:`check_softmax_cross_entropy`
- 4.4 implement the multiclass hinge loss with its gradient                    -> :func:`check_multiclass_hinge`
- 4.5 implement logistic regression's two losses as functions of theta       -> :func:`check_logistic_losses`
- 4.6 predict: converges, oscillates or diverges?                             -> :func:`check_descent_prediction`
- 4.7 implement mini-batch SGD training softmax regression                    -> :func:`check_softmax_regression_loop`

Every loss returns ``(loss, gradient)``: the mean over the batch and its
gradient with respect to the first argument. A check that passes accepts the
learner's function, and the chapter's later cells
(:func:`dlcore.exercises.learner.implementation`) run on it.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

import numpy as np

from dlcore.exercises.core import Case, CheckResult, Mistake
from dlcore.exercises.functions import check_function
from dlcore.exercises.learner import learner_call
from dlcore.exercises.verdicts import check_verdicts
from dlcore.scratch import descent, losses
from dlcore.scratch.descent import gradient_descent_path

__all__ = [
    "check_regression_and_binary_losses", "check_softmax_cross_entropy", "check_multiclass_hinge",
    "check_logistic_losses",
    "check_descent_prediction", "check_softmax_regression_loop", "run_descent_experiment",
    "QUADRATIC", "LEARNING_RATES", "BEHAVIOURS", "REFERENCES",
]

# What each exercise rebuilds: none of these functions' code may be shown before the exercise.
REFERENCES = {
    "4.1": (losses.mse_forward, losses.mse_backward, losses.binary_cross_entropy_with_logits_forward,
            losses.binary_cross_entropy_with_logits_backward, losses.mse_loss, losses.bce_with_logits_loss),
    "4.3": (losses.softmax_cross_entropy_forward, losses.softmax_cross_entropy_backward, losses.log_softmax,
            losses.softmax_cross_entropy),
    "4.4": (losses.multiclass_hinge_forward, losses.multiclass_hinge_backward, losses.multiclass_hinge),
    "4.5": (descent.sigmoid_mse_loss, descent.logistic_regression_loss),
    "4.7": (descent.train_softmax_regression, descent.minibatch_indices),
}


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for any z


def _softmax(z, axis=1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _one_hot(labels, K):
    return np.eye(K)[labels]


# ---------------------------------------------------------------- 4.1 MSE and BCE on logits

def _mse_variant(pred, target, *, loss="mean", grad="right"):
    diff = pred - target
    value = {"mean": np.mean(diff**2), "sum": np.sum(diff**2), "half": 0.5 * np.mean(diff**2),
             "rows": np.sum(diff**2) / len(diff)}[loss]
    dpred = {"right": 2 * diff / diff.size, "no-two": diff / diff.size, "no-mean": 2 * diff,
             "rows": 2 * diff / len(diff), "sign": -2 * diff / diff.size}[grad]
    return value, dpred


MSE_MISTAKES = [
    Mistake("mse-gradient-of-sum", partial(_mse_variant, grad="no-mean"),
            "your dpred is the gradient of the sum of squared errors: the loss is a mean, so every entry of the "
            "gradient carries its 1/(number of entries) too"),
    Mistake("mse-gradient-missing-2", partial(_mse_variant, grad="no-two"),
            "your dpred is half the right size: differentiating the square brings down a factor 2"),
    Mistake("mse-gradient-sign", partial(_mse_variant, grad="sign"),
            "your dpred has the wrong sign: it must point where the loss grows, so it is positive where the "
            "prediction is too large"),
    Mistake("mse-gradient-over-rows", partial(_mse_variant, grad="rows"),
            "on an (N, M) batch your dpred divides by N, the rows, only: the loss is the mean over all N*M "
            "entries, so divide by their number"),
    Mistake("mse-summed", partial(_mse_variant, loss="sum", grad="no-mean"),
            "your MSE is the SUM of the squared errors: the loss is their mean (divide by the number of entries)"),
    Mistake("mse-mean-over-rows", partial(_mse_variant, loss="rows", grad="rows"),
            "on an (N, M) batch you divided by N, the rows, only: the mean runs over all N*M entries, as in "
            "F.mse_loss"),
]


def _bce_variant(logits, target, *, loss="right", grad="right"):
    z, y = logits, target
    size = z.size
    value = np.mean(np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z))))
    if loss == "flipped":
        value = np.mean(np.maximum(z, 0) - (1 - y) * z + np.log1p(np.exp(-np.abs(z))))
    elif loss == "sum":
        value = value * size
    elif loss == "no-log-term":
        value = np.mean(np.maximum(z, 0) - y * z)
    p = _sigmoid(z)
    dlogits = {"right": (p - y) / size, "no-mean": p - y, "sign": (y - p) / size,
               "flipped": (p - (1 - y)) / size, "no-sigmoid": (z - y) / size}[grad]
    if grad == "probability":
        with np.errstate(all="ignore"):
            dlogits = (p - y) / (p * (1 - p)) / size
    return value, dlogits


BCE_MISTAKES = [
    Mistake("bce-gradient-of-sum", partial(_bce_variant, grad="no-mean"),
            "your dlogits is the gradient of the sum of the losses: the loss is their mean, so each entry carries "
            "1/(number of entries) as well"),
    Mistake("bce-gradient-sign", partial(_bce_variant, grad="sign"),
            "your dlogits has the wrong sign: for a target of 1 the gradient must be negative (raising the logit "
            "lowers the loss)"),
    Mistake("bce-gradient-wrt-probability", partial(_bce_variant, grad="probability"),
            "your dlogits is the gradient with respect to the probability p = sigmoid(z), not the logit z: "
            "follow the chain rule through the sigmoid, where its derivative cancels"),
    Mistake("bce-gradient-without-sigmoid", partial(_bce_variant, grad="no-sigmoid"),
            "your dlogits uses the logit itself where the predicted probability belongs"),
    Mistake("bce-log-term-dropped", partial(_bce_variant, loss="no-log-term"),
            "your loss drops the log(1 + e^(-|z|)) term: that is only the limit for very large |z|"),
    Mistake("bce-summed", partial(_bce_variant, loss="sum", grad="no-mean"),
            "your loss is the SUM over the batch: binary cross-entropy here is the mean over all entries"),
    Mistake("bce-targets-swapped", partial(_bce_variant, loss="flipped", grad="flipped"),
            "you swapped the roles of y and 1 - y: the loss of a target 1 must fall as its logit rises"),
]

_BCE_STABILITY_HINT = ("a logit of ±1000 overflowed or took the log of 0: write the loss in the form the text "
                       "derived, which never exponentiates a positive number, and compute the sigmoid without "
                       "np.exp of a large positive value (for example through np.tanh, or separately for z >= 0 "
                       "and z < 0)")


def _mse_cases() -> list[Case]:
    rng = np.random.default_rng(41)
    return [
        Case((np.array([2.5, 0.0, 2.0, 8.0]), np.array([3.0, -0.5, 2.0, 7.0])),
             description="pred [2.5, 0, 2, 8], target [3, -0.5, 2, 7]"),
        Case((rng.standard_normal((4, 3)), rng.standard_normal((4, 3))), description="an (N, M) = (4, 3) batch"),
        Case((np.array([1.5]), np.array([-0.5])), description="a batch of one: pred [1.5], target [-0.5]"),
    ]


def _bce_cases() -> list[Case]:
    rng = np.random.default_rng(42)
    return [
        Case((np.array([0.5, -1.0, 2.0, 0.0]), np.array([1.0, 0.0, 0.0, 1.0])),
             description="logits [0.5, -1, 2, 0], targets [1, 0, 0, 1]"),
        Case((rng.standard_normal((3, 2)) * 2, np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])),
             description="an (N, M) = (3, 2) batch of logits with 0/1 targets"),
        Case((np.array([-1000.0, 40.0, 1000.0, -40.0]), np.array([1.0, 0.0, 0.0, 0.0])),
             description="logits [-1000, 40, 1000, -40], targets [1, 0, 0, 0]"),
        Case((np.array([0.3, -2.0]), np.array([0.25, 0.6])), description="soft targets: logits [0.3, -2], targets [0.25, 0.6]"),
    ]


def check_regression_and_binary_losses(mse_loss: Callable, bce_with_logits_loss: Callable) -> CheckResult:
    """Exercise 4.1: ``mse_loss(pred, target)`` and ``bce_with_logits_loss(logits, target)``, each ``(loss, grad)``."""
    check_function(
        "4.1", mse_loss, losses.mse_loss, _mse_cases(), name="mse_loss", outputs=("loss", "dpred"),
        mistakes=MSE_MISTAKES, forbid=[losses.mse_forward, losses.mse_backward],
        hint="the loss is the mean of the squared differences over every entry; dpred has the shape of pred.",
        rtol=1e-9, atol=1e-12, success="mse_loss is right.",
    )
    return check_function(
        "4.1", bce_with_logits_loss, losses.bce_with_logits_loss, _bce_cases(), name="bce_with_logits_loss",
        outputs=("loss", "dlogits"), mistakes=BCE_MISTAKES,
        forbid=[losses.binary_cross_entropy_with_logits_forward, losses.binary_cross_entropy_with_logits_backward],
        hint="the loss is the mean of the per-entry losses; dlogits has the shape of logits.",
        warning_hint=_BCE_STABILITY_HINT, rtol=1e-9, atol=1e-12,
        success="bce_with_logits_loss is right, finite for logits of ±1000, and equal to PyTorch's.",
    )


# ---------------------------------------------------------------- 4.3 softmax cross-entropy

def _softmax_ce_variant(logits, labels, *, loss="right", grad="right"):
    z = logits
    N, K = z.shape
    rows = np.arange(N)
    m = z.max(axis=1, keepdims=True)
    log_probs = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))  # (N, K)
    per_example = -log_probs[rows, labels]  # (N,)
    probs, target = np.exp(log_probs), _one_hot(labels, K)
    value = {"right": per_example.mean(), "sum": per_example.sum(), "all-entries": per_example.sum() / (N * K),
             "sign": -per_example.mean(), "per-example": per_example,
             "off-by-one": -log_probs[rows, (labels - 1) % K].mean(),
             "probability": -probs[rows, labels].mean(), "log2": per_example.mean() / np.log(2),
             "axis0": np.mean(np.log(np.exp(z - z.max(axis=0)).sum(axis=0))[labels] + z.max(axis=0)[labels]
                              - z[rows, labels])}[loss]
    dlogits = {"right": (probs - target) / N, "no-mean": probs - target, "by-K": (probs - target) / K,
               "by-NK": (probs - target) / (N * K), "sign": (target - probs) / N, "no-onehot": probs / N,
               "off-by-one": (probs - _one_hot((labels + 1) % K, K)) / N,
               "axis0": (_softmax(z, axis=0) - target) / N, "transposed": ((probs - target) / N).T}[grad]
    return value, dlogits


SOFTMAX_CE_MISTAKES = [
    Mistake("ce-per-example", partial(_softmax_ce_variant, loss="per-example"),
            "you returned the N per-example losses: the loss is one number, their mean"),
    Mistake("ce-probability-not-log", partial(_softmax_ce_variant, loss="probability"),
            "you averaged the probability of the true class itself: the loss uses minus its LOG"),
    Mistake("ce-log2", partial(_softmax_ce_variant, loss="log2"),
            "you used log2; cross-entropy in deep learning (and in PyTorch) uses the natural log, np.log"),
    Mistake("ce-gradient-of-sum", partial(_softmax_ce_variant, grad="no-mean"),
            "your dlogits is N times too large: that is the gradient of the SUM of the losses; the loss is their "
            "mean, so every entry carries a factor 1/N"),
    Mistake("ce-gradient-divided-by-K", partial(_softmax_ce_variant, grad="by-K"),
            "your dlogits divides by K, the number of classes: the 1/N of the mean is over the N examples, the "
            "rows of the logits (the two only agree when N == K)"),
    Mistake("ce-gradient-divided-by-NK", partial(_softmax_ce_variant, grad="by-NK"),
            "your dlogits is K times too small: divide by N (the examples), not by N*K (all entries)"),
    Mistake("ce-gradient-sign", partial(_softmax_ce_variant, grad="sign"),
            "your dlogits has the wrong sign, the direction that INCREASES the loss: the true class's entry must be "
            "negative (raising its logit lowers the loss)"),
    Mistake("ce-gradient-no-onehot", partial(_softmax_ce_variant, grad="no-onehot"),
            "your dlogits is the softmax alone: the second term of the loss, minus the true class's logit, "
            "contributes to the true class's entry too"),
    Mistake("ce-gradient-onehot-off-by-one", partial(_softmax_ce_variant, grad="off-by-one"),
            "in dlogits the true-class correction sits one class off: labels are 0-based column indices"),
    Mistake("ce-gradient-transposed", partial(_softmax_ce_variant, grad="transposed"),
            "your dlogits is transposed: it has one row per example, like the logits (N, K)"),
    Mistake("ce-summed", partial(_softmax_ce_variant, loss="sum", grad="no-mean"),
            "your loss is N times too large: you summed the examples' losses instead of taking their mean"),
    Mistake("ce-mean-over-all-entries", partial(_softmax_ce_variant, loss="all-entries", grad="by-NK"),
            "your loss is K times too small: you averaged over all N*K entries (e.g. np.mean of a one-hot product); "
            "sum over the classes, then average over the N examples"),
    Mistake("ce-sign", partial(_softmax_ce_variant, loss="sign", grad="sign"),
            "your loss has the wrong sign: cross-entropy is minus the mean log-probability of the true class, so "
            "it is >= 0"),
    Mistake("ce-label-off-by-one", partial(_softmax_ce_variant, loss="off-by-one", grad="off-by-one"),
            "you picked the class next to the true one: labels are already 0-based column indices into each row"),
    Mistake("ce-softmax-over-batch", partial(_softmax_ce_variant, loss="axis0", grad="axis0"),
            "you normalised over the wrong axis: the softmax runs over the classes of each example (axis=1), not "
            "over the examples of the batch (axis=0)"),
]

_CE_STABILITY_HINT = ("large logits overflowed np.exp or took the log of a probability that underflowed to 0: "
                      "subtract each row's maximum (keepdims=True) before exponentiating, and get the "
                      "log-probabilities by subtracting each row's log-sum-exp from the logits, never as "
                      "np.log(softmax)")


def _classification_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    extreme = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1001.0, -1002.0], [0.0, 800.0, -5.0]])
    return [
        # square first: summing over the wrong axis then gives a number instead of a broadcasting error
        Case((rng.standard_normal((3, 3)) * 2, np.array([2, 0, 1])), description="logits (3, 3), labels [2, 0, 1]"),
        Case((rng.standard_normal((5, 4)) * 3, np.array([3, 0, 0, 2, 1])),
             description="logits (5, 4), labels [3, 0, 0, 2, 1]"),
        Case((rng.standard_normal((1, 6)), np.array([5])), description="a batch of one: logits (1, 6), label [5]"),
        Case((extreme, np.array([0, 2, 2])),
             description="logits [[1000, 0, -1000], [-1000, -1001, -1002], [0, 800, -5]], labels [0, 2, 2]"),
    ]


def check_softmax_cross_entropy(softmax_cross_entropy: Callable) -> CheckResult:
    """Exercise 4.3: ``softmax_cross_entropy(logits, labels) -> (loss, dlogits)``, stable for logits of ±1000."""
    return check_function(
        "4.3", softmax_cross_entropy, losses.softmax_cross_entropy, _classification_cases(4),
        name="softmax_cross_entropy", outputs=("loss", "dlogits"), mistakes=SOFTMAX_CE_MISTAKES,
        forbid=[losses.softmax_cross_entropy_forward, losses.softmax_cross_entropy_backward, losses.log_softmax],
        hint="the loss is one number, the mean over the N rows; dlogits has the shape of the logits (N, K); "
             "reductions over the classes use axis=1.",
        warning_hint=_CE_STABILITY_HINT, rtol=1e-9, atol=1e-12,
        success="stable for logits of ±1000, and loss and gradient equal to F.cross_entropy and its autograd.",
    )


# ---------------------------------------------------------------- 4.4 multiclass hinge

def _hinge_variant(scores, labels, margin=1.0, *, flaw=""):
    s = scores
    N, K = s.shape
    rows = np.arange(N)
    used_margin = 1.0 if flaw == "margin-ignored" else margin
    margins = s - s[rows, labels][:, None] + (-used_margin if flaw == "margin-sign" else used_margin)  # (N, K)
    if flaw != "true-class-counted":
        margins[rows, labels] = 0.0
    active = margins >= 0 if flaw == "active-at-zero" else margins > 0
    if flaw != "true-class-counted":
        active[rows, labels] = False
    value = np.maximum(margins, 0.0).sum()
    dscores = active.astype(float)
    if flaw == "true-class-counted":
        dscores[rows, labels] = 1.0 - active.sum(axis=1)
    elif flaw == "true-class-gradient-missing":
        dscores[rows, labels] = 0.0
    elif flaw == "true-class-minus-one":
        dscores[rows, labels] = -active.any(axis=1)
    else:
        dscores[rows, labels] = -active.sum(axis=1)
    scale = {"summed": 1.0, "divided-by-K": 1.0 / (N * K)}.get(flaw, 1.0 / N)
    return value * scale, dscores * scale


def _hinge_mistake(id_, message):
    return Mistake(id_, partial(_hinge_variant, flaw=id_.removeprefix("hinge-")), message)


HINGE_MISTAKES = [
    _hinge_mistake("hinge-true-class-counted",
                   "your loss counts the true class against itself, adding the margin once per example: sum over "
                   "the classes k != y only"),
    _hinge_mistake("hinge-summed", "your loss and gradient are N times too large: take the mean over the examples"),
    _hinge_mistake("hinge-divided-by-K",
                   "you divided by K as well (as F.multi_margin_loss does): this chapter's hinge loss sums over the "
                   "classes and averages over the examples only"),
    _hinge_mistake("hinge-true-class-gradient-missing",
                   "in dscores the true class gets nothing: its score appears in every violated margin with a "
                   "minus sign, so it collects minus one for each of them"),
    _hinge_mistake("hinge-true-class-minus-one",
                   "in dscores the true class gets -1/N whenever some margin is violated: it appears in EVERY "
                   "violated margin, so it collects minus their count"),
    _hinge_mistake("hinge-active-at-zero",
                   "a margin of exactly 0 counts as violated in your dscores: a zero margin contributes neither loss "
                   "nor gradient here (use > 0, as PyTorch does)"),
    _hinge_mistake("hinge-margin-ignored", "your function ignores its margin argument (it always uses 1)"),
    _hinge_mistake("hinge-margin-sign",
                   "your margins subtract Delta: a wrong class costs something until its score is at least Delta "
                   "BELOW the true class's, so Delta is added"),
]


def _hinge_cases() -> list[Case]:
    rng = np.random.default_rng(44)
    ties = np.array([[2.0, 1.0, 0.0, 3.0], [0.0, 1.0, 1.0, -1.0], [1.0, 1.0, 1.0, 1.0]])
    return [
        Case((rng.standard_normal((4, 3)), np.array([0, 2, 1, 1])), description="scores (4, 3), labels [0, 2, 1, 1]"),
        Case((rng.standard_normal((3, 5)) * 2, np.array([4, 0, 2])), {"margin": 0.5},
             description="scores (3, 5), labels [4, 0, 2], margin = 0.5"),
        Case((ties, np.array([0, 1, 2])),
             description="scores [[2, 1, 0, 3], [0, 1, 1, -1], [1, 1, 1, 1]], labels [0, 1, 2] (some margins exactly 0)"),
        Case((rng.standard_normal((1, 4)), np.array([3])), description="a batch of one: scores (1, 4), label [3]"),
    ]


def check_multiclass_hinge(multiclass_hinge: Callable) -> CheckResult:
    """Exercise 4.4: ``multiclass_hinge(scores, labels, margin=1.0) -> (loss, dscores)``."""
    return check_function(
        "4.4", multiclass_hinge, losses.multiclass_hinge, _hinge_cases(), name="multiclass_hinge",
        outputs=("loss", "dscores"), mistakes=HINGE_MISTAKES,
        forbid=[losses.multiclass_hinge_forward, losses.multiclass_hinge_backward],
        hint="build the (N, K) margins, zero the true class's entry, keep the positive part; the gradient is the "
             "pattern of positive margins, with the true class collecting minus their count, all over N.",
        rtol=1e-9, atol=1e-12, success="loss and gradient equal to K × F.multi_margin_loss and its autograd.",
    )


# ---------------------------------------------------------------- 4.5 logistic regression's losses of theta

def _logistic_variant(theta, X, y, *, loss="cross-entropy", flaw=""):
    """A logistic model's loss and gradient with respect to theta = (w, b), with one plausible mistake."""
    z = X @ theta[:-1] + theta[-1]  # (N,)
    p = _sigmoid(z)
    N = len(y)
    if loss == "squared":
        value = np.mean((p - y) ** 2)
        dp = 2 * (p - y) / N
        dz = {"": dp * p * (1 - p), "sigmoid-factor-missing": dp, "half-sigmoid-factor": dp * p}.get(flaw, dp * p * (1 - p))
    else:
        value = np.mean(np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z))))
        dz = (p - y) / N if flaw != "through-probability" else (p - y) / (p * (1 - p)) / N
    dw, db = X.T @ dz, dz.sum()
    if flaw == "bias-gradient-mean":
        db = dz.mean()
    elif flaw == "bias-gradient-missing":
        db = 0.0
    elif flaw == "divided-by-N-again":
        dw, db = dw / N, db / N
    elif flaw == "weights-gradient-transposed-product":
        dw = X.T.sum(axis=1) * dz.sum()
    return value, np.append(dw, db)


def _logistic_mistakes(loss: str) -> list[Mistake]:
    common = [
        Mistake("bias-gradient-mean", partial(_logistic_variant, loss=loss, flaw="bias-gradient-mean"),
                "your bias gradient is N times too small: dlogits already carries the 1/N of the mean, so the "
                "bias collects the plain sum over the examples"),
        Mistake("bias-gradient-missing", partial(_logistic_variant, loss=loss, flaw="bias-gradient-missing"),
                "the last entry of your gradient, the bias's, is 0: b shifts every logit, so it collects every "
                "example's dlogits"),
        Mistake("divided-by-N-again", partial(_logistic_variant, loss=loss, flaw="divided-by-N-again"),
                "your gradient is N times too small: the gradient your loss function returned already holds "
                "the 1/N of the mean; do not divide again"),
        Mistake("weights-gradient-decoupled", partial(_logistic_variant, loss=loss,
                                                      flaw="weights-gradient-transposed-product"),
                "your weight gradient multiplies sums instead of pairing each example's input with its own "
                "dlogits: it is X^T dlogits, a sum over n of x_n times dlogits_n"),
    ]
    if loss == "squared":
        return [
            Mistake("sigmoid-factor-missing", partial(_logistic_variant, loss=loss, flaw="sigmoid-factor-missing"),
                    "your gradient skips the sigmoid: the MSE's gradient is with respect to p = sigmoid(z), and the "
                    "chain rule multiplies it by dp/dz before it reaches w and b"),
            Mistake("half-sigmoid-factor", partial(_logistic_variant, loss=loss, flaw="half-sigmoid-factor"),
                    "your dp/dz is p alone: the sigmoid's derivative is p (1 - p)"),
            *common,
        ]
    return [
        Mistake("through-probability", partial(_logistic_variant, loss=loss, flaw="through-probability"),
                "your dlogits is the gradient with respect to p, not the logit: the logit form's gradient is "
                "already with respect to z"),
        *common,
    ]


def _logistic_cases() -> list[Case]:
    rng = np.random.default_rng(45)
    return [
        Case((np.array([0.5, -1.0, 0.25]), rng.standard_normal((5, 2)), np.array([1.0, 0.0, 0.0, 1.0, 1.0])),
             description="theta (3,) = (w, b) with D = 2, X (5, 2), y [1, 0, 0, 1, 1]"),
        Case((np.array([2.0, 0.0, -1.0, 0.5]), rng.standard_normal((1, 3)), np.array([0.0])),
             description="a batch of one: theta (4,), X (1, 3), y [0]"),
        Case((np.array([-6.0, 0.0]), np.array([[-2.0], [-1.0], [0.5], [3.0]]), np.array([0.0, 0.0, 1.0, 1.0])),
             description="a confidently wrong start: theta [-6, 0], x [-2, -1, 0.5, 3], y [0, 0, 1, 1]"),
    ]


def check_logistic_losses(sigmoid_mse_loss: Callable, logistic_regression_loss: Callable) -> CheckResult:
    """Exercise 4.5: ``sigmoid_mse_loss(theta, X, y)`` and ``logistic_regression_loss(theta, X, y)``, each
    ``(loss, gradient with respect to theta = (w_1..w_D, b))``."""
    check_function(
        "4.5", sigmoid_mse_loss, descent.sigmoid_mse_loss, _logistic_cases(), name="sigmoid_mse_loss",
        outputs=("loss", "dtheta"), mistakes=_logistic_mistakes("squared"),
        hint="logits z = X w + b, p = sigmoid(z); the loss function gives dL/dp; then dz, then w and b.",
        rtol=1e-9, atol=1e-12, success="sigmoid_mse_loss is right.",
    )
    return check_function(
        "4.5", logistic_regression_loss, descent.logistic_regression_loss, _logistic_cases(),
        name="logistic_regression_loss", outputs=("loss", "dtheta"), mistakes=_logistic_mistakes("cross-entropy"),
        hint="logits z = X w + b; the loss function on logits gives dL/dz; then w and b by the chain rule.",
        rtol=1e-9, atol=1e-12, success="logistic_regression_loss is right.",
    )


# ---------------------------------------------------------------- 4.6 predict-then-verify

# f(w) = 2.5 w^2 - 4 w + 1: f'(w) = 5 w - 4, minimum at w* = 0.8, curvature L = f'' = 5.
QUADRATIC = {"a": 2.5, "b": -4.0, "c": 1.0, "start": 3.0, "steps": 40}
LEARNING_RATES = (0.3, 0.45, 0.15)
BEHAVIOURS = ("converges", "oscillates", "diverges")


def _classify(errors: np.ndarray) -> str:
    """'diverges' if |w - w*| ends larger than it began, 'oscillates' if its sign flips, else 'converges'."""
    if abs(errors[-1]) > abs(errors[0]):
        return "diverges"
    nonzero = errors[np.abs(errors) > 1e-300]
    return "oscillates" if np.any(np.sign(nonzero[1:]) != np.sign(nonzero[:-1])) else "converges"


def run_descent_experiment(learning_rate: float) -> tuple[str, np.ndarray]:
    """Run gradient descent on :data:`QUADRATIC` and name what it did; also return the errors w_t - w*."""
    a, b = QUADRATIC["a"], QUADRATIC["b"]
    points, _ = gradient_descent_path(lambda w: 2 * a * w + b, [QUADRATIC["start"]], learning_rate=learning_rate,
                                      num_steps=QUADRATIC["steps"], bound=1e12)
    errors = points[:, 0] - (-b / (2 * a))
    return _classify(errors), errors


def _theory(curvature: float) -> tuple[str, ...]:
    return tuple("converges" if lr * curvature <= 1 else "oscillates" if lr * curvature < 2 else "diverges"
                 for lr in LEARNING_RATES)


def check_descent_prediction(predict_descent: Callable[[], tuple[str, str, str]]) -> CheckResult:
    """Exercise 4.6: for f(w) = 2.5 w^2 - 4 w + 1 and learning rates (0.3, 0.45, 0.15), predict each run's behaviour.

    The check runs the three experiments (40 steps from w = 3) and recognises
    a curvature read off as the coefficient of w², and the two ways of
    misnaming an oscillation.
    """
    label = "4.6"
    got = learner_call(label, predict_descent, name="predict_descent")
    observed = tuple(run_descent_experiment(lr)[0] for lr in LEARNING_RATES)
    return check_verdicts(
        label, got, observed, cases=[f"η = {lr}" for lr in LEARNING_RATES],
        ids=[f"lr-{lr}" for lr in LEARNING_RATES], vocabulary=BEHAVIOURS,
        mistakes=[Mistake("curvature-is-coefficient", lambda: _theory(QUADRATIC["a"]),
                          "Your answers fit a curvature of 2.5, the coefficient of w²; but f''(w) = 2 × 2.5 = 5, "
                          "and the step multiplies the error w − w* by 1 − ηf''")],
        confusions={
            ("diverges", "oscillates"): ("oscillation-called-divergence",
                                         "Each step multiplies w − w* by 1 − ηL; for 1 < ηL < 2 this factor lies in "
                                         "(−1, 0): the sign flips but the size still shrinks. Divergence needs "
                                         "|1 − ηL| > 1, i.e. η > 2/L"),
            ("converges", "oscillates"): ("oscillation-called-convergence",
                                          "It does reach the minimum in the end, but with 1 − ηL < 0 the iterate jumps "
                                          "to the other side of w* at every step; here that counts as 'oscillates'"),
        },
        hint="write the update as w_{t+1} − w* = (1 − η f'') (w_t − w*) and look at the factor",
        example="e.g. return ('converges', 'diverges', 'oscillates')",
        success="the runs show " + ", ".join(f"η = {lr}: {o}" for lr, o in zip(LEARNING_RATES, observed))
                + "; the limits are 1/L = 0.2 and 2/L = 0.4 with L = f'' = 5.")


# ---------------------------------------------------------------- 4.7 the mini-batch SGD loop

def _loop_variant(X, y, W, b, loss_fn, learning_rate, num_epochs, batch_size, seed, weight_decay=0.0, *,
                  order="fresh", drop_last=False, decay_bias=False, record_penalty=True, divide_again=False,
                  ascend=False, record_after=False):
    """The training loop with one plausible mistake switched on; returns (W, b, losses)."""
    N = X.shape[0]
    rng = np.random.default_rng(seed)
    once = rng.permutation(N)
    if order != "once":
        rng = np.random.default_rng(seed)
    W, b, history = W.copy(), b.copy(), []
    sign = -1.0 if ascend else 1.0
    for _ in range(num_epochs):
        if order == "reseeded":
            rng = np.random.default_rng(seed)
        permutation = {"fresh": None, "reseeded": None, "once": once, "none": np.arange(N)}[order]
        if permutation is None:
            permutation = rng.permutation(N)
        for start in range(0, N, batch_size):
            batch = permutation[start:start + batch_size]
            if drop_last and len(batch) < batch_size:
                break
            logits = X[batch] @ W + b
            loss, dlogits = loss_fn(logits, y[batch])
            penalty = 0.5 * weight_decay * np.sum(W * W) if record_penalty else 0.0
            dW = X[batch].T @ dlogits + weight_decay * W
            db = dlogits.sum(axis=0) + (weight_decay * b if decay_bias else 0.0)
            if divide_again:
                dW, db = dW / len(batch), db / len(batch)
            W, b = W - sign * learning_rate * dW, b - sign * learning_rate * db
            history.append(loss + penalty if not record_after else loss_fn(X[batch] @ W + b, y[batch])[0] + penalty)
    return W, b, np.array(history)


LOOP_MISTAKES = [
    Mistake("not-shuffled", partial(_loop_variant, order="none"),
            "your batches take the examples in their stored order: draw a fresh random order every epoch"),
    Mistake("same-order-every-epoch", partial(_loop_variant, order="once"),
            "every epoch uses the same order: draw a new permutation at the start of EACH epoch, from one "
            "generator created once, from the seed, before the loop (not re-created inside it)"),
    Mistake("last-batch-dropped", partial(_loop_variant, drop_last=True),
            "the last, short batch is skipped: with N not a multiple of batch_size the leftovers form one more step"),
    Mistake("bias-decayed", partial(_loop_variant, decay_bias=True),
            "you applied weight decay to the bias too: the penalty (weight_decay / 2) ||W||² covers the weights only"),
    Mistake("penalty-not-recorded", partial(_loop_variant, record_penalty=False),
            "your losses leave out the penalty: record the objective the step minimises, loss + (weight_decay / 2) "
            "||W||², with W as it was before the step"),
    Mistake("divided-by-batch-twice", partial(_loop_variant, divide_again=True),
            "you divided the gradients by the batch size again: the dlogits from loss_fn already carry the 1/B "
            "of the mean"),
    Mistake("ascends", partial(_loop_variant, ascend=True),
            "your steps go uphill: subtract learning_rate times the gradient"),
    Mistake("loss-after-step", partial(_loop_variant, record_after=True),
            "you recorded each batch's loss after the step: record the loss that produced the gradient, "
            "before W and b move"),
]


def _loop_cases() -> list[Case]:
    rng = np.random.default_rng(46)

    def problem(N, D, K):
        X = rng.standard_normal((N, D))
        return X, rng.integers(0, K, N), 0.1 * rng.standard_normal((D, K)), 0.1 * rng.standard_normal(K)

    return [
        Case((*problem(10, 3, 4), losses.softmax_cross_entropy, 0.5, 3, 4, 7),
             description="N = 10 examples (D = 3, K = 4), batch_size = 4, 3 epochs, learning_rate 0.5, seed 7, "
                         "softmax cross-entropy"),
        Case((*problem(8, 2, 3), losses.softmax_cross_entropy, 0.3, 2, 8, 1, 0.1),
             description="batch gradient descent: N = 8, batch_size = 8, 2 epochs, weight_decay = 0.1"),
        Case((*problem(11, 3, 3), losses.multiclass_hinge, 0.2, 2, 5, 3, 0.05),
             description="N = 11, batch_size = 5, 2 epochs, weight_decay = 0.05, the multiclass hinge loss"),
        Case((*problem(6, 2, 3), losses.softmax_cross_entropy, 0.1, 2, 1, 5),
             description="stochastic gradient descent: N = 6, batch_size = 1, 2 epochs"),
    ]


def check_softmax_regression_loop(train_softmax_regression: Callable) -> CheckResult:
    """Exercise 4.7: ``train_softmax_regression(X, y, W, b, loss_fn, learning_rate, num_epochs, batch_size, seed,
    weight_decay=0.0) -> (W, b, losses)``, mini-batch SGD with an order drawn from ``np.random.default_rng(seed)``."""
    return check_function(
        "4.7", train_softmax_regression, descent.train_softmax_regression, _loop_cases(),
        name="train_softmax_regression", outputs=("W", "b", "losses"), mistakes=LOOP_MISTAKES,
        forbid=[descent.minibatch_indices, descent.gradient_descent],
        hint="one generator from the seed; each epoch a permutation of all N examples cut into consecutive batches; "
             "per batch: logits, loss_fn, record the objective, then the gradients of W and b and one step.",
        rtol=1e-9, atol=1e-12,
        success="every example once per epoch in a fresh order, with the short last batch, and the same parameters "
                "as dlcore's loop on every case.",
    )
