"""Chapter 11, section 6.2: the adding-problem regressor and the seed sweep the chapter loads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.data.sequences import make_adding_problem
from dlcore.models.adding_problem import (BASELINE, KINDS, LENGTHS, SEEDS, SETTINGS, adding_run, left_plateau_at,
                                          load_sweep)
from dlcore.models.recurrent import SequenceRegressor, train_regressor

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_left_plateau_at_is_the_first_step_whose_running_mean_is_below_the_threshold():
    losses = [0.2] * 100 + [0.01] * 100
    # the mean of the last 50 losses is (0.2 * (50 - k) + 0.01 * k) / 50 after k low ones: below 0.05 from k = 40
    assert left_plateau_at(losses) == 140
    assert left_plateau_at(losses, window=1) == 101
    assert left_plateau_at([0.2] * 100) is None
    with pytest.raises(ValueError, match="window must be >= 1"):
        left_plateau_at(losses, window=0)


def test_regressor_seed_fixes_the_weights_without_touching_the_global_state():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = SequenceRegressor("lstm", 2, 8, seed=3)
    assert torch.equal(torch.rand(3), expected)  # the global generator did not move
    again, other = SequenceRegressor("lstm", 2, 8, seed=3), SequenceRegressor("lstm", 2, 8, seed=4)
    pairs = list(zip(first.parameters(), again.parameters()))
    assert all(torch.equal(a, b) for a, b in pairs)
    assert not all(torch.equal(a, b) for a, b in zip(first.parameters(), other.parameters()))
    twin = SequenceRegressor("lstm", 2, 8, seed=3, dtype=torch.float64)  # drawn in float64 either way
    assert all(p.dtype == torch.float64 for p in twin.parameters())
    assert all(torch.equal(a, b.float()) for a, b in zip(first.parameters(), twin.parameters()))


def test_regressor_errors_and_output_shape():
    with pytest.raises(ValueError, match="kind must be one of"):
        SequenceRegressor("transformer", 2, 8)
    with pytest.raises(ValueError, match="SequenceRegressor"):
        SequenceRegressor("gru", 2, 8, dtype=torch.int64)
    x = torch.zeros(7, 5, 2)  # (T, N, D)
    assert SequenceRegressor("rnn", 2, 4)(x).shape == (5,)


def test_training_is_reproducible_and_a_gru_learns_the_short_problem():
    X, y = make_adding_problem(500, 10, seed=0)
    _, losses = train_regressor("gru", X, y, hidden_size=8, num_steps=150, batch_size=32, learning_rate=0.02, seed=1,
                                dtype=torch.float64)
    _, again = train_regressor("gru", X, y, hidden_size=8, num_steps=150, batch_size=32, learning_rate=0.02, seed=1,
                               dtype=torch.float64)
    assert losses == again
    assert np.mean(losses[-20:]) < 0.3 * BASELINE < np.mean(losses[:5])


def test_the_committed_sweep_matches_a_rerun_of_one_seed():
    """dlcore/models/results/ch11_adding_problem.json (python -m dlcore.models.adding_problem): re-run the LSTM,
    T = 20, seed 0 (float64, so the numbers agree to far below the printed digits)."""
    sweep = load_sweep()
    assert sweep["settings"] == SETTINGS and sweep["baseline"] == BASELINE
    assert set(sweep["runs"]) == {str(T) for T in LENGTHS}
    for by_kind in sweep["runs"].values():
        assert set(by_kind) == set(KINDS) and all(set(runs) == {str(s) for s in SEEDS} for runs in by_kind.values())
        blocks = SETTINGS["num_steps"] // SETTINGS["curve_block"]
        assert all(len(run["loss_per_block"]) == blocks for runs in by_kind.values() for run in runs.values())
    rerun = adding_run("lstm", 20, 0)
    stored = sweep["runs"]["20"]["lstm"]["0"]
    assert rerun["left_plateau_at"] == stored["left_plateau_at"]
    assert rerun["test_mse"] == pytest.approx(stored["test_mse"], abs=1e-6)
    assert np.allclose(rerun["loss_per_block"], stored["loss_per_block"], rtol=0, atol=1e-6)
