"""Update rules as step functions on plain arrays, and the optimizer that runs one (chapter 06).

Chapter 06's exercises ask the learner to write each rule as a function of
the parameter, its gradient and the rule's state arrays::

    momentum_step(theta, grad, velocity, lr, momentum=0.9, nesterov=False) -> (theta, velocity)
    adagrad_step(theta, grad, sum_squares, lr, eps=1e-10)                 -> (theta, sum_squares)
    rmsprop_step(theta, grad, square_avg, lr, alpha=0.99, eps=1e-8)       -> (theta, square_avg)
    adam_step(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
              weight_decay=0.0, decoupled=False)                         -> (theta, m, v)

Every state array starts at zeros; ``t`` counts Adam's steps from 1. The
functions here are the course's versions with these signatures (thin
wrappers over :mod:`dlcore.scratch.optim`, which follows torch.optim), and
:class:`StepOptimizer` turns any such function, the learner's included, into
an optimizer with the ``zero_grad()/step()`` interface and an ``lr`` that
schedules can change.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from dlcore.errors import as_float_array, expect_positive_int, expect_shape

from dlcore.scratch.module import Parameter
from dlcore.scratch.optim import (AdagradState, AdamState, Optimizer, RMSpropState, SGDState, adagrad_update,
                                  adam_update, rmsprop_update, sgd_update)

__all__ = ["momentum_step", "adagrad_step", "rmsprop_step", "adam_step", "StepOptimizer"]

Array = np.ndarray


def _checked(func: str, theta, grad, states: dict, hyper: dict) -> None:
    """The contract every step function shares: arrays of theta's shape, hyperparameters in range.

    ``hyper`` maps a name to (value, lowest, highest, highest included), as torch.optim checks them.
    """
    theta = as_float_array(func, "theta", theta)
    for name, array in {"grad": grad, **states}.items():
        expect_shape(func, name, as_float_array(func, name, array), theta.shape, why="the shape of theta")
    for name, (value, low, high, high_included) in hyper.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{func}: {name} must be a real number, got {type(value).__name__} {value!r}")
        inside = low <= value and (value <= high if high_included else value < high)
        if not inside:
            upper = f"{high}]" if high_included else f"{high})"
            raise ValueError(f"{func}: {name} must lie in [{low}, {upper}, got {value!r}")


def momentum_step(theta: Array, grad: Array, velocity: Array, lr: float, momentum: float = 0.9,
                  nesterov: bool = False) -> tuple[Array, Array]:
    """SGD with (Nesterov) momentum, PyTorch's form: v <- momentum v + g; theta <- theta - lr v
    (Nesterov: theta <- theta - lr (g + momentum v)). ``velocity`` is zeros before the first step."""
    _checked("momentum_step", theta, grad, {"velocity": velocity},
             {"lr": (lr, 0.0, np.inf, False), "momentum": (momentum, 0.0, np.inf, False)})
    new_theta, state = sgd_update(theta, grad, SGDState(velocity), lr=lr, momentum=momentum, nesterov=nesterov)
    return new_theta, (grad.copy() if state.velocity is None else state.velocity)


def adagrad_step(theta: Array, grad: Array, sum_squares: Array, lr: float, eps: float = 1e-10) -> tuple[Array, Array]:
    """Adagrad: s <- s + g^2; theta <- theta - lr g / (sqrt(s) + eps)."""
    _checked("adagrad_step", theta, grad, {"sum_squares": sum_squares},
             {"lr": (lr, 0.0, np.inf, False), "eps": (eps, 0.0, np.inf, False)})
    new_theta, state = adagrad_update(theta, grad, AdagradState(0, sum_squares), lr=lr, eps=eps)
    return new_theta, state.sum_squares


def rmsprop_step(theta: Array, grad: Array, square_avg: Array, lr: float, alpha: float = 0.99,
                 eps: float = 1e-8) -> tuple[Array, Array]:
    """RMSprop: s <- alpha s + (1 - alpha) g^2; theta <- theta - lr g / (sqrt(s) + eps)."""
    _checked("rmsprop_step", theta, grad, {"square_avg": square_avg},
             {"lr": (lr, 0.0, np.inf, False), "alpha": (alpha, 0.0, 1.0, True), "eps": (eps, 0.0, np.inf, False)})
    new_theta, state = rmsprop_update(theta, grad, RMSpropState(square_avg, None, None), lr=lr, alpha=alpha, eps=eps)
    return new_theta, state.square_avg


def adam_step(theta: Array, grad: Array, m: Array, v: Array, t: int, lr: float = 1e-3, beta1: float = 0.9,
              beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
              decoupled: bool = False) -> tuple[Array, Array, Array]:
    """Adam (L2 weight decay in the gradient) or, with ``decoupled=True``, AdamW; ``t`` = 1 on the first step."""
    t = expect_positive_int("adam_step", "t", t)
    _checked("adam_step", theta, grad, {"m": m, "v": v},
             {"lr": (lr, 0.0, np.inf, False), "beta1": (beta1, 0.0, 1.0, False), "beta2": (beta2, 0.0, 1.0, False),
              "eps": (eps, 0.0, np.inf, False), "weight_decay": (weight_decay, 0.0, np.inf, False)})
    new_theta, state = adam_update(theta, grad, AdamState(t - 1, m, v, None), lr=lr, betas=(beta1, beta2), eps=eps,
                                   weight_decay=weight_decay, decoupled=decoupled)
    return new_theta, state.m, state.v


class StepOptimizer(Optimizer):
    """An optimizer that runs a step function on every parameter.

    ``step(theta, grad, *state, [t,] lr=self.lr, **options)`` must return
    ``(theta, *state)``; ``num_state`` state arrays per parameter start at zeros,
    and ``counts_steps=True`` passes the step number t (1 on the first step)
    after them, as Adam needs. Example::

        StepOptimizer(model.parameters(), adam_step, lr=0.01, num_state=2, counts_steps=True)
    """

    def __init__(self, params: Iterable[Parameter], step: Callable[..., Any], lr: float, *, num_state: int = 1,
                 counts_steps: bool = False, **options: Any) -> None:
        super().__init__(params, lr)
        if not callable(step):
            raise TypeError(f"StepOptimizer: step must be a function, got {type(step).__name__}")
        self.step_function = step
        self.num_state = int(num_state)
        self.counts_steps = bool(counts_steps)
        self.options = options

    def _initial_state(self, value: Array) -> tuple[int, tuple[Array, ...]]:
        return 0, tuple(np.zeros_like(value) for _ in range(self.num_state))

    def _update(self, value: Array, grad: Array, state: tuple[int, tuple[Array, ...]]):
        count, arrays = state
        count += 1
        extra = (count,) if self.counts_steps else ()
        result = self.step_function(value.copy(), grad.copy(), *arrays, *extra, lr=self.lr, **self.options)
        if not isinstance(result, (tuple, list)) or len(result) != 1 + self.num_state:
            name = getattr(self.step_function, "__name__", "step")
            raise ValueError(f"StepOptimizer: {name} must return {1 + self.num_state} arrays "
                             f"(theta and {self.num_state} state array(s))")
        new_value, *new_arrays = result
        return np.asarray(new_value, dtype=value.dtype), (count, tuple(np.asarray(a) for a in new_arrays))
