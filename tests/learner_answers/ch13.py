"""Answers a student might write for chapter 13 (tests/test_build_exercises.py runs the student notebook on them)."""

RIGHT = {
    "13.1": '''
def kl_two_gaussians(m1, s1, m2, s2):
    variance_ratio = (s1 / s2) ** 2
    return 0.5 * (variance_ratio + (m1 - m2) ** 2 / s2 ** 2 - 1.0 - np.log(variance_ratio))
''',
    "13.2": '''
def reparameterize(mu, logvar, eps):
    return torch.addcmul(mu, torch.exp(logvar / 2), eps)


def gaussian_kl(mu, logvar):
    variance = logvar.exp()
    return 0.5 * torch.sum(mu * mu + variance - logvar, dim=1) - 0.5 * mu.shape[1]


def gaussian_kl_monte_carlo(mu, logvar, num_samples, generator):
    noise = torch.randn((num_samples,) + tuple(mu.shape), generator=generator, dtype=mu.dtype)
    q = torch.distributions.Normal(mu, torch.exp(logvar / 2))
    z = q.loc + q.scale * noise
    prior = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    return torch.mean(torch.sum(q.log_prob(z) - prior.log_prob(z), dim=-1), dim=0)


def bernoulli_nll(logits, x):
    log_p1 = torch.nn.functional.logsigmoid(logits)
    log_p0 = torch.nn.functional.logsigmoid(-logits)
    return -(x * log_p1 + (1 - x) * log_p0).sum(dim=1)


def negative_elbo(logits, x, mu, logvar, beta=1.0):
    reconstruction = torch.mean(bernoulli_nll(logits, x))
    kl = torch.mean(gaussian_kl(mu, logvar))
    loss = reconstruction + beta * kl
    return loss, reconstruction, kl
''',
}

WRONG = {
    "13.3": '''
from dlcore.scratch.rbm import sample_bernoulli


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def free_energy(v, W, b, c):
    return -v @ b - np.logaddexp(0.0, v @ W + c).sum(axis=1)


def hidden_probabilities(v, W, c):
    return sigmoid(v @ W + c)


def visible_probabilities(h, W, b):
    return sigmoid(h @ W.T + b)


def cd_gradient(v0, W, b, c, k, rng):
    v = v0
    for _ in range(k):
        h = sample_bernoulli(hidden_probabilities(v, W, c), rng)
        v = sample_bernoulli(visible_probabilities(h, W, b), rng)
    ph0 = hidden_probabilities(v0, W, c)
    N = len(v0)
    dW = (v0.T @ ph0 - v.T @ ph0) / N  # the model term reuses the data's hidden probabilities
    db = (v0 - v).mean(axis=0)
    dc = np.zeros_like(c)
    return (dW, db, dc), v
''',
}

USES = {"13.2": "negative_elbo", "13.3": "cd_gradient"}
