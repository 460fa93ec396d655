"""Chapter 08: the playground's logic (dlcore.training.playground_model) and the Playground explorer's callbacks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from dlcore.errors import ShapeError
from dlcore.training.playground_model import (DATASETS, PlaygroundSession, boundary_grid, build_mlp, check_model,
                                              first_layer_maps, make_playground_data)
from dlcore.widgets.playground import GRID, MAP_GRID, Playground
from tests.helpers import figure_finite


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def state_finite(state) -> bool:
    return (np.all(np.isfinite(state.grid)) and np.isfinite(state.train_loss) and np.isfinite(state.test_loss)
            and (state.maps is None or np.all(np.isfinite(state.maps))))


# ---------------------------------------------------------------- logic

@pytest.mark.parametrize("name", DATASETS)
def test_every_dataset_is_two_balanced_classes_in_the_plot(name):
    data = make_playground_data(name, noise=0.1, n_samples=200, seed=0)
    assert data.x_train.shape == (100, 2) and data.x_test.shape == (100, 2)
    assert set(np.unique(np.concatenate([data.y_train, data.y_test]))) == {0, 1}
    assert np.abs(np.concatenate([data.x_train, data.x_test])).max() < 2.5
    again = make_playground_data(name, noise=0.1, n_samples=200, seed=0)
    assert np.array_equal(data.x_train, again.x_train)


def test_dataset_errors_and_noise_clipping():
    with pytest.raises(ValueError, match="must be one of"):
        make_playground_data("mnist")
    assert make_playground_data("moons", noise=7.0).noise == 0.5


def test_build_mlp_is_deterministic_and_keeps_global_rng():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a = build_mlp(3, 5, "relu", seed=4)
    assert torch.equal(torch.rand(1), expected_next)  # the global generator was not consumed
    b = build_mlp(3, 5, "relu", seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert sum(p.numel() for p in a.parameters()) == (2 * 5 + 5) + 2 * (5 * 5 + 5) + (5 * 2 + 2)
    assert len(list(build_mlp(0, 5).parameters())) == 2  # logistic regression
    with pytest.raises(ValueError, match="activation"):
        build_mlp(1, 2, "swish")


def test_check_model_messages():
    assert check_model(nn.Linear(2, 3)) == 3
    with pytest.raises(ShapeError, match=r"expected \(3, K\) logits"):
        check_model(nn.Sequential(nn.Linear(2, 3), nn.Flatten(0)))
    with pytest.raises(TypeError, match="torch.nn.Module"):
        check_model(lambda x: x)
    with pytest.raises(ValueError, match="no parameters"):
        check_model(nn.ReLU())


def test_session_trains_and_reset_restores():
    session = PlaygroundSession(build_mlp(2, 8, "tanh"), learning_rate=0.3)
    session.set_data(make_playground_data("xor", noise=0.0))
    start = [p.detach().clone() for p in session.model.parameters()]
    for _ in range(30):
        session.train(10, batch_size=10)
    assert session.step_count == 300 and len(session.train_loss) == 31
    assert session.train_loss[-1] < 0.5 * session.train_loss[0]
    session.reset()
    assert all(torch.equal(p, q) for p, q in zip(session.model.parameters(), start))
    assert session.step_count == 0 and len(session.train_loss) == 1


def test_l2_shrinks_the_weights():
    norms = {}
    for l2 in (0.0, 1.0):
        session = PlaygroundSession(build_mlp(1, 8, "tanh"), learning_rate=0.1, l2=l2)
        session.set_data(make_playground_data("moons", noise=0.1))
        session.train(100, batch_size=20)
        norms[l2] = float(session.model.layers[0].weight.detach().norm())
    assert norms[1.0] < 0.5 * norms[0.0]


def test_divergence_keeps_the_model_finite():
    session = PlaygroundSession(build_mlp(2, 8, "relu"), learning_rate=1e6)
    session.set_data(make_playground_data("circles", noise=0.3))
    for _ in range(5):
        session.train(10, batch_size=1)
    assert all(torch.isfinite(p).all() for p in session.model.parameters())
    assert all(np.isfinite(session.train_loss))
    assert np.all(np.isfinite(boundary_grid(session.model)))


def test_grid_and_maps_shapes():
    model = build_mlp(2, 3, "relu")
    grid = boundary_grid(model, resolution=GRID)
    assert grid.shape == (GRID, GRID) and np.all((grid >= 0) & (grid <= 1))
    maps, label = first_layer_maps(model, resolution=MAP_GRID)
    assert maps.shape == (3, MAP_GRID, MAP_GRID) and label == "activations"
    assert np.abs(maps).max() <= 1.0 + 1e-9
    assert np.all(maps >= 0)  # ReLU activations
    assert first_layer_maps(build_mlp(0, 3))[0] is None
    functional = nn.Sequential(nn.Linear(2, 4), nn.Linear(4, 2))  # no activation module after the first layer
    assert first_layer_maps(functional)[1] == "pre-activations"


# ---------------------------------------------------------------- the explorer

@pytest.fixture(scope="module")
def playground():
    return Playground()


def test_constructs_with_defaults_and_renders(playground):
    assert playground.renders >= 1 and playground.image.value[:4] == b"\x89PNG"
    assert playground.state.step == 0 and state_finite(playground.state)


def test_step_play_and_reset(playground):
    playground.step_button.click()
    assert playground.state.step == 10
    playground.play.value += 1  # one tick of the Play widget
    assert playground.state.step == 20
    playground.reset_button.click()
    assert playground.state.step == 0


def test_every_control_redraws(playground):
    for control, value in [(playground.dataset, "moons"), (playground.noise, 0.3), (playground.hidden_layers, 3),
                           (playground.units, 2), (playground.activation, "relu"),
                           (playground.learning_rate, 0.3), (playground.l2, 0.01), (playground.batch_size, 50)]:
        before = playground.renders
        control.value = value
        assert playground.renders == before + 1, control.description
        assert state_finite(playground.state)


def test_architecture_and_data_changes_reset_but_rates_do_not(playground):
    playground.step()
    assert playground.state.step == 10
    playground.learning_rate.value = 0.1
    playground.batch_size.value = 7
    assert playground.state.step == 10
    playground.units.value = 5
    assert playground.state.step == 0
    playground.step()
    playground.dataset.value = "xor"
    assert playground.state.step == 0


@pytest.mark.parametrize("settings", [
    dict(hidden_layers=4, units=1, activation="sigmoid", learning_rate=10.0, l2=10.0, batch_size=1, noise=0.5),
    dict(hidden_layers=0, units=8, activation="linear", learning_rate=10.0, l2=0.0, batch_size=100, noise=0.0),
    dict(hidden_layers=4, units=8, activation="relu", learning_rate=0.0001, l2=0.0, batch_size=100, noise=0.5),
])
def test_extreme_values_do_not_raise_or_plot_nan(settings):
    playground = Playground(dataset="spirals", **settings)
    for _ in range(5):
        playground.step()
    assert state_finite(playground.state) and figure_finite(playground.fig)
    if settings["hidden_layers"] == 0:
        assert playground.state.maps is None and "no hidden layer" in playground.summary.value


def test_learner_model_is_trained_in_place_and_reset():
    torch.manual_seed(1)
    mine = nn.Sequential(nn.Linear(2, 12), nn.Tanh(), nn.Linear(12, 2))
    start = [p.detach().clone() for p in mine.parameters()]
    playground = Playground(model=mine, dataset="circles", learning_rate=0.3)
    assert playground.model is mine and playground.hidden_layers.disabled
    for _ in range(20):
        playground.step()
    assert not torch.equal(mine[0].weight, start[0])  # the learner's own module was trained
    assert playground.state.maps.shape[0] == 8  # at most 8 of its 12 units are shown
    playground.units.value = 3  # disabled control: no effect on the learner's architecture
    assert playground.model is mine and playground.state.step == 200
    playground.reset()
    assert all(torch.equal(p, q) for p, q in zip(mine.parameters(), start))
    assert "your model" in playground.summary.value


def test_learner_model_with_one_logit_and_float64():
    mine = nn.Sequential(nn.Linear(2, 6), nn.ReLU(), nn.Linear(6, 1)).double()
    playground = Playground(model=mine, dataset="blobs")
    playground.step()
    assert state_finite(playground.state) and playground.state.step == 10


def test_learner_model_with_a_wrong_output_shape_is_refused():
    with pytest.raises(ShapeError, match="expected"):
        Playground(model=nn.Sequential(nn.Linear(2, 2), nn.Flatten(0)))


def test_run_trains_many_steps_with_one_redraw():
    playground = Playground(dataset="xor", learning_rate=0.3)
    before = playground.renders
    playground.run(200)
    assert playground.state.step == 200 and playground.renders == before + 1
