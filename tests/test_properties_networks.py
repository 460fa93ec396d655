"""Properties of the scalar-autograd MLP, the scratch training loop and the deep-stack statistics."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from dlcore.scratch import autograd_nn as A
from dlcore.scratch import depth_statistics as S
from dlcore.scratch import train as T
from dlcore.scratch.activations import ReLU, Tanh, get_activation
from dlcore.scratch.linear import Linear
from dlcore.scratch.module import Sequential
from tests.property_kit import check_mutations, close, covers, floats, rejects, torch_of

covers(
    A.Neuron, A.Layer, A.MLP, A.scores, A.hinge_loss, A.accuracy,
    T.History, T.sgd_step, T.train_step, T.evaluate, T.train,
    S.deep_network, S.network_statistics, S.depth_statistics, S.random_stack, S.stack_statistics,
    S.collapse_linear_stack,
)


# ---------------------------------------------------------------- the scalar-autograd MLP

@given(seed=st.integers(0, 1000), X=floats((4, 2)), labels=st.lists(st.sampled_from([-1, 1]), min_size=4,
                                                                   max_size=4))
def test_value_mlp_equals_the_same_torch_network_in_loss_and_gradients(seed, X, labels):
    model = A.MLP(2, [3, 1], np.random.default_rng(seed))
    (W1, b1), (W2, b2) = [
        (np.array([[w.data for w in n.w] for n in layer.neurons]), np.array([n.b.data for n in layer.neurons]))
        for layer in model.layers
    ]
    params = [torch_of(a, True) for a in (W1, b1, W2, b2)]
    out_t = torch.tanh(torch_of(X) @ params[0].T + params[1]) @ params[2].T + params[3]  # (4, 1)
    loss_t = torch.relu(1 - out_t[:, 0] * torch_of(np.array(labels, float))).mean()
    loss_t.backward()
    found = A.scores(model, X)
    close([s.data for s in found], out_t[:, 0])
    loss = A.hinge_loss(found, labels)
    loss.backward()
    close(loss.data, loss_t)
    grads = np.array([p.grad for p in model.parameters()])
    expected = np.concatenate([np.c_[params[0].grad, params[1].grad].ravel(), np.c_[params[2].grad, params[3].grad].ravel()])
    close(grads, expected, atol=1e-12)  # order: layer by layer, neuron by neuron, weights then bias
    assert A.accuracy(found, labels) == pytest.approx(np.mean((out_t[:, 0].detach().numpy() > 0) == (np.array(labels) > 0)))


def test_value_mlp_bad_arguments_are_named():
    rejects(lambda: A.Neuron(0, np.random.default_rng(0)), "n_inputs")
    rejects(lambda: A.Neuron(2, 0), "rng")
    rejects(lambda: A.Layer(2, 0, np.random.default_rng(0)), "n_outputs")
    rejects(lambda: A.MLP(2, [], np.random.default_rng(0)), "layer_sizes")
    rejects(lambda: A.Neuron(2, np.random.default_rng(0))([1.0, 2.0, 3.0]), "inputs")
    rejects(lambda: A.hinge_loss([], []), "hinge_loss")


# ---------------------------------------------------------------- the training loop

def _net(seed):
    rng = np.random.default_rng(seed)
    return Sequential(Linear(2, 4, rng=rng), Tanh(), Linear(4, 3, rng=rng))


def _as_torch(net):
    first, last = net.layers[0], net.layers[2]
    return [torch_of(a, True) for a in (first.W.value, first.b.value, last.W.value, last.b.value)]


@given(seed=st.integers(0, 1000), x=floats((6, 2)), lr=st.floats(0.01, 1.0))
def test_train_step_is_one_torch_sgd_step(seed, x, lr):
    labels = np.arange(6) % 3
    net = _net(seed)
    params = _as_torch(net)
    loss_t = torch.nn.functional.cross_entropy(torch.tanh(torch_of(x) @ params[0] + params[1]) @ params[2] + params[3],
                                               torch.from_numpy(labels))
    loss_t.backward()
    loss = T.train_step(net, x, labels, "softmax_cross_entropy", lr)
    close(loss, loss_t)
    for ours, theirs in zip((net.layers[0].W, net.layers[0].b, net.layers[2].W, net.layers[2].b), params):
        close(ours.value, theirs.detach().numpy() - lr * theirs.grad.numpy())
    value, accuracy = T.evaluate(net, x, labels, "softmax_cross_entropy")
    assert value >= 0 and 0 <= accuracy <= 1


@given(seed=st.integers(0, 200))
def test_train_fits_separable_blobs_and_records_every_epoch(seed):
    rng = np.random.default_rng(seed)
    x = np.r_[rng.normal(-2, 0.5, (20, 2)), rng.normal(2, 0.5, (20, 2))]
    y = np.r_[np.zeros(20, int), np.ones(20, int)]
    net = Sequential(Linear(2, 8, rng=rng), ReLU(), Linear(8, 2, rng=rng))
    seen = []
    history = T.train(net, x, y, loss="softmax_cross_entropy", learning_rate=0.3, num_epochs=30, rng=rng,
                      batch_size=8, validation=(x, y), on_epoch_end=lambda epoch, _: seen.append(epoch))
    assert seen == list(range(1, 31)) and history.epochs == 30
    assert T.evaluate(net, x, y, "softmax_cross_entropy")[1] == 1.0


def test_training_bad_arguments_are_named():
    net, x, y = _net(0), np.ones((6, 2)), np.arange(6) % 3
    check_mutations(lambda model=net, x=x, y=y, learning_rate=0.1, num_epochs=2: T.train(
        model, x, y, loss="softmax_cross_entropy", learning_rate=learning_rate, num_epochs=num_epochs,
        rng=np.random.default_rng(0)), dict(learning_rate=0.1, num_epochs=2))
    rejects(lambda: T.train(net, x, y, loss="hinge", learning_rate=0.1, num_epochs=1, rng=np.random.default_rng(0)),
            "loss")
    rejects(lambda: T.train(net, x, y, loss="mse", learning_rate=0.1, num_epochs=1, rng=0), "rng")
    rejects(lambda: T.train("net", x, y, loss="mse", learning_rate=0.1, num_epochs=1, rng=np.random.default_rng(0)),
            "model")
    rejects(lambda: T.sgd_step(net, "0.1"), "learning_rate")
    rejects(lambda: T.train_step([net], x, y, "softmax_cross_entropy", 0.1), "model")
    rejects(lambda: T.evaluate(net, x, y[:5], "softmax_cross_entropy"), "labels")


# ---------------------------------------------------------------- deep-stack statistics

@given(depth=st.integers(1, 4), width=st.integers(1, 6), seed=st.integers(0, 500),
       name=st.sampled_from(["tanh", "relu", "sigmoid", "gelu"]), x=floats((5, 3)))
def test_stack_statistics_equal_torch_autograd(depth, width, seed, name, x):
    weights, biases = S.random_stack(depth, width, in_features=3, rng=np.random.default_rng(seed), bias=0.1)
    spec = get_activation(name)
    dout = np.ones((5, width)) / 5
    mean, std, grad_norm, saturated = S.stack_statistics(x, weights, biases, spec.function, spec.derivative, dout)
    h = torch_of(x, True)
    outputs = []
    f = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "gelu": torch.nn.functional.gelu}[name]
    for W, b in zip(weights, biases):
        h = f(h @ torch_of(W) + torch_of(b))
        h.retain_grad()
        outputs.append(h)
    h.backward(torch_of(dout))
    close(mean, [o.mean().item() for o in outputs])
    close(std, [o.std(unbiased=False).item() for o in outputs])
    close(grad_norm, [o.grad.norm().item() for o in outputs], rtol=1e-9)
    assert np.all((saturated >= 0) & (saturated <= 1))
    same = S.depth_statistics(x, depth, width, name, rng=np.random.default_rng(seed), bias=0.1)  # dout = ones / N
    close(same.mean, mean)
    close(same.grad_norm, grad_norm, rtol=1e-9)


@given(depth=st.integers(1, 4), seed=st.integers(0, 500), x=floats((4, 3)))
def test_a_linear_stack_collapses_to_one_affine_map(depth, seed, x):
    network = S.deep_network(depth, 5, "identity", in_features=3, rng=np.random.default_rng(seed), bias=0.3)
    W, b = S.collapse_linear_stack(network)
    close(network(x), x @ W + b, atol=1e-10)
    stats = S.network_statistics(network, x)
    assert stats.depth == depth and stats.weight_grad_norm.shape == (depth,)


def test_depth_statistics_bad_arguments_are_named():
    check_mutations(lambda depth=3, width=4, in_features=2, weight_scale=1.0, bias=0.0: S.deep_network(
        depth, width, "tanh", in_features=in_features, rng=np.random.default_rng(0), weight_scale=weight_scale,
        bias=bias), dict(depth=3, width=4, in_features=2, weight_scale=1.0, bias=0.0))
    rejects(lambda: S.deep_network(2, 3, "swish", in_features=2, rng=np.random.default_rng(0)), "activation")
    rejects(lambda: S.deep_network(2, 3, "relu", in_features=2, rng=np.random.default_rng(0), alpha=1.0), "alpha")
    network = S.deep_network(2, 3, "tanh", in_features=2, rng=np.random.default_rng(0))
    rejects(lambda: S.network_statistics(network, np.ones((4, 3))), "x")
    rejects(lambda: S.collapse_linear_stack(network), "layer")
    weights, biases = S.random_stack(2, 3, in_features=2, rng=np.random.default_rng(0))
    spec = get_activation("tanh")
    rejects(lambda: S.stack_statistics(np.ones((4, 2)), weights, biases[:1], spec.function, spec.derivative,
                                       np.ones((4, 3))), "biases")
    rejects(lambda: S.stack_statistics(np.ones((4, 2)), weights, biases, spec.function, spec.derivative,
                                       np.ones((4, 2))), "dout")
