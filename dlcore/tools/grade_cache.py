"""Re-grading without re-running: grades cached by what they depend on.

A notebook's grade depends on the notebook's bytes, on the course's code and
data (the ``dlcore`` package: the checks, the references, the datasets, and
``pyproject.toml``, which pins the packages), and on the time limit. The cache
keys each grade by a hash of those three, so grading a class again after one
late submission runs one notebook; after any change to ``dlcore`` it runs them
all. A notebook submitted twice (two students, the same bytes) is run once.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from dlcore.tools.grade import NotebookGrade

__all__ = ["course_fingerprint", "GradeCache"]

ROOT = Path(__file__).resolve().parents[2]


def course_fingerprint(root: Path = ROOT) -> str:
    """A hash of every file of the ``dlcore`` package (code and data) and of ``pyproject.toml``."""
    digest = hashlib.sha256()
    package = root / "dlcore"
    files = sorted(path for path in package.rglob("*")
                   if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc")
    for path in files + [root / "pyproject.toml"]:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


class GradeCache:
    """A folder of grades, one JSON file per (notebook bytes, course, time limit)."""

    def __init__(self, folder: Path, timeout: float, fingerprint: str | None = None) -> None:
        self.folder = Path(folder)
        self.timeout = float(timeout)
        self.fingerprint = course_fingerprint() if fingerprint is None else fingerprint
        self.hits = 0

    def key(self, path: Path) -> str:
        digest = hashlib.sha256(Path(path).read_bytes())
        digest.update(f"\0{self.fingerprint}\0{self.timeout!r}".encode())
        return digest.hexdigest()

    def get(self, path: Path, student: str, notebook: str) -> NotebookGrade | None:
        """The cached grade of this notebook's content, under this student's name; None if not cached."""
        entry = self.folder / f"{self.key(path)}.json"
        if not entry.is_file():
            return None
        try:
            grade = NotebookGrade.from_json(json.loads(entry.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError):  # a damaged entry is a miss, and is overwritten
            return None
        grade.path, grade.student, grade.notebook = str(path), student, notebook
        self.hits += 1
        return grade

    def put(self, path: Path, grade: NotebookGrade) -> None:
        """Keep a completed grade. A notebook that timed out or whose kernel died is run again next time:
        that can depend on the machine's load, not only on the notebook."""
        if grade.status != "completed":
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        entry = self.folder / f"{self.key(path)}.json"
        temporary = entry.with_suffix(".tmp")
        temporary.write_text(json.dumps(grade.to_json(), ensure_ascii=False), encoding="utf-8")
        temporary.replace(entry)  # atomic: a concurrent reader sees the old entry or the new one
