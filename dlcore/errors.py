"""Errors that teach: one ShapeError and the helpers that raise it.

Every public function in dlcore checks its inputs with these helpers, so a
wrong shape is reported where it enters, with the argument's name and the
expected against the actual shape, instead of surfacing later as an obscure
broadcasting error.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = [
    "ShapeError", "expect_ndim", "expect_shape", "as_float_array", "format_shape",
    "expect_positive_int", "expect_nonnegative_int", "expect_int", "expect_generator", "expect_pair", "expect_finite",
    "expect_probability", "expect_real", "check_float_dtype",
]


class ShapeError(ValueError):
    """An array's shape breaks a function's contract.

    The message names the function, the argument, its actual shape and the
    expected shape, e.g. ``"linear_forward: W has shape (3, 4) but expected
    (D, M) = (5, *) with D = x.shape[1]"``.
    """


def format_shape(shape: Sequence[int | None]) -> str:
    """Format a shape pattern, writing ``*`` for 'any size'.

    >>> format_shape((5, None))
    '(5, *)'
    """
    parts = ["*" if size is None else str(size) for size in shape]
    if len(parts) == 1:
        return f"({parts[0]},)"
    return "(" + ", ".join(parts) + ")"


def as_float_array(func: str, name: str, value: Any) -> np.ndarray:
    """Return ``value`` as a floating-point NumPy array, or raise a clear TypeError.

    Integer and boolean input is converted to float64; float32 and float64
    are kept as they are. The caller's array is never modified.
    """
    if isinstance(value, np.ndarray) and value.dtype in (np.float64, np.float32):
        return value  # the common case, checked first: training loops call this every step
    try:
        array = np.asarray(value)
    except Exception as error:  # e.g. ragged nested lists
        raise TypeError(f"{func}: {name} could not be turned into an array ({error})") from None
    if array.dtype == object:
        raise TypeError(f"{func}: {name} must be numeric, got an array of Python objects")
    if not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
        raise TypeError(f"{func}: {name} must be numeric, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{func}: {name} must be real, got dtype {array.dtype}")
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    return array


def expect_ndim(func: str, name: str, array: np.ndarray, ndim: int, labels: str = "") -> None:
    """Raise ShapeError unless ``array`` has exactly ``ndim`` dimensions."""
    if array.ndim != ndim:
        described = f" {labels}" if labels else ""
        raise ShapeError(
            f"{func}: {name} has shape {format_shape(array.shape)} ({array.ndim}-D) "
            f"but expected a {ndim}-D array{described}"
        )


def expect_shape(
    func: str,
    name: str,
    array: np.ndarray,
    expected: Sequence[int | None],
    labels: str = "",
    why: str = "",
) -> None:
    """Raise ShapeError unless ``array.shape`` matches ``expected``.

    ``expected`` is a tuple of sizes, ``None`` meaning any size. ``labels``
    names the axes from the shape glossary (e.g. ``"(D, M)"``) and ``why``
    says where the expected sizes come from (e.g. ``"D = x.shape[1]"``).
    """
    shape = tuple(array.shape)
    matches = len(shape) == len(expected) and all(
        want is None or have == want for have, want in zip(shape, expected)
    )
    if matches:
        return
    pattern = f"{labels} = {format_shape(expected)}" if labels else format_shape(expected)
    message = f"{func}: {name} has shape {format_shape(shape)} but expected {pattern}"
    if why:
        message += f" with {why}"
    raise ShapeError(message)


def check_float_dtype(func: str, dtype: object) -> None:
    """Raise ValueError naming ``func`` unless ``dtype`` is ``torch.float32`` or ``torch.float64``.

    The models whose training the chapters print can be built in float64 (chapter 10 on): float64
    rounding stays below the printed digits on every CPU. torch is imported only when this is called.
    """
    import torch

    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"{func}: dtype must be torch.float32 or torch.float64, got {dtype!r}")


def expect_positive_int(func: str, name: str, value: Any) -> int:
    """Return ``value`` as an int, or raise naming ``func`` and ``name`` unless it is an integer >= 1.

    A bool is not a size (``True`` would pass as 1), and a float such as ``3.0`` is refused rather
    than silently truncated: TypeError for the wrong kind of value, ValueError for zero or less.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{func}: {name} must be a positive integer, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{func}: {name} must be a positive integer, got {value!r}")
    return int(value)


def expect_int(func: str, name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in [minimum, maximum]; TypeError for another kind of value
    (a bool, a float such as 3.0, a string), ValueError outside the range. Both name ``func`` and ``name``."""
    wanted = f"an int >= {minimum}" if maximum is None else f"an int in {minimum}..{maximum}"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{func}: {name} must be {wanted}, got {type(value).__name__} {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{func}: {name} must be {wanted}, got {value!r}")
    return int(value)


def expect_nonnegative_int(func: str, name: str, value: Any) -> int:
    """Like :func:`expect_positive_int`, but 0 is allowed (a padding, a number of extra steps)."""
    return expect_int(func, name, value, 0)


def expect_generator(func: str, rng: Any, name: str = "rng") -> np.random.Generator:
    """Return ``rng`` unless it is not a NumPy Generator; then raise a TypeError that says how to make one.

    The course passes randomness explicitly, one way everywhere: a function that draws random
    numbers takes ``rng`` and never falls back to a hidden seed, so two layers built without
    thinking never start identical.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{func}: {name} must be a numpy Generator (e.g. np.random.default_rng(0)), got {type(rng).__name__}"
        )
    return rng


def expect_pair(func: str, name: str, value: Any, *, minimum: int = 1) -> tuple[int, int]:
    """Return ``value`` as a pair of ints (an int ``k`` means ``(k, k)``), each at least ``minimum``.

    Used for kernel sizes, strides and paddings: ``3`` and ``(3, 3)`` are the same request.
    """
    items = (value, value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    try:
        first, second = items
    except (TypeError, ValueError):
        raise TypeError(f"{func}: {name} must be an int or a pair of ints, got {value!r}") from None
    pair = []
    for item in (first, second):
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
            raise TypeError(f"{func}: {name} must be an int or a pair of ints, got {value!r}")
        if item < minimum:
            raise ValueError(f"{func}: {name} must be at least {minimum} in each direction, got {value!r}")
        pair.append(int(item))
    return pair[0], pair[1]


def expect_finite(func: str, name: str, array: np.ndarray) -> None:
    """Raise ValueError naming ``func`` and ``name`` if ``array`` holds a NaN or an infinity."""
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{func}: {name} must be finite, but {bad} of its {np.size(array)} values are NaN or infinite")


def expect_probability(func: str, name: str, value: Any, *, allow_one: bool = False) -> float:
    """Return ``value`` as a float in [0, 1) (or [0, 1] with ``allow_one``), else raise a ValueError.

    NaN fails every comparison, so it is refused too.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{func}: {name} must be a number, got {type(value).__name__} {value!r}")
    upper_ok = value <= 1 if allow_one else value < 1
    if not (value >= 0 and upper_ok):
        interval = "[0, 1]" if allow_one else "[0, 1)"
        raise ValueError(f"{func}: {name} must lie in {interval}, got {value!r}")
    return float(value)


def expect_real(func: str, name: str, value: Any, *, minimum: float | None = None, positive: bool = False) -> float:
    """Return ``value`` as a float if it is a finite real number (at least ``minimum``, above 0 if ``positive``).

    A learning rate, a bound or a tolerance given as a string, a complex number or NaN is refused
    here, by name, instead of failing later inside a NumPy comparison.
    """
    if isinstance(value, (bool, str, bytes)) or np.ndim(value) != 0 or not np.isrealobj(value) \
            or not np.issubdtype(np.asarray(value).dtype, np.number):
        raise TypeError(f"{func}: {name} must be a real number, got {type(value).__name__} {value!r}")
    number = float(value)
    wanted = "> 0" if positive else f">= {minimum:g}" if minimum is not None else ""
    low_enough = (positive and not number > 0) or (minimum is not None and number < minimum)
    if not np.isfinite(number) or low_enough:
        raise ValueError(f"{func}: {name} must be a finite number {wanted}".rstrip() + f", got {value!r}")
    return number
