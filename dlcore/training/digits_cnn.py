"""Digit images for LeNet-5 and two short training runs, NumPy and PyTorch (chapter 09).

Both are plain: shuffle, mini-batch, Adam, mean loss per epoch, with the same batches for
the same ``rng`` (:func:`dlcore.training.batches.index_batches`). The NumPy loop is written
out; the PyTorch one is :func:`dlcore.training.torch_fit.fit`, which takes the same steps.
:class:`dlcore.training.loop.Trainer` does the same with per-layer statistics and events;
here nothing is recorded but the loss, to keep the chapter fast.

:func:`train_pad_lenet` is the PyTorch run behind chapter 09's digit pad
(:class:`dlcore.widgets.digit_pad.DigitPad`): a LeNet-5 trained on digits drawn the pad's way.
"""

from __future__ import annotations

import numpy as np

from dlcore.training.batches import index_batches

__all__ = ["digit_images", "to_pad_style", "train_scratch_cnn", "scratch_accuracy", "train_torch_cnn",
           "torch_accuracy", "train_pad_lenet"]


def digit_images(source: str, num_samples: int | None = None, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Digits as LeNet inputs: images (N, 1, S, S) float32 in [0, 1] and labels (N,) int64.

    source "mnist-train" / "mnist-test": the real 28x28 MNIST digits of :func:`dlcore.data.load_mnist`
    (4,000 / 1,000), zero-padded to LeNet-5's 32x32 (:func:`dlcore.data.mnist.pad_images`), in a
    seeded shuffle (the first ``num_samples`` of it, or all).
    source "sklearn": scikit-learn's 8x8 digits, each pixel repeated 4x4 times -> 32x32
    (all 1,797, or the first ``num_samples`` after a seeded shuffle).
    source "glyphs": the course's procedurally drawn 28x28 digits
    (:func:`dlcore.data.glyphs.make_digits28`, ``num_samples`` of them, default 2,000).
    """
    rng = np.random.default_rng(seed)
    if source in ("mnist-train", "mnist-test"):
        from dlcore.data import load_mnist
        from dlcore.data.mnist import pad_images

        X, y = load_mnist(source.split("-")[1], dtype=np.float32)  # (N, 28, 28), sorted by class
        order = rng.permutation(len(X))[:num_samples]
        return pad_images(X[order])[:, None], y[order]  # (N, 1, 32, 32)
    if source == "sklearn":
        from dlcore.data import load_digits

        X, y = load_digits()  # (1797, 8, 8) in [0, 1]
        order = rng.permutation(len(X))[:num_samples]
        images = np.kron(X[order], np.ones((4, 4)))  # (N, 32, 32): nearest-neighbour upsampling
        return images[:, None].astype(np.float32), y[order]
    if source == "glyphs":
        from dlcore.data.glyphs import make_digits28

        X, y = make_digits28(2000 if num_samples is None else num_samples, rng=rng)
        return X[:, None].astype(np.float32), y.astype(np.int64)
    raise ValueError(f"digit_images: source must be 'mnist-train', 'mnist-test', 'sklearn' or 'glyphs', "
                     f"got {source!r}")


def to_pad_style(images: np.ndarray, threshold: float = 0.3) -> np.ndarray:
    """28x28 images as the digit pad draws them: 2x2 blocks averaged to 14x14, inked or not, repeated back.

    images (N, 1, 28, 28) -> (N, 1, 28, 28) float32 of 0s and 1s.
    """
    N = images.shape[0]
    blocks = images.reshape(N, 14, 2, 14, 2).mean(axis=(2, 4))  # (N, 14, 14)
    cells = (blocks > threshold).astype(np.float32)
    return np.kron(cells, np.ones((2, 2), dtype=np.float32))[:, None]  # (N, 1, 28, 28)


def train_scratch_cnn(model, images: np.ndarray, labels: np.ndarray, *, num_epochs: int, batch_size: int = 32,
                      learning_rate: float = 1e-3, rng: np.random.Generator) -> list[float]:
    """Adam on softmax cross-entropy for a dlcore scratch model; returns the mean loss of each epoch."""
    from dlcore.scratch.losses import softmax_cross_entropy_backward, softmax_cross_entropy_forward
    from dlcore.scratch.optim import Adam

    optimizer = Adam(model.parameters(), lr=learning_rate)
    losses = []
    for _ in range(num_epochs):
        total = 0.0
        for batch in index_batches(len(images), batch_size, rng):
            loss, cache = softmax_cross_entropy_forward(model.forward(images[batch]), labels[batch])
            optimizer.zero_grad()
            model.backward(softmax_cross_entropy_backward(cache))
            optimizer.step()
            total += loss * len(batch)
        losses.append(total / len(images))
    return losses


def scratch_accuracy(model, images: np.ndarray, labels: np.ndarray, batch_size: int = 256) -> float:
    """Share of images whose largest logit is the label's (evaluated in batches)."""
    model.eval()
    correct = sum(int(np.sum(model.forward(images[i:i + batch_size]).argmax(axis=1) == labels[i:i + batch_size]))
                  for i in range(0, len(images), batch_size))
    model.train()
    return correct / len(images)


def train_torch_cnn(model, images: np.ndarray, labels: np.ndarray, *, num_epochs: int, batch_size: int = 32,
                    learning_rate: float = 1e-3, rng: np.random.Generator) -> list[float]:
    """The same training for a PyTorch model, in the model's dtype; returns the mean loss of each epoch."""
    import torch

    from dlcore.training.torch_fit import fit

    dtype = next(model.parameters()).dtype  # float32, or float64 for runs that print exact numbers
    x, y = torch.as_tensor(images, dtype=dtype), torch.as_tensor(labels, dtype=torch.int64)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    def batch_loss(batch: np.ndarray) -> torch.Tensor:
        index = torch.as_tensor(batch)
        return torch.nn.functional.cross_entropy(model(x[index]), y[index])

    return fit(model, optimizer, batch_loss, len(images), num_epochs=num_epochs, batch_size=batch_size,
               rng=rng)["loss"]


def torch_accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    """Share of images whose largest logit is the label's."""
    import torch

    model.eval()
    with torch.no_grad():
        images = torch.as_tensor(images, dtype=next(model.parameters()).dtype)
        predictions = model(images).argmax(dim=1).numpy()
    model.train()
    return float(np.mean(predictions == labels))


def train_pad_lenet(num_samples: int = 1000, num_epochs: int = 2, seed: int = 0):
    """A LeNet5(input_size=28) trained on MNIST training digits drawn the digit pad's way (chapter 09's pad).

    The first ``num_samples`` of the seeded shuffle of :func:`digit_images` ("mnist-train"), cut back to
    MNIST's own 28x28 and drawn by :func:`to_pad_style`, train for ``num_epochs`` with
    :func:`train_torch_cnn` (batches of 64, weights drawn from ``seed``): a few seconds on a CPU.

    Returns:
        the model, in eval mode.
    """
    import torch

    from dlcore.models.lenet import LeNet5

    images, labels = digit_images("mnist-train", num_samples, seed=seed)
    images = images[:, :, 2:30, 2:30]  # MNIST's own 28x28: the model's C1 pads
    torch.manual_seed(seed)
    model = LeNet5(input_size=28)
    train_torch_cnn(model, to_pad_style(images), labels, num_epochs=num_epochs, batch_size=64,
                    rng=np.random.default_rng(seed))
    return model.eval()
