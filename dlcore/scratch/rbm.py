"""The Bernoulli-Bernoulli restricted Boltzmann machine, trained by contrastive divergence (chapter 13).

Energy of a joint configuration, with v in {0,1}^D, h in {0,1}^Hh:

    E(v, h) = -v·b - h·c - v W h,      p(v, h) = exp(-E(v, h)) / Z

W is (D, Hh), b (D,) the visible biases, c (Hh,) the hidden biases. There are no
visible-visible and no hidden-hidden weights, so given one layer the units of the
other are independent: p(h_j = 1 | v) = sigmoid(c_j + (v W)_j) and
p(v_i = 1 | h) = sigmoid(b_i + (h W^T)_i). Summing out h gives the free energy

    F(v) = -v·b - sum_j softplus(c_j + (v W)_j),      p(v) = exp(-F(v)) / Z

and the gradient of the log-likelihood of one example

    d log p(v) / d theta = -dF(v)/d theta + E_{v' ~ p}[dF(v')/d theta]

(data term minus model term). The model term needs Z; contrastive divergence (CD-k)
replaces the expectation by the end of a k-step Gibbs chain started at the data.
:func:`exact_gradient` enumerates all 2^D visible vectors, for tiny RBMs only, so
that CD can be tested against the truth.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from dlcore.errors import (as_float_array, expect_generator, expect_ndim, expect_positive_int, expect_probability,
                           expect_real, expect_shape)

__all__ = [
    "RBMGradient", "free_energy", "hidden_probabilities", "visible_probabilities", "sample_bernoulli",
    "free_energy_gradient", "cd_gradient", "log_partition", "log_likelihood", "exact_gradient",
    "reconstruction_error", "all_binary_vectors", "RBM",
]

MAX_ENUMERATED_VISIBLE = 20  # 2^20 visible vectors: the largest RBM whose Z we sum exactly


class RBMGradient(NamedTuple):
    """A gradient (or a gradient estimate) for each parameter, shaped like it."""

    dW: np.ndarray  # (D, Hh)
    db: np.ndarray  # (D,)
    dc: np.ndarray  # (Hh,)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # never overflows, unlike 1 / (1 + exp(-x))


def _check(func: str, v: np.ndarray, W: np.ndarray, b: np.ndarray, c: np.ndarray):
    v, W = as_float_array(func, "v", v), as_float_array(func, "W", W)
    b, c = as_float_array(func, "b", b), as_float_array(func, "c", c)
    expect_ndim(func, "W", W, 2, "(D, Hh)")
    D, Hh = W.shape
    expect_ndim(func, "v", v, 2, "(N, D): one visible vector per row")
    expect_shape(func, "v", v, (None, D), "(N, D)", f"D = W.shape[0] = {D}")
    expect_shape(func, "b", b, (D,), "(D,)", f"D = W.shape[0] = {D}")
    expect_shape(func, "c", c, (Hh,), "(Hh,)", f"Hh = W.shape[1] = {Hh}")
    return v, W, b, c


def free_energy(v: np.ndarray, W: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """F(v) = -v·b - sum_j softplus(c_j + (v W)_j), one value per row of v.

    Args:
        v: (N, D) visible vectors (binary, or probabilities in [0, 1]).
        W: (D, Hh) weights; b: (D,) visible biases; c: (Hh,) hidden biases.

    Returns:
        (N,) free energies; p(v) is proportional to exp(-F(v)).

    Raises:
        ShapeError: if the shapes do not fit together.
    """
    v, W, b, c = _check("free_energy", v, W, b, c)
    return -v @ b - np.logaddexp(0.0, v @ W + c).sum(axis=1)  # softplus(x) = log(1 + e^x)


def hidden_probabilities(v: np.ndarray, W: np.ndarray, c: np.ndarray) -> np.ndarray:
    """p(h = 1 | v) = sigmoid(v W + c): (N, D) visible -> (N, Hh) probabilities."""
    v, W, _, c = _check("hidden_probabilities", v, W, np.zeros(np.shape(W)[0]), c)
    return _sigmoid(v @ W + c)


def visible_probabilities(h: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """p(v = 1 | h) = sigmoid(h W^T + b): (N, Hh) hidden -> (N, D) probabilities."""
    func = "visible_probabilities"
    h, W, b = as_float_array(func, "h", h), as_float_array(func, "W", W), as_float_array(func, "b", b)
    expect_ndim(func, "W", W, 2, "(D, Hh)")
    D, Hh = W.shape
    expect_ndim(func, "h", h, 2, "(N, Hh): one hidden vector per row")
    expect_shape(func, "h", h, (None, Hh), "(N, Hh)", f"Hh = W.shape[1] = {Hh}")
    expect_shape(func, "b", b, (D,), "(D,)", f"D = W.shape[0] = {D}")
    return _sigmoid(h @ W.T + b)


def sample_bernoulli(p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 0/1 array with P(1) = p, element-wise, drawn from ``rng``."""
    p = as_float_array("sample_bernoulli", "p", p)
    rng = expect_generator("sample_bernoulli", rng)
    if not np.all((p >= 0) & (p <= 1)):  # also refuses NaN
        raise ValueError(f"sample_bernoulli: p must hold probabilities in [0, 1], got values from "
                         f"{np.nanmin(p) if p.size else 'nothing'} to {np.nanmax(p) if p.size else 'nothing'}")
    return (rng.random(np.shape(p)) < p).astype(np.float64)


def free_energy_gradient(v: np.ndarray, W: np.ndarray, b: np.ndarray, c: np.ndarray) -> RBMGradient:
    """The batch mean of dF(v)/d(W, b, c): dW = -v^T p(h|v) / N, db = -mean v, dc = -mean p(h|v)."""
    v, W, b, c = _check("free_energy_gradient", v, W, b, c)
    ph = _sigmoid(v @ W + c)  # (N, Hh)
    N = v.shape[0]
    return RBMGradient(-(v.T @ ph) / N, -v.mean(axis=0), -ph.mean(axis=0))


def cd_gradient(v0: np.ndarray, W: np.ndarray, b: np.ndarray, c: np.ndarray, *, k: int = 1,
                rng: np.random.Generator) -> tuple[RBMGradient, np.ndarray]:
    """The CD-k estimate of d mean log p(v0) / d theta, and the chain's end v_k.

    estimate = -dF(v0)/d theta + dF(v_k)/d theta, where v_k ends k steps of block Gibbs
    sampling (h ~ p(h|v), then v ~ p(v|h)) started at the data v0. Ascend it.

    Args:
        v0: (N, D) a batch of data. W, b, c: the parameters.
        k: Gibbs steps (>= 1). rng: draws every sample.

    Returns:
        (RBMGradient, v_k of shape (N, D)).
    """
    k = expect_positive_int("cd_gradient", "k", k)  # Gibbs steps
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"cd_gradient: rng must be a numpy Generator, got {type(rng).__name__}")
    v0, W, b, c = _check("cd_gradient", v0, W, b, c)
    v = v0
    for _ in range(k):
        h = sample_bernoulli(_sigmoid(v @ W + c), rng)  # (N, Hh)
        v = sample_bernoulli(_sigmoid(h @ W.T + b), rng)  # (N, D)
    data, model = free_energy_gradient(v0, W, b, c), free_energy_gradient(v, W, b, c)
    return RBMGradient(*(m - d for d, m in zip(data, model))), v


def all_binary_vectors(D: int) -> np.ndarray:
    """All 2^D binary vectors of length D as a (2^D, D) float array (row i is i in binary)."""
    if not 0 < D <= MAX_ENUMERATED_VISIBLE:
        raise ValueError(f"all_binary_vectors: D must be in 1..{MAX_ENUMERATED_VISIBLE} (2^D rows), got {D}")
    return ((np.arange(2 ** D)[:, None] >> np.arange(D)) & 1).astype(np.float64)


def log_partition(W: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """log Z = log sum_v exp(-F(v)), summed exactly over all 2^D visible vectors (tiny RBMs only)."""
    energies = -free_energy(all_binary_vectors(np.shape(W)[0]), W, b, c)
    top = energies.max()
    return float(top + np.log(np.exp(energies - top).sum()))  # log-sum-exp, shifted to avoid overflow


def log_likelihood(v: np.ndarray, W: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """The exact mean log p(v) over the rows of v (enumerates Z: tiny RBMs only)."""
    return float(np.mean(-free_energy(v, W, b, c)) - log_partition(W, b, c))


def exact_gradient(v: np.ndarray, W: np.ndarray, b: np.ndarray, c: np.ndarray) -> RBMGradient:
    """The exact d mean log p(v) / d theta: the data term minus the expectation under the model (enumerated)."""
    every = all_binary_vectors(np.shape(W)[0])  # (2^D, D)
    weights = np.exp(-free_energy(every, W, b, c) - log_partition(W, b, c))  # p(v') for every v'
    ph = _sigmoid(every @ W + c)  # (2^D, Hh)
    data = free_energy_gradient(v, W, b, c)
    model = RBMGradient(-(every.T * weights) @ ph, -weights @ every, -weights @ ph)
    return RBMGradient(*(m - d for d, m in zip(data, model)))


def reconstruction_error(v: np.ndarray, W: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """Mean squared difference between v and its mean-field reconstruction p(v | p(h | v)), per unit.

    A cheap progress signal, NOT the objective: CD does not minimise it, and it can fall
    while the likelihood gets worse (a large learning rate makes the chain mix badly).
    """
    v, W, b, c = _check("reconstruction_error", v, W, b, c)
    return float(np.mean((v - _sigmoid(_sigmoid(v @ W + c) @ W.T + b)) ** 2))


class RBM:
    """A Bernoulli-Bernoulli RBM: parameters W (D, Hh), b (D,), c (Hh,) and CD-k training.

    W starts as N(0, init_std^2) (small, so that the units start unsaturated), biases at 0.
    """

    def __init__(self, visible_size: int, hidden_size: int, *, rng: np.random.Generator,
                 init_std: float = 0.01) -> None:
        rng = expect_generator("RBM", rng)
        visible_size = expect_positive_int("RBM", "visible_size", visible_size)
        hidden_size = expect_positive_int("RBM", "hidden_size", hidden_size)
        init_std = expect_real("RBM", "init_std", init_std, minimum=0.0)
        self.W = rng.normal(0.0, init_std, (visible_size, hidden_size))
        self.b = np.zeros(visible_size)
        self.c = np.zeros(hidden_size)

    @property
    def params(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.W, self.b, self.c

    def fit(self, X: np.ndarray, *, num_epochs: int, rng: np.random.Generator, batch_size: int = 32,
            learning_rate: float = 0.1, k: int = 1, momentum: float = 0.5, weight_decay: float = 0.0,
            gradient: Callable[..., tuple] = cd_gradient) -> list[float]:
        """Train with CD-k by gradient ascent with momentum; return the reconstruction error after each epoch.

        X: (N, D) data in [0, 1] (grey levels are used as they are, as probabilities).
        ``rng`` shuffles the examples and draws every Gibbs sample. ``gradient(v0, W, b, c, k=k, rng=rng)``
        returns ``((dW, db, dc), v_k)`` like :func:`cd_gradient` (chapter 13 passes the learner's).
        """
        X = as_float_array("RBM.fit", "X", X)
        expect_shape("RBM.fit", "X", X, (None, self.W.shape[0]), "(N, D)", f"D = {self.W.shape[0]} visible units")
        num_epochs, batch_size = (expect_positive_int("RBM.fit", name, value)
                                  for name, value in (("num_epochs", num_epochs), ("batch_size", batch_size)))
        rng = expect_generator("RBM.fit", rng)
        learning_rate = expect_real("RBM.fit", "learning_rate", learning_rate, positive=True)
        momentum = expect_probability("RBM.fit", "momentum", momentum)
        weight_decay = expect_real("RBM.fit", "weight_decay", weight_decay, minimum=0.0)
        velocity = [np.zeros_like(p) for p in self.params]
        errors = []
        for _ in range(num_epochs):
            order = rng.permutation(len(X))
            for start in range(0, len(X), batch_size):
                (dW, db, dc), _ = gradient(X[order[start:start + batch_size]], *self.params, k=k, rng=rng)
                for param, step, g in zip(self.params, velocity, (dW - weight_decay * self.W, db, dc)):
                    step *= momentum
                    step += learning_rate * g
                    param += step  # in place: W, b, c are this object's own arrays
            errors.append(reconstruction_error(X, *self.params))
        return errors

    def transform(self, v: np.ndarray) -> np.ndarray:
        """The hidden probabilities p(h = 1 | v), (N, D) -> (N, Hh): the features a DBN passes up."""
        return hidden_probabilities(v, self.W, self.c)

    def reconstruct(self, v: np.ndarray) -> np.ndarray:
        """Mean-field reconstruction p(v | p(h | v)), (N, D) -> (N, D)."""
        return visible_probabilities(self.transform(v), self.W, self.b)

    def sample(self, v: np.ndarray, *, num_steps: int, rng: np.random.Generator) -> np.ndarray:
        """Run ``num_steps`` of block Gibbs sampling from ``v`` (N, D); return the visible probabilities at the end."""
        for _ in range(num_steps):
            h = sample_bernoulli(self.transform(v), rng)
            probabilities = visible_probabilities(h, self.W, self.b)
            v = sample_bernoulli(probabilities, rng)
        return probabilities if num_steps else np.asarray(v, dtype=np.float64)
