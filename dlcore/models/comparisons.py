"""Chapter 10's two trained comparisons on real MNIST digits, as a sweep over seeds.

1. **LeNet-5 and its initialisation** (:func:`lenet_run`): LeNet-5 as in 1998 (tanh, average pooling)
   against LeNet-5 with AlexNet's ReLU and max pooling, each with PyTorch's default initialisation and
   with He (Kaiming) initialisation, one epoch of SGD with momentum on the 4,000 training digits, at two
   learning rates. Float64, so every CPU computes the same run.
2. **Plain against residual** (:func:`depth_run`): a plain :class:`~dlcore.models.resnet.SmallConvNet`
   and its residual twin at 8 and 26 layers with weights, trained long enough to see the *training*
   error settle (He et al.'s degradation is a statement about training error), on the digits reduced to
   14x14 by averaging 2x2 pixels (a quarter of the work of 28x28). Float32, for speed: the numbers
   below are what this machine computed; another CPU rounds differently and its runs end a little
   differently.

Neither fits a 30-second notebook for several seeds, so ``python -m dlcore.models.comparisons`` runs
both sweeps (about eight minutes of one CPU core) and writes ``dlcore/models/results/ch10_comparisons.json``,
which the notebook loads and prints. ``tests/test_ch10_comparisons.py`` re-runs a slice of each sweep
and checks it against the file.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dlcore.data.mnist import load_mnist
from dlcore.models.blocks import BasicBlock
from dlcore.models.lenet import LeNet5
from dlcore.models.resnet import plain_and_residual
from dlcore.results import read_results, write_results

__all__ = ["RESULTS", "LENET_DESIGNS", "LENET_SETTINGS", "DEPTH_SETTINGS", "he_init", "lenet_run", "depth_run",
           "mnist_tensors", "load_results", "run_sweeps"]

RESULTS = Path(__file__).with_name("results") / "ch10_comparisons.json"
LENET_DESIGNS = {"tanh + average pool": ("tanh", "avg"), "ReLU + max pool": ("relu", "max")}
LENET_SETTINGS = {"batch_size": 16, "momentum": 0.9, "learning_rates": (0.01, 0.05), "seeds": (0, 1, 2)}
DEPTH_SETTINGS = {"block_counts": (3, 12), "size": 14, "batch_size": 32, "learning_rate": 0.05, "momentum": 0.9,
                  "num_steps": 1000, "eval_every": 250, "seeds": (0, 1, 2), "first_losses": 10}


def he_init(model: nn.Module) -> nn.Module:
    """He et al. (2015) initialisation: every conv and linear weight N(0, 2 / fan_in), biases zero."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")  # std sqrt(2 / fan_in)
            nn.init.zeros_(module.bias)
    return model


def mnist_tensors(size: int = 28, dtype: torch.dtype = torch.float64) -> dict[str, torch.Tensor]:
    """The course's MNIST split as tensors: x_train (4000, 1, size, size), y_train, x_test, y_test.

    ``size`` 28 keeps the digits as they are, 14 averages each 2x2 block of pixels.
    """
    if size not in (14, 28):
        raise ValueError(f"mnist_tensors: size must be 28 or 14, got {size!r}")
    tensors = {}
    for part in ("train", "test"):
        X, y = load_mnist(part)
        x = torch.as_tensor(X[:, None], dtype=dtype)  # (N, 1, 28, 28)
        if size == 14:
            x = nn.functional.avg_pool2d(x, 2)  # (N, 1, 14, 14)
        tensors[f"x_{part}"], tensors[f"y_{part}"] = x, torch.as_tensor(y)
    return tensors


def _order(num_examples: int, num_steps: int, batch_size: int, seed: int) -> np.ndarray:
    """Example indices for ``num_steps`` mini-batches: a fresh shuffle of the whole set for every epoch."""
    rng = np.random.default_rng(seed)
    epochs = -(-num_steps * batch_size // num_examples)
    return np.concatenate([rng.permutation(num_examples) for _ in range(epochs)])


def _error(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Share of examples misclassified, in evaluation mode (batch norm uses its running statistics)."""
    model.eval()
    with torch.no_grad():
        wrong = sum(int((model(x[i:i + 500]).argmax(dim=1) != y[i:i + 500]).sum()) for i in range(0, len(x), 500))
    model.train()
    return wrong / len(x)


def lenet_run(design: str, init: str, seed: int, learning_rate: float, *, data: dict | None = None,
              num_steps: int | None = None) -> dict:
    """Train one LeNet-5 (28x28 input) for one epoch; return its test accuracy and training losses.

    Args:
        design: a key of :data:`LENET_DESIGNS`.
        init: "default" (PyTorch's) or "he" (:func:`he_init`).
        seed: the seed of the weights and of the order of the examples.
        learning_rate: of SGD with momentum 0.9, mini-batches of 16.
        data: :func:`mnist_tensors` in float64 (loaded if None).
        num_steps: fewer steps than one epoch (250), for tests.
    """
    if design not in LENET_DESIGNS or init not in ("default", "he"):
        raise ValueError(f"lenet_run: design must be one of {sorted(LENET_DESIGNS)} and init 'default' or 'he', "
                         f"got {design!r}, {init!r}")
    data = data if data is not None else mnist_tensors()
    x, y = data["x_train"], data["y_train"]
    batch_size = LENET_SETTINGS["batch_size"]
    steps = len(x) // batch_size if num_steps is None else num_steps
    activation, pooling = LENET_DESIGNS[design]
    torch.manual_seed(seed)
    model = LeNet5(input_size=28, activation=activation, pooling=pooling).double()
    if init == "he":
        he_init(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=LENET_SETTINGS["momentum"])
    order, losses = _order(len(x), steps, batch_size, seed), []
    for step in range(steps):
        batch = torch.as_tensor(order[step * batch_size:(step + 1) * batch_size])
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return {"test_accuracy": 1.0 - _error(model, data["x_test"], data["y_test"]), "losses": losses}


def depth_run(num_blocks: int, seed: int, *, data: dict | None = None, num_steps: int | None = None,
              eval_every: int | None = None, block: type[nn.Module] = BasicBlock) -> dict[str, dict]:
    """Train a plain SmallConvNet and its residual twin (same initial weights, same mini-batches).

    ``block``: the basic block class the networks are built from (chapter 10's exercise 10.4 builds one).

    Returns {"plain": ..., "residual": ...}, each with the training losses of the first steps
    (``first_losses``), and at every ``eval_every`` steps the error on the whole training set and on
    the test set (evaluation mode) and the mean training loss of the last ``eval_every`` steps.
    """
    s = DEPTH_SETTINGS
    data = data if data is not None else mnist_tensors(s["size"], torch.float32)
    x, y = data["x_train"], data["y_train"]
    steps = s["num_steps"] if num_steps is None else num_steps
    every = s["eval_every"] if eval_every is None else eval_every
    order = _order(len(x), steps, s["batch_size"], seed)
    nets = plain_and_residual(num_blocks, seed=seed, dtype=x.dtype, block=block)
    runs = {}
    for name, model in zip(("plain", "residual"), nets):
        optimizer = torch.optim.SGD(model.parameters(), lr=s["learning_rate"], momentum=s["momentum"])
        losses, record = [], {"step": [], "train_error": [], "test_error": [], "train_loss": []}
        for step in range(1, steps + 1):
            batch = torch.as_tensor(order[(step - 1) * s["batch_size"]:step * s["batch_size"]])
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if step % every == 0:
                record["step"].append(step)
                record["train_error"].append(_error(model, x, y))
                record["test_error"].append(_error(model, data["x_test"], data["y_test"]))
                record["train_loss"].append(float(np.mean(losses[-every:])))
        record["first_losses"] = losses[:s["first_losses"]]
        runs[name] = record
    return runs


def run_sweeps(parts: tuple[str, ...] = ("lenet", "depth"), path: Path = RESULTS) -> dict:
    """Run the sweeps named in ``parts`` and write (or update) the JSON file at ``path``."""
    torch.set_num_threads(1)  # small convolutions: one thread is as fast, and runs are reproducible
    results = read_results(path) if path.exists() else {}
    if "lenet" in parts:
        started, data, table = time.time(), mnist_tensors(), {}
        for lr in LENET_SETTINGS["learning_rates"]:
            for design in LENET_DESIGNS:
                for init in ("default", "he"):
                    runs = [lenet_run(design, init, seed, lr, data=data) for seed in LENET_SETTINGS["seeds"]]
                    table[f"{lr}|{design}|{init}"] = {"test_accuracy": [r["test_accuracy"] for r in runs],
                                                      "first_losses": runs[0]["losses"][:10]}
                    print(f"lr {lr}, {design}, {init}: " + ", ".join(f"{r['test_accuracy']:.3f}" for r in runs),
                          flush=True)
        results["lenet"] = {"settings": LENET_SETTINGS, "runs": table, "seconds": round(time.time() - started)}
    if "depth" in parts:
        started = time.time()
        data, table = mnist_tensors(DEPTH_SETTINGS["size"], torch.float32), {}
        for blocks in DEPTH_SETTINGS["block_counts"]:
            for seed in DEPTH_SETTINGS["seeds"]:
                table[f"{blocks}|{seed}"] = depth_run(blocks, seed, data=data)
                print(f"{blocks} blocks, seed {seed}: final training error plain "
                      f"{table[f'{blocks}|{seed}']['plain']['train_error'][-1]:.4f}, residual "
                      f"{table[f'{blocks}|{seed}']['residual']['train_error'][-1]:.4f}", flush=True)
        results["depth"] = {"settings": DEPTH_SETTINGS, "runs": table, "seconds": round(time.time() - started)}
    results["torch"] = torch.__version__
    write_results(results, path)
    return results


def load_results(path: Path = RESULTS) -> dict:
    """The committed results of :func:`run_sweeps`."""
    return read_results(path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", default=["lenet", "depth"], choices=["lenet", "depth"])
    run_sweeps(tuple(parser.parse_args().parts))
