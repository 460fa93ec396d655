"""Hyperparameter search on a budget: grid, random, successive halving (chapter 15).

A search calls ``objective(config, num_epochs) -> validation score`` (higher is
better) and pays ``num_epochs`` of its budget for each call. Every search
returns *all* the trials it ran, in order, so that what was tried can be plotted.

- grid search tries every combination of a few values per hyperparameter;
- random search draws each hyperparameter independently (log-uniform for scales),
  so ``n`` trials try ``n`` different values of *every* hyperparameter, where a
  grid of ``n`` points tries only ``n ** (1 / d)`` values of each;
- successive halving starts many random configurations on a small budget, keeps
  the best ``1 / eta`` of them, and gives the survivors ``eta`` times more epochs.
"""

from __future__ import annotations

import itertools
import math
from typing import Callable, NamedTuple

import numpy as np

from dlcore.errors import check_float_dtype

__all__ = ["Trial", "SPACE", "grid_search", "random_search", "successive_halving", "sample_config",
           "epochs_spent", "best_trial", "digits_objective"]

Objective = Callable[[dict, int], float]

# name -> (low, high, kind): "log" continuous log-uniform, "logint" an integer drawn log-uniformly
SPACE = {"learning_rate": (1e-4, 3e-1, "log"), "hidden": (4, 256, "logint")}


class Trial(NamedTuple):
    """One training run: its hyperparameters, epochs, validation score and rung (0 except in halving)."""

    config: dict
    num_epochs: int
    score: float
    rung: int = 0


def sample_config(rng: np.random.Generator, space: dict = SPACE) -> dict:
    """One configuration drawn independently per hyperparameter (log-uniform between its bounds)."""
    config = {}
    for name, (low, high, kind) in space.items():
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
        config[name] = int(round(value)) if kind == "logint" else float(value)
    return config


def grid_search(objective: Objective, grid: dict[str, list], num_epochs: int) -> list[Trial]:
    """Every combination of ``grid``'s values, each trained for ``num_epochs``."""
    names = list(grid)
    return [Trial(dict(zip(names, values)), num_epochs, objective(dict(zip(names, values)), num_epochs))
            for values in itertools.product(*(grid[name] for name in names))]


def random_search(objective: Objective, num_trials: int, num_epochs: int, rng: np.random.Generator,
                  space: dict = SPACE) -> list[Trial]:
    """``num_trials`` random configurations, each trained for ``num_epochs``."""
    trials = []
    for _ in range(num_trials):
        config = sample_config(rng, space)
        trials.append(Trial(config, num_epochs, objective(config, num_epochs)))
    return trials


def successive_halving(objective: Objective, num_configs: int, min_epochs: int, rng: np.random.Generator, *,
                       eta: int = 3, space: dict = SPACE) -> list[Trial]:
    """Start ``num_configs`` random configurations at ``min_epochs``; keep the best 1/eta, give them eta times more.

    Each rung retrains its survivors from scratch for the larger number of
    epochs (simple, and the budget accounting stays honest); the last rung has
    one survivor.
    """
    if eta < 2:
        raise ValueError(f"successive_halving: eta must be at least 2, got {eta}")
    configs = [sample_config(rng, space) for _ in range(num_configs)]
    trials: list[Trial] = []
    num_epochs, rung = min_epochs, 0
    while configs:
        scored = [Trial(config, num_epochs, objective(config, num_epochs), rung) for config in configs]
        trials += scored
        if len(configs) == 1:
            break
        keep = max(1, len(configs) // eta)
        configs = [t.config for t in sorted(scored, key=lambda t: -t.score)[:keep]]
        num_epochs, rung = num_epochs * eta, rung + 1
    return trials


def epochs_spent(trials: list[Trial]) -> int:
    """The budget a search used: the sum of its trials' epochs."""
    return sum(t.num_epochs for t in trials)


def best_trial(trials: list[Trial]) -> Trial:
    """The trial with the highest score (for halving: prefer the longest-trained among ties)."""
    return max(trials, key=lambda t: (t.score, t.num_epochs))


def digits_objective(x_train, y_train, x_val, y_val, *, seed: int = 0, dtype=None) -> Objective:
    """An objective: train ``common.make_mlp(hidden=config["hidden"])`` with Adam, return validation accuracy.

    ``dtype``: the models' dtype, torch.float32 (the default) or torch.float64 (chapter 15 uses it,
    so that every CPU ranks the trials the same way); ValueError for another.
    """
    import torch

    from dlcore.practice.common import accuracy, fit, make_mlp

    dtype = torch.float32 if dtype is None else dtype
    check_float_dtype("digits_objective", dtype)

    def objective(config: dict, num_epochs: int) -> float:
        model = make_mlp(x_train.shape[1], int(config["hidden"]), int(y_train.max()) + 1, seed=seed, depth=1,
                         dtype=dtype)
        fit(model, x_train, y_train, num_epochs=num_epochs, learning_rate=float(config["learning_rate"]),
            batch_size=64, seed=seed)
        return accuracy(model, x_val, y_val)

    return objective
