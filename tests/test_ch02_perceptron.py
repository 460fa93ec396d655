"""Chapter 02: the perceptron, its bound, and the hand-built networks (dlcore.scratch.perceptron)."""

import itertools

import numpy as np
import pytest
import torch

from dlcore.errors import ShapeError
from dlcore.scratch import ReLU, Sequential, Step, linear_forward
from dlcore.scratch.linear import Linear
from dlcore.scratch.perceptron import (
    GATES, make_gate, make_separable, novikoff_bound, perceptron_predict, perceptron_train,
    perceptron_update, relu_interpolation_weights, xor_relu_weights, xor_step_weights,
)

SEPARABLE = ("AND", "OR", "NAND", "NOR")
CORNERS = [(0, 0), (0, 1), (1, 0), (1, 1)]


def load(layers_weights, activation):
    """A dlcore Sequential holding the given (W, b) pairs, `activation` after the hidden layer(s)."""
    layers = []
    for index, (W, b) in enumerate(layers_weights):
        layer = Linear(*W.shape, rng=np.random.default_rng(0))
        layer.W.value, layer.b.value = W.copy(), b.copy()
        layers.append(layer)
        if index < len(layers_weights) - 1:
            layers.append(activation())
    return Sequential(*layers)


# ---------------------------------------------------------------- gates

def test_gate_tables_follow_the_logic_operators():
    logic = {"AND": lambda a, b: a and b, "OR": lambda a, b: a or b, "NAND": lambda a, b: not (a and b),
             "NOR": lambda a, b: not (a or b), "XOR": lambda a, b: a != b, "XNOR": lambda a, b: a == b}
    for name, rule in logic.items():
        X, y = make_gate(name.lower())
        assert X.shape == (4, 2) and y.shape == (4,)
        assert [int(rule(bool(a), bool(b))) for a, b in X.astype(int)] == y.tolist(), name


def test_unknown_gate_is_named_in_the_error():
    with pytest.raises(ValueError, match="unknown gate 'IMPLIES'"):
        make_gate("IMPLIES")


# ---------------------------------------------------------------- predict / update

def test_predict_is_a_strict_step_and_can_return_signed_labels():
    X = np.array([[1.0, 1.0], [1.0, -1.0], [0.0, 0.0], [-2.0, 0.5]])
    w, b = np.array([1.0, 1.0]), 0.0  # z = 2, 0, 0, -1.5
    assert perceptron_predict(X, w, b).tolist() == [1, 0, 0, 0]
    assert perceptron_predict(X, w, b, signed=True).tolist() == [1, -1, -1, -1]


def test_predict_shape_errors_name_the_argument():
    with pytest.raises(ShapeError, match=r"perceptron_predict: w has shape \(3,\) but expected \(D,\) = \(2,\)"):
        perceptron_predict(np.zeros((4, 2)), np.zeros(3), 0.0)
    with pytest.raises(ShapeError, match=r"perceptron_predict: X has shape \(2,\)"):
        perceptron_predict(np.zeros(2), np.zeros(2), 0.0)
    with pytest.raises(ValueError, match="b must be a scalar"):
        perceptron_predict(np.zeros((4, 2)), np.zeros(2), np.zeros(2))


def test_update_moves_towards_the_class_only_on_mistakes_and_leaves_inputs_alone():
    x, w = np.array([2.0, -1.0]), np.array([0.5, 1.0])
    x0, w0 = x.copy(), w.copy()
    w_new, b_new = perceptron_update(x, 1, w, -1.0, learning_rate=0.5)  # z = -1: a mistake
    np.testing.assert_allclose(w_new, w + 0.5 * x)
    assert b_new == pytest.approx(-0.5)
    assert (x @ w_new + b_new) > (x @ w - 1.0)  # z moved towards the positive side
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
    same_w, same_b = perceptron_update(x, 0, w, -1.0)  # z = -1 and label 0: already right
    np.testing.assert_array_equal(same_w, w)
    assert same_b == -1.0


def test_update_treats_z_zero_as_class_zero():
    w_new, b_new = perceptron_update(np.array([1.0, 2.0]), 1, np.zeros(2), 0.0)
    np.testing.assert_array_equal(w_new, [1.0, 2.0])
    assert b_new == 1.0
    w_new, b_new = perceptron_update(np.array([1.0, 2.0]), 0, np.zeros(2), 0.0)
    np.testing.assert_array_equal(w_new, [0.0, 0.0])


def test_signed_labels_mean_the_same_classes():
    X, y = make_gate("NAND")
    plain = perceptron_train(X, y, rng=np.random.default_rng(3))
    signed = perceptron_train(X, 2 * y - 1, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(plain.weights, signed.weights)
    np.testing.assert_array_equal(plain.mistakes, signed.mistakes)
    with pytest.raises(ValueError, match=r"\{0, 1\} or in \{-1, \+1\}"):
        perceptron_train(X, np.array([0, 1, -1, 1]))
    with pytest.raises(ValueError, match="values"):
        perceptron_update(np.ones(2), 2, np.zeros(2), 0.0)


# ---------------------------------------------------------------- training

@pytest.mark.parametrize("gate", SEPARABLE)
def test_perceptron_converges_on_separable_gates(gate):
    X, y = make_gate(gate)
    history = perceptron_train(X, y, max_epochs=100)
    assert history.converged
    assert history.mistakes[-1] == 0 and np.all(history.mistakes[:-1] > 0)
    np.testing.assert_array_equal(perceptron_predict(X, history.w, history.b), y)
    assert history.weights.shape == (history.epochs + 1, 2)
    assert history.biases.shape == (history.epochs + 1,)
    assert history.total_updates == history.mistakes.sum()


@pytest.mark.parametrize("gate", ["XOR", "XNOR"])
def test_perceptron_never_converges_on_xor_and_its_weights_stay_bounded(gate):
    X, y = make_gate(gate)
    for seed in range(5):
        history = perceptron_train(X, y, max_epochs=300, rng=np.random.default_rng(seed))
        assert not history.converged
        assert history.epochs == 300 and np.all(history.mistakes >= 1)
        assert np.abs(history.weights).max() <= 4 and np.abs(history.biases).max() <= 4


def test_no_bias_means_no_and_or_nand():
    # Through the origin, NAND is impossible (z(0, 0) = 0 is class 0) and so is AND; OR still works.
    for gate, possible in (("AND", False), ("NAND", False), ("OR", True)):
        X, y = make_gate(gate)
        history = perceptron_train(X, y, max_epochs=200, fit_bias=False)
        assert history.converged == possible, gate
        assert np.all(history.biases == 0.0)


def test_learning_rate_only_rescales_from_zero():
    X, y = make_separable(60, 0.05, rng=np.random.default_rng(1), b=0.3)
    reference = perceptron_train(X, y, learning_rate=1.0, rng=np.random.default_rng(7))
    for lr in (0.01, 3.0):
        scaled = perceptron_train(X, y, learning_rate=lr, rng=np.random.default_rng(7))
        np.testing.assert_array_equal(scaled.mistakes, reference.mistakes)
        np.testing.assert_allclose(scaled.weights / lr, reference.weights, rtol=1e-12, atol=1e-12)


def test_rng_controls_the_order_and_none_is_deterministic():
    X, y = make_separable(80, 0.02, rng=np.random.default_rng(2))
    a = perceptron_train(X, y, rng=np.random.default_rng(11))
    b = perceptron_train(X, y, rng=np.random.default_rng(11))
    np.testing.assert_array_equal(a.weights, b.weights)
    others = [perceptron_train(X, y, rng=np.random.default_rng(s)).weights[1] for s in range(5)]
    assert any(not np.array_equal(w, others[0]) for w in others[1:])
    first = perceptron_train(X, y)
    np.testing.assert_array_equal(first.weights, perceptron_train(X, y).weights)


def test_training_leaves_the_data_unchanged_and_rejects_bad_arguments():
    X, y = make_gate("AND")
    X0, y0 = X.copy(), y.copy()
    perceptron_train(X, y, w0=np.array([0.5, -0.5]), b0=0.25)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    with pytest.raises(ShapeError, match=r"y has shape \(3,\) but expected \(N,\) = \(4,\)"):
        perceptron_train(X, y[:3])
    with pytest.raises(ValueError, match="learning_rate"):
        perceptron_train(X, y, learning_rate=0.0)
    with pytest.raises(ValueError, match="max_epochs"):
        perceptron_train(X, y, max_epochs=0)
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        perceptron_train(X, y, rng=0)


# ---------------------------------------------------------------- the bound

def test_novikoff_bound_for_and_matches_the_hand_computation():
    X, y = make_gate("AND")
    R, gamma, bound = novikoff_bound(X, y, np.array([2.0, 2.0]), -3.0)
    # By hand: R^2 = ||(1, 1, 1)||^2 = 3; the closest points score 1 and ||(2, 2, -3)|| = sqrt(17).
    assert R == pytest.approx(np.sqrt(3.0))
    assert gamma == pytest.approx(1 / np.sqrt(17.0))
    assert bound == pytest.approx(3 * 17)
    with pytest.raises(ValueError, match="does not separate"):
        novikoff_bound(X, y, np.array([1.0, 1.0]), -0.5)  # that is OR's line


@pytest.mark.parametrize("margin", [0.3, 0.1, 0.03])
def test_updates_never_exceed_the_bound(margin):
    w_star, b_star = np.array([1.0, -0.5]), 0.2
    X, y = make_separable(100, margin, rng=np.random.default_rng(5), w=w_star, b=b_star)
    _, _, bound = novikoff_bound(X, y, w_star, b_star)
    for seed in range(10):
        history = perceptron_train(X, y, max_epochs=10_000, rng=np.random.default_rng(seed))
        assert history.converged and history.total_updates <= bound


def test_make_separable_respects_its_margin_and_line():
    w, b = np.array([2.0, 1.0]), -0.3
    X, y = make_separable(200, 0.15, rng=np.random.default_rng(0), w=w, b=b)
    assert X.shape == (200, 2) and y.shape == (200,)
    distance = (X @ w + b) / np.linalg.norm(w)
    assert np.abs(distance).min() >= 0.15
    np.testing.assert_array_equal(y, (distance > 0).astype(int))
    again, _ = make_separable(200, 0.15, rng=np.random.default_rng(0), w=w, b=b)
    np.testing.assert_array_equal(X, again)
    with pytest.raises(ValueError, match="no room"):
        make_separable(10, 5.0, rng=np.random.default_rng(0))


# ---------------------------------------------------------------- hand-built networks

def test_xor_step_network_through_dlcore_modules():
    W1, b1, W2, b2 = xor_step_weights()
    X, y = make_gate("XOR")
    network = load([(W1, b1), (W2, b2)], Step)
    out = Step()(network(X))  # the output unit is a step unit too
    np.testing.assert_array_equal(out[:, 0], y)
    hidden = linear_forward(X, W1, b1)[0]
    output = linear_forward((hidden > 0).astype(float), W2, b2)[0]
    assert np.abs(hidden).min() >= 0.5 and np.abs(output).min() >= 0.5  # robust to the step(0) convention


def test_xor_relu_network_is_exact_and_matches_pytorch():
    W1, b1, W2, b2 = xor_relu_weights()
    X, y = make_gate("XOR")
    ours = load([(W1, b1), (W2, b2)], ReLU)(X)
    np.testing.assert_array_equal(ours[:, 0], y)
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1)).double()
    with torch.no_grad():
        for layer, (W, b) in zip((net[0], net[2]), ((W1, b1), (W2, b2))):
            layer.weight.copy_(torch.from_numpy(W.T))  # PyTorch stores (M, D)
            layer.bias.copy_(torch.from_numpy(b))
    points = np.random.default_rng(0).uniform(-2, 2, size=(50, 2))
    theirs = net(torch.from_numpy(points)).detach().numpy()
    np.testing.assert_allclose(load([(W1, b1), (W2, b2)], ReLU)(points), theirs, rtol=1e-12, atol=1e-12)


def test_relu_interpolation_is_the_broken_line():
    rng = np.random.default_rng(4)
    knots = np.sort(rng.uniform(-3, 3, 9))
    values = rng.normal(size=9)
    W1, b1, W2, b2 = relu_interpolation_weights(knots, values)
    assert W1.shape == (1, 8) and b1.shape == (8,) and W2.shape == (8, 1) and b2.shape == (1,)
    x = np.linspace(knots[0], knots[-1], 301)[:, None]
    out = load([(W1, b1), (W2, b2)], ReLU)(x)[:, 0]
    np.testing.assert_allclose(out, np.interp(x[:, 0], knots, values), atol=1e-12)
    left = load([(W1, b1), (W2, b2)], ReLU)(np.array([[knots[0] - 5.0]]))[0, 0]
    assert left == pytest.approx(values[0])  # constant left of the first knot


def test_relu_interpolation_rejects_bad_knots():
    with pytest.raises(ValueError, match="strictly increasing"):
        relu_interpolation_weights(np.array([0.0, 1.0, 1.0]), np.zeros(3))
    with pytest.raises(ShapeError, match="values has shape"):
        relu_interpolation_weights(np.array([0.0, 1.0]), np.zeros(3))


def test_every_two_input_gate_but_xor_and_xnor_is_separable():
    # Exhaustive over all 16 boolean functions of two inputs: exactly XOR and XNOR defeat the perceptron.
    X = np.array(CORNERS, dtype=float)
    failing = []
    for table in itertools.product((0, 1), repeat=4):
        if not perceptron_train(X, np.array(table), max_epochs=200).converged:
            failing.append(table)
    assert sorted(failing) == sorted([GATES["XOR"], GATES["XNOR"]])
