"""Chapter 07: inverted dropout, with torch's own mask replayed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.errors import ShapeError
from dlcore.gradcheck import check_gradients
from dlcore.scratch.dropout import Dropout, dropout_backward, dropout_forward
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

TOL = dict(rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("shape", [(1, 7), (16, 5), (4, 3, 6, 6)])
def test_matches_torch_given_torchs_mask(rng, p, shape):
    x = rng.standard_normal(shape)
    dout = rng.standard_normal(shape)
    torch.manual_seed(11)
    mask = torch.nn.functional.dropout(torch.ones(shape, dtype=torch.float64), p) != 0  # which units torch kept
    torch.manual_seed(11)  # the same draws again, now on x
    tx = torch.tensor(x, requires_grad=True)
    tout = torch.nn.functional.dropout(tx, p)
    tout.backward(torch.tensor(dout))
    out, cache = dropout_forward(x, p, mask=mask.numpy())
    np.testing.assert_allclose(out, tout.detach().numpy(), **TOL)
    np.testing.assert_allclose(dropout_backward(dout, cache), tx.grad.numpy(), **TOL)


def test_gradient_matches_finite_differences(rng):
    x = rng.standard_normal((6, 4))
    mask = rng.random(x.shape) >= 0.3
    check_gradients(lambda x: dropout_forward(x, 0.3, mask=mask), lambda dout, cache: (dropout_backward(dout, cache),),
                    {"x": x}, rng=rng).assert_ok()


def test_inverted_scaling_keeps_the_expected_value(rng):
    x = np.full((200, 500), 2.0)
    for p in (0.2, 0.5, 0.8):
        out, cache = dropout_forward(x, p, rng=rng)
        kept = cache.mask.mean()
        assert abs(kept - (1 - p)) < 0.01  # each value kept with probability 1 - p
        assert out.mean() == pytest.approx(2.0, rel=0.02)  # E[out] = x
        assert set(np.unique(out)) == {0.0, 2.0 / (1 - p)}


def test_eval_mode_and_extremes(rng):
    x = rng.standard_normal((3, 4))
    out, _ = dropout_forward(x, 0.5, training=False)
    np.testing.assert_array_equal(out, x)
    out, _ = dropout_forward(x, 0.0, rng=rng)
    np.testing.assert_array_equal(out, x)
    out, cache = dropout_forward(x, 1.0, rng=rng)
    assert np.all(out == 0) and np.all(dropout_backward(np.ones_like(x), cache) == 0)
    np.testing.assert_array_equal(torch.nn.functional.dropout(torch.tensor(x), 1.0).numpy(), out)


def test_module_draws_fresh_masks_in_training_only(rng):
    layer = Dropout(0.5, rng=rng)
    x = np.ones((4, 50))
    first, second = layer.forward(x), layer.forward(x)
    assert not np.array_equal(first, second)
    layer.eval()
    np.testing.assert_array_equal(layer.forward(x), x)
    np.testing.assert_array_equal(layer.backward(np.full((4, 50), 3.0)), np.full((4, 50), 3.0))


def test_inputs_are_not_modified(rng):
    x = rng.standard_normal((5, 5))
    copy = x.copy()
    out, cache = dropout_forward(x, 0.5, rng=rng)
    dout = rng.standard_normal(x.shape)
    dout_copy = dout.copy()
    dropout_backward(dout, cache)
    np.testing.assert_array_equal(x, copy)
    np.testing.assert_array_equal(dout, dout_copy)


def test_errors_say_what_is_wrong(rng):
    with pytest.raises(ValueError, match=r"p is the probability of DROPPING a unit and must be in \[0, 1\], got 1.5"):
        dropout_forward(np.ones(3), 1.5, rng=rng)
    with pytest.raises(TypeError, match="in training mode pass rng="):
        dropout_forward(np.ones(3), 0.5)
    with pytest.raises(ShapeError, match=r"dropout_forward: mask has shape \(2,\) but expected \(3,\)"):
        dropout_forward(np.ones(3), 0.5, mask=np.ones(2, bool))
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        Dropout(0.5, rng=None)
