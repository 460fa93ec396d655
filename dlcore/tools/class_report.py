"""The class report: what a class gets right and which mistakes it makes (``make grade`` writes it).

- ``grades.html``: a self-contained page (no scripts, no links out). At the top,
  the class's most common mistakes, grouped by the checks' stable mistake ids (a
  message embeds the failing case, an id does not), each with the students who
  made it and one of their messages; then, per chapter and exercise, how many
  students pass, answer wrong, have not done it, or could not be graded.
- ``gradebook.csv``: one row per student, a column per exercise (1 passed, 0 not)
  and a total, as gradebooks import it.

Both hold students' names: like ``grades.json`` they are git-ignored.
"""

from __future__ import annotations

import csv
import html
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dlcore.tools.grade import NotebookGrade

__all__ = ["MistakeGroup", "exercise_counts", "common_mistakes", "render_html", "write_gradebook"]

COLUMNS = ("passed", "wrong", "not done", "other")  # other: error, timed out, not run, no check
UNRECOGNISED = "(not recognised)"


@dataclass
class MistakeGroup:
    """Everyone whose check failed with the same mistake id on the same exercise."""

    notebook: str
    label: str
    mistake: str
    students: list[str] = field(default_factory=list)
    example: str = ""  # one of their messages
    attempted: int = 0  # students whose notebook has this exercise


def _column(status: str) -> str:
    return status if status in COLUMNS else "other"


def exercise_counts(grades: list[NotebookGrade]) -> dict[str, dict[str, Counter]]:
    """notebook -> exercise label -> Counter of COLUMNS, in first-seen order."""
    counts: dict[str, dict[str, Counter]] = {}
    for grade in grades:
        chapter = counts.setdefault(grade.notebook, {})
        for exercise in grade.exercises:
            chapter.setdefault(exercise.label, Counter())[_column(exercise.status)] += 1
    return counts


def common_mistakes(grades: list[NotebookGrade]) -> list[MistakeGroup]:
    """Groups of wrong answers by (notebook, exercise, mistake id), the most common first."""
    groups: dict[tuple[str, str, str], MistakeGroup] = {}
    attempted = Counter((grade.notebook, exercise.label) for grade in grades for exercise in grade.exercises)
    for grade in grades:
        for exercise in grade.exercises:
            if exercise.status != "wrong":
                continue
            key = (grade.notebook, exercise.label, exercise.mistake or UNRECOGNISED)
            group = groups.setdefault(key, MistakeGroup(*key, example=exercise.message,
                                                        attempted=attempted[grade.notebook, exercise.label]))
            group.students.append(grade.student)
    return sorted(groups.values(), key=lambda g: (-len(g.students), g.notebook, g.label, g.mistake))


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 1.5rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; margin-bottom: 0.3rem; } h2 { font-size: 1.15rem; margin-top: 1.8rem; }
table { border-collapse: collapse; margin-top: 0.4rem; }
td, th { text-align: left; vertical-align: top; padding: 0.25rem 0.6rem; border-bottom: 1px solid #ddd; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #2a7d2a; } .wrong { color: #c62828; font-weight: 600; } .muted { color: #777; }
.note { color: #555; font-size: 0.9rem; } pre { white-space: pre-wrap; margin: 0.2rem 0 0; font-size: 0.8rem; }
"""


def _counts_table(counts: dict[str, dict[str, Counter]]) -> str:
    e = html.escape
    rows = []
    for notebook, chapter in counts.items():
        for index, (label, count) in enumerate(chapter.items()):
            total = sum(count.values())
            cells = "".join(f'<td class="n {name.replace(" ", "-")}">{count[name] or ""}</td>' for name in COLUMNS)
            share = f"{100 * count['passed'] / total:.0f}%" if total else ""
            rows.append(f"<tr><td>{e(notebook) if index == 0 else ''}</td><td>{e(label)}</td>{cells}"
                        f'<td class="n">{share}</td></tr>')
    header = "".join(f"<th>{name}</th>" for name in ("chapter", "exercise") + COLUMNS + ("pass rate",))
    return f"<table><tr>{header}</tr>{''.join(rows)}</table>"


def _names(students: list[str], shown: int = 12) -> str:
    """The students, the first ``shown`` in full and the rest behind a click."""
    e = html.escape
    head = e(", ".join(students[:shown]))
    if len(students) <= shown:
        return f"<span class='muted'>{head}</span>"
    rest = e(", ".join(students[shown:]))
    return (f"<span class='muted'>{head}</span><details class='muted'><summary>and {len(students) - shown} "
            f"more</summary>{rest}</details>")


def _mistakes_section(groups: list[MistakeGroup], limit: int) -> str:
    e = html.escape
    if not groups:
        return "<p>No wrong answers.</p>"
    items = []
    for group in groups[:limit]:
        example = group.example.strip().split("\n")[0]
        items.append(f"<tr><td class='n wrong'>{len(group.students)} of {group.attempted}</td>"
                     f"<td>{e(group.notebook)}<br>exercise {e(group.label)}</td>"
                     f"<td><code>{e(group.mistake)}</code><pre>{e(example[:300])}</pre>"
                     f"{_names(group.students)}</td></tr>")
    more = (f"<p class='note'>{len(groups) - limit} rarer mistake(s) are in grades.json.</p>"
            if len(groups) > limit else "")
    return ("<table><tr><th>students</th><th>where</th><th>mistake id, one message, who</th></tr>"
            + "".join(items) + "</table>" + more)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def render_html(grades: list[NotebookGrade], limit: int = 10) -> str:
    """The class report page: the summary, the most common mistakes, then the counts per exercise."""
    students = sorted({grade.student for grade in grades})
    exercises = [exercise for grade in grades for exercise in grade.exercises]
    passed = sum(exercise.status == "passed" for exercise in exercises)
    wrong = sum(exercise.status == "wrong" for exercise in exercises)
    problems = [grade for grade in grades if grade.status != "completed"]
    head = (f"<h1>Class report: {_count(len(students), 'student')}, {_count(len(grades), 'notebook')}</h1>"
            f"<p>{passed} of {len(exercises)} exercise answers pass; {wrong} are wrong"
            + (f"; {len(problems)} notebook(s) did not run to the end" if problems else "") + ".</p>")
    groups = common_mistakes(grades)
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Class report</title>'
            f"<style>{STYLE}</style></head><body>\n{head}\n"
            f"<h2>The most common mistakes</h2>{_mistakes_section(groups, limit)}\n"
            f"<h2>Per exercise</h2>{_counts_table(exercise_counts(grades))}\n"
            "<p class='note'>Grouped by the checks' mistake ids. Every message is in grades.json; "
            "gradebook.csv has a row per student.</p>\n</body></html>\n")


def write_gradebook(grades: list[NotebookGrade], path: Path) -> None:
    """One row per student; a column "<notebook> <exercise>" per exercise (1 passed, 0 not); the total."""
    columns: list[tuple[str, str]] = []
    table: dict[str, dict[tuple[str, str], int]] = {}
    for grade in grades:
        row = table.setdefault(grade.student, {})
        for exercise in grade.exercises:
            key = (Path(grade.notebook).stem, exercise.label)
            if key not in columns:
                columns.append(key)
            row[key] = int(exercise.status == "passed")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student"] + [f"{stem} {label}" for stem, label in columns] + ["passed", "exercises"])
        for student in sorted(table):
            row = table[student]
            writer.writerow([student] + [row.get(key, 0) for key in columns] + [sum(row.values()), len(columns)])
