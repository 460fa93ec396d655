"""Checks for chapter 12's exercises (sequence to sequence and attention), in notebook order.

- 12.1 implement scaled dot-product attention with masks (NumPy)      -> :func:`check_attention`
- 12.2 derive the variance of q . k (why divide by sqrt(dk))           -> :func:`check_dot_variance`
- 12.3 predict the weights of causal self-attention with equal scores  -> :func:`check_causal_prediction`
- 12.4 implement multi-head attention (NumPy)                          -> :func:`check_multi_head_attention`
- 12.5 predict the shapes and size of nn.MultiheadAttention            -> :func:`check_mha_prediction`
- 12.6 implement the sinusoidal positional encoding                    -> :func:`check_positional_encoding`
- 12.7 implement attention in PyTorch tensor operations (autograd)     -> :func:`check_torch_attention`
- 12.8 implement multi-head self-attention in tensor operations         -> :func:`check_torch_self_attention`

Each known wrong answer is a :class:`Mistake` with a stable id. The build exercises may not call
dlcore's version of what they build, nor PyTorch's ready-made attention.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlcore.exercises.core import Case, CheckResult, Mistake, check_value, passed
from dlcore.exercises.functions import check_function
from dlcore.exercises.learner import accept, learner_call
from dlcore.scratch.attention import (causal_mask, masked_softmax, padding_mask, scaled_dot_product_attention_backward,
                                      scaled_dot_product_attention_forward)
from dlcore.scratch.transformer import MultiHeadParams, multi_head_attention_forward, sinusoidal_positional_encoding

__all__ = ["check_attention", "check_dot_variance", "check_causal_prediction", "check_multi_head_attention",
           "check_mha_prediction", "check_positional_encoding", "check_torch_attention", "check_torch_self_attention",
           "reference_attention",
           "attention_variant", "reference_multi_head_attention", "multi_head_variant", "positional_variant",
           "torch_attention_variant", "torch_self_attention_variant", "reference_causal_weights", "MHA_SETTING",
           "REFERENCES"]


def _torch_reference():
    from dlcore.models.transformer import scaled_dot_product_attention

    return scaled_dot_product_attention


def _torch_self_attention_reference():
    from dlcore.models.transformer import multi_head_self_attention

    return multi_head_self_attention


# The dlcore functions each exercise rebuilds: their code is not shown before the exercise.
REFERENCES = {
    "12.1": (scaled_dot_product_attention_forward, masked_softmax),
    "12.4": (multi_head_attention_forward,),
    "12.6": (sinusoidal_positional_encoding,),
    "12.7": (_torch_reference(),),
    "12.8": (_torch_self_attention_reference(),),
}


def _torch_shortcuts() -> list[Callable[..., Any]]:
    """PyTorch's ready-made attention (imported only when a check runs)."""
    import torch
    import torch.nn.functional as F

    return [F.scaled_dot_product_attention, F.multi_head_attention_forward, torch.nn.MultiheadAttention.forward]


# ---------------------------------------------------------------- 12.1 scaled dot-product attention

def reference_attention(q, k, v, mask=None):
    """(out, weights) of softmax(q k^T / sqrt(dk)) v; masked entries (mask False) get weight 0."""
    out, cache = scaled_dot_product_attention_forward(q, k, v, mask)
    return out, cache.weights


def _softmax(scores, axis=-1):
    powers = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return powers / powers.sum(axis=axis, keepdims=True)


def _masked_softmax(scores, mask):
    """Softmax over the last axis, masked entries and fully masked rows 0 (the variants' own copy)."""
    mask = np.broadcast_to(mask, scores.shape)
    powers = np.exp(np.where(mask, scores, -np.inf) - np.where(mask, scores, scores.min() - 1).max(-1, keepdims=True))
    sums = powers.sum(axis=-1, keepdims=True)
    return powers / np.maximum(sums, np.finfo(float).tiny)  # 0 on a row that sees nothing


def attention_variant(q, k, v, mask=None, *, scale="sqrt", axis=-1, mask_mode="exclude"):
    """(out, weights) of scaled dot-product attention with one deliberate mistake (for the checks and tests).

    mask_mode: "exclude" (right), "ignore", "invert", "multiply" (scores * mask), "after-softmax"
    (weights * mask, not renormalised) or "large-negative" (masked scores set to -1e9, which gives a
    query that may see nothing uniform weights instead of zeros).
    """
    divisor = {"sqrt": np.sqrt(q.shape[-1]), "none": 1.0, "dk": float(q.shape[-1])}[scale]
    scores = q @ np.swapaxes(k, -1, -2) / divisor  # (..., Tq, Tk)
    if mask is None or mask_mode == "ignore":
        weights = _softmax(scores, axis)
    elif mask_mode == "exclude" and axis == -1:
        weights = _masked_softmax(scores, mask)
    elif mask_mode == "invert":
        weights = _masked_softmax(scores, ~np.asarray(mask))
    elif mask_mode == "multiply":
        weights = _softmax(scores * mask, axis)
    elif mask_mode == "after-softmax":
        weights = _softmax(scores, axis) * mask
    elif mask_mode in ("large-negative", "exclude"):
        weights = _softmax(np.where(mask, scores, -1e9), axis)
    else:
        raise ValueError(f"attention_variant: unknown mask_mode {mask_mode!r}")
    return weights @ v, weights


def _attention(**mistake) -> Callable[..., Any]:
    return lambda q, k, v, mask=None: attention_variant(q, k, v, mask, **mistake)


def _swapped(q, k, v, mask=None):
    out, weights = attention_variant(q, k, v, mask)
    return weights, out


ATTENTION_MISTAKES = [
    Mistake("masked-row-uniform", _attention(mask_mode="large-negative"),
            "a query that may see no key gets equal weights on every key: a large negative fill makes all its "
            "scores equal, so the softmax spreads over keys it must not see. Such a row must get weight 0 "
            "everywhere (and output 0)"),
    Mistake("mask-multiplied", _attention(mask_mode="multiply"),
            "you multiplied the scores by the mask: a masked score becomes 0, not minus infinity, and exp(0) is not "
            "0, so the masked keys still get weight (and an allowed score that happens to be 0 looks the same as a "
            "masked one). A mask must take its entries out of the softmax, not scale them"),
    Mistake("mask-after-softmax", _attention(mask_mode="after-softmax"),
            "you zeroed the masked weights AFTER the softmax, so each row no longer sums to 1: the allowed keys "
            "must share all of the weight, so mask before normalising"),
    Mistake("mask-ignored", _attention(mask_mode="ignore"),
            "the mask is ignored: where mask is False the weight must be exactly 0"),
    Mistake("mask-inverted", _attention(mask_mode="invert"),
            "the mask is inverted: here True means 'may attend' (as in F.scaled_dot_product_attention); "
            "nn.MultiheadAttention's boolean masks mean the opposite"),
    Mistake("unscaled", _attention(scale="none"),
            "the scores are not scaled: divide q·k by √dk (without it the softmax saturates as dk grows; "
            "section 4.4 shows it)"),
    Mistake("scaled-by-dk", _attention(scale="dk"),
            "you divided by dk; the scale is 1/√dk, which makes the scores' variance 1, not 1/dk"),
    Mistake("softmax-over-queries", _attention(axis=-2),
            "the softmax runs over the wrong axis: each QUERY's weights over the keys must sum to 1, so normalise "
            "along the last axis (keys), not over the queries"),
    Mistake("outputs-swapped", _swapped, "you returned (weights, out); return the output first: (out, weights)"),
]


def _attention_cases(rng: np.random.Generator) -> list[Case]:
    q, k, v = rng.standard_normal((2, 3, 8)), rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 5, 4))
    x = rng.standard_normal((1, 4, 6)) * 2
    heads = rng.standard_normal((2, 2, 4, 3))
    empty = padding_mask([4, 0], 4)[:, None, None, :] | np.zeros((1, 1, 4, 1), dtype=bool)
    return [
        Case((q, k, v), description="q (2, 3, 8), k (2, 5, 8), v (2, 5, 4), no mask"),
        Case((q, k, v, padding_mask([3, 2], 5)[:, None, :]),
             description="the same with a padding mask: 3 and 2 real keys of 5"),
        Case((x, x, rng.standard_normal((1, 4, 3)), causal_mask(4)), description="self-attention with a causal mask"),
        Case((rng.standard_normal((1, 2, 1)), rng.standard_normal((1, 3, 1)), rng.standard_normal((1, 3, 2))),
             description="a batch of one with dk = 1"),
        Case((heads, heads * 3, heads, empty),
             description="(N, h, T, d) = (2, 2, 4, 3) with a padding mask; the second sequence has no real key, "
                         "so its queries may see nothing"),
    ]


def check_attention(attention: Callable) -> CheckResult:
    """Exercise 12.1: ``attention(q, k, v, mask=None)`` -> (out (..., Tq, dv), weights (..., Tq, Tk))."""
    return check_function(
        "12.1", attention, reference_attention, _attention_cases(np.random.default_rng(12)), name="attention",
        outputs=("out", "weights"), mistakes=ATTENTION_MISTAKES,
        forbid=[scaled_dot_product_attention_forward, masked_softmax, *_torch_shortcuts()],
        hint="scale the scores, leave the masked ones out of the softmax (their weight must come out exactly 0), "
             "normalise each query's row over the keys, then average the values",
        warning_hint="subtract each row's maximum over its ALLOWED scores before exp; a row with no allowed score "
                     "has no maximum (-inf - (-inf) is NaN): give that row any finite shift and zero weights",
        success="the same numbers as dlcore.scratch.attention and F.scaled_dot_product_attention, fully masked "
                "rows included.",
    )


# ---------------------------------------------------------------- 12.2 variance of q . k

def _dot_variance(dk, var_q, var_k):
    return np.asarray(dk * np.asarray(var_q, dtype=np.float64) * var_k, dtype=np.float64)


DOT_VARIANCE_MISTAKES = [
    Mistake("standard-deviation", lambda d, a, b: np.sqrt(d * np.multiply(a, b)),
            "you returned the standard deviation √(dk var_q var_k); the question asks for the variance"),
    Mistake("dk-missing", lambda d, a, b: np.multiply(a, b) + 0 * np.asarray(d),
            "dk is missing: q·k adds dk independent terms q_i k_i, so their variances add up dk times"),
    Mistake("dk-squared", lambda d, a, b: np.square(d) * np.multiply(a, b),
            "dk² is what perfectly correlated terms would give; independent terms add their variances: dk, not dk²"),
    Mistake("sqrt-dk", lambda d, a, b: np.sqrt(d) * np.multiply(a, b),
            "√dk is the growth of the STANDARD DEVIATION; the variance grows like dk (which is why the scale is "
            "1/√dk)"),
    Mistake("variances-added", lambda d, a, b: d * np.add(a, b),
            "the variances multiply: Var(q_i k_i) = E[q_i²] E[k_i²] = var_q var_k for independent zero-mean factors"),
]


def check_dot_variance(dot_variance: Callable) -> CheckResult:
    """Exercise 12.2: Var(q·k) = dk var_q var_k for independent zero-mean components."""
    cases = [
        Case((16, 0.25, 2.0), description="dk = 16, Var(q_i) = 0.25, Var(k_i) = 2"),
        Case((64, 1.0, 1.0), description="dk = 64, unit variances"),
        Case((np.array([1, 8, 512]), np.array([2.0, 0.5, 1.0]), np.array([3.0, 0.5, 0.1])),
             description="arrays of dk, Var(q_i) and Var(k_i)"),
    ]
    return check_function(
        "12.2", dot_variance, _dot_variance, cases, name="dot_variance", mistakes=DOT_VARIANCE_MISTAKES,
        hint="write Var(q_i k_i) with expectations of independent factors, then add the dk terms",
        success="Var(q·k) = dk var_q var_k, so q·k/√dk has variance var_q var_k whatever dk is.",
    )


# ---------------------------------------------------------------- 12.3 causal mask with equal scores

def reference_causal_weights(T: int) -> np.ndarray:
    """Causal self-attention weights when every score is equal: row i is uniform over positions 0..i."""
    return masked_softmax(np.zeros((T, T)), causal_mask(T))


CAUSAL_MISTAKES = [
    Mistake("triangle-transposed", lambda T: np.triu(np.ones((T, T))) / np.arange(T, 0, -1)[:, None],
            "the triangle is the wrong way round: query i (row) may see keys j <= i (columns), the past; you let "
            "it see the future"),
    Mistake("mask-ignored", lambda T: np.full((T, T), 1.0 / T),
            "the mask is ignored: the causal mask hides every key j > i"),
    Mistake("diagonal-excluded", lambda T: np.tril(np.ones((T, T)), -1) / np.maximum(np.arange(T), 1)[:, None],
            "a position may attend to ITSELF: the causal mask allows j <= i, diagonal included (otherwise row 0 "
            "would have nothing to attend to)"),
    Mistake("rows-not-normalised", lambda T: np.tril(np.ones((T, T))),
            "the weights of a row must sum to 1 (softmax): row i shares its weight equally among its keys"),
    Mistake("divided-by-T", lambda T: np.tril(np.ones((T, T))) / T,
            "each row is normalised over the keys it may see, not over all T"),
]


def check_causal_prediction(predict_weights: Callable) -> CheckResult:
    """Exercise 12.3: ``predict_weights(T)`` -> (T, T) weights of causal self-attention with equal scores."""
    return check_function(
        "12.3", predict_weights, reference_causal_weights, [Case((T,), description=f"T = {T}") for T in (4, 1, 7)],
        name="predict_causal_weights", mistakes=CAUSAL_MISTAKES, forbid=[masked_softmax, causal_mask],
        hint="equal scores make the softmax uniform over the allowed keys; which keys may row i see?",
        success="row i spreads its weight equally over positions 0..i: the first position gets 1, the last 1/T each.",
    )


# ---------------------------------------------------------------- 12.4 multi-head attention

def reference_multi_head_attention(query, key, value, params, num_heads, key_padding_mask=None, attn_mask=None):
    """(out (N, Tq, E), weights (N, h, Tq, Tk)) of :func:`dlcore.scratch.transformer.multi_head_attention_forward`."""
    return multi_head_attention_forward(query, key, value, params, num_heads, key_padding_mask=key_padding_mask,
                                        attn_mask=attn_mask)


def multi_head_variant(query, key, value, params, num_heads, key_padding_mask=None, attn_mask=None, *,
                       split="right", merge="right", scale="head", padding_axis="keys", output_projection=True):
    """Multi-head attention with one deliberate mistake (for the checks and their tests).

    split "reshape": (N, T, E) reshaped to (N, h, T, d) without the transpose; merge "reshape": the
    heads reshaped back without the transpose; scale "embed": scores divided by √E instead of √d;
    padding_axis "queries": the padding mask applied to the queries; output_projection False: no W_o, b_o.
    """
    p = params
    N, Tq, E = query.shape
    Tk, d = key.shape[1], E // num_heads

    def heads(x, T):
        if split == "reshape":
            return x.reshape(N, num_heads, T, d)
        return x.reshape(N, T, num_heads, d).transpose(0, 2, 1, 3)  # (N, h, T, d)

    mask = np.ones((N, 1, Tq, Tk), dtype=bool)
    if key_padding_mask is not None:
        mask = mask & (key_padding_mask[:, None, None, :] if padding_axis == "keys" else
                       key_padding_mask[:, None, :, None])
    if attn_mask is not None:
        mask = mask & attn_mask
    q, k, v = heads(query @ p.W_q + p.b_q, Tq), heads(key @ p.W_k + p.b_k, Tk), heads(value @ p.W_v + p.b_v, Tk)
    if scale == "embed":
        q = q * np.sqrt(d / E)
    out, weights = reference_attention(q, k, v, mask)  # (N, h, Tq, d)
    concat = out.reshape(N, Tq, E) if merge == "reshape" else out.transpose(0, 2, 1, 3).reshape(N, Tq, E)
    return (concat @ p.W_o + p.b_o if output_projection else concat), weights


def _multi_head(**mistake) -> Callable[..., Any]:
    return lambda *args: multi_head_variant(*args, **mistake)


MULTI_HEAD_MISTAKES = [
    Mistake("heads-split-by-reshape", _multi_head(split="reshape"),
            "the heads are not split along the features: reshaping (N, T, E) straight to (N, h, T, d) cuts the "
            "sequence into h blocks of positions instead of giving each head d features of every position; "
            "reshape to (N, T, h, d) first, then move the head axis forward"),
    Mistake("heads-merged-by-reshape", _multi_head(merge="reshape"),
            "the heads are not put back side by side: reshaping (N, h, Tq, d) straight to (N, Tq, E) mixes "
            "positions; move the head axis back next to d first (N, Tq, h, d), then merge"),
    Mistake("scaled-by-embed-size", _multi_head(scale="embed"),
            "the scores are divided by √E; each head compares d = E/h features, so its scale is 1/√d"),
    Mistake("padding-mask-on-queries", _multi_head(padding_axis="queries"),
            "the padding mask hides <pad> QUERIES; it must hide <pad> KEYS (the last axis of the scores), so "
            "that no real position attends to padding"),
    Mistake("no-output-projection", _multi_head(output_projection=False),
            "the output projection is missing: the concatenated heads go through W_o (and b_o)"),
    Mistake("masks-ignored", lambda *args: multi_head_variant(*args[:5]),
            "the masks are ignored: combine key_padding_mask (N, Tk) and attn_mask (Tq, Tk) into one mask that "
            "broadcasts to (N, h, Tq, Tk)"),
]


def _random_params(rng: np.random.Generator, E: int) -> MultiHeadParams:
    return MultiHeadParams(*(rng.standard_normal((E, E)) / np.sqrt(E) for _ in range(4)),
                           *(rng.standard_normal(E) * 0.1 for _ in range(4)))


def _multi_head_cases(rng: np.random.Generator) -> list[Case]:
    x = rng.standard_normal((2, 5, 8))
    query, memory = rng.standard_normal((2, 3, 12)), rng.standard_normal((2, 4, 12))
    y = rng.standard_normal((1, 6, 8))
    return [
        Case((x, x, x, _random_params(rng, 8), 2), description="self-attention, x (2, 5, 8), 2 heads, no mask"),
        Case((x, x, x, _random_params(rng, 8), 2, padding_mask([5, 3], 5)),
             description="the same with a key padding mask: 5 and 3 real positions"),
        Case((query, memory, memory, _random_params(rng, 12), 3, padding_mask([4, 2], 4), causal_mask(3, 4)),
             description="cross-attention: query (2, 3, 12), key = value (2, 4, 12), 3 heads, both masks"),
        Case((y, y, y, _random_params(rng, 8), 1, None, causal_mask(6)),
             description="one head, (1, 6, 8), a causal mask"),
    ]


def check_multi_head_attention(multi_head_attention: Callable) -> CheckResult:
    """Exercise 12.4: ``multi_head_attention(query, key, value, params, num_heads, key_padding_mask=None,
    attn_mask=None)`` -> (out (N, Tq, E), weights (N, h, Tq, Tk))."""
    return check_function(
        "12.4", multi_head_attention, reference_multi_head_attention, _multi_head_cases(np.random.default_rng(124)),
        name="multi_head_attention", outputs=("out", "weights"), mistakes=MULTI_HEAD_MISTAKES,
        forbid=[multi_head_attention_forward, *_torch_shortcuts()],
        hint="project, give each head its own d features of every position, attend per head with one combined "
             "mask, put the heads side by side again, project",
        success="your heads, masks and projections compute nn.MultiheadAttention's function.",
    )


# ---------------------------------------------------------------- 12.5 shapes of multi-head attention

MHA_SETTING = dict(embed_dim=16, num_heads=4, N=2, Tq=5, Tk=7)

_OUTPUT_SHAPE_MISTAKES = [
    Mistake("output-per-key", lambda: "(2, 7, 16)", "output shape (2, 7, 16): one output per QUERY, not per key"),
    Mistake("output-one-head", lambda: "(2, 5, 4)",
            "output shape (2, 5, 4): the heads' outputs (4 each) are concatenated back to E = 16 and projected by W_o"),
    Mistake("output-heads-separate", lambda: "(2, 4, 5, 4)",
            "output shape (2, 4, 5, 4): the heads are concatenated (and projected) before the output is returned"),
]
_WEIGHTS_SHAPE_MISTAKES = [
    Mistake("weights-averaged", lambda: "(2, 5, 7)",
            "weights shape (2, 5, 7): that is the weights AVERAGED over heads (the default, "
            "average_attn_weights=True); "
            "here every head's weights are returned"),
    Mistake("weights-transposed", lambda: "(2, 4, 7, 5)",
            "weights shape (2, 4, 7, 5): rows are queries and columns keys: (N, h, Tq, Tk)"),
    Mistake("weights-square", lambda: "(2, 5, 5)",
            "weights shape (2, 5, 5): the keys are the 7-long sequence: a weight per (query, key) pair"),
]
_PARAMETER_MISTAKES = [
    Mistake("biases-missing", lambda: 1024,
            "the biases are missing: four projections of 16×16 weights AND 16 biases each"),
    Mistake("output-projection-missing", lambda: 816,
            "the output projection W_o (16×16 + 16) is missing: 3 input projections + 1 output"),
    Mistake("projection-and-biases-missing", lambda: 768, "the output projection and the biases are missing"),
    Mistake("parameters-per-head", lambda: 4 * 1088,
            "the number of parameters does not depend on the number of heads: each head uses a 4-column slice "
            "of the same 16×16 matrices"),
]


def _shape_text(shape: Any) -> str:
    try:
        return str(tuple(int(s) for s in np.atleast_1d(shape).tolist()))
    except (TypeError, ValueError):
        return repr(shape)


def check_mha_prediction(predict_mha: Callable[[], tuple]) -> CheckResult:
    """Exercise 12.5: ``predict_mha()`` -> (output shape, weights shape, number of parameters) of
    nn.MultiheadAttention(16, 4, batch_first=True) on query (2, 5, 16), key = value (2, 7, 16),
    average_attn_weights=False."""
    label = "12.5"
    answer = learner_call(label, predict_mha, name="predict_mha")
    if not isinstance(answer, (tuple, list)) or len(answer) != 3:
        check_value(label, answer, ("output_shape", "weights_shape", "num_parameters"), name="predict_mha()",
                    hint="end with `return output_shape, weights_shape, num_parameters`")
    output_shape, weights_shape, num_parameters = answer
    for answer in (output_shape, weights_shape, num_parameters):
        if answer is Ellipsis:
            check_value(label, ..., None, name="your predictions")  # raises: not done yet
    parts = [
        (_shape_text(output_shape), "(2, 5, 16)", "the output shape", _OUTPUT_SHAPE_MISTAKES,
         "the output has the query's batch and length, and the embedding size E"),
        (_shape_text(weights_shape), "(2, 4, 5, 7)", "the weights shape", _WEIGHTS_SHAPE_MISTAKES,
         "one weight per head, query and key"),
        (num_parameters, 1088, "the number of parameters", _PARAMETER_MISTAKES,
         "W_q, W_k, W_v and W_o are each E×E with an E-vector bias"),
    ]
    for got, expected, name, mistakes, hint in parts:
        if isinstance(expected, str) and got == expected:
            continue
        if not isinstance(expected, str) and np.isscalar(got) and np.isclose(float(got), expected):
            continue
        check_value(label, got, expected, name=name, mistakes=mistakes, hint=hint)  # raises: the answer is wrong
    return passed(label, "out (2, 5, 16), weights (2, 4, 5, 7), 4 (16·16 + 16) = 1088 parameters, whatever the heads.")


# ---------------------------------------------------------------- 12.6 positional encoding

def positional_variant(T, E, *, order="sin-cos", exponent="pair", layout="interleaved", first_position=0):
    """The sinusoidal encoding with one deliberate mistake (for the checks and their tests)."""
    positions = np.arange(first_position, first_position + T, dtype=np.float64)[:, None]  # (T, 1)
    index = np.arange(0, E, 2) if exponent == "pair" else np.arange(E // 2)
    angles = positions * 10000.0 ** (-index / E)  # (T, E/2)
    first, second = (np.sin(angles), np.cos(angles)) if order == "sin-cos" else (np.cos(angles), np.sin(angles))
    if layout == "halves":
        return np.concatenate([first, second], axis=1)
    pe = np.empty((T, E))
    pe[:, 0::2], pe[:, 1::2] = first, second
    return pe


def _positional(**mistake) -> Callable[..., Any]:
    return lambda T, E: positional_variant(T, E, **mistake)


POSITIONAL_MISTAKES = [
    Mistake("sin-cos-swapped", _positional(order="cos-sin"),
            "sine and cosine are swapped: the even columns (0, 2, ...) hold the sines, the odd ones the cosines"),
    Mistake("pair-index-not-doubled", _positional(exponent="index"),
            "the frequencies fall too slowly: pair i (columns 2i and 2i+1) uses 10000^(-2i/E); you used "
            "10000^(-i/E), as if the exponent counted pairs rather than columns"),
    Mistake("halves-not-interleaved", _positional(layout="halves"),
            "you put all the sines in the first half and the cosines in the second; the encoding interleaves "
            "them: column 2i is a sine, column 2i + 1 the cosine of the same angle"),
    Mistake("positions-from-one", _positional(first_position=1),
            "positions start at 0 (the first row is sin 0 = 0, cos 0 = 1), not at 1"),
]


def check_positional_encoding(positional_encoding: Callable) -> CheckResult:
    """Exercise 12.6: ``positional_encoding(T, E)`` -> (T, E) sinusoids, E even."""
    cases = [Case((6, 8), description="T = 6, E = 8"), Case((50, 16), description="T = 50, E = 16"),
             Case((1, 4), description="T = 1, E = 4"), Case((9, 2), description="T = 9, E = 2")]
    return check_function(
        "12.6", positional_encoding, sinusoidal_positional_encoding, cases, name="positional_encoding",
        mistakes=POSITIONAL_MISTAKES,
        hint="one angle per (position, column pair); the frequency of pair i falls geometrically with 2i/E",
        success="the sinusoids of Vaswani et al. (2017), column for column.",
    )


# ---------------------------------------------------------------- 12.7 attention in tensor operations

def torch_attention_variant(q, k, v, mask=None, *, scale="sqrt", axis=-1, mask_mode="exclude"):
    """Tensor attention with one deliberate mistake (for the checks and their tests).

    mask_mode: "exclude" (right), "ignore", "invert", "multiply", "nan-rows" (-inf fill, fully masked
    rows left NaN), "large-negative" (masked scores -1e9) or "detached" (right values computed
    outside autograd, so no gradient reaches q, k, v).
    """
    import torch

    if mask_mode == "detached":
        out, weights = torch_attention_variant(q.detach(), k.detach(), v.detach(), mask)
        return out, weights
    divisor = {"sqrt": q.shape[-1] ** 0.5, "none": 1.0, "dk": float(q.shape[-1])}[scale]
    scores = q @ k.transpose(-2, -1) / divisor
    if mask is None or mask_mode == "ignore":
        weights = torch.softmax(scores, dim=axis)
    elif mask_mode == "invert":
        return torch_attention_variant(q, k, v, ~mask)
    elif mask_mode == "multiply":
        weights = torch.softmax(scores * mask, dim=axis)
    elif mask_mode == "nan-rows":
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=axis)
    elif mask_mode == "large-negative":
        weights = torch.softmax(scores.masked_fill(~mask, -1e9), dim=axis)
    elif mask_mode == "exclude":
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=axis).masked_fill(~mask, 0.0)
    else:
        raise ValueError(f"torch_attention_variant: unknown mask_mode {mask_mode!r}")
    return weights @ v, weights


def _upstream(shape: tuple) -> np.ndarray:
    return np.random.default_rng(127).standard_normal(shape)


def _torch_results(function: Callable, q, k, v, mask=None):
    """Run a tensor attention on float64 copies of q, k, v; return out, weights and autograd's dq, dk, dv.

    The gradients are of sum(out * G) for a fixed random G, so they are the vector-Jacobian product
    that a backward pass written by hand would compute.
    """
    import torch

    tensors = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    result = function(*tensors) if mask is None else function(*tensors, torch.as_tensor(mask))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return result  # the comparison reports the count
    out, weights = result
    if not isinstance(out, torch.Tensor) or not isinstance(weights, torch.Tensor):
        raise TypeError(f"it returned {type(out).__name__} and {type(weights).__name__}, not torch tensors; "
                        f"compute with tensor operations so that autograd can follow them")
    grads = [None, None, None]
    if out.requires_grad:
        loss = (out * torch.from_numpy(_upstream(tuple(out.shape))).to(out.dtype)).sum()
        grads = torch.autograd.grad(loss, tensors, allow_unused=True)
    numpy = [t.detach().numpy() for t in (out, weights)]
    return (*numpy, *(np.zeros(np.shape(a)) if g is None else g.numpy() for a, g in zip((q, k, v), grads)))


def _torch_attention_reference(q, k, v, mask=None):
    """out, weights and the hand-written backward's dq, dk, dv (dlcore.scratch.attention) for the same upstream G."""
    out, cache = scaled_dot_product_attention_forward(q, k, v, mask)
    return (out, cache.weights, *scaled_dot_product_attention_backward(_upstream(out.shape), cache))


def _torch_mistake(**mistake) -> Callable[..., Any]:
    return lambda *args: _torch_results(lambda *t: torch_attention_variant(*t, **mistake), *args)


TORCH_ATTENTION_MISTAKES = [
    Mistake("masked-row-uniform", _torch_mistake(mask_mode="large-negative"),
            "a query that may see no key gets equal weights on every key: a large negative fill makes all its "
            "scores equal. Such a row must get weight 0 everywhere"),
    Mistake("mask-multiplied", _torch_mistake(mask_mode="multiply"),
            "you multiplied the scores by the mask: a masked score becomes 0, not minus infinity, and exp(0) is "
            "not 0, so the masked keys still get weight. Take masked entries out of the softmax instead "
            "(masked_fill is the tensor tool for it)"),
    Mistake("mask-ignored", _torch_mistake(mask_mode="ignore"),
            "the mask is ignored: where mask is False the weight must be exactly 0"),
    Mistake("mask-inverted", _torch_mistake(mask_mode="invert"),
            "the mask is inverted: True means 'may attend'; masked_fill fills where ITS mask is True, so it needs "
            "the positions that are NOT allowed"),
    Mistake("masked-row-nan", _torch_mistake(mask_mode="nan-rows"),
            "a query that may see no key gives NaN: the softmax of a row that is all minus infinity is 0/0. "
            "Set the weights of masked entries to 0 after the softmax (a fully masked row then gives 0, and "
            "its NaN never reaches the output or the gradients)"),
    Mistake("unscaled", _torch_mistake(scale="none"), "the scores are not scaled: divide q·k by √dk"),
    Mistake("scaled-by-dk", _torch_mistake(scale="dk"), "you divided by dk; the scale is 1/√dk"),
    Mistake("softmax-over-queries", _torch_mistake(axis=-2),
            "the softmax runs over the wrong dimension: each query's weights over the keys (dim=-1) sum to 1"),
    Mistake("leaves-autograd", _torch_mistake(mask_mode="detached"),
            "the values are right but no gradient reaches q, k and v: part of your computation left autograd "
            "(.detach(), .numpy(), torch.tensor(...) of a result, or a loop that writes .item()s); keep every "
            "step a tensor operation on the inputs"),
]


def check_torch_attention(torch_attention: Callable) -> CheckResult:
    """Exercise 12.7: ``torch_attention(q, k, v, mask=None)`` -> (out, weights) tensors that autograd differentiates.

    Compares the values AND autograd's gradients with the NumPy forward and hand-derived backward of
    dlcore.scratch.attention. On success the learner's own function (not the check's wrapper around
    it) is what ``implementation("torch_attention", ...)`` returns.
    """
    label, name = "12.7", "torch_attention"

    def with_gradients(q, k, v, mask=None):
        return _torch_results(torch_attention, q, k, v, mask)

    result = check_function(
        label, with_gradients, _torch_attention_reference, _attention_cases(np.random.default_rng(12)), name=name,
        outputs=("out", "weights", "dq", "dk", "dv"), mistakes=TORCH_ATTENTION_MISTAKES,
        forbid=[_torch_reference(), *_torch_shortcuts()],
        hint="the same steps as exercise 12.1 in tensor operations (transpose(-2, -1), torch.softmax, "
             "masked_fill); a row that may see nothing must come out as zeros, not NaN",
        success="the values of exercise 12.1, and autograd's gradients equal the backward pass derived in section "
                "4.3.",
    )
    accept(name, torch_attention, label)  # later cells run the learner's function itself
    return result


# ---------------------------------------------------------------- 12.8 multi-head self-attention in tensor operations

def torch_self_attention_variant(x, qkv, out, num_heads, mask=None, *, split="right", merge="right", layout="blocks",
                                 projection=True, detached=False):
    """Tensor multi-head self-attention with one deliberate mistake (for the checks and their tests).

    split "reshape": each of Q, K, V reshaped straight to (N, h, T, d); merge "reshape": the heads
    reshaped back without the transpose; layout "per-head": the columns of qkv(x) read as per-head
    [q k v] triples; projection False: no output layer; detached: x leaves autograd.
    """
    N, T, E = x.shape
    d = E // num_heads
    if detached:
        x = x.detach()
    projected = qkv(x)  # (N, T, 3E)
    if split == "reshape":
        q, k, v = (p.reshape(N, num_heads, T, d) for p in projected.chunk(3, dim=-1))
    elif layout == "per-head":
        q, k, v = projected.reshape(N, T, num_heads, 3, d).permute(3, 0, 2, 1, 4)
    else:
        q, k, v = projected.reshape(N, T, 3, num_heads, d).permute(2, 0, 3, 1, 4)
    heads, weights = _torch_reference()(q, k, v, mask)  # (N, h, T, d)
    concat = heads.reshape(N, T, E) if merge == "reshape" else heads.transpose(1, 2).reshape(N, T, E)
    return (out(concat) if projection else concat), weights


def _torch_self_attention_results(function: Callable, x, W_qkv, b_qkv, W_o, b_o, num_heads, mask=None):
    """Run a tensor self-attention on float64 layers holding the given weights; return out, weights and
    autograd's gradients with respect to x, the qkv weight and the output weight (of sum(out * G))."""
    import torch
    from torch import nn

    E = x.shape[-1]
    qkv, out = nn.Linear(E, 3 * E, dtype=torch.float64), nn.Linear(E, E, dtype=torch.float64)
    with torch.no_grad():
        for parameter, value in ((qkv.weight, W_qkv), (qkv.bias, b_qkv), (out.weight, W_o), (out.bias, b_o)):
            parameter.copy_(torch.from_numpy(value))
    x_tensor = torch.tensor(x, requires_grad=True)
    args = (x_tensor, qkv, out, num_heads) + (() if mask is None else (torch.as_tensor(mask),))
    result = function(*args)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return result  # the comparison reports the count
    output, weights = result
    if not isinstance(output, torch.Tensor) or not isinstance(weights, torch.Tensor):
        raise TypeError(f"it returned {type(output).__name__} and {type(weights).__name__}, not torch tensors; "
                        f"compute with tensor operations so that autograd can follow them")
    sources = [x_tensor, qkv.weight, out.weight]
    grads = [None, None, None]
    if output.requires_grad:
        loss = (output * torch.from_numpy(_upstream(tuple(output.shape))).to(output.dtype)).sum()
        grads = torch.autograd.grad(loss, sources, allow_unused=True)
    return (output.detach().numpy(), weights.detach().numpy(),
            *(np.zeros(tuple(s.shape)) if g is None else g.numpy() for s, g in zip(sources, grads)))


def _torch_self_attention_expected(*args):
    return _torch_self_attention_results(_torch_self_attention_reference(), *args)


def _torch_self(**mistake) -> Callable[..., Any]:
    return lambda *args: _torch_self_attention_results(
        lambda *t: torch_self_attention_variant(*t, **mistake), *args)


TORCH_SELF_ATTENTION_MISTAKES = [
    Mistake("qkv-read-per-head", _torch_self(layout="per-head"),
            "the columns of qkv(x) are read in the wrong order: they are [all of Q | all of K | all of V], E each "
            "(then each of them split into h heads of d); you read them as h groups of [q k v]"),
    Mistake("heads-split-by-reshape", _torch_self(split="reshape"),
            "the heads are not split along the features: reshaping (N, T, E) straight to (N, h, T, d) cuts the "
            "sequence into blocks of positions; reshape to (N, T, h, d) first, then move the head axis forward"),
    Mistake("heads-merged-by-reshape", _torch_self(merge="reshape"),
            "the heads are not put back side by side: reshaping (N, h, T, d) straight to (N, T, E) mixes "
            "positions; transpose to (N, T, h, d) first"),
    Mistake("no-output-projection", _torch_self(projection=False),
            "the output projection is missing: the concatenated heads go through `out`"),
    Mistake("leaves-autograd", _torch_self(detached=True),
            "the values are right but no gradient reaches x: part of your computation left autograd (.detach(), "
            ".numpy(), torch.tensor(...) of a result); keep every step a tensor operation"),
]


def _torch_self_attention_cases(rng: np.random.Generator) -> list[Case]:
    def weights(E):
        return (rng.standard_normal((3 * E, E)) / np.sqrt(E), rng.standard_normal(3 * E) * 0.1,
                rng.standard_normal((E, E)) / np.sqrt(E), rng.standard_normal(E) * 0.1)

    key_mask = padding_mask([5, 3], 5)[:, None, None, :]  # (N, 1, 1, T)
    return [
        Case((rng.standard_normal((2, 5, 8)), *weights(8), 2), description="x (2, 5, 8), 2 heads, no mask"),
        Case((rng.standard_normal((2, 5, 8)), *weights(8), 2, key_mask),
             description="x (2, 5, 8), 2 heads, a key padding mask of shape (2, 1, 1, 5): 5 and 3 real positions"),
        Case((rng.standard_normal((1, 4, 12)), *weights(12), 3, causal_mask(4)),
             description="x (1, 4, 12), 3 heads, a causal mask"),
        Case((rng.standard_normal((3, 2, 6)), *weights(6), 1), description="x (3, 2, 6), one head"),
    ]


def check_torch_self_attention(torch_self_attention: Callable) -> CheckResult:
    """Exercise 12.8: ``torch_self_attention(x, qkv, out, num_heads, mask=None)`` -> (out (N, T, E),
    weights (N, h, T, T)) tensors, with ``qkv`` and ``out`` linear layers.

    Compares the values and autograd's gradients (for x and both weight matrices) with dlcore's
    multi_head_self_attention. On success the learner's own function is what
    ``implementation("torch_self_attention", ...)`` returns.
    """
    label, name = "12.8", "torch_self_attention"

    def with_gradients(*args):
        return _torch_self_attention_results(torch_self_attention, *args)

    result = check_function(
        label, with_gradients, _torch_self_attention_expected, _torch_self_attention_cases(np.random.default_rng(128)),
        name=name, outputs=("out", "weights", "dx", "dW_qkv", "dW_o"), mistakes=TORCH_SELF_ATTENTION_MISTAKES,
        forbid=[_torch_self_attention_reference(), *_torch_shortcuts()],
        hint="exercise 12.4's steps in tensor operations: one projection, split into heads, attend, heads side by "
             "side, project (reshape, permute and transpose keep autograd)",
        success="your multi-head self-attention computes dlcore's, gradients included.",
    )
    accept(name, torch_self_attention, label)  # later cells run the learner's function itself
    return result
