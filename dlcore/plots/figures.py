"""Plot helpers shared by the chapters.

Every helper draws on an Axes you pass (or makes one), titles it and labels
its axes: a figure without labels is a figure nobody can read.
"""

from __future__ import annotations

import io
from typing import Callable

import numpy as np

from dlcore.plots.style import CLASS_COLORS, COLORS, new_figure, use_course_style

__all__ = ["plot_decision_boundary", "plot_function_and_derivative", "LiveLossPlot", "figure_to_png",
           "pin_axis_labels"]


def figure_to_png(fig) -> bytes:
    """Render a figure to PNG bytes (for ``ipywidgets.Image``), without pyplot.

    Made for widgets, which redraw on every slider move: it draws on the Agg
    canvas and compresses lightly (a PNG a little larger, several times faster
    than ``savefig``). After the first render the layout computed by the
    layout engine is frozen, so later redraws skip that costly step. Text is
    drawn without font hinting: it looks the same at this size, and text is
    most of a redraw's time (hinting makes a redraw about a fifth slower). An
    opaque figure is saved without its alpha channel (a fifth less to compress).
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    with matplotlib.rc_context({"text.hinting": "no_hinting"}):
        canvas.draw()
    if fig.get_layout_engine() is not None:
        fig.set_layout_engine("none")  # positions stay where the engine put them
    width, height = canvas.get_width_height(physical=True)
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    if fig.patch.get_visible() and fig.patch.get_facecolor()[3] == 1.0:  # every pixel is opaque
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def pin_axis_labels(fig, which: str = "xy") -> None:
    """Keep every axis label where the last render put it (for widgets that redraw often).

    Matplotlib otherwise measures every tick label again on each draw to place
    the axis labels. Call it after drawing the figure with the widest tick
    labels it will show (and with its layout frozen): narrower labels later
    leave a gap, wider ones would run into the axis label. ``which="x"`` pins
    only the x labels (x tick labels keep their height whatever they say).
    """
    for ax in fig.axes:
        for axis in [axis for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)) if name in which]:
            label = axis.label
            if label.get_visible() and label.get_text():
                display = label.get_transform().transform(label.get_position())  # pixels
                axis.set_label_coords(*ax.transAxes.inverted().transform(display))  # axes fraction


def _grid(X: np.ndarray, resolution: int, margin: float):
    x_min, y_min = X.min(axis=0) - margin
    x_max, y_max = X.max(axis=0) + margin
    xs = np.linspace(x_min, x_max, resolution)
    ys = np.linspace(y_min, y_max, resolution)
    xx, yy = np.meshgrid(xs, ys)
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])  # grid points: (resolution**2, 2)


def plot_decision_boundary(
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    ax=None,
    title: str = "Decision regions",
    resolution: int = 200,
    margin: float = 0.5,
    xlabel: str = "$x_1$",
    ylabel: str = "$x_2$",
):
    """Shade the plane by ``predict`` and scatter the labelled points.

    Args:
        predict: maps (P, 2) points to (P,) class labels or (P,) scores in [0, 1]
            (scores are shaded continuously, with the 0.5 contour drawn).
        X: (N, 2) points; y: (N,) integer labels.

    Returns:
        The Axes.
    """
    from matplotlib.colors import ListedColormap

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (N, 2), got {X.shape}")
    if y.shape != (len(X),):
        raise ValueError(f"plot_decision_boundary: y must have shape ({len(X)},), got {y.shape}")
    if ax is None:
        _, ax = new_figure()
    xx, yy, points = _grid(X, resolution, margin)
    values = np.asarray(predict(points), dtype=np.float64).reshape(xx.shape)  # (res, res)
    classes = np.unique(y)
    is_score = not np.allclose(values, np.round(values)) and values.min() >= 0 and values.max() <= 1
    if is_score:
        ax.contourf(xx, yy, values, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35, vmin=0, vmax=1)
        ax.contour(xx, yy, values, levels=[0.5], colors="k", linewidths=1)
    else:
        n = max(int(values.max()) + 1, len(classes))
        cmap = ListedColormap(CLASS_COLORS[:n])
        ax.contourf(xx, yy, values, levels=np.arange(-0.5, n), cmap=cmap, alpha=0.25)
    for k in classes:
        members = y == k
        ax.scatter(X[members, 0], X[members, 1], s=22, color=CLASS_COLORS[int(k) % len(CLASS_COLORS)],
                   edgecolor="k", linewidth=0.4, label=f"class {k}")
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper right", fontsize=8)
    return ax


def plot_function_and_derivative(name: str, x: np.ndarray | None = None, axes=None, **params):
    """Plot an activation from :data:`dlcore.scratch.ACTIVATIONS` beside its derivative.

    Returns the two Axes (function, derivative).
    """
    from dlcore.scratch.activations import get_activation

    spec = get_activation(name)
    x = np.linspace(-5, 5, 401) if x is None else np.asarray(x, dtype=np.float64)
    out = spec.function(x, **params)
    slope = spec.derivative(x, out, **params)
    if axes is None:
        _, axes = new_figure(ncols=2)
    left, right = axes
    left.plot(x, out, color=COLORS["blue"])
    left.set_title(f"{name}: $f(x) = {spec.formula}$")
    left.set_xlabel("$x$")
    left.set_ylabel("$f(x)$")
    right.plot(x, slope, color=COLORS["orange"])
    right.set_title(f"{name}: derivative $f'(x)$")
    right.set_xlabel("$x$")
    right.set_ylabel("$f'(x)$")
    return left, right


class LiveLossPlot:
    """A loss curve that redraws in place while a loop runs.

    The figure is shown once with a display handle and updated through it
    (no ``clear_output``, so the notebook does not flicker and its saved
    output is just the final figure)::

        plot = LiveLossPlot(title="Training loss")
        for epoch in range(100):
            ...
            plot.add(epoch, loss=loss, test_loss=test_loss)
        plot.close()

    Only every ``redraw_every``-th call redraws; ``close()`` draws the last state.
    """

    def __init__(self, title: str = "Loss", xlabel: str = "epoch", ylabel: str = "loss",
                 log_y: bool = False, redraw_every: int = 10, display: bool = True) -> None:
        use_course_style()
        self.fig, self.ax = new_figure()
        self.title, self.xlabel, self.ylabel, self.log_y = title, xlabel, ylabel, log_y
        self.redraw_every = max(1, int(redraw_every))
        self.history: dict[str, list[tuple[float, float]]] = {}
        self._calls = 0
        self._handle = None
        if display:
            from IPython.display import display as ipy_display

            self._draw()
            self._handle = ipy_display(self.fig, display_id=True)

    def add(self, step: float, **values: float) -> None:
        """Record one point per named series, e.g. ``add(3, loss=0.2, test_loss=0.3)``."""
        for name, value in values.items():
            self.history.setdefault(name, []).append((float(step), float(value)))
        self._calls += 1
        if self._calls % self.redraw_every == 0:
            self.refresh()

    def _draw(self) -> None:
        self.ax.clear()
        for name, points in self.history.items():
            steps, values = zip(*points)
            self.ax.plot(steps, values, label=name)
        if self.log_y and self.history:
            self.ax.set_yscale("log")
        self.ax.set_title(self.title)
        self.ax.set_xlabel(self.xlabel)
        self.ax.set_ylabel(self.ylabel)
        if self.history:
            self.ax.legend()

    def refresh(self) -> None:
        self._draw()
        if self._handle is not None:
            self._handle.update(self.fig)

    def close(self) -> None:
        """Draw the final state."""
        self.refresh()
