"""The grader's reports: a text table per chapter, JSON, and CSV (used by ``grade`` and ``progress``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dlcore.tools.grade import NotebookGrade

__all__ = ["by_notebook", "table", "details", "write_json", "write_csv", "merge_shards"]


def by_notebook(grades: list[NotebookGrade]) -> dict[str, list[NotebookGrade]]:
    """Group the grades by notebook name (one chapter each), keeping the first-seen order."""
    groups: dict[str, list[NotebookGrade]] = {}
    for grade in grades:
        groups.setdefault(grade.notebook, []).append(grade)
    return groups


def _labels(grades: list[NotebookGrade]) -> list[str]:
    labels: list[str] = []
    for grade in grades:
        labels += [exercise.label for exercise in grade.exercises if exercise.label not in labels]
    return labels


def _run(grade: NotebookGrade) -> str:
    if grade.status == "completed":
        other = f", {len(grade.errors)} other cell error{'s' * (len(grade.errors) != 1)}" if grade.errors else ""
        return f"completed in {grade.seconds:.0f} s{other}"
    return f"{grade.status.upper()}: {grade.problem}"


def table(grades: list[NotebookGrade]) -> str:
    """One table per notebook: a row per student, a column per exercise, then details."""
    blocks = []
    for notebook, group in by_notebook(grades).items():
        labels = _labels(group)
        header = ["student"] + labels + ["passed", "run"]
        rows = []
        for grade in group:
            status = {exercise.label: exercise.status for exercise in grade.exercises}
            rows.append([grade.student] + [status.get(label, "-") for label in labels]
                        + [f"{grade.passed}/{len(grade.exercises)}", _run(grade)])
        widths = [max(len(row[column]) for row in [header] + rows) for column in range(len(header) - 1)]
        lines = [notebook, ""]
        for row in [header] + rows:
            lines.append("  ".join(text.ljust(width) for text, width in zip(row, widths)) + "  " + row[-1])
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n\n" + details(grades)


def details(grades: list[NotebookGrade]) -> str:
    """What went wrong, per student and exercise: the check's diagnosis or the error."""
    lines = ["Details (everything but passed and not done):"]
    for grade in grades:
        for exercise in grade.exercises:
            if exercise.status in ("passed", "not done"):
                continue
            message = exercise.message.strip().replace("\n", "\n      ")
            lines.append(f"  {grade.student} / {grade.notebook} / {exercise.label}: {exercise.status}")
            if message:
                lines.append(f"      {message}")
        for error in grade.errors:
            lines.append(f"  {grade.student} / {grade.notebook}: cell {error['cell']} raised "
                         f"{error['ename']}: {error['evalue']}")
    return "\n".join(lines) if len(lines) > 1 else "Nothing to report beyond the table."


def write_json(grades: list[NotebookGrade], path: Path, timeout: float, shard: tuple[int, int] | None = None,
               batch_size: int | None = None) -> None:
    """The JSON report; a shard's report also says which shard it is and how many notebooks the batch has."""
    report = {
        "statuses": ["passed", "wrong", "not done", "error", "timed out", "not run", "no check"],
        "timeout_s": timeout,
        "notebooks": [grade.to_json() for grade in grades],
    }
    if shard is not None:
        report["shard"] = f"{shard[0]}/{shard[1]}"
        report["batch_size"] = batch_size
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_csv(grades: list[NotebookGrade], path: Path) -> None:
    """One row per (notebook, exercise); a notebook with no exercises gets one row of its own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "notebook", "exercise", "status", "message", "notebook_status", "path"])
        for grade in grades:
            run = grade.status + (f": {grade.problem}" if grade.problem else "")
            for exercise in grade.exercises or [None]:
                if exercise is None:
                    writer.writerow([grade.student, grade.notebook, "", "", "", run, grade.path])
                else:
                    writer.writerow([grade.student, grade.notebook, exercise.label, exercise.status,
                                     exercise.message, run, grade.path])


def merge_shards(paths: list[Path]) -> tuple[list[NotebookGrade], float]:
    """Read shard reports (``--shard i/n``) and return the whole batch's grades, in the order one run gives.

    Every shard of the same batch must be there exactly once, with the same time limit.
    """
    from dlcore.tools.grade import NotebookGrade

    reports = [json.loads(Path(path).read_text(encoding="utf-8")) for path in paths]
    for path, report in zip(paths, reports):
        if "shard" not in report:
            raise ValueError(f"merge: {path} is not a shard report (it was not written with --shard i/n)")
    shards = [report["shard"] for report in reports]
    counts = {int(shard.split("/")[1]) for shard in shards}
    sizes = {report["batch_size"] for report in reports}
    timeouts = {report["timeout_s"] for report in reports}
    if len(counts) != 1 or len(sizes) != 1 or len(timeouts) != 1:
        raise ValueError(f"merge: the reports come from different batches (shards {shards}, batch sizes "
                         f"{sorted(sizes)}, time limits {sorted(timeouts)})")
    count = counts.pop()
    missing = sorted(set(f"{i}/{count}" for i in range(1, count + 1)) - set(shards))
    repeated = sorted({shard for shard in shards if shards.count(shard) > 1})
    if missing or repeated:
        raise ValueError(f"merge: expected each of the {count} shards once; missing {missing or 'none'}, "
                         f"repeated {repeated or 'none'}")
    grades = sorted((NotebookGrade.from_json(entry) for report in reports for entry in report["notebooks"]),
                    key=lambda grade: grade.position)
    if [grade.position for grade in grades] != list(range(sizes.pop())):
        raise ValueError("merge: the shards do not cover the batch's notebooks exactly once")
    return grades, timeouts.pop()
