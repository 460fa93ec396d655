"""Chapter 02: each exercise check passes the reference and diagnoses plausible mistakes."""

import numpy as np
import pytest

from dlcore.exercises import ch02
from dlcore.exercises.core import ExerciseFailed
from dlcore.scratch import sigmoid
from dlcore.exercises import learner
from dlcore.scratch import perceptron as course_perceptron
from dlcore.scratch.linear import mlp_forward as course_mlp_forward
from dlcore.scratch.perceptron import PerceptronHistory, make_gate, novikoff_bound, perceptron_update, xor_step_weights
from tests.helpers import not_done


def fails_with(check, answer, *fragments):
    with pytest.raises(ExerciseFailed) as caught:
        check(answer)
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)


# ---------------------------------------------------------------- 2.1

def test_layer_forward_reference_passes(capsys):
    ch02.check_layer_forward(lambda x, W, b: sigmoid(x @ W + b))
    assert "Exercise 2.1 passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, fragment", [
    (lambda x, W, b: sigmoid(W @ x + b), "you computed W @ x"),
    (lambda x, W, b: sigmoid(x @ W), "the bias is missing"),
    (lambda x, W, b: sigmoid(x @ W + b[:, None]), "broadcast along the wrong axis"),
    (lambda x, W, b: x @ W + b, "without the activation"),
    (lambda x, W, b: (x @ W + b > 0).astype(float), "you used a step function"),
    (lambda x, W, b: sigmoid(x @ W + b).T, "the transpose of (N, M)"),
    (lambda x, W, b: sigmoid(x @ W + b).ravel() if W.shape[1] == 1 else sigmoid(x @ W + b), "still returns a column"),
])
def test_layer_forward_mistakes_are_diagnosed(wrong, fragment):
    fails_with(ch02.check_layer_forward, wrong, fragment)


def test_layer_forward_in_place_and_unfinished():
    def in_place(x, W, b):
        np.clip(x, -1.0, 1.0, out=x)  # "tidying" the caller's batch in place
        return sigmoid(x @ W + b)
    fails_with(ch02.check_layer_forward, in_place, "changed its input array in place")
    with pytest.raises(NotImplementedError, match="Exercise 2.1 is not done yet"):
        ch02.check_layer_forward(not_done)


# ---------------------------------------------------------------- 2.2

def test_perceptron_update_reference_passes(capsys):
    ch02.check_perceptron_update(perceptron_update)
    assert "Exercise 2.2 passed" in capsys.readouterr().out


def rule(sign=1, on_zero_fires=False, bias=True, use_z=False, always=False, use_lr=True):
    def update(x, y, w, b, learning_rate=1.0):
        z = x @ w + b
        y_hat = int(z >= 0) if on_zero_fires else int(z > 0)
        error = (y - z) if use_z else (2 * y - 1 if always else y - y_hat)
        lr = learning_rate if use_lr else 1.0
        return w + sign * lr * error * x, (b + sign * lr * error if bias else b)
    return update


@pytest.mark.parametrize("wrong, fragment", [
    (rule(sign=-1), "sign error"),
    (rule(on_zero_fires=True), "you treated z = 0 as class 1"),
    (rule(bias=False), "you forgot the bias"),
    (rule(use_z=True), "delta rule"),
    (rule(always=True), "already classified correctly"),
    (rule(use_lr=False), "you ignored learning_rate"),
    (lambda x, y, w, b, learning_rate=1.0: perceptron_update(x, y, w, b, learning_rate)[0], "expected a pair"),
])
def test_perceptron_update_mistakes_are_diagnosed(wrong, fragment):
    fails_with(ch02.check_perceptron_update, wrong, fragment)


def test_perceptron_update_in_place_and_unfinished():
    def in_place(x, y, w, b, learning_rate=1.0):
        error = y - int(x @ w + b > 0)
        w += learning_rate * error * x
        return w, b + learning_rate * error
    fails_with(ch02.check_perceptron_update, in_place, "changed its input array in place")
    with pytest.raises(NotImplementedError, match="Exercise 2.2 is not done yet"):
        ch02.check_perceptron_update(not_done)


# ---------------------------------------------------------------- 2.4

def reference_prediction():
    X, y = make_gate("AND")
    return True, False, novikoff_bound(X, y, np.array([2.0, 2.0]), -3.0)[2]


def test_convergence_prediction_reference_passes(capsys):
    ch02.check_convergence_prediction(reference_prediction)
    out = capsys.readouterr().out
    assert "Exercise 2.4 passed" in out and "AND converged in all 20 runs" in out


@pytest.mark.parametrize("wrong, fragment", [
    (lambda: (True, True, 51.0), "xor_converges = True"),
    (lambda: (False, False, 51.0), "and_converges = False"),
    (lambda: (True, False, 34.0), "you left the bias out of R"),
    (lambda: (True, False, 24.0), "by ||w|| only"),
    (lambda: (True, False, 3.0), "not normalised"),
    (lambda: (True, False, 51.0 ** 0.5), "forgot to square"),
    (lambda: ("yes", False, 51.0), "should be True or False"),
    (lambda: (True, False), "expected a tuple"),
])
def test_convergence_prediction_mistakes_are_diagnosed(wrong, fragment):
    fails_with(ch02.check_convergence_prediction, wrong, fragment)


def test_convergence_prediction_unfinished():
    with pytest.raises(NotImplementedError, match="Exercise 2.4 is not done yet"):
        ch02.check_convergence_prediction(not_done)


# ---------------------------------------------------------------- 2.5

def test_xor_network_reference_and_another_solution_pass(capsys):
    ch02.check_xor_network(xor_step_weights)
    # A different correct answer: h1 = OR, h2 = AND, out = h1 AND NOT h2.
    ch02.check_xor_network(lambda: (np.ones((2, 2)), np.array([-0.5, -1.5]), np.array([[1.0], [-1.0]]),
                                    np.array([-0.5])))
    assert capsys.readouterr().out.count("Exercise 2.5 passed") == 2


def negated_output():
    W1, b1, W2, b2 = xor_step_weights()
    return W1, b1, -W2, -b2


def or_network():
    W1, b1, W2, _ = xor_step_weights()
    return W1, b1, np.array([[1.0], [0.0]]), np.array([-0.5])  # the output copies h1 = OR


@pytest.mark.parametrize("wrong, fragment", [
    (negated_output, "computes XNOR"),
    (or_network, "computes OR"),
    (lambda: (np.ones((2, 2)), np.array([0.0, -1.0]), np.array([[1.0], [-1.0]]), np.array([-0.5])),
     "only because step(0) = 0"),
    (lambda: (xor_step_weights()[0], xor_step_weights()[1], np.ones(2), np.array([-1.5])), "W2 has shape (2,)"),
    (lambda: xor_step_weights()[:3], "expected four arrays"),
])
def test_xor_network_mistakes_are_diagnosed(wrong, fragment):
    fails_with(ch02.check_xor_network, wrong, fragment)


def test_xor_network_unfinished():
    with pytest.raises(NotImplementedError, match="Exercise 2.5 is not done yet"):
        ch02.check_xor_network(not_done)


# ---------------------------------------------------------------- 2.3

def train(X, y, learning_rate=1.0, max_epochs=100, rng=None, *, mistake=""):
    labels = (np.asarray(y) > 0).astype(int)
    w, b = np.zeros(X.shape[1]), 0.0
    weights, biases, counts = [w.copy()], [b], []
    order = np.arange(len(X))
    for epoch in range(max_epochs):
        if rng is not None and (mistake != "shuffle once" or epoch == 0):
            order = rng.permutation(len(X))
        count = 0
        for i in order:
            z = X[i] @ w + b
            error = (y[i] if mistake == "raw labels" else labels[i]) - int(z >= 0 if mistake == "step >= 0" else z > 0)
            if error:
                w = w + learning_rate * error * X[i]
                b = b + (0 if mistake == "no bias" else learning_rate * error)
                count += 1
        if mistake == "drop clean" and count == 0:
            break
        weights.append(w.copy())
        biases.append(b)
        counts.append(count)
        if count == 0 and mistake != "no stop":
            break
    return PerceptronHistory(np.array(weights), np.array(biases), np.array(counts), converged=counts[-1] == 0)


def train_with_update_function(X, y, learning_rate=1.0, max_epochs=100, rng=None):
    """A second right answer: built on perceptron_update, with the bias folded into w."""
    Xb = np.column_stack([X, np.ones(len(X))])
    u = np.zeros(Xb.shape[1])
    history_u, counts = [u.copy()], []
    for _ in range(max_epochs):
        count = 0
        for i in (rng.permutation(len(X)) if rng is not None else range(len(X))):
            new_u, _ = perceptron_update(Xb[i], int(y[i] > 0), u, 0.0, learning_rate)
            count += int(not np.array_equal(new_u, u))
            u = new_u
        history_u.append(u.copy())
        counts.append(count)
        if count == 0:
            break
    H = np.array(history_u)
    return PerceptronHistory(H[:, :-1], H[:, -1], np.array(counts), converged=counts[-1] == 0)


@pytest.mark.parametrize("answer", [train, train_with_update_function])
def test_training_loop_passes_two_ways_and_is_used_later(answer, capsys):
    assert ch02.check_perceptron_training(answer).passed
    assert learner.implementation("perceptron_train", course_perceptron.perceptron_train, label="2.3") is answer
    assert "[using your perceptron_train, which passed exercise 2.3]" in capsys.readouterr().out


@pytest.mark.parametrize("mistake, mistake_id", [
    ("step >= 0", "step-at-zero"), ("no bias", "bias-never-updated"), ("shuffle once", "shuffles-once"),
    ("no stop", "no-early-stop"), ("drop clean", "clean-epoch-dropped"), ("raw labels", "labels-not-converted"),
])
def test_training_loop_mistakes_are_named(mistake, mistake_id):
    with pytest.raises(ExerciseFailed) as caught:
        ch02.check_perceptron_training(lambda X, y, **options: train(X, y, mistake=mistake, **options))
    assert caught.value.mistake == mistake_id, str(caught.value)
    assert learner.accepted("perceptron_train") is None


def test_training_loop_delegation_and_problems():
    with pytest.raises(ExerciseFailed) as caught:
        ch02.check_perceptron_training(lambda X, y, **options: course_perceptron.perceptron_train(X, y, **options))
    assert caught.value.mistake == "delegates-to-reference"
    fails_with(ch02.check_perceptron_training, lambda X, y, **options: (np.zeros(2), 0.0), "expected a PerceptronHistory")

    def in_place(X, y, learning_rate=1.0, max_epochs=100, rng=None):
        labels = (np.asarray(y) > 0).astype(int)
        w, b = np.zeros(X.shape[1]), 0.0
        weights, biases, counts = [w], [b], []
        for _ in range(max_epochs):
            count = 0
            for i in (rng.permutation(len(X)) if rng is not None else range(len(X))):
                error = labels[i] - int(X[i] @ w + b > 0)
                if error:
                    w += learning_rate * error * X[i]  # the history holds this very array
                    b += learning_rate * error
                    count += 1
            weights.append(w)
            biases.append(b)
            counts.append(count)
            if count == 0:
                break
        return PerceptronHistory(np.array(weights), np.array(biases), np.array(counts), converged=counts[-1] == 0)
    with pytest.raises(ExerciseFailed) as caught:
        ch02.check_perceptron_training(in_place)
    assert caught.value.mistake == "weights-not-copied"
    with pytest.raises(NotImplementedError, match="Exercise 2.3 is not done yet"):
        ch02.check_perceptron_training(not_done)


# ---------------------------------------------------------------- 2.6

def forward(x, layers, activation):
    outputs, h = [], x
    for W, b in layers:
        h = activation(h @ W + b)
        outputs.append(h)
    return outputs


def forward_recursive(x, layers, activation):
    if not layers:
        return []
    (W, b), *rest = layers
    h = activation(np.einsum("nd,dm->nm", x, W) + b[None, :])
    return [h, *forward_recursive(h, rest, activation)]


@pytest.mark.parametrize("answer", [forward, forward_recursive])
def test_mlp_forward_passes_two_ways(answer):
    assert ch02.check_mlp_forward(answer).passed
    assert learner.accepted("mlp_forward") is answer


def _no_output_activation(x, layers, activation):
    outputs, h = [], x
    for index, (W, b) in enumerate(layers):
        z = h @ W + b
        h = z if index == len(layers) - 1 else activation(z)
        outputs.append(h)
    return outputs


@pytest.mark.parametrize("wrong, mistake_id", [
    (_no_output_activation, "no-activation-on-output"),
    (lambda x, layers, act: forward(act(x), layers, act), "input-activated"),
    (lambda x, layers, act: forward(x, [(W, 0 * b) for W, b in layers], act), "bias-missing"),
])
def test_mlp_forward_mistakes_are_named(wrong, mistake_id):
    with pytest.raises(ExerciseFailed) as caught:
        ch02.check_mlp_forward(wrong)
    assert caught.value.mistake == mistake_id, str(caught.value)


def test_mlp_forward_other_problems():
    fails_with(ch02.check_mlp_forward, lambda x, layers, act: forward(x, layers, act)[-1], "return the list")
    fails_with(ch02.check_mlp_forward, lambda x, layers, act: forward(x, layers, act)[1:], "returned")
    with pytest.raises(ExerciseFailed) as caught:
        ch02.check_mlp_forward(lambda x, layers, act: course_mlp_forward(x, layers, act))
    assert caught.value.mistake == "delegates-to-reference"
    with pytest.raises(NotImplementedError, match="Exercise 2.6 is not done yet"):
        ch02.check_mlp_forward(not_done)


# ---------------------------------------------------------------- 2.7

from dlcore.scratch import approximation  # noqa: E402  (grouped with the exercise it serves)


def hinges(g, a, b, K, *, mistake=""):
    """Left hinges relu(x - t_k) on top of g(a), or one typical mistake in building them."""
    knots = np.linspace(a, b, K if mistake == "knots-too-few" else K + 1)
    values = g(knots)
    rise = np.diff(values)
    slopes = rise if mistake == "rise-not-slope" else rise / np.diff(knots)
    weights = slopes if mistake == "slopes-not-differenced" else slopes - np.concatenate([[0.0], slopes[:-1]])
    corners = knots[1:] if mistake == "knots-off-by-one" else knots[:-1]
    direction = -1.0 if mistake == "hinge-wrong-side" else 1.0
    bias = corners if mistake in ("hinge-wrong-side", "bias-sign") else -corners
    offset = 0.0 if mistake == "offset-missing" else values[0]
    return np.full((1, len(slopes)), direction), bias, weights.reshape(-1, 1), np.array([offset])


def right_hinges(g, a, b, K):
    """A second right answer: hinges relu(t_k - x) that open to the left, on top of g(b)."""
    knots = np.linspace(a, b, K + 1)
    values = g(knots)
    slopes = np.diff(values) / np.diff(knots)  # slope of piece k, between t_k and t_(k+1)
    bends = np.append(slopes[1:], 0.0) - slopes  # relu(t_k - x) has slope -1: it adds -c_k left of t_k
    return -np.ones((1, K)), knots[1:], bends.reshape(-1, 1), values[-1:]


def hats(g, a, b, K):
    """A third right answer, with 3 (K + 1) units: one hat per knot, three hinges per hat."""
    knots = np.linspace(a, b, K + 1)
    h = knots[1] - knots[0]
    corners = np.concatenate([[a - h], knots, [b + h]])
    b1 = -np.concatenate([corners[k:k + 3] for k in range(K + 1)])
    W2 = np.concatenate([g(knots[k]) * np.array([1.0, -2.0, 1.0]) / h for k in range(K + 1)])
    return np.ones((1, 3 * (K + 1))), b1, W2[:, None], np.zeros(1)


def doubling(construct, *, mistake=""):
    def approximate(g, a, b, tolerance, max_pieces=4096):
        grid = np.linspace(a, b, 1001)[:, None]
        K = 1
        while K <= max_pieces:
            weights = construct(g, a, b, K)
            points = np.linspace(a, b, K + 1)[:, None] if mistake == "error-at-knots-only" else grid
            difference = approximation.network_output(points, *weights) - g(points)
            error = {"mean-error": np.abs(difference).mean(), "error-not-absolute": difference.max(),
                     "error-below": (-difference).max()}.get(mistake, np.abs(difference).max())
            if error <= tolerance:
                return construct(g, a, b, 2 * K) if mistake == "one-doubling-too-many" else weights
            K *= 2
        raise ValueError("tolerance not reached")
    return approximate


def by_exponent(g, a, b, tolerance, max_pieces=4096):
    """A second right answer for the search: the powers of two from their exponents, the network in one line."""
    x = np.linspace(a, b, 1001).reshape(-1, 1)
    for p in range(int(np.log2(max_pieces)) + 1):
        W1, b1, W2, b2 = right_hinges(g, a, b, 2**p)
        if np.max(np.abs(np.maximum(x @ W1 + b1, 0) @ W2 + b2 - g(x))) <= tolerance:
            return W1, b1, W2, b2
    raise ValueError("tolerance not reached")


@pytest.mark.parametrize("construct, search", [(hinges, doubling(hinges)), (right_hinges, by_exponent),
                                               (hats, doubling(hats))])
def test_approximating_network_passes_several_constructions(construct, search, capsys):
    assert ch02.check_approximating_network(construct, search).passed
    assert learner.accepted("interpolating_network") is construct
    assert learner.accepted("approximating_network") is search
    assert "Exercise 2.7 passed" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", ["offset-missing", "slopes-not-differenced", "knots-off-by-one", "hinge-wrong-side",
                                     "bias-sign", "rise-not-slope", "knots-too-few"])
def test_interpolating_network_mistakes_are_named(mistake):
    def wrong(g, a, b, K):
        return hinges(g, a, b, K, mistake=mistake)
    with pytest.raises(ExerciseFailed) as caught:
        ch02.check_approximating_network(wrong, doubling(wrong))
    assert caught.value.mistake == mistake, str(caught.value)
    assert learner.accepted("interpolating_network") is None and learner.accepted("approximating_network") is None


@pytest.mark.parametrize("mistake, mistake_id", [
    ("error-at-knots-only", "error-at-knots-only"), ("mean-error", "mean-error"),
    ("error-not-absolute", "error-not-absolute"), ("error-below", "error-not-absolute"),
    ("one-doubling-too-many", "one-doubling-too-many"),
])
def test_approximating_network_mistakes_are_named(mistake, mistake_id):
    with pytest.raises(ExerciseFailed) as caught:
        ch02.check_approximating_network(right_hinges, doubling(right_hinges, mistake=mistake))
    assert caught.value.mistake == mistake_id, str(caught.value)
    assert learner.accepted("interpolating_network") is right_hinges  # the first function passed on its own
    assert learner.accepted("approximating_network") is None


def test_a_first_part_used_alone_says_so(capsys):
    with pytest.raises(ExerciseFailed):
        ch02.check_approximating_network(right_hinges, doubling(right_hinges, mistake="mean-error"))
    learner.implementation("interpolating_network", right_hinges, label="2.7")
    assert "[using your interpolating_network, which passed exercise 2.7's first part]" in capsys.readouterr().out


def test_approximating_network_other_answers():
    def quadrupled(g, a, b, tolerance):
        W1, b1, W2, b2 = doubling(hinges)(g, a, b, tolerance)
        return hinges(g, a, b, 4 * W1.shape[1])
    fails_with(lambda f: ch02.check_approximating_network(hinges, f), quadrupled, "not the broken line with the fewest")

    def quartered(g, a, b, tolerance):
        W1, b1, W2, b2 = doubling(hinges)(g, a, b, tolerance)
        return hinges(g, a, b, max(1, W1.shape[1] // 4))
    fails_with(lambda f: ch02.check_approximating_network(hinges, f), quartered, "above the tolerance")

    flat_W2 = lambda g, a, b, K: (*hinges(g, a, b, K)[:2], hinges(g, a, b, K)[2][:, 0], hinges(g, a, b, K)[3])
    fails_with(lambda f: ch02.check_approximating_network(f, doubling(hinges)), flat_W2, "W2 has shape (3,)")
    scalar_b2 = lambda g, a, b, K: (*hinges(g, a, b, K)[:3], float(g(a)))
    fails_with(lambda f: ch02.check_approximating_network(f, doubling(hinges)), scalar_b2, "b2 has shape ()")
    fails_with(lambda f: ch02.check_approximating_network(f, doubling(hinges)),
               lambda g, a, b, K: hinges(g, a, b, K)[:3], "returned 3 values")


def test_approximating_network_delegation_and_unfinished():
    with pytest.raises(ExerciseFailed) as caught:
        ch02.check_approximating_network(lambda g, a, b, K: approximation.interpolating_network(g, a, b, K),
                                         doubling(hinges))
    assert caught.value.mistake == "delegates-to-reference"
    with pytest.raises(ExerciseFailed) as caught:
        ch02.check_approximating_network(hinges, lambda g, a, b, tolerance: approximation.approximating_network(
            g, a, b, tolerance))
    assert caught.value.mistake == "delegates-to-reference"
    with pytest.raises(NotImplementedError, match="Exercise 2.7 is not done yet"):
        ch02.check_approximating_network(not_done, not_done)
    with pytest.raises(NotImplementedError, match="Exercise 2.7 is not done yet"):
        ch02.check_approximating_network(hinges, not_done)


@pytest.mark.parametrize("wrong, mistake", [
    (lambda: (False, False, 51), "and-called-non-converging"),
    (lambda: (True, True, 51), "xor-called-converging"),
])
def test_convergence_prediction_flags_carry_a_mistake_id(wrong, mistake):
    with pytest.raises(ExerciseFailed) as caught:
        ch02.check_convergence_prediction(wrong)
    assert caught.value.mistake == mistake
