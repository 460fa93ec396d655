"""Properties of dlcore.scratch.init and .regularization: PyTorch's and scikit-learn's numbers, clear errors."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlcore.scratch import init as I
from dlcore.scratch import regularization as R
from dlcore.scratch.module import Parameter
from tests.property_kit import close, covers, floats, rejects, torch_of

covers(
    I.fans, I.calculate_gain, I.zeros, I.constant, I.normal, I.uniform, I.xavier_std, I.xavier_bound, I.kaiming_std,
    I.kaiming_bound, I.xavier_normal, I.xavier_uniform, I.kaiming_normal, I.kaiming_uniform, I.initialize,
    I.symmetry_experiment,
    R.l1_penalty, R.l2_penalty, R.elastic_net_penalty, R.soft_threshold, R.add_penalty, R.fit_linear_regularized,
    R.EarlyStopping,
)

weight_shapes = hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=6)


@given(shape=weight_shapes)
def test_fans_equal_torch(shape):
    # dlcore's 2-D weights are (in, out), used as x W; torch's Linear weights are (out, in)
    torch_shape = shape[::-1] if len(shape) == 2 else shape
    assert I.fans(shape) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(torch_shape))


@pytest.mark.parametrize("name", ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu", "conv2d"])
def test_gains_equal_torch(name):
    assert I.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))


@given(slope=st.floats(0.0, 1.0))
def test_leaky_relu_gain_equals_torch(slope):
    assert I.calculate_gain("leaky_relu", slope) == pytest.approx(torch.nn.init.calculate_gain("leaky_relu", slope))


@given(fan_in=st.integers(1, 10**4), fan_out=st.integers(1, 10**4), gain=st.floats(0.1, 3.0))
def test_scales_follow_their_formulas(fan_in, fan_out, gain):
    assert I.xavier_std(fan_in, fan_out, gain) == pytest.approx(gain * math.sqrt(2 / (fan_in + fan_out)))
    assert I.xavier_bound(fan_in, fan_out, gain) == pytest.approx(gain * math.sqrt(6 / (fan_in + fan_out)))
    assert I.kaiming_std(fan_in, gain) == pytest.approx(gain / math.sqrt(fan_in))
    assert I.kaiming_bound(fan_in, gain) == pytest.approx(gain * math.sqrt(3 / fan_in))


@pytest.mark.parametrize("scheme", ["xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform"])
@given(fan_in=st.integers(100, 300), fan_out=st.integers(100, 300), seed=st.integers(0, 100))
def test_random_schemes_have_torchs_spread(scheme, fan_in, fan_out, seed):
    # torch stores Linear weights as (out, in); dlcore's are (in, out), used as x W
    shape = (fan_in, fan_out)
    weights = getattr(I, scheme)(shape, rng=np.random.default_rng(seed))
    reference = getattr(torch.nn.init, scheme + "_")(torch.empty(fan_out, fan_in))
    assert weights.shape == shape
    # ~3e4 draws: the sample std is within 3 % of the true one with overwhelming probability
    assert weights.std() == pytest.approx(float(reference.std()), rel=0.06)
    if scheme.endswith("uniform"):
        bound = float(reference.abs().max())
        assert np.abs(weights).max() <= bound * 1.01


@given(shape=weight_shapes, value=st.floats(-3, 3), std=st.floats(0, 2), seed=st.integers(0, 100))
def test_simple_initialisers(shape, value, std, seed):
    close(I.zeros(shape), np.zeros(shape))
    close(I.constant(shape, value), np.full(shape, value))
    rng = np.random.default_rng(seed)
    assert I.normal(shape, std, rng=rng).shape == shape
    assert np.abs(I.uniform(shape, std, rng=rng)).max() <= std
    for scheme in I.INIT_SCHEMES:
        assert I.initialize(shape, scheme, rng=np.random.default_rng(seed)).shape == shape


def test_symmetry_experiment_keeps_constant_initialisations_symmetric():
    constant = I.symmetry_experiment(0.5, num_steps=30, rng=np.random.default_rng(0))
    random = I.symmetry_experiment("random", num_steps=30, rng=np.random.default_rng(0))
    assert constant.spread.shape == (31,) and np.all(constant.spread == 0)
    assert np.all(random.spread > 0)


@given(w=floats(st.tuples(st.integers(1, 5), st.integers(1, 5))), strength=st.floats(0, 2), ratio=st.floats(0, 1))
def test_penalties_and_gradients_match_autograd(w, strength, ratio):
    w_t = torch_of(w, True)
    l1 = strength * w_t.abs().sum()
    l2 = strength / 2 * (w_t**2).sum()
    for ours, theirs in ((R.l1_penalty(w, strength), l1), (R.l2_penalty(w, strength), l2)):
        grad_t, = torch.autograd.grad(theirs, w_t)
        close(ours[0], theirs)
        nonzero = w != 0  # |w| has no derivative at 0; dlcore uses 0 there, as torch's sign does
        close(ours[1][nonzero], grad_t.numpy()[nonzero])
    value, _ = R.elastic_net_penalty(w, strength, ratio)
    assert value == pytest.approx(ratio * l1.detach().item() + (1 - ratio) * l2.detach().item())


@given(w=floats((6,)), threshold=st.floats(0, 3))
def test_soft_threshold_is_the_l1_proximal_step(w, threshold):
    close(R.soft_threshold(w, threshold), torch.nn.functional.softshrink(torch_of(w), threshold))


@given(strength=st.floats(0, 1))
def test_add_penalty_touches_only_weights(strength):
    W, b = Parameter(np.ones((2, 2)), "W"), Parameter(np.ones(2), "b")
    total = R.add_penalty([W, b], "l2", strength)
    assert total == pytest.approx(2 * strength) and np.all(b.grad == 0)
    close(W.grad, strength * np.ones((2, 2)))


def test_fit_linear_regularized_reaches_scikit_learns_lasso():
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = X @ np.array([1.5, 0.0, -2.0, 0.0]) + 0.1 * rng.normal(size=60)
    fit = R.fit_linear_regularized(X, y, 0.1, 1.0, num_steps=3000)
    reference = Lasso(alpha=0.1).fit(X, y)
    close(fit.coef, reference.coef_, atol=1e-4)


@given(values=st.lists(st.floats(0, 10), min_size=1, max_size=30), patience=st.integers(1, 5))
def test_early_stopping_stops_after_patience_checks_without_improvement(values, patience):
    stopper = R.EarlyStopping(patience=patience)
    best, waited = math.inf, 0
    for value in values:
        stop = stopper.step(value)
        if value < best:
            best, waited = value, 0
        else:
            waited += 1
        assert stop == (waited >= patience)
        if stop:
            break


@pytest.mark.parametrize("call, argument, kind", [
    (lambda: I.fans((3,)), "shape", ValueError),
    (lambda: I.calculate_gain("swish"), "nonlinearity", ValueError),
    (lambda: I.constant((2, 2), "a"), "value", ValueError),
    (lambda: I.normal((2, 2), -1.0, rng=np.random.default_rng(0)), "std", ValueError),
    (lambda: I.uniform((2, 2), 1.0, rng=0), "rng", TypeError),
    (lambda: I.xavier_std(0, 3), "fan_in", ValueError),
    (lambda: I.kaiming_std(0), "fan", ValueError),
    (lambda: I.kaiming_bound(2.5), "fan", TypeError),
    (lambda: I.kaiming_normal((3, 3), mode="fan_avg", rng=np.random.default_rng(0)), "mode", ValueError),
    (lambda: I.initialize((3, 3), "orthogonal", rng=np.random.default_rng(0)), "scheme", ValueError),
    (lambda: R.l1_penalty(np.ones(2), -1.0), "strength", ValueError),
    (lambda: R.elastic_net_penalty(np.ones(2), 1.0, 2.0), "l1_ratio", ValueError),
    (lambda: R.soft_threshold(np.ones(2), -1.0), "threshold", ValueError),
    (lambda: R.add_penalty([], "l3", 1.0), "kind", ValueError),
    (lambda: R.fit_linear_regularized(np.ones(3), np.ones(3), 1.0, 0.5), "X", ValueError),
    (lambda: R.fit_linear_regularized(np.ones((3, 2)), np.ones(3), 1.0, 0.5, method="newton"), "method", ValueError),
    (lambda: R.EarlyStopping(patience=0), "patience", ValueError),
])
def test_bad_input_is_named(call, argument, kind):
    rejects(call, argument, kinds=(kind,))
