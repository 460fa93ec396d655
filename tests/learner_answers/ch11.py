"""Answers a student might write for chapter 11 (tests/test_build_exercises.py runs the student notebook on them)."""

RIGHT = {
    "11.1": '''def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    stacked = np.concatenate([W_ih, W_hh], axis=1)  # (Hh, D + Hh) acting on [x_t, h_prev]
    return np.tanh(np.concatenate([x_t, h_prev], axis=1) @ stacked.T + (b_ih + b_hh))
''',
    "11.3": '''def rnn_backward(dout, cache):
    x, h0, out, W_ih, W_hh = cache
    T, N, D = x.shape
    starts = np.concatenate([h0[None], out[:-1]])  # (T, N, Hh): the state each step started from
    da = np.zeros_like(out)
    carried = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        da[t] = (dout[t] + carried) * (1 - out[t] * out[t])
        carried = da[t] @ W_hh
    dx = np.einsum("tnh,hd->tnd", da, W_ih)
    dW_ih = np.einsum("tnh,tnd->hd", da, x)
    dW_hh = np.einsum("tnh,tnk->hk", da, starts)
    db = da.sum(axis=(0, 1))
    return dx, carried, dW_ih, dW_hh, db, db


def clip_gradients(grads, max_norm):
    flat = np.concatenate([g.ravel() for g in grads])
    total_norm = np.linalg.norm(flat)
    if total_norm <= max_norm:
        return [g.copy() for g in grads], total_norm
    return [g * (max_norm / total_norm) for g in grads], total_norm
''',
    "11.6": '''def lstm_cell_forward(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    a = np.hstack([x_t, h_prev]) @ np.hstack([W_ih, W_hh]).T + b_ih + b_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, o = (np.exp(-np.logaddexp(0.0, -v)) for v in (a_i, a_f, a_o))  # the sigmoid, without overflow
    g = np.tanh(a_g)
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    h = o * tanh_c
    acts = np.hstack([i, f, g, o])
    return h, c, LSTMCellCache(x_t, h_prev, c_prev, acts, tanh_c, W_ih, W_hh)
''',
    "11.8": '''def lstm_cell_backward(dh, dc, cache):
    i, f, g, o = np.split(cache.acts, 4, axis=1)
    do = dh * cache.tanh_c
    dc = dc + dh * o * (1 - cache.tanh_c ** 2)
    di, df, dg = dc * g, dc * cache.c_prev, dc * i
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)])
    db = np.sum(da, axis=0)
    return (da @ cache.W_ih, da @ cache.W_hh, dc * f, da.T @ cache.x, da.T @ cache.h_prev, db, db.copy())
''',
}

WRONG = {
    # The 2014 paper's GRU: the reset gate applied to h_prev before the matrix, not to h_prev W_hn^T + b_hn.
    "11.9": '''def gru_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    Hh = h_prev.shape[1]
    sig = lambda v: 1 / (1 + np.exp(-v))
    r = sig(x_t @ W_ih[:Hh].T + b_ih[:Hh] + h_prev @ W_hh[:Hh].T + b_hh[:Hh])
    z = sig(x_t @ W_ih[Hh:2 * Hh].T + b_ih[Hh:2 * Hh] + h_prev @ W_hh[Hh:2 * Hh].T + b_hh[Hh:2 * Hh])
    n = np.tanh(x_t @ W_ih[2 * Hh:].T + b_ih[2 * Hh:] + (r * h_prev) @ W_hh[2 * Hh:].T + b_hh[2 * Hh:])
    return (1 - z) * n + z * h_prev
''',
}

USES = {"11.1": "rnn_cell", "11.3": "rnn_backward", "11.6": "lstm_cell_forward", "11.8": "lstm_cell_backward",
        "11.9": "gru_cell"}
