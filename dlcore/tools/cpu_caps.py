"""Re-run the solution notebooks as an older CPU would: ``make test-cpus``.

    python -m dlcore.tools.cpu_caps avx2               # as a CPU without AVX-512
    python -m dlcore.tools.cpu_caps baseline           # as a CPU without AVX (the libraries' plainest kernels)
    python -m dlcore.tools.cpu_caps avx2 -- solutions/09_convolutional_networks.ipynb
    python -m dlcore.tools.cpu_caps avx2 baseline       # both at once (make test-cpus)

PyTorch, oneDNN, MKL and NumPy each pick kernels for the instruction sets of the CPU they run on,
and kernels for different instruction sets round differently (another summation order, fused
multiply-adds or not, another exp). A stored output that depends on those last bits passes on
the machine that wrote it and fails on a student's laptop. This tool caps the instruction sets
that the four libraries dispatch to, through the environment variables each reads at start-up,
checks in a fresh process that the caps took effect, and runs strict nbval on the solutions under
them. OpenBLAS's choice of kernels (``OPENBLAS_CORETYPE``) is left as the machine sets it.

The caps only exist on x86-64; elsewhere the tool says so and exits without running anything.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

LEVELS = {
    # level: (PyTorch's ATen, oneDNN, MKL, the NumPy dispatch targets that stay on)
    "avx2": ("avx2", "AVX2", "AVX2", lambda feature: not (feature.startswith("AVX512") or feature == "X86_V4")),
    "baseline": ("default", "SSE41", "SSE4_2", lambda feature: False),
}
EXPECTED_TORCH_CAPABILITY = {"avx2": {"AVX2", "DEFAULT"}, "baseline": {"DEFAULT"}}
ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, numpy, torch
from numpy._core import _multiarray_umath as umath
found = [name for name in umath.__cpu_dispatch__ if umath.__cpu_features__.get(name)]
print(json.dumps({"torch": torch.backends.cpu.get_cpu_capability(), "numpy": found}))
"""


def numpy_features_to_disable(level: str) -> list[str]:
    """The NumPy dispatch targets this CPU has and ``level`` turns off (baseline ones cannot be)."""
    from numpy._core import _multiarray_umath as umath

    keep = LEVELS[level][3]
    return [name for name in umath.__cpu_dispatch__ if umath.__cpu_features__.get(name) and not keep(name)]


def capped_environment(level: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) plus the variables that cap every library at ``level``.

    Raises:
        ValueError: for a level other than those in :data:`LEVELS`.
    """
    if level not in LEVELS:
        raise ValueError(f"capped_environment: level must be one of {sorted(LEVELS)}, got {level!r}")
    aten, onednn, mkl, _ = LEVELS[level]
    env = dict(os.environ if base is None else base)
    env.update(ATEN_CPU_CAPABILITY=aten, ONEDNN_MAX_CPU_ISA=onednn, MKL_ENABLE_INSTRUCTIONS=mkl)
    disabled = numpy_features_to_disable(level)
    if disabled:
        env["NPY_DISABLE_CPU_FEATURES"] = ",".join(disabled)
    else:
        env.pop("NPY_DISABLE_CPU_FEATURES", None)
    return env


def verify_caps(level: str, env: dict[str, str]) -> str:
    """Start a Python process under ``env`` and check that PyTorch and NumPy obey the caps.

    Returns a one-line description of what the process runs with.

    Raises:
        RuntimeError: when a library ignored its cap (the run would test nothing).
    """
    result = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True)
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    if seen["torch"] not in EXPECTED_TORCH_CAPABILITY[level]:
        raise RuntimeError(f"cpu_caps: PyTorch still uses {seen['torch']} under ATEN_CPU_CAPABILITY="
                           f"{env.get('ATEN_CPU_CAPABILITY', '(unset)')}; expected {sorted(EXPECTED_TORCH_CAPABILITY[level])}")
    left = [name for name in seen["numpy"] if not LEVELS[level][3](name)]
    if left:
        raise RuntimeError(f"cpu_caps: NumPy still dispatches to {left} under NPY_DISABLE_CPU_FEATURES")
    return (f"PyTorch kernels {seen['torch']}, NumPy dispatch {seen['numpy'] or 'baseline only'}, "
            f"oneDNN up to {env.get('ONEDNN_MAX_CPU_ISA')}, MKL up to {env.get('MKL_ENABLE_INSTRUCTIONS')}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after "--" goes to pytest (argparse alone would read "-q" as another level).
    pytest_args = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(prog="python -m dlcore.tools.cpu_caps", description=__doc__.splitlines()[0],
                                     epilog="after --: what pytest runs (default: --nbval solutions). Several "
                                            "levels run at once, each in its own pytest, and report in turn.")
    parser.add_argument("levels", nargs="+", choices=sorted(LEVELS), metavar="level",
                        help=f"the instruction sets to allow: {', '.join(sorted(LEVELS))}")
    args = parser.parse_args(argv)
    if platform.machine().lower() not in ("x86_64", "amd64"):
        print(f"cpu_caps: the instruction-set caps exist on x86-64 only; this is {platform.machine()}, "
              "so the capped run is skipped (the uncapped notebooks were compared already)")
        return 0
    levels = list(dict.fromkeys(args.levels))
    envs = {level: capped_environment(level) for level in levels}
    for level in levels:
        print(f"cpu_caps {level}: {verify_caps(level, envs[level])}", flush=True)
    # tests.conftest as a plugin: the same network guard in every kernel as in `make test`.
    command = [sys.executable, "-m", "pytest", "-p", "tests.conftest", "--nbval", *(pytest_args or ["solutions"])]
    if len(levels) == 1:
        return subprocess.run(command, env=envs[levels[0]], cwd=ROOT).returncode
    # Several levels at once (each notebook kernel mostly uses one core): their output is held and printed
    # level by level when all have finished, so that the reports do not interleave.
    with tempfile.TemporaryDirectory(prefix="cpu-caps-") as folder:
        logs = {level: open(Path(folder) / f"{level}.log", "w+") for level in levels}
        runs = {level: subprocess.Popen(command, env=envs[level], cwd=ROOT, stdout=logs[level],
                                        stderr=subprocess.STDOUT) for level in levels}
        codes = {level: run.wait() for level, run in runs.items()}
        for level in levels:
            logs[level].seek(0)
            print(f"--- cpu_caps {level}: exit status {codes[level]}", flush=True)
            print(logs[level].read(), end="", flush=True)
            logs[level].close()
    failed = [level for level in levels if codes[level] != 0]
    if failed:
        print(f"cpu_caps: the run under {', '.join(failed)} failed (see its report above)")
    return max(codes.values())


if __name__ == "__main__":
    sys.exit(main())
