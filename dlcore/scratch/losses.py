"""Loss functions and their gradients (chapter 04; used by the backward passes of chapter 05).

Every loss is a pair of plain functions::

    loss, cache = X_forward(prediction, target)   # loss: a Python float, the MEAN over the batch
    dprediction = X_backward(cache, dloss=1.0)    # gradient of that mean w.r.t. the first argument

``dloss`` is the upstream gradient dL/dloss (1.0 when the loss is the end of
the graph); the returned gradient is scaled by it. Because the loss is a mean,
every gradient carries a factor 1/N (1/(N*M) for MSE over an (N, M) array):
forgetting it makes the step size depend on the batch size.

For training loops that want both at once, ``mse_loss``, ``bce_with_logits_loss``,
``softmax_cross_entropy`` and ``multiclass_hinge`` return ``(loss, gradient)`` in
one call (the form chapter 04's exercises ask the learner to write).

Shape glossary: N batch, M outputs per example, K classes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore.errors import ShapeError, as_float_array, expect_positive_int, expect_shape, format_shape
from dlcore.scratch.activations import sigmoid

__all__ = [
    "PROBABILITY_EPS", "log_softmax", "one_hot",
    "MSECache", "mse_forward", "mse_backward",
    "BCECache", "binary_cross_entropy_forward", "binary_cross_entropy_backward",
    "BCEWithLogitsCache", "binary_cross_entropy_with_logits_forward",
    "binary_cross_entropy_with_logits_backward",
    "SoftmaxCECache", "softmax_cross_entropy_forward", "softmax_cross_entropy_backward",
    "ExponentialCache", "exponential_loss_forward", "exponential_loss_backward",
    "HingeCache", "multiclass_hinge_forward", "multiclass_hinge_backward",
    "mse_loss", "bce_with_logits_loss", "softmax_cross_entropy", "multiclass_hinge",
]

# Probabilities are clipped into [eps, 1 - eps] before taking logs, so p = 0 or
# p = 1 gives a large finite loss (-log 1e-12 ~ 27.6) instead of inf. 1e-12 is
# far below any probability a float64 model computes on purpose, and far above
# float64's resolution next to 1 (1 - 1e-12 is still distinct from 1).
PROBABILITY_EPS = 1e-12


# ---------------------------------------------------------------- helpers

def _pair(func: str, first: str, pred, target) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays as floats, (N,) or (N, M), of identical shape, N >= 1."""
    pred = as_float_array(func, first, pred)
    target = as_float_array(func, "target", target)
    if pred.ndim not in (1, 2):
        raise ShapeError(
            f"{func}: {first} has shape {format_shape(pred.shape)} ({pred.ndim}-D) but expected "
            f"(N,) or (N, M): one row per example"
        )
    if pred.shape[0] == 0:
        raise ValueError(f"{func}: {first} is an empty batch (N = 0); the mean over it is undefined")
    # Never broadcast: pred (N,) against target (N, 1) would silently become (N, N).
    expect_shape(func, "target", target, pred.shape, why=f"the shape of {first}")
    return pred, target


def _expect_cache(func: str, cache: object, kind: type) -> None:
    if not isinstance(cache, kind):
        forward = func.replace("_backward", "_forward")
        raise TypeError(f"{func}: cache must be the {kind.__name__} that {forward} returned, got {type(cache).__name__}")


def _scale(func: str, dloss: float) -> float:
    if isinstance(dloss, (str, bytes)) or not np.issubdtype(np.asarray(dloss).dtype, np.number) \
            or np.iscomplexobj(dloss):
        raise TypeError(f"{func}: dloss must be a real number (the upstream gradient), got {type(dloss).__name__} "
                        f"{dloss!r}")
    if np.ndim(dloss) != 0:
        raise ShapeError(
            f"{func}: dloss has shape {format_shape(np.shape(dloss))} but expected a scalar: "
            f"the loss is one number, so its upstream gradient is one number"
        )
    return float(dloss)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax along the last axis, computed as z - logsumexp(z), never as log(softmax(z)).

    logsumexp(z) = m + log sum_k e^{z_k - m} with m = max_k z_k: every exponent
    is <= 0, and the largest term is e^0 = 1, so the sum is in [1, K] and its
    log is finite. log(softmax(z)) instead gives log(0) = -inf once a
    probability underflows.
    """
    z = as_float_array("log_softmax", "logits", logits)
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ShapeError(f"log_softmax: logits has shape {format_shape(z.shape)} but expected at least one class "
                         f"score along its last axis")
    m = z.max(axis=-1, keepdims=True)
    return z - (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows of the identity: one_hot([2, 0], 3) = [[0, 0, 1], [1, 0, 0]]; shape (N, K)."""
    num_classes = expect_positive_int("one_hot", "num_classes", num_classes)
    labels = _check_labels("one_hot", labels, num_classes)
    return np.eye(num_classes)[labels]  # (N, K)


def _check_labels(func: str, labels, num_classes: int, batch: int | None = None) -> np.ndarray:
    labels = np.asarray(labels)
    if batch is not None and labels.shape == (batch, num_classes):
        raise ShapeError(
            f"{func}: labels has shape {format_shape(labels.shape)} but expected (N,) = ({batch},): "
            f"labels are class indices, not one-hot rows; use labels.argmax(axis=1)"
        )
    expect_shape(func, "labels", labels, (batch,), "(N,)", "N = logits.shape[0]" if batch is not None else "")
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(
            f"{func}: labels must be integer class indices in 0..K-1, got dtype {labels.dtype}; "
            f"convert with labels.astype(int) if they are whole numbers stored as floats"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)][0]
        raise ValueError(
            f"{func}: label {int(bad)} is out of range for K = {num_classes} classes; labels must "
            f"be in 0..{num_classes - 1} (labels counted from 1? subtract 1)"
        )
    return labels


# ---------------------------------------------------------------- mean squared error

class MSECache(NamedTuple):
    diff: np.ndarray  # pred - target, (N,) or (N, M)


def mse_forward(pred: np.ndarray, target: np.ndarray) -> tuple[float, MSECache]:
    """Mean squared error over every element, as ``torch.nn.MSELoss(reduction="mean")``.

    L = (1 / (N M)) sum_{n,m} (pred_nm - target_nm)^2

    Args:
        pred, target: (N,) or (N, M), the same shape (never broadcast).

    Returns:
        The loss (a float) and the cache for :func:`mse_backward`.

    Raises:
        ShapeError: if the shapes differ or are not 1-D/2-D. ValueError: empty batch.
    """
    pred, target = _pair("mse_forward", "pred", pred, target)
    diff = pred - target
    return float(np.mean(diff**2)), MSECache(diff)


def mse_backward(cache: MSECache, dloss: float = 1.0) -> np.ndarray:
    """dL/dpred = dloss * 2 (pred - target) / (N M); the shape of pred."""
    _expect_cache("mse_backward", cache, MSECache)
    dloss = _scale("mse_backward", dloss)
    return dloss * 2.0 * cache.diff / cache.diff.size


# ---------------------------------------------------------------- binary cross-entropy on probabilities

class BCECache(NamedTuple):
    prob: np.ndarray  # clipped into [eps, 1 - eps]
    target: np.ndarray


def binary_cross_entropy_forward(prob: np.ndarray, target: np.ndarray) -> tuple[float, BCECache]:
    """Binary cross-entropy of probabilities, as ``torch.nn.functional.binary_cross_entropy``.

    L = -(1/N) sum_n [y_n log p_n + (1 - y_n) log(1 - p_n)],  p clipped to [eps, 1 - eps]
    (for (N, M) input the mean runs over all N M entries, as in PyTorch)

    Prefer :func:`binary_cross_entropy_with_logits_forward`: once a sigmoid has
    rounded p to exactly 0 or 1, the information needed for an exact loss is
    gone, and the clip (eps = PROBABILITY_EPS) can only cap the damage.
    (PyTorch caps log p at -100 instead; the two agree whenever p > eps.)

    Args:
        prob: (N,) or (N, M) probabilities in [0, 1].
        target: same shape, in [0, 1] (usually exactly 0 or 1).

    Raises:
        ShapeError: if the shapes differ. ValueError: values outside [0, 1].
    """
    func = "binary_cross_entropy_forward"
    prob, target = _pair(func, "prob", prob, target)
    for name, values in (("prob", prob), ("target", target)):
        if not np.all((values >= 0) & (values <= 1)):  # also catches NaN
            raise ValueError(
                f"{func}: {name} must lie in [0, 1], got values from {np.nanmin(values):.4g} to "
                f"{np.nanmax(values):.4g}" + ("; pass logits to binary_cross_entropy_with_logits_forward"
                                              if name == "prob" else "")
            )
    p = np.clip(prob, PROBABILITY_EPS, 1.0 - PROBABILITY_EPS)
    losses = -(target * np.log(p) + (1.0 - target) * np.log1p(-p))
    return float(np.mean(losses)), BCECache(p, target)


def binary_cross_entropy_backward(cache: BCECache, dloss: float = 1.0) -> np.ndarray:
    """dL/dp = dloss * (p - y) / (p (1 - p)) / N (N M when 2-D), with p the clipped probability.

    At a clipped p this is the gradient at the clip point (large, finite), not
    the zero slope of the clip itself: learning keeps pushing p back.
    """
    _expect_cache("binary_cross_entropy_backward", cache, BCECache)
    dloss = _scale("binary_cross_entropy_backward", dloss)
    p, y = cache
    return dloss * (p - y) / (p * (1.0 - p)) / p.size  # size = N (N M when 2-D)


# ---------------------------------------------------------------- binary cross-entropy on logits

class BCEWithLogitsCache(NamedTuple):
    prob: np.ndarray  # sigmoid(logits)
    target: np.ndarray


def binary_cross_entropy_with_logits_forward(logits: np.ndarray, target: np.ndarray) -> tuple[float, BCEWithLogitsCache]:
    """Sigmoid followed by binary cross-entropy, fused and stable for any logit.

    With p = sigma(z):  -[y log p + (1 - y) log(1 - p)] = log(1 + e^z) - y z
                                                        = max(z, 0) - y z + log(1 + e^{-|z|})

    The last form never exponentiates a positive number, so z = +-1000 gives
    a finite loss (as ``torch.nn.functional.binary_cross_entropy_with_logits``).

    Args:
        logits: (N,) or (N, M) real scores z.
        target: same shape, in [0, 1].

    Raises:
        ShapeError: if the shapes differ. ValueError: target outside [0, 1].
    """
    func = "binary_cross_entropy_with_logits_forward"
    z, y = _pair(func, "logits", logits, target)
    if not np.all((y >= 0) & (y <= 1)):
        raise ValueError(f"{func}: target must lie in [0, 1], got values from {np.nanmin(y):.4g} to {np.nanmax(y):.4g}")
    losses = np.maximum(z, 0.0) - y * z + np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(losses)), BCEWithLogitsCache(sigmoid(z), y)


def binary_cross_entropy_with_logits_backward(cache: BCEWithLogitsCache, dloss: float = 1.0) -> np.ndarray:
    """dL/dz = dloss * (sigma(z) - y) / N (N M when 2-D): the sigmoid's derivative cancels the log's."""
    _expect_cache("binary_cross_entropy_with_logits_backward", cache, BCEWithLogitsCache)
    dloss = _scale("binary_cross_entropy_with_logits_backward", dloss)
    p, y = cache
    return dloss * (p - y) / p.size


# ---------------------------------------------------------------- softmax cross-entropy

class SoftmaxCECache(NamedTuple):
    probs: np.ndarray  # softmax(logits), (N, K)
    labels: np.ndarray  # (N,) int


def softmax_cross_entropy_forward(logits: np.ndarray, labels: np.ndarray) -> tuple[float, SoftmaxCECache]:
    """Softmax followed by the negative log-likelihood of the true class, as ``F.cross_entropy``.

    L = (1/N) sum_n [logsumexp(z_n) - z_{n, y_n}] = -(1/N) sum_n log softmax(z_n)_{y_n}

    Args:
        logits: (N, K) unnormalised class scores.
        labels: (N,) integer class indices in 0..K-1 (not one-hot).

    Returns:
        The loss and the cache for :func:`softmax_cross_entropy_backward`.

    Raises:
        ShapeError: logits not 2-D, or labels not (N,) (one-hot labels are named as such).
        TypeError: labels not integers. ValueError: a label outside 0..K-1, or N = 0.
    """
    func = "softmax_cross_entropy_forward"
    z = as_float_array(func, "logits", logits)
    if z.ndim != 2:
        raise ShapeError(
            f"{func}: logits has shape {format_shape(z.shape)} ({z.ndim}-D) but expected (N, K): one "
            f"row of class scores per example; for a single example use logits[None, :]"
        )
    N, K = z.shape
    if N == 0:
        raise ValueError(f"{func}: logits is an empty batch (N = 0); the mean over it is undefined")
    if K == 0:
        raise ShapeError(f"{func}: logits has shape {format_shape(z.shape)} but expected (N, K) with K >= 1 classes")
    labels = _check_labels(func, labels, K, batch=N)
    log_probs = log_softmax(z)  # (N, K)
    loss = -np.mean(log_probs[np.arange(N), labels])
    return float(loss), SoftmaxCECache(np.exp(log_probs), labels)


def softmax_cross_entropy_backward(cache: SoftmaxCECache, dloss: float = 1.0) -> np.ndarray:
    """dL/dz = dloss * (softmax(z) - onehot(y)) / N; shape (N, K)."""
    _expect_cache("softmax_cross_entropy_backward", cache, SoftmaxCECache)
    dloss = _scale("softmax_cross_entropy_backward", dloss)
    probs, labels = cache
    N = probs.shape[0]
    dlogits = probs.copy()  # the cache must stay intact for a second backward call
    dlogits[np.arange(N), labels] -= 1.0
    return dloss * dlogits / N


# ---------------------------------------------------------------- exponential loss

class ExponentialCache(NamedTuple):
    target: np.ndarray  # in {-1, +1}
    weights: np.ndarray  # exp(-y f), the per-example losses


def exponential_loss_forward(scores: np.ndarray, target: np.ndarray) -> tuple[float, ExponentialCache]:
    """Exponential loss (AdaBoost's): L = (1/N) sum_n exp(-y_n f_n), y in {-1, +1}.

    The margin y f is positive for a correct sign. A confident mistake costs
    exponentially much, which is why the loss is sensitive to mislabelled
    points; for y f < -709 the true value exceeds float64 and the result is inf.

    Args:
        scores: (N,) or (N, M) real scores f.
        target: same shape, every entry -1 or +1 (0/1 labels: use 2 y - 1).

    Raises:
        ShapeError: if the shapes differ. ValueError: a target not in {-1, +1}.
    """
    func = "exponential_loss_forward"
    f, y = _pair(func, "scores", scores, target)
    if not np.all((y == 1) | (y == -1)):
        found = np.unique(y[(y != 1) & (y != -1)])[:3]
        raise ValueError(
            f"{func}: target must be -1 or +1, found {found.tolist()}; for 0/1 labels pass 2 * y - 1"
        )
    with np.errstate(over="ignore"):  # documented: an astronomically wrong score gives inf
        weights = np.exp(-y * f)
    return float(np.mean(weights)), ExponentialCache(y, weights)


def exponential_loss_backward(cache: ExponentialCache, dloss: float = 1.0) -> np.ndarray:
    """dL/df = -dloss * y exp(-y f) / N (N M for a 2-D batch, as the mean runs over all entries)."""
    _expect_cache("exponential_loss_backward", cache, ExponentialCache)
    dloss = _scale("exponential_loss_backward", dloss)
    y, weights = cache
    return -dloss * y * weights / weights.size


# ---------------------------------------------------------------- multiclass hinge (SVM) loss

class HingeCache(NamedTuple):
    active: np.ndarray  # (N, K) bool: the classes whose margin is violated (never the true class)
    labels: np.ndarray  # (N,) int


def multiclass_hinge_forward(scores: np.ndarray, labels: np.ndarray, margin: float = 1.0) -> tuple[float, HingeCache]:
    """The multiclass SVM (Weston-Watkins) hinge loss, as in CS231n.

    L = (1/N) sum_n sum_{k != y_n} max(0, s_nk - s_{n y_n} + margin)

    A class contributes only while its score comes within ``margin`` of the
    true class's score; a margin of exactly 0 contributes nothing (and no
    gradient). ``torch.nn.functional.multi_margin_loss`` also divides by K:
    it equals this loss / K.

    Args:
        scores: (N, K) class scores. labels: (N,) integer class indices in 0..K-1.
        margin: the required gap Delta > 0.

    Raises:
        ShapeError: scores not 2-D or labels not (N,). TypeError / ValueError: bad labels, N = 0.
    """
    func = "multiclass_hinge_forward"
    s = as_float_array(func, "scores", scores)
    if s.ndim != 2:
        raise ShapeError(f"{func}: scores has shape {format_shape(s.shape)} ({s.ndim}-D) but expected (N, K): one "
                         f"row of class scores per example")
    N, K = s.shape
    if N == 0:
        raise ValueError(f"{func}: scores is an empty batch (N = 0); the mean over it is undefined")
    if K == 0:
        raise ShapeError(f"{func}: scores has shape {format_shape(s.shape)} but expected (N, K) with K >= 1 classes")
    if isinstance(margin, bool) or not isinstance(margin, (int, float, np.integer, np.floating)) \
            or not np.isfinite(margin):
        raise ValueError(f"{func}: margin must be a finite number, got {margin!r}")
    labels = _check_labels(func, labels, K, batch=N)
    rows = np.arange(N)
    margins = s - s[rows, labels][:, None] + margin  # (N, K)
    margins[rows, labels] = 0.0  # the true class is not compared with itself
    return float(np.maximum(margins, 0.0).sum() / N), HingeCache(margins > 0, labels)


def multiclass_hinge_backward(cache: HingeCache, dloss: float = 1.0) -> np.ndarray:
    """dL/ds: +1/N for each violating class, minus their count / N for the true class; shape (N, K)."""
    _expect_cache("multiclass_hinge_backward", cache, HingeCache)
    dloss = _scale("multiclass_hinge_backward", dloss)
    active, labels = cache
    N = active.shape[0]
    dscores = active.astype(np.float64)  # (N, K)
    dscores[np.arange(N), labels] = -active.sum(axis=1)
    return dloss * dscores / N


# ---------------------------------------------------------------- (loss, gradient) in one call

def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """``(L, dL/dpred)`` of :func:`mse_forward` / :func:`mse_backward` in one call."""
    loss, cache = mse_forward(pred, target)
    return loss, mse_backward(cache)


def bce_with_logits_loss(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """``(L, dL/dlogits)`` of the binary cross-entropy on logits, in one call."""
    loss, cache = binary_cross_entropy_with_logits_forward(logits, target)
    return loss, binary_cross_entropy_with_logits_backward(cache)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """``(L, dL/dlogits)`` of the softmax cross-entropy, in one call."""
    loss, cache = softmax_cross_entropy_forward(logits, labels)
    return loss, softmax_cross_entropy_backward(cache)


def multiclass_hinge(scores: np.ndarray, labels: np.ndarray, margin: float = 1.0) -> tuple[float, np.ndarray]:
    """``(L, dL/dscores)`` of the multiclass hinge loss, in one call."""
    loss, cache = multiclass_hinge_forward(scores, labels, margin)
    return loss, multiclass_hinge_backward(cache)
