"""Your progress through the course, from your own notebooks: ``make progress``.

    python -m dlcore.tools.progress [chapters/] [--output progress.html] [--timeout 300]

Runs each of your notebooks from the top in a fresh kernel, as "Restart Kernel
and Run All Cells" would (your files are read, never written), collects the
verdict of every exercise check, prints a summary and writes a small
self-contained HTML page (no scripts, no links out) to open in any browser.
"""

from __future__ import annotations

import argparse
import html
import sys
from pathlib import Path

from dlcore.tools.grade import DEFAULT_TIMEOUT_S, NotebookGrade, default_jobs, grade_paths

__all__ = ["summary", "render_html", "main"]

WHAT_TO_DO = {
    "passed": "",
    "wrong": "Read the diagnosis, fix the exercise cell, run it, then run the check again.",
    "not done": "Replace the `raise NotImplementedError` line in the exercise cell with your code.",
    "error": "The check could not run: run the exercise cell and fix the error it shows first.",
    "timed out": "The notebook was still running here when its time ran out: look for a loop that never ends.",
    "not run": "An earlier cell stopped the notebook (see above), so this check never ran.",
    "no check": "The check cell under this exercise is missing or gives no verdict: copy it back from the "
                "same place in the notebook of the same name in solutions/.",
}
COLORS = {"passed": "#2ca02c", "wrong": "#d62728", "not done": "#7f7f7f", "error": "#d62728",
          "timed out": "#ff7f0e", "not run": "#ff7f0e", "no check": "#ff7f0e"}

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; margin-bottom: 0.4rem; } h2 { font-size: 1.15rem; margin: 1.4rem 0 0.4rem; }
.bar { background: #e6e6e6; border-radius: 4px; height: 0.7rem; width: 100%; min-width: 8rem; }
.bar > div { background: #2ca02c; height: 100%; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; vertical-align: top; padding: 0.3rem 0.5rem; border-bottom: 1px solid #ddd; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.badge { color: white; border-radius: 3px; padding: 0.1rem 0.4rem; white-space: nowrap; font-size: 0.85rem; }
.fix { border-left: 4px solid #d62728; padding: 0.3rem 0.7rem; margin: 0.5rem 0; background: #fdf3f3; }
pre { white-space: pre-wrap; margin: 0.2rem 0; font-size: 0.85rem; }
.note { color: #555; font-size: 0.9rem; margin: 0.2rem 0; } summary { cursor: pointer; }
"""

# What needs the learner's attention, most urgent first; "not done" is collapsed, "passed" only counted.
TO_FIX = ("wrong", "error", "timed out", "not run", "no check")


def summary(grades: list[NotebookGrade]) -> str:
    lines = []
    for grade in grades:
        each = ", ".join(f"{exercise.label} {exercise.status}" for exercise in grade.exercises) or "no exercises"
        run = "" if grade.status == "completed" else f" [{grade.status}: {grade.problem}]"
        lines.append(f"{grade.notebook}: {grade.passed}/{len(grade.exercises)} passed ({each}){run}")
    passed = sum(grade.passed for grade in grades)
    total = sum(len(grade.exercises) for grade in grades)
    lines.append(f"In all: {passed} of {total} exercises pass.")
    return "\n".join(lines)


def _bar(passed: int, total: int) -> str:
    share = 100 * passed / total if total else 0
    return f'<div class="bar"><div style="width: {share:.0f}%"></div></div>'


def _to_fix(grades: list[NotebookGrade]) -> str:
    """Every answer that needs fixing, with the check's diagnosis and where it is, in course order."""
    e = html.escape
    items = []
    for grade in grades:
        if grade.status != "completed":
            items.append(f'<div class="fix"><b>{e(grade.notebook)}</b>: the notebook {e(grade.status)} '
                         f'({e(grade.problem)}); the checks after that point did not run.</div>')
        for error in grade.errors:
            items.append(f'<div class="fix"><b>{e(grade.notebook)}</b>, cell {error["cell"]} raised '
                         f'{e(error["ename"])}: {e(error["evalue"])}</div>')
        for exercise in grade.exercises:
            if exercise.status not in TO_FIX or (exercise.status == "not run" and grade.status != "completed"):
                continue
            color = COLORS.get(exercise.status, "#7f7f7f")
            items.append(f'<div class="fix"><b>{e(grade.notebook)}, exercise {e(exercise.label)}</b> '
                         f'<span class="badge" style="background: {color}">{e(exercise.status)}</span>'
                         f"<pre>{e(exercise.message)}</pre>"
                         f'<p class="note">{e(WHAT_TO_DO.get(exercise.status, ""))}</p></div>')
    if not items:
        return "<p>Nothing to fix: every exercise you answered passes.</p>"
    return "".join(items)


def _chapters(grades: list[NotebookGrade]) -> str:
    e = html.escape
    rows = []
    for grade in grades:
        statuses = [exercise.status for exercise in grade.exercises]
        wrong = sum(status in TO_FIX for status in statuses)
        rows.append(f"<tr><td>{e(grade.notebook)}</td><td>{_bar(grade.passed, len(statuses))}</td>"
                    f'<td class="n">{grade.passed} / {len(statuses)}</td>'
                    f'<td class="n">{f"{wrong} to fix" if wrong else ""}</td>'
                    f'<td class="n">{statuses.count("not done") or ""}{" not done" if "not done" in statuses else ""}'
                    "</td></tr>")
    return ("<table><tr><th>chapter</th><th>progress</th><th>pass</th><th></th><th></th></tr>"
            + "".join(rows) + "</table>")


def _not_done(grades: list[NotebookGrade]) -> str:
    e = html.escape
    chapters = [(grade.notebook, [x.label for x in grade.exercises if x.status == "not done"]) for grade in grades]
    chapters = [(notebook, labels) for notebook, labels in chapters if labels]
    if not chapters:
        return ""
    count = sum(len(labels) for _, labels in chapters)
    lines = "".join(f"<li>{e(notebook)}: {e(', '.join(labels))}</li>" for notebook, labels in chapters)
    return (f"<details><summary>Not done yet: {count} exercise{'s' * (count != 1)} in {len(chapters)} "
            f"chapter{'s' * (len(chapters) != 1)} (replace the <code>raise NotImplementedError</code> line in "
            f"each exercise cell)</summary><ul>{lines}</ul></details>")


def render_html(grades: list[NotebookGrade]) -> str:
    """The page: the score and what to fix first at the top, then a bar per chapter; "not done" collapsed."""
    passed = sum(grade.passed for grade in grades)
    total = sum(len(grade.exercises) for grade in grades)
    to_fix = sum(exercise.status in TO_FIX for grade in grades for exercise in grade.exercises)
    head = (f"<h1>Your progress: {passed} of {total} exercises pass</h1>{_bar(passed, total)}"
            f'<p class="note">{to_fix} to fix, listed first below. Each notebook was run from the top in a fresh '
            f"kernel; run <code>make progress</code> again after you change them.</p>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>Course progress: {passed}/{total}</title><style>{STYLE}</style></head><body>\n{head}\n"
            f"<h2>Fix these first</h2>{_to_fix(grades)}\n{_not_done(grades)}\n"
            f"<h2>Chapters</h2>{_chapters(grades)}\n</body></html>\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcore.tools.progress", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[Path("chapters")],
                        help="your notebooks, or the folder of them (default chapters/)")
    parser.add_argument("--output", type=Path, default=Path("progress.html"), help="the page (default progress.html)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds for each whole notebook")
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="notebooks run at once, each kernel on one thread (default: the machine's cores)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    for argument in args.paths:
        if not argument.exists():
            parser.error(f"no such file or folder: {argument}")
    grades = grade_paths(args.paths, args.timeout, jobs=args.jobs, progress=True)
    for grade in grades:
        grade.student = "you"
    if not grades:
        parser.error("no notebooks found in " + ", ".join(map(str, args.paths)))
    print()
    print(summary(grades))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_html(grades), encoding="utf-8")
    print(f"\nwrote {args.output}: open it in your browser")
    return 0


if __name__ == "__main__":
    sys.exit(main())
