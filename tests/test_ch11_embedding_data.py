"""Chapter 11: the embedding layer (PyTorch parity, gradient check) and the sequence data."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from dlcore.data.sequences import (ZEN_SHA256, build_vocabulary, decode, encode, make_adding_problem,
                                   make_char_windows, make_parity, make_sine_waves, zen_of_python)
from dlcore.errors import ShapeError
from dlcore.gradcheck import check_gradients
from dlcore.scratch.embedding import Embedding, embedding_backward, embedding_forward
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64


def test_embedding_matches_pytorch_with_repeated_indices():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((7, 3))
    indices = np.array([[0, 6, 6], [2, 0, 6]])  # (T, N) with repeats: their gradients must add up
    out, cache = embedding_forward(indices, W)
    dout = rng.standard_normal(out.shape)
    tW = torch.tensor(W, requires_grad=True)
    t_out = torch.nn.functional.embedding(torch.tensor(indices), tW)
    (t_out * torch.tensor(dout)).sum().backward()
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)
    dW = embedding_backward(dout, cache)
    assert dW.shape == W.shape
    np.testing.assert_allclose(dW, tW.grad.numpy(), rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)


def test_embedding_gradient_check_and_errors():
    indices = np.array([1, 1, 4, 0])
    check_gradients(lambda W: embedding_forward(indices, W), lambda d, c: (embedding_backward(d, c),),
                    {"W": np.random.default_rng(1).standard_normal((5, 2))}).assert_ok()
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 5\)"):
        embedding_forward(np.array([5]), np.zeros((5, 2)))
    with pytest.raises(TypeError, match="indices must be integers"):
        embedding_forward(np.array([0.0]), np.zeros((5, 2)))
    with pytest.raises(ShapeError, match=r"W has shape \(5,\) but expected \(V, E\)"):
        embedding_forward(np.array([0]), np.zeros(5))
    layer = Embedding(5, 2, rng=np.random.default_rng(0))
    out = layer.forward(indices)
    layer.backward(np.ones_like(out))
    assert layer.weight.grad[1].tolist() == [2.0, 2.0] and layer.weight.grad[2].tolist() == [0.0, 0.0]


def test_parity_targets_are_running_xor():
    X, y = make_parity(50, 6, seed=3)
    assert X.shape == (50, 6, 1) and y.shape == (50, 6)
    bits = X[:, :, 0].astype(int)
    assert np.array_equal(y[:, 1], bits[:, 0] ^ bits[:, 1])
    assert np.array_equal(y[:, -1], bits.sum(axis=1) % 2)
    assert np.array_equal(make_parity(50, 6, seed=3)[0], X)


def test_adding_problem_marks_one_value_in_each_half():
    X, y = make_adding_problem(40, 10, seed=0)
    assert X.shape == (40, 10, 2) and y.shape == (40,)
    assert np.all(X[:, :5, 1].sum(axis=1) == 1) and np.all(X[:, 5:, 1].sum(axis=1) == 1)
    np.testing.assert_allclose((X[:, :, 0] * X[:, :, 1]).sum(axis=1), y)


def test_sine_targets_are_the_next_values():
    X, y = make_sine_waves(4, 20, seed=1)
    assert X.shape == y.shape == (4, 20, 1)
    np.testing.assert_array_equal(X[:, 1:], y[:, :-1])
    with pytest.raises(ValueError, match="seq_len must be an int >= 1"):
        make_sine_waves(4, 0)


def test_zen_text_is_pinned_and_round_trips():
    text = zen_of_python()
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == ZEN_SHA256
    assert text.startswith("The Zen of Python, by Tim Peters") and len(text) == 856
    vocabulary = build_vocabulary(text)
    ids = encode(text, vocabulary)
    assert decode(ids, vocabulary) == text
    x, y = make_char_windows(ids, 16, 8, seed=0)
    assert x.shape == y.shape == (8, 16)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        encode("é", vocabulary)
