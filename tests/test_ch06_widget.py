"""Chapter 06: OptimizerRace, driven by setting its controls."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.widgets.optimizers import GAP_FLOOR, PRESETS, RACERS, SURFACE_CHOICES, OptimizerRace, make_racer


@pytest.fixture(scope="module")
def race():
    explorer = OptimizerRace()
    yield explorer
    explorer.widget.close()


def plotted_finite(explorer) -> bool:
    arrays = []
    for name in RACERS:
        for artist in (explorer.paths[name], explorer.ends[name], explorer.curves[name]):
            if artist.get_visible():
                arrays.extend(artist.get_data())
    arrays.extend(explorer.start_mark.get_data())
    return all(np.all(np.isfinite(np.asarray(a, dtype=float))) for a in arrays)


def test_initial_race_on_the_valley(race):
    state = race.state
    assert set(state.results) == set(RACERS)
    assert race.image.value and "<table>" in race.summary.value
    # On the ill-conditioned valley heavy-ball momentum beats plain gradient descent.
    assert state.results["momentum"].arrival_step is not None
    gd = state.results["GD"]
    assert gd.arrival_step is None or gd.arrival_step > state.results["momentum"].arrival_step
    assert plotted_finite(race)


def test_every_surface_loads_its_preset_and_redraws(race):
    race.surface.value = "Beale"
    for label in SURFACE_CHOICES:  # starting from a different surface, so every assignment is a change
        before, renders = race.image.value, race.renders
        race.surface.value = label
        assert race.renders == renders + 1  # one redraw, not one per slider the preset moved
        assert race.image.value != before
        assert race.num_steps.value == PRESETS[label]["steps"]
        assert race.state.start == race.state.surface.start
        assert plotted_finite(race)
    race.surface.value = "elongated valley (condition 50)"


def test_more_steps_get_closer(race):
    race.surface.value = "elongated valley (condition 50)"
    race.num_steps.value = 20
    short = race.state.results["GD"].final_value
    race.num_steps.value = 200
    long = race.state.results["GD"].final_value
    assert long < short
    race.num_steps.value = 20  # from the cache: cut, not recomputed, and identical to a fresh run
    assert race.state.results["GD"].final_value == short
    race.num_steps.value = PRESETS[race.surface.value]["steps"]


def test_huge_learning_rate_diverges_without_nan(race):
    race.surface.value = "Rosenbrock banana"
    race.lr["GD"].value = 10.0
    result = race.state.results["GD"]
    assert result.status == "diverged" and result.steps_taken < race.num_steps.value
    assert "diverged" in race.summary.value and "Lower its learning rate" in race.summary.value
    assert np.all(np.isfinite(result.points)) and np.all(result.shown >= GAP_FLOOR)
    assert plotted_finite(race)
    race.lr["GD"].value = 10.0 ** race.lr["GD"].min  # the smallest rate: barely moves
    assert race.state.results["GD"].status == "running"
    assert plotted_finite(race)


def test_extreme_settings(race):
    # the surfaces with the steepest walls and the one unbounded below
    for label in ("Rosenbrock banana", "saddle x² − y²", "Beale"):
        race.surface.value = label
        race.momentum.value = race.momentum.max
        race.beta1.value = race.beta1.max
        race.beta2.value = race.beta2.min
        for name in RACERS:
            race.lr[name].value = 10.0 ** race.lr[name].max
        race.start_x.value = race.start_x.max
        race.start_y.value = race.start_y.min
        race.num_steps.value = race.num_steps.max
        assert plotted_finite(race)
        race.num_steps.value = 1
        assert all(r.steps_taken <= 1 for r in race.state.results.values())
        assert plotted_finite(race)
    race.momentum.value, race.beta1.value, race.beta2.value = 0.9, 0.9, 0.999
    race.surface.value = "elongated valley (condition 50)"


def test_switching_racers_off_and_on(race):
    for name in RACERS:
        race.enabled[name].value = False
    assert race.state.results == {} and "Switch on at least one racer" in race.summary.value
    assert not any(race.paths[name].get_visible() for name in RACERS)
    race.enabled["Adam"].value = True
    assert list(race.state.results) == ["Adam"] and race.paths["Adam"].get_visible()
    for name in RACERS:
        race.enabled[name].value = True


def test_momentum_changes_the_momentum_racer_only(race):
    race.surface.value = "elongated valley (condition 50)"
    race.momentum.value = 0.5
    slow = race.state.results["momentum"].final_value
    gd = race.state.results["GD"].final_value
    race.momentum.value = 0.9
    assert race.state.results["momentum"].final_value != slow
    assert race.state.results["GD"].final_value == gd
    race.momentum.value = 0.0  # no momentum: Nesterov's look-ahead is switched off, not an error
    assert race.state.results["Nesterov"].status in {"arrived", "running"}
    assert plotted_finite(race)
    race.momentum.value = 0.9


def test_saddle_racers_escape(race):
    race.surface.value = "saddle x² − y²"
    statuses = {r.status for r in race.state.results.values()}
    assert statuses <= {"escaped", "running"} and "escaped" in statuses
    assert race.state.winner is not None


def test_make_racer_builds_the_named_optimizer():
    from dlcore.scratch import Parameter
    from dlcore.scratch.optim import SGD, Adam, RMSprop

    params = [Parameter(np.zeros(2))]
    adam = make_racer("Adam", 0.1, beta1=0.8, beta2=0.95)(params)
    assert isinstance(adam, Adam) and adam.betas == (0.8, 0.95) and adam.lr == 0.1
    rmsprop = make_racer("RMSprop", 0.1, beta2=0.95)(params)
    assert isinstance(rmsprop, RMSprop) and rmsprop.alpha == 0.95
    nesterov = make_racer("Nesterov", 0.1, momentum=0.7)(params)
    assert isinstance(nesterov, SGD) and nesterov.nesterov and nesterov.momentum == 0.7
    with pytest.raises(ValueError, match="unknown racer 'Lion'"):
        make_racer("Lion", 0.1)
    with pytest.raises(ValueError, match="unknown surface"):
        OptimizerRace(surface="moon")


def test_the_race_runs_on_given_step_functions():
    # The chapter passes the learner's step functions; every racer must then run on them, with the same paths.
    from dlcore.scratch import optim_steps
    from dlcore.scratch.optim_steps import StepOptimizer
    from dlcore.scratch import Parameter

    calls = {}

    def counted(function):
        def step(*args, **kwargs):
            calls[function.__name__] = calls.get(function.__name__, 0) + 1
            return function(*args, **kwargs)
        return step

    steps = {name: counted(getattr(optim_steps, name))
             for name in ("momentum_step", "adagrad_step", "rmsprop_step", "adam_step")}
    for name in RACERS:
        assert isinstance(make_racer(name, 0.1, steps=steps)([Parameter(np.zeros(2))]), StepOptimizer)
    ours = OptimizerRace(surface="elongated valley, rotated 30°", steps=steps)
    theirs = OptimizerRace(surface="elongated valley, rotated 30°")
    try:
        assert set(calls) == set(steps)
        for name in RACERS:
            np.testing.assert_allclose(ours.state.results[name].points, theirs.state.results[name].points,
                                       rtol=1e-12, atol=1e-12)
    finally:
        ours.widget.close()
        theirs.widget.close()
