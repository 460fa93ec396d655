"""The gradient checker must pass correct gradients and catch planted bugs."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.errors import ShapeError
from dlcore.gradcheck import (
    DEFAULT_TOLERANCE,
    NOISE_LEVEL,
    check_gradients,
    numerical_gradient,
    numerical_vjp,
    relative_error,
)
from dlcore.scratch import linear_backward, linear_forward


@pytest.fixture
def linear_inputs(rng):
    # Non-square on purpose: a transposed dW then has the wrong shape.
    return {"x": rng.standard_normal((3, 5)), "W": rng.standard_normal((5, 4)), "b": rng.standard_normal(4)}


def test_numerical_gradient_of_a_known_function(rng):
    x = rng.standard_normal((2, 3))
    grad = numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-6, atol=1e-9)


def test_numerical_gradient_restores_its_input(rng):
    x = rng.standard_normal(4)
    before = x.copy()
    numerical_gradient(lambda: float(np.sum(np.sin(x))), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_restores_input_when_f_raises(rng):
    x = rng.standard_normal(3)
    before = x.copy()

    def explode():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        numerical_gradient(explode, x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_refuses_float32():
    x = np.ones(3, dtype=np.float32)
    with pytest.raises(TypeError, match="x must be a float64 NumPy array"):
        numerical_gradient(lambda: float(x.sum()), x)


def test_numerical_vjp_equals_jacobian_transpose_product(rng):
    A = rng.standard_normal((4, 3))
    x = rng.standard_normal(3)
    dout = rng.standard_normal(4)
    vjp = numerical_vjp(lambda: A @ x, x, dout)
    np.testing.assert_allclose(vjp, A.T @ dout, rtol=1e-8)


def test_relative_error_compares_shapes_before_values():
    with pytest.raises(ShapeError, match=r"analytic db has shape \(1, 4\) but the numerical one has shape \(4,\)"):
        relative_error(np.zeros((1, 4)), np.zeros(4), name="db")


def test_relative_error_of_a_doubled_gradient_is_one_third(rng):
    g = rng.standard_normal(10)
    assert relative_error(2 * g, g) == pytest.approx(1 / 3)


def test_correct_linear_backward_passes(linear_inputs):
    report = check_gradients(linear_forward, linear_backward, linear_inputs)
    assert report.passed, str(report)
    assert all(row.error < DEFAULT_TOLERANCE for row in report.rows)
    report.assert_ok()


def test_check_does_not_modify_callers_arrays(linear_inputs):
    before = {name: value.copy() for name, value in linear_inputs.items()}
    check_gradients(linear_forward, linear_backward, linear_inputs)
    for name in before:
        np.testing.assert_array_equal(linear_inputs[name], before[name])


# ---- planted bugs: each must be caught --------------------------------------

def test_catches_a_doubled_gradient(linear_inputs):
    def doubled(dout, cache):
        dx, dW, db = linear_backward(dout, cache)
        return dx, 2 * dW, db

    report = check_gradients(linear_forward, doubled, linear_inputs)
    assert not report.passed
    assert report["W"].error == pytest.approx(1 / 3, rel=1e-6)
    assert report["x"].passed and report["b"].passed
    with pytest.raises(AssertionError, match="W .* FAIL: relative error 3.3e-01"):
        report.assert_ok()


def test_catches_a_transposed_dW(linear_inputs):
    def transposed(dout, cache):
        dx, dW, db = linear_backward(dout, cache)
        return dx, dW.T, db

    report = check_gradients(linear_forward, transposed, linear_inputs)
    assert not report["W"].passed
    assert "gradient has shape (4, 5), expected (5, 4)" in report["W"].reason


def test_catches_a_transposed_dW_on_square_weights(rng):
    inputs = {"x": rng.standard_normal((3, 4)), "W": rng.standard_normal((4, 4)), "b": rng.standard_normal(4)}

    def transposed(dout, cache):
        dx, dW, db = linear_backward(dout, cache)
        return dx, dW.T, db

    report = check_gradients(linear_forward, transposed, inputs)
    assert not report["W"].passed
    assert report["W"].error > 1e-2


def test_catches_a_bias_gradient_of_shape_1_by_M(linear_inputs):
    def keepdims_bias(dout, cache):
        dx, dW, db = linear_backward(dout, cache)
        return dx, dW, db[None, :]  # (1, M): NumPy would broadcast it silently

    report = check_gradients(linear_forward, keepdims_bias, linear_inputs)
    assert not report["b"].passed
    assert "gradient has shape (1, 4), expected (4,)" in report["b"].reason


def test_catches_a_missing_gradient(linear_inputs):
    report = check_gradients(linear_forward, lambda dout, cache: {"x": linear_backward(dout, cache)[0]}, linear_inputs)
    assert report["x"].passed
    assert report["W"].reason == "no gradient returned"
    assert not report.passed


def test_catches_a_backward_that_ignores_dout(linear_inputs):
    # Right only when dout is all ones: the random upstream gradient exposes it.
    def ignores_dout(dout, cache):
        return linear_backward(np.ones_like(dout), cache)

    report = check_gradients(linear_forward, ignores_dout, linear_inputs)
    assert not report.passed


def test_wrong_number_of_gradients_is_a_clear_error(linear_inputs):
    with pytest.raises(ValueError, match="backward returned 2 gradients but there are 3 inputs"):
        check_gradients(linear_forward, lambda dout, cache: linear_backward(dout, cache)[:2], linear_inputs)


def test_report_table_lists_every_input(linear_inputs):
    text = str(check_gradients(linear_forward, linear_backward, linear_inputs))
    for name in ("x", "W", "b"):
        assert f"\n{name} " in text
    assert "all passed" in text


def test_report_prints_rounding_level_errors_as_a_bound_and_larger_ones_in_full(linear_inputs, rng):
    """The table must read the same on every CPU: 1e-10-level digits are rounding noise."""
    good = check_gradients(linear_forward, linear_backward, linear_inputs, rng=rng)
    assert all(row.error < NOISE_LEVEL for row in good.rows)
    table = str(good)
    assert table.count("< 1e-8") == 3 and "e-1" not in table.replace("1e-8", "").replace("1e-06", ""), table

    def doubled_db(dout, cache):
        dx, dW, db = linear_backward(dout, cache)
        return dx, dW, 2 * db

    bad = check_gradients(linear_forward, doubled_db, linear_inputs, rng=rng)
    b_line = next(line for line in str(bad).splitlines() if line.startswith("b "))
    assert "FAIL" in b_line and f"{bad['b'].error:.2e}" in b_line, b_line
