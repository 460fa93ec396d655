"""Deep MLPs for the training experiments: depth, activation, init, norm, dropout, residual (chapter 07).

One description, two builds: :func:`mlp_plan` draws every weight from ``rng``
and lists the layers; :func:`scratch_mlp` turns the plan into a dlcore
``Sequential``, and :func:`dlcore.training.torch_models.torch_mlp` into an
``nn.Sequential``. The same seed therefore gives the same network in NumPy and
in PyTorch, which is what the parity tests of the training loop use.

Layout, for ``depth`` hidden layers of ``hidden`` units::

    plain:     [Linear -> (BatchNorm) -> activation -> (Dropout)] x depth -> Linear
    residual:  the first block as above, then (depth - 1) blocks h <- h + f(h) with
               f = Linear -> (BatchNorm) -> activation, each followed by (Dropout); -> Linear

Initialisation by scheme name (:data:`dlcore.scratch.init.INIT_SCHEMES`), with the
activation's gain for hidden layers and gain 1 for the output layer; biases 0.
In residual blocks the branch's weights are further scaled by 1/sqrt(depth):
each block then adds about 1/depth of the signal's variance, and the sum of
depth blocks keeps it of order 1 instead of doubling it per block.

``scratch_mlp(..., kernels=LayerKernels(...))`` builds the same network on other
functions for the initialisation, batch norm and dropout: chapter 07 trains on
the learner's own once their exercises pass.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import numpy as np

from dlcore.errors import expect_positive_int

from dlcore.scratch.activations import ELU, GELU, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from dlcore.scratch.batchnorm import BatchNorm1d
from dlcore.scratch.dropout import Dropout
from dlcore.scratch.init import INIT_SCHEMES, initialize
from dlcore.scratch.linear import Linear
from dlcore.scratch.module import Module, Sequential
from dlcore.training.kernel_layers import KernelBatchNorm1d, KernelDropout

__all__ = ["MLP_ACTIVATIONS", "NORMS", "LayerSpec", "LayerKernels", "mlp_plan", "scratch_mlp", "Residual"]

# activation name -> (scratch module class, nonlinearity name for the init gain)
MLP_ACTIVATIONS = {
    "relu": (ReLU, "relu"),
    "leaky_relu": (LeakyReLU, "leaky_relu"),
    "elu": (ELU, "relu"),  # no standard gain; ReLU's is the usual stand-in
    "gelu": (GELU, "relu"),
    "tanh": (Tanh, "tanh"),
    "sigmoid": (Sigmoid, "sigmoid"),
    "identity": (Identity, "linear"),
}
NORMS = ("none", "batch")


class LayerSpec(NamedTuple):
    """One layer of a plan: kind is 'linear', 'batchnorm', 'activation', 'dropout' or 'residual'."""

    kind: str
    W: np.ndarray | None = None  # (D, M) for 'linear'
    b: np.ndarray | None = None  # (M,)
    size: int = 0  # features, for 'batchnorm'
    name: str = ""  # activation name
    p: float = 0.0  # dropout probability
    inner: tuple = ()  # the branch of a 'residual' block


class LayerKernels(NamedTuple):
    """Functions that replace dlcore's own inside a built network (chapter 07 runs on the learner's).

    ``init_weights(shape, scheme, nonlinearity, rng) -> W`` draws the weights of
    the 'xavier' and 'he' schemes; ``batchnorm`` and ``dropout`` are (forward,
    backward) pairs run by :mod:`dlcore.training.kernel_layers`. None keeps dlcore's.
    """

    init_weights: Callable[..., np.ndarray] | None = None
    batchnorm: tuple[Callable[..., Any], Callable[..., Any]] | None = None
    dropout: tuple[Callable[..., Any], Callable[..., Any]] | None = None


def _check(func: str, depth, hidden, activation, init, norm, dropout) -> None:
    for name, value in (("depth", depth), ("hidden", hidden)):
        expect_positive_int(func, name, value)
    if activation not in MLP_ACTIVATIONS:
        raise ValueError(f"{func}: activation must be one of {', '.join(MLP_ACTIVATIONS)}, got {activation!r}")
    if init not in INIT_SCHEMES:
        raise ValueError(f"{func}: init must be one of {', '.join(INIT_SCHEMES)}, got {init!r}")
    if norm not in NORMS:
        raise ValueError(f"{func}: norm must be one of {', '.join(NORMS)}, got {norm!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"{func}: dropout must be in [0, 1), got {dropout!r}")


def mlp_plan(in_features: int, out_features: int, *, hidden: int = 32, depth: int = 4, activation: str = "relu",
             init: str = "he", norm: str = "none", dropout: float = 0.0, residual: bool = False,
             rng: np.random.Generator, init_weights: Callable[..., np.ndarray] | None = None) -> list[LayerSpec]:
    """The layer list of a deep MLP, every weight already drawn from ``rng`` (in layer order).

    ``init_weights(shape, scheme, nonlinearity, rng)``, if given, draws the weights of the
    'xavier' and 'he' schemes instead of :func:`dlcore.scratch.init.initialize`.
    """
    _check("mlp_plan", depth, hidden, activation, init, norm, dropout)
    gain_name = MLP_ACTIVATIONS[activation][1]

    def linear(d_in: int, d_out: int, nonlinearity: str, scale: float = 1.0) -> LayerSpec:
        if init_weights is not None and init in ("xavier", "he"):
            W = np.asarray(init_weights((d_in, d_out), init, nonlinearity, rng), dtype=np.float64)
            if W.shape != (d_in, d_out):
                raise ValueError(f"mlp_plan: init_weights returned shape {W.shape} for shape {(d_in, d_out)}")
            W = scale * W
        else:
            W = scale * initialize((d_in, d_out), init, rng=rng, nonlinearity=nonlinearity)
        return LayerSpec("linear", W=W, b=np.zeros(d_out))

    def block(d_in: int, scale: float = 1.0) -> list[LayerSpec]:
        layers = [linear(d_in, hidden, gain_name, scale)]
        if norm == "batch":
            layers.append(LayerSpec("batchnorm", size=hidden))
        layers.append(LayerSpec("activation", name=activation))
        return layers

    plan: list[LayerSpec] = []
    for index in range(depth):
        if residual and index > 0:
            plan.append(LayerSpec("residual", inner=tuple(block(hidden, 1.0 / math.sqrt(depth)))))
        else:
            plan.extend(block(in_features if index == 0 else hidden))
        if dropout > 0:
            plan.append(LayerSpec("dropout", p=float(dropout)))
    plan.append(linear(hidden, out_features, "linear"))
    return plan


class Residual(Module):
    """A skip connection around a branch: out = x + branch(x), so dL/dx = dout + branch.backward(dout).

    The identity path hands the gradient back unchanged, however small the
    branch's own contribution: that is why very deep residual networks train.
    """

    def __init__(self, branch: Module) -> None:
        super().__init__()
        if not isinstance(branch, Module):
            raise TypeError(f"Residual: branch must be a dlcore scratch Module, got {type(branch).__name__}")
        self.branch = branch

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = self.branch.forward(x)
        if out.shape != np.shape(x):
            raise ValueError(f"Residual: the branch maps shape {np.shape(x)} to {out.shape}; x + branch(x) "
                             f"needs the same shape")
        return x + out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout + self.branch.backward(dout)

    def __repr__(self) -> str:
        inner = repr(self.branch).replace("\n", "\n  ")
        return f"Residual(\n  {inner}\n)"


def _scratch_layer(spec: LayerSpec, rng: np.random.Generator, kernels: LayerKernels) -> Module:
    if spec.kind == "linear":
        D, M = spec.W.shape
        layer = Linear(D, M, rng=np.random.default_rng(0))  # values replaced just below
        layer.W.value[...], layer.b.value[...] = spec.W, spec.b
        return layer
    if spec.kind == "batchnorm":
        if kernels.batchnorm is not None:
            return KernelBatchNorm1d(spec.size, *kernels.batchnorm)
        return BatchNorm1d(spec.size)
    if spec.kind == "activation":
        return MLP_ACTIVATIONS[spec.name][0]()
    if spec.kind == "dropout":
        if kernels.dropout is not None:
            return KernelDropout(spec.p, *kernels.dropout, rng=rng)
        return Dropout(spec.p, rng=rng)
    if spec.kind == "residual":
        return Residual(Sequential(*(_scratch_layer(inner, rng, kernels) for inner in spec.inner)))
    raise ValueError(f"scratch_mlp: unknown layer kind {spec.kind!r}")


def scratch_mlp(in_features: int, out_features: int, *, hidden: int = 32, depth: int = 4, activation: str = "relu",
                init: str = "he", norm: str = "none", dropout: float = 0.0, residual: bool = False,
                rng: np.random.Generator, kernels: LayerKernels | None = None) -> Sequential:
    """A deep MLP as a dlcore Sequential (see the module docstring for the layout).

    ``rng`` draws the weights and, later, the dropout masks. ``kernels`` swaps in other
    functions for the initialisation, batch norm and dropout (see :class:`LayerKernels`).
    """
    kernels = kernels if kernels is not None else LayerKernels()
    if not isinstance(kernels, LayerKernels):
        raise TypeError(f"scratch_mlp: kernels must be a LayerKernels, got {type(kernels).__name__}")
    plan = mlp_plan(in_features, out_features, hidden=hidden, depth=depth, activation=activation, init=init,
                    norm=norm, dropout=dropout, residual=residual, rng=rng, init_weights=kernels.init_weights)
    return Sequential(*(_scratch_layer(spec, rng, kernels) for spec in plan))
