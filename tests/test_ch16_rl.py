"""Chapter 16: the grid world, tabular methods, cart-pole, policy gradients and DQN."""

from __future__ import annotations

import numpy as np
import pytest
import torch

# These networks are tiny: one thread is faster than two, and immune to a busy machine.
torch.set_num_threads(1)

from dlcore.errors import ShapeError
from dlcore.gradcheck import numerical_gradient, relative_error
from dlcore.rl.cartpole import CartPole
from dlcore.rl.dqn import ReplayBuffer, dqn_loss, dqn_targets, evaluate_greedy, train_dqn
from dlcore.rl.gridworld import GridWorld
from dlcore.rl.policy_gradient import (gradient_spread, policy_network, reinforce_loss, returns_to_go, rollout,
                                       softmax_policy_gradient, train_reinforce)
from dlcore.rl.tabular import discounted_returns, policy_evaluation, q_learning, value_iteration
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

# ---------------------------------------------------------------- grid world


def test_transition_probabilities_sum_to_one_and_terminals_absorb():
    env = GridWorld()
    mdp = env.model()
    np.testing.assert_allclose(mdp.P.sum(axis=2), 1.0)
    for s in np.flatnonzero(mdp.terminal):
        assert (mdp.P[s, :, s] == 1).all() and (mdp.R[s] == 0).all()


def test_sampled_steps_follow_the_model():
    env, rng = GridWorld(slip=0.4), np.random.default_rng(0)
    counts = np.zeros(env.num_states)
    for _ in range(4000):
        env.reset()
        counts[env.step(1, rng)[0]] += 1
    np.testing.assert_allclose(counts / 4000, env.model().P[env.start, 1], atol=0.03)


def test_value_iteration_reproduces_the_classic_4x3_values():
    """Russell and Norvig's 4x3 world (reward -0.04 per step, 80/10/10 moves, no discount):
    their utilities include the reward of the state itself, ours the rewards after it."""
    env = GridWorld()
    result = value_iteration(env.model(), gamma=1.0)
    utilities = env.to_grid(result.V + env.step_reward)
    expected = np.array([[0.812, 0.868, 0.918], [0.762, np.nan, 0.660], [0.705, 0.655, 0.611]])
    np.testing.assert_allclose(utilities[:, :3], expected, atol=5e-4)
    assert round(utilities[2, 3], 3) == 0.388
    assert env.render_policy(result.policy).splitlines()[2] == "↑ ← ← ←"


def test_policy_evaluation_is_the_fixed_point_of_the_bellman_equation():
    env = GridWorld(slip=0.3)
    mdp = env.model()
    policy = np.random.default_rng(1).integers(0, 4, env.num_states)
    V = policy_evaluation(mdp, policy, gamma=0.9)
    S = np.arange(env.num_states)
    backup = np.where(mdp.terminal, 0.0, mdp.R[S, policy] + 0.9 * mdp.P[S, policy] @ V)
    np.testing.assert_allclose(V, backup, atol=1e-12)


def test_a_policy_that_never_ends_has_no_value_without_discount():
    env = GridWorld(slip=0.0)
    left = np.full(env.num_states, 3)  # walk into the left wall forever
    with pytest.raises(ValueError, match="loop forever with gamma = 1"):
        policy_evaluation(env.model(), left, gamma=1.0)


def test_q_learning_finds_the_optimal_values_from_experience():
    env = GridWorld()
    optimal = value_iteration(env.model(), 0.95).V[env.start]
    learned = q_learning(env, 400, np.random.default_rng(0), gamma=0.95)
    # Its estimates are noisy (a constant learning rate), its greedy policy is (nearly) optimal.
    assert abs(learned.Q[env.start].max() - optimal) < 0.1
    achieved = policy_evaluation(env.model(), learned.Q.argmax(axis=1), 0.95)[env.start]
    assert optimal - achieved < 0.05


@pytest.mark.parametrize("layout, message", [(["..G", ".."], "equal-length"), (["..Z", "S.G"], "may only use"),
                                             (["...", "..G"], "exactly one start")])
def test_bad_layouts_are_named(layout, message):
    with pytest.raises(ValueError, match=message):
        GridWorld(layout)


def test_stepping_a_finished_episode_or_a_bad_action_is_refused():
    env, rng = GridWorld(slip=0.0, layout=["SG"]), np.random.default_rng(0)
    with pytest.raises(ValueError, match="action must be 0..3"):
        env.step(4, rng)
    assert env.step(1, rng) == (1, 1.0, True)
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(1, rng)


def test_discounted_returns_backwards():
    np.testing.assert_allclose(discounted_returns([1.0, 0.0, 2.0], 0.5), [1.5, 1.0, 2.0])
    np.testing.assert_allclose(returns_to_go(np.array([[1.0], [0.0], [2.0]]), 0.5)[:, 0], [1.5, 1.0, 2.0])
    with pytest.raises(ValueError, match="gamma must be in"):
        discounted_returns([1.0], 1.5)


def test_discounted_returns_restart_after_each_episode_end():
    rewards, dones = [1.0, 2.0, 3.0, 4.0], [False, True, False, False]
    np.testing.assert_allclose(discounted_returns(rewards, 0.5, dones), [2.0, 2.0, 5.0, 4.0])
    np.testing.assert_allclose(discounted_returns(rewards, 0.5, [False] * 4), discounted_returns(rewards, 0.5))
    with pytest.raises(ValueError, match="dones must have the shape"):
        discounted_returns(rewards, 0.5, [True])

# ---------------------------------------------------------------- cart-pole


def test_cartpole_one_push_from_rest_by_hand():
    """Upright and at rest, a push to the right: tmp = F / m = 10 / 1.1,
    theta'' = -tmp / (l (4/3 - m_p / m)) = -14.634, x'' = tmp - m_p l theta'' / m = 9.756."""
    state = CartPole.dynamics(np.zeros((1, 4)), np.array([1]))
    np.testing.assert_allclose(state[0], [0.0, 0.02 * 9.7561, 0.0, 0.02 * -14.6341], atol=1e-5)


def test_cartpole_is_mirror_symmetric_and_gravity_pulls_the_pole_down(rng):
    states = rng.uniform(-0.2, 0.2, (5, 4))
    actions = rng.integers(0, 2, 5)
    np.testing.assert_allclose(CartPole.dynamics(-states, 1 - actions), -CartPole.dynamics(states, actions),
                               atol=1e-12)
    tilted = np.array([[0.0, 0.0, 0.1, 0.0], [0.0, 0.0, 0.1, 0.0]])
    after = CartPole.dynamics(CartPole.dynamics(tilted, np.array([0, 1])), np.array([1, 0]))
    assert (after[:, 3] > 0).all(), "a tilted pole falls further whichever way the cart was pushed"


def test_cartpole_terminates_and_truncates():
    env, rng = CartPole(num_envs=3, max_steps=5), np.random.default_rng(0)
    env.reset(rng)
    for _ in range(5):
        _, reward, terminated, truncated = env.step(np.array([0, 1, 0]))
    assert truncated.all() and not terminated.any() and (reward == 1).all()
    env.state[:] = [2.5, 0, 0, 0]
    assert env.step(np.array([0, 0, 0]))[2].all()
    with pytest.raises(ValueError, match="action must be 3 values"):
        env.step(np.array([0, 2, 1]))

# ---------------------------------------------------------------- policy gradient


def test_softmax_policy_gradient_matches_finite_differences_and_autograd(rng):
    theta, states = rng.standard_normal((4, 3)), rng.standard_normal((7, 4))
    actions, weights = rng.integers(0, 3, 7), rng.standard_normal(7)
    grad = softmax_policy_gradient(theta, states, actions, weights)
    assert grad.shape == theta.shape

    def objective(t):
        logits = states @ t
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return float((weights * log_probs[np.arange(7), actions]).mean())

    nudged = theta.copy()
    assert relative_error(grad, numerical_gradient(lambda: objective(nudged), nudged)) < 1e-7
    t_theta = torch.tensor(theta, requires_grad=True)
    log_probs = torch.log_softmax(torch.tensor(states) @ t_theta, dim=1)
    (log_probs[torch.arange(7), torch.tensor(actions)] * torch.tensor(weights)).mean().backward()
    np.testing.assert_allclose(grad, t_theta.grad.numpy(), rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)


def test_policy_gradient_is_unbiased_on_a_bandit():
    """One state, three arms with fixed rewards: the average sampled gradient approaches grad J exactly."""
    rng = np.random.default_rng(0)
    theta, rewards = np.array([[0.2, -0.1, 0.4]]), np.array([1.0, 0.0, 2.0])

    def J(t):
        p = np.exp(t[0]) / np.exp(t[0]).sum()
        return float(p @ rewards)

    nudged = theta.copy()
    exact = numerical_gradient(lambda: J(nudged), nudged)
    p = np.exp(theta[0]) / np.exp(theta[0]).sum()
    actions = rng.choice(3, size=200_000, p=p)
    estimate = softmax_policy_gradient(theta, np.ones((len(actions), 1)), actions, rewards[actions])
    np.testing.assert_allclose(estimate, exact, atol=0.01)


def test_softmax_policy_gradient_shape_errors():
    with pytest.raises(ShapeError, match="same D"):
        softmax_policy_gradient(np.zeros((4, 2)), np.zeros((3, 5)), np.zeros(3, int), np.zeros(3))
    with pytest.raises(ShapeError, match=r"must both have shape \(3,\)"):
        softmax_policy_gradient(np.zeros((4, 2)), np.zeros((3, 4)), np.zeros(2, int), np.zeros(3))


def test_rollout_masks_finished_episodes():
    torch.manual_seed(0)
    batch = rollout(CartPole(num_envs=4), policy_network(), np.random.default_rng(0))
    lengths = batch.alive.sum(axis=0)
    np.testing.assert_array_equal(batch.episode_returns, lengths)
    assert batch.alive.shape == batch.rewards.shape == batch.actions.shape
    assert (batch.rewards[~batch.alive] == 0).all()


def test_a_baseline_reduces_the_gradient_variance():
    assert gradient_spread("mean", num_batches=8) < gradient_spread("none", num_batches=8)


def test_the_leave_one_out_baseline_rescales_the_mean_baselines_weights():
    """Leave-one-out weights = mean-baseline weights * n_t / (n_t - 1), and 0 for an episode running alone."""
    batch = rollout(CartPole(num_envs=5), policy_network(), np.random.default_rng(4))
    G = returns_to_go(batch.rewards, 0.9)
    n = batch.alive.sum(axis=1, keepdims=True)
    mean_weights = G - (G * batch.alive).sum(axis=1, keepdims=True) / n
    expected = np.where(n > 1, mean_weights * n / np.maximum(n - 1, 1), G)[batch.alive]
    policy = policy_network()
    log_probs = torch.log_softmax(policy(torch.as_tensor(batch.states[batch.alive], dtype=torch.float32)), dim=1)
    chosen = log_probs.gather(1, torch.as_tensor(batch.actions[batch.alive]).long().unsqueeze(1)).squeeze(1)
    loss, _ = reinforce_loss(policy, batch, 0.9, "leave-one-out")
    np.testing.assert_allclose(loss.item(), float(-(chosen.detach().double() * torch.as_tensor(expected)).sum() / 5),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="leave-one-out"):
        reinforce_loss(policy, batch, 0.9, "median")


def test_the_committed_sweep_matches_a_rerun_of_its_first_updates():
    """dlcore/rl/results/ch16_sweep.json (python -m dlcore.rl.sweep): re-run 4 updates of seed 0 per baseline."""
    from dlcore.rl.sweep import BASELINES, SEEDS, load_sweep, reinforce_run

    sweep = load_sweep()
    assert set(sweep["reinforce"]) == set(BASELINES) and set(sweep["dqn"]) == {str(s) for s in SEEDS}
    for baseline in ("none", "leave-one-out"):
        np.testing.assert_allclose(reinforce_run(baseline, 0, num_iterations=4), sweep["reinforce"][baseline]["0"][:4],
                                   atol=1e-4)


def test_reinforce_learns_to_balance():
    history = train_reinforce(num_iterations=30, baseline="mean")
    assert np.mean(history.mean_returns[-5:]) > 3 * np.mean(history.mean_returns[:5])

# ---------------------------------------------------------------- DQN


def test_dqn_targets_bootstrap_only_when_the_episode_goes_on():
    y = dqn_targets(np.array([1.0, 1.0]), np.array([[2.0, 5.0], [3.0, -1.0]]), np.array([0.0, 1.0]), 0.9)
    np.testing.assert_allclose(y, [1.0 + 0.9 * 5.0, 1.0])
    with pytest.raises(ShapeError, match="expected rewards"):
        dqn_targets(np.zeros(2), np.zeros(2), np.zeros(2), 0.9)


def test_dqn_loss_regresses_the_action_taken_towards_the_masked_target():
    torch.manual_seed(0)
    q_network, target = policy_network(4), policy_network(4)
    s, s_next = torch.randn(3, 4), torch.randn(3, 4)
    batch = (s, torch.tensor([0, 1, 1]), torch.tensor([1.0, 0.5, 2.0]), s_next, torch.tensor([0.0, 1.0, 0.0]))
    with torch.no_grad():
        y = batch[2] + 0.9 * (1 - batch[4]) * target(s_next).max(dim=1).values
        q = q_network(s)[torch.arange(3), batch[1]]
    loss = dqn_loss(q_network, target, batch, 0.9)
    torch.testing.assert_close(loss, torch.nn.functional.smooth_l1_loss(q, y))
    loss.backward()
    assert all(p.grad is None for p in target.parameters())


def test_training_loops_accept_a_loss_function_and_reproduce_with_the_same_one():
    default = train_dqn(num_steps=300, learning_starts=200)
    given = train_dqn(num_steps=300, learning_starts=200, loss_function=dqn_loss)
    assert default.losses == given.losses
    calls = []

    def loss_function(policy, batch, gamma, baseline):
        calls.append(baseline)
        return reinforce_loss(policy, batch, gamma, baseline)[0]

    history = train_reinforce(num_iterations=2, batch_size=2, baseline="mean", max_steps=20,
                              loss_function=loss_function)
    assert calls == ["mean", "mean"] and len(history.mean_returns) == 2


def test_replay_buffer_overwrites_the_oldest_and_samples_what_it_holds():
    buffer = ReplayBuffer(3, 1, np.random.default_rng(0))
    for i in range(5):
        buffer.push([i], 0, float(i), [i + 1], False)
    assert len(buffer) == 3 and sorted(buffer.rewards) == [2.0, 3.0, 4.0]
    states, *_ = buffer.sample(10)
    assert set(states[:, 0]) <= {2.0, 3.0, 4.0}
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(2, 1, np.random.default_rng(0)).sample(1)


def test_dqn_improves_on_a_short_run():
    history = train_dqn(num_steps=1500, learning_starts=200)
    assert len(history.losses) == 1300 and np.isfinite(history.losses).all()
    returns = evaluate_greedy(history.q_network, num_episodes=5)
    assert returns.shape == (5,) and (returns >= 8).all()
