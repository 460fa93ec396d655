"""Every notebook, solution and student version, in a real JupyterLab in a real browser.

For each notebook: open it, Run All, wait for the kernel to have answered every
cell, check the errors (none in a solution; in a student version exactly the
exercise checks, each with NotImplementedError), then move each explorer's
controls as a learner would (keyboard on a slider handle, a choice in a
dropdown) until its figure or summary changes, and keep a screenshot in
test-artifacts/browser/. Notebooks are found by listing the folders, so a new
chapter is covered without editing this file.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.browser.notebook import CellReport, LabNotebook, WidgetMove

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
NOTEBOOKS = [f"{folder}/{path.name}" for folder in ("solutions", "chapters")
             for path in sorted((ROOT / folder).glob("[0-9][0-9]*.ipynb"))]
_workspaces = itertools.count()


def _run(lab_page, lab_server, path: str) -> tuple[LabNotebook, list[CellReport]]:
    notebook = LabNotebook(lab_page, lab_server, path, workspace=f"test{next(_workspaces)}")
    notebook.open()
    cells = notebook.run_all()
    not_run = [cell.describe() for cell in cells if cell.source.strip() and cell.execution_count is None]
    assert not not_run, f"{path}: Run All stopped before these cells: {not_run[:5]}"
    return notebook, cells


def _unexpected_errors(path: str, cells: list[CellReport]) -> list[str]:
    student = path.startswith("chapters/")
    problems = []
    for cell in cells:
        if student and cell.is_check:
            names = [name for name, _ in cell.errors]
            if names != ["NotImplementedError"]:
                problems.append(f"{cell.describe()}: an unfinished exercise's check should raise "
                                f"NotImplementedError, got {cell.errors or 'no error'}")
        else:
            problems += [f"{cell.describe()}: {name}: {value}" for name, value in cell.errors]
    return problems


def _move_every_explorer(notebook: LabNotebook, path: str, cells: list[CellReport]) -> list[WidgetMove]:
    expected = sum(cell.explorers for cell in cells)
    assert expected > 0, f"{path}: no explorer widget in the notebook's outputs (every chapter has one)"
    found = notebook.explorers(expected)
    assert found == expected, f"{path}: {expected} explorers in the outputs, {found} rendered on the page"
    moves = []
    stem = path.replace("/", "-").removesuffix(".ipynb")
    for index in range(found):
        move = notebook.move_controls(index)
        notebook.screenshot(ARTIFACTS / (f"{stem}.png" if index == 0 else f"{stem}-{index}.png"), index)
        assert move.changed, f"{path}: explorer {index} did not change its figure or summary after: {move.control}"
        moves.append(move)
    return moves


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab_and_its_explorers_respond(lab_page, lab_server, path):
    notebook, cells = _run(lab_page, lab_server, path)
    try:
        problems = _unexpected_errors(path, cells)
        assert not problems, f"{path}:\n" + "\n".join(problems)
        if path.startswith("chapters/"):
            assert any(cell.is_check for cell in cells), f"{path}: no exercise-check cell"
        moves = _move_every_explorer(notebook, path, cells)
        print(f"{path}: " + "; ".join(move.control for move in moves))
    finally:
        notebook.shutdown_kernel()
