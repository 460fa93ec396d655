"""Explorers of chapter 10: classic architectures layer by layer, and plain vs residual gradient flow.

- :class:`ArchitectureExplorer`: pick a network and an input size; see every layer's output shape,
  parameters, multiply-accumulates (MACs) and receptive field, and the totals. Models are built on
  PyTorch's ``meta`` device (shapes only, no memory), and each summary is computed once and cached.
- :class:`ResidualExplorer`: pick a depth; see ‖∂L/∂W‖ layer by layer at initialisation for a plain
  network and for the residual network with the same layers, with or without batch norm.

The explorer computes in float32 by default, fast enough to drag its slider; its numbers for several seeds
(:func:`dlcore.models.gradient_spreads.gradient_spreads`, in float64 by default) and the experiment behind them
live in :mod:`dlcore.models.gradient_spreads`; both precisions use the same weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import ipywidgets as widgets
import numpy as np
import torch

from dlcore.models.alexnet import AlexNet
from dlcore.models.blocks import BasicBlock
from dlcore.models.googlenet import GoogLeNet
from dlcore.models.gradient_spreads import glyph_digit_batch, gradient_spread, initial_gradient_norms
from dlcore.models.lenet import LeNet5
from dlcore.models.resnet import ResNet
from dlcore.models.summary import ArchitectureSummary, summarize
from dlcore.models.vgg import VGG
from dlcore.plots import COLORS, new_figure
from dlcore.widgets.base import Explorer
from dlcore.errors import check_float_dtype

__all__ = ["ARCHITECTURES", "INPUT_SIZES", "ArchitectureExplorer", "ArchitectureState", "build_on_meta",
           "ResidualExplorer", "ResidualState"]

# name: (builder, input channels, the size it was designed for)
ARCHITECTURES: dict[str, tuple[Callable[[], torch.nn.Module], int, int]] = {
    "LeNet-5 (1998)": (LeNet5, 1, 32),
    "AlexNet (2012)": (AlexNet, 3, 224),
    "AlexNet, 2012 two-GPU layout": (lambda: AlexNet(variant="original"), 3, 227),
    "VGG-11 (2014)": (lambda: VGG(11), 3, 224),
    "VGG-16 (2014)": (lambda: VGG(16), 3, 224),
    "GoogLeNet (2014)": (GoogLeNet, 3, 224),
    "ResNet-18 (2015)": (lambda: ResNet(18), 3, 224),
    "ResNet-34 (2015)": (lambda: ResNet(34), 3, 224),
    "ResNet-50 (2015)": (lambda: ResNet(50), 3, 224),
}
INPUT_SIZES = (28, 32, 64, 96, 128, 160, 192, 224, 227, 256, 320, 384)
WEIGHT_LAYERS = ("Conv2d", "Linear")


def build_on_meta(name: str) -> torch.nn.Module:
    """One of :data:`ARCHITECTURES`, built on the meta device (parameters have shapes, no storage)."""
    with torch.device("meta"):
        return ARCHITECTURES[name][0]()


@dataclass(frozen=True)
class ArchitectureState:
    """The chosen network and input, and its summary (None when the input does not fit the network)."""

    model: str
    size: int
    summary: ArchitectureSummary | None
    error: str = ""


class ArchitectureExplorer(Explorer):
    """A network and an input size → per-layer parameters, MACs and receptive field, plus the totals."""

    def __init__(self, model: str = "VGG-16 (2014)", size: int = 224) -> None:
        style = {"description_width": "initial"}
        self.model = widgets.Dropdown(options=list(ARCHITECTURES), value=model, description="network", style=style)
        self.size = widgets.Dropdown(options=list(INPUT_SIZES), value=size, description="input H = W", style=style)
        self._models: dict[str, torch.nn.Module] = {}
        self._summaries: dict[tuple[str, int], ArchitectureState] = {}
        fig, axes = new_figure(2, 1, width=8.4, height=2.9)
        fig.set_dpi(72)
        self.axes = axes
        cost, field = axes
        cost.set_title("parameters and MACs per layer")
        self.lines = [cost.plot([], [], marker=".", markersize=4, color=COLORS["blue"], label="parameters")[0],
                      cost.plot([], [], marker=".", markersize=4, color=COLORS["orange"], label="MACs (one image)")[0],
                      field.plot([], [], marker=".", markersize=4, color=COLORS["green"])[0]]
        cost.set_yscale("log")
        cost.set_ylim(10, 1e10)  # fixed: a layer of LeNet and one of VGG on the same scale
        cost.set_ylabel("count")
        cost.legend(loc="lower right", fontsize=8)
        field.set_title("receptive field of each layer's output")
        field.set_ylabel("pixels per side")
        for ax in axes:
            ax.set_xlabel("layer with weights (input → output)")
        self.message = cost.text(0.5, 0.5, "", transform=cost.transAxes, ha="center", va="center")
        super().__init__(fig, [self.model, self.size])
        self.watch(self.model, self.size)
        self.update()

    def compute(self) -> ArchitectureState:
        key = (self.model.value, int(self.size.value))
        if key not in self._summaries:
            if key[0] not in self._models:
                self._models[key[0]] = build_on_meta(key[0])
            channels = ARCHITECTURES[key[0]][1]
            try:
                state = ArchitectureState(*key, summarize(self._models[key[0]], (channels, key[1], key[1])))
            except ValueError as error:
                state = ArchitectureState(*key, None, str(error).split(":")[0] + ": the input is too small or the "
                                          "wrong size for this network")
            self._summaries[key] = state
        return self._summaries[key]

    def draw(self, state: ArchitectureState) -> None:
        rows = [r for r in state.summary.rows if r.kind in WEIGHT_LAYERS] if state.summary else []
        index = np.arange(1, len(rows) + 1)
        spatial = np.array([r.rf > 0 for r in rows], dtype=bool)  # flattened outputs have no receptive field
        fields = np.array([r.rf for r in rows], dtype=float)[spatial]
        series = ((index, [max(r.params, 1) for r in rows]), (index, [max(r.macs, 1) for r in rows]),
                  (index[spatial], fields))
        for line, (x, values) in zip(self.lines, series):
            line.set_data(x, values)
        for ax in self.axes:
            ax.set_xlim(0, max(len(rows), 1) + 1)
        self.axes[1].set_ylim(0, max(fields.max(initial=0), state.size) * 1.1)
        self.message.set_text("" if state.summary else f"{state.size}×{state.size} does not fit {state.model}")
        if state.summary:
            total = state.summary
            self.fig.suptitle(f"{state.model} at {state.size}×{state.size}: {total.total_params:,} parameters, "
                              f"{total.total_macs / 1e9:.2f} GMACs, receptive field {total.receptive_field.r} px")
        else:
            self.fig.suptitle(f"{state.model} at {state.size}×{state.size}")

    def describe(self, state: ArchitectureState) -> str:
        if state.summary is None:
            return f"<b>{state.error}</b>. Try a larger input (this network was designed for " \
                   f"{ARCHITECTURES[state.model][2]}×{ARCHITECTURES[state.model][2]})."
        table = state.summary.table(kinds=WEIGHT_LAYERS + ("MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"))
        return ("Layers with weights and pools (batch norm, ReLU and dropout rows hidden); MACs count one image; "
                f"RF is the receptive field of the layer's output.<div style='max-height:260px;overflow:auto'>"
                f"<pre style='font-size:11px'>{table}</pre></div>")


# ---------------------------------------------------------------- plain vs residual

@dataclass(frozen=True)
class ResidualState:
    """‖∂L/∂W‖ per layer at initialisation, plain and residual, for one depth."""

    num_blocks: int
    batch_norm: bool
    plain: np.ndarray
    residual: np.ndarray

    @property
    def depth(self) -> int:
        """Layers with weights: stem + two per block + the classifier."""
        return 2 * self.num_blocks + 2

    spread = staticmethod(gradient_spread)  # first layer's ‖∂L/∂W‖ over the last convolution's (1 = even flow)


GRAD_FLOOR, GRAD_CEILING = 1e-12, 1e4  # the plot's range; values beyond it are drawn at the edge


class ResidualExplorer(Explorer):
    """Depth and batch norm → per-layer gradient norms of a plain and a residual network at initialisation.

    The two networks share every weight they both have (:func:`~dlcore.models.resnet.plain_and_residual`),
    drawn from ``seed`` in float64; they compute in ``dtype``: torch.float32 by default (a callback
    takes about half the time of float64's), torch.float64 for the digits every CPU agrees on (as
    :func:`~dlcore.models.gradient_spreads.gradient_spreads`). ValueError for another dtype. ``block``: the basic
    block class.
    """

    def __init__(self, num_blocks: int = 12, batch_norm: bool = True, seed: int = 0,
                 dtype: torch.dtype = torch.float32, block: type[torch.nn.Module] = BasicBlock) -> None:
        check_float_dtype("ResidualExplorer", dtype)
        self.dtype = dtype
        self.block = block
        style = {"description_width": "initial"}
        self.num_blocks = widgets.IntSlider(value=num_blocks, min=1, max=20, description="blocks", style=style)
        self.batch_norm = widgets.Dropdown(options=[("with batch norm", True), ("without batch norm", False)],
                                           value=batch_norm, description="normalisation", style=style)
        self.seed = int(seed)
        X, y = glyph_digit_batch(16, seed=seed + 1)
        self.x, self.y = torch.as_tensor(X, dtype=dtype), torch.as_tensor(y)
        fig, ax = new_figure(1, 1, width=6.4, height=3.4)
        fig.set_dpi(72)
        self.ax = ax
        self.plain_line = ax.plot([], [], marker=".", color=COLORS["red"], label="plain")[0]
        self.residual_line = ax.plot([], [], marker=".", color=COLORS["blue"], label="residual")[0]
        ax.set_yscale("log")
        ax.set_xlabel("layer with weights (input → output)")
        ax.set_ylabel("‖∂L/∂W‖ at initialisation")
        ax.set_ylim(GRAD_FLOOR / 3, GRAD_CEILING * 3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        super().__init__(fig, [self.num_blocks, self.batch_norm])
        self.watch(self.num_blocks, self.batch_norm)
        self.update()

    def compute(self) -> ResidualState:
        num_blocks, batch_norm = int(self.num_blocks.value), bool(self.batch_norm.value)
        return ResidualState(num_blocks, batch_norm,
                             *initial_gradient_norms(num_blocks, batch_norm, self.seed, self.dtype, self.x, self.y,
                                                    self.block))

    def draw(self, state: ResidualState) -> None:
        layers = np.arange(1, state.depth + 1)
        for line, norms in ((self.plain_line, state.plain), (self.residual_line, state.residual)):
            line.set_data(layers, np.clip(np.nan_to_num(norms, nan=GRAD_FLOOR, posinf=GRAD_CEILING),
                                          GRAD_FLOOR, GRAD_CEILING))
        self.ax.set_xlim(0.5, state.depth + 0.5)
        norm = "with" if state.batch_norm else "without"
        self.ax.set_title(f"{state.depth} layers {norm} batch norm: gradient per layer")

    def describe(self, state: ResidualState) -> str:
        return (f"First layer's ‖∂L/∂W‖ over the last convolution's: plain {state.spread(state.plain):.3g}, "
                f"residual {state.spread(state.residual):.3g} (1 means every layer gets a gradient of the same size).")
