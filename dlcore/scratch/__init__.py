"""Deep learning from scratch in NumPy.

Each mechanism is a pair of plain functions, ``*_forward(...) -> (out, cache)``
and ``*_backward(dout, cache) -> gradients``, plus a small module class that
holds parameters and calls them. Shape glossary: N batch, D input features,
M output features, K classes.

The modules, in the order the course meets them (import them by name, e.g.
``from dlcore.scratch.losses import mse_forward``; the basic layers below are
also re-exported here):

- ``polynomial``        polynomial features and ridge fits (chapter 01)
- ``capacity``          one training set fitted at every degree: train and test error, a verdict (01)
- ``module``, ``linear`` Module/Parameter/Sequential and the affine layer (02)
- ``perceptron``        the perceptron rule and its convergence bound (02)
- ``approximation``     one ReLU layer that interpolates a function: universal approximation by construction (02)
- ``activations``       activation functions and softmax (03)
- ``depth_statistics``  what activations do through depth (03)
- ``losses``            MSE, cross-entropies, exponential loss (04)
- ``descent``           batch, stochastic and mini-batch gradient descent (04)
- ``surfaces``          loss curves and surfaces, and an optimizer descending on them (04, 06)
- ``descent_problems``  the descent explorer's five surfaces, its data and a verdict on a run (04)
- ``autograd``          a scalar automatic-differentiation engine (05)
- ``autograd_nn``       neurons, layers and an MLP made of its scalar Values (05)
- ``train``             the minimal training loop (05)
- ``benchmark_surfaces``, ``optim``, ``optim_steps``, ``schedules``  test surfaces, optimizers, update rules,
  schedules (06)
- ``init``, ``batchnorm``, ``dropout``, ``regularization``  training deep networks (07)
- ``conv_naive``, ``im2col``, ``conv``, ``pooling``, ``cnn``  convolutional networks (09)
- ``rnn``, ``lstm``, ``gru``, ``embedding``, ``jordan``, ``gradient_flow``, ``cell_trace``, ``sequence_model``,
  ``char_lstm``
  recurrent networks (11)
- ``attention``, ``transformer``  attention and one Transformer block (12)
- ``rbm``, ``dbn``      restricted Boltzmann machines and deep belief networks (13)
- ``gan_losses``        the GAN losses and their gradients (14)
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
