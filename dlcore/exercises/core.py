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
from typing import Any, Callable, Sequence

import numpy as np

from dlcore.errors import format_shape

__all__ = ["ExerciseFailed", "CheckResult", "Case", "Mistake", "check_value", "check_choice", "fail", "passed",
           "results", "not_done", "not_done_message", "shown", "matches", "first_mistake", "mistake_diagnosis"]


class ExerciseFailed(AssertionError):
    """The learner's answer is wrong; the message says how, and hints why.

    ``mistake`` is the stable id of the recognised mistake ("" when none was
    recognised), so that a class's answers can be grouped by mistake.
    """

    def __init__(self, label: str, problem: str, hint: str = "", mistake: str = "") -> None:
        self.label = label
        self.problem = problem
        self.hint = hint
        self.mistake = mistake
        message = f"Exercise {label}: {problem}"
        if hint:
            message += f"\nHint: {hint}"
        super().__init__(message)

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for a failed check: the verdict and the hint, no traceback.

        A traceback would walk through the checker's source, which shows its
        table of known mistakes (that is, the answer); graders and tests still
        see the exception's type and message.
        """
        return _short_message(str(self))


def _short_message(text: str) -> list[str]:
    red, reset = "\x1b[31m", "\x1b[0m"
    return [f"{red}{line}{reset}" for line in text.split("\n")]


def not_done(label: str, what: str = "") -> NotImplementedError:
    """The error a check raises for an exercise whose stub is still there.

    It stays a plain ``NotImplementedError`` (grading keys on that type) but
    displays as one line, without a traceback into the checker.
    """
    return not_done_message(f"Exercise {label} is not done yet: "
                            + (what or "replace the `raise NotImplementedError` in the exercise cell with your "
                                       "code, run that cell, then this one."))


def not_done_message(message: str) -> NotImplementedError:
    """:func:`not_done` with the whole message given ("Exercise 6.4 is not done yet: ...")."""
    error = NotImplementedError(message)
    error._render_traceback_ = lambda: _short_message(message)  # type: ignore[attr-defined]
    return error


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict, as recorded for grading (``mistake``: the recognised mistake's id)."""

    label: str
    passed: bool
    message: str
    mistake: str = ""

    def _ipython_display_(self) -> None:
        """Show nothing when a check cell ends with the check: it has printed its verdict."""


# Every check run in this Python process, in order (grading reads it).
results: list[CheckResult] = []


def _record(label: str, passed: bool, message: str, mistake: str = "") -> None:
    results.append(CheckResult(label, passed, message, mistake))


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


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: ``compute`` gives it from the case's arguments.

    ``id`` is stable (a class report groups answers by it), ``message`` says
    what the learner did, in terms of their code, without giving the answer.
    """

    id: str
    compute: Callable[..., Any]
    message: str


def fail(label: str, problem: str, hint: str = "", mistake: str = "") -> None:
    """Record a failed check and raise :class:`ExerciseFailed` (for chapter-specific checks)."""
    error = ExerciseFailed(label, problem, hint, mistake)
    _record(label, False, str(error), mistake)
    raise error


def passed(label: str, success: str = "") -> CheckResult:
    """Record and print a passed check (for chapter-specific checks)."""
    text = f"Exercise {label} passed" + (f": {success}" if success else ".")
    print(text)
    _record(label, True, text)
    return CheckResult(label, True, text)


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


def shown(value: Any) -> str:
    """A value as the learner would write it: ``3``, not ``np.int64(3)``; short arrays in full."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=4, threshold=12)
    if isinstance(value, tuple):
        return "(" + ", ".join(shown(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def check_value(
    label: str,
    got: Any,
    expected: Any,
    *,
    name: str = "your answer",
    mistakes: Sequence[Mistake] = (),
    diagnoses: Sequence[Callable[[Any, Any], "str | None"]] = (),
    hint: str = "",
    rtol: float = 1e-6,
    atol: float = 1e-8,
    success: str = "",
) -> CheckResult:
    """Check a single answer (a number, string, tuple or array) against the expected one.

    Used for predict-then-verify exercises, where the learner writes down a
    prediction before running the experiment. ``Ellipsis`` (``...``) as the
    answer means not attempted yet. ``mistakes`` are known wrong answers:
    each ``compute()`` (no arguments) gives one, and its message is reported
    when the learner's answer equals it; ``diagnoses(got, expected)`` are
    free-form recognisers tried after them.
    """
    if got is Ellipsis:
        raise not_done(label, f"replace the ... with {name}.")
    if got is None:
        fail(label, f"{name} is None", "assign a value instead of leaving it empty")
    if isinstance(expected, str):
        ok = isinstance(got, str) and got.strip().lower() == expected.strip().lower()
    elif isinstance(expected, (bool, np.bool_)):
        ok = isinstance(got, (bool, np.bool_)) and bool(got) == bool(expected)
    else:
        try:
            got_array = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            fail(label, f"{name} should be a number or array like {shown(expected)}, got {shown(got)}", hint)
        expected_array = np.asarray(expected, dtype=np.float64)
        if got_array.shape != expected_array.shape:
            fail(label, f"{name} has shape {format_shape(got_array.shape)}, expected "
                        f"{format_shape(expected_array.shape)}", hint)
        ok = bool(np.allclose(got_array, expected_array, rtol=rtol, atol=atol))
    if not ok:
        for mistake in mistakes:
            if matches(mistake.compute, got, rtol=rtol, atol=atol) if not isinstance(got, str) else got == mistake.compute():
                fail(label, mistake.message, hint, mistake.id)
        for diagnose in diagnoses:
            message = diagnose(got, expected)
            if message:
                fail(label, message, hint)
        fail(label, f"{name} ({shown(got)}) is not right", hint)
    return passed(label, success)


def check_choice(
    label: str,
    got: Any,
    options: dict[str, str],
    correct: str,
    *,
    why_not: dict[str, str],
    success: str = "",
) -> CheckResult:
    """A multiple-choice answer: ``got`` is one key of ``options`` (``...`` while not attempted).

    ``why_not`` maps every wrong option to what is wrong with it (worded so it
    does not name the right one); its mistake id is ``"chose-<option>"``.
    """
    missing = set(options) - set(why_not) - {correct}
    if missing or correct not in options:
        raise ValueError(f"check_choice: options {sorted(missing)} need a why_not entry, and correct "
                         f"({correct!r}) must be one of {sorted(options)}")
    if got is Ellipsis:
        raise not_done(label, "replace the ... with the letter of your choice.")
    key = got.strip().lower() if isinstance(got, str) else got
    if key not in options:
        fail(label, f"your answer {shown(got)} is not one of the options {', '.join(map(repr, options))}",
             "answer with the option's key, as a string")
    if key != correct:
        fail(label, f"not ({key}): {why_not[key]}", mistake=f"chose-{key}")
    return passed(label, success)
