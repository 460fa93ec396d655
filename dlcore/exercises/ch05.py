"""Checks for chapter 05's exercises (backpropagation).

- 5.1 derive the local gradients of the engine's operations (written answer, no check)
- 5.2 predict the gradients of an expression that reuses a value -> :func:`check_reused_prediction`
- 5.3 implement the scalar autograd engine, a ``Value`` class    -> :func:`check_engine`
- 5.4 implement Neuron, Layer and MLP on the engine             -> :func:`check_mlp`
- 5.5 derive the hidden layer's delta (written answer, no check)
- 5.6 implement the backward pass of a two-layer network         -> :func:`check_two_layer_backward`

Each build check runs the learner's code next to dlcore's reference
(:mod:`dlcore.scratch.autograd`, :mod:`dlcore.scratch.autograd_nn`,
:func:`dlcore.articles.article_001_xor.backward_fixed`) and explains a
difference with the first known mistake that reproduces it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlcore.articles.article_001_xor import TwoLayerCache, backward_fixed, forward_fixed
from dlcore.exercises.core import Case, CheckResult, Mistake, check_value, fail
from dlcore.exercises.functions import check_function
from dlcore.exercises.learner import accept, learner_call
from dlcore.scratch import autograd, autograd_nn
from dlcore.scratch.activations import sigmoid
from dlcore.scratch.autograd import Value, topological_order
from dlcore.scratch.linear import linear_backward

__all__ = [
    "REFERENCES", "EXPRESSIONS", "reused_expression", "measure_reused_gradients", "check_reused_prediction",
    "run_expression", "check_engine", "check_mlp", "make_two_layer_cache", "check_two_layer_backward",
]

# The reference code each build exercise rebuilds (none of it may be shown before the exercise).
REFERENCES = {
    "5.3": (autograd.topological_order, autograd.iter_backward, autograd.add_backward, autograd.mul_backward,
            autograd.pow_backward, autograd.exp_backward, autograd.tanh_backward, autograd.relu_backward),
    "5.4": (autograd_nn.Neuron.__init__, autograd_nn.Neuron.__call__, autograd_nn.Layer.__call__,
            autograd_nn.MLP.__init__, autograd_nn.MLP.__call__),
    "5.6": (backward_fixed,),
}


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


def _reused_mistakes(measured_db: float) -> list[Mistake]:
    a, b = 2.0, -3.0
    through_c, through_d, direct = b * a, 1.0 * a, a * b + a
    three = ("a is used three times (in c = a b, in d = c + a and in e = d a), so it reaches e along three paths, "
             "and de/da adds up the contributions of all of them")

    def partial(value: float, which: str) -> Mistake:
        return Mistake("missed-paths", lambda: (value, measured_db), f"de/da = {value:g} is what {which}: {three}")

    return [
        Mistake("pair-swapped", lambda: (measured_db, through_c + through_d + direct),
                "you swapped the two numbers: return (de/da, de/db)"),
        partial(direct, "the path directly into e = d a gives alone (and also what the other two paths give together)"),
        partial(through_c, "the path through c = a b gives alone"),
        partial(through_d, "the path through d = c + a gives alone"),
        partial(through_d + direct, "every path but the one through c gives"),
        partial(through_c + direct, "every path but the one through d gives"),
        Mistake("one-factor-of-a", lambda: (through_c + through_d + direct, a),
                "de/db = a counts one factor a: b enters c = a b (slope a), and c reaches e through d = c + a and "
                "then e = d a, which multiplies by a once more"),
    ]


def check_reused_prediction(predict_reused_gradients: Callable[[], tuple]) -> CheckResult:
    """Exercise 5.2: the prediction (de/da, de/db) for c = a b, d = c + a, e = d a at a = 2, b = -3.

    Compared with what the engine's backward pass measures. Recognises: the two numbers in
    the wrong order, de/da from only some of a's three paths to e, and de/db without the final
    factor a.
    """
    label = "5.2"
    prediction = learner_call(label, predict_reused_gradients, name="predict_reused_gradients")
    try:
        pair = tuple(float(v) for v in prediction)
    except (TypeError, ValueError):
        pair = ()
    if len(pair) != 2:
        fail(label, f"return a pair of numbers (de/da, de/db), got {prediction!r}", "e.g. return (1.0, 2.0)")
    measured = measure_reused_gradients()
    return check_value(label, pair, measured, name="your prediction (de/da, de/db)",
                       mistakes=_reused_mistakes(measured[1]),
                       hint="write e as a polynomial in a and b, or add up the contribution of every path from a to e.",
                       success=f"the backward pass measures de/da = {measured[0]:g}, de/db = {measured[1]:g}.")


# ---------------------------------------------------------------- 5.3 the engine

def _neuron(w1: Any, w2: Any, b: Any) -> Any:
    return (w1 * 0.5 + w2 * -1.5 + b).tanh()


def _reused_tanh(x: Any) -> Any:
    t = x.tanh()
    return t * t + t


def _mixed(x: Any, y: Any) -> Any:
    return (x / y).exp() * (x * y).tanh() - (x**3).relu() + (-y) ** 0.5 - (2 * x + 1) ** 2


# name -> (build from leaves, leaf names, leaf values); simplest first, so that the first
# failing expression points at one operation.
EXPRESSIONS: dict[str, tuple[Callable[..., Any], tuple[str, ...], tuple[float, ...]]] = {
    "a + b": (lambda a, b: a + b, ("a", "b"), (2.0, -3.0)),
    "a * b": (lambda a, b: a * b, ("a", "b"), (2.0, -3.0)),
    "a + a": (lambda a: a + a, ("a",), (3.0,)),
    "x ** 3": (lambda x: x**3, ("x",), (1.5,)),
    "exp(x)": (lambda x: x.exp(), ("x",), (0.5,)),
    "tanh(x)": (lambda x: x.tanh(), ("x",), (0.8,)),
    "relu(x) + relu(y)": (lambda x, y: x.relu() + y.relu(), ("x", "y"), (1.5, -2.0)),
    "x * x + x": (lambda x: x * x + x, ("x",), (3.0,)),
    "(a * b + a) * a": (lambda a, b: (a * b + a) * a, ("a", "b"), (2.0, -3.0)),
    "t * t + t with t = tanh(x)": (_reused_tanh, ("x",), (0.5,)),
    "(2 * a + 1) / (a - b) - (-b)": (lambda a, b: (2 * a + 1) / (a - b) - (-b), ("a", "b"), (2.0, -3.0)),
    "tanh(0.5 w1 - 1.5 w2 + b)": (_neuron, ("w1", "w2", "b"), (0.8, -0.4, 0.1)),
    "exp(x / y) tanh(x y) - relu(x ** 3) + (-y) ** 0.5 - (2 x + 1) ** 2": (_mixed, ("x", "y"), (0.7, -1.3)),
}


def _describe(expression: str) -> str:
    _, names, values = EXPRESSIONS[expression]
    return f"f = {expression} at " + ", ".join(f"{n} = {v:g}" for n, v in zip(names, values))


def run_expression(value_class: Callable[[float], Any], expression: str) -> tuple[float, np.ndarray]:
    """Build ``expression`` (a key of :data:`EXPRESSIONS`) with ``value_class`` leaves, run backward.

    Returns f's value and the gradients of f with respect to the leaves, in order.
    """
    build, _, values = EXPRESSIONS[expression]
    leaves = [value_class(v) for v in values]
    root = build(*leaves)
    root.backward()
    return float(root.data), np.array([float(leaf.grad) for leaf in leaves])


def _slopes(node: Value) -> list[float]:
    """The local gradients d node / d parent of dlcore's ops, one per parent."""
    parents = node.parents
    if node.op == "+":
        return [1.0, 1.0]
    if node.op == "-":
        return [1.0, -1.0]
    if node.op == "*":
        return [parents[1].data, parents[0].data]
    if node.op == "/":
        return [1.0 / parents[1].data, -parents[0].data / parents[1].data ** 2]
    if node.op == "**":
        return [node.exponent * parents[0].data ** (node.exponent - 1)]
    if node.op == "neg":
        return [-1.0]
    if node.op == "exp":
        return [node.data]
    if node.op == "tanh":
        return [1.0 - node.data**2]
    if node.op == "relu":
        return [1.0 if parents[0].data > 0 else 0.0]
    raise ValueError(f"no slope for op {node.op!r}")


def _buggy_engine(expression: str, *, update: str = "add", driver: str = "reverse",
                  slopes: Callable[[Value], list[float]] = _slopes) -> tuple[float, np.ndarray]:
    """What an engine with one planted mistake computes, on dlcore's graph of ``expression``.

    update: "add" (right), "assign" (= instead of +=), "local" (the upstream gradient left out).
    driver: "reverse" (right), "forward" (topological order not reversed), "per-path" (a recursive
    walk that passes a node's gradient on once per path that reaches it), "unseeded" (root.grad
    left at 0).
    """
    build, _, values = EXPRESSIONS[expression]
    leaves = [Value(v) for v in values]
    root = build(*leaves)
    order = topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = 0.0 if driver == "unseeded" else 1.0

    def apply(node: Value) -> None:
        for parent, slope in zip(node.parents, slopes(node) if node.parents else []):
            contribution = slope * (1.0 if update == "local" else node.grad)
            parent.grad = contribution if update == "assign" else parent.grad + contribution

    if driver == "per-path":
        def visit(node: Value) -> None:
            apply(node)
            for parent in node.parents:
                visit(parent)
        visit(root)
    else:
        for node in (order if driver == "forward" else reversed(order)):
            apply(node)
    return root.data, np.array([leaf.grad for leaf in leaves])


def _slope_bug(op: str, wrong: Callable[[Value], list[float]]) -> Callable[[Value], list[float]]:
    return lambda node: wrong(node) if node.op == op else _slopes(node)


_ENGINE_MISTAKES = [  # order matters: leaves-first order also gives zeros, and is the likelier reading
    Mistake("order-not-reversed", lambda e: _buggy_engine(e, driver="forward"),
            "the rules ran leaves first: a node may pass its gradient on only after every node that uses it has "
            "added its contribution, so visit the topological order backwards, root first"),
    Mistake("root-grad-not-seeded", lambda e: _buggy_engine(e, driver="unseeded"),
            "every gradient is 0: the backward pass must start from d f / d f = 1 at the root before the rules run"),
    Mistake("grad-assigned", lambda e: _buggy_engine(e, update="assign"),
            "a value used twice keeps only one contribution: a backward rule must add into a parent's grad (+=), "
            "not assign it"),
    Mistake("upstream-gradient-ignored", lambda e: _buggy_engine(e, update="local"),
            "your rules pass on only the local gradient: the chain rule multiplies it by the node's own grad "
            "(the gradient arriving from above)"),
    Mistake("mul-slopes-swapped", lambda e: _buggy_engine(e, slopes=_slope_bug("*", lambda n: [n.parents[0].data,
                                                                                                 n.parents[1].data])),
            "in a * b the slopes are swapped: d(a b)/da is the other factor"),
    Mistake("pow-exponent-missing", lambda e: _buggy_engine(e, slopes=_slope_bug(
        "**", lambda n: [n.parents[0].data ** (n.exponent - 1)])),
            "the slope of x ** p lacks its factor p (the power rule brings the exponent down)"),
    Mistake("pow-power-not-lowered", lambda e: _buggy_engine(e, slopes=_slope_bug(
        "**", lambda n: [n.exponent * n.parents[0].data ** n.exponent])),
            "the slope of x ** p keeps the power p; the power rule lowers it by one"),
    Mistake("exp-slope-is-input", lambda e: _buggy_engine(e, slopes=_slope_bug("exp", lambda n: [n.parents[0].data])),
            "the slope of exp(x) is not x: exp is its own derivative"),
    Mistake("tanh-slope-at-input", lambda e: _buggy_engine(e, slopes=_slope_bug(
        "tanh", lambda n: [1.0 - n.parents[0].data ** 2])),
            "your tanh slope squares the input x; the formula of exercise 5.1 squares tanh(x), the node's own value"),
    Mistake("tanh-slope-square-missing", lambda e: _buggy_engine(e, slopes=_slope_bug("tanh", lambda n: [1.0 - n.data])),
            "your tanh slope is 1 − tanh(x): the derivative of tanh has a square in it (exercise 5.1)"),
    Mistake("relu-slope-is-output", lambda e: _buggy_engine(e, slopes=_slope_bug(
        "relu", lambda n: [n.data])),
            "the slope of relu(x) is not its output: it is 1 where the input is positive and 0 elsewhere"),
    Mistake("no-topological-order", lambda e: _buggy_engine(e, driver="per-path"),
            "an intermediate value used twice passed its gradient on more than once (or before it was complete): "
            "a recursive walk reaches it once per path; order the graph topologically and run each node's rule once"),
]


def _engine_forbidden() -> list[Callable[..., Any]]:
    forbidden: list[Callable[..., Any]] = [Value.__init__, autograd.backward, autograd.iter_backward,
                                           autograd.topological_order]
    try:
        import torch

        forbidden += [torch.autograd.backward, torch.Tensor.backward]
    except ImportError:  # pragma: no cover - torch is a course dependency
        pass
    return forbidden


def check_engine(value_class: type) -> CheckResult:
    """Exercise 5.3: the learner's ``Value`` class, on every expression of :data:`EXPRESSIONS`.

    Each expression is built from the learner's Values, ``f.backward()`` runs, and f's value
    and the leaves' gradients are compared with dlcore's engine (itself tested against
    finite differences and torch.autograd). Recognises: the root not seeded with 1, assigning
    instead of accumulating, the upstream gradient left out, swapped product slopes, power-rule
    slips, exp's and tanh's and relu's slopes taken from the wrong value, the topological order
    not reversed, and a recursive walk without topological order. A class that builds on
    dlcore's engine (or on torch.autograd) fails.
    """
    label = "5.3"
    if not isinstance(value_class, type):
        fail(label, f"expected the class Value itself, got {type(value_class).__name__}",
             "pass the class (check_engine(Value)), not an instance of it")

    def learner(expression: str) -> tuple[float, np.ndarray]:
        return run_expression(value_class, expression)

    def reference(expression: str) -> tuple[float, np.ndarray]:
        return run_expression(Value, expression)

    result = check_function(
        label, learner, reference, [Case((name,), description=_describe(name)) for name in EXPRESSIONS],
        name="Value", outputs=("f", "the gradients"), mistakes=_ENGINE_MISTAKES, forbid=_engine_forbidden(),
        hint="run one expression by hand: build it from your Values, call backward(), and print each leaf's grad; "
             "compare with the local gradients you derived in exercise 5.1",
        success=f"your engine agrees with dlcore's on all {len(EXPRESSIONS)} expressions, values and gradients.")
    accept("Value", value_class, label)
    return result


# ---------------------------------------------------------------- 5.4 neurons, layers, MLP

def _parameter_count(n_inputs: int, sizes: tuple[int, ...]) -> int:
    dims = [n_inputs, *sizes]
    return sum((dims[i] + 1) * dims[i + 1] for i in range(len(sizes)))


def _parameter_values(count: int) -> np.ndarray:
    return np.random.default_rng(count).uniform(-1.0, 1.0, count)


def _forward_backward(model: Callable[[list], Any], params: list, n_inputs: int, sizes: tuple[int, ...],
                      rows: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Set the parameters in list order, run the rows, backpropagate Σ weights * outputs.

    Returns (parameter count, outputs (rows, M), gradients in the parameters' order).
    """
    if len(params) != _parameter_count(n_inputs, sizes):
        return float(len(params)), np.zeros(0), np.zeros(0)
    for parameter, value in zip(params, _parameter_values(len(params))):
        parameter.data = float(value)
    total: Any = 0.0
    outputs = []
    for row, row_weights in zip(rows, weights):
        out = model([float(v) for v in row])
        out = list(out) if isinstance(out, (list, tuple)) else [out]
        outputs.append([float(o.data) for o in out])
        for o, weight in zip(out, row_weights):
            total = o * float(weight) + total
    total.backward()
    return float(len(params)), np.array(outputs), np.array([float(p.grad) for p in params])


def _run_mlp(mlp_class: Callable[..., Any], n_inputs: int, sizes: tuple[int, ...], rows: np.ndarray,
             weights: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    model = mlp_class(n_inputs, list(sizes), np.random.default_rng(0))
    return _forward_backward(model, list(model.parameters()), n_inputs, sizes, rows, weights)


def _activate(total: Value, activation: str | None) -> Value:
    return {"tanh": total.tanh, "relu": total.relu}[activation]() if activation else total


def _mlp_variant(n_inputs: int, sizes: tuple[int, ...], rows: np.ndarray, weights: np.ndarray, *,
                 hidden: str | None = "tanh", output: str | None = None, bias_first: bool = False,
                 shared: bool = False, bias: bool = True) -> tuple[float, np.ndarray, np.ndarray]:
    """What an MLP with one planted mistake computes (dlcore's Values, the check's parameter values)."""
    dims = [n_inputs, *sizes]
    layers = []
    for i, size in enumerate(sizes):
        def neuron(fan_in: int = dims[i]) -> tuple[list[Value], Value | None]:
            return [Value(0.0) for _ in range(fan_in)], (Value(0.0) if bias else None)
        layers.append([neuron()] * size if shared else [neuron() for _ in range(size)])
    params: list[Value] = []
    for neurons in layers:
        for w, b in neurons:
            params += ([b] if b is not None and bias_first else []) + w + ([b] if b is not None and not bias_first else [])

    def model(x: list) -> list[Value]:
        for i, neurons in enumerate(layers):
            activation = output if i == len(layers) - 1 else hidden
            outs = []
            for w, b in neurons:
                total: Any = b if b is not None else 0.0
                for w_i, x_i in zip(w, x):
                    total = w_i * x_i + total
                outs.append(_activate(total, activation))
            x = outs
        return x

    return _forward_backward(model, params, n_inputs, sizes, rows, weights)


_MLP_MISTAKES = [
    Mistake("bias-missing", lambda *args: _mlp_variant(*args, bias=False),
            "parameters() lists one value too few per neuron: each neuron has a weight per input and a bias"),
    Mistake("output-layer-activated", lambda *args: _mlp_variant(*args, output="tanh"),
            "the output layer applies tanh too: the last layer is linear (its scores are not squashed into (−1, 1))"),
    Mistake("hidden-activation-missing", lambda *args: _mlp_variant(*args, hidden=None),
            "the hidden layers have no activation: without tanh, the network is one linear map"),
    Mistake("relu-instead-of-tanh", lambda *args: _mlp_variant(*args, hidden="relu"),
            "the hidden layers use relu; this exercise's neurons use tanh"),
    Mistake("neurons-shared", lambda *args: _mlp_variant(*args, shared=True),
            "the neurons of a layer share their parameters (the same Neuron object repeated, e.g. "
            "[Neuron(...)] * n): each neuron needs its own weights"),
    Mistake("bias-listed-first", lambda *args: _mlp_variant(*args, bias_first=True),
            "parameters() lists each neuron's bias before its weights; the order asked for is the weights, then "
            "the bias"),
]

_MLP_CASES = [
    Case((2, (3, 2), np.array([[0.5, -1.0], [2.0, 0.25]]), np.array([[1.0, -0.5], [0.3, 2.0]])),
         description="MLP(2, [3, 2]) on two inputs"),
    Case((3, (4, 4, 1), np.array([[0.2, -0.7, 1.1]]), np.array([[1.0]])),
         description="MLP(3, [4, 4, 1]) on one input"),
    Case((1, (1,), np.array([[1.5], [-0.5]]), np.array([[1.0], [1.0]])),
         description="MLP(1, [1]), a single linear neuron, on two inputs"),
]


def check_mlp(mlp_class: type) -> CheckResult:
    """Exercise 5.4: the learner's ``MLP(n_inputs, layer_sizes, rng)`` (with its Neuron and Layer).

    On three architectures the check sets the parameters (in the order ``parameters()``
    lists them) to known values, runs a few inputs, backpropagates a weighted sum of the
    outputs, and compares the parameter count, the outputs and the gradients with
    :class:`dlcore.scratch.autograd_nn.MLP`. Recognises: a missing bias, tanh on the output
    layer, no hidden activation, relu instead of tanh, neurons sharing parameters, the bias
    listed before the weights. An MLP built on dlcore's MLP, Layer or Neuron fails.
    """
    label = "5.4"
    if not isinstance(mlp_class, type):
        fail(label, f"expected the class MLP itself, got {type(mlp_class).__name__}",
             "pass the class (check_mlp(MLP)), not a network made from it")

    def learner(n_inputs: int, sizes: tuple, rows: np.ndarray, weights: np.ndarray) -> tuple:
        return _run_mlp(mlp_class, n_inputs, sizes, rows, weights)

    def reference(n_inputs: int, sizes: tuple, rows: np.ndarray, weights: np.ndarray) -> tuple:
        return _run_mlp(autograd_nn.MLP, n_inputs, sizes, rows, weights)

    forbid = [autograd_nn.Neuron.__init__, autograd_nn.Neuron.__call__, autograd_nn.Layer.__init__,
              autograd_nn.Layer.__call__, autograd_nn.MLP.__init__, autograd_nn.MLP.__call__]
    result = check_function(
        label, learner, reference, _MLP_CASES, name="MLP", outputs=("the parameter count", "the outputs",
                                                                    "the gradients"),
        mistakes=_MLP_MISTAKES, forbid=forbid,
        hint="build a tiny MLP(1, [1]) by hand, set its two parameters, and compare model([x]) with w x + b",
        success="your MLP has the right parameters, outputs and gradients on three architectures.")
    accept("MLP", mlp_class, label)
    return result


# ---------------------------------------------------------------- 5.6 two-layer backward

def make_two_layer_cache(N: int, D: int, Hh: int, seed: int = 0) -> TwoLayerCache:
    """A forward pass of the chapter's network (sigmoid hidden, sigmoid output, mean BCE) on random data."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D))
    y = (rng.random((N, 1)) < 0.5).astype(np.float64)
    W1, b1 = rng.standard_normal((D, Hh)), 0.5 * rng.standard_normal(Hh)
    W2, b2 = rng.standard_normal((Hh, 1)), 0.5 * rng.standard_normal(1)
    return forward_fixed(x, y, W1, b1, W2, b2)[1]


def _grads(x, y, z1, h, W1, W2, p, *, delta2=None, slope=None, layer2_input=None, bias_sum=None):
    """(dW1, db1, dW2, db2) computed the right way except for what the keywords replace."""
    N = x.shape[0]
    delta2 = (p - y) / N if delta2 is None else delta2
    slope = h * (1 - h) if slope is None else slope
    layer2_input = h if layer2_input is None else layer2_input
    bias_sum = bias_sum or (lambda delta: delta.sum(axis=0))
    delta1 = (delta2 @ W2.T) * slope
    return x.T @ delta1, bias_sum(delta1), layer2_input.T @ delta2, bias_sum(delta2)


def _reordered(*cache):
    dW1, db1, dW2, db2 = _grads(*cache)
    return dW2, db2, dW1, db1


def _transposed(which: int):
    def compute(*cache):
        grads = list(_grads(*cache))
        grads[which] = grads[which].T
        return tuple(grads)
    return compute


_TWO_LAYER_MISTAKES = [
    Mistake("gradients-reordered", _reordered,
            "you returned (dW2, db2, dW1, db1); the order asked for is (dW1, db1, dW2, db2)"),
    Mistake("mean-not-divided", lambda x, y, z1, h, W1, W2, p: _grads(x, y, z1, h, W1, W2, p, delta2=p - y),
            "your gradients are N times too large: the loss is a mean over the batch, so the output delta carries "
            "a factor 1/N"),
    Mistake("sign-flipped", lambda x, y, z1, h, W1, W2, p: _grads(x, y, z1, h, W1, W2, p, delta2=(y - p) / len(x)),
            "the sign is flipped: dL/ds is positive where the predicted probability is above the label"),
    Mistake("hidden-derivative-missing", lambda x, y, z1, h, W1, W2, p: _grads(x, y, z1, h, W1, W2, p, slope=1.0),
            "the hidden layer's activation derivative is missing: going from dL/dh to dL/dz1 crosses the sigmoid"),
    Mistake("sigmoid-applied-to-h", lambda x, y, z1, h, W1, W2, p: _grads(
        x, y, z1, h, W1, W2, p, slope=sigmoid(h) * (1 - sigmoid(h))),
            "you applied the sigmoid to h again (article 001's mistake): h = σ(z1) is already the activation, so "
            "σ'(z1) can be written from h directly"),
    Mistake("sigmoid-derivative-sign", lambda x, y, z1, h, W1, W2, p: _grads(x, y, z1, h, W1, W2, p, slope=h * (1 + h)),
            "you used h (1 + h): recheck the sign inside the bracket of the sigmoid's derivative"),
    Mistake("derivative-from-z1", lambda x, y, z1, h, W1, W2, p: _grads(x, y, z1, h, W1, W2, p, slope=z1 * (1 - z1)),
            "you wrote the sigmoid's derivative with z1 where the activation h = σ(z1) belongs"),
    Mistake("tanh-derivative", lambda x, y, z1, h, W1, W2, p: _grads(x, y, z1, h, W1, W2, p, slope=1 - h**2),
            "1 − h² is tanh's derivative; this network's hidden activation is the sigmoid"),
    Mistake("dW2-from-z1", lambda x, y, z1, h, W1, W2, p: _grads(x, y, z1, h, W1, W2, p, layer2_input=z1),
            "dW2 multiplies what entered layer 2, the activation h, not the pre-activation z1"),
    Mistake("output-sigmoid-twice", lambda x, y, z1, h, W1, W2, p: _grads(
        x, y, z1, h, W1, W2, p, delta2=(p - y) / len(x) * p * (1 - p)),
            "the output delta of a sigmoid followed by cross-entropy has no factor p (1 − p): the sigmoid's "
            "derivative has already cancelled against the log's 1/(p (1 − p)); you multiplied by it again"),
    Mistake("dW1-transposed", _transposed(0),
            "dW1 is transposed: a weight gradient has the weight's shape, (layer input).T @ delta"),
    Mistake("dW2-transposed", _transposed(2),
            "dW2 is transposed: a weight gradient has the weight's shape, (layer input).T @ delta"),
    Mistake("bias-keepdims", lambda *cache: _grads(*cache, bias_sum=lambda d: d.sum(axis=0, keepdims=True)),
            "the bias gradient kept a batch axis of size 1 (keepdims=True): it must have the bias's shape; a (1, M) "
            "gradient only 'works' because NumPy broadcasts it"),
    Mistake("bias-summed-over-units", lambda *cache: _grads(*cache, bias_sum=lambda d: d.sum(axis=1)),
            "the bias gradient is summed over axis 1 (the units) instead of axis 0 (the examples): a bias is shared "
            "by all N examples, so its gradient sums over them"),
    Mistake("bias-not-summed", lambda *cache: _grads(*cache, bias_sum=lambda d: d),
            "the bias gradient still has one row per example: sum the delta over the batch"),
]


def _two_layer_cases() -> list[Case]:
    cases = []
    for N, D, Hh in ((5, 3, 4), (1, 2, 3), (4, 4, 4)):
        cache = make_two_layer_cache(N, D, Hh, seed=N + 10 * D)
        cases.append(Case(tuple(cache), description=f"a batch with N={N}, D={D}, Hh={Hh}"))
    return cases


def check_two_layer_backward(two_layer_backward: Callable[[TwoLayerCache], tuple]) -> CheckResult:
    """Exercise 5.6: ``two_layer_backward(cache)`` returns (dW1, db1, dW2, db2) of the mean cross-entropy.

    Tried on three batches (N, D, Hh) = (5, 3, 4), (1, 2, 3) and the square (4, 4, 4), against
    :func:`dlcore.articles.article_001_xor.backward_fixed`. Recognises: the gradients in
    another order, a missing 1/N, a flipped sign, a missing hidden activation derivative, the
    derivative taken at the activation (article 001's bug), h (1 + h), z1 (1 - z1), tanh's
    1 - h^2, dW2 from z1 instead of h, sigma' applied twice at the output, a transposed dW, a
    (1, M) bias gradient, the bias summed over the wrong axis or not at all. Changing the cache
    in place, or calling dlcore's backward_fixed or linear_backward, fails.
    """
    label = "5.6"

    def learner(*fields: np.ndarray) -> Any:  # the cache's arrays as arguments, so in-place changes are seen
        return two_layer_backward(TwoLayerCache(*fields))

    def reference(*fields: np.ndarray) -> Any:
        return backward_fixed(TwoLayerCache(*fields))

    result = check_function(
        label, learner if callable(two_layer_backward) else two_layer_backward, reference, _two_layer_cases(),
        name="two_layer_backward",
        outputs=("dW1", "db1", "dW2", "db2"), mistakes=_TWO_LAYER_MISTAKES, forbid=[backward_fixed, linear_backward],
        hint="work from the output back, as in the derivation: the output delta first, then dW2 and db2, then the "
             "gradient reaching h, then the hidden delta (your exercise 5.5), then dW1 and db1; check each shape",
        success="all four gradients have the parameters' shapes and match the derivation.")
    accept("two_layer_backward", two_layer_backward, label)
    return result
