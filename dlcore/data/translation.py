"""Toy translation tasks, generated offline, and the plumbing around them (chapter 12).

A "translation" here is any map from one string to another that a sequence-to-
sequence model can learn in seconds on a CPU:

- ``"reverse"``: ``"hello"`` -> ``"olleh"`` (every output symbol depends on one
  input symbol, far away in the sequence: the test of a fixed-size context);
- ``"sort"``: ``"dcab"`` -> ``"abcd"``;
- ``"dates"``: a date written by a human (``"3 March 2021"``, ``"Mar 3, 2021"``,
  ``"03/03/2021"``...) -> ISO 8601 (``"2021-03-03"``).

Models read characters. A :class:`Vocabulary` numbers them after three special
tokens: ``<pad>`` = 0 fills short sequences up to the batch's length, ``<sos>`` = 1
starts every target, ``<eos>`` = 2 ends it. :func:`encode_pairs` turns pairs of
strings into padded integer arrays:

    source (N, Ts)  = the characters, then <pad>s   (lengths: (N,))
    target (N, Tt)  = <sos>, the characters, <eos>, then <pad>s

Everything is NumPy and deterministic given the seed; torch never appears here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from dlcore.training.batches import index_batches

__all__ = [
    "PAD", "SOS", "EOS", "SPECIALS", "Vocabulary", "EncodedPairs", "TASKS", "make_pairs", "make_reversal",
    "make_sorting", "make_dates", "format_date", "DATE_FORMATS", "encode_pairs", "pad_sequences", "batches",
]

PAD, SOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<sos>", "<eos>")
LETTERS = "abcdefghijklmnopqrstuvwxyz"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


class Vocabulary:
    """Characters <-> integers, with <pad> = 0, <sos> = 1, <eos> = 2 first.

    >>> vocab = Vocabulary("abc")
    >>> vocab.encode("cab")
    [5, 3, 4]
    >>> vocab.decode([1, 5, 3, 2, 4])   # <sos> skipped, stops at <eos>
    'ca'
    """

    def __init__(self, characters: str | Sequence[str]) -> None:
        unique = sorted(set(characters))
        self.tokens: tuple[str, ...] = SPECIALS + tuple(unique)
        self.index = {token: i for i, token in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens: {''.join(self.tokens[len(SPECIALS):])!r} + {SPECIALS})"

    def __contains__(self, character: str) -> bool:
        return character in self.index and character not in SPECIALS

    def encode(self, text: str) -> list[int]:
        """The characters' numbers (no <sos>/<eos>); raises ValueError naming an unknown character."""
        unknown = sorted({c for c in text if c not in self})
        if unknown:
            raise ValueError(f"Vocabulary.encode: {unknown} not in the vocabulary "
                             f"{''.join(self.tokens[len(SPECIALS):])!r}")
        return [self.index[c] for c in text]

    def decode(self, ids: Sequence[int]) -> str:
        """Characters up to the first <eos>; <pad> and <sos> are skipped."""
        characters = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i in (PAD, SOS):
                continue
            characters.append(self.tokens[i])
        return "".join(characters)


# ---------------------------------------------------------------- the tasks

def _random_strings(rng: np.random.Generator, num_pairs: int, min_length: int, max_length: int,
                    alphabet: str) -> list[str]:
    if not 1 <= min_length <= max_length:
        raise ValueError(f"need 1 <= min_length <= max_length, got {min_length} and {max_length}")
    lengths = rng.integers(min_length, max_length + 1, size=num_pairs)
    letters = np.array(list(alphabet))
    return ["".join(letters[rng.integers(0, len(letters), size=n)]) for n in lengths]


def make_reversal(num_pairs: int, *, min_length: int = 3, max_length: int = 12, alphabet: str = LETTERS[:10],
                  seed: int | None = None, rng: np.random.Generator | None = None) -> list[tuple[str, str]]:
    """Pairs (s, s reversed) of random strings, lengths uniform in [min_length, max_length]."""
    rng = rng if rng is not None else np.random.default_rng(seed)
    return [(s, s[::-1]) for s in _random_strings(rng, num_pairs, min_length, max_length, alphabet)]


def make_sorting(num_pairs: int, *, min_length: int = 3, max_length: int = 12, alphabet: str = LETTERS[:10],
                 seed: int | None = None, rng: np.random.Generator | None = None) -> list[tuple[str, str]]:
    """Pairs (s, the characters of s in alphabetical order)."""
    rng = rng if rng is not None else np.random.default_rng(seed)
    return [(s, "".join(sorted(s))) for s in _random_strings(rng, num_pairs, min_length, max_length, alphabet)]


DATE_FORMATS = ("long", "short", "us", "slash", "dotted")


def format_date(date: datetime.date, style: str) -> str:
    """A date as a human would write it: 'long' 3 March 2021, 'short' 3 Mar 2021, 'us' March 3, 2021,
    'slash' 03/03/2021 (day first), 'dotted' 3.3.21 (day first, two-digit year)."""
    month = MONTHS[date.month - 1]
    if style == "long":
        return f"{date.day} {month} {date.year}"
    if style == "short":
        return f"{date.day} {month[:3]} {date.year}"
    if style == "us":
        return f"{month} {date.day}, {date.year}"
    if style == "slash":
        return f"{date.day:02d}/{date.month:02d}/{date.year}"
    if style == "dotted":
        return f"{date.day}.{date.month}.{date.year % 100:02d}"
    raise ValueError(f"format_date: unknown style {style!r}; choose one of {DATE_FORMATS}")


def make_dates(num_pairs: int, *, first_year: int = 1950, last_year: int = 2049, styles: Sequence[str] = DATE_FORMATS,
               seed: int | None = None, rng: np.random.Generator | None = None) -> list[tuple[str, str]]:
    """Pairs (a date in a random human style, the same date as YYYY-MM-DD), days uniform over the years.

    With the 'dotted' style the century is implied by the range: keep last_year - first_year < 100.
    """
    if not first_year <= last_year < first_year + 100:
        raise ValueError(f"make_dates: need first_year <= last_year < first_year + 100 (two-digit years must "
                         f"be unambiguous), got {first_year} and {last_year}")
    rng = rng if rng is not None else np.random.default_rng(seed)
    start = datetime.date(first_year, 1, 1).toordinal()
    stop = datetime.date(last_year, 12, 31).toordinal()
    days = rng.integers(start, stop + 1, size=num_pairs)
    chosen = rng.integers(0, len(styles), size=num_pairs)
    pairs = []
    for day, style in zip(days, chosen):
        date = datetime.date.fromordinal(int(day))
        pairs.append((format_date(date, styles[int(style)]), date.isoformat()))
    return pairs


TASKS = {"reverse": make_reversal, "sort": make_sorting, "dates": make_dates}


def make_pairs(task: str, num_pairs: int, **kwargs) -> list[tuple[str, str]]:
    """``make_pairs("reverse", 1000, seed=0)``: the pairs of one of :data:`TASKS`."""
    if task not in TASKS:
        raise ValueError(f"make_pairs: unknown task {task!r}; choose one of {list(TASKS)}")
    return TASKS[task](num_pairs, **kwargs)


# ---------------------------------------------------------------- integers, padding, batches

def pad_sequences(sequences: Sequence[Sequence[int]], pad: int = PAD, length: int | None = None) -> np.ndarray:
    """(N, T) int64 array of the sequences, each followed by ``pad`` up to T = the longest (or ``length``)."""
    longest = max((len(s) for s in sequences), default=0)
    length = longest if length is None else length
    if length < longest:
        raise ValueError(f"pad_sequences: length {length} is shorter than the longest sequence ({longest})")
    out = np.full((len(sequences), length), pad, dtype=np.int64)
    for i, sequence in enumerate(sequences):
        out[i, :len(sequence)] = sequence
    return out


@dataclass(frozen=True)
class EncodedPairs:
    """Pairs of strings as padded integer arrays (see the module docstring)."""

    source: np.ndarray  # (N, Ts) int64, <pad>-filled
    source_lengths: np.ndarray  # (N,) int64, the number of real characters
    target: np.ndarray  # (N, Tt) int64: <sos> y_1 ... y_n <eos> <pad>...
    source_vocab: Vocabulary
    target_vocab: Vocabulary

    def __len__(self) -> int:
        return len(self.source)

    def subset(self, index: np.ndarray) -> "EncodedPairs":
        """The examples at ``index``, trimmed to the longest of them (so a batch carries no all-<pad> column)."""
        lengths = self.source_lengths[index]
        target = self.target[index]
        target_length = int((target != PAD).sum(axis=1).max()) if len(index) else 0
        return EncodedPairs(self.source[index][:, :int(lengths.max(initial=0))], lengths,
                            target[:, :target_length], self.source_vocab, self.target_vocab)


def encode_pairs(pairs: Sequence[tuple[str, str]], source_vocab: Vocabulary | None = None,
                 target_vocab: Vocabulary | None = None) -> EncodedPairs:
    """Padded arrays of the pairs; vocabularies built from the pairs' characters unless given."""
    if source_vocab is None:
        source_vocab = Vocabulary("".join(s for s, _ in pairs))
    if target_vocab is None:
        target_vocab = Vocabulary("".join(t for _, t in pairs))
    sources = [source_vocab.encode(s) for s, _ in pairs]
    targets = [[SOS] + target_vocab.encode(t) + [EOS] for _, t in pairs]
    return EncodedPairs(pad_sequences(sources), np.array([len(s) for s in sources], dtype=np.int64),
                        pad_sequences(targets), source_vocab, target_vocab)


def batches(data: EncodedPairs, batch_size: int, *, rng: np.random.Generator | None = None) -> Iterator[EncodedPairs]:
    """Mini-batches of ``data`` (shuffled by ``rng`` if given), each trimmed to its own longest sequence."""
    if batch_size < 1:
        raise ValueError(f"batches: batch_size must be >= 1, got {batch_size}")
    for index in index_batches(len(data), batch_size, rng):
        yield data.subset(index)
