"""Run a snippet in a fresh process with PyTorch's plainest kernels, for tests that compare against it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile


def tensors_under_baseline_kernels(code: str) -> list:
    """Run ``code`` (statements after ``import torch`` that set ``tensors``, a list of tensors) in a process
    started with ``ATEN_CPU_CAPABILITY=default`` (no vector instructions) and return those tensors."""
    import torch

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "tensors.pt")
        script = f"import sys, torch\n{code}\ntorch.save([t.detach() for t in tensors], sys.argv[1])"
        env = {**os.environ, "ATEN_CPU_CAPABILITY": "default"}
        subprocess.run([sys.executable, "-c", script, path], check=True, env=env, timeout=120)
        return torch.load(path)
