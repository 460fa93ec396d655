"""Transfer learning without downloads: pretrain on digits 0-4, fine-tune on 5-9 (chapter 15).

The source task has plenty of labels; the target task has a few per class.
Three ways to use the pretrained network on the target:

- ``"frozen"``: keep every pretrained layer fixed, train only a new output layer
  (the pretrained layers are a fixed feature extractor);
- ``"full"``: start from the pretrained weights and train everything (fine-tuning);
- ``"scratch"``: ignore the pretraining, train the same architecture from random weights.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from dlcore.practice.common import DigitsSplit, as_tensors, fit, make_cnn

__all__ = ["TransferTask", "make_transfer_task", "pretrain", "fine_tune", "MODES"]

MODES = ("frozen", "full", "scratch")


class TransferTask(NamedTuple):
    """Tensors (N, D) and labels 0..K-1 for the source task and the few-label target task."""

    source_x: torch.Tensor
    source_y: torch.Tensor
    target_x: torch.Tensor
    target_y: torch.Tensor
    target_test_x: torch.Tensor
    target_test_y: torch.Tensor


def _select(images: np.ndarray, y: np.ndarray, classes: tuple[int, ...]):
    keep = np.isin(y, classes)
    relabel = np.searchsorted(np.asarray(classes), y[keep])  # classes (5, ..., 9) -> labels 0..4
    return images[keep], relabel


def make_transfer_task(split: DigitsSplit, *, source: tuple[int, ...] = (0, 1, 2, 3, 4),
                       target: tuple[int, ...] = (5, 6, 7, 8, 9), per_class: int = 5, seed: int = 0) -> TransferTask:
    """All training images of the ``source`` classes; ``per_class`` labelled images of each ``target`` class."""
    rng = np.random.default_rng(seed)
    source_images, source_y = _select(split.images_train, split.y_train, source)
    target_images, target_y = _select(split.images_train, split.y_train, target)
    few = np.concatenate([rng.choice(np.flatnonzero(target_y == k), per_class, replace=False)
                          for k in range(len(target))])
    test_images, test_y = _select(split.images_test, split.y_test, target)
    return TransferTask(*as_tensors(source_images, source_y), *as_tensors(target_images[few], target_y[few]),
                        *as_tensors(test_images, test_y))


def pretrain(task: TransferTask, *, num_epochs: int = 20, seed: int = 0, dtype: torch.dtype = torch.float32,
             image_size: int = 8) -> nn.Sequential:
    """A small CNN (``common.make_cnn``) trained on the source task (one output per source class).

    ``dtype``: torch.float32 or torch.float64 (ValueError for another); :func:`fine_tune` keeps it.
    """
    num_classes = int(task.source_y.max()) + 1
    model = make_cnn(num_classes, seed=seed, image_size=image_size, dtype=dtype)
    fit(model, task.source_x, task.source_y, num_epochs=num_epochs, learning_rate=3e-3, seed=seed)
    return model


def fine_tune(pretrained: nn.Sequential, task: TransferTask, mode: str, *, num_epochs: int = 30,
              learning_rate: float | None = None, seed: int = 1,
              evaluate_every: int = 1) -> tuple[nn.Sequential, list[float]]:
    """Adapt ``pretrained`` (left unchanged) to the target task; returns the model and its test-accuracy curve.

    The output layer is always new (the target has other classes); ``mode``
    decides what happens to the layers below it (see the module docstring).
    The default learning rate is 1e-2 for a lone output layer, 3e-3 otherwise. New layers
    (and the from-scratch network) get the pretrained network's dtype and image size. The curve
    holds the test accuracy after every ``evaluate_every``-th epoch.
    """
    if mode not in MODES:
        raise ValueError(f"fine_tune: mode must be one of {MODES}, got {mode!r}")
    num_classes = int(task.target_y.max()) + 1
    dtype = pretrained[-1].weight.dtype
    if mode == "scratch":
        image_size = pretrained[0].unflattened_size[-1]  # nn.Unflatten(1, (1, H, W))
        model = make_cnn(num_classes, seed=seed, image_size=image_size, dtype=dtype)
    else:
        model = copy.deepcopy(pretrained)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model[-1] = nn.Linear(model[-1].in_features, num_classes, dtype=dtype)
    trained = model[-1].parameters() if mode == "frozen" else model.parameters()
    for parameter in model.parameters():
        parameter.requires_grad_(mode != "frozen")
    for parameter in model[-1].parameters():
        parameter.requires_grad_(True)
    if learning_rate is None:
        learning_rate = 1e-2 if mode == "frozen" else 3e-3
    curve = fit(model, task.target_x, task.target_y, num_epochs=num_epochs, learning_rate=learning_rate,
                batch_size=16, seed=seed, parameters=trained, evaluate=(task.target_test_x, task.target_test_y),
                evaluate_every=evaluate_every)
    return model, curve
