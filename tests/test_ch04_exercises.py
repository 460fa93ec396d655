"""Chapter 04's checks accept different correct answers, diagnose plausible wrong ones, and refuse delegation."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.exercises import ExerciseFailed, ch04
from dlcore.exercises.learner import accepted, implementation
from dlcore.scratch import descent, losses
from tests.helpers import not_done


def failure(check, *functions) -> ExerciseFailed:
    with pytest.raises(ExerciseFailed) as info:
        check(*functions)
    return info.value


def stable_sigmoid(z):
    return np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))


# ---------------------------------------------------------------- 4.1

def mse_a(pred, target):
    diff = pred - target
    return np.mean(diff**2), 2 * diff / diff.size


def mse_b(pred, target):
    count = np.prod(pred.shape)
    residual = np.subtract(pred, target)
    return float((residual * residual).sum() / count), residual * (2.0 / count)


def bce_a(logits, target):
    per_entry = np.maximum(logits, 0) - target * logits + np.log1p(np.exp(-np.abs(logits)))
    return per_entry.mean(), (stable_sigmoid(logits) - target) / logits.size


def bce_b(logits, target):
    # log(1 + e^z) via logaddexp, sigmoid via tanh
    loss = np.mean(np.logaddexp(0.0, logits) - target * logits)
    return loss, (0.5 * (1 + np.tanh(logits / 2)) - target) / np.size(logits)


@pytest.mark.parametrize("mse, bce", [(mse_a, bce_a), (mse_b, bce_b)])
def test_4_1_accepts_two_correct_answers(mse, bce, capsys):
    assert ch04.check_regression_and_binary_losses(mse, bce).passed
    assert "Exercise 4.1 passed" in capsys.readouterr().out
    assert accepted("mse_loss") is mse and accepted("bce_with_logits_loss") is bce


@pytest.mark.parametrize("wrong, mistake", [
    (lambda p, t: (np.sum((p - t) ** 2), 2 * (p - t)), "mse-summed"),
    (lambda p, t: (mse_a(p, t)[0], 2 * (p - t)), "mse-gradient-of-sum"),
    (lambda p, t: (mse_a(p, t)[0], (p - t) / p.size), "mse-gradient-missing-2"),
    (lambda p, t: (mse_a(p, t)[0], 2 * (t - p) / p.size), "mse-gradient-sign"),
    (lambda p, t: (np.sum((p - t) ** 2) / len(p), 2 * (p - t) / len(p)), "mse-mean-over-rows"),
])
def test_4_1_diagnoses_mse_mistakes(wrong, mistake):
    error = failure(ch04.check_regression_and_binary_losses, wrong, bce_a)
    assert error.mistake == mistake, str(error)


@pytest.mark.parametrize("wrong, mistake", [
    (lambda z, y: (bce_a(z, y)[0] * z.size, stable_sigmoid(z) - y), "bce-summed"),
    (lambda z, y: (bce_a(z, y)[0], stable_sigmoid(z) - y), "bce-gradient-of-sum"),
    (lambda z, y: (bce_a(z, y)[0], (y - stable_sigmoid(z)) / z.size), "bce-gradient-sign"),
    (lambda z, y: bce_a(z, 1 - y), "bce-targets-swapped"),
    (lambda z, y: (bce_a(z, y)[0], (z - y) / z.size), "bce-gradient-without-sigmoid"),
    (lambda z, y: (np.mean(np.maximum(z, 0) - y * z), bce_a(z, y)[1]), "bce-log-term-dropped"),
])
def test_4_1_diagnoses_bce_mistakes(wrong, mistake):
    error = failure(ch04.check_regression_and_binary_losses, mse_a, wrong)
    assert error.mistake == mistake, str(error)


def naive_bce(z, y):
    p = 1 / (1 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), (p - y) / z.size


def test_4_1_explains_an_unstable_bce():
    error = failure(ch04.check_regression_and_binary_losses, mse_a, naive_bce)
    assert "warned" in str(error) and "never exponentiates a positive number" in str(error)


def test_4_1_refuses_delegation_and_reports_not_done():
    def delegating(pred, target):
        loss, cache = losses.mse_forward(pred, target)
        return loss, losses.mse_backward(cache)

    error = failure(ch04.check_regression_and_binary_losses, delegating, bce_a)
    assert error.mistake == "delegates-to-reference"
    with pytest.raises(NotImplementedError, match="Exercise 4.1 is not done yet"):
        ch04.check_regression_and_binary_losses(not_done, not_done)


# ---------------------------------------------------------------- 4.3

def ce_a(logits, labels):
    N = len(labels)
    m = logits.max(axis=1, keepdims=True)
    log_probs = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    grad = np.exp(log_probs)
    grad[np.arange(N), labels] -= 1
    return -log_probs[np.arange(N), labels].mean(), grad / N


def ce_b(logits, labels):
    N, K = logits.shape
    shifted = logits - logits.max(axis=1)[:, None]
    lse = np.log(np.sum(np.exp(shifted), axis=1))  # (N,)
    loss = np.sum(lse - shifted[np.arange(N), labels]) / N
    probs = np.exp(shifted - lse[:, None])
    return loss, (probs - np.eye(K)[labels]) / N


@pytest.mark.parametrize("right", [ce_a, ce_b])
def test_4_3_accepts_two_correct_answers(right, capsys):
    assert ch04.check_softmax_cross_entropy(right).passed
    assert "Exercise 4.3 passed" in capsys.readouterr().out
    assert implementation("softmax_cross_entropy", losses.softmax_cross_entropy, quiet=True) is right


def _probs(z):
    return np.exp(ce_a_log_probs(z))


def ce_a_log_probs(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("wrong, mistake", [
    (lambda z, y: (ce_a(z, y)[0] * len(y), ce_a(z, y)[1] * len(y)), "ce-summed"),
    (lambda z, y: (ce_a(z, y)[0], ce_a(z, y)[1] * len(y) / z.shape[1]), "ce-gradient-divided-by-K"),
    (lambda z, y: (ce_a(z, y)[0], ce_a(z, y)[1] * len(y)), "ce-gradient-of-sum"),
    (lambda z, y: (ce_a(z, y)[0], ce_a(z, y)[1] / z.shape[1]), "ce-gradient-divided-by-NK"),
    (lambda z, y: (-ce_a(z, y)[0], -ce_a(z, y)[1]), "ce-sign"),
    (lambda z, y: (ce_a(z, y)[0], -ce_a(z, y)[1]), "ce-gradient-sign"),
    (lambda z, y: (ce_a(z, y)[0], _probs(z) / len(y)), "ce-gradient-no-onehot"),
    (lambda z, y: (-ce_a_log_probs(z)[np.arange(len(y)), y], ce_a(z, y)[1]), "ce-per-example"),
    (lambda z, y: ce_a(z, (y - 1) % z.shape[1]), "ce-label-off-by-one"),
    (lambda z, y: (ce_a(z, y)[0] / np.log(2), ce_a(z, y)[1]), "ce-log2"),
    (lambda z, y: (ce_a(z, y)[0], ce_a(z, y)[1].T), "ce-gradient-transposed"),
])
def test_4_3_diagnoses_mistakes(wrong, mistake):
    error = failure(ch04.check_softmax_cross_entropy, wrong)
    assert error.mistake == mistake, str(error)


def test_4_3_dividing_by_K_is_named():
    error = failure(ch04.check_softmax_cross_entropy, lambda z, y: (ce_a(z, y)[0], ce_a(z, y)[1] * len(y) / z.shape[1]))
    assert "divides by K, the number of classes" in str(error) and "(5, 4)" in str(error)


def test_4_3_explains_overflow_and_log_of_zero():
    def naive(z, y):
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return -np.mean(np.log(p[np.arange(len(y)), y])), (p - np.eye(z.shape[1])[y]) / len(y)

    def log_of_stable_softmax(z, y):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        return -np.mean(np.log(p[np.arange(len(y)), y])), (p - np.eye(z.shape[1])[y]) / len(y)

    for wrong in (naive, log_of_stable_softmax):
        error = failure(ch04.check_softmax_cross_entropy, wrong)
        assert "warned" in str(error) and "never as np.log(softmax)" in str(error)


def test_4_3_refuses_delegation_and_reports_not_done():
    def delegating(z, y):
        log_probs = losses.log_softmax(z)
        return -log_probs[np.arange(len(y)), y].mean(), ce_a(z, y)[1]

    assert failure(ch04.check_softmax_cross_entropy, delegating).mistake == "delegates-to-reference"
    assert failure(ch04.check_softmax_cross_entropy, losses.softmax_cross_entropy).mistake == "delegates-to-reference"
    with pytest.raises(NotImplementedError, match="Exercise 4.3 is not done yet"):
        ch04.check_softmax_cross_entropy(not_done)


def test_4_3_hint_does_not_give_the_formula():
    error = failure(ch04.check_softmax_cross_entropy, lambda z, y: (ce_a(z, y)[0] + 0.1, ce_a(z, y)[1]))
    assert "onehot" not in str(error) and "np.exp(z - m)" not in str(error)


# ---------------------------------------------------------------- 4.4

def hinge_a(scores, labels, margin=1.0):
    N = len(labels)
    rows = np.arange(N)
    margins = np.maximum(0.0, scores - scores[rows, labels][:, None] + margin)
    margins[rows, labels] = 0.0
    mask = (margins > 0).astype(float)
    mask[rows, labels] = -mask.sum(axis=1)
    return margins.sum() / N, mask / N


def hinge_b(scores, labels, margin=1.0):
    N, K = scores.shape
    loss, grad = 0.0, np.zeros((N, K))
    for n in range(N):
        for k in range(K):
            if k == labels[n]:
                continue
            violation = scores[n, k] - scores[n, labels[n]] + margin
            if violation > 0:
                loss += violation
                grad[n, k] += 1
                grad[n, labels[n]] -= 1
    return loss / N, grad / N


@pytest.mark.parametrize("right", [hinge_a, hinge_b])
def test_4_4_accepts_two_correct_answers(right, capsys):
    assert ch04.check_multiclass_hinge(right).passed
    assert "Exercise 4.4 passed" in capsys.readouterr().out


def _hinge_flawed(flaw):
    def wrong(scores, labels, margin=1.0):
        N, K = scores.shape
        rows = np.arange(N)
        raw = scores - scores[rows, labels][:, None] + (1.0 if flaw == "margin-ignored" else margin)
        margins = np.maximum(0.0, raw)
        if flaw != "true-class-counted":
            margins[rows, labels] = 0.0
        mask = (raw >= 0).astype(float) if flaw == "active-at-zero" else (margins > 0).astype(float)
        mask[rows, labels] = 0.0
        if flaw != "true-class-gradient-missing":
            mask[rows, labels] = -mask.sum(axis=1)
        divisor = N * K if flaw == "divided-by-K" else 1 if flaw == "summed" else N
        return margins.sum() / divisor, mask / divisor
    return wrong


@pytest.mark.parametrize("flaw", ["true-class-counted", "summed", "divided-by-K", "true-class-gradient-missing",
                                  "active-at-zero", "margin-ignored"])
def test_4_4_diagnoses_mistakes(flaw):
    error = failure(ch04.check_multiclass_hinge, _hinge_flawed(flaw))
    assert error.mistake == f"hinge-{flaw}", str(error)


def test_4_4_refuses_delegation_and_reports_not_done():
    assert failure(ch04.check_multiclass_hinge, losses.multiclass_hinge).mistake == "delegates-to-reference"
    with pytest.raises(NotImplementedError, match="Exercise 4.4 is not done yet"):
        ch04.check_multiclass_hinge(not_done)


def test_hinge_reference_equals_K_times_torch_multi_margin_loss():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    scores, labels = rng.standard_normal((7, 5)), rng.integers(0, 5, 7)
    loss, dscores = losses.multiclass_hinge(scores, labels, margin=0.8)
    t = torch.tensor(scores, requires_grad=True)
    (torch.nn.functional.multi_margin_loss(t, torch.tensor(labels), margin=0.8) * 5).backward()
    expected = torch.nn.functional.multi_margin_loss(torch.tensor(scores), torch.tensor(labels), margin=0.8).item() * 5
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    np.testing.assert_allclose(dscores, t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_hinge_reference_rejects_bad_input():
    with pytest.raises(ValueError, match="scores has shape"):
        losses.multiclass_hinge_forward(np.zeros(3), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="out of range"):
        losses.multiclass_hinge_forward(np.zeros((2, 3)), np.array([0, 3]))


# ---------------------------------------------------------------- 4.5

def sigmoid_mse_a(theta, X, y):
    p = stable_sigmoid(X @ theta[:-1] + theta[-1])
    loss, dp = losses.mse_loss(p, y)
    dz = dp * p * (1 - p)
    return loss, np.append(X.T @ dz, dz.sum())


def logistic_a(theta, X, y):
    loss, dz = losses.bce_with_logits_loss(X @ theta[:-1] + theta[-1], y)
    return loss, np.append(X.T @ dz, dz.sum())


def sigmoid_mse_b(theta, X, y):
    design = np.hstack([X, np.ones((len(X), 1))])  # a column of ones carries the bias
    p = 0.5 * (1 + np.tanh(0.5 * (design @ theta)))
    residual = p - y
    return np.mean(residual**2), design.T @ (2 * residual * p * (1 - p)) / len(y)


def logistic_b(theta, X, y):
    design = np.hstack([X, np.ones((len(X), 1))])
    z = design @ theta
    return np.mean(np.logaddexp(0, z) - y * z), design.T @ (stable_sigmoid(z) - y) / len(y)


@pytest.mark.parametrize("mse_fn, ce_fn", [(sigmoid_mse_a, logistic_a), (sigmoid_mse_b, logistic_b)])
def test_4_5_accepts_two_correct_answers(mse_fn, ce_fn, capsys):
    assert ch04.check_logistic_losses(mse_fn, ce_fn).passed
    assert "Exercise 4.5 passed" in capsys.readouterr().out
    assert accepted("sigmoid_mse_loss") is mse_fn and accepted("logistic_regression_loss") is ce_fn


def _with_gradient(function, change):
    return lambda theta, X, y: (function(theta, X, y)[0], change(function(theta, X, y)[1], theta, X, y))


def sigmoid_mse_without_sigmoid_factor(theta, X, y):
    p = stable_sigmoid(X @ theta[:-1] + theta[-1])
    loss, dp = losses.mse_loss(p, y)
    return loss, np.append(X.T @ dp, dp.sum())


@pytest.mark.parametrize("wrong, mistake", [
    (sigmoid_mse_without_sigmoid_factor, "sigmoid-factor-missing"),
    (_with_gradient(sigmoid_mse_a, lambda g, theta, X, y: np.append(g[:-1], g[-1] / len(y))), "bias-gradient-mean"),
    (_with_gradient(sigmoid_mse_a, lambda g, theta, X, y: np.append(g[:-1], 0.0)), "bias-gradient-missing"),
    (_with_gradient(sigmoid_mse_a, lambda g, theta, X, y: g / len(y)), "divided-by-N-again"),
])
def test_4_5_diagnoses_sigmoid_mse_mistakes(wrong, mistake):
    error = failure(ch04.check_logistic_losses, wrong, logistic_a)
    assert error.mistake == mistake, str(error)


@pytest.mark.parametrize("wrong, mistake", [
    (_with_gradient(logistic_a, lambda g, theta, X, y: np.append(g[:-1], g[-1] / len(y))), "bias-gradient-mean"),
    (_with_gradient(logistic_a, lambda g, theta, X, y: np.append(g[:-1], 0.0)), "bias-gradient-missing"),
    (_with_gradient(logistic_a, lambda g, theta, X, y: g / len(y)), "divided-by-N-again"),
])
def test_4_5_diagnoses_cross_entropy_mistakes(wrong, mistake):
    error = failure(ch04.check_logistic_losses, sigmoid_mse_a, wrong)
    assert error.mistake == mistake, str(error)


def test_4_5_refuses_delegation_and_reports_not_done():
    assert failure(ch04.check_logistic_losses, descent.sigmoid_mse_loss,
                   logistic_a).mistake == "delegates-to-reference"
    assert failure(ch04.check_logistic_losses, sigmoid_mse_a,
                   descent.logistic_regression_loss).mistake == "delegates-to-reference"
    with pytest.raises(NotImplementedError, match="Exercise 4.5 is not done yet"):
        ch04.check_logistic_losses(not_done, not_done)


# ---------------------------------------------------------------- 4.6

def test_experiment_matches_the_theory():
    # L = 5: eta L = 1.5 (sign flips, shrinks), 2.25 (grows), 0.75 (monotone)
    behaviours = [ch04.run_descent_experiment(lr)[0] for lr in ch04.LEARNING_RATES]
    assert behaviours == ["oscillates", "diverges", "converges"]
    _, errors = ch04.run_descent_experiment(0.3)
    # the first steps only: later errors approach the float64 spacing next to w* = 0.8
    np.testing.assert_allclose(errors[1:16] / errors[:15], 1 - 0.3 * 5, rtol=1e-9)


def test_4_6_accepts_two_correct_answers(capsys):
    assert ch04.check_descent_prediction(lambda: ("oscillates", "diverges", "converges")).passed
    assert "2/L = 0.4" in capsys.readouterr().out
    assert ch04.check_descent_prediction(lambda: [" Oscillates", "DIVERGES", "converges"]).passed


@pytest.mark.parametrize("answer, mistake, diagnosis", [
    (("converges", "oscillates", "converges"), "curvature-is-coefficient", "Your answers fit a curvature of 2.5"),
    (("diverges", "diverges", "converges"), "oscillation-called-divergence", "Divergence needs |1 − ηL| > 1"),
    (("converges", "diverges", "converges"), "oscillation-called-convergence", "counts as 'oscillates'"),
    (("oscillates", "converge", "converges"), "unknown-word", "'converge' is not one of"),
    ("oscillates", "prediction-wrong-form", "should be a tuple of 3 words"),
    (("oscillates", "oscillates", "oscillates"), "lr-0.45-oscillates", "η = 0.45: you said oscillates, measured diverges"),
])
def test_4_6_diagnoses_mistakes(answer, mistake, diagnosis):
    error = failure(ch04.check_descent_prediction, lambda: answer)
    assert error.mistake == mistake and diagnosis in str(error)


def test_4_6_not_implemented():
    with pytest.raises(NotImplementedError, match="Exercise 4.6 is not done yet"):
        ch04.check_descent_prediction(not_done)


# ---------------------------------------------------------------- 4.7

def loop_a(X, y, W, b, loss_fn, learning_rate, num_epochs, batch_size, seed, weight_decay=0.0):
    rng = np.random.default_rng(seed)
    N = X.shape[0]
    W, b = W.copy(), b.copy()
    history = []
    for epoch in range(num_epochs):
        order = rng.permutation(N)
        for start in range(0, N, batch_size):
            batch = order[start:start + batch_size]
            logits = X[batch] @ W + b
            loss, dlogits = loss_fn(logits, y[batch])
            history.append(loss + 0.5 * weight_decay * np.sum(W**2))
            W = W - learning_rate * (X[batch].T @ dlogits + weight_decay * W)
            b = b - learning_rate * dlogits.sum(axis=0)
    return W, b, np.array(history)


def loop_b(X, y, W, b, loss_fn, learning_rate, num_epochs, batch_size, seed, weight_decay=0.0):
    generator = np.random.default_rng(seed)
    weights, bias, recorded = np.array(W, dtype=float), np.array(b, dtype=float), []
    num_batches = -(-len(X) // batch_size)
    for _ in range(num_epochs):
        shuffled = generator.permutation(len(X))
        for batch in np.array_split(shuffled, [batch_size * (i + 1) for i in range(num_batches - 1)]):
            loss, grad = loss_fn(X[batch] @ weights + bias, y[batch])
            recorded.append(loss + weight_decay / 2 * np.vdot(weights, weights))
            weights -= learning_rate * (np.einsum("bd,bk->dk", X[batch], grad) + weight_decay * weights)
            bias -= learning_rate * grad.sum(0)
    return weights, bias, np.asarray(recorded)


@pytest.mark.parametrize("right", [loop_a, loop_b])
def test_4_7_accepts_two_correct_answers(right, capsys):
    assert ch04.check_softmax_regression_loop(right).passed
    assert "Exercise 4.7 passed" in capsys.readouterr().out
    assert accepted("train_softmax_regression") is right


def _loop_flawed(**flaw):
    return lambda *args: ch04._loop_variant(*args, **flaw)


def loop_in_place(X, y, W, b, loss_fn, learning_rate, num_epochs, batch_size, seed, weight_decay=0.0):
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(num_epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            loss, dlogits = loss_fn(X[batch] @ W + b, y[batch])
            history.append(loss + 0.5 * weight_decay * np.sum(W * W))
            W -= learning_rate * (X[batch].T @ dlogits + weight_decay * W)
            b -= learning_rate * dlogits.sum(axis=0)
    return W, b, np.array(history)


def loop_not_shuffled(X, y, W, b, loss_fn, learning_rate, num_epochs, batch_size, seed, weight_decay=0.0):
    W, b, history = W.copy(), b.copy(), []
    for _ in range(num_epochs):
        for start in range(0, len(X), batch_size):
            Xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            loss, dlogits = loss_fn(Xb @ W + b, yb)
            history.append(loss + 0.5 * weight_decay * np.sum(W * W))
            W, b = W - learning_rate * (Xb.T @ dlogits + weight_decay * W), b - learning_rate * dlogits.sum(axis=0)
    return W, b, np.array(history)


@pytest.mark.parametrize("wrong, mistake", [
    (loop_not_shuffled, "not-shuffled"),
    (_loop_flawed(order="once"), "same-order-every-epoch"),
    (_loop_flawed(order="reseeded"), "same-order-every-epoch"),
    (_loop_flawed(drop_last=True), "last-batch-dropped"),
    (_loop_flawed(decay_bias=True), "bias-decayed"),
    (_loop_flawed(record_penalty=False), "penalty-not-recorded"),
    (_loop_flawed(divide_again=True), "divided-by-batch-twice"),
    (_loop_flawed(record_after=True), "loss-after-step"),
])
def test_4_7_diagnoses_mistakes(wrong, mistake):
    error = failure(ch04.check_softmax_regression_loop, wrong)
    assert error.mistake == mistake, str(error)


def test_4_7_names_an_in_place_update():
    assert "changed its input array in place" in str(failure(ch04.check_softmax_regression_loop, loop_in_place))


def test_4_7_refuses_delegation_and_reports_not_done():
    def delegating(X, y, W, b, loss_fn, learning_rate, num_epochs, batch_size, seed, weight_decay=0.0):
        rng, history = np.random.default_rng(seed), []
        for _ in range(num_epochs):
            for batch in descent.minibatch_indices(len(X), batch_size, rng):
                loss, dlogits = loss_fn(X[batch] @ W + b, y[batch])
                history.append(loss + 0.5 * weight_decay * np.sum(W * W))
                W = W - learning_rate * (X[batch].T @ dlogits + weight_decay * W)
                b = b - learning_rate * dlogits.sum(axis=0)
        return W, b, np.array(history)

    assert failure(ch04.check_softmax_regression_loop, delegating).mistake == "delegates-to-reference"
    assert failure(ch04.check_softmax_regression_loop,
                   descent.train_softmax_regression).mistake == "delegates-to-reference"
    with pytest.raises(NotImplementedError, match="Exercise 4.7 is not done yet"):
        ch04.check_softmax_regression_loop(not_done)


def test_training_reference_matches_torch_sgd_on_the_same_batches():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((13, 4)), rng.integers(0, 3, 13)
    W0, b0 = 0.1 * rng.standard_normal((4, 3)), np.zeros(3)
    W_start = W0.copy()
    W, b, history = descent.train_softmax_regression(X, y, W0, b0, losses.softmax_cross_entropy, 0.3, 3, 5, 11, 0.01)
    assert history.shape == (9,)
    model = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor(W0.T))
        model.bias.copy_(torch.tensor(b0))
    optimizer = torch.optim.SGD([{"params": [model.weight], "weight_decay": 0.01}, {"params": [model.bias]}], lr=0.3)
    order_rng = np.random.default_rng(11)
    for _ in range(3):
        order = order_rng.permutation(13)
        for start in range(0, 13, 5):
            batch = torch.tensor(order[start:start + 5])
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(torch.tensor(X)[batch]), torch.tensor(y)[batch]).backward()
            optimizer.step()
    np.testing.assert_allclose(W, model.weight.detach().numpy().T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b, model.bias.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert np.array_equal(W0, W_start) and np.array_equal(b0, np.zeros(3)), "the start must not be modified"


def test_sigmoid_mse_reference_matches_autograd():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    theta, X, y = rng.standard_normal(4), rng.standard_normal((6, 3)), rng.integers(0, 2, 6).astype(float)
    loss, grad = descent.sigmoid_mse_loss(theta, X, y)
    t = torch.tensor(theta, requires_grad=True)
    torch_loss = torch.nn.functional.mse_loss(torch.sigmoid(torch.tensor(X) @ t[:-1] + t[-1]), torch.tensor(y))
    torch_loss.backward()
    np.testing.assert_allclose(loss, torch_loss.item(), rtol=1e-12)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_training_reference_rejects_mismatched_shapes():
    X, y = np.zeros((5, 3)), np.zeros(5, dtype=int)
    with pytest.raises(ValueError, match="W"):
        descent.train_softmax_regression(X, y, np.zeros((2, 4)), np.zeros(4), losses.softmax_cross_entropy,
                                         0.1, 1, 2, 0)
    with pytest.raises(ValueError, match="b"):
        descent.train_softmax_regression(X, y, np.zeros((3, 4)), np.zeros(3), losses.softmax_cross_entropy,
                                         0.1, 1, 2, 0)
