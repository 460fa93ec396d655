"""Checks for chapter 12's exercises (sequence to sequence and attention).

- 12.1 implement scaled dot-product attention with a mask          -> :func:`check_attention`
- 12.2 derive the variance of q . k (why divide by sqrt(dk))         -> :func:`check_dot_variance`
- 12.3 predict the weights of causal self-attention with equal scores -> :func:`check_causal_prediction`
- 12.4 predict the shapes and size of nn.MultiheadAttention          -> :func:`check_mha_prediction`
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.exercises.core import not_done_message
from dlcore.exercises.core import Case, CheckResult, check_value, fail, first_mistake
from dlcore.exercises.functions import check_array_function
from dlcore.scratch.attention import causal_mask, masked_softmax, padding_mask, scaled_dot_product_attention_forward

__all__ = ["check_attention", "check_dot_variance", "check_causal_prediction", "check_mha_prediction",
           "reference_attention", "attention_variant", "reference_causal_weights", "MHA_SETTING"]




# ---------------------------------------------------------------- 12.1 scaled dot-product attention

def reference_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(dk)) v, masked entries (mask False) excluded."""
    return scaled_dot_product_attention_forward(q, k, v, mask)[0]


def attention_variant(q, k, v, mask=None, *, scale="sqrt", axis=-1, use_mask=True, invert_mask=False,
                      return_weights=False):
    """Scaled dot-product attention with one deliberate mistake (for the checks and their tests)."""
    dk = q.shape[-1]
    divisor = {"sqrt": np.sqrt(dk), "none": 1.0, "dk": float(dk)}[scale]
    scores = q @ np.swapaxes(k, -1, -2) / divisor
    if mask is not None and use_mask:
        mask = ~mask if invert_mask else mask
        scores = np.where(mask, scores, -1e9)
    weights = np.exp(scores - scores.max(axis=axis, keepdims=True))
    weights = weights / weights.sum(axis=axis, keepdims=True)
    return weights if return_weights else weights @ v


_ATTENTION_MISTAKES = [
    (dict(scale="none"), "the scores are not scaled: divide q·k by √dk (without it the softmax saturates as dk "
                         "grows; exercise 12.2 shows why)"),
    (dict(scale="dk"), "you divided by dk; the scale is 1/√dk, which makes the scores' variance 1, not 1/dk"),
    (dict(axis=-2), "the softmax runs over the wrong axis: each QUERY's weights over the keys must sum to 1, "
                    "so normalise along the last axis (keys), not over the queries"),
    (dict(use_mask=False), "the mask is ignored: where mask is False the weight must be exactly 0"),
    (dict(invert_mask=True), "the mask is inverted: here True means 'may attend' (as in "
                             "F.scaled_dot_product_attention); nn.MultiheadAttention's boolean masks mean the opposite"),
]


def _attention_cases(rng: np.random.Generator) -> list[Case]:
    q, k, v = rng.standard_normal((2, 3, 8)), rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 5, 4))
    x = rng.standard_normal((1, 4, 6)) * 2
    return [
        Case((q, k, v), description="q (2, 3, 8), k (2, 5, 8), v (2, 5, 4), no mask"),
        Case((q, k, v, padding_mask([3, 2], 5)[:, None, :]),
             description="the same with a padding mask: 3 and 2 real keys of 5"),
        Case((x, x, rng.standard_normal((1, 4, 3)), causal_mask(4)), description="self-attention with a causal mask"),
        Case((rng.standard_normal((1, 2, 1)), rng.standard_normal((1, 3, 1)), rng.standard_normal((1, 3, 2))),
             description="a batch of one with dk = 1"),
    ]


def check_attention(attention: Callable) -> CheckResult:
    """Exercise 12.1: ``attention(q, k, v, mask=None)`` -> out (..., Tq, dv).

    Recognises: no scaling, 1/dk instead of 1/√dk, the softmax over the queries, the mask ignored
    or inverted, and the weights returned instead of the output.
    """
    cases = _attention_cases(np.random.default_rng(12))
    case = cases[0]
    try:
        got = np.asarray(attention(*case.args))
    except NotImplementedError:
        raise not_done_message("Exercise 12.1 is not done yet: replace the `raise NotImplementedError` in the "
                                  "exercise cell with your code, run that cell, then this one.") from None
    except Exception:
        got = None  # reported by check_array_function below
    if got is not None and got.shape == (2, 3, 5):
        fail("12.1", "you returned the attention weights A (shape (..., Tq, Tk)); the output is A V, of shape "
                     "(..., Tq, dv)", "multiply the weights by v")

    def diagnose(got, expected, case):
        return first_mistake([(lambda *a, m=m: attention_variant(*a, **m), msg) for m, msg in _ATTENTION_MISTAKES],
                            got, case)

    return check_array_function(
        "12.1", attention, reference_attention, cases, diagnoses=[diagnose],
        hint="scores = q @ k.swapaxes(-1, -2) / sqrt(dk); set masked scores to -inf (or a large negative number); "
             "softmax over the last axis; multiply by v",
        success="the same numbers as dlcore.scratch.attention and F.scaled_dot_product_attention.",
    )


# ---------------------------------------------------------------- 12.2 variance of q . k

def _dot_variance(dk, var_q, var_k):
    return np.asarray(dk * np.asarray(var_q, dtype=np.float64) * var_k, dtype=np.float64)


def check_dot_variance(dot_variance: Callable) -> CheckResult:
    """Exercise 12.2: Var(q·k) for q, k in R^dk with independent components, mean 0, variances var_q and
    var_k: dk var_q var_k.

    Recognises: the standard deviation returned, dk missing, dk squared, √dk instead of dk, and the
    variances added instead of multiplied.
    """
    cases = [
        Case((16, 0.25, 2.0), description="dk = 16, Var(q_i) = 0.25, Var(k_i) = 2"),
        Case((64, 1.0, 1.0), description="dk = 64, unit variances"),
        Case((np.array([1, 8, 512]), np.array([2.0, 0.5, 1.0]), np.array([3.0, 0.5, 0.1])),
             description="arrays of dk, Var(q_i) and Var(k_i)"),
    ]
    mistakes = [
        (lambda d, a, b: np.sqrt(d * a * b), "you returned the standard deviation √(dk var_q var_k); the question "
                                             "asks for the variance"),
        (lambda d, a, b: a * b + 0 * d, "dk is missing: q·k adds dk independent terms q_i k_i, so their variances "
                                        "add up dk times"),
        (lambda d, a, b: d ** 2 * a * b, "dk² is what perfectly correlated terms would give; independent terms "
                                         "add their variances: dk, not dk²"),
        (lambda d, a, b: np.sqrt(d) * a * b, "√dk is the growth of the STANDARD DEVIATION; the variance grows "
                                             "like dk (which is why the scale is 1/√dk)"),
        (lambda d, a, b: d * (a + b), "the variances multiply: Var(q_i k_i) = E[q_i²] E[k_i²] = var_q var_k for "
                                      "independent zero-mean factors"),
    ]
    return check_array_function(
        "12.2", dot_variance, _dot_variance, cases,
        diagnoses=[lambda got, expected, case: first_mistake(mistakes, got, case)],
        hint="Var(q_i k_i) = E[q_i² k_i²] − E[q_i k_i]² with E[q_i k_i] = E[q_i] E[k_i] = 0; then sum over i.",
        success="Var(q·k) = dk var_q var_k, so q·k/√dk has variance var_q var_k whatever dk is.",
    )


# ---------------------------------------------------------------- 12.3 causal mask with equal scores

def reference_causal_weights(T: int) -> np.ndarray:
    """Causal self-attention weights when every score is equal: row i is uniform over positions 0..i."""
    return masked_softmax(np.zeros((T, T)), causal_mask(T))


def check_causal_prediction(predict_weights: Callable) -> CheckResult:
    """Exercise 12.3: ``predict_weights(T)`` -> (T, T) weights of causal self-attention with equal scores.

    Recognises: the mask transposed (upper triangle), the mask ignored (1/T everywhere), the
    diagonal excluded, rows not normalised (a triangle of ones), and every row divided by T.
    """
    mistakes = [
        (lambda T: np.triu(np.ones((T, T))) / np.arange(T, 0, -1)[:, None],
         "the triangle is the wrong way round: query i (row) may see keys j <= i (columns), the past; you "
         "let it see the future"),
        (lambda T: np.full((T, T), 1.0 / T), "the mask is ignored: the causal mask hides every key j > i"),
        (lambda T: np.tril(np.ones((T, T)), -1) / np.maximum(np.arange(T), 1)[:, None],
         "a position may attend to ITSELF: the causal mask allows j <= i, diagonal included (otherwise row 0 "
         "would have nothing to attend to)"),
        (lambda T: np.tril(np.ones((T, T))), "the weights of a row must sum to 1 (softmax): row i shares its "
                                             "weight equally among i + 1 keys"),
        (lambda T: np.tril(np.ones((T, T))) / T, "each row is normalised over the keys it may see (i + 1 of them), "
                                                 "not over all T"),
    ]
    cases = [Case((T,), description=f"T = {T}") for T in (4, 1, 7)]
    return check_array_function(
        "12.3", predict_weights, reference_causal_weights, cases,
        diagnoses=[lambda got, expected, case: first_mistake(mistakes, got, case)],
        hint="equal scores make the softmax uniform over the allowed keys; which keys may row i see?",
        success="row i spreads its weight equally over positions 0..i: the first position gets 1, the last 1/T each.",
    )


# ---------------------------------------------------------------- 12.4 shapes of multi-head attention

MHA_SETTING = dict(embed_dim=16, num_heads=4, N=2, Tq=5, Tk=7)


def check_mha_prediction(output_shape, weights_shape, num_parameters) -> CheckResult:
    """Exercise 12.4: nn.MultiheadAttention(16, 4, batch_first=True) on query (2, 5, 16), key = value (2, 7, 16),
    average_attn_weights=False: the output's shape, the weights' shape and the number of parameters.
    """
    label = "12.4"
    for answer in (output_shape, weights_shape, num_parameters):
        if answer is Ellipsis:
            raise not_done_message("Exercise 12.4 is not done yet: replace each ... with your prediction.")
    output_shape, weights_shape = tuple(np.atleast_1d(output_shape).tolist()), tuple(np.atleast_1d(weights_shape).tolist())
    if output_shape != (2, 5, 16):
        diagnosis = {(2, 7, 16): "one output per QUERY, not per key: Tq = 5 rows",
                     (2, 5, 4): "the heads' outputs (4 each) are concatenated back to E = 16 and projected by W_o",
                     (2, 4, 5, 4): "the heads are concatenated (and projected) before the output is returned"}
        fail(label, f"output shape {output_shape} is not right" + (f": {diagnosis[output_shape]}"
                                                                   if output_shape in diagnosis else ""),
             "the output has the query's batch and length, and the embedding size E")
    if weights_shape != (2, 4, 5, 7):
        diagnosis = {(2, 5, 7): "that is the weights AVERAGED over heads (the default, average_attn_weights=True); "
                                "here every head's weights are returned",
                     (2, 4, 7, 5): "rows are queries and columns keys: (N, h, Tq, Tk)",
                     (2, 5, 5): "the keys are the 7-long sequence: a weight per (query, key) pair"}
        fail(label, f"weights shape {weights_shape} is not right" + (f": {diagnosis[weights_shape]}"
                                                                     if weights_shape in diagnosis else ""),
             "one weight per head, query and key")
    mistakes = {1024: "the biases are missing: four projections of 16×16 weights AND 16 biases each",
                816: "the output projection W_o (16×16 + 16) is missing: 3 input projections + 1 output",
                768: "the output projection and the biases are missing",
                4 * 1088: "the number of parameters does not depend on the number of heads: each head uses a "
                          "4-column slice of the same 16×16 matrices"}
    return check_value(label, num_parameters, 1088, name="the number of parameters",
                diagnoses=[lambda got, expected: mistakes.get(int(got)) if np.isscalar(got) else None],
                hint="W_q, W_k, W_v and W_o are each E×E with an E-vector bias",
                success="out (2, 5, 16), weights (2, 4, 5, 7), 4 (16·16 + 16) = 1088 parameters, whatever the heads.")
