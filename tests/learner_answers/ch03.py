"""Answers a student might write for chapter 03 (tests/test_build_exercises.py runs the student notebook on them)."""

RIGHT = {
    "3.2": '''
import math


def sigmoid(x):
    out = np.empty_like(x, dtype=float)
    positive = x >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-x[positive]))
    e = np.exp(x[~positive])
    out[~positive] = e / (1.0 + e)
    return out


def sigmoid_derivative(x, out):
    return out - out**2


def tanh_derivative(x, out):
    return (1.0 - out) * (1.0 + out)


def elu_derivative(x, out, alpha=1.0):
    slope = out + alpha
    slope[x > 0] = 1.0
    return slope


def relu(x):
    return x * (x > 0)


def relu_derivative(x, out):
    return np.heaviside(x, 0.0)


def leaky_relu(x, negative_slope=0.01):
    return np.maximum(x, 0) + negative_slope * np.minimum(x, 0)


def leaky_relu_derivative(x, out, negative_slope=0.01):
    slope = np.full(np.shape(x), float(negative_slope))
    slope[x > 0] = 1.0
    return slope


def elu(x, alpha=1.0):
    return np.maximum(x, 0) + alpha * (np.exp(np.minimum(x, 0)) - 1)


def gelu(x):
    phi = np.vectorize(lambda v: 0.5 * math.erfc(-v / math.sqrt(2.0)))(x)
    return x * phi


def gelu_derivative(x, out):
    cdf = np.vectorize(lambda v: 0.5 * math.erfc(-v / math.sqrt(2.0)))(x)
    return cdf + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)


my_activations = {"sigmoid": (sigmoid, sigmoid_derivative), "tanh": (np.tanh, tanh_derivative),
                  "relu": (relu, relu_derivative), "leaky_relu": (leaky_relu, leaky_relu_derivative),
                  "elu": (elu, elu_derivative), "gelu": (gelu, gelu_derivative)}
''',
}

WRONG = {
    "3.5": '''
def softmax(logits):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1)


def log_softmax(logits):
    return np.log(softmax(logits))


def softmax_backward(dout, s):
    return dout * s * (1 - s)
''',
}

USES = {"3.2": "activations", "3.5": "softmax"}
