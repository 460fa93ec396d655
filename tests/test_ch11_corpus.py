"""The pinned English corpus of chapter 11's character model (dlcore.data.corpus)."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.data.corpus import (CHARACTERS, CORPUS_LENGTH, CORPUS_SHA256, NUMPY_VERSION, corpus_sha256,
                                longest_shared_substring, numpy_docs_corpus, split_corpus)


@pytest.fixture(scope="module")
def corpus() -> str:
    return numpy_docs_corpus()


def test_numpy_is_the_pinned_version():
    assert np.__version__ == NUMPY_VERSION


def test_hash_and_size_are_pinned(corpus):
    assert len(corpus) == CORPUS_LENGTH
    assert corpus_sha256(corpus) == CORPUS_SHA256
    assert len(corpus) > 300_000  # far more text than a 64-unit LSTM can memorise


def test_the_corpus_is_deterministic_and_sliceable(corpus):
    assert numpy_docs_corpus() == corpus
    assert numpy_docs_corpus(max_chars=1000) == corpus[:1000]
    for bad in (0, -5, 2.5, True, "10"):
        with pytest.raises(ValueError, match="max_chars"):
            numpy_docs_corpus(max_chars=bad)


def test_only_the_fixed_character_set(corpus):
    assert set(corpus) <= set(CHARACTERS)
    assert corpus.isascii()


def test_code_examples_and_tables_are_filtered_out(corpus):
    assert ">>>" not in corpus
    assert not any(line.startswith("...") for line in corpus.splitlines())
    assert "Examples\n--------" not in corpus and "Parameters\n" not in corpus
    assert "----" not in corpus and ".. math::" not in corpus and ":func:`" not in corpus
    assert "array_like, optional" not in corpus  # the "name : type" lines of parameter tables
    assert "  " not in corpus  # whitespace normalised: single spaces


def test_it_reads_as_english(corpus):
    assert corpus.startswith("Calculate the absolute value element-wise.\n")
    assert "Compute the arithmetic mean along the specified axis." in corpus
    assert "Input array." in corpus  # a parameter's description is kept
    words = corpus.split()
    assert words.count("the") > 0.04 * len(words)
    paragraphs = corpus.split("\n")
    kept = [p for p in paragraphs if p]
    assert len(kept) == len(set(kept))  # each paragraph once (no ufunc boilerplate repeated)


def test_split_holds_out_whole_docstrings(corpus):
    training, held_out = split_corpus(corpus)
    assert 0.08 < len(held_out) / len(corpus) < 0.12
    held_paragraphs = set(held_out.split("\n")) - {""}
    assert not held_paragraphs & set(training.split("\n"))
    with pytest.raises(ValueError, match="every"):
        split_corpus(corpus, every=1)


def test_longest_shared_substring():
    assert longest_shared_substring("xx the cat yy", "a cat sat on the mat") == " the "
    assert longest_shared_substring("abc", "xyz") == ""
    assert longest_shared_substring("Return the sum", "Return the sum of") == "Return the sum"


def test_the_corpus_does_not_depend_on_what_was_imported_first():
    """scipy.special (imported by scikit-learn) appends a paragraph to numpy.sinc's docstring in the running
    process; the corpus reads the docstrings in a fresh interpreter, so its text stays pinned."""
    import numpy as np
    import scipy.special  # noqa: F401

    from dlcore.data.corpus import CORPUS_SHA256, corpus_sha256, numpy_docs_corpus

    assert "Array API" in (np.sinc.__doc__ or "")  # the running process's docstring has changed
    assert corpus_sha256(numpy_docs_corpus()) == CORPUS_SHA256
