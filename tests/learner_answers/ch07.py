"""Answers a student might write for chapter 07 (tests/test_build_exercises.py runs the student notebook on them)."""

RIGHT = {
    "7.3": '''def init_weights(shape, scheme, nonlinearity, rng, distribution="normal"):
    fan_in, fan_out = shape
    if scheme == "he":
        if nonlinearity == "relu":
            variance = 2.0 / fan_in
        elif nonlinearity == "leaky_relu":
            variance = 2.0 / (1.0 + 0.01 ** 2) / fan_in
        elif nonlinearity == "tanh":
            variance = (5.0 / 3.0) ** 2 / fan_in
        else:
            variance = 1.0 / fan_in
    else:
        variance = 2.0 / (fan_in + fan_out)
    if distribution == "uniform":
        a = np.sqrt(3.0 * variance)
        return rng.uniform(-a, a, size=shape)
    return rng.normal(0.0, np.sqrt(variance), size=shape)
''',
    "7.5": '''def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    n = len(x)
    if training:
        mu = np.mean(x, axis=0)
        var = np.mean((x - mu) ** 2, axis=0)
        running_mean = momentum * mu + (1 - momentum) * running_mean
        running_var = momentum * var * n / (n - 1) + (1 - momentum) * running_var
    else:
        mu, var = running_mean, running_var
        running_mean, running_var = np.copy(running_mean), np.copy(running_var)
    out = gamma * (x - mu) / np.sqrt(var + eps) + beta
    return out, running_mean, running_var


def batchnorm_backward(dout, x, gamma, eps=1e-5):
    n = x.shape[0]
    xc = x - x.mean(axis=0)
    std = np.sqrt((xc ** 2).mean(axis=0) + eps)
    xhat = xc / std
    dxhat = dout * gamma
    dvar = np.sum(dxhat * xc, axis=0) * -0.5 * std ** -3
    dmu = -np.sum(dxhat, axis=0) / std
    dx = dxhat / std + dvar * 2 * xc / n + dmu / n
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)
''',
    "7.6": '''def clip_grad_norm(parameters, max_norm, norm_type=2.0):
    if not isinstance(max_norm, (int, float)) or max_norm != max_norm or max_norm <= 0:
        raise ValueError("max_norm must be a positive number, got " + repr(max_norm))
    parameters = list(parameters)
    if norm_type == np.inf:
        norms = [np.abs(p.grad).max() for p in parameters]
        total = max(norms)
    else:
        norms = [np.linalg.norm(p.grad.ravel(), ord=norm_type) for p in parameters]
        total = np.linalg.norm(norms, ord=norm_type)
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for p in parameters:
            p.grad[...] = p.grad * scale
    return float(total)


def train_clipped(model, optimizer, batches, loss_fn, max_norm):
    history = []
    for x, target in batches:
        model.zero_grad()
        loss, dscores = loss_fn(model(x), target)
        model.backward(dscores)
        norm = clip_grad_norm(model.parameters(), max_norm)
        history.append((loss, norm))
        if not np.all(np.isfinite([loss, norm])):
            break
        optimizer.step()
    losses, norms = (np.array(column) for column in zip(*history))
    return losses, norms, norms > max_norm
''',
    "7.7": '''def dropout_forward(x, p, rng, training=True):
    if training:
        mask = (rng.random(x.shape) >= p) / (1 - p)
    else:
        mask = np.ones_like(x)
    return x * mask, mask


def dropout_backward(dout, cache):
    return dout * cache
''',
}

WRONG = {
    # He scaled by fan_out
    "7.3": '''def init_weights(shape, scheme, nonlinearity, rng, distribution="normal"):
    fan_in, fan_out = shape
    if scheme == "xavier":
        return rng.standard_normal(shape) * np.sqrt(2 / (fan_in + fan_out))
    gain = {"relu": np.sqrt(2), "tanh": 5 / 3}.get(nonlinearity, 1.0)
    return rng.standard_normal(shape) * gain / np.sqrt(fan_out)
''',
    # a right forward pass; the backward pass forgets the path through the variance
    "7.5": '''def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * x.var(axis=0, ddof=1)
    else:
        mean, var, new_mean, new_var = running_mean, running_var, running_mean.copy(), running_var.copy()
    return gamma * (x - mean) / np.sqrt(var + eps) + beta, new_mean, new_var


def batchnorm_backward(dout, x, gamma, eps=1e-5):
    inv_std = 1 / np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - x.mean(axis=0)) * inv_std
    dx_hat = dout * gamma
    dx = inv_std * (dx_hat - dx_hat.mean(axis=0))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
''',
    # each gradient clipped by its own norm
    "7.6": '''def clip_grad_norm(parameters, max_norm, norm_type=2.0):
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    total = 0.0
    for p in parameters:
        norm = np.linalg.norm(p.grad)
        total += norm ** 2
        p.grad *= min(1.0, max_norm / (norm + 1e-6))
    return total ** 0.5


def train_clipped(model, optimizer, batches, loss_fn, max_norm):
    losses, norms = [], []
    for x, target in batches:
        optimizer.zero_grad()
        loss, dscores = loss_fn(model.forward(x), target)
        model.backward(dscores)
        norms.append(clip_grad_norm(model.parameters(), max_norm))
        losses.append(loss)
        if not np.isfinite(loss) or not np.isfinite(norms[-1]):
            break
        optimizer.step()
    return np.array(losses), np.array(norms), np.array(norms) > max_norm
''',
    # the kept values are not rescaled
    "7.7": '''def dropout_forward(x, p, rng, training=True):
    if not training:
        return x, None
    mask = rng.random(x.shape) >= p
    return x * mask, mask


def dropout_backward(dout, cache):
    return dout if cache is None else dout * cache
''',
}

USES = {"7.3": "init_weights", "7.5": "batchnorm_backward", "7.6": "train_clipped", "7.7": "dropout_forward"}
