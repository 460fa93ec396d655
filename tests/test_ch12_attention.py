"""Chapter 12: attention from scratch against finite differences and PyTorch (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore.errors import ShapeError
from dlcore.gradcheck import check_gradients
from dlcore.scratch.attention import (additive_attention, causal_mask, masked_softmax, padding_mask,
                                      scaled_dot_product_attention_backward, scaled_dot_product_attention_forward)
from dlcore.scratch.transformer import (encoder_block_params_from_torch, mha_params_from_torch,
                                        multi_head_attention_forward, sinusoidal_positional_encoding,
                                        transformer_encoder_block_forward)
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

TOL = dict(rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
# (batch axes, Tq, Tk, dk, dv): batch of one, non-square, extra head axis, Tq = 1
SHAPES = [((1,), 3, 5, 4, 2), ((2,), 4, 4, 3, 5), ((2, 3), 5, 2, 4, 3), ((3,), 1, 6, 2, 2)]


def _qkv(rng, batch, Tq, Tk, dk, dv):
    return (rng.standard_normal(batch + (Tq, dk)), rng.standard_normal(batch + (Tk, dk)),
            rng.standard_normal(batch + (Tk, dv)))


def _random_mask(rng, batch, Tq, Tk, full_row=False):
    mask = rng.random(batch + (Tq, Tk)) < 0.6
    mask[..., 0] = True  # every query sees at least one key...
    if full_row:
        mask[..., -1, :] = False  # ...except the last, which sees none
    return mask


# ---------------------------------------------------------------- masked softmax

def test_masked_softmax_matches_plain_softmax_and_zeroes_masked_entries(rng):
    scores = rng.standard_normal((3, 4, 5)) * 10
    assert np.allclose(masked_softmax(scores), torch.softmax(torch.tensor(scores), -1).numpy(), **TOL)
    mask = _random_mask(rng, (3,), 4, 5)
    weights = masked_softmax(scores, mask)
    assert np.all(weights[~mask] == 0.0)
    assert np.allclose(weights.sum(-1), 1.0)
    expected = torch.softmax(torch.tensor(scores).masked_fill(~torch.tensor(mask), float("-inf")), -1).numpy()
    assert np.allclose(weights, expected, **TOL)


def test_fully_masked_row_gives_zeros_not_nan():
    scores = np.array([[1.0, 2.0], [3.0, 4.0]])
    mask = np.array([[True, False], [False, False]])
    weights = masked_softmax(scores, mask)
    assert np.array_equal(weights, [[1.0, 0.0], [0.0, 0.0]])
    with np.errstate(invalid="ignore"):  # the naive -inf fill really does give NaN
        naive = np.exp(np.where(mask, scores, -np.inf) - np.where(mask, scores, -np.inf).max(-1, keepdims=True))
    assert np.isnan(naive[1]).all()


def test_large_scores_do_not_overflow():
    weights = masked_softmax(np.array([[1000.0, 999.0, -1000.0]]), np.array([[True, True, False]]))
    assert np.allclose(weights, [[1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1)), 0.0]])


def test_masks():
    assert np.array_equal(causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    assert np.array_equal(padding_mask([2, 0, 3], 3), [[1, 1, 0], [0, 0, 0], [1, 1, 1]])
    with pytest.raises(ValueError, match=r"every length must lie in \[0, T = 3\]"):
        padding_mask([4], 3)


# ---------------------------------------------------------------- scaled dot-product attention

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("masking", ["none", "random", "causal", "full_row"])
def test_sdpa_forward_matches_torch(rng, shape, masking):
    batch, Tq, Tk, dk, dv = shape
    q, k, v = _qkv(rng, *shape)
    mask = {"none": None, "random": _random_mask(rng, batch, Tq, Tk), "causal": causal_mask(Tq, Tk),
            "full_row": _random_mask(rng, batch, Tq, Tk, full_row=True)}[masking]
    copies = [a.copy() for a in (q, k, v)]
    out, cache = scaled_dot_product_attention_forward(q, k, v, mask)
    expected = F.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v),
                                              attn_mask=None if mask is None else torch.tensor(mask))
    assert out.shape == batch + (Tq, dv)
    assert np.allclose(out, expected.numpy(), **TOL)
    assert not np.isnan(out).any()
    assert all(np.array_equal(a, b) for a, b in zip(copies, (q, k, v)))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("masking", ["none", "random", "full_row"])
def test_sdpa_backward_matches_finite_differences(rng, shape, masking):
    batch, Tq, Tk, dk, dv = shape
    q, k, v = _qkv(rng, *shape)
    mask = None if masking == "none" else _random_mask(rng, batch, Tq, Tk, full_row=masking == "full_row")
    report = check_gradients(lambda q, k, v: scaled_dot_product_attention_forward(q, k, v, mask),
                             scaled_dot_product_attention_backward, {"q": q, "k": k, "v": v}, rng=rng)
    report.assert_ok()


def test_sdpa_backward_matches_torch_autograd(rng):
    q, k, v = _qkv(rng, (2, 3), 4, 6, 5, 3)
    mask = _random_mask(rng, (2, 3), 4, 6, full_row=True)
    out, cache = scaled_dot_product_attention_forward(q, k, v, mask)
    dout = rng.standard_normal(out.shape)
    grads = scaled_dot_product_attention_backward(dout, cache)
    tensors = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    F.scaled_dot_product_attention(*tensors, attn_mask=torch.tensor(mask)).backward(torch.tensor(dout))
    for ours, tensor in zip(grads, tensors):
        assert ours.shape == tensor.shape
        assert np.allclose(ours, tensor.grad.numpy(), **TOL)


def test_sdpa_shape_errors(rng):
    q, k, v = _qkv(rng, (2,), 3, 4, 5, 6)
    with pytest.raises(ShapeError, match=r"q has shape \(2, 3, 5\) and k \(2, 4, 3\); expected the same last axis dk"):
        scaled_dot_product_attention_forward(q, k[..., :3], v)
    with pytest.raises(ShapeError, match=r"expected v.shape\[:-1\] == k.shape\[:-1\]"):
        scaled_dot_product_attention_forward(q, k, v[:, :3])
    with pytest.raises(ShapeError, match=r"mask has shape \(3, 3\), which does not broadcast"):
        scaled_dot_product_attention_forward(q, k, v, causal_mask(3))
    with pytest.raises(TypeError, match="mask must be boolean"):
        scaled_dot_product_attention_forward(q, k, v, np.zeros((3, 4)))
    out, cache = scaled_dot_product_attention_forward(q, k, v)
    with pytest.raises(ShapeError, match=r"dout has shape \(2, 3, 5\) but expected \(\.\.\., Tq, dv\) = \(2, 3, 6\)"):
        scaled_dot_product_attention_backward(np.zeros((2, 3, 5)), cache)


# ---------------------------------------------------------------- additive attention

def test_additive_attention_against_torch_formula(rng):
    N, Tq, Tk, Dq, Dk, A, dv = 2, 3, 5, 4, 6, 7, 2
    q, k, v = rng.standard_normal((N, Tq, Dq)), rng.standard_normal((N, Tk, Dk)), rng.standard_normal((N, Tk, dv))
    W_q, W_k, b, w = rng.standard_normal((Dq, A)), rng.standard_normal((Dk, A)), rng.standard_normal(A), rng.standard_normal(A)
    mask = padding_mask([5, 2], Tk)[:, None, :]
    out, weights = additive_attention(q, k, v, W_q, W_k, b, w, mask)
    t = {name: torch.tensor(a) for name, a in dict(q=q, k=k, v=v, W_q=W_q, W_k=W_k, b=b, w=w).items()}
    scores = torch.tanh((t["q"] @ t["W_q"])[:, :, None] + (t["k"] @ t["W_k"])[:, None] + t["b"]) @ t["w"]
    expected = torch.softmax(scores.masked_fill(~torch.tensor(mask), float("-inf")), -1)
    assert np.allclose(weights, expected.numpy(), **TOL)
    assert np.allclose(out, (expected @ t["v"]).numpy(), **TOL)
    assert np.all(weights[1, :, 2:] == 0)
    with pytest.raises(ShapeError, match=r"W_k has shape \(4, 7\) but expected \(6, 7\)"):
        additive_attention(q, k, v, W_q, W_q, b, w)


# ---------------------------------------------------------------- multi-head attention and the encoder block

def _mha(E, heads, seed=0):
    torch.manual_seed(seed)
    module = torch.nn.MultiheadAttention(E, heads, batch_first=True, dtype=torch.float64).eval()
    with torch.no_grad():
        module.in_proj_bias.normal_()
        module.out_proj.bias.normal_()
    return module


@pytest.mark.parametrize("N, Tq, Tk, E, heads", [(1, 3, 3, 4, 2), (2, 5, 4, 6, 3), (3, 1, 6, 8, 1), (2, 4, 7, 8, 4)])
def test_multi_head_attention_matches_torch(rng, N, Tq, Tk, E, heads):
    module = _mha(E, heads)
    query, key, value = rng.standard_normal((N, Tq, E)), rng.standard_normal((N, Tk, E)), rng.standard_normal((N, Tk, E))
    lengths = rng.integers(1, Tk + 1, size=N)
    real = padding_mask(lengths, Tk)
    out, weights = multi_head_attention_forward(query, key, value, mha_params_from_torch(module), heads,
                                                key_padding_mask=real)
    expected, expected_weights = module(*(torch.tensor(a) for a in (query, key, value)),
                                        key_padding_mask=torch.tensor(~real),  # torch: True = blocked
                                        average_attn_weights=False)
    assert out.shape == (N, Tq, E) and weights.shape == (N, heads, Tq, Tk)
    assert np.allclose(out, expected.detach().numpy(), **TOL)
    assert np.allclose(weights, expected_weights.detach().numpy(), **TOL)


def test_causal_self_attention_matches_torch(rng):
    module = _mha(6, 2)
    x = rng.standard_normal((2, 5, 6))
    out, weights = multi_head_attention_forward(x, x, x, mha_params_from_torch(module), 2, attn_mask=causal_mask(5))
    expected, _ = module(*(torch.tensor(x),) * 3, attn_mask=torch.tensor(~causal_mask(5)))
    assert np.allclose(out, expected.detach().numpy(), **TOL)
    assert np.all(np.triu(weights[0, 0], 1) == 0)


def test_multi_head_errors(rng):
    module = _mha(6, 2)
    x = rng.standard_normal((2, 5, 6))
    with pytest.raises(ValueError, match="num_heads = 4 must divide the embedding size E = 6"):
        multi_head_attention_forward(x, x, x, mha_params_from_torch(module), 4)
    with pytest.raises(ShapeError, match=r"key_padding_mask has shape \(5, 2\) but expected \(N, Tk\) = \(2, 5\)"):
        multi_head_attention_forward(x, x, x, mha_params_from_torch(module), 2, key_padding_mask=np.ones((5, 2), bool))


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_block_matches_torch(rng, norm_first):
    torch.manual_seed(1)
    layer = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=12, dropout=0.0, batch_first=True,
                                             norm_first=norm_first, dtype=torch.float64).eval()
    with torch.no_grad():
        for norm in (layer.norm1, layer.norm2):
            norm.weight.normal_()
            norm.bias.normal_()
    x = rng.standard_normal((3, 5, 8))
    real = padding_mask([5, 3, 1], 5)
    ours = transformer_encoder_block_forward(x, encoder_block_params_from_torch(layer), 2, key_padding_mask=real,
                                             norm_first=norm_first)
    # With gradients on, the layer follows its documented equations in float64 (under no_grad in eval mode it
    # may take a fused fast path instead).
    expected = layer(torch.tensor(x), src_key_padding_mask=torch.tensor(~real))
    assert np.allclose(ours, expected.detach().numpy(), **TOL)


# ---------------------------------------------------------------- positional encoding

def test_positional_encoding_values_and_relative_shift():
    pe = sinusoidal_positional_encoding(50, 16)
    p, i = 7, 3
    assert np.isclose(pe[p, 2 * i], np.sin(p / 10000 ** (2 * i / 16)))
    assert np.isclose(pe[p, 2 * i + 1], np.cos(p / 10000 ** (2 * i / 16)))
    assert np.array_equal(pe[0, 0::2], np.zeros(8)) and np.array_equal(pe[0, 1::2], np.ones(8))
    # PE[p + k] is a fixed rotation of PE[p] per column pair, the same for every p
    k, omega = 5, 10000 ** (-2 * i / 16)
    rotation = np.array([[np.cos(k * omega), -np.sin(k * omega)], [np.sin(k * omega), np.cos(k * omega)]])
    for p in (0, 11, 30):
        assert np.allclose(pe[p, 2 * i:2 * i + 2] @ rotation, pe[p + k, 2 * i:2 * i + 2])
    assert sinusoidal_positional_encoding(4, 5).shape == (4, 5)
    assert np.all(np.abs(pe) <= 1)
