"""The grader's command line: ``python -m dlcore.tools.grade`` (see :mod:`dlcore.tools.grade`).

    python -m dlcore.tools.grade submissions/ [--jobs N] [--shard i/n] [--no-cache] ...
    python -m dlcore.tools.grade merge shard-1.json shard-2.json ... [--output grades.json] [--csv grades.csv]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dlcore.tools import grade as grading
from dlcore.tools.grade import DEFAULT_TIMEOUT_S, NotebookGrade, default_jobs, find_notebooks, parse_shard

__all__ = ["main", "merge_main"]


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, default=Path("grades.json"), help="the JSON report (default grades.json)")
    parser.add_argument("--csv", type=Path, help="also write one row per notebook and exercise here")
    parser.add_argument("--html", type=Path, help="also write the class report here (counts, common mistakes)")
    parser.add_argument("--gradebook", type=Path, help="also write a row per student, a column per exercise here")


def _write_reports(grades: list[NotebookGrade], args: argparse.Namespace, timeout: float,
                   shard: tuple[int, int] | None = None, batch_size: int | None = None) -> None:
    from dlcore.tools import class_report, grade_report

    print()
    print(grade_report.table(grades))
    grade_report.write_json(grades, args.output, timeout, shard, batch_size)
    print(f"\nwrote {args.output}")
    if args.csv:
        grade_report.write_csv(grades, args.csv)
        print(f"wrote {args.csv}")
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(class_report.render_html(grades), encoding="utf-8")
        print(f"wrote {args.html}")
    if args.gradebook:
        class_report.write_gradebook(grades, args.gradebook)
        print(f"wrote {args.gradebook}")


def merge_main(argv: list[str]) -> int:
    """``python -m dlcore.tools.grade merge shard-1.json shard-2.json ... [--output grades.json] [--csv ...]``."""
    from dlcore.tools import grade_report

    parser = argparse.ArgumentParser(prog="python -m dlcore.tools.grade merge",
                                     description="combine the reports of every shard into one, as one run writes it")
    parser.add_argument("reports", nargs="+", type=Path, help="the JSON report of each shard (--shard i/n)")
    _add_report_options(parser)
    args = parser.parse_args(argv)
    missing = [str(path) for path in args.reports if not path.is_file()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    try:
        grades, timeout = grade_report.merge_shards(args.reports)
    except ValueError as error:
        parser.error(str(error))
    _write_reports(grades, args, timeout)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["merge"]:
        return merge_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m dlcore.tools.grade", description=grading.__doc__.splitlines()[0],
                                     epilog="`python -m dlcore.tools.grade merge --help`: combine shard reports.")
    parser.add_argument("paths", nargs="+", type=Path, help="notebooks, or folders of them (one subfolder per student)")
    _add_report_options(parser)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S,
                        help=f"seconds for each whole notebook (default {DEFAULT_TIMEOUT_S:g})")
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="notebooks graded at once, each kernel on one thread (default: the machine's cores)")
    parser.add_argument("--shard", help="grade only slice i of n of the submissions, e.g. 2/4; combine the shards' "
                                        "reports with the merge command")
    parser.add_argument("--cache", type=Path, default=Path(".grade-cache"),
                        help="where grades are kept by notebook content, course and time limit (default .grade-cache)")
    parser.add_argument("--no-cache", action="store_true", help="run every notebook, and keep nothing")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    try:
        shard = parse_shard(args.shard) if args.shard else None
    except ValueError as error:
        parser.error(f"--shard: {error}")
    missing = [str(path) for path in args.paths if not path.exists()]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    cache = None
    if not args.no_cache:
        from dlcore.tools.grade_cache import GradeCache

        cache = GradeCache(args.cache, args.timeout)
    print(f"grading with {args.jobs} job(s), one thread per kernel" + (f", shard {args.shard}" if shard else ""),
          flush=True)
    grades = grading.grade_paths(args.paths, args.timeout, jobs=args.jobs, shard=shard, cache=cache, progress=True)
    batch_size = len([task for path in args.paths for task in find_notebooks(path)])
    if not grades and not (shard and batch_size):
        parser.error("no notebooks found in " + ", ".join(map(str, args.paths)))
    if cache is not None and cache.hits:
        print(f"{cache.hits} of {len(grades)} grade(s) from the cache in {args.cache} (same notebook, course and "
              f"time limit); --no-cache runs them again", flush=True)
    _write_reports(grades, args, args.timeout, shard, batch_size if shard else None)
    return 0
