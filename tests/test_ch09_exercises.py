"""Chapter 09 checks: each passes two different correct answers, fails plausible wrong ones with their diagnosis
(and stable mistake id), fails an answer that calls dlcore's (or PyTorch's) version, and reports an untouched
stub as not done."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore.exercises import ch09
from dlcore.exercises.core import ExerciseFailed
from dlcore.exercises.learner import accepted
from dlcore.scratch.conv import conv2d_backward, conv2d_forward
from dlcore.scratch.im2col import conv_output_size, im2col as dlcore_im2col, receptive_field
from dlcore.scratch.pooling import maxpool2d_backward, maxpool2d_forward
from tests.learner_answers import ch09 as answers
from tests.helpers import not_done


def _answer(source: str) -> dict:
    namespace = {"np": np}
    exec(source, namespace)
    return namespace


def _failure(check, *answer) -> ExerciseFailed:
    with pytest.raises(ExerciseFailed) as caught:
        check(*answer)
    return caught.value


# ---------------------------------------------------------------- 9.1 output size

def _size_by_counting(L, k, s, p, d):
    """Count the first taps that keep the last tap inside the padded axis."""
    return sum(1 for t in range(0, L + 2 * p, s) if t + d * (k - 1) <= L + 2 * p - 1)


def test_output_size_passes_two_correct_answers():
    assert ch09.check_output_size(lambda L, k, s, p, d: (L + 2 * p - d * (k - 1) - 1) // s + 1).passed
    assert ch09.check_output_size(_size_by_counting).passed


@pytest.mark.parametrize("wrong, mistake, message", [
    (lambda L, k, s, p, d: (L + 2 * p - k) // s + 1, "dilation-ignored", "dilation is missing"),
    (lambda L, k, s, p, d: (L + p - d * (k - 1) - 1) // s + 1, "padding-one-side", "padding is added on both sides"),
    (lambda L, k, s, p, d: (L + 2 * p - d * (k - 1) - 1) // s, "missing-plus-one", "off by one"),
    (lambda L, k, s, p, d: (L + 2 * p - d * (k - 1) - 1) / s + 1, "true-division", "must round down"),
    (lambda L, k, s, p, d: math.ceil((L + 2 * p - d * (k - 1) - 1) / s) + 1, "rounded-up", "you rounded up"),
    (lambda L, k, s, p, d: L - k + 1, "articles-formula", "the articles' formula"),
    (lambda L, k, s, p, d: (L + 2 * p - d * k) // s + 1, "span-d-times-k", r"not d k"),
])
def test_output_size_mistakes_are_diagnosed(wrong, mistake, message):
    failure = _failure(ch09.check_output_size, wrong)
    assert failure.mistake == mistake
    assert re.search(message, str(failure))


def test_output_size_that_calls_dlcore_fails():
    failure = _failure(ch09.check_output_size, lambda L, k, s, p, d: conv_output_size(L, k, s, p, d))
    assert failure.mistake == "delegates-to-reference" and "conv_output_size" in str(failure)


def test_output_size_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 9.1 is not done yet"):
        ch09.check_output_size(not_done)


# ---------------------------------------------------------------- 9.2 and 9.3 predictions

def test_predictions_pass_with_the_truth_written_two_ways():
    assert ch09.check_c3_parameters(lambda: 16 * (6 * 5 * 5) + 16).passed
    assert ch09.check_c3_parameters(lambda: 16 * 151).passed
    assert ch09.check_c3_receptive_field(lambda: 14).passed
    assert ch09.check_c3_receptive_field(lambda: receptive_field([(5, 1), (2, 2), (5, 1)])).passed


@pytest.mark.parametrize("wrong, mistake, message", [
    (2400, "biases-missing", "the 16 biases are missing"), (416, "one-input-map", "each filter spans all 6 input maps"),
    (1516, "paper-connection-table", "the paper's count"), (60000, "per-position", "parameters are shared"),
    (1234, "", r"your parameter count (1234) is not right"),
])
def test_c3_parameter_mistakes(wrong, mistake, message):
    failure = _failure(ch09.check_c3_parameters, lambda: wrong)
    assert failure.mistake == mistake and message in str(failure)


@pytest.mark.parametrize("wrong, mistake, message", [
    (10, "kernels-add", "kernels do not simply add"), (9, "pooling-free", "pooling is not free"),
    (13, "pool-window-forgotten", "S2's own 2x2 window"), (5, "that-is-c1", "that is C1's field"),
    ("fourteen", "", "should be a number"),
])
def test_receptive_field_mistakes(wrong, mistake, message):
    failure = _failure(ch09.check_c3_receptive_field, lambda: wrong)
    assert failure.mistake == mistake and message in str(failure)


def test_predictions_not_done_show_no_stub_text():
    for check in (ch09.check_c3_parameters, ch09.check_c3_receptive_field):
        with pytest.raises(NotImplementedError, match="is not done yet") as caught:
            check(not_done)
        assert "replace this line with your code" not in str(caught.value)


# ---------------------------------------------------------------- 9.4 conv2d with loops

def _loops_by_channel(x, w, b, stride=1, padding=0):
    """Loops over the kernel offsets, vectorised over the batch and the output positions."""
    N, C, H, W = x.shape
    Fn, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1
    out = np.zeros((N, Fn, Ho, Wo)) + b[None, :, None, None]
    for c in range(C):
        for a in range(kh):
            for d in range(kw):
                pixels = xp[:, c, a:a + stride * (Ho - 1) + 1:stride, d:d + stride * (Wo - 1) + 1:stride]
                out += pixels[:, None] * w[None, :, c, a, d, None, None]
    return out


def _loops_by_window(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    Fn, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1
    out = np.zeros((N, Fn, Ho, Wo))
    for n in range(N):
        for f in range(Fn):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, f, i, j] = np.sum(xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw] * w[f]) + b[f]
    return out


def test_conv2d_loops_passes_two_correct_answers():
    assert ch09.check_conv2d_loops(_loops_by_window).passed
    assert ch09.check_conv2d_loops(_loops_by_channel).passed
    assert accepted("conv2d_loops") is _loops_by_channel


def test_conv2d_loops_wrong_answer_of_the_learner_answers_file_is_diagnosed():
    failure = _failure(ch09.check_conv2d_loops, _answer(answers.WRONG["9.4"])["conv2d_loops"])
    assert failure.mistake == "kernel-flipped"


def _variant(**change):
    def wrong(x, w, b, stride=1, padding=0):
        out = _loops_by_channel(x if "first" not in change else x[:, :1], w if "first" not in change else w[:, :1],
                                b * change.get("bias", 1), change.get("stride", stride), padding)
        if "stride" in change:
            Ho = (x.shape[2] + 2 * padding - w.shape[2]) // stride + 1
            Wo = (x.shape[3] + 2 * padding - w.shape[3]) // stride + 1
            out = out[:, :, :Ho, :Wo]
        return out
    return wrong


@pytest.mark.parametrize("wrong, mistake", [
    (_variant(bias=0), "bias-missing"),
    (lambda x, w, b, stride=1, padding=0: _loops_by_channel(x, w, b, stride, padding) + (x.shape[1] - 1) * b[:, None, None],
     "bias-per-channel"),
    (_variant(first=True), "first-channel-only"),
    (_variant(stride=1), "window-not-strided"),
    (lambda x, w, b, stride=1, padding=0: _loops_by_channel(x, w[:, :, ::-1, ::-1], b, stride, padding), "kernel-flipped"),
])
def test_conv2d_loops_mistakes_are_diagnosed(wrong, mistake):
    assert _failure(ch09.check_conv2d_loops, wrong).mistake == mistake


@pytest.mark.parametrize("shortcut", [
    lambda x, w, b, stride=1, padding=0: conv2d_forward(x, w, b, stride, padding)[0],
    lambda x, w, b, stride=1, padding=0: F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride, padding).numpy(),
    lambda x, w, b, stride=1, padding=0: torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b),
                                                                    stride=stride, padding=padding).numpy(),
])
def test_conv2d_loops_that_delegates_fails(shortcut):
    failure = _failure(ch09.check_conv2d_loops, shortcut)
    assert failure.mistake == "delegates-to-reference" and "write it yourself" in str(failure)
    assert accepted("conv2d_loops") is None


def test_conv2d_loops_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 9.4 is not done yet"):
        ch09.check_conv2d_loops(not_done)


# ---------------------------------------------------------------- 9.5 im2col

def _im2col_by_windows(x_pad, kh, kw, stride=1):
    N, C, Hp, Wp = x_pad.shape
    Ho, Wo = (Hp - kh) // stride + 1, (Wp - kw) // stride + 1
    cols = np.empty((C * kh * kw, N * Ho * Wo))
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                cols[:, n * Ho * Wo + i * Wo + j] = x_pad[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw].ravel()
    return cols


def test_im2col_passes_two_correct_answers():
    assert ch09.check_im2col(_im2col_by_windows).passed
    right = _answer(answers.RIGHT["9.5"])["im2col"]
    assert ch09.check_im2col(right).passed
    assert accepted("im2col") is right


def _grid(x_pad, kh, kw, stride):
    cols = _im2col_by_windows(x_pad, kh, kw, stride)
    N, C = x_pad.shape[:2]
    return cols.reshape(C, kh, kw, N, -1)


@pytest.mark.parametrize("wrong, mistake", [
    (lambda x, kh, kw, stride=1: _im2col_by_windows(x, kh, kw, stride).T, "transposed"),
    (lambda x, kh, kw, stride=1: _grid(x, kh, kw, stride).transpose(1, 2, 0, 3, 4).reshape(-1, _grid(x, kh, kw, stride).shape[3] * _grid(x, kh, kw, stride).shape[4]),
     "rows-offset-major"),
    (lambda x, kh, kw, stride=1: _grid(x, kh, kw, stride).transpose(0, 2, 1, 3, 4).reshape(x.shape[1] * kh * kw, -1),
     "kernel-axes-swapped"),
    (lambda x, kh, kw, stride=1: _grid(x, kh, kw, stride).transpose(0, 1, 2, 4, 3).reshape(x.shape[1] * kh * kw, -1),
     "columns-example-last"),
])
def test_im2col_mistakes_are_diagnosed(wrong, mistake):
    assert _failure(ch09.check_im2col, wrong).mistake == mistake


def test_im2col_that_calls_dlcore_fails():
    def delegating(x_pad, kh, kw, stride=1):
        Ho, Wo = (x_pad.shape[2] - kh) // stride + 1, (x_pad.shape[3] - kw) // stride + 1
        return dlcore_im2col(x_pad, (kh, kw), (stride, stride), (1, 1), (Ho, Wo))

    assert _failure(ch09.check_im2col, delegating).mistake == "delegates-to-reference"


def test_im2col_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 9.5 is not done yet"):
        ch09.check_im2col(not_done)


# ---------------------------------------------------------------- 9.7 conv forward and backward on im2col

SOLUTION_CONV = '''
def im2col(x_pad, kh, kw, stride=1):
    N, C, Hp, Wp = x_pad.shape
    Ho, Wo = (Hp - kh) // stride + 1, (Wp - kw) // stride + 1
    grid = np.empty((C, kh, kw, N, Ho, Wo))
    for a in range(kh):
        for b in range(kw):
            grid[:, a, b] = x_pad[:, :, a:a + stride * (Ho - 1) + 1:stride, b:b + stride * (Wo - 1) + 1:stride].transpose(1, 0, 2, 3)
    return grid.reshape(C * kh * kw, N * Ho * Wo)


def conv_forward(x, w, b, stride=1, padding=0):
    N = x.shape[0]
    F, C, kh, kw = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = im2col(x_pad, kh, kw, stride)
    Ho, Wo = (x_pad.shape[2] - kh) // stride + 1, (x_pad.shape[3] - kw) // stride + 1
    OUT_LINE
    return out, (cols, w, x_pad.shape, stride, padding)


def conv_backward(dout, cache):
    cols, w, padded_shape, stride, padding = cache
    N, F, Ho, Wo = dout.shape
    _, C, kh, kw = w.shape
    GRAD_LINE
    dw = DW_LINE
    db = DB_LINE
    dcols = (w.reshape(F, -1).T @ grad_m).reshape(C, kh, kw, N, Ho, Wo)
    dx_pad = np.zeros(padded_shape)
    for a in range(kh):
        for b in range(kw):
            dx_pad[:, :, a:a + stride * (Ho - 1) + 1:stride, b:b + stride * (Wo - 1) + 1:stride] ADD dcols[:, a, b].transpose(1, 0, 2, 3)
    H, W = padded_shape[2] - 2 * padding, padded_shape[3] - 2 * padding
    return DX_RETURN, dw, db
'''

RIGHT_LINES = {
    "OUT_LINE": "out = (w.reshape(F, -1) @ cols + b[:, None]).reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3)",
    "GRAD_LINE": "grad_m = dout.transpose(1, 0, 2, 3).reshape(F, N * Ho * Wo)",
    "DW_LINE": "(grad_m @ cols.T).reshape(w.shape)",
    "DB_LINE": "grad_m.sum(axis=1)",
    "ADD": "+=",
    "DX_RETURN": "dx_pad[:, :, padding:padding + H, padding:padding + W]",
}


def _conv_answer(**changes):
    source = SOLUTION_CONV
    for key, line in {**RIGHT_LINES, **changes}.items():
        source = source.replace(key, line)
    namespace = _answer(source)
    return namespace["conv_forward"], namespace["conv_backward"]


def test_conv_im2col_passes_two_correct_answers():
    forward, backward = _conv_answer()
    assert ch09.check_conv_im2col(forward, backward).passed
    right = _answer(answers.RIGHT["9.5"] + "\n" + answers.RIGHT["9.7"])
    assert ch09.check_conv_im2col(right["conv_forward"], right["conv_backward"]).passed
    assert accepted("conv_forward") is right["conv_forward"] and accepted("conv_backward") is right["conv_backward"]


@pytest.mark.parametrize("change, mistake, output", [
    ({"OUT_LINE": "out = (w.reshape(F, -1) @ cols + b[:, None]).reshape(N, F, Ho, Wo)"}, "out-not-transposed", "out"),
    ({"GRAD_LINE": "grad_m = dout.reshape(F, N * Ho * Wo)"}, "dout-not-transposed", "dx"),
    ({"DW_LINE": "(cols @ grad_m.T).reshape(w.shape)"}, "dw-transposed", "dw"),
    ({"DB_LINE": "grad_m.mean(axis=1)"}, "db-mean", "db"),
    ({"ADD": "="}, "col2im-overwrites", "dx"),
    ({"DX_RETURN": "dx_pad"}, "padding-not-dropped", "dx"),
])
def test_conv_im2col_mistakes_are_diagnosed(change, mistake, output):
    failure = _failure(ch09.check_conv_im2col, *_conv_answer(**change))
    assert failure.mistake == mistake, str(failure)
    assert accepted("conv_backward") is None


def test_conv_im2col_unknown_mistake_names_the_output_and_an_index():
    failure = _failure(ch09.check_conv_im2col, *_conv_answer(DW_LINE="2 * (grad_m @ cols.T).reshape(w.shape)"))
    assert "wrong values in dw" in str(failure) and "at index (" in str(failure)


def test_conv_im2col_that_calls_dlcore_fails():
    assert _failure(ch09.check_conv_im2col, conv2d_forward, conv2d_backward).mistake == "delegates-to-reference"

    def torch_forward(x, w, b, stride=1, padding=0):
        tx = torch.tensor(x, requires_grad=True)
        tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
        out = F.conv2d(tx, tw, tb, stride, padding)
        return out.detach().numpy(), (out, tx, tw, tb)

    def torch_backward(dout, cache):
        out, tx, tw, tb = cache
        out.backward(torch.tensor(dout))
        return tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()

    assert _failure(ch09.check_conv_im2col, torch_forward, torch_backward).mistake == "delegates-to-reference"


def test_conv_im2col_wrong_return_is_explained():
    forward, backward = _conv_answer()
    failure = _failure(ch09.check_conv_im2col, lambda *args, **kwargs: forward(*args, **kwargs)[0], backward)
    assert "should return the pair (out, cache)" in str(failure)


def test_conv_im2col_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 9.7 is not done yet"):
        ch09.check_conv_im2col(not_done, not_done)


# ---------------------------------------------------------------- 9.8 max pooling

def _pool_forward_by_maximum(x):
    N, C, H, W = x.shape
    corners = [x[:, :, a::2, b::2] for a in (0, 1) for b in (0, 1)]  # reading order
    out = np.maximum(np.maximum(corners[0], corners[1]), np.maximum(corners[2], corners[3]))
    return out, (x, out)


def _pool_backward_by_first_match(dout, cache):
    x, out = cache
    dx = np.zeros_like(x)
    taken = np.zeros(out.shape, dtype=bool)
    for a in (0, 1):
        for b in (0, 1):
            wins = (x[:, :, a::2, b::2] == out) & ~taken  # the first match in reading order wins
            dx[:, :, a::2, b::2] = wins * dout
            taken |= wins
    return dx


def test_maxpool_passes_two_correct_answers():
    assert ch09.check_maxpool(_pool_forward_by_maximum, _pool_backward_by_first_match).passed
    assert ch09.check_maxpool(maxpool_forward_solution, maxpool_backward_solution).passed
    assert accepted("maxpool_backward") is maxpool_backward_solution


def maxpool_forward_solution(x):
    N, C, H, W = x.shape
    windows = x.reshape(N, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // 2, W // 2, 4)
    return windows.max(axis=-1), (windows.argmax(axis=-1), x.shape)


def maxpool_backward_solution(dout, cache):
    winner, (N, C, H, W) = cache
    d = (np.arange(4) == winner[..., None]) * dout[..., None]
    return d.reshape(N, C, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H, W)


def _spread(values):
    return np.kron(values, np.ones((2, 2)))


def _with_backward(backward):
    return _pool_forward_by_maximum, backward


@pytest.mark.parametrize("pair, mistake", [
    ((lambda x: (x.reshape(*x.shape[:2], x.shape[2] // 2, 2, x.shape[3] // 2, 2).mean(axis=(3, 5)), None),
      lambda dout, cache: _spread(dout) / 4), "average-forward"),
    (_with_backward(lambda dout, cache: _spread(dout) / 4), "average-backward"),
    (_with_backward(lambda dout, cache: _spread(dout)), "dout-to-all-four"),
    (_with_backward(lambda dout, cache: _pool_backward_by_first_match(np.ones_like(dout), cache)), "mask-without-dout"),
    (_with_backward(lambda dout, cache: _pool_backward_by_first_match(np.ones_like(dout), cache) * cache[0]), "mask-times-x"),
    (_with_backward(lambda dout, cache: (cache[0] == _spread(cache[1])) * _spread(dout)), "ties-all-get-dout"),
    (_with_backward(lambda dout, cache: _pool_backward_by_first_match(
        dout[..., ::-1, ::-1], (cache[0][..., ::-1, ::-1], cache[1][..., ::-1, ::-1]))[..., ::-1, ::-1]), "ties-last-wins"),
])
def test_maxpool_mistakes_are_diagnosed(pair, mistake):
    assert _failure(ch09.check_maxpool, *pair).mistake == mistake


def test_maxpool_column_major_ties_are_rejected():
    """The defect of the old check: first-in-column-order tie breaking passed."""
    wrong = _answer(answers.WRONG["9.8"])
    failure = _failure(ch09.check_maxpool, wrong["maxpool_forward"], wrong["maxpool_backward"])
    assert failure.mistake == "ties-column-major" and "reading order is row by row" in str(failure)
    assert accepted("maxpool_backward") is None


def test_maxpool_that_delegates_fails():
    assert _failure(ch09.check_maxpool, maxpool2d_forward, maxpool2d_backward).mistake == "delegates-to-reference"

    def torch_forward(x):
        tx = torch.tensor(x, requires_grad=True)
        out = F.max_pool2d(tx, 2)
        return out.detach().numpy(), (tx, out)

    def torch_backward(dout, cache):
        tx, out = cache
        out.backward(torch.tensor(dout))
        return tx.grad.numpy()

    failure = _failure(ch09.check_maxpool, torch_forward, torch_backward)
    assert failure.mistake == "delegates-to-reference"


def test_maxpool_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 9.8 is not done yet"):
        ch09.check_maxpool(not_done, not_done)


# ---------------------------------------------------------------- the references listed for "no answer in advance"

def test_references_name_the_dlcore_functions_each_exercise_rebuilds():
    assert set(ch09.REFERENCES) == {"9.1", "9.3", "9.4", "9.5", "9.7", "9.8"}
    assert all(f.__module__.startswith("dlcore.scratch") for functions in ch09.REFERENCES.values() for f in functions)
