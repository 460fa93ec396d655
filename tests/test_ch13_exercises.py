"""Chapter 13 checks: each passes two different correct answers, fails plausible wrong ones with their diagnosis
(and stable mistake id), fails an answer that calls dlcore's (or PyTorch's) version, and reports an untouched
stub as not done."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore.exercises import ch13
from dlcore.exercises.core import ExerciseFailed
from dlcore.exercises.learner import accepted, forget_accepted, implementation
from dlcore.models import autoencoders as ae
from dlcore.scratch import rbm
from tests.learner_answers import ch13 as answers
from tests.helpers import not_done


def _answer(source: str) -> dict:
    namespace = {"np": np, "torch": torch}
    exec(source, namespace)
    return namespace


def _failure(check, *answer) -> ExerciseFailed:
    with pytest.raises(ExerciseFailed) as caught:
        check(*answer)
    return caught.value


# ---------------------------------------------------------------- 13.1 KL of two Gaussians

def _kl_solution(m1, s1, m2, s2):
    return np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5


def test_kl_passes_two_correct_answers():
    assert ch13.check_kl_two_gaussians(_kl_solution).passed
    assert ch13.check_kl_two_gaussians(_answer(answers.RIGHT["13.1"])["kl_two_gaussians"]).passed


@pytest.mark.parametrize("wrong, mistake, message", [
    (lambda m1, s1, m2, s2: _kl_solution(m2, s2, m1, s1), "kl-arguments-swapped", "not symmetric"),
    (lambda m1, s1, m2, s2: 0.5 * np.log(s2 / s1) + (s1 + (m1 - m2) ** 2) / (2 * s2) - 0.5, "kl-std-as-variance",
     "you treated s1 and s2 as variances"),
    (lambda m1, s1, m2, s2: np.log(s2 / s1) + (s1 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5, "kl-std-in-spread",
     "you used the standard deviation s1"),
    (lambda m1, s1, m2, s2: np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2), "kl-no-constant",
     "-1/2 is missing"),
    (lambda m1, s1, m2, s2: np.log(s2 ** 2 / s1 ** 2) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5,
     "kl-log-doubled", "twice too big"),
    (lambda m1, s1, m2, s2: np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / s2 ** 2 - 0.5, "kl-no-half", "factor 1/2"),
    (lambda m1, s1, m2, s2: np.log(s1 / s2) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5, "kl-log-sign",
     "wrong sign"),
])
def test_kl_mistakes_are_named(wrong, mistake, message):
    failure = _failure(ch13.check_kl_two_gaussians, wrong)
    assert failure.mistake == mistake and message in failure.problem


def test_kl_reference_matches_monte_carlo():
    rng = np.random.default_rng(0)
    x = rng.normal(0.5, 0.8, 400_000)
    log_q1 = -0.5 * ((x - 0.5) / 0.8) ** 2 - np.log(0.8)
    log_q2 = -0.5 * ((x + 1.0) / 1.5) ** 2 - np.log(1.5)
    assert abs(np.mean(log_q1 - log_q2) - ch13.reference_kl_two_gaussians(0.5, 0.8, -1.0, 1.5)) < 5e-3


def test_kl_not_done():
    with pytest.raises(NotImplementedError, match="13.1 is not done yet"):
        ch13.check_kl_two_gaussians(not_done)


# ---------------------------------------------------------------- 13.2 the VAE's loss

def reparameterize(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_kl(mu, logvar):
    return (0.5 * (mu ** 2 + torch.exp(logvar) - 1.0 - logvar)).sum(dim=1)


def gaussian_kl_monte_carlo(mu, logvar, num_samples, generator):
    sigma = torch.exp(0.5 * logvar)
    eps = torch.randn((num_samples, *mu.shape), generator=generator, dtype=mu.dtype)
    z = mu + sigma * eps
    return ((-0.5 * eps ** 2 - torch.log(sigma)).sum(dim=2) - (-0.5 * z ** 2).sum(dim=2)).mean(dim=0)


def bernoulli_nll(logits, x):
    magnitude = torch.log1p(torch.exp(-logits.abs()))
    return (x * (torch.clamp(-logits, min=0) + magnitude) + (1 - x) * (torch.clamp(logits, min=0) + magnitude)).sum(dim=1)


def negative_elbo(logits, x, mu, logvar, beta=1.0):
    reconstruction = bernoulli_nll(logits, x).mean()
    kl = gaussian_kl(mu, logvar).mean()
    return reconstruction + beta * kl, reconstruction, kl


VAE_SOLUTION = (reparameterize, gaussian_kl, gaussian_kl_monte_carlo, bernoulli_nll, negative_elbo)


def _vae_with(**changes):
    names = ("reparameterize", "gaussian_kl", "gaussian_kl_monte_carlo", "bernoulli_nll", "negative_elbo")
    return tuple(changes.get(name, function) for name, function in zip(names, VAE_SOLUTION))


def test_negative_elbo_passes_two_correct_answers(capsys):
    assert ch13.check_negative_elbo(*VAE_SOLUTION).passed
    forget_accepted()
    other = _answer(answers.RIGHT["13.2"])
    assert ch13.check_negative_elbo(other["reparameterize"], other["gaussian_kl"], other["gaussian_kl_monte_carlo"],
                                    other["bernoulli_nll"], other["negative_elbo"]).passed
    assert implementation("negative_elbo", ae.negative_elbo, label="13.2") is other["negative_elbo"]
    assert implementation("reparameterize", ae.reparameterize, label="13.2") is other["reparameterize"]
    assert "[using your negative_elbo, which passed exercise 13.2]" in capsys.readouterr().out


def _nll_naive(l, x):
    s = torch.sigmoid(l)
    return -(x * torch.log(s) + (1 - x) * torch.log(1 - s)).sum(dim=1)


def _monte_carlo_with(log_std=True, standardise=True, average=True, reverse=False):
    def wrong(mu, logvar, num_samples, generator):
        sigma = torch.exp(0.5 * logvar)
        eps = torch.randn((num_samples, *mu.shape), generator=generator, dtype=mu.dtype)
        z = mu + sigma * eps
        log_q = (-0.5 * (eps if standardise else z) ** 2 - (torch.log(sigma) if log_std else 0)).sum(2)
        log_p = (-0.5 * z ** 2).sum(2)
        difference = log_p - log_q if reverse else log_q - log_p
        return difference.mean(0) if average else difference.sum(0)
    return wrong


@pytest.mark.parametrize("changes, mistake", [
    (dict(reparameterize=lambda m, lv, e: m + torch.sqrt(lv) * e), "logvar-as-variance"),
    (dict(reparameterize=lambda m, lv, e: m + torch.exp(lv) * e), "variance-as-scale"),
    (dict(reparameterize=lambda m, lv, e: m + lv * e), "logvar-as-sigma"),
    (dict(reparameterize=lambda m, lv, e: m + torch.exp(-lv / 2) * e), "exponent-sign"),
    (dict(reparameterize=lambda m, lv, e: m + torch.exp(0.5 * lv)), "eps-ignored"),
    (dict(reparameterize=lambda m, lv, e: m), "eps-ignored"),
    (dict(reparameterize=lambda m, lv, e: torch.exp(0.5 * lv) * e), "mean-missing"),
    (dict(gaussian_kl=lambda m, lv: 0.5 * (m ** 2 + torch.exp(lv / 2) - 1 - lv).sum(1)), "kl-sigma-not-squared"),
    (dict(gaussian_kl=lambda m, lv: 0.5 * (m ** 2 + torch.exp(lv) - lv).sum(1)), "kl-no-minus-one"),
    (dict(gaussian_kl=lambda m, lv: 0.5 * (m ** 2 + torch.exp(lv) - 1 - lv).mean(1)), "kl-mean-over-latent"),
    (dict(gaussian_kl=lambda m, lv: 0.5 * (m ** 2 + torch.exp(lv) - 1 - lv)), "kl-not-summed"),
    (dict(gaussian_kl_monte_carlo=_monte_carlo_with(reverse=True)), "mc-reversed"),
    (dict(gaussian_kl_monte_carlo=_monte_carlo_with(average=False)), "mc-sum-not-mean"),
    (dict(gaussian_kl_monte_carlo=_monte_carlo_with(log_std=False)), "mc-no-log-std"),
    (dict(gaussian_kl_monte_carlo=_monte_carlo_with(standardise=False)), "mc-unstandardised"),
    (dict(bernoulli_nll=lambda l, x: ((torch.sigmoid(l) - x) ** 2).sum(1)), "squared-error-likelihood"),
    (dict(bernoulli_nll=_nll_naive), "nll-from-probabilities"),
    (dict(bernoulli_nll=lambda l, x: -bernoulli_nll(l, x)), "nll-sign"),
    (dict(bernoulli_nll=lambda l, x: bernoulli_nll(l, x) / x.shape[1]),
     "nll-mean-over-pixels"),
    (dict(negative_elbo=lambda l, x, m, lv, beta=1.0: (bernoulli_nll(l, x).mean() - beta * gaussian_kl(m, lv).mean(),
                                                       bernoulli_nll(l, x).mean(), gaussian_kl(m, lv).mean())),
     "elbo-kl-sign"),
    (dict(negative_elbo=lambda l, x, m, lv, beta=1.0: (bernoulli_nll(l, x).sum() + beta * gaussian_kl(m, lv).sum(),
                                                       bernoulli_nll(l, x).sum(), gaussian_kl(m, lv).sum())),
     "elbo-batch-sum"),
    (dict(negative_elbo=lambda l, x, m, lv, beta=1.0: negative_elbo(l, x, m, lv)), "elbo-beta-ignored"),
])
def test_negative_elbo_mistakes_are_named(changes, mistake):
    assert _failure(ch13.check_negative_elbo, *_vae_with(**changes)).mistake == mistake
    assert accepted("negative_elbo") is None


def test_reparameterize_sqrt_of_logvar_is_named_not_an_overflow():
    failure = _failure(ch13.check_negative_elbo, *_vae_with(reparameterize=lambda m, lv, e: m + torch.sqrt(lv) * e))
    assert "as if logvar were the variance" in failure.problem and "exp(logvar / 2)" not in str(failure) and "overflow" not in str(failure)


def test_reparameterize_that_draws_its_own_noise_is_named():
    failure = _failure(ch13.check_negative_elbo,
                       *_vae_with(reparameterize=lambda m, lv, e: m + torch.exp(0.5 * lv) * torch.randn_like(m)))
    assert "draws its own noise" in failure.problem


def test_negative_elbo_without_a_gradient_path_fails():
    def detached(l, x, m, lv, beta=1.0):
        loss, reconstruction, kl = negative_elbo(l, x, m, lv, beta)
        return loss.detach(), reconstruction, kl
    assert _failure(ch13.check_negative_elbo, *_vae_with(negative_elbo=detached)).mistake == "no-gradient-path"


@pytest.mark.parametrize("changes", [
    dict(bernoulli_nll=lambda l, x: ae.bernoulli_nll(l, x)),
    dict(bernoulli_nll=lambda l, x: F.binary_cross_entropy_with_logits(l, x, reduction="none").sum(1)),
    dict(gaussian_kl=lambda m, lv: ae.gaussian_kl(m, lv)),
    dict(gaussian_kl_monte_carlo=lambda m, lv, s, g: ae.gaussian_kl_monte_carlo(m, lv, s, g)),
    dict(gaussian_kl_monte_carlo=lambda m, lv, s, g: torch.distributions.kl_divergence(
        torch.distributions.Normal(m, torch.exp(lv / 2)), torch.distributions.Normal(0.0, 1.0)).sum(1)),
    dict(reparameterize=lambda m, lv, e: ae.reparameterize(m, lv, e)),
    dict(negative_elbo=lambda l, x, m, lv, beta=1.0: ae.negative_elbo(l, x, m, lv, beta)),
])
def test_negative_elbo_that_calls_the_course_or_torch_fails(changes):
    assert _failure(ch13.check_negative_elbo, *_vae_with(**changes)).mistake == "delegates-to-reference"


def test_negative_elbo_not_done():
    with pytest.raises(NotImplementedError, match="13.2 is not done yet"):
        ch13.check_negative_elbo(*_vae_with(bernoulli_nll=not_done))


def test_vae_trains_on_the_learners_functions():
    calls = []

    def counted(*args):
        calls.append(1)
        return negative_elbo(*args)

    torch.manual_seed(0)
    model = ae.VAE(8, 2, (8,), dtype=torch.float64)
    X = torch.rand((32, 8), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    history = ae.train_vae(model, X, num_epochs=2, batch_size=16, generator=torch.Generator().manual_seed(1),
                           loss_function=counted, sample=reparameterize)
    assert len(calls) == 4 and len(history["loss"]) == 2


# ---------------------------------------------------------------- 13.3 the RBM

def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def free_energy(v, W, b, c):
    return -v @ b - np.logaddexp(0.0, v @ W + c).sum(axis=1)


def hidden_probabilities(v, W, c):
    return _sigmoid(v @ W + c)


def visible_probabilities(h, W, b):
    return _sigmoid(h @ W.T + b)


def cd_gradient(v0, W, b, c, k, rng):
    v = v0
    for _ in range(k):
        h = rbm.sample_bernoulli(hidden_probabilities(v, W, c), rng)
        v = rbm.sample_bernoulli(visible_probabilities(h, W, b), rng)
    N = len(v0)
    data_h, model_h = hidden_probabilities(v0, W, c), hidden_probabilities(v, W, c)
    return ((v0.T @ data_h) / N - (v.T @ model_h) / N, v0.mean(0) - v.mean(0), data_h.mean(0) - model_h.mean(0)), v


def other_cd_gradient(v0, W, b, c, k, rng):
    """Draws with rng.random directly, and forms the statistics with einsum."""
    v = v0.copy()
    for step in range(k):
        p_h = 1.0 / (1.0 + np.exp(-(v @ W + c)))
        h = (rng.random(p_h.shape) < p_h).astype(float)
        p_v = 1.0 / (1.0 + np.exp(-(h @ W.T + b)))
        v = (rng.random(p_v.shape) < p_v).astype(float)
    positive, negative = hidden_probabilities(v0, W, c), hidden_probabilities(v, W, c)
    dW = (np.einsum("ni,nj->ij", v0, positive) - np.einsum("ni,nj->ij", v, negative)) / v0.shape[0]
    return (dW, np.mean(v0 - v, axis=0), np.mean(positive - negative, axis=0)), v


RBM_SOLUTION = (free_energy, hidden_probabilities, visible_probabilities, cd_gradient)


def _rbm_with(**changes):
    names = ("free_energy", "hidden_probabilities", "visible_probabilities", "cd_gradient")
    return tuple(changes.get(name, function) for name, function in zip(names, RBM_SOLUTION))


def test_rbm_passes_two_correct_answers(capsys):
    assert ch13.check_rbm(*RBM_SOLUTION).passed
    forget_accepted()

    def other_free_energy(v, W, b, c):
        activations = v @ W + c
        return -(v * b).sum(axis=1) - np.sum(np.maximum(activations, 0) + np.log1p(np.exp(-np.abs(activations))), axis=1)

    def other_hidden(v, W, c):
        return np.exp(-np.logaddexp(0.0, -(v @ W + c)))

    def other_visible(h, W, b):
        return np.exp(-np.logaddexp(0.0, -(h @ W.T + b)))

    assert ch13.check_rbm(other_free_energy, other_hidden, other_visible, other_cd_gradient).passed
    assert implementation("cd_gradient", rbm.cd_gradient, label="13.3") is other_cd_gradient
    assert "[using your cd_gradient, which passed exercise 13.3]" in capsys.readouterr().out


def _cd_with(**options):
    def wrong(v0, W, b, c, k, rng):
        v, first_h = v0, None
        for _ in range(1 if options.get("one_step") else k):
            ph = hidden_probabilities(v, W, c)
            h = ph if options.get("mean_field") else rbm.sample_bernoulli(ph, rng)
            first_h = h if first_h is None else first_h
            v = rbm.sample_bernoulli(visible_probabilities(h, W, b), rng)
        data_h = first_h if options.get("sampled") else hidden_probabilities(v0, W, c)
        model_h = hidden_probabilities(v, W, c)
        N = 1 if options.get("sum") else len(v0)
        sign = -1 if options.get("sign") else 1
        return (sign * (v0.T @ data_h - v.T @ model_h) / N, sign * (v0 - v).sum(0) / N,
                sign * (data_h - model_h).sum(0) / N), v
    return wrong


@pytest.mark.parametrize("changes, mistake", [
    (dict(free_energy=lambda v, W, b, c: -np.logaddexp(0.0, v @ W + c).sum(axis=1)), "free-energy-no-visible-bias"),
    (dict(free_energy=lambda v, W, b, c: v @ b + np.logaddexp(0.0, v @ W + c).sum(axis=1)), "free-energy-sign"),
    (dict(free_energy=lambda v, W, b, c: -v @ b - (v @ W + c).sum(axis=1)), "free-energy-linear"),
    (dict(free_energy=lambda v, W, b, c: -v @ b - np.logaddexp(0.0, v @ W).sum(axis=1)), "free-energy-no-hidden-bias"),
    (dict(hidden_probabilities=lambda v, W, c: _sigmoid(v @ W)), "conditional-no-bias"),
    (dict(hidden_probabilities=lambda v, W, c: v @ W + c), "conditional-no-sigmoid"),
    (dict(visible_probabilities=lambda h, W, b: _sigmoid(-(h @ W.T + b))), "conditional-sigmoid-sign"),
    (dict(cd_gradient=_cd_with(sign=True)), "cd-sign"),
    (dict(cd_gradient=_cd_with(sum=True)), "cd-sum-not-mean"),
    (dict(cd_gradient=_cd_with(one_step=True)), "cd-k-ignored"),
    (dict(cd_gradient=_cd_with(mean_field=True)), "cd-mean-field-hidden"),
    (dict(cd_gradient=_cd_with(sampled=True)), "cd-sampled-data-term"),
    (dict(cd_gradient=_answer(answers.WRONG["13.3"])["cd_gradient"]), "cd-model-hidden-from-data"),
    (dict(cd_gradient=lambda v0, W, b, c, k, rng: cd_gradient(v0, W, b, c, k, rng)[0]), "cd-return-structure"),
])
def test_rbm_mistakes_are_named(changes, mistake):
    assert _failure(ch13.check_rbm, *_rbm_with(**changes)).mistake == mistake
    assert accepted("cd_gradient") is None


def test_rbm_overflow_is_explained():
    naive = _failure(ch13.check_rbm, *_rbm_with(free_energy=lambda v, W, b, c: -v @ b - np.log(1 + np.exp(v @ W + c)).sum(1)))
    assert "warned" in naive.problem and "np.logaddexp" in naive.hint
    naive = _failure(ch13.check_rbm, *_rbm_with(hidden_probabilities=lambda v, W, c: 1 / (1 + np.exp(-(v @ W + c)))))
    assert "warned" in naive.problem and "never exponentiates" in naive.hint


@pytest.mark.parametrize("changes", [
    dict(free_energy=lambda v, W, b, c: rbm.free_energy(v, W, b, c)),
    dict(hidden_probabilities=lambda v, W, c: rbm.hidden_probabilities(v, W, c)),
    dict(cd_gradient=lambda v0, W, b, c, k, rng: rbm.cd_gradient(v0, W, b, c, k=k, rng=rng)),
])
def test_rbm_that_calls_the_course_fails(changes):
    assert _failure(ch13.check_rbm, *_rbm_with(**changes)).mistake == "delegates-to-reference"


def test_rbm_not_done():
    with pytest.raises(NotImplementedError, match="13.3 is not done yet"):
        ch13.check_rbm(*_rbm_with(cd_gradient=not_done))


def test_rbm_and_dbn_train_on_the_learners_cd_gradient():
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return cd_gradient(*args, **kwargs)

    X = (np.random.default_rng(0).random((40, 6)) < 0.5).astype(float)
    machine = rbm.RBM(6, 3, rng=np.random.default_rng(1))
    ours = machine.fit(X, num_epochs=2, batch_size=20, rng=np.random.default_rng(2), gradient=counted)
    reference = rbm.RBM(6, 3, rng=np.random.default_rng(1)).fit(X, num_epochs=2, batch_size=20,
                                                                rng=np.random.default_rng(2))
    assert len(calls) == 4 and np.allclose(ours, reference, rtol=1e-12)
    from dlcore.scratch.dbn import DBN
    DBN([6, 4, 2], rng=np.random.default_rng(3)).pretrain(X, num_epochs=1, batch_size=20, rng=np.random.default_rng(4),
                                                          gradient=counted)
    assert len(calls) == 8


# ---------------------------------------------------------------- 13.4 the exact gradient

def exact_gradient(v, W, b, c):
    D = W.shape[0]
    every = ((np.arange(2 ** D)[:, None] >> np.arange(D)) & 1).astype(float)
    minus_f = -free_energy(every, W, b, c)
    p = np.exp(minus_f - np.logaddexp.reduce(minus_f))
    model_h, data_h = hidden_probabilities(every, W, c), hidden_probabilities(v, W, c)
    return (v.T @ data_h / len(v) - every.T @ (p[:, None] * model_h), v.mean(0) - p @ every,
            data_h.mean(0) - p @ model_h)


def other_exact_gradient(v, W, b, c):
    """Loops over the 2^D vectors with itertools, and normalises with a shifted sum."""
    import itertools
    every = np.array(list(itertools.product([0.0, 1.0], repeat=W.shape[0])))
    minus_f = -free_energy(every, W, b, c)
    unnormalised = np.exp(minus_f - minus_f.max())
    p = unnormalised / unnormalised.sum()
    model_h, data_h = hidden_probabilities(every, W, c), hidden_probabilities(v, W, c)
    model = np.einsum("k,ki,kj->ij", p, every, model_h)
    return np.mean(v[:, :, None] * data_h[:, None, :], axis=0) - model, v.mean(0) - every.T @ p, data_h.mean(0) - model_h.T @ p


def test_exact_gradient_passes_two_correct_answers(capsys):
    assert ch13.check_exact_gradient(exact_gradient).passed
    assert ch13.check_exact_gradient(other_exact_gradient).passed
    assert implementation("exact_gradient", rbm.exact_gradient, label="13.4") is other_exact_gradient


def _exact_naive(v, W, b, c):
    D = W.shape[0]
    every = rbm.all_binary_vectors(D)
    weights = np.exp(-free_energy(every, W, b, c))
    p = weights / weights.sum()
    model_h, data_h = hidden_probabilities(every, W, c), hidden_probabilities(v, W, c)
    return (v.T @ data_h / len(v) - every.T @ (p[:, None] * model_h), v.mean(0) - p @ every,
            data_h.mean(0) - p @ model_h)


def _exact_with(**options):
    def wrong(v, W, b, c):
        every = rbm.all_binary_vectors(W.shape[0])
        minus_f = options.get("sign", -1.0) * free_energy(every, W, b, c)
        if options.get("uniform"):
            p = np.full(len(every), 1 / len(every))
        else:
            p = np.exp(minus_f - (np.logaddexp.reduce(minus_f) if options.get("normalise", True) else 0.0))
        model_h, data_h = hidden_probabilities(every, W, c), hidden_probabilities(v, W, c)
        result = (v.T @ data_h / len(v) - every.T @ (p[:, None] * model_h), v.mean(0) - p @ every,
                  data_h.mean(0) - p @ model_h)
        return tuple(-g for g in result) if options.get("negate") else result
    return wrong


@pytest.mark.parametrize("wrong, mistake", [
    (_exact_with(negate=True), "exact-sign"),
    (_exact_with(normalise=False), "exact-not-normalised"),
    (_exact_with(sign=1.0), "exact-exponent-sign"),
    (_exact_with(uniform=True), "exact-uniform-model"),
    (lambda v, W, b, c: rbm.exact_gradient(v, W, b, c), "delegates-to-reference"),
])
def test_exact_gradient_mistakes_are_named(wrong, mistake):
    assert _failure(ch13.check_exact_gradient, wrong).mistake == mistake


def test_exact_gradient_overflow_is_explained():
    failure = _failure(ch13.check_exact_gradient, _exact_naive)
    assert "warned" in failure.problem and "log-sum-exp" in failure.hint


def test_exact_gradient_not_done():
    with pytest.raises(NotImplementedError, match="13.4 is not done yet"):
        ch13.check_exact_gradient(not_done)


# ---------------------------------------------------------------- 13.5

def test_pca_prediction_passes_two_ways():
    assert ch13.check_pca_error_prediction(2.0).passed
    assert ch13.check_pca_error_prediction(0.3 + 0.2 + 1.5).passed


@pytest.mark.parametrize("wrong, mistake", [
    (8.0, "pca-kept-variance"), (0.4, "pca-per-coordinate"), (0.5, "pca-two-smallest"), (9.5, "pca-kept-smallest"),
    (0.2, "pca-fraction"),
])
def test_pca_prediction_mistakes(wrong, mistake):
    assert _failure(ch13.check_pca_error_prediction, wrong).mistake == mistake


def test_pca_prediction_other_failures():
    assert "is not right" in str(_failure(ch13.check_pca_error_prediction, 3.0))
    assert "should be a number" in str(_failure(ch13.check_pca_error_prediction, "two"))
    with pytest.raises(NotImplementedError, match="13.5 is not done yet"):
        ch13.check_pca_error_prediction(...)


# ---------------------------------------------------------------- 13.6

def test_denoiser_prediction_passes():
    assert ch13.check_denoiser_prediction(ch13.reference_denoiser(ch13.DENOISER_PROBES)).passed
    assert ch13.check_denoiser_prediction((0.0, 1.0, -1.0)).passed  # within 0.05 of tanh


@pytest.mark.parametrize("wrong, message", [
    ((0.0, 3.0, -5.0), "you predicted the identity"),
    ((0.0, 2.0, -1.0), "outside \\[-1, 1\\]"),
    ((1.0, 1.0, -1.0), "their MEAN, 0"),
    ((0.0, 0.5, -0.5), "is not right"),
    ((0.0, 1.0), "shape"),
])
def test_denoiser_prediction_diagnoses(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch13.check_denoiser_prediction(wrong)


def test_denoiser_prediction_not_done():
    with pytest.raises(NotImplementedError, match="13.6 is not done yet"):
        ch13.check_denoiser_prediction(...)


def test_reference_denoiser_is_the_posterior_mean():
    rng = np.random.default_rng(0)
    x = rng.choice([-1.0, 1.0], 400_000)
    noisy = x + rng.standard_normal(x.shape)
    near = np.abs(noisy - 0.8) < 0.02
    assert abs(x[near].mean() - ch13.reference_denoiser(0.8)) < 0.03
