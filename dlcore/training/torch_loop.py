"""The PyTorch training loop, written out: a dataset, a mini-batch loader, one epoch, an evaluation, a checkpoint (chapter 08).

    train_set = ArrayDataset(X_train, y_train)                 # float32 features, int64 labels
    loader = MiniBatchLoader(train_set, batch_size=32, shuffle=True, seed=0)
    for epoch in range(num_epochs):
        train_loss = train_epoch(model, loader, optimizer, device)
        test_loss, test_accuracy = evaluate(model, test_loader, device)
    save_checkpoint(path, model, optimizer, epoch)
    epoch = load_checkpoint(path, model, optimizer, device)

These are the references of chapter 08's exercises 8.1-8.3 (the chapter runs on the
learner's versions once their checks pass). Importing this module imports torch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlcore.models.mlp import DigitMLP, digit_mlp  # the chapter's MLP; kept importable from here

__all__ = ["ArrayDataset", "MiniBatchLoader", "train_epoch", "evaluate", "save_checkpoint", "load_checkpoint",
           "DigitMLP", "digit_mlp"]


class ArrayDataset(torch.utils.data.Dataset):
    """Examples ``(x[i], y[i])`` from arrays: x (N, D) as float32, y (N,) class indices as int64."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        if len(x) != len(y):
            raise ValueError(f"ArrayDataset: x has {len(x)} rows but y has {len(y)} labels")
        self.x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
        self.y = torch.as_tensor(np.asarray(y), dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[index], self.y[index]


class MiniBatchLoader:
    """Mini-batches ``(x_batch (B, D), y_batch (B,))`` of a dataset; a new random order every epoch when shuffling.

    Every example is in exactly one batch per epoch; the last batch holds the remainder
    (``len(dataset) % batch_size`` examples, if any). The order of each epoch is drawn with
    ``torch.randperm`` from a generator seeded once, in the constructor, with ``seed``.
    """

    def __init__(self, dataset, batch_size: int, shuffle: bool = False, seed: int = 0) -> None:
        if batch_size < 1:
            raise ValueError(f"MiniBatchLoader: batch_size must be at least 1, got {batch_size}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-len(self.dataset) // self.batch_size)  # ceil: the last, partial batch counts

    def __iter__(self):
        count = len(self.dataset)
        order = torch.randperm(count, generator=self.generator) if self.shuffle else torch.arange(count)
        for start in range(0, count, self.batch_size):
            examples = [self.dataset[int(i)] for i in order[start:start + self.batch_size]]
            xs, ys = zip(*examples)
            yield torch.stack(xs), torch.stack(ys)


def train_epoch(model: nn.Module, loader, optimizer: torch.optim.Optimizer, device: torch.device | str) -> float:
    """One pass over ``loader`` in training mode, one optimizer step per batch on the cross-entropy of the logits.

    Returns the epoch's training loss: the mean over its examples of each example's loss when its
    batch was trained on (a Python float).
    """
    model.train()
    total, count = 0.0, 0
    for x_batch, y_batch in loader:
        x_batch, y_batch = x_batch.to(device), y_batch.to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x_batch), y_batch)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y_batch)
        count += len(y_batch)
    return total / count


def evaluate(model: nn.Module, loader, device: torch.device | str) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) over every example of ``loader``, in evaluation mode and without a graph."""
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x_batch, y_batch in loader:
            x_batch, y_batch = x_batch.to(device), y_batch.to(device)
            logits = model(x_batch)
            total += F.cross_entropy(logits, y_batch, reduction="sum").item()
            correct += int((logits.argmax(dim=1) == y_batch).sum())
            count += len(y_batch)
    return total / count, correct / count


def save_checkpoint(path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int) -> None:
    """Write what resuming needs to ``path``: the model's and the optimizer's state dicts and the epoch."""
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch}, path)


def load_checkpoint(path: str | Path, model: nn.Module, optimizer: torch.optim.Optimizer,
                    device: torch.device | str) -> int:
    """Load a checkpoint of :func:`save_checkpoint` into ``model`` and ``optimizer`` (tensors onto ``device``); returns its epoch."""
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"]
