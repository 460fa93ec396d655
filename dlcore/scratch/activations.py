"""Activation functions and their derivatives (chapter 03).

Each element-wise activation is an :class:`ActivationSpec`: the function
f(x) and its derivative f'(x), both written so that they do not overflow for
large |x|. ELU's derivative is computed from its output, alpha + f(x), as
chapter 03 derives it: below about x = -20 that sum loses relative precision
(the derivative, alpha e^x < 3e-9 there, keeps an absolute error of about
1e-16). The backward pass of any of them is the same
one line, dx = dout * f'(x), so it is written once in
:func:`activation_backward`. Softmax couples its inputs and has its own pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from dlcore.errors import as_float_array, expect_shape
from dlcore.scratch.module import Module

__all__ = [
    "ActivationSpec", "ACTIVATIONS", "get_activation",
    "step", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "identity",
    "softmax", "softmax_forward", "softmax_backward",
    "ActivationCache", "activation_forward", "activation_backward",
    "Step", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "Identity", "Softmax", "SpecActivation",
]


# ---------------------------------------------------------------- functions

def step(x: np.ndarray) -> np.ndarray:
    """Heaviside step: 1 where x > 0, else 0 (the perceptron's activation)."""
    return (as_float_array("step", "x", x) > 0).astype(np.float64)


def _step_derivative(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    # Zero everywhere it exists (undefined at 0): no gradient flows, which is
    # why networks of step units cannot be trained by gradient descent.
    return np.zeros_like(x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid 1 / (1 + e^{-x}), computed without overflow.

    For x < 0 the textbook form overflows in e^{-x}; the equal form
    e^{x} / (1 + e^{x}) does not. Both branches use z = e^{-|x|} <= 1.
    """
    x = as_float_array("sigmoid", "x", x)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _sigmoid_derivative(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    return out * (1.0 - out)  # sigma'(x) = sigma(x) (1 - sigma(x)) <= 1/4


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent, (e^x - e^-x) / (e^x + e^-x) = 2 sigma(2x) - 1."""
    return np.tanh(as_float_array("tanh", "x", x))


def _tanh_derivative(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    return 1.0 - out**2


def relu(x: np.ndarray) -> np.ndarray:
    """Rectified linear unit max(0, x)."""
    x = as_float_array("relu", "x", x)
    return np.maximum(x, 0.0)


def _relu_derivative(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    # At exactly 0 we use 0, as PyTorch does.
    return (x > 0).astype(x.dtype)


def _check_number(func: str, name: str, value: object) -> float:
    # A hyperparameter such as a slope must be a finite real number: a string or a NaN would
    # otherwise pass here and surface later as NumPy's error, or as NaN outputs.
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{func}: {name} must be a real number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{func}: {name} must be finite, got {value!r}")
    return float(value)


def leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """Leaky ReLU: x for x > 0, negative_slope * x otherwise."""
    negative_slope = _check_number("leaky_relu", "negative_slope", negative_slope)
    x = as_float_array("leaky_relu", "x", x)
    return np.where(x > 0, x, negative_slope * x)


def _leaky_relu_derivative(x: np.ndarray, out: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    return np.where(x > 0, 1.0, negative_slope).astype(x.dtype)


def elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Exponential linear unit: x for x > 0, alpha (e^x - 1) otherwise."""
    alpha = _check_number("elu", "alpha", alpha)
    x = as_float_array("elu", "x", x)
    # expm1 of min(x, 0): exact near 0 and never overflows for large positive x.
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _elu_derivative(x: np.ndarray, out: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    return np.where(x > 0, 1.0, out + alpha).astype(x.dtype)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _erf(x: np.ndarray) -> np.ndarray:
    # The error function, vectorised by SciPy (imported here, on first use, so
    # that `import dlcore` stays light). NumPy has no erf of its own.
    from scipy.special import erf

    return erf(x)


def _check_approximate(approximate: str) -> None:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def gelu(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """Gaussian error linear unit x Phi(x), Phi the standard normal CDF.

    ``approximate="tanh"`` uses 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))),
    as ``torch.nn.GELU(approximate="tanh")`` does.
    """
    _check_approximate(approximate)
    x = as_float_array("gelu", "x", x)
    if approximate == "tanh":
        return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _gelu_derivative(x: np.ndarray, out: np.ndarray, approximate: str = "none") -> np.ndarray:
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x**3)
        t = np.tanh(inner)
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t**2) * _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x**2)
    cdf = 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))
    pdf = np.exp(-0.5 * x**2) / math.sqrt(2.0 * math.pi)
    return cdf + x * pdf


def identity(x: np.ndarray) -> np.ndarray:
    """The identity f(x) = x (a 'linear activation': no activation at all)."""
    return as_float_array("identity", "x", x).copy()


def _identity_derivative(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.ones_like(x)


# ---------------------------------------------------------------- the table

@dataclass(frozen=True)
class ActivationSpec:
    """An element-wise activation: the function, its derivative and what to call it."""

    name: str
    function: Callable[..., np.ndarray]
    derivative: Callable[..., np.ndarray]  # derivative(x, out, **params)
    formula: str  # LaTeX, for plots and tables
    chinese: str  # the term used by the source articles
    defaults: tuple[tuple[str, float | str], ...] = ()


ACTIVATIONS: dict[str, ActivationSpec] = {
    spec.name: spec
    for spec in (
        ActivationSpec("step", step, _step_derivative, r"H(x)", "阶跃函数"),
        ActivationSpec("sigmoid", sigmoid, _sigmoid_derivative, r"\frac{1}{1+e^{-x}}", "Sigmoid 函数"),
        ActivationSpec("tanh", tanh, _tanh_derivative, r"\tanh x", "双曲正切函数"),
        ActivationSpec("relu", relu, _relu_derivative, r"\max(0, x)", "修正线性单元"),
        ActivationSpec(
            "leaky_relu", leaky_relu, _leaky_relu_derivative, r"\max(\alpha x, x)", "带泄露修正线性单元",
            (("negative_slope", 0.01),),
        ),
        ActivationSpec("elu", elu, _elu_derivative, r"x \;|\; \alpha(e^x-1)", "指数线性单元", (("alpha", 1.0),)),
        ActivationSpec("gelu", gelu, _gelu_derivative, r"x\,\Phi(x)", "高斯误差线性单元", (("approximate", "none"),)),
        ActivationSpec("identity", identity, _identity_derivative, r"x", "恒等函数"),
    )
}


def get_activation(name: str) -> ActivationSpec:
    """Look up an element-wise activation by name, e.g. ``get_activation("relu")``."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"get_activation: unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}"
        ) from None


# ---------------------------------------------------------------- forward / backward

class ActivationCache(NamedTuple):
    x: np.ndarray
    out: np.ndarray
    spec: ActivationSpec
    params: dict


def activation_forward(x: np.ndarray, name: str | ActivationSpec, **params: float | str) -> tuple[np.ndarray, ActivationCache]:
    """Apply an element-wise activation; out has the shape of x.

    ``name`` is a key of :data:`ACTIVATIONS`, or an :class:`ActivationSpec` itself
    (one the learner wrote in chapter 03, say).

    Example: ``out, cache = activation_forward(x, "leaky_relu", negative_slope=0.1)``.
    """
    spec = name if isinstance(name, ActivationSpec) else get_activation(name)
    allowed = dict(spec.defaults)
    unknown = set(params) - set(allowed)
    if unknown:
        raise TypeError(
            f"activation_forward: {spec.name} takes no parameter {', '.join(sorted(unknown))}; "
            f"it takes {', '.join(allowed) or 'none'}"
        )
    x = as_float_array("activation_forward", "x", x)
    out = spec.function(x, **params)
    return out, ActivationCache(x, out, spec, dict(params))


def activation_backward(dout: np.ndarray, cache: ActivationCache) -> np.ndarray:
    """dx = dout * f'(x): element-wise, so the Jacobian is diagonal."""
    x, out, spec, params = cache
    dout = as_float_array("activation_backward", "dout", dout)
    expect_shape("activation_backward", "dout", dout, x.shape, why="the shape of the activation's input")
    return dout * spec.derivative(x, out, **params)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis``: e^{x_k - max x} / sum_j e^{x_j - max x}.

    Subtracting the maximum changes nothing mathematically (it cancels) and
    keeps every exponent <= 0, so nothing overflows.
    """
    x = as_float_array("softmax", "x", x)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -max(x.ndim, 1) <= axis < max(x.ndim, 1):
        raise ValueError(f"softmax: axis must be an integer in [-{max(x.ndim, 1)}, {max(x.ndim, 1)}) for x of shape "
                         f"{x.shape}, got {axis!r}")
    if x.ndim and x.shape[axis] == 0:
        raise ValueError(f"softmax: x has no entries along axis {axis} (shape {x.shape}): a distribution needs at "
                         f"least one class")
    shifted = x - x.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


class SoftmaxCache(NamedTuple):
    out: np.ndarray
    axis: int


def softmax_forward(x: np.ndarray, axis: int = -1) -> tuple[np.ndarray, SoftmaxCache]:
    """Softmax and the cache its backward pass needs."""
    out = softmax(x, axis)
    return out, SoftmaxCache(out, axis)


def softmax_backward(dout: np.ndarray, cache: SoftmaxCache) -> np.ndarray:
    """Vector-Jacobian product of softmax: dx = s * (dout - sum(dout * s)).

    The Jacobian ds_i/dx_j = s_i (delta_ij - s_j) is never formed.
    """
    s, axis = cache
    dout = as_float_array("softmax_backward", "dout", dout)
    expect_shape("softmax_backward", "dout", dout, s.shape, why="the shape of the softmax output")
    return s * (dout - np.sum(dout * s, axis=axis, keepdims=True))


# ---------------------------------------------------------------- modules

class Activation(Module):
    """A parameter-free module applying one of :data:`ACTIVATIONS`."""

    name = "identity"

    def __init__(self, **params: float | str) -> None:
        super().__init__()
        self.params = params
        self._cache: ActivationCache | None = None

    @property
    def spec(self) -> ActivationSpec:
        """The function and derivative this module applies."""
        return get_activation(self.name)

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = activation_forward(x, self.spec, **self.params)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward: call forward first")
        return activation_backward(dout, self._cache)

    def __repr__(self) -> str:
        inner = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"{type(self).__name__}({inner})"


class SpecActivation(Activation):
    """A module applying any :class:`ActivationSpec`, e.g. one whose function and
    derivative the learner wrote (chapter 03), so that a network runs on them."""

    def __init__(self, spec: ActivationSpec, **params: float | str) -> None:
        if not isinstance(spec, ActivationSpec):
            raise TypeError(f"SpecActivation: spec must be an ActivationSpec, got {type(spec).__name__}")
        super().__init__(**params)
        self._spec = spec
        self.name = spec.name

    @property
    def spec(self) -> ActivationSpec:
        return self._spec


class Step(Activation):
    name = "step"


class Sigmoid(Activation):
    name = "sigmoid"


class Tanh(Activation):
    name = "tanh"


class ReLU(Activation):
    name = "relu"


class Identity(Activation):
    name = "identity"


class LeakyReLU(Activation):
    name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__(negative_slope=_check_number("LeakyReLU", "negative_slope", negative_slope))


class ELU(Activation):
    name = "elu"

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=_check_number("ELU", "alpha", alpha))


class GELU(Activation):
    name = "gelu"

    def __init__(self, approximate: str = "none") -> None:
        _check_approximate(approximate)
        super().__init__(approximate=approximate)


class Softmax(Module):
    """Softmax over the last axis, as a module."""

    def __init__(self) -> None:
        super().__init__()
        self._cache: SoftmaxCache | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = softmax_forward(x, axis=-1)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError("Softmax.backward: call forward first")
        return softmax_backward(dout, self._cache)

    def __repr__(self) -> str:
        return "Softmax()"
