"""Start JupyterLab on the course: what ``make lab`` runs.

``python -m dlcore.tools.lab [extra JupyterLab options]`` opens JupyterLab on
the repository with ``chapters/`` as its first page. Two situations that stop
a plain ``jupyter lab`` are handled here, each with a one-line note:

- as root (the usual shell in containers and CI images) JupyterLab refuses to
  start unless given ``--allow-root``, so it is added;
- without a display (a server, a container, SSH) no browser can open, so none
  is tried and the note says to open the URL that JupyterLab prints (it
  carries the access token).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def running_as_root() -> bool:
    """True for the superuser on POSIX systems (Windows has no such thing here)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def headless(environ: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """True on Linux and other X11/Wayland systems when no display is set (macOS and Windows always have one)."""
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "darwin")):
        return False
    return not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def lab_command(extra: list[str], *, as_root: bool, no_display: bool,
                jupyter: str = "jupyter") -> tuple[list[str], list[str]]:
    """The JupyterLab command line and the notes to print before it starts."""
    command = [jupyter, "lab", f"--ServerApp.root_dir={ROOT}", "--LabApp.default_url=/lab/tree/chapters"]
    notes = []
    if as_root:
        command.append("--allow-root")
        notes.append("make lab: running as root (as in many containers), so JupyterLab is started with --allow-root.")
    if no_display:
        command.append("--ServerApp.open_browser=False")
        notes.append("make lab: no display here, so no browser opens: open the URL with the token that JupyterLab "
                     "prints below (it looks like http://127.0.0.1:8888/lab?token=...) in your own browser; with SSH, forward the "
                     "port first (ssh -L 8888:localhost:8888 ...).")
    return command + list(extra), notes


def main(argv: list[str] | None = None) -> None:
    extra = list(sys.argv[1:] if argv is None else argv)
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or shutil.which("jupyter")
    if jupyter is None:
        raise SystemExit("make lab: the jupyter command was not found next to this Python or on PATH; "
                         "run `make lab` from the repository so that it installs the course's environment.")
    command, notes = lab_command(extra, as_root=running_as_root(), no_display=headless(), jupyter=jupyter)
    for note in notes:
        print(note, flush=True)
    os.execv(jupyter, command)


if __name__ == "__main__":
    main()
