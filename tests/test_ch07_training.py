"""Chapter 07: the training loop, its statistics and events, clipping and the deep-MLP builders,
for scratch and PyTorch models alike."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.data import make_spirals
from dlcore.errors import ShapeError
from dlcore.scratch.module import Parameter
from dlcore.scratch.optim import SGD
from dlcore.scratch.regularization import EarlyStopping
from dlcore.training import (EventBus, Residual, Trainer, clip_grad_norm, clip_grad_value, measure, scratch_mlp,
                             total_grad_norm, train)
from dlcore.training.stats import ACTIVATION_BINS, binned_counts, dead_share, gradient_regime, update_ratio
from dlcore.training.torch_models import copy_scratch_to_torch, torch_mlp

# Identical float64 computations in NumPy and PyTorch differ by rounding (~1e-16 relative); over a few
# training steps of a small network that stays below 1e-10. Batch norm sums in a different order (~1e-13).
LOOP_TOL = dict(rtol=1e-8, atol=1e-10)

pytestmark = pytest.mark.usefixtures("one_blas_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def data():
    X, y = make_spirals(96, n_classes=3, seed=0)
    return X, y


def _pair(norm="none", residual=False, depth=4, activation="tanh", dropout=0.0):
    kwargs = dict(hidden=8, depth=depth, activation=activation, init="xavier", norm=norm, residual=residual,
                  dropout=dropout)
    return (scratch_mlp(2, 3, rng=np.random.default_rng(1), **kwargs),
            torch_mlp(2, 3, rng=np.random.default_rng(1), **kwargs))


@pytest.mark.parametrize("norm, residual", [("none", False), ("batch", False), ("none", True), ("batch", True)])
def test_scratch_and_torch_models_train_identically(data, norm, residual):
    X, y = data
    scratch, torch_model = _pair(norm, residual)
    runs = []
    for model, optimizer in ((scratch, SGD(scratch.parameters(), lr=0.1, momentum=0.9)),
                             (torch_model, torch.optim.SGD(torch_model.parameters(), lr=0.1, momentum=0.9))):
        runs.append(train(model, optimizer, X, y, loss="softmax_cross_entropy", num_epochs=3, batch_size=32,
                          rng=np.random.default_rng(2), validation=(X[:20], y[:20]), record_every=2,
                          clip_grad_norm=0.5))
    a, b = runs
    np.testing.assert_allclose(a.loss, b.loss, **LOOP_TOL)
    np.testing.assert_allclose(a.grad_norm, b.grad_norm, **LOOP_TOL)
    np.testing.assert_allclose(a.val_loss, b.val_loss, **LOOP_TOL)
    assert a.accuracy == b.accuracy and a.layers == b.layers and a.weights == b.weights
    assert len(a.records) == len(b.records) == 5  # steps 0, 2, 4, 6 and the last, 8
    for ra, rb in zip(a.records, b.records):
        for name in ("act_mean", "act_std", "dead", "grad_std", "grad_norm", "weight_grad_norm", "update_ratio"):
            np.testing.assert_allclose(getattr(ra, name), getattr(rb, name), **LOOP_TOL, err_msg=name)
        np.testing.assert_array_equal(ra.act_hist, rb.act_hist)


def test_torch_hooks_are_removed_and_residual_blocks_are_watched_whole(data):
    X, y = data
    _, model = _pair(residual=True, depth=3)
    history = train(model, torch.optim.SGD(model.parameters(), lr=0.1), X, y, loss="softmax_cross_entropy",
                    num_epochs=1, rng=np.random.default_rng(0))
    assert history.layers == ("layer 1", "layer 2", "layer 3")  # first block's tanh, then two residual blocks
    assert all(not m._forward_hooks for m in model.modules())


def test_records_events_and_history_shapes(data):
    X, y = data
    model, _ = _pair()
    trainer = Trainer(model, SGD(model.parameters(), lr=0.1), loss="softmax_cross_entropy", record_every=3)
    seen = []
    trainer.attach(lambda event: seen.append((event.name, event.step, event.recorded)))
    history = trainer.fit(X, y, num_epochs=2, batch_size=40, rng=np.random.default_rng(0))  # 3 batches per epoch
    names = [name for name, _, _ in seen]
    assert names[0] == "train_start" and names[-1] == "train_end"
    assert names.count("step_end") == 6 and names.count("epoch_end") == 2
    assert [step for name, step, recorded in seen if name == "step_end" and recorded] == [1, 4, 6]
    assert history.record_steps.tolist() == [0, 3, 5]
    assert history.epoch_steps == [3, 6]
    assert history.series("grad_norm").shape == (3, 4) and history.series("update_ratio").shape == (3, 5)
    with pytest.raises(ValueError, match="unknown statistic 'loss'"):
        history.series("loss")
    assert history.smoothed_loss(2)[1] == pytest.approx(np.mean(history.loss[:2]))
    assert "6 steps, 2 epochs" in history.summary()


def test_early_stopping_restores_the_best_weights(data):
    X, y = data
    model, _ = _pair(depth=2)
    stopper = EarlyStopping(patience=2)
    # a learning rate so large that the validation loss soon gets worse
    history = train(model, SGD(model.parameters(), lr=5.0), X, y, loss="softmax_cross_entropy", num_epochs=40,
                    rng=np.random.default_rng(0), validation=(X, y), early_stopping=stopper)
    assert history.stopped_epoch is not None and history.stopped_epoch < 40
    assert history.best_epoch == int(np.argmin(history.val_loss)) + 1
    trainer = Trainer(model, SGD(model.parameters(), lr=0.1), loss="softmax_cross_entropy")
    assert trainer.adapter.evaluate(X, y)[0] == pytest.approx(min(history.val_loss), rel=1e-12)


def test_divergence_ends_the_run_without_raising(data):
    X, y = data
    model = scratch_mlp(2, 3, hidden=16, depth=10, activation="relu", init="standard", rng=np.random.default_rng(0))
    with np.errstate(all="ignore"):
        history = train(model, SGD(model.parameters(), lr=1.0), X, y, loss="softmax_cross_entropy", num_epochs=5,
                        rng=np.random.default_rng(0))
    assert history.diverged_step is not None and history.steps == history.diverged_step
    assert "diverged at step" in history.summary()


def test_measure_reports_without_changing_running_statistics(data):
    X, y = data
    model = scratch_mlp(2, 3, hidden=8, depth=3, norm="batch", rng=np.random.default_rng(0))
    before = [model[1].running_mean.copy(), model[1].running_var.copy()]
    snapshot = measure(model, X, y, loss="softmax_cross_entropy")
    np.testing.assert_array_equal(model[1].running_mean, before[0])
    np.testing.assert_array_equal(model[1].running_var, before[1])
    assert snapshot.layers == ("layer 1", "layer 2", "layer 3") and np.all(np.isnan(snapshot.update_ratio))
    assert snapshot.act_hist.shape == (3, len(ACTIVATION_BINS) - 1) and snapshot.act_hist.sum(axis=1).tolist() == [
        len(X) * 8] * 3


@pytest.mark.parametrize("activation, init, regime", [("sigmoid", "xavier", "vanishing"), ("relu", "he", "stable"),
                                                      ("relu", "xavier", "vanishing"), ("relu", "standard", "exploding")])
def test_gradient_regimes_at_initialisation(data, activation, init, regime):
    X, y = data
    model = scratch_mlp(2, 3, hidden=64, depth=30, activation=activation, init=init, rng=np.random.default_rng(0))
    assert gradient_regime(measure(model, X, y, loss="softmax_cross_entropy").gradient_ratio) == regime


def test_statistics_helpers():
    assert binned_counts(np.array([-10.0, -4.0, 0.0, 0.05, 3.99, 10.0, np.inf, np.nan]), ACTIVATION_BINS).sum() == 7
    counts = binned_counts(np.array([-10.0, 0.05, 10.0]), ACTIVATION_BINS)
    assert counts[0] == 1 and counts[20] == 1 and counts[-1] == 1
    np.testing.assert_array_equal(binned_counts(np.linspace(-3.9, 3.9, 500), ACTIVATION_BINS),
                                  np.histogram(np.linspace(-3.9, 3.9, 500), ACTIVATION_BINS)[0])
    assert dead_share(np.array([[0.0, 1.0, 0.0], [0.0, 2.0, 3.0]])) == pytest.approx(1 / 3)
    assert update_ratio(np.array([3.0, 4.0]), np.array([3.0, 4.5])) == pytest.approx(0.1)
    assert gradient_regime(float("nan")) == "no gradient" and gradient_regime(float("inf")) == "exploding"


@pytest.mark.parametrize("max_norm, norm_type", [(0.5, 2.0), (100.0, 2.0), (0.5, float("inf")), (1.0, 1.0)])
def test_clip_grad_norm_matches_torch(rng, max_norm, norm_type):
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((2, 2))]
    params = [Parameter(np.zeros_like(g)) for g in grads]
    tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, t, g in zip(params, tensors, grads):
        p.grad[...] = g
        t.grad = torch.tensor(g.copy())
    ours = clip_grad_norm(params, max_norm, norm_type)
    theirs = torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type)
    assert ours == pytest.approx(float(theirs), rel=1e-12)
    for p, t in zip(params, tensors):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert total_grad_norm(params, norm_type) <= max_norm * (1 + 1e-9)


def test_clip_grad_value_matches_torch(rng):
    g = 3 * rng.standard_normal((4, 4))
    p, t = Parameter(np.zeros((4, 4))), torch.zeros((4, 4), dtype=torch.float64, requires_grad=True)
    p.grad[...], t.grad = g, torch.tensor(g.copy())
    clip_grad_value([p], 1.0)
    torch.nn.utils.clip_grad_value_([t], 1.0)
    np.testing.assert_array_equal(p.grad, t.grad.numpy())


def test_residual_block_gradient_matches_finite_differences(rng):
    from dlcore.gradcheck import numerical_vjp

    model = scratch_mlp(3, 2, hidden=3, depth=3, activation="tanh", init="xavier", residual=True,
                        rng=np.random.default_rng(0))
    assert isinstance(model[2], Residual)
    x = rng.standard_normal((4, 3))
    dout = rng.standard_normal((4, 2))
    model.forward(x)
    dx = model.backward(dout)
    np.testing.assert_allclose(dx, numerical_vjp(lambda: model.forward(x), x, dout), rtol=1e-6, atol=1e-9)


def test_copy_scratch_to_torch_gives_the_same_function(rng):
    scratch, _ = _pair(norm="batch")
    _, other = _pair(norm="batch")
    for p in other.parameters():
        torch.nn.init.normal_(p)
    copy_scratch_to_torch(scratch, other)
    x = rng.standard_normal((5, 2))
    np.testing.assert_allclose(scratch.forward(x), other(torch.tensor(x)).detach().numpy(), **LOOP_TOL)


def test_loop_errors_are_clear(data):
    X, y = data
    model, torch_model = _pair()
    with pytest.raises(TypeError, match="a scratch model needs a dlcore.scratch.optim optimizer"):
        Trainer(model, torch.optim.SGD(torch_model.parameters(), lr=0.1), loss="mse")
    with pytest.raises(TypeError, match="a PyTorch model needs a torch.optim optimizer"):
        Trainer(torch_model, SGD(model.parameters(), lr=0.1), loss="mse")
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        Trainer(model, SGD(model.parameters(), lr=0.1), loss="hinge")
    with pytest.raises(TypeError, match="model must be a dlcore scratch Module or a torch.nn.Module"):
        Trainer(object(), SGD(model.parameters(), lr=0.1), loss="mse")
    with pytest.raises(ValueError, match="early_stopping watches the validation loss"):
        train(model, SGD(model.parameters(), lr=0.1), X, y, loss="softmax_cross_entropy", num_epochs=1,
              rng=np.random.default_rng(0), early_stopping=EarlyStopping())
    with pytest.raises(ShapeError, match=r"y has shape \(10,\) but x has 96 rows"):
        train(model, SGD(model.parameters(), lr=0.1), X, y[:10], loss="softmax_cross_entropy", num_epochs=1,
              rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown event 'batch_end'"):
        EventBus().subscribe("batch_end", print)


def test_builders_check_their_arguments():
    with pytest.raises(ValueError, match="activation must be one of"):
        scratch_mlp(2, 2, activation="swish", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        scratch_mlp(2, 2, dropout=1.0, rng=np.random.default_rng(0))
    model = scratch_mlp(2, 2, depth=2, norm="batch", dropout=0.5, rng=np.random.default_rng(0))
    assert [type(layer).__name__ for layer in model] == ["Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear",
                                                         "BatchNorm1d", "ReLU", "Dropout", "Linear"]
