"""The capped re-run of the notebooks (make test-cpus) must really cap what it says it caps."""

from __future__ import annotations

import platform

import pytest

from dlcore.tools import cpu_caps

x86_only = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="the caps exist on x86-64 only")


@pytest.mark.parametrize("level, aten, onednn, mkl", [("avx2", "avx2", "AVX2", "AVX2"),
                                                       ("baseline", "default", "SSE41", "SSE4_2")])
def test_each_level_sets_every_library_cap(level, aten, onednn, mkl):
    env = cpu_caps.capped_environment(level, base={"PATH": "/bin", "NPY_DISABLE_CPU_FEATURES": "stale"})
    assert env["PATH"] == "/bin"
    assert (env["ATEN_CPU_CAPABILITY"], env["ONEDNN_MAX_CPU_ISA"], env["MKL_ENABLE_INSTRUCTIONS"]) == (aten, onednn, mkl)
    disabled = cpu_caps.numpy_features_to_disable(level)
    assert env.get("NPY_DISABLE_CPU_FEATURES", "") == ",".join(disabled)
    assert "OPENBLAS_CORETYPE" not in env  # left as the machine sets it


def test_numpy_features_turned_off_are_the_ones_above_the_level():
    from numpy._core import _multiarray_umath as umath

    present = [name for name in umath.__cpu_dispatch__ if umath.__cpu_features__.get(name)]
    assert set(cpu_caps.numpy_features_to_disable("baseline")) == set(present)
    avx2 = cpu_caps.numpy_features_to_disable("avx2")
    assert set(avx2) == {name for name in present if name.startswith("AVX512") or name == "X86_V4"}


def test_an_unknown_level_is_refused_by_name():
    with pytest.raises(ValueError, match="level must be one of \\['avx2', 'baseline'\\], got 'sse'"):
        cpu_caps.capped_environment("sse")


@x86_only
@pytest.mark.parametrize("level", ["avx2", "baseline"])
def test_a_fresh_process_obeys_the_caps(level):
    description = cpu_caps.verify_caps(level, cpu_caps.capped_environment(level))
    expected = "DEFAULT" if level == "baseline" else "AVX2"
    assert f"PyTorch kernels {expected}" in description or "PyTorch kernels DEFAULT" in description


@x86_only
def test_an_environment_without_the_caps_is_caught_when_the_cpu_is_above_the_level():
    import torch

    if torch.backends.cpu.get_cpu_capability() == "DEFAULT":
        pytest.skip("this CPU has no vector kernels above the baseline: nothing to catch")
    env = cpu_caps.capped_environment("baseline")
    env.pop("ATEN_CPU_CAPABILITY")
    with pytest.raises(RuntimeError, match="PyTorch still uses"):
        cpu_caps.verify_caps("baseline", env)


@x86_only
def test_several_levels_run_at_once_and_each_reports_in_turn(tmp_path, capsys):
    # A plain test file stands in for the notebooks (nbval collects .py tests as usual). It passes under avx2
    # and fails under baseline: both run at once, each report is printed under its level, and the baseline
    # failure alone makes the exit status non-zero.
    failing = tmp_path / "test_probe.py"
    failing.write_text("import os\n\ndef test_probe():\n    assert os.environ['ATEN_CPU_CAPABILITY'] == 'avx2'\n")
    status = cpu_caps.main(["avx2", "baseline", "--", "-q", "-p", "no:cacheprovider", str(failing)])
    out = capsys.readouterr().out
    assert status != 0
    assert "--- cpu_caps avx2: exit status 0" in out
    assert "--- cpu_caps baseline: exit status 1" in out
    assert out.index("--- cpu_caps avx2") < out.index("--- cpu_caps baseline")
    assert "the run under baseline failed" in out


def test_an_unknown_level_is_named(capsys):
    with pytest.raises(SystemExit):
        cpu_caps.main(["avx512", "--", "-q"])
    assert "invalid choice: 'avx512'" in capsys.readouterr().err
