"""Checks for chapter 05's exercises (backpropagation).

- 5.1 derive the backward rule of multiplication          -> :func:`check_mul_backward`
- 5.2 predict the gradients of an expression that reuses a value -> :func:`check_reused_prediction`
- 5.3 implement the backward pass of a two-layer network -> :func:`check_two_layer_backward`
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlcore.articles.article_001_xor import TwoLayerCache, backward_fixed, forward_fixed
from dlcore.errors import format_shape
from dlcore.exercises.core import not_done_message
from dlcore.exercises.core import CheckResult, check_value, fail, passed
from dlcore.scratch.activations import sigmoid
from dlcore.scratch.autograd import BACKWARD_RULES, Value, backward

__all__ = [
    "check_two_layer_backward", "make_two_layer_cache", "check_mul_backward", "reused_expression",
    "measure_reused_gradients", "check_reused_prediction",
]


def _call(label: str, learner: Callable, *args: Any) -> Any:
    """Run the learner; NotImplementedError says 'not done yet', any other error is reported."""
    if not callable(learner):
        fail(label, f"expected a function, got {type(learner).__name__}", "pass the function itself, without calling it")
    try:
        return learner(*args)
    except NotImplementedError:
        raise not_done_message(
            f"Exercise {label} is not done yet: replace the `raise NotImplementedError` in the exercise "
            f"cell with your code, run that cell, then this one."
        ) from None
    except Exception as error:  # the learner's bug, reported rather than crashing the check
        fail(label, f"your function raised {type(error).__name__}: {error}", "")


def _close(got: np.ndarray, want: np.ndarray) -> bool:
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=1e-6, atol=1e-10))


# ---------------------------------------------------------------- 5.3 two-layer backward

def make_two_layer_cache(N: int, D: int, Hh: int, seed: int = 0) -> TwoLayerCache:
    """A forward pass of the chapter's network (sigmoid hidden, sigmoid output, mean BCE) on random data."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D))
    y = (rng.random((N, 1)) < 0.5).astype(np.float64)
    W1, b1 = rng.standard_normal((D, Hh)), 0.5 * rng.standard_normal(Hh)
    W2, b2 = rng.standard_normal((Hh, 1)), 0.5 * rng.standard_normal(1)
    return forward_fixed(x, y, W1, b1, W2, b2)[1]


_NAMES = ("dW1", "db1", "dW2", "db2")


def _two_layer_mistakes(cache: TwoLayerCache) -> list[tuple[dict, str]]:
    """Gradients as each plausible mistake would compute them, with what to say about it."""
    x, y, z1, h, W1, W2, p = cache
    N = x.shape[0]

    def grads(delta2, slope, layer2_input=h):
        delta1 = (delta2 @ W2.T) * slope
        return {"dW1": x.T @ delta1, "db1": delta1.sum(axis=0), "dW2": layer2_input.T @ delta2, "db2": delta2.sum(axis=0)}

    delta2, slope = (p - y) / N, h * (1 - h)
    return [
        (grads(p - y, slope), f"your gradients are N = {N} times too large: the loss is a mean over the batch, "
                              "so the output delta is (p − y) / N"),
        (grads(-delta2, slope), "the sign is flipped: the output delta is dL/ds = (p − y)/N, not (y − p)/N"),
        (grads(delta2, 1.0), "the hidden layer's activation derivative is missing: delta1 = (delta2 @ W2.T) * σ'(z1), "
                             "with σ'(z1) = h (1 − h)"),
        (grads(delta2, sigmoid(h) * (1 - sigmoid(h))),
         "you applied the sigmoid to h again, σ(h)(1 − σ(h)) (article 001's mistake): the derivative is taken at the "
         "pre-activation, σ'(z1) = h (1 − h), with h = σ(z1) already computed"),
        (grads(delta2, z1 * (1 - z1)), "σ'(z1) is h (1 − h) with h = σ(z1); you wrote z1 (1 − z1)"),
        (grads(delta2, 1 - h**2), "1 − h² is tanh's derivative; this network's hidden activation is the sigmoid, "
                                  "whose derivative is h (1 − h)"),
        (grads(delta2, slope, layer2_input=z1), "dW2 multiplies what entered layer 2, h = σ(z1), not z1: dW2 = h.T @ delta2"),
        (grads(delta2 * p * (1 - p), slope),
         "the output delta of a sigmoid followed by cross-entropy is (p − y)/N: the sigmoid's derivative p(1 − p) "
         "has already cancelled against the log's 1/(p(1 − p)); you multiplied by it again"),
    ]


def _shape_problem(name: str, got: tuple, want: tuple, N: int) -> str:
    weight = {"dW1": "W1 (D, Hh)", "dW2": "W2 (Hh, 1)"}.get(name)
    if weight and got == want[::-1]:
        return (f"{name} has shape {format_shape(got)}, the transpose of {weight}: the weight gradient is "
                f"(layer input).T @ delta, e.g. dW1 = x.T @ delta1, which has the shape of the weight")
    if name.startswith("db") and got == (1,) + want:
        return (f"{name} has shape {format_shape(got)} but the bias has shape {format_shape(want)}: sum over the "
                f"batch without keepdims=True (a (1, M) gradient only 'works' because NumPy broadcasts it)")
    if name.startswith("db") and got == (N,):
        return (f"{name} has shape ({N},): you summed over axis 1 (the units) instead of axis 0 (the examples); "
                f"the bias is shared by all N examples, so its gradient sums over them")
    if name.startswith("db") and len(got) == 2 and got[0] == N:
        return f"{name} has shape {format_shape(got)}: sum the delta over the batch axis, delta.sum(axis=0)"
    return f"{name} has shape {format_shape(got)} but should have {format_shape(want)}, the shape of {name[1:]}"


def check_two_layer_backward(two_layer_backward: Callable[[TwoLayerCache], tuple]) -> CheckResult:
    """Exercise 5.3: ``two_layer_backward(cache)`` returns (dW1, db1, dW2, db2) of the mean cross-entropy.

    Tried on three batches (N, D, Hh) = (5, 3, 4), (1, 2, 3) and the square (4, 4, 4), against
    :func:`dlcore.articles.article_001_xor.backward_fixed`. Recognises: not four arrays, the
    gradients in another order, a transposed dW (by shape, and on the square case by value), a
    (1, M) bias gradient (keepdims), db summed over the wrong axis or not at all, a missing 1/N,
    a flipped sign, a missing hidden activation derivative, the derivative taken at the
    activation (article 001's bug), z1 (1 - z1), tanh's 1 - h^2, dW2 from z1 instead of h,
    sigma' applied twice at the output, and changing the cache in place.
    """
    label = "5.3"
    hint = ("work from the output back, as in the derivation: delta2 = dL/ds (N, 1), then dW2 and db2, then "
            "dL/dh = delta2 @ W2.T, then delta1 = dL/dz1, then dW1 and db1; check each shape as you go.")
    for N, D, Hh in ((5, 3, 4), (1, 2, 3), (4, 4, 4)):
        cache = make_two_layer_cache(N, D, Hh, seed=N + 10 * D)
        copies = [np.array(field, copy=True) for field in cache]
        result = _call(label, two_layer_backward, cache)
        where = f"(on a batch with N={N}, D={D}, Hh={Hh})"
        for field, original, name in zip(cache, copies, TwoLayerCache._fields):
            if not np.array_equal(field, original):
                fail(label, f"your function changed cache.{name} in place {where}",
                      "compute new arrays (delta = p - y) instead of writing into the cache (p -= y)")
        if result is None:
            fail(label, "your function returned None", "return dW1, db1, dW2, db2")
        if not isinstance(result, (tuple, list)) or len(result) != 4:
            fail(label, f"expected four gradients (dW1, db1, dW2, db2), got {type(result).__name__}"
                         + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""),
                  "return dW1, db1, dW2, db2 (in this order)")
        got = dict(zip(_NAMES, (np.asarray(g, dtype=np.float64) for g in result)))
        want = dict(zip(_NAMES, backward_fixed(cache)))
        if N > 1 and all(_close(got[a], want[b]) for a, b in zip(_NAMES, ("dW2", "db2", "dW1", "db1"))):
            fail(label, "you returned (dW2, db2, dW1, db1); the order asked for is (dW1, db1, dW2, db2)", "")
        for name in ("dW2", "db2", "dW1", "db1"):  # the order backpropagation computes them in
            if got[name].shape != want[name].shape:
                fail(label, _shape_problem(name, got[name].shape, want[name].shape, N) + f" {where}", hint)
            if _close(got[name], want[name]):
                continue
            if not np.all(np.isfinite(got[name])):
                fail(label, f"{name} contains nan or inf {where}", hint)
            if name.startswith("dW") and got[name].shape[0] == got[name].shape[1] and _close(got[name], want[name].T):
                fail(label, f"{name} is transposed {where} (the shapes only agree because the matrix is square): "
                             f"the weight gradient is (layer input).T @ delta", hint)
            for mistake, message in _two_layer_mistakes(cache):
                if _close(got[name], mistake[name]):
                    fail(label, f"{name} is wrong {where}: {message}", hint)
            fail(label, f"{name} has the right shape but wrong values {where}: e.g. at index "
                         f"{np.unravel_index(int(np.argmax(np.abs(got[name] - want[name]))), want[name].shape)}", hint)
    return passed(label, "all four gradients have the parameters' shapes and match the derivation.")


# ---------------------------------------------------------------- 5.1 the rule of multiplication

def check_mul_backward(mul_backward: Callable[[Value], None]) -> CheckResult:
    """Exercise 5.1: ``mul_backward(node)`` adds d(ab)/da * g into a.grad and d(ab)/db * g into b.grad.

    ``node = a * b`` and g = node.grad. Tried on one multiplication (with an upstream
    gradient g = 1.5, then with gradients already present in a and b), on x * x, and inside a
    whole backward pass of x*y + x*x. Recognises: nothing changed (values returned instead of
    added), assigning instead of accumulating (the reused-node bug), the local gradients swapped
    (a instead of b), the upstream gradient g forgotten, a flipped sign, and changing data or
    node.grad.
    """
    label = "5.1"
    hint = "d(a b)/da = b and d(a b)/db = a; multiply each by node.grad and add (+=) it to the parent's grad."

    def run(a_data, b_data, g, a_grad=0.0, b_grad=0.0):
        a, b = Value(a_data, label="a"), Value(b_data, label="b")
        node = a * b
        node.grad, a.grad, b.grad = g, a_grad, b_grad
        _call(label, mul_backward, node)
        if (a.data, b.data, node.data) != (a_data, b_data, a_data * b_data):
            fail(label, "your rule changed a .data value; a backward rule only adds into .grad", hint)
        if node.grad != g:
            fail(label, "your rule changed node.grad; it should only read it and update the parents' grads", hint)
        return a.grad, b.grad

    a_data, b_data, g = 2.0, -3.0, 1.5
    got = run(a_data, b_data, g)
    if got == (0.0, 0.0):
        fail(label, "your rule changed no gradient: a backward rule does not return anything, it adds into "
                     "a.grad and b.grad (node.parents gives a and b)", hint)
    expected = (b_data * g, a_data * g)
    if not np.allclose(got, expected):
        mistakes = [
            ((a_data * g, b_data * g), "the local gradients are swapped: d(a b)/da is b (the other factor), not a"),
            ((b_data, a_data), "you forgot the upstream gradient: multiply the local gradient by node.grad (chain rule)"),
            ((-b_data * g, -a_data * g), "the sign is flipped: d(a b)/da = +b"),
        ]
        for wrong, message in mistakes:
            if np.allclose(got, wrong):
                fail(label, f"{message} (a = {a_data:g}, b = {b_data:g}, node.grad = {g:g}: you gave a.grad = "
                             f"{got[0]:g}, b.grad = {got[1]:g}; expected {expected[0]:g} and {expected[1]:g})", hint)
        fail(label, f"for a = {a_data:g}, b = {b_data:g}, node.grad = {g:g} you gave a.grad = {got[0]:g}, "
                     f"b.grad = {got[1]:g}; expected {expected[0]:g} and {expected[1]:g}", hint)
    got = run(a_data, b_data, g, a_grad=0.25, b_grad=-1.0)
    if np.allclose(got, expected):
        fail(label, "you assigned the gradient (a.grad = ...) instead of adding to it (a.grad += ...): whatever "
                     "a already received from its other uses is lost (a.grad was 0.25 before your rule ran)", hint)
    if not np.allclose(got, (0.25 + expected[0], -1.0 + expected[1])):
        fail(label, "with gradients already present in a and b, the result is wrong; add the new contribution", hint)
    x = Value(3.0, label="x")
    square = x * x
    square.grad = 1.0
    _call(label, mul_backward, square)
    if not np.isclose(x.grad, 6.0):
        fail(label, f"for x * x at x = 3 you give x.grad = {x.grad:g}, expected 2x = 6: x is both parents, so it must "
                     f"receive both contributions; assigning keeps only the last one", hint)
    x, y = Value(1.5, label="x"), Value(-2.0, label="y")
    backward(x * y + x * x, rules={**BACKWARD_RULES, "*": mul_backward})
    if not (np.isclose(x.grad, -2.0 + 3.0) and np.isclose(y.grad, 1.5)):
        fail(label, f"inside a whole backward pass of f = x y + x x at x = 1.5, y = -2 your rule gives "
                     f"df/dx = {x.grad:g}, df/dy = {y.grad:g}; expected y + 2x = 1 and x = 1.5", hint)
    return passed(label, "d(ab)/da = b, d(ab)/db = a, accumulated with +=, so reused values get every contribution.")


# ---------------------------------------------------------------- 5.2 predict, then verify

def reused_expression(a_data: float = 2.0, b_data: float = -3.0) -> tuple[Value, Value, Value]:
    """The expression of exercise 5.2: c = a b, d = c + a, e = d a. Returns (e, a, b)."""
    a, b = Value(a_data, label="a"), Value(b_data, label="b")
    c = a * b
    d = c + a
    e = d * a
    return e, a, b


def measure_reused_gradients() -> tuple[float, float]:
    """(de/da, de/db) of :func:`reused_expression`, by running the engine's backward pass."""
    e, a, b = reused_expression()
    e.backward()
    return a.grad, b.grad


def check_reused_prediction(predict_reused_gradients: Callable[[], tuple]) -> CheckResult:
    """Exercise 5.2: the prediction (de/da, de/db) for c = a b, d = c + a, e = d a at a = 2, b = -3.

    Compared with what the engine's backward pass measures. Recognises: the two numbers in
    the wrong order, de/da from only some of a's three paths to e, and de/db without the final
    factor a.
    """
    label = "5.2"
    prediction = _call(label, predict_reused_gradients)
    measured = measure_reused_gradients()
    a, b = 2.0, -3.0
    paths = {"through c = a b": b * a, "through d = c + a": 1.0 * a, "directly into e = d a": a * b + a}

    def order(got, expected):
        if np.allclose(got, expected[::-1]):
            return "you swapped the two numbers: return (de/da, de/db)"
        return None

    def some_paths(got, expected):
        readings = []
        for name, value in paths.items():
            if np.isclose(got[0], value):
                readings.append(f"only the path {name}")
        for leave_out in paths:
            if np.isclose(got[0], sum(v for name, v in paths.items() if name != leave_out)):
                readings.append(f"every path but the one {leave_out}")
        if readings:
            return (f"de/da = {got[0]:g} is what you get from {' or from '.join(readings)}: a is used three times "
                    f"(in c = a b, in d = c + a and in e = d a), so it reaches e along three paths, and de/da is "
                    f"the sum of the contributions of all of them")
        return None

    def missing_factor(got, expected):
        if np.isclose(got[1], a) and np.isclose(got[0], expected[0]):
            return ("de/db = a counts one factor a: b enters c = a b (slope a), and c reaches e through d = c + a "
                    "and then e = d a, which multiplies by a once more")
        return None

    if not isinstance(prediction, (tuple, list, np.ndarray)) or np.shape(prediction) != (2,):
        fail(label, f"return a pair (de/da, de/db), got {prediction!r}", "e.g. return (1.0, 2.0)")
    try:
        prediction = tuple(float(v) for v in prediction)
    except (TypeError, ValueError):
        fail(label, f"both predictions must be numbers, got {prediction!r}", "e.g. return (1.0, 2.0)")
    return check_value(label, prediction, measured, name="your prediction (de/da, de/db)",
                       diagnoses=[order, some_paths, missing_factor],
                       hint="write e as a polynomial in a and b, or add up the contribution of every path from a to e.",
                       success=f"the backward pass measures de/da = {measured[0]:g}, de/db = {measured[1]:g}.")
