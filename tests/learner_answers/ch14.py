"""Answers a student might write for chapter 14 (tests/test_build_exercises.py runs the student notebook on them)."""

RIGHT = {
    "14.6": '''
import torch.nn.functional as F


def discriminator_step(generator, discriminator, opt_d, real, z):
    fake = generator(z).detach()
    logits = discriminator(torch.cat([real, fake]))
    n = len(real)
    is_real = torch.cat([torch.ones(n, 1, dtype=logits.dtype), torch.zeros(len(fake), 1, dtype=logits.dtype)])
    loss = (F.binary_cross_entropy_with_logits(logits[:n], is_real[:n])
            + F.binary_cross_entropy_with_logits(logits[n:], is_real[n:]))
    for parameter in discriminator.parameters():
        parameter.grad = None
    loss.backward()
    opt_d.step()
    probability = torch.sigmoid(logits.detach())
    return float(loss), float(probability[:n].mean()), float(probability[n:].mean())


def generator_step(generator, discriminator, opt_g, z, loss="non_saturating"):
    logits = discriminator(generator(z))
    if loss == "minimax":
        value = -F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits))
    else:
        value = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    opt_g.zero_grad()
    value.backward()
    opt_g.step()
    return float(value)
''',
    "14.8": '''
def train_gan(gan, num_rounds, d_steps=1, g_steps=1, record_every=50, num_samples=1000, count_modes=None):
    keys = ("d_loss", "g_loss", "d_real", "d_fake", "rounds", "samples", "modes_covered")
    history = dict((key, []) for key in keys)
    z_for_records = gan.sample_latent(num_samples)
    finished = 0
    while finished < num_rounds:
        d_batches = [(gan.sample_real(), gan.sample_latent()) for _ in range(d_steps)]
        for real, noise in d_batches:
            last_d = gan.steps[0](gan.generator, gan.discriminator, gan.opt_d, real, noise)
        g_batches = [gan.sample_latent() for _ in range(g_steps)]
        for noise in g_batches:
            last_g = gan.steps[1](gan.generator, gan.discriminator, gan.opt_g, noise, loss=gan.loss)
        history["d_loss"].append(last_d[0])
        history["d_real"].append(last_d[1])
        history["d_fake"].append(last_d[2])
        history["g_loss"].append(last_g)
        finished += 1
        if finished % record_every == 0:
            made = gan.generate(z_for_records)
            history["rounds"].append(finished)
            history["samples"].append(made)
            if count_modes:
                history["modes_covered"].append(count_modes(made))
    return history
''',
}

WRONG = {
    "14.7": '''
def mode_coverage(samples, centers, std, num_std=3.0):
    distance = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=2)
    nearest = distance.argmin(axis=1)
    counts = np.bincount(nearest, minlength=len(centers))
    covered = int(np.sum(counts >= len(samples) / (4 * len(centers))))
    return counts, covered, 1.0
''',
    "14.8": '''
def train_gan(gan, num_rounds, d_steps=1, g_steps=1, record_every=50, num_samples=1000, count_modes=None):
    discriminator_step, generator_step = gan.steps
    history = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": [], "rounds": [], "samples": [],
               "modes_covered": []}
    fixed_z = gan.sample_latent(num_samples)
    for round_number in range(1, num_rounds + 1):
        real = gan.sample_real()
        z = gan.sample_latent()
        for _ in range(d_steps):  # the same batch for every discriminator step
            d_loss, d_real, d_fake = discriminator_step(gan.generator, gan.discriminator, gan.opt_d, real, z)
        for _ in range(g_steps):
            g_loss = generator_step(gan.generator, gan.discriminator, gan.opt_g, gan.sample_latent(), gan.loss)
        history["d_loss"].append(d_loss)
        history["g_loss"].append(g_loss)
        history["d_real"].append(d_real)
        history["d_fake"].append(d_fake)
        if round_number % record_every == 0:
            samples = gan.generate(fixed_z)
            history["rounds"].append(round_number)
            history["samples"].append(samples)
            if count_modes is not None:
                history["modes_covered"].append(count_modes(samples))
    return history
''',
}

USES = {"14.6": "discriminator_step", "14.7": "mode_coverage", "14.8": "train_gan"}
