"""Chapter 09: max and average pooling against torch.nn.functional and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore.errors import ShapeError
from dlcore.gradcheck import check_gradients
from dlcore.scratch.pooling import avgpool2d_backward, avgpool2d_forward, maxpool2d_backward, maxpool2d_forward
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

TOL = dict(rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
# (N, C, H, W), kernel, stride, padding: disjoint, overlapping, odd sizes (last row dropped), padded, non-square.
CASES = [
    ((1, 1, 4, 6), 2, None, 0),
    ((2, 3, 7, 5), 2, None, 0),
    ((2, 2, 7, 8), 3, 2, 1),
    ((3, 1, 6, 9), (2, 3), (1, 2), (1, 0)),
    ((1, 2, 5, 5), 3, 1, 0),
]
KERNELS = {
    "max": (maxpool2d_forward, maxpool2d_backward, F.max_pool2d),
    "avg": (avgpool2d_forward, avgpool2d_backward, F.avg_pool2d),
}


@pytest.mark.parametrize("kind", sorted(KERNELS))
@pytest.mark.parametrize("shape, kernel, stride, padding", CASES)
def test_forward_and_backward_match_torch(rng, kind, shape, kernel, stride, padding):
    forward, backward, theirs = KERNELS[kind]
    x = rng.standard_normal(shape)
    tx = torch.tensor(x, requires_grad=True)
    tout = theirs(tx, kernel, stride, padding)
    dout = rng.standard_normal(tuple(tout.shape))
    tout.backward(torch.tensor(dout))
    out, cache = forward(x, kernel, stride, padding)
    np.testing.assert_allclose(out, tout.detach().numpy(), **TOL)
    dx = backward(dout, cache)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL)


@pytest.mark.parametrize("kind", sorted(KERNELS))
@pytest.mark.parametrize("shape, kernel, stride, padding", CASES)
def test_gradients_match_finite_differences(rng, kind, shape, kernel, stride, padding):
    forward, backward, _ = KERNELS[kind]
    x = rng.standard_normal(shape)  # distinct values: no ties, so the max is differentiable
    report = check_gradients(lambda x: forward(x, kernel, stride, padding), backward, {"x": x}, rng=rng)
    report.assert_ok()


def test_ties_send_the_gradient_to_the_first_position_as_torch_does():
    x = np.zeros((1, 1, 4, 4))  # every window is a four-way tie (e.g. after ReLU)
    x[0, 0, 3, 3] = -1.0
    out, cache = maxpool2d_forward(x)
    dx = maxpool2d_backward(np.ones_like(out), cache)
    tx = torch.tensor(x, requires_grad=True)
    F.max_pool2d(tx, 2).sum().backward()
    np.testing.assert_array_equal(dx, tx.grad.numpy())
    assert dx.sum() == 4.0


def test_float32_stays_float32_and_inputs_are_unchanged(rng):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    copy = x.copy()
    for forward, backward, _ in KERNELS.values():
        out, cache = forward(x)
        dout = np.ones_like(out)
        dx = backward(dout, cache)
        assert out.dtype == dx.dtype == np.float32
        np.testing.assert_array_equal(x, copy)
        np.testing.assert_array_equal(dout, np.ones_like(out))


def test_errors_name_the_argument(rng):
    with pytest.raises(ShapeError, match=r"maxpool2d_forward: x has shape \(4, 4\) \(2-D\) but expected a 4-D"):
        maxpool2d_forward(np.zeros((4, 4)))
    with pytest.raises(ShapeError, match=r"a 3x3 window needs H \+ 2p >= 3"):
        avgpool2d_forward(np.zeros((1, 1, 2, 5)), 3)
    with pytest.raises(ValueError, match="padding .* must be at most half the kernel"):
        maxpool2d_forward(np.zeros((1, 1, 6, 6)), 2, padding=2)
    out, cache = maxpool2d_forward(np.zeros((1, 2, 4, 4)))
    with pytest.raises(ShapeError, match=r"dout has shape \(1, 2, 4, 4\) but expected \(N, C, Ho, Wo\) = \(1, 2, 2, 2\)"):
        maxpool2d_backward(np.zeros((1, 2, 4, 4)), cache)
