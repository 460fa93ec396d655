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
}

USES = {"2.3": "perceptron_train", "2.6": "mlp_forward"}
