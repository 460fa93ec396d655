"""Chapter 11: RNN, LSTM and GRU from scratch against PyTorch (float64) and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcore.errors import ShapeError
from dlcore.gradcheck import check_gradients
from dlcore.scratch.gru import GRU, gru_backward, gru_cell_backward, gru_cell_forward, gru_forward
from dlcore.scratch.lstm import LSTM, lstm_backward, lstm_cell_backward, lstm_cell_forward, lstm_forward
from dlcore.scratch.rnn import RNN, rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64

NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
KINDS = {  # kind: (torch layer, torch cell, layer forward, layer backward, number of gate blocks)
    "rnn": (torch.nn.RNN, torch.nn.RNNCell, rnn_forward, rnn_backward, 1),
    "lstm": (torch.nn.LSTM, torch.nn.LSTMCell, lstm_forward, lstm_backward, 4),
    "gru": (torch.nn.GRU, torch.nn.GRUCell, gru_forward, gru_backward, 3),
}
SHAPES = [(5, 3, 4, 6), (1, 1, 2, 3), (7, 2, 3, 5)]  # (T, N, D, Hh): non-square, a batch of one, one step


def close(a, b) -> None:
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)


def weights(module) -> list[np.ndarray]:
    return [module.state_dict()[name].numpy().copy() for name in NAMES]


def run_scratch(kind, x, h0, c0, W):
    _, _, forward, backward, _ = KINDS[kind]
    if kind == "lstm":
        out, cache = forward(x, h0, c0, *W)
        return out, out[-1], cache.c[-1], cache
    out, cache = forward(x, h0, *W)
    return out, out[-1], None, cache


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("T, N, D, Hh", SHAPES)
def test_layer_matches_pytorch_outputs_states_and_every_gradient(kind, T, N, D, Hh):
    torch_layer, _, _, backward, _ = KINDS[kind]
    torch.manual_seed(T * 100 + N)
    module = torch_layer(D, Hh).double()
    rng = np.random.default_rng(T + N + D)
    x, h0, c0 = rng.standard_normal((T, N, D)), rng.standard_normal((N, Hh)), rng.standard_normal((N, Hh))
    W = weights(module)
    copies = [a.copy() for a in (x, h0, c0, *W)]
    out, h_n, c_n, cache = run_scratch(kind, x, h0, c0, W)
    tx, th0, tc0 = (torch.tensor(a, requires_grad=True) for a in (x, h0[None], c0[None]))  # PyTorch's h0 is (1, N, Hh)
    t_out, t_state = module(tx, (th0, tc0) if kind == "lstm" else th0)
    t_h, t_c = t_state if kind == "lstm" else (t_state, None)
    close(out, t_out)
    close(h_n, t_h[0])
    dout, dh_n, dc_n = rng.standard_normal(out.shape), rng.standard_normal(h_n.shape), rng.standard_normal(h_n.shape)
    loss = (t_out * torch.tensor(dout)).sum() + (t_h[0] * torch.tensor(dh_n)).sum()
    if kind == "lstm":
        close(c_n, t_c[0])
        loss = loss + (t_c[0] * torch.tensor(dc_n)).sum()
        dx, dh0, dc0, *dW = backward(dout, cache, dh_n, dc_n)
    else:
        dx, dh0, *dW = backward(dout, cache, dh_n)
    loss.backward()
    if kind == "lstm":
        close(dc0, tc0.grad[0])
    close(dx, tx.grad)
    close(dh0, th0.grad[0])
    for name, grad in zip(NAMES, dW):
        close(grad, dict(module.named_parameters())[name].grad)
    for original, now in zip(copies, (x, h0, c0, *W)):
        assert np.array_equal(original, now), "an input was modified"


@pytest.mark.parametrize("kind", list(KINDS))
def test_cell_matches_pytorch_cell(kind):
    _, torch_cell, _, _, _ = KINDS[kind]
    torch.manual_seed(1)
    cell = torch_cell(3, 4).double()
    W = [cell.state_dict()[name.replace("_l0", "")].numpy().copy() for name in NAMES]
    rng = np.random.default_rng(2)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    dh, dc = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    if kind == "lstm":
        h1, c1, cache = lstm_cell_forward(x, h, c, *W)
        t_h1, t_c1 = cell(tx, (th, tc))
        close(c1, t_c1)
        ((t_h1 * torch.tensor(dh)).sum() + (t_c1 * torch.tensor(dc)).sum()).backward()
        dx, dh_prev, dc_prev, *dW = lstm_cell_backward(dh, dc, cache)
        close(dc_prev, tc.grad)
    else:
        h1, cache = (rnn_cell_forward if kind == "rnn" else gru_cell_forward)(x, h, *W)
        t_h1 = cell(tx, th)
        (t_h1 * torch.tensor(dh)).sum().backward()
        dx, dh_prev, *dW = (rnn_cell_backward if kind == "rnn" else gru_cell_backward)(dh, cache)
    close(h1, t_h1)
    close(dx, tx.grad)
    close(dh_prev, th.grad)
    for name, grad in zip(NAMES, dW):
        close(grad, dict(cell.named_parameters())[name.replace("_l0", "")].grad)


def _inputs(kind, T=4, N=2, D=3, Hh=3, seed=0):
    G = KINDS[kind][4]
    rng = np.random.default_rng(seed)
    inputs = {"x": rng.standard_normal((T, N, D)), "h0": rng.standard_normal((N, Hh))}
    if kind == "lstm":
        inputs["c0"] = rng.standard_normal((N, Hh))
    inputs.update(W_ih=rng.standard_normal((G * Hh, D)) * 0.5, W_hh=rng.standard_normal((G * Hh, Hh)) * 0.5,
                  b_ih=rng.standard_normal(G * Hh) * 0.5, b_hh=rng.standard_normal(G * Hh) * 0.5)
    return inputs


@pytest.mark.parametrize("kind", list(KINDS))
def test_backpropagation_through_time_matches_finite_differences(kind):
    _, _, forward, backward, _ = KINDS[kind]
    check_gradients(forward, backward, _inputs(kind)).assert_ok()


@pytest.mark.parametrize("kind", ["rnn", "gru"])
def test_final_state_gradient_matches_finite_differences(kind):
    """dh_n: a loss on h_n alone (the usual case for classifying a whole sequence)."""
    _, _, forward, backward, _ = KINDS[kind]

    def final(**inputs):
        out, cache = forward(**inputs)
        return out[-1], cache

    check_gradients(final, lambda d, cache: backward(np.zeros_like(cache.out), cache, d), _inputs(kind)).assert_ok()


def test_lstm_final_cell_state_gradient_matches_finite_differences():
    def final_cell(**inputs):
        out, cache = lstm_forward(**inputs)
        return cache.c[-1], cache

    check_gradients(final_cell, lambda d, cache: lstm_backward(np.zeros_like(cache.out), cache, None, d),
                    _inputs("lstm")).assert_ok()


def test_planted_bug_is_caught():
    """A BPTT that forgets the gradient arriving from later steps fails the check (the check can fail)."""
    def truncated(dout, cache):  # W_hh zeroed for the backward pass only: nothing flows from step t to t-1
        return rnn_backward(dout, cache._replace(W_hh=np.zeros_like(cache.W_hh)))

    assert not check_gradients(rnn_forward, truncated, _inputs("rnn")).passed


@pytest.mark.parametrize("kind", list(KINDS))
def test_shape_errors_name_the_argument(kind):
    _, _, forward, _, G = KINDS[kind]
    inputs = _inputs(kind)
    with pytest.raises(ShapeError, match=r"x has shape \(2, 3\) but expected \(T, N, D\)"):
        forward(**{**inputs, "x": inputs["x"][0]})
    with pytest.raises(ShapeError, match=rf"W_hh has shape \(3, 3\) but expected \({G} Hh, Hh\)" if G > 1 else
                       r"W_ih has shape"):
        forward(**{**inputs, ("W_hh" if G > 1 else "W_ih"): np.zeros((3, 3)) if G > 1 else np.zeros((3, 5))})
    with pytest.raises(ShapeError, match=r"h0 has shape \(3, 3\) but expected \(N, Hh\) = \(2, 3\)"):
        forward(**{**inputs, "h0": np.zeros((3, 3))})


@pytest.mark.parametrize("layer_class, kind", [(RNN, "rnn"), (LSTM, "lstm"), (GRU, "gru")])
def test_modules_load_into_pytorch_and_agree(layer_class, kind):
    layer = layer_class(3, 5, rng=np.random.default_rng(4))
    module = KINDS[kind][0](3, 5).double()
    module.load_state_dict(layer.torch_state_dict())
    x = np.random.default_rng(5).standard_normal((6, 2, 3))
    out = layer.forward(x)
    t_out, _ = module(torch.tensor(x))
    close(out, t_out)
    layer.backward(np.ones_like(out))
    t_out.sum().backward()
    for name in NAMES:
        close(getattr(layer, name).grad, dict(module.named_parameters())[name].grad)
    other = layer_class(3, 5, rng=np.random.default_rng(9))
    other.load_torch_state_dict(module.state_dict())
    close(other.forward(x), t_out)
    with pytest.raises(ShapeError, match="expected \\(T, N, D\\)"):
        layer.forward(x[0])


def test_float32_stays_float32():
    inputs = {k: v.astype(np.float32) for k, v in _inputs("lstm").items()}
    out, cache = lstm_forward(**inputs)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in lstm_backward(np.ones_like(out), cache))
