"""Per-layer health statistics: what a training dashboard shows (chapter 07).

For each watched layer l, at a recorded step, from one batch:

- the activations h_l: mean, standard deviation, a histogram on fixed bins
  (:data:`ACTIVATION_BINS`, values outside are counted in the end bins) and
  the share of *dead* units (zero output for every example of the batch);
- the gradient arriving at them, dL/dh_l: mean, standard deviation, norm and a
  histogram of log10 |dL/dh_l| on fixed bins (:data:`GRADIENT_LOG_BINS`; a
  vanishing gradient slides to the left, an exploding one to the right;
  exact zeros are counted in the first bin and also reported on their own);
- for each weight matrix W_k: its std, the norm of dL/dW_k and the
  update-to-weight ratio ||W_after - W_before|| / ||W_before|| of the
  optimizer step (about 1e-3 is healthy; 1e-6 means the layer is not learning,
  1e-1 that it is being thrown around).

Fixed bins make histograms comparable across layers and over time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "ACTIVATION_BINS", "GRADIENT_LOG_BINS", "REGIME_THRESHOLD", "binned_counts", "dead_share", "update_ratio",
    "gradient_regime", "Snapshot", "snapshot_from_arrays",
]

ACTIVATION_BINS = np.linspace(-4.0, 4.0, 41)  # 40 bins of width 0.2
GRADIENT_LOG_BINS = np.linspace(-16.0, 4.0, 41)  # log10 |g| from 1e-16 to 1e4, 40 bins of half a decade
# A gradient that changes by more than this factor between the first and the last layer is called
# exploding (or, below its inverse, vanishing): three orders of magnitude at initialisation.
REGIME_THRESHOLD = 1e3


def binned_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of ``values`` in the equal-width bins ``edges``; values beyond the ends go to the end bins.

    Infinities go to the end bins too; NaNs are not counted (a NaN has no bin). Faster than
    np.histogram for equal bins.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[~np.isnan(values)]
    bins = len(edges) - 1
    width = (edges[-1] - edges[0]) / bins
    index = np.clip(np.floor((values - edges[0]) / width), 0, bins - 1).astype(np.int64)
    return np.bincount(index, minlength=bins)


def dead_share(activations: np.ndarray) -> float:
    """Share of units whose output is exactly 0 for every example (axis 0 is the batch)."""
    activations = np.asarray(activations)
    alive = np.any(activations.reshape(activations.shape[0], -1) != 0, axis=0)  # (units,)
    return float(1.0 - alive.mean())


def update_ratio(before: np.ndarray, after: np.ndarray) -> float:
    """||after - before|| / ||before|| (inf for a zero weight that moved, 0 for one that did not)."""
    change = float(np.linalg.norm(np.asarray(after) - np.asarray(before)))
    size = float(np.linalg.norm(before))
    if size == 0.0:
        return 0.0 if change == 0.0 else float("inf")
    return change / size


def gradient_regime(ratio: float, threshold: float = REGIME_THRESHOLD) -> str:
    """'vanishing', 'exploding' or 'stable' from ||dL/dh_1|| / ||dL/dh_L||; 'no gradient' if it is undefined (NaN)."""
    if np.isnan(ratio):
        return "no gradient"
    if ratio < 1.0 / threshold:
        return "vanishing"
    if ratio > threshold:
        return "exploding"
    return "stable"


def _log_magnitude(values: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log10(np.abs(values))  # -inf for exact zeros: counted in the first bin


@dataclass(frozen=True)
class Snapshot:
    """Every per-layer statistic of one recorded step; arrays have one entry per layer, first layer first.

    ``layers`` name the watched activation layers (L of them), ``weights`` the
    weight matrices (K of them). Histograms are (L, 40) counts.
    ``update_ratio`` is NaN when no optimizer step was taken (a measurement at initialisation).
    """

    step: int
    layers: tuple[str, ...]
    act_mean: np.ndarray  # (L,)
    act_std: np.ndarray  # (L,)
    act_hist: np.ndarray  # (L, 40) counts on ACTIVATION_BINS
    dead: np.ndarray  # (L,) share of dead units
    grad_mean: np.ndarray  # (L,) of dL/dh_l
    grad_std: np.ndarray  # (L,)
    grad_norm: np.ndarray  # (L,) ||dL/dh_l||
    grad_hist: np.ndarray  # (L, 40) counts of log10|dL/dh_l| on GRADIENT_LOG_BINS
    grad_zero: np.ndarray  # (L,) share of exactly-zero gradient entries
    weights: tuple[str, ...]
    weight_std: np.ndarray  # (K,)
    weight_grad_norm: np.ndarray  # (K,) ||dL/dW_k||
    update_ratio: np.ndarray  # (K,)

    @property
    def gradient_ratio(self) -> float:
        """||dL/dh_1|| / ||dL/dh_L||, first watched layer over last: far below 1 the gradient
        vanishes on its way back, far above 1 it explodes."""
        norms = self.grad_norm if len(self.grad_norm) else self.weight_grad_norm
        first, last = float(norms[0]), float(norms[-1])
        if last == 0.0:
            return float("nan") if first == 0.0 else float("inf")
        return first / last


def _stats(arrays: list[np.ndarray], fn) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.array([fn(np.asarray(a, dtype=np.float64)) for a in arrays], dtype=np.float64)


def snapshot_from_arrays(step: int, layers: dict[str, np.ndarray], layer_grads: dict[str, np.ndarray],
                         weights: dict[str, np.ndarray], weight_grads: dict[str, np.ndarray],
                         ratios: dict[str, float] | None = None) -> Snapshot:
    """Summarise raw arrays (activations, their gradients, weights, weight gradients) into a :class:`Snapshot`."""
    names = tuple(layers)
    acts = [layers[name] for name in names]
    grads = [layer_grads[name] for name in names]
    weight_names = tuple(weights)
    empty_hist = np.zeros((0, len(ACTIVATION_BINS) - 1), dtype=np.int64)
    return Snapshot(
        step=int(step),
        layers=names,
        act_mean=_stats(acts, np.mean),
        act_std=_stats(acts, np.std),
        act_hist=np.array([binned_counts(a, ACTIVATION_BINS) for a in acts]) if acts else empty_hist,
        dead=np.array([dead_share(a) for a in acts], dtype=np.float64),
        grad_mean=_stats(grads, np.mean),
        grad_std=_stats(grads, np.std),
        grad_norm=_stats(grads, np.linalg.norm),
        grad_hist=np.array([binned_counts(_log_magnitude(g), GRADIENT_LOG_BINS) for g in grads])
        if grads else empty_hist,
        grad_zero=_stats(grads, lambda g: np.mean(g == 0)),
        weights=weight_names,
        weight_std=_stats([weights[k] for k in weight_names], np.std),
        weight_grad_norm=_stats([weight_grads[k] for k in weight_names], np.linalg.norm),
        update_ratio=np.array([(ratios or {}).get(k, np.nan) for k in weight_names], dtype=np.float64),
    )
