"""The exercise-check engine: run, compare, diagnose.

A check is built from three parts:

- cases: the inputs to try (chosen to expose typical mistakes: a batch of one,
  extreme values, non-square shapes);
- the reference implementation;
- diagnoses: small functions that look at a wrong answer and recognise a
  plausible mistake ("you returned sigma(x) instead of sigma'(x)").

Generic problems (not implemented, an exception, ``None``, a wrong shape,
NaN/inf) are recognised for every exercise. Each result is also recorded in
:data:`results` so that grading tools can collect them from a notebook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from dlcore.errors import format_shape

__all__ = ["ExerciseFailed", "CheckResult", "Case", "check_array_function", "check_value", "fail", "passed", "results",
           "matches", "first_mistake", "mistake_diagnosis"]


class ExerciseFailed(AssertionError):
    """The learner's answer is wrong; the message says how, and hints why."""

    def __init__(self, label: str, problem: str, hint: str = "") -> None:
        self.label = label
        self.problem = problem
        self.hint = hint
        message = f"Exercise {label}: {problem}"
        if hint:
            message += f"\nHint: {hint}"
        super().__init__(message)


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict, as recorded for grading."""

    label: str
    passed: bool
    message: str

    def _ipython_display_(self) -> None:
        """Show nothing when a check cell ends with the check: it has printed its verdict."""


# Every check run in this Python process, in order (grading reads it).
results: list[CheckResult] = []


def _record(label: str, passed: bool, message: str) -> None:
    results.append(CheckResult(label, passed, message))


@dataclass(frozen=True)
class Case:
    """One input to try: positional arguments, keyword arguments and a description."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    description: str = ""

    def describe(self) -> str:
        if self.description:
            return self.description
        shown = []
        for arg in self.args:
            array = np.asarray(arg) if not callable(arg) else None
            if array is not None and array.dtype != object and array.size > 6:
                shown.append(f"an array of shape {format_shape(array.shape)}")
            else:
                shown.append(np.array2string(array, precision=3) if array is not None else repr(arg))
        return "input " + ", ".join(shown)


Diagnosis = Callable[[Any, Any, Case], "str | None"]


def _copy_args(case: Case) -> tuple:
    return tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in case.args)


def fail(label: str, problem: str, hint: str = "") -> None:
    """Record a failed check and raise :class:`ExerciseFailed` (for chapter-specific checks)."""
    error = ExerciseFailed(label, problem, hint)
    _record(label, False, str(error))
    raise error


def passed(label: str, success: str = "") -> CheckResult:
    """Record and print a passed check (for chapter-specific checks)."""
    text = f"Exercise {label} passed" + (f": {success}" if success else ".")
    print(text)
    _record(label, True, text)
    return CheckResult(label, True, text)


_fail = fail


def matches(candidate: Callable[[], Any], got: Any, *, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """True if ``got`` equals what ``candidate()``, a plausible mistake, computes.

    Used by diagnoses: "is the learner's answer exactly what forgetting the
    bias would give?". NaN matches NaN. A mistake that cannot even be computed
    for this input (it raises) is not the learner's mistake.
    """
    try:
        with np.errstate(all="ignore"):
            wrong = np.asarray(candidate(), dtype=np.float64)
        got = np.asarray(got, dtype=np.float64)
    except Exception:
        return False
    return wrong.shape == got.shape and bool(np.allclose(got, wrong, rtol=rtol, atol=atol, equal_nan=True))


def first_mistake(mistakes: Sequence[tuple[Callable[..., Any], str]], got: Any, case: Case, *,
                  rtol: float = 1e-6, atol: float = 1e-9) -> str | None:
    """The message of the first ``(mistake, message)`` pair whose mistake, computed on the
    case's arguments, reproduces ``got``; None if none does."""
    for mistake, message in mistakes:
        if matches(lambda: mistake(*case.args, **case.kwargs), got, rtol=rtol, atol=atol):
            return f"{message} (on {case.describe()})"
    return None


def mistake_diagnosis(mistakes: Sequence[tuple[Callable[..., Any], str]], *, rtol: float = 1e-6,
                      atol: float = 1e-9) -> Diagnosis:
    """A diagnosis for :func:`check_array_function` from ``(mistake, message)`` pairs (see :func:`first_mistake`)."""
    def diagnose(got: Any, expected: Any, case: Case) -> str | None:
        return first_mistake(mistakes, got, case, rtol=rtol, atol=atol)

    return diagnose


def check_array_function(
    label: str,
    learner: Callable[..., Any],
    reference: Callable[..., Any],
    cases: Sequence[Case],
    *,
    diagnoses: Sequence[Diagnosis] = (),
    hint: str = "",
    rtol: float = 1e-6,
    atol: float = 1e-8,
    success: str = "",
    warning_hint: str = "",
) -> CheckResult:
    """Compare ``learner`` with ``reference`` on every case.

    Args:
        label: the exercise number, e.g. ``"3.1"``.
        learner, reference: functions returning an array (or a number).
        cases: the inputs to try, most revealing first.
        diagnoses: each ``diagnose(got, expected, case)`` returns a message if
            it recognises the mistake, else None; the first match is reported.
        hint: printed under any failure that no diagnosis explained.
        warning_hint: a numerical warning (overflow, division by zero, invalid
            value) raised by the learner's code fails the check, since it means
            the answer is right only by luck; this hint explains the fix.
        rtol, atol: tolerances of ``np.allclose``; float64 maths that follows
            the same formula agrees to ~1e-12, so 1e-6 only forgives
            differences in the order of operations.

    Returns:
        The :class:`CheckResult` (after printing a success line).

    Raises:
        NotImplementedError: if the learner has not written the code yet.
        ExerciseFailed: with a diagnosis, if any case is wrong.
    """
    if not callable(learner):
        _fail(label, f"expected a function, got {type(learner).__name__}", "pass the function itself, without calling it")
    for case in cases:
        expected = reference(*_copy_args(case), **case.kwargs)
        args = _copy_args(case)
        try:
            with warnings.catch_warnings(record=True) as caught, np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
                warnings.simplefilter("always", RuntimeWarning)
                got = learner(*args, **case.kwargs)
        except NotImplementedError:
            raise NotImplementedError(
                f"Exercise {label} is not done yet: replace the `raise NotImplementedError` "
                f"in the exercise cell with your code, run that cell, then this one."
            ) from None
        except Exception as error:  # the learner's bug, reported rather than crashing the check
            _fail(label, f"your function raised {type(error).__name__}: {error} (on {case.describe()})", hint)
        for original, passed in zip(case.args, args):
            if isinstance(original, np.ndarray) and not np.array_equal(original, passed, equal_nan=True):
                _fail(label, f"your function changed its input array in place (on {case.describe()})",
                      "compute a new array instead of writing into the argument (avoid x[...] = or x += ...)")
        numeric_warnings = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        if numeric_warnings:
            _fail(label, f"your function warned \"{numeric_warnings[0].message}\" on {case.describe()}",
                  warning_hint or "a numerical warning means part of the computation left the range of "
                  "floating-point numbers; rewrite it so no intermediate value overflows")
        if got is None:
            _fail(label, "your function returned None", "did you forget the `return` statement?")
        got_array = np.asarray(got, dtype=np.float64) if not isinstance(got, np.ndarray) else got
        expected_array = np.asarray(expected, dtype=np.float64)
        if got_array.shape != expected_array.shape:
            problem = (f"your output has shape {format_shape(got_array.shape)}, expected "
                       f"{format_shape(expected_array.shape)} (on {case.describe()})")
            _fail(label, problem, _shape_hint(got_array.shape, expected_array.shape) or hint)
        with np.errstate(all="ignore"):
            finite_expected = np.isfinite(expected_array)
            bad = ~np.isfinite(got_array.astype(np.float64)) & finite_expected
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            message = f"your output contains nan or inf (at index {where}) on {case.describe()}"
            for diagnose in diagnoses:
                specific = diagnose(got_array, expected_array, case)
                if specific:
                    message = specific
                    break
            _fail(label, message, hint)
        if not np.allclose(got_array, expected_array, rtol=rtol, atol=atol, equal_nan=True):
            message = None
            for diagnose in diagnoses:
                message = diagnose(got_array, expected_array, case)
                if message:
                    break
            if message is None:
                error = np.abs(got_array.astype(np.float64) - expected_array)
                index = np.unravel_index(int(np.nanargmax(error)), error.shape) if error.ndim else ()
                message = (f"wrong values on {case.describe()}: at index {tuple(int(i) for i in index)} "
                           f"you return {got_array[index]:.6g}, expected {expected_array[index]:.6g}")
            _fail(label, message, hint)
    text = f"Exercise {label} passed" + (f": {success}" if success else ".")
    print(text)
    _record(label, True, text)
    return CheckResult(label, True, text)


def _shape_hint(got: tuple, expected: tuple) -> str:
    if len(got) == len(expected) + 1 and 1 in got and tuple(s for s in got if s != 1) == tuple(s for s in expected if s != 1):
        return "you have an extra axis of size 1: keep the shape of the input (avoid keepdims or x[:, None] here)"
    if len(got) < len(expected) and int(np.prod(got)) == int(np.prod(expected)):
        return "your output was flattened: keep the input's shape (avoid .ravel(), .flatten() or reshape(-1))"
    if len(got) + 1 == len(expected):
        return "you dropped an axis: did a sum or a max lose its keepdims=True?"
    if tuple(reversed(got)) == expected:
        return "the axes are swapped: check the order of the matrix product (x @ W, not W @ x) or a transpose"
    return ""


def check_value(
    label: str,
    got: Any,
    expected: Any,
    *,
    name: str = "your answer",
    diagnoses: Sequence[Callable[[Any, Any], "str | None"]] = (),
    hint: str = "",
    rtol: float = 1e-6,
    atol: float = 1e-8,
    success: str = "",
) -> CheckResult:
    """Check a single answer (a number, string, tuple or array) against the expected one.

    Used for predict-then-verify exercises, where the learner writes down a
    prediction before running the experiment. ``Ellipsis`` (``...``) as the
    answer means not attempted yet.
    """
    if got is Ellipsis:
        raise NotImplementedError(f"Exercise {label} is not done yet: replace the ... with {name}.")
    if got is None:
        _fail(label, f"{name} is None", "assign a value instead of leaving it empty")
    if isinstance(expected, str):
        ok = isinstance(got, str) and got.strip().lower() == expected.strip().lower()
    elif isinstance(expected, (bool, np.bool_)):
        ok = isinstance(got, (bool, np.bool_)) and bool(got) == bool(expected)
    else:
        try:
            got_array = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            _fail(label, f"{name} should be a number or array like {expected!r}, got {got!r}", hint)
        expected_array = np.asarray(expected, dtype=np.float64)
        if got_array.shape != expected_array.shape:
            _fail(label, f"{name} has shape {format_shape(got_array.shape)}, expected "
                         f"{format_shape(expected_array.shape)}", hint)
        ok = bool(np.allclose(got_array, expected_array, rtol=rtol, atol=atol))
    if not ok:
        for diagnose in diagnoses:
            message = diagnose(got, expected)
            if message:
                _fail(label, message, hint)
        _fail(label, f"{name} ({got!r}) is not right", hint)
    text = f"Exercise {label} passed" + (f": {success}" if success else ".")
    print(text)
    _record(label, True, text)
    return CheckResult(label, True, text)
