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
    "3.4": '''
def stack_statistics(x, weights, biases, f, f_derivative, dout):
    inputs, outputs = [], []
    h = x
    for W, b in zip(weights, biases):
        inputs.append(h @ W + b)
        h = f(inputs[-1])
        outputs.append(h)
    L = len(weights)
    mean = np.array([np.mean(h) for h in outputs])
    std = np.array([np.sqrt(np.mean((h - h.mean()) ** 2)) for h in outputs])
    saturated = np.zeros(L)
    grad_norm = np.zeros(L)
    grad = dout
    for l in range(L - 1, -1, -1):
        slope = f_derivative(inputs[l], outputs[l])
        saturated[l] = np.count_nonzero(np.abs(slope) < 0.01) / slope.size
        grad_norm[l] = np.sqrt(np.sum(grad ** 2))
        grad = np.dot(grad * slope, weights[l].T)
    return mean, std, grad_norm, saturated
''',
}

WRONG = {
    "3.4": '''
def stack_statistics(x, weights, biases, f, f_derivative, dout):
    h = x
    means, stds, saturated = [], [], []
    for W, b in zip(weights, biases):
        z = h @ W + b
        h = f(z)
        means.append(h.mean())
        stds.append(h.std())
        saturated.append(np.mean(np.abs(f_derivative(z, h)) < 0.01))
    grad = dout
    norms = []
    for W in reversed(weights):
        norms.append(np.linalg.norm(grad))
        grad = grad @ W.T
    return np.array(means), np.array(stds), np.array(norms[::-1]), np.array(saturated)
''',
    "3.6": '''
def softmax(logits):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1)


def log_softmax(logits):
    return np.log(softmax(logits))


def softmax_backward(dout, s):
    return dout * s * (1 - s)
''',
}

USES = {"3.2": "activations", "3.4": "stack_statistics", "3.6": "softmax"}
