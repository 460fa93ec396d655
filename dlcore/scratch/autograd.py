"""A tiny scalar autograd engine: reverse-mode differentiation in one file (chapter 05).

Every arithmetic operation on a :class:`Value` returns a new Value that
remembers its inputs (``parents``) and the operation (``op``). Together they
form a computation graph. ``root.backward()`` then applies the chain rule
once per node, from the root back to the leaves:

    parent.grad += (d node / d parent) * node.grad

Each operation's backward rule is a plain function ``*_backward(node)`` that
adds its contributions into its parents' ``grad``. It must *add*, never
assign: a value used twice (``a + a``, ``x * x + x``) receives one
contribution per use, and the multivariable chain rule sums them.

Scalars only (Python floats), to keep every step visible; the NumPy layers of
``dlcore.scratch`` do the same with whole arrays at once.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Callable, Iterator, Mapping

__all__ = [
    "Value", "topological_order", "iter_backward", "backward", "BACKWARD_RULES",
    "add_backward", "sub_backward", "mul_backward", "div_backward", "pow_backward",
    "neg_backward", "exp_backward", "log_backward", "tanh_backward", "sigmoid_backward",
    "relu_backward",
]


def _as_number(func: str, value: object) -> float:
    """A finite-or-infinite Python float from an int/float, or a TypeError that says what to pass."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(
            f"{func}: cannot combine a Value with {type(value).__name__} {value!r}; "
            f"use a number (int or float) or a Value"
        )
    number = float(value)
    if math.isnan(number):
        raise ValueError(f"{func}: got nan (a nan input, or an undefined result such as inf - inf "
                         f"or 0 * inf); a graph through nan has no meaningful gradient")
    return number


class Value:
    """A scalar in a computation graph: its data, its gradient, and how it was made.

    Attributes:
        data: the number computed by the forward pass.
        grad: d(root)/d(self), filled in by ``root.backward()``; 0.0 before.
        parents: the Values this one was computed from (empty for a leaf).
        op: the operation that made it ("" for a leaf), e.g. "*" or "tanh".
        exponent: for op "**" only, the constant power p of x ** p.
        label: an optional name, shown in repr and in graph drawings.

    Raises (on construction): TypeError for a non-number, ValueError for nan.
    """

    __slots__ = ("data", "grad", "parents", "op", "exponent", "label")

    def __init__(self, data: float, parents: tuple["Value", ...] = (), op: str = "",
                 exponent: float | None = None, label: str = "") -> None:
        self.data = _as_number("Value", data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.op = op
        self.exponent = exponent
        self.label = label

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _wrap(func: str, other: "Value | float") -> "Value":
        return other if isinstance(other, Value) else Value(_as_number(func, other))

    # ------------------------------------------------------------ arithmetic

    def __add__(self, other: "Value | float") -> "Value":
        other = self._wrap("Value.__add__", other)
        return Value(self.data + other.data, (self, other), "+")

    def __sub__(self, other: "Value | float") -> "Value":
        other = self._wrap("Value.__sub__", other)
        return Value(self.data - other.data, (self, other), "-")

    def __mul__(self, other: "Value | float") -> "Value":
        other = self._wrap("Value.__mul__", other)
        return Value(self.data * other.data, (self, other), "*")

    def __truediv__(self, other: "Value | float") -> "Value":
        other = self._wrap("Value.__truediv__", other)
        if other.data == 0.0:
            raise ZeroDivisionError(f"Value.__truediv__: division by zero ({self!r} / {other!r})")
        return Value(self.data / other.data, (self, other), "/")

    def __pow__(self, exponent: float) -> "Value":
        if isinstance(exponent, Value):
            raise TypeError(
                "Value.__pow__: the exponent must be a plain number (x ** 2, x ** -0.5); this engine "
                "does not differentiate with respect to an exponent (write exp(p * log(x)) for that)"
            )
        p = _as_number("Value.__pow__", exponent)
        if self.data == 0.0 and p < 0:
            raise ZeroDivisionError(f"Value.__pow__: 0 ** {p:g} is undefined ({self!r})")
        if self.data < 0 and not p.is_integer():
            raise ValueError(f"Value.__pow__: a negative base ({self.data:g}) to a non-integer power ({p:g}) "
                             f"is not a real number")
        try:
            data = self.data**p
        except OverflowError:
            raise OverflowError(f"Value.__pow__: {self.data:g} ** {p:g} overflows a float") from None
        return Value(data, (self,), "**", exponent=p)

    def __neg__(self) -> "Value":
        return Value(-self.data, (self,), "neg")

    # number (op) Value: Python calls these when the left operand is a plain number
    def __radd__(self, other: float) -> "Value":
        return self._wrap("Value.__radd__", other) + self

    def __rsub__(self, other: float) -> "Value":
        return self._wrap("Value.__rsub__", other) - self

    def __rmul__(self, other: float) -> "Value":
        return self._wrap("Value.__rmul__", other) * self

    def __rtruediv__(self, other: float) -> "Value":
        return self._wrap("Value.__rtruediv__", other) / self

    # ------------------------------------------------------------ functions

    def exp(self) -> "Value":
        try:
            data = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"Value.exp: e ** {self.data:g} overflows a float (the limit is e ** 709.78)") from None
        return Value(data, (self,), "exp")

    def log(self) -> "Value":
        if self.data <= 0.0:
            raise ValueError(f"Value.log: the logarithm needs a positive input, got {self.data:g}")
        return Value(math.log(self.data), (self,), "log")

    def tanh(self) -> "Value":
        return Value(math.tanh(self.data), (self,), "tanh")

    def sigmoid(self) -> "Value":
        # Written with e^{-|x|} <= 1, so it never overflows (see chapter 03).
        z = math.exp(-abs(self.data))
        data = 1.0 / (1.0 + z) if self.data >= 0 else z / (1.0 + z)
        return Value(data, (self,), "sigmoid")

    def relu(self) -> "Value":
        return Value(max(self.data, 0.0), (self,), "relu")

    # ------------------------------------------------------------ backward

    def backward(self) -> None:
        """Fill ``grad`` of every Value this one depends on with d(self)/d(that Value)."""
        backward(self)


# ---------------------------------------------------------------- the graph

def topological_order(root: Value) -> list[Value]:
    """Every Value ``root`` depends on, each after all of its parents (root last).

    A depth-first search with an explicit stack, so a graph thousands of
    nodes deep does not hit Python's recursion limit. A Value used several
    times appears once.
    """
    if not isinstance(root, Value):
        raise TypeError(f"topological_order: root must be a Value, got {type(root).__name__}")
    order: list[Value] = []
    visited: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))  # comes back after its parents
        for parent in reversed(node.parents):
            if id(parent) not in visited:
                stack.append((parent, False))
    return order


# ---------------------------------------------------------------- local rules
# Each rule receives the node whose grad is complete and adds
# (d node / d parent) * node.grad into each parent's grad.

def add_backward(node: Value) -> None:
    """out = a + b: d out/da = 1, d out/db = 1."""
    a, b = node.parents
    a.grad += node.grad
    b.grad += node.grad


def sub_backward(node: Value) -> None:
    """out = a - b: d out/da = 1, d out/db = -1."""
    a, b = node.parents
    a.grad += node.grad
    b.grad -= node.grad


def mul_backward(node: Value) -> None:
    """out = a * b: d out/da = b, d out/db = a (each factor's slope is the other factor)."""
    a, b = node.parents
    a.grad += b.data * node.grad
    b.grad += a.data * node.grad


def div_backward(node: Value) -> None:
    """out = a / b: d out/da = 1/b, d out/db = -a/b^2."""
    a, b = node.parents
    a.grad += node.grad / b.data
    b.grad -= node.grad * a.data / b.data**2


def pow_backward(node: Value) -> None:
    """out = a ** p (p a constant): d out/da = p a^(p-1)."""
    (a,) = node.parents
    p = node.exponent
    if p == 0.0:
        slope = 0.0  # a ** 0 = 1 does not change with a (and 0 * 0 ** -1 would divide by zero)
    elif a.data == 0.0 and p < 1.0:
        slope = math.inf  # e.g. sqrt at 0: the tangent is vertical (PyTorch also gives inf)
    else:
        slope = p * a.data ** (p - 1)
    a.grad += slope * node.grad


def neg_backward(node: Value) -> None:
    """out = -a: d out/da = -1."""
    (a,) = node.parents
    a.grad -= node.grad


def exp_backward(node: Value) -> None:
    """out = e^a: d out/da = e^a, which is out itself."""
    (a,) = node.parents
    a.grad += node.data * node.grad


def log_backward(node: Value) -> None:
    """out = ln a: d out/da = 1/a."""
    (a,) = node.parents
    a.grad += node.grad / a.data


def tanh_backward(node: Value) -> None:
    """out = tanh a: d out/da = 1 - tanh(a)^2 = 1 - out^2."""
    (a,) = node.parents
    a.grad += (1.0 - node.data**2) * node.grad


def sigmoid_backward(node: Value) -> None:
    """out = sigma(a): d out/da = sigma(a)(1 - sigma(a)) = out (1 - out)."""
    (a,) = node.parents
    a.grad += node.data * (1.0 - node.data) * node.grad


def relu_backward(node: Value) -> None:
    """out = max(a, 0): d out/da = 1 if a > 0 else 0 (0 at a = 0, as in PyTorch)."""
    (a,) = node.parents
    a.grad += (1.0 if a.data > 0 else 0.0) * node.grad


BACKWARD_RULES: dict[str, Callable[[Value], None]] = {
    "+": add_backward, "-": sub_backward, "*": mul_backward, "/": div_backward,
    "**": pow_backward, "neg": neg_backward, "exp": exp_backward, "log": log_backward,
    "tanh": tanh_backward, "sigmoid": sigmoid_backward, "relu": relu_backward,
}


def iter_backward(root: Value, rules: Mapping[str, Callable[[Value], None]] | None = None) -> Iterator[Value]:
    """Run the backward pass one node at a time, yielding each node after its rule has run.

    Every grad in the graph is first set to 0 and root.grad to 1 (d root /
    d root). Nodes are visited in reverse topological order, so when a
    node's rule runs, every node that uses it has already passed its
    contribution down: its grad is complete. ``rules`` maps an op to its
    backward rule (default :data:`BACKWARD_RULES`); tests swap in a faulty one.

    Raises:
        ValueError: for an op that has no rule in ``rules``.
    """
    rules = BACKWARD_RULES if rules is None else rules
    order = topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    for node in reversed(order):
        if node.parents:
            if node.op not in rules:
                raise ValueError(f"backward: no backward rule for op {node.op!r}; known ops: {', '.join(rules)}")
            rules[node.op](node)
        yield node


def backward(root: Value, rules: Mapping[str, Callable[[Value], None]] | None = None) -> list[Value]:
    """Fill every grad in the graph of ``root`` with d(root)/d(node); return the nodes in topological order.

    Unlike PyTorch, which adds into leaf gradients on every call, the grads
    are recomputed from zero, so calling it twice gives the same result.
    """
    for _ in iter_backward(root, rules):
        pass
    return topological_order(root)
