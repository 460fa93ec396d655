"""OptimizerRace: gradient descent, momentum, Nesterov, Adagrad, RMSprop and Adam on one surface (chapter 06).

Left: contours of the surface with every racer's path from a shared start.
Right: the distance to the optimum's value, f - f*, against the step (log
scale; on the saddle, which has no minimum, f itself on a symmetric log scale).
A racer that blows up is stopped, drawn up to where it left the plot, and
reported as diverged; nothing non-finite is ever plotted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import ipywidgets as widgets
import numpy as np

from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

from dlcore.plots import COLORS, new_figure
from dlcore.scratch.optim import SGD, Adagrad, Adam, RMSprop
from dlcore.scratch.optim_steps import StepOptimizer
from dlcore.scratch.benchmark_surfaces import beale, elongated_quadratic, himmelblau, rosenbrock, saddle
from dlcore.scratch.surfaces import Surface, Trajectory, descend
from dlcore.widgets.base import Explorer

__all__ = ["OptimizerRace", "RaceState", "RacerResult", "RACERS", "SURFACE_CHOICES", "PRESETS", "make_racer"]

RACERS = ("GD", "momentum", "Nesterov", "Adagrad", "RMSprop", "Adam")
RACER_COLORS = dict(zip(RACERS, (COLORS["grey"], COLORS["blue"], COLORS["purple"], COLORS["green"],
                                 COLORS["orange"], COLORS["red"])))
SURFACE_CHOICES: dict[str, Callable[[], Surface]] = {
    "elongated valley (condition 50)": lambda: elongated_quadratic(50.0),
    "elongated valley, rotated 30°": lambda: elongated_quadratic(50.0, angle=np.pi / 6),
    "Rosenbrock banana": rosenbrock,
    "saddle x² − y²": saddle,
    "Beale": beale,
    "Himmelblau (four minima)": himmelblau,
}
# Per surface: number of steps and a learning rate per racer that shows its typical behaviour
# (not the best possible rate: the point is to see zig-zags, overshoots and shrinking steps).
PRESETS: dict[str, dict] = {
    "elongated valley (condition 50)": dict(steps=150, lr=dict(GD=0.035, momentum=0.01, Nesterov=0.01,
                                                               Adagrad=0.5, RMSprop=0.05, Adam=0.1)),
    "elongated valley, rotated 30°": dict(steps=150, lr=dict(GD=0.035, momentum=0.01, Nesterov=0.01,
                                                             Adagrad=0.5, RMSprop=0.05, Adam=0.1)),
    "Rosenbrock banana": dict(steps=500, lr=dict(GD=1e-3, momentum=1e-3, Nesterov=1e-3,
                                                 Adagrad=0.5, RMSprop=0.01, Adam=0.1)),
    "saddle x² − y²": dict(steps=100, lr=dict(GD=0.05, momentum=0.05, Nesterov=0.05,
                                              Adagrad=0.1, RMSprop=0.01, Adam=0.05)),
    "Beale": dict(steps=500, lr=dict(GD=0.02, momentum=0.003, Nesterov=0.003, Adagrad=1.0, RMSprop=0.03, Adam=0.2)),
    "Himmelblau (four minima)": dict(steps=200, lr=dict(GD=0.01, momentum=0.002, Nesterov=0.002,
                                                        Adagrad=0.5, RMSprop=0.03, Adam=0.1)),
}
THRESHOLD = 1e-4  # a racer "arrives" when f - f* drops below this
BOUND = 1e4  # descend stops a racer whose |x| or |y| exceeds this (diverged, or escaped down the saddle)
GAP_FLOOR, GAP_CEILING = 1e-12, 1e8  # the log axis shows f - f* within these bounds
SADDLE_RANGE = 1e3  # on the saddle, f is shown within [-SADDLE_RANGE, SADDLE_RANGE]


def make_racer(name: str, lr: float, momentum: float = 0.9, beta1: float = 0.9,
               beta2: float = 0.999, steps: dict[str, Callable] | None = None) -> Callable[[list], object]:
    """A function building the named racer's optimizer (dlcore.scratch.optim) on a parameter list.

    ``momentum`` serves momentum and Nesterov; ``beta1, beta2`` serve Adam, and
    ``beta2`` is also RMSprop's decay alpha (the same leaky average of g^2).
    ``steps``: step functions by name (``momentum_step``, ``adagrad_step``,
    ``rmsprop_step``, ``adam_step``, see :mod:`dlcore.scratch.optim_steps`), e.g.
    the learner's; the racers they serve run on them instead of dlcore's classes.
    """
    steps = steps or {}
    on_steps = {
        "GD": ("momentum_step", lambda f, params: StepOptimizer(params, f, lr, momentum=0.0)),
        "momentum": ("momentum_step", lambda f, params: StepOptimizer(params, f, lr, momentum=momentum)),
        "Nesterov": ("momentum_step", lambda f, params: StepOptimizer(params, f, lr, momentum=momentum,
                                                                      nesterov=momentum > 0)),
        "Adagrad": ("adagrad_step", lambda f, params: StepOptimizer(params, f, lr)),
        "RMSprop": ("rmsprop_step", lambda f, params: StepOptimizer(params, f, lr, alpha=beta2)),
        "Adam": ("adam_step", lambda f, params: StepOptimizer(params, f, lr, num_state=2, counts_steps=True,
                                                              beta1=beta1, beta2=beta2)),
    }
    if name in on_steps and on_steps[name][0] in steps:
        function, build = steps[on_steps[name][0]], on_steps[name][1]
        return lambda params: build(function, params)
    builders = {
        "GD": lambda params: SGD(params, lr=lr),
        "momentum": lambda params: SGD(params, lr=lr, momentum=momentum),
        "Nesterov": lambda params: SGD(params, lr=lr, momentum=momentum, nesterov=momentum > 0),
        "Adagrad": lambda params: Adagrad(params, lr=lr),
        "RMSprop": lambda params: RMSprop(params, lr=lr, alpha=beta2),
        "Adam": lambda params: Adam(params, lr=lr, betas=(beta1, beta2)),
    }
    if name not in builders:
        raise ValueError(f"make_racer: unknown racer {name!r}; choose one of {list(builders)}")
    return builders[name]


@dataclass(frozen=True)
class RacerResult:
    """One racer's run, ready to plot (finite, clipped)."""

    name: str
    lr: float
    points: np.ndarray  # (S + 1, 2), clipped to a margin around the window
    shown: np.ndarray  # (S + 1,) f - f* clipped to [GAP_FLOOR, GAP_CEILING] (f itself on the saddle)
    final_value: float
    status: str  # "arrived", "running", "diverged" or "escaped"
    arrival_step: int | None  # first step with f - f* < THRESHOLD (on the saddle: first step outside the window)
    steps_taken: int


@dataclass(frozen=True)
class RaceState:
    surface_label: str
    surface: Surface
    start: tuple[float, float]
    num_steps: int
    results: dict  # racer name -> RacerResult, for the racers that are switched on

    @property
    def winner(self) -> str | None:
        arrived = [(r.arrival_step, i, r.name) for i, r in enumerate(self.results.values()) if r.arrival_step is not None]
        return min(arrived)[2] if arrived else None


class OptimizerRace(Explorer):
    """Race the optimizers from one start on a chosen surface."""

    def __init__(self, surface: str = "elongated valley (condition 50)", racers=RACERS,
                 steps: dict[str, Callable] | None = None) -> None:
        """``steps``: step functions by name that the racers run on (see :func:`make_racer`)."""
        self.steps = dict(steps or {})
        if surface not in SURFACE_CHOICES:
            raise ValueError(f"OptimizerRace: unknown surface {surface!r}; choose one of {list(SURFACE_CHOICES)}")
        style = {"description_width": "initial"}
        self.surface = widgets.Dropdown(options=list(SURFACE_CHOICES), value=surface, description="surface", style=style)
        self.start_x = widgets.FloatSlider(description="start x", step=0.01, style=style, continuous_update=False)
        self.start_y = widgets.FloatSlider(description="start y", step=0.01, style=style, continuous_update=False)
        self.num_steps = widgets.IntSlider(min=1, max=1000, description="steps", style=style, continuous_update=False)
        self.momentum = widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="momentum β",
                                            style=style, continuous_update=False)
        self.beta1 = widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="Adam β1",
                                         style=style, continuous_update=False)
        self.beta2 = widgets.FloatSlider(value=0.999, min=0.5, max=0.999, step=0.001, readout_format=".3f",
                                         description="β2 (Adam) = α (RMSprop)", style=style, continuous_update=False)
        self.enabled = {name: widgets.Checkbox(value=name in racers, description=name, indent=False,
                                               layout=widgets.Layout(width="95px")) for name in RACERS}
        self.lr = {name: widgets.FloatLogSlider(base=10, min=-5, max=1, step=0.1, value=1e-2, description="lr",
                                                readout_format=".1e", continuous_update=False,
                                                layout=widgets.Layout(width="300px")) for name in RACERS}
        rows = [widgets.HBox([self.enabled[name], self.lr[name]]) for name in RACERS]
        controls = [widgets.VBox([self.surface, self.start_x, self.start_y, self.num_steps, self.momentum,
                                  self.beta1, self.beta2]), widgets.VBox(rows)]
        self._cache: dict[tuple, Trajectory] = {}
        self._syncing = False
        self._surface_label: str | None = None
        self._contours: list = []

        fig, (self.ax_path, self.ax_loss) = new_figure(ncols=2, width=11.0, height=4.3)
        # Fixed margins instead of a layout engine: the tick labels change with the surface, and
        # re-solving the layout on every redraw would double the time a slider takes to respond.
        fig.set_layout_engine("none")
        self.ax_path.set_position([0.055, 0.115, 0.42, 0.775])  # [left, bottom, width, height] in figure units
        self.ax_loss.set_position([0.575, 0.115, 0.41, 0.775])
        self._build_artists()
        super().__init__(fig, controls)
        self._apply_preset(surface)
        self.watch(self.start_x, self.start_y, self.num_steps, self.momentum, self.beta1, self.beta2,
                   *self.enabled.values(), *self.lr.values())
        self.surface.observe(self._on_surface, names="value")
        self.update()

    # ------------------------------------------------------------------ controls

    def _apply_preset(self, label: str) -> None:
        """Move the start sliders to the surface's window and default start, the rates to the preset."""
        self._syncing = True
        try:
            surface = SURFACE_CHOICES[label]()
            for slider, (low, high), value in ((self.start_x, surface.xlim, surface.start[0]),
                                               (self.start_y, surface.ylim, surface.start[1])):
                slider.min, slider.max = -1e9, 1e9  # widen first so the new range is always accepted
                slider.min, slider.max = low, high
                slider.value = value
            preset = PRESETS[label]
            self.num_steps.value = preset["steps"]
            for name in RACERS:
                self.lr[name].value = preset["lr"][name]
        finally:
            self._syncing = False

    def _on_surface(self, change=None) -> None:
        self._apply_preset(self.surface.value)
        self.update()

    def update(self, change=None) -> None:
        if not self._syncing:
            super().update(change)

    # ------------------------------------------------------------------ logic

    def _trajectory(self, label: str, surface: Surface, start, name: str, lr: float, num_steps: int) -> Trajectory:
        """Run (or reuse) one racer; a longer cached run is cut to ``num_steps``."""
        key = (label, start, name, lr, self.momentum.value, self.beta1.value, self.beta2.value)
        cached = self._cache.get(key)
        if cached is None or (cached.steps_taken < num_steps and not cached.diverged):
            if len(self._cache) > 512:
                self._cache.clear()
            factory = make_racer(name, lr, self.momentum.value, self.beta1.value, self.beta2.value, self.steps)
            cached = descend(surface, factory, start, num_steps, bound=BOUND)
            self._cache[key] = cached
        if cached.steps_taken <= num_steps:
            return cached
        keep = num_steps + 1
        return Trajectory(cached.points[:keep], cached.values[:keep], False, num_steps)

    def compute(self) -> RaceState:
        label = self.surface.value
        surface = SURFACE_CHOICES[label]()
        start = (float(self.start_x.value), float(self.start_y.value))
        num_steps = int(self.num_steps.value)
        (x0, x1), (y0, y1) = surface.xlim, surface.ylim
        margin = 0.5 * max(x1 - x0, y1 - y0)
        results = {}
        for name in RACERS:
            if not self.enabled[name].value:
                continue
            lr = float(self.lr[name].value)
            path = self._trajectory(label, surface, start, name, lr, num_steps)
            points = np.column_stack([np.clip(path.points[:, 0], x0 - margin, x1 + margin),
                                      np.clip(path.points[:, 1], y0 - margin, y1 + margin)])
            outside = (np.abs(path.points[:, 0] - (x0 + x1) / 2) > (x1 - x0) / 2) | \
                      (np.abs(path.points[:, 1] - (y0 + y1) / 2) > (y1 - y0) / 2)
            if surface.minimum_value is None:
                shown = np.clip(path.values, -SADDLE_RANGE, SADDLE_RANGE)
                hits = np.flatnonzero(outside)
                status = "escaped" if hits.size else "running"
            else:
                gap = surface.gap(path.values)
                shown = np.clip(gap, GAP_FLOOR, GAP_CEILING)
                hits = np.flatnonzero(gap < THRESHOLD)
                status = "diverged" if path.diverged else ("arrived" if hits.size else "running")
            results[name] = RacerResult(name, lr, points, shown, float(path.values[-1]), status,
                                        int(hits[0]) if hits.size else None, path.steps_taken)
        return RaceState(label, surface, start, num_steps, results)

    # ---------------------------------------------------------------- drawing

    def _build_artists(self) -> None:
        ax = self.ax_path
        self.paths, self.ends, self.curves = {}, {}, {}
        for name in RACERS:
            color = RACER_COLORS[name]
            (self.paths[name],) = ax.plot([], [], color=color, linewidth=1.4, label=name)
            (self.ends[name],) = ax.plot([], [], color=color, marker="X", markersize=9, markeredgecolor="k",
                                         linestyle="none")
            (self.curves[name],) = self.ax_loss.plot([], [], color=color, label=name)
        (self.start_mark,) = ax.plot([], [], marker="o", markersize=8, color="w", markeredgecolor="k",
                                     linestyle="none", zorder=5)
        (self.minima_mark,) = ax.plot([], [], marker="*", markersize=13, color="gold", markeredgecolor="k",
                                      linestyle="none", zorder=5)
        ax.set_xlabel("$x$")
        ax.set_ylabel("$y$")
        self.threshold_line = self.ax_loss.axhline(THRESHOLD, color="k", linestyle=":", linewidth=1,
                                                   label=f"f − f* = {THRESHOLD:g}")
        self.ax_loss.set_xlabel("step")
        self.ax_path.legend(loc="lower left", fontsize=8, ncols=3)

    def _draw_surface(self, surface: Surface, label: str) -> None:
        for artist in self._contours:
            artist.remove()
        xx, yy, zz = surface.grid(120)
        ax = self.ax_path
        # Log-spaced shading and contours where f has a minimum: on Rosenbrock or Beale the values
        # span five orders of magnitude. The shading is an image (cheap to redraw), not contourf.
        height = zz if surface.minimum_value is None else np.log10(surface.gap(zz) + 1e-3)
        shading = ax.imshow(height, extent=(*surface.xlim, *surface.ylim), origin="lower", cmap="Blues_r",
                            alpha=0.55, aspect="auto", interpolation="bilinear", zorder=0)
        lines = ax.contour(xx, yy, height, levels=np.linspace(height.min(), height.max(), 16)[1:-1],
                           colors="k", linewidths=0.4, alpha=0.45, zorder=1)
        self._contours = [shading, lines]
        ax.set_xlim(surface.xlim)
        ax.set_ylim(surface.ylim)
        ax.set_title(f"{label}: $f = {surface.formula}$", fontsize=10)
        minima = np.array(surface.minima).reshape(-1, 2)
        self.minima_mark.set_data(minima[:, 0], minima[:, 1])
        if surface.minimum_value is None:
            self.ax_loss.set_yscale("symlog", linthresh=1e-2)
            self.ax_loss.yaxis.set_minor_locator(NullLocator())
            self.ax_loss.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            self.ax_loss.set_ylabel("f(x, y) (symmetric log scale)")
            self.ax_loss.set_ylim(-SADDLE_RANGE * 1.5, 10.0)
            self.threshold_line.set_visible(False)
        else:
            self.ax_loss.set_yscale("log")
            # Plain labels (1e-06): mathtext labels (10^{-6}) are slow to draw on every redraw.
            self.ax_loss.yaxis.set_major_locator(LogLocator(numticks=8))
            self.ax_loss.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            self.ax_loss.yaxis.set_minor_locator(NullLocator())
            self.ax_loss.yaxis.set_minor_formatter(NullFormatter())
            self.ax_loss.set_ylabel("f − f* (log scale)")
            self.threshold_line.set_visible(True)
        self._surface_label = label

    def draw(self, state: RaceState) -> None:
        if state.surface_label != self._surface_label:
            self._draw_surface(state.surface, state.surface_label)
        self.start_mark.set_data([state.start[0]], [state.start[1]])
        for name in RACERS:
            result = state.results.get(name)
            visible = result is not None
            for artist in (self.paths[name], self.ends[name], self.curves[name]):
                artist.set_visible(visible)
            if not visible:
                continue
            self.paths[name].set_data(result.points[:, 0], result.points[:, 1])
            self.ends[name].set_data(result.points[-1:, 0], result.points[-1:, 1])
            self.ends[name].set_marker("X" if result.status == "diverged" else "o")
            self.curves[name].set_data(np.arange(len(result.shown)), result.shown)
        self.ax_loss.set_xlim(0, max(state.num_steps, 1))
        if state.surface.minimum_value is not None:
            shown = [r.shown for r in state.results.values()]
            low = min((s.min() for s in shown), default=THRESHOLD)
            high = max((s.max() for s in shown), default=1.0)
            self.ax_loss.set_ylim(max(GAP_FLOOR, min(low, THRESHOLD) / 5), min(GAP_CEILING, high) * 5)
        self.ax_loss.set_title(f"Race over {state.num_steps} steps" +
                               (f": {state.winner} arrives first" if state.winner else ""))

    def describe(self, state: RaceState) -> str:
        saddle_like = state.surface.minimum_value is None
        target = "leaves the window" if saddle_like else f"f − f* < {THRESHOLD:g}"
        rows = []
        for result in state.results.values():
            arrival = "—" if result.arrival_step is None else str(result.arrival_step)
            rows.append(f"<tr><td>{result.name}</td><td>{result.lr:.1e}</td><td>{result.status}"
                        f"{f' at step {result.steps_taken}' if result.status == 'diverged' else ''}</td>"
                        f"<td>{arrival}</td><td>{result.final_value:.3g}</td></tr>")
        table = ("<table><tr><th>racer</th><th>lr</th><th>status</th>"
                 f"<th>first step with {target}</th><th>final f</th></tr>" + "".join(rows) + "</table>")
        hints = {
            "elongated": "Gradient descent must keep lr < 2/50 for the steep direction, so it crawls along the "
                         "shallow one; momentum builds speed along the valley. Rotate the valley and the "
                         "per-coordinate methods (Adagrad, RMSprop, Adam) lose their edge.",
            "Rosenbrock": "The valley floor is curved and almost flat: the gradient points across the valley, "
                          "not along it. Adaptive methods normalise the tiny along-valley gradient.",
            "saddle": "Starting near the x axis the y-gradient is tiny, so gradient descent lingers near the "
                      "saddle point; methods that divide by the gradient's size escape in a few steps.",
            "Beale": "Steep walls and a flat plateau: one learning rate cannot suit both.",
            "Himmelblau": "Four minima: which one a racer reaches depends on the start and on how it moves.",
        }
        hint = next(text for key, text in hints.items() if key in state.surface_label)
        notes = []
        if not state.results:
            notes.append("Switch on at least one racer.")
        if any(r.status == "diverged" for r in state.results.values()):
            notes.append(f"A diverged racer (✕) is stopped when |x| or |y| passes {BOUND:g}; its path is drawn "
                         "up to the frame. Lower its learning rate.")
        return f"{table}<p>{hint}</p>" + "".join(f"<p><i>{note}</i></p>" for note in notes)
