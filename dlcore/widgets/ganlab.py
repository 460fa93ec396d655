"""GanLabExplorer: a GAN on 2-D data, stepped by hand or played, in the spirit of GAN Lab (chapter 14).

The plane shows the real samples (blue), the generated ones (orange), the
discriminator's probability D(x) as a heat map (red: "real", grey: "fake")
and, on generated points, arrows along -∂ℓ_G/∂x: where the generator's loss
pushes each sample. "step D" and "step G" train one side on its own; "play"
alternates rounds of ``D steps`` then ``G steps`` a bounded amount per tick,
so every callback stays short. Changing the target distribution starts over;
the loss and the learning rates apply from the next step on. ``steps`` and
``coverage`` let chapter 14 run the explorer on the reader's own training steps
and mode-coverage function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import ipywidgets as widgets
import numpy as np
import torch

from dlcore.data.toy2d import TOY_DISTRIBUTIONS, sample_toy, toy_centers, toy_mode_std
from dlcore.models.gan import Gan, mlp_discriminator, mlp_generator
from dlcore.models.gan_diagnostics import discriminator_field, generator_gradients, mode_coverage
from dlcore.widgets.base import Explorer

__all__ = ["GanLabExplorer", "GanLabState", "LOSS_CHOICES"]

LOSS_CHOICES = [("non-saturating  -log D(G(z))", "non_saturating"), ("minimax  log(1 - D(G(z)))", "minimax")]
LIMIT = 3.0          # the plane shown is [-LIMIT, LIMIT]²
RESOLUTION = 36      # heat-map cells per side
NUM_SHOWN = 256      # real and generated points drawn
NUM_ARROWS = 48      # generated points that carry an arrow
ARROW_SCALE = 1.0    # arrow = ARROW_SCALE * (-∂ℓ_G/∂x), capped at MAX_ARROW
MAX_ARROW = 0.6
STEPS_PER_TICK = 10  # optimizer steps per "play" tick: bounded work per callback
HIDDEN = 64


@dataclass(frozen=True)
class GanLabState:
    """What the figure shows after the last action."""

    distribution: str
    loss: str
    d_steps_done: int
    g_steps_done: int
    real: np.ndarray        # (NUM_SHOWN, 2)
    fake: np.ndarray        # (NUM_SHOWN, 2), finite rows only
    field: np.ndarray       # (RESOLUTION, RESOLUTION) D(x) in [0, 1]
    arrows: np.ndarray      # (NUM_ARROWS, 4): x, y, u, v
    d_real: float
    d_fake: float
    mean_push: float        # mean ‖∂ℓ_G/∂x‖ on the arrowed points
    modes_covered: int | None
    num_modes: int | None
    diverged: bool


class GanLabExplorer(Explorer):
    """Train a small GAN on a 2-D distribution one step, or one tick, at a time."""

    def __init__(self, distribution: str = "ring", loss: str = "non_saturating", lr_d: float = 2e-3,
                 lr_g: float = 2e-3, d_steps: int = 1, g_steps: int = 1, seed: int = 0,
                 steps: tuple[Callable, Callable] | None = None, coverage: Callable | None = None) -> None:
        """``steps``: (discriminator_step, generator_step) as for :class:`Gan` (default: the course's);
        ``coverage(samples, centers, std) -> (counts, modes covered, high-quality share)`` (default: the course's)."""
        style = {"description_width": "initial"}
        self.distribution = widgets.Dropdown(options=list(TOY_DISTRIBUTIONS), value=distribution,
                                             description="target", style=style)
        self.loss = widgets.Dropdown(options=LOSS_CHOICES, value=loss, description="G loss", style=style)
        self.lr_d = widgets.FloatLogSlider(value=lr_d, base=10, min=-4, max=-1, step=0.25,
                                           description="D learning rate", readout_format=".1e", style=style)
        self.lr_g = widgets.FloatLogSlider(value=lr_g, base=10, min=-4, max=-1, step=0.25,
                                           description="G learning rate", readout_format=".1e", style=style)
        self.d_steps = widgets.IntSlider(value=d_steps, min=0, max=10, description="D steps per round", style=style)
        self.g_steps = widgets.IntSlider(value=g_steps, min=0, max=10, description="G steps per round", style=style)
        self.play = widgets.Play(value=0, min=0, max=100_000, step=1, interval=250, description="play",
                                 show_repeat=False)
        self.step_d_button = widgets.Button(description="step D", tooltip="D steps per round discriminator steps")
        self.step_g_button = widgets.Button(description="step G", tooltip="G steps per round generator steps")
        self.reset_button = widgets.Button(description="reset", icon="refresh")
        self.seed = int(seed)
        self.steps, self.coverage = steps, coverage
        self._reset()
        fig = self._build_figure()
        controls = [self.distribution, self.loss, self.lr_d, self.lr_g, self.d_steps, self.g_steps, self.play,
                    self.step_d_button, self.step_g_button, self.reset_button]
        super().__init__(fig, controls)
        self.distribution.observe(self._on_reset, names="value")
        self.loss.observe(self._on_loss, names="value")
        self.lr_d.observe(self._on_learning_rate, names="value")
        self.lr_g.observe(self._on_learning_rate, names="value")
        self.watch(self.d_steps, self.g_steps)
        self.play.observe(self.tick, names="value")
        self.step_d_button.on_click(self.step_discriminator)
        self.step_g_button.on_click(self.step_generator)
        self.reset_button.on_click(self._on_reset)
        self.update()

    # ------------------------------------------------------------------ training

    def _reset(self) -> None:
        torch.manual_seed(self.seed)  # the networks' initial weights
        name = self.distribution.value
        self.gan = Gan(lambda n, rng: sample_toy(name, n, rng), mlp_generator(2, 2, HIDDEN),
                       mlp_discriminator(2, HIDDEN), latent_dim=2, lr_d=float(self.lr_d.value),
                       lr_g=float(self.lr_g.value), loss=self.loss.value, seed=self.seed, steps=self.steps)
        self.shown_real = sample_toy(name, NUM_SHOWN, self.seed + 1)
        self.shown_z = self.gan.sample_latent(NUM_SHOWN)

    def _on_reset(self, _change=None) -> None:
        self._reset()
        self.update()

    def _on_loss(self, _change=None) -> None:
        self.gan.loss = self.loss.value
        self.update()

    def _on_learning_rate(self, _change=None) -> None:
        self.gan.set_learning_rates(self.lr_d.value, self.lr_g.value)
        self.update()

    def step_discriminator(self, _button=None) -> None:
        """Train D alone for ``D steps per round`` steps (at least one)."""
        for _ in range(max(1, int(self.d_steps.value))):
            self.gan.discriminator_step()
        self.update()

    def step_generator(self, _button=None) -> None:
        """Train G alone for ``G steps per round`` steps (at least one)."""
        for _ in range(max(1, int(self.g_steps.value))):
            self.gan.generator_step()
        self.update()

    def tick(self, _change=None) -> None:
        """One "play" tick: whole rounds of D then G steps, at most about STEPS_PER_TICK steps in all."""
        per_round = int(self.d_steps.value) + int(self.g_steps.value)
        if per_round > 0:
            for _ in range(max(1, STEPS_PER_TICK // per_round)):
                self.gan.train_round(self.d_steps.value, self.g_steps.value)
        self.update()

    # ------------------------------------------------------------------ state and figure

    def compute(self) -> GanLabState:
        gan = self.gan
        with torch.no_grad():
            fake = gan.generator(self.shown_z).numpy().astype(np.float64)
            d_real = torch.sigmoid(gan.discriminator(torch.as_tensor(self.shown_real, dtype=torch.float32))).mean()
        finite = np.all(np.isfinite(fake), axis=1)
        fake = fake[finite]
        field = np.nan_to_num(discriminator_field(gan.discriminator, (-LIMIT, LIMIT), (-LIMIT, LIMIT), RESOLUTION),
                              nan=0.5)
        points = fake[:NUM_ARROWS]
        push = (np.nan_to_num(generator_gradients(gan.discriminator, points, gan.loss)) if len(points)
                else np.zeros((0, 2)))
        norm = np.linalg.norm(push, axis=1, keepdims=True)
        arrow = ARROW_SCALE * push * np.minimum(1.0, MAX_ARROW / np.maximum(ARROW_SCALE * norm, 1e-12))
        d_fake = float(np.mean(self._probability(fake))) if len(fake) else 0.0
        centers = toy_centers(self.distribution.value)
        covered = None if centers is None else self._modes_covered(fake, centers, toy_mode_std(self.distribution.value))
        return GanLabState(self.distribution.value, gan.loss, gan.d_steps_done, gan.g_steps_done, self.shown_real,
                           fake, field, np.hstack([points, arrow]), float(np.nan_to_num(float(d_real), nan=0.5)),
                           d_fake, float(norm.mean()) if len(norm) else 0.0,
                           covered, None if centers is None else len(centers), not bool(finite.all()))

    def _modes_covered(self, fake: np.ndarray, centers: np.ndarray, std: float) -> int:
        if self.coverage is None:
            return mode_coverage(fake, centers, std).modes_covered
        return int(self.coverage(fake, centers, std)[1])

    def _probability(self, points: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            logits = self.gan.discriminator(torch.as_tensor(points, dtype=torch.float32))
        return np.nan_to_num(torch.sigmoid(logits).numpy().ravel(), nan=0.5)

    def _build_figure(self):
        from dlcore.plots.style import COLORS, new_figure

        fig, ax = new_figure(width=4.2, height=4.4)  # no colour bar: it would cost a quarter of each redraw
        fig.set_dpi(72)
        self.ax = ax
        extent = (-LIMIT, LIMIT, -LIMIT, LIMIT)
        self.heat = ax.imshow(np.full((RESOLUTION, RESOLUTION), 0.5), origin="lower", extent=extent, cmap="RdGy_r",
                              vmin=0.0, vmax=1.0, alpha=0.55, interpolation="bilinear")
        empty = np.zeros((0, 2))
        self.real_points = ax.scatter(empty[:, 0], empty[:, 1], s=6, color=COLORS["blue"], label="real")
        self.fake_points = ax.scatter(empty[:, 0], empty[:, 1], s=6, color=COLORS["orange"], label="generated")
        zeros = np.zeros(NUM_ARROWS)
        self.quiver = ax.quiver(zeros, zeros, zeros, zeros, angles="xy", scale_units="xy", scale=1.0,
                                color=COLORS["purple"], width=0.006)
        ax.set(xlim=(-LIMIT, LIMIT), ylim=(-LIMIT, LIMIT), xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
        ax.legend(loc="upper left", fontsize=8, markerscale=2)
        return fig

    def draw(self, state: GanLabState) -> None:
        self.heat.set_data(state.field)
        self.real_points.set_offsets(state.real)
        self.fake_points.set_offsets(state.fake if len(state.fake) else np.zeros((0, 2)))
        arrows = np.zeros((NUM_ARROWS, 4))
        arrows[:len(state.arrows)] = state.arrows
        self.quiver.set_offsets(arrows[:, :2])
        self.quiver.set_UVC(arrows[:, 2], arrows[:, 3])
        self.ax.set_title(f"{state.distribution}: {state.d_steps_done} D steps, {state.g_steps_done} G steps")

    def describe(self, state: GanLabState) -> str:
        loss = dict((value, label) for label, value in LOSS_CHOICES)[state.loss]
        lines = ["Background: D(x), the discriminator's probability that x is real (red 1, white 0.5, grey 0).",
                 f"Generator loss <b>{loss}</b>; learning rates D {self.lr_d.value:.1e}, G {self.lr_g.value:.1e}; "
                 f"a round is {self.d_steps.value} D step(s) then {self.g_steps.value} G step(s).",
                 f"Mean D on real points {state.d_real:.2f}, on generated points {state.d_fake:.2f} "
                 f"(at equilibrium both 0.50). Mean push ‖∂ℓ_G/∂x‖ on generated points: {state.mean_push:.3f}."]
        if state.num_modes is not None:
            lines.append(f"Modes covered: <b>{state.modes_covered} of {state.num_modes}</b>.")
        if state.diverged:
            lines.append("<b>Some generated points are no longer finite numbers: training diverged; lower the "
                         "learning rates and press reset.</b>")
        return "<br>".join(lines)
