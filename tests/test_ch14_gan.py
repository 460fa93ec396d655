"""Chapter 14: toy 2-D distributions, the PyTorch GAN (dlcore.models.gan) and its diagnostics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.data.toy2d import TOY_DISTRIBUTIONS, ring_centers, sample_ring, sample_toy, toy_centers, toy_mode_std
from dlcore.errors import ShapeError
from dlcore.models.gan import (Gan, discriminator_loss, discriminator_step, generator_loss, generator_step,
                               mlp_discriminator, mlp_generator)
from dlcore.models.gan_diagnostics import (
    discriminator_field, gan_value, generator_gradients, jensen_shannon, mode_coverage, optimal_discriminator,
)


@pytest.mark.parametrize("name", TOY_DISTRIBUTIONS)
def test_toy_samplers_are_deterministic_2d_and_finite(name):
    a, b = sample_toy(name, 50, seed=3), sample_toy(name, 50, seed=3)
    assert a.shape == (50, 2) and a.dtype == np.float64 and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, sample_toy(name, 50, seed=4))
    assert np.abs(a).max() < 3.0  # inside the explorer's plane


def test_toy_sampler_errors():
    with pytest.raises(ValueError, match="name must be one of"):
        sample_toy("circle", 10)
    with pytest.raises(ValueError, match="num_samples must be an int >= 1"):
        sample_ring(0)
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        sample_ring(5, seed=-1)


def test_mode_coverage_counts_modes():
    centers, std = toy_centers("ring"), toy_mode_std("ring")
    full = mode_coverage(sample_ring(800, seed=0), centers, std)
    assert full.modes_covered == 8 and full.high_quality > 0.95 and full.counts.sum() <= 800
    collapsed = mode_coverage(np.repeat(centers[:2], 50, axis=0), centers, std)
    assert collapsed.modes_covered == 2 and collapsed.high_quality == 1.0
    nowhere = mode_coverage(np.zeros((30, 2)), centers, std)  # the centre of the ring is far from every mode
    assert nowhere.modes_covered == 0 and nowhere.high_quality == 0.0
    with pytest.raises(ShapeError, match="mode_coverage"):
        mode_coverage(np.zeros((4, 3)), centers, std)


def test_models_have_the_documented_shapes():
    g = mlp_generator(latent_dim=5, output_dim=64, hidden=16, output="sigmoid")
    d = mlp_discriminator(input_dim=64, hidden=16)
    out = g(torch.randn(3, 5))
    assert out.shape == (3, 64) and out.min().item() > 0 and out.max().item() < 1
    assert d(out).shape == (3, 1)
    with pytest.raises(ValueError, match="output must be"):
        mlp_generator(output="tanh")


def test_losses_at_d_one_half():
    logits = torch.zeros(4)
    assert abs(discriminator_loss(logits, logits).item() - 2 * np.log(2)) < 1e-6
    assert abs(float(generator_loss(logits, "minimax")) + np.log(2)) < 1e-6
    assert abs(float(generator_loss(logits, "non_saturating")) - np.log(2)) < 1e-6
    with pytest.raises(ValueError, match="kind must be one of"):
        generator_loss(logits, "hinge")


def _ring_gan(**kwargs):
    torch.manual_seed(0)
    return Gan(lambda n, rng: sample_toy("ring", n, rng), mlp_generator(2, 2, 16), mlp_discriminator(2, 16),
               batch_size=32, seed=0, **kwargs)


def test_steps_train_only_their_own_network():
    gan = _ring_gan()
    g_before = [p.detach().clone() for p in gan.generator.parameters()]
    d_before = [p.detach().clone() for p in gan.discriminator.parameters()]
    gan.discriminator_step()
    assert all(torch.equal(a, b) for a, b in zip(g_before, gan.generator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(d_before, gan.discriminator.parameters()))
    d_after = [p.detach().clone() for p in gan.discriminator.parameters()]
    gan.generator_step()
    assert all(torch.equal(a, b) for a, b in zip(d_after, gan.discriminator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(g_before, gan.generator.parameters()))
    assert (gan.d_steps_done, gan.g_steps_done) == (1, 1)


def test_discriminator_alone_learns_to_reject_the_fakes():
    gan = _ring_gan(lr_d=5e-3)
    first = gan.discriminator_step()
    for _ in range(60):
        last = gan.discriminator_step()
    assert last["d_loss"] < first["d_loss"] and last["d_real"] > 0.5 > last["d_fake"]


def test_fit_records_history_and_is_deterministic():
    histories = [_ring_gan().fit(12, d_steps=2, g_steps=1, record_every=5, keep_samples=7) for _ in range(2)]
    h = histories[0]
    assert h.rounds == [5, 10, 12] and len(h.d_loss) == len(h.grad_norm) == len(h.samples) == 3
    assert h.samples[0].shape == (7, 2)
    np.testing.assert_array_equal(h.d_loss, histories[1].d_loss)
    np.testing.assert_array_equal(h.samples[-1], histories[1].samples[-1])
    assert set(h.as_arrays()) == {"rounds", "d_loss", "g_loss", "d_real", "d_fake", "grad_norm"}


def test_array_data_snapshot_and_learning_rates():
    data = np.random.default_rng(0).random((40, 6))
    torch.manual_seed(0)
    gan = Gan(data, mlp_generator(3, 6, 8, output="sigmoid"), mlp_discriminator(6, 8), latent_dim=3, batch_size=5,
              optimizer="sgd")
    assert gan.sample_real().shape == (5, 6) and gan.generate(4).shape == (4, 6)
    saved = gan.snapshot()
    gan.fit(3)
    assert not torch.equal(saved["generator"]["0.weight"], gan.generator.state_dict()["0.weight"])
    gan.restore(saved)
    assert torch.equal(saved["generator"]["0.weight"], gan.generator.state_dict()["0.weight"])
    gan.set_learning_rates(0.5, 0.25)
    assert gan.opt_d.param_groups[0]["lr"] == 0.5 and gan.opt_g.param_groups[0]["lr"] == 0.25
    with pytest.raises(ValueError, match="optimizer must be"):
        Gan(data, gan.generator, gan.discriminator, optimizer="rmsprop")


def test_generator_gradients_point_uphill_in_d_and_match_finite_differences():
    torch.manual_seed(1)
    d = mlp_discriminator(2, 8).double()
    points = np.array([[0.3, -0.2], [1.0, 0.5]])
    for kind in ("minimax", "non_saturating"):
        push = generator_gradients(d.float(), points, kind)
        d.double()
        step = 1e-5

        def per_sample_loss(x):
            return generator_loss(d(torch.tensor(x)), kind).item()  # one point: the mean is its loss

        for i, x in enumerate(points):
            numeric = [-(per_sample_loss(x[None] + step * e) - per_sample_loss(x[None] - step * e)) / (2 * step)
                       for e in np.eye(2)]
            np.testing.assert_allclose(push[i], numeric, rtol=1e-3, atol=1e-5)
    field = discriminator_field(d.float(), (-1, 1), (-2, 2), resolution=5)
    assert field.shape == (5, 5) and np.all((field > 0) & (field < 1))


def test_optimal_discriminator_and_jensen_shannon_identity():
    x = np.linspace(-8, 8, 4001)
    dx = x[1] - x[0]
    gauss = lambda mu, s: np.exp(-0.5 * ((x - mu) / s) ** 2) / (s * np.sqrt(2 * np.pi))
    p_data, p_g = gauss(0.0, 1.0), gauss(1.5, 0.7)
    d_star = optimal_discriminator(p_data, p_g)
    value = gan_value(d_star, p_data, p_g, dx)
    np.testing.assert_allclose(value, -np.log(4) + 2 * jensen_shannon(p_data, p_g, dx), rtol=1e-6)
    assert value > gan_value(np.full_like(x, 0.5), p_data, p_g, dx) - 1e-9  # D* beats any other D, e.g. 1/2
    assert abs(jensen_shannon(p_data, p_data, dx)) < 1e-12
    np.testing.assert_allclose(optimal_discriminator(np.array([1.0, 0.0, 0.0]), np.array([0.0, 2.0, 0.0])),
                               [1.0, 0.0, 0.5])
    assert ring_centers().shape == (8, 2)


def test_checkpoint_round_trip_and_missing_file(tmp_path):
    from dlcore.models.gan_checkpoint import LATENT_DIM, load_generator, make_digit_gan, save_generator

    gan = make_digit_gan(seed=0)
    gan.fit(2)
    save_generator(gan.generator, tmp_path / "g.npz", gan.rounds_done)
    loaded, rounds = load_generator(tmp_path / "g.npz")
    assert rounds == 2 and loaded[0].weight.dtype == torch.float32
    for name, tensor in gan.generator.state_dict().items():  # stored in float16: each weight rounded once, no more
        assert torch.equal(loaded.state_dict()[name], tensor.half().float())
    z = torch.randn(3, LATENT_DIM)
    with torch.no_grad():
        assert loaded(z).shape == (3, 28 * 28)
        assert (loaded(z) - gan.generator(z)).abs().max().item() < 2e-3
    with pytest.raises(FileNotFoundError, match="python -m dlcore.models.gan_checkpoint"):
        load_generator(tmp_path / "missing.npz")


def test_the_committed_checkpoint_makes_digits_of_every_class_that_are_not_copies():
    """The file chapter 14 loads: small, 10,000 rounds, and its samples pass the chapter's two checks."""
    from dlcore.data import load_mnist
    from dlcore.models.gan_checkpoint import CHECKPOINT, LATENT_DIM, load_generator

    assert CHECKPOINT.stat().st_size < 300_000
    generator, rounds = load_generator()
    assert rounds == 10_000
    images, labels = load_mnist("train")
    train = images.reshape(len(images), 784)
    held_out = load_mnist("test")[0].reshape(-1, 784)

    def nearest(batch):
        squared = (batch ** 2).sum(1)[:, None] - 2 * batch @ train.T + (train ** 2).sum(1)[None]
        index = squared.argmin(1)
        return labels[index], np.sqrt(np.maximum(squared[np.arange(len(batch)), index], 0))

    z = torch.randn(500, LATENT_DIM, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        samples = generator(z).numpy().astype(np.float64)
    classes, distance = nearest(samples)
    real_classes, real_distance = nearest(held_out)
    counts = np.bincount(classes, minlength=10)
    assert np.count_nonzero(counts) >= 9  # (almost) every class appears
    assert counts.max() < 0.5 * len(samples)  # not collapsed onto one class
    # not copies: as far from the training digits as held-out real digits of the same classes
    same_mix = sum(counts[k] / len(samples) * real_distance[real_classes == k].mean() for k in range(10))
    assert distance.mean() > 0.9 * same_mix
    # and far better than the untrained generator's noise
    torch.manual_seed(0)
    from dlcore.models.gan import mlp_generator
    with torch.no_grad():
        untrained = mlp_generator(LATENT_DIM, 784, 128, output="sigmoid")(z).numpy().astype(np.float64)
    assert nearest(untrained)[1].mean() > 1.5 * distance.mean()


def _ring_gan64(**kwargs):
    torch.manual_seed(0)
    return Gan(lambda n, rng: sample_toy("ring", n, rng), mlp_generator(2, 2, 16, dtype=torch.float64),
               mlp_discriminator(2, 16, dtype=torch.float64), batch_size=32, seed=0, **kwargs)


def test_float64_networks_make_a_float64_gan():
    gan = _ring_gan64()
    assert gan.dtype == torch.float64 and _ring_gan().dtype == torch.float32  # float32 stays the default
    assert all(p.dtype == torch.float64 for p in [*gan.generator.parameters(), *gan.discriminator.parameters()])
    before = [p.detach().clone() for p in gan.generator.parameters()]
    history = gan.fit(3, record_every=1, keep_samples=5)
    assert not all(torch.equal(a, b) for a, b in zip(before, gan.generator.parameters()))  # the optimizer steps
    assert all(p.dtype == torch.float64 for p in gan.generator.parameters())
    assert history.samples[-1].dtype == np.float64 and np.all(np.isfinite(history.d_loss))
    np.testing.assert_array_equal(history.samples[-1], _ring_gan64().fit(3, record_every=1, keep_samples=5).samples[-1])
    assert gan.sample_real().dtype == gan.sample_latent().dtype == torch.float64
    # the diagnostics follow the discriminator's dtype
    assert discriminator_field(gan.discriminator, (-1, 1), (-1, 1), resolution=4).shape == (4, 4)
    assert generator_gradients(gan.discriminator, history.samples[-1]).shape == (5, 2)
    data = np.random.default_rng(0).random((10, 6))
    array_gan = Gan(data, mlp_generator(3, 6, 8, dtype=torch.float64), mlp_discriminator(6, 8, dtype=torch.float64),
                    latent_dim=3)
    assert array_gan.sample_real(4).dtype == torch.float64


def test_float64_initial_weights_are_drawn_in_float64():
    torch.manual_seed(0)
    single = mlp_generator(2, 2, 8)
    torch.manual_seed(0)
    double = mlp_generator(2, 2, 8, dtype=torch.float64)
    assert single[0].weight.dtype == torch.float32 and double[0].weight.dtype == torch.float64
    # the same distribution, not float32 draws converted (those carry float32 rounding)
    assert not torch.equal(single[0].weight.double(), double[0].weight)
    assert double[0].weight.abs().max() <= 1 / np.sqrt(2)  # PyTorch's default bound for fan_in = 2


@pytest.mark.parametrize("dtype", [torch.float16, torch.int64, "float64", np.float64])
def test_builders_reject_other_dtypes(dtype):
    with pytest.raises(ValueError, match="mlp_generator: dtype must be torch.float32 or torch.float64"):
        mlp_generator(dtype=dtype)
    with pytest.raises(ValueError, match="mlp_discriminator: dtype must be torch.float32 or torch.float64"):
        mlp_discriminator(dtype=dtype)


def test_gan_rejects_networks_of_mixed_dtypes():
    with pytest.raises(ValueError, match="Gan: generator and discriminator must both be float32 or both float64"):
        Gan(lambda n, rng: sample_toy("ring", n, rng), mlp_generator(2, 2, 8, dtype=torch.float64),
            mlp_discriminator(2, 8))
    with pytest.raises(ValueError, match="both float64"):
        Gan(lambda n, rng: sample_toy("ring", n, rng), mlp_generator(2, 2, 8).half(), mlp_discriminator(2, 8).half())


def test_make_digit_gan_dtype():
    from dlcore.models.gan_checkpoint import make_digit_gan

    single, double = make_digit_gan(seed=0), make_digit_gan(seed=0, dtype=torch.float64)
    assert single.dtype == torch.float32 and next(single.generator.parameters()).dtype == torch.float32
    assert double.dtype == torch.float64 and double.sample_real().dtype == torch.float64
    assert double.generate(3).shape == (3, 784) and double.sample_real().shape == (64, 784)
    with pytest.raises(ValueError, match="dtype must be"):
        make_digit_gan(seed=0, dtype=torch.int64)


def test_gan_runs_on_given_step_functions_and_still_measures_the_generator_gradient():
    calls = []

    def d_step(generator, discriminator, optimizer, real, z):
        calls.append(("d", tuple(real.shape), tuple(z.shape)))
        return discriminator_step(generator, discriminator, optimizer, real, z)

    def g_step(generator, discriminator, optimizer, z, loss):
        calls.append(("g", tuple(z.shape), loss))
        return generator_step(generator, discriminator, optimizer, z, loss)

    ours, theirs = _ring_gan(steps=(d_step, g_step)), _ring_gan()
    values, expected = ours.train_round(), theirs.train_round()
    assert calls == [("d", (32, 2), (32, 2)), ("g", (32, 2), "non_saturating")]
    assert values == expected and values["grad_norm"] > 0  # the same step, the same numbers


def test_a_generator_step_that_leaves_no_gradient_gives_nan_grad_norm():
    def frozen_g_step(generator, discriminator, optimizer, z, loss):
        with torch.no_grad():
            generator(z)
        return 0.0

    gan = _ring_gan(steps=(discriminator_step, frozen_g_step))
    assert np.isnan(gan.generator_step()["grad_norm"])


def _array_gan64():
    torch.manual_seed(1)
    return Gan(sample_toy("ring", 40, seed=1), mlp_generator(2, 2, 16, dtype=torch.float64),
               mlp_discriminator(2, 16, dtype=torch.float64), batch_size=8, seed=1)


@pytest.mark.parametrize("make_gan", [_ring_gan64, _array_gan64])
def test_train_gan_trains_exactly_as_fit(make_gan):
    from dlcore.models.gan_loop import HISTORY_KEYS, train_gan

    fitted = make_gan().fit(12, d_steps=2, g_steps=3, record_every=4, keep_samples=6)
    gan = make_gan()
    history = train_gan(gan, 12, d_steps=2, g_steps=3, record_every=4, num_samples=6,
                        count_modes=lambda s: mode_coverage(s, toy_centers("ring"), 1.0).modes_covered)
    assert tuple(history) == HISTORY_KEYS
    assert [len(history[key]) for key in HISTORY_KEYS] == [12, 12, 12, 12, 3, 3, 3]
    assert history["rounds"] == fitted.rounds == [4, 8, 12]
    at_records = np.array(fitted.rounds) - 1
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        np.testing.assert_array_equal(np.array(history[key])[at_records], getattr(fitted, key))
    for ours, theirs in zip(history["samples"], fitted.samples):
        np.testing.assert_array_equal(ours, theirs)
    assert all(isinstance(m, int) for m in history["modes_covered"])
    assert gan.d_steps_done == gan.g_steps_done == 0  # the loop calls the step functions, not Gan's methods


def test_train_gan_without_a_mode_counter_records_samples_only():
    from dlcore.models.gan_loop import train_gan

    history = train_gan(_ring_gan64(), 5, record_every=2, num_samples=3)
    assert history["rounds"] == [2, 4] and history["modes_covered"] == []
    assert history["samples"][0].shape == (3, 2) and len(history["d_loss"]) == 5
