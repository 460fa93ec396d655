"""Checks for chapter 11's exercises (recurrent networks).

- 11.1 implement one step of an Elman RNN cell (nn.RNNCell)          -> :func:`check_rnn_cell`
- 11.2 derive the number of parameters of an LSTM layer (nn.LSTM)     -> :func:`check_lstm_parameter_count`
- 11.3 derive the gradient factor dh_T/dh_0 of a scalar tanh RNN      -> :func:`check_gradient_factor`
- 11.4 predict which recurrent layers' gradients vanish or explode    -> :func:`check_gradient_prediction`
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.exercises.core import not_done_message
from dlcore.exercises.core import Case, CheckResult, fail, passed, mistake_diagnosis
from dlcore.exercises.functions import check_array_function
from dlcore.scratch.gradient_flow import recurrent_weights, state_gradient_norms
from dlcore.scratch.rnn import rnn_cell_forward

__all__ = ["check_rnn_cell", "check_lstm_parameter_count", "check_gradient_factor", "check_gradient_prediction",
           "reference_rnn_cell", "reference_lstm_parameter_count", "reference_gradient_factor",
           "GRADIENT_CONFIGS", "measure_gradient_regimes"]





# ---------------------------------------------------------------- 11.1 the RNN cell

def reference_rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """h = tanh(x_t W_ih^T + b_ih + h_prev W_hh^T + b_hh)."""
    return rnn_cell_forward(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)[0]


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


_RNN_MISTAKES = [
    (lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi + bi + h @ Wh + bh),
     "the weights are used untransposed: PyTorch stores W_ih as (Hh, D) and W_hh as (Hh, Hh), rows = outputs, "
     "so the step is x_t W_ih^T + h_prev W_hh^T"),
    (lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + h @ Wh + bh),
     "W_hh is used untransposed: h_prev W_hh^T, because row j of W_hh holds the weights INTO hidden unit j"),
    (lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + h @ Wh.T),
     "b_hh is missing: nn.RNNCell has two bias vectors, b_ih and b_hh, and adds both"),
    (lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + h @ Wh.T + bh),
     "b_ih is missing: nn.RNNCell has two bias vectors, b_ih and b_hh, and adds both"),
    (lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + bh),
     "h_prev is ignored: without h_prev W_hh^T the cell has no memory of earlier steps"),
    (lambda x, h, Wi, Wh, bi, bh: _sigmoid(x @ Wi.T + bi + h @ Wh.T + bh),
     "you applied the sigmoid; the Elman cell of nn.RNN uses tanh (nonlinearity='tanh'), output in (-1, 1)"),
    (lambda x, h, Wi, Wh, bi, bh: np.maximum(0.0, x @ Wi.T + bi + h @ Wh.T + bh),
     "you applied ReLU; the default Elman cell uses tanh"),
    (lambda x, h, Wi, Wh, bi, bh: x @ Wi.T + bi + h @ Wh.T + bh,
     "you returned the pre-activation: apply tanh to it"),
    (lambda x, h, Wi, Wh, bi, bh: h + np.tanh(x @ Wi.T + bi + h @ Wh.T + bh),
     "the new state is tanh(...), not h_prev + tanh(...): the Elman cell REPLACES its state at every step"),
]


def _rnn_cases() -> list[Case]:
    rng = np.random.default_rng(11)
    cases = []
    for N, D, Hh, text in ((2, 3, 3, "N=2, D=Hh=3 (square weights)"), (1, 2, 4, "a batch of one, D=2, Hh=4"),
                           (5, 6, 3, "N=5, D=6, Hh=3")):
        args = (rng.standard_normal((N, D)), rng.standard_normal((N, Hh)), rng.standard_normal((Hh, D)) * 0.5,
                rng.standard_normal((Hh, Hh)) * 0.5, rng.standard_normal(Hh) * 0.5, rng.standard_normal(Hh) * 0.5)
        cases.append(Case(args, description=text))
    return cases


def check_rnn_cell(rnn_cell: Callable) -> CheckResult:
    """Exercise 11.1: ``rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)`` -> h (N, Hh), as nn.RNNCell.

    Recognises: untransposed weights (either), a missing bias (either), no recurrence, sigmoid,
    ReLU or no nonlinearity, and a residual h_prev + tanh(...).
    """
    return check_array_function(
        "11.1", rnn_cell, reference_rnn_cell, _rnn_cases(), diagnoses=[mistake_diagnosis(_RNN_MISTAKES)],
        hint="h = tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh); the weights are (outputs, inputs).",
        success="this is nn.RNNCell; rnn_forward in dlcore.scratch.rnn repeats it over time with the same weights.",
    )


# ---------------------------------------------------------------- 11.2 LSTM parameter count

def reference_lstm_parameter_count(input_size, hidden_size):
    """4 Hh (D + Hh + 2): four gate blocks, each with W_ih (Hh, D), W_hh (Hh, Hh) and two biases."""
    return 4 * hidden_size * (input_size + hidden_size + 2)


_COUNT_MISTAKES = [
    (lambda D, H: 4 * H * (D + H + 1), "one bias per gate block is counted; nn.LSTM has TWO bias vectors "
                                       "(bias_ih_l0 and bias_hh_l0, 4 Hh each)"),
    (lambda D, H: 4 * H * (D + H), "the biases are missing: bias_ih_l0 and bias_hh_l0 have 4 Hh entries each"),
    (lambda D, H: 3 * H * (D + H + 2), "three gate blocks is a GRU (r, z, n); an LSTM has four: i, f, g, o"),
    (lambda D, H: H * (D + H + 2), "that counts one block (a plain RNN); the LSTM has four gate blocks, i, f, g, o, "
                                   "each with its own weights"),
    (lambda D, H: 4 * H * (D + 2), "the recurrent weights are missing: weight_hh_l0 is (4 Hh, Hh)"),
    (lambda D, H: 4 * D * (D + H + 2), "D and Hh are swapped: there are 4 Hh rows (one per gate unit), each with "
                                       "D input weights and Hh recurrent weights"),
]


def check_lstm_parameter_count(lstm_parameter_count: Callable) -> CheckResult:
    """Exercise 11.2: ``lstm_parameter_count(input_size, hidden_size)`` = 4 Hh (D + Hh + 2), as nn.LSTM counts.

    Recognises: one bias instead of two, no biases, three blocks (GRU) or one (RNN), no
    recurrent weights, D and Hh swapped.
    """
    cases = [Case((D, H), description=f"input_size={D}, hidden_size={H}") for D, H in ((10, 20), (300, 128), (1, 1))]
    return check_array_function(
        "11.2", lstm_parameter_count, reference_lstm_parameter_count, cases,
        diagnoses=[mistake_diagnosis(_COUNT_MISTAKES)],
        hint="Count weight_ih_l0 (4 Hh, D), weight_hh_l0 (4 Hh, Hh), bias_ih_l0 and bias_hh_l0 (4 Hh each).",
        success="e.g. nn.LSTM(10, 20) has 4·20·(10 + 20 + 2) = 2,560 parameters: sum(p.numel() for p in "
                "lstm.parameters()) agrees.",
    )


# ---------------------------------------------------------------- 11.3 gradient factor

def reference_gradient_factor(w, hidden):
    """dh_T/dh_0 for h_t = tanh(w h_{t-1} + u x_t + b): prod_{t=1}^{T} w (1 - h_t^2); hidden = (h_0, ..., h_T)."""
    hidden = np.asarray(hidden, dtype=np.float64)
    return np.prod(w * (1.0 - hidden[1:] ** 2))


_FACTOR_MISTAKES = [
    (lambda w, h: np.prod(w * (1.0 - np.asarray(h)[:-1] ** 2)),
     "off by one step: the factor of step t uses h_t, the state that step PRODUCED (t = 1..T), not h_0..h_(T-1)"),
    (lambda w, h: w ** (len(h) - 1), "the tanh derivative is missing: each step contributes w (1 - h_t²), not w"),
    (lambda w, h: np.prod(1.0 - np.asarray(h)[1:] ** 2), "w is missing: each step contributes w (1 - h_t²)"),
    (lambda w, h: np.sum(w * (1.0 - np.asarray(h)[1:] ** 2)), "the chain rule MULTIPLIES the factors of the steps; "
                                                              "you added them"),
    (lambda w, h: np.prod(w * (1.0 - np.tanh(np.asarray(h)[1:]) ** 2)),
     "h_t is already tanh(a_t): its derivative is 1 - h_t², not 1 - tanh(h_t)²"),
    (lambda w, h: np.prod(w * (1.0 - np.asarray(h)[1:])), "tanh'(a) = 1 - tanh(a)² = 1 - h_t²: the square is missing"),
    (lambda w, h: np.prod(w * np.asarray(h)[1:] * (1.0 - np.asarray(h)[1:])),
     "h (1 - h) is the SIGMOID's derivative; the tanh's is 1 - h²"),
]


def check_gradient_factor(gradient_factor: Callable) -> CheckResult:
    """Exercise 11.3: ``gradient_factor(w, hidden)`` = dh_T/dh_0 = prod_{t=1}^{T} w (1 - h_t²).

    Recognises: the off-by-one product over h_0..h_(T-1), w^T without the derivative, the
    derivative without w, a sum instead of a product, tanh applied twice, 1 - h, and h (1 - h).
    """
    rng = np.random.default_rng(3)
    cases = [Case((1.5, np.tanh(rng.standard_normal(6))), description="w = 1.5, T = 5"),
             Case((0.9, np.concatenate([[0.0], np.tanh(rng.standard_normal(10))])), description="w = 0.9, T = 10"),
             Case((-2.0, np.array([0.3, -0.2])), description="w = -2, T = 1")]
    return check_array_function(
        "11.3", gradient_factor, reference_gradient_factor, cases, diagnoses=[mistake_diagnosis(_FACTOR_MISTAKES)],
        hint="Differentiate h_t = tanh(w h_(t-1) + ...) with respect to h_(t-1), then chain the T steps.",
        success="with |w (1 - h_t²)| < 1 at every step the factor shrinks geometrically: the vanishing gradient.",
    )


# ---------------------------------------------------------------- 11.4 predict the regimes

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
    """Exercise 11.4: a tuple of five words ('vanishing', 'stable', 'exploding') for GRADIENT_CONFIGS.

    The check measures ||dL/dh_0|| / ||dL/dh_50|| of each layer (16 units, 4 random sequences)
    and explains each wrong entry.
    """
    label = "11.4"
    if prediction is Ellipsis:
        raise not_done_message("Exercise 11.4 is not done yet: return your five predictions.")
    if (not isinstance(prediction, (tuple, list)) or len(prediction) != len(GRADIENT_CONFIGS)
            or not all(isinstance(p, str) and p.strip().lower() in REGIMES for p in prediction)):
        fail(label, f"your prediction should be a tuple of {len(GRADIENT_CONFIGS)} words from {REGIMES}, got "
                    f"{prediction!r}", "e.g. return ('vanishing', 'stable', 'stable', 'stable', 'exploding')")
    measured = measure_gradient_regimes()
    names = [f"{kind.upper()} (scale {scale:g}, gate bias {bias:g})" for kind, scale, bias in GRADIENT_CONFIGS]
    table = "; ".join(f"{n}: ratio {r:.1e} ({regime})" for n, (regime, r) in zip(names, measured))
    wrong = [f"{n} is {regime}, not {p.strip().lower()}: {_REASONS[k]}"
             for k, (n, p, (regime, _)) in enumerate(zip(names, prediction, measured)) if p.strip().lower() != regime]
    if wrong:
        fail(label, "; ".join(wrong) + f". Measured: {table}.",
             "Through the hidden path the gradient is multiplied by W_hh^T diag(1 - h_t²) per step; through an LSTM's "
             "cell state by f_t, through a GRU's direct path by z_t.")
    return passed(label, f"measured: {table}.")
