"""Run each student notebook once per test session and share the executed copy between tests."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

from dlcore.tools.notebooks import execute_notebook, read_notebook

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]*.ipynb"))


@functools.lru_cache(maxsize=None)
def _executed(path: Path):
    return execute_notebook(read_notebook(path), cwd=path.parent, timeout=120, allow_errors=True)


def executed_student_notebook(path: Path):
    """The untouched student notebook after Run All (errors allowed), executed once per session."""
    return copy.deepcopy(_executed(path))


def output_text(output) -> str:
    """Everything a reader sees of one output: streams, plain text, and error tracebacks."""
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join([f"{output.ename}: {output.evalue}", *output.traceback])
    data = output.get("data", {})
    return str(data.get("text/plain", "")) + str(data.get("text/markdown", "")) + str(data.get("text/html", ""))
