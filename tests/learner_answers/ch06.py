"""Answers a student might write for chapter 06 (tests/test_build_exercises.py runs the student notebook on them)."""

RIGHT = {
    "6.1": '''class StepOptimizer:
    def __init__(self, params, step, lr, num_state=1, counts_steps=False, **options):
        self.params = list(params)
        self.rule = step
        self.lr = lr
        self.options = options
        self.counts_steps = counts_steps
        self.states = {i: [np.zeros_like(p.value) for _ in range(num_state)] for i, p in enumerate(self.params)}
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad.fill(0.0)

    def step(self):
        self.t += 1
        for i, p in enumerate(self.params):
            count = [self.t] if self.counts_steps else []
            out = self.rule(p.value, p.grad, *self.states[i], *count, lr=self.lr, **self.options)
            np.copyto(p.value, out[0])
            self.states[i] = list(out[1:])''',
    "6.2": '''def momentum_step(theta, grad, velocity, lr, momentum=0.9, nesterov=False):
    new_velocity = grad + momentum * velocity
    if nesterov:
        return theta - lr * grad - lr * momentum * new_velocity, new_velocity
    return theta - lr * new_velocity, new_velocity''',
    "6.5": '''def adagrad_step(theta, grad, sum_squares, lr, eps=1e-10):
    total = sum_squares + grad * grad
    return theta - lr * grad / (total ** 0.5 + eps), total


def rmsprop_step(theta, grad, square_avg, lr, alpha=0.99, eps=1e-8):
    average = square_avg + (1 - alpha) * (grad * grad - square_avg)
    return theta - lr * grad / (np.sqrt(average) + eps), average


def adam_step(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    g = grad if decoupled else grad + weight_decay * theta
    start = theta * (1 - lr * weight_decay) if decoupled else theta
    m_new = m + (1 - beta1) * (g - m)
    v_new = v + (1 - beta2) * (g * g - v)
    step = (lr / (1 - beta1 ** t)) * m_new / (np.sqrt(v_new) / np.sqrt(1 - beta2 ** t) + eps)
    return start - step, m_new, v_new''',
    "6.6": '''def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps, start_factor=0.1, min_lr=0.0):
    steps = np.asarray(step)
    ramp = base_lr * start_factor + (base_lr - base_lr * start_factor) * steps / warmup_steps
    angle = np.pi * np.clip(steps - warmup_steps, 0, None) / (total_steps - warmup_steps)
    decay = min_lr + 0.5 * (base_lr - min_lr) * (1 + np.cos(angle))
    return np.where(steps < warmup_steps, ramp, decay)''',
}

WRONG = {
    "6.1": '''class StepOptimizer:
    def __init__(self, params, step, lr, num_state=1, counts_steps=False, **options):
        self.params = list(params)
        self.step_function = step
        self.lr = lr
        self.num_state = num_state
        self.counts_steps = counts_steps
        self.options = options
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad[...] = 0.0

    def step(self):
        self.t += 1
        for p in self.params:
            state = [np.zeros_like(p.value) for _ in range(self.num_state)]
            extra = [self.t] if self.counts_steps else []
            p.value[...] = self.step_function(p.value, p.grad, *state, *extra, lr=self.lr, **self.options)[0]''',
    "6.2": '''def momentum_step(theta, grad, velocity, lr, momentum=0.9, nesterov=False):
    velocity = momentum * velocity + (1 - momentum) * grad
    if nesterov:
        return theta - lr * (grad + momentum * velocity), velocity
    return theta - lr * velocity, velocity''',
    "6.5": '''def adagrad_step(theta, grad, sum_squares, lr, eps=1e-10):
    sum_squares = sum_squares + grad**2
    return theta - lr * grad / (np.sqrt(sum_squares) + eps), sum_squares


def rmsprop_step(theta, grad, square_avg, lr, alpha=0.99, eps=1e-8):
    square_avg = alpha * square_avg + (1 - alpha) * grad**2
    return theta - lr * grad / (np.sqrt(square_avg) + eps), square_avg


def adam_step(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    if decoupled:
        theta = theta * (1 - lr * weight_decay)
    else:
        grad = grad + weight_decay * theta
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return theta - lr * m / (np.sqrt(v) + eps), m, v''',
}

USES = {"6.1": "StepOptimizer", "6.2": "momentum_step", "6.5": "adam_step", "6.6": "warmup_cosine_lr"}
