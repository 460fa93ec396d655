"""Properties of the scratch layers, GAN losses and optimizer steps: equal to PyTorch, clear errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlcore.errors import ShapeError
from dlcore.scratch import dropout as D
from dlcore.scratch import embedding as E
from dlcore.scratch import gan_losses as G
from dlcore.scratch import linear as Li
from dlcore.scratch import module as M
from dlcore.scratch import optim_steps as O
from tests.property_kit import BAD_ARRAYS, close, covers, floats, rejects, torch_of

covers(
    Li.linear_forward, Li.linear_backward, Li.Linear, Li.mlp_forward,
    D.dropout_forward, D.dropout_backward, D.Dropout,
    E.embedding_forward, E.embedding_backward, E.Embedding,
    M.Parameter, M.Module, M.Sequential,
    G.softplus, G.discriminator_loss_forward, G.discriminator_loss_backward, G.generator_loss_forward,
    G.generator_loss_backward,
    O.momentum_step, O.adagrad_step, O.rmsprop_step, O.adam_step, O.StepOptimizer,
)

sizes = st.integers(1, 5)


@given(N=sizes, D_=sizes, M_=sizes, data=st.data())
def test_linear_forward_backward_and_module_equal_torch(N, D_, M_, data):
    x, W, b, dout = (data.draw(floats(shape)) for shape in ((N, D_), (D_, M_), (M_,), (N, M_)))
    x_t, W_t, b_t = torch_of(x, True), torch_of(W, True), torch_of(b, True)
    out_t = F.linear(x_t, W_t.T, b_t)
    out_t.backward(torch_of(dout))
    out, cache = Li.linear_forward(x, W, b)
    close(out, out_t)
    for ours, grad in zip(Li.linear_backward(dout, cache), (x_t.grad, W_t.grad, b_t.grad)):
        close(ours, grad)
    layer = Li.Linear(D_, M_, rng=np.random.default_rng(0))
    layer.W.value[...], layer.b.value[...] = W, b
    close(layer(x), out_t)
    close(layer.backward(dout), x_t.grad)
    close(layer.W.grad, W_t.grad)
    net = M.Sequential(layer, Li.Linear(M_, 2, rng=np.random.default_rng(1)))
    assert net(x).shape == (N, 2) and len(net.parameters()) == 4
    close(Li.mlp_forward(x, [(W, b)], np.tanh)[-1], torch.tanh(out_t))


@given(x=floats(st.tuples(sizes, sizes)), p=st.floats(0.0, 0.95), seed=st.integers(0, 1000))
def test_dropout_is_mask_times_scale_and_its_own_backward(x, p, seed):
    mask = np.random.default_rng(seed).random(x.shape) >= p
    out, cache = D.dropout_forward(x, p, mask=mask)
    close(out, x * mask / (1 - p))
    dout = np.ones_like(x)
    close(D.dropout_backward(dout, cache), mask / (1 - p))
    close(D.dropout_forward(x, p, training=False)[0], x)
    layer = D.Dropout(p, rng=np.random.default_rng(seed))
    out = layer(x)  # a fresh mask: every value is dropped (0) or scaled by 1 / (1 - p)
    kept = out != 0
    close(out[kept] * (1 - p), x[kept])
    close(layer.eval()(x), x)


@given(V=sizes, E_=sizes, data=st.data())
def test_embedding_equals_torch_with_repeated_indices(V, E_, data):
    W = data.draw(floats((V, E_)))
    indices = data.draw(hnp.arrays(np.int64, st.tuples(sizes, sizes), elements=st.integers(0, V - 1)))
    dout = data.draw(floats(indices.shape + (E_,)))
    W_t = torch_of(W, True)
    F.embedding(torch.from_numpy(indices), W_t).backward(torch_of(dout))
    out, cache = E.embedding_forward(indices, W)
    close(out, W[indices])
    close(E.embedding_backward(dout, cache), W_t.grad)
    table = E.Embedding(V, E_, rng=np.random.default_rng(0))
    table.weight.value[...] = W
    close(table(indices), out)
    assert table.backward(dout) is None
    close(table.weight.grad, W_t.grad)


@given(N=sizes, M_=sizes, data=st.data(), dout=st.floats(-2, 2))
def test_gan_losses_equal_torch_binary_cross_entropy(N, M_, data, dout):
    real, fake = data.draw(floats((N,), -30, 30)), data.draw(floats((M_,), -30, 30))
    close(G.softplus(real), F.softplus(torch_of(real)))
    real_t, fake_t = torch_of(real, True), torch_of(fake, True)
    loss_t = (F.binary_cross_entropy_with_logits(real_t, torch.ones(N, dtype=torch.float64))
              + F.binary_cross_entropy_with_logits(fake_t, torch.zeros(M_, dtype=torch.float64)))
    (dout * loss_t).backward()
    loss, cache = G.discriminator_loss_forward(real, fake)
    close(loss, loss_t)
    dreal, dfake = G.discriminator_loss_backward(dout, cache)
    close(dreal, real_t.grad, atol=1e-12)
    close(dfake, fake_t.grad, atol=1e-12)
    for kind, reference in (("non_saturating", lambda a: F.binary_cross_entropy_with_logits(a, torch.ones_like(a))),
                            ("minimax", lambda a: -F.binary_cross_entropy_with_logits(a, torch.zeros_like(a)))):
        fake_t = torch_of(fake, True)
        loss_t = reference(fake_t)
        (dout * loss_t).backward()
        loss, cache = G.generator_loss_forward(fake, kind)
        close(loss, loss_t)
        close(G.generator_loss_backward(dout, cache), fake_t.grad, atol=1e-12)


STEP_RULES = {
    # name: (our step, its state arrays, torch optimizer factory, options)
    "momentum": (O.momentum_step, 1, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8), dict(lr=0.1, momentum=0.8)),
    "nesterov": (O.momentum_step, 1, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True),
                 dict(lr=0.1, momentum=0.8, nesterov=True)),
    "adagrad": (O.adagrad_step, 1, lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-10), dict(lr=0.1)),
    "rmsprop": (O.rmsprop_step, 1, lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9), dict(lr=0.01, alpha=0.9)),
    "adam": (O.adam_step, 2, lambda p: torch.optim.Adam(p, lr=0.01), dict(lr=0.01)),
    "adamw": (O.adam_step, 2, lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
              dict(lr=0.01, weight_decay=0.1, decoupled=True)),
}


@pytest.mark.parametrize("rule", STEP_RULES)
@given(theta=floats(st.tuples(sizes, sizes)), data=st.data())
def test_step_functions_follow_torch_optim_over_several_steps(rule, theta, data):
    step, num_state, make_torch, options = STEP_RULES[rule]
    grads = [data.draw(floats(theta.shape)) for _ in range(3)]
    parameter = torch.nn.Parameter(torch_of(theta))
    optimizer = make_torch([parameter])
    ours, state = theta.copy(), [np.zeros_like(theta) for _ in range(num_state)]
    for t, grad in enumerate(grads, start=1):
        parameter.grad = torch_of(grad)
        optimizer.step()
        extra = (t,) if rule.startswith("adam") else ()
        ours, *state = step(ours, grad, *state, *extra, **options)
        close(ours, parameter.detach(), rtol=1e-9, atol=1e-12)


@given(theta=floats((3, 2)), grad=floats((3, 2)))
def test_step_optimizer_runs_a_step_function_on_every_parameter(theta, grad):
    layer = Li.Linear(3, 2, rng=np.random.default_rng(0))
    layer.W.value[...] = theta
    optimizer = O.StepOptimizer(layer.parameters(), O.adam_step, lr=0.05, num_state=2, counts_steps=True)
    expected, m, v = theta.copy(), np.zeros_like(theta), np.zeros_like(theta)
    for t in (1, 2):
        optimizer.zero_grad()
        layer.W.accumulate(grad)
        optimizer.step()
        expected, m, v = O.adam_step(expected, grad, m, v, t, lr=0.05)
    close(layer.W.value, expected)


@pytest.mark.parametrize("call, argument, kind", [
    (lambda: Li.linear_forward(np.ones((2, 3)), np.ones((3, 4)), np.ones((1, 4))), "b", ShapeError),
    (lambda: Li.linear_forward(np.ones(3), np.ones((3, 4)), np.ones(4)), "x", ShapeError),
    (lambda: Li.linear_forward(BAD_ARRAYS["complex"], np.ones((3, 4)), np.ones(4)), "x", TypeError),
    (lambda: Li.linear_backward(np.ones((4, 2)), Li.linear_forward(np.ones((2, 3)), np.ones((3, 4)), np.ones(4))[1]),
     "dout", ShapeError),
    (lambda: Li.linear_backward(np.ones((2, 4)), (1,)), "cache", TypeError),
    (lambda: Li.Linear(0, 3, rng=np.random.default_rng(0)), "in_features", ValueError),
    (lambda: Li.Linear(2, 3, rng=0), "rng", TypeError),
    (lambda: D.dropout_forward(np.ones(3), float("nan"), rng=np.random.default_rng(0)), "p", ValueError),
    (lambda: D.dropout_forward(np.ones(3), 0.5), "rng", TypeError),
    (lambda: D.dropout_forward(np.ones(3), 0.5, mask=np.ones(4, bool)), "mask", ShapeError),
    (lambda: D.Dropout(1.5, rng=np.random.default_rng(0)), "p", ValueError),
    (lambda: E.embedding_forward(np.array([3]), np.ones((3, 2))), "indices", ValueError),
    (lambda: E.embedding_forward(np.array([0.0]), np.ones((3, 2))), "indices", TypeError),
    (lambda: E.embedding_forward(np.array([0]), np.ones(3)), "W", ShapeError),
    (lambda: E.embedding_backward(np.ones((2, 2)), E.embedding_forward(np.array([0]), np.ones((3, 2)))[1]), "dout",
     ShapeError),
    (lambda: E.Embedding(3, 2), "rng", TypeError),
    (lambda: E.Embedding(3, 0, rng=np.random.default_rng(0)), "embedding_dim", ValueError),
    (lambda: M.Parameter(BAD_ARRAYS["text"]), "value", TypeError),
    (lambda: M.Sequential(Li.Linear(2, 2, rng=np.random.default_rng(0)), "relu"), "layer", TypeError),
    (lambda: G.softplus(BAD_ARRAYS["text"]), "x", TypeError),
    (lambda: G.discriminator_loss_forward(np.ones(0), np.ones(2)), "real_logits", ValueError),
    (lambda: G.discriminator_loss_forward(np.ones(3), np.ones((3, 1))), "fake_logits", ShapeError),
    (lambda: G.generator_loss_forward(np.ones(2), "wasserstein"), "kind", ValueError),
    (lambda: G.generator_loss_backward(1.0, "cache"), "cache", TypeError),
    (lambda: G.generator_loss_backward("1", G.generator_loss_forward(np.ones(2))[1]), "dout", TypeError),
    (lambda: O.adam_step(np.ones(2), np.ones(2), np.zeros(2), np.zeros(2), 0), "t", ValueError),
    (lambda: O.adam_step(np.ones(2), np.ones(3), np.zeros(2), np.zeros(2), 1), "grad", ShapeError),
    (lambda: O.adam_step(np.ones(2), np.ones(2), np.zeros(2), np.zeros(2), 1, beta1=1.0), "beta1", ValueError),
    (lambda: O.momentum_step(np.ones(2), np.ones(2), np.zeros(2), -0.1), "lr", ValueError),
    (lambda: O.momentum_step(np.ones(2), np.ones(2), np.zeros((2, 1)), 0.1), "velocity", ShapeError),
    (lambda: O.rmsprop_step(np.ones(2), np.ones(2), np.zeros(2), 0.1, alpha=2.0), "alpha", ValueError),
    (lambda: O.adagrad_step(np.ones(2), np.ones(2), np.zeros(2), "0.1"), "lr", TypeError),
    (lambda: O.StepOptimizer([M.Parameter(np.ones(2))], "adam", lr=0.1), "step", TypeError),
])
def test_bad_input_is_named(call, argument, kind):
    rejects(call, argument, kinds=(kind,))


def test_backward_before_forward_says_what_to_do():
    for layer in (Li.Linear(2, 2, rng=np.random.default_rng(0)), E.Embedding(3, 2, rng=np.random.default_rng(0))):
        with pytest.raises(RuntimeError, match="call forward first"):
            layer.backward(np.ones((1, 2)))
    with pytest.raises(NotImplementedError, match="must implement forward"):
        M.Module()(np.ones(2))
