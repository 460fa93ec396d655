"""A real JupyterLab server and a real Chromium, for the browser tests.

- :class:`LabServer` starts ``jupyter lab`` on 127.0.0.1 on a free port with a
  token, news and update checks off, no browser opened, in a folder of copies
  (JupyterLab autosaves: the repository's notebooks are never opened), and
  ends it, with its kernels, however the tests end.
- :func:`launch_chromium` starts the system's Chromium through Playwright with
  background networking off (Playwright cannot download its own browser here).

:mod:`tests.browser.notebook` drives a notebook in it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM_ENV = "DLCORE_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# No sandbox (root in containers), no GPU, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--metrics-recording-only",
]
INSTALL_HINT = (
    "the browser tests need Chromium at {path}: install it (Debian/Ubuntu: `sudo apt-get install -y chromium`, "
    "which `make test` does by itself when run as root), or point {env} at a Chromium binary. "
    "For a local run without a browser only, set DLCORE_SKIP_BROWSER_TESTS=1."
)

# JupyterLab settings for the test server: no news, no toasts over the widgets,
# and every cell attached to the DOM (no virtual scrolling) so that widgets
# below the fold exist to be found.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def chromium_path() -> str:
    return os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM


def chromium_problem() -> str | None:
    """Why Chromium cannot be used, or None if it can."""
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return INSTALL_HINT.format(path=path, env=CHROMIUM_ENV)
    return None


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)


def _end_with_parent() -> None:
    """In the server's process before it starts (Linux): SIGTERM it if the test process dies,
    so that not even a killed test run leaves a server behind."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: stop() still ends it on every normal or failed run


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LabServer:
    """``jupyter lab`` serving ``root`` (a scratch folder), stopped with everything it started."""

    START_TIMEOUT_S = 90
    ATTEMPTS = 3  # a free port can be taken between choosing it and binding it

    def __init__(self, root: Path, state: Path, log_path: Path) -> None:
        self.root = root
        self.state = state
        self.log_path = log_path
        self.token = secrets.token_hex(16)
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        separator = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{separator}token={self.token}"

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # Like `make lab`: kernels use the inline backend, not the tests' Agg.
        env.pop("MPLBACKEND", None)
        env["JUPYTER_CONFIG_DIR"] = str(self.state / "config")
        env["JUPYTER_RUNTIME_DIR"] = str(self.state / "runtime")
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        return env

    def _write_settings(self) -> Path:
        settings = self.state / "settings"
        for name, values in LAB_SETTINGS.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        (self.state / "workspaces").mkdir(parents=True, exist_ok=True)
        return settings

    def _command(self, settings: Path) -> list[str]:
        return [
            sys.executable, "-m", "jupyterlab",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", "--ServerApp.open_browser=False",
            f"--ServerApp.root_dir={self.root}", "--ServerApp.terminals_enabled=False",
            "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={self.state / 'workspaces'}",
            "--LabApp.expose_app_in_browser=True", "--LabApp.extension_manager=readonly",
            "--ServerApp.allow_root=True",  # CI containers run as root
        ]

    def start(self) -> "LabServer":
        settings = self._write_settings()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, self.ATTEMPTS + 1):
            self.port = free_port()
            log = open(self.log_path, "ab")
            log.write(f"--- start attempt {attempt} on port {self.port}\n".encode())
            log.flush()
            # A session of its own, so that stop() can end the server and any child it left.
            self.process = subprocess.Popen(self._command(settings), cwd=self.root, env=self._environment(),
                                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True,
                                            preexec_fn=_end_with_parent if sys.platform == "linux" else None)
            log.close()
            if self._wait_until_ready():
                return self
            self.stop()
        raise RuntimeError(f"JupyterLab did not start in {self.ATTEMPTS} attempts; its log:\n{self.log_tail()}")

    def _wait_until_ready(self) -> bool:
        deadline = time.monotonic() + self.START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False  # exited: most likely the port was taken meanwhile
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=5) as response:
                    if response.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.25)
        return False

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(self.url(path), method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        try:
            for kernel in self.api("api/kernels"):
                self.api(f"api/kernels/{kernel['id']}", method="DELETE")
        except OSError:
            pass  # the server is gone already; its kernels exit with their parent

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        self.shutdown_kernels()
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def copy_notebooks(source: Path, target: Path) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    copies = []
    for path in sorted(source.glob("[0-9][0-9]*.ipynb")):
        copies.append(Path(shutil.copy2(path, target / path.name)))
    return copies
