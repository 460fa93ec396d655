"""Deep learning from scratch in NumPy.

Each mechanism is a pair of plain functions, ``*_forward(...) -> (out, cache)``
and ``*_backward(dout, cache) -> gradients``, plus a small module class that
holds parameters and calls them. Shape glossary: N batch, D input features,
M output features, K classes.
"""

from dlcore.scratch.activations import (
    ACTIVATIONS,
    ELU,
    GELU,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Step,
    Tanh,
    activation_backward,
    activation_forward,
    elu,
    gelu,
    get_activation,
    identity,
    leaky_relu,
    relu,
    sigmoid,
    softmax,
    softmax_backward,
    softmax_forward,
    step,
    tanh,
)
from dlcore.scratch.linear import Linear, LinearCache, linear_backward, linear_forward
from dlcore.scratch.module import Module, Parameter, Sequential

__all__ = [
    "ACTIVATIONS", "ELU", "GELU", "Identity", "LeakyReLU", "Linear", "LinearCache", "Module",
    "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Step", "Tanh",
    "activation_backward", "activation_forward", "elu", "gelu", "get_activation", "identity",
    "leaky_relu", "linear_backward", "linear_forward", "relu", "sigmoid", "softmax",
    "softmax_backward", "softmax_forward", "step", "tanh",
]
