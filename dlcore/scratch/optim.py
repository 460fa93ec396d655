"""Optimizers from scratch: SGD (momentum, Nesterov), Adagrad, RMSprop, Adam, AdamW (chapter 06).

Each rule is a pure function ``*_update(value, grad, state, ...) -> (new_value,
new_state)`` whose state is a named tuple; it never modifies its inputs. The
classes are thin, torch.optim-shaped wrappers over lists of
:class:`~dlcore.scratch.module.Parameter`::

    opt = Adam(model.parameters(), lr=1e-3)
    opt.zero_grad(); model.backward(dloss); opt.step()

The arithmetic follows torch.optim step by step (same order of operations,
same placement of eps), so in float64 the trajectories agree to rounding
error. Notation: g the gradient, t the step count from 1, theta the value.
"""

from __future__ import annotations

from typing import Iterable, NamedTuple

import numpy as np

from dlcore.scratch.module import Parameter

__all__ = [
    "SGDState", "AdagradState", "RMSpropState", "AdamState",
    "sgd_update", "adagrad_update", "rmsprop_update", "adam_update",
    "Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW",
]

Array = np.ndarray


class SGDState(NamedTuple):
    velocity: Array | None  # the momentum buffer; None before the first step


class AdagradState(NamedTuple):
    step: int
    sum_squares: Array  # running sum of g^2, per coordinate


class RMSpropState(NamedTuple):
    square_avg: Array  # leaky average of g^2
    grad_avg: Array | None  # leaky average of g (centered variant only)
    velocity: Array | None  # momentum buffer (momentum > 0 only)


class AdamState(NamedTuple):
    step: int
    m: Array  # first moment: leaky average of g
    v: Array  # second moment: leaky average of g^2
    v_max: Array | None  # running maximum of v (amsgrad only)


def sgd_update(value: Array, grad: Array, state: SGDState, *, lr: float, momentum: float = 0.0,
               dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False) -> tuple[Array, SGDState]:
    """One step of stochastic gradient descent, optionally with (Nesterov) momentum.

    g <- g + weight_decay theta;  b <- momentum b + (1 - dampening) g  (b = g at the first step);
    theta <- theta - lr b,  or with Nesterov  theta <- theta - lr (g + momentum b)
    """
    g = grad + weight_decay * value if weight_decay else grad
    velocity = state.velocity
    if momentum:
        velocity = g.copy() if velocity is None else momentum * velocity + (1.0 - dampening) * g
        g = g + momentum * velocity if nesterov else velocity
    return value - lr * g, SGDState(velocity)


def adagrad_update(value: Array, grad: Array, state: AdagradState, *, lr: float, lr_decay: float = 0.0,
                   weight_decay: float = 0.0, eps: float = 1e-10) -> tuple[Array, AdagradState]:
    """One Adagrad step: divide by the root of the sum of all squared gradients so far.

    s <- s + g^2;  theta <- theta - lr_t g / (sqrt(s) + eps),  lr_t = lr / (1 + (t - 1) lr_decay)
    """
    step = state.step + 1
    g = grad + weight_decay * value if weight_decay else grad
    sum_squares = state.sum_squares + g * g
    step_lr = lr / (1.0 + (step - 1) * lr_decay)
    return value - step_lr * (g / (np.sqrt(sum_squares) + eps)), AdagradState(step, sum_squares)


def rmsprop_update(value: Array, grad: Array, state: RMSpropState, *, lr: float, alpha: float = 0.99,
                   eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                   centered: bool = False) -> tuple[Array, RMSpropState]:
    """One RMSprop step: divide by the root of a leaky average of squared gradients.

    s <- alpha s + (1 - alpha) g^2;  theta <- theta - lr g / (sqrt(s) + eps).
    centered: subtract the squared leaky mean of g under the root (a variance, not a raw second moment).
    momentum: b <- momentum b + g / (sqrt(s) + eps), theta <- theta - lr b.
    """
    g = grad + weight_decay * value if weight_decay else grad
    square_avg = alpha * state.square_avg + (1.0 - alpha) * g * g
    grad_avg = state.grad_avg
    if centered:
        grad_avg = alpha * grad_avg + (1.0 - alpha) * g
        denom = np.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        denom = np.sqrt(square_avg) + eps
    velocity = state.velocity
    if momentum > 0:
        velocity = momentum * velocity + g / denom
        new_value = value - lr * velocity
    else:
        new_value = value - lr * (g / denom)
    return new_value, RMSpropState(square_avg, grad_avg, velocity)


def adam_update(value: Array, grad: Array, state: AdamState, *, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                eps: float = 1e-8, weight_decay: float = 0.0, decoupled: bool = False,
                amsgrad: bool = False) -> tuple[Array, AdamState]:
    """One Adam step (AdamW with ``decoupled=True``).

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    theta <- theta - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

    Weight decay: L2 (``decoupled=False``) adds weight_decay theta to g, so it
    passes through the division by sqrt(v); decoupled (AdamW) shrinks theta by
    (1 - lr weight_decay) before the step, independently of the gradient statistics.
    """
    beta1, beta2 = betas
    step = state.step + 1
    g = grad
    if weight_decay and decoupled:
        value = value * (1.0 - lr * weight_decay)
    elif weight_decay:
        g = grad + weight_decay * value
    m = beta1 * state.m + (1.0 - beta1) * g
    v = beta2 * state.v + (1.0 - beta2) * g * g
    v_max = np.maximum(state.v_max, v) if amsgrad else None
    bias_correction1 = 1.0 - beta1**step
    bias_correction2 = 1.0 - beta2**step
    second = v_max if amsgrad else v
    denom = np.sqrt(second) / np.sqrt(bias_correction2) + eps
    return value - (lr / bias_correction1) * (m / denom), AdamState(step, m, v, v_max)


def _check_number(owner: str, name: str, value: float, low: float = 0.0, high: float | None = None,
                  high_open: bool = True) -> float:
    """Raise ValueError unless low <= value (< or <=) high, naming the hyperparameter."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__}")
    value = float(value)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not np.isfinite(value) or value < low or too_high:
        interval = f"[{low:g}, {high:g}{')' if high_open else ']'}" if high is not None else f">= {low:g}"
        raise ValueError(f"{owner}: {name} must be {'in ' if high is not None else ''}{interval}, got {value!r}")
    return value


class Optimizer:
    """Holds the parameters, the learning rate ``lr`` and per-parameter state; subclasses supply ``_update``.

    ``lr`` is a plain attribute, so a schedule (dlcore.scratch.schedules) can change it between steps.
    """

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        owner = type(self).__name__
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{owner}: params is empty; pass model.parameters() (a non-empty list of Parameter)")
        for index, param in enumerate(self.params):
            if not isinstance(param, Parameter):
                raise TypeError(f"{owner}: params[{index}] is a {type(param).__name__}, expected a dlcore Parameter")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError(f"{owner}: params contains the same Parameter twice; it would be updated twice per step")
        self.lr = _check_number(owner, "lr", lr)
        self.state: list = [None] * len(self.params)

    def zero_grad(self) -> None:
        """Set every gradient to zero (backward passes add into ``.grad``)."""
        for param in self.params:
            param.grad[...] = 0.0

    def step(self) -> None:
        """Update every parameter in place from its current ``.grad``."""
        for index, param in enumerate(self.params):
            if self.state[index] is None:
                self.state[index] = self._initial_state(param.value)
            new_value, self.state[index] = self._update(param.value, param.grad, self.state[index])
            param.value[...] = new_value

    def _initial_state(self, value: Array):
        raise NotImplementedError

    def _update(self, value: Array, grad: Array, state):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD`` (weight decay added to the gradient)."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        super().__init__(params, lr)
        self.momentum = _check_number("SGD", "momentum", momentum, 0.0, 1.0)
        self.dampening = _check_number("SGD", "dampening", dampening, 0.0, 1.0, high_open=False)
        self.weight_decay = _check_number("SGD", "weight_decay", weight_decay)
        if nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0 "
                             f"(got momentum={self.momentum}, dampening={self.dampening})")
        self.nesterov = bool(nesterov)

    def _initial_state(self, value):
        return SGDState(None)

    def _update(self, value, grad, state):
        return sgd_update(value, grad, state, lr=self.lr, momentum=self.momentum, dampening=self.dampening,
                          weight_decay=self.weight_decay, nesterov=self.nesterov)


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``: per-coordinate steps that shrink as squared gradients add up."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10) -> None:
        super().__init__(params, lr)
        self.lr_decay = _check_number("Adagrad", "lr_decay", lr_decay)
        self.weight_decay = _check_number("Adagrad", "weight_decay", weight_decay)
        self.initial_accumulator_value = _check_number("Adagrad", "initial_accumulator_value", initial_accumulator_value)
        self.eps = _check_number("Adagrad", "eps", eps)

    def _initial_state(self, value):
        return AdagradState(0, np.full_like(value, self.initial_accumulator_value))

    def _update(self, value, grad, state):
        return adagrad_update(value, grad, state, lr=self.lr, lr_decay=self.lr_decay,
                              weight_decay=self.weight_decay, eps=self.eps)


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop`` (eps added after the square root)."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False) -> None:
        super().__init__(params, lr)
        self.alpha = _check_number("RMSprop", "alpha", alpha, 0.0, 1.0)
        self.eps = _check_number("RMSprop", "eps", eps)
        self.weight_decay = _check_number("RMSprop", "weight_decay", weight_decay)
        self.momentum = _check_number("RMSprop", "momentum", momentum, 0.0, 1.0)
        self.centered = bool(centered)

    def _initial_state(self, value):
        zeros = np.zeros_like(value)
        return RMSpropState(zeros, zeros if self.centered else None, zeros if self.momentum > 0 else None)

    def _update(self, value, grad, state):
        return rmsprop_update(value, grad, state, lr=self.lr, alpha=self.alpha, eps=self.eps,
                              weight_decay=self.weight_decay, momentum=self.momentum, centered=self.centered)


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam``: weight decay is an L2 term added to the gradient."""

    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(params, lr)
        owner = type(self).__name__
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{owner}: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_check_number(owner, "betas[0]", betas[0], 0.0, 1.0),
                      _check_number(owner, "betas[1]", betas[1], 0.0, 1.0))
        self.eps = _check_number(owner, "eps", eps)
        self.weight_decay = _check_number(owner, "weight_decay", weight_decay)
        self.amsgrad = bool(amsgrad)

    def _initial_state(self, value):
        zeros = np.zeros_like(value)
        return AdamState(0, zeros, zeros, zeros if self.amsgrad else None)

    def _update(self, value, grad, state):
        return adam_update(value, grad, state, lr=self.lr, betas=self.betas, eps=self.eps,
                           weight_decay=self.weight_decay, decoupled=self.decoupled, amsgrad=self.amsgrad)


class AdamW(Adam):
    """AdamW, as ``torch.optim.AdamW``: weight decay decoupled from the adaptive step (default 1e-2)."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
