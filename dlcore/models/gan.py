"""Generative adversarial networks in PyTorch: small MLPs, the two losses, the alternating loop (chapter 14).

The two MLPs, :func:`mlp_generator` and :func:`mlp_discriminator`, are built in :mod:`dlcore.models.mlp`.

A generator G maps noise z ~ N(0, I) to a sample x = G(z); a discriminator D
maps x to a logit a(x), with D(x) = σ(a(x)) its probability that x is real.
They play

    min_G max_D  V(D, G) = E_{x ~ p_data}[log D(x)] + E_{z}[log(1 - D(G(z)))].

Training alternates: ``d_steps`` gradient steps on D (ascend V, i.e. descend
the binary cross-entropy :func:`discriminator_loss`), then ``g_steps`` on G
(descend :func:`generator_loss`, minimax or non-saturating), each done by a
plain function (:func:`discriminator_step`, :func:`generator_step`) so that
chapter 14 can swap in the reader's own. :class:`Gan` holds both networks,
their optimizers and the data, and records a :class:`GanHistory`; the
explorer :mod:`dlcore.widgets.ganlab` drives it a few steps at a time. The
loop as one plain function, with a per-round history (the one chapter 14's
reader writes): :mod:`dlcore.models.gan_loop`. The same losses from scratch in
NumPy, with their gradients: :mod:`dlcore.scratch.gan_losses`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from dlcore.models.mlp import mlp_discriminator, mlp_generator  # the two networks; kept importable from here

__all__ = [
    "GENERATOR_LOSSES", "mlp_generator", "mlp_discriminator", "discriminator_loss", "generator_loss",
    "discriminator_step", "generator_step", "GanHistory", "Gan",
]

GENERATOR_LOSSES = ("non_saturating", "minimax")
DTYPES = (torch.float32, torch.float64)
Sampler = Callable[[int, np.random.Generator], np.ndarray]


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """L_D = -mean log D(x) - mean log(1 - D(G(z))) = mean softplus(-a_real) + mean softplus(a_fake).

    Minimising it maximises V(D, G) over D: binary cross-entropy with real
    labelled 1 and generated labelled 0. Logits of any shape (flattened).
    """
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """The generator's loss on D's logits for generated samples.

    - ``"minimax"`` (saturating): L_G = mean log(1 - D(G(z))) = -mean softplus(a), G's side of V itself.
      dL/da = -σ(a) per example: ~0 exactly when D confidently rejects the fakes, early in training.
    - ``"non_saturating"``: L_G = -mean log D(G(z)) = mean softplus(-a). Same fixed points
      (both push D(G(z)) up), but dL/da = -(1 - σ(a)) ≈ -1 where D(G(z)) ≈ 0.
    """
    if kind == "minimax":
        return -F.softplus(fake_logits).mean()
    if kind == "non_saturating":
        return F.softplus(-fake_logits).mean()
    raise ValueError(f"generator_loss: kind must be one of {GENERATOR_LOSSES}, got {kind!r}")


def discriminator_step(generator: nn.Module, discriminator: nn.Module, optimizer: torch.optim.Optimizer,
                       real: torch.Tensor, z: torch.Tensor) -> tuple[float, float, float]:
    """One optimizer step on D: real (N, D) examples labelled 1, generated G(z) labelled 0.

    G is frozen: its output is computed without a graph, so D's loss leaves no
    gradient in G. D's gradients are zeroed first (G's step leaves some there).

    Returns:
        (L_D, mean D(real), mean D(generated)) as floats.
    """
    with torch.no_grad():
        fake = generator(z)
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    loss = discriminator_loss(real_logits, fake_logits)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item(), torch.sigmoid(real_logits).mean().item(), torch.sigmoid(fake_logits).mean().item()


def generator_step(generator: nn.Module, discriminator: nn.Module, optimizer: torch.optim.Optimizer,
                   z: torch.Tensor, loss: str = "non_saturating") -> float:
    """One optimizer step on G through D: L_G on D's logits for G(z), backpropagated into G.

    D's parameters receive gradients too, but only G's ``optimizer`` steps; the
    next discriminator step zeroes them. Returns L_G as a float.
    """
    fake = generator(z)
    value = generator_loss(discriminator(fake), loss)
    optimizer.zero_grad()
    value.backward()
    optimizer.step()
    return value.item()


@dataclass
class GanHistory:
    """What :meth:`Gan.fit` records every ``record_every`` rounds (one list entry each).

    ``d_real`` and ``d_fake`` are mean D on a real and a generated batch;
    ``grad_norm`` the mean norm of the generator loss's gradient with respect
    to each generated sample, ‖∂ℓ_G/∂x‖ (what flows from D back into G).
    ``samples`` holds generated points at the recorded rounds if asked for.
    """

    rounds: list[int] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    samples: list[np.ndarray] = field(default_factory=list)

    def as_arrays(self) -> dict[str, np.ndarray]:
        return {name: np.asarray(getattr(self, name)) for name in ("rounds", "d_loss", "g_loss", "d_real",
                                                                   "d_fake", "grad_norm")}


class Gan:
    """A generator, a discriminator, their optimizers, the data, and the alternating loop.

    Args:
        data: either an (N, D) array of real examples (mini-batches drawn with
            replacement) or a sampler ``sampler(n, rng) -> (n, D)`` drawing fresh ones.
        generator, discriminator: modules mapping (n, latent_dim) -> (n, D) and (n, D) -> (n, 1).
        latent_dim: size of z.
        lr_d, lr_g: learning rates.
        optimizer: ``"adam"`` (betas (0.5, 0.999), as usual for GANs) or ``"sgd"`` (plain
            gradient descent: the step is proportional to the gradient, so a vanishing
            gradient shows as a stall; Adam rescales it away).
        batch_size: examples per step, for each side.
        loss: the generator loss, ``"non_saturating"`` or ``"minimax"``.
        seed: fixes the noise, the mini-batches and the sampler's draws.
        steps: the two step functions, ``(discriminator_step, generator_step)`` with the
            signatures of this module's :func:`discriminator_step` and :func:`generator_step`
            (default: those two); chapter 14 passes the reader's own.

    The real data and the noise are drawn in the networks' dtype (float32, or
    float64 for networks built with ``dtype=torch.float64``): in float64 a run's
    rounding noise, which differs between CPUs, is about 1e-16 instead of 1e-7.

    Raises:
        ValueError: for an unknown ``loss`` or ``optimizer``, or networks whose
            parameters are not all float32 or all float64.
    """

    def __init__(self, data: np.ndarray | Sampler, generator: nn.Module, discriminator: nn.Module, *,
                 latent_dim: int = 2, lr_d: float = 1e-3, lr_g: float = 1e-3, batch_size: int = 128,
                 loss: str = "non_saturating", optimizer: str = "adam", seed: int = 0,
                 steps: tuple[Callable[..., tuple[float, float, float]], Callable[..., float]] | None = None) -> None:
        if loss not in GENERATOR_LOSSES:
            raise ValueError(f"Gan: loss must be one of {GENERATOR_LOSSES}, got {loss!r}")
        dtypes = {p.dtype for p in [*generator.parameters(), *discriminator.parameters()]}
        if len(dtypes) != 1 or not dtypes <= set(DTYPES):
            raise ValueError(f"Gan: generator and discriminator must both be float32 or both float64, got "
                             f"{sorted(str(d) for d in dtypes)}; build them with the same dtype=")
        self.dtype = dtypes.pop()
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim, self.batch_size, self.loss = int(latent_dim), int(batch_size), loss
        if optimizer not in ("adam", "sgd"):
            raise ValueError(f"Gan: optimizer must be 'adam' or 'sgd', got {optimizer!r}")
        # fused Adam: one kernel per step instead of a dozen small ops per parameter (same update, faster)
        make = ((lambda params, lr: torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), fused=True))
                if optimizer == "adam" else (lambda params, lr: torch.optim.SGD(params, lr=lr)))
        self.opt_d = make(discriminator.parameters(), lr_d)
        self.opt_g = make(generator.parameters(), lr_g)
        self.torch_rng = torch.Generator().manual_seed(seed)
        self.numpy_rng = np.random.default_rng(seed)
        self.data = None if callable(data) else torch.as_tensor(np.asarray(data), dtype=self.dtype)
        self.sampler = data if callable(data) else None
        self.steps = (discriminator_step, generator_step) if steps is None else tuple(steps)
        self.d_steps_done = 0
        self.g_steps_done = 0
        self.rounds_done = 0

    # ---------------------------------------------------------------- sampling

    def sample_real(self, n: int | None = None) -> torch.Tensor:
        n = self.batch_size if n is None else int(n)
        if self.sampler is not None:
            return torch.as_tensor(self.sampler(n, self.numpy_rng), dtype=self.dtype)
        index = torch.randint(0, len(self.data), (n,), generator=self.torch_rng)
        return self.data[index]

    def sample_latent(self, n: int | None = None) -> torch.Tensor:
        n = self.batch_size if n is None else int(n)
        return torch.randn(n, self.latent_dim, generator=self.torch_rng, dtype=self.dtype)

    @torch.no_grad()
    def generate(self, z: torch.Tensor | int) -> np.ndarray:
        """Samples G(z) as a NumPy array, for a given z or for ``z`` fresh noise vectors."""
        z = self.sample_latent(z) if isinstance(z, int) else z
        return self.generator(z).numpy().astype(np.float64)

    def set_learning_rates(self, lr_d: float, lr_g: float) -> None:
        for group in self.opt_d.param_groups:
            group["lr"] = float(lr_d)
        for group in self.opt_g.param_groups:
            group["lr"] = float(lr_g)

    def snapshot(self) -> dict[str, dict]:
        """Copies of both networks' weights (e.g. to start several experiments from one state)."""
        return {"generator": copy.deepcopy(self.generator.state_dict()),
                "discriminator": copy.deepcopy(self.discriminator.state_dict())}

    def restore(self, snapshot: dict[str, dict]) -> None:
        """Load weights saved by :meth:`snapshot` (the optimizers' state is not touched)."""
        self.generator.load_state_dict(snapshot["generator"])
        self.discriminator.load_state_dict(snapshot["discriminator"])

    # ---------------------------------------------------------------- the two steps

    def discriminator_step(self) -> dict[str, float]:
        """One step on D with a real and a generated batch (G frozen), by the first of ``steps``."""
        real = self.sample_real()
        z = self.sample_latent()
        loss, d_real, d_fake = self.steps[0](self.generator, self.discriminator, self.opt_d, real, z)
        self.d_steps_done += 1
        return {"d_loss": float(loss), "d_real": float(d_real), "d_fake": float(d_fake)}

    def generator_step(self) -> dict[str, float]:
        """One step on G through D, by the second of ``steps``; also measures ‖∂ℓ_G/∂x‖ per sample."""
        z = self.sample_latent()
        outputs: list[torch.Tensor] = []

        def keep_gradient(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
            if output.requires_grad:  # G's forward pass with a graph: remember dℓ_G/dx of its samples
                output.retain_grad()
                outputs.append(output)

        handle = self.generator.register_forward_hook(keep_gradient)
        try:
            loss = self.steps[1](self.generator, self.discriminator, self.opt_g, z, self.loss)
        finally:
            handle.remove()
        self.g_steps_done += 1
        fake = outputs[-1] if outputs else None
        grad_norm = (float(fake.grad.norm(dim=1).mean()) * len(fake)  # per-sample loss, not the batch mean
                     if fake is not None and fake.grad is not None else float("nan"))
        return {"g_loss": float(loss), "grad_norm": grad_norm}

    def train_round(self, d_steps: int = 1, g_steps: int = 1) -> dict[str, float]:
        """``d_steps`` discriminator steps then ``g_steps`` generator steps; returns the last values."""
        values: dict[str, float] = {}
        for _ in range(int(d_steps)):
            values.update(self.discriminator_step())
        for _ in range(int(g_steps)):
            values.update(self.generator_step())
        self.discriminator.zero_grad(set_to_none=True)  # G's step left gradients in D; nobody should use them
        self.rounds_done += 1
        return values

    def fit(self, num_rounds: int, *, d_steps: int = 1, g_steps: int = 1, record_every: int = 10,
            keep_samples: int = 0, history: GanHistory | None = None) -> GanHistory:
        """Train ``num_rounds`` rounds, recording every ``record_every`` (and the last).

        ``keep_samples > 0`` also stores that many generated samples (a fixed z)
        at each record, for plots of the generator's progress.
        """
        history = GanHistory() if history is None else history
        fixed_z = self.sample_latent(keep_samples) if keep_samples else None
        for round_index in range(1, int(num_rounds) + 1):
            values = self.train_round(d_steps, g_steps)
            if round_index % record_every == 0 or round_index == num_rounds:
                history.rounds.append(self.rounds_done)
                for name in ("d_loss", "g_loss", "d_real", "d_fake", "grad_norm"):
                    getattr(history, name).append(values.get(name, float("nan")))
                if fixed_z is not None:
                    history.samples.append(self.generate(fixed_z))
        return history
