"""Answers a student might write for chapter 12 (tests/test_build_exercises.py runs the student notebook on them)."""

RIGHT = {
    "12.1": '''def attention(q, k, v, mask=None):
    scores = np.einsum("...qd,...kd->...qk", q, k) / np.sqrt(q.shape[-1])
    keep = np.ones_like(scores) if mask is None else np.broadcast_to(mask, scores.shape).astype(float)
    exps = np.exp(scores - scores.max(axis=-1, keepdims=True)) * keep
    sums = exps.sum(axis=-1, keepdims=True)
    weights = np.divide(exps, sums, out=np.zeros_like(exps), where=sums > 0)
    return np.einsum("...qk,...kv->...qv", weights, v), weights
''',
    "12.4": '''def multi_head_attention(query, key, value, params, num_heads, key_padding_mask=None, attn_mask=None):
    N, Tq, E = query.shape
    d = E // num_heads
    Q = query @ params.W_q + params.b_q
    K = key @ params.W_k + params.b_k
    V = value @ params.W_v + params.b_v
    mask = np.ones((N, Tq, key.shape[1]), dtype=bool)
    if key_padding_mask is not None:
        mask = mask & key_padding_mask[:, None, :]
    if attn_mask is not None:
        mask = mask & attn_mask
    outputs, maps = [], []
    for h in range(num_heads):
        columns = slice(h * d, (h + 1) * d)
        out, weights = attend(Q[..., columns], K[..., columns], V[..., columns], mask)
        outputs.append(out)
        maps.append(weights)
    return np.concatenate(outputs, axis=-1) @ params.W_o + params.b_o, np.stack(maps, axis=1)
''',
    "12.6": '''def positional_encoding(T, E):
    angles = np.outer(np.arange(T), np.exp(-np.log(10000.0) * np.arange(E // 2) * 2 / E))
    return np.stack([np.sin(angles), np.cos(angles)], axis=-1).reshape(T, E)
''',
    "12.7": '''import math


def torch_attention(q, k, v, mask=None):
    scores = torch.einsum("...qd,...kd->...qk", q, k) / math.sqrt(q.shape[-1])
    allowed = torch.ones_like(scores, dtype=torch.bool) if mask is None else mask.expand_as(scores)
    shift = torch.where(allowed, scores, torch.full_like(scores, -1e300)).amax(dim=-1, keepdim=True).detach()
    shift = torch.where(shift > -1e299, shift, torch.zeros_like(shift))
    exps = torch.where(allowed, torch.exp(torch.where(allowed, scores - shift, torch.zeros_like(scores))),
                       torch.zeros_like(scores))
    total = exps.sum(dim=-1, keepdim=True)
    weights = exps / torch.where(total > 0, total, torch.ones_like(total))
    return weights @ v, weights
''',
    "12.8": '''def torch_self_attention(x, qkv, out, num_heads, mask=None):
    N, T, E = x.shape
    d = E // num_heads
    projected = x @ qkv.weight.T + qkv.bias
    q, k, v = (part.view(N, T, num_heads, d).transpose(1, 2) for part in projected.chunk(3, dim=-1))
    heads, weights = torch_attend(q, k, v, mask)
    merged = heads.permute(0, 2, 1, 3).reshape(N, T, num_heads * d)
    return merged @ out.weight.T + out.bias, weights
''',
}

WRONG = {
    # the mask multiplied into the scores: masked keys keep exp(0 - max) of weight
    "12.1": '''def attention(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores * mask
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ v, weights
''',
    # -inf fill without zeroing the rows that see nothing: NaN
    "12.7": '''def torch_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights
''',
}

USES = {"12.1": "attention", "12.4": "multi_head_attention", "12.6": "positional_encoding",
        "12.7": "torch_attention", "12.8": "torch_self_attention"}
