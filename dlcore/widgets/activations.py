"""Chapter 03's explorers: one activation up close, and a signal pushed through depth.

- :class:`ActivationExplorer`: pick an activation and its parameters; see f and f'
  side by side, with the inputs where |f'| < 0.01 (saturation) shaded.
- :class:`DepthExplorer`: pick depth, width, activation, weight scale and bias; see
  block by block how the spread of the activations and the gradient norm evolve,
  and how many units are saturated or dead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlcore.scratch.activations import ACTIVATIONS, ActivationSpec, get_activation
from dlcore.scratch.depth_statistics import SATURATION_THRESHOLD, DepthStatistics, depth_statistics
from dlcore.widgets.base import Explorer

__all__ = ["ActivationExplorer", "ActivationState", "DepthExplorer", "DepthState", "clip_for_log"]

# Log-scale plots show values below FLOOR (exact zeros included) at FLOOR and values above
# CEILING at CEILING; matplotlib's log tick locator itself overflows near 1e300.
FLOOR, CEILING = 1e-200, 1e200

# Gauss-Hermite nodes for E[g(u)] with u ~ N(0, 1): deterministic and exact for polynomials up to degree 79.
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(40)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def clip_for_log(values: np.ndarray) -> np.ndarray:
    """Make values safe for a log axis: nan, 0 and anything below FLOOR become FLOOR; inf becomes CEILING."""
    values = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=FLOOR, posinf=CEILING, neginf=FLOOR)
    return np.clip(values, FLOOR, CEILING)


def _freeze_layout(fig, axes_and_limits) -> None:
    """Lay the figure out once, for the widest tick labels it will show, then keep that layout.

    Constrained layout re-solves on every render and costs about as much as the drawing
    itself; the widget's axes never move, so one solve with worst-case labels is enough.
    """
    for ax, limits in axes_and_limits:
        ax.set_ylim(*limits)
    fig.draw_without_rendering()
    fig.set_layout_engine("none")


def _relevant_params(spec: ActivationSpec, negative_slope: float, alpha: float, approximate: str) -> dict:
    """The slider values this activation takes (a learner's GELU may have no ``approximate``)."""
    values = {"negative_slope": negative_slope, "alpha": alpha, "approximate": approximate}
    return {key: values[key] for key, _ in spec.defaults if key in values}


def _table(owner: str, activations: dict | None) -> dict[str, ActivationSpec]:
    if activations is None:
        return ACTIVATIONS
    if not isinstance(activations, dict) or not all(isinstance(v, ActivationSpec) for v in activations.values()):
        raise TypeError(f"{owner}: activations must be a dict of ActivationSpec (like dlcore.scratch.ACTIVATIONS), "
                        f"got {type(activations).__name__}")
    return activations


# ---------------------------------------------------------------- one function up close

@dataclass(frozen=True)
class ActivationState:
    """What the ActivationExplorer shows: f and f' on a grid, and a few numbers about them."""

    name: str
    params: dict
    x: np.ndarray  # (P,) grid
    f: np.ndarray  # (P,)
    df: np.ndarray  # (P,)
    saturated: np.ndarray  # (P,) bool, |f'(x)| < threshold
    saturated_share: float  # of the plotted window
    mean_output: float  # E[f(u)], u ~ N(0, 1): 0 for a zero-centred activation
    mean_slope: float  # E[f'(u)], u ~ N(0, 1): how much gradient passes on average


class ActivationExplorer(Explorer):
    """f and f' of any activation in :data:`dlcore.scratch.ACTIVATIONS` (or the learner's table), saturation shaded."""

    def __init__(self, activation: str = "sigmoid", x_range: float = 6.0, points: int = 801, *,
                 activations: dict | None = None) -> None:
        import ipywidgets as widgets
        from matplotlib.collections import PolyCollection
        from matplotlib.ticker import MaxNLocator
        from dlcore.plots.figures import pin_axis_labels
        from dlcore.plots.style import COLORS, new_figure

        self.table = _table("ActivationExplorer", activations)
        if activation not in self.table:
            get_activation(activation)  # raises the course's message for an unknown name
        self.points = int(points)
        self.activation = widgets.Dropdown(options=list(self.table), value=activation, description="activation")
        self.negative_slope = widgets.FloatSlider(value=0.01, min=0.0, max=1.0, step=0.01, description="leaky slope")
        self.alpha = widgets.FloatSlider(value=1.0, min=0.0, max=5.0, step=0.05, description="ELU α")
        self.approximate = widgets.Dropdown(options=["none", "tanh"], value="none", description="GELU approx.")
        self.x_range = widgets.FloatLogSlider(value=x_range, base=10, min=-1, max=3, step=0.05,
                                              description="x range ±")
        fig, (self.ax_f, self.ax_df) = new_figure(ncols=2, height=3.6)
        super().__init__(fig, [self.activation, self.negative_slope, self.alpha, self.approximate, self.x_range])
        # Artists made once and updated in place.
        # Red bands where f' saturates: x in data units, y spanning the whole axes (cheaper than an image).
        self.shades = [ax.add_collection(PolyCollection([], facecolors=[(0.84, 0.15, 0.16, 0.22)], edgecolors="none",
                                                        transform=ax.get_xaxis_transform(), zorder=0), autolim=False)
                       for ax in (self.ax_f, self.ax_df)]
        (self.line_f,) = self.ax_f.plot([], [], color=COLORS["blue"], zorder=2)
        (self.line_df,) = self.ax_df.plot([], [], color=COLORS["orange"], zorder=2)
        self.ax_df.axhline(SATURATION_THRESHOLD, color="k", linestyle=":", linewidth=1, zorder=1)
        for ax, label in ((self.ax_f, "$f(x)$"), (self.ax_df, "$f'(x)$")):
            ax.set_xlabel("$x$")
            ax.set_ylabel(label)
            ax.set_title(label, y=1.0)  # a fixed height: matplotlib need not measure the tick labels to place it
            for axis in (ax.xaxis, ax.yaxis):
                axis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))  # few labels: text is most of the drawing
            ax.set_xlim(-0.1, 0.1)  # the narrowest window: its tick labels (0.10) reach furthest past the frame
        # The widest y tick labels: -1000 for f at x range 1000, 0.2494 for the sigmoid's f' at x range 0.1.
        _freeze_layout(fig, [(self.ax_f, (-1100.0, 1100.0)), (self.ax_df, (0.24935, 0.25005))])
        pin_axis_labels(fig)
        self.watch(*self.controls)
        self.update()

    def compute(self) -> ActivationState:
        name = self.activation.value
        spec = self.table[name]
        params = _relevant_params(spec, self.negative_slope.value, self.alpha.value, self.approximate.value)
        r = float(self.x_range.value)
        x = np.linspace(-r, r, self.points)
        f = spec.function(x, **params)
        df = spec.derivative(x, f, **params)
        saturated = np.abs(df) < SATURATION_THRESHOLD
        f_nodes = spec.function(_NODES, **params)
        df_nodes = spec.derivative(_NODES, f_nodes, **params)
        return ActivationState(name, params, x, f, df, saturated, float(saturated.mean()),
                               float(_WEIGHTS @ f_nodes), float(_WEIGHTS @ df_nodes))

    @staticmethod
    def _limits(values: np.ndarray) -> tuple[float, float]:
        low, high = float(values.min()), float(values.max())
        pad = 0.08 * (high - low) if high > low else 0.5
        return low - pad, high + pad

    def draw(self, state: ActivationState) -> None:
        spec = self.table[state.name]
        for ax, line, values in ((self.ax_f, self.line_f, state.f), (self.ax_df, self.line_df, state.df)):
            line.set_data(state.x, values)
            ax.set_xlim(state.x[0], state.x[-1])
            ax.set_ylim(*self._limits(values))
        # Each grid point owns a cell of width 2r / P; a run of saturated points is one band.
        width = (state.x[-1] - state.x[0]) / len(state.x)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], state.saturated.astype(np.int8), [0]])))
        bands = [[(state.x[0] + start * width, 0.0), (state.x[0] + stop * width, 0.0),
                  (state.x[0] + stop * width, 1.0), (state.x[0] + start * width, 1.0)]
                 for start, stop in zip(edges[::2], edges[1::2])]  # starts and stops alternate
        for shade in self.shades:
            shade.set_verts(bands)
        shown = ", ".join(f"{k}={v}" for k, v in state.params.items())
        self.ax_f.set_title(f"{state.name}{f' ({shown})' if shown else ''}: $f(x) = {spec.formula}$")
        self.ax_df.set_title(f"derivative $f'(x)$; shaded where $|f'| < {SATURATION_THRESHOLD}$")
        active = {"leaky_relu": self.negative_slope, "elu": self.alpha, "gelu": self.approximate}
        for name, control in active.items():
            control.disabled = state.name != name

    def describe(self, state: ActivationState) -> str:
        notes = {
            "step": "f' is 0 wherever it exists: no gradient ever flows, so gradient descent cannot train it.",
            "sigmoid": "f' peaks at 1/4 (at x = 0) and outputs are always positive (not zero-centred).",
            "tanh": "f' peaks at 1 (at x = 0); zero-centred, but it saturates like the sigmoid.",
            "relu": "f' is exactly 1 for x > 0 and exactly 0 for x < 0: no saturation on the right, "
                    "a flat zero on the left (a unit stuck there for every input is dead).",
            "leaky_relu": "the left side keeps slope α, so no unit can die; with α = 1 it is the identity.",
            "elu": "smooth, negative outputs down to −α pull the mean towards 0; the left side saturates slowly.",
            "gelu": "x Φ(x): close to ReLU for large |x|, smooth near 0, slightly negative for x < 0.",
            "identity": "linear: a stack of layers with this 'activation' collapses to one matrix.",
        }
        return (
            f"<b>{state.name}</b>: {notes[state.name]}<br>"
            f"On this window f ranges over [{state.f.min():.3g}, {state.f.max():.3g}]; max |f'| = "
            f"{np.abs(state.df).max():.3g}; saturated (|f'| &lt; {SATURATION_THRESHOLD}) on "
            f"{100 * state.saturated_share:.0f}% of it.<br>"
            f"For standard normal inputs u: E[f(u)] = {state.mean_output:.3f} "
            f"({'zero-centred' if abs(state.mean_output) < 0.05 else 'not zero-centred'}), "
            f"E[f'(u)] = {state.mean_slope:.3f} (the average share of gradient passed on)."
        )


# ---------------------------------------------------------------- a signal through depth

@dataclass(frozen=True)
class DepthState:
    """What the DepthExplorer shows: the statistics of one network and its settings."""

    depth: int
    width: int
    activation: str
    weight_scale: float
    bias: float
    stats: DepthStatistics
    gradient_ratio: float  # ||dL/dh_1|| / ||dL/dh_L||: < 1 vanishing, > 1 exploding


class DepthExplorer(Explorer):
    """Per-block activation spread, gradient norm, and saturated/dead shares of a deep stack.

    The batch (N = 64 examples, D = 32 features, standard normal) and the seed of the
    weights are drawn once from ``rng``, so moving a slider back restores the same picture.
    """

    def __init__(self, rng: np.random.Generator, depth: int = 20, width: int = 64,
                 activation: str = "sigmoid", weight_scale: float = 1.0, bias: float = 0.0, *,
                 activations: dict | None = None) -> None:
        import ipywidgets as widgets
        from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator
        from dlcore.plots.figures import pin_axis_labels
        from dlcore.plots.style import COLORS, new_figure

        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"DepthExplorer: rng must be a numpy Generator, got {type(rng).__name__}")
        self.x = rng.standard_normal((64, 32))  # (N, D)
        self.seed = int(rng.integers(2**32))
        self.table = _table("DepthExplorer", activations)
        choices = list(self.table)
        self.depth = widgets.IntSlider(value=depth, min=1, max=50, description="depth")
        self.width = widgets.IntSlider(value=width, min=4, max=128, step=4, description="width")
        self.activation = widgets.Dropdown(options=choices, value=activation, description="activation")
        self.weight_scale = widgets.FloatLogSlider(value=weight_scale, base=10, min=-3, max=2, step=0.05,
                                                   description="weight scale")
        self.bias = widgets.FloatSlider(value=bias, min=-5.0, max=5.0, step=0.1, description="bias")
        fig, (self.ax_scale, self.ax_share) = new_figure(ncols=2, height=3.6)
        super().__init__(fig, [self.depth, self.width, self.activation, self.weight_scale, self.bias])
        (self.line_std,) = self.ax_scale.plot([], [], "o-", markersize=3, color=COLORS["blue"],
                                              label=r"forward: std of $h_l$")
        (self.line_grad,) = self.ax_scale.plot([], [], "s-", markersize=3, color=COLORS["orange"],
                                               label=r"backward: $\|\partial L/\partial h_l\|$")
        (self.line_saturated,) = self.ax_share.plot([], [], "o-", markersize=3, color=COLORS["purple"],
                                                    label=f"saturated (|f'| < {SATURATION_THRESHOLD})")
        (self.line_dead,) = self.ax_share.plot([], [], "s-", markersize=3, color=COLORS["red"], label="dead units")
        # Few tick labels: drawing text is most of a redraw's time.
        self.ax_scale.set_yscale("log")
        self.ax_scale.yaxis.set_major_locator(LogLocator(numticks=6))
        self.ax_scale.yaxis.set_minor_locator(NullLocator())
        self.ax_share.set_ylim(-0.03, 1.03)
        self.ax_share.set_yticks([0.0, 0.5, 1.0])
        for ax in (self.ax_scale, self.ax_share):
            ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
        for ax, title, label in (
            (self.ax_scale, "signal and gradient scale per block (log)", "value (log scale)"),
            (self.ax_share, "units passing (almost) no gradient", "share of units"),
        ):
            ax.set_title(title, y=1.0)  # a fixed height: matplotlib need not measure the tick labels to place it
            ax.set_xlabel("block $l$ (1 = nearest the input)")
            ax.set_ylabel(label)
            ax.legend(loc="best", fontsize=8)
        _freeze_layout(fig, [(self.ax_scale, (FLOOR, CEILING))])
        pin_axis_labels(fig)
        self.watch(*self.controls)
        self.update()

    def compute(self) -> DepthState:
        name = self.activation.value
        # The exact GELU evaluates erf element by element (slow in NumPy); its tanh form differs by < 5e-4.
        spec = self.table[name]
        params = {"approximate": "tanh"} if "approximate" in dict(spec.defaults) else {}
        stats = depth_statistics(self.x, self.depth.value, self.width.value, spec,
                                 rng=np.random.default_rng(self.seed), weight_scale=float(self.weight_scale.value),
                                 bias=float(self.bias.value), **params)
        last = stats.grad_norm[-1]
        ratio = float(stats.grad_norm[0] / last) if last > 0 else 0.0
        return DepthState(self.depth.value, self.width.value, name, float(self.weight_scale.value),
                          float(self.bias.value), stats, ratio)

    @staticmethod
    def _log_limits(values: np.ndarray) -> tuple[float, float]:
        low, high = float(values.min()), float(values.max())
        low, high = max(low / 3, FLOOR), min(high * 3, CEILING)
        return (low, high) if high > low * 10 else (low / 10, high * 10)

    def draw(self, state: DepthState) -> None:
        stats = state.stats
        blocks = np.arange(1, stats.depth + 1)
        std, grad = clip_for_log(stats.std), clip_for_log(stats.grad_norm)
        self.line_std.set_data(blocks, std)
        self.line_grad.set_data(blocks, grad)
        self.line_saturated.set_data(blocks, stats.saturated)
        self.line_dead.set_data(blocks, stats.dead)
        for ax in (self.ax_scale, self.ax_share):
            ax.set_xlim(0.5, stats.depth + 0.5)
        self.ax_scale.set_ylim(*self._log_limits(np.concatenate([std, grad])))

    def describe(self, state: DepthState) -> str:
        stats = state.stats
        ratio = state.gradient_ratio
        if stats.grad_norm[0] == 0.0:
            verdict = ("<b>no gradient reaches the first block at all</b> (exact zeros, drawn at the "
                       f"bottom edge, {FLOOR:.0e}): every path back passes through a zero derivative.")
        elif ratio < 1e-3 or ratio > 1e3:
            kind = "vanishing" if ratio < 1e-3 else "exploding"
            verdict = (f"<b>{kind} gradient</b>: block 1 receives {ratio:.1e} times the gradient "
                       f"of block {stats.depth}.")
        else:
            verdict = f"the gradient keeps its scale: block 1 receives {ratio:.2g} times that of block {stats.depth}."
        values = np.concatenate([stats.std, stats.grad_norm])
        if np.any(values < FLOOR) or np.any(values > CEILING):
            verdict += f" Values beyond [{FLOOR:.0e}, {CEILING:.0e}] are drawn at the edge of the plot."
        gelu_note = " (GELU in its tanh form here, which is faster and within 5e-4 of the exact one)" \
            if state.activation == "gelu" else ""
        return (
            f"{state.depth} blocks of width {state.width}, {state.activation}{gelu_note}, weights with "
            f"std {state.weight_scale:.3g}/√D<sub>in</sub>, bias {state.bias:+.1f}.<br>{verdict}<br>"
            f"Activation std: {stats.std[0]:.2e} at block 1, {stats.std[-1]:.2e} at block {stats.depth}. "
            f"Saturated: {100 * stats.saturated.mean():.0f}% of unit-examples on average; dead units "
            f"in the last block: {100 * stats.dead[-1]:.0f}%."
        )
