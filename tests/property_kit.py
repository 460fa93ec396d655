"""Shared pieces of the property suite (tests/test_properties_*.py).

Every public kernel and module of ``dlcore.scratch`` has property tests: on valid input drawn by
hypothesis it agrees with PyTorch (or with finite differences, or a reference formula, where PyTorch
has no counterpart); on invalid input it raises ShapeError, ValueError or TypeError with a message
that names the argument. ``covers(...)`` records which public names a test module covers, and
tests/test_properties_coverage.py fails when a public name is covered nowhere.

Profiles (tests/conftest.py): "default" runs few, derandomised examples, so `make test` stays fast and
never flaky; ``HYPOTHESIS_PROFILE=long`` (``make test-properties``) runs many random ones.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

COVERED: set[str] = set()


def covers(*objects: object) -> None:
    """Record that the calling test module has property tests for these public objects."""
    for obj in objects:
        COVERED.add(f"{obj.__module__}.{obj.__qualname__}")


def shapes(min_dims: int = 1, max_dims: int = 3, min_side: int = 1, max_side: int = 5) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def floats(shape, low: float = -5.0, high: float = 5.0, dtype=np.float64) -> st.SearchStrategy:
    """Finite float arrays of ``shape`` (a tuple or a strategy of tuples) with entries in [low, high]."""
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=64 if dtype == np.float64 else 32)
    return hnp.arrays(dtype, shape, elements=elements)


def torch_of(array: np.ndarray, grad: bool = False) -> torch.Tensor:
    tensor = torch.from_numpy(np.array(array, dtype=np.float64, copy=True))
    return tensor.requires_grad_(grad)


def close(ours, reference, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    """Assert that ``ours`` equals ``reference`` (NumPy or torch) in shape and value."""
    if isinstance(reference, torch.Tensor):
        reference = reference.detach().numpy()
    ours = np.asarray(ours)
    assert ours.shape == np.shape(reference), f"shape {ours.shape}, expected {np.shape(reference)}"
    np.testing.assert_allclose(ours, reference, rtol=rtol, atol=atol)


def rejects(call, argument: str, kinds=(ValueError, TypeError)) -> str:
    """Assert that ``call()`` raises one of ``kinds`` (ShapeError is a ValueError) naming ``argument``.

    IndexError, AttributeError, ZeroDivisionError and NumPy's own errors are failures: a student must
    read which argument was wrong and what was expected, not a traceback from deep inside NumPy.
    """
    with pytest.raises(Exception) as caught:
        call()
    error = caught.value
    assert isinstance(error, kinds) and not isinstance(error, (IndexError, AttributeError)), (
        f"expected {' or '.join(k.__name__ for k in kinds)} naming {argument!r}, got {type(error).__name__}: {error}"
    )
    assert type(error).__module__.split(".")[0] in {"builtins", "dlcore"}, f"a foreign error leaked: {error!r}"
    message = str(error)
    assert re.search(rf"\b{re.escape(argument)}\b", message), f"the message does not name {argument!r}: {message}"
    return message


@st.composite
def conv_case(draw) -> tuple:
    """``(x, w, b, stride, padding, dilation)`` of a 2-D convolution: small random sizes, not square.

    x (N, C, H, W), w (F, C, kh, kw), b (F,); stride, padding and dilation are (height, width) pairs,
    chosen so that the (dilated) kernel fits the padded input.
    """
    N, C_in, F_ = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = draw(st.integers(3, 7)), draw(st.integers(3, 7))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    if H + 2 * padding[0] < dilation[0] * (kh - 1) + 1 or W + 2 * padding[1] < dilation[1] * (kw - 1) + 1:
        padding = (2, 2)
        dilation = (1, 1)
    x, w, b = draw(floats((N, C_in, H, W))), draw(floats((F_, C_in, kh, kw))), draw(floats((F_,)))
    return x, w, b, stride, padding, dilation


def torch_conv2d(case: tuple, data: st.DataObject) -> tuple[torch.Tensor, np.ndarray, tuple[torch.Tensor, ...]]:
    """PyTorch on a :func:`conv_case`: (out, dout, (dx, dw, db)), the upstream gradient dout drawn with ``data``."""
    x, w, b, stride, padding, dilation = case
    x_t, w_t, b_t = torch_of(x, True), torch_of(w, True), torch_of(b, True)
    out_t = F.conv2d(x_t, w_t, b_t, stride=stride, padding=padding, dilation=dilation)
    dout = data.draw(floats(tuple(out_t.shape)))
    out_t.backward(torch_of(dout))
    return out_t, dout, (x_t.grad, w_t.grad, b_t.grad)


BAD_ARRAYS = {
    "complex": np.ones((2, 3), dtype=complex),
    "text": np.array([["a", "b", "c"], ["d", "e", "f"]]),
    "ragged": [[1.0, 2.0], [3.0]],
}


def mutations(value):
    """Invalid variants of a valid argument, each with a label: what a student might pass by mistake."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
        yield "complex", value.astype(complex)
        yield "text", np.full(value.shape, "a")
        yield "extra axis", value[None]
        if value.ndim:
            yield "one axis fewer", value.reshape(value.shape[:-2] + (-1,)) if value.ndim > 1 else value[0]
        if value.dtype.kind == "f" and value.size:
            bad = value.copy()
            bad.flat[0] = np.nan
            yield "NaN", bad
    elif isinstance(value, (bool, np.bool_)):
        return
    elif isinstance(value, (int, np.integer)):
        yield "zero", 0
        yield "negative", -1
        yield "fractional", 2.5
        yield "text", "3"
    elif isinstance(value, (float, np.floating)):
        yield "NaN", float("nan")
        yield "text", "0.5"


def check_mutations(func, kwargs: dict, *, accepts: dict | None = None) -> list[str]:
    """Call ``func(**kwargs)`` with one argument at a time replaced by each of its :func:`mutations`.

    Each call must raise ValueError or TypeError (ShapeError is a ValueError) naming that argument.
    ``accepts`` maps an argument to the mutation labels it legitimately accepts (an element-wise
    function takes any number of axes; NaN propagates through arithmetic as in PyTorch). Returns the
    mutations tried, so a test can assert that something was tried.
    """
    accepts = accepts or {}
    tried = []
    for name, value in kwargs.items():
        for label, bad in mutations(value):
            if label in accepts.get(name, ()):
                continue
            tried.append(f"{name}: {label}")
            try:
                rejects(lambda: func(**{**kwargs, name: bad}), name)
            except (AssertionError, pytest.fail.Exception) as failure:
                raise AssertionError(f"{func.__name__}({name}={label}): {failure}") from None
            except Exception as error:  # no exception raised at all is reported by pytest.raises inside rejects
                raise AssertionError(f"{func.__name__}({name}={label}): {error!r}") from None
    return tried
