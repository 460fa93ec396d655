"""Chapter 09: article 003's MNIST CNN rebuilt in PyTorch, its bugs reproduced; the digit data and loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.articles.article_003_mnist_cnn import (ArticleConvNet, accuracy_as_given, accuracy_fixed, feed_as_given,
                                                   train_article_cnn)
from dlcore.training.digits_cnn import digit_images, to_pad_style


def test_article_network_shapes_and_initialisation():
    torch.manual_seed(0)
    model = ArticleConvNet()
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    assert sum(p.numel() for p in model.parameters()) == 320 + 18_496 + 31_370
    assert float(model.features[0].bias[0].detach()) == pytest.approx(0.1)
    assert float(model.features[0].weight.detach().std()) == pytest.approx(0.01, rel=0.3)


def test_flat_mnist_vectors_do_not_fit_the_placeholder():
    model = ArticleConvNet()
    with pytest.raises(ValueError, match=r"Cannot feed value of shape \(4, 784\)"):
        feed_as_given(model, np.zeros((4, 784), dtype=np.float32))
    assert feed_as_given(model, np.zeros((4, 28, 28, 1), dtype=np.float32)).shape == (4, 10)


def test_the_article_accuracy_is_the_share_of_zeros_whatever_the_model():
    torch.manual_seed(0)
    images, labels = digit_images("glyphs", 60, seed=3)
    x = torch.tensor(images)
    one_hot = np.eye(10)[labels]
    model = ArticleConvNet()
    train_article_cnn(model, x, torch.tensor(labels), epochs=1, batch_size=30, generator=torch.Generator().manual_seed(0))
    assert accuracy_as_given(model, x, one_hot) == pytest.approx(np.mean(labels == 0) * 100)

    perfect = torch.nn.Linear(1, 1)
    perfect.forward = lambda batch: torch.tensor(one_hot[_find(x, batch)])
    assert accuracy_fixed(perfect, x, labels) == 100.0
    assert accuracy_as_given(perfect, x, one_hot) == pytest.approx(np.mean(labels == 0) * 100)


def _find(x, batch):
    return [int(torch.nonzero((x == image).flatten(1).all(dim=1))[0]) for image in batch]


def test_digit_images_and_pad_style():
    images, labels = digit_images("sklearn", 10)
    assert images.shape == (10, 1, 32, 32) and images.dtype == np.float32 and labels.shape == (10,)
    glyphs, _ = digit_images("glyphs", 5)
    assert glyphs.shape == (5, 1, 28, 28)
    drawn = to_pad_style(glyphs)
    assert drawn.shape == glyphs.shape and set(np.unique(drawn)) <= {0.0, 1.0}
    np.testing.assert_array_equal(drawn[:, :, ::2, ::2], drawn[:, :, 1::2, 1::2])
    with pytest.raises(ValueError, match="source must be"):
        digit_images("mnist")


def test_mnist_digits_are_padded_not_stretched():
    from dlcore.data import load_mnist

    images, labels = digit_images("mnist-test", seed=0)
    assert images.shape == (1000, 1, 32, 32) and images.dtype == np.float32
    np.testing.assert_array_equal(np.bincount(labels), np.full(10, 100))
    assert not images[:, :, [0, 1, 30, 31]].any() and not images[:, :, :, [0, 1, 30, 31]].any()
    raw, raw_labels = load_mnist("test", dtype=np.float32)
    order = np.random.default_rng(0).permutation(1000)
    np.testing.assert_array_equal(images[:, 0, 2:30, 2:30], raw[order])
    np.testing.assert_array_equal(labels, raw_labels[order])
    few, _ = digit_images("mnist-train", 7, seed=1)
    assert few.shape == (7, 1, 32, 32)
