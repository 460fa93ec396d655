"""Which deep MLPs train on real digits? A multi-seed sweep (chapter 07, sections 3 and 5).

    python -m dlcore.training.depth_sweep     # two to three minutes; rewrites results/depth_sweep.json

Chapter 07 trains its deep networks live on the 2-D spirals, one initialisation each, with the
learner's own initialisation: quick enough to watch, too small and too few to prove a point. This
sweep repeats the two comparisons on the course's MNIST split (4,000 training digits flattened to
784 inputs, 1,000 test digits), three seeds each, for 1,000 steps (8 epochs):

1. **Initialisation** (section 3): 20 hidden layers of 32 units with ReLU and PyTorch's default
   scale, ReLU and Xavier, sigmoid and Xavier, tanh and Xavier, ReLU and He.
2. **Residual connections** (section 5): 30 hidden layers of 32 ReLU units, plain and residual
   with PyTorch's default scale, and plain with He.

Every network is a :func:`~dlcore.training.scratch_mlp` trained by the chapter's loop
(:func:`~dlcore.training.train`) with SGD, momentum 0.9, learning rate 0.01 and batches of 32, as
in the chapter. A seed draws the initial weights and the batch order. After every epoch the
sweep records the training loss (all 4,000 digits, evaluation mode) and the test accuracy; it
also records the first layer's median update-to-weight ratio over the run. Float64, so runs
repeat exactly on a given CPU; ``tests/test_ch07_depth_sweep.py`` re-runs one epoch of seed 0
against the file.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from dlcore.results import read_results, write_results

__all__ = ["NETWORKS", "SEEDS", "SETTINGS", "RESULTS_PATH", "mnist_vectors", "run_network", "load_results", "main"]

# name -> (activation, init, hidden layers, residual)
NETWORKS = {
    "20 layers, ReLU, default": ("relu", "default", 20, False),
    "20 layers, ReLU, Xavier": ("relu", "xavier", 20, False),
    "20 layers, sigmoid, Xavier": ("sigmoid", "xavier", 20, False),
    "20 layers, tanh, Xavier": ("tanh", "xavier", 20, False),
    "20 layers, ReLU, He": ("relu", "he", 20, False),
    "30 layers, plain, default": ("relu", "default", 30, False),
    "30 layers, residual, default": ("relu", "default", 30, True),
    "30 layers, plain, He": ("relu", "he", 30, False),
}
SEEDS = (0, 1, 2)
SETTINGS = {"hidden": 32, "learning_rate": 0.01, "momentum": 0.9, "batch_size": 32, "num_epochs": 8,
            "record_every": 25}
RESULTS_PATH = Path(__file__).with_name("results") / "depth_sweep.json"


def mnist_vectors() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train (4000, 784), y_train, X_test (1000, 784), y_test): the course's MNIST split, float64 in [0, 1]."""
    from dlcore.data import load_mnist

    X_train, y_train = load_mnist("train")
    X_test, y_test = load_mnist("test")
    return X_train.reshape(len(X_train), -1), y_train, X_test.reshape(len(X_test), -1), y_test


def run_network(name: str, seed: int, *, num_epochs: int | None = None, data=None) -> dict:
    """Train one network of :data:`NETWORKS` from one seed; its per-epoch record.

    Returns {"train_loss": [...], "test_accuracy": [...]} (one entry per epoch) and
    "update_ratio": the first layer's median ||dW|| / ||W|| over the recorded steps.
    """
    from dlcore.scratch.optim import SGD
    from dlcore.training import scratch_mlp, train

    if name not in NETWORKS:
        raise ValueError(f"run_network: name must be one of {list(NETWORKS)}, got {name!r}")
    activation, init, depth, residual = NETWORKS[name]
    X_train, y_train, X_test, y_test = mnist_vectors() if data is None else data
    net = scratch_mlp(X_train.shape[1], 10, hidden=SETTINGS["hidden"], depth=depth, activation=activation, init=init,
                      residual=residual, rng=np.random.default_rng(seed))
    optimizer = SGD(net.parameters(), lr=SETTINGS["learning_rate"], momentum=SETTINGS["momentum"])
    with np.errstate(all="ignore"):  # a network that diverges says so in its history
        history = train(net, optimizer, X_train, y_train, loss="softmax_cross_entropy",
                        num_epochs=SETTINGS["num_epochs"] if num_epochs is None else num_epochs,
                        batch_size=SETTINGS["batch_size"], drop_last=True, validation=(X_test, y_test),
                        rng=np.random.default_rng([seed, 1]), record_every=SETTINGS["record_every"])
    first_layer = history.series("update_ratio")[:, 0]
    return {"train_loss": [round(float(v), 6) for v in history.epoch_loss],
            "test_accuracy": [round(float(v), 4) for v in history.val_accuracy],
            "update_ratio": float(f"{np.nanmedian(first_layer):.3g}")}


def load_results(path: Path = RESULTS_PATH) -> dict:
    """The stored sweep: {"settings", "seeds", "steps_per_epoch", "runs": {network: [record per seed]}}."""
    return read_results(path)


def main() -> int:
    from dlcore.seeding import seed_everything

    seed_everything(0, threads=1)  # one BLAS thread, as in the chapter: small matrices run faster
    data = mnist_vectors()
    runs = {}
    for name in NETWORKS:
        start = time.perf_counter()
        runs[name] = [run_network(name, seed, data=data) for seed in SEEDS]
        accuracies = ", ".join(f"{run['test_accuracy'][-1]:.3f}" for run in runs[name])
        print(f"{name:<30} test accuracy {accuracies}  ({time.perf_counter() - start:.0f} s)")
    results = {"settings": SETTINGS, "seeds": list(SEEDS),
               "steps_per_epoch": len(data[0]) // SETTINGS["batch_size"], "runs": runs}
    print(f"wrote {write_results(results, RESULTS_PATH, indent=1)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
