"""Chapter 09: the scratch CNN modules and the NumPy LeNet-5 against the PyTorch one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.errors import ShapeError
from dlcore.gradcheck import check_gradients
from dlcore.models.lenet import LeNet5
from dlcore.scratch.cnn import AvgPool2d, Conv2d, Flatten, MaxPool2d, copy_lenet_to_torch, scratch_lenet5
from dlcore.scratch.module import Sequential
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

TOL = dict(rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)


@pytest.mark.parametrize("input_size, pooling", [(32, "avg"), (28, "max")])
def test_scratch_lenet_matches_torch_lenet_outputs_and_gradients(rng, input_size, pooling):
    scratch = scratch_lenet5(input_size=input_size, pooling=pooling, rng=rng)
    model = LeNet5(input_size=input_size, pooling=pooling).double()
    copy_lenet_to_torch(scratch, model)
    assert scratch.num_parameters() == sum(p.numel() for p in model.parameters()) == 61_706
    x = rng.standard_normal((2, 1, input_size, input_size))
    tx = torch.tensor(x, requires_grad=True)
    tout = model(tx)
    out = scratch.forward(x)
    np.testing.assert_allclose(out, tout.detach().numpy(), **TOL)
    dout = rng.standard_normal(out.shape)
    tout.backward(torch.tensor(dout))
    scratch.zero_grad()
    dx = scratch.backward(dout)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(scratch[0].w.grad, model.features[0].weight.grad.numpy(), **TOL)
    np.testing.assert_allclose(scratch[-1].W.grad, model.classifier[-1].weight.grad.numpy().T, **TOL)


def test_small_cnn_gradients_through_modules(rng):
    net = Sequential(Conv2d(2, 3, 3, padding=1, rng=rng), MaxPool2d(2), Conv2d(3, 2, 2, stride=2, rng=rng),
                     AvgPool2d(1), Flatten())
    x = rng.standard_normal((2, 2, 8, 6))

    def forward(x):
        return net.forward(x), None

    def backward(dout, cache):
        return net.backward(dout)

    check_gradients(forward, backward, {"x": x}, rng=rng).assert_ok()
    out = net.forward(x)
    net.zero_grad()
    net.backward(np.ones_like(out))
    conv = net[0]
    assert conv.w.grad.shape == conv.w.shape and conv.b.grad.shape == conv.b.shape


def test_flatten_round_trip_and_errors(rng):
    layer = Flatten()
    x = rng.standard_normal((3, 2, 4, 5))
    out = layer.forward(x)
    assert out.shape == (3, 40)
    np.testing.assert_array_equal(layer.backward(out), x)
    with pytest.raises(ShapeError, match="expected \\(N, ...\\) with a batch axis first"):
        layer.forward(np.zeros(4))
    with pytest.raises(RuntimeError, match="call forward first"):
        Conv2d(1, 1, 3, rng=rng).backward(np.zeros((1, 1, 1, 1)))
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        Conv2d(0, 1, 3, rng=rng)
    with pytest.raises(ValueError, match="input_size must be 32 or 28"):
        scratch_lenet5(input_size=8, rng=rng)
