"""Deep Q-learning (Mnih et al., 2015) on cart-pole: replay buffer, target network, epsilon-greedy (chapter 16).

The Q-network is trained by regression towards the bootstrapped target

    y = r + gamma (1 - terminated) max_a' Q_target(s', a')

on minibatches drawn at random from a replay buffer of past transitions
(breaking the correlation between consecutive steps), with Q_target a copy of
the network refreshed every ``target_every`` steps (so the target does not move
with every update). A truncated episode (time limit) is not terminal: its
target still bootstraps.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dlcore.errors import ShapeError
from dlcore.rl.cartpole import CartPole
from dlcore.rl.policy_gradient import policy_network, rollout

__all__ = ["ReplayBuffer", "dqn_targets", "dqn_loss", "train_dqn", "DQNHistory", "evaluate_greedy"]


class ReplayBuffer:
    """A ring buffer of transitions (s, a, r, s', terminated); the oldest are overwritten when full."""

    def __init__(self, capacity: int, observation_size: int, rng: np.random.Generator) -> None:
        if capacity < 1:
            raise ValueError(f"ReplayBuffer: capacity must be >= 1, got {capacity}")
        self.capacity, self.rng = int(capacity), rng
        self.states = np.zeros((capacity, observation_size), dtype=np.float32)
        self.next_states = np.zeros((capacity, observation_size), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.size, self._next = 0, 0

    def __len__(self) -> int:
        return self.size

    def push(self, state, action: int, reward: float, next_state, terminated: bool) -> None:
        i = self._next
        self.states[i], self.actions[i], self.rewards[i] = state, action, reward
        self.next_states[i], self.terminated[i] = next_state, float(terminated)
        self._next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int) -> tuple[np.ndarray, ...]:
        """(states, actions, rewards, next_states, terminated), uniformly with replacement."""
        if self.size == 0:
            raise ValueError("ReplayBuffer.sample: the buffer is empty; push transitions first")
        index = self.rng.integers(0, self.size, batch_size)
        return (self.states[index], self.actions[index], self.rewards[index], self.next_states[index],
                self.terminated[index])


def dqn_targets(rewards: np.ndarray, next_q: np.ndarray, terminated: np.ndarray, gamma: float) -> np.ndarray:
    """y = r + gamma (1 - terminated) max_a' next_q[:, a'].  rewards (N,), next_q (N, A), terminated (N,) -> (N,)."""
    rewards, next_q, terminated = (np.asarray(a, dtype=float) for a in (rewards, next_q, terminated))
    if next_q.ndim != 2 or rewards.shape != (len(next_q),) or terminated.shape != rewards.shape:
        raise ShapeError(f"dqn_targets: expected rewards (N,), next_q (N, A), terminated (N,); got "
                         f"{rewards.shape}, {next_q.shape}, {terminated.shape}")
    return rewards + gamma * (1.0 - terminated) * next_q.max(axis=1)


def dqn_loss(q_network, target_network, batch, gamma: float, double: bool = False):
    """The TD loss of a minibatch: Huber(Q(s, a), y) with y = r + gamma (1 - terminated) max_a' Q_target(s', a').

    ``batch`` is ``(states (N, D), actions (N,), rewards (N,), next_states (N, D), terminated (N,))``
    as tensors. The target is computed without gradient: it is a regression label. ``double=True``
    picks the next action with ``q_network`` and evaluates it with ``target_network``.
    """
    import torch

    s, a, r, s_next, done = batch
    with torch.no_grad():
        next_q = target_network(s_next)  # (N, A)
        if double:
            best = q_network(s_next).argmax(dim=1, keepdim=True)
            next_q = next_q.gather(1, best).expand(-1, next_q.shape[1])
        y = r + gamma * (1.0 - done) * next_q.max(dim=1).values
    q = q_network(s).gather(1, a.unsqueeze(1)).squeeze(1)  # Q(s, a) of the actions taken
    return torch.nn.functional.smooth_l1_loss(q, y)


class DQNHistory(NamedTuple):
    episode_returns: list[float]  # each training episode's return, in order
    losses: list[float]  # the TD loss of each update
    q_network: object  # the trained torch module


def train_dqn(num_steps: int = 4000, gamma: float = 0.99, learning_rate: float = 1e-3, batch_size: int = 64,
              buffer_size: int = 10_000, target_every: int = 200, learning_starts: int = 500,
              epsilon_end: float = 0.05, exploration_fraction: float = 0.3, hidden: int = 64, train_every: int = 1,
              double: bool = False, seed: int = 0, max_steps: int = 200, loss_function=None) -> DQNHistory:
    """DQN on one cart-pole. Epsilon falls linearly from 1 to ``epsilon_end`` over the first
    ``exploration_fraction`` of the steps; one minibatch update every ``train_every`` steps. ``double=True`` picks the next action with the online
    network and evaluates it with the target network (double DQN).

    ``loss_function(q_network, target_network, batch, gamma)``, if given, computes the TD loss of a
    minibatch ``(states, actions, rewards, next_states, terminated)`` of tensors in place of
    :func:`dqn_loss` (the chapter passes the learner's own; not with ``double``).
    """
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env = CartPole(num_envs=1, max_steps=max_steps)
    q_network = policy_network(hidden)
    target = policy_network(hidden)
    target.load_state_dict(q_network.state_dict())
    optimizer = torch.optim.Adam(q_network.parameters(), lr=learning_rate)
    buffer = ReplayBuffer(buffer_size, CartPole.observation_size, rng)
    returns, losses, episode_return = [], [], 0.0
    state = env.reset(rng)[0]
    for step in range(num_steps):
        epsilon = max(epsilon_end, 1.0 - (1.0 - epsilon_end) * step / (exploration_fraction * num_steps))
        if rng.random() < epsilon:
            action = int(rng.integers(2))
        else:
            with torch.no_grad():
                action = int(q_network(torch.as_tensor(state, dtype=torch.float32)[None]).argmax())
        next_states, reward, terminated, truncated = env.step(np.array([action]))
        buffer.push(state, action, reward[0], next_states[0], terminated[0])
        episode_return += reward[0]
        state = next_states[0]
        if terminated[0] or truncated[0]:
            returns.append(episode_return)
            episode_return, state = 0.0, env.reset(rng)[0]
        if step >= learning_starts and step % train_every == 0:
            batch = tuple(torch.as_tensor(x) for x in buffer.sample(batch_size))
            if loss_function is not None:
                loss = loss_function(q_network, target, batch, gamma)
            else:
                loss = dqn_loss(q_network, target, batch, gamma, double=double)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        if step % target_every == 0:
            target.load_state_dict(q_network.state_dict())
    return DQNHistory(returns, losses, q_network)


def evaluate_greedy(network, num_episodes: int = 20, seed: int = 100, max_steps: int = 200) -> np.ndarray:
    """Returns of ``num_episodes`` greedy episodes (argmax of the network's outputs)."""
    env = CartPole(num_envs=num_episodes, max_steps=max_steps)
    return rollout(env, network, np.random.default_rng(seed), greedy=True).episode_returns
