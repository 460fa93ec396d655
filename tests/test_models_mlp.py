"""dlcore.models.mlp: the one nn.Sequential MLP builder and the course's named MLPs built on it.

The named MLPs must draw the same initial weights as the layer-by-layer code they replaced (the
chapters print training runs that start from them), so each is compared, exactly, with that code.
"""

from __future__ import annotations

from functools import partial

import pytest
import torch
from torch import nn

from dlcore.models import mlp as M


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(sa[k].dtype == sb[k].dtype and torch.equal(sa[k], sb[k]) for k in sa)


def seeded(seed, build):
    torch.manual_seed(seed)
    return build()


def test_sequential_mlp_layout_keys_and_shapes():
    net = M.sequential_mlp([5, 7, 6, 3], nn.Tanh, dtype=torch.float64)
    assert [type(m) for m in net] == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear]
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert net[0].weight.shape == (7, 5) and net[4].weight.shape == (3, 6)
    assert all(p.dtype == torch.float64 for p in net.parameters())
    assert net(torch.zeros(4, 5, dtype=torch.float64)).shape == (4, 3)
    linear = M.sequential_mlp([5, 4, 2], None)
    assert [type(m) for m in linear] == [nn.Linear, nn.Linear]
    assert linear[0].weight.dtype == torch.get_default_dtype()
    leaky = M.sequential_mlp([2, 3, 1], partial(nn.LeakyReLU, 0.1))
    assert leaky[1].negative_slope == 0.1


@pytest.mark.parametrize("call, error, message", [
    (lambda: M.sequential_mlp([4]), ValueError, "sequential_mlp: sizes must hold at least two widths"),
    (lambda: M.sequential_mlp([4, 0, 2]), ValueError, r"sequential_mlp: sizes\[1\] must be a positive integer, got 0"),
    (lambda: M.sequential_mlp([4, 2.5]), TypeError, r"sequential_mlp: sizes\[1\] must be a positive integer"),
    (lambda: M.sequential_mlp([4, 2], "relu"), TypeError, "sequential_mlp: activation must be a module class"),
    (lambda: M.sequential_mlp([4, 2], dtype=torch.int64), ValueError, "sequential_mlp: dtype must be torch.float32"),
    (lambda: M.make_mlp(dtype=torch.float16), ValueError, "make_mlp: dtype must be"),
    (lambda: M.mlp_generator(output="tanh"), ValueError, "mlp_generator: output must be 'linear' or 'sigmoid'"),
    (lambda: M.mlp_discriminator(dtype=torch.int32), ValueError, "mlp_discriminator: dtype must be"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gan_pair_draws_the_weights_of_the_layers_written_out(dtype):
    generator = seeded(3, lambda: M.mlp_generator(3, 5, 16, depth=2, output="sigmoid", dtype=dtype))
    written_out = seeded(3, lambda: nn.Sequential(nn.Linear(3, 16, dtype=dtype), nn.ReLU(), nn.Linear(16, 16, dtype=dtype),
                                                  nn.ReLU(), nn.Linear(16, 5, dtype=dtype), nn.Sigmoid()))
    assert same_weights(generator, written_out) and isinstance(generator[-1], nn.Sigmoid)
    discriminator = seeded(4, lambda: M.mlp_discriminator(5, 8, depth=1, negative_slope=0.3, dtype=dtype))
    written_out = seeded(4, lambda: nn.Sequential(nn.Linear(5, 8, dtype=dtype), nn.LeakyReLU(0.3),
                                                  nn.Linear(8, 1, dtype=dtype)))
    assert same_weights(discriminator, written_out) and repr(discriminator) == repr(written_out)


def test_make_mlp_draws_from_its_seed_and_leaves_the_global_generator_alone():
    state = torch.get_rng_state()
    model = M.make_mlp(6, 4, 3, seed=7, depth=2, dtype=torch.float64)
    assert torch.equal(torch.get_rng_state(), state)
    written_out = seeded(7, lambda: nn.Sequential(nn.Linear(6, 4, dtype=torch.float64), nn.ReLU(),
                                                  nn.Linear(4, 4, dtype=torch.float64), nn.ReLU(),
                                                  nn.Linear(4, 3, dtype=torch.float64)))
    assert same_weights(model, written_out)
    assert not same_weights(model, M.make_mlp(6, 4, 3, seed=8, depth=2, dtype=torch.float64))


def test_autoencoder_and_policy_networks_are_sequential_mlps():
    from dlcore.models.autoencoders import Autoencoder
    from dlcore.rl.policy_gradient import policy_network

    model = seeded(1, lambda: Autoencoder(6, 2, (4,), linear=True, dtype=torch.float32))
    f64 = torch.float64
    encoder = seeded(1, lambda: nn.Sequential(nn.Linear(6, 4, dtype=f64), nn.Linear(4, 2, dtype=f64)))
    assert same_weights(model.encoder, encoder.float())  # drawn in float64, then converted
    policy = seeded(2, lambda: policy_network(8, observation_size=4, num_actions=2))
    written_out = seeded(2, lambda: nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)))
    assert same_weights(policy, written_out)


def test_the_old_import_paths_give_the_same_objects():
    from dlcore.models import gan
    from dlcore.practice import common
    from dlcore.training import playground_model, torch_loop

    assert torch_loop.DigitMLP is M.DigitMLP and torch_loop.digit_mlp is M.digit_mlp
    assert playground_model.MLP is M.MLP and playground_model.build_mlp is M.build_mlp
    assert playground_model.ACTIVATIONS is M.ACTIVATIONS
    assert gan.mlp_generator is M.mlp_generator and gan.mlp_discriminator is M.mlp_discriminator
    assert common.make_mlp is M.make_mlp
