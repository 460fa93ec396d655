"""dlcore.scratch.lr_decay: side-by-side least-squares runs and the exact full-batch gap (chapter 06, section 11)."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.scratch.lr_decay import full_batch_gap_by_direction, least_squares_runs
from dlcore.scratch.optim import SGD


def _problem(seed=0, n=40, d=4):
    rng = np.random.default_rng(seed)
    design = np.column_stack([rng.standard_normal((n, d)) * np.array([1.0, 0.3, 2.0, 0.1]), np.ones(n)])
    return design, design @ rng.standard_normal(d + 1) + 0.3 * rng.standard_normal(n)


def test_columns_are_separate_runs_and_column_zero_is_full_batch_descent():
    design, targets = _problem()
    rates = np.linspace(0.05, 0.01, 30)
    batches = np.random.default_rng(1).integers(0, len(design), size=(30, 2, 5))
    together = least_squares_runs(design, targets, rates, batches, lambda p: SGD(p, lr=0.1), record_every=10)
    assert together.shape == (3, 4)
    alone = least_squares_runs(design, targets, rates, batches[:, 1:], lambda p: SGD(p, lr=0.1), record_every=10)
    np.testing.assert_allclose(together[[0, 2]], alone, rtol=1e-12)
    theta = np.zeros(design.shape[1])  # full-batch descent by hand
    for lr in rates:
        theta -= lr * 2 * design.T @ (design @ theta - targets) / len(design)
    np.testing.assert_allclose(together[0, -1], np.mean((design @ theta - targets) ** 2), rtol=1e-12)


def test_exact_gap_matches_full_batch_descent():
    design, targets = _problem(2)
    rates = np.full(50, 0.02)
    _, gaps = full_batch_gap_by_direction(design, targets, rates)
    runs = least_squares_runs(design, targets, rates, np.zeros((50, 1, 1), dtype=int), lambda p: SGD(p, lr=0.1), 10)
    coefficients, *_ = np.linalg.lstsq(design, targets, rcond=None)
    optimum = np.mean((design @ coefficients - targets) ** 2)
    np.testing.assert_allclose(runs[0] - optimum, gaps[::10].sum(axis=1), rtol=1e-8, atol=1e-12)


def test_shapes_are_checked():
    design, targets = _problem()
    with pytest.raises(ValueError, match="least_squares_runs"):
        least_squares_runs(design, targets, np.ones(3), np.zeros((4, 1, 2), dtype=int), lambda p: SGD(p, lr=0.1), 1)
