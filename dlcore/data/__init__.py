"""Offline datasets: the course's own generators and scikit-learn's bundled sets.

Nothing here touches the network. Every generator takes an explicit
``rng`` (a NumPy Generator) or an integer ``seed`` and is deterministic given it.
"""

from dlcore.data.bundled import load_diabetes, load_digits, load_iris
from dlcore.data.glyphs import make_digits28
from dlcore.data.idx import load_idx_dataset
from dlcore.data.synthetic import (
    make_blobs,
    make_circles,
    make_moons,
    make_noisy_function,
    make_spirals,
    make_xor,
    train_test_split,
)

__all__ = [
    "load_diabetes", "load_digits", "load_iris", "load_idx_dataset", "make_blobs", "make_circles", "make_digits28", "make_moons",
    "make_noisy_function", "make_spirals", "make_xor", "train_test_split",
]
