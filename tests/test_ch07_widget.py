"""Chapter 07: TrainingDashboard and DeepNetExplorer, headless, driven through their controls."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.data import make_moons
from dlcore.scratch.optim import SGD
from dlcore.training import Trainer, scratch_mlp
from dlcore.widgets.dashboard import PLOT_CEILING, PLOT_FLOOR, TrainingDashboard, select_layers
from dlcore.widgets.deepnet import DeepNetExplorer
from tests.helpers import figure_finite

pytestmark = pytest.mark.usefixtures("one_blas_thread")  # tests/conftest.py


def plotted_points(fig) -> int:
    return sum(len(line.get_xdata()) for ax in fig.axes for line in ax.get_lines())


@pytest.fixture(scope="module")
def explorer():
    e = DeepNetExplorer(depth=6, num_steps=50)
    e.dashboard.min_interval_s = 3600.0  # draw at the start and the end of training only: faster tests
    yield e
    e.widget.close()


def test_select_layers():
    assert select_layers(50, 5).tolist() == [0, 12, 24, 37, 49]
    assert select_layers(3, 5).tolist() == [0, 1, 2]
    assert select_layers(0, 5).tolist() == []


class _Clock:
    """A stand-in for time.perf_counter that advances a fixed step per reading, so the redraw
    throttle (which compares wall-clock times) behaves the same on an idle and on a busy machine."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def perf_counter(self) -> float:
        self.now += self.step
        return self.now


def test_dashboard_follows_a_run_headless(monkeypatch):
    import dlcore.widgets.dashboard as dashboard_module
    monkeypatch.setattr(dashboard_module, "time", _Clock(step=0.1))
    X, y = make_moons(64, seed=0)
    model = scratch_mlp(2, 2, hidden=8, depth=3, rng=np.random.default_rng(0))
    dashboard = TrainingDashboard(min_interval_s=0.0)
    trainer = Trainer(model, SGD(model.parameters(), lr=0.05), loss="softmax_cross_entropy", record_every=2)
    trainer.attach(dashboard)
    history = trainer.fit(X, y, num_epochs=4, batch_size=16, rng=np.random.default_rng(0), validation=(X, y))
    # train_start, train_end and at least one redraw during training (the throttle allows drawing
    # at most ~20% of the time, so not at every event)
    assert 3 <= dashboard.draws <= 2 + history.epochs + len(history.records)
    loss_x, loss_y = dashboard.loss_line.get_data()
    assert len(loss_x) == history.steps and np.allclose(loss_y, history.smoothed_loss(10))
    assert len(dashboard.val_loss_line.get_xdata()) == history.epochs
    assert len(dashboard.hist_lines) == 3 and len(dashboard.ratio_lines) == 4
    assert figure_finite(dashboard.fig)


def test_dashboard_throttles_redraws():
    X, y = make_moons(64, seed=0)
    model = scratch_mlp(2, 2, hidden=8, depth=3, rng=np.random.default_rng(0))
    dashboard = TrainingDashboard(min_interval_s=3600.0)
    trainer = Trainer(model, SGD(model.parameters(), lr=0.05), loss="softmax_cross_entropy", record_every=1)
    trainer.attach(dashboard)
    trainer.fit(X, y, num_epochs=5, batch_size=8, rng=np.random.default_rng(0))
    assert dashboard.draws == 2  # train_start and train_end only


def test_dashboard_draws_a_diverged_run_without_nan():
    X, y = make_moons(64, seed=0)
    model = scratch_mlp(2, 2, hidden=16, depth=8, init="standard", rng=np.random.default_rng(0))
    dashboard = TrainingDashboard(min_interval_s=0.0)
    trainer = Trainer(model, SGD(model.parameters(), lr=1.0), loss="softmax_cross_entropy", record_every=1)
    trainer.attach(dashboard)
    with np.errstate(all="ignore"):
        history = trainer.fit(X, y, num_epochs=20, rng=np.random.default_rng(0))
    assert history.diverged_step is not None
    assert "diverged" in dashboard.note.get_text()
    assert figure_finite(dashboard.fig)


def test_dashboard_output_is_checked():
    with pytest.raises(ValueError, match="output must be None, 'notebook' or an ipywidgets.Image"):
        TrainingDashboard(output="screen")
    with pytest.raises(ValueError, match="panels must be 'all'"):
        TrainingDashboard(panels="some")


def test_initial_view(explorer):
    state = explorer.state
    assert not state.trained and state.regime == "stable"
    assert explorer.image.value and "stable" in explorer.summary.value
    assert explorer.fig is explorer.preview.fig and figure_finite(explorer.fig)


def test_each_control_redraws():
    explorer = DeepNetExplorer(depth=6, num_steps=50)  # its own: every control is left changed
    settings = [(explorer.depth, 2), (explorer.activation, "tanh"), (explorer.init, "xavier"),
                (explorer.norm, "batch"), (explorer.dropout, 0.5), (explorer.dataset, "moons"),
                (explorer.optimizer, "Adam"), (explorer.learning_rate, 0.001), (explorer.num_steps, 100)]
    for control, value in settings:
        before, renders = explorer.image.value, explorer.renders
        control.value = value
        assert explorer.renders == renders + 1
        if control not in (explorer.optimizer, explorer.learning_rate, explorer.num_steps):
            assert explorer.image.value != before, control.description  # the network itself changed
        assert figure_finite(explorer.fig)
    state = explorer.state
    assert (state.depth, state.activation, state.init, state.norm, state.dropout, state.dataset, state.optimizer,
            state.learning_rate, state.num_steps) == (2, "tanh", "xavier", "batch", 0.5, "moons", "Adam", 0.001, 100)
    explorer.widget.close()


@pytest.mark.parametrize("activation, init, regime", [("sigmoid", "xavier", "vanishing"), ("relu", "small", "vanishing"),
                                                      ("relu", "standard", "exploding"), ("relu", "he", "stable")])
def test_depth_50_regimes_and_no_nan(explorer, activation, init, regime):
    explorer.depth.value = 50
    explorer.activation.value = activation
    explorer.init.value = init
    assert explorer.state.regime == regime
    assert regime in explorer.summary.value
    assert figure_finite(explorer.fig)
    # values beyond the plotted range are pinned to its edges, never dropped silently as NaN
    y = explorer.preview.grad_norm_line.get_ydata()
    assert len(y) == 50 and np.all((y >= PLOT_FLOOR) & (y <= PLOT_CEILING))
    explorer.depth.value, explorer.activation.value, explorer.init.value = 6, "relu", "he"


def test_gradient_shrinks_with_depth_for_xavier_relu(explorer):
    explorer.init.value = "xavier"
    ratios = []
    for depth in (5, 20, 40):
        explorer.depth.value = depth
        ratios.append(explorer.state.initial.gradient_ratio)
    assert ratios[0] > ratios[1] > ratios[2]  # vanishing gets worse with every layer
    explorer.depth.value, explorer.init.value = 6, "he"


def test_zero_initialisation_has_no_gradient(explorer):
    explorer.init.value = "zeros"
    assert explorer.state.regime == "no gradient" and explorer.state.initial.dead[-1] == 1.0
    assert "symmetry" in explorer.summary.value and figure_finite(explorer.fig)
    explorer.init.value = "he"


def test_train_button_trains_and_shows_the_dashboard(explorer):
    explorer.depth.value, explorer.num_steps.value, explorer.dataset.value = 4, 150, "moons"
    explorer.learning_rate.value = 0.05
    before = explorer.image.value
    explorer.train_button.click()
    state = explorer.state
    assert state.trained and state.history.steps == 150 and state.history.diverged_step is None
    assert state.history.epoch_accuracy[-1] > 0.75  # moons are easy for a small ReLU network
    assert explorer.fig is explorer.dashboard.fig and explorer.image.value != before
    assert "After 150 steps" in explorer.summary.value
    assert figure_finite(explorer.fig) and plotted_points(explorer.fig) > 150
    explorer.depth.value = 5  # any change returns to the network at initialisation
    assert not explorer.state.trained and explorer.fig is explorer.preview.fig
    explorer.dataset.value, explorer.learning_rate.value = "spirals", 0.01


def test_training_a_depth_50_network_with_bad_init_survives(explorer):
    explorer.depth.value, explorer.init.value, explorer.num_steps.value = 50, "standard", 50
    explorer.learning_rate.value = 1.0
    history = explorer.train()
    assert history.diverged_step is not None and "diverged" in explorer.summary.value
    assert figure_finite(explorer.fig)
    explorer.depth.value, explorer.init.value, explorer.learning_rate.value = 6, "he", 0.01


def test_explorer_builds_its_networks_on_the_given_kernels():
    """Chapter 07 hands the learner's initialisation, batch norm and dropout to the explorer."""
    from dlcore.exercises import ch07
    from dlcore.training import LayerKernels
    from dlcore.training.kernel_layers import KernelBatchNorm1d, KernelDropout

    calls = []

    def init_weights(shape, scheme, nonlinearity, rng):
        calls.append((shape, scheme, nonlinearity))
        return ch07.reference_init_weights(shape, scheme, nonlinearity, rng)

    kernels = LayerKernels(init_weights, (ch07.reference_batchnorm_forward, ch07.reference_batchnorm_backward),
                           (ch07.reference_dropout_forward, ch07.reference_dropout_backward))
    explorer = DeepNetExplorer(depth=3, norm="batch", dropout=0.2, num_steps=50, kernels=kernels)
    try:
        layers = explorer._build().layers
        assert any(isinstance(layer, KernelBatchNorm1d) for layer in layers)
        assert any(isinstance(layer, KernelDropout) for layer in layers)
        assert calls and calls[0][1] == "he"
        state = explorer.compute()
        assert np.isfinite(state.initial.grad_norm).all()
    finally:
        explorer.widget.close()
