"""Properties of the recurrent kernels and layers (RNN, LSTM, GRU) and of the gradient-flow helpers: equal to
PyTorch forward and backward, bad input named. The models built on them: tests/test_properties_sequence_models.py."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from dlcore.scratch import cell_trace as CT
from dlcore.scratch import gradient_flow as GF
from dlcore.scratch import gru as G
from dlcore.scratch import lstm as L
from dlcore.scratch import rnn as R
from tests.property_kit import check_mutations, close, covers, floats, rejects, torch_of

covers(
    R.rnn_cell_forward, R.rnn_cell_backward, R.rnn_forward, R.rnn_backward, R.check_recurrent_inputs,
    R.init_recurrent_weights, R.RecurrentLayer, R.RNN,
    L.lstm_cell_forward, L.lstm_cell_backward, L.lstm_forward, L.lstm_backward, L.LSTM,
    G.gru_cell_forward, G.gru_cell_backward, G.gru_forward, G.gru_backward, G.GRU,
    GF.recurrent_weights, GF.state_gradient_norms, CT.sequence_values, CT.run_cell,
)
NAN = ("NaN",)
KINDS = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
TORCH_LAYER = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
TORCH_CELL = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}
OURS = {  # kind: (cell forward, cell backward, layer forward, layer backward, module)
    "rnn": (R.rnn_cell_forward, R.rnn_cell_backward, R.rnn_forward, R.rnn_backward, R.RNN),
    "lstm": (L.lstm_cell_forward, L.lstm_cell_backward, L.lstm_forward, L.lstm_backward, L.LSTM),
    "gru": (G.gru_cell_forward, G.gru_cell_backward, G.gru_forward, G.gru_backward, G.GRU),
}
# float64 throughout; a T-step recurrence compounds rounding a little, hence atol above the kit's default
ATOL = 1e-10


@st.composite
def recurrent_case(draw, kind):
    T, N, D, Hh = (draw(st.integers(1, n)) for n in (4, 3, 3, 3))
    G_ = GATES[kind]
    arrays = dict(x=(T, N, D), h0=(N, Hh), c0=(N, Hh), W_ih=(G_ * Hh, D), W_hh=(G_ * Hh, Hh), b_ih=(G_ * Hh,),
                  b_hh=(G_ * Hh,), dout=(T, N, Hh), dh_n=(N, Hh), dc_n=(N, Hh))
    return {name: draw(floats(shape, -2, 2)) for name, shape in arrays.items()}


def weights_of(case):
    return [case[k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")]


def torch_layer(kind, case):
    layer = TORCH_LAYER[kind](case["x"].shape[2], case["h0"].shape[1]).double()
    layer.load_state_dict({key: torch_of(case[k]) for key, k in zip(R.PARAMETER_NAMES, ("W_ih", "W_hh", "b_ih",
                                                                                         "b_hh"))})
    return layer


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_layers_equal_torch_forward_and_backward(kind, data):
    case = data.draw(recurrent_case(kind))
    cell_fwd, cell_bwd, forward, backward, Module = OURS[kind]
    x_t, h0_t, c0_t = torch_of(case["x"], True), torch_of(case["h0"], True), torch_of(case["c0"], True)
    layer = torch_layer(kind, case)
    lstm = kind == "lstm"
    out_t, state_t = layer(x_t, (h0_t[None], c0_t[None]) if lstm else h0_t[None])
    h_n_t = state_t[0] if lstm else state_t
    loss = (out_t * torch_of(case["dout"])).sum() + (h_n_t[0] * torch_of(case["dh_n"])).sum()
    if lstm:
        loss = loss + (state_t[1][0] * torch_of(case["dc_n"])).sum()
    loss.backward()
    torch_grads = [p.grad for p in layer.parameters()]  # weight_ih, weight_hh, bias_ih, bias_hh

    states = (case["h0"], case["c0"]) if lstm else (case["h0"],)
    out, cache = forward(case["x"], *states, *weights_of(case))
    close(out, out_t, atol=ATOL)
    extra = (case["dh_n"], case["dc_n"]) if lstm else (case["dh_n"],)
    grads = backward(case["dout"], cache, *extra)
    expected = [x_t.grad, h0_t.grad] + ([c0_t.grad] if lstm else []) + torch_grads
    assert len(grads) == len(expected)
    for ours, theirs in zip(grads, expected):
        close(ours, theirs, atol=ATOL)
    if lstm:
        close(cache.c[-1], state_t[1][0], atol=ATOL)

    module = Module(case["x"].shape[2], case["h0"].shape[1], rng=np.random.default_rng(0))
    module.load_torch_state_dict(layer.state_dict())
    close(module(case["x"], (case["h0"], case["c0"]) if lstm else case["h0"]), out_t, atol=ATOL)
    close(module.h_n, h_n_t[0], atol=ATOL)
    close(module.backward(case["dout"], *extra), x_t.grad, atol=ATOL)
    close(module.dh0, h0_t.grad, atol=ATOL)
    for key, theirs in zip(R.PARAMETER_NAMES, torch_grads):
        close(getattr(module, key).grad, theirs, atol=ATOL)
    for key, value in module.torch_state_dict().items():
        close(value, layer.state_dict()[key])


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_one_cell_step_equals_torch_cell(kind, data):
    case = data.draw(recurrent_case(kind))
    cell_fwd, cell_bwd, *_ = OURS[kind]
    lstm = kind == "lstm"
    cell = TORCH_CELL[kind](case["x"].shape[2], case["h0"].shape[1]).double()
    with torch.no_grad():
        for p, k in zip(cell.parameters(), ("W_ih", "W_hh", "b_ih", "b_hh")):
            p.copy_(torch_of(case[k]))
    x_t, h_t, c_t = torch_of(case["x"][0], True), torch_of(case["h0"], True), torch_of(case["c0"], True)
    dh, dc = case["dout"][0], case["dc_n"]
    if lstm:
        h_new, c_new = cell(x_t, (h_t, c_t))
        ((h_new * torch_of(dh)).sum() + (c_new * torch_of(dc)).sum()).backward()
        h, c, cache = cell_fwd(case["x"][0], case["h0"], case["c0"], *weights_of(case))
        close(c, c_new, atol=ATOL)
        grads = cell_bwd(dh, dc, cache)
        expected = [x_t.grad, h_t.grad, c_t.grad]
    else:
        h_new = cell(x_t, h_t)
        (h_new * torch_of(dh)).sum().backward()
        h, cache = cell_fwd(case["x"][0], case["h0"], *weights_of(case))
        grads = cell_bwd(dh, cache)
        expected = [x_t.grad, h_t.grad]
    close(h, h_new, atol=ATOL)
    for ours, theirs in zip(grads, expected + [p.grad for p in cell.parameters()]):
        close(ours, theirs, atol=ATOL)
    # the layer is the cell unrolled: its first step is this step
    states = (case["h0"], case["c0"]) if lstm else (case["h0"],)
    close(OURS[kind][2](case["x"][:1], *states, *weights_of(case))[0][0], h)


@given(D=st.integers(1, 4), Hh=st.integers(1, 4), gates=st.sampled_from([1, 3, 4]), seed=st.integers(0, 99))
def test_init_recurrent_weights_is_torch_uniform_rule_in_torch_order(D, Hh, gates, seed):
    weights = R.init_recurrent_weights(D, Hh, gates, np.random.default_rng(seed))
    rng, bound = np.random.default_rng(seed), 1 / np.sqrt(Hh)
    expected = [rng.uniform(-bound, bound, size=s) for s in ((gates * Hh, D), (gates * Hh, Hh), (gates * Hh,),
                                                             (gates * Hh,))]
    assert list(weights) == list(R.PARAMETER_NAMES)
    for ours, reference in zip(weights.values(), expected):
        close(ours, reference, rtol=0, atol=0)
        assert np.all(np.abs(ours) <= bound)
    # the shapes are those of PyTorch's layer with as many gate blocks
    if gates in (1, 3, 4):
        kind = {1: "rnn", 3: "gru", 4: "lstm"}[gates]
        torch_shapes = {k: tuple(v.shape) for k, v in TORCH_LAYER[kind](D, Hh).state_dict().items()}
        assert torch_shapes == {k: v.shape for k, v in weights.items()}
        module = OURS[kind][4](D, Hh, rng=np.random.default_rng(seed))
        for key, value in weights.items():
            close(getattr(module, key).value, value, rtol=0, atol=0)


def unrolled_state_grads(kind, x, weights, upstream):
    """||dL/dh_t|| for L = <upstream, h_T>, by PyTorch autograd through its own cell, unrolled."""
    T, N, D = x.shape
    Hh = weights[1].shape[1]
    cell = TORCH_CELL[kind](D, Hh).double()
    with torch.no_grad():
        for p, w in zip(cell.parameters(), weights):
            p.copy_(torch_of(w))
    h = torch.zeros(N, Hh, dtype=torch.float64, requires_grad=True)
    c = torch.zeros(N, Hh, dtype=torch.float64)
    states = [h]
    for t in range(T):
        if kind == "lstm":
            h, c = cell(torch_of(x[t]), (h, c))
        else:
            h = cell(torch_of(x[t]), h)
        h.retain_grad()
        states.append(h)
    (h * torch_of(upstream)).sum().backward()
    return np.array([s.grad.norm(dim=1).mean().item() for s in states])


@pytest.mark.parametrize("kind", KINDS)
@given(T=st.integers(1, 5), N=st.integers(1, 3), Hh=st.integers(1, 4), scale=st.floats(0.1, 3.0),
       bias=st.floats(-2, 2), seed=st.integers(0, 99), ones=st.booleans())
def test_state_gradient_norms_equal_torch_autograd(kind, T, N, Hh, scale, bias, seed, ones):
    weights = GF.recurrent_weights(kind, 2, Hh, recurrent_scale=scale, memory_bias=bias,
                                   rng=np.random.default_rng(seed))
    x = np.random.default_rng(seed + 1).normal(size=(T, N, 2))
    upstream = None if ones else np.random.default_rng(seed + 2).normal(size=(N, Hh))
    reference = unrolled_state_grads(kind, x, weights, np.full((N, Hh), Hh ** -0.5) if ones else upstream)
    close(GF.state_gradient_norms(kind, x, weights, upstream), reference, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@given(Hh=st.integers(1, 4), scale=st.floats(-3, 3), bias=st.floats(-3, 3), seed=st.integers(0, 99))
def test_recurrent_weights_scale_and_memory_bias_touch_only_their_block(kind, Hh, scale, bias, seed):
    base = GF.recurrent_weights(kind, 3, Hh, rng=np.random.default_rng(seed))
    varied = GF.recurrent_weights(kind, 3, Hh, recurrent_scale=scale, memory_bias=bias,
                                  rng=np.random.default_rng(seed))
    G_ = GATES[kind]
    assert [w.shape for w in base] == [(G_ * Hh, 3), (G_ * Hh, Hh), (G_ * Hh,), (G_ * Hh,)]
    close(varied[0], base[0], rtol=0, atol=0)
    close(varied[1], scale * base[1])  # W_hh is recurrent_scale times a fixed random matrix
    close(varied[2], base[2], rtol=0, atol=0)
    shift = np.zeros(G_ * Hh)
    if kind != "rnn":
        shift[Hh:2 * Hh] = bias  # the LSTM's forget gate f, the GRU's update gate z
    close(varied[3] - base[3], shift, atol=1e-12)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("kind", KINDS)
def test_kernels_name_the_bad_argument(kind):
    cell_fwd, cell_bwd, forward, backward, Module = OURS[kind]
    rng = np.random.default_rng(0)
    G_, T, N, D, Hh = GATES[kind], 3, 2, 4, 3
    weights = dict(W_ih=rng.normal(size=(G_ * Hh, D)), W_hh=rng.normal(size=(G_ * Hh, Hh)),
                   b_ih=rng.normal(size=G_ * Hh), b_hh=rng.normal(size=G_ * Hh))
    lstm = kind == "lstm"
    layer_args = dict(x=rng.normal(size=(T, N, D)), h0=np.zeros((N, Hh)), **({"c0": np.zeros((N, Hh))} if lstm else {}),
                      **weights)
    tried = check_mutations(forward, layer_args, accepts={name: NAN for name in layer_args})
    cell_args = dict(x_t=rng.normal(size=(N, D)), h_prev=np.zeros((N, Hh)),
                     **({"c_prev": np.zeros((N, Hh))} if lstm else {}), **weights)
    tried += check_mutations(cell_fwd, cell_args, accepts={name: NAN for name in cell_args})
    assert len(tried) > 40
    out, cache = forward(**layer_args)
    extra = {"dh_n": np.ones((N, Hh))} | ({"dc_n": np.ones((N, Hh))} if lstm else {})
    check_mutations(lambda dout, **kw: backward(dout, cache, **kw), dict(dout=np.ones_like(out), **extra),
                    accepts={"dout": NAN, "dh_n": NAN, "dc_n": NAN})
    rejects(lambda: backward(np.ones_like(out), "cache"), "cache")  # once: AttributeError or an unpacking error
    rejects(lambda: backward(np.ones_like(out), cell_fwd(**cell_args)[-1]), "cache")  # a cell's cache
    h, *rest = cell_fwd(**cell_args)
    cell_cache = rest[-1]
    dstate = (np.ones_like(h), np.ones_like(h)) if lstm else (np.ones_like(h),)
    rejects(lambda: cell_bwd(*dstate, cache), "cache")
    rejects(lambda: cell_bwd(np.ones((N, Hh + 1)), *dstate[1:], cell_cache), "dh")
    rejects(lambda: forward(**{**layer_args, "x": np.ones((0, N, D))}), "x")  # no steps
    rejects(lambda: forward(**{**layer_args, "x": np.ones((T, N, D)), "W_hh": np.ones((0, 0)),
                               "W_ih": np.ones((0, D)), "b_ih": np.ones(0), "b_hh": np.ones(0),
                               "h0": np.ones((N, 0)), **({"c0": np.ones((N, 0))} if lstm else {})}), "W_hh")
    rejects(lambda: forward(**{**layer_args, "W_hh": np.ones((G_ * Hh + 1, Hh))}), "W_hh")
    rejects(lambda: forward(**{**layer_args, "h0": np.zeros((1, N, Hh))}), "h0")  # PyTorch's (layers, N, Hh)


@pytest.mark.parametrize("kind", KINDS)
def test_modules_name_the_bad_argument(kind):
    Module = OURS[kind][4]
    check_mutations(lambda input_size, hidden_size: Module(input_size, hidden_size, rng=np.random.default_rng(0)),
                    dict(input_size=3, hidden_size=2))
    for rng in (None, 0, np.random.RandomState(0)):
        rejects(lambda: Module(3, 2, rng=rng), "rng", kinds=(TypeError,))  # required, as Linear's
    with pytest.raises(TypeError):
        Module(3, 2)  # keyword-only and without a default
    layer = Module(3, 2, rng=np.random.default_rng(0))
    x, h0 = np.ones((4, 1, 3)), np.zeros((1, 2))
    with pytest.raises(RuntimeError, match="call forward first"):
        layer.backward(np.ones((4, 1, 2)))
    state = (h0, h0) if kind == "lstm" else h0
    check_mutations(lambda x: layer(x, state), dict(x=x), accepts={"x": NAN})
    out = layer(x, state)
    rejects(lambda: layer.backward(np.ones((4, 2, 2))), "dout")
    rejects(lambda: layer.backward(np.ones_like(out), np.ones((2, 2))), "dh_n")
    rejects(lambda: layer(np.ones((0, 1, 3))), "x")
    if kind == "lstm":
        rejects(lambda: layer(x, h0), "state", kinds=(TypeError,))
        rejects(lambda: layer(x, (h0, np.zeros((2, 2)))), "c0")
    else:
        rejects(lambda: layer(x, np.zeros((1, 1, 2))), "h0")
    torch_sd = TORCH_LAYER[kind](3, 2, bias=False).state_dict()
    rejects(lambda: layer.load_torch_state_dict(torch_sd), "state_dict")
    rejects(lambda: layer.load_torch_state_dict(TORCH_LAYER[kind](3, 4).state_dict()), "weight_ih_l0")


def test_init_and_gradient_flow_name_the_bad_argument():
    check_mutations(lambda input_size, hidden_size, gates: R.init_recurrent_weights(
        input_size, hidden_size, gates, np.random.default_rng(0)), dict(input_size=2, hidden_size=3, gates=4))
    rejects(lambda: R.init_recurrent_weights(2, 3, 1, 0), "rng")
    rejects(lambda: R.check_recurrent_inputs("f", np.ones((2, 3)), np.ones((2, 2)), np.ones((2, 4)), np.ones((2, 2)),
                                             np.ones(2), np.ones(2), 1, "tanh", names=("x_t", "h_prev")), "x_t")
    args = dict(input_size=2, hidden_size=3, recurrent_scale=1.5, memory_bias=1.0)
    for kind in KINDS:
        check_mutations(lambda **kw: GF.recurrent_weights(kind, **kw, rng=np.random.default_rng(0)), args)
    rejects(lambda: GF.recurrent_weights("rnn", 2, 3), "rng", kinds=(TypeError,))  # once: seed 0 by default
    rejects(lambda: GF.recurrent_weights("rnn", 2, 3, rng=None), "rng", kinds=(TypeError,))
    rejects(lambda: GF.recurrent_weights("transformer", 2, 3, rng=np.random.default_rng(0)), "kind")
    weights = GF.recurrent_weights("gru", 2, 3, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(5, 2, 2))
    check_mutations(lambda x, upstream: GF.state_gradient_norms("gru", x, weights, upstream),
                    dict(x=x, upstream=np.ones((2, 3))), accepts={"x": NAN, "upstream": NAN})
    rejects(lambda: GF.state_gradient_norms("lstm", x, weights), "W_hh")  # GRU weights for an LSTM
    rejects(lambda: GF.state_gradient_norms("GRU", x, weights), "kind")  # once: any other word ran the GRU
    rejects(lambda: GF.state_gradient_norms("gru", x, weights[:3]), "weights", kinds=(TypeError,))
    rejects(lambda: GF.state_gradient_norms("gru", x[:0], weights), "x")


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_run_cell_traces_the_layer_step_by_step(kind, data):
    """run_cell's hidden states are the layer's outputs for a batch of one; its gate rows are the cell's."""
    T, Hh = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 3))
    values = data.draw(floats((T,), -1, 1))
    weights = GF.recurrent_weights(kind, 1, Hh, recurrent_scale=1.5, memory_bias=1.0,
                                   rng=np.random.default_rng(data.draw(st.integers(0, 9))))
    hidden, gates = CT.run_cell(kind, values, weights)
    layer_forward = OURS[kind][2]
    x, h0 = values.reshape(T, 1, 1), np.zeros((1, Hh))
    out = layer_forward(x, h0, np.zeros((1, Hh)), *weights)[0] if kind == "lstm" else layer_forward(x, h0, *weights)[0]
    close(hidden, out[:, 0])
    assert gates.shape == (T, {"rnn": 1, "lstm": 5, "gru": 3}[kind], Hh)
    if kind == "rnn":
        close(gates[:, 0], hidden)
    else:
        assert np.all((gates[:, :2] >= 0) & (gates[:, :2] <= 1))  # i, f (LSTM) and r, z (GRU) are sigmoids


@given(text=st.text(max_size=40))
def test_sequence_values_are_one_bounded_input_a_character(text):
    values = CT.sequence_values(text)
    assert values.ndim == 1 and np.all(np.abs(values) <= 1)
    if text != "sine":
        assert len(values) == min(len(text), CT.MAX_STEPS)
    if text[:CT.MAX_STEPS] and set(text[:CT.MAX_STEPS]) <= {"0", "1"}:
        assert values.tolist() == [1.0 if c == "1" else -1.0 for c in text[:CT.MAX_STEPS]]


def test_run_cell_names_the_bad_argument():
    weights = GF.recurrent_weights("gru", 1, 2, rng=np.random.default_rng(0))
    rejects(lambda: CT.run_cell("transformer", np.ones(3), weights), "kind")
    rejects(lambda: CT.run_cell("gru", np.ones((3, 1)), weights), "values")
    rejects(lambda: CT.run_cell("gru", np.ones(0), weights), "values")
    rejects(lambda: CT.run_cell("gru", np.array([0.0, np.nan]), weights), "values")
    rejects(lambda: CT.run_cell("gru", np.ones(3), weights[:3]), "weights", kinds=(TypeError,))
    rejects(lambda: CT.sequence_values("101", (1.0,)), "bit_values")
