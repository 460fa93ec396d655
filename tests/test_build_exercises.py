"""Learning by building (COURSE.md): the learner writes each chapter's machinery, the chapter runs on it,
and no answer is shown before its exercise.

- Every check cell of an untouched student notebook shows a short message, never
  the checker's source (a traceback through ``dlcore/exercises`` would print its
  table of known mistakes); a traceback through the learner's own cell is theirs.
- For each rebuilt chapter: at least one build exercise (``dlcore.tools.share``);
  no line of an exercise's solution, no line of the reference it rebuilds and no
  short answer's value appears before the exercise in the student notebook or in
  what its Run All prints; and the student notebook, run with a correct answer
  that differs from the solution and with a typical wrong one
  (``tests/learner_answers/chNN.py``), runs the later cells on the correct one and
  falls back to dlcore's reference, saying so, for the wrong one.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import textwrap

import pytest

from dlcore.tools.notebooks import execute_notebook, read_notebook
from dlcore.tools.share import BUILD_LINES, exercise_shares, solution_lines
from dlcore.tools.student import EXERCISE_LINE
from tests.student_runs import CHAPTERS, ROOT, executed_student_notebook, output_text

# A chapter counts as rebuilt around build exercises once it has the learner's
# answers to run on (tests/learner_answers/chNN.py); all the checks below then apply.
ANSWERS = ROOT / "tests" / "learner_answers"
REBUILT = [path for path in CHAPTERS if (ANSWERS / f"ch{path.name[:2]}.py").exists()]
NOT_YET_REBUILT = [path.name for path in CHAPTERS if path not in REBUILT]
# Lines of code the learner writes across the course (dlcore.tools.share): at least 800, as the course
# design asks; it now has 850. This floor keeps what was built from shrinking: raise it as chapters grow.
COURSE_FLOOR_LINES = 840
NON_TRIVIAL = 20  # characters: shorter lines (`return x`, `out = []`) recur in unrelated code


def ids(paths):
    return [path.name for path in paths]


def _checker_lines() -> set[str]:
    """Long lines of the checks' source, leaving out those that also occur in the rest of dlcore
    (a chapter may print the course's own code for comparison, and a check may share a line with it)."""
    def long_lines(paths):
        return {line.strip() for path in paths for line in path.read_text().splitlines() if len(line.strip()) >= 30}
    checks = list((ROOT / "dlcore" / "exercises").glob("*.py"))
    library = [path for path in (ROOT / "dlcore").rglob("*.py") if path.parent.name != "exercises"]
    return long_lines(checks) - long_lines(library)


CHECKER_LINES = _checker_lines()


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_untouched_checks_show_a_short_message_not_the_checkers_source(path):
    nb = executed_student_notebook(path)
    for cell in nb.cells:
        for output in getattr(cell, "outputs", []):
            text = output_text(output)
            assert "dlcore/exercises" not in text and "dlcore.exercises" not in text, \
                f"{path.name}: a traceback into the checks is shown under {cell.source[:60]!r}:\n{text[:600]}"
            leaked = [line for line in CHECKER_LINES if line in text]
            assert not leaked, f"{path.name}: checker source shown under {cell.source[:60]!r}: {leaked[:3]}"


def _student_exercise_index(nb, label: str) -> int:
    for index, cell in enumerate(nb.cells):
        match = EXERCISE_LINE.match(cell.source.split("\n", 1)[0]) if cell.cell_type == "code" else None
        if match and match.group(1) == label:
            return index
    raise AssertionError(f"exercise {label} is not in the student notebook")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _reference_lines(function) -> list[str]:
    """The code lines of a function's body, without its docstring."""
    source = textwrap.dedent(inspect.getsource(function))
    body = ast.parse(source).body[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    source = source.splitlines()
    lines = []
    for node in body:
        lines.extend(source[node.lineno - 1:node.end_lineno])
    return [line.strip() for line in lines if len(line.strip()) >= NON_TRIVIAL and not line.strip().startswith("#")]


def _answer_values(lines: list[str]) -> set[str]:
    """Numbers with at least three digits in a short answer ("return 9936"), as they might be printed."""
    if len(lines) > 3:
        return set()
    values = set()
    for number in re.findall(r"(?<![\w.])\d[\d_]*(?:\.\d+)?(?![\w.])", " ".join(lines)):
        digits = number.replace("_", "")
        if len(digits.replace(".", "").lstrip("0")) >= 3:
            values.add(digits)
            if "." not in digits:
                values.add(f"{int(digits):,}")
    return values


@pytest.mark.parametrize("path", REBUILT, ids=ids(REBUILT))
def test_no_answer_is_shown_before_its_exercise(path):
    solution = read_notebook(ROOT / "solutions" / path.name)
    run = executed_student_notebook(path)
    checks = importlib.import_module(f"dlcore.exercises.ch{path.name[:2]}")
    references = getattr(checks, "REFERENCES", {})
    for share in exercise_shares(ROOT / "solutions" / path.name):
        answer = solution_lines(solution.cells[share.cell].source)
        wanted = [line for line in answer if len(line) >= NON_TRIVIAL]
        wanted += [line for function in references.get(share.label, ()) for line in _reference_lines(function)]
        values = _answer_values(answer)
        before = run.cells[:_student_exercise_index(run, share.label)]
        shown = _flat("\n".join([cell.source for cell in before] +
                                [output_text(o) for cell in before for o in getattr(cell, "outputs", [])]))
        early = [line for line in wanted if _flat(line) in shown]
        assert not early, f"{path.name}: exercise {share.label}'s answer is shown before it: {early[:3]}"
        early_values = [v for v in values if re.search(rf"(?<![\d.,]){re.escape(v)}(?![\d]|\.\d)", shown)]
        assert not early_values, f"{path.name}: exercise {share.label}'s answer {early_values} is printed before it"


@pytest.mark.parametrize("path", REBUILT, ids=ids(REBUILT))
def test_each_rebuilt_chapter_has_a_build_exercise(path):
    shares = exercise_shares(ROOT / "solutions" / path.name)
    assert any(s.is_build for s in shares), \
        f"{path.name}: no exercise of {BUILD_LINES}+ lines: {[(s.label, s.lines) for s in shares]}"


def test_the_learner_writes_the_engine():
    total = sum(s.lines for path in CHAPTERS for s in exercise_shares(ROOT / "solutions" / path.name))
    assert total >= COURSE_FLOOR_LINES, f"the learner writes {total} lines, fewer than {COURSE_FLOOR_LINES}"
    assert not NOT_YET_REBUILT, f"chapters without build exercises: {NOT_YET_REBUILT}"


def _with_answers(nb, answers: dict[str, str]):
    for label, source in answers.items():
        nb.cells[_student_exercise_index(nb, label)].source = f"# Exercise {label}\n{source.strip()}\n"
    return nb


def _check_cell_after(nb, label: str):
    start = _student_exercise_index(nb, label)
    return next(cell for cell in nb.cells[start + 1:] if "exercise-check" in cell.metadata.get("tags", []))


@pytest.mark.parametrize("path", REBUILT, ids=ids(REBUILT))
def test_the_chapter_runs_on_the_learners_code(path):
    answers = importlib.import_module(f"tests.learner_answers.ch{path.name[:2]}")
    assert set(answers.USES) <= set(answers.RIGHT) | set(answers.WRONG), "USES names a label with no answer"
    assert set(answers.RIGHT) & set(answers.USES) and set(answers.WRONG) & set(answers.USES), \
        "at least one right and one wrong answer must feed a later cell (USES)"
    runs = [{**answers.RIGHT, **answers.WRONG}] if not set(answers.RIGHT) & set(answers.WRONG) else \
        [answers.RIGHT, answers.WRONG]
    for chosen in runs:
        nb = execute_notebook(_with_answers(read_notebook(path), chosen), cwd=path.parent, timeout=180,
                              allow_errors=True)
        text = "\n".join(output_text(o) for cell in nb.cells for o in getattr(cell, "outputs", []))
        unexpected = [f"{o.ename}: {o.evalue}" for cell in nb.cells for o in getattr(cell, "outputs", [])
                      if o.output_type == "error" and o.ename not in ("NotImplementedError", "ExerciseFailed")]
        assert not unexpected, f"{path.name}: {unexpected}"
        assert not [line for line in CHECKER_LINES if line in text], f"{path.name}: checker source shown"
        for label in chosen:
            check = _check_cell_after(nb, label)
            errors = [o for o in check.outputs if o.output_type == "error"]
            name = answers.USES.get(label)
            if label in answers.RIGHT and chosen is not answers.WRONG:
                assert not errors, f"{path.name}: the correct answer to {label} failed: {errors[0].evalue}"
                assert name is None or f"[using your {name}, which passed exercise {label}]" in text, \
                    f"{path.name}: no later cell ran on the learner's {name}"
            else:
                assert errors and errors[0].ename == "ExerciseFailed", f"{path.name}: the wrong {label} was not caught"
                assert name is None or f"[using dlcore's {name} until exercise {label} passes]" in text, \
                    f"{path.name}: no fallback notice for {name}"
