"""Answers a student might write for chapter 05 (tests/test_build_exercises.py runs the student notebook on them)."""

RIGHT = {
    # An op tag and one table of local gradients instead of closures; an explicit stack instead of recursion.
    "5.3": '''import math

SLOPES = {
    "add": lambda node: (1.0, 1.0),
    "mul": lambda node: (node.parents[1].data, node.parents[0].data),
    "pow": lambda node: (node.power * node.parents[0].data ** (node.power - 1),),
    "exp": lambda node: (node.data,),
    "tanh": lambda node: (1.0 - node.data * node.data,),
    "relu": lambda node: (float(node.parents[0].data > 0),),
}


class Value:
    def __init__(self, data, parents=(), op=None, power=None):
        self.data, self.grad = float(data), 0.0
        self.parents, self.op, self.power = tuple(parents), op, power

    @staticmethod
    def lift(x):
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, other):
        other = Value.lift(other)
        return Value(self.data + other.data, (self, other), "add")

    def __mul__(self, other):
        other = Value.lift(other)
        return Value(self.data * other.data, (self, other), "mul")

    def __pow__(self, power):
        return Value(self.data ** power, (self,), "pow", power)

    def exp(self):
        return Value(math.exp(self.data), (self,), "exp")

    def tanh(self):
        return Value(math.tanh(self.data), (self,), "tanh")

    def relu(self):
        return Value(self.data if self.data > 0 else 0.0, (self,), "relu")

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, ready = stack.pop()
            if ready:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((parent, False) for parent in node.parents)
        self.grad = 1.0
        for node in reversed(order):
            if node.op is not None:
                for parent, slope in zip(node.parents, SLOPES[node.op](node)):
                    parent.grad += slope * node.grad

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-Value.lift(other))

    def __rsub__(self, other):
        return Value.lift(other) - self

    def __truediv__(self, other):
        return self * Value.lift(other) ** -1

    def __rtruediv__(self, other):
        return Value.lift(other) * self ** -1
''',
    # No Neuron objects: each layer keeps its weights as rows, the bias last in each row.
    "5.4": '''class Neuron:
    def __init__(self, n_inputs, rng, nonlinear=True):
        self.row = [Value(rng.uniform(-1, 1)) for _ in range(n_inputs)] + [Value(0.0)]
        self.nonlinear = nonlinear

    def __call__(self, x):
        s = self.row[-1]
        for w, xi in zip(self.row, x):
            s = w * xi + s
        return s.tanh() if self.nonlinear else s

    def parameters(self):
        return list(self.row)


class MLP:
    def __init__(self, n_inputs, layer_sizes, rng):
        self.layers, fan_in = [], n_inputs
        for depth, size in enumerate(layer_sizes):
            nonlinear = depth < len(layer_sizes) - 1
            self.layers.append([Neuron(fan_in, rng, nonlinear) for _ in range(size)])
            fan_in = size

    def __call__(self, x):
        for layer in self.layers:
            x = [neuron(x) for neuron in layer]
        return x

    def parameters(self):
        return [p for layer in self.layers for neuron in layer for p in neuron.parameters()]
''',
    # einsum, and the biases summed with an explicit loop over the batch.
    "5.6": '''import numpy as np

def two_layer_backward(cache):
    delta_out = (cache.p - cache.y) / cache.x.shape[0]
    delta_hidden = np.einsum("nk,jk->nj", delta_out, cache.W2) * cache.h * (1.0 - cache.h)
    db1 = np.zeros(cache.h.shape[1])
    for row in delta_hidden:
        db1 = db1 + row
    dW1 = np.einsum("nd,nj->dj", cache.x, delta_hidden)
    dW2 = np.einsum("nj,nk->jk", cache.h, delta_out)
    return dW1, db1, dW2, np.array([delta_out.sum()])
''',
}

WRONG = {
    # tanh's slope from the input instead of the output: 1 - x^2 where 1 - tanh(x)^2 belongs.
    "5.3": '''import math


class Value:
    def __init__(self, data, parents=()):
        self.data = float(data)
        self.grad = 0.0
        self.parents = parents
        self._backward = lambda: None

    def _lift(self, other):
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other):
        other = self._lift(other)
        out = Value(self.data + other.data, (self, other))
        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = self._lift(other)
        out = Value(self.data * other.data, (self, other))
        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, p):
        out = Value(self.data ** p, (self,))
        def _backward():
            self.grad += p * self.data ** (p - 1) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,))
        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,))
        def _backward():
            self.grad += (1 - self.data ** 2) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,))
        def _backward():
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out

    def backward(self):
        order, seen = [], set()
        def visit(node):
            if node not in seen:
                seen.add(node)
                for parent in node.parents:
                    visit(parent)
                order.append(node)
        visit(self)
        self.grad = 1.0
        for node in reversed(order):
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
        return self * other ** -1
''',
    # tanh on the output layer too.
    "5.4": '''class Neuron:
    def __init__(self, n_inputs, rng, nonlinear=True):
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(n_inputs)]
        self.b = Value(0.0)

    def __call__(self, x):
        return sum((w * xi for w, xi in zip(self.w, x)), self.b).tanh()

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, n_inputs, n_outputs, rng, nonlinear=True):
        self.neurons = [Neuron(n_inputs, rng) for _ in range(n_outputs)]

    def __call__(self, x):
        return [n(x) for n in self.neurons]

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, n_inputs, layer_sizes, rng):
        sizes = [n_inputs] + list(layer_sizes)
        self.layers = [Layer(sizes[i], sizes[i + 1], rng) for i in range(len(layer_sizes))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]
''',
    # the sigmoid's derivative with a sign slip: h (1 + h).
    "5.6": '''def two_layer_backward(cache):
    x, y, z1, h, W1, W2, p = cache
    delta2 = (p - y) / x.shape[0]
    delta1 = (delta2 @ W2.T) * h * (1 + h)
    return x.T @ delta1, delta1.sum(axis=0), h.T @ delta2, delta2.sum(axis=0)
''',
}

USES = {"5.3": "Value", "5.4": "MLP", "5.6": "two_layer_backward"}
