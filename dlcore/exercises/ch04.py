"""Checks for chapter 04's exercises (loss functions and gradient descent).

- 4.1 implement softmax cross-entropy from logits          -> :func:`check_softmax_cross_entropy`
- 4.2 derive its gradient with respect to the logits       -> :func:`check_softmax_cross_entropy_gradient`
- 4.3 predict: converges, oscillates or diverges?          -> :func:`check_descent_prediction`
- 4.4 implement the mini-batches of one epoch              -> :func:`check_minibatch_indices`
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.exercises.core import not_done_message
from dlcore.exercises.core import Case, CheckResult, fail, passed, matches
from dlcore.exercises.functions import check_array_function
from dlcore.scratch.activations import softmax
from dlcore.scratch.descent import gradient_descent_path
from dlcore.scratch.losses import (
    log_softmax,
    one_hot,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)

__all__ = [
    "check_softmax_cross_entropy", "check_softmax_cross_entropy_gradient", "check_descent_prediction",
    "check_minibatch_indices", "run_descent_experiment", "QUADRATIC", "LEARNING_RATES", "BEHAVIOURS",
]



def _cases() -> list[Case]:
    rng = np.random.default_rng(4)
    extreme = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1001.0, -1002.0], [0.0, 800.0, -5.0]])
    return [
        # square first: there a sum over the wrong axis gives a number instead of a broadcasting error
        Case((rng.standard_normal((3, 3)) * 2, np.array([2, 0, 1])), description="logits (3, 3), labels [2, 0, 1]"),
        Case((rng.standard_normal((5, 4)) * 3, np.array([3, 0, 0, 2, 1])), description="logits (5, 4), labels [3, 0, 0, 2, 1]"),
        Case((rng.standard_normal((1, 6)), np.array([5])), description="a batch of one: logits (1, 6), label [5]"),
        Case((extreme, np.array([0, 2, 2])),
             description="logits [[1000, 0, -1000], [-1000, -1001, -1002], [0, 800, -5]], labels [0, 2, 2]"),
    ]


_STABILITY_HINT = (
    "two things go wrong with large logits: np.exp(1000) overflows (subtract each row's own maximum, "
    "z.max(axis=1, keepdims=True), before exponentiating), and log(softmax(z)) gives log(0) = -inf once a "
    "probability underflows to 0 (e^-805 is below the smallest float64). Compute the log-probabilities "
    "directly: log_softmax(z) = z - m - log(sum(exp(z - m))) with m the row maximum."
)


def _axis0_variants(logits: np.ndarray, labels: np.ndarray) -> list[Callable[[], np.ndarray]]:
    """What normalising over the batch axis instead of the class axis gives (only computable when N == K)."""
    rows = np.arange(len(labels))
    lse0 = np.log(np.exp(logits - logits.max(axis=0)).sum(axis=0)) + logits.max(axis=0)  # (K,)
    return [lambda: np.mean(lse0 - logits[rows, labels]),
            lambda: np.mean(lse0[labels] - logits[rows, labels])]


# ---------------------------------------------------------------- 4.1 the loss

def check_softmax_cross_entropy(softmax_cross_entropy: Callable[[np.ndarray, np.ndarray], float]) -> CheckResult:
    """Exercise 4.1: ``softmax_cross_entropy(logits, labels)`` = mean_n [logsumexp(z_n) - z_{n, y_n}].

    Recognises: overflow or log(0) for logits of +-1000 (the unstable log(softmax)), a sum
    instead of the mean (forgetting 1/N), a mean over all N*K entries, the per-example
    losses returned instead of their mean, a flipped sign, labels used off by one,
    normalising over the batch axis instead of the class axis, the probability of the
    true class averaged without its log, and log base 2 or 10.
    """

    def mistakes(got, expected, case):
        logits, labels = case.args
        N, K = logits.shape
        rows = np.arange(N)
        if not np.all(np.isfinite(got)):
            return "your loss is inf or nan for large logits. " + _STABILITY_HINT
        if N > 1 and matches(lambda: expected * N, got):
            return f"your loss is {N} times too large on {case.describe()}: you summed over the batch instead of taking the mean (divide by N)"
        if matches(lambda: expected / K, got):
            return (f"your loss is {K} times too small: you averaged over all N*K entries (e.g. np.mean(onehot * -log_probs)); "
                    "sum over the classes, then average over the N examples")
        if matches(lambda: -expected, got):
            return "your loss has the wrong sign: cross-entropy is MINUS the mean log-probability of the true class, so it is >= 0"
        for shift in (-1, 1):
            if matches(lambda: -np.mean(log_softmax(logits)[rows, (labels + shift) % K]), got):
                return (f"you picked the logit of class y {'-' if shift < 0 else '+'} 1 instead of class y: the labels are "
                        "already 0-based indices into each row, use logits[np.arange(N), labels]")
        if N == K and any(matches(variant, got) for variant in _axis0_variants(logits, labels)):
            return ("you normalised over the wrong axis: softmax runs over the classes of each example (axis=1, "
                    "with keepdims=True), not over the examples of the batch (axis=0)")
        if matches(lambda: -np.mean(softmax(logits)[rows, labels]), got) or matches(lambda: np.mean(softmax(logits)[rows, labels]), got):
            return "you averaged the probability of the true class itself: the loss uses its negative LOG"
        for base, name in ((2.0, "log2"), (10.0, "log10")):
            if matches(lambda: expected / np.log(base), got):
                return f"you used {name}; cross-entropy in deep learning (and in PyTorch) uses the natural log, np.log"
        return None

    return check_array_function(
        "4.1", softmax_cross_entropy, lambda z, y: softmax_cross_entropy_forward(z, y)[0], _cases(),
        diagnoses=[mistakes],
        hint=("L = (1/N) sum_n [logsumexp(z_n) - z_{n, y_n}]: one number, the mean over the batch (not the (N,) "
              "per-example losses); each row of logits is one example, so reductions over classes use axis=1."),
        warning_hint=_STABILITY_HINT,
        rtol=1e-9, atol=1e-9,
        success="stable for logits of ±1000 and equal to F.cross_entropy on every case.",
    )


# ---------------------------------------------------------------- 4.2 the gradient

def check_softmax_cross_entropy_gradient(
    softmax_cross_entropy_gradient: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> CheckResult:
    """Exercise 4.2: the gradient of the MEAN softmax cross-entropy w.r.t. the logits, (softmax(z) - onehot(y)) / N.

    Recognises: forgetting the 1/N (the gradient of the sum), dividing by N*K, the sign
    flipped (onehot - softmax), softmax returned without subtracting the one-hot (with or
    without 1/N), the one-hot placed one class off, softmax taken over the batch axis,
    overflow for logits of +-1000, and a transposed or otherwise wrongly shaped result.
    """

    def mistakes(got, expected, case):
        logits, labels = case.args
        N, K = logits.shape
        probs, target = softmax(logits), one_hot(labels, K)
        if not np.all(np.isfinite(got)):
            return "your gradient has inf or nan for large logits: compute softmax with each row's maximum subtracted first"
        if N > 1 and matches(lambda: expected * N, got):
            return (f"your gradient is {N} times too large: that is the gradient of the SUM of the losses; the loss is "
                    "their mean, so every entry carries a factor 1/N")
        if matches(lambda: expected / K, got):
            return f"your gradient is {K} times too small: divide by N (the examples), not by N*K (all entries)"
        if matches(lambda: -expected, got):
            return ("sign error: you returned (onehot - softmax) / N, the direction that INCREASES the loss; "
                    "dL/dz = (softmax(z) - onehot(y)) / N (raising the true class's logit lowers the loss, so its entry is negative)")
        if matches(lambda: probs / N, got) or matches(lambda: probs, got):
            return ("you returned the softmax without subtracting the one-hot labels: the true class's entry must be "
                    "p_y - 1 (negative), the others p_k")
        for shift in (-1, 1):
            if matches(lambda: (probs - one_hot((labels + shift) % K, K)) / N, got):
                return "the 1 is subtracted one class off: labels are 0-based, subtract at [np.arange(N), labels]"
        if N == K and matches(lambda: expected.T, got):
            return "you returned the transpose: the gradient has one row per example, like the logits (N, K)"
        if N == K and matches(lambda: (softmax(logits, axis=0) - target) / N, got):
            return "you took the softmax over the batch axis (axis=0); it runs over the classes of each row (axis=1)"
        return None

    return check_array_function(
        "4.2", softmax_cross_entropy_gradient,
        lambda z, y: softmax_cross_entropy_backward(softmax_cross_entropy_forward(z, y)[1]), _cases(),
        diagnoses=[mistakes],
        hint="dL/dz has the shape of the logits (N, K): (softmax(z) - onehot(y)) / N, with softmax over axis=1.",
        warning_hint="np.exp overflowed: subtract each row's maximum (keepdims=True) before exponentiating.",
        rtol=1e-9, atol=1e-12,
        success="(softmax − one-hot) / N, equal to PyTorch's autograd on every case.",
    )


# ---------------------------------------------------------------- 4.3 predict-then-verify

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
    """Exercise 4.3: for f(w) = 2.5 w^2 - 4 w + 1 and learning rates (0.3, 0.45, 0.15), predict each run's behaviour.

    The check runs the three experiments (40 steps from w = 3). Recognises: an answer that
    is not three of 'converges' / 'oscillates' / 'diverges', the coefficient 2.5 taken for
    the curvature (forgetting the 2 from differentiating w^2), 1/L taken as the divergence
    threshold, and a damped oscillation called 'converges'.
    """
    label = "4.3"
    try:
        got = predict_descent()
    except NotImplementedError:
        raise not_done_message(f"Exercise {label} is not done yet: replace the `raise NotImplementedError` "
                                  f"in the exercise cell with your prediction, run that cell, then this one.") from None
    if not isinstance(got, (tuple, list)) or len(got) != 3 or not all(isinstance(g, str) for g in got):
        fail(label, f"return a tuple of three strings, one per learning rate {LEARNING_RATES}; got {got!r}",
             "e.g. return ('converges', 'diverges', 'oscillates')")
    answer = tuple(g.strip().lower() for g in got)
    unknown = [g for g in answer if g not in BEHAVIOURS]
    if unknown:
        fail(label, f"{unknown[0]!r} is not one of {BEHAVIOURS}", "use exactly these words")
    observed = tuple(run_descent_experiment(lr)[0] for lr in LEARNING_RATES)
    if answer == observed:
        return passed(label, "the runs show " + ", ".join(f"η = {lr}: {o}" for lr, o in zip(LEARNING_RATES, observed))
                      + "; the limits are 1/L = 0.2 and 2/L = 0.4 with L = f'' = 5.")
    report = "; ".join(f"η = {lr}: you said {g}, the run {o}" for lr, g, o in zip(LEARNING_RATES, answer, observed) if g != o)
    if answer == _theory(QUADRATIC["a"]):
        problem = (f"{report}. Your answers fit a curvature of 2.5, the coefficient of w²; but f''(w) = 2 × 2.5 = 5, "
                   "and the step multiplies the error w − w* by 1 − ηf''")
    elif any(g == "diverges" and o == "oscillates" for g, o in zip(answer, observed)):
        problem = (f"{report}. Each step multiplies w − w* by 1 − ηL; for 1 < ηL < 2 this factor lies in (−1, 0): the "
                   "sign flips but the size still shrinks. Divergence needs |1 − ηL| > 1, i.e. η > 2/L")
    elif any(g == "converges" and o == "oscillates" for g, o in zip(answer, observed)):
        problem = (f"{report}. It does reach the minimum in the end, but with 1 − ηL < 0 the iterate jumps to the other "
                   "side of w* at every step; here that counts as 'oscillates'")
    else:
        problem = report
    fail(label, problem, "write the update as w_{t+1} − w* = (1 − η f'') (w_t − w*) and look at the factor")
    raise AssertionError("unreachable")  # fail() always raises


# ---------------------------------------------------------------- 4.4 mini-batches

def check_minibatch_indices(minibatch_indices: Callable[[int, int, np.random.Generator], list]) -> CheckResult:
    """Exercise 4.4: ``minibatch_indices(num_examples, batch_size, rng)`` cuts a fresh permutation into batches.

    Recognises: sampling with replacement (duplicates), the last partial batch dropped,
    no shuffling, the global NumPy random state used instead of ``rng`` (not reproducible),
    the same order every epoch (a generator re-created inside), wrong batch sizes, and
    something other than a list of integer arrays.
    """
    label = "4.4"

    def call(N: int, B: int, rng: np.random.Generator) -> list[np.ndarray]:
        try:
            batches = minibatch_indices(N, B, rng)
        except NotImplementedError:
            raise not_done_message(f"Exercise {label} is not done yet: replace the `raise NotImplementedError` "
                                      f"in the exercise cell with your code, run that cell, then this one.") from None
        except Exception as error:
            fail(label, f"your function raised {type(error).__name__}: {error} (N = {N}, batch_size = {B})",
                 "cut rng.permutation(N) into consecutive slices of batch_size")
        if not isinstance(batches, (list, tuple)) or not all(isinstance(b, np.ndarray) and b.ndim == 1 for b in batches):
            fail(label, f"return a list of 1-D index arrays, got {type(batches).__name__}",
                 "e.g. [order[i:i + batch_size] for i in range(0, N, batch_size)]")
        if batches and not all(np.issubdtype(b.dtype, np.integer) for b in batches):
            fail(label, "the batches must hold integer indices (usable as X[batch])", "rng.permutation(N) gives integers")
        return list(batches)

    for N, B in ((10, 3), (20, 4), (10, 1), (10, 10), (7, 7), (1, 1), (11, 5)):
        batches = call(N, B, np.random.default_rng(N * 100 + B))
        where = f"(N = {N}, batch_size = {B})"
        together = np.concatenate(batches) if batches else np.array([], dtype=int)
        if len(np.unique(together)) < len(together):
            fail(label, f"an example appears twice in one epoch {where}: you sampled with replacement",
                 "an epoch is a permutation: every example exactly once (rng.permutation, not rng.integers or rng.choice)")
        if len(together) < N:
            missing = N - len(together)
            extra = " (the last, partial batch was dropped)" if missing == N % B else ""
            fail(label, f"{missing} of the {N} examples are never used {where}{extra}",
                 "keep the leftover batch of N mod batch_size examples; range(0, N, batch_size) reaches it")
        if not np.array_equal(np.sort(together), np.arange(N)):
            fail(label, f"the indices are not 0..{N - 1} {where}", "use rng.permutation(N)")
        sizes = [len(b) for b in batches]
        expected_sizes = [B] * (N // B) + ([N % B] if N % B else [])
        if sizes != expected_sizes:
            fail(label, f"batch sizes {sizes} {where}, expected {expected_sizes}",
                 "consecutive slices of the permutation: all of batch_size except possibly the last")
        if N >= 10 and B < N and np.array_equal(together, np.arange(N)):
            fail(label, f"the examples come in their stored order {where}: nothing is shuffled",
                 "draw a new order every epoch with rng.permutation(N)")
    first = [b.copy() for b in call(20, 4, np.random.default_rng(0))]
    again = call(20, 4, np.random.default_rng(0))
    if not all(np.array_equal(a, b) for a, b in zip(first, again)):
        fail(label, "two calls with generators of the same seed gave different batches: your order does not come from rng",
             "use the rng argument (rng.permutation), not np.random.shuffle / np.random.permutation (global state)")
    rng = np.random.default_rng(1)
    epoch_one, epoch_two = np.concatenate(call(20, 4, rng)), np.concatenate(call(20, 4, rng))
    if np.array_equal(epoch_one, epoch_two):
        fail(label, "two epochs drawn from the same rng came out in the same order",
             "do not create or reseed a generator inside the function; draw from the one passed in")
    return passed(label, "every example once per epoch, in a fresh order drawn from rng, with a short last batch.")
