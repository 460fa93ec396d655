"""Properties of the RBM and the deep belief network (chapter 13): exact enumeration on tiny models as the
reference for free energies, partition functions and gradients; torch autograd for the free energy's gradient."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlcore.scratch import dbn as DB
from dlcore.scratch import rbm as R
from tests.property_kit import check_mutations, close, covers, floats, rejects, torch_of

covers(
    R.RBM, R.all_binary_vectors, R.cd_gradient, R.exact_gradient, R.free_energy, R.free_energy_gradient,
    R.hidden_probabilities, R.log_likelihood, R.log_partition, R.reconstruction_error, R.sample_bernoulli,
    R.visible_probabilities, DB.DBN, DB.sigmoid_classifier,
)


@st.composite
def tiny_rbm(draw, max_visible=5, max_hidden=3):
    D, Hh = draw(st.integers(1, max_visible)), draw(st.integers(1, max_hidden))
    W, b, c = draw(floats((D, Hh), -1.5, 1.5)), draw(floats((D,), -1, 1)), draw(floats((Hh,), -1, 1))
    v = draw(hnp.arrays(np.float64, (draw(st.integers(1, 6)), D), elements=st.sampled_from([0.0, 1.0])))
    return v, W, b, c


@given(D=st.integers(1, 6))
def test_all_binary_vectors_enumerates_each_once(D):
    vectors = R.all_binary_vectors(D)
    assert vectors.shape == (2 ** D, D) and len({row.tobytes() for row in vectors}) == 2 ** D


@given(model=tiny_rbm())
def test_free_energy_and_partition_function_by_enumerating_the_hidden_units(model):
    v, W, b, c = model
    hidden = R.all_binary_vectors(W.shape[1])
    # F(v) = -log sum_h exp(-E(v, h)),  E(v, h) = -v.b - h.c - v W h
    energies = -(v @ b)[:, None] - (hidden @ c)[None, :] - v @ W @ hidden.T
    close(R.free_energy(v, W, b, c), -np.logaddexp.reduce(-energies, axis=1))
    every_v = R.all_binary_vectors(W.shape[0])
    close(R.log_partition(W, b, c), np.logaddexp.reduce(-R.free_energy(every_v, W, b, c)))
    close(R.log_likelihood(v, W, b, c), np.mean(-R.free_energy(v, W, b, c)) - R.log_partition(W, b, c))
    close(R.hidden_probabilities(v, W, c), torch.sigmoid(torch_of(v) @ torch_of(W) + torch_of(c)))
    h = R.hidden_probabilities(v, W, c)
    close(R.visible_probabilities(h, W, b), torch.sigmoid(torch_of(h) @ torch_of(W).T + torch_of(b)))
    assert R.reconstruction_error(v, W, b, c) == pytest.approx(np.mean((v - R.visible_probabilities(h, W, b)) ** 2))


@given(model=tiny_rbm())
def test_gradients_equal_autograd_of_the_free_energy_and_the_log_likelihood(model):
    v, W, b, c = model
    params = [torch_of(a, True) for a in (W, b, c)]
    free = (-(torch_of(v) @ params[1]) - F.softplus(torch_of(v) @ params[0] + params[2]).sum(1)).mean()
    free_grads = torch.autograd.grad(free, params)
    for ours, theirs in zip(R.free_energy_gradient(v, W, b, c), free_grads):
        close(ours, theirs, atol=1e-12)
    every_v = torch_of(R.all_binary_vectors(W.shape[0]))

    def mean_log_p(W_, b_, c_):
        def free_of(x):
            return -(x @ b_) - F.softplus(x @ W_ + c_).sum(1)
        return (-free_of(torch_of(v))).mean() - torch.logsumexp(-free_of(every_v), 0)

    exact = torch.autograd.grad(mean_log_p(*params), params)
    for ours, theirs in zip(R.exact_gradient(v, W, b, c), exact):
        close(ours, theirs, atol=1e-10)


def test_cd_gradient_is_unbiased_for_the_data_term_and_approaches_the_exact_gradient():
    rng = np.random.default_rng(0)
    W, b, c = rng.normal(0, 0.5, (4, 2)), rng.normal(0, 0.5, 4), rng.normal(0, 0.5, 2)
    v = rng.integers(0, 2, (200, 4)).astype(float)
    exact = R.exact_gradient(v, W, b, c)
    estimates = [R.cd_gradient(v, W, b, c, k=25, rng=rng)[0].dW for _ in range(40)]
    # CD-25 from the data: close to the exact gradient on a 4-unit model (a long chain mixes)
    assert np.abs(np.mean(estimates, axis=0) - exact.dW).max() < 0.05
    _, chain_end = R.cd_gradient(v, W, b, c, rng=rng)
    assert chain_end.shape == v.shape and set(np.unique(chain_end)) <= {0.0, 1.0}


@given(p=floats((50, 4), 0.0, 1.0), seed=st.integers(0, 100))
def test_bernoulli_samples_are_binary_and_follow_p(p, seed):
    samples = R.sample_bernoulli(p, np.random.default_rng(seed))
    assert samples.shape == p.shape and set(np.unique(samples)) <= {0.0, 1.0}
    assert np.all(samples[p == 0] == 0) and np.all(samples[p == 1] == 1)


def test_rbm_training_raises_the_exact_likelihood_and_the_dbn_stacks_rbms():
    rng = np.random.default_rng(0)
    patterns = np.array([[1, 1, 0, 0, 1], [0, 0, 1, 1, 0]], float)
    X = patterns[rng.integers(0, 2, 200)]
    model = R.RBM(5, 3, rng=rng)
    before = R.log_likelihood(X, *model.params)
    model.fit(X, num_epochs=30, rng=rng, batch_size=20)
    assert R.log_likelihood(X, *model.params) > before + 1.0
    assert model.transform(X).shape == (200, 3) and model.reconstruct(X).shape == X.shape
    stack = DB.DBN([5, 4, 3], rng=rng)
    stack.pretrain(X, num_epochs=2, rng=rng)
    assert stack.transform(X).shape == (200, 3)
    classifier = stack.to_classifier(2, rng=rng)
    assert classifier(X).shape == (200, 2)
    baseline = DB.sigmoid_classifier([5, 4, 3], 2, rng=rng, init="glorot")
    assert baseline(X).shape == (200, 2)


def test_bad_arguments_are_named():
    v, W, b, c = np.ones((3, 4)), np.zeros((4, 2)), np.zeros(4), np.zeros(2)
    check_mutations(R.free_energy, dict(v=v, W=W, b=b, c=c), accepts={k: ("NaN",) for k in "vWbc"})
    check_mutations(R.hidden_probabilities, dict(v=v, W=W, c=c), accepts={k: ("NaN",) for k in "vWc"})
    rejects(lambda: R.log_partition(np.zeros((30, 2)), np.zeros(30), np.zeros(2)), "D")  # 2^30 terms
    rejects(lambda: R.cd_gradient(v, W, b, c, k=0, rng=np.random.default_rng(0)), "k")
    rejects(lambda: R.cd_gradient(v, W, b, c, rng=None), "rng")
    rejects(lambda: R.sample_bernoulli(np.array([1.5]), np.random.default_rng(0)), "p")
    rejects(lambda: R.RBM(0, 3, rng=np.random.default_rng(0)), "visible_size")
    rejects(lambda: R.RBM(4, 3, rng=np.random.default_rng(0), init_std=-1.0), "init_std")
    rejects(lambda: R.RBM(4, 3, rng=np.random.default_rng(0)).fit(v, num_epochs=0, rng=np.random.default_rng(0)),
            "num_epochs")
    rejects(lambda: DB.DBN([4], rng=np.random.default_rng(0)), "layer_sizes")
    rejects(lambda: DB.sigmoid_classifier([4, 3], 2, rng=np.random.default_rng(0), init="he"), "init")
