"""Grade students' notebooks by running them: ``make grade SUBMISSIONS=folder``.

    python -m dlcore.tools.grade submissions/ [--output grades.json] [--csv grades.csv] [--timeout 300]
                                              [--jobs N] [--shard i/n] [--no-cache]
    python -m dlcore.tools.grade merge shard-1.json shard-2.json ... [--output grades.json] [--csv grades.csv]

Each notebook (or every ``*.ipynb`` under a folder) runs top to bottom in a
fresh kernel, in its own folder, errors allowed, within a time limit for the
whole notebook. After each cell tagged ``exercise-check`` the grader asks the
kernel, silently (a ``user_expressions`` request: nothing is added to the
notebook or its namespace), for the verdicts recorded in
:data:`dlcore.exercises.core.results` while that cell ran. An exercise is then

- ``passed``: its check recorded a pass;
- ``wrong``: its check recorded a failure (the diagnosis is kept);
- ``not done``: its check raised NotImplementedError (the stub is still there);
- ``error``: its check raised something else and recorded nothing (for example
  a NameError because the exercise cell itself failed);
- ``timed out``: the notebook's time ran out in its check cell;
- ``not run``: the notebook timed out or its kernel died before its check;
- ``no check``: the check cell was deleted, or ran without reaching a verdict.

A notebook that loops or crashes is reported as such and the batch goes on.
With ``--jobs N`` (default: the machine's cores) N notebooks run at once, each
graded by its own worker process with its own kernel; every kernel is limited
to one thread (OMP/MKL/OpenBLAS and torch), so N kernels share N cores without
oversubscribing them, and the grades do not depend on N. ``--shard i/n`` grades
one deterministic slice of the batch (for a job array, a CI matrix, a loop over
hosts) and ``merge`` combines the shards' reports into the one a single run
writes. Grades are cached by notebook content, course code and data, and time
limit (:mod:`dlcore.tools.grade_cache`): grading a class again runs only the
notebooks that changed.
The exit status is 0 once the batch is graded, wrong answers or not.

Students' notebooks run arbitrary code with your permissions: grade them in a
throwaway container or virtual machine.
"""

from __future__ import annotations

import ast
import json
import multiprocessing
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dlcore.tools.notebooks import read_notebook
from dlcore.tools.student import CHECK_TAG, EXERCISE_LINE

__all__ = ["ExerciseGrade", "NotebookGrade", "grade_notebook", "grade_paths", "find_notebooks", "default_jobs",
           "parse_shard", "main"]

DEFAULT_TIMEOUT_S = 300.0
# Set in every kernel's environment: one thread each, whatever the number of concurrent kernels.
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                     "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}
PASSED, WRONG, NOT_DONE, ERROR, TIMED_OUT, NOT_RUN, NO_CHECK = (
    "passed", "wrong", "not done", "error", "timed out", "not run", "no check")

# Evaluated in the kernel after each check cell: the verdicts recorded since the
# first `{start}`, as a JSON string (a string's repr is never abbreviated, unlike a
# long list's); none if the notebook never imported the checks.
_RESULTS_EXPRESSION = (
    "__import__('json').dumps([(r.label, bool(r.passed), str(r.message), str(getattr(r, 'mistake', ''))) for r in "
    "getattr(__import__('sys').modules.get('dlcore.exercises.core'), 'results', [])[{start}:]])"
)


@dataclass
class ExerciseGrade:
    label: str  # as in the exercise cell's first line, "# Exercise 4.2"
    status: str = NO_CHECK
    message: str = ""
    cell: int | None = None  # index of its check cell
    mistake: str = ""  # the stable id of the recognised mistake, when the check recognised one


@dataclass
class NotebookGrade:
    path: str
    student: str
    notebook: str
    status: str = "completed"  # completed | timed out | kernel died | could not run
    problem: str = ""
    seconds: float = 0.0
    exercises: list[ExerciseGrade] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # errors in cells other than checks
    position: int = 0  # in the whole batch, in the order found (shards keep it, so merging restores the order)

    @property
    def passed(self) -> int:
        return sum(exercise.status == PASSED for exercise in self.exercises)

    def to_json(self) -> dict:
        data = asdict(self)
        data["passed"] = self.passed
        data["total"] = len(self.exercises)
        return data

    @classmethod
    def from_json(cls, data: dict) -> "NotebookGrade":
        """The inverse of :meth:`to_json` (reads grades.json entries, shard reports and the cache)."""
        fields = {key: value for key, value in data.items() if key not in ("passed", "total", "exercises")}
        return cls(**fields, exercises=[ExerciseGrade(**exercise) for exercise in data["exercises"]])


def _exercises(nb) -> tuple[list[ExerciseGrade], dict[int, ExerciseGrade]]:
    """The exercises in cell order, and which check cell belongs to which exercise."""
    exercises: list[ExerciseGrade] = []
    checks: dict[int, ExerciseGrade] = {}
    waiting: ExerciseGrade | None = None  # the last exercise still without its check
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        match = EXERCISE_LINE.match(cell.source.strip().split("\n")[0].strip())
        if match:
            waiting = ExerciseGrade(match.group(1))
            exercises.append(waiting)
        elif CHECK_TAG in cell.metadata.get("tags", []):
            if waiting is None:  # a check with no exercise cell before it: named by its verdict later
                waiting = ExerciseGrade(f"cell {index}")
                exercises.append(waiting)
            waiting.cell = index
            checks[index] = waiting
            waiting = None
    return exercises, checks


def _recorded(client, start: int) -> list[tuple[str, bool, str]]:
    """The verdicts the kernel has recorded after the first ``start``."""
    from jupyter_core.utils import ensure_async, run_sync

    async def ask():
        expression = _RESULTS_EXPRESSION.format(start=start)
        return await ensure_async(client.kc.execute("", silent=True, store_history=False, reply=True, timeout=60,
                                                    user_expressions={"results": expression}))

    reply = run_sync(ask)()
    value = reply["content"].get("user_expressions", {}).get("results", {})
    if value.get("status") != "ok":
        return []
    return [tuple(item) for item in json.loads(ast.literal_eval(value["data"]["text/plain"]))]


def _judge(exercise: ExerciseGrade, cell, new: list[tuple[str, bool, str, str]]) -> None:
    """Set the exercise's status from what its check cell recorded and raised."""
    if new:
        failed = [(message, mistake) for _, ok, message, mistake in new if not ok]
        exercise.status, exercise.message = (WRONG, failed[0][0]) if failed else (PASSED, new[-1][2])
        exercise.mistake = failed[0][1] if failed else ""
        if exercise.label.startswith("cell "):
            exercise.label = new[-1][0]
        return
    errors = [output for output in cell.outputs if output.output_type == "error"]
    if not errors:
        exercise.status, exercise.message = NO_CHECK, "the check cell ran but gave no verdict"
    elif errors[0].ename == "NotImplementedError":
        exercise.status, exercise.message = NOT_DONE, _not_done_message(exercise.label, errors[0].evalue)
    elif errors[0].ename == "ExerciseFailed":
        exercise.status, exercise.message = WRONG, errors[0].evalue
    else:
        exercise.status, exercise.message = ERROR, f"{errors[0].ename}: {errors[0].evalue}"


def _not_done_message(label: str, evalue: str) -> str:
    """The stub's own text ("replace this line with your code") is for the notebook, not a grade."""
    if "replace this line" in evalue:
        return f"Exercise {label.removeprefix('cell ')} is not done yet"
    return evalue


def grade_notebook(path: Path, student: str = "", notebook: str = "", timeout: float = DEFAULT_TIMEOUT_S) -> NotebookGrade:
    """Run one notebook in a fresh kernel and grade each of its exercises."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    grade = NotebookGrade(str(path), student or path.parent.name, notebook or path.name)
    start = time.monotonic()
    try:
        nb = read_notebook(path)
    except Exception as error:  # noqa: BLE001 - an unreadable file is reported, not fatal
        grade.status, grade.problem = "could not run", f"not a readable notebook: {error}"
        return grade
    grade.exercises, checks = _exercises(nb)
    deadline = start + timeout
    client = NotebookClient(
        nb, kernel_name="python3", resources={"metadata": {"path": str(path.parent.resolve())}},
        allow_errors=True, store_widget_state=False, record_timing=False, interrupt_on_timeout=False,
        shutdown_kernel="immediate", timeout_func=lambda cell: max(1.0, deadline - time.monotonic()),
    )
    client.reset_execution_trackers()
    current, recorded = None, 0
    try:
        with client.setup_kernel(stderr=subprocess.DEVNULL, env={**os.environ, **ONE_THREAD}):
            deadline = time.monotonic() + timeout  # the kernel's start-up is not the student's time
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                current = index
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
                if index in checks:
                    new = _recorded(client, recorded)
                    _judge(checks[index], cell, new)
                    recorded += len(new)
                elif any(output.output_type == "error" for output in cell.outputs):
                    error = next(output for output in cell.outputs if output.output_type == "error")
                    grade.errors.append({"cell": index, "ename": error.ename, "evalue": error.evalue})
            current = None
    except CellTimeoutError:
        grade.status, grade.problem = TIMED_OUT, f"cell {current} was still running after {timeout:g} s"
    except DeadKernelError:
        grade.status, grade.problem = "kernel died", f"the kernel died in cell {current}"
    except Exception as error:  # noqa: BLE001 - one bad notebook must not stop the batch
        grade.status, grade.problem = "could not run", f"{type(error).__name__}: {error}"
    for exercise in grade.exercises:
        if exercise.status == NO_CHECK and exercise.cell is not None and grade.status != "completed":
            if exercise.cell == current:
                exercise.status, exercise.message = (TIMED_OUT if grade.status == TIMED_OUT else NOT_RUN), grade.problem
            elif current is None or exercise.cell > current:
                exercise.status, exercise.message = NOT_RUN, f"never reached ({grade.status}: {grade.problem})"
        elif exercise.cell is None:
            exercise.message = "no check cell (tagged exercise-check) follows this exercise"
    grade.seconds = round(time.monotonic() - start, 1)
    return grade


def find_notebooks(argument: Path) -> list[tuple[Path, str, str]]:
    """(path, student, notebook) for a notebook, or for every notebook under a folder.

    In a folder, ``alice/04_losses.ipynb`` is Alice's chapter 04; a notebook
    directly in the folder is named after its file.
    """
    if argument.is_file():
        return [(argument, argument.resolve().parent.name, argument.name)]
    found = []
    for path in sorted(argument.rglob("*.ipynb")):
        relative = path.relative_to(argument)
        if any(part.startswith(".") for part in relative.parts):  # .ipynb_checkpoints and the like
            continue
        if len(relative.parts) > 1:
            found.append((path, relative.parts[0], str(Path(*relative.parts[1:]))))
        else:
            found.append((path, path.stem, path.name))
    return found


def default_jobs() -> int:
    """The cores this process may use (os.process_cpu_count where it exists, else os.cpu_count)."""
    count = getattr(os, "process_cpu_count", os.cpu_count)()
    return max(1, count or 1)


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/5"`` -> (2, 5): the second of five shards (1 <= i <= n)."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"shard must look like i/n, e.g. 1/4, got {text!r}") from None
    if not 1 <= index <= count:
        raise ValueError(f"shard {text!r}: expected 1 <= i <= n")
    return index, count


def grade_paths(arguments: list[Path], timeout: float = DEFAULT_TIMEOUT_S, echo=print, jobs: int = 1,
                shard: tuple[int, int] | None = None, cache=None, progress: bool = False) -> list[NotebookGrade]:
    """Grade every notebook found under ``arguments``, ``jobs`` at a time; grades come back in the order found.

    ``shard=(i, n)`` grades only the notebooks at positions i-1, i-1+n, i-1+2n, ... of that order (a
    deterministic slice for a given set of submissions, balanced to within one notebook); each grade keeps
    its position in the whole batch. ``cache`` (a :class:`dlcore.tools.grade_cache.GradeCache`) answers for
    notebooks graded before with the same content, course and time limit, without starting a kernel.
    ``progress`` shows a bar (on stderr) with what runs and what is left; each result line is still echoed.
    """
    from tqdm import tqdm

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"grade_paths: jobs must be a positive int, got {jobs!r}")
    found = [task for argument in arguments for task in find_notebooks(argument)]
    positions = list(range(len(found)))
    if shard is not None:
        index, count = shard
        if not 1 <= index <= count:
            raise ValueError(f"grade_paths: shard must be (i, n) with 1 <= i <= n, got {shard!r}")
        positions = positions[index - 1::count]
    grades: dict[int, NotebookGrade] = {}
    bar = tqdm(total=len(positions), desc="grading", unit="notebook", disable=not progress, leave=False)
    running: set[int] = set()

    def show_running() -> None:
        names = [f"{found[p][1]}/{found[p][2]}" for p in sorted(running)]
        bar.set_postfix_str("running " + ", ".join(names) if names else "", refresh=True)

    def report(position: int, grade: NotebookGrade, cached: bool = False) -> None:
        grade.position = position
        grades[position] = grade
        if cache is not None and not cached:
            cache.put(found[position][0], grade)
        line = (f"[{len(grades)}/{len(positions)}] {grade.path}: {grade.passed}/{len(grade.exercises)} passed, "
                f"{grade.status}, {grade.seconds:.1f} s" + (" (cached)" if cached else ""))
        if progress:
            bar.write(line)
        else:
            echo(line, flush=True)
        running.discard(position)
        bar.update(1)
        show_running()

    to_run = []
    for position in positions:
        hit = cache.get(*found[position]) if cache is not None else None
        if hit is not None:
            report(position, hit, cached=True)
        else:
            to_run.append(position)
    if jobs == 1 or len(to_run) <= 1:
        for position in to_run:
            running.add(position)
            show_running()
            report(position, grade_notebook(*found[position], timeout))
    else:
        # Worker processes ("spawn": nothing of this process's state is inherited), each running one
        # notebook at a time in its own kernel, as the sequential path does.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, len(to_run)), mp_context=context) as pool:
            futures = {pool.submit(grade_notebook, *found[position], timeout): position for position in to_run}
            running.update(to_run[:jobs])  # the pool starts them in order, jobs at a time
            show_running()
            for future in as_completed(futures):
                position = futures[future]
                try:
                    grade = future.result()
                except Exception as error:  # noqa: BLE001 - a worker that died takes only its notebook with it
                    path, student, notebook = found[position]
                    grade = NotebookGrade(str(path), student, notebook, status="could not run",
                                          problem=f"the grading worker failed: {type(error).__name__}: {error}")
                waiting = [p for p in to_run if p not in grades and p not in running and p != position]
                if waiting:
                    running.add(waiting[0])  # the worker just freed takes the next notebook
                report(position, grade)
    bar.close()
    return [grades[position] for position in positions]


def main(argv: list[str] | None = None) -> int:
    """The command line (:mod:`dlcore.tools.grade_cli`): grade a batch, or ``merge`` shard reports."""
    from dlcore.tools.grade_cli import main as cli

    return cli(argv)


if __name__ == "__main__":
    sys.exit(main())
