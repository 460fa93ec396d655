"""Chapter 13: the NumPy RBM (free energy, conditionals, exact and CD gradients) and the DBN."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from dlcore.errors import ShapeError
from dlcore.gradcheck import numerical_gradient, relative_error
from dlcore.scratch import rbm as R
from dlcore.scratch.dbn import DBN, sigmoid_classifier
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64


def tiny(D=5, Hh=3, N=7, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    v = (rng.random((N, D)) < 0.5).astype(np.float64)
    return v, rng.normal(0, scale, (D, Hh)), rng.normal(0, scale, D), rng.normal(0, scale, Hh)


def test_free_energy_sums_out_the_hidden_units():
    v, W, b, c = tiny(D=4, Hh=3, N=5)
    brute = []
    for row in v:
        energies = [-(row @ b + np.array(h) @ c + row @ W @ np.array(h)) for h in itertools.product([0, 1], repeat=3)]
        brute.append(-np.log(np.sum(np.exp(-np.array(energies)))))
    assert np.allclose(R.free_energy(v, W, b, c), brute, rtol=1e-12)


def test_free_energy_and_its_gradient_match_torch():
    v, W, b, c = tiny(D=6, Hh=4, N=1, seed=3)  # batch of one, non-square
    tW, tb, tc = (torch.tensor(a, requires_grad=True) for a in (W, b, c))
    tv = torch.tensor(v)
    F = -tv @ tb - torch.nn.functional.softplus(tv @ tW + tc).sum(dim=1)
    assert np.allclose(R.free_energy(v, W, b, c), F.detach().numpy(), rtol=PARITY_RTOL_FLOAT64,
                       atol=PARITY_ATOL_FLOAT64)
    F.mean().backward()
    ours = R.free_energy_gradient(v, W, b, c)
    for mine, theirs, param in zip(ours, (tW.grad, tb.grad, tc.grad), (W, b, c)):
        assert mine.shape == param.shape
        assert np.allclose(mine, theirs.numpy(), rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)


def test_conditionals_are_sigmoids():
    v, W, b, c = tiny(D=5, Hh=2, N=3)
    h = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert np.allclose(R.hidden_probabilities(v, W, c), 1 / (1 + np.exp(-(v @ W + c))))
    assert np.allclose(R.visible_probabilities(h, W, b), 1 / (1 + np.exp(-(h @ W.T + b))))
    assert np.all(np.isfinite(R.hidden_probabilities(v * 1e4, W, c)))  # no overflow warnings either


def test_exact_gradient_matches_finite_differences_of_the_log_likelihood():
    v, W, b, c = tiny()
    exact = R.exact_gradient(v, W, b, c)
    for param, analytic in zip((W, b, c), exact):
        numeric = numerical_gradient(lambda: R.log_likelihood(v, W, b, c), param)
        assert analytic.shape == param.shape
        assert relative_error(analytic, numeric) < 1e-6


def test_probabilities_sum_to_one():
    _, W, b, c = tiny(D=6)
    every = R.all_binary_vectors(6)
    assert every.shape == (64, 6)
    assert np.isclose(np.exp(-R.free_energy(every, W, b, c) - R.log_partition(W, b, c)).sum(), 1.0)


def _flat(grad):
    return np.concatenate([g.ravel() for g in grad])


def test_cd_points_along_the_exact_gradient_and_cd_k_approaches_it():
    v, W, b, c = tiny(scale=1.0)
    exact = _flat(R.exact_gradient(v, W, b, c))
    rng = np.random.default_rng(1)
    errors = {}
    for k in (1, 20):
        estimate = np.mean([_flat(R.cd_gradient(np.repeat(v, 300, axis=0), W, b, c, k=k, rng=rng)[0])
                            for _ in range(4)], axis=0)
        cosine = estimate @ exact / np.linalg.norm(estimate) / np.linalg.norm(exact)
        assert cosine > 0.95, (k, cosine)  # CD-1 is biased but points the right way
        errors[k] = np.linalg.norm(estimate - exact) / np.linalg.norm(exact)
    assert errors[20] < 0.06  # a long chain is (close to) the exact model term: Monte-Carlo noise only
    assert errors[20] < errors[1]


def test_cd_is_deterministic_given_the_generator_and_leaves_inputs_alone():
    v, W, b, c = tiny()
    copies = [a.copy() for a in (v, W, b, c)]
    first, _ = R.cd_gradient(v, W, b, c, k=2, rng=np.random.default_rng(5))
    second, _ = R.cd_gradient(v, W, b, c, k=2, rng=np.random.default_rng(5))
    assert all(np.array_equal(x, y) for x, y in zip(first, second))
    assert all(np.array_equal(x, y) for x, y in zip((v, W, b, c), copies))


def test_shape_errors_name_the_argument():
    v, W, b, c = tiny(D=5, Hh=3)
    with pytest.raises(ShapeError, match=r"free_energy: v has shape \(7, 4\) but expected \(N, D\) = \(\*, 5\)"):
        R.free_energy(v[:, :4], W, b, c)
    with pytest.raises(ShapeError, match=r"c has shape \(2,\) but expected \(Hh,\) = \(3,\)"):
        R.cd_gradient(v, W, b, c[:2], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="k must be a positive int"):
        R.cd_gradient(v, W, b, c, k=0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="D must be in 1..20"):
        R.all_binary_vectors(21)


def test_training_raises_the_likelihood_of_a_tiny_dataset():
    rng = np.random.default_rng(0)
    patterns = np.array([[1, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 1]], dtype=np.float64)
    X = patterns[rng.integers(0, 2, 200)]
    model = R.RBM(6, 4, rng=rng, init_std=0.1)
    before = R.log_likelihood(X, *model.params)
    errors = model.fit(X, num_epochs=30, rng=rng, batch_size=20, learning_rate=0.1)
    after = R.log_likelihood(X, *model.params)
    assert after > before + 2.0 and after > np.log(0.5) - 0.5  # the two patterns get most of the mass
    assert errors[-1] < errors[0]


def test_dbn_pretrains_layer_by_layer_and_initialises_the_classifier():
    rng = np.random.default_rng(0)
    X = rng.random((60, 8))
    dbn = DBN([8, 6, 4], rng=rng)
    errors = dbn.pretrain(X, num_epochs=3, rng=rng, batch_size=10)
    assert len(errors) == 2 and all(len(e) == 3 for e in errors)
    assert dbn.transform(X).shape == (60, 4)
    net = dbn.to_classifier(3, rng=rng)
    assert np.array_equal(net[0].W.value, dbn.rbms[0].W) and np.array_equal(net[2].b.value, dbn.rbms[1].c)
    assert net.forward(X).shape == (60, 3)
    plain = sigmoid_classifier([8, 6, 4], 3, rng=rng)
    assert [p.shape for p in plain.parameters()] == [p.shape for p in net.parameters()]
    with pytest.raises(ValueError, match="layer_sizes"):
        DBN([8], rng=rng)
    with pytest.raises(ShapeError, match="X has shape"):
        dbn.pretrain(X[:, :5], num_epochs=1, rng=rng)


def test_visible_probabilities_names_h():
    _, W, b, _ = tiny(D=5, Hh=3)
    expected = r"visible_probabilities: h has shape \(2, 5\) but expected \(N, Hh\) = \(\*, 3\)"
    with pytest.raises(ShapeError, match=expected):
        R.visible_probabilities(np.ones((2, 5)), W, b)


def test_pretraining_sweep_results_file_matches_a_rerun_of_one_seed():
    """dlcore/training/results/dbn_sweep.json (chapter 13's table) against seed 0 re-run to its first checkpoint."""
    from dlcore.training import dbn_sweep

    stored = dbn_sweep.load_results()
    assert stored["checkpoints"] == list(dbn_sweep.CHECKPOINTS) and stored["seeds"] == list(dbn_sweep.SEEDS)
    assert list(stored["accuracy"]) == list(dbn_sweep.NETWORKS)
    first = dbn_sweep.CHECKPOINTS[0]
    compared = dbn_sweep.NETWORKS[0], dbn_sweep.NETWORKS[2]  # the pretrained network and the Glorot baseline
    rerun = dbn_sweep.run_seed(dbn_sweep.SEEDS[0], checkpoints=(first,), names=compared)
    for name in compared:
        # the same seeds and batch order: equal up to floating-point differences between CPUs (one test digit = 0.0033)
        assert abs(rerun[name][0] - stored["accuracy"][name][0][0]) <= 0.01, name


def test_sigmoid_classifier_glorot_init_bounds_and_bad_init():
    net = sigmoid_classifier([64, 100, 50], 10, rng=np.random.default_rng(0), init="glorot")
    for layer in net[0::2]:
        fan_in, fan_out = layer.W.value.shape
        assert np.abs(layer.W.value).max() <= np.sqrt(6.0 / (fan_in + fan_out))
        assert layer.W.value.std() > 0.8 * np.sqrt(2.0 / (fan_in + fan_out))  # uniform(-a, a) has std a / sqrt(3)
    with pytest.raises(ValueError, match="init must be 'uniform' or 'glorot'"):
        sigmoid_classifier([4, 3], 2, rng=np.random.default_rng(0), init="he")
