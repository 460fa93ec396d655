"""Autoencoders, denoising autoencoders and the variational autoencoder in PyTorch (chapter 13).

Shapes: x is (N, D) with D = flattened pixels in [0, 1]; the code z is (N, L) (L = latent size).

- :class:`Autoencoder`: x -> encoder -> z -> decoder -> x_hat, trained to make x_hat close to x.
  With ``linear=True`` (no non-linearity anywhere) and the squared error, its optimum spans the
  same subspace as the top-L principal components (chapter 13 shows it).
- Denoising: the same network, fed a corrupted x~ (:func:`add_noise`) and asked for the clean x.
- :class:`VAE`: the encoder outputs the mean and log-variance of q(z | x) = N(mu, diag sigma^2);
  z = mu + sigma * eps (:func:`reparameterize`), and the decoder outputs Bernoulli logits of
  p(x | z). Training minimises the negative ELBO (:func:`negative_elbo`).

Both models take ``dtype=torch.float32`` (the default) or ``torch.float64``. A short training
run amplifies rounding: in float32, whose rounding depends on the CPU's instruction set, its
printed result can change in the second decimal from one CPU to another; in float64 it cannot
(for these small models float64 costs about 1.2 times the CPU time). The initial weights are
always drawn in float64 and then converted, because PyTorch's initialisers themselves round
differently on different instruction sets, by one unit in the last place of the dtype they
draw in: 1e-7 in float32 is enough to change a training run, 1e-16 in float64 is not.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from dlcore.errors import check_float_dtype
from dlcore.models.mlp import sequential_mlp
from dlcore.training.torch_fit import fit

__all__ = [
    "encode_means",
    "Autoencoder", "VAE", "reparameterize", "gaussian_kl", "gaussian_kl_monte_carlo", "bernoulli_nll",
    "negative_elbo", "add_noise", "train_autoencoder", "train_vae",
]


def _check_data_dtype(where: str, model: nn.Module, X: torch.Tensor) -> None:
    expected = next(model.parameters()).dtype
    if X.dtype != expected:
        raise TypeError(f"{where}: X is {X.dtype} but the model's parameters are {expected}; "
                        f"convert one of them (X.to({expected}) or model.to({X.dtype}))")


class Autoencoder(nn.Module):
    """Encoder D -> hidden... -> L, decoder L -> ...hidden -> D (sigmoid output unless ``linear``).

    ``dtype``: torch.float32 (default) or torch.float64, the dtype of every parameter (and so of
    the inputs it takes). Raises ValueError for any other dtype.
    """

    def __init__(self, input_size: int = 64, latent_size: int = 2, hidden_sizes: Sequence[int] = (64,), *,
                 linear: bool = False, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        check_float_dtype("Autoencoder", dtype)
        hidden = list(hidden_sizes)
        self.linear = linear
        activation = None if linear else nn.ReLU  # weights drawn in float64, converted below (module docstring)
        self.encoder = sequential_mlp([input_size, *hidden, latent_size], activation, dtype=torch.float64)
        self.decoder = sequential_mlp([latent_size, *reversed(hidden), input_size], activation, dtype=torch.float64)
        self.to(dtype)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(N, D) -> (N, L) codes."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(N, L) -> (N, D) reconstructions (in [0, 1] unless linear)."""
        out = self.decoder(z)
        return out if self.linear else torch.sigmoid(out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class VAE(nn.Module):
    """Gaussian encoder q(z | x) = N(mu(x), diag exp(logvar(x))), Bernoulli decoder p(x | z), prior N(0, I).

    ``dtype``: torch.float32 (default) or torch.float64, as for :class:`Autoencoder`.
    """

    def __init__(self, input_size: int = 64, latent_size: int = 2, hidden_sizes: Sequence[int] = (128,), *,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        check_float_dtype("VAE", dtype)
        hidden = list(hidden_sizes)
        self.body = nn.Sequential(sequential_mlp([input_size, *hidden], nn.ReLU, dtype=torch.float64), nn.ReLU())
        self.mean = nn.Linear(hidden[-1], latent_size, dtype=torch.float64)
        self.logvar = nn.Linear(hidden[-1], latent_size, dtype=torch.float64)
        self.decoder = sequential_mlp([latent_size, *reversed(hidden), input_size], nn.ReLU, dtype=torch.float64)
        self.to(dtype)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, D) -> mu (N, L) and log sigma^2 (N, L)."""
        features = self.body(x)
        return self.mean(features), self.logvar(features)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """(N, L) -> (N, D) Bernoulli logits of p(x | z)."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(N, L) -> (N, D) pixel means sigmoid(logits): what one shows as the decoded image."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None, *,
                sample: Callable[..., torch.Tensor] | None = None):
        """Returns (logits (N, D), mu, logvar, z) for one reparameterized sample z per example.

        ``sample(mu, logvar, eps)`` draws z (default :func:`reparameterize`; chapter 13 passes the learner's).
        """
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        z = (sample or reparameterize)(mu, logvar, eps)
        return self.decode_logits(z), mu, logvar, z


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps with sigma = exp(logvar / 2) and eps ~ N(0, I) drawn by the caller.

    The randomness sits in eps, which does not depend on the parameters, so dz/dmu = 1 and
    dz/dlogvar = sigma * eps / 2: gradients flow through the sample. All (N, L).
    """
    if mu.shape != logvar.shape or mu.shape != eps.shape:
        raise ValueError(f"reparameterize: mu {tuple(mu.shape)}, logvar {tuple(logvar.shape)} and eps "
                         f"{tuple(eps.shape)} must have the same shape (N, L)")
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag sigma^2) || N(0, I)) per example, in closed form.

    KL = 1/2 sum_l (mu_l^2 + sigma_l^2 - 1 - log sigma_l^2)

    Args: mu, logvar: (N, L). Returns: (N,) non-negative, 0 exactly when mu = 0 and sigma = 1.
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def gaussian_kl_monte_carlo(mu: torch.Tensor, logvar: torch.Tensor, num_samples: int,
                            generator: torch.Generator | None = None) -> torch.Tensor:
    """The same KL estimated as E_q[log q(z) - log p(z)] from ``num_samples`` draws per example: (N,)."""
    std = torch.exp(0.5 * logvar)
    eps = torch.randn((num_samples, *mu.shape), generator=generator, dtype=mu.dtype)  # (S, N, L)
    z = mu + std * eps
    log_q = (-0.5 * eps.pow(2) - torch.log(std) - 0.5 * math.log(2 * math.pi)).sum(dim=2)  # (S, N)
    log_p = (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).sum(dim=2)
    return (log_q - log_p).mean(dim=0)


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x | z) for Bernoulli pixels with means sigmoid(logits), summed over pixels: (N,).

    -log p = -sum_d [x_d log s_d + (1 - x_d) log(1 - s_d)], s = sigmoid(logits), computed
    from the logits for stability. For this to be a log-probability, x must be 0/1 (binarised
    pixels); on grey levels in [0, 1] the same formula is a cross-entropy with soft targets.
    """
    return nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)


def negative_elbo(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                  beta: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """-ELBO = E_q[-log p(x | z)] + beta KL(q(z | x) || p(z)), averaged over the batch.

    The expectation is estimated with the one z behind ``logits``; the KL is exact.
    Returns (loss, mean reconstruction term, mean KL term), each a scalar tensor.
    """
    reconstruction = bernoulli_nll(logits, x).mean()
    kl = gaussian_kl(mu, logvar).mean()
    return reconstruction + beta * kl, reconstruction, kl


def add_noise(x: torch.Tensor, noise_std: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """x + N(0, noise_std^2) noise, clipped to [0, 1]: the corruption a denoising autoencoder undoes."""
    return (x + noise_std * torch.randn(x.shape, generator=generator, dtype=x.dtype)).clamp(0.0, 1.0)


def train_autoencoder(model: Autoencoder, X: torch.Tensor, *, num_epochs: int, generator: torch.Generator,
                      batch_size: int = 64, learning_rate: float = 1e-2, noise_std: float = 0.0) -> list[float]:
    """Adam on the mean squared error ||x_hat - x||^2 / D; with noise_std > 0 the input is corrupted (denoising).

    X must have the model's dtype (TypeError otherwise). ``generator`` shuffles every epoch and
    draws the noise. Returns the epoch-mean training losses.
    """
    _check_data_dtype("train_autoencoder", model, X)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    def batch_loss(index: torch.Tensor) -> torch.Tensor:
        clean = X[index]
        noisy = add_noise(clean, noise_std, generator) if noise_std > 0 else clean
        return nn.functional.mse_loss(model(noisy), clean)  # the target is always the CLEAN input

    return fit(model, optimizer, batch_loss, len(X), num_epochs=num_epochs, batch_size=batch_size,
               rng=generator)["loss"]


def train_vae(model: VAE, X: torch.Tensor, *, num_epochs: int, generator: torch.Generator, batch_size: int = 64,
              learning_rate: float = 3e-3, beta: float = 1.0,
              loss_function: Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor]] | None = None,
              sample: Callable[..., torch.Tensor] | None = None) -> dict[str, list[float]]:
    """Adam on the negative ELBO; returns per-epoch means of 'loss', 'reconstruction' and 'kl' (nats per example).

    X must have the model's dtype (TypeError otherwise). ``loss_function(logits, x, mu, logvar, beta)``
    (default :func:`negative_elbo`) and ``sample(mu, logvar, eps)`` (default :func:`reparameterize`)
    can be replaced by other implementations of the same maths (chapter 13 trains on the learner's).
    ``generator`` shuffles every epoch and draws each batch's eps. The loop: :func:`dlcore.training.torch_fit.fit`.
    """
    loss_function = loss_function or negative_elbo
    _check_data_dtype("train_vae", model, X)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    def batch_loss(index: torch.Tensor) -> dict[str, torch.Tensor]:
        logits, mu, logvar, _ = model(X[index], generator, sample=sample)  # one z per example
        loss, reconstruction, kl = loss_function(logits, X[index], mu, logvar, beta)
        return {"loss": loss, "reconstruction": reconstruction, "kl": kl}

    return fit(model, optimizer, batch_loss, len(X), num_epochs=num_epochs, batch_size=batch_size, rng=generator)


def encode_means(model, images: np.ndarray) -> np.ndarray:
    """The codes of ``images`` (N, D): the encoder's output, or its mean for a VAE. Returns (N, L)."""
    with torch.no_grad():
        out = model.encode(torch.as_tensor(np.asarray(images, dtype=np.float32)))
    return (out[0] if isinstance(out, tuple) else out).numpy().astype(np.float64)
