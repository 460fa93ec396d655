"""Checks for chapter 02: neurons, perceptrons and multilayer perceptrons.

Each check prints one success line or raises ExerciseFailed with a diagnosis and a hint.

- 2.1 :func:`check_layer_forward`: a layer a = sigmoid(x W + b) on a batch.
- 2.2 :func:`check_perceptron_update`: one step of the perceptron rule.
- 2.3 :func:`check_perceptron_training`: the whole training loop, run on several data sets.
- 2.4 :func:`check_convergence_prediction`: predictions about the perceptron, then the experiment.
- 2.5 :func:`check_xor_network`: hand-chosen weights of a 2-2-1 step network for XOR.
- 2.6 :func:`check_mlp_forward`: the forward pass of an MLP given as (W, b) pairs.
- 2.7 :func:`check_approximating_network`: a ReLU network built by hand to approximate g within a tolerance.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlcore.errors import format_shape
from dlcore.exercises.core import Case, CheckResult, Mistake, check_value, fail, matches, not_done_message, passed
from dlcore.exercises.functions import check_array_function
from dlcore.scratch.activations import sigmoid
from dlcore.scratch.linear import linear_forward
from dlcore.scratch.linear import mlp_forward as linear_mlp_forward
from dlcore.exercises.functions import check_function
from dlcore.exercises.learner import accept, learner_call
from dlcore.scratch import approximation
from dlcore.scratch import perceptron as perceptron_module
from dlcore.scratch.perceptron import (GATES, PerceptronHistory, make_gate, make_separable, novikoff_bound,
                                      perceptron_train, perceptron_update, relu_interpolation_weights)

__all__ = ["check_layer_forward", "check_perceptron_update", "check_perceptron_training", "check_convergence_prediction",
           "check_xor_network", "check_mlp_forward", "check_approximating_network", "REFERENCES"]


def _call(label: str, learner: Callable, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    """Run the learner once; (True, result), or (False, exception) for the engine to report."""
    if not callable(learner):
        fail(label, f"expected a function, got {type(learner).__name__}", "pass the function itself, without calling it")
    try:
        return True, learner(*args, **kwargs)
    except NotImplementedError:
        raise not_done_message(
            f"Exercise {label} is not done yet: replace the `raise NotImplementedError` in the exercise "
            f"cell with your code, run that cell, then this one."
        ) from None
    except Exception as error:  # reported by the caller with context
        return False, error


# ---------------------------------------------------------------- 2.1

def _layer_reference(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    return sigmoid(x @ W + b)


_LAYER_MISTAKES = (
    (lambda x, W, b: sigmoid(W @ x + b),
     "you computed W @ x: with examples as the rows of x (N, D) and W of shape (D, M), the product is x @ W"),
    (lambda x, W, b: sigmoid(x @ W.T + b), "you multiplied by W.T: W is stored as (D, M), so x @ W needs no transpose"),
    (lambda x, W, b: sigmoid(x @ W + b[:, None]),
     "the bias is broadcast along the wrong axis: b[:, None] adds b[n] to row n; b (M,) must add b[m] to column m, "
     "which plain x @ W + b does"),
    (lambda x, W, b: sigmoid(x @ W), "the bias is missing: a = sigmoid(x @ W + b)"),
    (lambda x, W, b: sigmoid(x @ W - b), "the bias has the wrong sign: z = x @ W + b"),
    (lambda x, W, b: x @ W + b, "you returned z = x @ W + b, without the activation: apply sigmoid to z"),
    (lambda x, W, b: (x @ W + b > 0).astype(float),
     "you used a step function; this layer's activation is the sigmoid (dlcore.scratch.sigmoid)"),
    (lambda x, W, b: sigmoid(x @ W) + b, "you added the bias after the activation: it belongs inside, sigmoid(x @ W + b)"),
)


def _layer_diagnosis(got: np.ndarray, expected: np.ndarray, case: Case) -> str | None:
    x, W, b = case.args
    for candidate, message in _LAYER_MISTAKES:
        if matches(lambda: candidate(x, W, b), got):
            return f"{message} (on {case.describe()})"
    return None


def check_layer_forward(layer_forward: Callable) -> None:
    """Exercise 2.1: ``layer_forward(x, W, b)`` returns sigmoid(x W + b), shape (N, M).

    Recognises: W @ x or x @ W.T instead of x @ W; the bias missing, subtracted, added after the
    activation, or broadcast along the wrong axis (b[:, None]); no activation or a step instead
    of the sigmoid; the output transposed to (M, N); the unit axis squeezed away for M = 1; the
    input modified in place.
    """
    label = "2.1"
    rng = np.random.default_rng(21)
    shapes = [(3, 3, 3, "a square batch"), (4, 3, 2, "a batch"), (1, 2, 1, "a batch of one"),
              (5, 2, 1, "a layer with one unit")]
    cases = []
    for N, D, M, what in shapes:
        x, W, b = rng.normal(size=(N, D)), rng.normal(size=(D, M)), rng.normal(size=M)
        cases.append(Case((x, W, b), description=f"{what}: x {format_shape(x.shape)}, W {format_shape(W.shape)}, "
                                                 f"b {format_shape(b.shape)}"))
    for case in cases:
        ok, got = _call(label, layer_forward, *(np.array(a, copy=True) for a in case.args))
        if not ok or got is None:
            continue  # the engine below reports exceptions and None with the case
        shape = np.shape(got)
        N, M = case.args[0].shape[0], case.args[1].shape[1]
        if shape == (N, M):
            continue
        if shape == (M, N):
            fail(label, f"your output has shape {format_shape(shape)}, the transpose of (N, M) = "
                         f"{format_shape((N, M))} (on {case.describe()})",
                  "one row per example and one column per unit: compute x @ W, not W.T @ x.T")
        if M == 1 and shape == (N,):
            fail(label, f"your output has shape {format_shape(shape)}, expected (N, 1) = {format_shape((N, 1))} "
                         f"(on {case.describe()})",
                  "a layer with one unit still returns a column: do not ravel() or squeeze() the result")
        if shape == (M,):
            fail(label, f"your output has shape {format_shape(shape)}: one value per unit instead of a row per "
                         f"example (on {case.describe()})", "do not sum over the batch or use only x[0]")
    check_array_function(
        label, layer_forward, _layer_reference, cases, diagnoses=[_layer_diagnosis],
        hint="x is (N, D) with one example per row, W is (D, M), b is (M,): z = x @ W + b broadcasts b over "
             "the rows by itself; then a = sigmoid(z)",
        success="a = sigmoid(x @ W + b), shape (N, M), for square, rectangular and one-row batches.",
    )


# ---------------------------------------------------------------- 2.2

def _update_cases() -> list[Case]:
    def case(x, y, w, b, lr, what):
        return Case((np.array(x, float), y, np.array(w, float), float(b), lr), description=what)
    return [
        case([1.0, 2.0], 1, [0.0, 0.0], 0.0, 1.0, "a class-1 point exactly on the boundary (z = 0) from w = 0, b = 0"),
        case([2.0, -1.0], 1, [0.5, 1.0], -1.0, 1.0, "a misclassified class-1 point (z = -1)"),
        case([1.0, 2.0], 0, [1.0, 0.5], 0.5, 1.0, "a misclassified class-0 point (z = 2.5)"),
        case([1.0, 1.0], 1, [1.0, 1.0], 0.0, 1.0, "a correctly classified class-1 point (z = 2)"),
        case([-1.0, 0.5], 0, [1.0, 1.0], 0.0, 1.0, "a correctly classified class-0 point (z = -0.5)"),
        case([1.0, 2.0], 0, [0.0, 0.0], 0.0, 1.0, "a class-0 point exactly on the boundary (z = 0)"),
        case([1.0, -2.0, 0.5], 1, [0.2, 0.3, -0.4], 0.1, 0.5, "a misclassified point in 3-D with learning_rate 0.5"),
    ]


def _packed_reference(x, y, w, b, lr):
    w_new, b_new = perceptron_update(x, y, w, b, lr)
    return np.append(w_new, b_new)


def _update_diagnosis(got: np.ndarray, expected: np.ndarray, case: Case) -> str | None:
    x, y, w, b, lr = case.args
    z = float(x @ w + b)
    error = y - int(z > 0)
    old = np.append(w, b)
    where = f" (on {case.describe()})"
    if z == 0:
        flipped = np.append(w + lr * (y - 1) * x, b + lr * (y - 1))
        if matches(lambda: flipped, got):
            return ("you treated z = 0 as class 1; the course's step is strict, step(0) = 0, so a point on the line "
                    "counts as class 0" + where)
    if error == 0 and not np.allclose(got, old):
        return ("you changed (w, b) although this point is already classified correctly; the rule multiplies by "
                "(y - y_hat), which is 0 for a correct point" + where)
    candidates = (
        (np.append(w - lr * error * x, b - lr * error), "sign error: you moved (w, b) away from the point's class; "
         "the rule is w + lr (y - y_hat) x"),
        (np.append(w + lr * error * x, b), "you forgot the bias: it is updated too, b + lr (y - y_hat)"),
        (np.append(w + lr * (y - z) * x, b + lr * (y - z)), "you used z = w . x + b instead of the prediction "
         "y_hat = step(z) (that is the delta rule of ADALINE, not the perceptron)"),
        (np.append(w + error * x, b + error), "you ignored learning_rate"),
        (np.append(lr * error * x, lr * error), "you returned the change (dw, db), not the new (w + dw, b + db)"),
        (np.append(w + lr * error * x, b + lr * error * x.sum()), "the bias's input is the constant 1, so its change "
         "is lr (y - y_hat), not lr (y - y_hat) sum(x)"),
    )
    for candidate, message in candidates:
        if matches(lambda: candidate, got):
            return message + where
    return None


def check_perceptron_update(perceptron_update_fn: Callable) -> None:
    """Exercise 2.2: ``perceptron_update(x, y, w, b, learning_rate)`` returns the new (w, b).

    Recognises: a sign error; updating a correctly classified point; forgetting the bias or
    updating it by sum(x); using z instead of step(z) (the delta rule); ignoring the learning
    rate; returning the change instead of the new weights; step(0) treated as 1; changing w in
    place (w += ...); returning something other than a pair (w_new, b_new).
    """
    label = "2.2"
    cases = _update_cases()
    first = cases[1]
    ok, got = _call(label, perceptron_update_fn, *(np.array(a, copy=True) if isinstance(a, np.ndarray) else a
                                                   for a in first.args))
    if ok:
        if got is None:
            fail(label, "your function returned None", "did you forget the `return w_new, b_new`?")
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            fail(label, f"your function returned {type(got).__name__}, expected a pair (w_new, b_new)",
                  "end with `return w_new, b_new`")
        w_new, b_new = got
        if np.shape(w_new) != first.args[2].shape:
            fail(label, f"w_new has shape {format_shape(np.shape(w_new))}, expected {format_shape(first.args[2].shape)} "
                         f"like w (on {first.describe()})", "w_new = w + learning_rate * (y - y_hat) * x")
        if np.ndim(b_new) != 0:
            fail(label, f"b_new has shape {format_shape(np.shape(b_new))}, expected a number", "one neuron has one bias")

    def packed(x, y, w, b, lr):
        w_new, b_new = perceptron_update_fn(x, y, w, b, lr)
        return np.append(np.asarray(w_new, dtype=np.float64), float(b_new))

    check_array_function(
        label, packed, _packed_reference, cases, diagnoses=[_update_diagnosis],
        hint="y_hat = 1 if w . x + b > 0 else 0; then w + lr (y - y_hat) x and b + lr (y - y_hat), as new arrays",
        success="the update fires only on mistakes, towards the point's class, bias included.",
    )


# ---------------------------------------------------------------- 2.3

def _train_variant(X, y, lr, max_epochs, seed, *, mistake: str = "") -> tuple:
    """The reference loop, or one typical mistake in it; returns (weights, biases, mistakes, converged)."""
    N, D = X.shape
    targets = (np.asarray(y) > 0).astype(int)
    rng = None if seed is None else np.random.default_rng(seed)
    w, b = np.zeros(D), 0.0
    weights, biases, counts = [w if mistake == "weights-not-copied" else w.copy()], [b], []
    order = np.arange(N)
    for epoch in range(max_epochs):
        if mistake != "shuffles-once" or epoch == 0:
            order = rng.permutation(N) if rng is not None else np.arange(N)
        count = 0
        for i in order:
            z = X[i] @ w + b
            y_hat = int(z >= 0) if mistake == "step-at-zero" else int(z > 0)
            error = targets[i] - y_hat
            if mistake == "labels-not-converted":
                error = y[i] - y_hat
            if error != 0:
                if mistake == "weights-not-copied":
                    w += lr * error * X[i]  # changes the array already in the history
                else:
                    w = w + lr * error * X[i]
                b = b if mistake == "bias-never-updated" else b + lr * error
                count += 1
        if mistake == "clean-epoch-dropped" and count == 0:
            break
        weights.append(w if mistake == "weights-not-copied" else w.copy())
        biases.append(b)
        counts.append(count)
        if count == 0 and mistake != "no-early-stop":
            break
    return (np.array(weights), np.array(biases), np.array(counts, dtype=float), float(bool(counts) and counts[-1] == 0))


def _training_cases() -> list[Case]:
    rng = np.random.default_rng(23)
    X_sep, y_sep = make_separable(40, 0.05, rng=rng, w=np.array([1.0, -0.6]), b=0.3)
    X_3d = rng.uniform(-1.0, 1.0, size=(60, 3))
    z_3d = X_3d @ np.array([0.5, 1.0, -1.0]) - 0.2
    X_3d, y_3d = X_3d[np.abs(z_3d) > 0.1][:30], (z_3d[np.abs(z_3d) > 0.1][:30] > 0).astype(int)  # a margin of 0.1
    X_and, y_and = make_gate("AND")
    X_xor, y_xor = make_gate("XOR")
    return [
        Case((X_and, y_and, 1.0, 20, None), description="the AND gate, rows in the given order (rng=None)"),
        Case((X_sep, y_sep, 1.0, 100, 7), description="40 separable points, shuffled by default_rng(7) each epoch"),
        Case((X_3d, 2 * y_3d - 1, 0.5, 100, 3), description="30 points in 3-D, labels in {-1, +1}, learning_rate 0.5"),
        Case((X_xor, y_xor, 1.0, 6, None), description="XOR for at most 6 epochs (it never converges)"),
    ]


def _history_tuple(history: Any) -> tuple:
    if not isinstance(history, PerceptronHistory):
        raise TypeError(f"it returned {type(history).__name__}, expected a PerceptronHistory")
    return (np.asarray(history.weights, dtype=float), np.asarray(history.biases, dtype=float),
            np.asarray(history.mistakes, dtype=float), float(bool(history.converged)))


def check_perceptron_training(train: Callable) -> CheckResult:
    """Exercise 2.3: ``perceptron_train(X, y, learning_rate, max_epochs, rng)`` returns a PerceptronHistory.

    Runs the learner's loop and the course's on the same data (the same shuffles) and
    compares the weights and bias after every epoch, the mistakes per epoch and the
    verdict. Recognises: step(0) taken as 1, the bias never updated, shuffling once
    instead of every epoch, no stop after a clean epoch, the clean epoch not recorded,
    and {-1, +1} labels used as they are.
    """
    label = "2.3"
    if not callable(train):
        fail(label, f"expected a function, got {type(train).__name__}", "pass the function itself, without calling it")

    def run(X, y, lr, max_epochs, seed):
        rng = None if seed is None else np.random.default_rng(seed)
        return _history_tuple(train(X, y, learning_rate=lr, max_epochs=max_epochs, rng=rng))

    messages = {
        "step-at-zero": "you predicted class 1 at z = 0; the course's step is strict, so a point on the line is class 0 "
                        "(from w = 0 the very first example shows it)",
        "bias-never-updated": "your bias never moves: the boundary is stuck through the origin",
        "shuffles-once": "you shuffled once, before the first epoch; draw a new order (rng.permutation(N)) in every epoch",
        "no-early-stop": "you went on after an epoch without mistakes; stop there: the data are separated",
        "clean-epoch-dropped": "you stopped before recording the clean epoch: it belongs in the history, with 0 mistakes",
        "labels-not-converted": "with labels in {-1, +1}, y − ŷ can be −2; map the labels to {0, 1} first (−1 means class 0)",
        "weights-not-copied": "every row of your weights history is the final w: you appended the same array and then "
                              "changed it in place (w += ...); append a copy, or build a new array with w = w + ...",
    }
    mistakes = [Mistake(key, (lambda X, y, lr, e, seed, key=key: _train_variant(X, y, lr, e, seed, mistake=key)), text)
                for key, text in messages.items()]
    check_function(label, run, _train_variant, _training_cases(), name="perceptron_train",
                   outputs=("weights", "biases", "mistakes", "converged"), mistakes=mistakes,
                   forbid=[perceptron_module.perceptron_train], report=False,
                   hint="start from zeros; each epoch, visit rng.permutation(N) (or 0..N-1 for rng=None), update on "
                        "every mistake, record w, b and the count after the epoch, and stop after a clean one")
    accept("perceptron_train", train, label)
    return passed(label, "same weights after every epoch, same mistakes, same verdict as the course's loop; "
                         "the rest of the chapter trains with yours.")


# ---------------------------------------------------------------- 2.4

def check_convergence_prediction(predict: Callable) -> None:
    """Exercise 2.4: ``predict()`` returns (converges on AND?, converges on XOR?, Novikoff bound for AND).

    The check runs the perceptron on AND and XOR (20 shuffled orders each) and computes the bound
    (R / gamma)^2 for the separator w* = (2, 2), b* = -3 with the bias folded in. Recognises flags
    that contradict the runs, and bounds that leave the bias out of R, normalise the margin by ||w||
    only, forget to normalise it, or forget to square R / gamma.
    """
    label = "2.4"
    ok, got = _call(label, predict)
    if not ok:
        fail(label, f"your function raised {type(got).__name__}: {got}", "return a tuple (bool, bool, number)")
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        fail(label, f"expected a tuple (and_converges, xor_converges, and_bound), got {got!r}")
    and_flag, xor_flag, bound = got
    for name, flag in (("and_converges", and_flag), ("xor_converges", xor_flag)):
        if not isinstance(flag, (bool, np.bool_)):
            fail(label, f"{name} should be True or False, got {flag!r}")
    if isinstance(bound, (bool, np.bool_)) or not isinstance(bound, (int, float, np.integer, np.floating)):
        fail(label, f"and_bound should be a number, got {bound!r}")

    runs = {}
    for gate in ("AND", "XOR"):
        X, y = make_gate(gate)
        runs[gate] = [perceptron_train(X, y, max_epochs=100, rng=np.random.default_rng(seed)) for seed in range(20)]
    and_converges = all(run.converged for run in runs["AND"])
    xor_converges = any(run.converged for run in runs["XOR"])
    X, y = make_gate("AND")
    w_star, b_star = np.array([2.0, 2.0]), -3.0
    R, gamma, expected_bound = novikoff_bound(X, y, w_star, b_star)
    most_updates = max(run.total_updates for run in runs["AND"])
    xor_last = min(int(run.mistakes[-1]) for run in runs["XOR"])

    if bool(and_flag) != and_converges:
        fail(label, f"you predicted and_converges = {bool(and_flag)}, but the perceptron converged on AND in every one "
                     f"of 20 runs, within {most_updates} updates",
              "AND is linearly separable (w* = (2, 2), b* = -3 separates it), so the convergence theorem applies",
              mistake="and-called-non-converging" if and_converges else "and-called-converging")
    if bool(xor_flag) != xor_converges:
        fail(label, f"you predicted xor_converges = {bool(xor_flag)}, but after 100 epochs every run still made "
                     f"at least {xor_last} mistake{'s' if xor_last > 1 else ''} per epoch",
              "no line separates XOR, and an epoch without mistakes would be such a line",
              mistake="xor-called-converging" if not xor_converges else "xor-called-non-converging")
    signs = 2 * y - 1
    margins = signs * (X @ w_star + b_star)  # unnormalised
    R2_no_bias = float(np.max(np.sum(X**2, axis=1)))
    gamma_w_only = float(margins.min() / np.linalg.norm(w_star))
    wrong_bounds = (
        (R2_no_bias / gamma**2, "you left the bias out of R: with the bias folded in, x~ = (x1, x2, 1), so R^2 = "
                                "max ||x~||^2 includes the 1"),
        (R**2 / gamma_w_only**2, "you normalised the margin by ||w|| only; the theorem folds the bias in, so divide "
                                 "by ||(w, b)|| = sqrt(w1^2 + w2^2 + b^2)"),
        (R2_no_bias / gamma_w_only**2, "both R and the margin left the bias out; fold it in: x~ = (x, 1), u = (w, b)"),
        (R**2 / float(margins.min()) ** 2, "your margin is not normalised: gamma = min s_i (w . x_i + b) / ||(w, b)||"),
        (R / gamma, "you forgot to square: the bound is (R / gamma)^2"),
        (gamma**2 / R**2, "the bound is (R / gamma)^2, not (gamma / R)^2"),
    )

    def explain(got_tuple, expected_tuple) -> str | None:
        value = float(got_tuple[2])
        for candidate, message in wrong_bounds:
            if np.isclose(value, candidate, rtol=1e-3):
                return f"and_bound = {value:.4g}: {message}"
        return None

    check_value(
        label, (bool(and_flag), bool(xor_flag), float(bound)), (and_converges, xor_converges, expected_bound),
        name="your prediction", diagnoses=[explain], rtol=1e-3,
        hint="R = max ||(x, 1)|| over the four corners; gamma = min s_i ((w*, b*) . (x_i, 1)) / ||(w*, b*)||",
        success=(f"AND converged in all 20 runs, at most {most_updates} updates against the bound "
                 f"(R / gamma)^2 = {expected_bound:.1f}; XOR still made {xor_last} or more mistakes per epoch "
                 f"after 100 epochs."),
    )


# ---------------------------------------------------------------- 2.5

def _gate_name(table: np.ndarray) -> str | None:
    for name, column in GATES.items():
        if tuple(int(v) for v in table) == column:
            return name
    named = {(0, 0, 0, 0): "constant 0", (1, 1, 1, 1): "constant 1", (0, 0, 1, 1): "x1", (0, 1, 0, 1): "x2",
             (1, 1, 0, 0): "NOT x1", (1, 0, 1, 0): "NOT x2"}
    return named.get(tuple(int(v) for v in table))


_GATE_ADVICE = {
    "OR": "It also fires on (1, 1); the output must be off when both inputs are on (use an OR unit and a NAND unit, "
          "and let the output unit compute their AND)",
    "AND": "It fires only on (1, 1); XOR needs the points where exactly one input is on",
    "XNOR": "That is XOR negated: negate the output unit (W2 -> -W2, b2 -> -b2)",
    "NAND": "It is on for (0, 0) too; XOR must be off there",
    "NOR": "It fires only on (0, 0)",
    "constant 0": "The output unit never fires: its bias is too negative for the hidden values it gets",
    "constant 1": "The output unit always fires: its bias is too large",
}


def _forward(W1, b1, W2, b2, X, strict=True):
    fire = (lambda z: z > 0) if strict else (lambda z: z >= 0)
    hidden = fire(linear_forward(X, W1, b1)[0]).astype(np.float64)  # (4, 2)
    out = fire(linear_forward(hidden, W2, b2)[0]).astype(np.int64)  # (4, 1)
    return hidden, out[:, 0]


def check_xor_network(xor_network: Callable) -> None:
    """Exercise 2.5: ``xor_network()`` returns W1 (2, 2), b1 (2,), W2 (2, 1), b2 (1,) of a step network for XOR.

    The check runs the truth table through step(x W1 + b1), step(h W2 + b2). Recognises networks
    computing OR, AND, XNOR, NAND, NOR, a constant or a single input instead; names what the hidden
    units compute; catches wrong shapes (W2 as (2,) or (1, 2)) and answers that work only because
    step(0) = 0 (a point exactly on a unit's threshold).
    """
    label = "2.5"
    ok, got = _call(label, xor_network)
    if not ok:
        fail(label, f"your function raised {type(got).__name__}: {got}", "it takes no arguments and returns W1, b1, W2, b2")
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        fail(label, f"your function returned {type(got).__name__}, expected four arrays (W1, b1, W2, b2)",
              "end with `return W1, b1, W2, b2`")
    names, wanted = ("W1", "b1", "W2", "b2"), ((2, 2), (2,), (2, 1), (1,))
    arrays = []
    for name, value, shape in zip(names, got, wanted):
        array = np.asarray(value, dtype=np.float64)
        if array.shape != shape:
            fail(label, f"{name} has shape {format_shape(array.shape)}, expected {format_shape(shape)}",
                  "the course's layers compute x @ W + b with W of shape (inputs, units) and b of shape (units,)")
        if not np.all(np.isfinite(array)):
            fail(label, f"{name} contains nan or inf", "choose finite numbers")
        arrays.append(array)
    X, xor = make_gate("XOR")
    hidden, table = _forward(*arrays, X)
    _, table_ge = _forward(*arrays, X, strict=False)
    units = ", ".join(f"h{j + 1} = {_gate_name(hidden[:, j]) or tuple(int(v) for v in hidden[:, j])}" for j in range(2))
    if np.array_equal(table, xor) and not np.array_equal(table_ge, xor):
        fail(label, "your network gets XOR only because step(0) = 0: some pre-activation is exactly 0 on a corner, "
                     "so the answer flips if the threshold counts as 'on'",
              "move each threshold between the values it separates (e.g. x1 + x2 - 0.5, not x1 + x2 - 1)")

    def explain(got_table, expected_table) -> str | None:
        name = _gate_name(np.asarray(got_table))
        advice = _GATE_ADVICE.get(name or "", "")
        shown = tuple(int(v) for v in got_table)
        what = f"your network computes {name} {shown}" if name else f"your network outputs {shown}"
        return f"{what} on (0,0), (0,1), (1,0), (1,1); XOR is (0, 1, 1, 0). Hidden units: {units}. {advice}".strip()

    check_value(label, table, xor, name="your network's truth table", diagnoses=[explain],
                       hint="XOR = AND(OR, NAND): one hidden unit for OR, one for NAND, an output unit for AND",
                       success=f"XOR on all four corners (hidden units: {units}).")


# ---------------------------------------------------------------- 2.6

def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def _forward_variant(x, layers, activation, *, mistake: str = "") -> tuple:
    outputs, h = [], x
    for index, (W, b) in enumerate(layers):
        z = (h @ W.T if mistake == "w-transposed" else h @ W) + (0.0 if mistake == "bias-missing" else b)
        last = index == len(layers) - 1
        h = z if (mistake == "no-activation-on-output" and last) else activation(z)
        outputs.append(h)
    if mistake == "input-activated":
        outputs, h = [], activation(x)
        for W, b in layers:
            h = activation(h @ W + b)
            outputs.append(h)
    return tuple(outputs)


def _mlp_cases(depth: int) -> list[Case]:
    rng = np.random.default_rng(26 + depth)
    sizes = {1: [3, 2], 2: [3, 4, 2], 3: [2, 5, 3, 1]}[depth]
    layers = [(rng.standard_normal((m, n)), rng.standard_normal(n)) for m, n in zip(sizes[:-1], sizes[1:])]
    described = " -> ".join(map(str, sizes))
    return [Case((rng.standard_normal((5, sizes[0])), layers, np.tanh), description=f"a {described} tanh network, a batch of 5"),
            Case((rng.standard_normal((1, sizes[0])), layers, _relu), description=f"the {described} network with ReLU, a batch of 1")]


def check_mlp_forward(mlp_forward: Callable) -> CheckResult:
    """Exercise 2.6: ``mlp_forward(x, layers, activation)`` returns every layer's output, the network's last.

    Networks of one, two and three layers, tanh and ReLU. Recognises: the activation
    left off the output layer, the activation applied to the input as well, W
    transposed (x W^T: only square layers survive it), the bias forgotten, and only the
    last output returned.
    """
    label = "2.6"
    messages = {
        "no-activation-on-output": "your last layer has no activation; in this exercise every layer, the last included, applies it",
        "input-activated": "you applied the activation to the input x as well; it acts on each layer's z = h W + b",
        "w-transposed": "you multiplied by W transposed; W has shape (inputs, outputs), so it is h @ W",
        "bias-missing": "your layers have no bias: z = h W + b",
    }
    mistakes = [Mistake(key, (lambda x, layers, act, key=key: _forward_variant(x, layers, act, mistake=key)), text)
                for key, text in messages.items()]
    for depth in (1, 2, 3):
        names = tuple(f"h{l}" for l in range(1, depth)) + ("output",)

        def run(x, layers, activation):
            result = mlp_forward(x, layers, activation)
            if isinstance(result, np.ndarray):
                raise TypeError(f"it returned one array; return the list [h1, ..., output] of all {len(layers)} "
                                f"layers' outputs")
            return tuple(result)

        check_function(label, run, _forward_variant, _mlp_cases(depth), name="mlp_forward", outputs=names,
                       mistakes=mistakes, forbid=[linear_mlp_forward], report=False,
                       hint="loop over the (W, b) pairs: h = activation(h @ W + b), keeping every h in a list")
    accept("mlp_forward", mlp_forward, label)
    return passed(label, "every layer's output matches, for one, two and three layers; the XOR network below runs on yours.")


# ---------------------------------------------------------------- 2.7

def _broken_line(g, a, b, K, *, mistake: str = "") -> tuple:
    """The weights of the interpolating network, or of one typical mistake in building them."""
    knots = np.linspace(a, b, K if mistake == "knots-too-few" else K + 1)  # (K + 1,)
    values = np.asarray(g(knots), dtype=np.float64)
    rises = np.diff(values)
    slopes = rises if mistake == "rise-not-slope" else rises / np.diff(knots)  # (K,)
    changes = slopes if mistake == "slopes-not-differenced" else np.diff(slopes, prepend=0.0)
    units = len(slopes)
    corners = knots[1:] if mistake == "knots-off-by-one" else knots[:-1]
    W1 = -np.ones((1, units)) if mistake == "hinge-wrong-side" else np.ones((1, units))
    b1 = corners if mistake in ("hinge-wrong-side", "bias-sign") else -corners
    b2 = np.zeros(1) if mistake == "offset-missing" else values[:1]
    return W1, b1, changes.reshape(units, 1), b2


def _interpolation_variant(g, a, b, K, x, *, mistake: str = "") -> np.ndarray:
    return approximation.network_output(x, *_broken_line(g, a, b, K, mistake=mistake))


def _interpolation_cases() -> list[Case]:
    def case(g, a, b, K, what):
        x = np.linspace(a, b, 8 * K + 1)[:, None]  # the knots and seven points between each pair
        return Case((g, a, b, K, x),
                    description=f"g = {what} on [{a:g}, {b:g}], K = {K}, at {len(x)} points of the interval")
    return [case(np.square, -1.0, 2.0, 3, "x**2"), case(np.exp, 0.0, 1.0, 5, "exp(x)"),
            case(np.cos, 0.0, 3.0, 1, "cos(x)"), case(np.sin, -np.pi, np.pi, 8, "sin(x)")]


def _approximation_variant(g, a, b, tolerance, x, *, mistake: str = "") -> np.ndarray:
    grid = np.linspace(a, b, approximation.GRID_POINTS)[:, None]  # (GRID_POINTS, 1)
    K = 1
    while K <= 4096:
        weights = approximation.interpolating_network(g, a, b, K)
        if mistake == "error-at-knots-only":
            knots = np.linspace(a, b, K + 1)[:, None]
            error = np.abs(approximation.network_output(knots, *weights) - g(knots)).max()
        else:
            difference = approximation.network_output(grid, *weights) - g(grid)
            error = {"mean-error": np.abs(difference).mean(), "signed-error-above": difference.max(),
                     "signed-error-below": (-difference).max()}.get(mistake, np.abs(difference).max())
        if error <= tolerance:
            K = 2 * K if mistake == "one-doubling-too-many" else K
            return approximation.network_output(x, *approximation.interpolating_network(g, a, b, K))
        K *= 2
    raise ValueError("no K up to 4096 pieces meets the tolerance")


def _approximation_cases() -> list[Case]:
    def case(g, a, b, tolerance, what):
        x = np.linspace(a, b, 2 * approximation.GRID_POINTS - 1)[:, None]  # the grid and the midpoints between
        return Case((g, a, b, tolerance, x),
                    description=f"g = {what} on [{a:g}, {b:g}] with tolerance {tolerance:g}")
    # sin first: it lies on both sides of its broken line, so only there is measuring at the knots alone
    # told apart from dropping the absolute value (x**2 and exp lie below it, log above).
    return [case(np.sin, -np.pi, np.pi, 1e-2, "sin(x)"), case(np.square, -1.0, 1.0, 0.3, "x**2"),
            case(np.exp, 0.0, 2.0, 1e-3, "exp(x)"), case(np.log, 1.0, 5.0, 1e-3, "log(x)")]


def _weights_problem(result: Any) -> str:
    """What is wrong with the shapes of a returned (W1, b1, W2, b2), or ""."""
    if not isinstance(result, (tuple, list)) or len(result) != 4:
        count = len(result) if isinstance(result, (tuple, list)) else 1
        return f"it returned {count} value{'s' * (count != 1)}; return the four arrays W1, b1, W2, b2"
    W1, b1, W2, b2 = (np.asarray(value, dtype=np.float64) for value in result)
    if W1.ndim != 2 or W1.shape[0] != 1:
        return (f"W1 has shape {format_shape(W1.shape)}; expected (1, M): one input, M hidden units "
                f"(x @ W1 needs W1.shape[0] == 1)")
    M = W1.shape[1]
    for name, value, shape, meaning in (("b1", b1, (M,), "one bias per hidden unit"),
                                        ("W2", W2, (M, 1), "one column for the single output unit"),
                                        ("b2", b2, (1,), "an array of one bias, e.g. np.array([c])")):
        if value.shape != shape:
            return (f"{name} has shape {format_shape(value.shape)}; expected {format_shape(shape)} with M = {M}: "
                    f"{meaning}")
    return ""


def _network_at(result: Any, x: np.ndarray) -> np.ndarray:
    return approximation.network_output(x, *(np.asarray(value, dtype=np.float64) for value in result))


_INTERPOLATION_MESSAGES = {
    "offset-missing": "your network is off by a constant: at x = a it gives 0 instead of g(a); the output bias b2 "
                      "must start the broken line at g(a), since every hinge is still flat there",
    "slopes-not-differenced": "each of your hinges adds the whole slope of its piece, so the slopes pile up; "
                              "a hinge at t_k keeps working to the right of t_k, so its output weight is only "
                              "the change of slope there",
    "knots-off-by-one": "your hinges sit one knot too far right (at t_1, ..., t_K): the first piece, from t_0 = a, "
                        "never gets its slope; the corners belong at t_0, ..., t_(K-1)",
    "hinge-wrong-side": "your hinges open to the left: relu(t - x) is zero right of t, but with the offset at "
                        "x = a the hinges must be zero left of their knot, relu(x - t)",
    "bias-sign": "your hinges have their corners at -t_k: relu(x + b) bends at x = -b, so the bias of the unit "
                 "for knot t_k is -t_k",
    "rise-not-slope": "you used the rise g(t_(k+1)) - g(t_k) as the slope; divide it by the spacing of the knots",
    "knots-too-few": "you made K knots, i.e. K - 1 pieces; K pieces need K + 1 knots, from a to b",
}

_SIGNED = ("you took the largest signed difference; where the network lies on the other side of g the "
           "difference is negative and hides the error: take np.abs first")
# variant of _approximation_variant -> (mistake id, message); both signs of a signed error are one mistake
_APPROXIMATION_MESSAGES = {
    "signed-error-above": ("error-not-absolute", _SIGNED),
    "signed-error-below": ("error-not-absolute", _SIGNED),
    "error-at-knots-only": ("error-at-knots-only", "you measured the error at the knots, where the broken line "
                            "equals g by construction, so one piece always looks exact; measure it on the grid "
                            "np.linspace(a, b, 1001)"),
    "one-doubling-too-many": ("one-doubling-too-many", "you return the network after doubling K once more than "
                              "needed: return the first K whose error is within the tolerance"),
    "mean-error": ("mean-error", "you compared the mean error with the tolerance; the promise is for every x, so use "
                   "the largest error (max), not the mean"),
}


def check_approximating_network(interpolating_network: Callable, approximating_network: Callable) -> CheckResult:
    """Exercise 2.7: a ReLU network built by hand that approximates g on [a, b] within a tolerance.

    ``interpolating_network(g, a, b, K)`` returns W1 (1, M), b1 (M,), W2 (M, 1), b2 (1,) of a network
    relu(x W1 + b1) W2 + b2 equal on [a, b] to the broken line through g at K + 1 equally spaced knots
    (any construction: left or right hinges, hats, ...); it is judged by its outputs on the interval.
    ``approximating_network(g, a, b, tolerance)`` returns the one with the fewest pieces K = 1, 2, 4, ...
    whose largest error on np.linspace(a, b, 1001) is within the tolerance, judged the same way.
    Recognises: the output bias g(a) missing, slopes not differenced, hinges one knot off, hinges open
    to the wrong side, corners at -t_k, the rise used as the slope, K knots instead of K + 1; the error
    measured at the knots only, with the mean, or without the absolute value; one doubling too many.
    """
    label = "2.7"
    forbidden = [approximation.interpolating_network, approximation.approximating_network,
                 relu_interpolation_weights]

    def shapes(function: Callable, name: str, *arguments: Any) -> None:
        problem = _weights_problem(learner_call(label, function, *arguments, name=name))
        if problem:
            fail(label, f"your {name} returns the wrong shapes: {problem}",
                 "the network is relu(x @ W1 + b1) @ W2 + b2 for a batch x of shape (N, 1)")

    def interpolation(g, a, b, K, x):
        return _network_at(interpolating_network(g, a, b, K), x)

    shapes(interpolating_network, "interpolating_network", np.sin, 0.0, 1.0, 3)
    interpolation_mistakes = [Mistake(key, (lambda *args, key=key: _interpolation_variant(*args, mistake=key)), text)
                              for key, text in _INTERPOLATION_MESSAGES.items()]
    check_function(label, interpolation, _interpolation_variant, _interpolation_cases(),
                   name="interpolating_network",
                   mistakes=interpolation_mistakes, forbid=forbidden, report=False, atol=1e-9,
                   hint="the network is g(a) plus one hinge relu(x - t_k) per piece; the hinge at t_k bends the "
                        "line there by its output weight")
    # The first function is used on its own even if the second fails; the notice says which part passed.
    accept("interpolating_network", interpolating_network, f"{label}'s first part")

    def approximation_run(g, a, b, tolerance, x):
        return _network_at(approximating_network(g, a, b, tolerance), x)

    def too_far_or_too_many(got, expected, case) -> str | None:
        g, a, b, tolerance, x = case.args
        error = float(np.abs(got - g(x)).max())
        if error > tolerance:
            return (f"your network's largest error on [a, b] is {error:.3g}, above the tolerance {tolerance:g} "
                    f"(on {case.describe()})")
        return (f"your network is within the tolerance but is not the broken line with the fewest pieces "
                f"K = 1, 2, 4, ... that meets it on np.linspace(a, b, 1001) (on {case.describe()})")

    shapes(approximating_network, "approximating_network", np.sin, 0.0, 1.0, 0.1)
    approximation_mistakes = [Mistake(mistake_id, (lambda *args, key=key: _approximation_variant(*args, mistake=key)),
                                      text) for key, (mistake_id, text) in _APPROXIMATION_MESSAGES.items()]
    check_function(label, approximation_run, _approximation_variant, _approximation_cases(),
                   name="approximating_network",
                   mistakes=approximation_mistakes, diagnoses=[too_far_or_too_many], forbid=forbidden,
                   report=False, atol=1e-9,
                   hint="try K = 1, 2, 4, ... in turn: build the network, measure its largest error on the "
                        "grid, and return the first one within the tolerance")
    accept("approximating_network", approximating_network, label)
    accept("interpolating_network", interpolating_network, label)
    return passed(label, "your networks equal the broken line through g on [a, b] and stop at the fewest pieces "
                         "that meet the tolerance; the rest of this section runs on them.")


REFERENCES = {"2.3": (perceptron_module.perceptron_train,), "2.6": (linear_mlp_forward,),
              "2.7": (approximation.interpolating_network, approximation.approximating_network,
                      relu_interpolation_weights)}
