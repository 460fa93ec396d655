"""Chapter 07: weight initialisation against torch.nn.init's formulas, draws and sample statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlcore.scratch import init

# Sample statistics of n independent draws have relative error ~ 1/sqrt(n): with 120 000 draws
# the std is within ~0.3% (3 sigma ~ 0.6%); 2% forgives that and still catches any wrong factor
# (the smallest plausible mistake, a gain of sqrt(2), is a 41% error).
SAMPLE_RTOL = 0.02

SHAPES_2D = [(300, 400), (64, 10), (3, 1000), (1, 7)]  # dlcore layout (D, M) = (fan_in, fan_out)
SHAPES_4D = [(8, 3, 3, 3), (16, 1, 5, 2)]  # (F, C, kh, kw)


def _torch_shape(shape):
    return tuple(reversed(shape)) if len(shape) == 2 else shape  # nn.Linear.weight is (M, D)


@pytest.mark.parametrize("shape", SHAPES_2D + SHAPES_4D)
def test_fans_match_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(_torch_shape(shape)))
    assert init.fans(shape) == expected


def test_fans_of_a_bias_is_an_error_that_says_what_to_do():
    with pytest.raises(ValueError, match=r"fans: shape \(5,\) has 1 dimension\(s\).*initialise biases with zeros"):
        init.fans((5,))


@pytest.mark.parametrize("name, param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                         ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                                         ("leaky_relu", 1), ("selu", None)])
def test_gains_equal_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-15)


def test_unknown_gain_names_the_choices():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'; choose one of linear"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", SHAPES_2D + SHAPES_4D)
@pytest.mark.parametrize("gain", [1.0, 5.0 / 3.0])
def test_xavier_std_and_bound_equal_torchs_exactly(shape, gain):
    """torch draws xavier_normal_ as normal_(0, std) and xavier_uniform_ as uniform_(-a, a): replaying
    the same generator with our std and bound must give bit-identical tensors."""
    fan_in, fan_out = init.fans(shape)
    for draw, ours in ((lambda t: torch.nn.init.xavier_normal_(t, gain), lambda t: t.normal_(0, init.xavier_std(fan_in, fan_out, gain))),
                       (lambda t: torch.nn.init.xavier_uniform_(t, gain), lambda t: t.uniform_(-init.xavier_bound(fan_in, fan_out, gain),
                                                                                             init.xavier_bound(fan_in, fan_out, gain)))):
        torch.manual_seed(3)
        expected = draw(torch.empty(_torch_shape(shape), dtype=torch.float64))
        torch.manual_seed(3)
        assert torch.equal(ours(torch.empty(_torch_shape(shape), dtype=torch.float64)), expected)


@pytest.mark.parametrize("shape", SHAPES_2D + SHAPES_4D)
@pytest.mark.parametrize("a, mode, nonlinearity", [(0.0, "fan_in", "leaky_relu"), (0.0, "fan_out", "relu"),
                                                   (0.2, "fan_in", "leaky_relu"), (math.sqrt(5), "fan_in", "leaky_relu"),
                                                   (0.0, "fan_in", "tanh")])
def test_kaiming_std_and_bound_equal_torchs_exactly(shape, a, mode, nonlinearity):
    fan_in, fan_out = init.fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    gain = init.calculate_gain(nonlinearity, a)
    std, bound = init.kaiming_std(fan, gain), init.kaiming_bound(fan, gain)
    for draw, ours in ((lambda t: torch.nn.init.kaiming_normal_(t, a, mode, nonlinearity), lambda t: t.normal_(0, std)),
                       (lambda t: torch.nn.init.kaiming_uniform_(t, a, mode, nonlinearity), lambda t: t.uniform_(-bound, bound))):
        torch.manual_seed(5)
        expected = draw(torch.empty(_torch_shape(shape), dtype=torch.float64))
        torch.manual_seed(5)
        assert torch.equal(ours(torch.empty(_torch_shape(shape), dtype=torch.float64)), expected)


def test_the_formulas_written_out():
    assert init.xavier_std(100, 300) == pytest.approx(math.sqrt(2 / 400))
    assert init.xavier_bound(100, 300) == pytest.approx(math.sqrt(6 / 400))
    assert init.kaiming_std(50) == pytest.approx(math.sqrt(2 / 50))
    assert init.kaiming_bound(50) == pytest.approx(math.sqrt(6 / 50))
    # PyTorch's nn.Linear default: kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert init.kaiming_bound(49, init.calculate_gain("leaky_relu", math.sqrt(5))) == pytest.approx(1 / 7)


@pytest.mark.parametrize("make, std", [
    (lambda rng: init.xavier_normal((300, 400), rng=rng), math.sqrt(2 / 700)),
    (lambda rng: init.xavier_uniform((300, 400), rng=rng), math.sqrt(2 / 700)),
    (lambda rng: init.kaiming_normal((300, 400), rng=rng), math.sqrt(2 / 300)),
    (lambda rng: init.kaiming_uniform((300, 400), mode="fan_out", rng=rng), math.sqrt(2 / 400)),
    (lambda rng: init.kaiming_normal((20, 30, 3, 3), nonlinearity="tanh", rng=rng), (5 / 3) / math.sqrt(270)),
    (lambda rng: init.normal((300, 400), 0.01, rng=rng), 0.01),
])
def test_sample_statistics(rng, make, std):
    w = make(rng)
    assert abs(w.mean()) < 5 * std / math.sqrt(w.size)
    assert w.std() == pytest.approx(std, rel=SAMPLE_RTOL)


def test_uniform_variants_respect_their_bound(rng):
    w = init.kaiming_uniform((300, 400), rng=rng)
    bound = init.kaiming_bound(300)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound


def test_same_rng_state_same_weights_and_no_global_state():
    a = init.xavier_normal((5, 4), rng=np.random.default_rng(1))
    np.random.seed(123)  # the legacy global state must not matter
    b = init.xavier_normal((5, 4), rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)


def test_rng_is_required_and_checked():
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        init.normal((2, 2), 1.0, rng=0)
    with pytest.raises(TypeError):
        init.xavier_normal((2, 2))  # keyword-only and required


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan'"):
        init.kaiming_normal((3, 3), mode="fan", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="std must be a finite number >= 0"):
        init.normal((3, 3), -1.0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="every size in shape must be >= 1"):
        init.zeros((3, 0))
    with pytest.raises(ValueError, match="unknown scheme 'lecun'"):
        init.initialize((3, 3), "lecun", rng=np.random.default_rng(0))


@pytest.mark.parametrize("scheme, std", [("small", 0.01), ("standard", 1.0), ("xavier", math.sqrt(2 / 700)),
                                         ("he", math.sqrt(2 / 300)), ("default", 1 / math.sqrt(3 * 300))])
def test_initialize_by_name(rng, scheme, std):
    w = init.initialize((300, 400), scheme, rng=rng, nonlinearity="relu")
    assert w.shape == (300, 400)
    assert w.std() == pytest.approx(std, rel=SAMPLE_RTOL)
    assert np.all(init.initialize((3, 4), "zeros", rng=rng) == 0)


def test_constant_initialisation_never_breaks_symmetry():
    for value in (0.0, 0.3):
        result = init.symmetry_experiment(value, num_steps=100, rng=np.random.default_rng(0))
        assert np.all(result.spread == 0.0)  # every hidden unit identical at every step
    random = init.symmetry_experiment("random", num_steps=300, rng=np.random.default_rng(0))
    constant = init.symmetry_experiment(0.3, num_steps=300, rng=np.random.default_rng(0))
    assert random.spread[0] > 0.1
    assert random.loss[-1] < 0.5 * constant.loss[-1]  # eight distinct units fit far better than one


def test_zero_initialisation_leaves_only_the_output_bias_learning():
    result = init.symmetry_experiment(0.0, num_steps=50, rng=np.random.default_rng(0))
    # tanh(0) = 0: the hidden layer outputs 0, so no weight gets a gradient; only the output bias moves
    assert result.loss[-1] == pytest.approx(result.loss[1], rel=0.01)
