"""Properties of attention and the Transformer encoder block: equal to PyTorch, bad input named."""

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlcore.errors import ShapeError
from dlcore.scratch import attention as A
from dlcore.scratch import transformer as TR
from tests.property_kit import check_mutations, close, covers, floats, rejects, torch_of

covers(
    A.causal_mask, A.padding_mask, A.masked_softmax, A.scaled_dot_product_attention_forward,
    A.scaled_dot_product_attention_backward, A.additive_attention,
    TR.sinusoidal_positional_encoding, TR.layer_norm, TR.multi_head_attention_forward,
    TR.mha_params_from_torch, TR.transformer_encoder_block_forward, TR.encoder_block_params_from_torch,
)
NAN = ("NaN",)
small = st.integers(1, 4)


def bool_arrays(shape):
    return hnp.arrays(bool, shape)


@given(T=st.integers(0, 5), Tk=st.integers(0, 5), lengths=st.lists(st.integers(0, 5), max_size=4))
def test_masks_follow_their_definitions(T, Tk, lengths):
    close(A.causal_mask(T, Tk), torch.ones(T, Tk, dtype=torch.bool).tril())
    close(A.causal_mask(T), torch.ones(T, T, dtype=torch.bool).tril())
    mask = A.padding_mask(np.array(lengths, dtype=int), 5)
    assert mask.shape == (len(lengths), 5) and mask.dtype == bool
    for row, length in zip(mask, lengths):
        assert row.tolist() == [True] * length + [False] * (5 - length)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), data=st.data())
def test_masked_softmax_equals_torch_softmax_with_blocked_entries_filled(shape, data):
    scores = data.draw(floats(shape, -30, 30))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    close(A.masked_softmax(scores, axis=axis), torch.softmax(torch_of(scores), axis))
    mask = data.draw(bool_arrays(shape))
    ours = A.masked_softmax(scores, mask, axis=axis)
    filled = torch.softmax(torch_of(scores).masked_fill(~torch.from_numpy(mask), float("-inf")), axis)
    blocked_rows = ~mask.any(axis=axis, keepdims=True)  # nothing allowed: zeros, where torch gives NaN
    close(ours, torch.where(torch.from_numpy(np.broadcast_to(blocked_rows, shape).copy()), 0.0, filled))
    assert np.all(ours[~mask] == 0)


@st.composite
def attention_case(draw):
    batch = draw(st.sampled_from([(), (2,), (2, 2)]))
    Tq, Tk, dk, dv = (draw(small) for _ in range(4))
    q, k, v = (draw(floats(batch + shape, -3, 3)) for shape in ((Tq, dk), (Tk, dk), (Tk, dv)))
    mask = draw(st.none() | bool_arrays(draw(st.sampled_from([(Tq, Tk), batch + (Tq, Tk), (1, Tk)]))))
    dout = draw(floats(batch + (Tq, dv)))
    return q, k, v, mask, dout


@given(case=attention_case())
def test_scaled_dot_product_attention_equals_torch_forward_and_backward(case):
    q, k, v, mask, dout = case
    q_t, k_t, v_t = torch_of(q, True), torch_of(k, True), torch_of(v, True)
    out_t = F.scaled_dot_product_attention(q_t, k_t, v_t, attn_mask=None if mask is None else torch.from_numpy(mask))
    out_t.backward(torch_of(dout))  # fully masked rows: zeros in recent PyTorch, as here
    out, cache = A.scaled_dot_product_attention_forward(q, k, v, mask)
    close(out, out_t)
    close(cache.weights.sum(axis=-1), np.where(np.broadcast_to(mask, cache.weights.shape).any(-1), 1.0, 0.0)
          if mask is not None else np.ones(cache.weights.shape[:-1]))
    for ours, grad in zip(A.scaled_dot_product_attention_backward(dout, cache), (q_t.grad, k_t.grad, v_t.grad)):
        close(ours, grad, atol=1e-10)


@given(N=st.integers(1, 2), Tq=small, Tk=small, Dq=small, Dk=small, dv=small, A_=small, data=st.data())
def test_additive_attention_follows_bahdanaus_formula(N, Tq, Tk, Dq, Dk, dv, A_, data):
    q, k, v = data.draw(floats((N, Tq, Dq))), data.draw(floats((N, Tk, Dk))), data.draw(floats((N, Tk, dv)))
    W_q, W_k, b, w = (data.draw(floats(s, -1, 1)) for s in ((Dq, A_), (Dk, A_), (A_,), (A_,)))
    mask = data.draw(st.none() | bool_arrays((N, Tq, Tk)))
    out, weights = A.additive_attention(q, k, v, W_q, W_k, b, w, mask)
    # S_ij = w . tanh(q_i W_q + k_j W_k + b), one (i, j) pair at a time, softmax over the allowed j
    scores = torch.tensor([[[float(torch_of(w) @ torch.tanh(torch_of(q[n, i] @ W_q + k[n, j] @ W_k + b)))
                             for j in range(Tk)] for i in range(Tq)] for n in range(N)], dtype=torch.float64)
    allowed = torch.ones(N, Tq, Tk, dtype=torch.bool) if mask is None else torch.from_numpy(mask)
    expected = torch.nan_to_num(torch.softmax(scores.masked_fill(~allowed, float("-inf")), -1), nan=0.0)
    close(weights, expected)
    close(out, expected @ torch_of(v))


@given(T=st.integers(0, 6), E=st.integers(1, 7), base=st.floats(2.0, 1e4), shift=st.integers(0, 4))
def test_sinusoidal_encoding_formula_and_shift_is_a_rotation(T, E, base, shift):
    pe = TR.sinusoidal_positional_encoding(T, E, base)
    p, i = np.arange(T)[:, None], np.arange(E)[None, :]
    angle = p / base ** (2 * (i // 2) / E)
    close(pe, np.where(i % 2 == 0, np.sin(angle), np.cos(angle)), atol=1e-12)
    # PE[p + k] is the same rotation of every column pair of PE[p], whatever p
    later = TR.sinusoidal_positional_encoding(T + shift, E, base)[shift:]
    for col in range(0, E - 1, 2):
        theta = shift / base ** (col / E)
        rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
        close(later[:, col:col + 2], pe[:, col:col + 2] @ rotation, atol=1e-9)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), eps=st.floats(1e-6, 1.0), data=st.data())
def test_layer_norm_equals_torch(shape, eps, data):
    x = data.draw(floats(shape))
    gamma, beta = data.draw(floats(shape[-1:])), data.draw(floats(shape[-1:]))
    close(TR.layer_norm(x, gamma, beta, eps),
          F.layer_norm(torch_of(x), shape[-1:], torch_of(gamma), torch_of(beta), eps), atol=1e-10)


@st.composite
def mha_case(draw):
    num_heads = draw(st.integers(1, 3))
    E = num_heads * draw(st.integers(1, 2))
    N, Tq, Tk = draw(st.integers(1, 2)), draw(small), draw(small)
    query, key, value = (draw(floats(s, -2, 2)) for s in ((N, Tq, E), (N, Tk, E), (N, Tk, E)))
    padding = draw(st.none() | bool_arrays((N, Tk)))
    attn = draw(st.none() | bool_arrays((Tq, Tk)))
    return query, key, value, num_heads, padding, attn


def allowed_everywhere_once(padding, attn, N, Tq):
    """PyTorch's nn.MultiheadAttention returns NaN for a query that may see nothing: compare only the others."""
    allowed = np.ones((N, Tq, padding.shape[1] if padding is not None else attn.shape[1]), dtype=bool)
    if padding is not None:
        allowed &= padding[:, None, :]
    if attn is not None:
        allowed &= attn
    return allowed.any(axis=2)  # (N, Tq)


@given(case=mha_case(), seed=st.integers(0, 99))
def test_multi_head_attention_equals_torch(case, seed):
    query, key, value, num_heads, padding, attn = case
    N, Tq, E = query.shape
    torch.manual_seed(seed)
    module = torch.nn.MultiheadAttention(E, num_heads, batch_first=True).double()
    params = TR.mha_params_from_torch(module)
    out_t, weights_t = module(torch_of(query), torch_of(key), torch_of(value), need_weights=True,
                              average_attn_weights=False,
                              key_padding_mask=None if padding is None else ~torch.from_numpy(padding),
                              attn_mask=None if attn is None else ~torch.from_numpy(attn))  # True = blocked there
    out, weights = TR.multi_head_attention_forward(query, key, value, params, num_heads, key_padding_mask=padding,
                                                   attn_mask=attn)
    seen = allowed_everywhere_once(padding, attn, N, Tq) if (padding is not None or attn is not None) else \
        np.ones((N, Tq), dtype=bool)
    close(out[seen], out_t.detach().numpy()[seen], atol=1e-10)
    close(weights.transpose(0, 2, 1, 3)[seen], weights_t.detach().numpy().transpose(0, 2, 1, 3)[seen], atol=1e-10)
    assert np.all(weights.transpose(0, 2, 1, 3)[~seen] == 0)  # a query that sees nothing: zero weights, not NaN


@given(num_heads=st.integers(1, 2), per_head=st.integers(1, 2), F_=st.integers(1, 5), N=st.integers(1, 2),
       T=st.integers(1, 4), norm_first=st.booleans(), seed=st.integers(0, 99), data=st.data())
def test_encoder_block_equals_torch_transformer_encoder_layer(num_heads, per_head, F_, N, T, norm_first, seed, data):
    E = num_heads * per_head
    torch.manual_seed(seed)
    layer = torch.nn.TransformerEncoderLayer(E, num_heads, F_, dropout=0.0, batch_first=True,
                                             norm_first=norm_first).double().eval()
    with torch.no_grad():  # random layer-norm parameters, so that gamma and beta are really tested
        for norm in (layer.norm1, layer.norm2):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.5, 0.5)
    x = data.draw(floats((N, T, E), -2, 2))
    padding = data.draw(bool_arrays((N, T)))
    padding[:, 0] = True  # every sequence has a first real token, so no query sees nothing
    causal = A.causal_mask(T)
    params = TR.encoder_block_params_from_torch(layer)
    with torch.no_grad():
        expected = layer(torch_of(x), src_mask=~torch.from_numpy(causal), src_key_padding_mask=~torch.from_numpy(
            padding))
    out = TR.transformer_encoder_block_forward(x, params, num_heads, key_padding_mask=padding, attn_mask=causal,
                                               norm_first=norm_first)
    close(out, expected, atol=1e-9)


# ---------------------------------------------------------------- bad input


def test_attention_kernels_name_the_bad_argument():
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 6))
    args = dict(q=q, k=k, v=v, mask=np.ones((3, 5), dtype=bool))
    tried = check_mutations(A.scaled_dot_product_attention_forward, args,
                            accepts={"q": NAN + ("extra axis",), "k": NAN, "v": NAN})
    assert len(tried) > 8
    rejects(lambda: A.scaled_dot_product_attention_forward(q, k, v, np.ones((3, 5))), "mask", kinds=(TypeError,))
    rejects(lambda: A.scaled_dot_product_attention_forward(q, k, v, np.ones((1, 2, 3, 5), bool)), "mask")
    rejects(lambda: A.scaled_dot_product_attention_forward(q, k[:, :0], v[:, :0]), "k")  # once: max of nothing
    out, cache = A.scaled_dot_product_attention_forward(q, k, v)
    check_mutations(lambda dout: A.scaled_dot_product_attention_backward(dout, cache), dict(dout=np.ones_like(out)),
                    accepts={"dout": NAN})
    rejects(lambda: A.scaled_dot_product_attention_backward(out, tuple(cache)), "cache", kinds=(TypeError,))

    check_mutations(A.masked_softmax, dict(scores=q, mask=np.ones(4, bool)), accepts={"scores": NAN + ("extra axis",)})
    rejects(lambda: A.masked_softmax(q, axis=3), "axis")  # once: numpy's AxisError
    rejects(lambda: A.masked_softmax(q, axis=1.0), "axis")
    rejects(lambda: A.masked_softmax(np.ones((2, 0))), "scores")  # once: numpy's 'zero-size array' error
    rejects(lambda: A.masked_softmax(q, np.ones((2, 2, 3, 4), bool)), "mask", kinds=(ShapeError,))  # more axes
    check_mutations(A.causal_mask, dict(T=3, Tk=4), accepts={"T": ("zero",), "Tk": ("zero",)})
    check_mutations(A.padding_mask, dict(lengths=np.array([1, 3]), T=4), accepts={"T": ("zero",)})
    rejects(lambda: A.padding_mask([1.5, 2.0], 4), "lengths", kinds=(TypeError,))  # once: silently accepted
    rejects(lambda: A.padding_mask([5], 4), "length")

    N, Tq, Tk, Dq, Dk, A_ = 2, 3, 4, 5, 2, 3
    additive = dict(q=rng.normal(size=(N, Tq, Dq)), k=rng.normal(size=(N, Tk, Dk)), v=rng.normal(size=(N, Tk, 2)),
                    W_q=rng.normal(size=(Dq, A_)), W_k=rng.normal(size=(Dk, A_)), b=np.zeros(A_), w=np.ones(A_))
    check_mutations(A.additive_attention, additive, accepts={name: NAN for name in additive})
    rejects(lambda: A.additive_attention(**{**additive, "w": 1.0}), "w")  # once: len() of a float
    rejects(lambda: A.additive_attention(**{**additive, "W_q": np.full((Dq, A_), "a")}), "W_q")
    rejects(lambda: A.additive_attention(**{**additive, "mask": np.ones((N, Tq, Tk + 1), bool)}), "mask")


def test_transformer_functions_name_the_bad_argument():
    rng = np.random.default_rng(0)
    check_mutations(TR.sinusoidal_positional_encoding, dict(T=3, E=4, base=100.0), accepts={"T": ("zero",)})
    rejects(lambda: TR.sinusoidal_positional_encoding(3, 4, -1.0), "base")
    x = rng.normal(size=(2, 3, 4))
    check_mutations(TR.layer_norm, dict(x=x, gamma=np.ones(4), beta=np.zeros(4), eps=1e-5),
                    accepts={"x": NAN + ("extra axis",), "gamma": NAN, "beta": NAN})
    module = torch.nn.MultiheadAttention(4, 2, batch_first=True).double()
    params = TR.mha_params_from_torch(module)
    mha = dict(query=x, key=x[:, :2], value=x[:, :2], num_heads=2)
    check_mutations(lambda **kw: TR.multi_head_attention_forward(params=params, **kw), mha,
                    accepts={"query": NAN, "key": NAN, "value": NAN})
    rejects(lambda: TR.multi_head_attention_forward(x, x, x, params, 3), "num_heads")
    rejects(lambda: TR.multi_head_attention_forward(x, x[:, :0], x[:, :0], params, 2), "key")
    rejects(lambda: TR.multi_head_attention_forward(x[..., :0], x[..., :0], x[..., :0], params, 2), "query")
    rejects(lambda: TR.mha_params_from_torch(torch.nn.Linear(4, 4)), "module", kinds=(TypeError,))
    rejects(lambda: TR.mha_params_from_torch(torch.nn.MultiheadAttention(4, 2, kdim=3)), "module")

    layer = torch.nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True).double().eval()
    block = TR.encoder_block_params_from_torch(layer)
    check_mutations(lambda x, num_heads: TR.transformer_encoder_block_forward(x, block, num_heads),
                    dict(x=x, num_heads=2), accepts={"x": NAN})
    for name, bad in (("b_2", np.zeros(1)), ("W_2", np.zeros((6, 4, 1))), ("b_1", np.zeros(4)),
                      ("gamma_1", np.ones((1, 4)))):  # once: the biases broadcast silently
        rejects(lambda: TR.transformer_encoder_block_forward(x, block._replace(**{name: bad}), 2), f"params.{name}",
                kinds=(ShapeError,))
    rejects(lambda: TR.transformer_encoder_block_forward(x, tuple(block), 2), "params", kinds=(TypeError,))
    rejects(lambda: TR.transformer_encoder_block_forward(x, block, 2, norm_first="yes"), "norm_first")
    rejects(lambda: TR.transformer_encoder_block_forward(x[0], block, 2), "x")
    rejects(lambda: TR.encoder_block_params_from_torch(module), "layer", kinds=(TypeError,))
    gelu = torch.nn.TransformerEncoderLayer(4, 2, 6, activation="gelu")
    rejects(lambda: TR.encoder_block_params_from_torch(gelu), "layer")
