"""Chapter 07's committed sweep (dlcore/training/results/depth_sweep.json) against a re-run slice."""

import pytest

from dlcore.training import depth_sweep

pytestmark = pytest.mark.usefixtures("one_blas_thread")


@pytest.fixture(scope="module")
def results():
    return depth_sweep.load_results()


def test_results_cover_every_network_and_seed(results):
    assert results["settings"] == depth_sweep.SETTINGS
    assert results["seeds"] == list(depth_sweep.SEEDS) and len(results["seeds"]) >= 3
    assert list(results["runs"]) == list(depth_sweep.NETWORKS)
    epochs = depth_sweep.SETTINGS["num_epochs"]
    for name, runs in results["runs"].items():
        assert len(runs) == len(depth_sweep.SEEDS), name
        for run in runs:
            assert len(run["test_accuracy"]) == len(run["train_loss"]) == epochs, name
            assert all(0.0 <= a <= 1.0 for a in run["test_accuracy"]), name


def test_first_epoch_of_seed_0_reproduces(results):
    """One epoch of seed 0, for a network that trains and one that does not, against the stored first epoch."""
    data = depth_sweep.mnist_vectors()
    for name in ("20 layers, ReLU, He", "20 layers, ReLU, default"):
        rerun = depth_sweep.run_network(name, 0, num_epochs=1, data=data)
        stored = results["runs"][name][0]
        # the same seed and batch order: equal up to rounding differences between CPUs (one test digit = 0.001)
        assert abs(rerun["test_accuracy"][0] - stored["test_accuracy"][0]) <= 0.01, name
        assert abs(rerun["train_loss"][0] - stored["train_loss"][0]) <= 0.01, name


def test_unknown_network_is_named():
    with pytest.raises(ValueError, match="run_network: name must be one of"):
        depth_sweep.run_network("20 layers, swish", 0)
