"""Neuron playground (chapter 02): one threshold unit on 2-D data, and the XOR network.

Mode "neuron": the sliders are w1, w2 and b of y_hat = step(w1 x1 + w2 x2 + b).
The plane is shaded by the prediction, the line w . x + b = 0 drawn, the
misclassified points ringed; "perceptron step" applies the perceptron rule
to the next misclassified point and moves the sliders. Mode "xor_mlp": the
hidden layer is the hand-set OR and NAND units of
:func:`dlcore.scratch.perceptron.xor_step_weights`, and the sliders are the
output unit acting on (h1, h2); the right panel shows that hidden space.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlcore.scratch.perceptron import make_gate, perceptron_update, xor_step_weights
from dlcore.widgets.base import Explorer

__all__ = ["NeuronPlayground", "PlaygroundState", "boundary_segment"]

DATASETS = {"AND": "AND", "OR": "OR", "NAND": "NAND", "XOR": "XOR", "separable blobs": "blobs"}
WEIGHT_RANGE = 10.0  # slider limits; perceptron steps that would leave them are clipped and reported
GRID = 120  # shading resolution per axis


def boundary_segment(w: np.ndarray, b: float, xlim: tuple, ylim: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The part of the line w1 x + w2 y + b = 0 inside the box; empty arrays if none (e.g. w = 0)."""
    w1, w2 = float(w[0]), float(w[1])
    points = []
    with np.errstate(all="ignore"):
        if w2 != 0:
            for x in xlim:
                points.append((x, -(w1 * x + b) / w2))
        if w1 != 0:
            for y in ylim:
                points.append((-(w2 * y + b) / w1, y))
    tolerance = 1e-9 * (abs(xlim[1] - xlim[0]) + abs(ylim[1] - ylim[0]))
    inside = [(x, y) for x, y in points if np.isfinite(x) and np.isfinite(y)
              and xlim[0] - tolerance <= x <= xlim[1] + tolerance and ylim[0] - tolerance <= y <= ylim[1] + tolerance]
    if len(inside) < 2:
        return np.empty(0), np.empty(0)
    inside.sort()
    (x0, y0), (x1, y1) = inside[0], inside[-1]
    return np.array([x0, x1]), np.array([y0, y1])


@dataclass
class PlaygroundState:
    """Everything one redraw needs; tests read it instead of pixels."""

    dataset: str
    mode: str
    w: np.ndarray  # (2,) the unit the sliders set
    b: float
    features: np.ndarray  # (N, 2) what that unit sees: x, or the hidden (h1, h2)
    y: np.ndarray  # (N,)
    predictions: np.ndarray  # (N,)
    errors: int
    wrong: np.ndarray  # indices of misclassified points
    has_line: bool
    line: tuple  # (xs, ys) of the unit's boundary in the panel where it lives
    region: np.ndarray  # (GRID, GRID) predicted class over the input plane
    steps: int
    note: str


class NeuronPlayground(Explorer):
    """Weights and bias sliders, decision line, perceptron steps; XOR fails, the MLP solves it."""

    def __init__(self, dataset: str = "AND", mode: str = "neuron", w1: float = 1.0, w2: float = 1.0,
                 b: float = -0.5, seed: int = 0) -> None:
        import ipywidgets as widgets
        from matplotlib.colors import ListedColormap
        from matplotlib.ticker import MaxNLocator

        from dlcore.data import make_blobs
        from dlcore.plots import CLASS_COLORS, new_figure
        from dlcore.plots.figures import pin_axis_labels

        X_blobs, y_blobs = make_blobs(40, centers=np.array([[-0.2, -1.4], [1.6, 0.6]]), spread=0.55, seed=seed)
        self.data = {name: make_gate(name) for name in ("AND", "OR", "NAND", "XOR")}
        self.data["blobs"] = (X_blobs, y_blobs)
        self.hidden_weights = xor_step_weights()
        slider = dict(min=-WEIGHT_RANGE, max=WEIGHT_RANGE, step=0.1, continuous_update=False,
                      readout_format=".2f", layout=widgets.Layout(width="260px"))
        self.dataset = widgets.Dropdown(options=list(DATASETS.items()), value=dataset, description="data")
        self.mode = widgets.ToggleButtons(options=[("single neuron", "neuron"), ("XOR MLP", "xor_mlp")],
                                          value=mode, description="mode")
        self.w1 = widgets.FloatSlider(value=w1, description="w1", **slider)
        self.w2 = widgets.FloatSlider(value=w2, description="w2", **slider)
        self.b = widgets.FloatSlider(value=b, description="b", **slider)
        self.step_button = widgets.Button(description="perceptron step", button_style="primary")
        self.reset_button = widgets.Button(description="reset")
        self.step_button.on_click(self.on_step)
        self.reset_button.on_click(self.on_reset)
        self._muted = False
        self._cursor = 0
        self._steps = 0
        self._history: list[int] = []
        self._note = ""

        fig, (self.ax, self.ax_right) = new_figure(ncols=2, width=9.6, height=3.9)
        light = ListedColormap(["#c6dbef", "#fdd0a2"])  # pale class-0 / class-1 colours
        self._region = self.ax.imshow(np.zeros((GRID, GRID)), origin="lower", cmap=light, vmin=0, vmax=1,
                                      aspect="auto", interpolation="nearest", zorder=0)
        self._points = [self.ax.scatter([], [], s=45, color=CLASS_COLORS[k], edgecolor="k", linewidth=0.5,
                                        zorder=3) for k in (0, 1)]
        self._wrong = self.ax.scatter([], [], s=190, facecolors="none", edgecolors="#d62728", linewidths=2,
                                      zorder=4)
        (self._line,) = self.ax.plot([], [], color="k", lw=2, zorder=2)
        self._hidden_lines = [self.ax.plot([], [], ls="--", color=color, lw=1.5, zorder=2)[0]
                              for color in (CLASS_COLORS[2], CLASS_COLORS[4])]
        self.ax.set_xlabel("$x_1$")
        self.ax.set_ylabel("$x_2$")
        # right panel, neuron mode: errors after each perceptron step
        (self._curve,) = self.ax_right.plot([], [], marker="o", ms=3, color=CLASS_COLORS[0])
        # right panel, MLP mode: the hidden space and the output unit's line in it
        self._hidden_region = self.ax_right.imshow(np.zeros((GRID, GRID)), origin="lower", cmap=light, vmin=0,
                                                   vmax=1, aspect="auto", interpolation="nearest",
                                                   extent=(-0.5, 1.5, -0.5, 1.5), zorder=0)
        self._hidden_points = [self.ax_right.scatter([], [], s=45, color=CLASS_COLORS[k], edgecolor="k",
                                                     linewidth=0.5, zorder=3) for k in (0, 1)]
        self._hidden_wrong = self.ax_right.scatter([], [], s=190, facecolors="none", edgecolors="#d62728",
                                                   linewidths=2, zorder=4)
        (self._output_line,) = self.ax_right.plot([], [], color="k", lw=2, zorder=2)
        for axis in (self.ax.xaxis, self.ax.yaxis, self.ax_right.xaxis, self.ax_right.yaxis):
            # fewer tick labels: text is most of the drawing time
            axis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
        for ax in (self.ax, self.ax_right):
            ax.set_title(" ", y=1.0)  # a fixed height: matplotlib need not measure the tick labels to place it
        super().__init__(fig, [self.dataset, self.mode, self.w1, self.w2, self.b,
                               self.step_button, self.reset_button])
        self.dataset.observe(self._on_dataset, names="value")
        self.mode.observe(self._on_mode, names="value")
        self.watch(self.w1, self.w2, self.b)
        if mode == "xor_mlp":
            self._on_mode()  # starts from the hand-set output unit (w1, w2, b are ignored)
        else:
            self.update()
        # The y labels stay free: the right panel's tick labels change width with the mode.
        pin_axis_labels(fig, which="x")

    # ---------------------------------------------------------------- logic

    def update(self, change=None) -> None:
        if not self._muted:
            super().update(change)

    def _set_weights(self, w1: float, w2: float, b: float) -> bool:
        """Move the sliders together (one redraw); return True if a value had to be clipped."""
        wanted = np.array([w1, w2, b], dtype=np.float64)
        clipped = np.clip(np.nan_to_num(wanted), -WEIGHT_RANGE, WEIGHT_RANGE)
        self._muted = True
        try:
            self.w1.value, self.w2.value, self.b.value = (float(v) for v in clipped)
        finally:
            self._muted = False
        return bool(np.any(clipped != wanted))

    def _restart(self) -> None:
        self._cursor, self._steps, self._history, self._note = 0, 0, [], ""

    def _on_dataset(self, change=None) -> None:
        self._restart()
        self.update()

    def _on_mode(self, change=None) -> None:
        self._restart()
        if self.mode.value == "xor_mlp":  # show the hand-set output unit: AND(h1, h2)
            W2, b2 = self.hidden_weights[2], self.hidden_weights[3]
            self._set_weights(W2[0, 0], W2[1, 0], b2[0])
        self.update()

    def features(self, X: np.ndarray) -> np.ndarray:
        """What the slider unit sees: x itself, or the hidden layer's (h1, h2) in MLP mode."""
        if self.mode.value == "neuron":
            return X
        W1, b1 = self.hidden_weights[0], self.hidden_weights[1]
        return (X @ W1 + b1 > 0).astype(np.float64)  # (N, 2) step units

    def limits(self) -> tuple[tuple[float, float], tuple[float, float]]:
        X = self.data[self.dataset.value][0]
        low, high = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
        return (float(low[0]), float(high[0])), (float(low[1]), float(high[1]))

    def compute(self) -> PlaygroundState:
        X, y = self.data[self.dataset.value]
        w = np.array([self.w1.value, self.w2.value], dtype=np.float64)
        b = float(self.b.value)
        F = self.features(X)
        predictions = (F @ w + b > 0).astype(np.int64)
        wrong = np.flatnonzero(predictions != y)
        xlim, ylim = self.limits()
        panel = (xlim, ylim) if self.mode.value == "neuron" else ((-0.5, 1.5), (-0.5, 1.5))
        line = boundary_segment(w, b, *panel)
        xs, ys = np.linspace(*xlim, GRID), np.linspace(*ylim, GRID)
        grid = np.column_stack([g.ravel() for g in np.meshgrid(xs, ys)])  # (GRID*GRID, 2)
        region = (self.features(grid) @ w + b > 0).astype(np.float64).reshape(GRID, GRID)
        return PlaygroundState(self.dataset.value, self.mode.value, w, b, F, y, predictions, len(wrong), wrong,
                               len(line[0]) == 2, line, region, self._steps, self._note)

    def on_step(self, button=None) -> None:
        """One perceptron update on the next misclassified point (cycling through the data)."""
        X, y = self.data[self.dataset.value]
        F = self.features(X)
        w = np.array([self.w1.value, self.w2.value])
        b = float(self.b.value)
        wrong = (F @ w + b > 0).astype(np.int64) != y
        if not wrong.any():
            self._note = "Every point is already right: the perceptron rule changes nothing."
            self.update()
            return
        order = (self._cursor + np.arange(len(y))) % len(y)
        i = int(order[np.argmax(wrong[order])])  # first misclassified point at or after the cursor
        w_new, b_new = perceptron_update(F[i], int(y[i]), w, b, learning_rate=1.0)
        self._cursor = (i + 1) % len(y)
        self._steps += 1
        direction = "added to" if y[i] == 1 else "subtracted from"
        self._note = (f"Step {self._steps}: point {i} ({F[i, 0]:.2f}, {F[i, 1]:.2f}), label {y[i]}, was "
                      f"wrong, so it was {direction} (w, b).")
        if self._set_weights(w_new[0], w_new[1], b_new):
            self._note += f" A value left [-{WEIGHT_RANGE:g}, {WEIGHT_RANGE:g}] and was clipped to the slider range."
        if not self._history:  # the curve starts at step 0, before any update
            self._history.append(int(wrong.sum()))
        w_now = np.array([self.w1.value, self.w2.value])
        self._history.append(int(np.sum((F @ w_now + self.b.value > 0).astype(np.int64) != y)))
        self.update()

    def on_reset(self, button=None) -> None:
        """Weights and bias to zero, history cleared."""
        self._restart()
        self._set_weights(0.0, 0.0, 0.0)
        self.update()

    # ---------------------------------------------------------------- drawing

    def draw(self, state: PlaygroundState) -> None:
        X, y = self.data[state.dataset]
        xlim, ylim = self.limits()
        mlp = state.mode == "xor_mlp"
        self._region.set_data(state.region)
        self._region.set_extent((*xlim, *ylim))
        for k, artist in enumerate(self._points):
            artist.set_offsets(X[y == k].reshape(-1, 2))
        self._wrong.set_offsets(X[state.wrong].reshape(-1, 2))
        self._line.set_data(*(state.line if not mlp else (np.empty(0), np.empty(0))))
        W1, b1 = self.hidden_weights[0], self.hidden_weights[1]
        for j, artist in enumerate(self._hidden_lines):
            artist.set_data(*(boundary_segment(W1[:, j], b1[j], xlim, ylim) if mlp else (np.empty(0), np.empty(0))))
        self.ax.set_xlim(*xlim)
        self.ax.set_ylim(*ylim)
        network = "XOR MLP" if mlp else "one neuron"
        self.ax.set_title(f"{state.dataset}, {network}: {state.errors} of {len(y)} misclassified")

        for artist in (self._hidden_region, self._output_line, self._hidden_wrong, *self._hidden_points):
            artist.set_visible(mlp)
        self._curve.set_visible(not mlp)
        right = self.ax_right
        if mlp:
            hs = np.linspace(-0.5, 1.5, GRID)
            grid = np.column_stack([g.ravel() for g in np.meshgrid(hs, hs)])  # (GRID*GRID, 2)
            self._hidden_region.set_data((grid @ state.w + state.b > 0).astype(np.float64).reshape(GRID, GRID))
            for k, artist in enumerate(self._hidden_points):
                artist.set_offsets(state.features[y == k].reshape(-1, 2))
            self._hidden_wrong.set_offsets(state.features[state.wrong].reshape(-1, 2))
            self._output_line.set_data(*state.line)
            right.set_xlim(-0.5, 1.5)
            right.set_ylim(-0.5, 1.5)
            right.set_title("hidden space: the output unit's line")
            right.set_xlabel("$h_1$ = OR($x_1, x_2$)")
            right.set_ylabel("$h_2$ = NAND($x_1, x_2$)")
        else:
            steps = np.arange(len(self._history))
            self._curve.set_data(steps, np.array(self._history, dtype=np.float64))
            right.set_xlim(0, max(10, len(steps)))
            right.set_ylim(-0.5, len(y) + 0.5)
            right.set_title("errors after each perceptron step")
            right.set_xlabel("perceptron steps")
            right.set_ylabel("misclassified points")

    def describe(self, state: PlaygroundState) -> str:
        w1, w2 = state.w
        unit = "y_hat" if state.mode == "neuron" else "output"
        inputs = ("x<sub>1</sub>", "x<sub>2</sub>") if state.mode == "neuron" else ("h<sub>1</sub>", "h<sub>2</sub>")
        parts = [f"<b>{unit} = step({w1:.2f}&middot;{inputs[0]} + {w2:.2f}&middot;{inputs[1]} + {state.b:.2f})</b>; "
                 f"{state.errors} of {len(state.y)} points misclassified."]
        parts.append("Blue: class 0, orange: class 1; shading: the prediction; red rings: misclassified.")
        if not state.has_line:
            if w1 == 0 and w2 == 0:
                side = "class 1" if state.b > 0 else "class 0"
                parts.append(f"w = (0, 0): there is no boundary line at all; z = b = {state.b:.2f} for every "
                             f"input, so every point is {side}.")
            else:
                parts.append("The boundary line lies outside the plotted area: every point gets the same class.")
        if state.mode == "xor_mlp":
            parts.append("Hidden layer (fixed): h<sub>1</sub> = step(x<sub>1</sub> + x<sub>2</sub> - 0.5) = OR, "
                         "h<sub>2</sub> = step(-x<sub>1</sub> - x<sub>2</sub> + 1.5) = NAND (left: their lines, "
                         "green and purple dashed). The sliders set the "
                         "output unit, a perceptron on (h<sub>1</sub>, h<sub>2</sub>); (0, 1) and (1, 0) both "
                         "land on (1, 1).")
        elif state.dataset == "XOR":
            parts.append("No line separates XOR, so some point is always wrong and perceptron steps go round "
                         "in a cycle for ever. Switch to the XOR MLP mode.")
        if state.errors == 0 and state.steps:
            parts.append(f"Converged after {state.steps} perceptron steps.")
        if state.note:
            parts.append(state.note)
        return "<br>".join(parts)
