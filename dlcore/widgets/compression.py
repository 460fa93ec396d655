"""CompressionExplorer: accuracy and model size as sparsity and bit width change (chapter 15).

A small MLP is trained once on the 8x8 digits when the explorer is built
(about a second). Each callback then prunes its weights by magnitude (global or
layer-wise), quantizes what is left to the chosen bit width (symmetric, one
scale per output unit) and evaluates the result on the test images with NumPy
(:mod:`dlcore.practice.compression`: in the trained model's precision, float32 or
float64; one BLAS thread: about a millisecond). The accuracy curves, 25
sparsities x 2 scopes x 7 bit widths, are computed once at construction.

Left: test accuracy against sparsity for both pruning scopes at the chosen bit
width, the current setting marked. Right: the bytes needed to store the
weights densely in float32, densely at the bit width, and as a sparse (CSR)
matrix at the bit width with 16-bit column indices.
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
from threadpoolctl import threadpool_limits

from dlcore.plots import COLORS, new_figure
from dlcore.practice.compression import compress_weights, default_mlp, mlp_accuracy
from dlcore.practice.pruning import global_magnitude_masks, layerwise_magnitude_masks
from dlcore.widgets.base import Explorer

__all__ = ["CompressionExplorer", "CompressionState", "BIT_CHOICES", "SPARSITY_GRID", "INDEX_BITS"]

BIT_CHOICES = [("32 (float)", 32), ("16", 16), ("8", 8), ("6", 6), ("4", 4), ("3", 3), ("2", 2)]
SPARSITY_GRID = np.linspace(0.0, 0.98, 25)
INDEX_BITS = 16  # a column index of a CSR matrix (enough for up to 65,536 inputs)


@dataclass(frozen=True)
class CompressionState:
    """One setting: accuracy curves for both scopes, the current accuracy, and storage in bytes."""

    sparsity: float
    bits: int
    scope: str
    curves: dict            # scope -> (len(SPARSITY_GRID),) test accuracies at this bit width
    accuracy: float
    float_accuracy: float   # unpruned and unquantized
    sizes: dict             # "dense float32" / "dense, b bits" / "sparse CSR, b bits" -> bytes


class CompressionExplorer(Explorer):
    """Prune (global or layer-wise) and quantize a trained MLP; watch accuracy and size.

    ``trained``: the output of :func:`dlcore.practice.compression.trained_mlp` for a model of
    your own; by default the chapter's MLP is trained on the digits (about a second).
    ``maskers``: ``{"global": f, "layerwise": g}``, the functions ``f(weights, amount)``
    that compute the pruning masks (default: dlcore's magnitude masks).
    """

    def __init__(self, sparsity: float = 0.5, bits: int = 8, scope: str = "global", seed: int = 0,
                 trained=None, maskers=None) -> None:
        self.maskers = maskers or {"global": global_magnitude_masks, "layerwise": layerwise_magnitude_masks}
        self.weights, self.biases, self.x_test, self.y_test = trained or default_mlp(seed)
        style = {"description_width": "initial"}
        self.sparsity = widgets.FloatSlider(value=sparsity, min=0.0, max=0.98, step=0.02, description="sparsity",
                                            readout_format=".2f", style=style)
        self.bits = widgets.Dropdown(options=BIT_CHOICES, value=bits, description="bits per weight", style=style)
        self.scope = widgets.Dropdown(options=[("global", "global"), ("layer-wise", "layerwise")], value=scope,
                                      description="pruning", style=style)
        fig, (self.ax_acc, self.ax_size) = new_figure(ncols=2, width=7.5, height=3.0)
        fig.set_dpi(72)
        super().__init__(fig, [self.sparsity, self.bits, self.scope])
        self._build_artists()
        with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads only add overhead
            self.curves = {(bits, scope): np.array([self._accuracy(self._compressed(p, bits, scope)) for p in SPARSITY_GRID])
                           for _, bits in BIT_CHOICES for scope in ("global", "layerwise")}
        self.watch(self.sparsity, self.bits, self.scope)
        self.update()

    # ------------------------------------------------------------------ logic

    def _accuracy(self, weights: list[np.ndarray]) -> float:
        return mlp_accuracy(weights, self.biases, self.x_test, self.y_test)

    def _compressed(self, sparsity: float, bits: int, scope: str) -> list[np.ndarray]:
        return compress_weights(self.weights, sparsity, bits, self.maskers[scope])

    def compute(self) -> CompressionState:
        sparsity, bits, scope = float(self.sparsity.value), int(self.bits.value), self.scope.value
        curves = {s: self.curves[bits, s] for s in ("global", "layerwise")}
        with threadpool_limits(limits=1, user_api="blas"):
            current = self._compressed(sparsity, bits, scope)
            accuracy, float_accuracy = self._accuracy(current), self._accuracy(self.weights)
        numel = sum(W.size for W in self.weights)
        nnz = sum(int(np.count_nonzero(W)) for W in current)
        rows = sum(W.shape[0] + 1 for W in current)
        sizes = {"dense float32": numel * 4, f"dense, {bits} bits": int(np.ceil(numel * bits / 8)),
                 f"sparse CSR, {bits} bits": int(np.ceil((nnz * (bits + INDEX_BITS) + rows * INDEX_BITS) / 8))}
        return CompressionState(sparsity, bits, scope, curves, accuracy, float_accuracy, sizes)

    # ------------------------------------------------------------------ drawing

    def _build_artists(self) -> None:
        ax = self.ax_acc
        self.lines = {"global": ax.plot(SPARSITY_GRID, SPARSITY_GRID, color=COLORS["blue"], label="global")[0],
                      "layerwise": ax.plot(SPARSITY_GRID, SPARSITY_GRID, color=COLORS["orange"],
                                           label="layer-wise")[0]}
        self.marker = ax.plot([0], [0], "o", color=COLORS["red"], markersize=8, label="current")[0]
        ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="sparsity (fraction of weights removed)",
               ylabel="test accuracy", title="Accuracy after pruning and quantization")
        ax.legend(loc="lower left", fontsize=8)
        self.bars = self.ax_size.barh([0, 1, 2], [1, 1, 1], color=[COLORS["grey"], COLORS["green"], COLORS["purple"]])
        self.bar_labels = [self.ax_size.text(0, i, "", va="center", fontsize=8) for i in range(3)]
        self.ax_size.set(yticks=[0, 1, 2], xlabel="kilobytes of weights", title="Storage of the weights")
        self.ax_size.invert_yaxis()

    def draw(self, state: CompressionState) -> None:
        for scope, line in self.lines.items():
            line.set_ydata(state.curves[scope])
            line.set_linewidth(2.5 if scope == state.scope else 1.2)
        self.marker.set_data([state.sparsity], [state.accuracy])
        largest = max(state.sizes.values()) / 1000
        self.ax_size.set_yticklabels(list(state.sizes), fontsize=8)
        for bar, label, size in zip(self.bars, self.bar_labels, state.sizes.values()):
            bar.set_width(size / 1000)
            label.set_position((size / 1000 + 0.02 * largest, bar.get_y() + bar.get_height() / 2))
            label.set_text(f"{size / 1000:.1f}")
        self.ax_size.set_xlim(0, 1.25 * largest)

    def describe(self, state: CompressionState) -> str:
        name = "global" if state.scope == "global" else "layer-wise"
        sizes = list(state.sizes.values())
        return (f"<b>{name}</b> pruning to sparsity {state.sparsity:.2f}, weights at {state.bits} bits: test accuracy "
                f"{state.accuracy:.3f} (unpruned, full precision: {state.float_accuracy:.3f}). Stored as a sparse "
                f"matrix the weights take {sizes[2] / sizes[0]:.2f}× the float32 bytes; a dense matrix with zeros in "
                f"it takes {sizes[1] / sizes[0]:.2f}× — masking alone saves nothing.")
