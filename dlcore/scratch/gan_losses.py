"""The GAN losses from scratch, on the discriminator's logits (chapter 14).

The discriminator outputs a logit ``a``; its probability that the input is
real is D = σ(a). Working with logits keeps every log finite:
-log σ(a) = softplus(-a) and -log(1 - σ(a)) = softplus(a), with
softplus(t) = log(1 + e^t) computed as ``np.logaddexp(0, t)``.

Losses (each a MEAN over the batch, so every gradient carries 1/N):

- discriminator:   L_D = -mean log D(x) - mean log(1 - D(G(z)))
                       = mean softplus(-a_real) + mean softplus(a_fake)
- generator, minimax ("saturating"):  L_G = mean log(1 - D(G(z))) = -mean softplus(a_fake)
- generator, non-saturating:          L_G = -mean log D(G(z))    =  mean softplus(-a_fake)

Gradients with respect to a fake logit (times N): minimax -σ(a), non-saturating
-(1 - σ(a)). Where the discriminator rejects a fake confidently (σ(a) ≈ 0) the
first vanishes and the second is ≈ -1: that is the whole reason for the
non-saturating loss. :mod:`dlcore.models.gan` computes the same in PyTorch.

Shape glossary: N real examples, M generated examples; logits are 1-D.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore.errors import as_float_array, expect_ndim
from dlcore.scratch.activations import sigmoid

__all__ = [
    "GENERATOR_LOSSES", "softplus",
    "DiscriminatorLossCache", "discriminator_loss_forward", "discriminator_loss_backward",
    "GeneratorLossCache", "generator_loss_forward", "generator_loss_backward",
]

GENERATOR_LOSSES = ("non_saturating", "minimax")


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) without overflow (= -log σ(-x))."""
    return np.logaddexp(0.0, as_float_array("softplus", "x", x))


def _logits(func: str, name: str, value) -> np.ndarray:
    array = as_float_array(func, name, value)
    expect_ndim(func, name, array, 1, "(N,): one logit per example; squeeze a (N, 1) discriminator output")
    if array.shape[0] == 0:
        raise ValueError(f"{func}: {name} is an empty batch (N = 0); the mean over it is undefined")
    return array


def _upstream(func: str, dout, cache, kind: type) -> float:
    if not isinstance(cache, kind):
        forward = func.replace("_backward", "_forward")
        raise TypeError(f"{func}: cache must be the {kind.__name__} that {forward} returned, got {type(cache).__name__}")
    if isinstance(dout, (bool, str, bytes)) or np.ndim(dout) != 0 or not np.isrealobj(dout) \
            or not np.issubdtype(np.asarray(dout).dtype, np.number):
        raise TypeError(f"{func}: dout must be a real number (the upstream gradient of the scalar loss), "
                        f"got {type(dout).__name__} {dout!r}")
    return float(dout)


class DiscriminatorLossCache(NamedTuple):
    real_logits: np.ndarray  # (N,)
    fake_logits: np.ndarray  # (M,)


def discriminator_loss_forward(real_logits: np.ndarray,
                               fake_logits: np.ndarray) -> tuple[float, DiscriminatorLossCache]:
    """Binary cross-entropy of the discriminator: real labelled 1, generated labelled 0.

    L_D = mean_i softplus(-a_i^real) + mean_j softplus(a_j^fake).

    Args:
        real_logits: (N,) logits on real examples.
        fake_logits: (M,) logits on generated examples.

    Returns:
        ``(loss, cache)``, the loss a float.

    Raises:
        ShapeError: if either is not 1-D.
    """
    real = _logits("discriminator_loss_forward", "real_logits", real_logits)
    fake = _logits("discriminator_loss_forward", "fake_logits", fake_logits)
    loss = float(np.mean(softplus(-real)) + np.mean(softplus(fake)))
    return loss, DiscriminatorLossCache(real, fake)


def discriminator_loss_backward(dout: float, cache: DiscriminatorLossCache) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of L_D: d/da_real = (σ(a) - 1) / N, d/da_fake = σ(a) / M, times ``dout``."""
    dout = _upstream("discriminator_loss_backward", dout, cache, DiscriminatorLossCache)
    real, fake = cache
    dreal = dout * (sigmoid(real) - 1.0) / real.shape[0]
    dfake = dout * sigmoid(fake) / fake.shape[0]
    return dreal, dfake


class GeneratorLossCache(NamedTuple):
    fake_logits: np.ndarray  # (M,)
    kind: str


def generator_loss_forward(fake_logits: np.ndarray,
                           kind: str = "non_saturating") -> tuple[float, GeneratorLossCache]:
    """The generator's loss on the discriminator's logits for generated examples.

    minimax:        L_G = mean log(1 - σ(a)) = -mean softplus(a)      (saturates where σ(a) ≈ 0)
    non_saturating: L_G = -mean log σ(a)     =  mean softplus(-a)

    Args:
        fake_logits: (M,) logits a = logit D(G(z)).
        kind: ``"non_saturating"`` or ``"minimax"``.

    Returns:
        ``(loss, cache)``.

    Raises:
        ShapeError: if ``fake_logits`` is not 1-D; ValueError for an unknown ``kind``.
    """
    if kind not in GENERATOR_LOSSES:
        raise ValueError(f"generator_loss_forward: kind must be one of {GENERATOR_LOSSES}, got {kind!r}")
    fake = _logits("generator_loss_forward", "fake_logits", fake_logits)
    loss = -np.mean(softplus(fake)) if kind == "minimax" else np.mean(softplus(-fake))
    return float(loss), GeneratorLossCache(fake, kind)


def generator_loss_backward(dout: float, cache: GeneratorLossCache) -> np.ndarray:
    """dL_G/da: minimax -σ(a)/M, non-saturating -(1 - σ(a))/M, times ``dout``."""
    dout = _upstream("generator_loss_backward", dout, cache, GeneratorLossCache)
    fake, kind = cache
    probability = sigmoid(fake)
    per_example = -probability if kind == "minimax" else probability - 1.0
    return dout * per_example / fake.shape[0]
