"""Checks for chapter 16's exercises (reinforcement learning).

- 16.1 implement the discounted returns of a stream of episodes       -> :func:`check_discounted_returns`
- 16.2 derive the value of a constant reward over T steps            -> :func:`check_finite_horizon_value`
- 16.3 implement value iteration and its greedy policy               -> :func:`check_value_iteration`
- 16.4 implement tabular Q-learning with an ε-greedy behaviour       -> :func:`check_q_learning`
- 16.5 predict how the reward per step changes the best policy       -> :func:`check_behaviour_prediction`
- 16.6 implement the REINFORCE loss with a baseline (PyTorch)        -> :func:`check_reinforce_loss`
- 16.7 implement DQN's TD loss: target network and done mask         -> :func:`check_dqn_loss`

Each build check accepts the learner's function, so that later cells run on it
(:func:`dlcore.exercises.learner.implementation`); :data:`REFERENCES` names the
dlcore functions each exercise rebuilds (never shown before the exercise).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlcore.exercises.core import Case, CheckResult, Mistake, not_done_message
from dlcore.exercises.functions import check_function
from dlcore.exercises.learner import accept
from dlcore.exercises.verdicts import check_verdicts
from dlcore.rl.cartpole import CartPole
from dlcore.rl.dqn import dqn_loss, dqn_targets
from dlcore.rl.gridworld import MDP, GridWorld
from dlcore.rl.policy_gradient import policy_network, reinforce_loss, returns_to_go, rollout
from dlcore.rl.tabular import discounted_returns, greedy_policy, q_learning, value_iteration

__all__ = ["REFERENCES", "check_discounted_returns", "check_finite_horizon_value", "check_value_iteration",
           "check_q_learning", "check_behaviour_prediction", "check_reinforce_loss", "check_dqn_loss",
           "reference_finite_horizon_value", "reference_value_iteration", "reference_q_learning",
           "reference_reinforce_loss",
           "policy_outcome", "PREDICTION_REWARDS", "OUTCOMES"]

REFERENCES = {
    "16.1": (discounted_returns,),
    "16.3": (value_iteration,),
    "16.4": (q_learning,),
    "16.6": (reinforce_loss,),
    "16.7": (dqn_loss,),
}


def _accept_as(label: str, name: str, function: Callable) -> None:
    """A check that compared an adapted call of the learner's function accepts the function itself."""
    accept(name, function, label)


# ---------------------------------------------------------------- 16.1 discounted returns

def _returns(rewards, gamma, dones, *, mistake: str = ""):
    """The returns of a stream of episodes, or one typical wrong version of them."""
    rewards, dones = np.asarray(rewards, dtype=float), np.asarray(dones, dtype=bool)
    T = len(rewards)
    out, running = np.zeros(T), 0.0
    if mistake == "forwards":
        for t in range(T):
            running = rewards[t] + gamma * running
            out[t] = running
            if dones[t]:
                running = 0.0
        return out
    if mistake == "absolute-discount":  # gamma^(k) counted from the episode's first step
        for t in range(T):
            out[t] = sum(gamma ** k * rewards[k] for k in range(t, _episode_end(dones, t) + 1))
        return out
    stop = 0 if mistake == "stops-at-t1" else -1
    for t in range(T - 1, stop, -1):
        if mistake == "boundary-off-by-one":
            running = rewards[t] + gamma * running
            out[t] = running
            if dones[t]:
                running = 0.0
            continue
        if dones[t] and mistake != "ignores-dones":
            running = 0.0
        g = 1.0 if mistake == "no-discount" else gamma
        if mistake == "first-reward-discounted":
            running = g * (rewards[t] + running)
        elif mistake == "excludes-own-reward":
            out[t] = g * running
            running = rewards[t] + g * running
            continue
        else:
            running = rewards[t] + g * running
        out[t] = running
    return out


def _episode_end(dones, t):
    ends = np.flatnonzero(np.asarray(dones[t:], dtype=bool))
    return t + int(ends[0]) if len(ends) else len(dones) - 1


def _returns_mistake(kind: str):
    return lambda r, g, d: _returns(r, g, d, mistake=kind)


_RETURN_MISTAKES = [
    Mistake("stops-at-t1", _returns_mistake("stops-at-t1"),
            "every return is right except the first one, G_0, which is still 0: your backwards loop stops at t = 1 "
            "(the stop value of range is excluded, so range(T - 1, 0, -1) never reaches t = 0)"),
    Mistake("ignores-dones", _returns_mistake("ignores-dones"),
            "the returns run across episode boundaries: where dones[t] is True the episode ends, so the rewards "
            "of the next episode must not flow into G_t"),
    Mistake("boundary-off-by-one", _returns_mistake("boundary-off-by-one"),
            "the episode boundary is one step off: dones[t] = True marks the LAST step of an episode, so G_t "
            "of that step is r_t alone; reset the running return before adding r_t, not after"),
    Mistake("no-discount", _returns_mistake("no-discount"), "you summed the future rewards without discounting them"),
    Mistake("forwards", _returns_mistake("forwards"),
            "you accumulated from the first step forwards: G_t collects the rewards from t ON, so the loop must "
            "run backwards from the last step"),
    Mistake("absolute-discount", _returns_mistake("absolute-discount"),
            "the discount must restart at each t: in G_t the reward r_{t+k} gets γ^k, not γ to the power of its "
            "position in the episode"),
    Mistake("first-reward-discounted", _returns_mistake("first-reward-discounted"),
            "the first reward is discounted too: in G_t, r_t itself has weight γ^0 = 1"),
    Mistake("excludes-own-reward", _returns_mistake("excludes-own-reward"),
            "G_t leaves out r_t: the return from step t includes the reward of the step taken at t"),
]


def check_discounted_returns(learner: Callable) -> CheckResult:
    """16.1: ``discounted_returns(rewards, gamma, dones)`` -> (T,) returns G_t, restarting after each episode end."""
    cases = [
        Case((np.array([1.0, 0.0, 2.0]), 0.5, np.array([False, False, True])),
             description="rewards [1, 0, 2], γ = 0.5, one episode"),
        Case((np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 0.9, np.array([False, True, False, False, True])),
             description="rewards [1, 2, 3, 4, 5], γ = 0.9, dones [F, T, F, F, T] (two episodes)"),
        Case((np.array([-0.04, -0.04, 1.0, -0.04, -0.04]), 0.9, np.array([False, False, True, False, False])),
             description="rewards [-0.04, -0.04, 1, -0.04, -0.04], γ = 0.9, dones [F, F, T, F, F] "
                         "(the second episode is cut off)"),
        Case((np.array([3.0]), 0.99, np.array([True])), description="a one-step episode"),
        Case((np.ones(50), 1.0, np.arange(50) % 10 == 9), description="5 episodes of 10 rewards of 1, γ = 1"),
    ]
    return check_function(
        "16.1", learner, discounted_returns, cases, name="discounted_returns", mistakes=_RETURN_MISTAKES,
        forbid=[returns_to_go],
        hint="walk backwards from the last step keeping a running return; at a step whose done flag is set, "
             "start the running return afresh before adding that step's reward.",
        success="returns-to-go are what REINFORCE weights each log-probability by.")


# ---------------------------------------------------------------- 16.2 finite-horizon value

def reference_finite_horizon_value(reward: float, gamma: float, num_steps: int) -> float:
    """sum_{t=0}^{T-1} gamma^t r = r (1 - gamma^T) / (1 - gamma), and r T when gamma = 1."""
    if gamma == 1.0:
        return reward * num_steps
    return reward * (1.0 - gamma ** num_steps) / (1.0 - gamma)


def _below_one(f):
    def wrapped(r, g, T):
        return f(r, g, T) if g != 1.0 else np.nan
    return wrapped


_HORIZON_MISTAKES = [
    Mistake("endless-stream", _below_one(lambda r, g, T: r / (1 - g)),
            "r / (1 − γ) is the value of an endless stream; after T steps the geometric series stops: subtract "
            "what would come after step T"),
    Mistake("no-discount", lambda r, g, T: r * T,
            "r T ignores the discount: the reward at step t is worth γ^t r today"),
    Mistake("one-step-too-many", _below_one(lambda r, g, T: r * (1 - g ** (T + 1)) / (1 - g)),
            "one step too many: the T rewards are at t = 0 .. T−1, so the last term is γ^(T−1) r"),
    Mistake("first-reward-discounted", _below_one(lambda r, g, T: r * g * (1 - g ** T) / (1 - g)),
            "the first reward is discounted: t = 0 has weight γ^0 = 1"),
    Mistake("one-step-too-few", _below_one(lambda r, g, T: r * (1 - g ** (T - 1)) / (1 - g)),
            "one step too few: there are T rewards, from t = 0 to T−1"),
]


def check_finite_horizon_value(learner: Callable) -> CheckResult:
    """16.2: ``finite_horizon_value(reward, gamma, num_steps)`` -> the discounted sum as a float."""
    cases = [
        Case((1.0, 0.9, 12), description="r = 1, γ = 0.9, T = 12"),
        Case((-0.04, 0.99, 25), description="r = −0.04, γ = 0.99, T = 25"),
        Case((2.0, 0.5, 1), description="r = 2, γ = 0.5, T = 1"),
        Case((1.0, 1.0, 7), description="r = 1, γ = 1, T = 7 (no discount)"),
    ]
    return check_function(
        "16.2", learner, reference_finite_horizon_value, cases, name="finite_horizon_value",
        mistakes=_HORIZON_MISTAKES,
        hint="write S = r + γ r + ... + γ^(T−1) r, subtract γ S and solve for S; treat γ = 1 separately "
             "(the formula divides by zero there)",
        success="a discount γ makes the horizon about 1 / (1 − γ) steps.")


# ---------------------------------------------------------------- 16.3 value iteration

def reference_value_iteration(mdp: MDP, gamma: float):
    """(V, policy) of :func:`dlcore.rl.tabular.value_iteration`."""
    result = value_iteration(mdp, gamma)
    return result.V, result.policy


def _value_iteration(mdp: MDP, gamma: float, *, mistake: str = ""):
    """Value iteration as the exercise asks, or one typical wrong version of it."""
    V = np.zeros(mdp.R.shape[0])
    g = 1.0 if mistake == "no-discount" and gamma < 1 else gamma
    for sweep in range(10_000):
        Q = mdp.R + g * mdp.P @ V  # (S, A)
        if mistake == "argmax-not-max":
            new = Q.argmax(axis=1).astype(float)
        elif mistake == "mean-over-actions":
            new = Q.mean(axis=1)
        else:
            new = Q.max(axis=1)
        if mistake != "terminal-not-zero":
            new = np.where(mdp.terminal, 0.0, new)
        done = np.abs(new - V).max() < 1e-12 or mistake == "one-sweep" or (
            mistake in ("argmax-not-max", "no-discount") and sweep >= 2000)
        V = new
        if done:
            break
    Q = np.round(mdp.R + gamma * mdp.P @ V, 12)  # ties go to the first action, as in the reference
    policy = mdp.R.argmax(axis=1) if mistake == "policy-from-reward" else Q.argmax(axis=1)
    return V, policy


def _vi_mistake(kind: str):
    return lambda mdp, gamma: _value_iteration(mdp, gamma, mistake=kind)


_VALUE_MISTAKES = [
    Mistake("argmax-not-max", _vi_mistake("argmax-not-max"),
            "your values are action numbers: the Bellman optimality update takes the largest action value "
            "(max over actions), not the index of the largest (argmax)"),
    Mistake("mean-over-actions", _vi_mistake("mean-over-actions"),
            "you averaged over the actions: that evaluates the uniformly random policy; the optimal value "
            "takes the best action in each state"),
    Mistake("terminal-not-zero", _vi_mistake("terminal-not-zero"),
            "a terminal state has value 0 (nothing follows it): mask the terminal states with mdp.terminal "
            "after each sweep"),
    Mistake("one-sweep", _vi_mistake("one-sweep"),
            "you stopped after one sweep: repeat the update until the largest change of V is below the tolerance"),
    Mistake("no-discount", _vi_mistake("no-discount"), "the discount γ is missing in front of the next state's value"),
    Mistake("policy-from-reward", _vi_mistake("policy-from-reward"),
            "the values are right but the policy is greedy on the immediate reward R only: choose the action "
            "with the largest R + γ P V"),
]


def _random_mdp(seed: int, S: int = 6, A: int = 3) -> MDP:
    """A small random MDP: dense transitions, and two absorbing terminal states whose rows still carry rewards."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))  # (S, A, S)
    terminal = np.zeros(S, dtype=bool)
    terminal[[1, 4]] = True
    P[terminal] = np.eye(S)[terminal][:, None, :]  # terminal states stay put
    return MDP(P, rng.standard_normal((S, A)), terminal)


def check_value_iteration(learner: Callable) -> CheckResult:
    """16.3: ``value_iteration(mdp, gamma)`` -> (V (S,), policy (S,) ints)."""
    grid = GridWorld().model()
    cases = [
        Case((_random_mdp(16), 0.9),
             description="a random MDP with 6 states (two of them terminal), 3 actions, γ = 0.9"),
        Case((grid, 0.9), description="the 4×3 grid world, γ = 0.9"),
        Case((grid, 1.0), description="the 4×3 grid world, γ = 1"),
        Case((_random_mdp(3, S=9, A=4), 0.5), description="a random MDP with 9 states, 4 actions, γ = 0.5"),
    ]
    return check_function(
        "16.3", learner, reference_value_iteration, cases, name="value_iteration", outputs=("V", "policy"),
        mistakes=_VALUE_MISTAKES, forbid=[value_iteration, greedy_policy], atol=1e-7,
        hint="one sweep: the action values R + γ P V of every state and action at once (P @ V has shape (S, A)), "
             "then the best of them per state, with terminal states set to 0; repeat until V stops changing",
        success="these are the optimal values; the greedy policy on them is optimal.")


# ---------------------------------------------------------------- 16.4 Q-learning

def reference_q_learning(seed: int, num_episodes: int, gamma: float, learning_rate: float, epsilon: float,
                         max_steps: int):
    """(Q, returns) of :func:`dlcore.rl.tabular.q_learning` on the classic grid world, seeded."""
    result = q_learning(GridWorld(), num_episodes, np.random.default_rng(seed), gamma=gamma,
                        learning_rate=learning_rate, epsilon=epsilon, max_steps=max_steps)
    return result.Q, result.returns


def _q_learning(seed, num_episodes, gamma, learning_rate, epsilon, max_steps, *, mistake: str = ""):
    """Q-learning as the exercise asks, or one typical wrong version of it."""
    env, rng = GridWorld(), np.random.default_rng(seed)
    Q, returns = np.zeros((env.num_states, 4)), np.zeros(num_episodes)
    for episode in range(num_episodes):
        s = env.reset()
        for _ in range(max_steps):
            if mistake == "always-draws-random-action":
                random_action = int(rng.integers(4))
                a = random_action if rng.random() < epsilon else int(np.argmax(Q[s]))
            elif mistake == "no-exploration":
                a = int(np.argmax(Q[s]))
            elif mistake == "exploration-inverted":
                a = int(rng.integers(4)) if rng.random() >= epsilon else int(np.argmax(Q[s]))
            else:
                a = int(rng.integers(4)) if rng.random() < epsilon else int(np.argmax(Q[s]))
            s_next, r, done = env.step(a, rng)
            if mistake == "argmax-not-max":
                future = float(np.argmax(Q[s_next]))
            elif mistake == "mean-not-max":
                future = Q[s_next].mean()
            else:
                future = Q[s_next].max()
            g = 1.0 if mistake == "no-discount" else gamma
            target = r + (0.0 if done else g * future)
            if mistake == "no-learning-rate":
                Q[s, a] = target
            elif mistake == "forgets-minus-q":
                Q[s, a] += learning_rate * target
            else:
                Q[s, a] += learning_rate * (target - Q[s, a])
            returns[episode] += r
            s = s_next
            if done:
                break
    return Q, returns


def _q_mistake(kind: str):
    return lambda *args: _q_learning(*args, mistake=kind)


_Q_MISTAKES = [
    Mistake("argmax-not-max", _q_mistake("argmax-not-max"),
            "your target adds γ times an action NUMBER: the bootstrap term is the value of the best next action "
            "(max over Q[s_next]), not its index (argmax)"),
    Mistake("mean-not-max", _q_mistake("mean-not-max"),
            "your target averages the next state's action values: Q-learning bootstraps with the best one (max), "
            "which is what makes it learn the greedy policy's values"),
    Mistake("no-learning-rate", _q_mistake("no-learning-rate"),
            "you replaced Q[s, a] by the target: move it only a step of size learning_rate towards the target"),
    Mistake("forgets-minus-q", _q_mistake("forgets-minus-q"),
            "the update adds learning_rate × target: it should add learning_rate × (target − Q[s, a]), "
            "the TD error"),
    Mistake("no-discount", _q_mistake("no-discount"), "the discount γ is missing in front of the bootstrap term"),
    Mistake("exploration-inverted", _q_mistake("exploration-inverted"),
            "the agent explores with probability 1 − ε: take the random action when rng.random() < epsilon"),
    Mistake("no-exploration", _q_mistake("no-exploration"),
            "your agent never explores (and never draws rng.random()): with probability epsilon it must take a "
            "random action"),
    Mistake("always-draws-random-action", _q_mistake("always-draws-random-action"),
            "the updates are right but your random numbers are drawn in another order: draw rng.random() first, "
            "and rng.integers(4) only when exploring, so that your run matches the one the chapter describes"),
]


def check_q_learning(learner: Callable) -> CheckResult:
    """16.4: ``q_learning(env, num_episodes, rng, gamma, learning_rate, epsilon, max_steps)`` -> (Q, returns)."""
    def seeded(seed, num_episodes, gamma, learning_rate, epsilon, max_steps):
        return learner(GridWorld(), num_episodes, np.random.default_rng(seed), gamma=gamma,
                       learning_rate=learning_rate, epsilon=epsilon, max_steps=max_steps)

    cases = [
        Case((0, 30, 0.9, 0.5, 0.2, 100), description="30 episodes in the grid world, seed 0, γ = 0.9, "
                                                      "learning_rate = 0.5, ε = 0.2"),
        Case((1, 60, 0.99, 0.2, 0.5, 20), description="60 episodes of at most 20 steps, seed 1, γ = 0.99, "
                                                      "learning_rate = 0.2, ε = 0.5"),
    ]
    result = check_function(
        "16.4", seeded, reference_q_learning, cases, name="q_learning", outputs=("Q", "returns"),
        mistakes=_Q_MISTAKES, forbid=[q_learning],
        hint="per step: choose (ε-greedy), step, form the target r + γ max_a' Q[s_next, a'] (no bootstrap when the "
             "episode is over), move Q[s, a] towards it by learning_rate, add r to the episode's return",
        success="your agent learns the values from its own transitions, without the model.")
    _accept_as("16.4", "q_learning", learner)
    return result


# ---------------------------------------------------------------- 16.5 predict the behaviour

_SETTING = {-3.0: "costly-steps", -0.04: "small-step-cost", 0.5: "rewarded-steps"}

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
    -3.0: "compare the cost of one more step with the pit's −1, and count the moves from the start to each exit",
    -0.04: "a small cost per step: is the goal's +1 worth a few extra steps, and which way round is safe?",
    0.5: "what is a reward of 0.5 per step worth over an endless episode at γ = 0.99 (exercise 16.2), "
         "compared with the goal's +1?",
}


def check_behaviour_prediction(prediction: dict) -> CheckResult:
    """16.5: ``prediction`` maps each reward per step in PREDICTION_REWARDS to one of OUTCOMES.

    A wrong entry is not corrected (with three outcomes that would give it away): the check says the policy
    does something else and asks the question that leads there.
    """
    if prediction is Ellipsis:
        raise not_done_message("Exercise 16.5 is not done yet: replace the ... with your predictions.")
    return check_verdicts(
        "16.5", prediction, [policy_outcome(reward) for reward in PREDICTION_REWARDS],
        cases=[f"reward {reward} per step" for reward in PREDICTION_REWARDS],
        ids=[_SETTING[reward] for reward in PREDICTION_REWARDS], vocabulary=OUTCOMES, keys=PREDICTION_REWARDS,
        reasons=[_WHY[reward] for reward in PREDICTION_REWARDS], reveal=False,
        hint="value iteration's policy follows the reward you give it, not the goal you had in mind",
        example="one prediction per reward per step, e.g. {-3.0: 'goal', -0.04: 'goal', 0.5: 'goal'}",
        success="the reward defines the task: change it and the 'intelligent' behaviour changes.")


# ---------------------------------------------------------------- 16.6 the REINFORCE loss

def _torch():
    import torch

    return torch


def _reinforce_setup(seed: int, num_episodes: int = 5):
    """A small random policy and a batch of cart-pole episodes of different lengths, both from ``seed``."""
    torch = _torch()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        policy = policy_network(8)
    batch = rollout(CartPole(num_envs=num_episodes), policy, np.random.default_rng(seed))
    return policy, batch


def _loss_and_gradient(loss_function, policy_args, *rest):
    """Call a loss on fresh networks, backpropagate, return (loss value, the gradient of the first network)."""
    torch = _torch()
    loss = loss_function(*policy_args, *rest)
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise TypeError(f"the loss must be a torch tensor holding one number, got {type(loss).__name__}"
                        + (f" of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else "")
                        + ": compute it with torch operations and reduce it to a scalar")
    if not loss.requires_grad:
        raise TypeError("the loss carries no gradient: compute it from the network's outputs with torch "
                        "operations (no .item(), .numpy() or torch.no_grad() on that path)")
    loss.backward()
    network = policy_args[0]
    gradient = torch.cat([p.grad.flatten() if p.grad is not None else torch.zeros(p.numel())
                          for p in network.parameters()])
    return float(loss.detach()), gradient.double().numpy()


def reference_reinforce_loss(policy, batch, gamma: float, baseline: str = "mean"):
    """The loss alone of :func:`dlcore.rl.policy_gradient.reinforce_loss` (the exercise's signature)."""
    return reinforce_loss(policy, batch, gamma, baseline)[0]


def reference_reinforce_case(seed: int, gamma: float, baseline: str):
    """(loss, gradient) of dlcore's :func:`~dlcore.rl.policy_gradient.reinforce_loss` on the case's batch."""
    policy, batch = _reinforce_setup(seed)
    return _loss_and_gradient(reference_reinforce_loss, (policy, batch), gamma, baseline)


def _reinforce_variant(policy, batch, gamma, baseline, *, mistake: str = ""):
    torch = _torch()
    rewards, alive = batch.rewards, batch.alive
    T, N = rewards.shape
    g = 1.0 if mistake == "no-discount" else gamma
    G, running = np.zeros((T, N)), np.zeros(N)
    for t in range(T - 1, -1, -1):
        running = rewards[t] + g * running
        G[t] = running
    if mistake == "whole-episode-return":
        G = np.where(alive, G[0], 0.0)
    use = np.ones_like(alive) if mistake == "padding-included" else alive
    if baseline == "mean" and mistake != "baseline-ignored":
        if mistake == "baseline-over-all-steps":
            b = np.full((T, 1), G[alive].mean())
        elif mistake == "baseline-counts-finished":
            b = (G * alive).sum(axis=1, keepdims=True) / N
        else:
            b = (G * alive).sum(axis=1, keepdims=True) / np.maximum(alive.sum(axis=1, keepdims=True), 1)
        weights = G - b
    else:
        weights = G
    states = torch.as_tensor(batch.states[use], dtype=torch.float32)
    log_probs = torch.log_softmax(policy(states), dim=1)
    if mistake == "probabilities-not-log":
        log_probs = torch.softmax(policy(states), dim=1)
    chosen = log_probs.gather(1, torch.as_tensor(batch.actions[use]).long().unsqueeze(1)).squeeze(1)
    total = (chosen * torch.as_tensor(weights[use], dtype=torch.float32)).sum()
    loss = total if mistake == "sign-flipped" else -total
    return loss / (use.sum() if mistake == "mean-over-steps" else N)


def _reinforce_mistake(kind: str):
    def compute(seed, gamma, baseline):
        policy, batch = _reinforce_setup(seed)
        return _loss_and_gradient(lambda *a: _reinforce_variant(*a, mistake=kind), (policy, batch), gamma, baseline)
    return compute


_REINFORCE_MISTAKES = [
    Mistake("sign-flipped", _reinforce_mistake("sign-flipped"),
            "your loss has the wrong sign: the optimizer MINIMISES it, so it must be minus the weighted "
            "log-probabilities, or training would make well-rewarded actions rarer"),
    Mistake("mean-over-steps", _reinforce_mistake("mean-over-steps"),
            "you averaged over all steps: sum over the steps of each episode and divide by the number of "
            "episodes N (batch.alive.shape[1]), so a long episode counts with all its steps"),
    Mistake("whole-episode-return", _reinforce_mistake("whole-episode-return"),
            "you weighted every step by the whole episode's return G_0: an action cannot change the rewards "
            "before it, so weight step t by the return from t on, G_t"),
    Mistake("no-discount", _reinforce_mistake("no-discount"), "the returns are not discounted: use γ"),
    Mistake("baseline-ignored", _reinforce_mistake("baseline-ignored"),
            "with baseline='mean' your loss is the same as without: subtract the baseline from G_t"),
    Mistake("baseline-over-all-steps", _reinforce_mistake("baseline-over-all-steps"),
            "your baseline is one number for the whole batch: the baseline at step t is the mean return-to-go "
            "of the episodes still running at step t"),
    Mistake("baseline-counts-finished", _reinforce_mistake("baseline-counts-finished"),
            "your baseline at step t averages over all N episodes, counting the ones that already ended (with "
            "return 0): average over the episodes still alive at t only"),
    Mistake("padding-included", _reinforce_mistake("padding-included"),
            "your loss includes the padding steps after an episode ended: keep only the steps where batch.alive "
            "is True"),
    Mistake("probabilities-not-log", _reinforce_mistake("probabilities-not-log"),
            "you weighted the probabilities π(a|s), not their logarithms: the score function is ∇ log π"),
]


def check_reinforce_loss(learner: Callable) -> CheckResult:
    """16.6: ``reinforce_loss(policy, batch, gamma, baseline)`` -> a scalar torch loss (baseline "none" or "mean")."""
    def on_case(seed, gamma, baseline):
        policy, batch = _reinforce_setup(seed)
        return _loss_and_gradient(learner, (policy, batch), gamma, baseline)

    cases = [
        Case((0, 0.99, "none"),
             description="5 cart-pole episodes of a random 4-8-2 policy, γ = 0.99, baseline 'none'"),
        Case((1, 0.9, "mean"), description="5 other episodes, γ = 0.9, baseline 'mean'"),
        Case((2, 0.99, "mean"), description="5 other episodes, γ = 0.99, baseline 'mean'"),
    ]
    result = check_function(
        "16.6", on_case, reference_reinforce_case, cases, name="reinforce_loss", outputs=("loss", "gradient"),
        mistakes=_REINFORCE_MISTAKES, forbid=[reinforce_loss, returns_to_go, discounted_returns],
        rtol=1e-4, atol=1e-6,
        hint="returns-to-go for every (t, episode) by one backwards loop over t; the weights G_t − b_t; the "
             "log-probabilities of the actions taken (log_softmax, then gather), only where batch.alive; "
             "minus the weighted sum, divided by the number of episodes",
        success="its gradient is the REINFORCE estimate; the training below runs on it.")
    _accept_as("16.6", "reinforce_loss", learner)
    return result


# ---------------------------------------------------------------- 16.7 DQN's TD loss

def _dqn_setup(seed: int, N: int = 8):
    """An online and a target network (different weights) and a minibatch of transitions, some terminal."""
    torch = _torch()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        q_network, target_network = policy_network(8), policy_network(8)
    rng = np.random.default_rng(seed)
    terminated = np.zeros(N, dtype=np.float32)
    terminated[rng.permutation(N)[:3]] = 1.0
    batch = (torch.as_tensor(rng.standard_normal((N, 4)), dtype=torch.float32),
             torch.as_tensor(rng.integers(0, 2, N)),
             torch.as_tensor(rng.choice([1.0, 2.5], N), dtype=torch.float32),
             torch.as_tensor(rng.standard_normal((N, 4)) * 3, dtype=torch.float32),
             torch.as_tensor(terminated))
    return q_network, target_network, batch


def _dqn_case(loss_function, seed, gamma):
    """(loss, gradient of the online network, whether the target network received a gradient)."""
    q_network, target_network, batch = _dqn_setup(seed)
    loss, gradient = _loss_and_gradient(loss_function, (q_network, target_network, batch), gamma)
    touched = any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in target_network.parameters())
    return loss, gradient, float(touched)


def reference_dqn_case(seed: int, gamma: float):
    return _dqn_case(dqn_loss, seed, gamma)


def _dqn_variant(q_network, target_network, batch, gamma, *, mistake: str = ""):
    torch = _torch()
    s, a, r, s_next, done = batch
    bootstrap = q_network if mistake == "online-network-target" else target_network
    with torch.no_grad() if mistake != "target-not-detached" else torch.enable_grad():
        next_q = bootstrap(s_next)
        best = next_q.argmax(dim=1).float() if mistake == "argmax-not-max" else next_q.max(dim=1).values
        mask = {"no-done-mask": torch.ones_like(done), "done-mask-inverted": done}.get(mistake, 1.0 - done)
        g = 1.0 if mistake == "no-discount" else gamma
        y = r + g * mask * best
    q_all = q_network(s)
    q = q_all.max(dim=1).values if mistake == "max-not-taken-action" else q_all.gather(1, a.unsqueeze(1)).squeeze(1)
    if mistake == "squared-error":
        return torch.nn.functional.mse_loss(q, y)
    return torch.nn.functional.smooth_l1_loss(q, y)


def _dqn_mistake(kind: str):
    return lambda seed, gamma: _dqn_case(lambda *a: _dqn_variant(*a, mistake=kind), seed, gamma)


_DQN_MISTAKES = [
    Mistake("no-done-mask", _dqn_mistake("no-done-mask"),
            "a terminated transition has no future: its target is r alone; multiply the bootstrap term by "
            "(1 − terminated)"),
    Mistake("done-mask-inverted", _dqn_mistake("done-mask-inverted"),
            "the done mask is inverted: bootstrap when the episode goes ON (terminated = 0), not when it ended"),
    Mistake("argmax-not-max", _dqn_mistake("argmax-not-max"),
            "your target adds γ times an action INDEX: the bootstrap term is the best next action's value "
            "(.max(dim=1).values), not which action it is (argmax)"),
    Mistake("online-network-target", _dqn_mistake("online-network-target"),
            "your target uses the online q_network: DQN bootstraps from target_network, the copy refreshed only "
            "every few hundred steps, so the regression target holds still"),
    Mistake("target-not-detached", _dqn_mistake("target-not-detached"),
            "the loss is right, but gradients flow into target_network: compute the target under "
            "torch.no_grad(), it is a fixed regression label"),
    Mistake("no-discount", _dqn_mistake("no-discount"), "the discount γ is missing in front of the bootstrap term"),
    Mistake("max-not-taken-action", _dqn_mistake("max-not-taken-action"),
            "the prediction must be Q(s, a) of the action actually taken (gather with the actions), not the "
            "largest Q(s, ·)"),
    Mistake("squared-error", _dqn_mistake("squared-error"),
            "that is the mean squared error: this DQN regresses with the Huber loss "
            "(torch.nn.functional.smooth_l1_loss), quadratic near 0 and linear for large TD errors"),
]


def check_dqn_loss(learner: Callable) -> CheckResult:
    """16.7: ``dqn_loss(q_network, target_network, batch, gamma)`` -> a scalar torch loss."""
    cases = [
        Case((0, 0.99), description="8 transitions (3 terminal), two 4-8-2 networks with different weights, γ = 0.99"),
        Case((1, 0.9), description="8 other transitions, γ = 0.9"),
    ]
    result = check_function(
        "16.7", lambda seed, gamma: _dqn_case(learner, seed, gamma), reference_dqn_case, cases, name="dqn_loss",
        outputs=("loss", "gradient of q_network", "gradient reaching target_network"), mistakes=_DQN_MISTAKES,
        forbid=[dqn_loss, dqn_targets], rtol=1e-4, atol=1e-6,
        hint="the target: reward plus γ times the target network's best next value, zero future for terminated "
             "transitions, all without gradient; the prediction: the online network's value of the action taken; "
             "the Huber loss between them",
        success="this is the loss of every DQN update; the training below runs on it.")
    _accept_as("16.7", "dqn_loss", learner)
    return result
