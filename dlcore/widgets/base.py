"""What every explorer shares: a figure rendered into an image widget, and display."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["Explorer"]


class Explorer:
    """Base class: subclasses build ``self.controls`` and implement ``compute()`` and ``draw()``.

    The cycle on every control change is ``state = compute()`` (pure logic,
    testable without looking at pixels) then ``draw(state)`` on the figure,
    then the figure becomes the PNG in ``self.image``. Controls are observed
    with :meth:`watch`. The figure is made once and its artists reused, so a
    callback stays well under 100 ms.

    Encoding the PNG is most of an update's time (about 80 of 83 ms for a typical explorer). Tests that
    sweep many settings and check only ``state`` and the drawn artists can skip it with
    ``with explorer.without_png(): ...``; the image is then refreshed once on leaving the block.
    """

    encode_png = True  # per instance: False while inside without_png()

    def __init__(self, fig, controls: list, extra: list | None = None) -> None:
        import ipywidgets as widgets

        self.fig = fig
        # align_self: in the VBox a narrow figure would otherwise be stretched to the cell's width
        # (and look blurred); max_width lets a wide one shrink to fit.
        self.image = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start", max_width="100%"))
        self.summary = widgets.HTML()
        self.controls = controls
        self.widget = widgets.VBox(
            [widgets.HBox(controls, layout=widgets.Layout(flex_flow="row wrap")), self.image, self.summary]
            + list(extra or [])
        )
        self.state: Any = None
        self.renders = 0

    def watch(self, *controls) -> None:
        for control in controls:
            control.observe(self.update, names="value")

    def compute(self) -> Any:
        raise NotImplementedError

    def draw(self, state: Any) -> None:
        raise NotImplementedError

    def describe(self, state: Any) -> str:
        """HTML shown under the figure; override to explain what the learner sees."""
        return ""

    def update(self, change: Any = None) -> None:
        from dlcore.plots.figures import figure_to_png

        self.state = self.compute()
        self.draw(self.state)
        if self.encode_png:
            self.image.value = figure_to_png(self.fig)
        self.summary.value = self.describe(self.state)
        self.renders += 1

    @contextmanager
    def without_png(self) -> Iterator["Explorer"]:
        """Compute and draw on every change but skip the PNG encoding; re-encode once at the end."""
        from dlcore.plots.figures import figure_to_png

        self.encode_png = False
        try:
            yield self
        finally:
            self.encode_png = True
            self.image.value = figure_to_png(self.fig)

    def _repr_mimebundle_(self, **kwargs):
        """The live widget for JupyterLab, plus a still image and a short text for
        anything that cannot run it (a static viewer, a saved notebook, nbval)."""
        import base64

        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        if self.image.value:
            bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        bundle["text/plain"] = f"{type(self).__name__}: interactive in JupyterLab (run the cell); the image shows its current state."
        return bundle
