"""Checking a learner's function against the reference, case by case.

:func:`check_function` is the check behind every build exercise. For each case
it runs the reference, then the learner's function (watching that it does not
delegate to the reference, warn numerically or change its inputs), and
compares each output by name ("dW", not "output 2"). A wrong output is
explained by the first known :class:`~dlcore.exercises.core.Mistake` that
reproduces it, else by a free-form diagnosis, else by the first index in the
learner's own array where the values differ. A pass prints one line and
accepts the function, so that later cells can run on it
(:func:`dlcore.exercises.learner.implementation`).
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np

from dlcore.errors import format_shape
from dlcore.exercises.core import (Case, CheckResult, Diagnosis, Mistake, _copy_args, fail, matches, not_done,
                                   passed)
from dlcore.exercises.learner import accept, delegation_problem, watching

__all__ = ["check_function", "check_array_function"]


def _is_course_reference(function: Callable[..., Any]) -> bool:
    module = getattr(function, "__module__", "") or ""
    return module.startswith("dlcore.") and not module.startswith("dlcore.exercises") and function.__name__ != "<lambda>"


def check_function(
    label: str,
    learner: Callable[..., Any],
    reference: Callable[..., Any],
    cases: Sequence[Case],
    *,
    name: str = "",
    outputs: Sequence[str] = (),
    mistakes: Sequence[Mistake] = (),
    diagnoses: Sequence[Diagnosis] = (),
    forbid: Sequence[Callable[..., Any]] = (),
    hint: str = "",
    warning_hint: str = "",
    rtol: float = 1e-6,
    atol: float = 1e-8,
    success: str = "",
    guard_reference: bool = True,
    report: bool = True,
) -> CheckResult | None:
    """Compare ``learner`` with ``reference`` on every case, explain the first difference, accept on success.

    Args:
        label: the exercise number, e.g. ``"9.3"``.
        learner, reference: the functions; both return an array (or number), or
            a tuple of them when ``outputs`` names several.
        cases: the inputs to try, most revealing first.
        name: the function's name in the exercise (default: the learner's
            ``__name__``); messages and :func:`~dlcore.exercises.learner.implementation` use it.
        outputs: names of the returned values, e.g. ``("dx", "dW", "db")``;
            empty for a single returned array.
        mistakes: known wrong answers; ``compute(*case.args, **case.kwargs)``
            returns the whole wrong result (same structure as the reference)
            and is compared on the output that differs.
        diagnoses: free-form ``diagnose(got, expected, case)`` recognisers (the
            learner's and the reference's whole results), tried after ``mistakes``.
        forbid: functions the learner must not call (besides ``reference``
            itself when it is a dlcore function): the course's versions of
            what is being built, and library functions that would do it all.
        guard_reference: forbid ``reference`` itself when it is a dlcore function.
        report: print and record the pass; False for one of several functions
            that a check tests before its own verdict (failures are always recorded).
        hint: printed under a failure that no mistake or diagnosis explained.
        warning_hint: a numerical warning (overflow, division by zero, invalid
            value) fails the check, since the answer is then right by luck;
            this hint explains the fix.
        rtol, atol: tolerances of ``np.allclose``; float64 maths that follows
            the same formula agrees to ~1e-12, so 1e-6 only forgives a
            different order of operations.

    Returns:
        The :class:`CheckResult` (after printing a success line), or None when not ``report``.

    Raises:
        NotImplementedError: if the learner has not written the code yet.
        ExerciseFailed: with a diagnosis, if any case is wrong.
    """
    if not callable(learner):
        fail(label, f"expected a function, got {type(learner).__name__}", "pass the function itself, without calling it")
    name = name or getattr(learner, "__name__", "function")
    forbidden = [*forbid, *([reference] if guard_reference and _is_course_reference(reference) else [])]
    for case in cases:
        expected = reference(*_copy_args(case), **case.kwargs)
        args = _copy_args(case)
        try:
            with warnings.catch_warnings(record=True) as caught, \
                    np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"), \
                    watching(forbidden) as hits:
                warnings.simplefilter("always", RuntimeWarning)
                got = learner(*args, **case.kwargs)
        except NotImplementedError:
            raise not_done(label) from None
        except Exception as error:  # the learner's bug, reported rather than crashing the check
            fail(label, f"your {name} raised {type(error).__name__}: {error} (on {case.describe()})", hint)
        if hits:
            fail(label, delegation_problem(name, hits), mistake="delegates-to-reference")
        for original, after in zip(case.args, args):
            if isinstance(original, np.ndarray) and not np.array_equal(original, after, equal_nan=True):
                fail(label, f"your {name} changed its input array in place (on {case.describe()})",
                     "compute a new array instead of writing into the argument (avoid x[...] = or x += ...)")
        numeric_warnings = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        if numeric_warnings:
            fail(label, f"your {name} warned \"{numeric_warnings[0].message}\" on {case.describe()}",
                 warning_hint or "a numerical warning means part of the computation left the range of "
                 "floating-point numbers; rewrite it so no intermediate value overflows")
        if got is None:
            fail(label, f"your {name} returned None", "did you forget the `return` statement?")
        _compare(label, name, got, expected, case, outputs, mistakes, diagnoses, hint, rtol, atol)
    accept(name, learner, label)
    return passed(label, success) if report else None


def _split(label: str, name: str, result: Any, outputs: Sequence[str], whose: str) -> list[Any]:
    if not outputs:
        return [result]
    if not isinstance(result, (tuple, list)) or len(result) != len(outputs):
        count = len(result) if isinstance(result, (tuple, list)) else 1
        fail(label, f"{whose} {name} returned {count} value{'s' * (count != 1)}; expected {len(outputs)}: "
                    f"{', '.join(outputs)}", f"end with `return {', '.join(outputs)}`")
    return list(result)


def _compare(label: str, name: str, got: Any, expected: Any, case: Case, outputs: Sequence[str],
             mistakes: Sequence[Mistake], diagnoses: Sequence[Diagnosis], hint: str, rtol: float, atol: float) -> None:
    got_parts = _split(label, name, got, outputs, "your")
    expected_parts = _split(label, name, expected, outputs, "the reference")
    for position, (got_part, expected_part) in enumerate(zip(got_parts, expected_parts)):
        what = outputs[position] if outputs else "your output"
        try:
            got_array = np.asarray(got_part, dtype=np.float64)
        except (TypeError, ValueError):
            fail(label, f"{what} should be an array of numbers, got {type(got_part).__name__} (on {case.describe()})", hint)
        expected_array = np.asarray(expected_part, dtype=np.float64)
        same_shape = got_array.shape == expected_array.shape
        with np.errstate(all="ignore"):
            bad_values = (~np.isfinite(got_array) & np.isfinite(expected_array)) if same_shape else None
        if same_shape and not bad_values.any() and np.allclose(got_array, expected_array, rtol=rtol, atol=atol,
                                                               equal_nan=True):
            continue
        for mistake in mistakes:
            if matches(lambda: _part(mistake.compute(*case.args, **case.kwargs), position, outputs), got_array,
                       rtol=rtol, atol=max(atol, 1e-9)):
                fail(label, f"{mistake.message} (on {case.describe()})", hint, mistake.id)
        for diagnose in diagnoses:
            try:
                with np.errstate(all="ignore"):
                    message = diagnose(got if outputs else got_array, expected if outputs else expected_array, case)
            except Exception:  # a recogniser that cannot even handle this answer did not recognise it
                message = None
            if message:
                fail(label, message, hint)
        if not same_shape:
            fail(label, f"{what} has shape {format_shape(got_array.shape)}, expected "
                        f"{format_shape(expected_array.shape)} (on {case.describe()})",
                 _shape_hint(got_array.shape, expected_array.shape) or hint)
        if bad_values.any():
            where = tuple(int(i) for i in np.argwhere(bad_values)[0])
            at = f" (at index {where})" if bad_values.ndim else ""
            fail(label, f"{what} contains nan or inf{at} on {case.describe()}", hint)
        error = np.abs(got_array - expected_array)
        index = np.unravel_index(int(np.nanargmax(error)), error.shape) if error.ndim else ()
        where = f" in {what}" if outputs else ""
        at = f"at index {tuple(int(i) for i in index)} you return" if error.ndim else "you return"  # a scalar has no index
        fail(label, f"wrong values{where} on {case.describe()}: {at} "
                    f"{got_array[index]:.6g}, expected {expected_array[index]:.6g}", hint)


def _part(result: Any, position: int, outputs: Sequence[str]) -> Any:
    return result[position] if outputs else result


def check_array_function(label: str, learner: Callable[..., Any], reference: Callable[..., Any],
                         cases: Sequence[Case], **options: Any) -> CheckResult:
    """:func:`check_function` for a learner's function that returns one array.

    The checks written before build exercises existed use it; it does not
    forbid the reference unless asked to, since some of their tests pass it.
    """
    options.setdefault("guard_reference", False)
    return check_function(label, learner, reference, cases, **options)


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
