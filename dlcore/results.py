"""The JSON files in which seed sweeps store their results (chapters 07, 10, 11, 12, 13, 15 and 16).

A sweep (``python -m dlcore.rl.sweep`` and its siblings) trains for minutes and writes its
numbers to a JSON file inside the package, in a ``results/`` folder beside it; the chapter
loads the file instead of training again, and a test re-runs one seed and compares it with the
file. Each file keeps the layout it was first written in (compact, json's default spacing, or
one space of indent), so that rebuilding it changes only the numbers that changed:

    write_results({"seeds": [0, 1]}, path, compact=True)   # the file holds {"seeds":[0,1]} and a newline
    write_results({"seeds": [0, 1]}, path, indent=1)       # one value a line, one space per level
    read_results(path)                                     # {'seeds': [0, 1]}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["read_results", "write_results"]


def read_results(path: str | Path) -> dict[str, Any]:
    """The results stored at ``path`` (JSON, UTF-8)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_results(results: dict[str, Any], path: str | Path, *, indent: int | None = None,
                  compact: bool = False) -> Path:
    """Write ``results`` to ``path`` as JSON and a final newline, creating the folder; return the path.

    Args:
        results: numbers, strings, lists and dicts (what :func:`json.dumps` accepts).
        path: the file to write (replaced if it exists).
        indent: spaces per level, or None for one line (as :func:`json.dumps`).
        compact: no space after ``,`` and ``:`` (the smallest one-line file).

    Raises:
        ValueError: if both ``indent`` and ``compact`` are given (an indented file is not compact).
    """
    if compact and indent is not None:
        raise ValueError(f"write_results: give indent ({indent}) or compact=True, not both")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    separators = (",", ":") if compact else None
    path.write_text(json.dumps(results, indent=indent, separators=separators) + "\n", encoding="utf-8")
    return path
