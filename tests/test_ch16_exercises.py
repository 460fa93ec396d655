"""Chapter 16 checks: each accepts two different right answers, rejects typical wrong ones with their diagnosis
(by the mistake's stable id), reports an untouched stub as not done, and fails an answer that calls dlcore's own
version of what the exercise builds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.exercises import ch16
from dlcore.exercises.core import ExerciseFailed
from dlcore.exercises.learner import accepted
from dlcore.rl.dqn import dqn_loss as dlcore_dqn_loss
from dlcore.rl.policy_gradient import reinforce_loss as dlcore_reinforce_loss
from dlcore.rl.tabular import discounted_returns as dlcore_discounted_returns
from dlcore.rl.tabular import q_learning as dlcore_q_learning
from dlcore.rl.tabular import value_iteration as dlcore_value_iteration
from tests.helpers import fails_with, not_done


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


# ---------------------------------------------------------------- 16.1 discounted returns

def _returns_loop(rewards, gamma, dones):
    out, running = np.zeros(len(rewards)), 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running * (1 - dones[t])
        out[t] = running
    return out


def _returns_per_episode(rewards, gamma, dones):
    ends = np.flatnonzero(dones).tolist()
    if not ends or ends[-1] != len(rewards) - 1:
        ends.append(len(rewards) - 1)
    out, start = [], 0
    for end in ends:
        episode = np.asarray(rewards[start:end + 1], dtype=float)
        out.extend(sum(gamma ** k * r for k, r in enumerate(episode[t:])) for t in range(len(episode)))
        start = end + 1
    return np.array(out)


def test_discounted_returns_accepts_two_right_answers():
    assert ch16.check_discounted_returns(_returns_loop).passed
    assert ch16.check_discounted_returns(_returns_per_episode).passed
    assert accepted("discounted_returns") is _returns_per_episode


def _stops_at_t1(rewards, gamma, dones):
    out, running = np.zeros(len(rewards)), 0.0
    for t in range(len(rewards) - 1, 0, -1):
        if dones[t]:
            running = 0.0
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def _ignores_dones(rewards, gamma, dones):
    out, running = np.zeros(len(rewards)), 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


def _reset_after(rewards, gamma, dones):
    out, running = np.zeros(len(rewards)), 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
        if dones[t]:
            running = 0.0
    return out


def _forwards(rewards, gamma, dones):
    out, running = np.zeros(len(rewards)), 0.0
    for t in range(len(rewards)):
        running = rewards[t] + gamma * running
        out[t] = running
        if dones[t]:
            running = 0.0
    return out


def _undiscounted(rewards, gamma, dones):
    return _returns_loop(rewards, 1.0, dones)


@pytest.mark.parametrize("mistake, answer", [
    ("stops-at-t1", _stops_at_t1),
    ("ignores-dones", _ignores_dones),
    ("boundary-off-by-one", _reset_after),
    ("forwards", _forwards),
    ("no-discount", _undiscounted),
])
def test_discounted_returns_diagnoses(mistake, answer):
    fails_with(ch16.check_discounted_returns, answer, mistake=mistake)
    assert accepted("discounted_returns") is None


def test_the_loop_that_stops_at_t1_gets_a_specific_message():
    message = str(fails_with(ch16.check_discounted_returns, _stops_at_t1, mistake="stops-at-t1"))
    assert "G_0" in message and "t = 1" in message and "range" in message


def test_discounted_returns_refuses_dlcores_own_and_reports_the_stub():
    fails_with(ch16.check_discounted_returns, lambda r, g, d: dlcore_discounted_returns(r, g, d),
               mistake="delegates-to-reference")
    with pytest.raises(NotImplementedError, match="16.1 is not done yet"):
        ch16.check_discounted_returns(not_done)


# ---------------------------------------------------------------- 16.2 finite-horizon value

def test_finite_horizon_value_accepts_two_right_answers():
    assert ch16.check_finite_horizon_value(ch16.reference_finite_horizon_value).passed
    assert ch16.check_finite_horizon_value(lambda r, g, T: sum(r * g ** t for t in range(T))).passed


@pytest.mark.parametrize("mistake, answer", [
    ("endless-stream", lambda r, g, T: r / (1 - g) if g < 1 else r * T),
    ("no-discount", lambda r, g, T: r * T),
    ("one-step-too-many", lambda r, g, T: r * (1 - g ** (T + 1)) / (1 - g) if g < 1 else r * T),
    ("first-reward-discounted", lambda r, g, T: r * g * (1 - g ** T) / (1 - g) if g < 1 else r * T),
])
def test_finite_horizon_value_diagnoses(mistake, answer):
    fails_with(ch16.check_finite_horizon_value, answer, mistake=mistake)


def test_finite_horizon_value_not_done():
    with pytest.raises(NotImplementedError, match="16.2 is not done yet"):
        ch16.check_finite_horizon_value(not_done)


# ---------------------------------------------------------------- 16.3 value iteration

def _vi_vectorised(mdp, gamma, tolerance=1e-10):
    V = np.zeros(len(mdp.terminal))
    while True:
        new = np.where(mdp.terminal, 0.0, (mdp.R + gamma * mdp.P @ V).max(axis=1))
        if np.abs(new - V).max() < tolerance:
            return new, np.argmax(mdp.R + gamma * mdp.P @ new, axis=1)
        V = new


def _vi_in_place(mdp, gamma, tolerance=1e-10):
    V = np.zeros(len(mdp.terminal))
    change = np.inf
    while change >= tolerance:
        change = 0.0
        for s in range(len(V)):
            best = 0.0 if mdp.terminal[s] else np.max(mdp.R[s] + gamma * mdp.P[s] @ V)
            change, V[s] = max(change, abs(best - V[s])), best
    return V, np.array([np.argmax(mdp.R[s] + gamma * mdp.P[s] @ V) for s in range(len(V))])


def test_value_iteration_accepts_two_right_answers():
    assert ch16.check_value_iteration(_vi_vectorised).passed
    assert ch16.check_value_iteration(_vi_in_place).passed
    assert accepted("value_iteration") is _vi_in_place


def _vi_with(update, policy_from_reward=False, sweeps=None, mask=True):
    def answer(mdp, gamma, tolerance=1e-10):
        V = np.zeros(len(mdp.terminal))
        for sweep in range(sweeps or 5000):
            new = update(mdp.R + gamma * mdp.P @ V)
            new = np.where(mdp.terminal, 0.0, new) if mask else new
            change, V = np.abs(new - V).max(), new
            if change < tolerance:
                break
        policy = mdp.R.argmax(axis=1) if policy_from_reward else np.argmax(mdp.R + gamma * mdp.P @ V, axis=1)
        return V, policy
    return answer


@pytest.mark.parametrize("mistake, answer", [
    ("argmax-not-max", _vi_with(lambda Q: Q.argmax(axis=1))),
    ("mean-over-actions", _vi_with(lambda Q: Q.mean(axis=1))),
    ("terminal-not-zero", _vi_with(lambda Q: Q.max(axis=1), mask=False)),
    ("one-sweep", _vi_with(lambda Q: Q.max(axis=1), sweeps=1)),
    ("policy-from-reward", _vi_with(lambda Q: Q.max(axis=1), policy_from_reward=True)),
])
def test_value_iteration_diagnoses(mistake, answer):
    fails_with(ch16.check_value_iteration, answer, mistake=mistake)
    assert accepted("value_iteration") is None


def test_value_iteration_refuses_dlcores_own_and_reports_the_stub():
    def delegating(mdp, gamma, tolerance=1e-10):
        result = dlcore_value_iteration(mdp, gamma, tolerance)
        return result.V, result.policy

    fails_with(ch16.check_value_iteration, delegating, mistake="delegates-to-reference")
    with pytest.raises(NotImplementedError, match="16.3 is not done yet"):
        ch16.check_value_iteration(not_done)


# ---------------------------------------------------------------- 16.4 Q-learning

def _q_learner(*, choose="right", future="max", update="right", gamma_used=True):
    def q_learning(env, num_episodes, rng, gamma=0.99, learning_rate=0.2, epsilon=0.2, max_steps=100):
        Q, returns = np.zeros((env.num_states, 4)), np.zeros(num_episodes)
        for episode in range(num_episodes):
            s = env.reset()
            for _ in range(max_steps):
                if choose == "right":
                    a = int(rng.integers(4)) if rng.random() < epsilon else int(np.argmax(Q[s]))
                elif choose == "inverted":
                    a = int(rng.integers(4)) if rng.random() > epsilon else int(np.argmax(Q[s]))
                elif choose == "greedy":
                    a = int(np.argmax(Q[s]))
                else:  # draws the random action first, every step
                    candidate = int(rng.integers(4))
                    a = candidate if rng.random() < epsilon else int(np.argmax(Q[s]))
                s_next, r, done = env.step(a, rng)
                best = {"max": np.max, "argmax": np.argmax, "mean": np.mean}[future](Q[s_next])
                target = r + (0.0 if done else (gamma if gamma_used else 1.0) * best)
                if update == "right":
                    Q[s, a] += learning_rate * (target - Q[s, a])
                elif update == "replace":
                    Q[s, a] = target
                else:
                    Q[s, a] += learning_rate * target
                returns[episode] += r
                s = s_next
                if done:
                    break
        return Q, returns
    return q_learning


def _q_learning_while(env, num_episodes, rng, gamma=0.99, learning_rate=0.2, epsilon=0.2, max_steps=100):
    Q, returns = np.zeros((env.num_states, 4)), []
    for _ in range(num_episodes):
        state, total, steps, done = env.reset(), 0.0, 0, False
        while not done and steps < max_steps:
            action = rng.integers(4) if rng.random() < epsilon else Q[state].argmax()
            state_next, reward, done = env.step(int(action), rng)
            target = reward + (0.0 if done else gamma * Q[state_next].max())
            Q[state, action] = (1 - learning_rate) * Q[state, action] + learning_rate * target
            total, state, steps = total + reward, state_next, steps + 1
        returns.append(total)
    return Q, np.array(returns)


def test_q_learning_accepts_two_right_answers():
    right = _q_learner()
    assert ch16.check_q_learning(right).passed
    assert ch16.check_q_learning(_q_learning_while).passed
    assert accepted("q_learning") is _q_learning_while


@pytest.mark.parametrize("mistake, answer", [
    ("argmax-not-max", _q_learner(future="argmax")),
    ("mean-not-max", _q_learner(future="mean")),
    ("no-learning-rate", _q_learner(update="replace")),
    ("forgets-minus-q", _q_learner(update="forgets")),
    ("no-discount", _q_learner(gamma_used=False)),
    ("exploration-inverted", _q_learner(choose="inverted")),
    ("no-exploration", _q_learner(choose="greedy")),
    ("always-draws-random-action", _q_learner(choose="draw-first")),
])
def test_q_learning_diagnoses(mistake, answer):
    fails_with(ch16.check_q_learning, answer, mistake=mistake)
    assert accepted("q_learning") is None


def test_q_learning_refuses_dlcores_own_and_reports_the_stub():
    def delegating(env, num_episodes, rng, **options):
        return dlcore_q_learning(env, num_episodes, rng, **options)[:2]

    fails_with(ch16.check_q_learning, delegating, mistake="delegates-to-reference")
    with pytest.raises(NotImplementedError, match="16.4 is not done yet"):
        ch16.check_q_learning(not_done)


# ---------------------------------------------------------------- 16.5 predict the behaviour

def test_behaviour_prediction():
    truth = {reward: ch16.policy_outcome(reward) for reward in ch16.PREDICTION_REWARDS}
    assert truth == {-3.0: "pit", -0.04: "goal", 0.5: "never ends"}
    assert ch16.check_behaviour_prediction(truth).passed


@pytest.mark.parametrize("prediction, mistake", [
    ({-3.0: "goal", -0.04: "goal", 0.5: "never ends"}, "costly-steps-goal"),
    ({-3.0: "pit", -0.04: "pit", 0.5: "never ends"}, "small-step-cost-pit"),
    ({-3.0: "pit", -0.04: "goal", 0.5: "goal"}, "rewarded-steps-goal"),
])
def test_behaviour_prediction_diagnoses(prediction, mistake):
    with pytest.raises(ExerciseFailed) as caught:
        ch16.check_behaviour_prediction(prediction)
    assert caught.value.mistake == mistake
    assert "the measurement disagrees" in str(caught.value)
    assert "measured" not in str(caught.value).replace("the measurement", "")  # the right outcome is not named


def test_behaviour_prediction_not_done_and_malformed():
    with pytest.raises(NotImplementedError, match="16.5 is not done yet"):
        ch16.check_behaviour_prediction(...)
    with pytest.raises(NotImplementedError, match="reward -3.0 per step"):
        ch16.check_behaviour_prediction({-3.0: ..., -0.04: "goal", 0.5: "goal"})
    with pytest.raises(ExerciseFailed, match="'left' is not one of"):
        ch16.check_behaviour_prediction({-3.0: "left", -0.04: "goal", 0.5: "goal"})
    with pytest.raises(ExerciseFailed, match="expected a dict with the keys"):
        ch16.check_behaviour_prediction(("pit", "goal", "never ends"))


# ---------------------------------------------------------------- 16.6 the REINFORCE loss

def _reinforce(*, sign=-1.0, per="episode", returns="to-go", baseline_kind="alive", steps="alive",
               log=True, discount=True):
    def reinforce_loss(policy, batch, gamma, baseline="mean"):
        T, N = batch.rewards.shape
        g = gamma if discount else 1.0
        G, running = np.zeros((T, N)), np.zeros(N)
        for t in range(T - 1, -1, -1):
            running = batch.rewards[t] + g * running
            G[t] = running
        if returns == "whole":
            G = np.where(batch.alive, G[0], 0.0)
        alive = batch.alive
        if baseline == "mean":
            if baseline_kind == "alive":
                G = G - (G * alive).sum(axis=1, keepdims=True) / np.maximum(alive.sum(axis=1, keepdims=True), 1)
            elif baseline_kind == "all-episodes":
                G = G - G.sum(axis=1, keepdims=True) / N
            elif baseline_kind == "global":
                G = G - G[alive].mean()
        use = alive if steps == "alive" else np.ones_like(alive)
        logits = policy(torch.as_tensor(batch.states[use], dtype=torch.float32))
        scores = torch.log_softmax(logits, dim=1) if log else torch.softmax(logits, dim=1)
        taken = scores[torch.arange(int(use.sum())), torch.as_tensor(batch.actions[use]).long()]
        total = (taken * torch.as_tensor(G[use], dtype=torch.float32)).sum()
        return sign * total / (N if per == "episode" else int(use.sum()))
    return reinforce_loss


def _reinforce_vectorised(policy, batch, gamma, baseline="mean"):
    T, N = batch.rewards.shape
    discounts = gamma ** np.arange(T)
    G = np.stack([(batch.rewards[t:] * discounts[:T - t, None]).sum(axis=0) for t in range(T)])
    if baseline == "mean":
        count = np.maximum(batch.alive.sum(axis=1, keepdims=True), 1)
        G = G - (G * batch.alive).sum(axis=1, keepdims=True) / count
    t_index, n_index = np.nonzero(batch.alive)
    logits = policy(torch.tensor(batch.states[t_index, n_index], dtype=torch.float32))
    log_pi = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    picked = log_pi[torch.arange(len(t_index)), torch.tensor(batch.actions[t_index, n_index])]
    return -(picked * torch.tensor(G[t_index, n_index], dtype=torch.float32)).sum() / N


def test_reinforce_loss_accepts_two_right_answers():
    assert ch16.check_reinforce_loss(_reinforce()).passed
    assert ch16.check_reinforce_loss(_reinforce_vectorised).passed
    assert accepted("reinforce_loss") is _reinforce_vectorised


@pytest.mark.parametrize("mistake, answer", [
    ("sign-flipped", _reinforce(sign=1.0)),
    ("mean-over-steps", _reinforce(per="step")),
    ("whole-episode-return", _reinforce(returns="whole")),
    ("no-discount", _reinforce(discount=False)),
    ("baseline-ignored", _reinforce(baseline_kind="none")),
    ("baseline-over-all-steps", _reinforce(baseline_kind="global")),
    ("baseline-counts-finished", _reinforce(baseline_kind="all-episodes")),
    ("padding-included", _reinforce(steps="all")),
    ("probabilities-not-log", _reinforce(log=False)),
])
def test_reinforce_loss_diagnoses(mistake, answer):
    fails_with(ch16.check_reinforce_loss, answer, mistake=mistake)
    assert accepted("reinforce_loss") is None


def test_reinforce_loss_needs_a_differentiable_tensor():
    with pytest.raises(ExerciseFailed, match="torch tensor holding one number"):
        ch16.check_reinforce_loss(lambda *args: float(_reinforce()(*args)))
    with pytest.raises(ExerciseFailed, match="carries no gradient"):
        ch16.check_reinforce_loss(lambda *args: _reinforce()(*args).detach())


def test_reinforce_loss_refuses_dlcores_own_and_reports_the_stub():
    fails_with(ch16.check_reinforce_loss, lambda p, b, g, baseline="mean": dlcore_reinforce_loss(p, b, g, baseline)[0], mistake="delegates-to-reference")
    with pytest.raises(NotImplementedError, match="16.6 is not done yet"):
        ch16.check_reinforce_loss(not_done)


def test_training_runs_on_a_given_loss():
    from dlcore.rl.policy_gradient import train_reinforce

    calls = []

    def counting(policy, batch, gamma, baseline):
        calls.append(baseline)
        return _reinforce_vectorised(policy, batch, gamma, baseline)

    train_reinforce(num_iterations=2, batch_size=2, baseline="none", loss_function=counting, max_steps=20)
    assert calls == ["none", "none"]


# ---------------------------------------------------------------- 16.7 DQN's TD loss

def _dqn(*, network="target", mask="right", best="max", detach=True, taken=True, huber=True, discount=True):
    def dqn_loss(q_network, target_network, batch, gamma):
        s, a, r, s_next, done = batch
        bootstrap = target_network if network == "target" else q_network
        with torch.set_grad_enabled(not detach):
            next_q = bootstrap(s_next)
            value = next_q.max(dim=1).values if best == "max" else next_q.argmax(dim=1)
            keep = {"right": 1 - done, "none": 1.0, "inverted": done}[mask]
            y = r + (gamma if discount else 1.0) * keep * value
        q_all = q_network(s)
        q = q_all[torch.arange(len(a)), a] if taken else q_all.max(dim=1).values
        if huber:
            return torch.nn.functional.huber_loss(q, y, delta=1.0)
        return ((q - y) ** 2).mean()
    return dqn_loss


def test_dqn_loss_accepts_two_right_answers():
    assert ch16.check_dqn_loss(_dqn()).passed

    def with_detach(q_network, target_network, batch, gamma):
        s, a, r, s_next, done = batch
        y = (r + gamma * (1 - done) * target_network(s_next).amax(dim=1)).detach()
        error = q_network(s).gather(1, a[:, None])[:, 0] - y
        return torch.where(error.abs() < 1, 0.5 * error ** 2, error.abs() - 0.5).mean()

    assert ch16.check_dqn_loss(with_detach).passed
    assert accepted("dqn_loss") is with_detach


@pytest.mark.parametrize("mistake, answer", [
    ("no-done-mask", _dqn(mask="none")),
    ("done-mask-inverted", _dqn(mask="inverted")),
    ("argmax-not-max", _dqn(best="argmax")),
    ("online-network-target", _dqn(network="online")),
    ("target-not-detached", _dqn(detach=False)),
    ("no-discount", _dqn(discount=False)),
    ("max-not-taken-action", _dqn(taken=False)),
    ("squared-error", _dqn(huber=False)),
])
def test_dqn_loss_diagnoses(mistake, answer):
    fails_with(ch16.check_dqn_loss, answer, mistake=mistake)
    assert accepted("dqn_loss") is None


def test_argmax_instead_of_max_gets_a_specific_message():
    message = str(fails_with(ch16.check_dqn_loss, _dqn(best="argmax"), mistake="argmax-not-max"))
    assert "argmax" in message and "max" in message


def test_dqn_loss_refuses_dlcores_own_and_reports_the_stub():
    fails_with(ch16.check_dqn_loss, lambda q, t, b, g: dlcore_dqn_loss(q, t, b, g), mistake="delegates-to-reference")
    with pytest.raises(NotImplementedError, match="16.7 is not done yet"):
        ch16.check_dqn_loss(not_done)
