"""dlcore.report.below: rounding noise printed as a bound, real mismatches printed in full."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.report import below


@pytest.mark.parametrize("value", [0.0, 4.4e-16, -3e-13, np.float64(9.9e-13), np.array(1e-17)])
def test_values_under_the_bound_print_the_bound_only(value):
    assert below(value, 1e-12) == "< 1e-12"


@pytest.mark.parametrize("value, text", [(1e-12, "1.0e-12 (NOT below 1e-12)"), (2.5e-3, "2.5e-03 (NOT below 1e-12)"),
                                         (-1.0, "-1.0e+00 (NOT below 1e-12)"), (float("nan"), "nan (NOT below 1e-12)"),
                                         (float("inf"), "inf (NOT below 1e-12)")])
def test_values_at_or_over_the_bound_are_printed_and_flagged(value, text):
    assert below(value, 1e-12) == text


@pytest.mark.parametrize("bound, shown", [(1e-5, "< 1e-5"), (5e-3, "< 5e-3"), (1.0, "< 1e+0"), (1e20, "< 1e+20")])
def test_the_bound_is_printed_without_padding_zeros(bound, shown):
    assert below(0.0, bound) == shown


@pytest.mark.parametrize("bound", [0.0, -1e-12, float("inf"), float("nan")])
def test_a_bound_that_is_not_positive_and_finite_is_refused(bound):
    with pytest.raises(ValueError, match="below: bound must be positive and finite"):
        below(0.0, bound)


@pytest.mark.parametrize("value", ["1e-13", None, True, np.array([1e-13, 2e-13]), 1e-13 + 0j])
def test_a_value_that_is_not_a_real_number_is_refused(value):
    with pytest.raises(TypeError, match="below: value must be a real number"):
        below(value, 1e-12)


def test_check_float_dtype_accepts_the_two_float_types_and_names_the_caller_otherwise():
    import torch

    from dlcore.errors import check_float_dtype

    for dtype in (torch.float32, torch.float64):
        check_float_dtype("make_mlp", dtype)
    for bad in (torch.float16, torch.int64, "float64", None):
        with pytest.raises(ValueError, match="make_mlp: dtype must be torch.float32 or torch.float64, got"):
            check_float_dtype("make_mlp", bad)
