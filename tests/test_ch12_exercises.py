"""Chapter 12 checks: each accepts two different correct answers, fails typical wrong ones with their
diagnosis (asserted by message and mistake id), and fails a learner that calls dlcore's reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.exercises import ch12
from dlcore.exercises.core import ExerciseFailed
from dlcore.exercises.learner import accepted, implementation
from dlcore.models.transformer import scaled_dot_product_attention
from dlcore.scratch.attention import masked_softmax, scaled_dot_product_attention_forward
from dlcore.scratch.transformer import multi_head_attention_forward, sinusoidal_positional_encoding
from tests.helpers import not_done


def _fails(check, answer, mistake: str, message: str) -> None:
    with pytest.raises(ExerciseFailed, match=message) as caught:
        check(answer)
    assert caught.value.mistake == mistake


# ---------------------------------------------------------------- 12.1 attention (NumPy)

def attention_shift_all(q, k, v, mask=None):
    """Right answer 1: the solution's approach (shift by the allowed maximum, zero rows that see nothing)."""
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    allowed = np.ones(scores.shape, dtype=bool) if mask is None else np.broadcast_to(mask, scores.shape)
    row_max = np.where(allowed, scores, -np.inf).max(axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    exps = np.exp(np.where(allowed, scores - row_max, -np.inf))
    total = exps.sum(axis=-1, keepdims=True)
    weights = exps / np.where(total > 0, total, 1.0)
    return weights @ v, weights


def attention_einsum(q, k, v, mask=None):
    """Right answer 2: einsum, a plain max shift, then zeroing the masked weights and renormalising."""
    scores = np.einsum("...qd,...kd->...qk", q, k) / np.sqrt(q.shape[-1])
    if mask is None:
        mask = True
    keep = np.broadcast_to(mask, scores.shape).astype(float)
    shifted = scores - scores.max(axis=-1, keepdims=True)
    exps = np.exp(shifted) * keep
    sums = exps.sum(axis=-1, keepdims=True)
    weights = np.divide(exps, sums, out=np.zeros_like(exps), where=sums > 0)
    return np.einsum("...qk,...kv->...qv", weights, v), weights


@pytest.mark.parametrize("answer", [attention_shift_all, attention_einsum])
def test_attention_right_answers_pass_and_are_used_later(answer):
    assert ch12.check_attention(answer).passed
    assert implementation("attention", ch12.reference_attention, label="12.1", quiet=True) is answer


def _variant(**mistake):
    return lambda q, k, v, mask=None: ch12.attention_variant(q, k, v, mask, **mistake)


@pytest.mark.parametrize("mistake, answer, message", [
    ("mask-multiplied", _variant(mask_mode="multiply"), "you multiplied the scores by the mask"),
    ("mask-after-softmax", _variant(mask_mode="after-softmax"), "AFTER the softmax"),
    ("mask-ignored", _variant(mask_mode="ignore"), "the mask is ignored"),
    ("mask-inverted", _variant(mask_mode="invert"), "the mask is inverted"),
    ("unscaled", _variant(scale="none"), "the scores are not scaled"),
    ("scaled-by-dk", _variant(scale="dk"), "you divided by dk"),
    ("softmax-over-queries", _variant(axis=-2), "the softmax runs over the wrong axis"),
    ("masked-row-uniform", _variant(mask_mode="large-negative"), "a query that may see no key gets equal weights"),
    ("outputs-swapped", lambda *a: ch12.attention_variant(*a)[::-1], r"you returned \(weights, out\)"),
])
def test_attention_mistakes_are_diagnosed(mistake, answer, message):
    _fails(ch12.check_attention, answer, mistake, message)
    assert accepted("attention") is None
    assert implementation("attention", ch12.reference_attention, label="12.1", quiet=True) is ch12.reference_attention


def test_a_mask_multiplied_into_the_scores_is_named_in_a_hand_written_answer():
    def multiplied(q, k, v, mask=None):
        scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            scores = scores * mask
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        return weights @ v, weights

    _fails(ch12.check_attention, multiplied, "mask-multiplied", "exp\\(0\\) is not 0")


def test_attention_minus_inf_without_a_guard_names_the_fully_masked_row():
    def naive(q, k, v, mask=None):
        scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights = weights / weights.sum(-1, keepdims=True)
        return weights @ v, weights

    with pytest.raises(ExerciseFailed, match="(?s)queries may see nothing.*a row with no allowed score"):
        ch12.check_attention(naive)


@pytest.mark.parametrize("reference", [scaled_dot_product_attention_forward, masked_softmax])
def test_attention_that_calls_dlcore_fails(reference):
    def delegates(q, k, v, mask=None):
        if reference is masked_softmax:
            weights = masked_softmax(q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1]), mask)
            return weights @ v, weights
        out, cache = scaled_dot_product_attention_forward(q, k, v, mask)
        return out, cache.weights

    _fails(ch12.check_attention, delegates, "delegates-to-reference", "the course's own version")


def test_attention_in_place_and_not_done():
    def in_place(q, k, v, mask=None):
        q /= np.sqrt(q.shape[-1])
        return ch12.attention_variant(q, k, v, mask, scale="none")

    with pytest.raises(ExerciseFailed, match="changed its input array in place"):
        ch12.check_attention(in_place)
    with pytest.raises(NotImplementedError, match="Exercise 12.1 is not done yet"):
        ch12.check_attention(not_done)


# ---------------------------------------------------------------- 12.2

def test_dot_variance():
    assert ch12.check_dot_variance(lambda d, a, b: d * np.multiply(a, b)).passed
    assert ch12.check_dot_variance(lambda d, a, b: np.asarray(a) * np.asarray(b) * np.asarray(d, dtype=float)).passed
    wrong = {
        "standard-deviation": lambda d, a, b: np.sqrt(d * np.multiply(a, b)),
        "dk-missing": lambda d, a, b: np.multiply(a, b) + 0 * np.asarray(d),
        "dk-squared": lambda d, a, b: np.square(d) * np.multiply(a, b),
        "sqrt-dk": lambda d, a, b: np.sqrt(d) * np.multiply(a, b),
        "variances-added": lambda d, a, b: d * np.add(a, b),
    }
    for mistake, function in wrong.items():
        with pytest.raises(ExerciseFailed) as caught:
            ch12.check_dot_variance(function)
        assert caught.value.mistake == mistake
    with pytest.raises(NotImplementedError, match="Exercise 12.2 is not done yet"):
        ch12.check_dot_variance(not_done)


def test_dot_variance_matches_a_simulation():
    rng = np.random.default_rng(0)
    q, k = rng.normal(0, 0.5, (200_000, 16)), rng.normal(0, 2.0, (200_000, 16))
    assert np.isclose((q * k).sum(1).var(), float(ch12._dot_variance(16, 0.25, 4.0)), rtol=0.02)


# ---------------------------------------------------------------- 12.3

def test_causal_prediction():
    assert ch12.check_causal_prediction(lambda T: np.tril(np.ones((T, T))) / np.arange(1, T + 1)[:, None]).passed
    assert ch12.check_causal_prediction(
        lambda T: np.array([[1 / (i + 1) if j <= i else 0.0 for j in range(T)] for i in range(T)])).passed
    wrong = {
        "triangle-transposed": lambda T: np.triu(np.ones((T, T))) / np.arange(T, 0, -1)[:, None],
        "mask-ignored": lambda T: np.full((T, T), 1 / T),
        "diagonal-excluded": lambda T: np.tril(np.ones((T, T)), -1) / np.maximum(np.arange(T), 1)[:, None],
        "rows-not-normalised": lambda T: np.tril(np.ones((T, T))),
        "divided-by-T": lambda T: np.tril(np.ones((T, T))) / T,
    }
    for mistake, function in wrong.items():
        with pytest.raises(ExerciseFailed) as caught:
            ch12.check_causal_prediction(function)
        assert caught.value.mistake == mistake
    with pytest.raises(NotImplementedError, match="Exercise 12.3 is not done yet"):
        ch12.check_causal_prediction(not_done)


# ---------------------------------------------------------------- 12.4 multi-head attention

def mha_with_helper(query, key, value, params, num_heads, key_padding_mask=None, attn_mask=None):
    """Right answer 1: the solution's approach, on the learner's 12.1 attention."""
    N, Tq, E = query.shape
    Tk, d = key.shape[1], E // num_heads
    mask = np.ones((N, 1, Tq, Tk), dtype=bool)
    if key_padding_mask is not None:
        mask = mask & key_padding_mask[:, None, None, :]
    if attn_mask is not None:
        mask = mask & attn_mask
    split = [x.reshape(N, -1, num_heads, d).transpose(0, 2, 1, 3)
             for x in (query @ params.W_q + params.b_q, key @ params.W_k + params.b_k, value @ params.W_v + params.b_v)]
    heads, weights = attention_shift_all(*split, mask)
    return heads.transpose(0, 2, 1, 3).reshape(N, Tq, E) @ params.W_o + params.b_o, weights


def mha_head_loop(query, key, value, params, num_heads, key_padding_mask=None, attn_mask=None):
    """Right answer 2: one head at a time on column slices, masks combined per head."""
    N, Tq, E = query.shape
    d = E // num_heads
    Q, K, V = query @ params.W_q + params.b_q, key @ params.W_k + params.b_k, value @ params.W_v + params.b_v
    mask = np.ones((N, Tq, key.shape[1]), dtype=bool)
    if key_padding_mask is not None:
        mask &= key_padding_mask[:, None, :]
    if attn_mask is not None:
        mask &= attn_mask
    outs, maps = [], []
    for h in range(num_heads):
        cols = slice(h * d, (h + 1) * d)
        out, weights = attention_einsum(Q[..., cols], K[..., cols], V[..., cols], mask)
        outs.append(out)
        maps.append(weights)
    return np.concatenate(outs, axis=-1) @ params.W_o + params.b_o, np.stack(maps, axis=1)


@pytest.mark.parametrize("answer", [mha_with_helper, mha_head_loop])
def test_multi_head_right_answers_pass(answer):
    assert ch12.check_multi_head_attention(answer).passed
    assert accepted("multi_head_attention") is answer


def _mha(**mistake):
    return lambda *args: ch12.multi_head_variant(*args, **mistake)


@pytest.mark.parametrize("mistake, answer, message", [
    ("heads-split-by-reshape", _mha(split="reshape"), "the heads are not split along the features"),
    ("heads-merged-by-reshape", _mha(merge="reshape"), "the heads are not put back side by side"),
    ("scaled-by-embed-size", _mha(scale="embed"), "divided by √E"),
    ("padding-mask-on-queries", _mha(padding_axis="queries"), "the padding mask hides <pad> QUERIES"),
    ("no-output-projection", _mha(output_projection=False), "the output projection is missing"),
    ("masks-ignored", lambda *args: ch12.multi_head_variant(*args[:5]), "the masks are ignored"),
])
def test_multi_head_mistakes_are_diagnosed(mistake, answer, message):
    _fails(ch12.check_multi_head_attention, answer, mistake, message)
    assert accepted("multi_head_attention") is None


def test_multi_head_that_calls_dlcore_fails_and_not_done():
    def delegates(query, key, value, params, num_heads, key_padding_mask=None, attn_mask=None):
        return multi_head_attention_forward(query, key, value, params, num_heads, key_padding_mask=key_padding_mask,
                                            attn_mask=attn_mask)

    _fails(ch12.check_multi_head_attention, delegates, "delegates-to-reference", "the course's own version")
    with pytest.raises(NotImplementedError, match="Exercise 12.4 is not done yet"):
        ch12.check_multi_head_attention(not_done)


def test_multi_head_may_use_dlcores_attention_while_12_1_is_not_done():
    def on_reference(query, key, value, params, num_heads, key_padding_mask=None, attn_mask=None):
        attend = implementation("attention", ch12.reference_attention, label="12.1", quiet=True)
        N, Tq, E = query.shape
        d = E // num_heads
        mask = np.ones((N, 1, Tq, key.shape[1]), dtype=bool)
        if key_padding_mask is not None:
            mask = mask & key_padding_mask[:, None, None, :]
        if attn_mask is not None:
            mask = mask & attn_mask
        split = [x.reshape(N, -1, num_heads, d).transpose(0, 2, 1, 3) for x in
                 (query @ params.W_q + params.b_q, key @ params.W_k + params.b_k, value @ params.W_v + params.b_v)]
        heads, weights = attend(*split, mask)
        return heads.transpose(0, 2, 1, 3).reshape(N, Tq, E) @ params.W_o + params.b_o, weights

    assert ch12.check_multi_head_attention(on_reference).passed


# ---------------------------------------------------------------- 12.5

def test_mha_prediction_matches_torch():
    s = ch12.MHA_SETTING
    module = torch.nn.MultiheadAttention(s["embed_dim"], s["num_heads"], batch_first=True)
    out, weights = module(torch.zeros(s["N"], s["Tq"], 16), torch.zeros(s["N"], s["Tk"], 16),
                          torch.zeros(s["N"], s["Tk"], 16), average_attn_weights=False)
    count = sum(p.numel() for p in module.parameters())
    assert ch12.check_mha_prediction(lambda: (tuple(out.shape), tuple(weights.shape), count)).passed
    assert ch12.check_mha_prediction(lambda: ([2, 5, 16], np.array([2, 4, 5, 7]), 4 * (16 * 16 + 16))).passed


@pytest.mark.parametrize("answer, mistake, message", [
    (((2, 7, 16), (2, 4, 5, 7), 1088), "output-per-key", "one output per QUERY"),
    (((2, 5, 4), (2, 4, 5, 7), 1088), "output-one-head", "concatenated back to E = 16"),
    (((2, 5, 16), (2, 5, 7), 1088), "weights-averaged", "AVERAGED over heads"),
    (((2, 5, 16), (2, 4, 7, 5), 1088), "weights-transposed", r"\(N, h, Tq, Tk\)"),
    (((2, 5, 16), (2, 4, 5, 7), 1024), "biases-missing", "the biases are missing"),
    (((2, 5, 16), (2, 4, 5, 7), 816), "output-projection-missing", "the output projection W_o"),
    (((2, 5, 16), (2, 4, 5, 7), 4352), "parameters-per-head", "does not depend on the number of heads"),
])
def test_mha_prediction_mistakes(answer, mistake, message):
    with pytest.raises(ExerciseFailed, match=message) as caught:
        ch12.check_mha_prediction(lambda: answer)
    assert caught.value.mistake == mistake


def test_mha_prediction_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 12.5 is not done yet"):
        ch12.check_mha_prediction(lambda: (..., (2, 4, 5, 7), 1088))
    with pytest.raises(NotImplementedError, match="Exercise 12.5 is not done yet"):
        ch12.check_mha_prediction(not_done)
    with pytest.raises(ExerciseFailed, match="return output_shape, weights_shape, num_parameters"):
        ch12.check_mha_prediction(lambda: ((2, 5, 16), (2, 4, 5, 7)))


# ---------------------------------------------------------------- 12.6 positional encoding

def pe_slices(T, E):
    positions = np.arange(T)[:, None]
    omegas = 10000.0 ** (-np.arange(0, E, 2) / E)
    pe = np.empty((T, E))
    pe[:, 0::2] = np.sin(positions * omegas)
    pe[:, 1::2] = np.cos(positions * omegas)
    return pe


def pe_stacked(T, E):
    angles = np.outer(np.arange(T), np.exp(-np.log(10000.0) * np.arange(E // 2) * 2 / E))  # (T, E/2)
    return np.stack([np.sin(angles), np.cos(angles)], axis=-1).reshape(T, E)  # (T, E/2, 2) -> interleaved


@pytest.mark.parametrize("answer", [pe_slices, pe_stacked])
def test_positional_right_answers_pass(answer):
    assert ch12.check_positional_encoding(answer).passed
    assert accepted("positional_encoding") is answer


def _pe(**mistake):
    return lambda T, E: ch12.positional_variant(T, E, **mistake)


@pytest.mark.parametrize("mistake, answer, message", [
    ("sin-cos-swapped", _pe(order="cos-sin"), "sine and cosine are swapped"),
    ("pair-index-not-doubled", _pe(exponent="index"), "the frequencies fall too slowly"),
    ("halves-not-interleaved", _pe(layout="halves"), "all the sines in the first half"),
    ("positions-from-one", _pe(first_position=1), "positions start at 0"),
])
def test_positional_mistakes_are_diagnosed(mistake, answer, message):
    _fails(ch12.check_positional_encoding, answer, mistake, message)


def test_positional_that_calls_dlcore_fails_and_not_done():
    _fails(ch12.check_positional_encoding, lambda T, E: sinusoidal_positional_encoding(T, E),
           "delegates-to-reference", "the course's own version")
    with pytest.raises(NotImplementedError, match="Exercise 12.6 is not done yet"):
        ch12.check_positional_encoding(not_done)


# ---------------------------------------------------------------- 12.7 attention in tensor operations

def torch_masked_fill(q, k, v, mask=None):
    """Right answer 1: masked_fill before and after the softmax."""
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = weights.masked_fill(~mask, 0.0)
    return weights @ v, weights


def torch_exp_by_hand(q, k, v, mask=None):
    """Right answer 2: exp by hand with torch.where, a safe division for rows that see nothing."""
    scores = torch.einsum("...qd,...kd->...qk", q, k) / torch.sqrt(torch.tensor(float(q.shape[-1]), dtype=q.dtype))
    allowed = torch.ones_like(scores, dtype=torch.bool) if mask is None else mask.expand_as(scores)
    shift = torch.where(allowed, scores, torch.full_like(scores, -1e300)).amax(dim=-1, keepdim=True).detach()
    shift = torch.where(shift > -1e299, shift, torch.zeros_like(shift))
    exps = torch.where(allowed, torch.exp(torch.where(allowed, scores - shift, torch.zeros_like(scores))),
                       torch.zeros_like(scores))
    total = exps.sum(dim=-1, keepdim=True)
    weights = exps / torch.where(total > 0, total, torch.ones_like(total))
    return weights @ v, weights


@pytest.mark.parametrize("answer", [torch_masked_fill, torch_exp_by_hand])
def test_torch_attention_right_answers_pass_and_the_learners_function_is_used(answer):
    assert ch12.check_torch_attention(answer).passed
    assert implementation("torch_attention", scaled_dot_product_attention, label="12.7", quiet=True) is answer


def _torch(**mistake):
    return lambda *t: ch12.torch_attention_variant(*t, **mistake)


def test_torch_variant_without_mistake_is_right():
    assert ch12.check_torch_attention(_torch()).passed


@pytest.mark.parametrize("mistake, answer, message", [
    ("mask-multiplied", _torch(mask_mode="multiply"), "you multiplied the scores by the mask"),
    ("mask-ignored", _torch(mask_mode="ignore"), "the mask is ignored"),
    ("mask-inverted", _torch(mask_mode="invert"), "the mask is inverted"),
    ("masked-row-nan", _torch(mask_mode="nan-rows"), "a query that may see no key gives NaN"),
    ("masked-row-uniform", _torch(mask_mode="large-negative"), "gets equal weights on every key"),
    ("unscaled", _torch(scale="none"), "the scores are not scaled"),
    ("scaled-by-dk", _torch(scale="dk"), "you divided by dk"),
    ("softmax-over-queries", _torch(axis=-2), "the softmax runs over the wrong dimension"),
    ("leaves-autograd", _torch(mask_mode="detached"), "no gradient reaches q, k and v"),
])
def test_torch_attention_mistakes_are_diagnosed(mistake, answer, message):
    _fails(ch12.check_torch_attention, answer, mistake, message)
    assert implementation("torch_attention", scaled_dot_product_attention, label="12.7",
                          quiet=True) is scaled_dot_product_attention


def test_torch_attention_through_numpy_is_named():
    def through_numpy(q, k, v, mask=None):
        out, weights = attention_shift_all(q.detach().numpy(), k.detach().numpy(), v.detach().numpy(),
                                           None if mask is None else mask.numpy())
        return torch.tensor(out), torch.tensor(weights)

    _fails(ch12.check_torch_attention, through_numpy, "leaves-autograd", "left autograd")

    def returns_arrays(q, k, v, mask=None):
        return attention_shift_all(q.detach().numpy(), k.detach().numpy(), v.detach().numpy())

    with pytest.raises(ExerciseFailed, match="not torch tensors"):
        ch12.check_torch_attention(returns_arrays)


@pytest.mark.parametrize("shortcut", ["dlcore", "torch"])
def test_torch_attention_that_calls_a_ready_made_attention_fails(shortcut):
    def delegates(q, k, v, mask=None):
        if shortcut == "dlcore":
            return scaled_dot_product_attention(q, k, v, mask)
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return out, torch_masked_fill(q, k, v, mask)[1]

    _fails(ch12.check_torch_attention, delegates, "delegates-to-reference", "calls")


def test_torch_attention_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 12.7 is not done yet"):
        ch12.check_torch_attention(not_done)


# ---------------------------------------------------------------- 12.8 multi-head self-attention in tensor operations

def self_attention_permute(x, qkv, out, num_heads, mask=None):
    """Right answer 1: one reshape to (N, T, 3, h, d) and a permute, on the learner's 12.7 attention."""
    N, T, E = x.shape
    q, k, v = qkv(x).reshape(N, T, 3, num_heads, E // num_heads).permute(2, 0, 3, 1, 4)
    heads, weights = torch_masked_fill(q, k, v, mask)
    return out(heads.transpose(1, 2).reshape(N, T, E)), weights


def self_attention_chunks(x, qkv, out, num_heads, mask=None):
    """Right answer 2: chunk into Q, K, V, view each as heads, weights of the layers used by hand."""
    N, T, E = x.shape
    d = E // num_heads
    projected = x @ qkv.weight.T + qkv.bias
    q, k, v = (part.view(N, T, num_heads, d).transpose(1, 2) for part in projected.chunk(3, dim=-1))
    heads, weights = torch_exp_by_hand(q, k, v, mask)
    merged = heads.permute(0, 2, 1, 3).reshape(N, T, num_heads * d)
    return merged @ out.weight.T + out.bias, weights


@pytest.mark.parametrize("answer", [self_attention_permute, self_attention_chunks])
def test_torch_self_attention_right_answers_pass_and_the_learners_function_is_used(answer):
    assert ch12.check_torch_self_attention(answer).passed
    assert implementation("torch_self_attention", None, label="12.8", quiet=True) is answer


def _self(**mistake):
    return lambda *args: ch12.torch_self_attention_variant(*args, **mistake)


@pytest.mark.parametrize("mistake, answer, message", [
    ("qkv-read-per-head", _self(layout="per-head"), "the columns of qkv\\(x\\) are read in the wrong order"),
    ("heads-split-by-reshape", _self(split="reshape"), "the heads are not split along the features"),
    ("heads-merged-by-reshape", _self(merge="reshape"), "the heads are not put back side by side"),
    ("no-output-projection", _self(projection=False), "the output projection is missing"),
    ("leaves-autograd", _self(detached=True), "no gradient reaches x"),
])
def test_torch_self_attention_mistakes_are_diagnosed(mistake, answer, message):
    _fails(ch12.check_torch_self_attention, answer, mistake, message)
    assert accepted("torch_self_attention") is None


@pytest.mark.parametrize("shortcut", ["dlcore", "torch"])
def test_torch_self_attention_that_calls_a_ready_made_one_fails(shortcut):
    from dlcore.models.transformer import multi_head_self_attention

    def delegates(x, qkv, out, num_heads, mask=None):
        if shortcut == "dlcore":
            return multi_head_self_attention(x, qkv, out, num_heads, mask)
        module = torch.nn.MultiheadAttention(x.shape[-1], num_heads, batch_first=True, dtype=x.dtype)
        return module(x, x, x, average_attn_weights=False)

    _fails(ch12.check_torch_self_attention, delegates, "delegates-to-reference", "calls")


def test_torch_self_attention_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 12.8 is not done yet"):
        ch12.check_torch_self_attention(not_done)
