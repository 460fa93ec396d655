"""What happens to a signal in a deep stack of Linear + activation layers (chapter 03).

A deep network is L blocks, each an affine map followed by an activation:

    z_l = h_{l-1} W_l + b_l,   h_l = f(z_l),   l = 1..L,   h_0 = x

Two things decide whether such a stack can be trained: whether the forward
signal h_l keeps a useful scale, and whether the backward signal dL/dh_l does.
By the chain rule

    dL/dh_{l-1} = (dL/dh_l * f'(z_l)) W_l^T

so every block multiplies the gradient by f'(z_l) (at most 1/4 for the sigmoid)
and by W_l^T. This module builds such stacks from :mod:`dlcore.scratch` layers
and measures, block by block, the mean and spread of h_l, the share of saturated
units (|f'(z)| small), the share of dead units (zero output for the whole batch)
and the norm of the gradient that reaches each block, computed by the layers'
own backward passes. :func:`stack_statistics` measures a stack given as plain
weight and bias arrays (from :func:`random_stack`), with the signature of the
chapter's exercise. It also shows the opposite case: without an activation the
whole stack is a single affine map (:func:`collapse_linear_stack`).

Weights are drawn so that Var(W_ij) = weight_scale^2 / D_in: weight_scale = 1 is
LeCun's scaling, sqrt(2) is He's (chapter 07 derives both).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from dlcore.errors import ShapeError, as_float_array, expect_ndim, expect_positive_int, expect_real, expect_shape
from dlcore.scratch.activations import (
    ELU, GELU, Activation, ActivationSpec, Identity, LeakyReLU, ReLU, Sigmoid, SpecActivation, Step, Tanh,
    get_activation,
)
from dlcore.scratch.linear import Linear
from dlcore.scratch.module import Sequential

__all__ = [
    "DepthStatistics", "deep_network", "network_statistics", "depth_statistics", "random_stack",
    "stack_statistics", "collapse_linear_stack", "SATURATION_THRESHOLD",
]

# A unit whose |f'(z)| is below this passes on less than 1% of the gradient it receives.
SATURATION_THRESHOLD = 0.01


@dataclass(frozen=True)
class DepthStatistics:
    """Per-block measurements of a deep stack; every array has shape (L,), block 1 first.

    Attributes:
        mean, std: mean and standard deviation of h_l over the batch and the units.
        saturated: share of (example, unit) pairs with |f'(z_l)| < threshold. For
            ReLU this includes the inactive side (z <= 0), normally about half.
        dead: share of units whose output is exactly 0 for every example of the batch
            (a dead ReLU: no example sends a gradient through it).
        grad_norm: ||dL/dh_l||, the gradient arriving at block l's output.
        weight_grad_norm: ||dL/dW_l||, what an optimizer would see for block l.
        input_grad_norm: ||dL/dx||, the gradient that reaches the input.
    """

    activation: str
    mean: np.ndarray
    std: np.ndarray
    saturated: np.ndarray
    dead: np.ndarray
    grad_norm: np.ndarray
    weight_grad_norm: np.ndarray
    input_grad_norm: float

    @property
    def depth(self) -> int:
        return len(self.std)


_MODULES: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Step, Sigmoid, Tanh, ReLU, LeakyReLU, ELU, GELU, Identity)
}


def _check_positive_int(func: str, name: str, value: object) -> int:
    return expect_positive_int(func, name, value)


def deep_network(
    depth: int,
    width: int,
    activation: str | ActivationSpec,
    *,
    in_features: int,
    rng: np.random.Generator,
    weight_scale: float = 1.0,
    bias: float = 0.0,
    **params: float | str,
) -> Sequential:
    """Build ``depth`` blocks Linear -> activation, each ``width`` units wide.

    W_l ~ U(-a, a) with a = weight_scale * sqrt(3 / D_in), so Var(W_l) = weight_scale^2 / D_in;
    every bias entry equals ``bias``.

    Args:
        depth: number of blocks L (>= 1).
        width: units per block (M).
        activation: a name from :data:`dlcore.scratch.ACTIVATIONS`, e.g. ``"tanh"``, or an
            :class:`ActivationSpec` (a learner's own function and derivative).
        in_features: D, the width of the input.
        rng: the only source of randomness.
        weight_scale: the gain g > 0 multiplying the 1/sqrt(D_in) scale.
        bias: the constant every bias starts at (a large negative value kills ReLUs).
        params: the activation's parameters, e.g. ``negative_slope=0.1``.

    Returns:
        A :class:`Sequential` of 2 * depth modules: Linear, activation, Linear, ...

    Raises:
        ValueError: for a non-positive size or weight_scale, or an unknown activation.
        TypeError: for a parameter the activation does not take (e.g. ``alpha`` for ReLU).
    """
    depth = _check_positive_int("deep_network", "depth", depth)
    width = _check_positive_int("deep_network", "width", width)
    in_features = _check_positive_int("deep_network", "in_features", in_features)
    spec = activation if isinstance(activation, ActivationSpec) else get_activation(activation)
    weight_scale = expect_real("deep_network", "weight_scale", weight_scale, positive=True)
    bias = expect_real("deep_network", "bias", bias)
    def activation_class(**params: float | str) -> Activation:
        if isinstance(activation, ActivationSpec):
            return SpecActivation(spec, **params)
        return _MODULES[spec.name](**params)

    layers = []
    for index in range(depth):
        linear = Linear(in_features if index == 0 else width, width, rng=rng)
        # Linear draws U(-1/sqrt(D), 1/sqrt(D)), variance 1/(3D); rescale it to g^2/D.
        linear.W.value *= weight_scale * math.sqrt(3.0)
        linear.b.value[...] = bias
        layers += [linear, activation_class(**params)]
    # Validate the activation's parameters once, now, rather than at the first forward pass.
    layers[1].forward(np.zeros((1, 1)))
    return Sequential(*layers)


def _norm(array: np.ndarray) -> float:
    """Euclidean norm that neither overflows nor underflows when squaring (entries up to ~1e307)."""
    largest = float(np.max(np.abs(array))) if array.size else 0.0
    if largest == 0.0 or not math.isfinite(largest):
        return largest
    return largest * float(np.sqrt(np.sum((array / largest) ** 2)))


def _std(array: np.ndarray) -> float:
    centred = array - array.mean()
    return _norm(centred) / math.sqrt(array.size)


def _blocks(network: Sequential) -> list[tuple[Linear, Activation]]:
    layers = list(network.layers)
    pairs_ok = len(layers) >= 2 and len(layers) % 2 == 0 and all(
        isinstance(linear, Linear) and isinstance(act, Activation)
        for linear, act in zip(layers[0::2], layers[1::2])
    )
    if not pairs_ok:
        kinds = ", ".join(type(layer).__name__ for layer in layers)
        raise TypeError(
            f"network_statistics: expected a Sequential of (Linear, activation) pairs as made by "
            f"deep_network, got [{kinds}]"
        )
    return list(zip(layers[0::2], layers[1::2]))


def network_statistics(
    network: Sequential,
    x: np.ndarray,
    *,
    dout: np.ndarray | None = None,
    threshold: float = SATURATION_THRESHOLD,
) -> DepthStatistics:
    """Run ``x`` forward and a gradient backward through ``network``, measuring every block.

    The backward pass starts from ``dout`` = dL/dh_L; by default ones / N, the gradient
    of L = mean over the batch of the summed outputs. It uses the modules' own
    ``backward`` methods, so parameter gradients accumulate into ``W.grad`` as usual
    (they are zeroed first).

    Args:
        network: from :func:`deep_network` (alternating Linear and activation modules).
        x: (N, D) input batch.
        dout: optional (N, M) upstream gradient.
        threshold: |f'| below which a unit counts as saturated.

    Returns:
        :class:`DepthStatistics`.

    Raises:
        ShapeError: if x is not 2-D or does not fit the first layer, or dout does not fit the output.
    """
    blocks = _blocks(network)
    x = as_float_array("network_statistics", "x", x)
    expect_ndim("network_statistics", "x", x, 2, "(N, D)")
    D = blocks[0][0].W.shape[0]
    expect_shape("network_statistics", "x", x, (None, D), "(N, D)", f"D = in_features of the first layer = {D}")
    means, stds, saturated, dead = [], [], [], []
    h = x
    for linear, act in blocks:
        z = linear.forward(h)  # (N, M)
        h = act.forward(z)
        slope = act.spec.derivative(z, h, **act.params)  # f'(z), (N, M)
        means.append(float(h.mean()))
        stds.append(_std(h))
        saturated.append(float(np.mean(np.abs(slope) < threshold)))
        dead.append(float(np.mean(np.all(h == 0.0, axis=0))))
    if dout is None:
        dout = np.ones_like(h) / h.shape[0]
    dout = as_float_array("network_statistics", "dout", dout)
    expect_shape("network_statistics", "dout", dout, h.shape, "(N, M)", "the network's output shape")
    network.zero_grad()
    grad_norms, weight_grad_norms = [], []
    grad = dout
    for linear, act in reversed(blocks):
        grad_norms.append(_norm(np.asarray(grad, dtype=np.float64)))
        grad = linear.backward(act.backward(grad))
        weight_grad_norms.append(_norm(linear.W.grad))
    return DepthStatistics(
        activation=blocks[0][1].name,
        mean=np.array(means),
        std=np.array(stds),
        saturated=np.array(saturated),
        dead=np.array(dead),
        grad_norm=np.array(grad_norms[::-1]),
        weight_grad_norm=np.array(weight_grad_norms[::-1]),
        input_grad_norm=_norm(grad),
    )


def depth_statistics(
    x: np.ndarray,
    depth: int,
    width: int,
    activation: str | ActivationSpec,
    *,
    rng: np.random.Generator,
    weight_scale: float = 1.0,
    bias: float = 0.0,
    threshold: float = SATURATION_THRESHOLD,
    **params: float | str,
) -> DepthStatistics:
    """Build a stack with :func:`deep_network` and measure it with :func:`network_statistics`.

    Example: ``depth_statistics(x, 20, 64, "sigmoid", rng=rng).grad_norm`` shows the
    gradient shrinking block by block towards the input.

    Args:
        x: (N, D) input batch; D sets the first layer's in_features.
        depth, width, activation, rng, weight_scale, bias, params: as for :func:`deep_network`.
        threshold: as for :func:`network_statistics`.
    """
    x = as_float_array("depth_statistics", "x", x)
    expect_ndim("depth_statistics", "x", x, 2, "(N, D)")
    network = deep_network(depth, width, activation, in_features=x.shape[1], rng=rng,
                           weight_scale=weight_scale, bias=bias, **params)
    return network_statistics(network, x, threshold=threshold)


def random_stack(
    depth: int,
    width: int,
    *,
    in_features: int,
    rng: np.random.Generator,
    weight_scale: float = 1.0,
    bias: float = 0.0,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The weights and biases that :func:`deep_network` draws, as plain arrays.

    The same ``rng`` gives the same numbers as ``deep_network`` (and so as
    :func:`depth_statistics`), whatever the activation.

    Returns:
        ``(weights, biases)``: lists of ``depth`` arrays, W_1 of shape (D, M), W_l of
        shape (M, M) after it, and b_l of shape (M,).
    """
    network = deep_network(depth, width, "identity", in_features=in_features, rng=rng,
                           weight_scale=weight_scale, bias=bias)
    linears = network.layers[0::2]
    return [linear.W.value for linear in linears], [linear.b.value for linear in linears]


def stack_statistics(
    x: np.ndarray,
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    function: Callable[..., np.ndarray],
    derivative: Callable[..., np.ndarray],
    dout: np.ndarray,
    *,
    threshold: float = SATURATION_THRESHOLD,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-block statistics of the stack h_l = f(h_{l-1} W_l + b_l) with the given parameters.

    The signature of chapter 03's exercise: the stack is rebuilt from :class:`Linear`
    layers holding ``weights`` and ``biases`` and measured by :func:`network_statistics`.

    Args:
        x: (N, D) input batch h_0.
        weights: L arrays, W_l of shape (M_{l-1}, M_l) with M_0 = D.
        biases: L arrays, b_l of shape (M_l,).
        function, derivative: the activation f(z) and its derivative(z, out), as in
            :class:`ActivationSpec`.
        dout: (N, M_L) upstream gradient dL/dh_L.
        threshold: |f'| below which a unit-example counts as saturated.

    Returns:
        ``(mean, std, grad_norm, saturated)``, each of shape (L,), block 1 first:
        mean and std of h_l over all its entries, ||dL/dh_l||, and the share of
        entries with |f'(z_l)| < threshold.

    Raises:
        ShapeError: if the parameters do not chain (W_l.shape[0] != M_{l-1}, b_l not (M_l,))
            or x or dout do not fit them.
    """
    x = as_float_array("stack_statistics", "x", x)
    expect_ndim("stack_statistics", "x", x, 2, "(N, D)")
    if len(weights) != len(biases) or not weights:
        raise ShapeError(f"stack_statistics: weights holds {len(weights)} matrices and biases {len(biases)} vectors; "
                         f"expected one of each per block (at least one block)")
    spec = ActivationSpec(getattr(function, "__name__", "activation"), function, derivative, "", "")
    rng = np.random.default_rng(0)  # only to construct the layers; every value is then replaced
    layers, width = [], x.shape[1]
    for index, (W, b) in enumerate(zip(weights, biases), start=1):
        W = as_float_array("stack_statistics", f"weights[{index - 1}]", W)
        expect_shape("stack_statistics", f"weights[{index - 1}]", W, (width, None), "(M_{l-1}, M_l)",
                     f"block {index} receives {width} features")
        expect_shape("stack_statistics", f"biases[{index - 1}]", np.asarray(b), (W.shape[1],), "(M_l,)",
                     f"block {index} has {W.shape[1]} units")
        linear = Linear(W.shape[0], W.shape[1], rng=rng)
        linear.W.value[...] = W
        linear.b.value[...] = b
        layers += [linear, SpecActivation(spec)]
        width = W.shape[1]
    stats = network_statistics(Sequential(*layers), x, dout=dout, threshold=threshold)
    return stats.mean, stats.std, stats.grad_norm, stats.saturated


def collapse_linear_stack(network: Sequential) -> tuple[np.ndarray, np.ndarray]:
    """The single affine map equal to a stack of Linear layers with no activation between them.

    (x W_1 + b_1) W_2 + b_2 = x (W_1 W_2) + (b_1 W_2 + b_2), and so on for every layer:
    W = W_1 W_2 ... W_L and b = (...((b_1 W_2 + b_2) W_3 + b_3)...) W_L + b_L.

    Args:
        network: a Sequential whose modules are Linear or Identity (anything else
            is not linear, and the collapse would be wrong).

    Returns:
        W of shape (D, M) and b of shape (M,) with network(x) == x @ W + b for every x.

    Raises:
        TypeError: if the stack contains a non-linear module.
    """
    W, b = None, None
    for index, layer in enumerate(network.layers):
        if isinstance(layer, Identity):
            continue
        if not isinstance(layer, Linear):
            raise TypeError(
                f"collapse_linear_stack: layer {index} is {layer!r}, which is not linear; only a stack "
                f"of Linear (and Identity) layers collapses to one matrix"
            )
        if W is None:
            W, b = layer.W.value.copy(), layer.b.value.copy()
        else:
            W = W @ layer.W.value  # (D, M_l)
            b = b @ layer.W.value + layer.b.value  # (M_l,)
    if W is None:
        raise TypeError("collapse_linear_stack: the network has no Linear layer to collapse")
    return W, b
