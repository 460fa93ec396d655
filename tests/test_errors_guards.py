"""The shared argument guards in dlcore.errors: what passes, and what each refusal says."""

import numpy as np
import pytest

from dlcore import errors


def test_valid_values_come_back_normalised():
    assert errors.expect_positive_int("f", "n", np.int64(3)) == 3
    assert errors.expect_nonnegative_int("f", "pad", 0) == 0
    assert errors.expect_pair("f", "kernel", 3) == (3, 3)
    assert errors.expect_pair("f", "padding", (0, 2), minimum=0) == (0, 2)
    generator = np.random.default_rng(0)
    assert errors.expect_generator("f", generator) is generator
    assert errors.expect_probability("f", "p", 0) == 0.0
    assert errors.expect_probability("f", "p", 1, allow_one=True) == 1.0
    errors.expect_finite("f", "x", np.ones(3))


@pytest.mark.parametrize(
    "call, kind, message",
    [
        (lambda: errors.expect_positive_int("conv", "stride", 0), ValueError, "conv: stride must be a positive integer, got 0"),
        (lambda: errors.expect_positive_int("conv", "stride", True), TypeError, "got bool True"),
        (lambda: errors.expect_positive_int("conv", "stride", 2.0), TypeError, "got float 2.0"),
        (lambda: errors.expect_nonnegative_int("conv", "pad", -1), ValueError, "an int >= 0, got -1"),
        (lambda: errors.expect_pair("pool", "size", (2, 0)), ValueError, "at least 1 in each direction"),
        (lambda: errors.expect_pair("pool", "size", (2, 2, 2)), TypeError, "int or a pair of ints"),
        (lambda: errors.expect_pair("pool", "size", (2, 1.5)), TypeError, "int or a pair of ints"),
        (lambda: errors.expect_generator("Embedding", 0), TypeError, "rng must be a numpy Generator"),
        (lambda: errors.expect_probability("dropout", "p", 1.0), ValueError, r"p must lie in \[0, 1\)"),
        (lambda: errors.expect_probability("dropout", "p", float("nan")), ValueError, "got nan"),
        (lambda: errors.expect_probability("dropout", "p", "0.5"), TypeError, "must be a number"),
        (lambda: errors.expect_finite("loss", "x", np.array([0.0, np.inf])), ValueError, "1 of its 2 values"),
    ],
)
def test_each_refusal_names_the_function_and_argument(call, kind, message):
    with pytest.raises(kind, match=message):
        call()
