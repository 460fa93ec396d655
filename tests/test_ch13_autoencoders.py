"""Chapter 13: autoencoders and the VAE in PyTorch (losses, reparameterization, KL, linear AE = PCA subspace)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.linalg import subspace_angles

from dlcore.models import autoencoders as A


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def test_gaussian_kl_closed_form_matches_torch_distributions_and_monte_carlo():
    g = torch.Generator().manual_seed(0)
    mu = torch.randn((4, 3), generator=g, dtype=torch.float64)
    logvar = torch.randn((4, 3), generator=g, dtype=torch.float64)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    reference = torch.distributions.kl_divergence(q, p).sum(dim=1)
    assert torch.allclose(A.gaussian_kl(mu, logvar), reference, rtol=1e-12, atol=1e-12)
    estimate = A.gaussian_kl_monte_carlo(mu, logvar, 200_000, g)
    assert torch.allclose(estimate, reference, rtol=0.02, atol=0.02)


def test_gaussian_kl_is_zero_only_at_the_prior():
    zero = torch.zeros((2, 5), dtype=torch.float64)
    assert torch.equal(A.gaussian_kl(zero, zero), torch.zeros(2, dtype=torch.float64))
    assert (A.gaussian_kl(zero + 0.1, zero - 0.2) > 0).all()


def test_reparameterize_lets_gradients_reach_mu_and_logvar():
    mu = torch.tensor([[0.5, -1.0]], dtype=torch.float64, requires_grad=True)  # batch of one
    logvar = torch.tensor([[0.2, -0.4]], dtype=torch.float64, requires_grad=True)
    eps = torch.tensor([[1.5, -0.3]], dtype=torch.float64)
    z = A.reparameterize(mu, logvar, eps)
    z.sum().backward()
    assert torch.allclose(mu.grad, torch.ones_like(mu))
    assert torch.allclose(logvar.grad, 0.5 * torch.exp(0.5 * logvar.detach()) * eps)
    with pytest.raises(ValueError, match="must have the same shape"):
        A.reparameterize(mu, logvar, eps.T)


def test_bernoulli_nll_and_negative_elbo():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn((3, 4), generator=g, dtype=torch.float64)
    x = torch.rand((3, 4), generator=g, dtype=torch.float64)
    s = torch.sigmoid(logits)
    manual = -(x * torch.log(s) + (1 - x) * torch.log(1 - s)).sum(dim=1)
    assert torch.allclose(A.bernoulli_nll(logits, x), manual, rtol=1e-10)
    mu, logvar = torch.zeros((3, 2), dtype=torch.float64), torch.zeros((3, 2), dtype=torch.float64) + 0.3
    loss, reconstruction, kl = A.negative_elbo(logits, x, mu, logvar, beta=2.0)
    assert torch.isclose(loss, reconstruction + 2.0 * kl)
    assert torch.isclose(kl, A.gaussian_kl(mu, logvar).mean())


def test_models_shapes_and_ranges():
    x = torch.rand((1, 16))
    ae = A.Autoencoder(16, 3, (8,))
    assert ae.encode(x).shape == (1, 3) and ae(x).shape == (1, 16)
    assert ((ae(x) >= 0) & (ae(x) <= 1)).all()
    vae = A.VAE(16, 2, (8,))
    logits, mu, logvar, z = vae(torch.rand((5, 16)), torch.Generator().manual_seed(0))
    assert logits.shape == (5, 16) and mu.shape == logvar.shape == z.shape == (5, 2)
    assert A.Autoencoder(16, 3, (), linear=True).encoder[0].weight.shape == (3, 16)


def test_add_noise_is_clipped_and_does_not_touch_its_input():
    x = torch.full((2, 3), 0.5)
    noisy = A.add_noise(x, 2.0, torch.Generator().manual_seed(0))
    assert noisy.min() >= 0 and noisy.max() <= 1 and not torch.equal(noisy, x)
    assert torch.equal(x, torch.full((2, 3), 0.5))


def test_linear_autoencoder_spans_the_pca_subspace():
    rng = np.random.default_rng(0)
    scales = np.array([3.0, 2.0, 1.0, 0.3, 0.2, 0.1])
    X = rng.standard_normal((400, 6)) * scales @ np.linalg.qr(rng.standard_normal((6, 6)))[0]
    X -= X.mean(axis=0)
    torch.manual_seed(0)
    model = A.Autoencoder(6, 2, (), linear=True)
    losses = A.train_autoencoder(model, torch.tensor(X, dtype=torch.float32), num_epochs=80,
                                 generator=torch.Generator().manual_seed(0), batch_size=200, learning_rate=3e-2)
    _, S, Vt = np.linalg.svd(X, full_matrices=False)
    pca_error = (S[2:] ** 2).sum() / len(X) / 6
    assert losses[-1] == pytest.approx(pca_error, rel=0.05)
    decoder = model.decoder[0].weight.detach().numpy()  # (6, 2): its columns span the code's image
    assert np.degrees(subspace_angles(decoder, Vt[:2].T)).max() < 2.0


def test_training_is_deterministic_given_the_generator():
    X = torch.rand((40, 9), generator=torch.Generator().manual_seed(0))
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = A.VAE(9, 2, (6,))
        runs.append(A.train_vae(model, X, num_epochs=2, generator=torch.Generator().manual_seed(1), batch_size=16))
    assert runs[0] == runs[1]
    assert all(math.isfinite(v) for v in runs[0]["loss"])


@pytest.mark.parametrize("make", [lambda dtype: A.Autoencoder(9, 2, (6,), dtype=dtype),
                                  lambda dtype: A.VAE(9, 2, (6,), dtype=dtype)])
def test_dtype_option_float64_twin_and_bad_values(make):
    torch.manual_seed(0)
    single = make(torch.float32)
    torch.manual_seed(0)
    double = make(torch.float64)
    assert {p.dtype for p in single.parameters()} == {torch.float32}
    assert {p.dtype for p in double.parameters()} == {torch.float64}
    for p, q in zip(single.parameters(), double.parameters()):  # the same weights, drawn in float64
        assert torch.equal(p, q.float())
    for bad in (torch.float16, torch.int32, "float64"):
        with pytest.raises(ValueError, match="dtype must be torch.float32 or torch.float64"):
            make(bad)


def test_float64_training_and_the_dtype_mismatch_error():
    X = torch.rand((40, 9), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    torch.manual_seed(0)
    model = A.Autoencoder(9, 2, (6,), dtype=torch.float64)
    losses = A.train_autoencoder(model, X, num_epochs=3, generator=torch.Generator().manual_seed(1), noise_std=0.1)
    assert all(math.isfinite(v) for v in losses) and model(X).dtype == torch.float64
    vae = A.VAE(9, 2, (6,), dtype=torch.float64)
    history = A.train_vae(vae, X, num_epochs=2, generator=torch.Generator().manual_seed(1))
    assert all(math.isfinite(v) for v in history["loss"])
    with pytest.raises(TypeError, match=r"train_autoencoder: X is torch.float32 but the model's parameters are "
                                        r"torch.float64"):
        A.train_autoencoder(model, X.float(), num_epochs=1, generator=torch.Generator())
    with pytest.raises(TypeError, match="train_vae: X is torch.float64 but the model's parameters are torch.float32"):
        A.train_vae(A.VAE(9, 2, (6,)), X, num_epochs=1, generator=torch.Generator())


def test_initial_weights_do_not_depend_on_the_instruction_set():
    """Drawn through PyTorch's float32 kernels, some weights differed in their last bit under the plainest kernels."""
    from tests.baseline_kernels import tensors_under_baseline_kernels

    build = "[p for m in (A.Autoencoder(64, 2, (64,)), A.VAE(64, 2, (128,))) for p in m.parameters()]"
    theirs = tensors_under_baseline_kernels(f"from dlcore.models import autoencoders as A\ntorch.manual_seed(0)\n"
                                            f"tensors = {build}")
    torch.manual_seed(0)
    ours = [p.detach() for m in (A.Autoencoder(64, 2, (64,)), A.VAE(64, 2, (128,))) for p in m.parameters()]
    assert len(ours) == len(theirs) and all(torch.equal(a, b) for a, b in zip(ours, theirs))
