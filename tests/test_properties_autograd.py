"""Properties of chapter 05's scalar autograd engine: random expression graphs differentiate as PyTorch's do."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from dlcore.scratch import autograd as A
from tests.property_kit import covers, rejects

covers(
    A.Value, A.topological_order, A.iter_backward, A.backward, A.add_backward, A.sub_backward, A.mul_backward,
    A.div_backward, A.pow_backward, A.neg_backward, A.exp_backward, A.log_backward, A.tanh_backward,
    A.sigmoid_backward, A.relu_backward,
)

# Each step combines the running value c with the leaves a and b, staying inside every function's domain;
# the same code runs on Values and on torch tensors.
STEPS = {
    "+": lambda c, a, b: c + a,
    "-": lambda c, a, b: c - b,
    "*": lambda c, a, b: c * a,
    "/": lambda c, a, b: c / (1 + b * b),
    "**": lambda c, a, b: (c * c + 1) ** 1.5,
    "neg": lambda c, a, b: -c,
    "exp": lambda c, a, b: c.tanh().exp(),
    "log": lambda c, a, b: (c * c + 1).log(),
    "tanh": lambda c, a, b: c.tanh(),
    "sigmoid": lambda c, a, b: c.sigmoid() * b,
    "relu": lambda c, a, b: (c - a).relu() + 2 * c,
    "reflected": lambda c, a, b: 2 - c * 0.5 + 3 / (2 + a * a),
}


def run(program, a, b):
    c = a * b
    for step in program:
        c = STEPS[step](c, a, b)
    return c


@given(program=st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=8),
       a=st.floats(-2, 2), b=st.floats(-2, 2))
def test_random_graphs_have_torchs_value_and_gradients(program, a, b):
    va, vb = A.Value(a), A.Value(b)
    out = run(program, va, vb)
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
    reference = run(program, ta, tb)
    if not math.isfinite(reference.item()):
        return
    reference.backward()
    order = A.backward(out)
    assert out.data == pytest.approx(reference.item(), rel=1e-12, abs=1e-12)
    assert va.grad == pytest.approx(ta.grad.item(), rel=1e-9, abs=1e-12)
    assert vb.grad == pytest.approx(tb.grad.item(), rel=1e-9, abs=1e-12)
    position = {id(node): index for index, node in enumerate(order)}
    assert all(position[id(parent)] < position[id(node)] for node in order for parent in node.parents)
    visited = list(A.iter_backward(out))
    assert [id(n) for n in visited] == [id(n) for n in reversed(order)]
    assert va.grad == pytest.approx(ta.grad.item(), rel=1e-9, abs=1e-12)  # recomputed, not accumulated


@pytest.mark.parametrize("op", sorted(A.BACKWARD_RULES))
def test_every_rule_is_needed(op):
    """Removing one rule breaks exactly the graphs that use its op, with an error that names it."""
    graph = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
             "**": lambda a, b: a ** 2.0, "neg": lambda a, b: -a, "exp": lambda a, b: a.exp(),
             "log": lambda a, b: a.log(), "tanh": lambda a, b: a.tanh(), "sigmoid": lambda a, b: a.sigmoid(),
             "relu": lambda a, b: a.relu()}[op](A.Value(1.5), A.Value(0.5))
    assert graph.op == op
    rules = {key: rule for key, rule in A.BACKWARD_RULES.items() if key != op}
    rejects(lambda: A.backward(graph, rules), "op")
    A.backward(graph)


@pytest.mark.parametrize("call, argument, kind", [
    (lambda: A.Value("1.0"), "Value", TypeError),
    (lambda: A.Value(float("nan")), "nan", ValueError),
    (lambda: A.Value(1.0) + "2", "Value", TypeError),
    (lambda: A.Value(1.0) * np.array([1.0, 2.0]), "Value", TypeError),
    (lambda: A.Value(1.0) ** A.Value(2.0), "exponent", TypeError),
    (lambda: A.Value(-1.0).log(), "log", ValueError),
    # as for Python floats: a named ZeroDivisionError, not an infinite Value that poisons the graph
    (lambda: A.Value(1.0) / 0, "division", ZeroDivisionError),
])
def test_bad_operands_are_named(call, argument, kind):
    rejects(call, argument, kinds=(kind,))
