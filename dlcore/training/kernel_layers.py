"""Layers that run someone else's kernels: how chapter 07 trains on the learner's code.

Chapter 07's exercises ask for batch norm and dropout as plain functions.
These modules hold the parameters and the state (gamma, beta, running
statistics, the dropout generator) and call the given functions for the maths,
so a network built by :func:`dlcore.training.models.scratch_mlp` with
``kernels=LayerKernels(...)`` trains on them. The functions' contracts:

    batchnorm forward(x, gamma, beta, running_mean, running_var, training, momentum, eps)
        -> (out, new_running_mean, new_running_var)          x (N, D), the rest (D,)
    batchnorm backward(dout, x, gamma, eps) -> (dx, dgamma, dbeta)   training mode
    dropout forward(x, p, rng, training) -> (out, cache)
    dropout backward(dout, cache) -> dx
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlcore.scratch.batchnorm import BatchNorm1d
from dlcore.scratch.dropout import Dropout

__all__ = ["KernelBatchNorm1d", "KernelDropout"]


class KernelBatchNorm1d(BatchNorm1d):
    """:class:`~dlcore.scratch.batchnorm.BatchNorm1d` for (N, D) input whose maths is ``forward`` and ``backward``.

    In evaluation mode the layer is the fixed affine map gamma (x - running_mean) / sqrt(running_var + eps)
    + beta, whose input gradient this module computes itself (the training loop never needs it).
    """

    def __init__(self, num_features: int, forward: Callable[..., Any], backward: Callable[..., Any], *,
                 eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.forward_kernel, self.backward_kernel = forward, backward
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        out, new_mean, new_var = self.forward_kernel(x, self.gamma.value, self.beta.value, self.running_mean,
                                                     self.running_var, self.training, self.momentum, self.eps)
        if self.training:
            self.num_batches_tracked += 1
            self.running_mean[...], self.running_var[...] = new_mean, new_var  # in place: buffers keep their identity
        self._x = x
        return np.asarray(out, dtype=np.float64)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self._x is None:
            raise RuntimeError("KernelBatchNorm1d.backward: call forward first")
        if not self.training:
            x_hat = (self._x - self.running_mean) / np.sqrt(self.running_var + self.eps)
            self.gamma.accumulate((dout * x_hat).sum(axis=0))
            self.beta.accumulate(dout.sum(axis=0))
            return dout * self.gamma.value / np.sqrt(self.running_var + self.eps)
        dx, dgamma, dbeta = self.backward_kernel(dout, self._x, self.gamma.value, self.eps)
        self.gamma.accumulate(dgamma)
        self.beta.accumulate(dbeta)
        return np.asarray(dx, dtype=np.float64)

    def __repr__(self) -> str:
        return f"KernelBatchNorm1d({self.num_features}, {getattr(self.forward_kernel, '__name__', '?')})"


class KernelDropout(Dropout):
    """:class:`~dlcore.scratch.dropout.Dropout` whose maths is ``forward`` and ``backward`` (same rng, same modes)."""

    def __init__(self, p: float, forward: Callable[..., Any], backward: Callable[..., Any], *,
                 rng: np.random.Generator) -> None:
        super().__init__(p, rng=rng)
        self.forward_kernel, self.backward_kernel = forward, backward
        self._kernel_cache: Any = None
        self._ran = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._kernel_cache = self.forward_kernel(x, self.p, self.rng, self.training)
        self._ran = True
        return np.asarray(out, dtype=np.float64)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if not self._ran:
            raise RuntimeError("KernelDropout.backward: call forward first")
        return np.asarray(self.backward_kernel(dout, self._kernel_cache), dtype=np.float64)

    def __repr__(self) -> str:
        return f"KernelDropout(p={self.p}, {getattr(self.forward_kernel, '__name__', '?')})"
