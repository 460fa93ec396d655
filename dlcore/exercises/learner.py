"""The learner's code inside the chapter: calling it, guarding it, and running the chapter on it.

Three pieces that every build exercise uses:

- :func:`learner_call` calls the learner's function and turns what goes wrong
  into a verdict: the untouched stub becomes "not done yet", any other
  exception a failed check naming the exception;
- :func:`watching` records whether forbidden functions (dlcore's reference for
  the very thing the exercise builds) ran while the learner's code ran, so a
  check can fail an answer that merely delegates;
- :func:`accept` and :func:`implementation` let a chapter run on the learner's
  code: a check that passes accepts the learner's function under its name, and
  later cells ask for the implementation by that name, getting the learner's
  (and saying so) or dlcore's reference until the check passes (and saying that).
"""

from __future__ import annotations

from contextlib import contextmanager
import sys
from typing import Any, Callable, Iterator, Sequence

from dlcore.exercises.core import fail, not_done

__all__ = ["learner_call", "watching", "delegation_problem", "accept", "implementation", "accepted", "forget_accepted"]

# Function name -> (the learner's function, the exercise whose check accepted it).
_accepted: dict[str, tuple[Callable[..., Any], str]] = {}


def learner_call(label: str, function: Any, *args: Any, name: str = "", **kwargs: Any) -> Any:
    """Call the learner's ``function(*args, **kwargs)`` on behalf of exercise ``label``.

    Raises:
        NotImplementedError: (from :func:`dlcore.exercises.core.not_done`) if the stub is still there.
        ExerciseFailed: if ``function`` is not callable or raises anything else.
    """
    shown = name or getattr(function, "__name__", "function")
    if not callable(function):
        fail(label, f"expected a function, got {type(function).__name__}",
             "pass the function itself, without calling it")
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise not_done(label) from None
    except Exception as error:  # the learner's bug, reported rather than crashing the check
        fail(label, f"your {shown} raised {type(error).__name__}: {error}")


def _code_of(function: Callable[..., Any]) -> Any:
    return getattr(getattr(function, "__func__", function), "__code__", None)


@contextmanager
def watching(forbidden: Sequence[Callable[..., Any]]) -> Iterator[list[Callable[..., Any]]]:
    """Within the block, record each forbidden function that runs (Python or builtin).

    Yields the list it appends to. Uses :func:`sys.setprofile`, so it sees a
    call however the function was imported or aliased.
    """
    hits: list[Callable[..., Any]] = []
    # NumPy's public functions are dispatcher objects around the Python function (`__wrapped__`).
    unwrapped = [getattr(f, "__wrapped__", f) for f in forbidden]
    codes = {code: f for f, inner in zip(forbidden, unwrapped) if (code := _code_of(inner)) is not None}
    builtins = [f for f, inner in zip(forbidden, unwrapped) if _code_of(inner) is None]

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in codes:
            hits.append(codes[frame.f_code])
        elif event == "c_call" and any(arg is f for f in builtins):
            hits.append(arg)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield hits
    finally:
        sys.setprofile(previous)


def delegation_problem(name: str, hits: Sequence[Callable[..., Any]]) -> str:
    """The failure message for a learner's function that called a forbidden one ("" if none)."""
    if not hits:
        return ""
    called = hits[0]
    module = getattr(called, "__module__", None) or "torch"
    qualified = f"{module}.{getattr(called, '__qualname__', getattr(called, '__name__', repr(called)))}"
    whose = ("the course's own version of" if qualified.startswith("dlcore.")
             else "a library function that does")
    return f"your {name} calls {qualified}, {whose} what this exercise builds; write it yourself from array operations"


def accept(name: str, function: Callable[..., Any], label: str) -> None:
    """Record that exercise ``label``'s check passed ``function``, the learner's ``name``."""
    _accepted[name] = (function, label)


def accepted(name: str) -> Callable[..., Any] | None:
    """The learner's function accepted under ``name``, or None."""
    entry = _accepted.get(name)
    return entry[0] if entry else None


def forget_accepted() -> None:
    """Forget every accepted function (a fresh kernel starts this way; tests use it)."""
    _accepted.clear()


def implementation(name: str, reference: Callable[..., Any], *, label: str = "", quiet: bool = False) -> Callable[..., Any]:
    """The function later cells should run: the learner's ``name`` once its check passed, else ``reference``.

    Prints which one it is (unless ``quiet``), so the reader always knows whose
    code produced what follows. ``label`` names the exercise in the fallback
    notice when nothing was accepted yet.
    """
    entry = _accepted.get(name)
    if entry is not None:
        function, passed_label = entry
        if not quiet:
            print(f"[using your {name}, which passed exercise {passed_label}]")
        return function
    if not quiet:
        until = f"exercise {label} passes" if label else "its exercise passes"
        print(f"[using dlcore's {name} until {until}]")
    return reference
