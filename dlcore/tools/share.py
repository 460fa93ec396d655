"""How much of each chapter the learner writes: ``python -m dlcore.tools.share solutions/``.

Counts, per exercise, the lines of code inside ``### BEGIN SOLUTION`` /
``### END SOLUTION`` regions of code cells, leaving out blank lines and
comments: the code a student writes in place of the stub. An exercise of at
least :data:`BUILD_LINES` such lines is a *build exercise*, the size of a
CS231n assignment part.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from dlcore.tools.notebooks import read_notebook
from dlcore.tools.student import BEGIN_SOLUTION, END_SOLUTION, EXERCISE_LINE

__all__ = ["BUILD_LINES", "ExerciseShare", "exercise_shares", "main"]

BUILD_LINES = 15


@dataclass(frozen=True)
class ExerciseShare:
    label: str  # "9.3"
    lines: int  # code lines the learner writes
    cell: int  # index of the exercise cell in the notebook

    @property
    def is_build(self) -> bool:
        return self.lines >= BUILD_LINES


def solution_lines(source: str) -> list[str]:
    """The code lines (stripped; no blanks, no comments) inside the cell's solution regions."""
    found, inside = [], False
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped == BEGIN_SOLUTION:
            inside = True
        elif stripped == END_SOLUTION:
            inside = False
        elif inside and stripped and not stripped.startswith("#"):
            found.append(stripped)
    return found


def exercise_shares(notebook_path: str | Path) -> list[ExerciseShare]:
    """One entry per exercise code cell of a solution notebook, in order."""
    shares = []
    for index, cell in enumerate(read_notebook(notebook_path).cells):
        if cell.cell_type != "code" or BEGIN_SOLUTION not in cell.source:
            continue
        match = EXERCISE_LINE.match(cell.source.split("\n", 1)[0])
        label = match.group(1) if match else f"cell {index}"
        shares.append(ExerciseShare(label, len(solution_lines(cell.source)), index))
    return shares


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="the folder of solution notebooks (solutions/)")
    args = parser.parse_args(argv)
    paths = sorted(args.folder.glob("[0-9][0-9]*.ipynb"))
    if not paths:
        parser.error(f"folder: no chapter notebooks (NN_*.ipynb) in {args.folder}")
    total = 0
    print(f"{'chapter':<40} {'lines':>5} {'longest':>7} {'build exercises (>= ' + str(BUILD_LINES) + ' lines)'}")
    for path in paths:
        shares = exercise_shares(path)
        lines = sum(s.lines for s in shares)
        total += lines
        longest = max((s.lines for s in shares), default=0)
        builds = ", ".join(f"{s.label} ({s.lines})" for s in shares if s.is_build) or "none"
        print(f"{path.stem:<40} {lines:>5} {longest:>7} {builds}")
    print(f"{'course':<40} {total:>5}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
