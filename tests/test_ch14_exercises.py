"""Chapter 14's exercise checks: right answers pass (two ways each), typical mistakes get their own diagnosis,
and an answer that calls the course's own function fails."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import expit
from torch.nn import functional as F

from dlcore.exercises import ch14, learner
from dlcore.models import gan as course_gan
from dlcore.models import gan_diagnostics, gan_loop
from dlcore.models.gan import Gan, mlp_discriminator, mlp_generator
from dlcore.scratch import gan_losses
from tests.helpers import fails_with, not_done


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# ---------------------------------------------------------------- 14.1

def test_optimal_discriminator_passes_two_ways():
    assert ch14.check_optimal_discriminator(lambda p, q: p / (p + q)).passed
    assert ch14.check_optimal_discriminator(lambda p, q: 1.0 / (1.0 + q / np.where(p > 0, p, 1e-300))).passed


@pytest.mark.parametrize("answer, mistake", [
    (lambda p, q: q / (p + q), "d-star-swapped"),
    (lambda p, q: p / q, "d-star-density-ratio"),
    (lambda p, q: np.full_like(p, 0.5), "d-star-one-half"),
    (lambda p, q: p / (p + q) ** 2, "d-star-wrong-stationary-point"),
    (lambda p, q: (p > q).astype(float), "d-star-hard-decision"),
])
def test_optimal_discriminator_mistakes(answer, mistake):
    with np.errstate(divide="ignore", invalid="ignore"):
        fails_with(ch14.check_optimal_discriminator, answer, mistake=mistake)


def test_optimal_discriminator_not_done_and_delegation():
    with pytest.raises(NotImplementedError, match="is not done yet"):
        ch14.check_optimal_discriminator(not_done)
    fails_with(ch14.check_optimal_discriminator, lambda p, q: gan_diagnostics.optimal_discriminator(p, q),
               mistake="delegates-to-reference")


# ---------------------------------------------------------------- 14.2

def test_value_at_optimum_passes_two_ways():
    assert ch14.check_value_at_optimum(lambda j: -math.log(4) + 2 * j).passed
    assert ch14.check_value_at_optimum(lambda j: 2 * (j - math.log(2))).passed


@pytest.mark.parametrize("answer, mistake", [
    (lambda j: -math.log(4) + j, "jsd-factor-missing"),
    (lambda j: -math.log(2) + 2 * j, "jsd-constant-log-2"),
    (lambda j: math.log(4) - 2 * j, "jsd-sign"),
    (lambda j: -2 + 2 * j, "jsd-base-2-constant"),
])
def test_value_at_optimum_mistakes(answer, mistake):
    fails_with(ch14.check_value_at_optimum, answer, mistake=mistake)


# ---------------------------------------------------------------- 14.3

def test_gradient_prediction():
    assert ch14.check_gradient_prediction((-0.001, -0.999)).passed
    assert ch14.check_gradient_prediction((0.0, -1.0)).passed  # rounded predictions are fine
    assert ch14.check_gradient_prediction(lambda: (-0.001, -0.999)).passed  # the notebook passes the function
    with pytest.raises(NotImplementedError, match="Exercise 14.3 is not done yet"):
        ch14.check_gradient_prediction(lambda: not_done())
    fails_with(ch14.check_gradient_prediction, (-0.5, -0.5), fragments=("is not right",))
    with pytest.raises(NotImplementedError, match="is not done yet"):
        ch14.check_gradient_prediction(...)


@pytest.mark.parametrize("answer, mistake", [
    ((-0.999, -0.001), "prediction-swapped"),
    ((-1.0, 0.0), "prediction-swapped"),
    ((0.001, 0.999), "prediction-signs"),
    ((-1.001, -1000.0), "prediction-with-respect-to-d"),
    ((-0.001, -0.001), "prediction-sigmoid-slope-only"),
])
def test_gradient_prediction_mistakes(answer, mistake):
    fails_with(ch14.check_gradient_prediction, answer, mistake=mistake)


# ---------------------------------------------------------------- 14.4

def test_nonsaturating_loss_passes_two_ways():
    assert ch14.check_nonsaturating_loss(lambda a: np.mean(np.logaddexp(0, -a))).passed
    assert ch14.check_nonsaturating_loss(
        lambda a: float(np.mean(np.maximum(-a, 0) + np.log1p(np.exp(-np.abs(a)))))).passed


@pytest.mark.parametrize("answer, mistake", [
    (lambda a: np.mean(-np.logaddexp(0, a)), "ns-loss-is-minimax"),
    (lambda a: np.mean(np.logaddexp(0, a)), "ns-loss-is-discriminators"),
    (lambda a: -np.mean(np.logaddexp(0, -a)), "ns-loss-sign"),
    (lambda a: np.sum(np.logaddexp(0, -a)), "ns-loss-sum"),
    (lambda a: -np.mean(np.log(np.clip(expit(a), 1e-7, 1))), "ns-loss-clipped"),
])
def test_nonsaturating_loss_mistakes(answer, mistake):
    fails_with(ch14.check_nonsaturating_loss, answer, mistake=mistake)


def test_nonsaturating_loss_overflow_and_delegation():
    fails_with(ch14.check_nonsaturating_loss, lambda a: -np.mean(np.log(sigmoid(a))), fragments=("warned",))
    fails_with(ch14.check_nonsaturating_loss, lambda a: np.mean(gan_losses.softplus(-a)),
               mistake="delegates-to-reference")


# ---------------------------------------------------------------- 14.5

def test_nonsaturating_grad_passes_two_ways():
    assert ch14.check_nonsaturating_grad(lambda a: -(1 - expit(a)) / len(a)).passed
    assert ch14.check_nonsaturating_grad(lambda a: -expit(-a) / a.shape[0]).passed


@pytest.mark.parametrize("answer, mistake", [
    (lambda a: -(1 - expit(a)), "ns-grad-no-mean"),
    (lambda a: -expit(a) / len(a), "ns-grad-is-minimax"),
    (lambda a: (1 - expit(a)) / len(a), "ns-grad-sign"),
    (lambda a: -expit(a) * (1 - expit(a)) / len(a), "ns-grad-sigmoid-slope-only"),
    (lambda a: -1 / (len(a) * expit(a)), "ns-grad-with-respect-to-d"),
])
def test_nonsaturating_grad_mistakes(answer, mistake):
    fails_with(ch14.check_nonsaturating_grad, answer, mistake=mistake)


def test_nonsaturating_grad_shape_and_delegation():
    fails_with(ch14.check_nonsaturating_grad, lambda a: a[:, None] * 0, fragments=("shape",))
    fails_with(ch14.check_nonsaturating_grad,
               lambda a: gan_losses.generator_loss_backward(1.0, gan_losses.GeneratorLossCache(a, "non_saturating")),
               mistake="delegates-to-reference")


# ---------------------------------------------------------------- 14.6

def d_step_softplus(generator, discriminator, opt_d, real, z):
    with torch.no_grad():
        fake = generator(z)
    real_logits, fake_logits = discriminator(real), discriminator(fake)
    loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item(), torch.sigmoid(real_logits).mean().item(), torch.sigmoid(fake_logits).mean().item()


def g_step_softplus(generator, discriminator, opt_g, z, loss="non_saturating"):
    logits = discriminator(generator(z))
    value = F.softplus(-logits).mean() if loss == "non_saturating" else -F.softplus(logits).mean()
    opt_g.zero_grad()
    value.backward()
    opt_g.step()
    return value.item()


def d_step_bce(generator, discriminator, opt_d, real, z):
    """One batch through D, binary cross-entropy with labels; written differently from the solution."""
    fake = generator(z).detach()
    logits = discriminator(torch.cat([real, fake]))
    n = len(real)
    loss = (F.binary_cross_entropy_with_logits(logits[:n], torch.ones_like(logits[:n]))
            + F.binary_cross_entropy_with_logits(logits[n:], torch.zeros_like(logits[n:])))
    for parameter in discriminator.parameters():
        parameter.grad = None
    loss.backward()
    opt_d.step()
    probability = torch.sigmoid(logits.detach())
    return float(loss), float(probability[:n].mean()), float(probability[n:].mean())


def g_step_bce(generator, discriminator, opt_g, z, loss="non_saturating"):
    logits = discriminator(generator(z))
    if loss == "minimax":
        value = -F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits))
    else:
        value = -F.logsigmoid(logits).sum() / len(z)
    opt_g.zero_grad(set_to_none=False)
    value.backward()
    opt_g.step()
    return float(value)


@pytest.mark.parametrize("steps", [(d_step_softplus, g_step_softplus), (d_step_bce, g_step_bce)])
def test_training_steps_pass_and_the_chapter_trains_on_them(steps, capsys):
    assert ch14.check_training_steps(*steps).passed
    d_step = learner.implementation("discriminator_step", course_gan.discriminator_step, label="14.6")
    g_step = learner.implementation("generator_step", course_gan.generator_step, label="14.6")
    assert (d_step, g_step) == steps
    assert "[using your discriminator_step, which passed exercise 14.6]" in capsys.readouterr().out
    torch.manual_seed(0)
    gan = Gan(np.random.default_rng(0).standard_normal((64, 2)), mlp_generator(2, 2, 8, dtype=torch.float64),
              mlp_discriminator(2, 8, dtype=torch.float64), batch_size=16, steps=(d_step, g_step))
    values = gan.train_round()
    assert np.isfinite(values["grad_norm"]) and values["grad_norm"] > 0 and 0 < values["d_fake"] < 1


D_MISTAKES = [ch14._d_step_not_detached, ch14._d_step_variant(labels_swapped=True),
              ch14._d_step_variant(zero_grad=False), ch14._d_step_zeroed_after_backward,
              ch14._d_step_variant(scale=0.5), ch14._d_step_variant(logits_returned=True), ch14._d_step_naive_logs]
G_MISTAKES = [ch14._g_step_variant(detached=True), ch14._g_step_variant(kinds_swapped=True),
              ch14._g_step_variant(zero_grad=False), ch14._g_step_variant(discriminators_loss=True),
              ch14._g_step_naive_logs]


@pytest.mark.parametrize("step, mistake", list(zip(D_MISTAKES, [
    "d-step-not-detached", "d-step-labels-swapped", "d-step-no-zero-grad", "d-step-zeroed-after-backward",
    "d-step-half-loss", "d-step-returns-logits", "d-step-naive-logs"])))
def test_discriminator_step_mistakes(step, mistake):
    fails_with(ch14.check_training_steps, step, g_step_softplus, mistake=mistake)
    assert learner.accepted("discriminator_step") is None


@pytest.mark.parametrize("step, mistake", list(zip(G_MISTAKES, [
    "g-step-detached", "g-step-kinds-swapped", "g-step-no-zero-grad", "g-step-discriminators-loss",
    "g-step-naive-logs"])))
def test_generator_step_mistakes(step, mistake):
    fails_with(ch14.check_training_steps, d_step_bce, step, mistake=mistake)
    assert learner.accepted("generator_step") is None


def test_detach_mistakes_say_what_happened():
    fails_with(ch14.check_training_steps, ch14._d_step_not_detached, g_step_softplus,
               fragments=("gradients in the GENERATOR", "Cut the generated batch"))
    fails_with(ch14.check_training_steps, d_step_softplus, ch14._g_step_variant(detached=True),
               fragments=("did not move",))


def test_steps_that_call_the_course_fail():
    fails_with(ch14.check_training_steps, course_gan.discriminator_step, g_step_softplus,
               mistake="delegates-to-reference", fragments=("dlcore.models.gan.discriminator_step",))

    def with_course_loss(generator, discriminator, opt_g, z, loss="non_saturating"):
        value = course_gan.generator_loss(discriminator(generator(z)), loss)
        opt_g.zero_grad()
        value.backward()
        opt_g.step()
        return value.item()

    fails_with(ch14.check_training_steps, d_step_softplus, with_course_loss, mistake="delegates-to-reference",
               fragments=("dlcore.models.gan.generator_loss",))


def test_steps_not_done_and_bad_returns():
    with pytest.raises(NotImplementedError, match="Exercise 14.6 is not done yet"):
        ch14.check_training_steps(not_done, not_done)
    with pytest.raises(NotImplementedError, match="Exercise 14.6 is not done yet"):
        ch14.check_training_steps(d_step_softplus, not_done)
    fails_with(ch14.check_training_steps, lambda *args: None, g_step_softplus, fragments=("returned None",))
    fails_with(ch14.check_training_steps, lambda *args: (1.0, 2.0), g_step_softplus, fragments=("got 2 values",))


# ---------------------------------------------------------------- 14.7

def coverage_vectorised(samples, centers, std, num_std=3.0):
    distance = np.linalg.norm(samples[:, None] - centers[None], axis=-1)
    nearest, near = distance.argmin(1), distance.min(1) <= num_std * std
    counts = np.bincount(nearest[near], minlength=len(centers))
    return counts, int((counts >= len(samples) / (4 * len(centers))).sum()), near.mean()


def coverage_loop(samples, centers, std, num_std=3.0):
    counts, kept = np.zeros(len(centers), dtype=int), 0
    for x in samples:
        distance = np.sqrt(((centers - x) ** 2).sum(axis=1))
        j = int(np.argmin(distance))
        if distance[j] <= num_std * std:
            counts[j] += 1
            kept += 1
    return counts, sum(1 for c in counts if 4 * len(centers) * c >= len(samples)), kept / len(samples)


@pytest.mark.parametrize("answer", [coverage_vectorised, coverage_loop])
def test_mode_coverage_passes_two_ways(answer, capsys):
    assert ch14.check_mode_coverage(answer).passed
    assert learner.implementation("mode_coverage", ch14.course_mode_coverage, label="14.7") is answer
    assert "[using your mode_coverage, which passed exercise 14.7]" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", [m.id for m in ch14._COVERAGE_MISTAKES])
def test_mode_coverage_mistakes(mistake):
    wrong = next(m.compute for m in ch14._COVERAGE_MISTAKES if m.id == mistake)
    fails_with(ch14.check_mode_coverage, wrong, mistake=mistake)
    assert learner.accepted("mode_coverage") is None


def test_mode_coverage_delegation_and_fallback(capsys):
    fails_with(ch14.check_mode_coverage, lambda s, c, std, num_std=3.0: tuple(
        gan_diagnostics.mode_coverage(s, c, std, num_std))[::-1][:3], mistake="delegates-to-reference")
    assert learner.implementation("mode_coverage", ch14.course_mode_coverage, label="14.7") is ch14.course_mode_coverage
    assert "[using dlcore's mode_coverage until exercise 14.7 passes]" in capsys.readouterr().out
    with pytest.raises(NotImplementedError, match="Exercise 14.7 is not done yet"):
        ch14.check_mode_coverage(not_done)


# ---------------------------------------------------------------- 14.8

def loop_plain(gan, num_rounds, d_steps=1, g_steps=1, record_every=50, num_samples=1000, count_modes=None):
    d_step, g_step = gan.steps
    history = {key: [] for key in ("d_loss", "g_loss", "d_real", "d_fake", "rounds", "samples", "modes_covered")}
    fixed_z = gan.sample_latent(num_samples)
    for round_number in range(1, num_rounds + 1):
        for _ in range(d_steps):
            real = gan.sample_real()
            d_values = d_step(gan.generator, gan.discriminator, gan.opt_d, real, gan.sample_latent())
        for _ in range(g_steps):
            g_loss = g_step(gan.generator, gan.discriminator, gan.opt_g, gan.sample_latent(), gan.loss)
        for key, value in zip(("d_loss", "d_real", "d_fake"), d_values):
            history[key].append(value)
        history["g_loss"].append(g_loss)
        if round_number % record_every == 0:
            samples = gan.generate(fixed_z)
            history["rounds"].append(round_number)
            history["samples"].append(samples)
            if count_modes:
                history["modes_covered"].append(count_modes(samples))
    return history


def loop_while(gan, num_rounds, d_steps=1, g_steps=1, record_every=50, num_samples=1000, count_modes=None):
    """A while loop, batches drawn ahead for the whole round, lists built apart and put in a dict at the end."""
    z_fixed = gan.sample_latent(num_samples)
    losses, outputs, rounds, samples, modes = [], [], [], [], []
    done = 0
    while done < num_rounds:
        d_batches = [(gan.sample_real(), gan.sample_latent()) for _ in range(d_steps)]
        for real, noise in d_batches:
            d_loss, d_real, d_fake = gan.steps[0](gan.generator, gan.discriminator, gan.opt_d, real, noise)
        g_batches = [gan.sample_latent() for _ in range(g_steps)]
        for noise in g_batches:
            g_loss = gan.steps[1](gan.generator, gan.discriminator, gan.opt_g, noise, loss=gan.loss)
        losses.append((d_loss, g_loss))
        outputs.append((d_real, d_fake))
        done += 1
        if done % record_every == 0:
            rounds.append(done)
            samples.append(gan.generate(z_fixed))
            if count_modes is not None:
                modes.append(count_modes(samples[-1]))
    return {"d_loss": [a for a, _ in losses], "g_loss": [b for _, b in losses], "d_real": [a for a, _ in outputs],
            "d_fake": [b for _, b in outputs], "rounds": rounds, "samples": samples, "modes_covered": modes}


@pytest.mark.parametrize("loop", [loop_plain, loop_while])
def test_training_loop_passes_two_ways_and_the_chapter_trains_in_it(loop, capsys):
    assert ch14.check_training_loop(loop).passed
    assert learner.implementation("train_gan", gan_loop.train_gan, label="14.8") is loop
    assert "[using your train_gan, which passed exercise 14.8]" in capsys.readouterr().out


LOOP_SWITCHES = {"loop-d-steps-ignored": "d_steps_ignored", "loop-g-steps-ignored": "g_steps_ignored",
                 "loop-batch-reused": "batch_reused", "loop-noise-drawn-first": "noise_first",
                 "loop-g-reuses-d-noise": "g_reuses_d_noise", "loop-g-first": "g_first",
                 "loop-loss-ignored": "loss_ignored", "loop-fresh-noise-per-record": "fresh_noise_per_record",
                 "loop-rounds-from-zero": "rounds_from_zero", "loop-every-step-recorded": "every_step_recorded",
                 "loop-losses-only-at-records": "losses_only_at_records"}


def test_every_loop_mistake_is_tested():
    assert set(LOOP_SWITCHES) == {m.id for m in ch14._LOOP_MISTAKES}


@pytest.mark.parametrize("mistake", list(LOOP_SWITCHES))
def test_training_loop_mistakes(mistake):
    fails_with(ch14.check_training_loop, ch14._loop_variant(**{LOOP_SWITCHES[mistake]: True}), mistake=mistake)
    assert learner.accepted("train_gan") is None


def loop_batch_once(gan, num_rounds, d_steps=1, g_steps=1, record_every=50, num_samples=1000, count_modes=None):
    """Written as a learner would: one real batch and one noise batch per round, for every step of it."""
    history = {key: [] for key in ("d_loss", "g_loss", "d_real", "d_fake", "rounds", "samples", "modes_covered")}
    fixed_z = gan.sample_latent(num_samples)
    for round_number in range(1, num_rounds + 1):
        real, z = gan.sample_real(), gan.sample_latent()
        for _ in range(d_steps):
            d_loss, d_real, d_fake = gan.steps[0](gan.generator, gan.discriminator, gan.opt_d, real, z)
        for _ in range(g_steps):
            g_loss = gan.steps[1](gan.generator, gan.discriminator, gan.opt_g, z, gan.loss)
        for key, value in (("d_loss", d_loss), ("g_loss", g_loss), ("d_real", d_real), ("d_fake", d_fake)):
            history[key].append(value)
        if round_number % record_every == 0:
            history["rounds"].append(round_number)
            history["samples"].append(gan.generate(fixed_z))
            history["modes_covered"].append(count_modes(history["samples"][-1]))
    return history


def loop_forgets_loss(gan, num_rounds, d_steps=1, g_steps=1, record_every=50, num_samples=1000, count_modes=None):
    """Written as a learner would: the generator steps never get the GAN's loss."""
    history = {key: [] for key in ("d_loss", "g_loss", "d_real", "d_fake", "rounds", "samples", "modes_covered")}
    fixed_z = gan.sample_latent(num_samples)
    for round_number in range(1, num_rounds + 1):
        for _ in range(d_steps):
            real, z = gan.sample_real(), gan.sample_latent()
            d_loss, d_real, d_fake = gan.steps[0](gan.generator, gan.discriminator, gan.opt_d, real, z)
        for _ in range(g_steps):
            g_loss = gan.steps[1](gan.generator, gan.discriminator, gan.opt_g, gan.sample_latent())
        for key, value in (("d_loss", d_loss), ("g_loss", g_loss), ("d_real", d_real), ("d_fake", d_fake)):
            history[key].append(value)
        if round_number % record_every == 0:
            history["rounds"].append(round_number)
            history["samples"].append(gan.generate(fixed_z))
            history["modes_covered"].append(count_modes(history["samples"][-1]))
    return history


def test_hand_written_loop_mistakes_are_recognised():
    # one noise batch per round: its generator step trains on the discriminator's noise (seen in the first case)
    fails_with(ch14.check_training_loop, loop_batch_once, mistake="loop-g-reuses-d-noise",
               fragments=("reuses the noise of the discriminator step",))
    fails_with(ch14.check_training_loop, loop_forgets_loss, mistake="loop-loss-ignored", fragments=("gan.loss",))


def test_training_loop_delegation_not_done_and_bad_returns():
    fails_with(ch14.check_training_loop, lambda gan, *args, **kwargs: gan_loop.train_gan(gan, *args, **kwargs),
               mistake="delegates-to-reference", fragments=("dlcore.models.gan_loop.train_gan",))

    def loop_through_methods(gan, num_rounds, d_steps=1, g_steps=1, record_every=50, num_samples=1000,
                             count_modes=None):
        gan.fit(num_rounds, d_steps=d_steps, g_steps=g_steps, record_every=record_every, keep_samples=num_samples)
        return loop_plain(gan, 0)

    fails_with(ch14.check_training_loop, loop_through_methods, mistake="delegates-to-reference",
               fragments=("Gan.fit",))
    with pytest.raises(NotImplementedError, match="Exercise 14.8 is not done yet"):
        ch14.check_training_loop(lambda *args, **kwargs: not_done())
    fails_with(ch14.check_training_loop, lambda *args, **kwargs: None, fragments=("returned None",))
    fails_with(ch14.check_training_loop, lambda *args, **kwargs: {"d_loss": []}, fragments=("'d_real'",))
    fails_with(ch14.check_training_loop, lambda *args, **kwargs: [], fragments=("as a dict",))
    assert learner.implementation("train_gan", gan_loop.train_gan, label="14.8") is gan_loop.train_gan


def loop_counts_modes_always(gan, num_rounds, d_steps=1, g_steps=1, record_every=50, num_samples=1000,
                             count_modes=None):
    """Right on every case with a mode count; calls count_modes even when it is None (the digit GAN's case)."""
    d_step, g_step = gan.steps
    history = {key: [] for key in ("d_loss", "g_loss", "d_real", "d_fake", "rounds", "samples", "modes_covered")}
    fixed_z = gan.sample_latent(num_samples)
    for round_number in range(1, num_rounds + 1):
        for _ in range(d_steps):
            d_values = d_step(gan.generator, gan.discriminator, gan.opt_d, gan.sample_real(), gan.sample_latent())
        for _ in range(g_steps):
            g_loss = g_step(gan.generator, gan.discriminator, gan.opt_g, gan.sample_latent(), gan.loss)
        for key, value in zip(("d_loss", "d_real", "d_fake"), d_values):
            history[key].append(value)
        history["g_loss"].append(g_loss)
        if round_number % record_every == 0:
            samples = gan.generate(fixed_z)
            history["rounds"].append(round_number)
            history["samples"].append(samples)
            history["modes_covered"].append(count_modes(samples))
    return history


def test_loop_that_needs_a_mode_count_fails_on_the_case_without_one():
    failure = fails_with(ch14.check_training_loop, loop_counts_modes_always, fragments=("count_modes=None", "TypeError"))
    assert "Traceback" not in str(failure)
    assert learner.accepted("train_gan") is None
