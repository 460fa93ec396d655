"""Bad input to the scratch kernels: a clear error that names the argument, never a silent wrong answer."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.errors import ShapeError
from dlcore.scratch.attention import causal_mask
from dlcore.scratch.transformer import MultiHeadParams, layer_norm, multi_head_attention_forward

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
    with pytest.raises((TypeError, ValueError), match="num_heads must be a positive integer"):
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
    out = layer_norm(x.tolist(), gamma, beta)  # a nested list is an array like any other
    np.testing.assert_allclose(out.mean(axis=-1), 0, atol=1e-12)
    with pytest.raises(ShapeError, match=r"gamma has shape \(2, 1, 5\) but expected \(E,\) = \(5,\)"):
        layer_norm(x, np.ones((2, 1, 5)), beta)
    with pytest.raises(ShapeError, match="beta has shape"):
        layer_norm(x, gamma, np.zeros(4))
    with pytest.raises(ShapeError, match="x has shape"):
        layer_norm(np.zeros((3, 0)), np.ones(0), np.zeros(0))
    for eps in (0.0, -1e-5, float("nan")):
        with pytest.raises(ValueError, match="eps must be a finite number > 0"):
            layer_norm(x, gamma, beta, eps=eps)
    with pytest.raises(TypeError, match="x must be numeric"):
        layer_norm(np.array(["a", "b"]), np.ones(2), np.zeros(2))


def test_flatten_backward_refuses_a_gradient_of_the_wrong_shape():
    from dlcore.scratch.cnn import Flatten

    flatten = Flatten()
    flatten(np.zeros((2, 1, 1, 3)))
    with pytest.raises(ShapeError, match=r"dout has shape \(3, 2\) but expected .* \(2, 3\)"):
        flatten.backward(np.zeros((3, 2)))  # the right size, once silently reshaped and scrambled
    assert flatten.backward(np.arange(6.0).reshape(2, 3)).shape == (2, 1, 1, 3)


def test_conv2d_refuses_empty_kernels_filters_and_inputs():
    from dlcore.scratch.conv import conv2d_forward

    x = np.zeros((1, 2, 5, 5))
    with pytest.raises(ShapeError, match="at least one filter and a kernel of at least 1x1"):
        conv2d_forward(x, np.zeros((3, 2, 0, 0)), np.zeros(3))  # once returned an output larger than x
    with pytest.raises(ShapeError, match="at least one filter"):
        conv2d_forward(x, np.zeros((0, 2, 3, 3)), np.zeros(0))
    with pytest.raises(ShapeError, match=r"x has shape \(1, 2, 0, 5\)"):
        conv2d_forward(np.zeros((1, 2, 0, 5)), np.zeros((3, 2, 1, 1)), np.zeros(3))


@pytest.mark.parametrize("eps", [-1e-5, float("nan"), float("inf"), "1e-5", True])
def test_batchnorm_needs_a_finite_non_negative_eps(eps):
    from dlcore.scratch.batchnorm import batchnorm_eval_forward, batchnorm_forward

    x = np.random.default_rng(0).standard_normal((4, 3))
    with pytest.raises(ValueError, match="eps must be a finite number >= 0"):
        batchnorm_forward(x, np.ones(3), np.zeros(3), eps=eps)
    with pytest.raises(ValueError, match="eps must be a finite number >= 0"):
        batchnorm_eval_forward(x, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), eps=eps)


def test_batchnorm_eps_zero_is_exact_but_never_divides_zero_by_zero():
    """eps = 0 is kept for exact identities (chapter 07 uses it); a constant feature then has no x_hat."""
    from dlcore.scratch.batchnorm import batchnorm_eval_forward, batchnorm_forward

    x = np.random.default_rng(0).standard_normal((4, 3))
    out, _ = batchnorm_forward(x, np.ones(3), np.zeros(3), eps=0)
    np.testing.assert_allclose(out.std(axis=0), 1.0, rtol=1e-12)
    x[:, 1] = 2.0  # once NaN
    with pytest.raises(ValueError, match=r"eps = 0 but this batch's variance is 0 for feature\(s\) \[1\]"):
        batchnorm_forward(x, np.ones(3), np.zeros(3), eps=0)
    with pytest.raises(ValueError, match="eps = 0 but running_var is 0"):
        batchnorm_eval_forward(x, np.ones(3), np.zeros(3), np.zeros(3), np.array([1.0, 0.0, 1.0]), eps=0.0)


def test_batchnorm_needs_a_feature():
    from dlcore.scratch.batchnorm import batchnorm_eval_forward, batchnorm_forward

    with pytest.raises(ShapeError, match="at least one feature"):
        batchnorm_forward(np.zeros((4, 0)), np.ones(0), np.zeros(0))  # once ZeroDivisionError
    with pytest.raises(ShapeError, match="at least one feature"):
        batchnorm_eval_forward(np.zeros((4, 0)), np.ones(0), np.zeros(0), np.zeros(0), np.ones(0))


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_refuse_an_empty_sequence(name):
    import dlcore.scratch.gru as gru
    import dlcore.scratch.lstm as lstm
    import dlcore.scratch.rnn as rnn

    layer = {"RNN": rnn.RNN, "LSTM": lstm.LSTM, "GRU": gru.GRU}[name](3, 4, rng=np.random.default_rng(0))
    with pytest.raises(ShapeError, match="T = 0 steps"):
        layer(np.zeros((0, 2, 3)))  # once IndexError


def test_recurrent_modules_take_their_initial_state_through_call():
    from dlcore.scratch.lstm import LSTM
    from dlcore.scratch.rnn import RNN

    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((5, 1, 3)), rng.standard_normal((1, 4))
    rnn = RNN(3, 4, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(rnn(x, h0), rnn.forward(x, h0))  # once a TypeError: __call__ took only x
    lstm = LSTM(3, 4, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(lstm(x, (h0, np.zeros((1, 4)))), lstm.forward(x, (h0, np.zeros((1, 4)))))
    with pytest.raises(TypeError, match=r"state must be the pair \(h0, c0\).*ndarray of shape \(1, 4\)"):
        lstm(x, h0)  # a bare h0 with N = 1: once an IndexError


def test_attention_backward_checks_dout_and_forward_needs_a_key_size():
    from dlcore.scratch.attention import (scaled_dot_product_attention_backward,
                                          scaled_dot_product_attention_forward)

    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((2, 3)), rng.standard_normal((4, 3)), rng.standard_normal((4, 5))
    out, cache = scaled_dot_product_attention_forward(q, k, v)
    dq, _, _ = scaled_dot_product_attention_backward(np.ones((2, 5)).tolist(), cache)  # a list is fine
    assert dq.shape == q.shape
    with pytest.raises(TypeError, match="dout must be real"):
        scaled_dot_product_attention_backward(np.ones((2, 5), dtype=complex), cache)
    with pytest.raises(ShapeError, match="key size dk = 0"):
        scaled_dot_product_attention_forward(np.zeros((2, 0)), np.zeros((4, 0)), v)  # once NaN


def test_dropout_mask_must_be_zeros_and_ones():
    from dlcore.scratch.dropout import dropout_forward

    x = np.ones((2, 3))
    keep = np.array([[1, 0, 1], [0, 1, 1]])
    out, _ = dropout_forward(x, 0.5, mask=keep)
    np.testing.assert_array_equal(out, keep * 2.0)
    with pytest.raises(ValueError, match="mask must hold only True/False"):
        dropout_forward(x, 0.5, mask=keep * 2.0)  # a mask already scaled by 1/(1 - p)


def test_googlenet_parameter_counts_in_its_docstring():
    import dlcore.models.googlenet as googlenet

    counts = {(f, bn): sum(p.numel() for p in googlenet.GoogLeNet(five_by_five=f, batch_norm=bn).parameters())
              for f in (False, True) for bn in (True, False)}
    text = " ".join(googlenet.__doc__.split())
    for count in counts.values():
        assert f"{count:,}" in text
    assert f"instead ({counts[True, True]:,})" in text and f"2014 paper ({counts[False, False]:,}" in text


def test_elu_derivative_precision_is_stated_honestly():
    from dlcore.scratch.activations import _elu_derivative, elu

    x = np.array([-5.0, -20.0, -30.0])
    derivative = _elu_derivative(x, elu(x))
    assert abs(derivative[0] / np.exp(-5.0) - 1) < 1e-12  # exact enough where it matters
    assert np.all(np.abs(derivative - np.exp(x)) < 1e-15)  # absolute error stays tiny below -20
    assert abs(derivative[2] / np.exp(-30.0) - 1) > 1e-6  # but relative precision is lost, as the docstring says
