"""Properties of dlcore.scratch.losses: values and gradients equal PyTorch's, bad input is named."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlcore.errors import ShapeError
from dlcore.scratch import losses as L
from tests.property_kit import BAD_ARRAYS, close, covers, floats, rejects, torch_of

covers(
    L.log_softmax, L.one_hot, L.mse_forward, L.mse_backward, L.binary_cross_entropy_forward,
    L.binary_cross_entropy_backward, L.binary_cross_entropy_with_logits_forward,
    L.binary_cross_entropy_with_logits_backward, L.softmax_cross_entropy_forward, L.softmax_cross_entropy_backward,
    L.exponential_loss_forward, L.exponential_loss_backward, L.multiclass_hinge_forward, L.multiclass_hinge_backward,
    L.mse_loss, L.bce_with_logits_loss, L.softmax_cross_entropy, L.multiclass_hinge,
)

batch_shapes = st.one_of(st.tuples(st.integers(1, 6)), st.tuples(st.integers(1, 6), st.integers(1, 4)))


@st.composite
def classification(draw, low=-20.0, high=20.0):
    """(logits (N, K), labels (N,)) with every label in range."""
    N, K = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    logits = draw(floats((N, K), low, high))
    labels = draw(hnp.arrays(np.int64, (N,), elements=st.integers(0, K - 1)))
    return logits, labels


def grad_of(loss_fn, x, *rest):
    x_t = torch_of(x, grad=True)
    loss = loss_fn(x_t, *rest)
    loss.backward()
    return loss.detach(), x_t.grad


@given(data=classification(), dloss=st.floats(-3, 3))
def test_log_softmax_and_softmax_cross_entropy_equal_torch(data, dloss):
    logits, labels = data
    close(L.log_softmax(logits), F.log_softmax(torch_of(logits), dim=-1))
    loss_t, grad_t = grad_of(lambda z: F.cross_entropy(z, torch.from_numpy(labels)), logits)
    loss, cache = L.softmax_cross_entropy_forward(logits, labels)
    close(loss, loss_t)
    close(L.softmax_cross_entropy_backward(cache, dloss), dloss * grad_t, atol=1e-12)
    loss2, grad2 = L.softmax_cross_entropy(logits, labels)
    close(loss2, loss_t)
    close(grad2, grad_t, atol=1e-12)


@given(data=classification(), margin=st.floats(0.1, 3.0))
def test_multiclass_hinge_is_torch_multi_margin_times_k(data, margin):
    scores, labels = data
    K = scores.shape[1]
    loss_t, grad_t = grad_of(lambda s: K * F.multi_margin_loss(s, torch.from_numpy(labels), margin=margin), scores)
    loss, cache = L.multiclass_hinge_forward(scores, labels, margin)
    close(loss, loss_t)
    close(L.multiclass_hinge_backward(cache), grad_t, atol=1e-12)
    close(L.multiclass_hinge(scores, labels, margin)[0], loss_t)


@given(shape=batch_shapes, data=st.data())
def test_mse_equals_torch(shape, data):
    pred, target = data.draw(floats(shape)), data.draw(floats(shape))
    loss_t, grad_t = grad_of(lambda p: F.mse_loss(p, torch_of(target)), pred)
    loss, cache = L.mse_forward(pred, target)
    close(loss, loss_t)
    close(L.mse_backward(cache), grad_t)
    close(L.mse_loss(pred, target)[1], grad_t)


@given(shape=batch_shapes, data=st.data())
def test_binary_cross_entropy_both_forms_equal_torch(shape, data):
    logits = data.draw(floats(shape, -30.0, 30.0))
    target = data.draw(floats(shape, 0.0, 1.0))
    loss_t, grad_t = grad_of(lambda z: F.binary_cross_entropy_with_logits(z, torch_of(target)), logits)
    loss, cache = L.binary_cross_entropy_with_logits_forward(logits, target)
    close(loss, loss_t)
    close(L.binary_cross_entropy_with_logits_backward(cache), grad_t, atol=1e-12)
    close(L.bce_with_logits_loss(logits, target)[0], loss_t)
    prob = data.draw(floats(shape, 0.01, 0.99))  # away from the clipping at PROBABILITY_EPS
    loss_t, grad_t = grad_of(lambda p: F.binary_cross_entropy(p, torch_of(target)), prob)
    loss, cache = L.binary_cross_entropy_forward(prob, target)
    close(loss, loss_t)
    close(L.binary_cross_entropy_backward(cache), grad_t)


@given(shape=batch_shapes, data=st.data())
def test_exponential_loss_matches_its_formula_and_finite_differences(shape, data):
    scores = data.draw(floats(shape, -3.0, 3.0))
    target = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])))
    loss_t, grad_t = grad_of(lambda f: torch.exp(-torch_of(target) * f).mean(), scores)
    loss, cache = L.exponential_loss_forward(scores, target)
    close(loss, loss_t)
    close(L.exponential_loss_backward(cache), grad_t)


@given(labels=hnp.arrays(np.int64, st.integers(0, 6), elements=st.integers(0, 4)), extra=st.integers(0, 3))
def test_one_hot_equals_torch(labels, extra):
    K = 5 + extra
    close(L.one_hot(labels, K), F.one_hot(torch.from_numpy(labels), K).double())


@pytest.mark.parametrize("call, argument, kind", [
    (lambda: L.log_softmax(np.ones((2, 0))), "logits", ShapeError),
    (lambda: L.log_softmax(BAD_ARRAYS["text"]), "logits", TypeError),
    (lambda: L.one_hot(np.array([0]), 0), "num_classes", ValueError),
    (lambda: L.one_hot(np.array([0]), 2.0), "num_classes", TypeError),
    (lambda: L.one_hot(np.array([0.0]), 2), "labels", TypeError),
    (lambda: L.one_hot(np.array([2]), 2), "labels", ValueError),
    (lambda: L.mse_forward(np.ones(3), np.ones((3, 1))), "target", ShapeError),
    (lambda: L.mse_forward(np.ones((0, 2)), np.ones((0, 2))), "pred", ValueError),
    (lambda: L.mse_forward(BAD_ARRAYS["complex"], np.ones((2, 3))), "pred", TypeError),
    (lambda: L.mse_forward(np.ones((2, 2, 2)), np.ones((2, 2, 2))), "pred", ShapeError),
    (lambda: L.binary_cross_entropy_forward(np.array([1.5]), np.array([1.0])), "prob", ValueError),
    (lambda: L.binary_cross_entropy_forward(np.array([0.5]), np.array([2.0])), "target", ValueError),
    (lambda: L.binary_cross_entropy_with_logits_forward(np.ones(3), np.ones(4)), "target", ShapeError),
    (lambda: L.softmax_cross_entropy_forward(np.ones(3), np.array([0])), "logits", ShapeError),
    (lambda: L.softmax_cross_entropy_forward(np.ones((2, 0)), np.array([0, 0])), "logits", ShapeError),
    (lambda: L.softmax_cross_entropy_forward(np.ones((2, 3)), np.array([0, 3])), "labels", ValueError),
    (lambda: L.softmax_cross_entropy_forward(np.ones((2, 3)), np.eye(3)[[0, 1]]), "labels", ShapeError),
    (lambda: L.softmax_cross_entropy_forward(np.ones((2, 3)), np.array([True, False])), "labels", TypeError),
    (lambda: L.multiclass_hinge_forward(np.ones((2, 3)), np.array([0, 1]), float("nan")), "margin", ValueError),
    (lambda: L.multiclass_hinge_forward(np.ones((2, 0)), np.array([0, 0])), "scores", ShapeError),
    (lambda: L.exponential_loss_forward(np.ones(2), np.array([0.0, 1.0])), "target", ValueError),
    (lambda: L.mse_backward(L.mse_forward(np.ones(2), np.ones(2))[1], "1"), "dloss", TypeError),
    (lambda: L.mse_backward(L.mse_forward(np.ones(2), np.ones(2))[1], np.ones(2)), "dloss", ShapeError),
    (lambda: L.softmax_cross_entropy_backward("cache"), "cache", TypeError),
    (lambda: L.mse_backward(L.softmax_cross_entropy_forward(np.ones((1, 2)), np.array([0]))[1]), "cache", TypeError),
])
def test_bad_input_is_named(call, argument, kind):
    rejects(call, argument, kinds=(kind,))


@given(data=classification(-1e6, 1e6))
def test_losses_stay_finite_for_huge_logits(data):
    logits, labels = data
    loss, grad = L.softmax_cross_entropy(logits, labels)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    loss, grad = L.bce_with_logits_loss(logits, (labels % 2).astype(float)[:, None].repeat(logits.shape[1], 1))
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
