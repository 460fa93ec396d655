"""A VAE with a 2-D latent space, trained briefly on the 8x8 digits (chapter 13's latent explorer).

Two latent dimensions are few for digits, but they can be drawn: every code is a point of the
plane, so a learner can walk the plane and watch the decoder draw. Training is short and fixed
(``DEFAULT_EPOCHS`` epochs of 8 Adam steps on the 1,797 digits, about a second of CPU time), and
seeded without touching the caller's global torch state.
"""

from __future__ import annotations

import numpy as np
import torch

from dlcore.data import load_digits
from dlcore.models.autoencoders import VAE, train_vae

__all__ = ["DEFAULT_EPOCHS", "default_vae"]

DEFAULT_EPOCHS = 40  # 40 x 8 Adam steps on 1797 digits


def default_vae(rng: np.random.Generator | None = None,
                num_epochs: int = DEFAULT_EPOCHS) -> tuple[VAE, np.ndarray, np.ndarray]:
    """A VAE with a 2-D latent space trained briefly on the 8x8 digits.

    Args:
        rng: draws the seed of the weights and of the batch order (``np.random.default_rng(0)`` if None).
        num_epochs: passes over the 1,797 digits, batches of 256.

    Returns:
        (model in eval mode, images (N, 64) float32 in [0, 1], labels (N,)).
    """
    seed = int((rng or np.random.default_rng(0)).integers(2 ** 31))
    X, y = load_digits()
    images = X.reshape(len(X), -1).astype(np.float32)  # (N, 8, 8) -> (N, 64)
    with torch.random.fork_rng():  # seed the layers' initial weights without touching the caller's global state
        torch.manual_seed(seed)
        model = VAE(64, 2, (128,))
    train_vae(model, torch.from_numpy(images), num_epochs=num_epochs, batch_size=256, learning_rate=1e-2,
              generator=torch.Generator().manual_seed(seed))
    return model.eval(), images, y
