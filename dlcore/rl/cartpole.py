"""Cart-pole balancing, written from its equations of motion (chapter 16).

A pole hinged on a cart; the agent pushes the cart left or right with a fixed
force. The dynamics are those of Barto, Sutton and Anderson (1983), with the
constants that became the standard benchmark: g = 9.8, cart mass 1.0, pole
mass 0.1, pole half-length 0.5, force 10 N, time step 0.02 s, Euler steps.

    a_theta = (g sin(theta) - cos(theta) tmp) / (l (4/3 - m_p cos^2(theta) / m))
    a_x = tmp - m_p l a_theta cos(theta) / m,   tmp = (F + m_p l theta_dot^2 sin(theta)) / m

An episode ends when the cart leaves [-2.4, 2.4] or the pole tilts more than
12 degrees ("terminated"), or after ``max_steps`` ("truncated"); each step
survived earns reward 1. Many carts are simulated at once (``num_envs``) so
that a policy can act on a batch: states have shape (N, 4) =
(x, x_dot, theta, theta_dot).
"""

from __future__ import annotations

import numpy as np

from dlcore.errors import expect_int

__all__ = ["CartPole"]

GRAVITY, CART_MASS, POLE_MASS, HALF_LENGTH, FORCE, TAU = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
X_LIMIT, THETA_LIMIT = 2.4, 12 * np.pi / 180


class CartPole:
    """N independent cart-poles stepped together; actions 0 (push left) and 1 (push right)."""

    observation_size, num_actions = 4, 2

    def __init__(self, num_envs: int = 1, max_steps: int = 200) -> None:
        num_envs = expect_int("CartPole", "num_envs", num_envs, 1)
        max_steps = expect_int("CartPole", "max_steps", max_steps, 1)
        self.num_envs, self.max_steps = int(num_envs), int(max_steps)
        self.state = np.zeros((self.num_envs, 4))
        self.steps = np.zeros(self.num_envs, dtype=int)

    def reset(self, rng: np.random.Generator) -> np.ndarray:
        """New episodes: every state variable uniform in [-0.05, 0.05]. Returns (N, 4)."""
        self.state = rng.uniform(-0.05, 0.05, size=(self.num_envs, 4))
        self.steps[:] = 0
        return self.state.copy()

    @staticmethod
    def dynamics(state: np.ndarray, action: np.ndarray) -> np.ndarray:
        """One Euler step of the equations of motion: (N, 4) states, (N,) actions -> (N, 4)."""
        x, x_dot, theta, theta_dot = state.T
        force = np.where(action == 1, FORCE, -FORCE)
        total_mass = CART_MASS + POLE_MASS
        cos, sin = np.cos(theta), np.sin(theta)
        tmp = (force + POLE_MASS * HALF_LENGTH * theta_dot ** 2 * sin) / total_mass
        theta_acc = (GRAVITY * sin - cos * tmp) / (HALF_LENGTH * (4.0 / 3.0 - POLE_MASS * cos ** 2 / total_mass))
        x_acc = tmp - POLE_MASS * HALF_LENGTH * theta_acc * cos / total_mass
        return np.stack([x + TAU * x_dot, x_dot + TAU * x_acc, theta + TAU * theta_dot,
                         theta_dot + TAU * theta_acc], axis=1)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Push every cart; returns (states (N, 4), rewards (N,), terminated (N,), truncated (N,)).

        Carts whose episode has ended keep moving; the caller masks them out
        (see :func:`dlcore.rl.policy_gradient.rollout`).
        """
        action = np.asarray(action)
        if action.shape != (self.num_envs,) or not np.isin(action, (0, 1)).all():
            raise ValueError(f"CartPole.step: action must be {self.num_envs} values in {{0, 1}} with shape "
                             f"({self.num_envs},), got shape {action.shape}")
        self.state = self.dynamics(self.state, action)
        self.steps += 1
        terminated = (np.abs(self.state[:, 0]) > X_LIMIT) | (np.abs(self.state[:, 2]) > THETA_LIMIT)
        truncated = ~terminated & (self.steps >= self.max_steps)
        return self.state.copy(), np.ones(self.num_envs), terminated, truncated
