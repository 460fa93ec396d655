"""`make lab` starts JupyterLab the way the README says, as root and as an ordinary user, and the server answers."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from dlcore.tools.lab import ROOT, headless, lab_command

TOKEN = "course-test-token"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_lab(prefix: list[str], env: dict[str, str]) -> tuple[str, int]:
    """Run `make lab` (behind ``prefix``), wait for the server to answer, stop it; return its output and status."""
    port = _free_port()
    command = prefix + ["make", "--no-print-directory", "lab",
                        f"LAB_ARGS=--port={port} --IdentityProvider.token={TOKEN}"]
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        status, deadline = 0, time.monotonic() + 120
        try:
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={TOKEN}", timeout=5) as r:
                        status = r.status
                        break
                except OSError:
                    time.sleep(1)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, 15)
            process.wait(timeout=30)
        log.seek(0)
        return log.read(), status


def _display_free_env(home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(HOME=home, JUPYTER_RUNTIME_DIR=str(Path(home) / "runtime"), IPYTHONDIR=str(Path(home) / "ipython"))
    return env


def test_command_line_as_root_and_headless():
    command, notes = lab_command(["--port=9"], as_root=True, no_display=True)
    assert command[:2] == ["jupyter", "lab"] and "--allow-root" in command and command[-1] == "--port=9"
    assert "--ServerApp.open_browser=False" in command
    assert "--allow-root" in notes[0] and "open the URL" in notes[1]
    command, notes = lab_command([], as_root=False, no_display=False)
    assert "--allow-root" not in command and "--ServerApp.open_browser=False" not in command and notes == []
    assert any(part.startswith("--ServerApp.root_dir=") and part.endswith(str(ROOT)) for part in command)


def test_headless_detection():
    assert headless({}, "linux") and not headless({"DISPLAY": ":0"}, "linux")
    assert not headless({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not headless({}, "darwin") and not headless({}, "win32")


def test_make_lab_reaches_the_server_as_this_user(tmp_path):
    output, status = _start_lab([], _display_free_env(str(tmp_path)))
    assert status == 200, output[-3000:]
    assert "no browser opens" in output
    assert re.search(r"http://127\.0\.0\.1:\d+/lab", output), output[-3000:]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        assert "--allow-root" in output and "Running as root is not recommended" not in output


def _ordinary_user_prefix() -> list[str] | None:
    """A prefix that runs a command as the unprivileged user ``nobody``, if this machine allows it."""
    if not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("runuser")):
        return None
    prefix = ["runuser", "-u", "nobody", "--"]
    probe = subprocess.run(prefix + [str(ROOT / ".venv" / "bin" / "python"), "-c", "import jupyterlab"],
                           capture_output=True)
    return prefix if probe.returncode == 0 else None


def test_make_lab_reaches_the_server_as_an_ordinary_user():
    prefix = _ordinary_user_prefix()
    if prefix is None:
        pytest.skip("no unprivileged user can run this environment's Python here (e.g. it lives under /root)")
    home = Path(tempfile.mkdtemp(prefix="course-lab-home-"))  # directly in /tmp: pytest's tmp_path is root-only
    try:
        shutil.chown(home, "nobody")
        output, status = _start_lab(prefix + ["env", f"HOME={home}"], _display_free_env(str(home)))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert status == 200, output[-3000:]
    assert "--allow-root" not in output.split("ServerApp")[0]
