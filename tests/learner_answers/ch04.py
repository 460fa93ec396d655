"""Answers a student might write for chapter 04 (tests/test_build_exercises.py runs the student notebook on them)."""

RIGHT = {
    "4.1": '''def mse_loss(pred, target):
    residual = np.subtract(pred, target)
    count = residual.size
    return float(np.sum(residual * residual) / count), residual * (2.0 / count)


def bce_with_logits_loss(logits, target):
    loss = np.mean(np.logaddexp(0.0, logits) - target * logits)
    prob = 0.5 * (1.0 + np.tanh(0.5 * logits))
    return loss, (prob - target) / np.size(logits)''',
    "4.3": '''def softmax_cross_entropy(logits, labels):
    N, K = logits.shape
    shifted = logits - logits.max(axis=1)[:, None]
    log_norm = np.log(np.sum(np.exp(shifted), axis=1))  # (N,)
    loss = np.sum(log_norm - shifted[np.arange(N), labels]) / N
    probs = np.exp(shifted - log_norm[:, None])
    return loss, (probs - np.eye(K)[labels]) / N''',
    "4.5": '''def sigmoid_mse_loss(theta, X, y):
    design = np.hstack([X, np.ones((len(X), 1))])  # a column of ones carries the bias
    p = sigmoid(design @ theta)
    loss, dp = mse_loss_fn(p, y)
    return loss, design.T @ (dp * p * (1 - p))


def logistic_regression_loss(theta, X, y):
    design = np.hstack([X, np.ones((len(X), 1))])
    loss, dz = bce_loss_fn(design @ theta, y)
    return loss, design.T @ dz''',
    "4.7": '''def train_softmax_regression(X, y, W, b, loss_fn, learning_rate, num_epochs, batch_size, seed, weight_decay=0.0):
    generator = np.random.default_rng(seed)
    weights, bias, recorded = np.array(W, dtype=float), np.array(b, dtype=float), []
    for _ in range(num_epochs):
        shuffled = generator.permutation(len(X))
        for first in range(0, len(X), batch_size):
            rows = shuffled[first:first + batch_size]
            loss, grad = loss_fn(X[rows] @ weights + bias, y[rows])
            recorded.append(loss + weight_decay / 2 * np.vdot(weights, weights))
            weights -= learning_rate * (np.einsum("bd,bk->dk", X[rows], grad) + weight_decay * weights)
            bias -= learning_rate * grad.sum(0)
    return weights, bias, np.asarray(recorded)''',
}

WRONG = {
    # the true class's score also appears in every violated margin: its gradient entry is forgotten
    "4.4": '''def multiclass_hinge(scores, labels, margin=1.0):
    N = scores.shape[0]
    correct = scores[np.arange(N), labels][:, None]
    margins = np.maximum(0, scores - correct + margin)
    margins[np.arange(N), labels] = 0
    dscores = (margins > 0).astype(float) / N
    return margins.sum() / N, dscores''',
}

USES = {"4.1": "mse_loss", "4.3": "softmax_cross_entropy", "4.4": "multiclass_hinge", "4.5": "logistic_regression_loss",
        "4.7": "train_softmax_regression"}
