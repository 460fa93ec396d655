"""Reading, executing and writing notebooks byte-stably (shared by the tools)."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["read_notebook", "write_notebook", "notebook_bytes", "execute_notebook", "KERNELSPEC"]

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

# Metadata that changes on every run or every machine and is never kept.
VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime", "jupyter")
KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info")


def read_notebook(path: str | Path):
    import nbformat

    return nbformat.read(str(path), as_version=4)


def notebook_bytes(nb) -> bytes:
    """Serialise like Jupyter does (1-space indent, sorted keys), ending in a newline."""
    import nbformat

    nbformat.validate(nb)
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    return text.encode("utf-8")


def write_notebook(nb, path: str | Path) -> None:
    Path(path).write_bytes(notebook_bytes(nb))


def coalesce_streams(nb) -> None:
    """Merge consecutive stdout (or stderr) outputs of a cell into one, in place.

    How a kernel splits printed text into stream messages depends on timing (a busy
    machine flushes more often); the text is the same, so the stored notebook should be.
    """
    for cell in nb.cells:
        merged = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (output.output_type == "stream" and previous is not None and previous.output_type == "stream"
                    and previous.name == output.name):
                previous.text += output.text
            else:
                merged.append(output)
        if "outputs" in cell:
            cell.outputs = merged


def clean_metadata(nb) -> None:
    """Drop volatile metadata in place: timings, widget state, per-run ids."""
    nb.metadata = {key: nb.metadata[key] for key in KEPT_NOTEBOOK_METADATA if key in nb.metadata}
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    language = nb.metadata.get("language_info", {})
    # Keep only the stable part of language_info (the patch version differs between machines).
    nb.metadata["language_info"] = {"name": language.get("name", "python")}
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        cell.pop("id", None)
    nb.nbformat, nb.nbformat_minor = 4, 4


def execute_notebook(nb, cwd: str | Path, timeout: int = 300, allow_errors: bool = False):
    """Run every cell with a fresh kernel; no widget state and no timings are stored."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        allow_errors=allow_errors,
        store_widget_state=False,
        record_timing=False,
        # The kernel's own warnings (such as "running over TCP without encryption", on loopback) would be
        # printed once per notebook by every tool that runs notebooks; errors are still shown.
        extra_arguments=["--log-level=ERROR"],
    )
    client.execute()
    return nb
