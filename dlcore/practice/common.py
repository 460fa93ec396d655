"""What the chapter's experiments share: digits as tensors, a small MLP and CNN, a short training loop (chapter 15).

Every function takes its randomness as an explicit ``seed`` and leaves PyTorch's
global generator alone (``torch.random.fork_rng``), so experiments can run in
any order and give the same numbers.

The models can be built in float64 (``dtype=torch.float64``): the chapter does so,
because float32 sums are rounded differently on CPUs with other instruction sets,
and after a few hundred training steps a test image or two near a decision
boundary changes class; in float64 the same drift stays far below what the
printed accuracies can show. :func:`fit` and :func:`accuracy` hand the inputs to
a model in its own dtype, so float32 data serve models of either precision.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from dlcore.data import load_digits, train_test_split
from dlcore.errors import check_float_dtype
from dlcore.models.mlp import make_mlp  # the chapter's MLP; kept importable from here
from dlcore.training import torch_fit

__all__ = ["DigitsSplit", "digits_split", "mnist_split", "as_tensors", "make_mlp", "make_cnn", "fit", "accuracy", "tensor_bytes",
           "default_device"]


def _input_dtype(model: nn.Module) -> torch.dtype | None:
    """The dtype of the model's first floating-point parameter (None for a model without any, e.g. int8)."""
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), None)


class DigitsSplit(NamedTuple):
    """Images (N, H, W) float32 in [0, 1] and labels (N,) int64, for training and testing."""

    images_train: np.ndarray
    y_train: np.ndarray
    images_test: np.ndarray
    y_test: np.ndarray


def digits_split(test_fraction: float = 0.3, seed: int = 0) -> DigitsSplit:
    """scikit-learn's 1,797 8x8 digits, split once into training and test images."""
    images, y = load_digits()
    train_x, test_x, train_y, test_y = train_test_split(images.astype(np.float32), y, test_fraction=test_fraction,
                                                        seed=seed)
    return DigitsSplit(train_x, train_y, test_x, test_y)


def mnist_split() -> DigitsSplit:
    """The course's 5,000 real 28x28 MNIST digits (``dlcore.data.load_mnist``): 4,000 training, 1,000 test, float32."""
    from dlcore.data import load_mnist

    images_train, y_train = load_mnist("train", dtype=np.float32)
    images_test, y_test = load_mnist("test", dtype=np.float32)
    return DigitsSplit(images_train, y_train, images_test, y_test)


def as_tensors(images: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, H, W) images and (N,) labels -> float32 (N, H*W) inputs and int64 labels."""
    x = torch.as_tensor(np.asarray(images, dtype=np.float32).reshape(len(images), -1))  # (N, H*W)
    return x, torch.as_tensor(np.asarray(y, dtype=np.int64))


def fit(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, num_epochs: int, learning_rate: float = 1e-2,
        batch_size: int = 64, seed: int = 0, weight_decay: float = 0.0,
        parameters: Sequence[torch.Tensor] | None = None, evaluate: tuple | None = None,
        loss_fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None, evaluate_every: int = 1) -> list[float]:
    """Adam on mini-batches for ``num_epochs``; returns the accuracy on ``evaluate=(x, y)`` after every
    ``evaluate_every``-th epoch (each epoch by default).

    ``parameters`` restricts what is trained (frozen layers are simply left out);
    ``loss_fn(logits, y, index)`` replaces cross-entropy (distillation passes the
    teacher's logits for the batch ``index``); ``augment(x)`` returns a fresh
    augmented copy of the training inputs at the start of every epoch. The inputs
    (and the augmented copies) are converted to the model's dtype, so float32 data
    train a float64 model. The loop is :func:`dlcore.training.torch_fit.fit`, shuffled
    by a torch.Generator seeded with ``seed``.
    """
    params = list(model.parameters()) if parameters is None else list(parameters)
    optimizer = torch.optim.Adam(params, lr=learning_rate, weight_decay=weight_decay)
    dtype = _input_dtype(model) or x.dtype
    inputs, curve = x, []  # replaced at the start of every epoch

    def new_inputs(epoch: int) -> None:
        nonlocal inputs
        inputs = (x if augment is None else augment(x)).to(dtype)

    def batch_loss(index: torch.Tensor) -> torch.Tensor:
        logits = model(inputs[index])
        return nn.functional.cross_entropy(logits, y[index]) if loss_fn is None else loss_fn(logits, y[index], index)

    def record(epoch: int) -> None:
        if evaluate is not None and epoch % evaluate_every == 0:
            curve.append(accuracy(model, *evaluate))

    torch_fit.fit(model, optimizer, batch_loss, len(x), num_epochs=num_epochs, batch_size=batch_size,
                  rng=torch.Generator().manual_seed(seed), epoch_start=new_inputs, epoch_end=record)
    return curve


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of ``x`` classified as ``y`` (evaluation mode, no gradients).

    ``x`` is converted to the dtype of the model's floating-point parameters; a model without
    any (the int8 models of chapter 15) gets ``x`` as it is.
    """
    model.eval()
    dtype = _input_dtype(model)
    predictions = model(x if dtype is None else x.to(dtype)).argmax(dim=1)
    return float((predictions == y).float().mean())


def tensor_bytes(model: nn.Module) -> int:
    """Bytes of everything the model stores (parameters and buffers, e.g. int8 weights and their scales)."""
    return sum(t.numel() * t.element_size() for t in model.state_dict().values() if isinstance(t, torch.Tensor))


def default_device() -> torch.device:
    """CUDA if present, else Apple's MPS if present, else the CPU: code written against it runs anywhere."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def make_cnn(num_classes: int = 10, *, channels: int = 16, seed: int = 0, image_size: int = 8,
             dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """Two 3x3 convolution + ReLU + 2x2 max-pool blocks on (N, H*W) inputs, then a Linear to the class scores.

    ``dtype`` (torch.float32 or torch.float64) as in :func:`make_mlp`.
    """
    check_float_dtype("make_cnn", dtype)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        side = image_size // 4  # two 2x2 poolings
        return nn.Sequential(
            nn.Unflatten(1, (1, image_size, image_size)),  # (N, H*W) -> (N, 1, H, W)
            nn.Conv2d(1, channels, 3, padding=1, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, 3, padding=1, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),  # (N, 2C * side * side)
            nn.Linear(2 * channels * side * side, num_classes, dtype=dtype),
        )
