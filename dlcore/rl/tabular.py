"""Tabular methods on a finite MDP: returns, policy evaluation, value iteration, Q-learning (chapter 16).

Notation: gamma is the discount, V[s] the value of a state, Q[s, a] the
value of an action, pi[s] a deterministic policy (one action per state).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore.rl.gridworld import MDP, GridWorld

__all__ = ["discounted_returns", "policy_evaluation", "value_iteration", "greedy_policy", "q_learning",
           "ValueIterationResult", "QLearningResult"]


def discounted_returns(rewards: np.ndarray, gamma: float, dones: np.ndarray | None = None) -> np.ndarray:
    """G_t = r_t + gamma r_{t+1} + gamma^2 r_{t+2} + ... up to the end of t's episode, for every step.

    Computed backwards in one pass: G_t = r_t + gamma G_{t+1}, with no G_{t+1} after a step that
    ends its episode. rewards (T,), dones (T,) bool (default: one episode) -> returns (T,).
    ``rewards`` may hold several episodes end to end (``dones[t]`` marks the last step of each);
    a last episode without its end is cut off there (nothing after T is known).
    """
    rewards = np.asarray(rewards, dtype=float)
    if rewards.ndim != 1:
        raise ValueError(f"discounted_returns: rewards must be 1-D (T,), got shape {rewards.shape}")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"discounted_returns: gamma must be in [0, 1], got {gamma!r}")
    dones = np.zeros(len(rewards), dtype=bool) if dones is None else np.asarray(dones, dtype=bool)
    if dones.shape != rewards.shape:
        raise ValueError(f"discounted_returns: dones must have the shape of rewards {rewards.shape}, got {dones.shape}")
    returns = np.zeros_like(rewards)
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        if dones[t]:  # step t ends its episode: what follows belongs to the next one
            running = 0.0
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


def _check_gamma(func: str, gamma: float) -> float:
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"{func}: gamma must be in [0, 1], got {gamma!r}")
    return float(gamma)


def policy_evaluation(mdp: MDP, policy: np.ndarray, gamma: float) -> np.ndarray:
    """The exact value of a deterministic policy: solve the Bellman equation as a linear system.

    V = R_pi + gamma P_pi V on the non-terminal states (terminal states have V = 0),
    i.e. V = (I - gamma P_pi)^-1 R_pi. policy (S,) ints -> V (S,).

    Raises ``ValueError`` when the policy never ends an episode and gamma = 1
    (the system is singular: the value is infinite or undefined).
    """
    gamma = _check_gamma("policy_evaluation", gamma)
    policy = np.asarray(policy)
    S = mdp.R.shape[0]
    if policy.shape != (S,):
        raise ValueError(f"policy_evaluation: policy must have shape ({S},), got {policy.shape}")
    live = ~mdp.terminal
    P_pi = mdp.P[np.arange(S), policy][np.ix_(live, live)]  # (S', S') among non-terminal states
    R_pi = mdp.R[np.arange(S), policy][live]
    system = np.eye(live.sum()) - gamma * P_pi
    if np.linalg.cond(system) > 1e12:
        raise ValueError("policy_evaluation: this policy can loop forever with gamma = 1; "
                         "its value is undefined (use gamma < 1)")
    V = np.zeros(S)
    V[live] = np.linalg.solve(system, R_pi)
    return V


def greedy_policy(mdp: MDP, V: np.ndarray, gamma: float) -> np.ndarray:
    """pi(s) = argmax_a R[s, a] + gamma sum_s' P[s, a, s'] V[s'] (ties go to the first action)."""
    Q = mdp.R + gamma * mdp.P @ V  # (S, A)
    return np.argmax(np.round(Q, 12), axis=1)


class ValueIterationResult(NamedTuple):
    V: np.ndarray  # (S,)
    policy: np.ndarray  # (S,)
    deltas: list[float]  # the largest change of V in each sweep


def value_iteration(mdp: MDP, gamma: float, tolerance: float = 1e-10, max_sweeps: int = 10_000) -> ValueIterationResult:
    """Repeat V(s) <- max_a R[s, a] + gamma sum_s' P[s, a, s'] V(s') until it stops changing."""
    gamma = _check_gamma("value_iteration", gamma)
    V = np.zeros(mdp.R.shape[0])
    deltas: list[float] = []
    for _ in range(max_sweeps):
        new = np.where(mdp.terminal, 0.0, (mdp.R + gamma * mdp.P @ V).max(axis=1))
        deltas.append(float(np.abs(new - V).max()))
        V = new
        if deltas[-1] < tolerance:
            break
    return ValueIterationResult(V, greedy_policy(mdp, V, gamma), deltas)


class QLearningResult(NamedTuple):
    Q: np.ndarray  # (S, A)
    returns: np.ndarray  # (episodes,) undiscounted return of each training episode
    lengths: np.ndarray  # (episodes,)


def q_learning(env: GridWorld, num_episodes: int, rng: np.random.Generator, gamma: float = 0.99,
               learning_rate: float = 0.2, epsilon: float = 0.2, max_steps: int = 100,
               Q: np.ndarray | None = None) -> QLearningResult:
    """Tabular Q-learning with an epsilon-greedy behaviour policy.

    Q(s, a) <- Q(s, a) + lr [r + gamma (1 - done) max_a' Q(s', a') - Q(s, a)].
    Pass ``Q`` to continue training from an earlier table (it is not modified).
    """
    gamma = _check_gamma("q_learning", gamma)
    Q = np.zeros((env.num_states, 4)) if Q is None else np.array(Q, dtype=float)
    returns, lengths = np.zeros(num_episodes), np.zeros(num_episodes, dtype=int)
    for episode in range(num_episodes):
        s = env.reset()
        for t in range(max_steps):
            a = int(rng.integers(4)) if rng.random() < epsilon else int(np.argmax(Q[s]))
            s_next, r, done = env.step(a, rng)
            target = r + (0.0 if done else gamma * Q[s_next].max())
            Q[s, a] += learning_rate * (target - Q[s, a])
            returns[episode] += r
            s = s_next
            if done:
                break
        lengths[episode] = t + 1
    return QLearningResult(Q, returns, lengths)
