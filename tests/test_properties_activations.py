"""Properties of dlcore.scratch.activations: equal to PyTorch on any shape, clear errors otherwise."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from dlcore.errors import ShapeError
from dlcore.scratch import activations as A
from tests.property_kit import BAD_ARRAYS, close, covers, floats, rejects, shapes, torch_of

covers(
    A.ActivationSpec, A.get_activation, A.step, A.sigmoid, A.tanh, A.relu, A.leaky_relu, A.elu, A.gelu, A.identity,
    A.softmax, A.softmax_forward, A.softmax_backward, A.activation_forward, A.activation_backward,
    A.Step, A.Sigmoid, A.Tanh, A.ReLU, A.LeakyReLU, A.ELU, A.GELU, A.Identity, A.Softmax, A.SpecActivation,
)

# name -> (our function with its parameters, PyTorch's, the module)
ELEMENTWISE = {
    "step": (A.step, lambda t: (t > 0).double(), A.Step),
    "sigmoid": (A.sigmoid, torch.sigmoid, A.Sigmoid),
    "tanh": (A.tanh, torch.tanh, A.Tanh),
    "relu": (A.relu, torch.relu, A.ReLU),
    "leaky_relu": (lambda x: A.leaky_relu(x, 0.2), lambda t: F.leaky_relu(t, 0.2), lambda: A.LeakyReLU(0.2)),
    "elu": (lambda x: A.elu(x, 0.7), lambda t: F.elu(t, 0.7), lambda: A.ELU(0.7)),
    "gelu": (A.gelu, F.gelu, A.GELU),
    "gelu_tanh": (lambda x: A.gelu(x, "tanh"), lambda t: F.gelu(t, approximate="tanh"), lambda: A.GELU("tanh")),
    "identity": (A.identity, lambda t: t, A.Identity),
}
PARAMS = {"leaky_relu": {"negative_slope": 0.2}, "elu": {"alpha": 0.7}, "gelu_tanh": {"approximate": "tanh"}}


@pytest.mark.parametrize("name", ELEMENTWISE)
@given(x=floats(shapes(0, 3), -40.0, 40.0))
def test_elementwise_functions_equal_torch_on_any_shape(name, x):
    ours, theirs, _ = ELEMENTWISE[name]
    close(ours(x), theirs(torch_of(x)))


@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if n != "step"])
@given(x=floats(shapes(1, 3), -8.0, 8.0), seed=st.integers(0, 2**16))
def test_forward_backward_and_modules_equal_torch_autograd(name, x, seed):
    spec_name = "gelu" if name == "gelu_tanh" else name
    dout = np.random.default_rng(seed).normal(size=x.shape)
    x_t = torch_of(x, grad=True)
    ELEMENTWISE[name][1](x_t).backward(torch_of(dout))
    out, cache = A.activation_forward(x, spec_name, **PARAMS.get(name, {}))
    close(out, ELEMENTWISE[name][1](torch_of(x)))
    close(A.activation_backward(dout, cache), x_t.grad, rtol=1e-9, atol=1e-12)
    module = ELEMENTWISE[name][2]()
    close(module(x), out)
    close(module.backward(dout), x_t.grad, rtol=1e-9, atol=1e-12)
    spec_module = A.SpecActivation(A.get_activation(spec_name), **PARAMS.get(name, {}))
    close(spec_module(x), out)


@given(x=floats(shapes(1, 3), -30.0, 30.0), data=st.data())
def test_softmax_equals_torch_along_any_axis(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    dout = data.draw(floats(x.shape))
    x_t = torch_of(x, grad=True)
    torch.softmax(x_t, dim=axis).backward(torch_of(dout))
    out, cache = A.softmax_forward(x, axis=axis)
    close(out, torch.softmax(torch_of(x), dim=axis))
    close(A.softmax(x, axis), out)
    close(A.softmax_backward(dout, cache), x_t.grad, rtol=1e-9, atol=1e-12)
    if axis in (-1, x.ndim - 1):
        module = A.Softmax()
        close(module(x), out)
        close(module.backward(dout), x_t.grad, rtol=1e-9, atol=1e-12)


@given(x=floats(shapes(1, 2), -1e4, 1e4))
def test_softmax_rows_are_distributions_even_for_huge_logits(x):
    out = A.softmax(x)
    assert np.all(np.isfinite(out)) and np.all(out >= 0)
    close(out.sum(axis=-1), np.ones(x.shape[:-1]))


def test_nan_propagates_as_in_torch():
    x = np.array([1.0, np.nan, -1.0])
    for name, (ours, theirs, _) in ELEMENTWISE.items():
        if name != "step":
            close(ours(x), theirs(torch_of(x)))


@pytest.mark.parametrize("kind", BAD_ARRAYS)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_non_numeric_input_is_refused_naming_x(name, kind):
    rejects(lambda: ELEMENTWISE[name][0](BAD_ARRAYS[kind]), "x", kinds=(TypeError,))


@pytest.mark.parametrize("call, argument", [
    (lambda: A.softmax(np.ones((2, 3)), axis=2), "axis"),
    (lambda: A.softmax(np.ones((2, 3)), axis=0.5), "axis"),
    (lambda: A.softmax(np.ones((2, 0))), "x"),
    (lambda: A.softmax(BAD_ARRAYS["complex"]), "x"),
    (lambda: A.leaky_relu(np.ones(2), float("nan")), "negative_slope"),
    (lambda: A.elu(np.ones(2), "1"), "alpha"),
    (lambda: A.LeakyReLU("0.1"), "negative_slope"),
    (lambda: A.ELU(float("inf")), "alpha"),
    (lambda: A.gelu(np.ones(2), "erf"), "approximate"),
    (lambda: A.GELU("erf"), "approximate"),
    (lambda: A.get_activation("swish"), "activation"),
    (lambda: A.activation_forward(np.ones(2), "relu", alpha=1.0), "alpha"),
    (lambda: A.SpecActivation("relu"), "spec"),
])
def test_bad_hyperparameters_are_named(call, argument):
    rejects(call, argument)


@given(x=floats(shapes(2, 3)))
def test_a_transposed_or_broadcastable_dout_is_refused(x):
    _, cache = A.activation_forward(x, "tanh")
    _, soft_cache = A.softmax_forward(x)
    wrong = np.ones(x.shape[::-1] + (2,))
    assert rejects(lambda: A.activation_backward(wrong, cache), "dout", kinds=(ShapeError,))
    assert rejects(lambda: A.softmax_backward(wrong, soft_cache), "dout", kinds=(ShapeError,))
    if x.shape[-1] > 1:
        row = np.ones(x.shape[-1])  # would broadcast silently without the check
        rejects(lambda: A.activation_backward(row, cache), "dout", kinds=(ShapeError,))


def test_module_backward_before_forward_says_what_to_do():
    for module in (A.ReLU(), A.Softmax()):
        with pytest.raises(RuntimeError, match="call forward first"):
            module.backward(np.ones(3))
