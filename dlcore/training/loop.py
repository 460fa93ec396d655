"""One training loop for scratch models and PyTorch models alike (chapter 07; used from then on).

    trainer = Trainer(model, optimizer, loss="softmax_cross_entropy", record_every=10)
    trainer.attach(dashboard)                       # anything listening to the events
    history = trainer.fit(X, y, num_epochs=50, batch_size=32, rng=rng, validation=(X_val, y_val))

Each step: forward and backward on a mini-batch (capturing per-layer
activations and their gradients on recorded steps), optional gradient-norm
clipping, the optimizer's step, then the ``"step_end"`` event. Each epoch
ends with the losses on the whole training and validation sets (evaluation
mode) and the ``"epoch_end"`` event; early stopping is checked there.

The model decides the machinery: a :class:`dlcore.scratch.module.Module`
is trained with a ``dlcore.scratch.optim`` optimizer, an ``nn.Module`` with a
``torch.optim`` one. The loop itself knows nothing about plots or widgets.
"""

from __future__ import annotations

import sys
import numpy as np

from dlcore.errors import ShapeError, as_float_array, expect_positive_int, format_shape
from dlcore.scratch.module import Module
from dlcore.scratch.regularization import EarlyStopping
from dlcore.training.events import EVENT_NAMES, EventBus, TrainingEvent
from dlcore.training.history import History
from dlcore.training.scratch_adapter import ScratchAdapter
from dlcore.training.stats import Snapshot, snapshot_from_arrays, update_ratio

__all__ = ["Trainer", "train", "measure", "make_adapter"]


def make_adapter(model, optimizer, loss: str):
    """A ScratchAdapter or a TorchAdapter, by the kind of ``model``."""
    if isinstance(model, Module):
        return ScratchAdapter(model, optimizer, loss)
    torch = sys.modules.get("torch")  # a torch model means torch is already imported
    if torch is not None and isinstance(model, torch.nn.Module):
        from dlcore.training.torch_adapter import TorchAdapter

        return TorchAdapter(model, optimizer, loss)
    raise TypeError(f"train: model must be a dlcore scratch Module or a torch.nn.Module, got {type(model).__name__}")


def _check_data(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array("train", "x", x)
    if x.ndim < 2:
        raise ShapeError(f"train: x has shape {format_shape(x.shape)} but expected (N, D) or (N, C, H, W): one "
                         f"example per row; reshape a single example with x[None, :]")
    y = np.asarray(y)
    if y.ndim == 0 or y.shape[0] != x.shape[0]:
        raise ShapeError(f"train: y has shape {format_shape(y.shape)} but x has {x.shape[0]} rows; "
                         f"expected y.shape[0] == N ({x.shape[0]})")
    return x, y


def _positive_int(name: str, value) -> int:
    return expect_positive_int("train", name, value)


class Trainer:
    """Trains one model with one optimizer, recording a :class:`History` and emitting events.

    Args:
        model: a scratch Module (best a Sequential, for per-layer statistics) or an nn.Module.
        optimizer: from dlcore.scratch.optim (scratch) or torch.optim (PyTorch).
        loss: 'mse', 'binary_cross_entropy_with_logits' or 'softmax_cross_entropy'.
        record_every: take per-layer statistics every this many steps (and at the first and last step).
        clip_grad_norm: if set, clip the total gradient norm to this before every step.
    """

    def __init__(self, model, optimizer, *, loss: str, record_every: int = 10,
                 clip_grad_norm: float | None = None) -> None:
        if optimizer is None:
            raise TypeError("Trainer: optimizer is None; pass e.g. SGD(model.parameters(), lr=0.1)")
        self.adapter = make_adapter(model, optimizer, loss)
        self.record_every = _positive_int("record_every", record_every)
        if clip_grad_norm is not None and not clip_grad_norm > 0:
            raise ValueError(f"Trainer: clip_grad_norm must be a positive number or None, got {clip_grad_norm!r}")
        self.clip_grad_norm = clip_grad_norm
        self.events = EventBus()
        self.history = History()

    def attach(self, *listeners) -> None:
        """Connect listeners: an object with ``attach(events)`` (e.g. a dashboard) attaches
        itself; a plain callable is called with every event."""
        for listener in listeners:
            if hasattr(listener, "attach"):
                listener.attach(self.events)
            elif callable(listener):
                for name in EVENT_NAMES:
                    self.events.subscribe(name, listener)
            else:
                raise TypeError(f"Trainer.attach: {type(listener).__name__} is neither callable nor has attach(events)")

    def _emit(self, name: str, step: int, epoch: int, recorded: bool = False) -> None:
        self.events.emit(name, TrainingEvent(name, step, epoch, self.history, recorded))

    def _train_step(self, x: np.ndarray, y: np.ndarray, step: int, record: bool) -> float:
        adapter, history = self.adapter, self.history
        output = adapter.forward_backward(x, y, capture=record)
        before = adapter.weight_values() if record else None
        weight_grads = adapter.weight_grads() if record else None
        history.grad_norm.append(adapter.grad_norm(self.clip_grad_norm))
        adapter.step()
        if record:
            after = adapter.weight_values()
            ratios = {name: update_ratio(before[name], after[name]) for name in before}
            history.records.append(snapshot_from_arrays(step, output.activations, output.activation_grads,
                                                        before, weight_grads, ratios))
        history.loss.append(output.loss)
        if output.accuracy is not None:
            history.accuracy.append(output.accuracy)
        return output.loss

    def fit(self, x, y, *, num_epochs: int, rng: np.random.Generator, batch_size: int | None = None,
            validation: tuple[np.ndarray, np.ndarray] | None = None, early_stopping: EarlyStopping | None = None,
            restore_best: bool = True, max_steps: int | None = None, drop_last: bool = False) -> History:
        """Train; return the history (also kept as ``self.history``; a second fit continues it).

        Args:
            x, y: the training set, x (N, D) (or (N, C, H, W)), y in the shape the loss expects.
            num_epochs: passes over the data; ``max_steps`` may end the run sooner.
            rng: shuffles the examples every epoch.
            batch_size: None for full-batch gradient descent.
            validation: (x_val, y_val), evaluated after every epoch.
            early_stopping: an EarlyStopping watching the validation loss (needs ``validation``).
            restore_best: when early stopping stops the run, load the weights of the best epoch.
            max_steps: stop after this many optimizer steps in all.
            drop_last: skip each epoch's last batch if it is smaller than ``batch_size``
                (batch norm cannot normalise a batch of one).

        A loss that stops being finite ends the run (``history.diverged_step`` is set);
        nothing is raised, so an explorer can show what happened.
        """
        x, y = _check_data(x, y)
        num_epochs = _positive_int("num_epochs", num_epochs)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"train: rng must be a numpy Generator, got {type(rng).__name__}")
        if early_stopping is not None and validation is None:
            raise ValueError("train: early_stopping watches the validation loss; pass validation=(x_val, y_val)")
        N = x.shape[0]
        batch_size = N if batch_size is None else min(_positive_int("batch_size", batch_size), N)
        per_epoch = N // batch_size if drop_last else -(-N // batch_size)
        if per_epoch == 0:
            raise ValueError(f"train: drop_last with batch_size {batch_size} > N = {N} leaves no batch")
        total = num_epochs * per_epoch if max_steps is None else min(_positive_int("max_steps", max_steps),
                                                                    num_epochs * per_epoch)
        history, adapter = self.history, self.adapter
        step = history.steps
        last = step + total - 1
        with adapter:
            self._emit("train_start", step, history.epochs)
            for _ in range(num_epochs):
                order = rng.permutation(N) if batch_size < N else np.arange(N)
                for start in range(0, per_epoch * batch_size, batch_size):
                    index = order[start:start + batch_size]
                    record = step % self.record_every == 0 or step == last
                    loss = self._train_step(x[index], y[index], step, record)
                    step += 1
                    if not np.isfinite(loss) or not np.isfinite(history.grad_norm[-1]):
                        history.diverged_step = step
                        self._emit("step_end", step, history.epochs, record)
                        self._emit("train_end", step, history.epochs)
                        return history
                    self._emit("step_end", step, history.epochs, record)
                    if step > last:
                        break
                history.epoch_steps.append(step)
                self._end_epoch(x, y, validation)
                self._emit("epoch_end", step, history.epochs)
                if early_stopping is not None and early_stopping.step(history.val_loss[-1], adapter.state()):
                    history.stopped_epoch = history.epochs
                    history.best_epoch = early_stopping.best_check + 1
                    if restore_best:
                        adapter.load_state(early_stopping.best_state)
                    break
                if step > last:
                    break
            self._emit("train_end", step, history.epochs)
        return history

    def _end_epoch(self, x, y, validation) -> None:
        history = self.history
        loss, accuracy = self.adapter.evaluate(x, y)
        history.epoch_loss.append(loss)
        if accuracy is not None:
            history.epoch_accuracy.append(accuracy)
        if validation is not None:
            val_loss, val_accuracy = self.adapter.evaluate(*_check_data(*validation))
            history.val_loss.append(val_loss)
            if val_accuracy is not None:
                history.val_accuracy.append(val_accuracy)


def train(model, optimizer, x, y, *, loss: str, num_epochs: int, rng: np.random.Generator,
          batch_size: int | None = None, validation=None, record_every: int = 10,
          clip_grad_norm: float | None = None, early_stopping: EarlyStopping | None = None,
          listeners: tuple = (), max_steps: int | None = None, drop_last: bool = False) -> History:
    """Build a :class:`Trainer`, attach ``listeners``, fit, and return the History (one call)."""
    trainer = Trainer(model, optimizer, loss=loss, record_every=record_every, clip_grad_norm=clip_grad_norm)
    trainer.attach(*listeners)
    return trainer.fit(x, y, num_epochs=num_epochs, rng=rng, batch_size=batch_size, validation=validation,
                       early_stopping=early_stopping, max_steps=max_steps, drop_last=drop_last)


def measure(model, x, y, *, loss: str) -> Snapshot:
    """Per-layer statistics of one forward and backward pass, without any update (e.g. at initialisation).

    Runs in training mode (batch statistics, dropout on) like a training step, but
    leaves the running statistics of batch norm as they were. The gradients stay in
    the parameters' ``.grad``. ``update_ratio`` is NaN: no step is taken.
    """
    x, y = _check_data(x, y)
    adapter = make_adapter(model, None, loss)
    buffers = adapter.buffers_state()
    with adapter:
        output = adapter.forward_backward(x, y, capture=True)
    adapter.load_buffers(buffers)
    return snapshot_from_arrays(0, output.activations, output.activation_grads, adapter.weight_values(),
                                adapter.weight_grads())
