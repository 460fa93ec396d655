"""Chapter 05's exercise checks: right answers pass, plausible mistakes get their diagnosis."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlcore.articles.article_001_xor import backward_fixed
from dlcore.exercises import ExerciseFailed, ch05
from dlcore.exercises.learner import accepted
from dlcore.scratch import autograd, autograd_nn
from dlcore.scratch.activations import sigmoid
from dlcore.scratch.linear import LinearCache, linear_backward


def fails_with(check, answer, *fragments, mistake=None):
    with pytest.raises(ExerciseFailed) as info:
        check(answer)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    if mistake is not None:
        assert info.value.mistake == mistake, (info.value.mistake, str(info.value))
    assert "np.int64" not in str(info.value) and "np.float64" not in str(info.value)
    return info.value


# ---------------------------------------------------------------- 5.2 predict

def test_reused_prediction_right_answers_pass(capsys):
    assert ch05.check_reused_prediction(lambda: (-8.0, 4.0)).passed
    assert "de/da = -8" in capsys.readouterr().out
    assert ch05.check_reused_prediction(lambda: np.array([-8, 4])).passed


def test_reused_prediction_matches_the_experiment():
    assert ch05.measure_reused_gradients() == pytest.approx((-8.0, 4.0))  # 2ab + 2a, a^2 at a = 2, b = -3


@pytest.mark.parametrize("prediction, mistake, fragment", [
    ((-4.0, 4.0), "missed-paths", "directly into e"),
    ((-6.0, 4.0), "missed-paths", "through c = a b gives alone"),
    ((-10.0, 4.0), "missed-paths", "every path but the one through d"),
    ((-2.0, 4.0), "missed-paths", "every path but the one through c"),
    ((4.0, -8.0), "pair-swapped", "swapped the two numbers"),
    ((-8.0, 2.0), "one-factor-of-a", "de/db = a counts one factor a"),
    ((1.0, 1.0), "", "is not right"),
])
def test_reused_prediction_mistakes_are_diagnosed(prediction, mistake, fragment):
    fails_with(ch05.check_reused_prediction, lambda: prediction, fragment, mistake=mistake)


def test_reused_prediction_wrong_type_and_not_done():
    error = fails_with(ch05.check_reused_prediction, lambda: -8.0, "return a pair")
    assert "4" not in str(error).split("got")[0]  # the message does not give the answer away
    fails_with(ch05.check_reused_prediction, lambda: ("minus eight", 4), "return a pair of numbers")

    def not_done():
        raise NotImplementedError("Exercise 5.2: replace this line with your code")

    with pytest.raises(NotImplementedError, match="Exercise 5.2 is not done yet"):
        ch05.check_reused_prediction(not_done)


# ---------------------------------------------------------------- 5.3 the engine

def make_engine(bug: str = ""):
    """A micrograd-style Value class (closures, recursive topological sort) with one planted mistake."""

    class Value:
        def __init__(self, data, parents=()):
            self.data = float(data)
            self.grad = 0.0
            self.parents = parents
            self._backward = lambda: None

        def _pass(self, out, pairs):
            def rule():
                for parent, slope in pairs():
                    upstream = 1.0 if bug == "local" else out.grad
                    if bug == "assign":
                        parent.grad = slope * upstream
                    else:
                        parent.grad += slope * upstream
            out._backward = rule
            return out

        @staticmethod
        def _wrap(other):
            return other if isinstance(other, Value) else Value(other)

        def __add__(self, other):
            other = self._wrap(other)
            out = Value(self.data + other.data, (self, other))
            return self._pass(out, lambda: [(self, 1.0), (other, 1.0)])

        def __mul__(self, other):
            other = self._wrap(other)
            out = Value(self.data * other.data, (self, other))
            if bug == "mul-swapped":
                return self._pass(out, lambda: [(self, self.data), (other, other.data)])
            return self._pass(out, lambda: [(self, other.data), (other, self.data)])

        def __pow__(self, p):
            out = Value(self.data**p, (self,))
            slope = {"pow-no-p": lambda: self.data ** (p - 1), "pow-same-power": lambda: p * self.data**p}.get(
                bug, lambda: p * self.data ** (p - 1))
            return self._pass(out, lambda: [(self, slope())])

        def exp(self):
            out = Value(math.exp(self.data), (self,))
            return self._pass(out, lambda: [(self, self.data if bug == "exp-input" else out.data)])

        def tanh(self):
            out = Value(math.tanh(self.data), (self,))
            slope = {"tanh-input": lambda: 1 - self.data**2, "tanh-no-square": lambda: 1 - out.data}.get(
                bug, lambda: 1 - out.data**2)
            return self._pass(out, lambda: [(self, slope())])

        def relu(self):
            out = Value(max(self.data, 0.0), (self,))
            return self._pass(out, lambda: [(self, out.data if bug == "relu-output" else float(self.data > 0))])

        def backward(self):
            order, seen = [], set()

            def visit(node):
                if node not in seen:
                    seen.add(node)
                    for parent in node.parents:
                        visit(parent)
                    order.append(node)

            visit(self)
            self.grad = 0.0 if bug == "unseeded" else 1.0
            if bug == "per-path":
                def walk(node):
                    node._backward()
                    for parent in node.parents:
                        walk(parent)
                walk(self)
                return
            for node in (order if bug == "forward-order" else reversed(order)):
                node._backward()

        def __neg__(self):
            return self * -1

        def __sub__(self, other):
            return self + (-other)

        def __rsub__(self, other):
            return (-self) + other

        def __radd__(self, other):
            return self + other

        def __rmul__(self, other):
            return self * other

        def __truediv__(self, other):
            return self * other**-1

        def __rtruediv__(self, other):
            return other * self**-1

    return Value


class TapeValue:
    """A second correct engine: an op tag, one rule table, an iterative topological sort, grads reset by backward."""

    RULES = {
        "+": lambda n: (1.0, 1.0),
        "*": lambda n: (n.inputs[1].data, n.inputs[0].data),
        "pow": lambda n: (n.power * n.inputs[0].data ** (n.power - 1),),
        "exp": lambda n: (n.data,),
        "tanh": lambda n: (1.0 - n.data * n.data,),
        "relu": lambda n: (1.0 if n.inputs[0].data > 0 else 0.0,),
    }

    def __init__(self, data, inputs=(), op=None, power=None):
        self.data, self.grad, self.inputs, self.op, self.power = float(data), 0.0, tuple(inputs), op, power

    @classmethod
    def lift(cls, x):
        return x if isinstance(x, TapeValue) else TapeValue(x)

    def __add__(self, other):
        other = TapeValue.lift(other)
        return TapeValue(self.data + other.data, (self, other), "+")

    __radd__ = __add__

    def __mul__(self, other):
        other = TapeValue.lift(other)
        return TapeValue(self.data * other.data, (self, other), "*")

    __rmul__ = __mul__

    def __pow__(self, power):
        return TapeValue(self.data**power, (self,), "pow", power)

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + -TapeValue.lift(other)

    def __rsub__(self, other):
        return TapeValue.lift(other) - self

    def __truediv__(self, other):
        return self * TapeValue.lift(other) ** -1

    def exp(self):
        return TapeValue(math.exp(self.data), (self,), "exp")

    def tanh(self):
        return TapeValue(math.tanh(self.data), (self,), "tanh")

    def relu(self):
        return TapeValue(self.data if self.data > 0 else 0.0, (self,), "relu")

    def backward(self):
        order, done, stack = [], set(), [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in done:
                done.add(id(node))
                stack.append((node, True))
                stack.extend((parent, False) for parent in node.inputs)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            if node.op:
                for parent, slope in zip(node.inputs, TapeValue.RULES[node.op](node)):
                    parent.grad += slope * node.grad


@pytest.mark.parametrize("engine", [make_engine(), TapeValue], ids=["closures", "tape"])
def test_engine_right_answers_pass_and_are_accepted(engine, capsys):
    assert ch05.check_engine(engine).passed
    assert "Exercise 5.3 passed" in capsys.readouterr().out
    assert accepted("Value") is engine


@pytest.mark.parametrize("bug, mistake, fragment", [
    ("unseeded", "root-grad-not-seeded", "must start from d f / d f = 1"),
    ("assign", "grad-assigned", "must add into a parent's grad"),
    ("local", "upstream-gradient-ignored", "only the local gradient"),
    ("mul-swapped", "mul-slopes-swapped", "slopes are swapped"),
    ("pow-no-p", "pow-exponent-missing", "lacks its factor p"),
    ("pow-same-power", "pow-power-not-lowered", "lowers it by one"),
    ("exp-input", "exp-slope-is-input", "exp is its own derivative"),
    ("tanh-input", "tanh-slope-at-input", "squares the input x"),
    ("tanh-no-square", "tanh-slope-square-missing", "has a square in it"),
    ("relu-output", "relu-slope-is-output", "1 where the input is positive"),
    ("forward-order", "order-not-reversed", "visit the topological order backwards"),
    ("per-path", "no-topological-order", "a recursive walk reaches it once per path"),
])
def test_engine_mistakes_are_diagnosed(bug, mistake, fragment):
    error = fails_with(ch05.check_engine, make_engine(bug), fragment, mistake=mistake)
    assert "(on f = " in str(error)
    assert accepted("Value") is None


def test_engine_that_builds_on_dlcore_or_torch_fails():
    class Wrapped(autograd.Value):
        pass

    fails_with(ch05.check_engine, Wrapped, "dlcore.scratch.autograd.Value.__init__", mistake="delegates-to-reference")
    fails_with(ch05.check_engine, autograd.Value, mistake="delegates-to-reference")

    class TorchValue:  # every operation done by torch, the gradients by torch.autograd
        def __init__(self, data):
            self.t = data if isinstance(data, torch.Tensor) else torch.tensor(float(data), dtype=torch.float64,
                                                                               requires_grad=True)
            self.data = self.t.item()

        @property
        def grad(self):
            return 0.0 if self.t.grad is None else self.t.grad.item()

        def __getattr__(self, name):
            def operation(*args):
                return TorchValue(getattr(_TorchValue(self.t), name)(*[a.t if isinstance(a, TorchValue) else a
                                                                       for a in args]).t)
            return operation

        def backward(self):
            self.t.backward()

    for name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__pow__",
                 "__neg__"):
        setattr(TorchValue, name, lambda self, *args, _name=name: TorchValue.__getattr__(self, _name)(*args))

    fails_with(ch05.check_engine, TorchValue, "torch", mistake="delegates-to-reference")


def test_engine_structural_problems_and_not_done():
    fails_with(ch05.check_engine, make_engine()(1.0), "expected the class Value itself")

    class Stub:
        def __init__(self, data):
            raise NotImplementedError("Exercise 5.3: replace this line with your code")

    with pytest.raises(NotImplementedError, match="Exercise 5.3 is not done yet"):
        ch05.check_engine(Stub)

    class NoNumbers(make_engine()):
        def __add__(self, other):
            return super().__add__(other) if isinstance(other, NoNumbers) else other.missing

    fails_with(ch05.check_engine, NoNumbers, "your Value raised AttributeError")


@pytest.mark.parametrize("expression", list(ch05.EXPRESSIONS))
def test_the_checks_expressions_match_torch(expression):
    """The reference the check compares with is itself right: torch.autograd in float64 agrees."""
    build, _, values = ch05.EXPRESSIONS[expression]
    value, grads = ch05.run_expression(autograd.Value, expression)
    leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    out = build(*[_TorchValue(t) for t in leaves]).t
    out.backward()
    assert value == pytest.approx(out.item(), rel=1e-12)
    np.testing.assert_allclose(grads, [leaf.grad.item() for leaf in leaves], rtol=1e-12, atol=1e-14)


class _TorchValue:
    """A float64 torch scalar wearing the engine's interface, to build the check's expressions in torch."""

    def __init__(self, t):
        self.t = t

    @staticmethod
    def _t(x):
        return x.t if isinstance(x, _TorchValue) else x

    def __add__(self, o): return _TorchValue(self.t + self._t(o))
    def __radd__(self, o): return _TorchValue(self._t(o) + self.t)
    def __sub__(self, o): return _TorchValue(self.t - self._t(o))
    def __rsub__(self, o): return _TorchValue(self._t(o) - self.t)
    def __mul__(self, o): return _TorchValue(self.t * self._t(o))
    def __rmul__(self, o): return _TorchValue(self._t(o) * self.t)
    def __truediv__(self, o): return _TorchValue(self.t / self._t(o))
    def __pow__(self, p): return _TorchValue(self.t ** p)
    def __neg__(self): return _TorchValue(-self.t)
    def exp(self): return _TorchValue(torch.exp(self.t))
    def tanh(self): return _TorchValue(torch.tanh(self.t))
    def relu(self): return _TorchValue(torch.relu(self.t))


# ---------------------------------------------------------------- 5.4 MLP

def make_mlp(bug: str = "", value=autograd.Value):
    """Neuron, Layer and MLP written as in the exercise, with one planted mistake."""

    class Neuron:
        def __init__(self, n_inputs, rng, nonlinear=True):
            self.w = [value(rng.uniform(-1, 1)) for _ in range(n_inputs)]
            self.b = value(0.0)
            self.nonlinear = nonlinear

        def __call__(self, x):
            total = sum((w * xi for w, xi in zip(self.w, x)), self.b if bug != "no-bias" else 0.0)
            if bug == "relu":
                return total.relu() if self.nonlinear else total
            return total.tanh() if self.nonlinear else total

        def parameters(self):
            if bug == "no-bias":
                return list(self.w)
            return [self.b] + self.w if bug == "bias-first" else self.w + [self.b]

    class Layer:
        def __init__(self, n_inputs, n_outputs, rng, nonlinear=True):
            if bug == "shared":
                self.neurons = [Neuron(n_inputs, rng, nonlinear)] * n_outputs
            else:
                self.neurons = [Neuron(n_inputs, rng, nonlinear) for _ in range(n_outputs)]

        def __call__(self, x):
            return [n(x) for n in self.neurons]

        def parameters(self):
            return [p for n in self.neurons for p in n.parameters()]

    class MLP:
        def __init__(self, n_inputs, layer_sizes, rng):
            sizes = [n_inputs] + list(layer_sizes)
            last = len(layer_sizes) - 1
            self.layers = [Layer(sizes[i], sizes[i + 1], rng,
                                 nonlinear={"output-tanh": True, "no-hidden": False}.get(bug, i < last))
                           for i in range(len(layer_sizes))]

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

        def parameters(self):
            return [p for layer in self.layers for p in layer.parameters()]

    return MLP


class MatrixMLP:
    """A second correct MLP: no Neuron class, weights as nested lists, a single output returned bare."""

    def __init__(self, n_inputs, layer_sizes, rng):
        self.layers = []
        for fan_in, fan_out in zip([n_inputs, *layer_sizes], layer_sizes):
            rows = [[autograd.Value(rng.uniform(-1, 1)) for _ in range(fan_in)] + [autograd.Value(0.0)]
                    for _ in range(fan_out)]
            self.layers.append(rows)

    def __call__(self, x):
        for depth, rows in enumerate(self.layers):
            outs = []
            for row in rows:
                s = row[-1]
                for w, xi in zip(row[:-1], x):
                    s = s + w * xi
                outs.append(s if depth == len(self.layers) - 1 else s.tanh())
            x = outs
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for rows in self.layers for row in rows for p in row]


@pytest.mark.parametrize("mlp", [make_mlp(), make_mlp(value=make_engine()), MatrixMLP],
                         ids=["neurons", "neurons-on-own-engine", "matrix"])
def test_mlp_right_answers_pass_and_are_accepted(mlp, capsys):
    assert ch05.check_mlp(mlp).passed
    assert "Exercise 5.4 passed" in capsys.readouterr().out
    assert accepted("MLP") is mlp


@pytest.mark.parametrize("bug, mistake, fragment", [
    ("no-bias", "bias-missing", "one value too few per neuron"),
    ("output-tanh", "output-layer-activated", "the last layer is linear"),
    ("no-hidden", "hidden-activation-missing", "one linear map"),
    ("relu", "relu-instead-of-tanh", "use relu"),
    ("shared", "neurons-shared", "share their parameters"),
    ("bias-first", "bias-listed-first", "bias before its weights"),
])
def test_mlp_mistakes_are_diagnosed(bug, mistake, fragment):
    fails_with(ch05.check_mlp, make_mlp(bug), fragment, mistake=mistake)
    assert accepted("MLP") is None


def test_mlp_that_builds_on_dlcore_fails_and_not_done():
    class Wrapped(autograd_nn.MLP):
        pass

    fails_with(ch05.check_mlp, Wrapped, "dlcore.scratch.autograd_nn.MLP", mistake="delegates-to-reference")
    fails_with(ch05.check_mlp, make_mlp()(2, [1], np.random.default_rng(0)), "expected the class MLP itself")

    class Stub:
        def __init__(self, n_inputs, layer_sizes, rng):
            raise NotImplementedError("Exercise 5.4: replace this line with your code")

    with pytest.raises(NotImplementedError, match="Exercise 5.4 is not done yet"):
        ch05.check_mlp(Stub)


def test_reference_mlp_trains_on_moons():
    from dlcore.data import make_moons

    rng = np.random.default_rng(0)
    X, y = make_moons(40, noise=0.1, seed=rng)
    labels = 2 * y - 1
    model = autograd_nn.MLP(2, [8, 1], rng)
    first = None
    for _ in range(40):
        loss = autograd_nn.hinge_loss([model(list(row))[0] for row in X], labels)
        first = loss.data if first is None else first
        loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad
    assert loss.data < 0.75 * first
    assert autograd_nn.accuracy([model(list(row))[0] for row in X], labels) >= 0.8


def test_reference_mlp_rejects_bad_sizes():
    with pytest.raises(ValueError, match="layer size"):
        autograd_nn.MLP(2, [0], np.random.default_rng(0))
    with pytest.raises(ValueError, match="at least one layer"):
        autograd_nn.MLP(2, [], np.random.default_rng(0))
    with pytest.raises(ValueError, match="got 3 inputs, expected 2"):
        autograd_nn.Neuron(2, np.random.default_rng(0))([1.0, 2.0, 3.0])


# ---------------------------------------------------------------- 5.6 two-layer backward

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
                      "z1": z1 * (1 - z1), "tanh": 1 - h**2, "plus": h * (1 + h)}[slope]
        delta1 = (delta2 @ W2.T) * derivative
        dW1 = (x.T @ delta1).T if transpose_dW1 else x.T @ delta1
        db1 = delta1.sum(axis=bias_axis, keepdims=keepdims)
        grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        return tuple(grads[name] for name in order)
    return backward


def einsum_backward(cache):
    """A second correct answer: einsum and an explicit loop over the batch for the biases."""
    delta2 = (cache.p - cache.y) / cache.x.shape[0]
    delta1 = np.einsum("nk,jk->nj", delta2, cache.W2) * cache.h * (1.0 - cache.h)
    db1 = np.zeros(cache.h.shape[1])
    for row in delta1:
        db1 = db1 + row
    return (np.einsum("nd,nj->dj", cache.x, delta1), db1, np.einsum("nj,nk->jk", cache.h, delta2),
            np.array([delta2.sum()]))


@pytest.mark.parametrize("answer", [make_backward(), einsum_backward], ids=["matrix", "einsum"])
def test_two_layer_right_answers_pass_and_are_accepted(answer, capsys):
    assert ch05.check_two_layer_backward(answer).passed
    assert "Exercise 5.6 passed" in capsys.readouterr().out
    assert accepted("two_layer_backward") is answer


@pytest.mark.parametrize("kwargs, mistake, fragments", [
    (dict(average=False), "mean-not-divided", ("N times too large", "mean over the batch")),
    (dict(sign=-1.0), "sign-flipped", ("sign is flipped",)),
    (dict(slope="none"), "hidden-derivative-missing", ("activation derivative is missing",)),
    (dict(slope="article"), "sigmoid-applied-to-h", ("applied the sigmoid to h again", "article 001")),
    (dict(slope="plus"), "sigmoid-derivative-sign", ("h (1 + h)",)),
    (dict(slope="z1"), "derivative-from-z1", ("with z1 where the activation",)),
    (dict(slope="tanh"), "tanh-derivative", ("tanh's derivative",)),
    (dict(layer2_input="z1"), "dW2-from-z1", ("dW2 multiplies what entered layer 2",)),
    (dict(keepdims=True), "bias-keepdims", ("keepdims",)),
    (dict(bias_axis=1), "bias-summed-over-units", ("axis 1",)),
    (dict(transpose_dW1=True), "dW1-transposed", ("dW1 is transposed",)),
    (dict(order=("dW2", "db2", "dW1", "db1")), "gradients-reordered", ("(dW2, db2, dW1, db1)",)),
])
def test_two_layer_mistakes_are_diagnosed(kwargs, mistake, fragments):
    fails_with(ch05.check_two_layer_backward, make_backward(**kwargs), *fragments, mistake=mistake)


def test_two_layer_in_place_change_and_transpose_on_a_square_batch():
    fails_with(ch05.check_two_layer_backward, make_backward(inplace=True), "changed its input array in place")

    def transposes_when_square(cache):
        dW1, db1, dW2, db2 = make_backward()(cache)
        return (dW1.T if dW1.shape[0] == dW1.shape[1] else dW1), db1, dW2, db2

    fails_with(ch05.check_two_layer_backward, transposes_when_square, "dW1 is transposed", "N=4, D=4, Hh=4",
               mistake="dW1-transposed")


def test_two_layer_unrecognised_values_name_an_index_as_plain_ints():
    def off_by_a_bit(cache):
        dW1, db1, dW2, db2 = make_backward()(cache)
        return dW1 + 0.01, db1, dW2, db2

    error = fails_with(ch05.check_two_layer_backward, off_by_a_bit, "wrong values in dW1", "at index (1, 1) you return")
    assert error.mistake == ""


def test_two_layer_sigma_prime_twice_at_the_output():
    def twice(cache):
        x, y, z1, h, W1, W2, p = cache
        delta2 = (p - y) / len(x) * p * (1 - p)
        delta1 = (delta2 @ W2.T) * h * (1 - h)
        return x.T @ delta1, delta1.sum(axis=0), h.T @ delta2, delta2.sum(axis=0)

    fails_with(ch05.check_two_layer_backward, twice, "already cancelled", mistake="output-sigmoid-twice")


def test_two_layer_delegation_is_caught():
    fails_with(ch05.check_two_layer_backward, backward_fixed, mistake="delegates-to-reference")

    def via_linear_backward(cache):
        x, y, z1, h, W1, W2, p = cache
        dh, dW2, db2 = linear_backward((p - y) / len(x), LinearCache(h, W2))
        dx, dW1, db1 = linear_backward(dh * h * (1 - h), LinearCache(x, W1))
        return dW1, db1, dW2, db2

    fails_with(ch05.check_two_layer_backward, via_linear_backward, "linear_backward", mistake="delegates-to-reference")


def test_two_layer_structural_problems():
    fails_with(ch05.check_two_layer_backward, lambda cache: None, "returned None")
    fails_with(ch05.check_two_layer_backward, lambda cache: (1, 2), "returned 2 values; expected 4")
    fails_with(ch05.check_two_layer_backward, lambda cache: 1 / 0, "raised ZeroDivisionError")
    fails_with(ch05.check_two_layer_backward, "not a function", "expected a function")

    def not_done(cache):
        raise NotImplementedError("Exercise 5.6: replace this line with your code")

    with pytest.raises(NotImplementedError, match="Exercise 5.6 is not done yet"):
        ch05.check_two_layer_backward(not_done)


def test_two_layer_cache_is_a_real_forward_pass():
    cache = ch05.make_two_layer_cache(5, 3, 4)
    assert cache.x.shape == (5, 3) and cache.h.shape == (5, 4) and cache.p.shape == (5, 1)
    np.testing.assert_allclose(cache.h, sigmoid(cache.z1))
    assert set(np.unique(cache.y)) <= {0.0, 1.0}


def test_references_name_what_each_exercise_rebuilds():
    assert set(ch05.REFERENCES) == {"5.3", "5.4", "5.6"}
    assert backward_fixed in ch05.REFERENCES["5.6"]


# ---------------------------------------------------------------- the answers the notebook test runs on

def _run_answers(answers: dict, labels) -> dict:
    namespace: dict = {"Value": autograd.Value}
    for label in labels:
        exec(answers[label], namespace)  # noqa: S102 - the course's own sample answers
    return namespace


def test_sample_right_answers_pass_each_check(capsys):
    from tests.learner_answers import ch05 as answers

    namespace = _run_answers(answers.RIGHT, ("5.3", "5.4", "5.6"))
    assert ch05.check_engine(namespace["Value"]).passed
    assert ch05.check_mlp(namespace["MLP"]).passed
    assert ch05.check_two_layer_backward(namespace["two_layer_backward"]).passed


@pytest.mark.parametrize("label, check, name, mistake", [
    ("5.3", ch05.check_engine, "Value", "tanh-slope-at-input"),
    ("5.4", ch05.check_mlp, "MLP", "output-layer-activated"),
    ("5.6", ch05.check_two_layer_backward, "two_layer_backward", "sigmoid-derivative-sign"),
])
def test_sample_wrong_answers_get_their_diagnosis(label, check, name, mistake):
    from tests.learner_answers import ch05 as answers

    fails_with(check, _run_answers(answers.WRONG, (label,))[name], mistake=mistake)
