"""A live training dashboard, and an explorer of deep networks built on it (chapter 07).

:class:`TrainingDashboard` listens to the events of :mod:`dlcore.training`
and redraws, in place, six panels from the run's History: the loss, the
accuracy, the per-layer activation spread / gradient norm / dead share, the
histograms of activations and of gradient magnitudes for a few layers, and
the update-to-weight ratios. Redraws are throttled by wall-clock time (never
more often than ``min_interval_s``, and never more than ~20% of the time),
and the last state is always drawn when training ends. It can show itself in
a notebook (a display handle updated in place), write into an ipywidgets
Image, or just draw its figure (tests). Any model the loop can train, any
later chapter, can use it.

:class:`DeepNetExplorer` trains small deep MLPs on 2-D data with controls for
depth, activation, initialisation, batch norm and dropout.
"""

from __future__ import annotations

import time

import numpy as np

from dlcore.plots import COLORS, new_figure
from dlcore.training.history import History
from dlcore.training.stats import ACTIVATION_BINS, GRADIENT_LOG_BINS

__all__ = ["TrainingDashboard", "select_layers", "PLOT_FLOOR", "PLOT_CEILING"]

# Values on the log-scale panels are pinned into this range (an exactly zero gradient,
# or an activation of 1e200 from an exploding network, is drawn at the edge).
PLOT_FLOOR, PLOT_CEILING = 1e-30, 1e30


def select_layers(count: int, max_layers: int) -> np.ndarray:
    """Indices of at most ``max_layers`` layers out of ``count``, evenly spaced, first and last included."""
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.round(np.linspace(0, count - 1, min(count, max_layers))).astype(np.int64))


def _finite_points(x, y, log: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Drop points that are not finite; on a log axis pin the rest into [PLOT_FLOOR, PLOT_CEILING]."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if log:
        y = np.where(np.isnan(y), np.nan, np.clip(np.abs(y), PLOT_FLOOR, PLOT_CEILING))
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def _bin_centres(edges: np.ndarray) -> np.ndarray:
    return 0.5 * (edges[:-1] + edges[1:])


class TrainingDashboard:
    """Six live panels of a training run.

    Args:
        output: None (only draw the figure), "notebook" (display it when training
            starts and update that display in place), or an ``ipywidgets.Image``.
        max_layers: how many layers get a histogram (evenly spaced, first and last included).
        min_interval_s: the least wall-clock time between two redraws.
        title: the figure's title.

    Use: ``trainer.attach(dashboard)`` before ``trainer.fit(...)``; or
    ``dashboard.render(history)`` to draw any finished History.
    """

    def __init__(self, *, output=None, panels: str = "all", max_layers: int = 5, min_interval_s: float = 0.5,
                 title: str = "Training dashboard", width: float = 12.5, height: float | None = None) -> None:
        if output is not None and output != "notebook" and not hasattr(output, "value"):
            raise ValueError(f"TrainingDashboard: output must be None, 'notebook' or an ipywidgets.Image, got {output!r}")
        if panels not in ("all", "layers"):
            raise ValueError(f"TrainingDashboard: panels must be 'all' (six panels) or 'layers' (the three "
                             f"per-layer panels), got {panels!r}")
        self.output, self.max_layers, self.min_interval_s = output, int(max_layers), float(min_interval_s)
        self.panels = panels
        if panels == "all":
            self.fig, axes = new_figure(ncols=3, nrows=2, width=width, height=height or 6.6)
            (self.ax_loss, self.ax_acc, self.ax_layers), (self.ax_act, self.ax_grad, self.ax_ratio) = axes
        else:  # a lighter figure for a network that is not training: what it looks like at one step
            self.fig, (self.ax_layers, self.ax_act, self.ax_grad) = new_figure(ncols=3, width=width, height=height or 3.4)
            self.ax_loss = self.ax_acc = self.ax_ratio = None
        self.ax_dead = self.ax_layers.twinx()
        self.fig.suptitle(title)
        self.draws = 0
        self._handle = None
        self._last_draw, self._last_duration = -np.inf, 0.0
        self._histogram_key: tuple | None = None
        self.layer_index = self.weight_index = np.zeros(0, dtype=np.int64)
        self._build_static_artists()
        self._tidy_log_axes()

    # ------------------------------------------------------------------ artists

    def _build_static_artists(self) -> None:
        self.hist_lines: list = []
        self.grad_hist_lines: list = []
        self.ratio_lines: list = []
        if self.panels == "all":
            self._build_curve_artists()
        ax = self.ax_layers
        (self.act_std_line,) = ax.plot([], [], "o-", color=COLORS["blue"], ms=2.5, lw=1.2, label="activation std")
        (self.grad_norm_line,) = ax.plot([], [], "o-", color=COLORS["red"], ms=2.5, lw=1.2, label="‖dL/dh‖")
        (self.dead_line,) = self.ax_dead.plot([], [], "--", color=COLORS["grey"], lw=1.2, label="dead share")
        from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

        # the axis labels name the lines by colour: a legend would sit on the data
        ax.set(xlabel="layer", yscale="log")
        ax.set_title("Per layer (latest record)", y=1.0)  # a fixed height: no tick labels measured to place it
        ax.set_ylabel("std of h (blue), ‖dL/dh‖ (red)")
        # few ticks: each costs time to draw, and text is most of a redraw
        ax.xaxis.set_major_locator(MaxNLocator(4, integer=True))
        ax.yaxis.set_major_locator(LogLocator(numticks=6))  # see _label_layer_axis
        # plain labels, at most 5 characters (0.03, 300, 3e-05, 1e+30): the layout is made for the widest
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}" if 0.01 <= value < 1000
                                                   else f"{value:.0e}"))
        ax.yaxis.set_minor_locator(NullLocator())
        self.ax_dead.set_ylim(-0.02, 1.02)
        self.ax_dead.set_yticks([0.0, 0.5, 1.0])
        self.ax_dead.set_ylabel("share of dead units (grey, dashed)")
        self.ax_dead.grid(False)
        self.ax_act.set(xlabel="activation value h", ylabel="share of values",
                        xlim=(ACTIVATION_BINS[0], ACTIVATION_BINS[-1]))
        self.ax_grad.set(xlabel="log10 |dL/dh|", ylabel="share of values",
                         xlim=(GRADIENT_LOG_BINS[0], GRADIENT_LOG_BINS[-1]))
        self.ax_act.set_title("Activation histograms (latest)", y=1.0)
        self.ax_grad.set_title("Gradient magnitudes (latest)", y=1.0)
        self.ax_act.set_xticks(np.arange(-4, 5, 4))  # fixed ticks: the layout stays put between redraws
        self.ax_grad.set_xticks(np.arange(-15, 5, 5))
        for hist_ax in (self.ax_act, self.ax_grad):
            hist_ax.yaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))

    def _tidy_log_axes(self) -> None:
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        for ax in (self.ax_loss, self.ax_layers, self.ax_ratio):
            if ax is not None:
                ax.yaxis.set_minor_formatter(NullFormatter())  # labelled minor ticks crowd a short log axis
        if self.ax_loss is not None:  # losses span a decade or two: label 0.1, 0.2, 0.5, 1, 2 plainly
            self.ax_loss.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            self.ax_loss.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))

    def _build_curve_artists(self) -> None:
        ax = self.ax_loss
        (self.loss_line,) = ax.plot([], [], color=COLORS["blue"], lw=1.2, label="batch loss (smoothed)")
        (self.train_loss_line,) = ax.plot([], [], "o-", color=COLORS["green"], ms=3, lw=1, label="train (eval mode)")
        (self.val_loss_line,) = ax.plot([], [], "s-", color=COLORS["orange"], ms=3, lw=1, label="validation")
        ax.set(title="Loss", xlabel="step", ylabel="loss (log scale)", yscale="log")
        ax.legend(fontsize=7, loc="upper right")
        ax = self.ax_acc
        (self.acc_line,) = ax.plot([], [], color=COLORS["blue"], lw=1.2, label="batch accuracy (smoothed)")
        (self.train_acc_line,) = ax.plot([], [], "o-", color=COLORS["green"], ms=3, lw=1, label="train (eval mode)")
        (self.val_acc_line,) = ax.plot([], [], "s-", color=COLORS["orange"], ms=3, lw=1, label="validation")
        ax.set(title="Accuracy", xlabel="step", ylabel="accuracy", ylim=(0.0, 1.02))
        ax.legend(fontsize=7, loc="lower right")
        ax = self.ax_ratio
        ax.axhline(1e-3, color="k", lw=0.8, ls=":")
        ax.set(title="Update / weight ratio per step", xlabel="step", ylabel="‖ΔW‖ / ‖W‖ (log scale)", yscale="log",
               ylim=(1e-6, 1.0))
        self.note = self.ax_loss.text(0.5, 0.5, "", transform=self.ax_loss.transAxes, ha="center", va="center",
                                      fontsize=9, color=COLORS["grey"])

    def _build_layer_artists(self, layers: tuple[str, ...], weights: tuple[str, ...]) -> None:
        """(Re)create one line per selected layer in the histogram and ratio panels."""
        from matplotlib import colormaps

        for line in self.hist_lines + self.grad_hist_lines + self.ratio_lines:
            line.remove()
        cmap = colormaps["viridis"]
        self.layer_index = select_layers(len(layers), self.max_layers)
        self.weight_index = select_layers(len(weights), min(self.max_layers, 4)) if self.ax_ratio else []
        shades = np.linspace(0.0, 0.9, max(len(self.layer_index), 1))
        self.hist_lines = [self.ax_act.plot([], [], drawstyle="steps-mid", color=cmap(shade), lw=1.3,
                                            label=layers[i])[0] for i, shade in zip(self.layer_index, shades)]
        self.grad_hist_lines = [self.ax_grad.plot([], [], drawstyle="steps-mid", color=cmap(shade), lw=1.3,
                                                  label=layers[i])[0] for i, shade in zip(self.layer_index, shades)]
        shades = np.linspace(0.0, 0.9, max(len(self.weight_index), 1))
        self.ratio_lines = [self.ax_ratio.plot([], [], color=cmap(shade), lw=1.2, label=weights[i])[0]
                            for i, shade in zip(self.weight_index, shades)]
        # the titles name the layers (a legend in each panel costs a fifth of a redraw)
        shown = ", ".join(str(int(i) + 1) for i in self.layer_index)
        self.ax_act.set_title(f"Activation histograms (latest)\nlayers {shown}, dark to light", fontsize=10)
        self.ax_grad.set_title(f"Gradient magnitudes (latest)\nlayers {shown}, dark to light", fontsize=10)
        if self.ax_ratio is not None:
            if self.ax_ratio.get_legend() is not None:
                self.ax_ratio.get_legend().remove()
            if self.ratio_lines:
                self.ax_ratio.legend(fontsize=7, loc="lower left")
        self._histogram_key = (layers, weights)

    # ------------------------------------------------------------------ drawing

    def render(self, history: History) -> "TrainingDashboard":
        """Draw ``history`` into the figure (no output is written; see the ``output`` argument)."""
        latest = history.records[-1] if history.records else None
        if latest is not None and self._histogram_key != (latest.layers, latest.weights):
            self._build_layer_artists(latest.layers, latest.weights)
        self._draw_layers(latest)
        if self.panels == "all":
            self._draw_curves(history)
            self._draw_ratios(history)
        self.draws += 1
        return self

    def _draw_curves(self, history: History) -> None:
        steps = np.arange(1, history.steps + 1)
        self.loss_line.set_data(*_finite_points(steps, history.smoothed_loss(10), log=True))
        self.train_loss_line.set_data(*_finite_points(history.epoch_steps, history.epoch_loss, log=True))
        self.val_loss_line.set_data(*_finite_points(history.epoch_steps[:len(history.val_loss)], history.val_loss,
                                                    log=True))
        accuracy = np.asarray(history.accuracy, dtype=np.float64)
        smoothed = np.convolve(accuracy, np.ones(10) / 10, mode="valid") if accuracy.size >= 10 else accuracy
        self.acc_line.set_data(*_finite_points(steps[len(steps) - len(smoothed):], smoothed))
        self.train_acc_line.set_data(*_finite_points(history.epoch_steps[:len(history.epoch_accuracy)],
                                                     history.epoch_accuracy))
        self.val_acc_line.set_data(*_finite_points(history.epoch_steps[:len(history.val_accuracy)],
                                                   history.val_accuracy))
        if history.diverged_step is not None:
            self.note.set_text(f"diverged at step {history.diverged_step}:\nthe loss is no longer finite")
        else:
            self.note.set_text("" if history.steps else "not trained yet:\nthe panels show the network at initialisation")
        for ax in (self.ax_loss, self.ax_acc):
            ax.set_xlim(0, max(history.steps, 1) * 1.02)
        self.ax_loss.relim()
        self.ax_loss.autoscale_view(scalex=False)

    def _draw_layers(self, latest) -> None:
        if latest is None or not latest.layers:
            for line in (self.act_std_line, self.grad_norm_line, self.dead_line):
                line.set_data([], [])
            return
        index = np.arange(1, len(latest.layers) + 1)
        self.act_std_line.set_data(*_finite_points(index, latest.act_std, log=True))
        self.grad_norm_line.set_data(*_finite_points(index, latest.grad_norm, log=True))
        self.dead_line.set_data(*_finite_points(index, latest.dead))
        self.ax_layers.set_xlim(0.5, len(index) + 0.5)
        self.ax_layers.relim()
        self.ax_layers.autoscale_view(scalex=False)
        self._label_layer_axis()
        for lines, hist, edges, ax in ((self.hist_lines, latest.act_hist, ACTIVATION_BINS, self.ax_act),
                                       (self.grad_hist_lines, latest.grad_hist, GRADIENT_LOG_BINS, self.ax_grad)):
            top = 0.0
            for line, i in zip(lines, self.layer_index):
                counts = hist[i].astype(np.float64)
                share = counts / counts.sum() if counts.sum() > 0 else counts
                line.set_data(_bin_centres(edges), share)
                top = max(top, float(share.max()) if share.size else 0.0)
            ax.set_ylim(0.0, max(top * 1.1, 0.05))

    def _label_layer_axis(self) -> None:
        """Within two decades label 1 and 3 times each power of ten, beyond them the powers of ten only
        (LogLocator draws no such in-between ticks at all once it has to skip decades)."""
        low, high = self.ax_layers.get_ylim()
        self.ax_layers.yaxis.get_major_locator().set_params(subs=(1.0, 3.0) if high < 100 * low else (1.0,))

    def freeze_layout(self) -> None:
        """Lay the figure out once, for the widest tick labels it can show (1e-30 on the per-layer axis),
        and keep that layout and the axis labels' places: for a figure redrawn on every control change,
        where re-solving them would cost about as much as drawing the panels."""
        from dlcore.plots.figures import pin_axis_labels

        self.ax_layers.set_ylim(PLOT_FLOOR, PLOT_CEILING)
        self._label_layer_axis()
        self.fig.draw_without_rendering()
        self.fig.set_layout_engine("none")
        pin_axis_labels(self.fig)
        self.ax_layers.set_autoscaley_on(True)  # set_ylim turned it off; _draw_layers autoscales

    def _draw_ratios(self, history: History) -> None:
        trained = [r for r in history.records if np.any(np.isfinite(r.update_ratio))]
        steps = np.array([r.step + 1 for r in trained], dtype=np.float64)
        for line, i in zip(self.ratio_lines, self.weight_index):
            values = np.array([r.update_ratio[i] for r in trained], dtype=np.float64)
            line.set_data(*_finite_points(steps, values, log=True))
        self.ax_ratio.set_xlim(0, max(history.steps, 1) * 1.02)
        values = np.concatenate([line.get_ydata() for line in self.ratio_lines] or [np.zeros(0)])
        if values.size:  # otherwise keep the fixed initial range (autoscaling nothing on a log axis warns)
            self.ax_ratio.set_ylim(min(values.min(), 1e-4) / 2, max(values.max(), 1e-2) * 2)

    # ------------------------------------------------------------------ events and output

    def attach(self, events) -> None:
        """Subscribe to a training loop's EventBus (``Trainer.attach(dashboard)`` calls this)."""
        events.subscribe("train_start", self._on_start)
        events.subscribe("step_end", self._on_step)
        events.subscribe("epoch_end", self._on_epoch)
        events.subscribe("train_end", self._on_end)

    def _on_start(self, event) -> None:
        if self.output == "notebook" and self._handle is None:
            from IPython.display import display

            self.render(event.history)
            self._handle = display(self._png(), display_id=True)
        else:
            self._redraw(event.history)

    def _on_step(self, event) -> None:
        if event.recorded:
            self._maybe_redraw(event.history)

    def _on_epoch(self, event) -> None:
        self._maybe_redraw(event.history)

    def _on_end(self, event) -> None:
        self._redraw(event.history)

    def _maybe_redraw(self, history: History) -> None:
        # drawing at most ~20% of the time: wait at least 4 times as long as the last redraw took
        wait = max(self.min_interval_s, 4.0 * self._last_duration)
        if time.perf_counter() - self._last_draw >= wait:
            self._redraw(history)

    def _redraw(self, history: History) -> None:
        """Render and send to the output; the time both take sets the throttle."""
        start = time.perf_counter()
        self.render(history)
        self._send()
        self._last_draw = time.perf_counter()
        self._last_duration = self._last_draw - start

    def _png(self):
        """The figure as PNG bytes (an IPython Image in notebook mode), laid out afresh: tick labels change
        as training goes on. One render, lightly compressed: far cheaper than displaying the Figure."""
        from dlcore.plots.figures import figure_to_png

        self.fig.set_layout_engine("constrained")
        png = figure_to_png(self.fig)
        if self.output == "notebook":
            from IPython.display import Image

            return Image(png)
        return png

    def _send(self) -> None:
        if self.output == "notebook":
            if self._handle is not None:
                self._handle.update(self._png())
        elif self.output is not None:
            self.output.value = self._png()
