"""Chapter 09: conv2d (im2col and naive loops) against torch.nn.functional.conv2d and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore.errors import ShapeError
from dlcore.gradcheck import check_gradients
from dlcore.scratch.conv import conv2d_backward, conv2d_forward
from dlcore.scratch.conv_naive import conv2d_naive_backward, conv2d_naive_forward
from dlcore.scratch.im2col import conv_output_size
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

TOL = dict(rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
# (N, C, H, W), (F, kh, kw), stride, padding, dilation: non-square everywhere, batch of one, 1x1 kernels,
# strides that do not divide the size, asymmetric pairs.
CASES = [
    ((1, 1, 5, 7), (2, 3, 3), 1, 0, 1),
    ((2, 3, 6, 5), (4, 3, 2), 2, 1, 1),
    ((3, 2, 7, 8), (3, 2, 3), (2, 3), (1, 0), 1),
    ((2, 2, 9, 7), (2, 3, 3), 1, 2, 2),
    ((1, 4, 6, 6), (5, 1, 1), 1, 0, 1),
    ((2, 1, 8, 9), (3, 3, 2), (1, 2), (2, 1), (2, 3)),
]


def _inputs(rng, x_shape, filters):
    Fn, kh, kw = filters
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((Fn, x_shape[1], kh, kw))
    b = rng.standard_normal(Fn)
    return x, w, b


@pytest.mark.parametrize("x_shape, filters, stride, padding, dilation", CASES)
def test_forward_matches_torch(rng, x_shape, filters, stride, padding, dilation):
    x, w, b = _inputs(rng, x_shape, filters)
    expected = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride, padding, dilation).numpy()
    out, _ = conv2d_forward(x, w, b, stride, padding, dilation)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, **TOL)
    naive, _ = conv2d_naive_forward(x, w, b, stride, padding, dilation)
    np.testing.assert_allclose(naive, expected, **TOL)


@pytest.mark.parametrize("x_shape, filters, stride, padding, dilation", CASES)
def test_backward_matches_torch_and_the_naive_loops(rng, x_shape, filters, stride, padding, dilation):
    x, w, b = _inputs(rng, x_shape, filters)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tout = F.conv2d(tx, tw, tb, stride, padding, dilation)
    dout = rng.standard_normal(tuple(tout.shape))
    tout.backward(torch.tensor(dout))
    _, cache = conv2d_forward(x, w, b, stride, padding, dilation)
    grads = conv2d_backward(dout, cache)
    _, naive_cache = conv2d_naive_forward(x, w, b, stride, padding, dilation)
    naive_grads = conv2d_naive_backward(dout, naive_cache)
    for ours, loops, theirs in zip(grads, naive_grads, (tx, tw, tb)):
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours, theirs.grad.numpy(), **TOL)
        np.testing.assert_allclose(loops, theirs.grad.numpy(), **TOL)


@pytest.mark.parametrize("x_shape, filters, stride, padding, dilation", CASES[:4])
@pytest.mark.parametrize("naive", [False, True])
def test_gradients_match_finite_differences(rng, x_shape, filters, stride, padding, dilation, naive):
    forward, backward = (conv2d_naive_forward, conv2d_naive_backward) if naive else (conv2d_forward, conv2d_backward)
    x, w, b = _inputs(rng, x_shape, filters)
    report = check_gradients(lambda x, w, b: forward(x, w, b, stride, padding, dilation), backward,
                             {"x": x, "w": w, "b": b}, rng=rng)
    report.assert_ok()


def test_inputs_are_not_modified(rng):
    x, w, b = _inputs(rng, (2, 3, 6, 5), (4, 3, 3))
    copies = [a.copy() for a in (x, w, b)]
    out, cache = conv2d_forward(x, w, b, 2, 1)
    dout = rng.standard_normal(out.shape)
    dout_copy = dout.copy()
    conv2d_backward(dout, cache)
    for original, copy in zip((x, w, b, dout), copies + [dout_copy]):
        np.testing.assert_array_equal(original, copy)


def test_float32_stays_float32(rng):
    x, w, b = (a.astype(np.float32) for a in _inputs(rng, (2, 3, 6, 5), (4, 3, 3)))
    out, cache = conv2d_forward(x, w, b, padding=1)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in conv2d_backward(out, cache))


def test_output_size_formula_matches_torch():
    for size in range(1, 12):
        for kernel in (1, 2, 3, 5):
            for stride in (1, 2, 3):
                for padding in (0, 1, 2):
                    for dilation in (1, 2):
                        expected = conv_output_size(size, kernel, stride, padding, dilation)
                        if expected < 1:
                            continue
                        out = F.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel),
                                       stride=stride, padding=padding, dilation=dilation)
                        assert out.shape[-1] == expected


def test_shape_errors_name_the_argument_and_the_fix(rng):
    x = rng.standard_normal((2, 1, 8, 8))
    with pytest.raises(ShapeError, match=r"^conv2d_forward: w has shape \(8, 3, 3, 3\) but x has 1 channel; "
                                         r"expected w.shape\[1\] == C \(1\)$"):
        conv2d_forward(x, np.zeros((8, 3, 3, 3)), np.zeros(8))
    with pytest.raises(ShapeError, match=r"b has shape \(3,\) but expected \(F,\) = \(8,\)"):
        conv2d_forward(x, np.zeros((8, 1, 3, 3)), np.zeros(3))
    with pytest.raises(ShapeError, match=r"x has shape \(8, 8\) \(2-D\) but expected a 4-D array"):
        conv2d_forward(x[0, 0], np.zeros((8, 1, 3, 3)), np.zeros(8))
    with pytest.raises(ShapeError, match="spans more than the padded input 8x8"):
        conv2d_forward(x, np.zeros((1, 1, 9, 3)), np.zeros(1))
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        conv2d_forward(x, np.zeros((1, 1, 3, 3)), np.zeros(1), stride=0)
    out, cache = conv2d_forward(x, np.zeros((1, 1, 3, 3)), np.zeros(1))
    with pytest.raises(ShapeError, match=r"dout has shape \(2, 1, 6\) but expected \(N, F, Ho, Wo\) = \(2, 1, 6, 6\)"):
        conv2d_backward(out[..., 0], cache)
