"""Helpers shared by the chapter tests: stubs, failure checks and figure checks.

Fixtures live in tests/conftest.py; plain functions that tests import live here.
"""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.exercises.core import ExerciseFailed


def not_done(*args, **kwargs):
    """An untouched exercise stub: what a student's function does before they write it."""
    raise NotImplementedError("Exercise N.M: replace this line with your code")


def fails_with(check, *answers, fragments=(), mistake=None) -> ExerciseFailed:
    """Run ``check(*answers)``, require an ExerciseFailed whose message holds every fragment and, if given,
    whose diagnosed mistake id is ``mistake``; return the failure for further assertions."""
    with pytest.raises(ExerciseFailed) as caught:
        check(*answers)
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)
    if mistake is not None:
        assert caught.value.mistake == mistake, (caught.value.mistake, str(caught.value))
    return caught.value


def all_finite(*arrays) -> bool:
    """Every value of every array is a finite number (an empty array passes)."""
    return all(np.all(np.isfinite(np.asarray(values, dtype=float))) for values in arrays)


def lines_finite(*lines) -> bool:
    """Every point of these matplotlib lines is finite: an explorer never draws NaN or inf."""
    return all_finite(*(values for line in lines for values in line.get_data()))


def figure_finite(fig) -> bool:
    """Every point of every line in every axes of ``fig`` is finite."""
    return lines_finite(*(line for ax in fig.axes for line in ax.get_lines()))
