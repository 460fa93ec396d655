"""Chapter 10's committed sweep results (dlcore/models/results/ch10_comparisons.json) against a re-run slice."""

import numpy as np
import pytest
import torch

from dlcore.models import comparisons
from dlcore.models.comparisons import DEPTH_SETTINGS, LENET_DESIGNS, LENET_SETTINGS


@pytest.fixture(scope="module")
def results():
    return comparisons.load_results()


def test_results_cover_every_setting(results):
    lenet, depth = results["lenet"]["runs"], results["depth"]["runs"]
    for lr in LENET_SETTINGS["learning_rates"]:
        for design in LENET_DESIGNS:
            for init in ("default", "he"):
                accuracies = lenet[f"{lr}|{design}|{init}"]["test_accuracy"]
                assert len(accuracies) == len(LENET_SETTINGS["seeds"]) >= 3
                assert all(0.0 <= a <= 1.0 for a in accuracies)
    for blocks in DEPTH_SETTINGS["block_counts"]:
        for seed in DEPTH_SETTINGS["seeds"]:
            for net in ("plain", "residual"):
                record = depth[f"{blocks}|{seed}"][net]
                assert record["step"] == list(range(DEPTH_SETTINGS["eval_every"], DEPTH_SETTINGS["num_steps"] + 1,
                                                    DEPTH_SETTINGS["eval_every"]))
                assert len(record["train_error"]) == len(record["test_error"]) == len(record["step"])
    assert len(DEPTH_SETTINGS["seeds"]) >= 3


def test_one_lenet_run_reproduces_the_file(results):
    """Seed 0 of ReLU + max pool with PyTorch's default initialisation, lr 0.01, one epoch, float64."""
    stored = results["lenet"]["runs"]["0.01|ReLU + max pool|default"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run = comparisons.lenet_run("ReLU + max pool", "default", 0, 0.01)
    finally:
        torch.set_num_threads(threads)
    np.testing.assert_allclose(run["losses"][:10], stored["first_losses"], rtol=1e-9)
    assert abs(run["test_accuracy"] - stored["test_accuracy"][0]) <= 0.003


def test_the_first_depth_steps_reproduce_the_file(results):
    """The first training steps of seed 0's 8-layer plain and residual networks (float32: a loose tolerance)."""
    steps = DEPTH_SETTINGS["first_losses"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run = comparisons.depth_run(DEPTH_SETTINGS["block_counts"][0], 0, num_steps=steps, eval_every=steps)
    finally:
        torch.set_num_threads(threads)
    for net in ("plain", "residual"):
        stored = results["depth"]["runs"][f"{DEPTH_SETTINGS['block_counts'][0]}|0"][net]["first_losses"]
        np.testing.assert_allclose(run[net]["first_losses"], stored, rtol=0, atol=1e-2)  # float32: CPUs differ by ~1e-3


def test_he_init_and_argument_checks():
    model = comparisons.he_init(torch.nn.Sequential(torch.nn.Conv2d(4, 64, 5), torch.nn.Linear(400, 300)))
    conv, linear = model[0], model[1]
    assert float(conv.bias.detach().abs().sum()) == 0.0 and float(linear.bias.detach().abs().sum()) == 0.0
    assert abs(float(conv.weight.detach().std()) / np.sqrt(2 / 100) - 1) < 0.1
    assert abs(float(linear.weight.detach().std()) / np.sqrt(2 / 400) - 1) < 0.1
    with pytest.raises(ValueError, match="lenet_run: design must be one of"):
        comparisons.lenet_run("sigmoid", "default", 0, 0.01)
    with pytest.raises(ValueError, match="mnist_tensors: size must be 28 or 14"):
        comparisons.mnist_tensors(7)
