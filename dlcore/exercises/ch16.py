"""Checks for chapter 16's exercises (reinforcement learning).

- 16.1 implement the discounted returns of an episode           -> :func:`check_discounted_returns`
- 16.2 derive the value of a constant reward over T steps        -> :func:`check_finite_horizon_value`
- 16.3 implement DQN's bootstrapped targets                      -> :func:`check_dqn_targets`
- 16.4 predict how the reward per step changes the best policy   -> :func:`check_behaviour_prediction`
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.exercises.core import not_done_message
from dlcore.exercises.core import Case, CheckResult, fail, mistake_diagnosis, passed
from dlcore.exercises.functions import check_array_function
from dlcore.rl.dqn import dqn_targets
from dlcore.rl.gridworld import GridWorld
from dlcore.rl.tabular import discounted_returns, value_iteration

__all__ = ["check_discounted_returns", "check_finite_horizon_value", "check_dqn_targets",
           "check_behaviour_prediction", "reference_finite_horizon_value", "policy_outcome",
           "PREDICTION_REWARDS", "OUTCOMES"]



# ---------------------------------------------------------------- 16.1 discounted returns

def _forward_sums(rewards, gamma):
    out, running = [], 0.0
    for r in rewards:
        running = r + gamma * running
        out.append(running)
    return np.array(out)


_RETURN_MISTAKES = [
    (lambda r, g: np.cumsum(r[::-1])[::-1], "you summed the future rewards without discounting them"),
    (_forward_sums, "you accumulated from the first step forwards: G_t collects the rewards AFTER t, "
                    "so the loop must run backwards from the last step"),
    (lambda r, g: np.array([sum(g ** k * r[k] for k in range(t, len(r))) for t in range(len(r))]),
     "the discount must restart at each t: G_t = r_t + γ r_{t+1} + ..., so r_{t+k} gets γ^k, not γ^(t+k)"),
    (lambda r, g: np.array([sum(g ** (k + 1) * r[t + k] for k in range(len(r) - t)) for t in range(len(r))]),
     "the first reward is not discounted: G_t = r_t + γ r_{t+1} + ..., r_t has weight γ^0 = 1"),
    (lambda r, g: np.array([sum(g ** k * r[t + k] for k in range(1, len(r) - t)) for t in range(len(r))]),
     "G_t includes r_t itself (the reward of the step taken at t)"),
]


def check_discounted_returns(learner: Callable) -> CheckResult:
    """16.1: ``discounted_returns(rewards, gamma)`` -> (T,) returns G_t."""
    cases = [
        Case((np.array([1.0, 0.0, 2.0]), 0.5), description="rewards [1, 0, 2], γ = 0.5"),
        Case((np.array([-0.04, -0.04, -0.04, 1.0]), 0.9), description="rewards [-0.04, -0.04, -0.04, 1], γ = 0.9"),
        Case((np.array([3.0]), 0.99), description="a one-step episode"),
        Case((np.ones(50), 1.0), description="50 rewards of 1, γ = 1"),
    ]
    return check_array_function("16.1", learner, discounted_returns, cases,
                                diagnoses=[mistake_diagnosis(_RETURN_MISTAKES)],
                                hint="walk backwards: G = 0; for t from T-1 down to 0: G = r_t + γ G; store G",
                                success="returns-to-go are what REINFORCE weights each log-probability by.")


# ---------------------------------------------------------------- 16.2 finite-horizon value

def reference_finite_horizon_value(reward: float, gamma: float, num_steps: int) -> float:
    """sum_{t=0}^{T-1} gamma^t r = r (1 - gamma^T) / (1 - gamma), and r T when gamma = 1."""
    if gamma == 1.0:
        return reward * num_steps
    return reward * (1.0 - gamma ** num_steps) / (1.0 - gamma)


def _safe(f):
    def wrapped(r, g, T):
        return f(r, g, T) if g != 1.0 else np.nan
    return wrapped


_HORIZON_MISTAKES = [
    (_safe(lambda r, g, T: r / (1 - g)), "r / (1 − γ) is the value of an endless stream; after T steps the "
                                         "geometric series stops: subtract what would come after, γ^T r / (1 − γ)"),
    (lambda r, g, T: r * T, "r T ignores the discount: the reward at step t is worth γ^t r today"),
    (_safe(lambda r, g, T: r * (1 - g ** (T + 1)) / (1 - g)), "one step too many: T rewards are at t = 0 .. T−1, "
                                                             "so the series ends with γ^(T−1) and sums to (1 − γ^T)/(1 − γ)"),
    (_safe(lambda r, g, T: r * g * (1 - g ** T) / (1 - g)), "the first reward is not discounted (t = 0 has γ^0 = 1)"),
    (_safe(lambda r, g, T: r * (1 - g ** (T - 1)) / (1 - g)), "one step too few: there are T rewards, from t = 0 to T−1"),
]


def check_finite_horizon_value(learner: Callable) -> CheckResult:
    """16.2: ``finite_horizon_value(reward, gamma, num_steps)`` -> the discounted sum as a float."""
    cases = [
        Case((1.0, 0.9, 12), description="r = 1, γ = 0.9, T = 12"),
        Case((-0.04, 0.99, 25), description="r = −0.04, γ = 0.99, T = 25"),
        Case((2.0, 0.5, 1), description="r = 2, γ = 0.5, T = 1"),
        Case((1.0, 1.0, 7), description="r = 1, γ = 1, T = 7 (no discount)"),
    ]
    return check_array_function("16.2", learner, reference_finite_horizon_value, cases,
                                diagnoses=[mistake_diagnosis(_HORIZON_MISTAKES)],
                                hint="write S = r + γ r + ... + γ^(T−1) r, subtract γ S and solve for S; "
                                     "treat γ = 1 separately (the formula divides by zero there)",
                                success="a 0.99 discount makes the horizon about 1 / (1 − γ) = 100 steps.")


# ---------------------------------------------------------------- 16.3 DQN targets

_TARGET_MISTAKES = [
    (lambda r, q, d, g: r + g * q.max(axis=1), "a terminated transition has no future: multiply the bootstrap term "
                                               "by (1 − terminated)"),
    (lambda r, q, d, g: r + g * d * q.max(axis=1), "the mask is inverted: bootstrap when the episode goes ON, "
                                                   "i.e. multiply by (1 − terminated), not by terminated"),
    (lambda r, q, d, g: r + g * (1 - d) * q.mean(axis=1), "Q-learning's target takes the BEST next action "
                                                          "(max over a'), not the average (that would be "
                                                          "expected SARSA with a uniform policy)"),
    (lambda r, q, d, g: r + g * (1 - d) * q.min(axis=1), "max, not min: the target assumes the greedy action next"),
    (lambda r, q, d, g: r + (1 - d) * q.max(axis=1), "the discount γ is missing in front of max Q"),
    (lambda r, q, d, g: g * (r + (1 - d) * q.max(axis=1)), "only the future is discounted: y = r + γ max Q, not γ (r + max Q)"),
]


def check_dqn_targets(learner: Callable) -> CheckResult:
    """16.3: ``dqn_targets(rewards, next_q, terminated, gamma)`` -> (N,) targets."""
    rng = np.random.default_rng(16)
    cases = [
        Case((np.array([1.0, 1.0]), np.array([[2.0, 5.0], [3.0, -1.0]]), np.array([0.0, 1.0]), 0.9),
             description="two transitions, the second one terminal"),
        Case((rng.standard_normal(6), rng.standard_normal((6, 3)), (rng.random(6) < 0.5).astype(float), 0.99),
             description="6 random transitions with 3 actions"),
        Case((np.array([0.0]), np.array([[1.0, 2.0]]), np.array([0.0]), 0.5), description="one transition"),
    ]
    return check_array_function("16.3", learner, dqn_targets, cases, diagnoses=[mistake_diagnosis(_TARGET_MISTAKES)],
                                hint="y = r + γ (1 − terminated) max_a' Q_target(s', a'), one number per transition",
                                success="these are the regression targets of every DQN update.")


# ---------------------------------------------------------------- 16.4 predict the behaviour

PREDICTION_REWARDS = (-3.0, -0.04, 0.5)
OUTCOMES = ("goal", "pit", "never ends")
PREDICTION_GAMMA = 0.99


def policy_outcome(step_reward: float, gamma: float = PREDICTION_GAMMA, slip: float = 0.2) -> str:
    """Where the optimal policy's episodes from the start most often end: "goal", "pit" or "never ends".

    Exact: the probability of being absorbed in each terminal state, from the
    model, after 1,000 steps of the optimal policy.
    """
    env = GridWorld(slip=slip, step_reward=step_reward)
    mdp = env.model()
    policy = value_iteration(mdp, gamma).policy
    P_pi = mdp.P[np.arange(env.num_states), policy]  # (S, S)
    where = np.linalg.matrix_power(P_pi, 1000)[env.start]
    goal = sum(where[s] for s in range(env.num_states) if env.kind[s] == "G")
    pit = sum(where[s] for s in range(env.num_states) if env.kind[s] == "X")
    return max([("goal", goal), ("pit", pit), ("never ends", 1.0 - goal - pit)], key=lambda item: item[1])[0]


_WHY = {
    -3.0: "at −3 per step every step hurts more than the pit (−1): the best plan is the shortest way out, "
          "and from the start the pit is one step closer than the goal",
    -0.04: "a small cost per step makes the agent head for the goal, taking the long safe way round the pit",
    0.5: "with a positive reward per step, living is worth 0.5 / (1 − γ) = 50, far more than the goal's +1: "
         "the agent avoids both exits, e.g. by walking into a wall forever",
}


def check_behaviour_prediction(prediction: dict) -> CheckResult:
    """16.4: ``prediction`` maps each reward per step in PREDICTION_REWARDS to one of OUTCOMES."""
    if prediction is Ellipsis:
        raise not_done_message("Exercise 16.4 is not done yet: replace the ... with your predictions.")
    if not isinstance(prediction, dict) or set(prediction) != set(PREDICTION_REWARDS):
        fail("16.4", f"expected a dict with the keys {PREDICTION_REWARDS}, got {prediction!r}",
             "one prediction per reward per step, e.g. {-3.0: 'pit', ...}")
    for reward in PREDICTION_REWARDS:
        answer = prediction[reward]
        if answer is Ellipsis:
            raise not_done_message(f"Exercise 16.4 is not done yet: replace the ... for reward {reward}.")
        if answer not in OUTCOMES:
            fail("16.4", f"the prediction for reward {reward} is {answer!r}; choose one of {OUTCOMES}")
        truth = policy_outcome(reward)
        if answer != truth:
            fail("16.4", f"for reward per step {reward} you predicted {answer!r}; value iteration's policy "
                         f"ends in: {truth!r}", _WHY[reward])
    return passed("16.4", "the reward defines the task: change it and the 'intelligent' behaviour changes.")
