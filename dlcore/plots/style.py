"""One look for every figure in the course: size, dpi, fonts, colours."""

from __future__ import annotations

import matplotlib

COLORS = {
    "blue": "#1f77b4",
    "orange": "#ff7f0e",
    "green": "#2ca02c",
    "red": "#d62728",
    "purple": "#9467bd",
    "grey": "#7f7f7f",
}
# Two-class colours and a matching diverging colour map for decision regions.
CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")

COURSE_RC = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "image.cmap": "viridis",
    # The default font, so figures look the same on every machine.
    "font.family": "DejaVu Sans",
    # Fixed metadata keeps saved PNGs byte-identical between runs.
    "svg.hashsalt": "dlcore",
}


def use_course_style() -> None:
    """Apply the course's matplotlib settings (call once, in a notebook's first cell)."""
    matplotlib.rcParams.update(COURSE_RC)


def new_figure(ncols: int = 1, nrows: int = 1, width: float | None = None, height: float | None = None, **kwargs):
    """A figure that is not registered with pyplot (safe inside widgets).

    Returns ``(fig, axes)``. Widgets draw on figures made here and show them
    as PNG images, so they work in JupyterLab without any matplotlib extension.
    """
    from matplotlib.figure import Figure

    use_course_style()
    base_w, base_h = COURSE_RC["figure.figsize"]
    fig = Figure(figsize=(width or base_w * min(ncols, 2), height or base_h * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=True, **kwargs)
    return fig, axes
