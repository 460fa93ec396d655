"""DeepNetExplorer: how depth, activation, initialisation, batch norm and dropout decide training (chapter 07).

Moving a control rebuilds the network and shows it *at initialisation* (one
forward and backward pass: activation spreads, gradient norms, histograms,
dead units), which is instant. The "train" button then trains it on 2-D data
with the live :class:`~dlcore.widgets.dashboard.TrainingDashboard`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import ipywidgets as widgets
import numpy as np

from dlcore.data import make_moons, make_spirals, train_test_split
from dlcore.scratch.optim import SGD, Adam
from dlcore.training.history import History
from dlcore.training.loop import Trainer, measure
from dlcore.training.models import LayerKernels, scratch_mlp
from dlcore.training.stats import Snapshot, gradient_regime
from dlcore.widgets.base import Explorer
from dlcore.widgets.dashboard import TrainingDashboard

__all__ = ["DeepNetExplorer", "DeepNetState", "INIT_CHOICES", "ACTIVATION_CHOICES"]

HIDDEN = 32  # units per hidden layer
BATCH_SIZE = 32
MEASURE_EXAMPLES = 128  # the batch the network is inspected on at initialisation

INIT_CHOICES = [("He (Kaiming) normal", "he"), ("Xavier (Glorot) normal", "xavier"),
                ("PyTorch default U(±1/√fan_in)", "default"), ("small N(0, 0.01²)", "small"),
                ("standard N(0, 1)", "standard"), ("zeros", "zeros")]
ACTIVATION_CHOICES = [("ReLU", "relu"), ("Leaky ReLU", "leaky_relu"), ("ELU", "elu"), ("tanh", "tanh"),
                      ("sigmoid", "sigmoid")]
OPTIMIZERS = {
    "SGD, momentum 0.9": lambda params, lr: SGD(params, lr=lr, momentum=0.9),
    "Adam": lambda params, lr: Adam(params, lr=lr),
}


def _dataset(name: str):
    if name == "spirals":
        X, y = make_spirals(300, n_classes=3, noise=0.15, seed=0)
    else:
        X, y = make_moons(300, noise=0.15, seed=0)
    return train_test_split(X, y, test_fraction=0.25, seed=1)  # X_train, X_test, y_train, y_test


@dataclass(frozen=True)
class DeepNetState:
    """One setting of the controls: the network at initialisation and, once trained, its History."""

    depth: int
    activation: str
    init: str
    norm: str
    dropout: float
    dataset: str
    optimizer: str
    learning_rate: float
    num_steps: int
    initial: Snapshot
    regime: str
    history: History | None = None

    @property
    def trained(self) -> bool:
        return self.history is not None


class DeepNetExplorer(Explorer):
    """Depth, activation, initialisation, normalisation and dropout of a deep MLP, at initialisation and trained."""

    def __init__(self, depth: int = 20, activation: str = "relu", init: str = "he", norm: str = "none",
                 dropout: float = 0.0, dataset: str = "spirals", optimizer: str = "SGD, momentum 0.9",
                 learning_rate: float = 0.01, num_steps: int = 300, seed: int = 0,
                 kernels: LayerKernels | None = None) -> None:
        style = {"description_width": "initial"}
        self.depth = widgets.IntSlider(value=depth, min=2, max=50, description="depth", style=style)
        self.activation = widgets.Dropdown(options=ACTIVATION_CHOICES, value=activation, description="activation",
                                           style=style)
        self.init = widgets.Dropdown(options=INIT_CHOICES, value=init, description="initialisation", style=style)
        self.norm = widgets.Dropdown(options=[("none", "none"), ("batch norm", "batch")], value=norm,
                                     description="normalisation", style=style)
        self.dropout = widgets.FloatSlider(value=dropout, min=0.0, max=0.8, step=0.1, description="dropout p",
                                           style=style)
        self.dataset = widgets.Dropdown(options=["spirals", "moons"], value=dataset, description="data", style=style)
        self.optimizer = widgets.Dropdown(options=list(OPTIMIZERS), value=optimizer, description="optimizer",
                                          style=style)
        self.learning_rate = widgets.FloatLogSlider(value=learning_rate, base=10, min=-4, max=0, step=0.25,
                                                    description="learning rate", readout_format=".1e", style=style)
        self.num_steps = widgets.IntSlider(value=num_steps, min=50, max=1000, step=50, description="steps", style=style)
        self.train_button = widgets.Button(description="train", icon="play", button_style="primary")
        self.train_button.on_click(self._on_train)
        self.seed = int(seed)
        self.kernels = kernels  # the initialisation, batch norm and dropout the networks run on (None: dlcore's)
        self._data = {}
        self._snapshots: dict[tuple, Snapshot] = {}  # the network at initialisation, by _network_key()
        self._shown: tuple | None = None  # the _network_key() of the preview in the image
        # two figures: a light one for the network at initialisation (redrawn on every control change,
        # so it must be fast) and the full dashboard, shown once "train" is pressed
        self.preview = TrainingDashboard(panels="layers", title="The network at initialisation (one batch)")
        self.dashboard = TrainingDashboard(title="Training", min_interval_s=0.3)
        controls = [self.depth, self.activation, self.init, self.norm, self.dropout, self.dataset, self.optimizer,
                    self.learning_rate, self.num_steps, self.train_button]
        super().__init__(self.preview.fig, controls)
        self.dashboard.output = self.image  # during training the dashboard redraws the explorer's image
        self.watch(*controls[:-1])
        self._freeze_preview_layout()
        self.update()

    def _freeze_preview_layout(self) -> None:
        """Lay the preview out once, with its panels drawn, and keep it (see TrainingDashboard.freeze_layout)."""
        self.draw(self.compute())  # the histogram titles take their two lines
        self.preview.freeze_layout()

    # ------------------------------------------------------------------ logic

    def _data_for(self, name: str):
        if name not in self._data:
            self._data[name] = _dataset(name)
        return self._data[name]

    def _build(self):
        X_train, _, y_train, _ = self._data_for(self.dataset.value)
        return scratch_mlp(X_train.shape[1], int(y_train.max()) + 1, hidden=HIDDEN, depth=int(self.depth.value),
                           activation=self.activation.value, init=self.init.value, norm=self.norm.value,
                           dropout=float(self.dropout.value), rng=np.random.default_rng(self.seed),
                           kernels=self.kernels)

    def _network_key(self) -> tuple:
        """The settings the network at initialisation depends on (the training settings are not among them)."""
        return (int(self.depth.value), self.activation.value, self.init.value, self.norm.value,
                round(float(self.dropout.value), 2), self.dataset.value)

    def update(self, change=None) -> None:
        """Explorer.update, except that while the preview is shown a change of the optimizer, learning rate
        or steps keeps the image: the network at initialisation does not depend on them."""
        key = self._network_key()
        if self.state is not None and not self.state.trained and key == self._shown:
            self.state = self.compute()
            self.summary.value = self.describe(self.state)
            self.renders += 1  # the image already shows this network
            return
        super().update(change)
        self._shown = key

    def compute(self) -> DeepNetState:
        key = self._network_key()
        if key not in self._snapshots:  # measured once per setting: moving a slider back is instant
            X_train, _, y_train, _ = self._data_for(self.dataset.value)
            with np.errstate(all="ignore"):  # an exploding network is shown, not warned about
                snapshot = measure(self._build(), X_train[:MEASURE_EXAMPLES], y_train[:MEASURE_EXAMPLES],
                                   loss="softmax_cross_entropy")
            if len(self._snapshots) >= 64:
                self._snapshots.pop(next(iter(self._snapshots)))  # the oldest
            self._snapshots[key] = snapshot
        initial = self._snapshots[key]
        return DeepNetState(int(self.depth.value), self.activation.value, self.init.value, self.norm.value,
                            round(float(self.dropout.value), 2), self.dataset.value, self.optimizer.value,
                            float(self.learning_rate.value), int(self.num_steps.value), initial,
                            gradient_regime(initial.gradient_ratio))

    def draw(self, state: DeepNetState) -> None:
        if state.trained:
            self.fig = self.dashboard.fig
            self.dashboard.render(state.history)
        else:
            self.fig = self.preview.fig
            self.preview.render(History(records=[state.initial]))

    def train(self) -> History:
        """Train the current network for ``steps`` steps, redrawing the dashboard as it goes."""
        state = self.state
        X_train, X_test, y_train, y_test = self._data_for(state.dataset)
        model = self._build()
        optimizer = OPTIMIZERS[state.optimizer](model.parameters(), state.learning_rate)
        trainer = Trainer(model, optimizer, loss="softmax_cross_entropy", record_every=max(1, state.num_steps // 40))
        trainer.attach(self.dashboard)
        per_epoch = len(X_train) // BATCH_SIZE  # drop_last: only full batches
        with np.errstate(all="ignore"):
            history = trainer.fit(X_train, y_train, num_epochs=math.ceil(state.num_steps / per_epoch),
                                  max_steps=state.num_steps, batch_size=BATCH_SIZE, drop_last=True,
                                  validation=(X_test, y_test),
                                  rng=np.random.default_rng(self.seed + 1))
        self.state = replace(state, history=history)
        self.draw(self.state)  # the dashboard already shows the end of training; this switches the figure
        self.summary.value = self.describe(self.state)
        self.renders += 1
        return history

    def _on_train(self, _button=None) -> None:
        self.train_button.disabled = True
        try:
            self.train()
        finally:
            self.train_button.disabled = False

    # ------------------------------------------------------------------ text

    def describe(self, state: DeepNetState) -> str:
        s = state.initial
        ratio = s.gradient_ratio
        ratio_text = f"{ratio:.1e}" if np.isfinite(ratio) else "undefined (no gradient reaches the last layer)"
        lines = [f"<b>{state.depth} hidden layers of {HIDDEN} {state.activation} units, {state.init} initialisation"
                 f"{', batch norm' if state.norm == 'batch' else ''}"
                 f"{f', dropout {state.dropout:g}' if state.dropout else ''}.</b>",
                 f"At initialisation ‖dL/dh‖ at layer 1 is {ratio_text} times that at layer {state.depth}: "
                 f"<b>{state.regime}</b>. Dead units in the last hidden layer: {100 * s.dead[-1]:.0f}%."]
        advice = {
            "vanishing": "The first layers get almost no gradient and will barely learn. Try He initialisation "
                         "with ReLU, batch norm, or fewer layers.",
            "exploding": "The gradient grows on its way back; the first steps will throw the weights far away. "
                         "Use a scaled initialisation (Xavier, He) or batch norm.",
            "no gradient": "Every unit computes the same thing (or nothing): with zero weights no gradient flows "
                           "and symmetry is never broken.",
            "stable": "The gradient keeps its size through the layers: a good start.",
        }
        lines.append(advice[state.regime])
        h = state.history
        if h is None:
            lines.append("Press <i>train</i> to train it on the data with the settings above.")
        elif h.diverged_step is not None:
            lines.append(f"Training <b>diverged</b> at step {h.diverged_step}: lower the learning rate, or fix the "
                         f"initialisation.")
        else:
            lines.append(f"After {h.steps} steps: training accuracy {h.epoch_accuracy[-1]:.2f}, validation accuracy "
                         f"{h.val_accuracy[-1]:.2f} (chance: {1 / (3 if state.dataset == 'spirals' else 2):.2f}).")
        return "<br>".join(lines)
