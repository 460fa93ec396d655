"""A small training loop for scratch models: forward, loss, backward, SGD update (chapter 05).

One step is the whole of supervised learning by gradient descent::

    model.zero_grad()
    out = model.forward(x_batch)                      # (N, M) scores
    loss, cache = loss_forward(out, y_batch)          # a mean over the batch
    model.backward(loss_backward(cache))              # fills every param.grad
    for param in model.parameters():
        param.value -= learning_rate * param.grad     # plain SGD

The loop knows nothing about plots or widgets: it fills a :class:`History`
and, if asked, calls ``on_epoch_end(epoch, history)`` (a live plot can
listen there). Chapter 06 replaces the last line by other optimizers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from dlcore.errors import ShapeError, as_float_array, expect_ndim, expect_positive_int, expect_real, format_shape
from dlcore.scratch.losses import (
    binary_cross_entropy_with_logits_backward,
    binary_cross_entropy_with_logits_forward,
    mse_backward,
    mse_forward,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)
from dlcore.scratch.module import Module

__all__ = ["LossSpec", "LOSSES", "History", "sgd_step", "train_step", "evaluate", "train"]


def _binary_accuracy(logits: np.ndarray, target: np.ndarray) -> float:
    return float(np.mean((logits > 0) == (target > 0.5)))  # logit > 0 <=> probability > 1/2


def _multiclass_accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(logits, axis=1) == labels))


class LossSpec(NamedTuple):
    """A loss the loop can use: its forward/backward pair and, for classifiers, an accuracy."""

    forward: Callable
    backward: Callable
    accuracy: Callable[[np.ndarray, np.ndarray], float] | None


LOSSES: dict[str, LossSpec] = {
    "mse": LossSpec(mse_forward, mse_backward, None),
    "binary_cross_entropy_with_logits": LossSpec(
        binary_cross_entropy_with_logits_forward, binary_cross_entropy_with_logits_backward, _binary_accuracy),
    "softmax_cross_entropy": LossSpec(
        softmax_cross_entropy_forward, softmax_cross_entropy_backward, _multiclass_accuracy),
}


def _get_loss(func: str, loss: str) -> LossSpec:
    if loss not in LOSSES:
        raise ValueError(f"{func}: unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    return LOSSES[loss]


@dataclass
class History:
    """Per-epoch measurements, each taken on the whole set after that epoch's updates.

    ``accuracy`` and ``val_accuracy`` stay empty for a regression loss (mse);
    the ``val_*`` lists stay empty without validation data.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.loss)


def _check_model(func: str, model: object) -> None:
    if not isinstance(model, Module):
        raise TypeError(f"{func}: model must be a dlcore scratch Module, got {type(model).__name__}")


def sgd_step(model: Module, learning_rate: float) -> None:
    """theta <- theta - learning_rate * dL/dtheta for every parameter of ``model``, in place."""
    _check_model("sgd_step", model)
    learning_rate = expect_real("sgd_step", "learning_rate", learning_rate)
    for parameter in model.parameters():
        parameter.value -= learning_rate * parameter.grad


def train_step(model: Module, x: np.ndarray, y: np.ndarray, loss: str, learning_rate: float) -> float:
    """One forward pass, backward pass and SGD update on one batch; returns the batch loss (before the update)."""
    _check_model("train_step", model)
    spec = _get_loss("train_step", loss)
    expect_real("train_step", "learning_rate", learning_rate)
    model.zero_grad()  # gradients accumulate: clear last step's
    out = model.forward(x)
    value, cache = spec.forward(out, y)
    model.backward(spec.backward(cache))
    sgd_step(model, learning_rate)
    return value


def evaluate(model: Module, x: np.ndarray, y: np.ndarray, loss: str) -> tuple[float, float | None]:
    """(loss, accuracy) of ``model`` on the whole of (x, y), in eval mode; accuracy None for mse."""
    _check_model("evaluate", model)
    spec = _get_loss("evaluate", loss)
    was_training = model.training
    model.eval()
    try:
        out = model.forward(x)
    finally:
        model.train(was_training)
    value, _ = spec.forward(out, y)
    accuracy = spec.accuracy(out, y) if spec.accuracy is not None else None
    return value, accuracy


def _check_positive_int(func: str, name: str, value) -> int:
    return expect_positive_int(func, name, value)


def train(
    model: Module,
    x: np.ndarray,
    y: np.ndarray,
    *,
    loss: str,
    learning_rate: float,
    num_epochs: int,
    rng: np.random.Generator,
    batch_size: int | None = None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    on_epoch_end: Callable[[int, History], None] | None = None,
) -> History:
    """Train ``model`` by minibatch SGD and return its :class:`History`.

    Each epoch visits every example once, in an order drawn from ``rng``,
    in batches of ``batch_size`` (None: the whole set, full-batch gradient
    descent; the order then does not matter).

    Args:
        model: a scratch Module (e.g. a Sequential of Linear and activations).
        x: (N, D) inputs. y: targets in the shape the loss expects from the
            model's output: (N, M) floats for mse, (N, 1) zeros and ones for
            binary_cross_entropy_with_logits, (N,) int labels for softmax_cross_entropy.
        loss: a name from :data:`LOSSES`.
        learning_rate: the SGD step size, > 0.
        num_epochs: passes over the data, >= 1.
        rng: the generator that shuffles.
        validation: optional (x_val, y_val) measured after every epoch.
        on_epoch_end: called as on_epoch_end(epoch, history), epoch counted from 1.

    Returns:
        The History.

    Raises:
        ValueError / TypeError: bad arguments. ShapeError: x not 2-D or
        len(x) != len(y) (a wrong target shape is reported by the loss).
        FloatingPointError: if the loss stops being finite (a learning rate
        too large makes the updates diverge).
    """
    func = "train"
    if not isinstance(model, Module):
        raise TypeError(f"{func}: model must be a dlcore scratch Module, got {type(model).__name__}")
    spec = _get_loss(func, loss)
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or not (
            np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"{func}: learning_rate must be a positive finite number, got {learning_rate!r}")
    num_epochs = _check_positive_int(func, "num_epochs", num_epochs)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{func}: rng must be a numpy Generator (e.g. np.random.default_rng(0)), got {type(rng).__name__}")
    x = as_float_array(func, "x", x)
    expect_ndim(func, "x", x, 2, "(N, D): one row per example")
    y = np.asarray(y)
    N = x.shape[0]
    if y.ndim == 0 or y.shape[0] != N:
        raise ShapeError(f"{func}: y has shape {format_shape(y.shape)} but x has {N} rows; expected y.shape[0] == N ({N})")
    batch_size = N if batch_size is None else min(_check_positive_int(func, "batch_size", batch_size), N)

    history = History()
    for epoch in range(1, num_epochs + 1):
        order = rng.permutation(N) if batch_size < N else np.arange(N)
        for start in range(0, N, batch_size):
            batch = order[start:start + batch_size]
            train_step(model, x[batch], y[batch], loss, learning_rate)
        value, accuracy = evaluate(model, x, y, loss)
        if not np.isfinite(value):
            raise FloatingPointError(
                f"{func}: the training loss became {value} at epoch {epoch}; the updates diverged. "
                f"Lower learning_rate (now {learning_rate:g})."
            )
        history.loss.append(value)
        if spec.accuracy is not None:
            history.accuracy.append(accuracy)
        if validation is not None:
            val_loss, val_accuracy = evaluate(model, *validation, loss)
            history.val_loss.append(val_loss)
            if spec.accuracy is not None:
                history.val_accuracy.append(val_accuracy)
        if on_epoch_end is not None:
            on_epoch_end(epoch, history)
    return history
