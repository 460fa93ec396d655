"""Capacity explorer: fit a polynomial, turn the degree up, watch under- and overfitting (chapter 01).

Left: the training points, the true function sin(2 pi x) and the fitted
curve. Right: training and test error against the degree, with the current
degree marked. The summary names the regime from the numbers. The fits of every
degree, their errors and the verdict are :mod:`dlcore.scratch.capacity`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import ipywidgets as widgets
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

from dlcore.plots import COLORS, new_figure
from dlcore.plots.figures import pin_axis_labels
from dlcore.scratch.capacity import MAX_DEGREE, N_TEST, classify_fit, fits_of_every_degree, true_function
from dlcore.scratch.polynomial import fit_coefficients, predict_polynomial
from dlcore.widgets.base import Explorer

__all__ = ["CapacityExplorer", "CapacityState"]

# Errors are drawn on a log axis; values outside these bounds are pinned to them
# (a degree-20 fit to 10 points can have a test error of 1e15, or a training error of 1e-30).
ERROR_FLOOR, ERROR_CEILING = 1e-6, 1e4
L2_OFF_EXPONENT = -12  # the L2 slider's leftmost position means "no penalty"


@dataclass(frozen=True)
class CapacityState:
    """Everything one setting of the controls produces (what the tests inspect)."""

    degree: int
    n_train: int
    noise: float
    l2: float
    seed: int
    x_train: np.ndarray  # (N,)
    y_train: np.ndarray  # (N,)
    x_grid: np.ndarray  # (G,)
    truth_grid: np.ndarray  # (G,)
    curve: np.ndarray  # (G,) the fitted curve, clipped to the plot's y-range
    curve_clipped: bool  # whether the fitted curve left the plot's y-range
    degrees: np.ndarray  # (MAX_DEGREE + 1,)
    train_errors: np.ndarray  # at the current l2
    test_errors: np.ndarray  # at the current l2
    test_errors_unpenalised: np.ndarray  # at l2 = 0, for comparison
    best_degree: int  # lowest test error at the current l2
    best_test_error: float  # lowest test error at any degree, with or without the penalty
    verdict: str

    @property
    def train_error(self) -> float:
        return float(self.train_errors[self.degree])

    @property
    def test_error(self) -> float:
        return float(self.test_errors[self.degree])


class CapacityExplorer(Explorer):
    """Polynomial degree, training-set size, noise and L2 penalty against train and test error.

    ``fit(x, y, degree, l2) -> coefficients`` fits every curve (the course's least squares by default;
    chapter 01 passes the learner's own).
    """

    def __init__(self, degree: int = 3, n_train: int = 15, noise: float = 0.2, seed: int = 0,
                 fit: Callable[[np.ndarray, np.ndarray, int, float], np.ndarray] | None = None) -> None:
        self._fit = fit_coefficients if fit is None else fit
        style = {"description_width": "initial"}
        self.degree = widgets.IntSlider(value=degree, min=0, max=MAX_DEGREE, description="degree", style=style)
        self.n_train = widgets.IntSlider(value=n_train, min=5, max=200, description="training points", style=style)
        self.noise = widgets.FloatSlider(value=noise, min=0.0, max=1.0, step=0.05, description="noise σ", style=style)
        self.l2 = widgets.FloatLogSlider(value=10.0**L2_OFF_EXPONENT, base=10, min=L2_OFF_EXPONENT, max=2, step=0.5,
                                         description="L2 λ (left = off)", readout_format=".0e", style=style)
        self.seed = widgets.BoundedIntText(value=seed, min=0, max=10**6, description="seed", style=style,
                                           layout=widgets.Layout(width="140px"))
        self.resample = widgets.Button(description="new training set", icon="refresh")
        self.resample.on_click(self._next_seed)
        self._fits: dict[tuple, tuple] = {}  # fits_of_every_degree's results, by its arguments

        fig, (self.ax_fit, self.ax_err) = new_figure(ncols=2, width=11.0, height=3.8)
        self._build_artists()
        super().__init__(fig, [self.degree, self.n_train, self.noise, self.l2, self.seed, self.resample])
        self.watch(self.degree, self.n_train, self.noise, self.l2, self.seed)
        # The layout is solved once, for the widest tick labels (1e-06 .. 10000 on the error axis);
        # re-solving it on every change would double the time a slider takes to respond.
        self.ax_fit.set_ylim(-self._y_limit(1.0), self._y_limit(1.0))
        self.ax_err.set_ylim(ERROR_FLOOR, ERROR_CEILING)
        fig.draw_without_rendering()
        fig.set_layout_engine("none")
        pin_axis_labels(fig)
        self.update()

    def _next_seed(self, _button=None) -> None:
        self.seed.value = (self.seed.value + 1) % (self.seed.max + 1)

    # ------------------------------------------------------------------ logic

    def compute(self) -> CapacityState:
        degree, n_train = int(self.degree.value), int(self.n_train.value)
        noise, seed = float(self.noise.value), int(self.seed.value)
        l2 = 0.0 if self.l2.value <= 10.0**L2_OFF_EXPONENT * 1.0001 else float(self.l2.value)
        degrees = np.arange(MAX_DEGREE + 1)
        x_train, y_train, train_errors, test_errors, fits = self._fitted(n_train, noise, seed, l2)
        test_unpenalised = test_errors if l2 == 0.0 else self._fitted(n_train, noise, seed, 0.0)[3]
        best_test = float(min(test_errors.min(), test_unpenalised.min()))

        x_grid = np.linspace(0.0, 1.0, 400)
        limit = self._y_limit(noise)
        raw_curve = predict_polynomial(fits[degree], x_grid)
        # A non-finite value cannot come from lstsq on finite data; nan_to_num is a last guard for the plot.
        curve = np.clip(np.nan_to_num(raw_curve, nan=0.0, posinf=limit, neginf=-limit), -1.2 * limit, 1.2 * limit)
        return CapacityState(
            degree=degree, n_train=n_train, noise=noise, l2=l2, seed=seed,
            x_train=x_train, y_train=y_train, x_grid=x_grid, truth_grid=true_function(x_grid),
            curve=curve, curve_clipped=bool(np.any(np.abs(raw_curve) > limit) or not np.all(np.isfinite(raw_curve))),
            degrees=degrees, train_errors=train_errors, test_errors=test_errors,
            test_errors_unpenalised=test_unpenalised, best_degree=int(np.argmin(test_errors)),
            best_test_error=best_test,
            verdict=classify_fit(float(train_errors[degree]), float(test_errors[degree]), best_test),
        )

    def _fitted(self, n_train: int, noise: float, seed: int, penalty: float) -> tuple:
        """fits_of_every_degree, computed once per setting (the 32 latest are kept)."""
        key = (n_train, noise, seed, penalty)
        if key not in self._fits:
            if len(self._fits) >= 32:
                self._fits.pop(next(iter(self._fits)))  # the oldest
            self._fits[key] = fits_of_every_degree(*key, fit=self._fit)
        return self._fits[key]

    @staticmethod
    def _y_limit(noise: float) -> float:
        return 1.5 + 3.0 * noise  # |sin| <= 1 plus three noise standard deviations

    # ---------------------------------------------------------------- drawing

    def _build_artists(self) -> None:
        ax = self.ax_fit
        (self.truth_line,) = ax.plot([], [], color=COLORS["green"], linestyle="--", label="true $f(x)=\\sin 2\\pi x$")
        (self.fit_line,) = ax.plot([], [], color=COLORS["blue"], label="fitted polynomial")
        self.points = ax.scatter([], [], s=22, color=COLORS["orange"], edgecolor="k", linewidth=0.4,
                                 zorder=3, label="training points")
        ax.set_xlim(0.0, 1.0)
        ax.set_xlabel("$x$")
        ax.set_ylabel("$y$")
        ax.set_title("Degree 0 fit", y=1.0)  # a fixed height: matplotlib need not measure the tick labels to place it
        ax.legend(loc="lower left", fontsize=8)
        # Few tick labels: drawing text is most of a redraw's time.
        ax.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
        ax.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10]))

        ax = self.ax_err
        (self.train_line,) = ax.plot([], [], marker="o", markersize=3, color=COLORS["blue"], label="train MSE")
        (self.test_line,) = ax.plot([], [], marker="o", markersize=3, color=COLORS["orange"], label="test MSE")
        (self.unpenalised_line,) = ax.plot([], [], color=COLORS["grey"], linestyle=":", label="test MSE, λ = 0")
        self.noise_line = ax.axhline(1.0, color=COLORS["green"], linestyle="--", linewidth=1, label="noise σ²")
        self.degree_line = ax.axvline(0, color="k", linewidth=1, alpha=0.5)
        (self.current_marks,) = ax.plot([], [], linestyle="none", marker="o", markersize=8,
                                        markerfacecolor="none", markeredgecolor="k")
        ax.set_yscale("log")
        # Plain labels (0.01, 1e-06): mathtext labels (10^{-2}) are slow to lay out on every redraw.
        ax.yaxis.set_major_locator(LogLocator(numticks=6))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_xlim(-0.5, MAX_DEGREE + 0.5)
        ax.set_xticks(range(0, MAX_DEGREE + 1, 5))
        ax.set_xlabel("polynomial degree")
        ax.set_ylabel("mean squared error (log scale)")
        ax.set_title("Train and test error against degree", y=1.0)
        self._legend_handles: list | None = None

    def draw(self, state: CapacityState) -> None:
        limit = self._y_limit(state.noise)
        self.truth_line.set_data(state.x_grid, state.truth_grid)
        self.fit_line.set_data(state.x_grid, state.curve)
        self.points.set_offsets(np.column_stack([state.x_train, state.y_train]))
        self.ax_fit.set_ylim(-limit, limit)
        self.ax_fit.set_title(f"Degree {state.degree} fit to {state.n_train} points: {state.verdict}")

        shown = {name: np.clip(values, ERROR_FLOOR, ERROR_CEILING) for name, values in (
            ("train", state.train_errors), ("test", state.test_errors), ("unpen", state.test_errors_unpenalised))}
        self.train_line.set_data(state.degrees, shown["train"])
        self.test_line.set_data(state.degrees, shown["test"])
        self.unpenalised_line.set_data(state.degrees, shown["unpen"])
        self.unpenalised_line.set_visible(state.l2 > 0)
        floor = max(state.noise**2, ERROR_FLOOR)
        self.noise_line.set_ydata([floor, floor])
        self.noise_line.set_visible(state.noise > 0)
        shown_lines = (self.train_line, self.test_line, self.unpenalised_line, self.noise_line)
        handles = [line for line in shown_lines if line.get_visible()]
        if handles != self._legend_handles:  # the legend lists only the curves that are shown
            self._legend_handles = handles
            self.ax_err.legend(handles=handles, loc="best", fontsize=8)
        self.degree_line.set_xdata([state.degree, state.degree])
        self.current_marks.set_data([state.degree, state.degree],
                                    [shown["train"][state.degree], shown["test"][state.degree]])
        everything = np.concatenate([shown["train"], shown["test"], [floor]])
        self.ax_err.set_ylim(max(ERROR_FLOOR, everything.min() / 3), min(ERROR_CEILING, everything.max() * 3) * 1.5)

    def describe(self, state: CapacityState) -> str:
        penalty = "λ = 0 (no penalty)" if state.l2 == 0 else f"λ = {state.l2:.0e}"
        why = {
            "good fit": "the test error is close to the lowest any degree reaches here.",
            "underfitting": "the training error is high too: the model is too rigid "
                            + ("(or too strongly penalised) " if state.l2 > 0 else "")
                            + "to follow the curve, so more data would not help much.",
            "overfitting": "the training error is far below the test error: the curve bends to "
                           "follow the noise in these particular points.",
        }[state.verdict]
        lines = [
            f"<b>{state.verdict.capitalize()}</b>: {why}",
            f"Degree {state.degree}, {state.n_train} training points, noise σ = {state.noise:.2f}, {penalty}. "
            f"Train MSE {state.train_error:.3g}, test MSE {state.test_error:.3g} on {N_TEST} fresh points; "
            f"best test MSE {state.best_test_error:.3g} (degree {state.best_degree} at this λ); "
            f"noise floor σ² = {state.noise ** 2:.3g}.",
        ]
        notes = []
        if state.curve_clipped:
            notes.append("the fitted curve leaves the plotted range; it is cut at the frame")
        if np.any(state.test_errors > ERROR_CEILING) or np.any(state.train_errors < ERROR_FLOOR):
            notes.append(f"errors outside [{ERROR_FLOOR:.0e}, {ERROR_CEILING:.0e}] are drawn at the edge of the plot")
        if state.degree + 1 >= state.n_train and state.l2 == 0:
            notes.append(f"with {state.degree + 1} coefficients and only {state.n_train} points the fit can pass "
                         f"through every point (least squares returns the smallest-norm such fit)")
        if notes:
            lines.append("Note: " + "; ".join(notes) + ".")
        return "<br>".join(lines)
