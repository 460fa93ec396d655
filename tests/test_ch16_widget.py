"""Chapter 16: GridWorldExplorer's callbacks, driven by setting its controls."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.rl.gridworld import GridWorld
from dlcore.rl.tabular import value_iteration
from dlcore.widgets.gridworld import GridWorldExplorer


@pytest.fixture
def explorer():
    return GridWorldExplorer()


def test_starts_with_value_iteration_and_draws(explorer):
    state = explorer.state
    env = GridWorld(slip=0.2, step_reward=-0.04)
    np.testing.assert_allclose(state.V, value_iteration(env.model(), 0.95, tolerance=1e-8).V)
    np.testing.assert_allclose(state.true_V, state.V, atol=1e-6)
    assert bytes(explorer.image.value[:4]) == b"\x89PNG" and "start" in explorer.summary.value
    assert state.path[0] == env.start and env.terminal[state.path[-1]]


def test_q_learning_episodes_slider_trains_and_zero_episodes_knows_nothing(explorer):
    explorer.algorithm.value = "q_learning"
    trained = explorer.state
    assert trained.algorithm == "q_learning" and len(trained.curve) == explorer.episodes.value
    explorer.episodes.value = 0
    assert not explorer.state.V.any() and len(explorer.state.curve) == 0


def test_the_step_slider_walks_along_the_episode(explorer):
    explorer.step.value = 1
    assert explorer.state.step == 1 and "Step 1: chose" in explorer.summary.value
    explorer.step.value = 0
    assert "Step" not in explorer.summary.value


@pytest.mark.parametrize("control, value", [("step_reward", -2.0), ("step_reward", 0.5), ("gamma", 0.0),
                                            ("gamma", 0.99), ("slip", 0.0), ("slip", 0.6)])
def test_extreme_values_give_finite_values_and_a_bounded_episode(explorer, control, value):
    for algorithm in ("value_iteration", "q_learning"):
        explorer.algorithm.value = algorithm
        getattr(explorer, control).value = value
        state = explorer.state
        assert np.isfinite(state.V).all() and np.isfinite(state.true_V).all()
        assert len(state.rewards) <= 40


def test_a_positive_step_reward_makes_the_agent_avoid_the_exits(explorer):
    explorer.step_reward.value = 0.5
    assert not GridWorld().terminal[explorer.state.path[-1]]
    explorer.step_reward.value = -2.0
    assert GridWorld().kind[explorer.state.path[-1]] == "X"


def test_switching_learners_back_and_forth_warns_nothing(explorer):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explorer.step_reward.value = -2.0
        explorer.algorithm.value = "q_learning"
        explorer.algorithm.value = "value_iteration"
        explorer.episodes.value = 0
        explorer.algorithm.value = "q_learning"
        explorer.algorithm.value = "value_iteration"


def test_q_learning_runs_on_a_given_learner():
    calls = []

    def learner(env, num_episodes, rng, gamma=0.99):
        calls.append(num_episodes)
        return np.ones((env.num_states, 4)), np.zeros(num_episodes)

    explorer = GridWorldExplorer(algorithm="q_learning", episodes=40, q_learner=learner)
    assert calls == [40] and len(explorer.state.curve) == 40
    assert (explorer.state.V[~GridWorld().terminal] == 1.0).all()
