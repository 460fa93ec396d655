"""Answers a student might write for chapter 02 (tests/test_build_exercises.py runs the student notebook on them)."""

RIGHT = {
    "2.2": '''
def perceptron_update(x, y, w, b, learning_rate=1.0):
    error = y - (1 if np.dot(w, x) + b > 0 else 0)
    return w + learning_rate * error * x, b + learning_rate * error
''',
    "2.3": '''
def perceptron_train(X, y, learning_rate=1.0, max_epochs=100, rng=None):
    labels = np.where(np.asarray(y) > 0, 1, 0)
    w, b = np.zeros(X.shape[1]), 0.0
    weights, biases, mistakes = [w], [b], []
    while len(mistakes) < max_epochs:
        order = np.arange(len(X)) if rng is None else rng.permutation(len(X))
        wrong = 0
        for i in order:
            new_w, new_b = perceptron_update(X[i], labels[i], w, b, learning_rate)
            wrong += int(new_b != b or not np.array_equal(new_w, w))
            w, b = new_w, new_b
        weights.append(w)
        biases.append(b)
        mistakes.append(wrong)
        if wrong == 0:
            break
    return PerceptronHistory(np.stack(weights), np.array(biases), np.array(mistakes), converged=mistakes[-1] == 0)
''',
    "2.7": '''
def interpolating_network(g, a, b, K):
    t = np.linspace(a, b, K + 1)
    h = (b - a) / K
    corners = np.concatenate([[a - h], t, [b + h]])  # a hat at every knot, made of three hinges
    W1 = np.ones((1, 3 * (K + 1)))
    b1 = -np.concatenate([corners[k:k + 3] for k in range(K + 1)])
    W2 = np.concatenate([g(t[k]) * np.array([1.0, -2.0, 1.0]) / h for k in range(K + 1)])[:, None]
    return W1, b1, W2, np.zeros(1)


def approximating_network(g, a, b, tolerance, max_pieces=4096):
    x = np.linspace(a, b, 1001).reshape(-1, 1)
    for p in range(int(np.log2(max_pieces)) + 1):
        W1, b1, W2, b2 = interpolating_network(g, a, b, 2**p)
        if np.max(np.abs(network_output(x, W1, b1, W2, b2) - g(x))) <= tolerance:
            return W1, b1, W2, b2
    raise ValueError("the tolerance was not reached")
''',
}

WRONG = {
    "2.6": '''
def mlp_forward(x, layers, activation):
    outputs = []
    h = x
    for W, b in layers[:-1]:
        h = activation(h @ W + b)
        outputs.append(h)
    W, b = layers[-1]
    outputs.append(h @ W + b)  # no activation on the output layer
    return outputs
''',
    "2.7": '''
def interpolating_network(g, a, b, K):
    knots = np.linspace(a, b, K + 1)
    values = g(knots)
    slopes = np.diff(values) / np.diff(knots)
    W1 = np.ones((1, K))
    b1 = -knots[:-1]
    W2 = slopes.reshape(K, 1)  # each hinge gets the slope of its piece
    b2 = values[:1]
    return W1, b1, W2, b2


def approximating_network(g, a, b, tolerance, max_pieces=4096):
    grid = np.linspace(a, b, 1001)[:, None]
    K = 1
    while K <= max_pieces:
        weights = interpolating_network(g, a, b, K)
        if np.abs(network_output(grid, *weights) - g(grid)).max() <= tolerance:
            return weights
        K *= 2
    raise ValueError("the tolerance was not reached")
''',
}

USES = {"2.3": "perceptron_train", "2.6": "mlp_forward", "2.7": "approximating_network"}
