"""One PyTorch training loop for the chapters after 07: shuffled mini-batches, an optimizer step each, epoch means.

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def batch_loss(index):                          # index: the examples of one mini-batch
        return F.cross_entropy(model(x[index]), y[index])

    history = fit(model, optimizer, batch_loss, len(x), num_epochs=5, batch_size=32,
                  rng=torch.Generator().manual_seed(0))
    history["loss"]                                 # [mean loss of epoch 1, of epoch 2, ...]

The loop knows nothing about the model, the data or the loss: ``batch_loss(index)`` does the
forward pass of the examples ``index`` (from :func:`dlcore.training.batches.index_batches`)
and returns the loss. Each epoch: ``model.train()``, ``epoch_start(epoch)``, one permutation
of the examples drawn from ``rng``, then per batch, in this order: ``batch_loss``,
``zero_grad``, ``backward``, optional clipping of the gradient norm, ``step``; then
``epoch_end(epoch)``. ``batch_loss`` may draw more random numbers from the same generator
(a VAE's z, a denoiser's noise): they come after the epoch's permutation, batch by batch.

The epoch's mean is the average over its examples of the loss each had when its batch was
trained on: sum of (batch loss x batch size) / examples seen, in float64. ``batch_loss``
may also return a dict of scalars ``{"loss": ..., "kl": ...}``: "loss" is minimised and
every entry is averaged the same way. Chapter 07 builds the instrumented loop
(:class:`dlcore.training.loop.Trainer`, with events and per-layer statistics); this is
the lean one the later chapters train with. Importing this module imports torch.
"""

from __future__ import annotations

from typing import Callable, Mapping

import torch
from torch import nn

from dlcore.errors import ShapeError, expect_positive_int, expect_real, format_shape
from dlcore.training.batches import check_rng, index_batches, num_batches

__all__ = ["fit"]

BatchLoss = Callable[..., "torch.Tensor | Mapping[str, torch.Tensor]"]


def _terms(output) -> dict[str, torch.Tensor]:
    """batch_loss's result as {name: scalar}, "loss" first and a tensor with a graph."""
    terms = dict(output) if isinstance(output, Mapping) else {"loss": output}
    if "loss" not in terms:
        raise ValueError(f"fit: batch_loss returned a dict with keys {sorted(terms)}; it needs a 'loss' entry, "
                         f"the scalar to minimise")
    loss = terms["loss"]
    if not isinstance(loss, torch.Tensor):
        raise TypeError(f"fit: batch_loss must return the loss as a torch.Tensor (or a dict with one under 'loss'), "
                        f"got {type(loss).__name__}")
    if loss.numel() != 1:
        raise ShapeError(f"fit: batch_loss returned a loss of shape {format_shape(loss.shape)}; expected a scalar, "
                         f"e.g. the batch's mean (losses.mean())")
    return {"loss": loss, **terms}


def fit(model: nn.Module, optimizer: torch.optim.Optimizer, batch_loss: BatchLoss, num_examples: int, *,
        num_epochs: int, batch_size: int, rng, clip_grad_norm: float | None = None, drop_last: bool = False,
        epoch_start: Callable[[int], None] | None = None,
        epoch_end: Callable[[int], None] | None = None) -> dict[str, list[float]]:
    """Train for ``num_epochs`` epochs of shuffled mini-batches; return each epoch's mean losses.

    mean over an epoch = sum_batches (batch loss x batch size) / examples seen

    Args:
        model: the nn.Module being trained (set to training mode every epoch; its parameters are clipped).
        optimizer: a torch.optim optimizer over the parameters to train (e.g. Adam, SGD).
        batch_loss: ``batch_loss(index) -> loss``, a scalar tensor, or a dict of scalars with the one to
            minimise under "loss"; ``index`` is (B,) int64, a NumPy array or a tensor as ``rng`` decides.
        num_examples: N; each epoch visits the indices 0..N-1 once.
        num_epochs: passes over the N examples.
        batch_size: B, examples per optimizer step (the last batch of an epoch may be smaller).
        rng: np.random.Generator or torch.Generator; one permutation is drawn from it per epoch.
        clip_grad_norm: if set, scale the gradients to at most this total norm before each step.
        drop_last: leave out each epoch's last batch if it is smaller than B.
        epoch_start, epoch_end: called with the epoch number (1 for the first) before its shuffle and
            after its last step (e.g. to augment the inputs, or to evaluate).

    Returns:
        {name: [mean of epoch 1, mean of epoch 2, ...]}, with "loss" first.

    Raises:
        TypeError: for a model, optimizer, batch_loss, hook or rng of the wrong kind, or a size that is not an int.
        ValueError: for a size < 1, a non-positive clip_grad_norm, or drop_last leaving no batch.
        ShapeError: if batch_loss returns a loss that is not a scalar.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"fit: model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"fit: optimizer must be a torch.optim optimizer (e.g. torch.optim.Adam(model.parameters(), "
                        f"lr=1e-3)), got {type(optimizer).__name__}")
    if not callable(batch_loss):
        raise TypeError(f"fit: batch_loss must be a function of the batch's indices, got {type(batch_loss).__name__}")
    for name, hook in (("epoch_start", epoch_start), ("epoch_end", epoch_end)):
        if hook is not None and not callable(hook):
            raise TypeError(f"fit: {name} must be a function of the epoch number or None, got {type(hook).__name__}")
    num_examples = expect_positive_int("fit", "num_examples", num_examples)
    num_epochs = expect_positive_int("fit", "num_epochs", num_epochs)
    batch_size = expect_positive_int("fit", "batch_size", batch_size)
    if clip_grad_norm is not None:
        clip_grad_norm = expect_real("fit", "clip_grad_norm", clip_grad_norm, positive=True)
    if num_batches(num_examples, batch_size, drop_last=drop_last) == 0:
        raise ValueError(f"fit: drop_last with batch_size {batch_size} > num_examples {num_examples} leaves no batch")
    if check_rng("fit", rng) == "none":
        raise TypeError("fit: rng is None; pass a numpy Generator or a torch.Generator to shuffle every epoch")

    history: dict[str, list[float]] = {}
    for epoch in range(1, num_epochs + 1):
        model.train()
        if epoch_start is not None:
            epoch_start(epoch)
        totals: dict[str, float] = {}
        seen = 0
        for index in index_batches(num_examples, batch_size, rng, drop_last=drop_last):
            terms = _terms(batch_loss(index))
            optimizer.zero_grad()
            terms["loss"].backward()
            if clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
            optimizer.step()
            for name, value in terms.items():  # .item(), not float(): no warning about the graph
                number = value.item() if isinstance(value, torch.Tensor) else float(value)
                totals[name] = totals.get(name, 0.0) + number * len(index)
            seen += len(index)
        for name, total in totals.items():
            history.setdefault(name, []).append(total / seen)
        if epoch_end is not None:
            epoch_end(epoch)
    return history
