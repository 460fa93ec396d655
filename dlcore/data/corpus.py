"""An English text corpus for character models: the docstrings of NumPy's public functions (chapter 11).

NumPy is pinned (2.4.6), and its docstrings ship inside the package, so the corpus is the same text
wherever the course is installed, with no download: its SHA-256 is :data:`CORPUS_SHA256` and the tests
check it. It is built in a fixed order (the modules of :data:`MODULES` in turn, the public names of each
sorted) and cleaned so that it reads as prose:

- only the functions and ufuncs of :data:`MODULES` (classes and scalar types are left out: some of their
  docstrings name the platform, e.g. which C type ``numpy.intc`` is); an object reached under two names is
  taken once;
- of each docstring, the summary, the extended summary, the descriptions of parameters, return values and
  exceptions (without their "name : type" lines) and the "Notes" are kept; "See Also", "References",
  "Examples" and every other section are dropped, and so are any ``>>>`` / ``...`` lines, reST
  directives (``.. math::`` and their indented blocks), indented code, a ufunc's signature line, and
  paragraphs that are mostly symbols (formulas, tables, array printouts);
- reST markup is reduced to its text (```x``` and ``:func:`x``` become ``x``), each paragraph is joined
  into one line with single spaces, and a paragraph with a character outside :data:`CHARACTERS`
  (printable ASCII) is dropped;
- each paragraph is kept once (the ``out=`` / ``where=`` paragraphs of every ufunc would repeat otherwise);
- paragraphs are separated by one newline, docstrings by a blank line.

The docstrings are read by a fresh Python process, so that what the caller imported first cannot change
them (importing ``scipy.special`` appends a paragraph to ``numpy.sinc``'s). They are dedented with
``inspect.cleandoc`` first, so Python 3.13's compile-time dedenting gives
the same text. Under ``python -OO`` (docstrings stripped) the corpus cannot be built and a
``RuntimeError`` says so.

Public API: :func:`numpy_docs_corpus`, :func:`split_corpus` (training / held-out docstrings),
:func:`longest_shared_substring` (is a sample recited?), :func:`corpus_sha256`, :data:`CORPUS_SHA256`,
:data:`CORPUS_LENGTH`, :data:`CHARACTERS`.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import subprocess
import sys

__all__ = ["numpy_docs_corpus", "split_corpus", "longest_shared_substring", "corpus_sha256", "CORPUS_SHA256",
           "CORPUS_LENGTH", "CHARACTERS", "MODULES", "NUMPY_VERSION"]

NUMPY_VERSION = "2.4.6"
CORPUS_SHA256 = "53930a484cd18c3dea156177ff2b8f0386dbfff7c224e7141b342cd2c090596b"
CORPUS_LENGTH = 372_563
CHARACTERS = "\n" + "".join(chr(code) for code in range(32, 127))  # newline and printable ASCII

MODULES = ("numpy", "numpy.linalg", "numpy.fft", "numpy.random")
_KEPT_SECTIONS = {"", "notes"}  # "" is the text before the first heading: the summary
_TABLE_SECTIONS = {"parameters", "other parameters", "returns", "yields", "raises", "warns"}  # "name : type" lines
_SIGNATURE = re.compile(r"^[\w.]+\(.*\)(\s*->.*)?$")  # a ufunc's or C function's first line
_HEADING_RULE = re.compile(r"^-{3,}$")
_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`~?([^`<]*?)(?:\s*<[^>]*>)?`")  # :func:`x`, :ref:`text <label>`
_LITERAL = re.compile(r"`+([^`]*)`+")
_CHARACTER_SET = frozenset(CHARACTERS)


# Run in a fresh interpreter: the docstrings NumPy ships, whatever the calling process imported before.
# (Importing scipy.special, as scikit-learn does, appends a paragraph to numpy.sinc's docstring in the
# running process, so reading the docstrings in place made the text depend on the import order.)
_COLLECT = r"""
import importlib, json, sys, types
found, seen = [], set()
for module_name in json.loads(sys.argv[1]):
    module = importlib.import_module(module_name)
    for name in sorted(name for name in dir(module) if not name.startswith("_")):
        obj = getattr(module, name)
        if isinstance(obj, (type, types.ModuleType)) or not callable(obj) or type(obj).__name__ == "PytestTester":
            continue  # classes, submodules and the test runner
        if id(obj) not in seen:  # an object reached under two names is taken once
            seen.add(id(obj))
            found.append([module_name + "." + name, getattr(obj, "__doc__", None)])
json.dump(found, sys.stdout)
"""


def _public_docstrings() -> list[tuple[str, str | None]]:
    """(qualified name, docstring) for the public functions of :data:`MODULES`, names sorted, each object once,
    read by a fresh interpreter (``-I``: no user site, no PYTHONPATH; ``-OO`` passed on when this process has it)."""
    flags = ["-I"] + (["-OO"] if sys.flags.optimize >= 2 else [])
    result = subprocess.run([sys.executable, *flags, "-c", _COLLECT, json.dumps(MODULES)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"numpy_docs_corpus: reading NumPy's docstrings failed:\n{result.stderr.strip()}")
    return [(name, doc) for name, doc in json.loads(result.stdout)]


def _sections(doc: str):
    """Split a cleaned docstring into (heading in lower case, lines); the summary has heading ''."""
    lines = doc.splitlines()
    heading, current, out = "", [], []
    i = 0
    while i < len(lines):
        if i + 1 < len(lines) and lines[i].strip() and _HEADING_RULE.match(lines[i + 1].strip()):
            out.append((heading, current))
            heading, current = lines[i].strip().lower(), []
            i += 2
            continue
        current.append(lines[i])
        i += 1
    out.append((heading, current))
    return out


def _paragraphs(lines: list[str]):
    """Prose paragraphs of a section: drops doctest lines, directives with their blocks, tables, code."""
    paragraph, skipping = [], False
    for line in lines + [""]:
        stripped = line.strip()
        indented = line[:1] in (" ", "\t")
        if skipping and (indented or not stripped):
            continue  # inside a directive's or a code block's indented body
        skipping = False
        if stripped.startswith((">>>", "...", "..")) or stripped.endswith("::") or stripped.startswith("="):
            skipping = stripped.startswith("..") or stripped.endswith("::")
            if paragraph:
                yield paragraph
            paragraph = []
            continue
        if not stripped:
            if paragraph:
                yield paragraph
            paragraph = []
            continue
        if indented and not paragraph:
            skipping = True  # an indented block that starts a paragraph: code or a quoted table
            continue
        paragraph.append(stripped)


def _clean(paragraph: list[str]) -> str | None:
    text = " ".join(paragraph)
    text = _ROLE.sub(r"\1", text)
    text = _LITERAL.sub(r"\1", text)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) < 20 or not set(text) <= _CHARACTER_SET:
        return None
    if sum(char.isalpha() or char == " " for char in text) < 0.85 * len(text):
        return None  # a formula, a table or an array printout rather than a sentence
    return text


def numpy_docs_corpus(max_chars: int | None = None) -> str:
    """The cleaned docstrings of NumPy's public functions as one English text (see the module docstring).

    Args:
        max_chars: if given, return only the first ``max_chars`` characters (a positive int).

    Returns:
        A str over :data:`CHARACTERS`; the whole corpus has :data:`CORPUS_LENGTH` characters and SHA-256
        :data:`CORPUS_SHA256` under NumPy :data:`NUMPY_VERSION`.

    Raises:
        ValueError: ``max_chars`` is not a positive int.
        RuntimeError: docstrings are missing (``python -OO``).
    """
    if max_chars is not None and (isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1):
        raise ValueError(f"numpy_docs_corpus: max_chars must be a positive int or None, got {max_chars!r}")
    documents, seen = [], set()
    for _, doc in _public_docstrings():
        if not isinstance(doc, str) or not doc.strip():
            continue
        kept = []
        for heading, lines in _sections(inspect.cleandoc(doc)):
            if heading in _TABLE_SECTIONS:
                # keep the descriptions (indented), drop the "name : type" lines above them
                lines = [line[4:] if line.startswith("    ") else "" for line in lines]
            elif heading not in _KEPT_SECTIONS:
                continue
            elif heading == "" and lines and _SIGNATURE.match(lines[0].strip()):
                lines = lines[1:]
            for text in map(_clean, _paragraphs(lines)):
                if text and text not in seen:  # boilerplate (ufunc's out=, where=) and aliases: once
                    seen.add(text)
                    kept.append(text)
        if kept:
            documents.append("\n".join(kept))
    if not documents:
        raise RuntimeError("numpy_docs_corpus: NumPy's docstrings are missing (was Python run with -OO?)")
    text = "\n\n".join(documents) + "\n"
    return text if max_chars is None else text[:max_chars]


def split_corpus(text: str, every: int = 10) -> tuple[str, str]:
    """(training text, held-out text): every ``every``-th docstring (the 10th, 20th, ...) is held out.

    Whole docstrings are held out, so no held-out sentence is also in the training text (paragraphs
    are unique in the corpus).
    """
    if isinstance(every, bool) or not isinstance(every, int) or every < 2:
        raise ValueError(f"split_corpus: every must be an int >= 2, got {every!r}")
    documents = text.strip("\n").split("\n\n")
    held_out = [doc for index, doc in enumerate(documents) if index % every == every - 1]
    training = [doc for index, doc in enumerate(documents) if index % every != every - 1]
    return "\n\n".join(training) + "\n", "\n\n".join(held_out) + "\n"


def longest_shared_substring(sample: str, text: str) -> str:
    """The longest substring of ``sample`` that occurs in ``text`` (the first one, if there are ties).

    Used to check that a model's samples are not recited from its training text.
    """
    best = ""
    for start in range(len(sample)):
        length = len(best) + 1  # only a longer match can improve on the best so far
        while start + length <= len(sample) and sample[start:start + length] in text:
            best = sample[start:start + length]
            length += 1
    return best


def corpus_sha256(text: str) -> str:
    """SHA-256 of ``text`` encoded as UTF-8 (ASCII here), in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
