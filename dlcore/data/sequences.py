"""Sequence tasks for recurrent networks, all generated offline (chapter 11).

Every generator returns examples first, like the rest of dlcore.data:
X is (N, T, D) (batch first). Recurrent layers in dlcore.scratch and PyTorch's
nn.RNN/LSTM/GRU (default batch_first=False) read (T, N, D): transpose with
``X.transpose(1, 0, 2)`` (NumPy) or ``X.transpose(0, 1)`` (PyTorch).

- :func:`make_parity`: bit sequences and their running parity (XOR of all bits so far).
- :func:`make_adding_problem`: add the two values marked in a long sequence
  (Hochreiter and Schmidhuber's long-range test).
- :func:`make_sine_waves`: predict the next value of sine waves of random frequency and phase.
- :func:`zen_of_python`: a character corpus that ships with Python itself.
"""

from __future__ import annotations

import ast
import codecs
import importlib.util

import numpy as np

from dlcore.errors import expect_int

__all__ = ["make_parity", "make_adding_problem", "make_sine_waves", "zen_of_python", "ZEN_SHA256",
           "build_vocabulary", "encode", "decode", "make_char_windows"]


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _positive(func: str, name: str, value, minimum: int = 1) -> int:
    return expect_int(func, name, value, minimum)


def make_parity(num_samples: int, seq_len: int, *, seed: int | np.random.Generator | None = 0):
    """Random bits and their running parity: y_t = x_1 XOR x_2 XOR ... XOR x_t.

    The last target y_T is the parity of the whole sequence; T = 2 is XOR of two bits.

    Returns:
        X (N, T, 1) float64 of 0s and 1s, y (N, T) int64 of 0s and 1s.
    """
    N = _positive("make_parity", "num_samples", num_samples)
    T = _positive("make_parity", "seq_len", seq_len)
    bits = _rng(seed).integers(0, 2, size=(N, T))
    return bits[:, :, None].astype(np.float64), np.cumsum(bits, axis=1) % 2  # (N, T) -> (N, T, 1)


def make_adding_problem(num_samples: int, seq_len: int, *, seed: int | np.random.Generator | None = 0):
    """The adding problem: channel 0 holds U(0, 1) values, channel 1 marks two of them; y = their sum.

    One marker lies in the first half, the other in the second half, so the
    network must carry the first value across at least T/2 steps. Predicting
    the mean, 1, gives mean squared error 1/6 ~ 0.167: the baseline to beat.

    Returns:
        X (N, T, 2) float64, y (N,) float64.
    """
    N = _positive("make_adding_problem", "num_samples", num_samples)
    T = _positive("make_adding_problem", "seq_len", seq_len, minimum=2)
    rng = _rng(seed)
    values = rng.random((N, T))
    first = rng.integers(0, T // 2, size=N)
    second = rng.integers(T // 2, T, size=N)
    markers = np.zeros((N, T))
    markers[np.arange(N), first] = 1.0
    markers[np.arange(N), second] = 1.0
    y = values[np.arange(N), first] + values[np.arange(N), second]
    return np.stack([values, markers], axis=2), y  # (N, T, 2)


def make_sine_waves(num_samples: int, seq_len: int, *, seed: int | np.random.Generator | None = 0):
    """Sine waves sin(w t + phase), w ~ U(0.1, 0.5) rad per step; the target is the next value.

    Returns:
        X (N, T, 1) the values at t = 0..T-1, y (N, T, 1) the values at t = 1..T (float64).
    """
    N = _positive("make_sine_waves", "num_samples", num_samples)
    T = _positive("make_sine_waves", "seq_len", seq_len)
    rng = _rng(seed)
    omega = rng.uniform(0.1, 0.5, size=(N, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(N, 1))
    wave = np.sin(omega * np.arange(T + 1) + phase)  # (N, T + 1)
    return wave[:, :-1, None], wave[:, 1:, None]  # (N, T) -> (N, T, 1)


# The text's SHA-256 (UTF-8): the same in every CPython 3 release (this.py has not changed since 2.x).
ZEN_SHA256 = "e250f274f33b9b621a04264025d50e5fb9b1f989f444d13bb373882e734e996f"


def zen_of_python() -> str:
    """The Zen of Python, decoded from the standard library's ``this`` module, without importing it.

    ``import this`` would print the text; instead the module's source is read,
    its ROT13-encoded string ``s`` extracted with ``ast`` and decoded. The
    module ships with every CPython and its text is identical across 3.x
    releases, so a character model trained on it gives the same results
    everywhere (the tests pin the text's SHA-256, :data:`ZEN_SHA256`).

    Returns:
        The 19 aphorisms with the title line, 856 characters, newline-separated.
    """
    spec = importlib.util.find_spec("this")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("zen_of_python: the standard library module 'this' is missing from this Python")
    with open(spec.origin, encoding="utf-8") as file:
        tree = ast.parse(file.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["s"]:
            return codecs.decode(node.value.value, "rot13")
    raise ValueError("zen_of_python: the module 'this' no longer defines the string s")


def build_vocabulary(text: str) -> str:
    """The distinct characters of ``text``, sorted: character k has index k."""
    if not isinstance(text, str) or not text:
        raise ValueError("build_vocabulary: text must be a non-empty str")
    return "".join(sorted(set(text)))


def encode(text: str, vocabulary: str) -> np.ndarray:
    """(len(text),) int64 indices of the characters in ``vocabulary``; raises ValueError for unknown ones."""
    lookup = {char: index for index, char in enumerate(vocabulary)}
    unknown = sorted(set(text) - set(lookup))
    if unknown:
        raise ValueError(f"encode: characters {unknown!r} are not in the vocabulary")
    return np.array([lookup[char] for char in text], dtype=np.int64)


def decode(indices, vocabulary: str) -> str:
    """The inverse of :func:`encode`."""
    return "".join(vocabulary[int(index)] for index in np.asarray(indices).reshape(-1))


def make_char_windows(ids: np.ndarray, seq_len: int, num_samples: int, *,
                      seed: int | np.random.Generator | None = 0):
    """Random windows of an encoded text for next-character prediction.

    Returns:
        x (N, T) int64 and y (N, T) int64 with y[:, t] = the character after x[:, t].
    """
    T = _positive("make_char_windows", "seq_len", seq_len)
    N = _positive("make_char_windows", "num_samples", num_samples)
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.size < T + 1:
        raise ValueError(f"make_char_windows: ids must be 1-D with at least seq_len + 1 = {T + 1} entries, "
                         f"got shape {ids.shape}")
    starts = _rng(seed).integers(0, ids.size - T, size=N)
    windows = ids[starts[:, None] + np.arange(T + 1)]  # (N, T + 1)
    return windows[:, :-1], windows[:, 1:]
