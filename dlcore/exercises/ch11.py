"""Checks for chapter 11's exercises (recurrent networks).

- 11.1 implement one forward step of an Elman cell (nn.RNNCell)             -> :func:`check_rnn_cell`
- 11.2 implement one step's backward pass                                    -> :func:`check_rnn_cell_backward`
- 11.3 implement backpropagation through time and gradient-norm clipping     -> :func:`check_bptt`
- 11.4 derive the gradient factor dh_T/dh_0 of a scalar tanh RNN             -> :func:`check_gradient_factor`
- 11.5 predict which recurrent layers' gradients vanish or explode           -> :func:`check_gradient_prediction`
- 11.6 implement the LSTM cell's forward step (nn.LSTMCell)                  -> :func:`check_lstm_cell_forward`
- 11.7 derive one step of the LSTM backward pass (a "Your derivation" cell; no code check)
- 11.8 implement the LSTM cell's backward step                               -> :func:`check_lstm_cell_backward`
- 11.9 implement the GRU cell's forward step (nn.GRUCell)                    -> :func:`check_gru_cell`
- 11.10 derive the reset gate's gradient in the GRU backward pass (a "Your derivation" cell; no code check)
- 11.11 derive the number of parameters of an LSTM layer (nn.LSTM)           -> :func:`check_lstm_parameter_count`

Each build check accepts the learner's function, so that later cells run on it
(:func:`dlcore.exercises.learner.implementation`); :data:`REFERENCES` names the
dlcore functions each exercise rebuilds (never shown before the exercise).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

import numpy as np

from dlcore.exercises.core import Case, CheckResult, Mistake, fail, not_done_message
from dlcore.exercises.functions import check_function
from dlcore.exercises.learner import accept, learner_call
from dlcore.exercises.verdicts import check_verdicts
from dlcore.scratch.gradient_flow import recurrent_weights, state_gradient_norms
from dlcore.scratch.gru import gru_cell_forward
from dlcore.scratch.lstm import LSTMCellCache, lstm_cell_backward, lstm_cell_forward
from dlcore.scratch.rnn import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward
from dlcore.scratch.clipping import clip_grad_norm

_gru = importlib.import_module("dlcore.scratch.gru")  # the modules (dlcore.scratch re-exports functions of
_lstm = importlib.import_module("dlcore.scratch.lstm")  # the same names): their private step helpers are forbidden too

__all__ = ["REFERENCES", "check_rnn_cell", "check_rnn_cell_backward", "check_bptt", "check_gradient_factor",
           "check_gradient_prediction", "check_lstm_cell_forward", "check_lstm_cell_backward", "check_gru_cell",
           "check_lstm_parameter_count", "reference_rnn_cell", "reference_clip_gradients", "reference_gru_cell",
           "reference_lstm_parameter_count", "reference_gradient_factor", "GRADIENT_CONFIGS",
           "measure_gradient_regimes"]


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # no overflow for large |a|


def _random_weights(rng, gates, D, Hh, scale=0.5):
    return (rng.standard_normal((gates * Hh, D)) * scale, rng.standard_normal((gates * Hh, Hh)) * scale,
            rng.standard_normal(gates * Hh) * scale, rng.standard_normal(gates * Hh) * scale)


# Cell sizes tried by every cell check: square weights first (so that a transposed matrix still
# multiplies and the mistake can be named), then a batch of one, then a non-square case.
_SIZES = ((2, 3, 3, "N=2, D=Hh=3 (square weights)"), (1, 2, 4, "a batch of one, D=2, Hh=4"),
          (5, 6, 3, "N=5, D=6, Hh=3"))


# ---------------------------------------------------------------- 11.1 the RNN cell

def reference_rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """h = tanh(x_t W_ih^T + b_ih + h_prev W_hh^T + b_hh)."""
    return rnn_cell_forward(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)[0]


_RNN_MISTAKES = [
    Mistake("weights-untransposed", lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi + bi + h @ Wh + bh),
            "the weights are used untransposed: PyTorch stores W_ih as (Hh, D) and W_hh as (Hh, Hh), rows = outputs"),
    Mistake("whh-untransposed", lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + h @ Wh + bh),
            "W_hh is used untransposed: row j of W_hh holds the weights INTO hidden unit j"),
    Mistake("missing-b-hh", lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + h @ Wh.T),
            "b_hh is missing: nn.RNNCell has two bias vectors, b_ih and b_hh, and adds both"),
    Mistake("missing-b-ih", lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + h @ Wh.T + bh),
            "b_ih is missing: nn.RNNCell has two bias vectors, b_ih and b_hh, and adds both"),
    Mistake("no-recurrence", lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + bh),
            "h_prev is ignored: without the recurrent term the cell has no memory of earlier steps"),
    Mistake("sigmoid-not-tanh", lambda x, h, Wi, Wh, bi, bh: _sigmoid(x @ Wi.T + bi + h @ Wh.T + bh),
            "you applied the sigmoid; the Elman cell of nn.RNN uses tanh (nonlinearity='tanh'), output in (-1, 1)"),
    Mistake("relu-not-tanh", lambda x, h, Wi, Wh, bi, bh: np.maximum(0.0, x @ Wi.T + bi + h @ Wh.T + bh),
            "you applied ReLU; the default Elman cell uses tanh"),
    Mistake("pre-activation", lambda x, h, Wi, Wh, bi, bh: x @ Wi.T + bi + h @ Wh.T + bh,
            "you returned the pre-activation: the cell's output is its nonlinearity applied to it"),
    Mistake("residual-state", lambda x, h, Wi, Wh, bi, bh: h + np.tanh(x @ Wi.T + bi + h @ Wh.T + bh),
            "the new state is not h_prev + something: the Elman cell REPLACES its state at every step"),
]


def _rnn_cases() -> list[Case]:
    rng = np.random.default_rng(11)
    return [Case((rng.standard_normal((N, D)), rng.standard_normal((N, Hh)), *_random_weights(rng, 1, D, Hh)),
                 description=text) for N, D, Hh, text in _SIZES]


def check_rnn_cell(rnn_cell: Callable) -> CheckResult:
    """Exercise 11.1: ``rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)`` -> h (N, Hh), as nn.RNNCell."""
    return check_function(
        "11.1", rnn_cell, reference_rnn_cell, _rnn_cases(), name="rnn_cell", mistakes=_RNN_MISTAKES,
        forbid=[rnn_cell_forward, rnn_forward],
        hint="two matrix products (inputs and previous state, each with its weights as (outputs, inputs)), "
             "two biases, one squashing function with outputs in (-1, 1).",
        success="this is nn.RNNCell; the layer repeats it over time with the same weights.",
    )


# ---------------------------------------------------------------- 11.2 one step backward

def _rnn_step_backward(dh, cache, *, derivative="tanh", whh_T=False, dW_T=False, bias="sum"):
    x, h_prev, h, W_ih, W_hh = cache
    if derivative == "tanh":
        da = dh * (1.0 - h * h)
    elif derivative == "one-minus-h":
        da = dh * (1.0 - h)
    elif derivative == "h-prev":
        da = dh * (1.0 - h_prev * h_prev)
    else:
        da = dh
    dh_prev = da @ (W_hh.T if whh_T else W_hh)
    dW_ih, dW_hh = (x.T @ da, h_prev.T @ da) if dW_T else (da.T @ x, da.T @ h_prev)
    db = da.sum(axis=0) if bias == "sum" else da.mean(axis=0)
    return da @ W_ih, dh_prev, dW_ih, dW_hh, db, db


_STEP_MISTAKES = [
    Mistake("no-tanh-derivative", lambda dh, cache: _rnn_step_backward(dh, cache, derivative="none"),
            "the gradient goes through the tanh unchanged: multiply dh by the tanh's derivative first"),
    Mistake("tanh-derivative-without-square", lambda dh, cache: _rnn_step_backward(dh, cache, derivative="one-minus-h"),
            "the tanh's derivative at h = tanh(a) is written with h squared"),
    Mistake("derivative-at-h-prev", lambda dh, cache: _rnn_step_backward(dh, cache, derivative="h-prev"),
            "the tanh's derivative is taken at h_prev; it belongs to this step's output h (the state it produced)"),
    Mistake("whh-transposed-backward", lambda dh, cache: _rnn_step_backward(dh, cache, whh_T=True),
            "dh_prev uses W_hh transposed: the forward pass multiplied h_prev by W_hh^T, so the backward pass "
            "multiplies da by W_hh"),
    Mistake("weight-gradients-transposed", lambda dh, cache: _rnn_step_backward(dh, cache, dW_T=True),
            "dW_ih and dW_hh are transposed: a weight's gradient has the weight's shape, (outputs, inputs)"),
    Mistake("bias-gradient-mean", lambda dh, cache: _rnn_step_backward(dh, cache, bias="mean"),
            "the bias gradient averages over the batch; the bias was added to every row, so its gradient sums"),
]


def _rnn_step_cases() -> list[Case]:
    rng = np.random.default_rng(12)
    cases = []
    for N, D, Hh, text in _SIZES:
        _, cache = rnn_cell_forward(rng.standard_normal((N, D)), rng.standard_normal((N, Hh)),
                                    *_random_weights(rng, 1, D, Hh))
        cases.append(Case((rng.standard_normal((N, Hh)), cache), description=text))
    return cases


def check_rnn_cell_backward(rnn_cell_backward_: Callable) -> CheckResult:
    """Exercise 11.2: ``rnn_cell_backward(dh, cache)`` -> (dx_t, dh_prev, dW_ih, dW_hh, db_ih, db_hh)."""
    return check_function(
        "11.2", rnn_cell_backward_, rnn_cell_backward, _rnn_step_cases(), name="rnn_cell_backward",
        outputs=("dx_t", "dh_prev", "dW_ih", "dW_hh", "db_ih", "db_hh"), mistakes=_STEP_MISTAKES,
        hint="first the gradient of the pre-activation a (through the tanh), then one matrix product per input "
             "and per weight; each gradient has the shape of what it differentiates.",
        success="one step backward; BPTT (exercise 11.3) runs it from the last step to the first.",
    )


# ---------------------------------------------------------------- 11.3 BPTT and clipping

def _bptt(dout, cache, *, carry=True, whh_T=False, first_step=0, overwrite=False, dwhh_h_t=False,
          derivative_shift=False):
    x, h0, out, W_ih, W_hh = tuple(cache)  # RNNCache
    T, N, D = x.shape
    Hh = W_hh.shape[1]
    states = np.concatenate([h0[None], out])  # (T + 1, N, Hh): h_0 .. h_T
    dx = np.zeros_like(x)
    grads = [np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(Hh)]
    dh = np.zeros((N, Hh))
    for t in range(T - 1, first_step - 1, -1):
        h = states[t] if derivative_shift else states[t + 1]
        da = ((dout[t] + dh) if carry else dout[t]) * (1.0 - h * h)
        step = [da.T @ x[t], da.T @ (states[t + 1] if dwhh_h_t else states[t]), da.sum(axis=0)]
        grads = step if overwrite else [g + s for g, s in zip(grads, step)]
        dx[t] = da @ W_ih
        dh = da @ (W_hh.T if whh_T else W_hh)
    return dx, dh, grads[0], grads[1], grads[2], grads[2]


_BPTT_MISTAKES = [
    Mistake("no-carry", lambda dout, cache: _bptt(dout, cache, carry=False),
            "each step uses only its own dout[t]: the gradient that step t+1 sends back to h_t is never added"),
    Mistake("loop-stops-early", lambda dout, cache: _bptt(dout, cache, first_step=1),
            "the loop stops before the first step (t = 0): check the stop value of your range"),
    Mistake("weights-overwritten", lambda dout, cache: _bptt(dout, cache, overwrite=True),
            "the weight gradients hold only one step's contribution: the same weights act at every step, so "
            "their gradients add up over all steps"),
    Mistake("dwhh-uses-h-t", lambda dout, cache: _bptt(dout, cache, dwhh_h_t=True),
            "dW_hh pairs step t's da with h_t; W_hh multiplied the state the step STARTED from, h_(t-1)"),
    Mistake("derivative-off-by-one", lambda dout, cache: _bptt(dout, cache, derivative_shift=True),
            "the tanh's derivative at step t uses the previous state; it belongs to the state step t produced, "
            "out[t]"),
    Mistake("whh-transposed-bptt", lambda dout, cache: _bptt(dout, cache, whh_T=True),
            "the gradient sent back to the previous state uses W_hh transposed: the forward step multiplied by "
            "W_hh^T, so the backward step multiplies by W_hh"),
]


def _bptt_cases() -> list[Case]:
    rng = np.random.default_rng(13)
    cases = []
    for T, N, D, Hh, text in ((5, 2, 3, 3, "T=5, N=2, D=Hh=3"), (1, 1, 2, 4, "a single step, a batch of one"),
                              (7, 3, 4, 5, "T=7, N=3, D=4, Hh=5")):
        _, cache = rnn_forward(rng.standard_normal((T, N, D)), rng.standard_normal((N, Hh)),
                               *_random_weights(rng, 1, D, Hh))
        cases.append(Case((rng.standard_normal((T, N, Hh)), cache), description=text))
    return cases


def reference_clip_gradients(grads, max_norm):
    """(clipped grads, total norm before clipping): rescale all by max_norm / total when total > max_norm."""
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    scale = max_norm / total if total > max_norm else 1.0
    return [g * scale for g in grads], total


def _clip_view(clip: Callable) -> Callable:
    """The learner's clip(grads, max_norm) seen as a function of (g_1, g_2, g_3, max_norm) -> (g_1', g_2', g_3', norm)."""
    def clip_gradients(*args):
        result = clip(list(args[:-1]), args[-1])
        clipped, total = result
        return (*clipped, total)

    return clip_gradients


def _norms(grads):
    return [float(np.sqrt(np.sum(g * g))) for g in grads]


def _clip_mistake(how: str) -> Callable:
    def wrong(*args):
        grads, max_norm = list(args[:-1]), args[-1]
        total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
        if how == "per-tensor":
            return (*[g * min(1.0, max_norm / n) for g, n in zip(grads, _norms(grads))], total)
        if how == "always":
            return (*[g * max_norm / total for g in grads], total)
        if how == "values":
            return (*[np.clip(g, -max_norm, max_norm) for g in grads], total)
        if how == "sum-of-norms":
            summed = sum(_norms(grads))
            return (*[g * min(1.0, max_norm / summed) for g in grads], summed)
        if how == "squared":
            squared = total * total
            return (*[g * min(1.0, max_norm / squared) for g in grads], squared)
        clipped, _ = reference_clip_gradients(grads, max_norm)  # "after": the norm measured after clipping
        return (*clipped, float(np.sqrt(sum(np.sum(g * g) for g in clipped))))

    return wrong


_CLIP_MISTAKES = [
    Mistake("clips-each-tensor", _clip_mistake("per-tensor"),
            "each gradient is rescaled by its own norm: norm clipping treats ALL gradients as one long vector, "
            "so that the direction of the whole update is kept"),
    Mistake("always-rescales", _clip_mistake("always"),
            "the gradients are rescaled even when their norm is already below max_norm: clipping only ever shrinks"),
    Mistake("clips-values", _clip_mistake("values"),
            "each entry is clamped to [-max_norm, max_norm]: that is value clipping, which changes the direction"),
    Mistake("sum-of-norms", _clip_mistake("sum-of-norms"),
            "the total norm is the sum of the per-gradient norms; the norm of the concatenated vector is the square "
            "root of the sum of ALL squared entries"),
    Mistake("squared-norm", _clip_mistake("squared"),
            "the total norm is the sum of squares without the square root"),
    Mistake("norm-after-clipping", _clip_mistake("after"),
            "the returned norm is measured after clipping; return the norm before it (as PyTorch does), which "
            "shows how large the gradient really was"),
]


def _clip_cases() -> list[Case]:
    rng = np.random.default_rng(14)
    grads = (rng.standard_normal((3, 2)) * 2.0, rng.standard_normal((3, 3)) * 0.1, rng.standard_normal(3) * 0.5)
    return [Case((*grads, 1.0), description="three gradients of total norm about 5, max_norm = 1"),
            Case((*grads, 100.0), description="the same gradients, max_norm = 100 (no clipping needed)"),
            Case((rng.standard_normal((4, 2)) * 3.0, rng.standard_normal((2, 2)) * 0.01, rng.standard_normal(2), 2.5),
                 description="one gradient much larger than the others, max_norm = 2.5")]


def check_bptt(rnn_backward_: Callable, clip_gradients: Callable) -> CheckResult:
    """Exercise 11.3: ``rnn_backward(dout, cache)`` (BPTT over a sequence) and ``clip_gradients(grads, max_norm)``.

    ``rnn_backward`` returns (dx, dh0, dW_ih, dW_hh, db_ih, db_hh) as dlcore.scratch.rnn's;
    ``clip_gradients`` returns (list of clipped gradients, total norm before clipping).
    """
    label = "11.3"
    check_function(
        label, rnn_backward_, rnn_backward, _bptt_cases(), name="rnn_backward",
        outputs=("dx", "dh0", "dW_ih", "dW_hh", "db_ih", "db_hh"), mistakes=_BPTT_MISTAKES,
        forbid=[rnn_cell_backward], rtol=1e-6,
        hint="walk t from T-1 down to 0; the state's gradient at step t is dout[t] plus what step t+1 sent back; "
             "the weights' gradients add up over the steps.",
        success="your rnn_backward agrees with BPTT on every case",
    )
    cases = _clip_cases()
    result = learner_call(label, clip_gradients, [g.copy() for g in cases[0].args[:-1]], cases[0].args[-1],
                          name="clip_gradients")
    if not isinstance(result, (tuple, list)) or len(result) != 2 or not isinstance(result[0], (tuple, list)) \
            or len(result[0]) != len(cases[0].args) - 1:
        fail(label, "your clip_gradients should return two things: the list of clipped gradients (one per "
                    "gradient given) and the total norm before clipping", "end with `return clipped, total_norm`",
             mistake="clip-wrong-structure")
    check_function(
        label, _clip_view(clip_gradients), reference_clip_gradients_view, cases, name="clip_gradients",
        outputs=("grads[0]", "grads[1]", "grads[2]", "total_norm"), mistakes=_CLIP_MISTAKES,
        forbid=[clip_grad_norm], rtol=1e-5,
        hint="one norm over all the gradients together; rescale only when it exceeds max_norm.",
        success="your clip_gradients too; clipping bounds what an exploding gradient can do to one step.",
    )
    accept("clip_gradients", clip_gradients, label)  # the function itself, not the view the check compared
    return CheckResult(label, True, f"Exercise {label} passed.")


def reference_clip_gradients_view(*args):
    """:func:`reference_clip_gradients` as a function of (g_1, ..., g_k, max_norm) -> (g_1', ..., g_k', norm)."""
    clipped, total = reference_clip_gradients(list(args[:-1]), args[-1])
    return (*clipped, total)


# ---------------------------------------------------------------- 11.4 gradient factor

def reference_gradient_factor(w, hidden):
    """dh_T/dh_0 for h_t = tanh(w h_{t-1} + u x_t + b): prod_{t=1}^{T} w (1 - h_t^2); hidden = (h_0, ..., h_T)."""
    hidden = np.asarray(hidden, dtype=np.float64)
    return np.prod(w * (1.0 - hidden[1:] ** 2))


def _states(h):
    return np.asarray(h, dtype=np.float64)


_FACTOR_MISTAKES = [
    Mistake("factor-off-by-one", lambda w, h: np.prod(w * (1.0 - _states(h)[:-1] ** 2)),
            "off by one step: the factor of step t uses h_t, the state that step PRODUCED (t = 1..T), not h_0..h_(T-1)"),
    Mistake("factor-no-derivative", lambda w, h: w ** (len(h) - 1),
            "the tanh derivative is missing: each step contributes more than w"),
    Mistake("factor-no-w", lambda w, h: np.prod(1.0 - _states(h)[1:] ** 2),
            "w is missing: differentiating w h_(t-1) with respect to h_(t-1) leaves a w at every step"),
    Mistake("factor-sum", lambda w, h: np.sum(w * (1.0 - _states(h)[1:] ** 2)),
            "the chain rule MULTIPLIES the factors of the steps; you added them"),
    Mistake("factor-tanh-twice", lambda w, h: np.prod(w * (1.0 - np.tanh(_states(h)[1:]) ** 2)),
            "h_t is already tanh(a_t): its derivative is written with h_t itself, not tanh(h_t)"),
    Mistake("factor-no-square", lambda w, h: np.prod(w * (1.0 - _states(h)[1:])),
            "the tanh's derivative at h = tanh(a) needs h squared"),
    Mistake("factor-sigmoid-derivative", lambda w, h: np.prod(w * _states(h)[1:] * (1.0 - _states(h)[1:])),
            "h (1 - h) is the SIGMOID's derivative; this cell uses tanh"),
]


def check_gradient_factor(gradient_factor: Callable) -> CheckResult:
    """Exercise 11.4: ``gradient_factor(w, hidden)`` = dh_T/dh_0 = prod_{t=1}^{T} w (1 - h_t²)."""
    rng = np.random.default_rng(3)
    cases = [Case((1.5, np.tanh(rng.standard_normal(6))), description="w = 1.5, T = 5"),
             Case((0.9, np.concatenate([[0.0], np.tanh(rng.standard_normal(10))])), description="w = 0.9, T = 10"),
             Case((-2.0, np.array([0.3, -0.2])), description="w = -2, T = 1")]
    return check_function(
        "11.4", gradient_factor, reference_gradient_factor, cases, name="gradient_factor", mistakes=_FACTOR_MISTAKES,
        hint="Differentiate h_t = tanh(w h_(t-1) + ...) with respect to h_(t-1), then chain the T steps.",
        success="with |w (1 - h_t²)| < 1 at every step the factor shrinks geometrically: the vanishing gradient.",
    )


# ---------------------------------------------------------------- 11.5 predict the regimes

GRADIENT_CONFIGS = (("rnn", 0.5, 0.0), ("rnn", 4.0, 0.0), ("lstm", 1.0, 0.0), ("lstm", 1.0, 5.0), ("gru", 1.0, 5.0))
REGIMES = ("vanishing", "stable", "exploding")
_REASONS = {
    0: "with recurrent weights of spectral radius 0.5 each step multiplies the gradient by at most 0.5",
    1: "a recurrent matrix of spectral radius 4 multiplies the gradient by more than the tanh's slope takes away",
    2: "with zero gate biases f = sigma(a_f) is about 0.5, so the cell-state path multiplies by about 0.5 per step: "
       "the gates only help when they are open",
    3: "forget-gate bias 5 makes f = sigma(5) ~ 0.99: the cell state, and its gradient, pass almost unchanged",
    4: "update-gate bias 5 makes z ~ 0.99, and h' = (1 - z) n + z h copies h: the gradient passes as dh z",
}


def measure_gradient_regimes(length: int = 50) -> list[tuple[str, float]]:
    """For each of GRADIENT_CONFIGS: (regime, ||dL/dh_0|| / ||dL/dh_T||) with T = length, 16 units."""
    inputs = np.random.default_rng(0).standard_normal((length, 4, 2))  # (T, N, D)
    measured = []
    for kind, scale, bias in GRADIENT_CONFIGS:
        weights = recurrent_weights(kind, 2, 16, recurrent_scale=scale, memory_bias=bias, rng=np.random.default_rng(0))
        norms = state_gradient_norms(kind, inputs, weights)
        ratio = float(norms[0] / norms[-1])
        measured.append(("vanishing" if ratio < 1e-3 else "exploding" if ratio > 1e3 else "stable", ratio))
    return measured


def check_gradient_prediction(prediction) -> CheckResult:
    """Exercise 11.5: a tuple of five words ('vanishing', 'stable', 'exploding') for GRADIENT_CONFIGS.

    The check measures ||dL/dh_0|| / ||dL/dh_50|| of each layer (16 units, 4 random sequences) and explains
    each wrong entry; the mistake id names the first wrong configuration and the word ("regime-c-stable").
    """
    if prediction is Ellipsis:
        raise not_done_message("Exercise 11.5 is not done yet: return your five predictions.")
    measured = measure_gradient_regimes()
    names = [f"{kind.upper()} (scale {scale:g}, gate bias {bias:g})" for kind, scale, bias in GRADIENT_CONFIGS]
    return check_verdicts(
        "11.5", prediction, [regime for regime, _ in measured], cases=names,
        ids=[f"regime-{letter}" for letter in "abcde"], vocabulary=REGIMES,
        reasons=[_REASONS[k] for k in range(len(GRADIENT_CONFIGS))],
        measured="; ".join(f"{n}: ratio {r:.1e} ({regime})" for n, (regime, r) in zip(names, measured)),
        hint="Through the hidden path the gradient is multiplied by W_hh^T diag(1 - h_t²) per step; through an "
             "LSTM's cell state by f_t, through a GRU's direct path by z_t.",
        example="e.g. return ('stable', 'stable', 'stable', 'stable', 'stable')")


# ---------------------------------------------------------------- 11.6 the LSTM cell, forward

_ORDERS = {"ifgo": (0, 1, 2, 3), "ifog": (0, 1, 3, 2), "igfo": (0, 2, 1, 3)}  # block index of i, f, g, o


def _lstm_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh, *, order="ifgo", gates=_sigmoid, candidate=np.tanh,
                  output_tanh=True, input_gate=True, b_hh_used=True, h_from_c_prev=False):
    Hh = h_prev.shape[1]
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + (b_hh if b_hh_used else 0.0)
    blocks = [a[:, k * Hh:(k + 1) * Hh] for k in _ORDERS[order]]
    i, f, g, o = gates(blocks[0]), gates(blocks[1]), candidate(blocks[2]), gates(blocks[3])
    c = f * c_prev + (i * g if input_gate else g)
    tanh_c = np.tanh(c)
    shown = c_prev if h_from_c_prev else c
    h = o * (np.tanh(shown) if output_tanh else shown)
    return h, c, np.concatenate([i, f, g, o], axis=1), tanh_c


def _lstm_forward_mistake(**how) -> Callable:
    return lambda *args: _lstm_forward(*args, **how)


_LSTM_FORWARD_MISTAKES = [
    Mistake("gate-order-ifog", _lstm_forward_mistake(order="ifog"),
            "the four blocks of rows are read in the order i, f, o, g; PyTorch's order is i, f, g, o"),
    Mistake("gate-order-igfo", _lstm_forward_mistake(order="igfo"),
            "the four blocks of rows are read in the order i, g, f, o (TensorFlow's); PyTorch's order is i, f, g, o"),
    Mistake("tanh-gates", _lstm_forward_mistake(gates=np.tanh),
            "the gates i, f, o use tanh; a gate is a share between 0 and 1: the sigmoid"),
    Mistake("sigmoid-candidate", _lstm_forward_mistake(candidate=_sigmoid),
            "the candidate g uses the sigmoid; it is a value to write, in (-1, 1): tanh"),
    Mistake("h-without-tanh", _lstm_forward_mistake(output_tanh=False),
            "h = o * c: the cell state is squashed before the output gate shows it"),
    Mistake("no-input-gate", _lstm_forward_mistake(input_gate=False),
            "the candidate is added to the cell unscaled: the input gate decides how much of it is written"),
    Mistake("lstm-missing-b-hh", _lstm_forward_mistake(b_hh_used=False),
            "b_hh is missing: nn.LSTMCell adds both bias vectors to the pre-activations"),
    Mistake("h-from-c-prev", _lstm_forward_mistake(h_from_c_prev=True),
            "h is computed from the previous cell state; it shows the NEW cell state c"),
]


def _lstm_view(lstm_forward_: Callable) -> Callable:
    """The learner's (h, c, cache) seen as (h, c, cache.acts, cache.tanh_c)."""
    def lstm_cell_forward(*args):
        h, c, cache = lstm_forward_(*args)
        return h, c, cache.acts, cache.tanh_c

    return lstm_cell_forward


def _lstm_reference_view(*args):
    h, c, cache = lstm_cell_forward(*args)
    return h, c, cache.acts, cache.tanh_c


def _lstm_cases(seed: int) -> list[tuple]:
    rng = np.random.default_rng(seed)
    return [((rng.standard_normal((N, D)), rng.standard_normal((N, Hh)), rng.standard_normal((N, Hh)),
              *_random_weights(rng, 4, D, Hh)), text) for N, D, Hh, text in _SIZES]


def check_lstm_cell_forward(lstm_cell_forward_: Callable) -> CheckResult:
    """Exercise 11.6: ``lstm_cell_forward(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh)`` -> (h, c, LSTMCellCache)."""
    label, name = "11.6", "lstm_cell_forward"
    cases = [Case(args, description=text) for args, text in _lstm_cases(16)]
    result = learner_call(label, lstm_cell_forward_, *cases[0].args, name=name)
    if not isinstance(result, (tuple, list)) or len(result) != 3 or not isinstance(result[2], LSTMCellCache):
        fail(label, f"your {name} should return h, c and the LSTMCellCache (the given last line)",
             "keep the exercise cell's last line, `return h, c, LSTMCellCache(...)`", mistake="lstm-wrong-structure")
    check_function(
        label, _lstm_view(lstm_cell_forward_), _lstm_reference_view, cases, name=name,
        outputs=("h", "c", "cache.acts", "cache.tanh_c"), mistakes=_LSTM_FORWARD_MISTAKES,
        forbid=[lstm_cell_forward, _lstm.lstm_forward, _lstm._gate_activations],
        hint="one (N, 4 Hh) pre-activation, cut into four blocks of Hh columns; which nonlinearity for which block; "
             "then the cell state, then h.",
        success="this is nn.LSTMCell; acts (the four gates after their nonlinearities) is what the backward pass needs.",
    )
    accept(name, lstm_cell_forward_, label)  # the function itself, not the view the check compared
    return CheckResult(label, True, f"Exercise {label} passed.")


# ---------------------------------------------------------------- 11.8 the LSTM cell, backward

def _lstm_backward(dh, dc, cache, *, h_path=True, o_in_h_path=True, gate_dc_prev=True, dc_prev_incoming=False,
                   candidate_derivative="tanh", order="ifgo", forget_uses_h_prev=False):
    x, h_prev, c_prev, acts, tanh_c, W_ih, W_hh = cache
    Hh = h_prev.shape[1]
    i, f, g, o = (acts[:, k * Hh:(k + 1) * Hh] for k in range(4))
    through_h = dh * (1.0 - tanh_c * tanh_c) * (o if o_in_h_path else 1.0)
    dc_total = dc + through_h if h_path else dc
    da_i = dc_total * g * i * (1.0 - i)
    da_f = dc_total * (h_prev if forget_uses_h_prev else c_prev) * f * (1.0 - f)
    da_g = dc_total * i * ((1.0 - g * g) if candidate_derivative == "tanh" else g * (1.0 - g))
    da_o = dh * tanh_c * o * (1.0 - o)
    blocks = {"i": da_i, "f": da_f, "g": da_g, "o": da_o}
    da = np.concatenate([blocks[k] for k in order], axis=1)  # (N, 4 Hh)
    dc_prev = (dc if dc_prev_incoming else dc_total) * (f if gate_dc_prev else 1.0)
    db = da.sum(axis=0)
    return da @ W_ih, da @ W_hh, dc_prev, da.T @ x, da.T @ h_prev, db, db


def _lstm_backward_mistake(**how) -> Callable:
    return lambda dh, dc, cache: _lstm_backward(dh, dc, cache, **how)


_LSTM_BACKWARD_MISTAKES = [
    Mistake("dc-prev-from-incoming", _lstm_backward_mistake(dc_prev_incoming=True),
            "dc_prev is computed from the incoming dc alone; the path through h adds to the cell state's gradient "
            "first, and all of it flows to c_prev"),
    Mistake("dc-misses-h-path", _lstm_backward_mistake(h_path=False),
            "the cell state's gradient is only the dc that arrives from the next step: c also reaches the loss "
            "through h = o tanh(c), so dh adds to it"),
    Mistake("h-path-misses-o", _lstm_backward_mistake(o_in_h_path=False),
            "the gradient from h into c misses a factor: h = o * tanh(c), so dh/dc = o (1 - tanh(c)²)"),
    Mistake("dc-prev-not-gated", _lstm_backward_mistake(gate_dc_prev=False),
            "dc_prev is the cell state's gradient unchanged: c = f * c_prev + ..., so it passes through the forget gate"),
    Mistake("candidate-sigmoid-derivative", _lstm_backward_mistake(candidate_derivative="sigmoid"),
            "the candidate's derivative is the sigmoid's; g = tanh(a_g)"),
    Mistake("forget-uses-h-prev", _lstm_backward_mistake(forget_uses_h_prev=True),
            "the forget gate's gradient uses h_prev; the forget gate multiplies c_prev"),
    Mistake("backward-gate-order", _lstm_backward_mistake(order="ifog"),
            "the gate gradients are stacked in the order i, f, o, g; they must follow the rows of W_ih: i, f, g, o"),
]


def _lstm_backward_cases() -> list[Case]:
    rng = np.random.default_rng(18)
    cases = []
    for args, text in _lstm_cases(17):
        _, _, cache = lstm_cell_forward(*args)
        N, Hh = args[1].shape
        cases.append(Case((rng.standard_normal((N, Hh)), rng.standard_normal((N, Hh)), cache), description=text))
    return cases


def check_lstm_cell_backward(lstm_cell_backward_: Callable) -> CheckResult:
    """Exercise 11.8: ``lstm_cell_backward(dh, dc, cache)`` -> (dx_t, dh_prev, dc_prev, dW_ih, dW_hh, db_ih, db_hh)."""
    return check_function(
        "11.8", lstm_cell_backward_, lstm_cell_backward, _lstm_backward_cases(), name="lstm_cell_backward",
        outputs=("dx_t", "dh_prev", "dc_prev", "dW_ih", "dW_hh", "db_ih", "db_hh"), mistakes=_LSTM_BACKWARD_MISTAKES,
        forbid=[_lstm._step_backward, _lstm.lstm_backward],
        hint="follow the derivation: first the cell state's total gradient, then the four gate blocks (in W_ih's row "
             "order), then the matrix products, as in the RNN cell.",
        success="with exercise 11.6 you have written an LSTM; the character model below trains on your two functions.",
    )


# ---------------------------------------------------------------- 11.9 the GRU cell

def reference_gru_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """h' = (1 - z) n + z h_prev, as nn.GRUCell."""
    return gru_cell_forward(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)[0]


def _gru_variant(x, h, W_ih, W_hh, b_ih, b_hh, *, order=(0, 1, 2), reset="after", update="keep", gates=_sigmoid,
         candidate=np.tanh):
    Hh = h.shape[1]
    ax, ah = x @ W_ih.T + b_ih, h @ W_hh.T + b_hh
    block = [slice(k * Hh, (k + 1) * Hh) for k in order]  # r, z, n
    r = gates(ax[:, block[0]] + ah[:, block[0]])
    z = gates(ax[:, block[1]] + ah[:, block[1]])
    W_hn, b_hn = W_hh[block[2]], b_hh[block[2]]
    if reset == "after":
        hidden_part = r * (h @ W_hn.T + b_hn)
    elif reset == "before":
        hidden_part = (r * h) @ W_hn.T + b_hn
    else:  # the bias outside the reset
        hidden_part = r * (h @ W_hn.T) + b_hn
    n = candidate(ax[:, block[2]] + hidden_part)
    return (1.0 - z) * n + z * h if update == "keep" else z * n + (1.0 - z) * h


def _gru_mistake(**how) -> Callable:
    return lambda *args: _gru_variant(*args, **how)


_GRU_MISTAKES = [
    Mistake("reset-before-matrix", _gru_mistake(reset="before"),
            "r multiplies h_prev before the matrix (the 2014 paper's form); nn.GRUCell applies r after it, to "
            "h_prev W_hn^T + b_hn"),
    Mistake("reset-misses-bias", _gru_mistake(reset="bias-outside"),
            "b_hn is added outside the reset gate; in nn.GRUCell r multiplies h_prev W_hn^T + b_hn, bias included"),
    Mistake("update-swapped", _gru_mistake(update="swapped"),
            "z and 1 - z are swapped: in PyTorch z is the share of the OLD state that is kept"),
    Mistake("gru-order-zrn", _gru_mistake(order=(1, 0, 2)),
            "the blocks are read as z, r, n; PyTorch's order is r, z, n"),
    Mistake("gru-tanh-gates", _gru_mistake(gates=np.tanh),
            "the gates r and z use tanh; gates are shares between 0 and 1: the sigmoid"),
    Mistake("gru-sigmoid-candidate", _gru_mistake(candidate=_sigmoid),
            "the candidate n uses the sigmoid; it is a new state, in (-1, 1): tanh"),
]


def check_gru_cell(gru_cell: Callable) -> CheckResult:
    """Exercise 11.9: ``gru_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)`` -> h (N, Hh), as nn.GRUCell."""
    rng = np.random.default_rng(19)
    cases = [Case((rng.standard_normal((N, D)), rng.standard_normal((N, Hh)), *_random_weights(rng, 3, D, Hh)),
                  description=text) for N, D, Hh, text in _SIZES]
    return check_function(
        "11.9", gru_cell, reference_gru_cell, cases, name="gru_cell", mistakes=_GRU_MISTAKES,
        forbid=[gru_cell_forward, _gru.gru_forward, _gru._step_forward],
        hint="compute the input side and the hidden side separately, (N, 3 Hh) each: the reset gate touches only "
             "the hidden side of the candidate block.",
        success="this is nn.GRUCell: three blocks instead of the LSTM's four, and no cell state.",
    )


# ---------------------------------------------------------------- 11.11 LSTM parameter count

def reference_lstm_parameter_count(input_size, hidden_size):
    """4 Hh (D + Hh + 2): four gate blocks, each with W_ih (Hh, D), W_hh (Hh, Hh) and two biases."""
    return 4 * hidden_size * (input_size + hidden_size + 2)


_COUNT_MISTAKES = [
    Mistake("one-bias", lambda D, H: 4 * H * (D + H + 1),
            "one bias per gate block is counted; nn.LSTM has TWO bias vectors (bias_ih_l0 and bias_hh_l0)"),
    Mistake("no-biases", lambda D, H: 4 * H * (D + H), "the biases are missing: bias_ih_l0 and bias_hh_l0"),
    Mistake("three-blocks", lambda D, H: 3 * H * (D + H + 2),
            "three gate blocks is a GRU (r, z, n); an LSTM has four: i, f, g, o"),
    Mistake("one-block", lambda D, H: H * (D + H + 2),
            "that counts one block (a plain RNN); the LSTM has four gate blocks, each with its own weights"),
    Mistake("no-recurrent-weights", lambda D, H: 4 * H * (D + 2), "the recurrent weights (weight_hh_l0) are missing"),
    Mistake("d-and-hh-swapped", lambda D, H: 4 * D * (D + H + 2),
            "D and Hh are swapped: there is one row per gate unit, each with D input and Hh recurrent weights"),
]


def check_lstm_parameter_count(lstm_parameter_count: Callable) -> CheckResult:
    """Exercise 11.11: ``lstm_parameter_count(input_size, hidden_size)``, as nn.LSTM counts."""
    cases = [Case((D, H), description=f"input_size={D}, hidden_size={H}") for D, H in ((10, 20), (300, 128), (1, 1))]
    return check_function(
        "11.11", lstm_parameter_count, reference_lstm_parameter_count, cases, name="lstm_parameter_count",
        mistakes=_COUNT_MISTAKES,
        hint="Count weight_ih_l0, weight_hh_l0, bias_ih_l0 and bias_hh_l0 from their shapes.",
        success="sum(p.numel() for p in nn.LSTM(D, Hh).parameters()) agrees (the next cell counts them).",
    )


REFERENCES: dict[str, tuple[Callable[..., Any], ...]] = {
    "11.1": (rnn_cell_forward,),
    "11.2": (rnn_cell_backward,),
    "11.3": (rnn_backward, clip_grad_norm),
    "11.6": (lstm_cell_forward,),
    "11.8": (lstm_cell_backward,),
    "11.9": (gru_cell_forward,),
}
