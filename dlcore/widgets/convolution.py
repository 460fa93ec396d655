"""Convolution explorer (chapter 09): a kernel slides over a real photo, one window at a time.

Choose a preset kernel or set the nine weights of a 3x3 kernel with sliders,
choose stride and padding, and move the window with the row and column
sliders. The left panel is the (padded) grey photo with the window drawn on
it, the right one the output feature map with the matching output pixel
ringed; under the figure, the arithmetic of that window: its nine inputs,
the nine weights and the sum of their products (HTML: text in a figure costs
more to draw than the images). The convolution itself is
dlcore's :func:`dlcore.scratch.conv.conv2d_forward`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlcore.data.bundled import load_grey_photo
from dlcore.scratch.conv import conv2d_forward
from dlcore.widgets.base import Explorer

__all__ = ["KERNELS", "ConvolutionExplorer", "ConvolutionState"]

KERNELS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "box blur": [[1 / 9] * 3] * 3,
    "Gaussian blur": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "edges (Laplacian)": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "vertical edges (Sobel x)": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "horizontal edges (Sobel y)": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}
CUSTOM = "custom (sliders)"
WEIGHT_RANGE = 5.0
MAX_STRIDE, MAX_PADDING = 4, 2


@dataclass
class ConvolutionState:
    """What one redraw shows; the tests read it."""

    kernel: np.ndarray  # (3, 3)
    stride: int
    padding: int
    padded: np.ndarray  # (H + 2p, W + 2p) the input the window slides over
    output: np.ndarray  # (Ho, Wo)
    row: int  # output position (clamped to the output)
    col: int
    window: np.ndarray  # (3, 3) inputs under the window
    products: np.ndarray  # (3, 3) window * kernel
    value: float  # sum of the products = output[row, col]


class ConvolutionExplorer(Explorer):
    """Kernel presets or sliders, stride, padding and window position on a grey photo."""

    def __init__(self, kernel: str = "vertical edges (Sobel x)", stride: int = 1, padding: int = 0,
                 image: np.ndarray | None = None) -> None:
        import ipywidgets as widgets

        from dlcore.plots import new_figure

        self.photo = load_grey_photo() if image is None else np.asarray(image, dtype=np.float64)
        if self.photo.ndim != 2 or min(self.photo.shape) < 3:
            raise ValueError(f"ConvolutionExplorer: image must be a 2-D grey image of at least 3x3, "
                             f"got shape {self.photo.shape}")
        layout = widgets.Layout(width="200px")
        self.kernel = widgets.Dropdown(options=list(KERNELS) + [CUSTOM], value=kernel, description="kernel")
        self.stride = widgets.IntSlider(value=stride, min=1, max=MAX_STRIDE, description="stride",
                                        continuous_update=False)
        self.padding = widgets.IntSlider(value=padding, min=0, max=MAX_PADDING, description="padding",
                                         continuous_update=False)
        self.row = widgets.IntSlider(value=10, min=0, max=self.photo.shape[0] + 2 * MAX_PADDING - 3,
                                     description="window row", continuous_update=False)
        self.col = widgets.IntSlider(value=20, min=0, max=self.photo.shape[1] + 2 * MAX_PADDING - 3,
                                     description="window col", continuous_update=False)
        self.weights = [widgets.FloatSlider(value=0.0, min=-WEIGHT_RANGE, max=WEIGHT_RANGE, step=0.1,
                                            description=f"w[{i},{j}]", continuous_update=False,
                                            readout_format=".2f", layout=layout)
                        for i in range(3) for j in range(3)]
        self._muted = False
        self._set_sliders(np.asarray(KERNELS.get(kernel, KERNELS["identity"]), dtype=np.float64))

        from matplotlib.ticker import MaxNLocator

        fig, (self.ax_in, self.ax_out) = new_figure(ncols=2, width=8.0, height=3.0)
        fig.set_dpi(72)
        self._input = self.ax_in.imshow(np.zeros((3, 3)), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        (self._box,) = self.ax_in.plot([], [], color="#d62728", lw=2)
        self._output = self.ax_out.imshow(np.zeros((3, 3)), cmap="RdBu_r", interpolation="nearest")
        (self._marker,) = self.ax_out.plot([], [], "s", mfc="none", mec="#2ca02c", ms=9, mew=2)
        self.ax_in.set_title("input (padded) and window")
        self.ax_out.set_title("output feature map")
        for ax in (self.ax_in, self.ax_out):
            ax.set_xlabel("column")
            ax.set_ylabel("row")
            ax.grid(False)
            for axis in (ax.xaxis, ax.yaxis):
                axis.set_major_locator(MaxNLocator(4, integer=True))  # few labels: text dominates drawing time
        controls = [self.kernel, self.stride, self.padding, self.row, self.col] + self.weights
        super().__init__(fig, controls)
        self.kernel.observe(self._on_preset, names="value")
        for slider in self.weights:
            slider.observe(self._on_weight, names="value")
        self.watch(self.stride, self.padding, self.row, self.col)
        self.update()

    # ---------------------------------------------------------------- logic

    def _set_sliders(self, kernel: np.ndarray) -> None:
        self._muted = True
        try:
            for slider, value in zip(self.weights, kernel.ravel()):
                slider.value = float(np.clip(value, -WEIGHT_RANGE, WEIGHT_RANGE))
        finally:
            self._muted = False

    def _on_preset(self, change=None) -> None:
        if self.kernel.value != CUSTOM:
            self._set_sliders(np.asarray(KERNELS[self.kernel.value], dtype=np.float64))
        self.update()

    def _on_weight(self, change=None) -> None:
        if self._muted:
            return
        if self.kernel.value != CUSTOM:
            self._muted = True  # the dropdown follows the edit without resetting the sliders
            try:
                self.kernel.value = CUSTOM
            finally:
                self._muted = False
        self.update()

    def update(self, change=None) -> None:
        if not self._muted:
            super().update(change)

    def current_kernel(self) -> np.ndarray:
        """(3, 3) the weights the sliders hold (presets are loaded into them, rounded to 0.1 steps)."""
        values = [float(slider.value) for slider in self.weights]
        if self.kernel.value != CUSTOM:
            return np.asarray(KERNELS[self.kernel.value], dtype=np.float64)  # exact, e.g. 1/9
        return np.array(values).reshape(3, 3)

    def compute(self) -> ConvolutionState:
        kernel = self.current_kernel()
        stride, padding = int(self.stride.value), int(self.padding.value)
        x = self.photo[None, None]  # (1, 1, H, W)
        out, _ = conv2d_forward(x, kernel[None, None], np.zeros(1), stride=stride, padding=padding)
        output = out[0, 0]  # (Ho, Wo)
        padded = np.pad(self.photo, padding)
        row = min(int(self.row.value), output.shape[0] - 1)
        col = min(int(self.col.value), output.shape[1] - 1)
        window = padded[row * stride:row * stride + 3, col * stride:col * stride + 3]
        products = window * kernel
        return ConvolutionState(kernel, stride, padding, padded, output, row, col, window, products,
                                float(output[row, col]))

    def draw(self, state: ConvolutionState) -> None:
        self._input.set_data(state.padded)
        self._input.set_extent((-0.5, state.padded.shape[1] - 0.5, state.padded.shape[0] - 0.5, -0.5))
        top, left = state.row * state.stride - 0.5, state.col * state.stride - 0.5
        self._box.set_data([left, left + 3, left + 3, left, left], [top, top, top + 3, top + 3, top])
        self._output.set_data(state.output)
        self._output.set_extent((-0.5, state.output.shape[1] - 0.5, state.output.shape[0] - 0.5, -0.5))
        limit = max(float(np.max(np.abs(state.output))), 1e-6)  # symmetric colours; never an empty range
        self._output.set_clim(-limit, limit)
        self._marker.set_data([state.col], [state.row])

    @staticmethod
    def arithmetic(state: ConvolutionState) -> str:
        """The window's sum written out: window (*) kernel, term by term, = the output value."""
        terms = " + ".join(f"({w:.2f})({k:.2f})" for w, k in zip(state.window.ravel(), state.kernel.ravel()))
        return f"output[{state.row}, {state.col}] = {terms} = {state.value:.3f}"

    def describe(self, state: ConvolutionState) -> str:
        H, W = self.photo.shape
        cells = "".join(
            "<tr>" + "".join(f"<td>{v:.2f}</td>" for v in state.window[i]) + "<td>&nbsp;&times;&nbsp;</td>"
            + "".join(f"<td>{k:.2f}</td>" for k in state.kernel[i]) + "</tr>" for i in range(3))
        return (f"<p>Input {H}x{W}, padding {state.padding}, stride {state.stride}: output "
                f"{state.output.shape[0]}x{state.output.shape[1]}, since floor(({H} + 2*{state.padding} - 3)/"
                f"{state.stride}) + 1 = {state.output.shape[0]}. The window of output ({state.row}, {state.col}) "
                f"starts at padded input ({state.row * state.stride}, {state.col * state.stride}).</p>"
                f"<table style='font-family:monospace'>{cells}</table>"
                f"<p style='font-family:monospace'>{self.arithmetic(state)}</p>")
