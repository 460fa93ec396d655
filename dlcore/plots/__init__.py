"""The course's figures: one style and a few helpers (matplotlib, imported lazily).

``import dlcore`` does not import this package; notebooks do, once they plot.
"""

from dlcore.plots.figures import (
    LiveLossPlot,
    figure_to_png,
    plot_decision_boundary,
    plot_function_and_derivative,
)
from dlcore.plots.style import CLASS_COLORS, COLORS, new_figure, use_course_style

__all__ = [
    "CLASS_COLORS", "COLORS", "LiveLossPlot", "figure_to_png", "new_figure",
    "plot_decision_boundary", "plot_function_and_derivative", "use_course_style",
]
