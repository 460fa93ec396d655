"""Answers a student might write for chapter 16 (tests/test_build_exercises.py runs the student notebook on them)."""

RIGHT = {
    "16.1": '''def discounted_returns(rewards, gamma, dones):
    returns = []
    following = 0.0
    for reward, done in zip(rewards[::-1], dones[::-1]):
        following = reward + (0.0 if done else gamma * following)
        returns.append(following)
    return np.array(returns[::-1])
''',
    "16.3": '''def value_iteration(mdp, gamma, tolerance=1e-10):
    S = mdp.R.shape[0]
    V = np.zeros(S)
    change = np.inf
    while change >= tolerance:  # Gauss-Seidel: each state uses the values already updated in this sweep
        change = 0.0
        for s in range(S):
            best = 0.0 if mdp.terminal[s] else np.max(mdp.R[s] + gamma * mdp.P[s] @ V)
            change = max(change, abs(best - V[s]))
            V[s] = best
    return V, np.array([np.argmax(mdp.R[s] + gamma * mdp.P[s] @ V) for s in range(S)])
''',
    "16.4": '''def q_learning(env, num_episodes, rng, gamma=0.99, learning_rate=0.2, epsilon=0.2, max_steps=100):
    Q = np.zeros((env.num_states, 4))
    returns = []
    for _ in range(num_episodes):
        state, total, steps, done = env.reset(), 0.0, 0, False
        while not done and steps < max_steps:
            action = rng.integers(4) if rng.random() < epsilon else Q[state].argmax()
            state_next, reward, done = env.step(int(action), rng)
            future = 0.0 if done else Q[state_next].max()
            Q[state, action] = (1 - learning_rate) * Q[state, action] + learning_rate * (reward + gamma * future)
            total += reward
            state, steps = state_next, steps + 1
        returns.append(total)
    return Q, np.array(returns)
''',
    "16.6": '''def reinforce_loss(policy, batch, gamma, baseline="mean"):
    T, N = batch.rewards.shape
    discounts = gamma ** np.arange(T)
    G = np.stack([(batch.rewards[t:] * discounts[:T - t, None]).sum(axis=0) for t in range(T)])  # (T, N)
    if baseline == "mean":
        running = batch.alive.sum(axis=1, keepdims=True)
        G = G - np.where(running > 0, (G * batch.alive).sum(axis=1, keepdims=True) / np.maximum(running, 1), 0.0)
    t_index, n_index = np.nonzero(batch.alive)
    logits = policy(torch.tensor(batch.states[t_index, n_index], dtype=torch.float32))
    log_pi = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    picked = log_pi[torch.arange(len(t_index)), torch.tensor(batch.actions[t_index, n_index])]
    return -(picked * torch.tensor(G[t_index, n_index], dtype=torch.float32)).sum() / N
''',
}

WRONG = {
    # The index of the best next action where its value belongs.
    "16.7": '''def dqn_loss(q_network, target_network, batch, gamma):
    s, a, r, s_next, terminated = batch
    with torch.no_grad():
        y = r + gamma * (1 - terminated) * target_network(s_next).argmax(dim=1)
    q = q_network(s)[torch.arange(len(a)), a]
    return torch.nn.functional.smooth_l1_loss(q, y)
''',
}

USES = {"16.1": "discounted_returns", "16.3": "value_iteration", "16.4": "q_learning", "16.6": "reinforce_loss",
        "16.7": "dqn_loss"}
