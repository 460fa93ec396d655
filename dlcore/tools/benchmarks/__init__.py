"""Kernel-speed rows of the benchmark report, one module per kernel family.

Each module here defines ``run(repeat: int) -> list[Row]``: from-scratch NumPy
against PyTorch on the same inputs, as a ratio of times measured in one run.
``python -m dlcore.tools.bench`` finds the modules by listing this package, so a
new kernel's benchmark needs no edit elsewhere.
"""

from __future__ import annotations

import importlib
import pkgutil

__all__ = ["modules"]


def modules() -> list:
    """Every benchmark module of this package, in name order (``common`` excluded)."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        if info.name != "common":
            found.append(importlib.import_module(f"{__name__}.{info.name}"))
    return found
