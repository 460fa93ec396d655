"""Reinforcement learning (chapter 16): environments written from their equations, and the
algorithms that learn in them.

- ``gridworld``: a small MDP with an exact model (dynamic programming) and sampling;
- ``tabular``: returns, policy evaluation, value iteration, Q-learning;
- ``cartpole``: the classic control task from its equations of motion;
- ``policy_gradient``: REINFORCE (with a baseline), from scratch and in PyTorch;
- ``dqn``: deep Q-learning with a replay buffer and a target network.

Import the module you need; this package imports nothing by itself.
"""
