"""Weight initialisation: zeros, plain random, Xavier/Glorot and He/Kaiming (chapter 07).

Why the scale matters. A unit of a fully connected layer computes
z = sum_{d=1}^{n_in} w_d x_d. With zero-mean weights independent of the inputs,

    Var(z) = n_in Var(w) E[x^2]                          (forward)
    Var(dL/dx) = n_out Var(w) Var(dL/dz)                 (backward)

so the signal keeps its size through depth when n_in Var(w) = 1 (forward) or
n_out Var(w) = 1 (backward), up to a *gain* that makes up for what the
activation takes away (ReLU zeroes half its inputs: E[relu(z)^2] = Var(z)/2,
gain sqrt(2)). Glorot and Bengio average the two fans; He et al. keep one:

    Xavier:  std = gain * sqrt(2 / (fan_in + fan_out))
    He:      std = gain / sqrt(fan)          fan = fan_in (default) or fan_out

A uniform distribution U(-a, a) has variance a^2 / 3, so the uniform variants
use the bound a = sqrt(3) * std. Every formula and default here is the one of
``torch.nn.init`` (``calculate_gain`` included), so the numbers agree exactly.

Shapes. A 2-D shape is read in dlcore's Linear layout (D, M) = (fan_in,
fan_out); PyTorch's ``nn.Linear.weight`` is the transpose, (M, D). A shape
with more dimensions is a convolution kernel (F, C, kh, kw), as in PyTorch:
fan_in = C kh kw, fan_out = F kh kw. 1-D shapes (biases) have no fan.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np

from dlcore.errors import expect_positive_int

__all__ = [
    "fans", "calculate_gain", "zeros", "constant", "normal", "uniform",
    "xavier_std", "xavier_bound", "kaiming_std", "kaiming_bound",
    "xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform",
    "initialize", "INIT_SCHEMES", "SymmetryResult", "symmetry_experiment",
]

_LINEAR_NAMES = ("linear", "identity", "conv1d", "conv2d", "conv3d",
                 "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid")


def _check_shape(func: str, shape: Sequence[int]) -> tuple[int, ...]:
    try:
        shape = tuple(int(size) for size in shape)
    except TypeError:
        raise TypeError(f"{func}: shape must be a tuple of ints such as (64, 32), got {shape!r}") from None
    if any(size < 1 for size in shape):
        raise ValueError(f"{func}: every size in shape must be >= 1, got {shape}")
    return shape


def _check_rng(func: str, rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{func}: rng must be a numpy Generator (e.g. np.random.default_rng(0)), "
                        f"got {type(rng).__name__}")
    return rng


def _check_positive(func: str, name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value < 0:
        raise ValueError(f"{func}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


def fans(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of this shape.

    2-D: dlcore's Linear layout (D, M), so fan_in = D, fan_out = M.
    k-D, k >= 3: a kernel (F, C, *kernel), so fan_in = C prod(kernel), fan_out = F prod(kernel).

    Raises:
        ValueError: for fewer than 2 dimensions (a bias has no fan; start it at zero).
    """
    shape = _check_shape("fans", shape)
    if len(shape) < 2:
        raise ValueError(f"fans: shape {shape} has {len(shape)} dimension(s); fan_in and fan_out need a weight "
                         f"of at least 2 (a bias has none: initialise biases with zeros)")
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps the signal's variance through ``nonlinearity``, as torch.nn.init defines it.

    linear / identity / conv / sigmoid: 1;  tanh: 5/3;  relu: sqrt(2);
    leaky_relu: sqrt(2 / (1 + slope^2)) with slope = param (default 0.01);  selu: 3/4.
    """
    if nonlinearity in _LINEAR_NAMES:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope must be a number, got {param!r}")
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; choose one of "
                     f"{', '.join(_LINEAR_NAMES + ('tanh', 'relu', 'leaky_relu', 'selu'))}")


# ---------------------------------------------------------------- the standard deviations

def xavier_std(fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    """Glorot/Xavier: std = gain sqrt(2 / (fan_in + fan_out)), Var(w) the harmonic mean of 1/fan_in and 1/fan_out."""
    fan_in, fan_out = expect_positive_int("xavier_std", "fan_in", fan_in), expect_positive_int("xavier_std", "fan_out", fan_out)
    return float(gain) * math.sqrt(2.0 / (fan_in + fan_out))


def xavier_bound(fan_in: int, fan_out: int, gain: float = 1.0) -> float:
    """Glorot/Xavier uniform bound: a = sqrt(3) std = gain sqrt(6 / (fan_in + fan_out))."""
    return math.sqrt(3.0) * xavier_std(fan_in, fan_out, gain)


def kaiming_std(fan: int, gain: float = math.sqrt(2.0)) -> float:
    """He/Kaiming: std = gain / sqrt(fan); the default gain sqrt(2) is ReLU's."""
    return float(gain) / math.sqrt(expect_positive_int("kaiming_std", "fan", fan))


def kaiming_bound(fan: int, gain: float = math.sqrt(2.0)) -> float:
    """He/Kaiming uniform bound: a = sqrt(3) std = gain sqrt(3 / fan) (sqrt(6 / fan_in) for ReLU)."""
    return math.sqrt(3.0) * kaiming_std(fan, gain)


def _kaiming_fan_and_gain(func: str, shape, a: float, mode: str, nonlinearity: str) -> tuple[int, float]:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{func}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fans(shape)
    return (fan_in if mode == "fan_in" else fan_out), calculate_gain(nonlinearity, a)


# ---------------------------------------------------------------- the initialisers

def zeros(shape: Sequence[int]) -> np.ndarray:
    """All zeros: right for biases, wrong for weights (every unit of a layer stays identical)."""
    return np.zeros(_check_shape("zeros", shape))


def constant(shape: Sequence[int], value: float) -> np.ndarray:
    """Every entry equal to ``value`` (as wrong for weights as zeros, see :func:`symmetry_experiment`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
        raise ValueError(f"constant: value must be a finite number, got {value!r}")
    return np.full(_check_shape("constant", shape), float(value))


def normal(shape: Sequence[int], std: float, mean: float = 0.0, *, rng: np.random.Generator) -> np.ndarray:
    """Independent N(mean, std^2) entries."""
    std = _check_positive("normal", "std", std)
    return _draw_normal(_check_rng("normal", rng), _check_shape("normal", shape), mean, std)


def _draw_normal(rng: np.random.Generator, shape: tuple[int, ...], mean: float, std: float) -> np.ndarray:
    # one place that draws, so every normal initialiser consumes the generator the same way
    return mean + std * rng.standard_normal(shape)


def uniform(shape: Sequence[int], bound: float, *, rng: np.random.Generator) -> np.ndarray:
    """Independent U(-bound, bound) entries (variance bound^2 / 3)."""
    bound = _check_positive("uniform", "bound", bound)
    return _check_rng("uniform", rng).uniform(-bound, bound, size=_check_shape("uniform", shape))


def xavier_normal(shape: Sequence[int], gain: float = 1.0, *, rng: np.random.Generator) -> np.ndarray:
    """N(0, std^2) with std = gain sqrt(2 / (fan_in + fan_out)), as torch.nn.init.xavier_normal_."""
    fan_in, fan_out = fans(shape)
    return normal(shape, xavier_std(fan_in, fan_out, gain), rng=rng)


def xavier_uniform(shape: Sequence[int], gain: float = 1.0, *, rng: np.random.Generator) -> np.ndarray:
    """U(-a, a) with a = gain sqrt(6 / (fan_in + fan_out)), as torch.nn.init.xavier_uniform_."""
    fan_in, fan_out = fans(shape)
    return uniform(shape, xavier_bound(fan_in, fan_out, gain), rng=rng)


def kaiming_normal(shape: Sequence[int], a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                   *, rng: np.random.Generator) -> np.ndarray:
    """N(0, std^2) with std = gain / sqrt(fan), as torch.nn.init.kaiming_normal_ (same defaults).

    ``a`` is the negative slope of a leaky ReLU; with the defaults (a = 0,
    'leaky_relu') the gain is sqrt(2), ReLU's. mode='fan_in' preserves the
    forward signal, 'fan_out' the backward one.
    """
    fan, gain = _kaiming_fan_and_gain("kaiming_normal", shape, a, mode, nonlinearity)
    return normal(shape, kaiming_std(fan, gain), rng=rng)


def kaiming_uniform(shape: Sequence[int], a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    *, rng: np.random.Generator) -> np.ndarray:
    """U(-b, b) with b = gain sqrt(3 / fan), as torch.nn.init.kaiming_uniform_ (same defaults).

    With a = sqrt(5) the gain is sqrt(1/3) and b = 1 / sqrt(fan_in): PyTorch's
    default for nn.Linear, and dlcore's Linear.
    """
    fan, gain = _kaiming_fan_and_gain("kaiming_uniform", shape, a, mode, nonlinearity)
    return uniform(shape, kaiming_bound(fan, gain), rng=rng)


INIT_SCHEMES = ("zeros", "small", "standard", "xavier", "he", "default")


def initialize(shape: Sequence[int], scheme: str, *, rng: np.random.Generator,
               nonlinearity: str = "relu", param: float | None = None) -> np.ndarray:
    """A weight by a scheme's name (what the chapter's experiments and explorer use).

    'zeros'; 'small' N(0, 0.01^2); 'standard' N(0, 1) (the naive choice);
    'xavier' Glorot's normal, gain 1 (as in their paper and torch's default);
    'he' Kaiming normal, fan_in, with the gain of ``nonlinearity`` (sqrt(2)
    for ReLU: He's scheme; 5/3 for tanh, 1 for sigmoid); 'default' PyTorch's
    nn.Linear default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    """
    if scheme == "zeros":
        return zeros(shape)
    if scheme == "small":
        return normal(shape, 0.01, rng=rng)
    if scheme == "standard":
        return normal(shape, 1.0, rng=rng)
    if scheme == "xavier":
        return xavier_normal(shape, 1.0, rng=rng)
    if scheme == "he":
        fan_in, _ = fans(shape)
        return normal(shape, kaiming_std(fan_in, calculate_gain(nonlinearity, param)), rng=rng)
    if scheme == "default":
        return kaiming_uniform(shape, a=math.sqrt(5.0), rng=rng)
    raise ValueError(f"initialize: unknown scheme {scheme!r}; choose one of {', '.join(INIT_SCHEMES)}")


# ---------------------------------------------------------------- why zeros never work

class SymmetryResult(NamedTuple):
    """What :func:`symmetry_experiment` measured, one entry per training step (step 0 = before training)."""

    spread: np.ndarray  # (S + 1,) max |W1[:, j] - W1[:, 0]| over hidden units j: 0 means all units identical
    loss: np.ndarray  # (S + 1,) training loss (mean squared error)


def symmetry_experiment(init: str | float, *, num_steps: int = 200, hidden: int = 8, learning_rate: float = 0.2,
                        rng: np.random.Generator) -> SymmetryResult:
    """Train a 2 -> hidden -> 1 tanh network on a fixed regression task and watch its hidden units.

    ``init`` is 'random' (N(0, 1/fan_in) weights) or a number every weight
    *and* bias starts at (0.0 for zero initialisation). If all the weights into
    the hidden units start equal, every hidden unit computes the same output,
    receives the same gradient and takes the same step, so they stay equal
    forever: ``spread`` stays exactly 0 and the layer acts as one unit.

    Returns:
        A :class:`SymmetryResult`.
    """
    from dlcore.scratch.activations import Tanh
    from dlcore.scratch.linear import Linear
    from dlcore.scratch.losses import mse_backward, mse_forward
    from dlcore.scratch.module import Sequential

    rng = _check_rng("symmetry_experiment", rng)
    x = rng.uniform(-1.0, 1.0, size=(64, 2))
    y = np.sin(3.0 * x[:, :1]) * np.cos(2.0 * x[:, 1:])  # (64, 1) a target one unit cannot fit
    model = Sequential(Linear(2, hidden, rng=rng), Tanh(), Linear(hidden, 1, rng=rng))
    for layer in (model[0], model[2]):
        if init == "random":
            layer.W.value[...] = normal(layer.W.shape, 1.0 / math.sqrt(layer.W.shape[0]), rng=rng)
        elif isinstance(init, (int, float)) and not isinstance(init, bool):
            layer.W.value[...] = float(init)
            layer.b.value[...] = float(init)
        else:
            raise ValueError(f"symmetry_experiment: init must be 'random' or a number, got {init!r}")
    spread, losses = [], []
    for step in range(num_steps + 1):
        W1 = model[0].W.value  # (2, hidden)
        spread.append(float(np.max(np.abs(W1 - W1[:, :1]))))
        model.zero_grad()
        loss, cache = mse_forward(model(x), y)
        losses.append(loss)
        if step < num_steps:
            model.backward(mse_backward(cache))
            for parameter in model.parameters():
                parameter.value -= learning_rate * parameter.grad
    return SymmetryResult(np.array(spread), np.array(losses))
