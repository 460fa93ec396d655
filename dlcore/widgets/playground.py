"""Playground: TensorFlow Playground in a notebook, trained by PyTorch through dlcore (chapter 08).

    Playground()                       # dlcore's MLP, built from the controls
    Playground(model=my_module)        # your own nn.Module, (N, 2) -> (N, K) logits, trained in place

Controls: data set, noise, hidden layers, units per layer, activation,
learning rate, L2 rate, batch size; play / pause (each tick of the Play
widget trains :data:`STEPS_PER_TICK` steps), step (the same, once), reset.
The figure: the decision boundary with training (filled) and test (hollow)
points, the first hidden layer's units as small maps, and the training and
test losses. Changing data or architecture rebuilds (resets) the model;
learning rate, L2 and batch size only change how the next steps train.
The logic is in :mod:`dlcore.training.playground_model`.
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib
from matplotlib.ticker import MaxNLocator
import numpy as np

from dlcore.training.playground_model import (ACTIVATIONS, DATASETS, PlaygroundSession, boundary_grid, build_mlp,
                                              first_layer_maps, make_playground_data)
from dlcore.widgets.base import Explorer

__all__ = ["Playground", "PlaygroundState", "STEPS_PER_TICK", "LEARNING_RATES", "L2_RATES"]

STEPS_PER_TICK = 10
GRID = 60  # the boundary's grid: coarse enough for a fast callback
MAP_GRID = 20  # each neuron's map
MAX_MAPS = 8
LEARNING_RATES = [0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
L2_RATES = [0.0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
CMAP = "RdBu"  # class 0 red, class 1 blue; white = undecided


@dataclass(frozen=True)
class PlaygroundState:
    """What the figure shows after a callback."""

    dataset: str
    step: int
    train_loss: float
    test_loss: float
    train_accuracy: float
    test_accuracy: float
    grid: np.ndarray  # (GRID, GRID) probability of class 1
    maps: np.ndarray | None  # (U, MAP_GRID, MAP_GRID) first-layer units, or None
    maps_label: str
    diverged: bool
    own_model: bool


def _class_colors(y: np.ndarray) -> np.ndarray:
    """(N, 4) RGBA: class 1 blue, class 0 red (the ends of CMAP)."""
    return np.where(y[:, None] == 1, [[0.13, 0.40, 0.67, 1.0]], [[0.70, 0.09, 0.17, 1.0]])


def _mosaic(maps: np.ndarray | None) -> np.ma.MaskedArray:
    """Up to MAX_MAPS (MAP_GRID, MAP_GRID) maps tiled 4 rows x 2 columns, top row first, with masked gaps."""
    rows, cols, cell = MAX_MAPS // 2, 2, MAP_GRID + 2
    tiled = np.ma.masked_array(np.zeros((rows * cell, cols * cell)), mask=True)  # masked_all: garbage (NaN) data
    for i in range(0 if maps is None else min(len(maps), MAX_MAPS)):
        r, c = divmod(i, cols)
        tiled[r * cell + 1:r * cell + 1 + MAP_GRID, c * cell + 1:c * cell + 1 + MAP_GRID] = maps[i][::-1]  # x2 up
    return tiled


def _accuracy(grid_model_probability: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((grid_model_probability > 0.5) == (y == 1)))


class Playground(Explorer):
    """Train a small network on 2-D data and watch its boundary, its first layer and its losses."""

    def __init__(self, model=None, dataset: str = "spirals", noise: float = 0.1, hidden_layers: int = 2,
                 units: int = 6, activation: str = "tanh", learning_rate: float = 0.1, l2: float = 0.0,
                 batch_size: int = 10, seed: int = 0) -> None:
        from dlcore.plots.style import use_course_style
        from matplotlib.figure import Figure

        style = {"description_width": "initial"}
        self.dataset = widgets.Dropdown(options=list(DATASETS), value=dataset, description="data", style=style)
        self.noise = widgets.FloatSlider(value=noise, min=0.0, max=0.5, step=0.05, description="noise", style=style)
        self.hidden_layers = widgets.IntSlider(value=hidden_layers, min=0, max=4, description="hidden layers",
                                               style=style)
        self.units = widgets.IntSlider(value=units, min=1, max=8, description="units", style=style)
        self.activation = widgets.Dropdown(options=list(ACTIVATIONS), value=activation, description="activation",
                                           style=style)
        self.learning_rate = widgets.Dropdown(options=LEARNING_RATES, value=learning_rate,
                                              description="learning rate", style=style)
        self.l2 = widgets.Dropdown(options=L2_RATES, value=l2, description="L2", style=style)
        self.batch_size = widgets.IntSlider(value=batch_size, min=1, max=100, description="batch size", style=style)
        self.play = widgets.Play(value=0, min=0, max=10**9, interval=200, description="play / pause")
        self.step_button = widgets.Button(description="step", icon="step-forward")
        self.reset_button = widgets.Button(description="reset", icon="undo")
        self.seed = int(seed)
        self.own_model = model is not None
        self.session = PlaygroundSession(model if self.own_model else self._build(), learning_rate=learning_rate,
                                         l2=l2, seed=self.seed)
        if self.own_model:  # the learner's architecture is theirs: these controls do nothing
            for control in (self.hidden_layers, self.units, self.activation):
                control.disabled = True
        self.session.set_data(make_playground_data(dataset, noise, seed=self.seed))

        use_course_style()
        self.fig = Figure(figsize=(10.0, 3.4), dpi=72, layout="constrained")
        self._make_artists()
        controls = [self.dataset, self.noise, self.hidden_layers, self.units, self.activation, self.learning_rate,
                    self.l2, self.batch_size, self.play, self.step_button, self.reset_button]
        super().__init__(self.fig, controls)
        self.dataset.observe(self._on_data, names="value")
        self.noise.observe(self._on_data, names="value")
        for control in (self.hidden_layers, self.units, self.activation):
            control.observe(self._on_architecture, names="value")
        self.learning_rate.observe(self._on_learning_rate, names="value")
        self.l2.observe(self._on_l2, names="value")
        self.batch_size.observe(self.update, names="value")
        self.play.observe(self._on_tick, names="value")
        self.step_button.on_click(lambda _button: self.step())
        self.reset_button.on_click(lambda _button: self.reset())
        self.update()

    # ------------------------------------------------------------------ actions

    @property
    def model(self):
        """The network being trained (the learner's own module, if one was passed)."""
        return self.session.model

    def _build(self):
        return build_mlp(int(self.hidden_layers.value), int(self.units.value), self.activation.value, 2, self.seed)

    def step(self, num_steps: int = STEPS_PER_TICK) -> None:
        """Train ``num_steps`` mini-batch steps (bounded), then redraw."""
        self.session.train(min(int(num_steps), 10 * STEPS_PER_TICK), int(self.batch_size.value))
        self.update()

    def run(self, num_steps: int) -> None:
        """Train ``num_steps`` steps, then redraw once (for scripts and notebooks, not a callback)."""
        for _ in range(int(num_steps) // STEPS_PER_TICK):
            self.session.train(STEPS_PER_TICK, int(self.batch_size.value))
        self.update()

    def reset(self) -> None:
        """Back to the initial weights and an empty loss history."""
        self.session.reset()
        self.update()

    def _on_tick(self, change=None) -> None:
        self.step()  # one tick of the Play widget: a bounded STEPS_PER_TICK steps

    def _on_data(self, change=None) -> None:
        self.session.set_data(make_playground_data(self.dataset.value, float(self.noise.value), seed=self.seed))
        self.update()

    def _on_architecture(self, change=None) -> None:
        if self.own_model:
            return
        data = self.session.data
        self.session = PlaygroundSession(self._build(), learning_rate=float(self.learning_rate.value),
                                         l2=float(self.l2.value), seed=self.seed)
        self.session.set_data(data)
        self.update()

    def _on_learning_rate(self, change=None) -> None:
        self.session.set_learning_rate(float(self.learning_rate.value))
        self.update()

    def _on_l2(self, change=None) -> None:
        self.session.l2 = float(self.l2.value)
        self.update()

    # ------------------------------------------------------------------ logic

    def compute(self) -> PlaygroundState:
        from dlcore.training.playground_model import class1_probability

        s, data = self.session, self.session.data
        maps, label = first_layer_maps(s.model, data.extent, MAP_GRID, MAX_MAPS)
        return PlaygroundState(
            data.name, s.step_count, s.train_loss[-1], s.test_loss[-1],
            _accuracy(class1_probability(s.model, data.x_train), data.y_train),
            _accuracy(class1_probability(s.model, data.x_test), data.y_test),
            boundary_grid(s.model, data.extent, GRID), maps, label, s.diverged, self.own_model)

    # ------------------------------------------------------------------ figure

    def _make_artists(self) -> None:
        outer = self.fig.add_gridspec(1, 3, width_ratios=[1.0, 0.9, 1.15])
        self.ax_boundary = self.fig.add_subplot(outer[0])
        self.ax_maps = self.fig.add_subplot(outer[1])
        self.ax_loss = self.fig.add_subplot(outer[2])
        e = 1.6
        self.boundary_image = self.ax_boundary.imshow(np.full((GRID, GRID), 0.5), origin="lower", cmap=CMAP,
                                                      vmin=0, vmax=1, extent=(-e, e, -e, e), alpha=0.7)
        self.train_points = self.ax_boundary.scatter(np.zeros(0), np.zeros(0), s=12, edgecolors="k", linewidths=0.4)
        self.test_points = self.ax_boundary.scatter(np.zeros(0), np.zeros(0), s=12, facecolors="none",
                                                    linewidths=0.9)
        self.ax_boundary.set(xlim=(-e, e), ylim=(-e, e), xlabel="$x_1$", ylabel="$x_2$", aspect="equal",
                             xticks=[-1, 0, 1], yticks=[-1, 0, 1])
        self.ax_boundary.grid(False)
        # the first layer's units as ONE mosaic image on one axes: eight small axes would cost 60 ms a redraw
        cmap = matplotlib.colormaps["PuOr"].with_extremes(bad="white")
        self.maps_image = self.ax_maps.imshow(_mosaic(None), origin="upper", cmap=cmap, vmin=-1, vmax=1)
        self.ax_maps.set_axis_off()
        self.ax_maps.set_title("First hidden layer", fontsize=10)
        # a marker on the latest point only: visible from the first step on, cheap to draw
        self.train_line, = self.ax_loss.plot([], [], marker="o", markersize=3, markevery=[-1], label="training loss")
        self.test_line, = self.ax_loss.plot([], [], "--", marker="o", markersize=3, markevery=[-1], label="test loss")
        # no legend, grid or dense ticks: each costs ~10 ms a redraw; the title names the lines
        self.ax_loss.set(xlabel="step", ylabel="cross-entropy")
        self.ax_loss.set_title("Loss: training (solid), test (dashed)", fontsize=10)
        self.ax_loss.grid(False)
        self.ax_loss.xaxis.set_major_locator(MaxNLocator(4, integer=True))
        self.ax_loss.yaxis.set_major_locator(MaxNLocator(4))
        self._shown_data = None

    def _draw_points(self) -> None:
        data = self.session.data
        if self._shown_data is data:
            return
        self._shown_data = data
        self.train_points.set_offsets(data.x_train)
        self.test_points.set_offsets(data.x_test)
        self.train_points.set_facecolors(_class_colors(data.y_train))
        self.test_points.set_edgecolors(_class_colors(data.y_test))

    def draw(self, state: PlaygroundState) -> None:
        self._draw_points()
        self.boundary_image.set_data(state.grid)
        self.ax_boundary.set_title(f"Boundary after {state.step} steps", fontsize=10)
        self.maps_image.set_data(_mosaic(state.maps))
        s = self.session
        steps = np.asarray(s.steps, dtype=float)
        self.train_line.set_data(steps, s.train_loss)
        self.test_line.set_data(steps, s.test_loss)
        top = max(max(s.train_loss), max(s.test_loss))
        self.ax_loss.set_xlim(0, max(steps[-1], 10))
        self.ax_loss.set_ylim(0, max(1.05 * top, 0.1) if np.isfinite(top) else 1.0)

    def describe(self, state: PlaygroundState) -> str:
        who = "your model" if state.own_model else (f"{self.hidden_layers.value} hidden layer(s) of "
                                                     f"{self.units.value} {self.activation.value} units")
        lines = [f"<b>{who}</b> on <i>{state.dataset}</i>, step {state.step}: training loss "
                 f"{state.train_loss:.3f} (accuracy {state.train_accuracy:.2f}), test loss {state.test_loss:.3f} "
                 f"(accuracy {state.test_accuracy:.2f}).",
                 "Middle: the first hidden layer's units over the plane ("
                 + (f"{state.maps_label}, each scaled to its largest value)." if state.maps is not None
                    else "none: this model has no hidden layer, so its boundary is a straight line).")]
        if state.diverged:
            lines.append("<b>Training diverged</b> (the loss overflowed); the weights were kept from before. Lower "
                         "the learning rate and press <i>reset</i>.")
        return "<br>".join(lines)
