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
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.bar { background: #eee; border-radius: 4px; height: 0.6rem; width: 100%; }
.bar > div { background: #2ca02c; height: 100%; border-radius: 4px; }
table { border-collapse: collapse; width: 100%; margin-top: 0.5rem; }
td:first-child { white-space: nowrap; }
td, th { text-align: left; vertical-align: top; padding: 0.35rem 0.5rem; border-bottom: 1px solid #ddd; }
.badge { color: white; border-radius: 3px; padding: 0.1rem 0.4rem; white-space: nowrap; font-size: 0.85rem; }
pre { white-space: pre-wrap; margin: 0; font-size: 0.85rem; }
.note { color: #555; font-size: 0.9rem; }
"""


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


def _section(grade: NotebookGrade) -> str:
    e = html.escape
    total = len(grade.exercises)
    share = 100 * grade.passed / total if total else 0
    parts = [f"<h2>{e(grade.notebook)}</h2>",
             f"<p>{grade.passed} of {total} exercises pass.</p>",
             f'<div class="bar"><div style="width: {share:.0f}%"></div></div>']
    if grade.status != "completed":
        parts.append(f'<p class="note"><b>{e(grade.status)}</b>: {e(grade.problem)}</p>')
    for error in grade.errors:
        parts.append(f'<p class="note">Cell {error["cell"]} raised {e(error["ename"])}: {e(error["evalue"])}</p>')
    rows = []
    for exercise in grade.exercises:
        color = COLORS.get(exercise.status, "#7f7f7f")
        todo = WHAT_TO_DO.get(exercise.status, "")
        rows.append(f'<tr><td>Exercise {e(exercise.label)}</td>'
                    f'<td><span class="badge" style="background: {color}">{e(exercise.status)}</span></td>'
                    f'<td><pre>{e(exercise.message)}</pre>{f"<p class=note>{e(todo)}</p>" if todo else ""}</td></tr>')
    if rows:
        parts.append("<table><tr><th>exercise</th><th>status</th><th>what the check said</th></tr>"
                     + "".join(rows) + "</table>")
    return "\n".join(parts)


def render_html(grades: list[NotebookGrade]) -> str:
    passed = sum(grade.passed for grade in grades)
    total = sum(len(grade.exercises) for grade in grades)
    body = "\n".join(_section(grade) for grade in grades)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>Course progress: {passed}/{total}</title><style>{STYLE}</style></head><body>\n"
            f"<h1>Your progress: {passed} of {total} exercises pass</h1>\n"
            f'<p class="note">Each notebook was run from the top in a fresh kernel. '
            f"Run <code>make progress</code> again after you change them.</p>\n{body}\n</body></html>\n")


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
    grades = grade_paths(args.paths, args.timeout, jobs=args.jobs)
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
