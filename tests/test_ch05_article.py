"""Chapter 05: article 001's NumPy XOR network, as given (it must fail as documented) and corrected."""

import numpy as np
import pytest
import torch

from dlcore.articles import article_001_xor as article
from dlcore.errors import ShapeError
from dlcore.gradcheck import check_gradients
from tests.tolerances import PARITY_ATOL_FLOAT64, PARITY_RTOL_FLOAT64


@pytest.fixture
def params(rng):
    return article.init_params_as_given(rng)


def test_article_data_is_not_xor():
    X, y = article.article_data()
    X_truth, y_truth = article.xor_truth_table()
    assert X.shape == (2, 2) and y.shape == (2, 1)
    truth = {tuple(row): label for row, label in zip(X_truth.tolist(), y_truth.ravel())}
    assert all(truth[tuple(row)] != label for row, label in zip(X.tolist(), y.ravel()))  # both labels inverted
    assert np.array_equal(y.ravel(), X[:, 0])  # the targets are just x1


def test_as_given_step_crashes_where_documented(params):
    X, y = article.article_data()
    with pytest.raises(ValueError, match=r"shapes \(2,3\) and \(1,3\) not aligned"):
        article.step_as_given(X, y, params, learning_rate=0.5)


def test_as_given_output_delta_has_an_impossible_shape(params):
    X, y = article.article_data()
    _, cache = article.forward_as_given(X, y, *params)
    _, dZ1, dW2, db2 = article.output_layer_backward_as_given(cache)
    assert dZ1.shape == (2, 3)  # broadcast; dL/dA2 has the shape of A2, (2, 1)
    assert cache.A2.shape == (2, 1)


def test_gradient_checker_fails_the_as_given_output_layer(params, rng):
    X, y = article.article_data()
    report = article.check_gradients_as_given(X, y, params, output_layer_only=True, rng=rng)
    assert not report["W2"].passed and not report["b2"].passed
    assert report["W2"].error > 0.1


def test_each_fix_moves_the_checker_to_the_next_bug(params, rng):
    X, y = article.article_data()
    applied = []
    verdicts = []
    for fix in ("output_derivative", "output_grads_use_delta", "mean", "hidden_grads_use_delta"):
        applied.append(fix)
        report = article.check_gradients_as_given(X, y, params, applied, rng=rng)
        verdicts.append({row.name: row for row in report.rows})
    first, second, third, fourth = verdicts
    assert "shape (2, 1), expected (2, 3)" in first["W1"].reason and not first["W2"].passed
    assert second["W2"].error == pytest.approx(1 / 3, rel=1e-6)  # exactly a factor N = 2 off
    assert third["W2"].passed and third["b2"].passed and not third["W1"].passed
    assert all(row.passed for row in fourth.values())


def test_all_fixes_equal_the_corrected_backward(params):
    X, y = article.xor_truth_table()
    _, cache = article.forward_as_given(X, y, *params)
    grads = article.backward_as_given(cache, params.W2, fixes=article.FIXES)
    flat = article.ArticleParams(params.W1, params.b1.ravel(), params.W2, params.b2.ravel())  # (1, M) -> (M,)
    _, fixed_cache = article.forward_fixed(X, y, *flat)
    reference = article.backward_fixed(fixed_cache)
    for got, want in zip(grads, reference):
        np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-10, atol=1e-14)


def test_unknown_fix_is_named(params):
    X, y = article.article_data()
    _, cache = article.forward_as_given(X, y, *params)
    with pytest.raises(ValueError, match="fixes must be a collection of names"):
        article.backward_as_given(cache, params.W2, fixes="mean")
    with pytest.raises(ValueError, match="output_derivative"):
        article.backward_as_given(cache, params.W2, fixes=["typo"])


@pytest.mark.parametrize("N, D, Hh", [(1, 2, 3), (5, 3, 4), (7, 2, 1)])
def test_corrected_backward_passes_the_gradient_check(rng, N, D, Hh):
    x = rng.standard_normal((N, D))
    y = (rng.random((N, 1)) < 0.5).astype(float)
    inputs = {"W1": rng.standard_normal((D, Hh)), "b1": rng.standard_normal(Hh),
              "W2": rng.standard_normal((Hh, 1)), "b2": rng.standard_normal(1)}
    originals = {name: value.copy() for name, value in inputs.items()}
    report = check_gradients(lambda **p: article.forward_fixed(x, y, **p),
                             lambda dout, cache: [dout * g for g in article.backward_fixed(cache)], inputs, rng=rng)
    report.assert_ok()
    assert all(np.array_equal(inputs[n], originals[n]) for n in inputs)


def test_corrected_network_matches_torch(rng):
    x = rng.standard_normal((6, 3))
    y = (rng.random((6, 1)) < 0.5).astype(float)
    params = [rng.standard_normal((3, 5)), rng.standard_normal(5), rng.standard_normal((5, 1)), rng.standard_normal(1)]
    loss, cache = article.forward_fixed(x, y, *params)
    grads = article.backward_fixed(cache)
    W1, b1, W2, b2 = (torch.tensor(p, requires_grad=True) for p in params)
    logits = torch.sigmoid(torch.tensor(x) @ W1 + b1) @ W2 + b2
    torch_loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor(y))
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=PARITY_RTOL_FLOAT64)
    for ours, theirs in zip(grads, (W1, b1, W2, b2)):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=PARITY_RTOL_FLOAT64, atol=PARITY_ATOL_FLOAT64)


def test_corrected_network_learns_xor():
    X, y = article.xor_truth_table()
    params = article.init_params_fixed(np.random.default_rng(3))
    trained, losses = article.train_fixed(X, y, params, learning_rate=2.0, num_epochs=2000)
    _, cache = article.forward_fixed(X, y, *trained)
    assert np.array_equal(cache.p.ravel() > 0.5, y.ravel() > 0.5)
    assert losses[-1] < 0.05 < losses[0]
    assert all(not np.shares_memory(a, b) for a, b in zip(params, trained))


def test_train_fixed_uses_the_backward_it_is_given():
    X, y = article.xor_truth_table()
    params = article.init_params_fixed(np.random.default_rng(3))
    calls = []

    def counting_backward(cache):
        calls.append(1)
        return article.backward_fixed(cache)

    default, _ = article.train_fixed(X, y, params, learning_rate=2.0, num_epochs=5)
    given, _ = article.train_fixed(X, y, params, learning_rate=2.0, num_epochs=5, backward=counting_backward)
    assert len(calls) == 5
    for a, b in zip(default, given):
        np.testing.assert_array_equal(a, b)
    frozen, _ = article.train_fixed(X, y, params, num_epochs=3,
                                    backward=lambda cache: tuple(np.zeros_like(p) for p in params))
    for a, b in zip(frozen, params):
        np.testing.assert_array_equal(a, b)


def test_forward_fixed_rejects_bad_shapes(rng):
    x = rng.standard_normal((4, 2))
    W1, b1, W2, b2 = article.init_params_fixed(rng)
    with pytest.raises(ShapeError, match=r"forward_fixed: y has shape \(4,\) but expected \(N, 1\) = \(4, 1\)"):
        article.forward_fixed(x, np.zeros(4), W1, b1, W2, b2)
    with pytest.raises(ShapeError, match=r"b1 has shape \(1, 3\) but expected \(Hh,\) = \(3,\)"):
        article.forward_fixed(x, np.zeros((4, 1)), W1, b1[None, :], W2, b2)
    with pytest.raises(ShapeError, match=r"W1 has shape \(3, 2\)"):
        article.forward_fixed(x, np.zeros((4, 1)), W1.T, b1, W2, b2)


def test_sigmoid_as_given_overflows_where_the_course_version_does_not():
    with pytest.warns(RuntimeWarning, match="overflow"):
        article.sigmoid_as_given(np.array([-800.0]))
