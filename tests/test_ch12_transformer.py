"""dlcore.models.transformer: the tensor attention against the NumPy kernels and PyTorch, and the small
Transformer that chapter 12 trains on the learner's attention."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcore.data.translation import PAD, encode_pairs, make_sorting
from dlcore.errors import ShapeError
from dlcore.models.transformer import (TinyTransformer, scaled_dot_product_attention, sorting_labels,
                                       tagging_accuracy_by_length, train_tagger)
from dlcore.scratch.attention import (padding_mask, scaled_dot_product_attention_backward,
                                      scaled_dot_product_attention_forward)


def _qkv(rng, shape_q=(2, 3, 4, 5), Tk=6, dv=3):
    q = rng.standard_normal(shape_q)
    k = rng.standard_normal(shape_q[:-2] + (Tk, shape_q[-1]))
    v = rng.standard_normal(shape_q[:-2] + (Tk, dv))
    return q, k, v


def test_tensor_attention_equals_the_numpy_forward_and_its_backward_with_a_fully_masked_row():
    rng = np.random.default_rng(0)
    q, k, v = _qkv(rng)
    mask = rng.random((2, 3, 4, 6)) < 0.6
    mask[0, 1, 2] = False  # a query that may see nothing
    mask[1, :, :, 0] = True
    tensors = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out, weights = scaled_dot_product_attention(*tensors, torch.tensor(mask))
    expected, cache = scaled_dot_product_attention_forward(q, k, v, mask)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weights.detach().numpy(), cache.weights, rtol=1e-12, atol=1e-12)
    assert np.all(weights.detach().numpy()[0, 1, 2] == 0)
    dout = rng.standard_normal(out.shape)
    out.backward(torch.tensor(dout))
    for tensor, grad in zip(tensors, scaled_dot_product_attention_backward(dout, cache)):
        assert np.isfinite(tensor.grad.numpy()).all()
        np.testing.assert_allclose(tensor.grad.numpy(), grad, rtol=1e-10, atol=1e-12)


def test_tensor_attention_equals_pytorchs_fused_attention():
    rng = np.random.default_rng(1)
    q, k, v = (torch.tensor(a) for a in _qkv(rng, (3, 5, 8), Tk=7, dv=4))
    mask = torch.tensor(padding_mask([7, 4, 1], 7))[:, None, :]
    ours, _ = scaled_dot_product_attention(q, k, v, mask)
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    unmasked, weights = scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 5, dtype=torch.float64))


def test_tensor_attention_rejects_mismatched_shapes():
    q, k, v = torch.zeros(2, 3, 4), torch.zeros(2, 5, 6), torch.zeros(2, 5, 2)
    with pytest.raises(ShapeError, match=r"scaled_dot_product_attention: q \(2, 3, 4\)"):
        scaled_dot_product_attention(q, k, v)


@pytest.fixture(scope="module")
def sorting():
    data = encode_pairs(make_sorting(300, min_length=3, max_length=6, seed=0))
    return data, sorting_labels(data)


def test_sorting_labels(sorting):
    data, labels = sorting
    assert labels.shape == data.source.shape
    for n in range(5):
        length = data.source_lengths[n]
        vocab = data.source_vocab
        assert vocab.decode(labels[n].tolist()) == "".join(sorted(vocab.decode(data.source[n].tolist())))
        assert np.all(labels[n, length:] == PAD)


def test_tiny_transformer_shapes_padding_and_the_attention_it_is_given(sorting):
    data, _ = sorting
    calls = []

    def counting(q, k, v, mask):
        calls.append((tuple(q.shape), tuple(mask.shape)))
        return scaled_dot_product_attention(q, k, v, mask)

    model = TinyTransformer(len(data.source_vocab), embed_size=16, num_heads=2, num_layers=2, ff_size=32,
                            attention=counting, seed=0)
    tokens = torch.from_numpy(data.source[:4])
    logits, maps = model(tokens)
    N, T = tokens.shape
    assert logits.shape == (N, T, len(data.source_vocab)) and logits.dtype == torch.float64
    assert [tuple(m.shape) for m in maps] == [(N, 2, T, T)] * 2
    assert calls == [((N, 2, T, 16 // 2), (N, 1, 1, T))] * 2
    padded, _ = model(torch.nn.functional.pad(tokens, (0, 3), value=PAD))  # more padding changes nothing real
    real = (tokens != PAD).numpy()
    np.testing.assert_allclose(padded[:, :T].detach().numpy()[real], logits.detach().numpy()[real], atol=1e-12)
    again = TinyTransformer(len(data.source_vocab), embed_size=16, num_heads=2, num_layers=2, ff_size=32, seed=0)
    torch.testing.assert_close(again(tokens)[0], logits)  # the seed fixes the weights


def test_tiny_transformer_errors(sorting):
    data, labels = sorting
    with pytest.raises(ShapeError, match=r"positional_encoding\(32, 16\) returned shape \(32, 8\)"):
        TinyTransformer(len(data.source_vocab), embed_size=16, positional_encoding=lambda T, E: np.zeros((T, E // 2)))
    with pytest.raises(ValueError, match="num_heads = 3 must divide embed_size = 16"):
        TinyTransformer(len(data.source_vocab), embed_size=16, num_heads=3)
    model = TinyTransformer(len(data.source_vocab), embed_size=16, max_length=4)
    with pytest.raises(ShapeError, match="exceed max_length = 4"):
        model(torch.ones(1, 5, dtype=torch.int64))
    with pytest.raises(ShapeError, match="one label per source position"):
        train_tagger(model, data, labels[:, :2])


def test_training_lowers_the_loss(sorting):
    data, labels = sorting
    model = TinyTransformer(len(data.source_vocab), embed_size=16, num_heads=2, ff_size=32, seed=0)
    losses = train_tagger(model, data, labels, num_epochs=4, batch_size=32, learning_rate=1e-2)
    assert len(losses) == 4 and losses[-1] < 0.9 * losses[0]
    accuracy = tagging_accuracy_by_length(model, data, labels)
    assert set(accuracy) == {3, 4, 5, 6} and all(0.0 <= a <= 1.0 for a in accuracy.values())


def test_a_given_self_attention_replaces_the_default(sorting):
    data, _ = sorting
    from dlcore.models.transformer import multi_head_self_attention
    calls = []

    def counting(x, qkv, out, num_heads, mask):
        calls.append((tuple(x.shape), num_heads))
        return multi_head_self_attention(x, qkv, out, num_heads, mask)

    tokens = torch.from_numpy(data.source[:3])
    plain = TinyTransformer(len(data.source_vocab), embed_size=16, seed=1)
    swapped = TinyTransformer(len(data.source_vocab), embed_size=16, seed=1, self_attention=counting)
    torch.testing.assert_close(swapped(tokens)[0], plain(tokens)[0])
    assert calls == [((3, tokens.shape[1], 16), 2)] * 2
