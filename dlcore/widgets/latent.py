"""LatentExplorer: walk a 2-D latent space and watch the decoder draw (chapter 13).

Two sliders choose a point z = (z1, z2); the decoder turns it into an image. Two
dropdowns choose two digits and a third slider t interpolates between their codes,
z(t) = (1 - t) z_a + t z_b, decoding every point on the way; the "space" dropdown
switches to interpolating the pixels instead, (1 - t) x_a + t x_b, for comparison.

The model is any object with ``encode(x)`` (returning codes, or (mu, logvar) as a VAE
does) and ``decode(z)`` (returning pixel values in [0, 1]) over a 2-D latent space; by
default :func:`dlcore.models.digits_vae.default_vae` trains a small VAE on the 8x8 digits
when the explorer is made (about a second of CPU time, a fixed number of epochs).
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch

from dlcore.models.autoencoders import encode_means
from dlcore.models.digits_vae import default_vae
from dlcore.widgets.base import Explorer

__all__ = ["LatentExplorer", "LatentState"]

SCATTER_POINTS = 600  # training codes drawn in the latent plot


def _decode(model, z: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model.decode(torch.as_tensor(np.asarray(z, dtype=np.float32)[None, :]))[0].numpy()


@dataclass(frozen=True)
class LatentState:
    """One setting of the controls and what the decoder makes of it."""

    z: np.ndarray  # (2,) the slider point
    image: np.ndarray  # (H, W) decoded at z
    start_code: np.ndarray  # (2,)
    end_code: np.ndarray  # (2,)
    t: float
    space: str  # "latent" or "pixels"
    path_point: np.ndarray  # (2,) z(t) (for "pixels", where the blended image encodes to)
    blend: np.ndarray  # (H, W) the interpolated image
    nearest_label: int  # the class of the training code nearest to z
    nearest_distance: float


class LatentExplorer(Explorer):
    """Sliders for a 2-D latent point, and an interpolation between two digits, decoded live."""

    def __init__(self, model=None, images: np.ndarray | None = None, labels: np.ndarray | None = None, *,
                 rng: np.random.Generator | None = None, start: int = 0, end: int = 7) -> None:
        from dlcore.plots.style import new_figure

        if model is None:
            model, images, labels = default_vae(rng)
        elif images is None or labels is None:
            raise ValueError("LatentExplorer: pass images (N, D) and labels (N,) with a model")
        self.model = model
        self.images = np.asarray(images, dtype=np.float64).reshape(len(images), -1)  # (N, D)
        self.labels = np.asarray(labels)
        side = int(round(np.sqrt(self.images.shape[1])))
        if side * side != self.images.shape[1]:
            raise ValueError(f"LatentExplorer: images must be square, got {self.images.shape[1]} pixels")
        self.side = side
        self.codes = encode_means(model, self.images)  # (N, 2)
        if self.codes.shape[1] != 2:
            raise ValueError(f"LatentExplorer: the model's latent space must be 2-D, got {self.codes.shape[1]}-D")
        # one representative per class: the example whose code is nearest its class's median code
        self.examples: dict[int, int] = {}
        for digit in np.unique(self.labels):
            members = np.flatnonzero(self.labels == digit)
            centre = np.median(self.codes[members], axis=0)
            self.examples[int(digit)] = int(members[np.argmin(np.linalg.norm(self.codes[members] - centre, axis=1))])
        limit = float(max(3.0, np.ceil(np.abs(self.codes).max())))
        style = {"description_width": "initial"}
        self.z1 = widgets.FloatSlider(value=0.0, min=-limit, max=limit, step=0.1, description="z1", style=style)
        self.z2 = widgets.FloatSlider(value=0.0, min=-limit, max=limit, step=0.1, description="z2", style=style)
        options = [(f"digit {d}", d) for d in self.examples]
        classes = list(self.examples)
        start = start if start in self.examples else classes[0]
        end = end if end in self.examples else classes[-1]
        self.start = widgets.Dropdown(options=options, value=start, description="from", style=style)
        self.end = widgets.Dropdown(options=options, value=end, description="to", style=style)
        self.t = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="t", style=style)
        self.space = widgets.Dropdown(options=[("latent codes", "latent"), ("pixels", "pixels")], value="latent",
                                      description="interpolate", style=style)
        self.fig, (self.ax_latent, self.ax_point, self.ax_blend) = new_figure(3, 1, width=9.0, height=3.2)
        self.fig.set_dpi(72)
        self._build_artists(limit)
        controls = [self.z1, self.z2, self.start, self.end, self.t, self.space]
        super().__init__(self.fig, controls)
        self.watch(*controls)
        self.update()

    def _build_artists(self, limit: float) -> None:
        shown = np.linspace(0, len(self.codes) - 1, min(SCATTER_POINTS, len(self.codes))).astype(int)
        self.ax_latent.scatter(*self.codes[shown].T, c=self.labels[shown], cmap="tab10", vmin=-0.5, vmax=9.5, s=6,
                               alpha=0.6)
        self.ax_latent.set(xlim=(-limit, limit), ylim=(-limit, limit), xlabel="$z_1$", ylabel="$z_2$",
                           title="Codes of the digits (colour = class)")
        (self.path_line,) = self.ax_latent.plot([], [], color="black", lw=1.2)
        (self.path_marker,) = self.ax_latent.plot([], [], "o", color="black", ms=6, mfc="white")
        (self.point_marker,) = self.ax_latent.plot([], [], "X", color="red", ms=10)
        blank = np.zeros((self.side, self.side))
        self.point_image = self.ax_point.imshow(blank, cmap="gray_r", vmin=0, vmax=1)
        self.blend_image = self.ax_blend.imshow(blank, cmap="gray_r", vmin=0, vmax=1)
        for ax in (self.ax_point, self.ax_blend):
            ax.set(xticks=[], yticks=[], xlabel="pixel column", ylabel="pixel row")
            ax.grid(False)

    def compute(self) -> LatentState:
        z = np.array([self.z1.value, self.z2.value], dtype=np.float64)
        a, b = self.examples[self.start.value], self.examples[self.end.value]
        t = float(np.clip(self.t.value, 0.0, 1.0))
        start_code, end_code = self.codes[a], self.codes[b]
        if self.space.value == "latent":
            path_point = (1 - t) * start_code + t * end_code
            blend = _decode(self.model, path_point)
        else:
            blend = (1 - t) * self.images[a] + t * self.images[b]
            path_point = encode_means(self.model, blend[None, :])[0]
        distances = np.linalg.norm(self.codes - z, axis=1)
        nearest = int(np.argmin(distances))
        return LatentState(z, _decode(self.model, z).reshape(self.side, self.side), start_code, end_code, t,
                           self.space.value, path_point, np.clip(blend, 0, 1).reshape(self.side, self.side),
                           int(self.labels[nearest]), float(distances[nearest]))

    def draw(self, state: LatentState) -> None:
        self.point_marker.set_data([state.z[0]], [state.z[1]])
        self.path_line.set_data([state.start_code[0], state.end_code[0]], [state.start_code[1], state.end_code[1]])
        self.path_marker.set_data([state.path_point[0]], [state.path_point[1]])
        self.point_image.set_data(state.image)
        self.ax_point.set_title(f"Decoded at z = ({state.z[0]:.1f}, {state.z[1]:.1f})")
        self.blend_image.set_data(state.blend)
        where = "decoded z(t)" if state.space == "latent" else "pixel blend"
        self.ax_blend.set_title(f"{where}, t = {state.t:.2f}")

    def describe(self, state: LatentState) -> str:
        return (f"The red cross is z = ({state.z[0]:.1f}, {state.z[1]:.1f}); the nearest training code is a "
                f"<b>{state.nearest_label}</b> at distance {state.nearest_distance:.2f}. The white dot is the "
                f"interpolation point at t = {state.t:.2f} "
                + ("in latent space: every point on the line decodes to a digit-like image."
                   if state.space == "latent" else
                   "of the pixel blend, encoded: a cross-fade of two digits is not a digit, and its code "
                   "lands where the encoder puts such images."))
