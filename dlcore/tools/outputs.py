"""Re-execute solution notebooks and store their outputs: ``make outputs``.

    python -m dlcore.tools.outputs solutions/            # every notebook
    python -m dlcore.tools.outputs solutions/02_*.ipynb  # some

Outputs are the ones strict nbval then compares against, so they are only
ever written by this tool: widget state, timings and volatile metadata off.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dlcore.tools.notebooks import clean_metadata, coalesce_streams, execute_notebook, read_notebook, write_notebook


def solution_paths(arguments: list[str]) -> list[Path]:
    paths: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            paths.extend(sorted(path.glob("[0-9][0-9]*.ipynb")))
        elif path.suffix == ".ipynb" and path.exists():
            paths.append(path)
        else:
            raise SystemExit(f"outputs: {argument} is neither a notebook nor a folder of notebooks")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcore.tools.outputs", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="solution notebooks or folders of them")
    args = parser.parse_args(argv)
    from tqdm import tqdm

    paths = solution_paths(args.paths)
    bar = tqdm(paths, desc="executing", unit="notebook", leave=False)
    for path in bar:
        bar.set_postfix_str(path.name)
        nb = read_notebook(path)
        start = time.perf_counter()
        execute_notebook(nb, cwd=path.parent)
        clean_metadata(nb)
        coalesce_streams(nb)
        write_notebook(nb, path)
        bar.write(f"{path}: executed in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
