"""Gradient descent on a loss surface: learning rate, start, steps and batch size (chapter 04).

Left: the loss as a curve (1-D) or contours (2-D) with the path gradient
descent takes. Right: the loss after every step, as its distance to the
minimum on a log axis where the minimum is known. The summary names what
happened (converged, oscillating, diverged, stuck in a local minimum, still
moving) and compares the learning rate with the stability limit 2 / L.
The surfaces, their data and the verdict are :mod:`dlcore.scratch.descent_problems`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import ipywidgets as widgets
import numpy as np
from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator

from dlcore.plots import COLORS, new_figure
from dlcore.plots.figures import pin_axis_labels
from dlcore.scratch.descent import gradient_descent, gradient_descent_path
from dlcore.scratch.descent_problems import (NUM_EXAMPLES, SURFACE_CHOICES, DescentProblem, descent_problems,
                                             descent_verdict, linear_model_loss, regression_data)
from dlcore.widgets.base import Explorer

__all__ = ["DescentExplorer", "DescentState"]

# What is plotted is clipped to these bounds: a diverging run reaches 1e8 before it is stopped.
GAP_FLOOR, GAP_CEILING = 1e-12, 1e8


@dataclass(frozen=True)
class DescentState:
    """One setting of the controls and the run it produced (what the tests inspect)."""

    surface: str
    dims: int
    learning_rate: float
    start: tuple[float, ...]
    num_steps: int
    batch_size: int | None  # only for the regression surface (None: not applicable)
    noise: float  # gradient noise on the other surfaces
    points: np.ndarray  # (S + 1, dims): finite; may lie far outside the window
    losses: np.ndarray  # (S + 1,)
    diverged: bool
    threshold: float | None  # 2 / L where the surface is a quadratic
    verdict: str

    @property
    def steps_taken(self) -> int:
        return len(self.losses) - 1


class DescentExplorer(Explorer):
    """Gradient descent on five loss surfaces: learning rate, start point, steps, batch size or noise."""

    def __init__(self, surface: str = "quadratic (1-D)", learning_rate: float = 0.1, num_steps: int = 30,
                 seed: int = 0, mse_loss: Callable | None = None) -> None:
        """``mse_loss(pred, target) -> (loss, dpred)``, e.g. the learner's from exercise 4.1, drives the
        linear-regression surface's descent (default: dlcore's)."""
        self.regression_model = "linear" if mse_loss is None else linear_model_loss(mse_loss)
        self.x_data, self.y_data = regression_data(seed)
        self.problems = descent_problems(self.x_data, self.y_data)
        self.seed = seed
        style = {"description_width": "initial"}
        self.surface = widgets.Dropdown(options=SURFACE_CHOICES, value=surface, description="surface", style=style)
        self.learning_rate = widgets.FloatLogSlider(value=learning_rate, base=10, min=-3, max=1, step=0.02,
                                                    description="learning rate", readout_format=".3g", style=style)
        self.start_x = widgets.FloatSlider(description="start x", step=0.05, style=style)
        self.start_y = widgets.FloatSlider(description="start y", step=0.05, style=style)
        self.num_steps = widgets.IntSlider(value=num_steps, min=0, max=200, description="steps", style=style)
        self.batch_size = widgets.IntSlider(value=NUM_EXAMPLES, min=1, max=NUM_EXAMPLES, description="batch size",
                                            style=style)
        self.noise = widgets.FloatSlider(value=0.0, min=0.0, max=5.0, step=0.1, description="gradient noise σ",
                                         style=style)
        self._quiet = False
        fig, (self.ax_path, self.ax_loss) = new_figure(ncols=2, width=11.0, height=4.0)
        self._build_artists()
        self._configure_surface()
        super().__init__(fig, [self.surface, self.learning_rate, self.num_steps, self.start_x, self.start_y,
                               self.batch_size, self.noise])
        self.surface.observe(self._on_surface, names="value")
        self.watch(self.learning_rate, self.num_steps, self.start_x, self.start_y, self.batch_size, self.noise)
        self.update()
        # The y labels stay free: each surface has tick labels of its own width.
        pin_axis_labels(fig, which="x")

    # ------------------------------------------------------------------ controls

    def _on_surface(self, change=None) -> None:
        self._configure_surface()
        self.update()

    def _configure_surface(self) -> None:
        """Fit the start sliders to the new window, enable the relevant noise control, redraw the background."""
        problem = self.problems[self.surface.value]
        self._quiet = True  # one redraw for the whole change, not one per slider
        try:
            for slider, lim, value in ((self.start_x, problem.xlim, problem.start[0]),
                                       (self.start_y, problem.ylim or (-1.0, 1.0),
                                        problem.start[1] if problem.dims == 2 else 0.0)):
                slider.min, slider.max = -1e9, 1e9  # widen first so min < max holds at every moment
                slider.min, slider.max = float(lim[0]), float(lim[1])
                slider.value = float(value)
            self.start_y.disabled = problem.dims == 1
            regression = problem.name.startswith("linear regression")
            self.batch_size.disabled, self.noise.disabled = not regression, regression
        finally:
            self._quiet = False
        self._draw_background(problem)

    def update(self, change=None) -> None:
        if not self._quiet:
            super().update(change)

    # ------------------------------------------------------------------ logic

    def compute(self) -> DescentState:
        problem = self.problems[self.surface.value]
        lr, steps = float(self.learning_rate.value), int(self.num_steps.value)
        start = (float(self.start_x.value),) + ((float(self.start_y.value),) if problem.dims == 2 else ())
        rng = np.random.default_rng(self.seed)
        batch_size, noise = None, 0.0
        if problem.name.startswith("linear regression"):
            batch_size = int(self.batch_size.value)
            per_epoch = -(-NUM_EXAMPLES // batch_size)  # ceil
            num_epochs = max(1, -(-steps // per_epoch))
            history = gradient_descent(self.regression_model, self.x_data[:, None], self.y_data, np.array(start),
                                       learning_rate=lr, num_epochs=num_epochs, batch_size=batch_size, rng=rng)
            points, diverged = history.params[: steps + 1], history.diverged and history.num_steps < steps
        else:
            noise = float(self.noise.value)
            points, diverged = gradient_descent_path(problem.gradient, start, learning_rate=lr, num_steps=steps,
                                                     noise=noise, rng=rng)
        with np.errstate(over="ignore", invalid="ignore"):
            losses = np.array([problem.value(*p) for p in points], dtype=float)
        finite = np.isfinite(losses) & (np.abs(losses) < GAP_CEILING)
        if not finite.all():  # keep the finite prefix; anything beyond is a divergence
            keep = int(np.argmin(finite))
            points, losses, diverged = points[: max(keep, 1)], losses[: max(keep, 1)], True
        threshold = None if problem.curvature is None else 2.0 / problem.curvature
        stochastic = noise > 0 or (batch_size is not None and batch_size < NUM_EXAMPLES)
        verdict = descent_verdict(problem, points, losses, diverged, stochastic)
        return DescentState(problem.name, problem.dims, lr, start, steps, batch_size, noise, points, losses,
                            verdict == "diverged", threshold, verdict)

    # ------------------------------------------------------------------ drawing

    def _build_artists(self) -> None:
        ax = self.ax_path
        (self.curve_line,) = ax.plot([], [], color=COLORS["grey"], lw=1.5)
        (self.minimum_marker,) = ax.plot([], [], "x", color="k", ms=9, mew=2, label="global minimum")
        (self.path_line,) = ax.plot([], [], "-o", color=COLORS["red"], ms=3, lw=1.2, label="gradient descent")
        (self.start_marker,) = ax.plot([], [], "s", color=COLORS["green"], ms=7, label="start")
        (self.end_marker,) = ax.plot([], [], "*", color=COLORS["blue"], ms=11, label="last point")
        self.note = ax.text(0.5, 0.62, "", transform=ax.transAxes, ha="center", va="top", color=COLORS["red"],
                            fontsize=11, fontweight="bold",
                            bbox=dict(facecolor="white", edgecolor=COLORS["red"], alpha=0.9), visible=False)
        ax.legend(loc="upper center", ncol=2, fontsize=8, framealpha=0.8, frameon=True)
        (self.loss_line,) = self.ax_loss.plot([], [], "-", color=COLORS["blue"], marker=".", ms=3)
        self.ax_loss.set_xlabel("step")
        for axis in (ax.xaxis, ax.yaxis, self.ax_loss.xaxis):
            axis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))  # few labels: text is most of a redraw
        for title_ax in (ax, self.ax_loss):
            title_ax.set_title(" ", y=1.0)  # a fixed height: matplotlib need not measure the tick labels to place it
        self._contours = None

    def _draw_background(self, problem: DescentProblem) -> None:
        ax = self.ax_path
        if self._contours is not None:
            self._contours.remove()
            self._contours = None
        ax.set_xlim(*problem.xlim)
        if problem.dims == 1:
            xs = np.linspace(*problem.xlim, 400)
            ys = problem.value(xs)
            self.curve_line.set_data(xs, ys)
            span = ys.max() - ys.min()
            self._ylim = (ys.min() - 0.1 * span, ys.max() + 0.1 * span)
            ax.set_ylim(*self._ylim)
            ax.set_xlabel("parameter $x$")
            ax.set_ylabel("loss $f(x)$")
        else:
            self.curve_line.set_data([], [])
            xx, yy = np.meshgrid(np.linspace(*problem.xlim, 120), np.linspace(*problem.ylim, 120))
            zz = problem.value(xx, yy)
            levels = np.quantile(zz, np.linspace(0.0, 1.0, 16) ** 2)  # dense near the bottom
            self._contours = ax.contour(xx, yy, zz, levels=np.unique(levels), cmap="viridis", linewidths=0.8)
            self._ylim = problem.ylim
            ax.set_ylim(*problem.ylim)
            names = ("slope $w$", "intercept $b$") if problem.name.startswith("linear") else ("$x$", "$y$")
            ax.set_xlabel(names[0])
            ax.set_ylabel(names[1])
        ax.set_title(f"{problem.name}: $f = {problem.formula}$", fontsize=10)
        if problem.minima:
            best = np.array(problem.minima[0], dtype=float)
            self.minimum_marker.set_data([best[0]], [best[1]] if problem.dims == 2 else [problem.minimum_value])
        else:
            self.minimum_marker.set_data([], [])
        log = problem.minimum_value is not None
        self.ax_loss.set_yscale("log" if log else "linear")
        if log:  # few labelled ticks: text is most of the drawing time
            self.ax_loss.yaxis.set_major_locator(LogLocator(base=10.0, numticks=6))
            self.ax_loss.yaxis.set_minor_locator(NullLocator())
        else:
            self.ax_loss.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))
        self.ax_loss.set_ylabel("$f - f_{min}$ (log scale)" if log else "$f$")

    def _clip_to_window(self, points: np.ndarray, problem: DescentProblem) -> np.ndarray:
        """Points beyond the window are pinned just outside it, so a runaway path leaves the frame without NaN."""
        lo = np.array([problem.xlim[0], self._ylim[0]])[: points.shape[1]]
        hi = np.array([problem.xlim[1], self._ylim[1]])[: points.shape[1]]
        margin = 0.05 * (hi - lo)
        return np.clip(points, lo - margin, hi + margin)

    def draw(self, state: DescentState) -> None:
        problem = self.problems[state.surface]
        if state.dims == 1:
            xy = np.column_stack([state.points[:, 0], state.losses])  # (S + 1, 2): position and height on the curve
        else:
            xy = state.points
        xy = self._clip_to_window(xy, problem)
        self.path_line.set_data(xy[:, 0], xy[:, 1])
        self.start_marker.set_data(xy[:1, 0], xy[:1, 1])
        self.end_marker.set_data(xy[-1:, 0], xy[-1:, 1])
        self.note.set_text("DIVERGED" if state.diverged else "")
        self.note.set_visible(state.diverged)  # an empty text would still draw its box
        steps = np.arange(len(state.losses))
        if problem.minimum_value is not None:
            shown = np.clip(state.losses - problem.minimum_value, GAP_FLOOR, GAP_CEILING)
            self.ax_loss.set_ylim(max(GAP_FLOOR, 0.3 * shown.min()), max(3.0 * shown.max(), 1e-6))
        else:
            shown = np.clip(state.losses, -GAP_CEILING, GAP_CEILING)
            low, high = shown.min(), shown.max()
            pad = 0.1 * max(high - low, 1e-3)
            self.ax_loss.set_ylim(low - pad, high + pad)
        self.loss_line.set_data(steps, shown)
        self.ax_loss.set_xlim(0, max(1, len(steps) - 1))
        self.ax_loss.set_title(f"loss per step (learning rate {state.learning_rate:.3g})")

    def describe(self, state: DescentState) -> str:
        parts = [f"<b>{state.verdict}</b> after {state.steps_taken} of {state.num_steps} steps "
                 f"at learning rate {state.learning_rate:.3g}."]
        if state.threshold is not None:
            relation = "above" if state.learning_rate > state.threshold else "below"
            parts.append(f"On this quadratic the stability limit is 2/L = {state.threshold:.3g}; "
                         f"the learning rate is {relation} it.")
        if state.diverged:
            parts.append("Each step overshoots by more than it corrects, so the error grows geometrically; "
                         "the run was stopped and the plot is clipped.")
        if state.batch_size is not None:
            kind = ("batch gradient descent" if state.batch_size == NUM_EXAMPLES else
                    "stochastic gradient descent" if state.batch_size == 1 else "mini-batch gradient descent")
            per_epoch = -(-NUM_EXAMPLES // state.batch_size)
            parts.append(f"Batch size {state.batch_size} of N = {NUM_EXAMPLES}: {kind}, {per_epoch} step(s) per epoch.")
        elif state.noise > 0:
            parts.append(f"Each gradient carries Gaussian noise of σ = {state.noise:.2g}, as a mini-batch estimate would.")
        if state.verdict.startswith("hovering"):
            parts.append("With noisy gradients and a constant learning rate the path does not settle: "
                         "it keeps jittering around the minimum (a decaying learning rate would let it settle).")
        if not state.diverged:
            parts.append(f"Final loss {state.losses[-1]:.4g}.")
        return " ".join(parts)
