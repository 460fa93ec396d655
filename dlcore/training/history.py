"""What a training run leaves behind: losses per step and per epoch, per-layer snapshots (chapter 07).

The history is plain data. The loop appends to it; dashboards, plots and
tests read it. Nothing in it refers back to the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dlcore.training.stats import Snapshot

__all__ = ["History"]

_SNAPSHOT_FIELDS = ("act_mean", "act_std", "dead", "grad_mean", "grad_std", "grad_norm", "grad_zero",
                    "weight_std", "weight_grad_norm", "update_ratio")


@dataclass
class History:
    """Losses and statistics of one run.

    Per optimizer step (batch values, measured before that step's update):
    ``loss``, ``accuracy`` (empty for regression) and ``grad_norm`` (the total
    gradient norm before any clipping).

    Per epoch (whole sets, evaluation mode, after the epoch's updates):
    ``epoch_loss``, ``epoch_accuracy``, ``val_loss``, ``val_accuracy``.

    Every ``record_every`` steps: a :class:`~dlcore.training.stats.Snapshot` in ``records``.

    ``best_epoch`` and ``stopped_epoch`` are set by early stopping (epochs counted from 1);
    ``diverged_step`` when the loss or the gradient stopped being finite (the run ends there).
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    epoch_steps: list[int] = field(default_factory=list)  # the step count at the end of each epoch
    epoch_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    records: list[Snapshot] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_epoch: int | None = None
    diverged_step: int | None = None  # the step whose loss or gradient was no longer finite

    @property
    def steps(self) -> int:
        """Optimizer steps taken."""
        return len(self.loss)

    @property
    def epochs(self) -> int:
        return len(self.epoch_loss)

    @property
    def record_steps(self) -> np.ndarray:
        """(R,) the step (0 = before the first update) of each snapshot."""
        return np.array([record.step for record in self.records], dtype=np.int64)

    @property
    def layers(self) -> tuple[str, ...]:
        return self.records[-1].layers if self.records else ()

    @property
    def weights(self) -> tuple[str, ...]:
        return self.records[-1].weights if self.records else ()

    def series(self, name: str) -> np.ndarray:
        """(R, L) (or (R, K) for weight statistics) array of one statistic over the recorded steps.

        ``name`` is a Snapshot field, e.g. ``history.series("grad_std")[:, -1]``
        is the last layer's gradient spread over time.
        """
        if name not in _SNAPSHOT_FIELDS:
            raise ValueError(f"History.series: unknown statistic {name!r}; choose one of {', '.join(_SNAPSHOT_FIELDS)}")
        if not self.records:
            return np.zeros((0, 0))
        return np.stack([getattr(record, name) for record in self.records])

    def smoothed_loss(self, window: int = 10) -> np.ndarray:
        """The per-step loss averaged over a trailing window (batch losses are noisy)."""
        loss = np.asarray(self.loss, dtype=np.float64)
        if loss.size == 0:
            return loss
        window = max(1, min(int(window), loss.size))
        cumulative = np.cumsum(np.insert(loss, 0, 0.0))
        counts = np.minimum(np.arange(1, loss.size + 1), window)
        starts = np.arange(1, loss.size + 1) - counts
        return (cumulative[1:] - cumulative[starts]) / counts

    def summary(self) -> str:
        """One line: steps, epochs, last losses and accuracies."""
        parts = [f"{self.steps} steps, {self.epochs} epochs"]
        if self.epoch_loss:
            parts.append(f"train loss {self.epoch_loss[-1]:.4f}")
        if self.epoch_accuracy:
            parts.append(f"train accuracy {self.epoch_accuracy[-1]:.3f}")
        if self.val_loss:
            parts.append(f"validation loss {self.val_loss[-1]:.4f}")
        if self.val_accuracy:
            parts.append(f"validation accuracy {self.val_accuracy[-1]:.3f}")
        if self.diverged_step is not None:
            parts.append(f"diverged at step {self.diverged_step}")
        if self.stopped_epoch is not None:
            parts.append(f"stopped early at epoch {self.stopped_epoch}, best epoch {self.best_epoch}")
        return ", ".join(parts)
