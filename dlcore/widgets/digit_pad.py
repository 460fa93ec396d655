"""Digit pad (chapter 09): draw a digit on a 14x14 grid, see LeNet-5's feature maps and its prediction.

Each cell of the grid is a toggle button; the drawing is repeated 2x2 to
LeNet's 28x28 input. Presets load real MNIST test digits 0-9 drawn the pad's way (or clear the pad),
the shift slider moves the drawing sideways, so one can watch the feature
maps move with it (convolution is translation-equivariant) while the
prediction mostly stays. The LeNet-5 is the learner's (pass ``model``) or one
trained in a few seconds when the pad is built, on MNIST training digits drawn
the pad's way (:func:`dlcore.training.digits_cnn.train_pad_lenet`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlcore.widgets.base import Explorer

__all__ = ["DigitPad", "DigitPadState", "preset_cells", "GRID"]

GRID = 14
MAX_SHIFT = 4


def preset_cells(index: int = 0) -> dict[str, np.ndarray]:
    """{"clear": zeros, "digit 0": ..., "digit 9": ...}, each (14, 14) of 0/1: the ``index``-th MNIST test digit
    of each class (0 to 99), drawn the pad's way."""
    from dlcore.data import load_mnist
    from dlcore.training.digits_cnn import to_pad_style

    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < 100:
        raise ValueError(f"preset_cells: index must be an int from 0 to 99 (100 test digits a class), got {index!r}")
    X, y = load_mnist("test", dtype=np.float32)  # (1000, 28, 28), sorted by class
    rows = [int(np.flatnonzero(y == digit)[index]) for digit in range(10)]
    drawn = to_pad_style(X[rows, None])[:, 0, ::2, ::2]  # (10, 14, 14)
    presets = {"clear": np.zeros((GRID, GRID))}
    for digit in range(10):
        presets[f"digit {digit}"] = drawn[digit].astype(np.float64)
    return presets


def mosaic(maps: np.ndarray, columns: int) -> np.ndarray:
    """(K, h, w) maps tiled in a grid with a one-pixel NaN gap (drawn as background); each map scaled to [0, 1]."""
    K, h, w = maps.shape
    rows = -(-K // columns)
    out = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), np.nan)
    low = maps.min(axis=(1, 2), keepdims=True)
    span = np.maximum(maps.max(axis=(1, 2), keepdims=True) - low, 1e-6)  # a constant map stays finite
    scaled = (maps - low) / span
    for k in range(K):
        r, c = divmod(k, columns)
        out[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = scaled[k]
    return out


@dataclass
class DigitPadState:
    cells: np.ndarray  # (14, 14) the drawing after the shift
    image: np.ndarray  # (28, 28) LeNet's input
    c1: np.ndarray  # (6, 28, 28) after C1 and tanh
    c3: np.ndarray  # (16, 10, 10) after C3 and tanh
    probabilities: np.ndarray  # (10,)
    prediction: int


class DigitPad(Explorer):
    """A 14x14 drawing grid, presets, a shift slider; LeNet-5's C1/C3 maps and class probabilities."""

    def __init__(self, model=None, preset: str = "digit 3", shift: int = 0, seed: int = 0) -> None:
        import ipywidgets as widgets

        from dlcore.plots import new_figure
        from dlcore.training.digits_cnn import train_pad_lenet

        self.model = train_pad_lenet(seed=seed) if model is None else model
        if not all(hasattr(self.model, name) for name in ("activation", "pooling", "input_size")):
            raise TypeError("DigitPad: model must be a dlcore.models.lenet.LeNet5 (or built like one), "
                            f"got {type(self.model).__name__}")
        from dlcore.scratch.cnn import scratch_lenet5_from_torch

        # Inference on one 28x28 image runs in NumPy on a copy of the weights: a fraction of a
        # millisecond, where a multi-threaded PyTorch call on a busy machine can take tens.
        self.twin = scratch_lenet5_from_torch(self.model)
        self.presets = preset_cells()
        self.preset = widgets.Dropdown(options=list(self.presets), value=preset, description="preset")
        self.shift = widgets.IntSlider(value=shift, min=-MAX_SHIFT, max=MAX_SHIFT, description="shift right",
                                       continuous_update=False)
        cell = widgets.Layout(width="18px", height="18px", padding="0px", margin="0px")
        self.cells = [widgets.ToggleButton(value=False, layout=cell, tooltip=f"row {i}, column {j}")
                      for i in range(GRID) for j in range(GRID)]
        grid = widgets.GridBox(self.cells, layout=widgets.Layout(
            grid_template_columns=f"repeat({GRID}, 18px)", grid_gap="1px", width="max-content"))
        self._muted = False

        fig, axes = new_figure(ncols=4, width=9.0, height=2.5)
        fig.set_dpi(72)
        self.ax_in, self.ax_c1, self.ax_c3, self.ax_p = axes
        self._input = self.ax_in.imshow(np.zeros((28, 28)), cmap="gray_r", vmin=0, vmax=1)
        self._c1 = self.ax_c1.imshow(mosaic(np.zeros((6, 28, 28)), 3), cmap="viridis", vmin=0, vmax=1)
        self._c3 = self.ax_c3.imshow(mosaic(np.zeros((16, 10, 10)), 4), cmap="viridis", vmin=0, vmax=1)
        self._bars = self.ax_p.bar(np.arange(10), np.zeros(10), color="#1f77b4")
        for ax, title in ((self.ax_in, "input 28x28"), (self.ax_c1, "C1: 6 maps 28x28"),
                          (self.ax_c3, "C3: 16 maps 10x10")):
            ax.set_title(title)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel("column")
            ax.set_ylabel("row")
        self.ax_p.set_title("prediction")
        self.ax_p.set_xticks(range(10))
        self.ax_p.set_ylim(0, 1)
        self.ax_p.set_yticks([0, 0.5, 1])
        self.ax_p.set_xlabel("digit")
        self.ax_p.set_ylabel("probability")
        super().__init__(fig, [self.preset, self.shift], extra=[grid])
        self.preset.observe(self._on_preset, names="value")
        self.watch(self.shift, *self.cells)
        self._on_preset()

    # ---------------------------------------------------------------- logic

    def update(self, change=None) -> None:
        if not self._muted:
            super().update(change)

    def set_cells(self, cells: np.ndarray) -> None:
        """Set the whole drawing (14, 14) of 0/1 at once, with one redraw."""
        cells = np.asarray(cells)
        if cells.shape != (GRID, GRID):
            raise ValueError(f"DigitPad.set_cells: cells has shape {cells.shape} but expected ({GRID}, {GRID})")
        self._muted = True
        try:
            for button, value in zip(self.cells, cells.ravel()):
                button.value = bool(value > 0.5)
        finally:
            self._muted = False
        self.update()

    def _on_preset(self, change=None) -> None:
        self.set_cells(self.presets[self.preset.value])

    def drawing(self) -> np.ndarray:
        """(14, 14) the toggles as 0/1, shifted right by the slider (cells pushed off the edge are lost)."""
        cells = np.array([button.value for button in self.cells], dtype=np.float64).reshape(GRID, GRID)
        shift = int(self.shift.value)
        shifted = np.zeros_like(cells)
        if shift >= 0:
            shifted[:, shift:] = cells[:, :GRID - shift]
        else:
            shifted[:, :shift] = cells[:, -shift:]
        return shifted

    def compute(self) -> DigitPadState:
        from dlcore.scratch.activations import softmax

        cells = self.drawing()
        image = np.kron(cells, np.ones((2, 2)))  # (28, 28)
        x = image[None, None]  # (1, 1, 28, 28)
        maps = []
        for index, layer in enumerate(self.twin.layers):
            x = layer.forward(x)
            if index in (1, 4):  # after C1's and C3's activations
                maps.append(x[0])
        probabilities = softmax(x)[0]  # (10,)
        return DigitPadState(cells, image, maps[0], maps[1], probabilities, int(np.argmax(probabilities)))

    def draw(self, state: DigitPadState) -> None:
        self._input.set_data(state.image)
        self._c1.set_data(mosaic(state.c1, 3))
        self._c3.set_data(mosaic(state.c3, 4))
        for k, bar in enumerate(self._bars):
            bar.set_height(state.probabilities[k])
            bar.set_color("#d62728" if k == state.prediction else "#1f77b4")

    def describe(self, state: DigitPadState) -> str:
        if not state.cells.any():
            return "<p>The pad is empty: draw a digit by clicking cells, or choose a preset.</p>"
        return (f"<p>LeNet-5 reads a <b>{state.prediction}</b> with probability "
                f"{state.probabilities[state.prediction]:.2f}. Each C1 map is one 5x5 filter slid over the "
                f"input; each C3 map combines all six C1 maps (after pooling).</p>")
