"""The property suite's own checks can fail: a silent acceptance, a foreign error or an unnamed argument."""

import numpy as np
import pytest

from tests.property_kit import check_mutations, rejects


def scale(x, factor):
    """Accepts anything NumPy accepts: no checks at all."""
    return np.asarray(x) * factor


def guarded(x=None, factor=1.0):
    if not isinstance(factor, (int, float)) or isinstance(factor, bool) or not np.isfinite(factor):
        raise ValueError(f"guarded: factor must be a finite number, got {factor!r}")
    raise IndexError("list index out of range")


@pytest.mark.parametrize("call, argument", [
    (lambda: scale(np.ones(2), 2.0), "x"),  # nothing raised
    (lambda: [][0], "x"),  # IndexError is never a teaching error
    (lambda: guarded(np.ones(2), float("nan")), "x"),  # raised, but names another argument
])
def test_rejects_fails_on_bad_behaviour(call, argument):
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        rejects(call, argument)


def test_check_mutations_reports_the_argument_and_the_mutation():
    with pytest.raises(AssertionError, match=r"scale\(factor=NaN\)"):
        check_mutations(scale, dict(x=np.ones(2), factor=2.0), accepts={"x": ("complex", "text", "extra axis",
                                                                              "one axis fewer", "NaN")})
    tried = check_mutations(guarded, dict(factor=2.0), accepts={})  # every mutation of factor is refused by name
    assert tried == ["factor: NaN", "factor: text"]
