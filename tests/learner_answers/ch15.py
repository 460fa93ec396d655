"""Answers a student might write for chapter 15 (tests/test_build_exercises.py runs the student notebook on them)."""

RIGHT = {
    "15.1": '''
def global_masks(weights, amount):
    flat = np.concatenate([np.abs(w).ravel() for w in weights])
    k = int(round(amount * flat.size))
    order = np.lexsort((np.arange(flat.size), flat))
    rank = np.empty(flat.size, dtype=int)
    rank[order] = np.arange(flat.size)
    masks, start = [], 0
    for w in weights:
        masks.append((rank[start:start + w.size] >= k).astype(float).reshape(w.shape))
        start += w.size
    return masks


def layerwise_masks(weights, amount):
    return [global_masks([w], amount)[0] for w in weights]
''',
    "15.3": '''
def quantize_int8(weight):
    scales = np.array([np.max(np.abs(row)) for row in weight]) / 127.0
    codes = np.rint(weight / scales.reshape(-1, 1))
    return np.minimum(np.maximum(codes, -127), 127).astype(np.int8), scales


def dequantize_int8(codes, scales):
    return np.einsum("md,m->md", codes.astype(np.float64), scales)


def int8_linear(x, codes, scales, bias):
    s_x = float(np.max(np.abs(x))) / 127.0
    q_x = np.rint(x / s_x).clip(-127, 127).astype(np.int8)
    sums = np.einsum("nd,md->nm", q_x.astype(np.int32), codes.astype(np.int32))
    return (sums * scales[None, :]) * s_x + bias[None, :]
''',
}

WRONG = {
    "15.2": '''
def affine_scale_zero_point(x_min, x_max, num_bits):
    scale = (x_max - x_min) / (2 ** num_bits - 1)
    return scale, round(-x_min / scale)


def affine_quantize(x, scale, zero_point, qmin, qmax):
    return np.clip(np.round(x / scale) + zero_point, qmin, qmax)


def affine_dequantize(q, scale, zero_point):
    return scale * (q - zero_point)
''',
    "15.5": '''
def distillation_loss(student_logits, teacher_logits, y, temperature, alpha):
    def log_softmax(z):
        shifted = z - z.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))

    N, K = student_logits.shape
    log_s = log_softmax(student_logits / temperature)
    log_t = log_softmax(teacher_logits / temperature)
    kl = np.sum(np.exp(log_t) * (log_t - log_s)) / N
    log_p = log_softmax(student_logits)
    loss = alpha * kl - (1 - alpha) * log_p[np.arange(N), y].mean()
    gradient = alpha / temperature * (np.exp(log_s) - np.exp(log_t)) + (1 - alpha) * (np.exp(log_p) - np.eye(K)[y])
    return loss, gradient / N
''',
}

USES = {"15.1": "global_masks", "15.2": "affine_scale_zero_point", "15.3": "int8_linear", "15.5": "distillation_loss"}
