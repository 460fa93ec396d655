"""Learning-rate decay against noise and ill-conditioning: least squares by SGD, full batch and mini-batch side by side (chapter 06).

Chapter 06 asks why the loss of SGD levels off at a constant rate: gradient noise (a mini-batch
effect) or a flat direction of an ill-conditioned problem (which full-batch descent has too).
:func:`least_squares_runs` runs the same learning-rate schedule on several runs at once, one
column of the parameter matrix per run: column 0 on the full batch (exact gradients), the other
columns on their own mini-batches. Any optimizer that acts element-wise (plain SGD, the chapter's
step functions run by a ``StepOptimizer``) updates every column independently, so the runs are
exactly separate runs. :func:`full_batch_gap_by_direction` gives the full-batch gap in closed form.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlcore.errors import expect_positive_int
from dlcore.scratch.module import Parameter

__all__ = ["least_squares_runs", "full_batch_gap_by_direction"]


def _mse_by_column(design: np.ndarray, targets: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return np.mean((design @ theta - targets[:, None]) ** 2, axis=0)


def least_squares_runs(design: np.ndarray, targets: np.ndarray, rates: np.ndarray, batches: np.ndarray,
                       make_optimizer: Callable[[list[Parameter]], Any], record_every: int) -> np.ndarray:
    """Gradient descent on the MSE ``mean((design @ theta - targets)^2)`` from theta = 0, 1 + R runs side by side.

    ``rates`` (T,): the learning rate of each step, set as ``optimizer.lr`` before it. ``batches`` (T, R, B):
    the mini-batch indices of runs 1..R at each step; run 0 uses the full batch. ``make_optimizer(params)`` builds
    the optimizer (plain SGD for the chapter). Returns the MSE of every run on the whole set, (1 + R, T // record_every
    + 1): before steps 0, record_every, ... and after the last step.
    """
    record_every = expect_positive_int("least_squares_runs", "record_every", record_every)
    rates = np.asarray(rates, dtype=np.float64)
    batches = np.asarray(batches)
    if rates.ndim != 1 or batches.ndim != 3 or len(batches) != len(rates):
        raise ValueError(f"least_squares_runs: need rates (T,) and batches (T, R, B), got {rates.shape} and "
                         f"{batches.shape}")
    num_runs, batch_size = batches.shape[1], batches.shape[2]
    theta = Parameter(np.zeros((design.shape[1], 1 + num_runs)))  # (D, 1 + R): column j is run j
    optimizer = make_optimizer([theta])
    losses = []
    for step, lr in enumerate(rates):
        if step % record_every == 0:
            losses.append(_mse_by_column(design, targets, theta.value))
        optimizer.lr = float(lr)
        optimizer.zero_grad()
        theta.grad[:, 0] += 2 * design.T @ (design @ theta.value[:, 0] - targets) / len(design)  # the exact gradient
        rows = design[batches[step]]  # (R, B, D): each run's mini-batch
        residual = np.einsum("rbk,kr->rb", rows, theta.value[:, 1:]) - targets[batches[step]]
        theta.grad[:, 1:] += 2 * np.einsum("rbk,rb->kr", rows, residual) / batch_size
        optimizer.step()
    losses.append(_mse_by_column(design, targets, theta.value))
    return np.array(losses).T


def full_batch_gap_by_direction(design: np.ndarray, targets: np.ndarray, rates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch descent from theta = 0, exactly: the gap f(theta_t) - f* split over the Hessian's eigenvectors.

    With H = 2 design^T design / N (eigenvalues lambda_i, ascending) and c_i the start's offset from the optimum
    along eigenvector i, the gap after t steps is sum_i lambda_i c_i^2 / 2 * prod_{s<t} (1 - lr_s lambda_i)^2.
    Returns (eigenvalues (D,), gaps (T + 1, D)): row t is each direction's share of the gap after t steps.
    """
    eigenvalues, eigenvectors = np.linalg.eigh(2 * design.T @ design / len(design))
    optimum, *_ = np.linalg.lstsq(design, targets, rcond=None)
    offsets = eigenvectors.T @ (0.0 - optimum)
    shrink = np.cumprod((1 - np.asarray(rates, dtype=np.float64)[:, None] * eigenvalues) ** 2, axis=0)
    shrink = np.vstack([np.ones(len(eigenvalues)), shrink])
    return eigenvalues, 0.5 * eigenvalues * offsets**2 * shrink
