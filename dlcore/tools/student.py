"""Generate the student notebooks in chapters/ from the solutions: ``make student``.

    python -m dlcore.tools.student solutions/ chapters/          # write
    python -m dlcore.tools.student solutions/ chapters/ --check  # fail on drift (CI)

Rules (nbgrader-compatible markers):

- In a code cell whose first line is ``# Exercise NN.k``, each region between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes
  ``raise NotImplementedError("Exercise NN.k: ...")`` at the marker's indentation.
- In a markdown cell, the region becomes an invitation to write the answer.
- ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` regions are removed.
- Cells tagged ``exercise-check`` are tagged ``raises-exception`` too, so that
  "Run All" goes on past an unfinished exercise.
- Outputs, execution counts and volatile metadata are cleared; the kernelspec
  is kept; the file is written byte-stably (same input, same bytes).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

from dlcore.tools.notebooks import clean_metadata, notebook_bytes, read_notebook

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
EXERCISE_LINE = re.compile(r"^#\s*Exercise\s+(\d+[a-z]?\.\d+)\b")
CHECK_TAG = "exercise-check"
RAISES_TAG = "raises-exception"


STUDENT_NOTE = (
    "> **Your copy of this chapter.** Each exercise cell raises `NotImplementedError` until you "
    "replace that line with your code; the check cell under it then tells you what is right or "
    "wrong. The solved version, with outputs, is `solutions/{name}`."
)


class MarkerError(ValueError):
    """A solution notebook's markers are malformed."""


def _replace_regions(lines: list[str], begin: str, end: str, replacement, where: str) -> list[str]:
    """Replace each begin..end region (inclusive) by ``replacement(indent)`` lines."""
    result: list[str] = []
    inside = False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped == begin:
            if inside:
                raise MarkerError(f"{where}, line {number}: {begin} inside another {begin}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            result.extend(replacement(indent))
        elif stripped == end:
            if not inside:
                raise MarkerError(f"{where}, line {number}: {end} without a matching {begin}")
            inside = False
        elif not inside:
            result.append(line)
    if inside:
        raise MarkerError(f"{where}: {begin} is never closed by {end}")
    return result


def studentize(solution, name: str = "notebook"):
    """Return the student version of a solution notebook (the input is not modified)."""
    nb = copy.deepcopy(solution)
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        lines = cell.source.split("\n")
        tags = list(cell.metadata.get("tags", []))
        if any(line.strip() == BEGIN_SOLUTION for line in lines):
            if cell.cell_type == "code":
                match = EXERCISE_LINE.match(lines[0].strip())
                if not match:
                    raise MarkerError(
                        f"{where}: a code cell with {BEGIN_SOLUTION} must start with a line "
                        f"'# Exercise NN.k' naming the exercise"
                    )
                label = match.group(1)
                message = f"Exercise {label}: replace this line with your code"
                lines = _replace_regions(
                    lines, BEGIN_SOLUTION, END_SOLUTION,
                    lambda indent: [f'{indent}raise NotImplementedError("{message}")'], where,
                )
            else:
                lines = _replace_regions(
                    lines, BEGIN_SOLUTION, END_SOLUTION, lambda indent: [f"{indent}*Write your answer here.*"], where
                )
        elif any(line.strip() == END_SOLUTION for line in lines):
            raise MarkerError(f"{where}: {END_SOLUTION} without a matching {BEGIN_SOLUTION}")
        if any(line.strip() in (BEGIN_HIDDEN, END_HIDDEN) for line in lines):
            lines = _replace_regions(lines, BEGIN_HIDDEN, END_HIDDEN, lambda indent: [], where)
        cell.source = "\n".join(lines)
        if CHECK_TAG in tags and RAISES_TAG not in tags:
            tags.append(RAISES_TAG)
        if tags:
            cell.metadata["tags"] = tags
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    import nbformat

    nb.cells.insert(0, nbformat.v4.new_markdown_cell(STUDENT_NOTE.format(name=name)))
    clean_metadata(nb)
    return nb


def student_path(solution: Path, chapters: Path) -> Path:
    return chapters / solution.name


def generate(solutions: Path, chapters: Path, check: bool = False) -> list[str]:
    """Write (or with ``check``, compare) every student notebook; return the problems found."""
    problems: list[str] = []
    sources = sorted(solutions.glob("[0-9][0-9]*.ipynb"))
    if not sources:
        problems.append(f"no solution notebooks found in {solutions}/")
    expected_names = {path.name for path in sources}
    for source in sources:
        target = student_path(source, chapters)
        content = notebook_bytes(studentize(read_notebook(source), source.name))
        if check:
            if not target.exists():
                problems.append(f"{target} is missing: run `make student`")
            elif target.read_bytes() != content:
                problems.append(f"{target} differs from what {source} generates: run `make student`")
        else:
            chapters.mkdir(parents=True, exist_ok=True)
            if not target.exists() or target.read_bytes() != content:
                target.write_bytes(content)
                print(f"wrote {target}")
    for stray in sorted(chapters.glob("*.ipynb")):
        if stray.name not in expected_names:
            problems.append(f"{stray} has no solution notebook in {solutions}/ (remove it, or add the solution)")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcore.tools.student", description=__doc__.splitlines()[0])
    parser.add_argument("solutions", type=Path, help="folder of solution notebooks (the source)")
    parser.add_argument("chapters", type=Path, help="folder of student notebooks (generated)")
    parser.add_argument("--check", action="store_true", help="write nothing; fail if chapters/ is out of date")
    args = parser.parse_args(argv)
    try:
        problems = generate(args.solutions, args.chapters, check=args.check)
    except MarkerError as error:
        print(f"student: {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem, file=sys.stderr)
    if args.check and not problems:
        print(f"{args.chapters}/ is up to date with {args.solutions}/")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
