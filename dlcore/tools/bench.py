"""The benchmark report: ``make bench`` (writes bench-report.md).

    python -m dlcore.tools.bench [--output bench-report.md] [--repeat 3] [--only 02]

Budgets (from the course design) are checked here, never in timed tests,
because the machines are shared and noisy: each measurement is a median of
several runs, and comparisons are made between numbers taken in one run.

- each solution notebook <= 30 s (fresh kernel, start-up included), the course <= 10 min;
- ``import dlcore`` <= 0.3 s without importing torch or matplotlib;
- each widget callback <= 100 ms (every control of every explorer moved);
- from-scratch kernels against PyTorch on the same inputs (dlcore.tools.benchmarks): the median of
  several interleaved runs, shown with their spread, so that one noisy run cannot decide a verdict;
- grading throughput at 1 job and at one job per core: a speed-up of at least 1.7x on 2 cores or more.

Exits with status 1 if anything is over budget.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dlcore.tools.benchmarks.common import Row

NOTEBOOK_BUDGET_S = 30.0
COURSE_BUDGET_S = 600.0
IMPORT_BUDGET_S = 0.3
CALLBACK_BUDGET_S = 0.100


def _verdict(ok: bool) -> str:
    return "ok" if ok else "OVER BUDGET"


def _measured(row: Row) -> str:
    return f"{row.measured} ({row.spread})" if row.spread else row.measured


def _children_cpu() -> float:
    """CPU seconds (user + system) used by finished child processes, e.g. the notebook kernels.

    Less sensitive to other load on the machine than wall time; a kernel that
    uses two threads can use more CPU seconds than wall seconds.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_notebooks(root: Path, repeat: int, only: str | None) -> tuple[list[Row], float]:
    from dlcore.tools.notebooks import execute_notebook, read_notebook

    from tqdm import tqdm

    rows, total = [], 0.0
    paths = [path for path in sorted((root / "solutions").glob("[0-9][0-9]*.ipynb"))
             if not only or path.name.startswith(only)]
    bar = tqdm(total=len(paths) * repeat, desc="notebooks", unit="run", leave=False)
    for path in paths:
        times, cpu_times = [], []
        for run in range(repeat):
            bar.set_postfix_str(f"{path.name}, run {run + 1} of {repeat}")
            nb = read_notebook(path)
            start, cpu_start = time.perf_counter(), _children_cpu()
            execute_notebook(nb, cwd=path.parent)
            times.append(time.perf_counter() - start)
            cpu_times.append(_children_cpu() - cpu_start)
            bar.update(1)
        median = statistics.median(times)
        total += median
        rows.append(Row(f"notebook {path.name}",
                        f"{median:.1f} s (runs: {', '.join(f'{t:.1f}' for t in times)}; "
                        f"kernel CPU {statistics.median(cpu_times):.1f} s)",
                        f"<= {NOTEBOOK_BUDGET_S:.0f} s", median <= NOTEBOOK_BUDGET_S))
    bar.close()
    return rows, total


def bench_import(repeat: int) -> Row:
    code = ("import time, sys; t = time.perf_counter(); import dlcore, dlcore.scratch, dlcore.gradcheck, dlcore.data; "
            "t = time.perf_counter() - t; heavy = [m for m in ('torch', 'matplotlib') if m in sys.modules]; "
            "print(t, ','.join(heavy))")
    times, heavy = [], ""
    for _ in range(max(repeat, 5)):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
        times.append(float(out[0]))
        heavy = out[1] if len(out) > 1 else ""
    median = statistics.median(times)
    ok = median <= IMPORT_BUDGET_S and not heavy
    note = f"; imported {heavy}!" if heavy else "; torch and matplotlib not imported"
    return Row("import dlcore (+ scratch, gradcheck, data)", f"{median * 1000:.0f} ms{note}", f"<= {IMPORT_BUDGET_S * 1000:.0f} ms", ok)


def _explorers():
    import dlcore.widgets as package
    from dlcore.widgets.base import Explorer

    for info in pkgutil.iter_modules(package.__path__):
        if info.name == "base":
            continue
        module = importlib.import_module(f"dlcore.widgets.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Explorer) and cls is not Explorer and cls.__module__ == module.__name__:
                yield cls


def _leaf_controls(controls) -> list:
    """The controls themselves, looking inside boxes (an explorer may group its sliders in a VBox)."""
    leaves = []
    for control in controls:
        children = getattr(control, "children", None)
        leaves += _leaf_controls(children) if children is not None else [control]
    return leaves


def _control_values(control) -> list:
    """A few values that move a control across its range (ends included)."""
    if hasattr(control, "options") and control.options:
        values = [option[1] if isinstance(option, tuple) else option for option in control.options]
        return values[:6]
    if hasattr(control, "min") and hasattr(control, "max"):
        low, high = control.min, control.max
        middle = (low + high) / 2
        if isinstance(control.value, int):
            middle = int(middle)
        return [high, low, middle]
    if isinstance(getattr(control, "value", None), bool):
        return [not control.value, control.value]
    return []


def bench_widgets(repeat: int) -> list[Row]:
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    from tqdm import tqdm

    rows = []
    bar = tqdm(_explorers(), desc="widgets", unit="explorer", leave=False)
    for cls in bar:
        bar.set_postfix_str(cls.__name__)
        parameters = inspect.signature(cls).parameters
        kwargs = {"rng": np.random.default_rng(0)} if "rng" in parameters else {}
        required = [name for name, p in parameters.items() if p.default is p.empty and name not in kwargs
                    and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if required:
            rows.append(Row(f"widget {cls.__name__}", f"not measured: needs {', '.join(required)}", "-", False))
            continue
        explorer = cls(**kwargs)
        times = []
        for _ in range(repeat):
            for control in _leaf_controls(explorer.controls):
                for value in _control_values(control):
                    if control.value == value:
                        continue
                    start = time.perf_counter()
                    control.value = value  # triggers the callback synchronously
                    times.append(time.perf_counter() - start)
        if not times:
            rows.append(Row(f"widget {cls.__name__}", "not measured: no slider, dropdown or checkbox found", "-", False))
            continue
        median, worst = statistics.median(times), max(times)
        rows.append(Row(f"widget {cls.__name__} ({len(times)} callbacks)",
                        f"median {median * 1000:.0f} ms, max {worst * 1000:.0f} ms",
                        f"median <= {CALLBACK_BUDGET_S * 1000:.0f} ms", median <= CALLBACK_BUDGET_S))
    return rows


def bench_kernels(repeat: int) -> list[Row]:
    """The NumPy-versus-PyTorch ratios of every module in dlcore.tools.benchmarks."""
    from dlcore.tools import benchmarks

    rows: list[Row] = []
    for module in benchmarks.modules():
        rows += module.run(repeat)
    return rows


GRADING_SPEEDUP_BUDGET = 1.7  # at 2 cores or more
GRADING_NOTEBOOKS = 6
GRADING_RUNS = 3  # pairs of gradings (1 job, then one per core); an odd count, so the median is one of them


def bench_grading(root: Path) -> list[Row]:
    """Grading throughput on the same small class at 1 job and at one job per core, one thread per kernel.

    The class is chapter 01 submitted by six students (solutions and student versions alternating). It is
    graded at 1 job and at one job per core in turn, :data:`GRADING_RUNS` times (1, n, 1, n, ...): each pair
    gives a speed-up, and the verdict uses their median, so that a burst of other load on a shared machine,
    which slows one grading, cannot pass or fail the budget on its own.
    """
    import shutil
    import tempfile

    from dlcore.tools.grade import default_jobs, grade_paths

    chapter = "01_landscape.ipynb"
    jobs = default_jobs()
    settings = (1, jobs) if jobs >= 2 else (1,)
    rates: dict[int, list[float]] = {setting: [] for setting in settings}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as folder:
        for index in range(GRADING_NOTEBOOKS):
            student = Path(folder) / f"student{index}"
            student.mkdir()
            shutil.copy(root / ("solutions" if index % 2 == 0 else "chapters") / chapter, student / chapter)
        for _ in range(GRADING_RUNS):
            for setting in settings:
                start = time.perf_counter()
                grades = grade_paths([Path(folder)], echo=lambda *args, **kwargs: None, jobs=setting, progress=True)
                minutes = (time.perf_counter() - start) / 60
                if any(grade.status != "completed" for grade in grades):
                    raise RuntimeError(f"bench_grading: a notebook did not complete at jobs={setting}")
                rates[setting].append(len(grades) / minutes)
    rows = [Row(f"grading throughput, {setting} job(s), one thread per kernel",
                f"{statistics.median(rate):.1f} notebooks/min ({GRADING_NOTEBOOKS} notebooks of chapter 01, "
                f"median of {len(rate)} runs)", "", True)
            for setting, rate in rates.items()]
    if jobs >= 2:
        speedups = [parallel / serial for serial, parallel in zip(rates[1], rates[jobs])]
        median = statistics.median(speedups)
        rows.append(Row(f"grading speed-up, {jobs} jobs against 1", f"{median:.2f}x",
                        f">= {GRADING_SPEEDUP_BUDGET}x", median >= GRADING_SPEEDUP_BUDGET,
                        spread=f"median of {len(speedups)} runs, min-max {min(speedups):.2f}-{max(speedups):.2f}x"))
    return rows


def render(rows: list[Row]) -> str:
    lines = ["# Benchmark report", "",
             f"Python {sys.version.split()[0]} on {sys.platform}; medians of repeated runs in one process. "
             "A kernel ratio is the median of several runs that alternate the two sides (ours, PyTorch, ours, ...), "
             "each run the fastest call of ours over the fastest of PyTorch's; its spread (min-max) is shown, "
             "and the verdict uses the median.", "",
             "| what | measured | budget | verdict |", "|---|---|---|---|"]
    lines += [f"| {r.what} | {_measured(r)} | {r.budget} | {_verdict(r.ok)} |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcore.tools.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("bench-report.md"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", help="only notebooks whose name starts with this, e.g. 02")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    rows = [bench_import(args.repeat)] + bench_kernels(args.repeat)
    rows += bench_widgets(args.repeat)
    notebook_rows, total = bench_notebooks(args.root, args.repeat, args.only)
    rows += notebook_rows
    if not args.only:
        rows += bench_grading(args.root)
        rows.append(Row("whole course (sum of notebook medians)", f"{total:.1f} s", f"<= {COURSE_BUDGET_S:.0f} s",
                        total <= COURSE_BUDGET_S))
    report = render(rows)
    args.output.write_text(report)
    print(report)
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
