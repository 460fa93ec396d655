"""Named training events and the bus that delivers them (chapter 07).

The training loop announces what happened; whoever is interested subscribes.
The loop does not know who listens (a live dashboard, a logger, a test), and
listeners do not reach into the loop: they get a :class:`TrainingEvent`.

Events, in the order a run emits them:

- ``"train_start"``  once, before the first step;
- ``"step_end"``     after every optimizer step (``recorded`` says whether
  per-layer statistics were taken at this step);
- ``"epoch_end"``    after every pass over the data (epoch-level losses are in the history);
- ``"train_end"``    once, after the last step (also after early stopping).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from dlcore.training.history import History

__all__ = ["EVENT_NAMES", "TrainingEvent", "EventBus"]

EVENT_NAMES = ("train_start", "step_end", "epoch_end", "train_end")


@dataclass(frozen=True)
class TrainingEvent:
    """What a listener receives: the event's name, where training is, and the history so far."""

    name: str
    step: int  # optimizer steps taken so far
    epoch: int  # epochs completed so far
    history: "History"
    recorded: bool = False  # step_end only: per-layer statistics were recorded at this step


class EventBus:
    """Subscribe callbacks to named events; ``emit`` calls them in subscription order."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Callable[[TrainingEvent], None]]] = {name: [] for name in EVENT_NAMES}

    def _check(self, func: str, name: str) -> None:
        if name not in self._listeners:
            raise ValueError(f"EventBus.{func}: unknown event {name!r}; the events are {', '.join(EVENT_NAMES)}")

    def subscribe(self, name: str, callback: Callable[[TrainingEvent], None]) -> Callable[[TrainingEvent], None]:
        """Call ``callback(event)`` on every event called ``name``; returns the callback (for unsubscribe)."""
        self._check("subscribe", name)
        if not callable(callback):
            raise TypeError(f"EventBus.subscribe: callback must be callable, got {type(callback).__name__}")
        self._listeners[name].append(callback)
        return callback

    def unsubscribe(self, name: str, callback: Callable[[TrainingEvent], None]) -> None:
        self._check("unsubscribe", name)
        self._listeners[name].remove(callback)

    def emit(self, name: str, event: TrainingEvent) -> None:
        self._check("emit", name)
        for callback in list(self._listeners[name]):
            callback(event)

    def count(self, name: str) -> int:
        """How many callbacks listen to ``name``."""
        self._check("count", name)
        return len(self._listeners[name])
