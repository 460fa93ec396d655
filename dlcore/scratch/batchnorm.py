"""Batch normalisation, forward and backward, for (N, D) and (N, C, H, W) inputs (chapter 07).

Each feature (column of an (N, D) input, channel of an (N, C, H, W) one) is
standardised with statistics of the current batch, then scaled and shifted
by learnable gamma and beta. With m the number of values per feature
(m = N, or N H W):

    mu = (1/m) sum x,   var = (1/m) sum (x - mu)^2   (biased: divides by m)
    x_hat = (x - mu) / sqrt(var + eps),   out = gamma x_hat + beta

Training mode uses the batch's mu and var and updates running averages;
evaluation mode uses the running averages instead, so an example's output no
longer depends on the rest of its batch. As in PyTorch, the running variance
averages the *unbiased* batch variance var m / (m - 1), and

    running <- (1 - momentum) running + momentum batch_statistic

(momentum None: the plain average of all batches seen so far).

Backward (training mode), all sums over the m values of one feature:

    dbeta = sum dout,   dgamma = sum dout x_hat
    dx = (gamma / sqrt(var + eps)) (dout - mean(dout) - x_hat mean(dout x_hat))

The last two terms are the gradient through mu and var: every output depends
on every input of its feature. In evaluation mode mu and var are constants and
dx = gamma dout / sqrt(running_var + eps). The chapter derives all of this.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

import numpy as np

from dlcore.errors import (ShapeError, as_float_array, expect_positive_int, expect_probability, expect_shape,
                           format_shape)
from dlcore.scratch.module import Module, Parameter

__all__ = [
    "BatchNormCache", "batchnorm_forward", "batchnorm_eval_forward", "batchnorm_backward",
    "update_running_stats", "BatchNorm1d", "BatchNorm2d",
]


class BatchNormCache(NamedTuple):
    """What batchnorm_backward needs (and the batch statistics, for the running averages)."""

    x_hat: np.ndarray  # the normalised input, x's shape
    inv_std: np.ndarray  # (C,) 1 / sqrt(var + eps)
    gamma: np.ndarray  # (C,)
    mean: np.ndarray  # (C,) the statistics used: the batch's (training) or the running ones (eval)
    var: np.ndarray  # (C,) biased batch variance (training) or running variance (eval)
    count: int  # m, the number of values per feature
    training: bool  # True: batch statistics, so the backward pass goes through mu and var


def _axes(x: np.ndarray) -> tuple[int, ...]:
    return (0,) + tuple(range(2, x.ndim))  # every axis but the feature axis 1


_SUM_OVER_ALL_BUT_FEATURES = {2: "nc,nc->c", 3: "ncl,ncl->c", 4: "nchw,nchw->c"}


def _feature_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(C,) sum over every axis but 1 of a * b, without forming the product array."""
    return np.einsum(_SUM_OVER_ALL_BUT_FEATURES[a.ndim], a, b)


def _per_feature(v: np.ndarray, ndim: int) -> np.ndarray:
    return v.reshape((1, -1) + (1,) * (ndim - 2))  # (C,) -> (1, C, 1, 1) to broadcast over (N, C, H, W)


def _check_input(func: str, x, gamma, beta, eps) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = as_float_array(func, "x", x)
    if x.ndim not in (2, 3, 4):
        raise ShapeError(f"{func}: x has shape {format_shape(x.shape)} ({x.ndim}-D) but expected (N, D), "
                         f"(N, C, L) or (N, C, H, W): features along axis 1")
    C = x.shape[1]
    if C == 0:
        raise ShapeError(f"{func}: x has shape {format_shape(x.shape)} but expected at least one feature "
                         f"(C = x.shape[1] >= 1)")
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"{func}: eps must be a finite number >= 0 (it keeps 1/sqrt(var + eps) finite; 0 only for "
                         f"exact identities), got {eps!r}")
    gamma = as_float_array(func, "gamma", gamma)
    beta = as_float_array(func, "beta", beta)
    expect_shape(func, "gamma", gamma, (C,), "(C,)", f"C = x.shape[1] = {C}")
    expect_shape(func, "beta", beta, (C,), "(C,)", f"C = x.shape[1] = {C}")
    return x, gamma, beta


def _times(array: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """array * factor, into ``array`` (a temporary of the caller's) when that keeps the result's dtype."""
    if np.result_type(array, factor) == array.dtype:
        array *= factor
        return array
    return array * factor


def _plus(array: np.ndarray, term: np.ndarray) -> np.ndarray:
    """array + term, into ``array`` (a temporary of the caller's) when that keeps the result's dtype."""
    if np.result_type(array, term) == array.dtype:
        array += term
        return array
    return array + term


def _refuse_zero_division(func: str, eps: float, var: np.ndarray, what: str) -> None:
    """With eps = 0 a constant feature would give x_hat = 0/0; say so instead of returning NaN."""
    if eps == 0 and np.any(var <= 0):
        raise ValueError(f"{func}: eps = 0 but {what} is 0 for feature(s) {np.flatnonzero(var <= 0).tolist()}: "
                         f"x_hat would be 0/0; use eps > 0 (PyTorch's default is 1e-5)")


def batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, *,
                      eps: float = 1e-5) -> tuple[np.ndarray, BatchNormCache]:
    """Batch normalisation in training mode (statistics of this batch).

    out = gamma (x - mu) / sqrt(var + eps) + beta, mu and biased var per feature over the batch
    (and over H, W for 4-D input).

    Args:
        x: (N, D), (N, C, L) or (N, C, H, W).
        gamma, beta: (C,) scale and shift (C = D for 2-D input).
        eps: added to the variance inside the square root.

    Returns:
        out of x's shape, and the cache (holding the batch mean and biased variance).

    Raises:
        ShapeError: wrong number of dimensions, or gamma/beta not (C,).
        ValueError: a single value per feature (N = 1 for 2-D input): its variance is 0
            and x_hat would be 0 whatever x is. PyTorch refuses this case too.
    """
    func = "batchnorm_forward"
    x, gamma, beta = _check_input(func, x, gamma, beta, eps)
    axes = _axes(x)
    count = x.size // x.shape[1]
    if count < 2:
        raise ValueError(f"{func}: x has shape {format_shape(x.shape)}, only 1 value per feature; batch statistics "
                         f"need at least 2 (use a batch of 2 or more, or evaluation mode)")
    mean = x.mean(axis=axes)  # (C,)
    centred = x - _per_feature(mean, x.ndim)
    var = _feature_dot(centred, centred) / count  # (C,) biased, like (centred**2).mean(axes)
    _refuse_zero_division(func, eps, var, "this batch's variance")
    inv_std = 1.0 / np.sqrt(var + eps)  # eps INSIDE the square root
    # In place where the dtype allows: each full-size temporary costs as much as the arithmetic.
    x_hat = _times(centred, _per_feature(inv_std, x.ndim))
    out = x_hat * _per_feature(gamma, x.ndim)
    out = _plus(out, _per_feature(beta, x.ndim))
    return out, BatchNormCache(x_hat, inv_std, gamma, mean, var, count, True)


def batchnorm_eval_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, running_mean: np.ndarray,
                           running_var: np.ndarray, *, eps: float = 1e-5) -> tuple[np.ndarray, BatchNormCache]:
    """Batch normalisation in evaluation mode: a fixed affine map per feature.

    out = gamma (x - running_mean) / sqrt(running_var + eps) + beta

    Shapes as in :func:`batchnorm_forward`; running_mean and running_var are (C,).
    """
    func = "batchnorm_eval_forward"
    x, gamma, beta = _check_input(func, x, gamma, beta, eps)
    C = x.shape[1]
    running_mean = as_float_array(func, "running_mean", running_mean)
    running_var = as_float_array(func, "running_var", running_var)
    expect_shape(func, "running_mean", running_mean, (C,), "(C,)", f"C = x.shape[1] = {C}")
    expect_shape(func, "running_var", running_var, (C,), "(C,)", f"C = x.shape[1] = {C}")
    _refuse_zero_division(func, eps, running_var, "running_var")
    inv_std = 1.0 / np.sqrt(running_var + eps)
    x_hat = (x - _per_feature(running_mean, x.ndim)) * _per_feature(inv_std, x.ndim)
    out = x_hat * _per_feature(gamma, x.ndim) + _per_feature(beta, x.ndim)
    return out, BatchNormCache(x_hat, inv_std, gamma, running_mean, running_var, x.size // C, False)


def batchnorm_backward(dout: np.ndarray, cache: BatchNormCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of batch normalisation (either mode).

    dgamma = sum dout x_hat,  dbeta = sum dout (over every axis but 1);
    training: dx = gamma inv_std (dout - mean(dout) - x_hat mean(dout x_hat));
    evaluation: dx = gamma inv_std dout.

    Returns:
        dx (x's shape), dgamma (C,), dbeta (C,).
    """
    x_hat, inv_std, gamma, _, _, count, training = cache
    dout = as_float_array("batchnorm_backward", "dout", dout)
    expect_shape("batchnorm_backward", "dout", dout, x_hat.shape, why="the forward output's shape")
    axes, ndim = _axes(dout), dout.ndim
    dbeta = dout.sum(axis=axes)  # (C,)
    dgamma = _feature_dot(dout, x_hat)  # (C,) sum of dout * x_hat
    scale = _per_feature(gamma * inv_std, ndim)
    if not training:
        return dout * scale, dgamma, dbeta
    # mean(dout) = dbeta / m and mean(dout x_hat) = dgamma / m: reuse the two sums
    dx = scale * (dout - _per_feature(dbeta / count, ndim) - x_hat * _per_feature(dgamma / count, ndim))
    return dx, dgamma, dbeta


def update_running_stats(running_mean: np.ndarray, running_var: np.ndarray, cache: BatchNormCache,
                         momentum: float) -> tuple[np.ndarray, np.ndarray]:
    """New running averages after a training-mode batch, as PyTorch computes them.

    running <- (1 - momentum) running + momentum batch, with the batch variance made
    unbiased (times m / (m - 1)) first. Returns new arrays; the arguments are not changed.
    """
    momentum = expect_probability("update_running_stats", "momentum", momentum, allow_one=True)
    for name, value in (("running_mean", running_mean), ("running_var", running_var)):
        expect_shape("update_running_stats", name, as_float_array("update_running_stats", name, value),
                     cache.mean.shape, why="one entry per feature, as the batch's statistics")
    if not cache.training:
        raise ValueError("update_running_stats: the cache is from evaluation mode; running statistics are only "
                         "updated by training-mode batches")
    unbiased = cache.var * (cache.count / (cache.count - 1))
    return ((1.0 - momentum) * running_mean + momentum * cache.mean,
            (1.0 - momentum) * running_var + momentum * unbiased)


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d: gamma, beta and the running statistics."""

    input_ndims: tuple[int, ...] = ()
    shape_text = ""

    def __init__(self, num_features: int, *, eps: float = 1e-5, momentum: float | None = 0.1) -> None:
        super().__init__()
        name = type(self).__name__
        num_features = expect_positive_int(name, "num_features", num_features)
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None (cumulative average), got {momentum!r}")
        if not eps > 0:
            raise ValueError(f"{name}: eps must be > 0, got {eps!r}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.gamma = Parameter(np.ones(num_features), "gamma")
        self.beta = Parameter(np.zeros(num_features), "beta")
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)
        self.num_batches_tracked = 0
        self._cache: BatchNormCache | None = None

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        """The running statistics: state that is saved and restored, but not trained."""
        yield "running_mean", self.running_mean
        yield "running_var", self.running_var

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(type(self).__name__, "x", x)
        if x.ndim not in self.input_ndims or x.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}: x has shape {format_shape(x.shape)} but expected "
                             f"{self.shape_text} with C = num_features = {self.num_features}")
        if not self.training:
            out, self._cache = batchnorm_eval_forward(x, self.gamma.value, self.beta.value, self.running_mean,
                                                      self.running_var, eps=self.eps)
            return out
        out, self._cache = batchnorm_forward(x, self.gamma.value, self.beta.value, eps=self.eps)
        self.num_batches_tracked += 1
        momentum = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
        new_mean, new_var = update_running_stats(self.running_mean, self.running_var, self._cache, momentum)
        self.running_mean[...], self.running_var[...] = new_mean, new_var  # in place: buffers keep their identity
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward: call forward first")
        dx, dgamma, dbeta = batchnorm_backward(dout, self._cache)
        self.gamma.accumulate(dgamma)
        self.beta.accumulate(dbeta)
        return dx

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.num_features}, eps={self.eps:g}, momentum={self.momentum})"


class BatchNorm1d(_BatchNorm):
    """Batch norm over the batch for (N, D) input (or (N, C, L), over N and L), as torch.nn.BatchNorm1d."""

    input_ndims = (2, 3)
    shape_text = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm per channel over N, H and W for (N, C, H, W) input, as torch.nn.BatchNorm2d."""

    input_ndims = (4,)
    shape_text = "(N, C, H, W)"
