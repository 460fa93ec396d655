"""Chapter 05: the scalar autograd engine against finite differences and torch.autograd."""

import math

import numpy as np
import pytest
import torch

from dlcore.scratch import autograd
from dlcore.scratch.autograd import BACKWARD_RULES, Value, backward, iter_backward, topological_order

# Central differences in float64 at eps = 1e-6 agree with exact derivatives to ~1e-9 relative;
# 1e-6 separates that from any wrong rule (off by a factor, a sign or a term).
FD_RTOL = 1e-6

# One expression per operation, each with its inputs; x and y are Values or torch tensors.
OPERATIONS = {
    "+": (lambda x, y, t: x + y, (0.7, -1.3)),
    "-": (lambda x, y, t: x - y, (0.7, -1.3)),
    "*": (lambda x, y, t: x * y, (0.7, -1.3)),
    "/": (lambda x, y, t: x / y, (0.7, -1.3)),
    "**": (lambda x, y, t: x**3 + y**-2 + (x * x) ** 0.5, (0.7, -1.3)),
    "neg": (lambda x, y, t: -x * y, (0.7, -1.3)),
    "exp": (lambda x, y, t: t.exp(x * y), (0.7, -1.3)),
    "log": (lambda x, y, t: t.log(x * x + y * y), (0.7, -1.3)),
    "tanh": (lambda x, y, t: t.tanh(x + y), (0.7, -0.2)),
    "sigmoid": (lambda x, y, t: t.sigmoid(x * y), (0.7, -1.3)),
    "relu": (lambda x, y, t: t.relu(x) + t.relu(y), (0.7, -1.3)),
    "number on the left": (lambda x, y, t: 2.0 - x + 3 * y + 1 / x + (1.5 + y) / 2, (0.7, -1.3)),
}


class EngineOps:
    """The engine's functions under the names torch uses, so one lambda serves both."""

    exp, log, tanh, sigmoid, relu = Value.exp, Value.log, Value.tanh, Value.sigmoid, Value.relu


def engine_gradients(expression, inputs):
    x, y = (Value(v) for v in inputs)
    out = expression(x, y, EngineOps)
    out.backward()
    return out.data, x.grad, y.grad


def finite_difference(expression, inputs, eps=1e-6):
    def f(a, b):
        return expression(Value(a), Value(b), EngineOps).data

    x, y = inputs
    return ((f(x + eps, y) - f(x - eps, y)) / (2 * eps), (f(x, y + eps) - f(x, y - eps)) / (2 * eps))


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_each_operation_matches_finite_differences(name):
    expression, inputs = OPERATIONS[name]
    _, dx, dy = engine_gradients(expression, inputs)
    numeric = finite_difference(expression, inputs)
    np.testing.assert_allclose((dx, dy), numeric, rtol=FD_RTOL, atol=1e-9)


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_each_operation_matches_torch_float64(name):
    expression, inputs = OPERATIONS[name]
    value, dx, dy = engine_gradients(expression, inputs)
    x, y = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in inputs)
    out = expression(x, y, torch)
    out.backward()
    np.testing.assert_allclose((value, dx, dy), (out.item(), x.grad.item(), y.grad.item()), rtol=1e-12, atol=1e-14)


def test_every_operation_has_a_rule_and_the_table_is_used():
    ops = {node.op for name, (expression, inputs) in OPERATIONS.items()
           for node in topological_order(expression(*(Value(v) for v in inputs), EngineOps))}
    assert ops - {""} == set(BACKWARD_RULES)


@pytest.mark.parametrize("build, expected", [
    (lambda a: a + a, 2.0),
    (lambda a: a * a, 6.0),  # 2a at a = 3
    (lambda a: a * a + a, 7.0),
    (lambda a: (a + a) * a, 12.0),  # 4a
    (lambda a: a / a, 0.0),
    (lambda a: a - a, 0.0),
])
def test_reused_nodes_accumulate_like_torch(build, expected):
    a = Value(3.0)
    build(a).backward()
    a_t = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    build(a_t).backward()
    assert a.grad == pytest.approx(expected)
    assert a.grad == pytest.approx(a_t.grad.item())


def test_an_assigning_rule_gives_the_wrong_gradient_for_reuse():
    def assigning_add(node):
        a, b = node.parents
        a.grad = node.grad
        b.grad = node.grad

    a = Value(3.0)
    backward(a + a, rules={**BACKWARD_RULES, "+": assigning_add})
    assert a.grad == 1.0  # the bug the accumulation avoids
    backward(a + a)
    assert a.grad == 2.0


def test_topological_order_puts_parents_first_and_each_node_once():
    x = Value(1.0)
    y = x * x + x
    z = y * y + x
    order = topological_order(z)
    position = {id(node): i for i, node in enumerate(order)}
    assert len(order) == len(position) == 5  # x, x*x, y, y*y, z
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]
    assert order[-1] is z and order[0] is x


def test_deep_graph_needs_no_recursion():
    x = Value(0.5)
    out = x
    for _ in range(5000):  # far beyond Python's default recursion limit of 1000
        out = out + x * 0.001
    out.backward()
    assert x.grad == pytest.approx(1.0 + 5000 * 0.001)


def test_backward_is_repeatable_and_leaves_data_alone():
    x, y = Value(0.3), Value(-2.0)
    f = (x * y).tanh() + x.exp()
    before = [node.data for node in topological_order(f)]
    f.backward()
    first = (x.grad, y.grad)
    f.backward()
    assert (x.grad, y.grad) == first  # recomputed from zero, not doubled
    assert [node.data for node in topological_order(f)] == before


def test_iter_backward_yields_each_node_once_in_reverse_order():
    x = Value(2.0)
    f = x * x + x
    visited = list(iter_backward(f))
    assert visited == topological_order(f)[::-1]


@pytest.mark.parametrize("power", [0.0, 0.5, 2.0])
def test_power_at_zero_matches_torch(power):
    x = Value(0.0)
    (x**power).backward()
    x_t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    (x_t**power).backward()
    assert x.grad == x_t.grad.item()  # 0, inf (a vertical tangent), 0


def test_stable_sigmoid_and_relu_at_extremes():
    assert Value(-1000.0).sigmoid().data == pytest.approx(0.0, abs=1e-300)
    assert Value(1000.0).sigmoid().data == 1.0
    for value, slope in ((2.0, 1.0), (-2.0, 0.0), (0.0, 0.0)):  # relu'(0) = 0, as in PyTorch
        x = Value(value)
        x.relu().backward()
        assert x.grad == slope


@pytest.mark.parametrize("attempt, error, words", [
    (lambda: Value(2.0) + "3", TypeError, "cannot combine a Value with str"),
    (lambda: Value(2.0) * [1.0], TypeError, "use a number (int or float) or a Value"),
    (lambda: Value(2.0) * np.ones(3), TypeError, "cannot combine a Value with ndarray"),
    (lambda: Value(True), TypeError, "cannot combine a Value with bool"),
    (lambda: Value(float("nan")), ValueError, "got nan"),
    (lambda: Value(float("inf")) - Value(float("inf")), ValueError, "inf - inf"),
    (lambda: Value(2.0) ** Value(3.0), TypeError, "exponent must be a plain number"),
    (lambda: Value(-2.0) ** 0.5, ValueError, "negative base"),
    (lambda: Value(0.0) ** -1, ZeroDivisionError, "0 ** -1 is undefined"),
    (lambda: Value(1.0) / 0, ZeroDivisionError, "division by zero"),
    (lambda: 1 / Value(0.0), ZeroDivisionError, "division by zero"),
    (lambda: Value(0.0).log(), ValueError, "needs a positive input, got 0"),
    (lambda: Value(710.0).exp(), OverflowError, "overflows a float"),
    (lambda: Value(1e200) ** 2, OverflowError, "overflows a float"),
    (lambda: topological_order(3.0), TypeError, "root must be a Value"),
])
def test_bad_operands_raise_clear_errors(attempt, error, words):
    with pytest.raises(error, match=None) as info:
        attempt()
    assert words in str(info.value)


def test_unknown_op_in_rules_is_named():
    x = Value(1.0)
    with pytest.raises(ValueError, match="no backward rule for op 'tanh'"):
        backward(x.tanh(), rules={"*": autograd.mul_backward})


def test_numpy_scalars_are_numbers():
    x = Value(np.float64(2.0)) * np.int64(3)
    assert x.data == 6.0 and isinstance(x.data, float)
    assert math.isfinite(x.data)
