"""The GAN training loop as one plain function over a :class:`~dlcore.models.gan.Gan` (chapter 14).

:func:`train_gan` runs rounds of ``d_steps`` discriminator steps then
``g_steps`` generator steps with the two step functions the ``Gan`` holds
(``gan.steps``), and returns a history: one entry per round for the two losses
and the discriminator's mean outputs, and, every ``record_every`` rounds, the
samples of a fixed batch of latent vectors and (given a counter) the number of
modes they cover. It draws its random numbers in the same order as
:meth:`Gan.fit`, so the two train a seeded ``Gan`` identically; chapter 14's
reader writes this loop, and the chapter's experiments run on theirs.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlcore.models.gan import Gan

__all__ = ["HISTORY_KEYS", "train_gan"]

HISTORY_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "rounds", "samples", "modes_covered")


def train_gan(gan: Gan, num_rounds: int, d_steps: int = 1, g_steps: int = 1, record_every: int = 50,
              num_samples: int = 1000, count_modes: Callable[[np.ndarray], int] | None = None) -> dict[str, list[Any]]:
    """Train ``gan`` for ``num_rounds`` rounds of ``d_steps`` D steps then ``g_steps`` G steps.

    Every discriminator step gets a fresh real batch and fresh noise, every
    generator step fresh noise; the fixed latent batch for the records is
    drawn once, before the first round.

    Args:
        gan: the networks, optimizers, samplers, generator loss and step functions.
        record_every: record the samples (and modes covered) after rounds
            record_every, 2 * record_every, ...
        num_samples: size of the fixed latent batch whose samples are recorded.
        count_modes: ``count_modes(samples) -> int``, or None for no mode count.

    Returns:
        dict with "d_loss", "g_loss", "d_real", "d_fake" (one float per round: the
        values returned by the round's last D step and last G step), "rounds" (the
        recorded rounds), "samples" ((num_samples, D) arrays) and "modes_covered" (ints).
    """
    discriminator_step, generator_step = gan.steps
    history: dict[str, list[Any]] = {key: [] for key in HISTORY_KEYS}
    fixed_z = gan.sample_latent(num_samples)
    for round_number in range(1, int(num_rounds) + 1):
        for _ in range(int(d_steps)):
            real_batch, d_noise = gan.sample_real(), gan.sample_latent()
            d_loss, d_real, d_fake = discriminator_step(gan.generator, gan.discriminator, gan.opt_d,
                                                        real_batch, d_noise)
        for _ in range(int(g_steps)):
            g_noise = gan.sample_latent()
            g_loss = generator_step(gan.generator, gan.discriminator, gan.opt_g, g_noise, gan.loss)
        for key, value in zip(HISTORY_KEYS, (d_loss, g_loss, d_real, d_fake)):
            history[key].append(float(value))
        if round_number % record_every == 0:
            samples = gan.generate(fixed_z)
            history["rounds"].append(round_number)
            history["samples"].append(samples)
            if count_modes is not None:
                history["modes_covered"].append(int(count_modes(samples)))
    return history
