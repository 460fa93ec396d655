"""One seeding call for the first cell of every notebook (chapter 01)."""

from __future__ import annotations

import os
import random
import sys

import numpy as np

from dlcore.errors import expect_positive_int

__all__ = ["seed_everything"]


def seed_everything(seed: int = 0, threads: int = 2, deterministic: bool = True) -> np.random.Generator:
    """Seed Python, NumPy and (if it is imported) PyTorch; return a NumPy Generator.

    Args:
        seed: a non-negative integer.
        threads: CPU threads for PyTorch and for NumPy's BLAS. A fixed count
            keeps floating-point reductions, and therefore printed results,
            identical between runs, and stops BLAS threads from fighting over
            a busy laptop's cores.
        deterministic: ask PyTorch for deterministic algorithms.

    Returns:
        ``np.random.default_rng(seed)``, the generator notebooks pass on
        explicitly; dlcore itself never reads global random state.

    Raises:
        TypeError / ValueError: for a seed or thread count that is not a
        non-negative (respectively positive) integer.

    PyTorch is seeded only if the notebook has already imported it, so that
    chapters without torch do not pay for loading it.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed_everything: seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed_everything: seed must be >= 0, got {seed}")
    threads = expect_positive_int("seed_everything", "threads", threads)
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)  # only for third-party code that still reads the legacy global state
    os.environ["PYTHONHASHSEED"] = str(seed)  # inherited by subprocesses, not by this one
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=int(threads))
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
        torch.set_num_threads(int(threads))
        if deterministic:
            torch.use_deterministic_algorithms(True)
    return np.random.default_rng(seed)
