"""Article 003, section 4.1: a TensorFlow 1 CNN for MNIST, rebuilt in PyTorch, bugs and all (chapter 09).

The article's network, in words: a 28x28x1 input; a 3x3 convolution to 32
channels ("SAME" padding), ReLU, 2x2 max pooling; a 3x3 convolution to 64
channels, ReLU, 2x2 max pooling; flatten 7*7*64 = 3136 values; one linear
layer to 10 logits; softmax cross-entropy, Adam at its default rate 1e-3.
Convolution weights are drawn from N(0, 0.01^2), the output weights by Xavier
initialisation, and every bias starts at 0.1. The architecture is sound. The
script around it is not:

1. ``main`` runs ``sess.run([optimizer, cost], ...)`` but ``optimizer`` is a
   local variable of ``ConvNet.__init__`` (lost when it returns) and ``cost``
   is ``model.cost``: the script stops with a NameError at its first step.
   ``np`` is used but never imported: another NameError at the test loop.
2. The MNIST loader the article uses returns each image as a flat vector of
   784 values, but the placeholder expects (N, 28, 28, 1): feeding a batch
   fails ("Cannot feed value of shape (128, 784) ..."). A reshape is missing.
3. The test loop computes ``np.argmax(model.predict(image))``, but
   ``predict`` already returns the arg-max class, as an array of length 1;
   the arg-max of a length-1 array is always 0. The loop therefore counts a
   test image as correct exactly when its label is 0, and reports the share
   of zeros in the test set (about 10 %), whatever the network learned.
4. It predicts the 10,000 test images one ``sess.run`` at a time (slow; a
   batch does it in one call), prints the cost of the *last* batch of each
   epoch as if it described the epoch, calls the flattened features
   ``self.logits`` (the logits are ``self.prediction``), and ``evaluate``,
   which would have computed the accuracy correctly, is never called.

Here ``ArticleConvNet`` is the network in PyTorch (NCHW instead of NHWC, which
only permutes the flattened features); ``feed_as_given`` and
``accuracy_as_given`` reproduce bugs 2 and 3; ``accuracy_fixed`` and
``train_article_cnn`` are the corrections.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dlcore.training.torch_fit import fit

__all__ = ["ArticleConvNet", "predict_as_given", "feed_as_given", "accuracy_as_given", "accuracy_fixed",
           "train_article_cnn"]


class ArticleConvNet(nn.Module):
    """The article's CNN: (N, 1, 28, 28) -> (N, 10) logits, with the article's initialisation."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # (N, 32, 14, 14); "SAME" = padding 1
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (N, 64, 7, 7)
            nn.Flatten(),                                                  # (N, 3136)
        )
        self.output = nn.Linear(7 * 7 * 64, 10)
        with torch.no_grad():
            for conv in (self.features[0], self.features[3]):
                conv.weight.normal_(0.0, 0.01)
                conv.bias.fill_(0.1)
            nn.init.xavier_uniform_(self.output.weight)
            self.output.bias.fill_(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.features(x))


def predict_as_given(model: nn.Module, images: torch.Tensor) -> np.ndarray:
    """The article's ``predict``: the arg-max class of each image, shape (N,)."""
    with torch.no_grad():
        return model(images).argmax(dim=1).numpy()


def feed_as_given(model: nn.Module, flat_batch: np.ndarray) -> torch.Tensor:
    """Feed a batch the way the article does, checking it against the placeholder's shape (?, 28, 28, 1).

    Raises:
        ValueError: for MNIST's flat (N, 784) vectors, as TensorFlow 1 does.
    """
    if flat_batch.ndim != 4 or flat_batch.shape[1:] != (28, 28, 1):
        raise ValueError(f"Cannot feed value of shape {tuple(flat_batch.shape)} for a placeholder of shape "
                         f"(?, 28, 28, 1)")
    x = torch.as_tensor(flat_batch, dtype=torch.float32).permute(0, 3, 1, 2)  # NHWC -> NCHW
    return model(x)


def accuracy_as_given(model: nn.Module, images: torch.Tensor, one_hot: np.ndarray) -> float:
    """The article's test loop, one image at a time, arg-max of an arg-max included (bug 3), in percent."""
    correct = 0
    for i in range(len(images)):
        if np.argmax(predict_as_given(model, images[i:i + 1])) == np.argmax(one_hot[i]):
            correct += 1
    return correct / len(images) * 100


def accuracy_fixed(model: nn.Module, images: torch.Tensor, labels: np.ndarray) -> float:
    """Accuracy in percent: one batched prediction compared with the labels."""
    return float(np.mean(predict_as_given(model, images) == labels) * 100)


def train_article_cnn(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, epochs: int = 1,
                      batch_size: int = 128, generator: torch.Generator) -> list[float]:
    """Adam (lr 1e-3) on softmax cross-entropy, as the article intends; returns each epoch's *mean* loss.

    images (N, 1, 28, 28) float32, labels (N,) int64 class indices (PyTorch's cross-entropy takes
    indices; the article's one-hot labels hold the same information).
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)  # kept, unlike the article's

    def batch_loss(batch: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(model(images[batch]), labels[batch])

    return fit(model, optimizer, batch_loss, len(images), num_epochs=epochs, batch_size=batch_size,
               rng=generator)["loss"]
