"""Errors, seeding, data generators and the light import of dlcore."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import dlcore
from dlcore import data
from dlcore.errors import ShapeError, as_float_array, expect_ndim, expect_shape, format_shape
from dlcore.scratch import Linear, Module, ReLU, Sequential


# ---- errors ------------------------------------------------------------------

def test_shape_error_is_a_value_error():
    assert issubclass(ShapeError, ValueError)


def test_expect_shape_message_names_function_argument_and_both_shapes():
    with pytest.raises(ShapeError) as info:
        expect_shape("conv2d_forward", "w", np.zeros((8, 3, 3, 3)), (None, 1, None, None), "(F, C, kh, kw)", "C = x.shape[1] = 1")
    assert str(info.value) == (
        "conv2d_forward: w has shape (8, 3, 3, 3) but expected (F, C, kh, kw) = (*, 1, *, *) with C = x.shape[1] = 1"
    )


def test_expect_shape_accepts_wildcards():
    expect_shape("f", "x", np.zeros((2, 5)), (2, None))


def test_expect_ndim_message():
    with pytest.raises(ShapeError, match=r"f: x has shape \(3,\) \(1-D\) but expected a 2-D array \(N, D\)"):
        expect_ndim("f", "x", np.zeros(3), 2, "(N, D)")


def test_format_shape_of_one_axis_has_the_tuple_comma():
    assert format_shape((4,)) == "(4,)" and format_shape((2, None)) == "(2, *)"


@pytest.mark.parametrize("value, message", [
    (["a"], "must be numeric"),
    ([1 + 2j], "must be real"),
    ([[1, 2], [3]], "could not be turned into an array"),
])
def test_as_float_array_refuses_non_numbers(value, message):
    with pytest.raises(TypeError, match=message):
        as_float_array("f", "x", value)


def test_as_float_array_keeps_float32_and_converts_ints():
    assert as_float_array("f", "x", np.zeros(2, np.float32)).dtype == np.float32
    assert as_float_array("f", "x", [1, 2]).dtype == np.float64


# ---- seeding -------------------------------------------------------------------

def test_seed_everything_returns_a_reproducible_generator():
    a = dlcore.seed_everything(3).standard_normal(5)
    b = dlcore.seed_everything(3).standard_normal(5)
    np.testing.assert_array_equal(a, b)


def test_seed_everything_seeds_torch_when_imported():
    import torch

    dlcore.seed_everything(7)
    first = torch.rand(3)
    dlcore.seed_everything(7)
    assert torch.equal(first, torch.rand(3))
    assert torch.get_num_threads() == 2
    assert torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(False)


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_seed_everything_refuses_bad_seeds(seed, error):
    with pytest.raises(error, match="seed"):
        dlcore.seed_everything(seed)


def test_import_dlcore_touches_neither_torch_nor_matplotlib():
    code = "import sys, dlcore, dlcore.scratch, dlcore.gradcheck, dlcore.data; " \
           "print(sorted(m for m in ('torch', 'matplotlib', 'ipywidgets', 'sklearn') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ---- data ----------------------------------------------------------------------

GENERATORS = [data.make_moons, data.make_circles, data.make_spirals, data.make_blobs,
              lambda seed: data.make_xor(100, 0.1, seed=seed)]


@pytest.mark.parametrize("make", GENERATORS)
def test_generators_are_deterministic_and_well_formed(make):
    X1, y1 = make(seed=5)
    X2, y2 = make(seed=5)
    X3, _ = make(seed=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert X1.ndim == 2 and X1.shape[1] == 2 and X1.dtype == np.float64
    assert y1.shape == (len(X1),) and y1.dtype == np.int64
    assert len(np.unique(y1)) >= 2


def test_xor_truth_table():
    X, y = data.make_xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [0, 1, 1, 0]


def test_spirals_are_balanced():
    _, y = data.make_spirals(n_samples=300, n_classes=3, seed=0)
    assert np.bincount(y).tolist() == [100, 100, 100]


def test_generators_explain_bad_arguments():
    with pytest.raises(ValueError, match="make_moons: noise must be a finite number >= 0"):
        data.make_moons(noise=-1)
    with pytest.raises(ValueError, match="make_circles: factor must be in \\(0, 1\\)"):
        data.make_circles(factor=2)
    with pytest.raises(TypeError, match="make_spirals: pass seed="):
        data.make_spirals(seed=None)
    with pytest.raises(ValueError, match="n_samples must be an int >= 2"):
        data.make_moons(n_samples=1)


def test_noisy_function_and_split():
    x, y = data.make_noisy_function(20, noise=0.0, seed=0)
    np.testing.assert_allclose(y, np.sin(2 * np.pi * x))
    assert np.all(np.diff(x) >= 0)
    X_train, X_test, y_train, y_test = data.train_test_split(x[:, None], y, 0.25, seed=0)
    assert len(X_test) == 5 and len(X_train) == 15
    assert sorted(np.concatenate([X_train[:, 0], X_test[:, 0]])) == sorted(x)
    with pytest.raises(ValueError, match="X has 20 rows but y has 3"):
        data.train_test_split(x, y[:3])


def test_bundled_sets_load_offline():
    images, labels = data.load_digits()
    assert images.shape == (1797, 8, 8) and 0 <= images.min() and images.max() <= 1
    assert set(np.unique(labels)) == set(range(10))
    X, y = data.load_iris()
    assert X.shape == (150, 4) and y.shape == (150,)
    X, y = data.load_diabetes()
    assert X.shape == (442, 10)


# ---- module base ---------------------------------------------------------------

def test_sequential_refuses_non_modules_by_position():
    with pytest.raises(TypeError, match="Sequential: layer 1 is a function, expected a dlcore scratch Module"):
        Sequential(ReLU(), lambda x: x)


def test_train_and_eval_reach_every_layer(rng):
    model = Sequential(Linear(2, 3, rng=rng), ReLU())
    model.eval()
    assert not model.training and all(not layer.training for layer in model.layers)
    model.train()
    assert all(layer.training for layer in model.layers)


def test_parameter_gradient_shape_is_enforced(rng):
    layer = Linear(2, 3, rng=rng)
    with pytest.raises(ShapeError, match=r"gradient for b has shape \(1, 3\) but the parameter has shape \(3,\)"):
        layer.b.accumulate(np.zeros((1, 3)))


def test_base_module_says_what_to_implement():
    with pytest.raises(NotImplementedError, match="Module must implement forward"):
        Module()(np.zeros(1))
