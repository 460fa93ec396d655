"""Predictions made of one word per case ("converges", "oscillates", ...), checked against a measurement.

Several predict-then-verify exercises ask for a verdict on each of a few
configurations: which deep networks vanish or explode (07), which recurrent
layers keep their gradient (11), what gradient descent does at three learning
rates (04), where an agent ends up for three rewards (16).
:func:`check_verdicts` validates the form of such an answer, compares it with
the measured verdicts and explains the wrong entries, each failure with a
stable mistake id.
"""

from __future__ import annotations

from typing import Any, Sequence

from dlcore.exercises.core import CheckResult, Mistake, fail, not_done, passed, shown

__all__ = ["check_verdicts"]


def _slug(word: str) -> str:
    return word.replace(" ", "-")


def _answer_words(label: str, got: Any, keys: Sequence | None, names: Sequence[str], vocabulary: Sequence[str],
                  example: str) -> tuple[str, ...]:
    """The learner's verdicts in case order, normalised; a wrong form fails with what was expected."""
    count = len(names)
    if got is Ellipsis:
        raise not_done(label, "replace the ... with your predictions.")
    if keys is not None:
        if not isinstance(got, dict) or set(got) != set(keys):
            fail(label, f"expected a dict with the keys {list(keys)}, got {shown(got)}", example,
                 mistake="prediction-wrong-form")
        if any(got[key] is Ellipsis for key in keys):
            missing = [name for key, name in zip(keys, names) if got[key] is Ellipsis]
            raise not_done(label, f"replace the ... for {', '.join(missing)}.")
        got = [got[key] for key in keys]
    if not isinstance(got, (tuple, list)) or len(got) != count or not all(isinstance(g, str) for g in got):
        fail(label, f"your prediction should be a tuple of {count} words from {list(vocabulary)}, got {shown(got)}",
             example, mistake="prediction-wrong-form")
    words = tuple(g.strip().lower() for g in got)
    unknown = [w for w in words if w not in vocabulary]
    if unknown:
        fail(label, f"{unknown[0]!r} is not one of {list(vocabulary)}", "use exactly these words",
             mistake="unknown-word")
    return words


def check_verdicts(
    label: str,
    got: Any,
    truth: Sequence[str],
    *,
    cases: Sequence[str],
    ids: Sequence[str],
    vocabulary: Sequence[str],
    keys: Sequence | None = None,
    mistakes: Sequence[Mistake] = (),
    confusions: dict[tuple[str, str], tuple[str, str]] | None = None,
    reasons: Sequence[str] | None = None,
    reveal: bool = True,
    measured: str = "",
    hint: str = "",
    example: str = "",
    success: str = "",
) -> CheckResult:
    """Check one word per case against the measured verdicts ``truth``.

    ``got`` is a tuple in the order of ``cases`` (their display names), or a
    dict keyed by ``keys`` when those are given; ``...`` anywhere means not
    done yet. A wrong answer is explained, in this order, by:

    - a ``Mistake`` whose ``compute()`` gives the learner's whole answer (a
      consistent misreading, such as the wrong curvature);
    - ``confusions[(said, truth)] = (id, message)``, for the first wrong entry
      that matches one (a typical confusion of two words);
    - otherwise the mistake id is ``f"{ids[i]}-{said}"`` for the first wrong
      entry.

    Every wrong entry is listed, with ``reasons[i]`` (why that case behaves as
    it does, or a question that leads there) when given.

    With ``reveal=False`` the wrong entries say only that the measurement
    disagrees (for questions whose answer is one of a few words, naming it would
    give it away); ``measured`` (the numbers behind the verdicts) is then not
    shown either.
    """
    count = len(truth)
    if not (len(cases) == len(ids) == count) or (reasons is not None and len(reasons) != count):
        raise ValueError(f"check_verdicts: cases ({len(cases)}), ids ({len(ids)}) and reasons must have one entry "
                         f"per verdict in truth ({count})")
    answer = _answer_words(label, got, keys, cases, vocabulary, example)
    if answer == tuple(truth):
        return passed(label, success or (f"measured: {measured}." if measured else ""))
    wrong = [i for i in range(count) if answer[i] != truth[i]]
    entries = [f"{cases[i]}: you said {answer[i]}, " + (f"measured {truth[i]}" if reveal else "the measurement disagrees")
               + (f" ({reasons[i]})" if reasons is not None else "") for i in wrong]
    report = "; ".join(entries) + (f". Measured: {measured}" if reveal and measured else "")
    for mistake in mistakes:
        if tuple(mistake.compute()) == answer:
            fail(label, f"{report}. {mistake.message}", hint, mistake.id)
    for i in wrong:
        if confusions and (answer[i], truth[i]) in confusions:
            mistake_id, message = confusions[(answer[i], truth[i])]
            fail(label, f"{report}. {message}", hint, mistake_id)
    fail(label, report, hint, f"{ids[wrong[0]]}-{_slug(answer[wrong[0]])}")
    raise AssertionError("unreachable")  # fail() always raises
