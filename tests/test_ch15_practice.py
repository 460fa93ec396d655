"""Chapter 15: augmentation, transfer learning and hyperparameter search."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.errors import ShapeError
from dlcore.practice import augment, search
from dlcore.practice.common import accuracy, as_tensors, digits_split, fit, make_cnn, make_mlp
from dlcore.practice.transfer import fine_tune, make_transfer_task, pretrain


# ---------------------------------------------------------------- augmentation

def test_shift_moves_pixels_and_fills_with_zero():
    images = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    before = images.copy()
    out = augment.shift(images, np.array([1, 0]), np.array([0, -1]))
    np.testing.assert_array_equal(images, before)
    np.testing.assert_array_equal(out[0, 1:], images[0, :-1])
    np.testing.assert_array_equal(out[0, 0], 0)
    np.testing.assert_array_equal(out[1, :, :-1], images[1, :, 1:])
    np.testing.assert_array_equal(out[1, :, -1], 0)
    assert out.dtype == images.dtype


def test_random_augment_is_reproducible_label_preserving_in_kind_and_checked():
    images = digits_split().images_train[:5]
    a = augment.random_augment(images, np.random.default_rng(0))
    b = augment.random_augment(images, np.random.default_rng(0))
    np.testing.assert_array_equal(a, b)
    assert a.shape == images.shape and a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(augment.rotate(images, 0.0), images)
    np.testing.assert_array_equal(augment.flip_horizontal(augment.flip_horizontal(images)), images)
    with pytest.raises(ShapeError, match=r"shift: images has shape \(5, 64\); expected \(N, H, W\)"):
        augment.shift(images.reshape(5, 64), 1, 1)


# ---------------------------------------------------------------- training helpers and transfer

def test_fit_is_deterministic_and_leaves_the_global_generator_alone():
    split = digits_split()
    x, y = as_tensors(split.images_train[:200], split.y_train[:200])
    state = torch.random.get_rng_state()
    curves = [fit(make_mlp(seed=1), x, y, num_epochs=2, seed=4, evaluate=(x, y)) for _ in range(2)]
    assert curves[0] == curves[1]
    assert torch.equal(state, torch.random.get_rng_state())


def test_transfer_modes_train_the_right_parameters():
    task = make_transfer_task(digits_split(), per_class=2)
    assert len(task.target_y) == 10 and set(task.target_y.tolist()) == set(range(5))
    pretrained = pretrain(task, num_epochs=1)
    original = [p.detach().clone() for p in pretrained.parameters()]
    frozen, curve = fine_tune(pretrained, task, "frozen", num_epochs=2)
    assert len(curve) == 2
    assert all(torch.equal(a, b) for a, b in zip(list(frozen.parameters())[:-2], original[:-2]))
    full, _ = fine_tune(pretrained, task, "full", num_epochs=2)
    assert not torch.equal(list(full.parameters())[0], original[0])
    assert all(torch.equal(a, b) for a, b in zip(pretrained.parameters(), original))  # the pretrained net is untouched
    with pytest.raises(ValueError, match="mode must be one of"):
        fine_tune(pretrained, task, "partial")


# ---------------------------------------------------------------- search

def _toy_objective(config, num_epochs):
    """Best at learning_rate 1e-2, improves with epochs."""
    return -abs(np.log10(config["learning_rate"]) + 2) + 0.01 * num_epochs


def test_searches_record_every_trial_and_their_budget():
    grid = search.grid_search(_toy_objective, {"learning_rate": [1e-3, 1e-2, 1e-1], "hidden": [8, 64]}, num_epochs=3)
    assert len(grid) == 6 and search.epochs_spent(grid) == 18
    assert search.best_trial(grid).config["learning_rate"] == 1e-2
    randoms = search.random_search(_toy_objective, 5, 2, np.random.default_rng(0))
    assert len({t.config["learning_rate"] for t in randoms}) == 5
    halving = search.successive_halving(_toy_objective, 9, 1, np.random.default_rng(0), eta=3)
    assert [sum(t.rung == r for t in halving) for r in range(3)] == [9, 3, 1]
    assert [t.num_epochs for t in halving if t.rung == 2] == [9]
    assert search.epochs_spent(halving) == 9 * 1 + 3 * 3 + 1 * 9
    rung0 = sorted((t for t in halving if t.rung == 0), key=lambda t: -t.score)
    assert [t.config for t in rung0[:3]] == [t.config for t in halving if t.rung == 1]


def test_flip_probability_mirrors_about_that_share_of_images():
    images = np.tile(np.arange(4, dtype=np.float32)[None, None, :] / 4, (400, 4, 1))  # each row 0, .25, .5, .75
    out = augment.random_augment(images, np.random.default_rng(3), max_shift=0, max_degrees=0, noise_std=0,
                                 flip_probability=0.5)
    mirrored = np.all(out == images[:, :, ::-1], axis=(1, 2))
    assert np.all(mirrored | np.all(out == images, axis=(1, 2)))
    assert 0.4 < mirrored.mean() < 0.6


# ---------------------------------------------------------------- float64 models

def test_models_are_built_in_the_dtype_asked_for_and_bad_ones_are_named():
    for build in (make_mlp, make_cnn):
        assert {p.dtype for p in build(seed=0).parameters()} == {torch.float32}
        assert {p.dtype for p in build(seed=0, dtype=torch.float64).parameters()} == {torch.float64}
        with pytest.raises(ValueError, match=f"{build.__name__}: dtype must be torch.float32 or torch.float64"):
            build(dtype=torch.float16)
    weight = make_mlp(seed=0, dtype=torch.float64)[2].weight
    assert (weight.float().double() != weight).float().mean() > 0.9  # drawn in float64, not cast up
    with pytest.raises(ValueError, match="digits_objective: dtype must be torch.float32 or torch.float64"):
        search.digits_objective(torch.zeros(4, 64), torch.zeros(4, dtype=torch.int64), torch.zeros(2, 64),
                                torch.zeros(2, dtype=torch.int64), dtype=torch.int32)


def test_fit_and_accuracy_hand_float32_data_to_a_float64_model():
    split = digits_split()
    x, y = as_tensors(split.images_train[:200], split.y_train[:200])
    assert x.dtype == torch.float32
    double = make_mlp(seed=0, dtype=torch.float64)
    curve = fit(double, x, y, num_epochs=3, learning_rate=1e-2, evaluate=(x, y),
                augment=augment.tensor_augmenter((8, 8), np.random.default_rng(0), max_degrees=0.0, noise_std=0.0))
    assert len(curve) == 3 and curve[-1] == accuracy(double, x, y) > 0.3
    single = make_mlp(seed=0)
    fit(single, x, y, num_epochs=3, learning_rate=1e-2)
    assert next(single.parameters()).dtype == torch.float32 and 0 <= accuracy(single, x, y) <= 1


def test_transfer_keeps_the_pretrained_dtype():
    split = digits_split()
    task = make_transfer_task(split, per_class=1, seed=0)
    pretrained = pretrain(task, num_epochs=1, seed=0, dtype=torch.float64)
    for mode in ("frozen", "full", "scratch"):
        model, curve = fine_tune(pretrained, task, mode, num_epochs=1, seed=1)
        assert {p.dtype for p in model.parameters()} == {torch.float64} and len(curve) == 1
    with pytest.raises(ValueError, match="make_cnn: dtype must be"):
        pretrain(task, num_epochs=1, dtype=torch.bfloat16)


def test_fit_evaluates_every_nth_epoch_and_scratch_keeps_the_image_size():
    split = digits_split()
    x, y = as_tensors(split.images_train[:64], split.y_train[:64])
    curve = fit(make_mlp(seed=0), x, y, num_epochs=6, evaluate=(x, y), evaluate_every=3)
    assert len(curve) == 2
    task = make_transfer_task(split, per_class=1)
    pretrained = make_cnn(5, seed=0, image_size=8)
    model, curve = fine_tune(pretrained, task, "scratch", num_epochs=4, evaluate_every=2)
    assert len(curve) == 2 and model[0].unflattened_size == (1, 8, 8)
