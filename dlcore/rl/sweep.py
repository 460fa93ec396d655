"""The seed sweep behind chapter 16's comparisons: REINFORCE's baselines and DQN, five seeds each.

Run ``python -m dlcore.rl.sweep`` (a few minutes on one core) to rebuild ``results/ch16_sweep.json``,
which the chapter loads. Every run is the library's own training function with the chapter's
settings, so a test can re-run the first iterations of one seed and compare them with the file.

    REINFORCE: 100 iterations of 16 episodes (1,600 episodes), baselines "none", "mean" (the batch's
               mean return-to-go, own episode included) and "leave-one-out" (the other episodes' mean).
    DQN:       4,000 environment steps, then 20 greedy evaluation episodes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlcore.rl.dqn import evaluate_greedy, train_dqn
from dlcore.results import read_results, write_results
from dlcore.rl.policy_gradient import train_reinforce

__all__ = ["RESULTS", "SEEDS", "BASELINES", "REINFORCE_SETTINGS", "DQN_SETTINGS", "reinforce_run", "dqn_run",
           "run_sweep", "load_sweep"]

RESULTS = Path(__file__).with_name("results") / "ch16_sweep.json"
SEEDS = (0, 1, 2, 3, 4)
BASELINES = ("none", "mean", "leave-one-out")
REINFORCE_SETTINGS = {"num_iterations": 100, "batch_size": 16, "learning_rate": 0.01, "gamma": 0.99}
DQN_SETTINGS = {"num_steps": 4000, "evaluation_episodes": 20}


def reinforce_run(baseline: str, seed: int, num_iterations: int | None = None) -> list[float]:
    """Mean episode return of each iteration (rounded to 1e-4) of one REINFORCE run."""
    settings = dict(REINFORCE_SETTINGS)
    if num_iterations is not None:
        settings["num_iterations"] = num_iterations
    history = train_reinforce(baseline=baseline, seed=seed, **settings)
    return [round(r, 4) for r in history.mean_returns]


def dqn_run(seed: int) -> dict:
    """Training episode returns and the greedy policy's mean return over new episodes, for one DQN run."""
    history = train_dqn(num_steps=DQN_SETTINGS["num_steps"], seed=seed)
    greedy = evaluate_greedy(history.q_network, num_episodes=DQN_SETTINGS["evaluation_episodes"])
    return {"episode_returns": [round(float(r), 4) for r in history.episode_returns],
            "greedy_mean": round(float(np.mean(greedy)), 4)}


def run_sweep() -> dict:
    import torch

    torch.set_num_threads(1)
    return {
        "made_by": "python -m dlcore.rl.sweep",
        "reinforce_settings": REINFORCE_SETTINGS,
        "dqn_settings": DQN_SETTINGS,
        "reinforce": {baseline: {str(seed): reinforce_run(baseline, seed) for seed in SEEDS} for baseline in BASELINES},
        "dqn": {str(seed): dqn_run(seed) for seed in SEEDS},
    }


def load_sweep(path: Path = RESULTS) -> dict:
    """The committed results (see the module's docstring for how they were made)."""
    return read_results(path)


if __name__ == "__main__":
    written = write_results(run_sweep(), RESULTS, compact=True)
    print(f"wrote {written} ({written.stat().st_size} bytes)")
