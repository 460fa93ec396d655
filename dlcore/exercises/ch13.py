"""Checks for chapter 13's exercises (autoencoders, VAEs, RBMs).

- 13.1 derive the KL divergence between two univariate Gaussians      -> :func:`check_kl_two_gaussians`
- 13.2 implement the VAE's loss in torch: the reparameterized sample,
       the KL term, the Bernoulli reconstruction term, the negative ELBO -> :func:`check_negative_elbo`
- 13.3 implement the RBM: free energy, conditionals, the CD-k gradient -> :func:`check_rbm`
- 13.4 implement the exact log-likelihood gradient of a tiny RBM       -> :func:`check_exact_gradient`
- 13.5 predict the reconstruction error of PCA with k components       -> :func:`check_pca_error_prediction`
- 13.6 predict what an ideal denoising autoencoder outputs             -> :func:`check_denoiser_prediction`

A passing 13.2 makes the VAE of section 3 train on the learner's functions
(``implementation("negative_elbo", ...)`` and ``implementation("reparameterize", ...)``);
a passing 13.3 makes the RBM, the CD-versus-exact comparison and the DBN's
pretraining run on the learner's ``cd_gradient``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from dlcore.exercises.core import Case, CheckResult, Mistake, check_value, fail, not_done_message, passed
from dlcore.exercises.functions import check_function
from dlcore.exercises.learner import accept, learner_call
from dlcore.models import autoencoders as ae
from dlcore.scratch import rbm

__all__ = [
    "check_kl_two_gaussians", "check_negative_elbo", "check_rbm", "check_exact_gradient", "check_pca_error_prediction",
    "check_denoiser_prediction", "reference_kl_two_gaussians", "reference_denoiser", "PCA_EIGENVALUES",
    "PCA_CODE_SIZE", "DENOISER_PROBES", "REFERENCES",
]

# The course's own versions of what each exercise builds (never shown before the exercise).
REFERENCES = {
    "13.2": (ae.reparameterize, ae.gaussian_kl, ae.bernoulli_nll, ae.negative_elbo),
    "13.3": (rbm.free_energy, rbm.hidden_probabilities, rbm.visible_probabilities, rbm.cd_gradient,
             rbm.free_energy_gradient),
    "13.4": (rbm.exact_gradient, rbm.log_partition),
}


# ---------------------------------------------------------------- 13.1 KL of two Gaussians

def reference_kl_two_gaussians(m1, s1, m2, s2):
    """KL(N(m1, s1²) || N(m2, s2²)) = log(s2 / s1) + (s1² + (m1 - m2)²) / (2 s2²) - 1/2, element-wise."""
    m1, s1, m2, s2 = (np.asarray(a, dtype=np.float64) for a in (m1, s1, m2, s2))
    return np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5


def _kl(m1, s1, m2, s2, *, log_term=1.0, spread=None, half=0.5, constant=0.5):
    """The two-Gaussian KL with one part changed: the shapes of the typical wrong answers."""
    m1, s1, m2, s2 = (np.asarray(a, dtype=np.float64) for a in (m1, s1, m2, s2))
    spread = s1 ** 2 if spread is None else spread
    return log_term * np.log(s2 / s1) + half * (spread + (m1 - m2) ** 2) / s2 ** 2 - constant


_KL_MISTAKES = [
    Mistake("kl-arguments-swapped", lambda m1, s1, m2, s2: reference_kl_two_gaussians(m2, s2, m1, s1),
            "you computed KL(N(m2, s2²) || N(m1, s1²)): the KL divergence is not symmetric; the expectation is "
            "taken under the FIRST distribution, and it is the second one's variance that divides"),
    Mistake("kl-std-as-variance",
            lambda m1, s1, m2, s2: 0.5 * np.log(np.asarray(s2, float) / s1)
            + (np.asarray(s1, float) + (np.asarray(m1, float) - m2) ** 2) / (2 * np.asarray(s2, float)) - 0.5,
            "you treated s1 and s2 as variances; they are standard deviations, so the density has s², "
            "not s, under (x - m)², and its normaliser is 1/s, not 1/sqrt(s)"),
    Mistake("kl-std-in-spread", lambda m1, s1, m2, s2: _kl(m1, s1, m2, s2, spread=np.asarray(s1, float)),
            "E[(x - m2)²] under N(m1, s1²) is the VARIANCE s1² plus (m1 - m2)²; you used the standard deviation s1"),
    Mistake("kl-no-constant", lambda m1, s1, m2, s2: _kl(m1, s1, m2, s2, constant=0.0),
            "the constant -1/2 is missing: check that your formula gives KL(p || p) = 0"),
    Mistake("kl-log-doubled", lambda m1, s1, m2, s2: _kl(m1, s1, m2, s2, log_term=2.0),
            "the log term should be log(s2 / s1) = (1/2) log(s2² / s1²); you have log(s2² / s1²), twice too big"),
    Mistake("kl-no-half", lambda m1, s1, m2, s2: _kl(m1, s1, m2, s2, half=1.0),
            "the factor 1/2 of the quadratic term is missing: log N(x; m, s²) contains -(x - m)² / (2 s²)"),
    Mistake("kl-constant-one", lambda m1, s1, m2, s2: _kl(m1, s1, m2, s2, constant=1.0),
            "the constant is -1/2 (from E[(x - m1)²] / (2 s1²) = 1/2), not -1"),
    Mistake("kl-log-sign", lambda m1, s1, m2, s2: _kl(m1, s1, m2, s2, log_term=-1.0),
            "the log term has the wrong sign: log q1(x) - log q2(x) contains -log s1 + log s2 = log(s2 / s1)"),
]


def check_kl_two_gaussians(kl_two_gaussians: Callable) -> CheckResult:
    """Exercise 13.1: ``kl_two_gaussians(m1, s1, m2, s2)`` = KL(N(m1, s1²) || N(m2, s2²)), s = standard deviations.

    Recognises (:data:`_KL_MISTAKES`): the arguments' roles swapped, standard deviations
    treated as variances, the std used for the spread, the -1/2 missing or -1, the log term
    doubled or with the wrong sign, and the 1/2 of the quadratic term missing.
    """
    cases = [
        Case((0.5, 0.8, -1.0, 1.5), description="m1 = 0.5, s1 = 0.8, m2 = -1, s2 = 1.5"),
        Case((np.array([0.0, 2.0, -1.0]), np.array([2.0, 0.3, 1.0]), np.array([1.0, 0.0, 0.5]),
              np.array([0.5, 1.0, 3.0])), description="arrays m1 = [0, 2, -1], s1 = [2, 0.3, 1], m2 = [1, 0, 0.5], "
                                                     "s2 = [0.5, 1, 3]"),
        Case((1.0, 1.0, 1.0, 1.0), description="two identical distributions (the KL must be 0)"),
    ]
    return check_function(
        "13.1", kl_two_gaussians, reference_kl_two_gaussians, cases, name="kl_two_gaussians", mistakes=_KL_MISTAKES,
        hint="KL = E_{x ~ N(m1, s1²)}[log N(x; m1, s1²) - log N(x; m2, s2²)]; take the expectation term by term.",
        success="with m2 = 0, s2 = 1 and summed over dimensions it is the VAE's KL term.",
    )


# ---------------------------------------------------------------- 13.2 the VAE's loss, in torch

def _tensor(array) -> torch.Tensor:
    return torch.tensor(np.asarray(array, dtype=np.float64))


_ELBO_RNG = np.random.default_rng(13)
_MU, _LOGVAR, _EPS = (_tensor(a) for a in (_ELBO_RNG.standard_normal((4, 2)), _ELBO_RNG.uniform(-3.0, 2.0, (4, 2)),
                                           _ELBO_RNG.standard_normal((4, 2))))
_MU1, _LOGVAR1, _EPS1 = _tensor([[1.5, -2.0, 0.0]]), _tensor([[0.7, -1.2, 2.0]]), _tensor([[0.3, 1.0, -0.5]])
_LOGITS, _X = _tensor(_ELBO_RNG.normal(0.0, 3.0, (4, 6))), _tensor(_ELBO_RNG.random((4, 6)))
_EXTREME_LOGITS = _tensor([[-800.0, -40.0, 0.0, 40.0, 800.0], [800.0, 5.0, -5.0, -800.0, 1.0]])
_EXTREME_X = _tensor([[1.0, 0.3, 0.5, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0, 0.7]])

_REPARAMETERIZE_CASES = [
    Case((_MU, _LOGVAR, _EPS), description="mu, logvar, eps of shape (4, 2) with logvar in [-3, 2]"),
    Case((_MU1, _LOGVAR1, _EPS1), description="a batch of one with L = 3"),
]
_KL_CASES = [
    Case((_MU, _LOGVAR), description="mu, logvar of shape (4, 2) with logvar in [-3, 2]"),
    Case((_MU1, _LOGVAR1), description="a batch of one with L = 3"),
]
_NLL_CASES = [
    Case((_LOGITS, _X), description="logits of shape (4, 6) and grey pixels x in [0, 1]"),
    Case((_EXTREME_LOGITS, _EXTREME_X), description="logits of ±800 and ±40 with pixels of 0, 1 and grey"),
]
_ELBO_CASES = [
    Case((_LOGITS, _X, _MU, _LOGVAR), description="a batch of 4: logits and x (4, 6), mu and logvar (4, 2)"),
    Case((_LOGITS, _X, _MU, _LOGVAR, 0.5), description="the same batch with beta = 0.5"),
]

_REPARAMETERIZE_MISTAKES = [
    Mistake("logvar-as-variance", lambda m, lv, e: m + torch.sqrt(lv) * e,
            "you took the square root of logvar, as if logvar were the variance σ²; it is its logarithm, "
            "log σ²: undo the logarithm before you take the square root"),
    Mistake("logvar-as-variance", lambda m, lv, e: m + torch.sqrt(lv.abs()) * e,
            "you took the square root of logvar, as if logvar were the variance σ²; it is its logarithm, "
            "log σ²: undo the logarithm before you take the square root"),
    Mistake("variance-as-scale", lambda m, lv, e: m + torch.exp(lv) * e,
            "you scaled eps by exp(logvar) = σ², the VARIANCE; the sample needs the standard deviation σ"),
    Mistake("logvar-as-sigma", lambda m, lv, e: m + lv * e,
            "logvar is log σ², not σ: undo the logarithm and the square"),
    Mistake("exponent-sign", lambda m, lv, e: m + torch.exp(-0.5 * lv) * e,
            "your scale is 1/σ: check the sign of the exponent"),
    Mistake("eps-ignored", lambda m, lv, e: m + torch.exp(0.5 * lv),
            "eps is not in your z: you added σ itself, so every draw is the same point; scale the noise eps by σ"),
    Mistake("eps-ignored", lambda m, lv, e: m.clone(),
            "your z is mu itself: the noise eps is ignored, so z carries no randomness and no σ"),
    Mistake("mean-missing", lambda m, lv, e: torch.exp(0.5 * lv) * e,
            "the mean is missing: your z is centred at 0, not at mu"),
    Mistake("mu-multiplied", lambda m, lv, e: m * torch.exp(0.5 * lv) * e,
            "mu is the centre of the draw: it is added to the scaled noise, not multiplied"),
]

_KL_TERM_MISTAKES = [
    Mistake("kl-sigma-not-squared", lambda m, lv: 0.5 * (m ** 2 + torch.exp(0.5 * lv) - 1 - lv).sum(dim=1),
            "the term that is σ² in the derivation is exp(logvar); you used exp(logvar / 2) = σ"),
    Mistake("kl-logvar-as-variance", lambda m, lv: 0.5 * (m ** 2 + lv - 1 - torch.log(lv)).sum(dim=1),
            "you used logvar as the variance σ²; it is log σ², so σ² = exp(logvar) and log σ² = logvar"),
    Mistake("kl-no-minus-one", lambda m, lv: 0.5 * (m ** 2 + torch.exp(lv) - lv).sum(dim=1),
            "a constant is missing: the KL of N(0, 1) from itself (mu = 0, logvar = 0) must be 0"),
    Mistake("kl-no-half", lambda m, lv: (m ** 2 + torch.exp(lv) - 1 - lv).sum(dim=1),
            "your KL is twice too large: recheck the factor in front of the bracket"),
    Mistake("kl-sign", lambda m, lv: -ae.gaussian_kl(m, lv),
            "your KL is negative, and a KL divergence never is: the sign is flipped"),
    Mistake("kl-mean-over-latent", lambda m, lv: 0.5 * (m ** 2 + torch.exp(lv) - 1 - lv).mean(dim=1),
            "you averaged over the latent dimensions; they are independent, so their KLs add up (sum over dim 1)"),
    Mistake("kl-not-summed", lambda m, lv: 0.5 * (m ** 2 + torch.exp(lv) - 1 - lv),
            "return one KL per example, shape (N,): sum the latent dimensions' terms"),
]

def _monte_carlo(mu, logvar, num_samples, seed, *, log_std=True, standardise=True, average=True, reverse=False):
    """The Monte-Carlo KL estimate as the exercise asks (one (S, N, L) draw of eps), or one of its mistakes."""
    std = torch.exp(0.5 * logvar)
    eps = torch.randn((num_samples, *mu.shape), generator=torch.Generator().manual_seed(seed), dtype=mu.dtype)
    z = mu + std * eps
    log_q = (-0.5 * (eps if standardise else z) ** 2 - (torch.log(std) if log_std else 0.0)).sum(dim=2)
    log_p = (-0.5 * z ** 2).sum(dim=2)
    difference = (log_p - log_q) if reverse else (log_q - log_p)
    return difference.mean(dim=0) if average else difference.sum(dim=0)


def _reference_monte_carlo(mu, logvar, num_samples, seed):
    return ae.gaussian_kl_monte_carlo(mu, logvar, num_samples, torch.Generator().manual_seed(seed))


_MONTE_CARLO_CASES = [
    Case((_MU, _LOGVAR, 50, 0), description="mu, logvar (4, 2), 50 draws, generator seeded with 0"),
    Case((_MU1, _LOGVAR1, 7, 1), description="a batch of one with L = 3, 7 draws, generator seeded with 1"),
]

_MONTE_CARLO_MISTAKES = [
    Mistake("mc-reversed", lambda *args: _monte_carlo(*args, reverse=True),
            "your estimate is log p - log q: the KL from q to p averages log q(z) - log p(z) under q"),
    Mistake("mc-sum-not-mean", lambda *args: _monte_carlo(*args, average=False),
            "you summed over the draws: an expectation is estimated by their MEAN"),
    Mistake("mc-no-log-std", lambda *args: _monte_carlo(*args, log_std=False),
            "log q(z) lacks the normaliser: the density of N(mu, σ²) has a factor 1/σ, so its log has -log σ"),
    Mistake("mc-unstandardised", lambda *args: _monte_carlo(*args, standardise=False),
            "in log q(z) the square is of (z - mu) / σ, the standardised value (which is eps), not of z"),
]

_NLL_MISTAKES = [
    Mistake("squared-error-likelihood", lambda l, x: ((torch.sigmoid(l) - x) ** 2).sum(dim=1),
            "that is the squared error, the log-likelihood of a Gaussian with fixed variance (up to constants); "
            "the decoder outputs Bernoulli logits for pixels in [0, 1], so score x under Bernoulli(sigmoid(logits))"),
    Mistake("squared-error-on-logits", lambda l, x: ((l - x) ** 2).sum(dim=1),
            "that is the squared error between the logits and x: a Gaussian likelihood, and on logits, not "
            "probabilities; score x under Bernoulli(sigmoid(logits))"),
    Mistake("nll-from-probabilities",
            lambda l, x: -(x * torch.log(torch.sigmoid(l)) + (1 - x) * torch.log(1 - torch.sigmoid(l))).sum(dim=1),
            "you took the log of sigmoid(logits): for a logit of -800 the sigmoid rounds to 0 and its log is -inf "
            "(1 - sigmoid(800) too). Write log σ(l) and log(1 - σ(l)) in terms of the logit itself, never "
            "as the log of a rounded probability"),
    Mistake("nll-from-probabilities",
            lambda l, x: -(x * torch.log(torch.sigmoid(l)) + (1 - x) * torch.log(torch.sigmoid(-l))).sum(dim=1),
            "you took the log of sigmoid(logits): for a logit of -800 the sigmoid rounds to 0 and its log is -inf. "
            "Write log σ(l) in terms of the logit itself, never as the log of a rounded probability"),
    Mistake("nll-sign", lambda l, x: -ae.bernoulli_nll(l, x),
            "your result is the log-likelihood, not its negative: the loss is -log p(x | z) >= 0"),
    Mistake("nll-mean-over-pixels", lambda l, x: ae.bernoulli_nll(l, x) / x.shape[1],
            "you averaged over the pixels; the pixels are independent given z, so their log-likelihoods add up"),
    Mistake("nll-no-zero-term", lambda l, x: (x * F.softplus(-l)).sum(dim=1),
            "only the x log σ(l) part is there: a Bernoulli pixel also scores (1 - x) log(1 - σ(l))"),
]


def _elbo_wrong(recon_weight=1.0, kl_weight=1.0, *, reduce="mean", use_beta=True):
    def compute(logits, x, mu, logvar, beta=1.0):
        reconstruction, kl = ae.bernoulli_nll(logits, x), ae.gaussian_kl(mu, logvar)
        reconstruction, kl = (reconstruction.mean(), kl.mean()) if reduce == "mean" else (reconstruction.sum(), kl.sum())
        weight = beta if use_beta else 1.0
        return recon_weight * reconstruction + kl_weight * weight * kl, reconstruction, kl
    return compute


_ELBO_MISTAKES = [
    Mistake("elbo-kl-sign", _elbo_wrong(kl_weight=-1.0),
            "you subtracted the KL: the ELBO is reconstruction log-likelihood MINUS the KL, so the loss -ELBO adds it"),
    Mistake("elbo-batch-sum", _elbo_wrong(reduce="sum"),
            "you summed over the batch: report nats per image, the mean over the batch"),
    Mistake("elbo-beta-ignored", _elbo_wrong(use_beta=False), "with beta = 0.5 your loss ignores beta: it weighs the KL"),
    Mistake("elbo-beta-on-reconstruction",
            lambda logits, x, mu, logvar, beta=1.0: (beta * ae.bernoulli_nll(logits, x).mean()
                                                     + ae.gaussian_kl(mu, logvar).mean(),
                                                     ae.bernoulli_nll(logits, x).mean(), ae.gaussian_kl(mu, logvar).mean()),
            "beta weighs the KL term, not the reconstruction"),
]

_FORBIDDEN_VAE = [ae.reparameterize, ae.gaussian_kl, ae.bernoulli_nll, ae.negative_elbo, ae.gaussian_kl_monte_carlo,
                  F.binary_cross_entropy_with_logits, F.binary_cross_entropy, torch.binary_cross_entropy_with_logits,
                  torch.distributions.kl_divergence]


def _fresh(cases: list[Case]) -> list[Case]:
    """The cases with copies of their tensors: an answer that writes into its inputs cannot spoil the next check."""
    return [Case(tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in case.args), case.kwargs,
                 case.description) for case in cases]


def _own_noise(reparameterize: Callable) -> Callable:
    """A diagnosis: a reparameterize that gives two different z for the same (mu, logvar, eps) draws its own noise."""
    def diagnose(got, expected, case):
        again = reparameterize(*case.args)
        if not torch.equal(torch.as_tensor(got), torch.as_tensor(again)):
            return (f"your reparameterize gives a different z each time for the same eps (on {case.describe()}): "
                    f"it draws its own noise. Use the eps it is given, so that the caller controls the randomness")
        return None
    return diagnose


def check_negative_elbo(reparameterize: Callable, gaussian_kl: Callable, gaussian_kl_monte_carlo: Callable,
                        bernoulli_nll: Callable, negative_elbo: Callable) -> CheckResult:
    """Exercise 13.2: the VAE's loss in torch, from four functions and a Monte-Carlo check of the KL.

    - ``reparameterize(mu, logvar, eps)`` -> z (N, L);
    - ``gaussian_kl(mu, logvar)`` -> KL(q(z|x) || N(0, I)) per example, (N,);
    - ``gaussian_kl_monte_carlo(mu, logvar, num_samples, generator)`` -> the average of log q(z) - log p(z)
      over ``num_samples`` draws z ~ q, (N,), from one draw of eps of shape (num_samples, N, L);
    - ``bernoulli_nll(logits, x)`` -> -log p(x | z) for Bernoulli pixels, (N,), finite for logits of ±800;
    - ``negative_elbo(logits, x, mu, logvar, beta=1.0)`` -> (loss, reconstruction, kl), batch means.

    Each is compared with dlcore's (:mod:`dlcore.models.autoencoders`) and its typical
    mistakes named; the loss must keep its autograd graph (the VAE trains on it), and calling
    dlcore's functions or PyTorch's BCE or KL fails. On success the VAE of section 3.4 trains
    on the learner's ``negative_elbo`` and ``reparameterize``.
    """
    label = "13.2"
    common = dict(forbid=_FORBIDDEN_VAE, report=False)
    check_function(label, reparameterize, ae.reparameterize, _fresh(_REPARAMETERIZE_CASES), name="reparameterize",
                   mistakes=_REPARAMETERIZE_MISTAKES, diagnoses=[_own_noise(reparameterize)],
                   hint="z is mu plus the noise eps scaled by the standard deviation σ; logvar is log σ².", **common)
    check_function(label, gaussian_kl, ae.gaussian_kl, _fresh(_KL_CASES), name="gaussian_kl", mistakes=_KL_TERM_MISTAKES,
                   hint="Exercise 13.1 with m2 = 0 and s2 = 1, written with σ² = exp(logvar), summed over dim 1.",
                   **common)

    def seeded(mu, logvar, num_samples, seed):  # a fresh generator per call: every answer sees the same draws
        return gaussian_kl_monte_carlo(mu, logvar, num_samples, torch.Generator().manual_seed(seed))

    check_function(label, seeded, _reference_monte_carlo, _fresh(_MONTE_CARLO_CASES), name="gaussian_kl_monte_carlo",
                   mistakes=_MONTE_CARLO_MISTAKES,
                   hint="draw eps = torch.randn((num_samples, N, L), generator=generator, dtype=mu.dtype) once; z = mu + "
                        "σ eps; average log N(z; mu, σ²) - log N(z; 0, 1) over the draws (the log 2π terms cancel).",
                   **common)
    accept("gaussian_kl_monte_carlo", gaussian_kl_monte_carlo, label)
    check_function(label, bernoulli_nll, ae.bernoulli_nll, _fresh(_NLL_CASES), name="bernoulli_nll", mistakes=_NLL_MISTAKES,
                   hint="-log p(x | z) sums -[x log σ(l) + (1 - x) log(1 - σ(l))] over the pixels; write both logs "
                        "from the logit l so that nothing rounds to log(0) (softplus is your friend).", **common)
    check_function(label, negative_elbo, ae.negative_elbo, _fresh(_ELBO_CASES), name="negative_elbo",
                   outputs=("loss", "reconstruction", "kl"), mistakes=_ELBO_MISTAKES,
                   hint="use your bernoulli_nll and gaussian_kl, averaged over the batch; -ELBO = reconstruction "
                        "+ beta * KL.", **common)
    mu, logvar, logits = (t.clone().requires_grad_(True) for t in (_MU, _LOGVAR, _LOGITS))
    z = learner_call(label, reparameterize, mu, logvar, _EPS)
    loss = learner_call(label, negative_elbo, logits, _X, mu, logvar)[0]
    for what, value in (("reparameterize's z", z), ("negative_elbo's loss", loss)):
        if not (isinstance(value, torch.Tensor) and value.requires_grad):
            fail(label, f"{what} has no gradient path back to the inputs: the VAE could not train on it",
                 "stay in torch operations (no .numpy(), .item(), .detach() or NumPy functions) so autograd can "
                 "follow the computation", mistake="no-gradient-path")
    return passed(label, "z, the KL and its Monte-Carlo estimate, the Bernoulli reconstruction term and the loss match "
                         "dlcore's, at logits of ±800 too; the VAE below trains on yours.")


# ---------------------------------------------------------------- 13.3 the RBM: free energy, conditionals, CD-k

def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


_RBM_RNG = np.random.default_rng(31)
_V = (_RBM_RNG.random((5, 6)) < 0.5).astype(np.float64)
_W, _B, _C = _RBM_RNG.standard_normal((6, 4)), _RBM_RNG.standard_normal(6), _RBM_RNG.standard_normal(4)
_GREY = _RBM_RNG.random((1, 3))
_W2, _B2, _C2 = _RBM_RNG.standard_normal((3, 7)), _RBM_RNG.standard_normal(3), _RBM_RNG.standard_normal(7)
_BIG = (np.ones((2, 4)), np.full((4, 3), 200.0), np.zeros(4), np.array([0.0, 10.0, -1700.0]))

_FREE_ENERGY_CASES = [
    Case((_V, _W, _B, _C), description="binary v (5, 6), W (6, 4), b (6,), c (4,)"),
    Case((_GREY, _W2, _B2, _C2), description="a batch of one with grey values, D = 3, Hh = 7"),
    Case(_BIG, description="large weights: activations of 800, 810 and -900"),
]
_HIDDEN_CASES = [
    Case((_V, _W, _C), description="binary v (5, 6), W (6, 4), c (4,)"),
    Case((_GREY, _W2, _C2), description="a batch of one with grey values, D = 3, Hh = 7"),
    Case((_BIG[0], _BIG[1], _BIG[3]), description="large weights: activations of 800, 810 and -900"),
]
_H = (_RBM_RNG.random((5, 4)) < 0.5).astype(np.float64)
_VISIBLE_CASES = [
    Case((_H, _W, _B), description="binary h (5, 4), W (6, 4), b (6,)"),
    Case((np.ones((1, 3)), np.full((4, 3), -300.0), np.array([0.0, 1.0, 2.0, 1000.0])),
         description="a batch of one with large weights: activations of -900 and +100"),
]


def _cd(v0, W, b, c, k, seed, *, mean_field_hidden=False, sampled_data_term=False, model_hidden_from_data=False,
        steps=None):
    """CD-k as the exercise asks (draws through rbm.sample_bernoulli, hidden then visible), or one of its mistakes.

    Returns (dW, db, dc, v_k): the estimate of d mean log p(v0) / d theta, to be ascended.
    """
    rng = np.random.default_rng(seed)
    v, first_h = v0, None
    for _ in range(k if steps is None else steps):
        ph = _sigmoid(v @ W + c)
        h = ph if mean_field_hidden else rbm.sample_bernoulli(ph, rng)
        first_h = h if first_h is None else first_h
        v = rbm.sample_bernoulli(_sigmoid(h @ W.T + b), rng)
    N = len(v0)
    ph0, phk = _sigmoid(v0 @ W + c), _sigmoid(v @ W + c)
    data_h = first_h if sampled_data_term else ph0
    model_h = ph0 if model_hidden_from_data else phk
    return (v0.T @ data_h) / N - (v.T @ model_h) / N, v0.mean(0) - v.mean(0), data_h.mean(0) - model_h.mean(0), v


def _reference_cd(v0, W, b, c, k, seed):
    (dW, db, dc), v = rbm.cd_gradient(v0, W, b, c, k=k, rng=np.random.default_rng(seed))
    return dW, db, dc, v


def _negated(result):
    return tuple(-g for g in result[:3]) + (result[3],)


_CD_MISTAKES = [
    Mistake("cd-sign", lambda *args: _negated(_cd(*args)),
            "your estimate points downhill: the gradient of log p(v) is the data term MINUS the model term"),
    Mistake("cd-sum-not-mean", lambda v0, *rest: tuple(g * len(v0) for g in _cd(v0, *rest)[:3]) + (_cd(v0, *rest)[3],),
            "you summed over the batch: average the statistics over the N examples"),
    Mistake("cd-k-ignored", lambda *args: _cd(*args, steps=1), "with k = 3 your chain takes one Gibbs step: run k"),
    Mistake("cd-mean-field-hidden", lambda *args: _cd(*args, mean_field_hidden=True),
            "inside the chain you passed p(h | v) on instead of a binary sample h ~ p(h | v): the Gibbs chain "
            "alternates SAMPLES of both layers (use sample_bernoulli for h too)"),
    Mistake("cd-sampled-data-term", lambda *args: _cd(*args, sampled_data_term=True),
            "your data term uses the sampled h; the statistics use the probabilities p(h | v0) (and p(h | v_k)), "
            "which have the same expectation and less noise"),
    Mistake("cd-model-hidden-from-data", lambda *args: _cd(*args, model_hidden_from_data=True),
            "the model term pairs v_k with p(h | v0); it needs the hidden probabilities of the chain's end, p(h | v_k)"),
]

_CD_CASES = [
    Case((_V, _W, _B, _C, 1, 0), description="binary v0 (5, 6), W (6, 4), k = 1, rng seed 0"),
    Case((_V[:4, :], _W, _B, _C, 3, 1), description="binary v0 (4, 6), W (6, 4), k = 3, rng seed 1"),
    Case(((_RBM_RNG.random((3, 3)) < 0.5).astype(float), _W2, _B2, _C2, 2, 2),
         description="v0 (3, 3), W (3, 7), k = 2, rng seed 2"),
]

_SIGMOID_WARNING = ("an exponential of a large positive number overflows: use a sigmoid that never exponentiates a "
                    "large positive number (chapter 03's stable sigmoid, or one written with np.tanh)")


def check_rbm(free_energy: Callable, hidden_probabilities: Callable, visible_probabilities: Callable,
              cd_gradient: Callable) -> CheckResult:
    """Exercise 13.3: an RBM's free energy, its two conditionals and the CD-k gradient estimate, in NumPy.

    - ``free_energy(v, W, b, c)`` -> F(v), (N,), finite for activations of ±800;
    - ``hidden_probabilities(v, W, c)`` -> p(h = 1 | v), (N, Hh); ``visible_probabilities(h, W, b)`` -> (N, D);
    - ``cd_gradient(v0, W, b, c, k, rng)`` -> ((dW, db, dc), v_k), the CD-k estimate of d mean log p(v0) / d theta,
      drawing with ``rbm.sample_bernoulli``, hidden then visible, k times.

    The CD estimate is compared draw for draw (same seed), so its mistakes are recognised
    exactly: the sign, sums instead of means, k ignored, probabilities instead of samples in
    the chain, samples in the statistics, and the model term's hidden probabilities taken at
    the data. On success the RBM, the CD-versus-exact comparison and the DBN run on the
    learner's ``cd_gradient``.
    """
    label = "13.3"
    free_energy_mistakes = [
        Mistake("free-energy-no-visible-bias", lambda v, W, b, c: -np.logaddexp(0.0, v @ W + c).sum(axis=1),
                "the visible bias term is missing: summing out h leaves e^{v·b} in front of the product"),
        Mistake("free-energy-sign", lambda v, W, b, c: -rbm.free_energy(v, W, b, c),
                "the sign is flipped: p(v) ∝ exp(-F(v)), so F is minus the log of Σ_h exp(-E(v, h))"),
        Mistake("free-energy-linear", lambda v, W, b, c: -v @ b - (v @ W + c).sum(axis=1),
                "summing h_j over {0, 1} gives log(1 + e^x), not x: the state h_j = 0 contributes e^0 = 1"),
        Mistake("free-energy-sigmoid", lambda v, W, b, c: -v @ b - _sigmoid(v @ W + c).sum(axis=1),
                "that is the sigmoid, p(h_j = 1 | v); the free energy needs log(1 + e^x), whose derivative is the sigmoid"),
        Mistake("free-energy-no-hidden-bias", lambda v, W, b, c: -v @ b - np.logaddexp(0.0, v @ W).sum(axis=1),
                "the hidden biases c are missing inside the log(1 + e^x)"),
    ]
    conditional_mistakes = [
        Mistake("conditional-no-bias", lambda x, W, bias: _sigmoid(x @ (W if W.shape[0] == x.shape[1] else W.T)),
                "the bias is missing inside the sigmoid"),
        Mistake("conditional-no-sigmoid", lambda x, W, bias: x @ (W if W.shape[0] == x.shape[1] else W.T) + bias,
                "those are the activations: a probability is the sigmoid of them"),
        Mistake("conditional-sigmoid-sign", lambda x, W, bias: _sigmoid(-(x @ (W if W.shape[0] == x.shape[1] else W.T) + bias)),
                "you computed p(unit = 0): the sigmoid's argument has the wrong sign"),
    ]
    check_function(label, free_energy, rbm.free_energy, _FREE_ENERGY_CASES, name="free_energy",
                   mistakes=free_energy_mistakes, report=False,
                   hint="Sum exp(-E(v, h)) over the 2^Hh hidden vectors: it factorises over j.",
                   warning_hint="log(1 + exp(x)) overflows for x > 709; np.logaddexp(0, x) computes the same safely.")
    check_function(label, hidden_probabilities, rbm.hidden_probabilities, _HIDDEN_CASES, name="hidden_probabilities",
                   mistakes=conditional_mistakes, warning_hint=_SIGMOID_WARNING, report=False,
                   hint="p(h_j = 1 | v) is the sigmoid of hidden unit j's total input: v W plus its bias; shape (N, Hh).")
    check_function(label, visible_probabilities, rbm.visible_probabilities, _VISIBLE_CASES,
                   name="visible_probabilities", mistakes=conditional_mistakes, warning_hint=_SIGMOID_WARNING,
                   report=False, hint="the same as hidden_probabilities the other way round: W is (D, Hh), h is (N, Hh).")

    first = _CD_CASES[0].args
    result = learner_call(label, cd_gradient, *first[:5], np.random.default_rng(first[5]), name="cd_gradient")
    if not (isinstance(result, (tuple, list)) and len(result) == 2 and isinstance(result[0], (tuple, list))
            and len(result[0]) == 3):
        fail(label, "your cd_gradient should return ((dW, db, dc), v_k): the gradient estimates as one tuple, "
                    "then the chain's end", "end with `return (dW, db, dc), v`", mistake="cd-return-structure")

    def seeded(v0, W, b, c, k, seed):  # a fresh generator per call, so that every answer sees the same draws
        (dW, db, dc), v = cd_gradient(v0, W, b, c, k, np.random.default_rng(seed))
        return dW, db, dc, v

    check_function(label, seeded, _reference_cd, _CD_CASES, name="cd_gradient", outputs=("dW", "db", "dc", "v_k"),
                   mistakes=_CD_MISTAKES, forbid=[rbm.cd_gradient, rbm.free_energy_gradient, rbm.exact_gradient],
                   warning_hint=_SIGMOID_WARNING, report=False,
                   hint="run the chain with rbm.sample_bernoulli(p, rng), hidden then visible, k times from v0; then "
                        "data statistics (v0, p(h | v0)) minus model statistics (v_k, p(h | v_k)), averaged over N.")
    accept("cd_gradient", cd_gradient, label)
    return passed(label, "the free energy, both conditionals and CD-k match dlcore's draw for draw; the RBM and the "
                         "DBN below train with your cd_gradient.")


# ---------------------------------------------------------------- 13.4 the exact gradient of a tiny RBM

def _model_weights(W, b, c, *, normalise=True, sign=-1.0):
    every = rbm.all_binary_vectors(W.shape[0])
    minus_f = sign * rbm.free_energy(every, W, b, c)
    weights = np.exp(minus_f - (np.logaddexp.reduce(minus_f) if normalise else 0.0))
    return every, weights


def _exact_wrong(v, W, b, c, **options):
    """rbm.exact_gradient with the model's distribution over v' replaced by a typical wrong one."""
    every, weights = _model_weights(W, b, c, **options)
    ph, data_h = _sigmoid(every @ W + c), _sigmoid(v @ W + c)
    return ((v.T @ data_h) / len(v) - (every.T * weights) @ ph, v.mean(0) - weights @ every,
            data_h.mean(0) - weights @ ph)


def _uniform_model(v, W, b, c):
    every = rbm.all_binary_vectors(W.shape[0])
    ph, data_h = _sigmoid(every @ W + c), _sigmoid(v @ W + c)
    return (v.T @ data_h) / len(v) - every.T @ ph / len(every), v.mean(0) - every.mean(0), data_h.mean(0) - ph.mean(0)


_EXACT_MISTAKES = [
    Mistake("exact-sign", lambda *args: tuple(-g for g in rbm.exact_gradient(*args)),
            "your gradient points downhill: it is the data term MINUS the model's expectation"),
    Mistake("exact-not-normalised", lambda *args: _exact_wrong(*args, normalise=False),
            "your weights exp(-F(v')) are not probabilities: divide by Z, their sum over all v'"),
    Mistake("exact-exponent-sign", lambda *args: _exact_wrong(*args, sign=1.0),
            "p(v') is proportional to exp(-F(v')), with a minus sign: you weighted by exp(+F)"),
    Mistake("exact-uniform-model", _uniform_model,
            "you averaged the model term uniformly over all 2^D vectors: weight each v' by its probability p(v')"),
]

_EXACT_RNG = np.random.default_rng(41)
_EXACT_CASES = [
    Case(((_EXACT_RNG.random((8, 5)) < 0.5).astype(float), _EXACT_RNG.standard_normal((5, 3)),
          _EXACT_RNG.standard_normal(5), _EXACT_RNG.standard_normal(3)), description="v (8, 5), W (5, 3)"),
    Case(((_EXACT_RNG.random((3, 4)) < 0.5).astype(float), _EXACT_RNG.standard_normal((4, 2)),
          _EXACT_RNG.standard_normal(4), _EXACT_RNG.standard_normal(2)), description="v (3, 4), W (4, 2)"),
    Case(((_EXACT_RNG.random((2, 5)) < 0.5).astype(float), 150 * _EXACT_RNG.standard_normal((5, 3)),
          np.full(5, 300.0), np.zeros(3)), description="v (2, 5), large W (5, 3) and b = 300: free energies below -1000"),
]


def check_exact_gradient(exact_gradient: Callable) -> CheckResult:
    """Exercise 13.4: ``exact_gradient(v, W, b, c)`` -> (dW, db, dc), d mean log p(v) / d theta by enumerating all 2^D v'.

    Recognises: the sign, weights exp(-F) not divided by Z, exp(+F), a uniform average over
    the v', and (through the numerical warning) exp(-F) overflowing without the log-sum-exp
    shift. On success the CD-versus-exact comparison uses the learner's exact gradient.
    """
    return check_function(
        "13.4", exact_gradient, rbm.exact_gradient, _EXACT_CASES, name="exact_gradient", outputs=("dW", "db", "dc"),
        mistakes=_EXACT_MISTAKES, forbid=[rbm.log_partition, rbm.log_likelihood], warning_hint=(
            "exp(-F(v')) overflows once -F passes 709: subtract the largest -F before exponentiating (the "
            "log-sum-exp shift); the shift cancels when you divide by the sum"),
        hint="p(v') = exp(-F(v')) / Z over all 2^D binary v'; the model term is the p-weighted sum of the same "
             "statistics as the data term.",
        success="the model's expectation, summed exactly; the comparison below measures CD against yours.",
    )


# ---------------------------------------------------------------- 13.5 PCA prediction

PCA_EIGENVALUES = (5.0, 3.0, 1.5, 0.3, 0.2)  # variances along the principal axes of the 5-D data
PCA_CODE_SIZE = 2


def check_pca_error_prediction(predicted_error) -> CheckResult:
    """Exercise 13.5: the mean squared reconstruction error (summed over the 5 coordinates) of the best
    linear autoencoder with a code of size 2, for centred data with covariance eigenvalues 5, 3, 1.5, 0.3, 0.2.

    Recognises: the kept variance (8), the error per coordinate (2 / 5), the two smallest
    eigenvalues only (0.5), the largest ones dropped (the error of keeping the smallest), and
    a fraction of the total variance.
    """
    values = np.array(PCA_EIGENVALUES)
    k = PCA_CODE_SIZE
    expected = float(values[k:].sum())
    total = float(values.sum())
    mistakes = [
        Mistake("pca-kept-variance", lambda: float(values[:k].sum()),
                "that is the variance the code KEEPS (the top two eigenvalues); the error is what it loses"),
        Mistake("pca-per-coordinate", lambda: expected / len(values),
                "that is the error per coordinate; the question sums the squared error over all 5 coordinates"),
        Mistake("pca-two-smallest", lambda: float(values[-k:].sum()),
                "only the two smallest eigenvalues: a code of size 2 keeps 2 directions and loses the other 5 - 2 = 3"),
        Mistake("pca-kept-smallest", lambda: float(values[:-k].sum()),
                "that is the error of keeping the two SMALLEST directions; the best code keeps the largest"),
        Mistake("pca-fraction", lambda: expected / total,
                "that is the fraction of the variance lost; the question asks for the error itself"),
    ]
    return check_value(
        "13.5", predicted_error, expected, name="your predicted error", mistakes=mistakes, rtol=1e-3,
        hint="The best rank-k reconstruction keeps the top-k principal directions; the squared error it "
             "makes is the variance along the others.",
        success="the error is the sum of the discarded eigenvalues (Eckart-Young).",
    )


# ---------------------------------------------------------------- 13.6 what a denoiser outputs

DENOISER_PROBES = (0.0, 3.0, -5.0)  # noisy inputs x~ at which the learner predicts the ideal denoiser's output


def reference_denoiser(noisy, noise_std: float = 1.0):
    """E[x | x~] for x = ±1 with probability 1/2 each and x~ = x + N(0, noise_std²): tanh(x~ / noise_std²)."""
    return np.tanh(np.asarray(noisy, dtype=np.float64) / noise_std ** 2)


def check_denoiser_prediction(prediction) -> CheckResult:
    """Exercise 13.6: the ideal squared-error denoiser's outputs at x~ = 0, 3, -5 for clean x = ±1 (equally likely)
    and unit Gaussian noise; answers within 0.05 of tanh(x~) pass.

    Recognises: the identity (a denoiser that returns its input), the most likely clean value
    (sign or nearest of ±1, which is what a 0-1 loss would give, not the squared error), outputs
    outside [-1, 1], and a wrong number of values.
    """
    label = "13.6"
    if prediction is Ellipsis:
        raise not_done_message("Exercise 13.6 is not done yet: return your three predicted outputs.")
    expected = reference_denoiser(DENOISER_PROBES)
    try:
        got = np.asarray(prediction, dtype=np.float64)
    except (TypeError, ValueError):
        got = None
    if got is None or got.shape != expected.shape:
        return check_value(label, prediction, expected, name="your prediction",
                           hint="return three numbers, the outputs at x~ = 0, 3 and -5, e.g. (0.1, 0.2, 0.3)")
    mistakes = [Mistake("denoiser-identity", lambda: DENOISER_PROBES,
                        "you predicted the identity, r(x~) = x~: the network was trained to output the CLEAN x, "
                        "and every clean value is ±1, so its output is an average of ±1")]

    def outside_range(value, _expected):
        if np.any(np.abs(np.asarray(value)) > 1.05):
            return ("an output outside [-1, 1]: the squared-error optimum is E[x | x~], an average of clean "
                    "values, and every clean value is ±1")
        return None

    def most_likely_value(value, _expected):
        if abs(np.asarray(value)[0]) > 0.5:
            return ("at x~ = 0 the clean values +1 and -1 are equally likely; the squared error is minimised by "
                    "their MEAN, 0, not by either one (picking the most likely value is what a 0-1 loss does)")
        return None

    return check_value(
        label, tuple(got), tuple(expected), name="your prediction", mistakes=mistakes,
        diagnoses=[outside_range, most_likely_value], atol=0.05, rtol=0.0,
        hint="The minimiser of E||x - r(x~)||² is r(x~) = E[x | x~]; weigh +1 and -1 by their posterior "
             "probabilities given x~ (Bayes' rule with Gaussian likelihoods).",
        success="r*(x~) = E[x | x~] = tanh(x~) here: 0 where the two clean values are equally likely, and ±1 "
                "(not x~) far from 0.",
    )
