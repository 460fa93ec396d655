"""Chapter 11 checks: each accepts two different right answers, rejects typical wrong ones with their diagnosis
(by the mistake's stable id), reports an untouched stub as not done, and fails an answer that calls dlcore's own
version of what the exercise builds."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.exercises import ch11
from dlcore.exercises.core import ExerciseFailed
from dlcore.exercises.learner import accepted
from dlcore.scratch.gru import gru_cell_forward
from dlcore.scratch.lstm import LSTMCellCache, lstm_cell_backward, lstm_cell_forward
from dlcore.scratch.rnn import rnn_backward, rnn_cell_backward, rnn_cell_forward
from tests.helpers import not_done


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _fails_with(check, answer, mistake, *more):
    with pytest.raises(ExerciseFailed) as caught:
        check(answer, *more)
    assert caught.value.mistake == mistake, caught.value
    return str(caught.value)


# ---------------------------------------------------------------- 11.1

def test_rnn_cell_accepts_two_right_answers():
    assert ch11.check_rnn_cell(lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + h @ Wh.T + bh)).passed
    stacked = lambda x, h, Wi, Wh, bi, bh: np.tanh(np.hstack([x, h]) @ np.hstack([Wi, Wh]).T + (bi + bh))
    assert ch11.check_rnn_cell(stacked).passed
    assert accepted("rnn_cell") is stacked


@pytest.mark.parametrize("mistake, answer", [
    ("weights-untransposed", lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi + bi + h @ Wh + bh)),
    ("whh-untransposed", lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + h @ Wh + bh)),
    ("missing-b-hh", lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + h @ Wh.T)),
    ("no-recurrence", lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi + bh)),
    ("sigmoid-not-tanh", lambda x, h, Wi, Wh, bi, bh: _sigmoid(x @ Wi.T + bi + h @ Wh.T + bh)),
    ("pre-activation", lambda x, h, Wi, Wh, bi, bh: x @ Wi.T + bi + h @ Wh.T + bh),
    ("residual-state", lambda x, h, Wi, Wh, bi, bh: h + np.tanh(x @ Wi.T + bi + h @ Wh.T + bh)),
])
def test_rnn_cell_diagnoses(mistake, answer):
    _fails_with(ch11.check_rnn_cell, answer, mistake)
    assert accepted("rnn_cell") is None


def test_rnn_cell_not_done_and_delegation():
    with pytest.raises(NotImplementedError, match="Exercise 11.1 is not done yet"):
        ch11.check_rnn_cell(not_done)
    _fails_with(ch11.check_rnn_cell, lambda *args: rnn_cell_forward(*args)[0], "delegates-to-reference")


# ---------------------------------------------------------------- 11.2

def _step_backward(dh, cache):
    x, h_prev, h, W_ih, W_hh = cache
    da = dh * (1 - h ** 2)
    db = da.sum(axis=0)
    return da @ W_ih, da @ W_hh, da.T @ x, da.T @ h_prev, db, db


def _step_backward_einsum(dh, cache):
    da = dh * (1 - cache.h) * (1 + cache.h)
    db = np.einsum("nh->h", da)
    return (np.einsum("nh,hd->nd", da, cache.W_ih), np.einsum("nh,hk->nk", da, cache.W_hh),
            np.einsum("nh,nd->hd", da, cache.x), np.einsum("nh,nk->hk", da, cache.h_prev), db, db.copy())


def test_rnn_cell_backward_accepts_two_right_answers():
    assert ch11.check_rnn_cell_backward(_step_backward).passed
    assert ch11.check_rnn_cell_backward(_step_backward_einsum).passed


def _wrong_step(**how):
    def backward(dh, cache):
        x, h_prev, h, W_ih, W_hh = cache
        da = dh * how.get("derivative", lambda h, hp: 1 - h ** 2)(h, h_prev)
        db = da.mean(axis=0) if how.get("mean") else da.sum(axis=0)
        dW_ih, dW_hh = (x.T @ da, h_prev.T @ da) if how.get("dW_T") else (da.T @ x, da.T @ h_prev)
        return da @ W_ih, da @ (W_hh.T if how.get("whh_T") else W_hh), dW_ih, dW_hh, db, db
    return backward


@pytest.mark.parametrize("mistake, answer", [
    ("no-tanh-derivative", _wrong_step(derivative=lambda h, hp: 1.0)),
    ("tanh-derivative-without-square", _wrong_step(derivative=lambda h, hp: 1 - h)),
    ("derivative-at-h-prev", _wrong_step(derivative=lambda h, hp: 1 - hp ** 2)),
    ("whh-transposed-backward", _wrong_step(whh_T=True)),
    ("weight-gradients-transposed", _wrong_step(dW_T=True)),
    ("bias-gradient-mean", _wrong_step(mean=True)),
])
def test_rnn_cell_backward_diagnoses(mistake, answer):
    _fails_with(ch11.check_rnn_cell_backward, answer, mistake)


def test_rnn_cell_backward_not_done_and_delegation():
    with pytest.raises(NotImplementedError, match="Exercise 11.2 is not done yet"):
        ch11.check_rnn_cell_backward(not_done)
    _fails_with(ch11.check_rnn_cell_backward, lambda dh, cache: rnn_cell_backward(dh, cache), "delegates-to-reference")


# ---------------------------------------------------------------- 11.3

def _bptt_with_steps(dout, cache):
    x, h0, out, W_ih, W_hh = cache
    grads = [np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])]
    dx, dh = np.zeros_like(x), np.zeros_like(h0)
    for t in reversed(range(x.shape[0])):
        h_prev = h0 if t == 0 else out[t - 1]
        dx[t], dh, *step = _step_backward(dout[t] + dh, (x[t], h_prev, out[t], W_ih, W_hh))
        grads = [g + s for g, s in zip(grads, step[:3])]
    return dx, dh, grads[0], grads[1], grads[2], grads[2]


def _bptt_vectorised(dout, cache):
    x, h0, out, W_ih, W_hh = cache
    T, N, D = x.shape
    da, dh = np.zeros_like(out), np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        da[t] = (dout[t] + dh) * (1 - out[t] ** 2)
        dh = da[t] @ W_hh
    starts = np.concatenate([h0[None], out[:-1]])
    rows = da.reshape(T * N, -1)
    db = rows.sum(axis=0)
    return ((rows @ W_ih).reshape(T, N, D), dh, rows.T @ x.reshape(T * N, D),
            rows.T @ starts.reshape(T * N, -1), db, db)


def _clip(grads, max_norm):
    total = np.sqrt(sum((g ** 2).sum() for g in grads))
    return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads], total  # PyTorch's form, with its 1e-6


def _clip_concatenated(grads, max_norm):
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads]))
    return ([g * (max_norm / total) for g in grads] if total > max_norm else [g.copy() for g in grads]), total


def test_bptt_accepts_two_right_answers():
    assert ch11.check_bptt(_bptt_with_steps, _clip).passed
    assert ch11.check_bptt(_bptt_vectorised, _clip_concatenated).passed
    assert accepted("rnn_backward") is _bptt_vectorised and accepted("clip_gradients") is _clip_concatenated


def _wrong_bptt(**how):
    def backward(dout, cache):
        x, h0, out, W_ih, W_hh = cache
        states = np.concatenate([h0[None], out])
        dx, dh = np.zeros_like(x), np.zeros_like(h0)
        grads = [np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])]
        for t in range(x.shape[0] - 1, how.get("stop", -1), -1):
            h = states[t] if how.get("shift") else states[t + 1]
            da = (dout[t] + (0 if how.get("no_carry") else dh)) * (1 - h ** 2)
            step = [da.T @ x[t], da.T @ states[t + 1 if how.get("h_t") else t], da.sum(axis=0)]
            grads = step if how.get("overwrite") else [g + s for g, s in zip(grads, step)]
            dx[t] = da @ W_ih
            dh = da @ (W_hh.T if how.get("whh_T") else W_hh)
        return dx, dh, grads[0], grads[1], grads[2], grads[2]
    return backward


@pytest.mark.parametrize("mistake, answer", [
    ("no-carry", _wrong_bptt(no_carry=True)),
    ("loop-stops-early", _wrong_bptt(stop=0)),
    ("weights-overwritten", _wrong_bptt(overwrite=True)),
    ("dwhh-uses-h-t", _wrong_bptt(h_t=True)),
    ("derivative-off-by-one", _wrong_bptt(shift=True)),
    ("whh-transposed-bptt", _wrong_bptt(whh_T=True)),
])
def test_bptt_diagnoses(mistake, answer):
    _fails_with(ch11.check_bptt, answer, mistake, _clip)
    assert accepted("rnn_backward") is None


def _norm(grads):
    return np.sqrt(sum((g ** 2).sum() for g in grads))


@pytest.mark.parametrize("mistake, answer", [
    ("clips-each-tensor", lambda grads, m: ([g * min(1, m / np.linalg.norm(g)) for g in grads], _norm(grads))),
    ("always-rescales", lambda grads, m: ([g * m / _norm(grads) for g in grads], _norm(grads))),
    ("clips-values", lambda grads, m: ([np.clip(g, -m, m) for g in grads], _norm(grads))),
    ("sum-of-norms", lambda grads, m: ([g * min(1, m / sum(np.linalg.norm(v) for v in grads)) for g in grads],
                                       sum(np.linalg.norm(v) for v in grads))),
    ("squared-norm", lambda grads, m: ([g * min(1, m / _norm(grads) ** 2) for g in grads], _norm(grads) ** 2)),
    ("norm-after-clipping", lambda grads, m: (_clip(grads, m)[0], _norm(_clip(grads, m)[0]))),
])
def test_clip_diagnoses(mistake, answer):
    with pytest.raises(ExerciseFailed) as caught:
        ch11.check_bptt(_bptt_vectorised, answer)
    assert caught.value.mistake == mistake, caught.value
    assert accepted("clip_gradients") is None


def test_clip_in_place_and_wrong_structure():
    def in_place(grads, max_norm):
        total = _norm(grads)
        for g in grads:
            g *= min(1.0, max_norm / total)
        return grads, total
    with pytest.raises(ExerciseFailed, match="changed its input array in place"):
        ch11.check_bptt(_bptt_vectorised, in_place)
    with pytest.raises(ExerciseFailed, match="should return two things") as caught:
        ch11.check_bptt(_bptt_vectorised, lambda grads, max_norm: [g for g in grads])
    assert caught.value.mistake == "clip-wrong-structure"


def test_bptt_not_done_and_delegation():
    with pytest.raises(NotImplementedError, match="Exercise 11.3 is not done yet"):
        ch11.check_bptt(not_done, _clip)
    with pytest.raises(NotImplementedError, match="Exercise 11.3 is not done yet"):
        ch11.check_bptt(_bptt_vectorised, not_done)
    _fails_with(ch11.check_bptt, lambda dout, cache: rnn_backward(dout, cache), "delegates-to-reference", _clip)
    # calling dlcore's one-step backward (exercise 11.2's reference) inside the loop is delegating too
    def with_dlcore_steps(dout, cache):
        x, h0, out, W_ih, W_hh = cache
        from dlcore.scratch.rnn import RNNCellCache
        return rnn_cell_backward(dout[0], RNNCellCache(x[0], h0, out[0], W_ih, W_hh))
    _fails_with(ch11.check_bptt, with_dlcore_steps, "delegates-to-reference", _clip)


# ---------------------------------------------------------------- 11.4 and 11.5 (kept from before, with ids)

def test_gradient_factor():
    assert ch11.check_gradient_factor(lambda w, h: np.prod([w * (1 - v * v) for v in h[1:]])).passed
    assert ch11.check_gradient_factor(lambda w, h: w ** (len(h) - 1) * np.prod(1 - np.asarray(h)[1:] ** 2)).passed
    wrong = {
        "factor-off-by-one": lambda w, h: np.prod(w * (1 - h[:-1] ** 2)),
        "factor-no-derivative": lambda w, h: w ** (len(h) - 1),
        "factor-no-w": lambda w, h: np.prod(1 - h[1:] ** 2),
        "factor-sum": lambda w, h: np.sum(w * (1 - h[1:] ** 2)),
        "factor-tanh-twice": lambda w, h: np.prod(w * (1 - np.tanh(h[1:]) ** 2)),
        "factor-no-square": lambda w, h: np.prod(w * (1 - h[1:])),
        "factor-sigmoid-derivative": lambda w, h: np.prod(w * h[1:] * (1 - h[1:])),
    }
    for mistake, function in wrong.items():
        _fails_with(ch11.check_gradient_factor, function, mistake)
    with pytest.raises(NotImplementedError, match="Exercise 11.4 is not done yet"):
        ch11.check_gradient_factor(not_done)


def test_gradient_prediction():
    right = ("vanishing", "exploding", "vanishing", "stable", "stable")
    assert [regime for regime, _ in ch11.measure_gradient_regimes()] == list(right)
    assert ch11.check_gradient_prediction(right).passed
    assert ch11.check_gradient_prediction([" Vanishing", "EXPLODING", "vanishing", "stable", "stable"]).passed
    message = _fails_with(ch11.check_gradient_prediction, ("vanishing", "exploding", "stable", "stable", "stable"),
                          "regime-c-stable")
    assert "LSTM (scale 1, gate bias 0): you said stable, measured vanishing (with zero gate" in message
    message = _fails_with(ch11.check_gradient_prediction,
                          ("vanishing", "vanishing", "vanishing", "stable", "stable"), "regime-b-vanishing")
    assert "RNN (scale 4, gate bias 0): you said vanishing, measured exploding" in message
    message = _fails_with(ch11.check_gradient_prediction, ("vanishing", "stable", "vanishing", "stable", "vanishing"),
                          "regime-b-stable")
    assert "GRU (scale 1, gate bias 5): you said vanishing" in message  # every wrong entry is explained
    _fails_with(ch11.check_gradient_prediction, ("vanishing", "stable", "vanishing", "stable", "shrinking"),
                "unknown-word")
    _fails_with(ch11.check_gradient_prediction, ("vanishing",), "prediction-wrong-form")
    with pytest.raises(NotImplementedError, match="Exercise 11.5 is not done yet"):
        ch11.check_gradient_prediction(...)


# ---------------------------------------------------------------- 11.6

def _lstm_forward(x, h, c, W_ih, W_hh, b_ih, b_hh):
    Hh = h.shape[1]
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, o = (_sigmoid(a[:, k * Hh:(k + 1) * Hh]) for k in (0, 1, 3))
    g = np.tanh(a[:, 2 * Hh:3 * Hh])
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new, LSTMCellCache(x, h, c, np.hstack([i, f, g, o]), np.tanh(c_new), W_ih, W_hh)


def _lstm_forward_split(x, h, c, W_ih, W_hh, b_ih, b_hh):
    a_i, a_f, a_g, a_o = np.split(np.hstack([x, h]) @ np.hstack([W_ih, W_hh]).T + b_ih + b_hh, 4, axis=1)
    i, f, o = (0.5 * (1 + np.tanh(v / 2)) for v in (a_i, a_f, a_o))
    g = np.tanh(a_g)
    c_new = f * c + i * g
    tanh_c = np.tanh(c_new)
    return o * tanh_c, c_new, LSTMCellCache(x, h, c, np.hstack([i, f, g, o]), tanh_c, W_ih, W_hh)


def test_lstm_forward_accepts_two_right_answers():
    assert ch11.check_lstm_cell_forward(_lstm_forward).passed
    assert ch11.check_lstm_cell_forward(_lstm_forward_split).passed
    assert accepted("lstm_cell_forward") is _lstm_forward_split


def _wrong_lstm(order=(0, 1, 2, 3), gate=_sigmoid, candidate=np.tanh, show=lambda c, c_prev: np.tanh(c),
                write=lambda i, g: i * g, b_hh_used=True, acts_before=False):
    def forward(x, h, c, W_ih, W_hh, b_ih, b_hh):
        Hh = h.shape[1]
        a = x @ W_ih.T + b_ih + h @ W_hh.T + (b_hh if b_hh_used else 0)
        blocks = [a[:, k * Hh:(k + 1) * Hh] for k in order]
        i, f, g, o = gate(blocks[0]), gate(blocks[1]), candidate(blocks[2]), gate(blocks[3])
        c_new = f * c + write(i, g)
        acts = a if acts_before else np.hstack([i, f, g, o])
        return o * show(c_new, c), c_new, LSTMCellCache(x, h, c, acts, np.tanh(c_new), W_ih, W_hh)
    return forward


@pytest.mark.parametrize("mistake, answer", [
    ("gate-order-ifog", _wrong_lstm(order=(0, 1, 3, 2))),
    ("gate-order-igfo", _wrong_lstm(order=(0, 2, 1, 3))),
    ("tanh-gates", _wrong_lstm(gate=np.tanh)),
    ("sigmoid-candidate", _wrong_lstm(candidate=_sigmoid)),
    ("h-without-tanh", _wrong_lstm(show=lambda c, c_prev: c)),
    ("no-input-gate", _wrong_lstm(write=lambda i, g: g)),
    ("lstm-missing-b-hh", _wrong_lstm(b_hh_used=False)),
    ("h-from-c-prev", _wrong_lstm(show=lambda c, c_prev: np.tanh(c_prev))),
])
def test_lstm_forward_diagnoses(mistake, answer):
    _fails_with(ch11.check_lstm_cell_forward, answer, mistake)
    assert accepted("lstm_cell_forward") is None


def test_lstm_forward_wrong_cache_is_located():
    message = str(pytest.raises(ExerciseFailed, ch11.check_lstm_cell_forward, _wrong_lstm(acts_before=True)).value)
    assert "cache.acts" in message
    with pytest.raises(ExerciseFailed, match="should return h, c and the LSTMCellCache"):
        ch11.check_lstm_cell_forward(lambda *args: (1, 2))


def test_lstm_forward_not_done_and_delegation():
    with pytest.raises(NotImplementedError, match="Exercise 11.6 is not done yet"):
        ch11.check_lstm_cell_forward(not_done)
    _fails_with(ch11.check_lstm_cell_forward, lambda *args: lstm_cell_forward(*args), "delegates-to-reference")


# ---------------------------------------------------------------- 11.8

def _lstm_backward(dh, dc, cache):
    x, h_prev, c_prev, acts, tanh_c, W_ih, W_hh = cache
    i, f, g, o = np.split(acts, 4, axis=1)
    dc = dc + dh * o * (1 - tanh_c ** 2)
    da = np.hstack([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2), dh * tanh_c * o * (1 - o)])
    db = da.sum(axis=0)
    return da @ W_ih, da @ W_hh, dc * f, da.T @ x, da.T @ h_prev, db, db


def _lstm_backward_blocks(dh, dc, cache):
    Hh = cache.h_prev.shape[1]
    da = np.empty_like(cache.acts)
    gates = [cache.acts[:, k * Hh:(k + 1) * Hh] for k in range(4)]
    i, f, g, o = gates
    total = dc + dh * o * (1 - cache.tanh_c) * (1 + cache.tanh_c)
    local = [total * g, total * cache.c_prev, total * i, dh * cache.tanh_c]
    slopes = [i * (1 - i), f * (1 - f), 1 - g * g, o * (1 - o)]
    for k in range(4):
        da[:, k * Hh:(k + 1) * Hh] = local[k] * slopes[k]
    db = np.einsum("nk->k", da)
    return (np.einsum("nk,kd->nd", da, cache.W_ih), np.einsum("nk,kh->nh", da, cache.W_hh), total * f,
            np.einsum("nk,nd->kd", da, cache.x), np.einsum("nk,nh->kh", da, cache.h_prev), db, db.copy())


def test_lstm_backward_accepts_two_right_answers():
    assert ch11.check_lstm_cell_backward(_lstm_backward).passed
    assert ch11.check_lstm_cell_backward(_lstm_backward_blocks).passed


def _wrong_lstm_backward(h_path=1, o_factor=True, gate_dc_prev=True, incoming=False, sigmoid_g=False, order="ifgo",
                         forget_input="c_prev"):
    def backward(dh, dc, cache):
        x, h_prev, c_prev, acts, tanh_c, W_ih, W_hh = cache
        i, f, g, o = np.split(acts, 4, axis=1)
        total = dc + h_path * dh * (o if o_factor else 1) * (1 - tanh_c ** 2)
        blocks = {"i": total * g * i * (1 - i),
                  "f": total * (c_prev if forget_input == "c_prev" else h_prev) * f * (1 - f),
                  "g": total * i * (g * (1 - g) if sigmoid_g else 1 - g ** 2),
                  "o": dh * tanh_c * o * (1 - o)}
        da = np.hstack([blocks[k] for k in order])
        db = da.sum(axis=0)
        dc_prev = (dc if incoming else total) * (f if gate_dc_prev else 1)
        return da @ W_ih, da @ W_hh, dc_prev, da.T @ x, da.T @ h_prev, db, db
    return backward


@pytest.mark.parametrize("mistake, answer", [
    ("dc-misses-h-path", _wrong_lstm_backward(h_path=0)),
    ("h-path-misses-o", _wrong_lstm_backward(o_factor=False)),
    ("dc-prev-not-gated", _wrong_lstm_backward(gate_dc_prev=False)),
    ("dc-prev-from-incoming", _wrong_lstm_backward(incoming=True)),
    ("candidate-sigmoid-derivative", _wrong_lstm_backward(sigmoid_g=True)),
    ("forget-uses-h-prev", _wrong_lstm_backward(forget_input="h_prev")),
    ("backward-gate-order", _wrong_lstm_backward(order="ifog")),
])
def test_lstm_backward_diagnoses(mistake, answer):
    _fails_with(ch11.check_lstm_cell_backward, answer, mistake)
    assert accepted("lstm_cell_backward") is None


def test_lstm_backward_not_done_and_delegation():
    with pytest.raises(NotImplementedError, match="Exercise 11.8 is not done yet"):
        ch11.check_lstm_cell_backward(not_done)
    _fails_with(ch11.check_lstm_cell_backward, lambda dh, dc, cache: lstm_cell_backward(dh, dc, cache),
                "delegates-to-reference")


# ---------------------------------------------------------------- 11.9

def _gru(x, h, W_ih, W_hh, b_ih, b_hh):
    Hh = h.shape[1]
    ax, ah = x @ W_ih.T + b_ih, h @ W_hh.T + b_hh
    r = _sigmoid(ax[:, :Hh] + ah[:, :Hh])
    z = _sigmoid(ax[:, Hh:2 * Hh] + ah[:, Hh:2 * Hh])
    n = np.tanh(ax[:, 2 * Hh:] + r * ah[:, 2 * Hh:])
    return (1 - z) * n + z * h


def _gru_split(x, h, W_ih, W_hh, b_ih, b_hh):
    x_r, x_z, x_n = np.split(x @ W_ih.T + b_ih, 3, axis=1)
    h_r, h_z, h_n = np.split(h @ W_hh.T + b_hh, 3, axis=1)
    r, z = 0.5 * (1 + np.tanh((x_r + h_r) / 2)), 0.5 * (1 + np.tanh((x_z + h_z) / 2))
    n = np.tanh(x_n + r * h_n)
    return n + z * (h - n)


def test_gru_accepts_two_right_answers():
    assert ch11.check_gru_cell(_gru).passed
    assert ch11.check_gru_cell(_gru_split).passed


def _wrong_gru(order=(0, 1, 2), reset="after", swapped=False, gate=_sigmoid, candidate=np.tanh):
    def cell(x, h, W_ih, W_hh, b_ih, b_hh):
        Hh = h.shape[1]
        s = [slice(k * Hh, (k + 1) * Hh) for k in order]
        r = gate(x @ W_ih[s[0]].T + b_ih[s[0]] + h @ W_hh[s[0]].T + b_hh[s[0]])
        z = gate(x @ W_ih[s[1]].T + b_ih[s[1]] + h @ W_hh[s[1]].T + b_hh[s[1]])
        hidden = {"after": r * (h @ W_hh[s[2]].T + b_hh[s[2]]), "before": (r * h) @ W_hh[s[2]].T + b_hh[s[2]],
                  "bias": r * (h @ W_hh[s[2]].T) + b_hh[s[2]]}[reset]
        n = candidate(x @ W_ih[s[2]].T + b_ih[s[2]] + hidden)
        return z * n + (1 - z) * h if swapped else (1 - z) * n + z * h
    return cell


@pytest.mark.parametrize("mistake, answer", [
    ("reset-before-matrix", _wrong_gru(reset="before")),
    ("reset-misses-bias", _wrong_gru(reset="bias")),
    ("update-swapped", _wrong_gru(swapped=True)),
    ("gru-order-zrn", _wrong_gru(order=(1, 0, 2))),
    ("gru-tanh-gates", _wrong_gru(gate=np.tanh)),
    ("gru-sigmoid-candidate", _wrong_gru(candidate=_sigmoid)),
])
def test_gru_diagnoses(mistake, answer):
    _fails_with(ch11.check_gru_cell, answer, mistake)
    assert accepted("gru_cell") is None


def test_gru_not_done_and_delegation():
    with pytest.raises(NotImplementedError, match="Exercise 11.9 is not done yet"):
        ch11.check_gru_cell(not_done)
    _fails_with(ch11.check_gru_cell, lambda *args: gru_cell_forward(*args)[0], "delegates-to-reference")


# ---------------------------------------------------------------- 11.11

def test_lstm_parameter_count():
    assert ch11.check_lstm_parameter_count(lambda D, H: 4 * (H * D + H * H + 2 * H)).passed
    assert ch11.check_lstm_parameter_count(lambda D, H: 4 * H * D + 4 * H * H + 8 * H).passed
    wrong = {
        "one-bias": lambda D, H: 4 * H * (D + H + 1),
        "no-biases": lambda D, H: 4 * H * (D + H),
        "three-blocks": lambda D, H: 3 * H * (D + H + 2),
        "one-block": lambda D, H: H * (D + H + 2),
        "no-recurrent-weights": lambda D, H: 4 * H * (D + 2),
        "d-and-hh-swapped": lambda D, H: 4 * D * (D + H + 2),
    }
    for mistake, function in wrong.items():
        _fails_with(ch11.check_lstm_parameter_count, function, mistake)
    with pytest.raises(NotImplementedError, match="Exercise 11.11 is not done yet"):
        ch11.check_lstm_parameter_count(not_done)


def test_lstm_parameter_count_agrees_with_pytorch():
    import torch

    lstm = torch.nn.LSTM(10, 20)
    assert sum(p.numel() for p in lstm.parameters()) == ch11.reference_lstm_parameter_count(10, 20) == 2560


def test_every_reference_is_a_dlcore_function():
    for label, functions in ch11.REFERENCES.items():
        assert functions and all(f.__module__.startswith("dlcore.") for f in functions), label
