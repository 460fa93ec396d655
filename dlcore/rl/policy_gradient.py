"""Policy gradients: the score-function estimator from scratch, then REINFORCE in PyTorch (chapter 16).

The policy-gradient theorem in its simplest (REINFORCE) form:

    grad J(theta) = E[ sum_t grad log pi(a_t | s_t) (G_t - b(s_t)) ]

where G_t is the return from step t and b any baseline that does not depend
on the action (it leaves the expectation unchanged and can shrink the variance).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore.errors import ShapeError
from dlcore.rl.cartpole import CartPole

__all__ = ["softmax_policy_gradient", "policy_network", "rollout", "Rollout", "returns_to_go",
           "reinforce_loss", "train_reinforce", "ReinforceHistory", "gradient_spread"]


def softmax_policy_gradient(theta: np.ndarray, states: np.ndarray, actions: np.ndarray,
                            weights: np.ndarray) -> np.ndarray:
    """Gradient of (1/N) sum_n weights_n log pi(a_n | s_n) for a linear softmax policy.

    pi(. | s) = softmax(s theta); grad_theta log pi(a | s) = s^T (onehot(a) - pi(. | s)).

    Args:
        theta: (D, A) policy parameters.
        states: (N, D); actions: (N,) ints in [0, A); weights: (N,) e.g. returns minus a baseline.

    Returns:
        (D, A), the same shape as theta.
    """
    theta, states = np.asarray(theta, dtype=float), np.asarray(states, dtype=float)
    actions, weights = np.asarray(actions), np.asarray(weights, dtype=float)
    if theta.ndim != 2 or states.ndim != 2 or states.shape[1] != theta.shape[0]:
        raise ShapeError(f"softmax_policy_gradient: states {states.shape} and theta {theta.shape} must be "
                         f"(N, D) and (D, A) with the same D")
    N, A = states.shape[0], theta.shape[1]
    if actions.shape != (N,) or weights.shape != (N,):
        raise ShapeError(f"softmax_policy_gradient: actions {actions.shape} and weights {weights.shape} "
                         f"must both have shape ({N},)")
    logits = states @ theta  # (N, A)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    score = np.eye(A)[actions] - probs  # (N, A): d log pi(a|s) / d logits
    return states.T @ (score * weights[:, None]) / N


def policy_network(hidden: int = 32, observation_size: int = 4, num_actions: int = 2):
    """A small MLP mapping states (N, D) to action logits (N, A): Linear, tanh, Linear."""
    import torch

    from dlcore.models.mlp import sequential_mlp

    return sequential_mlp([observation_size, hidden, num_actions], torch.nn.Tanh)


class Rollout(NamedTuple):
    """A batch of N episodes, padded to the longest one (T steps)."""

    states: np.ndarray  # (T, N, 4)
    actions: np.ndarray  # (T, N)
    rewards: np.ndarray  # (T, N), 0 after an episode has ended
    alive: np.ndarray  # (T, N) bool: the step belongs to the episode
    episode_returns: np.ndarray  # (N,)


def rollout(env: CartPole, policy, rng: np.random.Generator, greedy: bool = False) -> Rollout:
    """Run one episode in each of the env's N carts with ``policy`` (logits from states)."""
    import torch

    state = env.reset(rng)
    alive = np.ones(env.num_envs, dtype=bool)
    states, actions, rewards, masks = [], [], [], []
    while alive.any():
        with torch.no_grad():
            probs = torch.softmax(policy(torch.as_tensor(state, dtype=torch.float32)), dim=1).numpy()
        if greedy:
            action = probs.argmax(axis=1)
        else:  # inverse-CDF sampling with the explicit generator
            action = (rng.random((len(probs), 1)) > np.cumsum(probs, axis=1)[:, :-1]).sum(axis=1)
        next_state, reward, terminated, truncated = env.step(action)
        states.append(state), actions.append(action), rewards.append(reward * alive), masks.append(alive.copy())
        alive &= ~(terminated | truncated)
        state = next_state
    rewards_array = np.array(rewards)
    return Rollout(np.array(states), np.array(actions), rewards_array, np.array(masks), rewards_array.sum(axis=0))


def returns_to_go(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """G_t = sum_k gamma^k r_{t+k} along axis 0 of (T, N) rewards (zeros after the end add nothing)."""
    returns = np.zeros_like(rewards, dtype=float)
    running = np.zeros(rewards.shape[1:])
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


def reinforce_loss(policy, batch: Rollout, gamma: float, baseline: str = "mean", value=None):
    """The surrogate loss whose gradient is minus the REINFORCE estimate, and the weights used.

    baseline: "none" (weights G_t), "mean" (G_t minus the batch's mean return-to-go at step t, over
    the episodes still running; it includes the episode's own G_t, which biases the estimate: in
    expectation each step's term shrinks by the factor 1 - 1/n_t, n_t the episodes running at t),
    "leave-one-out" (G_t minus the mean of the OTHER running episodes' G_t, 0 when none is left:
    unbiased, and equal to the "mean" weights times n_t / (n_t - 1)) or "value" (G_t minus a
    learned V(s_t) from ``value``, a network mapping (N, 4) to (N, 1)).
    Returns (loss, value_loss or None).
    """
    import torch

    if baseline not in ("none", "mean", "leave-one-out", "value"):
        raise ValueError(f"reinforce_loss: baseline must be 'none', 'mean', 'leave-one-out' or 'value', "
                         f"got {baseline!r}")
    G = returns_to_go(batch.rewards, gamma)  # (T, N)
    alive = batch.alive
    states = torch.as_tensor(batch.states[alive], dtype=torch.float32)  # (steps, 4)
    returns = torch.as_tensor(G[alive], dtype=torch.float32)
    value_loss = None
    if baseline == "mean":
        counts = np.maximum(alive.sum(axis=1, keepdims=True), 1)
        step_mean = (G * alive).sum(axis=1, keepdims=True) / counts  # (T, 1): mean return-to-go at step t
        weights = returns - torch.as_tensor(np.broadcast_to(step_mean, G.shape)[alive], dtype=torch.float32)
    elif baseline == "leave-one-out":
        counts = alive.sum(axis=1, keepdims=True)  # (T, 1): episodes running at step t
        others = ((G * alive).sum(axis=1, keepdims=True) - G) / np.maximum(counts - 1, 1)  # (T, N)
        weights = returns - torch.as_tensor(others[alive], dtype=torch.float32)
    elif baseline == "value":
        predicted = value(states).squeeze(1)
        weights = returns - predicted.detach()
        value_loss = torch.mean((predicted - returns) ** 2)
    else:
        weights = returns
    log_probs = torch.log_softmax(policy(states), dim=1)
    chosen = log_probs.gather(1, torch.as_tensor(batch.actions[alive]).long().unsqueeze(1)).squeeze(1)
    # Sum over the steps of an episode, mean over episodes.
    loss = -(chosen * weights).sum() / batch.alive.shape[1]
    return loss, value_loss


class ReinforceHistory(NamedTuple):
    mean_returns: list[float]  # per iteration, over its batch of episodes
    policy: object  # the trained torch module


def train_reinforce(num_iterations: int = 60, batch_size: int = 16, learning_rate: float = 0.01,
                    gamma: float = 0.99, baseline: str = "mean", hidden: int = 32, seed: int = 0,
                    max_steps: int = 200, loss_function=None) -> ReinforceHistory:
    """REINFORCE on cart-pole: each iteration runs ``batch_size`` episodes, then one Adam step.

    ``loss_function(policy, batch, gamma, baseline)``, if given, replaces :func:`reinforce_loss`
    (for the baselines "none" and "mean"; the chapter passes the learner's own).
    """
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env = CartPole(num_envs=batch_size, max_steps=max_steps)
    policy = policy_network(hidden)
    value = policy_network(hidden, num_actions=1) if baseline == "value" else None
    parameters = list(policy.parameters()) + (list(value.parameters()) if value is not None else [])
    optimizer = torch.optim.Adam(parameters, lr=learning_rate)
    mean_returns = []
    for _ in range(num_iterations):
        batch = rollout(env, policy, rng)
        if loss_function is None:
            loss, value_loss = reinforce_loss(policy, batch, gamma, baseline, value)
        else:
            loss, value_loss = loss_function(policy, batch, gamma, baseline), None
        optimizer.zero_grad()
        (loss if value_loss is None else loss + 0.01 * value_loss).backward()
        optimizer.step()
        mean_returns.append(float(batch.episode_returns.mean()))
    return ReinforceHistory(mean_returns, policy)


def gradient_spread(baseline: str, num_batches: int = 20, batch_size: int = 8, gamma: float = 0.99,
                    seed: int = 0, loss_function=None) -> float:
    """How much the REINFORCE gradient estimate varies between batches, for a fixed random policy.

    ``loss_function(policy, batch, gamma, baseline)``, if given, replaces :func:`reinforce_loss`.

    Returns the mean squared distance of the batch estimates from their average,
    summed over parameters: the estimator's variance (smaller is better).
    """
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env, policy = CartPole(num_envs=batch_size), policy_network()
    estimates = []
    for _ in range(num_batches):
        policy.zero_grad()
        batch = rollout(env, policy, rng)
        if loss_function is None:
            loss, _ = reinforce_loss(policy, batch, gamma, baseline)
        else:
            loss = loss_function(policy, batch, gamma, baseline)
        loss.backward()
        estimates.append(torch.cat([p.grad.flatten() for p in policy.parameters()]).numpy().copy())
    estimates = np.array(estimates)
    return float(((estimates - estimates.mean(axis=0)) ** 2).sum(axis=1).mean())
