"""Printing numbers that every CPU prints the same way (used from chapter 02 on).

Two computations of the same quantity in float64 differ by rounding noise: 1e-17 on one
machine, 4e-17 on another, because the CPU's instruction set decides how sums are
blocked and whether multiply-adds are fused. The digits of that noise mean nothing, and
printing them would make a notebook's output depend on the machine that ran it. What
does mean something is that the difference is *below a bound* chosen for the
computation (1e-12 for float64 kernels compared with PyTorch, say). So print the bound:

    >>> below(3.6e-16, 1e-12)
    '< 1e-12'
    >>> below(2e-3, 1e-12)
    '2.0e-03 (NOT below 1e-12)'

A value above its bound is printed in full and flagged, so a stored output can never
hide a real mismatch: strict nbval then fails on it.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["below"]


def below(value: float, bound: float) -> str:
    """``'< bound'`` when ``|value| < bound``, else the value and a flag.

    Args:
        value: a difference, error or residual (a float or a 0-d array); NaN is
            never below a bound.
        bound: a positive, finite float, printed as written in ``:.0e`` form
            (1e-12 prints as ``1e-12``).

    Returns:
        A short string for an f-string, e.g. ``'< 1e-12'``.

    Raises:
        TypeError: for a value or bound that is not a real number.
        ValueError: for a bound that is not positive and finite.
    """
    for name, number in (("value", value), ("bound", bound)):
        if isinstance(number, (bool, np.bool_)) or not isinstance(number, (int, float, np.integer, np.floating)) \
                and not (isinstance(number, np.ndarray) and number.ndim == 0 and np.isrealobj(number)):
            raise TypeError(f"below: {name} must be a real number, got {type(number).__name__}")
    bound = float(bound)
    if not (math.isfinite(bound) and bound > 0):
        raise ValueError(f"below: bound must be positive and finite, got {bound!r}")
    shown = f"{bound:.0e}".replace("e-0", "e-").replace("e+0", "e+")
    value = float(value)
    if abs(value) < bound:
        return f"< {shown}"
    return f"{value:.1e} (NOT below {shown})"
