"""Chapter 15: the committed multi-seed results (dlcore/practice/results/mnist_sweep.json) match a re-run of seed 0."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.practice import sweep


@pytest.fixture(scope="module")
def results():
    return sweep.load_results()


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_the_file_holds_every_experiment_for_every_seed(results):
    n = len(sweep.SEEDS)
    assert set(results["augmentation"]) == set(sweep.AUGMENTATIONS)
    assert all(len(runs) == n for runs in results["augmentation"].values())
    runs = results["compression"]["runs"]
    assert len(runs) == n and results["compression"]["sparsities"] == list(sweep.SPARSITIES)
    assert all(len(run["global"]) == len(sweep.SPARSITIES) and len(run["weight bits"]) == len(sweep.BITS) for run in runs)
    assert all(len(seeds) == n for seeds in results["distillation"].values())
    for modes in results["transfer"].values():
        assert all(len(curve) == n for mode in modes.values() for curve in mode.values())
    assert len(results["search"]) == n
    values = [v for run in runs for v in run["global"]]
    assert all(0.0 <= v <= 1.0 for v in values)


def test_compression_seed_0_matches_the_file(results):
    rerun = sweep.compression_run(0)
    stored = results["compression"]["runs"][0]
    for key in ("float64", "int8 (symmetric input)"):
        assert rerun[key] == pytest.approx(stored[key], abs=1e-4)
    for key in ("global", "layer-wise", "weight bits"):
        np.testing.assert_allclose(rerun[key], stored[key], atol=1e-4)


def test_augmentation_seed_0_matches_the_file(results):
    for name in ("none", "shifts"):
        rerun, stored = sweep.augmentation_run(0, name), results["augmentation"][name][0]
        assert rerun == pytest.approx(stored, abs=1e-4)


def test_distillation_with_500_labels_seed_0_matches_the_file(results):
    rerun = sweep.distillation_run(0, sweep.train_teacher(), num_labelled=500)
    assert rerun == pytest.approx(results["distillation"]["500 labels"][0], abs=1e-4)


def test_search_seed_0_matches_the_file(results):
    assert sweep.search_run(0) == pytest.approx(results["search"][0], abs=1e-4)


def test_spread_formats_mean_and_range():
    assert sweep.spread([0.5, 0.7, 0.6]) == "0.600 (0.500-0.700)"


def test_transfer_with_one_label_per_class_draw_0_matches_the_file(results):
    rerun = sweep.transfer_runs(1, draws=(0,))
    stored = results["transfer"]["1 per class"]
    for mode, curves in rerun.items():
        for epoch, values in curves.items():
            assert values[0] == pytest.approx(stored[mode][epoch][0], abs=1e-4)
