"""The chapter notebooks: structure per the definition of done, student versions, and sync.

Strict output comparison of solutions/ is done by nbval in the same `make test` run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dlcore.tools import student
from dlcore.tools.notebooks import read_notebook
from tests.student_runs import executed_student_notebook

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]*.ipynb"))
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]*.ipynb"))
EXERCISE_HEADING = re.compile(r"^#+\s*Exercise\s+(\d+[a-z]?\.\d+)\s*\((implement|derive|predict)[^)]*\)", re.M | re.I)
REQUIRED_SECTIONS = ["learning objectives", "prerequisites", "source notes", "summary", "glossary", "further exercises"]
# Output text that would differ between machines or runs.
VOLATILE = [re.compile(p) for p in (r"0x[0-9a-f]{6,}", r"/work/", r"/home/", r"/tmp/", r"/root/", r"site-packages")]


def ids(paths):
    return [path.name for path in paths]


def test_there_are_solution_notebooks_and_their_student_twins():
    assert SOLUTIONS, "no notebooks in solutions/"
    assert [p.name for p in CHAPTERS] == [p.name for p in SOLUTIONS]


def test_student_notebooks_are_generated_from_the_solutions():
    problems = student.generate(ROOT / "solutions", ROOT / "chapters", check=True)
    assert not problems, "\n".join(problems)


def _markdown(nb) -> str:
    return "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")


def _headings(nb) -> list[str]:
    """Markdown headings, and paragraphs that open with a bold label ("**Prerequisites.** ...")."""
    found = []
    for line in _markdown(nb).splitlines():
        if line.startswith("#"):
            found.append(line.lstrip("#").strip().lower())
        elif line.startswith("**") and "**" in line[2:]:
            found.append(line[2:line.index("**", 2)].strip(" .:").lower())
    return found


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_solution_has_every_required_section(path):
    nb = read_notebook(path)
    headings = _headings(nb)
    missing = [s for s in REQUIRED_SECTIONS if not any(h.startswith(s) or s in h for h in headings)]
    assert not missing, f"{path.name} lacks sections: {missing}"
    text = _markdown(nb).lower()
    assert "source sections" in text or "sources covered" in text or "source articles" in text
    assert "| english" in text or "english |" in text, "the glossary should be a table of English and Chinese terms"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_solution_exercises_have_all_kinds_and_a_check_each(path):
    nb = read_notebook(path)
    kinds = {kind.lower() for _, kind in EXERCISE_HEADING.findall(_markdown(nb))}
    assert {"implement", "derive", "predict"} <= kinds, f"{path.name}: exercise kinds found {sorted(kinds)}"
    exercise_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "### BEGIN SOLUTION" in c.source]
    assert len(exercise_cells) >= 3
    for position, index in enumerate(exercise_cells):
        end = exercise_cells[position + 1] if position + 1 < len(exercise_cells) else len(nb.cells)
        checks = [c for c in nb.cells[index + 1:end] if "exercise-check" in c.metadata.get("tags", [])]
        label = nb.cells[index].source.splitlines()[0]
        assert checks, f"{path.name}: '{label}' has no check cell tagged exercise-check after it"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_solution_is_executed_clean_and_reproducible_in_form(path):
    nb = read_notebook(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "seed_everything(" in code[0].source, "the first code cell must seed everything"
    for cell in code:
        assert cell.execution_count is not None, f"{path.name}: a cell was never run: {cell.source[:60]!r}"
        for output in cell.outputs:
            assert output.output_type != "error", f"{path.name}: error output in {cell.source[:60]!r}"
            if output.output_type == "stream":
                assert output.name == "stdout", f"{path.name}: stderr output (a warning?): {output.text[:200]!r}"
            text = output.get("text", "") + str(output.get("data", {}).get("text/plain", ""))
            for pattern in VOLATILE:
                assert not pattern.search(text), f"{path.name}: volatile text {pattern.pattern!r} in output: {text[:200]!r}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=ids(SOLUTIONS))
def test_library_code_is_imported_not_pasted(path):
    """Classes and long functions belong in dlcore; exercise cells are the exception."""
    nb = read_notebook(path)
    for cell in nb.cells:
        if cell.cell_type != "code" or "### BEGIN SOLUTION" in cell.source:
            continue
        assert not re.search(r"^class\s", cell.source, re.M), f"{path.name}: a class is defined in a notebook cell"
        for function in re.finditer(r"^def\s+\w+.*?(?=^\S|\Z)", cell.source, re.M | re.S):
            lines = function.group(0).strip().count("\n") + 1
            assert lines <= 12, f"{path.name}: a {lines}-line function in a cell belongs in dlcore"


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_student_notebook_runs_raising_only_not_implemented(path):
    nb = executed_student_notebook(path)
    errors = [(cell, output) for cell in nb.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    unexpected = [f"{o.ename}: {o.evalue} in {c.source[:80]!r}" for c, o in errors if o.ename != "NotImplementedError"]
    assert not unexpected, "\n".join(unexpected)
    # JupyterLab's Run All stops at the first error in a cell not tagged raises-exception (a check cell is):
    # a later cell that still runs the learner's stub, e.g. a fallback that is the stub itself, would stop it.
    stopping = [f"{o.ename} in {c.source[:80]!r}" for c, o in errors if "raises-exception" not in c.metadata.get("tags", [])]
    assert not stopping, "Run All would stop here in JupyterLab:\n" + "\n".join(stopping)
    checks = [c for c in nb.cells if "exercise-check" in c.metadata.get("tags", [])]
    unfinished = [c for c in checks if any(o.output_type == "error" for o in c.outputs)]
    assert checks and len(unfinished) == len(checks), "every check should report its exercise as not done yet"
    for cell in checks:
        error = next(o for o in cell.outputs if o.output_type == "error")
        assert "is not done yet" in error.evalue or "replace this line" in error.evalue, error.evalue
