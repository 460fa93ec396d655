"""A grid world: the smallest Markov decision process worth drawing (chapter 16).

The layout is a list of strings: ``.`` a free cell, ``#`` a wall, ``S`` the
start, ``G`` the goal (reward +1, episode ends), ``X`` a pit (reward -1,
episode ends). Actions are up, right, down, left. With probability
``1 - slip`` the agent moves as intended; with ``slip / 2`` each it moves at a
right angle instead (the classic 80/10/10 world of Russell and Norvig has
``slip=0.2``). Bumping into a wall or the border leaves it where it was.
Every move into a non-terminal cell earns ``step_reward``.

The model is available exactly (:meth:`GridWorld.model`, for dynamic
programming) and by sampling (:meth:`GridWorld.reset` / :meth:`GridWorld.step`,
for learning from experience).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["GridWorld", "MDP", "ACTIONS", "ARROWS", "CLASSIC_LAYOUT"]

ACTIONS = ("up", "right", "down", "left")
ARROWS = ("↑", "→", "↓", "←")
_MOVES = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])  # (row, column) change per action
CLASSIC_LAYOUT = ("...G", ".#.X", "S...")


class MDP(NamedTuple):
    """A finite MDP as arrays: S states, A actions.

    P[s, a, s'] is the probability of moving to s'; R[s, a] the expected reward
    of taking a in s; ``terminal[s]`` marks absorbing states (value 0).
    """

    P: np.ndarray  # (S, A, S)
    R: np.ndarray  # (S, A)
    terminal: np.ndarray  # (S,) bool


class GridWorld:
    """The grid world MDP; states are the free cells in reading order."""

    def __init__(self, layout: tuple[str, ...] | list[str] = CLASSIC_LAYOUT, slip: float = 0.2,
                 step_reward: float = -0.04) -> None:
        rows = [str(row) for row in layout]
        if not rows or any(len(row) != len(rows[0]) for row in rows):
            raise ValueError(f"GridWorld: layout must be equal-length strings, got {layout!r}")
        text = "".join(rows)
        if set(text) - set(".#SGX"):
            raise ValueError(f"GridWorld: layout may only use . # S G X, found {sorted(set(text) - set('.#SGX'))}")
        if text.count("S") != 1 or "G" not in text:
            raise ValueError("GridWorld: layout needs exactly one start S and at least one goal G")
        if not 0.0 <= slip <= 1.0:
            raise ValueError(f"GridWorld: slip must be a probability in [0, 1], got {slip!r}")
        if not np.isfinite(step_reward):
            raise ValueError(f"GridWorld: step_reward must be finite, got {step_reward!r}")
        self.layout, self.slip, self.step_reward = tuple(rows), float(slip), float(step_reward)
        self.shape = (len(rows), len(rows[0]))
        self.cells = [(r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch != "#"]
        self.index = {cell: s for s, cell in enumerate(self.cells)}
        self.kind = [rows[r][c] for r, c in self.cells]
        self.start = self.kind.index("S")
        self.terminal = np.array([k in "GX" for k in self.kind])
        self._mdp: MDP | None = None
        self._cumulative: np.ndarray | None = None
        self.state = self.start

    @property
    def num_states(self) -> int:
        return len(self.cells)

    def _target(self, s: int, a: int) -> int:
        r, c = np.add(self.cells[s], _MOVES[a])
        inside = 0 <= r < self.shape[0] and 0 <= c < self.shape[1]
        return self.index.get((int(r), int(c)), s) if inside else s

    def arrival_reward(self, s_next: int) -> float:
        """Reward for moving into ``s_next``: +1 goal, -1 pit, ``step_reward`` otherwise."""
        return {"G": 1.0, "X": -1.0}.get(self.kind[s_next], self.step_reward)

    def outcomes(self, s: int, a: int) -> list[tuple[float, int]]:
        """[(probability, next state), ...] for action ``a`` in state ``s`` (terminal states stay put)."""
        if self.terminal[s]:
            return [(1.0, s)]
        sideways = [(a + 1) % 4, (a + 3) % 4]
        return [(1.0 - self.slip, self._target(s, a))] + [(self.slip / 2, self._target(s, b)) for b in sideways]

    def model(self) -> MDP:
        """The exact transition probabilities and expected rewards (computed once)."""
        if self._mdp is None:
            S = self.num_states
            P, R = np.zeros((S, 4, S)), np.zeros((S, 4))
            for s in range(S):
                for a in range(4):
                    for prob, s_next in self.outcomes(s, a):
                        P[s, a, s_next] += prob
                        if not self.terminal[s]:
                            R[s, a] += prob * self.arrival_reward(s_next)
            self._mdp = MDP(P, R, self.terminal.copy())
        return self._mdp

    def reset(self) -> int:
        """Start a new episode; returns the start state."""
        self.state = self.start
        return self.state

    def step(self, action: int, rng: np.random.Generator) -> tuple[int, float, bool]:
        """Take ``action`` (0..3); returns (next state, reward, episode over)."""
        if action not in (0, 1, 2, 3):
            raise ValueError(f"GridWorld.step: action must be 0..3 ({', '.join(ACTIONS)}), got {action!r}")
        if self.terminal[self.state]:
            raise RuntimeError("GridWorld.step: the episode is over; call reset() first")
        if self._cumulative is None:  # (S, A, S) running sums of P, for inverse-CDF sampling
            self._cumulative = np.cumsum(self.model().P, axis=2)
        row = self._cumulative[self.state, action]
        self.state = min(int(np.searchsorted(row, rng.random() * row[-1], side="right")), self.num_states - 1)
        return self.state, self.arrival_reward(self.state), bool(self.terminal[self.state])

    def to_grid(self, values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """Per-state ``values`` (S,) laid out on the grid (rows, columns); walls get ``fill``."""
        values = np.asarray(values, dtype=float)
        if values.shape != (self.num_states,):
            raise ValueError(f"GridWorld.to_grid: values must have shape ({self.num_states},), got {values.shape}")
        grid = np.full(self.shape, fill)
        for s, (r, c) in enumerate(self.cells):
            grid[r, c] = values[s]
        return grid

    def render_policy(self, policy: np.ndarray) -> str:
        """The layout with an arrow for each non-terminal state's action (a text picture)."""
        rows = [list(row) for row in self.layout]
        for s, (r, c) in enumerate(self.cells):
            if not self.terminal[s]:
                rows[r][c] = ARROWS[int(policy[s])]
        return "\n".join(" ".join(row) for row in rows)
