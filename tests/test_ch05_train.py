"""Chapter 05: the scratch training loop (forward, loss, backward, SGD)."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from dlcore.data import make_moons, make_spirals, make_xor
from dlcore.errors import ShapeError
from dlcore.scratch import Linear, Sequential, Tanh
from dlcore.scratch.train import History, evaluate, sgd_step, train, train_step
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64


def small_net(rng, D=2, Hh=8, M=1):
    return Sequential(Linear(D, Hh, rng=rng), Tanh(), Linear(Hh, M, rng=rng))


def test_xor_reaches_full_accuracy(rng):
    X, labels = make_xor()
    net = small_net(rng, Hh=4)
    history = train(net, X, labels[:, None].astype(float), loss="binary_cross_entropy_with_logits",
                    learning_rate=1.0, num_epochs=500, rng=rng)
    assert history.epochs == 500 and len(history.accuracy) == 500
    assert history.accuracy[-1] == 1.0
    assert history.loss[-1] < history.loss[0] / 10


def test_spirals_with_softmax_and_validation(rng):
    X, y = make_spirals(150, n_classes=3, noise=0.1, seed=rng)
    net = small_net(rng, Hh=32, M=3)
    history = train(net, X[:100], y[:100], loss="softmax_cross_entropy", learning_rate=0.5, num_epochs=400,
                    batch_size=20, rng=rng, validation=(X[100:], y[100:]))
    assert len(history.val_loss) == len(history.val_accuracy) == 400
    assert history.accuracy[-1] > 0.75 > history.accuracy[0]  # chance is 1/3
    assert history.loss[-1] < history.loss[0] / 2


def test_mse_records_no_accuracy(rng):
    x = rng.standard_normal((20, 3))
    target = x @ rng.standard_normal((3, 2))
    net = small_net(rng, D=3, M=2)
    history = train(net, x, target, loss="mse", learning_rate=0.1, num_epochs=30, rng=rng)
    assert history.accuracy == [] and history.loss[-1] < history.loss[0]


def test_same_rng_same_run_and_shuffling_uses_it():
    X, y = make_moons(60, seed=0)
    runs = []
    for seed in (0, 0, 1):
        rng = np.random.default_rng(seed)
        net = small_net(np.random.default_rng(7))
        runs.append(train(net, X, y[:, None].astype(float), loss="binary_cross_entropy_with_logits",
                          learning_rate=0.3, num_epochs=5, batch_size=8, rng=rng).loss)
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]  # a different shuffle gives a different trajectory


def test_train_step_is_one_sgd_step_on_the_loss_gradient(rng):
    x = rng.standard_normal((5, 2))
    y = (rng.random((5, 1)) < 0.5).astype(float)
    net = small_net(rng, Hh=3)
    W_before = net[0].W.value.copy()
    net.zero_grad()
    from dlcore.scratch.losses import binary_cross_entropy_with_logits_backward as bce_backward
    from dlcore.scratch.losses import binary_cross_entropy_with_logits_forward as bce_forward

    loss, cache = bce_forward(net.forward(x), y)
    net.backward(bce_backward(cache))
    expected = W_before - 0.1 * net[0].W.grad
    net[0].W.value[...] = W_before
    net.zero_grad()
    assert train_step(net, x, y, "binary_cross_entropy_with_logits", 0.1) == pytest.approx(loss)
    np.testing.assert_allclose(net[0].W.value, expected, rtol=1e-12)


def test_twenty_steps_match_torch_sgd(rng):
    x = rng.standard_normal((10, 3))
    labels = rng.integers(0, 4, size=10)
    net = small_net(rng, D=3, Hh=5, M=4)
    torch_net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4)).double()
    with torch.no_grad():
        for ours, theirs in ((net[0], torch_net[0]), (net[2], torch_net[2])):
            theirs.weight.copy_(torch.tensor(ours.W.value.T))  # (D, M) -> (M, D)
            theirs.bias.copy_(torch.tensor(ours.b.value))
    optimizer = torch.optim.SGD(torch_net.parameters(), lr=0.3)
    for _ in range(20):
        ours_loss = train_step(net, x, labels, "softmax_cross_entropy", 0.3)
        optimizer.zero_grad()
        theirs_loss = torch.nn.functional.cross_entropy(torch_net(torch.tensor(x)), torch.tensor(labels))
        theirs_loss.backward()
        optimizer.step()
        assert ours_loss == pytest.approx(theirs_loss.item(), rel=PARITY_RTOL_FLOAT64)
    np.testing.assert_allclose(net[2].W.value.T, torch_net[2].weight.detach().numpy(),
                               rtol=1e-9, atol=PARITY_ATOL_FLOAT64)


def test_evaluate_restores_training_mode(rng):
    net = small_net(rng)
    net.train()
    evaluate(net, np.zeros((3, 2)), np.zeros((3, 1)), "binary_cross_entropy_with_logits")
    assert net.training
    net.eval()
    evaluate(net, np.zeros((3, 2)), np.zeros((3, 1)), "binary_cross_entropy_with_logits")
    assert not net.training


def test_callback_sees_every_epoch(rng):
    seen = []
    X, labels = make_xor()
    train(small_net(rng), X, labels[:, None].astype(float), loss="binary_cross_entropy_with_logits",
          learning_rate=0.5, num_epochs=4, rng=rng, on_epoch_end=lambda epoch, h: seen.append((epoch, h.epochs)))
    assert seen == [(1, 1), (2, 2), (3, 3), (4, 4)]


def test_divergence_is_reported(rng):
    x = rng.standard_normal((20, 2)) * 100
    net = small_net(rng, M=1)
    with pytest.raises(FloatingPointError, match="Lower learning_rate"), np.errstate(all="ignore"):
        train(net, x, x[:, :1] ** 2, loss="mse", learning_rate=1e6, num_epochs=50, rng=rng)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(loss="hinge"), ValueError, "unknown loss 'hinge'"),
    (dict(learning_rate=0.0), ValueError, "learning_rate must be a positive finite number"),
    (dict(learning_rate=float("nan")), ValueError, "learning_rate must be a positive finite number"),
    (dict(num_epochs=0), ValueError, "num_epochs must be a positive int"),
    (dict(batch_size=0), ValueError, "batch_size must be a positive int"),
    (dict(rng=0), TypeError, "rng must be a numpy Generator"),
])
def test_bad_arguments_are_named(rng, kwargs, error, words):
    X, labels = make_xor()
    arguments = dict(loss="binary_cross_entropy_with_logits", learning_rate=0.1, num_epochs=1, rng=rng)
    arguments.update(kwargs)
    with pytest.raises(error, match=words):
        train(small_net(rng), X, labels[:, None].astype(float), **arguments)


def test_bad_shapes_are_named(rng):
    X, labels = make_xor()
    common = dict(loss="binary_cross_entropy_with_logits", learning_rate=0.1, num_epochs=1, rng=rng)
    with pytest.raises(ShapeError, match=r"y has shape \(3, 1\) but x has 4 rows"):
        train(small_net(rng), X, labels[:3, None].astype(float), **common)
    with pytest.raises(ShapeError, match=r"target has shape \(4,\)"):  # the loss reports a (4,) vs (4, 1) mix-up
        train(small_net(rng), X, labels.astype(float), **common)
    with pytest.raises(ShapeError, match=r"x has shape \(8,\)"):
        train(small_net(rng), X.ravel(), labels, **common)


def test_history_defaults_are_independent():
    first, second = History(), History()
    first.loss.append(1.0)
    assert second.loss == [] and second.epochs == 0


def test_sgd_step_moves_against_the_gradient(rng):
    net = small_net(rng)
    for parameter in net.parameters():
        parameter.grad[...] = 1.0
    before = [p.value.copy() for p in net.parameters()]
    sgd_step(net, 0.25)
    assert all(np.allclose(p.value, b - 0.25) for p, b in zip(net.parameters(), before))


def test_training_loop_imports_no_plotting_or_widgets():
    code = ("import sys, dlcore.scratch.train; "
            "print(any(m in sys.modules for m in ('matplotlib', 'ipywidgets')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
