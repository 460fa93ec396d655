"""Bad input to the scratch kernels: a clear error that names the argument, never a silent wrong answer."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.errors import ShapeError
from dlcore.scratch.attention import causal_mask
from dlcore.scratch.transformer import MultiHeadParams, layer_norm_forward, multi_head_attention_forward

N, T, E, HEADS = 2, 4, 6, 2


@pytest.fixture
def attention_inputs():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, E))
    params = MultiHeadParams(*(rng.standard_normal((E, E)) / np.sqrt(E) for _ in range(4)),
                             *(0.1 * rng.standard_normal(E) for _ in range(4)))
    return x, params


def test_multi_head_attention_refuses_an_additive_float_mask(attention_inputs):
    """A 0 / -inf causal mask used to be turned into bool and so inverted: row 0 attended only to the future."""
    x, params = attention_inputs
    additive = np.where(causal_mask(T), 0.0, -np.inf)
    with pytest.raises(TypeError, match="attn_mask must be boolean.*additive float mask"):
        multi_head_attention_forward(x, x, x, params, HEADS, attn_mask=additive)
    with pytest.raises(TypeError, match="key_padding_mask must be boolean"):
        multi_head_attention_forward(x, x, x, params, HEADS, key_padding_mask=np.ones((N, T)))
    _, weights = multi_head_attention_forward(x, x, x, params, HEADS, attn_mask=additive == 0)
    assert np.all(weights[:, :, 0, 1:] == 0)  # the conversion the message suggests is the causal mask


@pytest.mark.parametrize("name, shape", [("W_o", (E, E, 1)), ("W_k", (E, E + 1)), ("b_q", (1,)), ("b_o", (E, 1))])
def test_multi_head_attention_checks_every_parameter(attention_inputs, name, shape):
    x, params = attention_inputs
    bad = params._replace(**{name: np.ones(shape)})
    with pytest.raises(ShapeError, match=rf"params\.{name} has shape"):
        multi_head_attention_forward(x, x, x, bad, HEADS)


@pytest.mark.parametrize("heads", [0, -2, 2.0, True])
def test_multi_head_attention_needs_a_positive_integer_number_of_heads(attention_inputs, heads):
    x, params = attention_inputs
    with pytest.raises(ValueError, match="num_heads must be a positive integer"):
        multi_head_attention_forward(x, x, x, params, heads)


def test_multi_head_attention_mask_shapes(attention_inputs):
    x, params = attention_inputs
    with pytest.raises(ShapeError, match=r"attn_mask has shape \(4, 3\) but expected \(Tq, Tk\) = \(4, 4\)"):
        multi_head_attention_forward(x, x, x, params, HEADS, attn_mask=np.ones((T, 3), dtype=bool))
    with pytest.raises(TypeError, match="params must be a MultiHeadParams"):
        multi_head_attention_forward(x, x, x, tuple(params), HEADS)


def test_layer_norm_checks_its_arguments():
    x = np.random.default_rng(1).standard_normal((2, 3, 5))
    gamma, beta = np.ones(5), np.zeros(5)
    out = layer_norm_forward(x.tolist(), gamma, beta)  # a nested list is an array like any other
    np.testing.assert_allclose(out.mean(axis=-1), 0, atol=1e-12)
    with pytest.raises(ShapeError, match=r"gamma has shape \(2, 1, 5\) but expected \(E,\) = \(5,\)"):
        layer_norm_forward(x, np.ones((2, 1, 5)), beta)
    with pytest.raises(ShapeError, match="beta has shape"):
        layer_norm_forward(x, gamma, np.zeros(4))
    with pytest.raises(ShapeError, match="x has shape"):
        layer_norm_forward(np.zeros((3, 0)), np.ones(0), np.zeros(0))
    for eps in (0.0, -1e-5, float("nan")):
        with pytest.raises(ValueError, match="eps must be a finite number > 0"):
            layer_norm_forward(x, gamma, beta, eps=eps)
    with pytest.raises(TypeError, match="x must be numeric"):
        layer_norm_forward(np.array(["a", "b"]), np.ones(2), np.zeros(2))
