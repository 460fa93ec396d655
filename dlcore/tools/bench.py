"""The benchmark report: ``make bench`` (writes bench-report.md).

    python -m dlcore.tools.bench [--output bench-report.md] [--repeat 3] [--only 02]

Budgets (from the course design) are checked here, never in timed tests,
because the machines are shared and noisy: each measurement is a median of
several runs, and comparisons are made between numbers taken in one run.

- each solution notebook <= 30 s (fresh kernel, start-up included), the course <= 10 min;
- ``import dlcore`` <= 0.3 s without importing torch or matplotlib;
- each widget callback <= 100 ms (every control of every explorer moved).

Exits with status 1 if anything is over budget.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

NOTEBOOK_BUDGET_S = 30.0
COURSE_BUDGET_S = 600.0
IMPORT_BUDGET_S = 0.3
CALLBACK_BUDGET_S = 0.100


@dataclass
class Row:
    what: str
    measured: str
    budget: str
    ok: bool


def _verdict(ok: bool) -> str:
    return "ok" if ok else "OVER BUDGET"


def bench_notebooks(root: Path, repeat: int, only: str | None) -> tuple[list[Row], float]:
    from dlcore.tools.notebooks import execute_notebook, read_notebook

    rows, total = [], 0.0
    for path in sorted((root / "solutions").glob("[0-9][0-9]*.ipynb")):
        if only and not path.name.startswith(only):
            continue
        times = []
        for _ in range(repeat):
            nb = read_notebook(path)
            start = time.perf_counter()
            execute_notebook(nb, cwd=path.parent)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        total += median
        rows.append(Row(f"notebook {path.name}", f"{median:.1f} s (runs: {', '.join(f'{t:.1f}' for t in times)})",
                        f"<= {NOTEBOOK_BUDGET_S:.0f} s", median <= NOTEBOOK_BUDGET_S))
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
    rows = []
    import numpy as np

    for cls in _explorers():
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
            for control in explorer.controls:
                for value in _control_values(control):
                    if control.value == value:
                        continue
                    start = time.perf_counter()
                    control.value = value  # triggers the callback synchronously
                    times.append(time.perf_counter() - start)
        if not times:
            continue
        median, worst = statistics.median(times), max(times)
        rows.append(Row(f"widget {cls.__name__} ({len(times)} callbacks)",
                        f"median {median * 1000:.0f} ms, max {worst * 1000:.0f} ms",
                        f"median <= {CALLBACK_BUDGET_S * 1000:.0f} ms", median <= CALLBACK_BUDGET_S))
    return rows


BATCHNORM_RATIO_BUDGET = 3.0


def _best_time(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)  # the least disturbed run: both sides are measured the same way


def bench_batchnorm(repeat: int) -> Row:
    """From-scratch batch norm (train mode, forward + backward) against PyTorch, fp32, same inputs."""
    import numpy as np
    import torch

    from dlcore.scratch.batchnorm import batchnorm_backward, batchnorm_forward

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 32, 16, 16)).astype(np.float32)  # (N, C, H, W)
    gamma = rng.standard_normal(32).astype(np.float32)
    beta = rng.standard_normal(32).astype(np.float32)
    dout = rng.standard_normal(x.shape).astype(np.float32)

    def ours():
        out, cache = batchnorm_forward(x, gamma, beta)
        batchnorm_backward(dout, cache)

    tx = torch.tensor(x, requires_grad=True)
    tgamma = torch.tensor(gamma, requires_grad=True)
    tbeta = torch.tensor(beta, requires_grad=True)
    tdout = torch.tensor(dout)

    def theirs():
        out = torch.nn.functional.batch_norm(tx, None, None, tgamma, tbeta, training=True)
        out.backward(tdout)
        tx.grad = tgamma.grad = tbeta.grad = None

    ours(), theirs()  # warm-up
    runs = max(5, 5 * repeat)
    ratio = _best_time(ours, runs) / _best_time(theirs, runs)
    return Row("batch norm fwd+bwd, NumPy / PyTorch (64x32x16x16, fp32)", f"{ratio:.2f}x",
               f"<= {BATCHNORM_RATIO_BUDGET:.1f}x", ratio <= BATCHNORM_RATIO_BUDGET)


def render(rows: list[Row]) -> str:
    lines = ["# Benchmark report", "",
             f"Python {sys.version.split()[0]} on {sys.platform}; medians of repeated runs in one process.", "",
             "| what | measured | budget | verdict |", "|---|---|---|---|"]
    lines += [f"| {r.what} | {r.measured} | {r.budget} | {_verdict(r.ok)} |" for r in rows]
    lines += ["", "Kernel speed budgets still to come: conv2d, pooling (chapter 09) and LSTM (chapter 11) "
              "against PyTorch, reported here once those kernels exist."]
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
    rows = [bench_import(args.repeat), bench_batchnorm(args.repeat)]
    rows += bench_widgets(args.repeat)
    notebook_rows, total = bench_notebooks(args.root, args.repeat, args.only)
    rows += notebook_rows
    if not args.only:
        rows.append(Row("whole course (sum of notebook medians)", f"{total:.1f} s", f"<= {COURSE_BUDGET_S:.0f} s",
                        total <= COURSE_BUDGET_S))
    report = render(rows)
    args.output.write_text(report)
    print(report)
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
