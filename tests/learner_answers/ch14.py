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
}

USES = {"14.6": "discriminator_step", "14.7": "mode_coverage"}
