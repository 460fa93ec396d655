"""Chapter 12 checks: each passes the reference and fails plausible wrong answers with their diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.exercises import ch12
from dlcore.exercises.core import ExerciseFailed


def _not_done(*args, **kwargs):
    raise NotImplementedError("Exercise 12.x: write your code here")


# ---------------------------------------------------------------- 12.1

def test_attention_reference_and_a_plain_answer_pass():
    assert ch12.check_attention(ch12.reference_attention).passed
    assert ch12.check_attention(lambda q, k, v, mask=None: ch12.attention_variant(q, k, v, mask)).passed


@pytest.mark.parametrize("mistake, message", [
    (dict(scale="none"), "the scores are not scaled"),
    (dict(scale="dk"), "you divided by dk"),
    (dict(axis=-2), "the softmax runs over the wrong axis"),
    (dict(use_mask=False), "the mask is ignored"),
    (dict(invert_mask=True), "the mask is inverted"),
    (dict(return_weights=True), "you returned the attention weights A"),
])
def test_attention_mistakes_are_diagnosed(mistake, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch12.check_attention(lambda q, k, v, mask=None: ch12.attention_variant(q, k, v, mask, **mistake))


def test_attention_in_place_and_not_done():
    def in_place(q, k, v, mask=None):
        q /= np.sqrt(q.shape[-1])
        return ch12.attention_variant(q, k, v, mask, scale="none")

    with pytest.raises(ExerciseFailed, match="changed its input array in place"):
        ch12.check_attention(in_place)
    with pytest.raises(NotImplementedError, match="Exercise 12.1 is not done yet"):
        ch12.check_attention(_not_done)


# ---------------------------------------------------------------- 12.2

def test_dot_variance():
    assert ch12.check_dot_variance(lambda d, a, b: d * np.multiply(a, b)).passed
    wrong = {
        "you returned the standard deviation": lambda d, a, b: np.sqrt(d * np.multiply(a, b)),
        "dk is missing": lambda d, a, b: np.multiply(a, b) + 0 * np.asarray(d),
        "dk² is what perfectly correlated terms would give": lambda d, a, b: np.square(d) * np.multiply(a, b),
        "√dk is the growth of the STANDARD DEVIATION": lambda d, a, b: np.sqrt(d) * np.multiply(a, b),
        "the variances multiply": lambda d, a, b: d * np.add(a, b),
    }
    for message, function in wrong.items():
        with pytest.raises(ExerciseFailed, match=message):
            ch12.check_dot_variance(function)
    with pytest.raises(NotImplementedError, match="Exercise 12.2 is not done yet"):
        ch12.check_dot_variance(_not_done)


def test_dot_variance_matches_a_simulation():
    rng = np.random.default_rng(0)
    q, k = rng.normal(0, 0.5, (200_000, 16)), rng.normal(0, 2.0, (200_000, 16))
    assert np.isclose((q * k).sum(1).var(), float(ch12._dot_variance(16, 0.25, 4.0)), rtol=0.02)


# ---------------------------------------------------------------- 12.3

def test_causal_prediction():
    assert ch12.check_causal_prediction(lambda T: np.tril(np.ones((T, T))) / np.arange(1, T + 1)[:, None]).passed
    wrong = {
        "the triangle is the wrong way round": lambda T: np.triu(np.ones((T, T))) / np.arange(T, 0, -1)[:, None],
        "the mask is ignored": lambda T: np.full((T, T), 1 / T),
        "a position may attend to ITSELF": lambda T: np.tril(np.ones((T, T)), -1) / np.maximum(np.arange(T), 1)[:, None],
        "must sum to 1": lambda T: np.tril(np.ones((T, T))),
        "not over all T": lambda T: np.tril(np.ones((T, T))) / T,
    }
    for message, function in wrong.items():
        with pytest.raises(ExerciseFailed, match=message):
            ch12.check_causal_prediction(function)
    with pytest.raises(NotImplementedError, match="Exercise 12.3 is not done yet"):
        ch12.check_causal_prediction(_not_done)


# ---------------------------------------------------------------- 12.4

def test_mha_prediction_matches_torch():
    import torch

    s = ch12.MHA_SETTING
    module = torch.nn.MultiheadAttention(s["embed_dim"], s["num_heads"], batch_first=True)
    out, weights = module(torch.zeros(s["N"], s["Tq"], 16), torch.zeros(s["N"], s["Tk"], 16),
                          torch.zeros(s["N"], s["Tk"], 16), average_attn_weights=False)
    count = sum(p.numel() for p in module.parameters())
    assert ch12.check_mha_prediction(tuple(out.shape), tuple(weights.shape), count).passed


@pytest.mark.parametrize("answer, message", [
    (((2, 7, 16), (2, 4, 5, 7), 1088), "one output per QUERY"),
    (((2, 5, 4), (2, 4, 5, 7), 1088), "concatenated back to E = 16"),
    (((2, 5, 16), (2, 5, 7), 1088), "AVERAGED over heads"),
    (((2, 5, 16), (2, 4, 7, 5), 1088), r"\(N, h, Tq, Tk\)"),
    (((2, 5, 16), (2, 4, 5, 7), 1024), "the biases are missing"),
    (((2, 5, 16), (2, 4, 5, 7), 816), "the output projection W_o"),
    (((2, 5, 16), (2, 4, 5, 7), 4352), "does not depend on the number of heads"),
])
def test_mha_prediction_mistakes(answer, message):
    with pytest.raises(ExerciseFailed, match=message):
        ch12.check_mha_prediction(*answer)


def test_mha_prediction_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 12.4 is not done yet"):
        ch12.check_mha_prediction(..., (2, 4, 5, 7), 1088)
