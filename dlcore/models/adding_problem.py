"""The seed sweep behind chapter 11's comparison of nn.RNN, nn.LSTM and nn.GRU on the adding problem.

Run ``python -m dlcore.models.adding_problem`` (over ten minutes on one core) to rebuild
``results/ch11_adding_problem.json``, which the chapter loads. Every run is
:func:`dlcore.models.recurrent.train_regressor` with the settings below, in float64 (so that the
numbers do not depend on the CPU's vector instructions), and a test re-runs one of them.

    A recurrent layer of 16 units and a linear read-out of its last state; Adam at 0.02, gradient
    norm clipped at 1, batches of 32, 2,000 steps; sequences of T = 20 and T = 50 steps
    (:func:`dlcore.data.sequences.make_adding_problem`): 5,000 training sequences (data seed 0) and
    1,000 test sequences (data seed 1) for each length; seeds 0 to 4 (initial weights and batches).

Recorded for every run: the mean squared error on the test sequences after training; the training
loss averaged over each block of 100 steps; and the step at which the training loss, averaged over
the last 50 steps, first falls below 0.05 (under a third of the baseline 1/6 of always answering 1),
when the run left the plateau, or None if it never did.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dlcore.data.sequences import make_adding_problem
from dlcore.models.recurrent import train_regressor
from dlcore.results import read_results, write_results

__all__ = ["RESULTS", "SEEDS", "KINDS", "LENGTHS", "SETTINGS", "BASELINE", "PLATEAU_EXIT", "adding_run",
           "left_plateau_at", "run_sweep", "load_sweep"]

RESULTS = Path(__file__).with_name("results") / "ch11_adding_problem.json"
SEEDS = (0, 1, 2, 3, 4)
KINDS = ("rnn", "lstm", "gru")
LENGTHS = (20, 50)
SETTINGS = {"hidden_size": 16, "num_steps": 2000, "batch_size": 32, "learning_rate": 0.02, "max_norm": 1.0,
            "train_sequences": 5000, "test_sequences": 1000, "curve_block": 100, "plateau_window": 50}
BASELINE = 1 / 6  # the mean squared error of always answering the mean, 1
PLATEAU_EXIT = 0.05


def left_plateau_at(losses: list[float], window: int = SETTINGS["plateau_window"],
                    threshold: float = PLATEAU_EXIT) -> int | None:
    """The first step (counted from 1) at which the mean of the last ``window`` losses is below ``threshold``."""
    if window < 1:
        raise ValueError(f"left_plateau_at: window must be >= 1, got {window}")
    running = np.convolve(np.asarray(losses, dtype=float), np.ones(window) / window, mode="valid")
    below = np.flatnonzero(running < threshold)
    return int(below[0]) + window if len(below) else None


def adding_run(kind: str, seq_len: int, seed: int) -> dict:
    """Train one regressor on the adding problem with :data:`SETTINGS`; what the sweep records of it."""
    s = SETTINGS
    X, y = make_adding_problem(s["train_sequences"], seq_len, seed=0)  # (N, T, 2), (N,)
    X_test, y_test = make_adding_problem(s["test_sequences"], seq_len, seed=1)
    model, losses = train_regressor(kind, X, y, hidden_size=s["hidden_size"], num_steps=s["num_steps"],
                                    batch_size=s["batch_size"], learning_rate=s["learning_rate"],
                                    max_norm=s["max_norm"], seed=seed, dtype=torch.float64)
    with torch.no_grad():
        predicted = model(torch.from_numpy(X_test.transpose(1, 0, 2))).numpy()  # (N, T, 2) -> (T, N, 2) -> (N,)
    blocks = np.asarray(losses).reshape(-1, s["curve_block"]).mean(axis=1)  # (num_steps / block,)
    return {"test_mse": round(float(np.mean((predicted - y_test) ** 2)), 6),
            "left_plateau_at": left_plateau_at(losses),
            "loss_per_block": [round(float(b), 6) for b in blocks]}


def run_sweep() -> dict:
    torch.set_num_threads(1)
    return {
        "made_by": "python -m dlcore.models.adding_problem",
        "settings": SETTINGS,
        "baseline": BASELINE,
        "plateau_exit": PLATEAU_EXIT,
        "runs": {str(T): {kind: {str(seed): adding_run(kind, T, seed) for seed in SEEDS} for kind in KINDS}
                 for T in LENGTHS},
    }


def load_sweep(path: Path = RESULTS) -> dict:
    """The committed results (see the module's docstring for how they were made)."""
    return read_results(path)


if __name__ == "__main__":
    written = write_results(run_sweep(), RESULTS, compact=True)
    print(f"wrote {written} ({written.stat().st_size} bytes)")
