"""Does greedy pretraining make a deep sigmoid network trainable? A multi-seed sweep (chapter 13).

    python -m dlcore.training.dbn_sweep     # about a minute; rewrites results/dbn_sweep.json

The setting of chapter 13, section 6: the 8x8 scikit-learn digits (1,497 for training, 300
for testing, ``train_test_split(..., seed=0)``), a DBN 64-100-100-50 pretrained by CD-1 on
all 1,497 training images without labels, then fine-tuned as a classifier on 100 labelled
images (the first ten of each class) with SGD (learning rate 0.1, momentum 0.9, batches of
20). Against it, the same sigmoid architecture from two random initialisations (the
course's default U(+-1/sqrt(fan_in)) and Glorot's), and a ReLU network with He
initialisation. Each of three seeds redraws the pretraining, the initial weights and the
batch order; every network is fine-tuned for 3,000 steps, and the test accuracy is recorded
after 300, 1,000 and 3,000 steps. The chapter loads the results file and prints it;
``tests/test_ch13_rbm.py`` re-runs one seed on a shortened schedule against it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlcore.results import read_results, write_results
from dlcore.scratch.dbn import DBN, sigmoid_classifier
from dlcore.scratch.optim import SGD

__all__ = ["NETWORKS", "CHECKPOINTS", "SEEDS", "RESULTS_PATH", "digits_setting", "run_seed", "load_results", "main"]

NETWORKS = ("DBN-pretrained sigmoid", "sigmoid, uniform 1/sqrt(fan_in) init", "sigmoid, Glorot init",
            "ReLU, He init")
CHECKPOINTS = (300, 1000, 3000)  # fine-tuning steps at which the test accuracy is recorded
SEEDS = (0, 1, 2)
SIZES = (64, 100, 100, 50)
LABELS_PER_CLASS = 10
BATCH_SIZE = 20
RESULTS_PATH = Path(__file__).with_name("results") / "dbn_sweep.json"


def digits_setting():
    """(X_train, y_train, X_test, y_test, labelled indices): the chapter's 8x8 digits and its 100 labels."""
    from dlcore.data import load_digits, train_test_split

    images, labels = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(images.reshape(len(images), -1), labels,
                                                        test_fraction=300 / 1797, seed=0)
    labelled = np.concatenate([np.flatnonzero(y_train == digit)[:LABELS_PER_CLASS] for digit in range(10)])
    return X_train, y_train, X_test, y_test, labelled


def _networks(seed: int, X_train: np.ndarray, *, pretrain_epochs: int) -> dict:
    from dlcore.training import scratch_mlp

    dbn = DBN(SIZES, rng=np.random.default_rng([seed, 1]))
    dbn.pretrain(X_train, num_epochs=pretrain_epochs, batch_size=20, learning_rate=0.1,
                 rng=np.random.default_rng([seed, 2]))
    init_rng = [seed, 3]
    return {
        NETWORKS[0]: dbn.to_classifier(10, rng=np.random.default_rng(init_rng)),
        NETWORKS[1]: sigmoid_classifier(SIZES, 10, rng=np.random.default_rng(init_rng)),
        NETWORKS[2]: sigmoid_classifier(SIZES, 10, rng=np.random.default_rng(init_rng), init="glorot"),
        NETWORKS[3]: scratch_mlp(64, 10, hidden=100, depth=3, rng=np.random.default_rng(init_rng)),
    }


def run_seed(seed: int, *, checkpoints=CHECKPOINTS, pretrain_epochs: int = 10,
             names=NETWORKS) -> dict[str, list[float]]:
    """Test accuracy of each network in ``names`` after each number of fine-tuning steps in ``checkpoints``, for one seed."""
    from dlcore.training import train

    X_train, y_train, X_test, y_test, labelled = digits_setting()
    steps_per_epoch = len(labelled) // BATCH_SIZE
    if any(step % steps_per_epoch for step in checkpoints):
        raise ValueError(f"run_seed: checkpoints must be multiples of {steps_per_epoch} steps, got {checkpoints}")
    results = {}
    for name, net in _networks(seed, X_train, pretrain_epochs=pretrain_epochs).items():
        if name not in names:
            continue
        history = train(net, SGD(net.parameters(), lr=0.1, momentum=0.9), X_train[labelled], y_train[labelled],
                        loss="softmax_cross_entropy", num_epochs=max(checkpoints) // steps_per_epoch,
                        batch_size=BATCH_SIZE, rng=np.random.default_rng([seed, 4]), validation=(X_test, y_test),
                        record_every=10 ** 9)
        results[name] = [round(float(history.val_accuracy[step // steps_per_epoch - 1]), 4) for step in checkpoints]
    return results


def load_results(path: Path = RESULTS_PATH) -> dict:
    """The stored sweep: {"checkpoints": [...], "seeds": [...], "accuracy": {network: [[per checkpoint] per seed]}}."""
    return read_results(path)


def main() -> int:
    runs = [run_seed(seed) for seed in SEEDS]
    results = {"checkpoints": list(CHECKPOINTS), "seeds": list(SEEDS),
               "accuracy": {name: [run[name] for run in runs] for name in NETWORKS}}
    print(f"wrote {write_results(results, RESULTS_PATH, indent=1)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
