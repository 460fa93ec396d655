"""GridWorldExplorer: values, a policy and an episode in a grid world (chapter 16).

Pick how the agent learns (value iteration, which knows the model, or
Q-learning, which only sees sampled episodes), the discount, how slippery the
floor is and what each step costs. The left panel shows the state values as
colours, the policy as arrows and one episode of that policy up to the chosen
step; the right panel shows how learning converged. Q-learning trains
afresh for the chosen number of episodes (a few milliseconds: the table is
tiny), so moving a slider is "train a few more episodes, live".
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from dlcore.rl.gridworld import ACTIONS, ARROWS, GridWorld
from dlcore.rl.tabular import policy_evaluation, q_learning, value_iteration
from dlcore.widgets.base import Explorer

__all__ = ["GridWorldExplorer", "GridWorldState", "ALGORITHMS"]

ALGORITHMS = [("value iteration (knows the model)", "value_iteration"),
              ("Q-learning (learns from episodes)", "q_learning")]
MAX_EPISODE_STEPS = 40


@dataclass(frozen=True)
class GridWorldState:
    algorithm: str
    V: np.ndarray  # (S,) values the algorithm believes (max_a Q for Q-learning)
    true_V: np.ndarray  # (S,) exact value of its greedy policy
    policy: np.ndarray  # (S,) greedy actions
    curve: np.ndarray  # value-iteration deltas, or Q-learning returns per episode
    path: list[int]  # states visited by one episode of the policy
    rewards: list[float]  # rewards along the path
    step: int  # how many steps of the path to show


class GridWorldExplorer(Explorer):
    """Value iteration vs Q-learning on the classic 4x3 grid world (Russell and Norvig's, by default)."""

    def __init__(self, algorithm: str = "value_iteration", gamma: float = 0.95, slip: float = 0.2,
                 step_reward: float = -0.04, episodes: int = 200, step: int = MAX_EPISODE_STEPS, seed: int = 0,
                 q_learner=None) -> None:
        """``q_learner(env, num_episodes, rng, gamma=...)`` returning (Q, returns, ...) replaces
        :func:`dlcore.rl.tabular.q_learning` (the chapter passes the learner's own)."""
        self.q_learner = q_learner or q_learning
        style = {"description_width": "initial"}
        self.algorithm = widgets.Dropdown(options=ALGORITHMS, value=algorithm, description="learner", style=style)
        self.gamma = widgets.FloatSlider(value=gamma, min=0.0, max=0.99, step=0.01, description="discount γ",
                                         style=style)
        self.slip = widgets.FloatSlider(value=slip, min=0.0, max=0.6, step=0.05, description="slip", style=style)
        self.step_reward = widgets.FloatSlider(value=step_reward, min=-2.0, max=0.5, step=0.02,
                                               description="reward per step", style=style)
        self.episodes = widgets.IntSlider(value=episodes, min=0, max=400, step=20,
                                          description="Q-learning episodes", style=style)
        self.step = widgets.IntSlider(value=step, min=0, max=MAX_EPISODE_STEPS, description="episode step",
                                      style=style)
        self.seed = int(seed)
        self._cache: dict = {}
        from dlcore.plots.style import new_figure

        fig, (self.ax_grid, self.ax_curve) = new_figure(ncols=2, width=8.4, height=3.2)
        controls = [self.algorithm, self.gamma, self.slip, self.step_reward, self.episodes, self.step]
        super().__init__(fig, controls)
        self._artists = None
        self.watch(*controls)
        self.update()

    # ------------------------------------------------------------------ logic

    def _learn(self, algorithm: str, gamma: float, slip: float, step_reward: float, episodes: int):
        key = (algorithm, gamma, slip, step_reward, episodes if algorithm == "q_learning" else 0)
        if key not in self._cache:
            env = GridWorld(slip=slip, step_reward=step_reward)
            mdp = env.model()
            if algorithm == "value_iteration":
                result = value_iteration(mdp, gamma, tolerance=1e-8)
                V, policy, curve = result.V, result.policy, np.array(result.deltas)
            else:
                Q, curve = self.q_learner(env, episodes, np.random.default_rng(self.seed), gamma=gamma)[:2]
                V, policy = np.where(env.terminal, 0.0, Q.max(axis=1)), Q.argmax(axis=1)
            true_V = policy_evaluation(mdp, policy, gamma)
            self._cache = {key: (env, V, true_V, policy, curve)}  # keep only the latest setting
        return self._cache[key]

    def compute(self) -> GridWorldState:
        gamma, slip = round(float(self.gamma.value), 4), round(float(self.slip.value), 4)
        reward = round(float(self.step_reward.value), 4)
        env, V, true_V, policy, curve = self._learn(self.algorithm.value, gamma, slip, reward, int(self.episodes.value))
        rng = np.random.default_rng(self.seed + 1)  # the same sampled slips for every setting
        path, rewards = [env.reset()], []
        while not env.terminal[path[-1]] and len(rewards) < MAX_EPISODE_STEPS:
            state, reward_t, _ = env.step(int(policy[path[-1]]), rng)
            path.append(state)
            rewards.append(reward_t)
        return GridWorldState(self.algorithm.value, V, true_V, policy, curve, path, rewards,
                              min(int(self.step.value), len(rewards)))

    # ------------------------------------------------------------------ drawing

    def draw(self, state: GridWorldState) -> None:
        env = GridWorld(slip=float(self.slip.value), step_reward=float(self.step_reward.value))
        grid = env.to_grid(state.V)
        limit = max(1.0, float(np.nanmax(np.abs(grid))))
        ax = self.ax_grid
        if self._artists is None:
            self._artists = {"image": ax.imshow(grid, cmap="RdYlGn", vmin=-limit, vmax=limit)}
            ax.set_xticks([]), ax.set_yticks([])
            ax.grid(False)
            self._artists["labels"] = [ax.text(c, r, "", ha="center", va="center", fontsize=9)
                                       for r, c in env.cells]
            self._artists["path"], = ax.plot([], [], "-o", color="black", alpha=0.6, markersize=3)
            self._artists["curve"], = self.ax_curve.plot([], [])
            from matplotlib.patches import Rectangle

            for r, row in enumerate(env.layout):
                for c, ch in enumerate(row):
                    if ch == "#":
                        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, color="dimgrey"))
        self._artists["image"].set_data(grid)
        self._artists["image"].set_clim(-limit, limit)
        for s, label in enumerate(self._artists["labels"]):
            kind = env.kind[s]
            text = kind if kind in "GX" else f"{ARROWS[int(state.policy[s])]}\n{state.V[s]:.2f}"
            label.set_text(text)
        shown = [env.cells[s] for s in state.path[:state.step + 1]]
        self._artists["path"].set_data([c for _, c in shown], [r for r, _ in shown])
        ax.set_title(f"values and policy, episode step {state.step}/{len(state.rewards)}")
        curve = self._artists["curve"]
        ax2 = self.ax_curve
        if state.algorithm == "value_iteration":
            y = np.maximum(state.curve, 1e-12)
            curve.set_data(np.arange(1, len(y) + 1), y)
            ax2.relim()  # forget the previous curve's (possibly negative) limits before going logarithmic
            ax2.set_yscale("log")
            ax2.set_title("value iteration: largest change per sweep")
            ax2.set_xlabel("sweep")
            ax2.set_ylabel("max |ΔV|")
        else:
            y = state.curve
            window = 20
            smooth = np.convolve(y, np.ones(window) / window, mode="valid") if len(y) >= window else y
            curve.set_data(np.arange(len(smooth)), smooth)
            ax2.set_yscale("linear")
            ax2.set_title(f"Q-learning: return per episode ({window}-episode mean)")
            ax2.set_xlabel("episode")
            ax2.set_ylabel("return")
        ax2.relim()
        ax2.autoscale_view()

    def describe(self, state: GridWorldState) -> str:
        start = GridWorld().start
        lines = [f"Learned value of the start: <b>{state.V[start]:.3f}</b>; exact value of the arrows shown: "
                 f"<b>{state.true_V[start]:.3f}</b>."]
        if state.step > 0:
            s, s_next = state.path[state.step - 1], state.path[state.step]
            gamma = float(self.gamma.value)
            so_far = sum(gamma ** t * r for t, r in enumerate(state.rewards[:state.step]))
            lines.append(f"Step {state.step}: chose {ACTIONS[int(state.policy[s])]}, landed in state {s_next}, "
                         f"reward {state.rewards[state.step - 1]:+.2f}; discounted return so far {so_far:+.3f}.")
        return "<br>".join(lines)
