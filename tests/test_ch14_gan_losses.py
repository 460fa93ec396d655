"""Chapter 14: the GAN losses from scratch (dlcore.scratch.gan_losses) against PyTorch and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from dlcore.errors import ShapeError
from dlcore.gradcheck import check_gradients
from dlcore.models.gan import discriminator_loss, generator_loss
from dlcore.scratch.gan_losses import (
    discriminator_loss_backward, discriminator_loss_forward, generator_loss_backward, generator_loss_forward,
)
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

KINDS = ["non_saturating", "minimax"]


def _torch_grad(loss_fn, *arrays):
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    loss = loss_fn(*tensors)
    loss.backward()
    return loss.item(), [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("n, m", [(1, 1), (7, 3), (2, 11)])
def test_discriminator_loss_matches_torch_bce(n, m):
    rng = np.random.default_rng(n * 10 + m)
    real, fake = rng.normal(0, 3, n), rng.normal(0, 3, m)
    loss, cache = discriminator_loss_forward(real, fake)
    dreal, dfake = discriminator_loss_backward(1.0, cache)
    bce = lambda r, f: (F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
                        + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))
    expected, (treal, tfake) = _torch_grad(bce, real, fake)
    assert dreal.shape == real.shape and dfake.shape == fake.shape
    np.testing.assert_allclose(loss, expected, rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
    np.testing.assert_allclose(dreal, treal, rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
    np.testing.assert_allclose(dfake, tfake, rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
    # the torch module's own loss is the same function
    torch_loss = discriminator_loss(torch.tensor(real), torch.tensor(fake))
    np.testing.assert_allclose(float(torch_loss), loss, rtol=PARITY_RTOL_FLOAT64)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("m", [1, 5])
def test_generator_loss_matches_torch(kind, m):
    fake = np.random.default_rng(m).normal(0, 4, m)
    loss, cache = generator_loss_forward(fake, kind)
    dfake = generator_loss_backward(1.0, cache)
    if kind == "minimax":  # log(1 - D) = -BCE(a, label 0)
        reference = lambda f: -F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
    else:  # -log D = BCE(a, label 1)
        reference = lambda f: F.binary_cross_entropy_with_logits(f, torch.ones_like(f))
    expected, (tfake,) = _torch_grad(reference, fake)
    assert dfake.shape == fake.shape
    np.testing.assert_allclose(loss, expected, rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
    np.testing.assert_allclose(dfake, tfake, rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
    np.testing.assert_allclose(float(generator_loss(torch.tensor(fake), kind)), loss, rtol=PARITY_RTOL_FLOAT64)


def test_backward_passes_match_finite_differences():
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=4), rng.normal(size=6)
    check_gradients(discriminator_loss_forward, discriminator_loss_backward,
                    {"real_logits": real, "fake_logits": fake}, rng=rng).assert_ok()
    for kind in KINDS:
        check_gradients(lambda fake_logits: generator_loss_forward(fake_logits, kind), generator_loss_backward,
                        {"fake_logits": fake}, rng=rng).assert_ok()


def test_extreme_logits_stay_finite_and_saturation_shows():
    fake = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    for kind in KINDS:
        loss, cache = generator_loss_forward(fake, kind)
        assert np.isfinite(loss) and np.all(np.isfinite(generator_loss_backward(1.0, cache)))
    minimax = generator_loss_backward(1.0, generator_loss_forward(fake[:2], "minimax")[1])
    non_saturating = generator_loss_backward(1.0, generator_loss_forward(fake[:2], "non_saturating")[1])
    assert np.all(np.abs(minimax) < 1e-12)  # the saturating loss has no gradient for rejected fakes
    np.testing.assert_allclose(non_saturating, [-0.5, -0.5])


def test_inputs_unchanged_and_shape_errors():
    real, fake = np.array([0.5, -1.0]), np.array([2.0])
    copies = real.copy(), fake.copy()
    _, cache = discriminator_loss_forward(real, fake)
    discriminator_loss_backward(1.0, cache)
    np.testing.assert_array_equal(real, copies[0])
    np.testing.assert_array_equal(fake, copies[1])
    with pytest.raises(ShapeError, match=r"discriminator_loss_forward: real_logits has shape \(2, 1\)"):
        discriminator_loss_forward(real.reshape(2, 1), fake)
    with pytest.raises(ShapeError, match=r"generator_loss_forward: fake_logits has shape \(1, 1\).*squeeze"):
        generator_loss_forward(fake.reshape(1, 1))
    with pytest.raises(ValueError, match="kind must be one of"):
        generator_loss_forward(fake, "wasserstein")
