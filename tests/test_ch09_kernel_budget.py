"""LeNet-5 on the learner's conv kernels: Conv2d(kernels=...), the line count and the slice of a loop-based pair."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.scratch.cnn import Conv2d, scratch_lenet5
from dlcore.scratch.conv import conv2d_backward, conv2d_forward
from dlcore.training.kernel_budget import LINE_BUDGET, KernelSlice, python_lines, training_kernels
from tests.learner_answers import ch09 as answers

REFERENCE = (conv2d_forward, conv2d_backward)


def _answer(source: str) -> dict:
    namespace = {"np": np}
    exec(compile(source, "<learner>", "exec"), namespace)
    return namespace


def _fast_pair():
    """A vectorised pair (dlcore's kernels seen through functions defined here, outside dlcore)."""
    calls = []

    def forward(x, w, b, stride=1, padding=0):
        calls.append("forward")
        return conv2d_forward(x, w, b, stride, padding)

    def backward(dout, cache):
        calls.append("backward")
        return conv2d_backward(dout, cache)

    return (forward, backward), calls


def test_python_lines_counts_the_learners_lines_only():
    def loop():
        total = 0
        for i in range(50):
            total += i
        return total

    assert 100 <= python_lines(loop) <= 110
    assert python_lines(lambda: np.pad(np.zeros((3, 3)), 1)) <= 1  # NumPy's own Python is not counted
    assert python_lines(loop, limit=20) == 20


def test_training_kernels_is_the_reference_until_the_exercise_passes():
    kernels, whose = training_kernels(REFERENCE, REFERENCE, slice_calls=6)
    assert kernels == REFERENCE and whose == ""


def test_vectorised_kernels_train_throughout():
    pair, calls = _fast_pair()
    kernels, whose = training_kernels(pair, REFERENCE, slice_calls=6)
    assert kernels == pair and "vectorised" in whose and "throughout" in whose


def test_loop_based_kernels_run_a_slice_then_the_reference():
    right = _answer(answers.RIGHT["9.5"] + answers.RIGHT["9.7"])  # its col2im loops over the windows
    pair = (right["conv_forward"], right["conv_backward"])
    kernels, whose = training_kernels(pair, REFERENCE, slice_calls=2)
    assert f"more than {LINE_BUDGET:,} lines" in whose and "the first 2 convolution calls" in whose
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 1, 8, 8)), rng.standard_normal((3, 1, 3, 3)), rng.standard_normal(3)
    results = []
    for _ in range(3):
        out, cache = kernels[0](x, w, b, 1, 1)
        results.append((out, *kernels[1](np.ones_like(out), cache), cache.learners))
    assert [r[-1] for r in results] == [True, True, False]
    expected_out, expected_cache = conv2d_forward(x, w, b, 1, 1)
    for out, dx, dw, db, _ in results:
        np.testing.assert_allclose(out, expected_out, atol=1e-12)
        for got, want in zip((dx, dw, db), conv2d_backward(np.ones_like(out), expected_cache)):
            np.testing.assert_allclose(got, want, atol=1e-12)


def test_kernel_slice_backward_follows_its_forward():
    pair, calls = _fast_pair()
    sliced = KernelSlice(pair, REFERENCE, calls=1)
    x, w, b = np.ones((1, 1, 4, 4)), np.ones((2, 1, 2, 2)), np.zeros(2)
    first = sliced.forward(x, w, b, 1, 0)
    second = sliced.forward(x, w, b, 1, 0)
    sliced.backward(np.ones((1, 2, 3, 3)), second[1])
    sliced.backward(np.ones((1, 2, 3, 3)), first[1])
    assert calls == ["forward", "backward"]


def test_lenet_on_other_kernels_computes_the_same_function():
    pair, calls = _fast_pair()
    ours = scratch_lenet5(rng=np.random.default_rng(0), conv_kernels=pair)
    theirs = scratch_lenet5(rng=np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((2, 1, 32, 32))
    np.testing.assert_allclose(ours.forward(x), theirs.forward(x), atol=1e-12)
    dout = np.ones((2, 10))
    np.testing.assert_allclose(ours.backward(dout), theirs.backward(dout), atol=1e-12)
    assert calls.count("forward") == 3 and calls.count("backward") == 3


def test_conv2d_rejects_bad_kernels():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="pair of functions"):
        Conv2d(1, 2, 3, rng=rng, kernels=(conv2d_forward,))
    with pytest.raises(ValueError, match="no dilation"):
        Conv2d(1, 2, 3, dilation=2, rng=rng, kernels=REFERENCE)
