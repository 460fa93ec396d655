"""Chapter 07 checks: each passes two different right answers, fails plausible wrong ones with their
diagnosis (asserted by message and mistake id), fails answers that call dlcore's own code, and hands
the learner's functions to the chapter once they pass."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlcore.exercises import ch07
from dlcore.exercises.core import ExerciseFailed
from dlcore.exercises.learner import accepted, implementation
from dlcore.scratch import init
from dlcore.scratch.batchnorm import batchnorm_forward
from dlcore.scratch.dropout import dropout_forward
from dlcore.scratch.optim import SGD
from dlcore.training import LayerKernels, measure, scratch_mlp, train
from tests.helpers import not_done


pytestmark = pytest.mark.usefixtures("one_blas_thread")  # tests/conftest.py


def _fails(check, *functions, message: str, mistake: str | None = None) -> ExerciseFailed:
    with pytest.raises(ExerciseFailed, match=message) as caught:
        check(*functions)
    if mistake is not None:
        assert caught.value.mistake == mistake
    return caught.value


# ---------------------------------------------------------------- 7.1 predict

RIGHT_REGIMES = ("vanishing", "stable", "vanishing", "stable", "exploding")


def test_regime_prediction_right_answer_matches_the_measurement():
    assert tuple(regime for regime, _ in ch07.measure_regimes()) == RIGHT_REGIMES
    assert ch07.check_regime_prediction(RIGHT_REGIMES).passed
    assert ch07.check_regime_prediction([p.upper() for p in RIGHT_REGIMES]).passed
    assert ch07.check_regime_prediction(lambda: RIGHT_REGIMES).passed


@pytest.mark.parametrize("prediction, message, mistake", [
    (("vanishing", "stable", "stable", "stable", "exploding"), "ReLU passes only half of its inputs",
     "regime-relu-xavier-stable"),
    (("stable", "stable", "vanishing", "stable", "exploding"), r"σ' ≤ 1/4", "regime-sigmoid-xavier-stable"),
    (("vanishing", "vanishing", "vanishing", "stable", "exploding"), "tanh has slope ≈ 1 near 0", "regime-tanh-xavier-vanishing"),
    (("vanishing", "stable", "vanishing", "stable", "stable"), "each ReLU layer multiplies the variance by 64/2 = 32",
     "regime-relu-standard-stable"),
    (("vanishing", "stable", "vanishing", "vanishing", "exploding"), "exactly makes up for the half", "regime-relu-he-vanishing"),
])
def test_regime_prediction_wrong_entries_are_explained(prediction, message, mistake):
    _fails(ch07.check_regime_prediction, prediction, message=message, mistake=mistake)


def test_regime_prediction_bad_form_and_not_done():
    _fails(ch07.check_regime_prediction, ("vanishing", "stable"), message="should be a tuple of 5 words")
    _fails(ch07.check_regime_prediction, ("vanishing", "fine", "vanishing", "stable", "exploding"),
           message="'fine' is not one of")
    with pytest.raises(NotImplementedError, match="Exercise 7.1 is not done yet"):
        ch07.check_regime_prediction(...)
    with pytest.raises(NotImplementedError, match="Exercise 7.1 is not done yet"):
        ch07.check_regime_prediction(not_done)


# ---------------------------------------------------------------- 7.2 derive Var(z)

@pytest.mark.parametrize("right", [
    lambda n, v, m, s2: n * v * (s2 + np.square(m)),
    lambda n, v, m, s2: np.multiply(n, v) * (np.asarray(s2) + np.asarray(m) * m),
])
def test_output_variance_right_answers_pass(right):
    assert ch07.check_output_variance(right).passed


@pytest.mark.parametrize("wrong, mistake", [
    (lambda n, v, m, s2: n * v * s2, "input-mean-missing"),
    (lambda n, v, m, s2: n * np.sqrt(v) * (s2 + np.square(m)), "weight-std-not-variance"),
    (lambda n, v, m, s2: v * (s2 + np.square(m)), "fan-in-missing"),
    (lambda n, v, m, s2: np.square(n) * v * (s2 + np.square(m)), "fan-in-squared"),
    (lambda n, v, m, s2: n * v * (s2 + m), "mean-not-squared"),
])
def test_output_variance_mistakes_are_diagnosed(wrong, mistake):
    _fails(ch07.check_output_variance, wrong, message="Exercise 7.2", mistake=mistake)


def test_output_variance_not_done():
    with pytest.raises(NotImplementedError, match="Exercise 7.2 is not done yet"):
        ch07.check_output_variance(not_done)


# ---------------------------------------------------------------- 7.3 init_weights

GAINS = {"relu": math.sqrt(2.0), "leaky_relu": math.sqrt(2.0 / (1.0 + 0.01**2)), "tanh": 5.0 / 3.0}


def init_by_std(shape, scheme, nonlinearity, rng, distribution="normal"):
    fan_in, fan_out = shape
    std = math.sqrt(2.0 / (fan_in + fan_out)) if scheme == "xavier" else GAINS.get(nonlinearity, 1.0) / math.sqrt(fan_in)
    if distribution == "uniform":
        return rng.uniform(-math.sqrt(3) * std, math.sqrt(3) * std, shape)
    return std * rng.standard_normal(shape)


def init_by_variance(shape, scheme, nonlinearity, rng, distribution="normal"):
    fan_in, fan_out = shape
    if scheme == "he":
        variance = GAINS.get(nonlinearity, 1.0) ** 2 / fan_in
    else:
        variance = 2.0 / (fan_in + fan_out)
    if distribution == "normal":
        return rng.normal(0.0, np.sqrt(variance), size=shape)
    bound = np.sqrt(3 * variance)
    return (2 * rng.random(shape) - 1) * bound


@pytest.mark.parametrize("right", [init_by_std, init_by_variance])
def test_init_weights_right_answers_pass_and_are_accepted(right):
    assert ch07.check_init_weights(right).passed
    assert accepted("init_weights") is right


def _init_with_std(std_of, draw="as asked"):
    def init_weights(shape, scheme, nonlinearity, rng, distribution="normal"):
        fan_in, fan_out = shape
        std = std_of(fan_in, fan_out, GAINS.get(nonlinearity, 1.0), scheme)
        how = distribution if draw == "as asked" else draw
        if how == "uniform":
            return rng.uniform(-math.sqrt(3) * std, math.sqrt(3) * std, shape)
        if how == "uniform-bound-std":
            return rng.uniform(-std, std, shape)
        if how == "transposed":
            return std * rng.standard_normal(shape[::-1]).T
        return std * rng.standard_normal(shape)
    return init_weights


def _xavier(i, o, g, s):
    return math.sqrt(2.0 / (i + o))


@pytest.mark.parametrize("wrong, mistake", [
    (_init_with_std(lambda i, o, g, s: _xavier(i, o, g, s) if s == "xavier" else g / math.sqrt(o)), "he-fan-out"),
    (_init_with_std(lambda i, o, g, s: _xavier(i, o, g, s) if s == "xavier" else 1 / math.sqrt(i)), "he-gain-missing"),
    (_init_with_std(lambda i, o, g, s: _xavier(i, o, g, s) if s == "xavier" else math.sqrt(2 / i)),
     "relu-gain-for-every-activation"),
    (_init_with_std(lambda i, o, g, s: _xavier(i, o, g, s) if s == "xavier" else g * g / math.sqrt(i)), "gain-squared"),
    (_init_with_std(lambda i, o, g, s: _xavier(i, o, g, s) if s == "xavier" else g * g / i), "he-variance-as-std"),
    (_init_with_std(lambda i, o, g, s: 2 / (i + o) if s == "xavier" else g / math.sqrt(i)), "xavier-variance-as-std"),
    (_init_with_std(lambda i, o, g, s: g * _xavier(i, o, g, s) if s == "xavier" else g / math.sqrt(i)),
     "xavier-with-gain"),
    (_init_with_std(lambda i, o, g, s: math.sqrt(1 / (i + o)) if s == "xavier" else g / math.sqrt(i)),
     "xavier-factor-2-missing"),
    (_init_with_std(lambda i, o, g, s: math.sqrt(1 / i) if s == "xavier" else g / math.sqrt(i)), "xavier-fan-in-only"),
    (_init_with_std(lambda i, o, g, s: _xavier(i, o, g, s) if s == "xavier" else g / math.sqrt(i), "uniform"),
     "uniform-not-normal"),
    (_init_with_std(lambda i, o, g, s: _xavier(i, o, g, s) if s == "xavier" else g / math.sqrt(i), "normal"),
     "normal-not-uniform"),
    (_init_with_std(lambda i, o, g, s: _xavier(i, o, g, s) if s == "xavier" else g / math.sqrt(i),
                    "uniform-bound-std"), "uniform-bound-is-std"),
    (_init_with_std(lambda i, o, g, s: _xavier(i, o, g, s) if s == "xavier" else g / math.sqrt(i), "transposed"),
     "transposed-draw"),
])
def test_init_weights_mistakes_are_diagnosed(wrong, mistake):
    _fails(ch07.check_init_weights, wrong, message="Exercise 7.3", mistake=mistake)
    assert accepted("init_weights") is None


def test_init_weights_that_calls_dlcore_fails_and_the_stub_is_not_done():
    def delegating(shape, scheme, nonlinearity, rng, distribution="normal"):
        return init.initialize(shape, scheme, rng=rng, nonlinearity=nonlinearity)

    _fails(ch07.check_init_weights, delegating, message="calls dlcore.scratch.init.initialize",
           mistake="delegates-to-reference")
    _fails(ch07.check_init_weights, lambda shape, scheme, nonlinearity, rng, distribution="normal": init.kaiming_std(shape[0]) * rng.standard_normal(shape),
           message="kaiming_std", mistake="delegates-to-reference")
    with pytest.raises(NotImplementedError, match="Exercise 7.3 is not done yet"):
        ch07.check_init_weights(not_done)


# ---------------------------------------------------------------- 7.5 batch norm

def bn_forward_keepdims(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    n = x.shape[0]
    if training:
        mu = x.mean(axis=0, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=0, keepdims=True)
        new_mean = running_mean + momentum * (mu[0] - running_mean)
        new_var = running_var + momentum * (var[0] * n / (n - 1) - running_var)
    else:
        mu, var = running_mean[None, :], running_var[None, :]
        new_mean, new_var = np.array(running_mean), np.array(running_var)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta, new_mean, new_var


def bn_backward_staged(dout, x, gamma, eps=1e-5):
    """The computational graph, node by node (CS231n's first version)."""
    n = x.shape[0]
    xc = x - x.mean(axis=0)
    std = np.sqrt((xc**2).mean(axis=0) + eps)
    xhat = xc / std
    dxhat = dout * gamma
    dvar = np.sum(dxhat * xc, axis=0) * -0.5 * std**-3
    dmu = -np.sum(dxhat, axis=0) / std
    return dxhat / std + dvar * 2 * xc / n + dmu / n, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


def test_batchnorm_right_answers_pass_and_are_accepted():
    assert ch07.check_batchnorm(ch07._bn_forward_variant, ch07._bn_backward_variant).passed
    assert ch07.check_batchnorm(bn_forward_keepdims, bn_backward_staged).passed
    assert accepted("batchnorm_forward") is bn_forward_keepdims
    assert accepted("batchnorm_backward") is bn_backward_staged


@pytest.mark.parametrize("options, output, mistake", [
    (dict(ddof=1), "out", "unbiased-variance-normalised"),
    (dict(axis=1), "out", "wrong-axis"),
    (dict(eps_outside=True), "out", "eps-outside-root"),
    (dict(affine=False), "out", "affine-missing"),
    (dict(swap=True), "out", "gamma-beta-swapped"),
    (dict(eval_batch=True), "out", "eval-uses-batch-statistics"),
    (dict(eval_update=True), "running_mean", "eval-updates-running"),
    (dict(old_weight=True), "running_mean", "momentum-weights-old"),
    (dict(running_ddof=0), "running_var", "biased-running-variance"),
])
def test_batchnorm_forward_mistakes_are_diagnosed(options, output, mistake):
    def wrong(*args, **kwargs):
        return ch07._bn_forward_variant(*args, **kwargs, **options)

    _fails(ch07.check_batchnorm, wrong, ch07._bn_backward_variant, message="Exercise 7.5", mistake=mistake)
    assert accepted("batchnorm_forward") is None


@pytest.mark.parametrize("options, mistake", [
    (dict(no_gamma=True), "dx-gamma-missing"),
    (dict(constants=True), "statistics-as-constants"),
    (dict(no_var_term=True), "variance-path-missing"),
    (dict(no_mean_term=True), "mean-path-missing"),
    (dict(sums=True), "sums-not-means"),
    (dict(axis=1), "wrong-axis"),
    (dict(swap=True), "dgamma-dbeta-swapped"),
    (dict(dgamma_x=True), "dgamma-uses-x"),
    (dict(ddof=1), "unbiased-variance"),
])
def test_batchnorm_backward_mistakes_are_diagnosed(options, mistake):
    def wrong(*args, **kwargs):
        return ch07._bn_backward_variant(*args, **kwargs, **options)

    _fails(ch07.check_batchnorm, bn_forward_keepdims, wrong, message="Exercise 7.5", mistake=mistake)
    assert accepted("batchnorm_backward") is None


def test_batchnorm_messages_name_the_output_and_an_index_in_the_learners_array():
    def off_in_dgamma(dout, x, gamma, eps=1e-5):
        dx, dgamma, dbeta = bn_backward_staged(dout, x, gamma, eps)
        dgamma[2] += 1.0
        return dx, dgamma, dbeta

    error = _fails(ch07.check_batchnorm, bn_forward_keepdims, off_in_dgamma, message=r"wrong values in dgamma .* at index \(2,\)")
    assert "(8," not in error.problem.split("index")[1]  # an index into dgamma (D,), not a stacked (N + 2, D) array

    def off_running_var(*args, **kwargs):
        out, mean, var = bn_forward_keepdims(*args, **kwargs)
        return out, mean, var + (np.array([0.0, 0.5, 0.0]) if var.shape == (3,) else 0.0)

    _fails(ch07.check_batchnorm, off_running_var, bn_backward_staged, message=r"wrong values in running_var .* at index \(1,\)")


def test_batchnorm_bad_returns_in_place_delegation_and_not_done():
    _fails(ch07.check_batchnorm, lambda *a, **k: bn_forward_keepdims(*a, **k)[0], bn_backward_staged,
           message=r"returned .* expected 3: out, running_mean, running_var")

    def updates_in_place(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
        out, new_mean, new_var = bn_forward_keepdims(x, gamma, beta, running_mean, running_var, training, momentum, eps)
        running_mean[...] = new_mean
        return out, running_mean, new_var

    _fails(ch07.check_batchnorm, updates_in_place, bn_backward_staged, message="changed its input array in place")

    def delegating(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
        return batchnorm_forward(x, gamma, beta, eps=eps)[0], running_mean.copy(), running_var.copy()

    _fails(ch07.check_batchnorm, delegating, bn_backward_staged, message="calls dlcore.scratch.batchnorm.batchnorm_forward",
           mistake="delegates-to-reference")
    _fails(ch07.check_batchnorm, bn_forward_keepdims, ch07.reference_batchnorm_backward, message="batchnorm_backward",
           mistake="delegates-to-reference")
    with pytest.raises(NotImplementedError, match="Exercise 7.5 is not done yet"):
        ch07.check_batchnorm(not_done, not_done)
    with pytest.raises(NotImplementedError, match="Exercise 7.5 is not done yet"):
        ch07.check_batchnorm(bn_forward_keepdims, not_done)


# ---------------------------------------------------------------- 7.6 gradient-norm clipping and a loop that uses it

def clip_like_torch(parameters, max_norm, norm_type=2.0):
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float)) or not max_norm > 0:
        raise ValueError(f"clip_grad_norm: max_norm must be a positive number, got {max_norm!r}")
    grads = [p.grad for p in parameters]
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) for g in grads)
    else:
        total = float(sum(np.sum(np.abs(g) ** norm_type) for g in grads) ** (1.0 / norm_type))
    coefficient = min(1.0, max_norm / (total + 1e-6))
    for g in grads:
        g *= coefficient
    return total


def clip_by_concatenation(parameters, max_norm, norm_type=2.0):
    if not (isinstance(max_norm, (int, float)) and max_norm > 0):
        raise ValueError(f"max_norm = {max_norm} is not a positive number")
    parameters = list(parameters)
    everything = np.concatenate([p.grad.ravel() for p in parameters])
    total = np.linalg.norm(everything, ord=norm_type)
    if total + 1e-6 > max_norm:
        for p in parameters:
            p.grad[...] = p.grad * (max_norm / (total + 1e-6))
    return total


def train_clipped_loop(model, optimizer, batches, loss_fn, max_norm):
    losses, norms = [], []
    for x, target in batches:
        optimizer.zero_grad()
        loss, dscores = loss_fn(model.forward(x), target)
        model.backward(dscores)
        norm = clip_like_torch(model.parameters(), max_norm)
        losses.append(loss)
        norms.append(norm)
        if not (np.isfinite(loss) and np.isfinite(norm)):
            break
        optimizer.step()
    norms = np.array(norms)
    return np.array(losses), norms, norms > max_norm


def train_clipped_preallocated(model, optimizer, batches, loss_fn, max_norm):
    losses, norms = np.full(len(batches), np.nan), np.full(len(batches), np.nan)
    steps = 0
    for x, target in batches:
        model.zero_grad()
        scores = model(x)
        losses[steps], dscores = loss_fn(scores, target)
        model.backward(dscores)
        norms[steps] = clip_by_concatenation(model.parameters(), max_norm)
        steps += 1
        if not np.isfinite(losses[steps - 1] + norms[steps - 1]):
            break
        optimizer.step()
    return losses[:steps], norms[:steps], norms[:steps] > max_norm


@pytest.mark.parametrize("clip, loop", [(clip_like_torch, train_clipped_loop),
                                        (clip_by_concatenation, train_clipped_preallocated)])
def test_clipping_right_answers_pass_and_are_accepted(clip, loop):
    assert ch07.check_clipping(clip, loop).passed
    assert accepted("clip_grad_norm") is clip and accepted("train_clipped") is loop


def test_the_clipping_cases_agree_with_torch():
    """The check's reference (_clip_variant with its defaults) is torch.nn.utils.clip_grad_norm_."""
    import torch

    for case in ch07._clip_cases():
        grads, max_norm, norm_type = case.args
        tensors = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for t, g in zip(tensors, grads):
            t.grad = torch.tensor(g)
        total = float(torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type=norm_type))
        ours = ch07._clip_variant(grads, max_norm, norm_type)
        assert math.isclose(ours[0], total, rel_tol=1e-12, abs_tol=1e-15)
        for clipped, t in zip(ours[1:], tensors):
            assert np.allclose(clipped, t.grad.numpy(), rtol=1e-12, atol=0)


def test_the_loop_cases_clip_some_steps_and_not_others():
    for case in [ch07.Case((0, 0.05, 5.0, "mse")), ch07.Case((2, 0.1, 0.5, "softmax_cross_entropy"))]:
        _, _, clipped = ch07._loop_run(ch07.reference_train_clipped, ch07.clip_grad_norm, *case.args)
        assert 0 < clipped.sum() < len(clipped)


def _clip(**options):
    def clip(parameters, max_norm, norm_type=2.0):
        if not max_norm > 0:
            raise ValueError(f"max_norm must be positive, got {max_norm}")
        parameters = list(parameters)
        result = ch07._clip_variant([p.grad for p in parameters], max_norm, norm_type, **options)
        for p, g in zip(parameters, result[1:]):
            p.grad[...] = g
        return result[0]

    return clip


@pytest.mark.parametrize("options, mistake", [
    (dict(factor="always"), "small-gradients-scaled-up"),
    (dict(returned="after"), "norm-after-clipping"),
    (dict(in_place=False), "not-in-place"),
    (dict(scope="per-tensor"), "per-tensor-norm"),
    (dict(norm="squared"), "norm-not-square-rooted"),
    (dict(norm="always-2"), "norm-type-ignored"),
    (dict(eps=0.0), "eps-missing"),
])
def test_clipping_mistakes_are_diagnosed(options, mistake):
    _fails(ch07.check_clipping, _clip(**options), train_clipped_loop, message="Exercise 7.6", mistake=mistake)
    assert accepted("clip_grad_norm") is None and accepted("train_clipped") is None


def test_clipping_written_by_hand_mistakes():
    def max_instead_of_min(parameters, max_norm, norm_type=2.0):
        if not max_norm > 0:
            raise ValueError("max_norm must be positive")
        total = math.sqrt(sum(float(np.sum(p.grad ** 2)) for p in parameters))
        for p in parameters:
            p.grad *= max(1.0, max_norm / (total + 1e-6))
        return total

    def returns_a_copy(parameters, max_norm, norm_type=2.0):
        if not max_norm > 0:
            raise ValueError("max_norm must be positive")
        total = math.sqrt(sum(float(np.sum(p.grad ** 2)) for p in parameters))
        clipped = [p.grad * min(1.0, max_norm / (total + 1e-6)) for p in parameters]  # noqa: F841 - the mistake: never written back
        return total

    _fails(ch07.check_clipping, max_instead_of_min, train_clipped_loop, message="scaled up",
           mistake="small-gradients-scaled-up")
    _fails(ch07.check_clipping, returns_a_copy, train_clipped_loop, message="in place", mistake="not-in-place")


@pytest.mark.parametrize("reaction, mistake", [
    ("accept", "bad-max-norm-accepted"), ("type-error", "bad-max-norm-wrong-error"),
    ("vague", "bad-max-norm-message"),
])
def test_a_bad_max_norm_must_raise_a_clear_value_error(reaction, mistake):
    def clip(parameters, max_norm, norm_type=2.0):
        if not max_norm > 0:
            if reaction == "type-error":
                raise TypeError("bad")
            if reaction == "vague":
                raise ValueError("bad value")
        return clip_like_torch(parameters, max_norm if max_norm > 0 else 1.0, norm_type)

    _fails(ch07.check_clipping, clip, train_clipped_loop, message="max_norm=0.0", mistake=mistake)


def _loop(**options):
    def loop(model, optimizer, batches, loss_fn, max_norm):
        losses, norms = [], []
        for x, target in batches:
            if options.get("zero_grad", True):
                optimizer.zero_grad()
            loss, dscores = loss_fn(model.forward(x), target)
            model.backward(dscores)
            if options.get("step_first"):
                optimizer.step()
            norm = clip_like_torch(model.parameters(), max_norm)
            if options.get("record_after"):
                norm = math.sqrt(sum(float(np.sum(p.grad ** 2)) for p in model.parameters()))
            losses.append(loss)
            norms.append(norm)
            if options.get("stop", True) and not (np.isfinite(loss) and np.isfinite(norm)):
                break
            if not options.get("step_first"):
                optimizer.step()
        return np.array(losses), np.array(norms), np.array(norms) > max_norm

    return loop


@pytest.mark.parametrize("options, mistake", [
    (dict(zero_grad=False), "gradients-not-zeroed"),
    (dict(step_first=True), "step-before-clipping"),
    (dict(record_after=True), "norm-recorded-after-clipping"),
    (dict(stop=False), "no-stop-on-non-finite"),
])
def test_training_loop_mistakes_are_diagnosed(options, mistake):
    _fails(ch07.check_clipping, clip_like_torch, _loop(**options), message="Exercise 7.6", mistake=mistake)
    assert accepted("train_clipped") is None


def test_clipping_delegation_and_not_done():
    import torch

    from dlcore.training import clip_grad_norm

    def delegating(parameters, max_norm, norm_type=2.0):
        if not max_norm > 0:
            raise ValueError("max_norm must be positive")
        return clip_grad_norm(parameters, max_norm, norm_type)

    _fails(ch07.check_clipping, delegating, train_clipped_loop, message="dlcore.scratch.clipping.clip_grad_norm",
           mistake="delegates-to-reference")

    def through_torch(parameters, max_norm, norm_type=2.0):
        if not max_norm > 0:
            raise ValueError("max_norm must be positive")
        tensors = []
        for p in parameters:
            t = torch.zeros(p.grad.shape, dtype=torch.float64, requires_grad=True)
            t.grad = torch.from_numpy(p.grad)  # shares memory: torch clips p.grad in place
            tensors.append(t)
        return float(torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type=norm_type))

    _fails(ch07.check_clipping, through_torch, train_clipped_loop, message="clip_grad_norm_",
           mistake="delegates-to-reference")

    def loop_delegating(model, optimizer, batches, loss_fn, max_norm):
        return ch07.reference_train_clipped(model, optimizer, batches, loss_fn, max_norm)

    _fails(ch07.check_clipping, clip_like_torch, loop_delegating, message="reference_train_clipped",
           mistake="delegates-to-reference")
    with pytest.raises(NotImplementedError, match="Exercise 7.6 is not done yet"):
        ch07.check_clipping(not_done, not_done)
    with pytest.raises(NotImplementedError, match="Exercise 7.6 is not done yet"):
        ch07.check_clipping(clip_like_torch, not_done)
    assert accepted("clip_grad_norm") is None


# ---------------------------------------------------------------- 7.7 dropout

def dropout_scaled_mask(x, p, rng, training=True):
    mask = (rng.random(x.shape) >= p) / (1 - p) if training else np.ones_like(x)
    return x * mask, mask


def dropout_scaled_mask_backward(dout, cache):
    return dout * cache


def dropout_where(x, p, rng, training=True):
    if not training:
        return x.copy(), None
    keep = rng.random(x.shape) >= p
    return np.where(keep, x / (1 - p), 0.0), (keep, p)


def dropout_where_backward(dout, cache):
    if cache is None:
        return dout.copy()
    keep, p = cache
    return np.where(keep, dout / (1 - p), 0.0)


@pytest.mark.parametrize("forward, backward", [(dropout_scaled_mask, dropout_scaled_mask_backward),
                                               (dropout_where, dropout_where_backward)])
def test_dropout_right_answers_pass_and_are_accepted(forward, backward):
    assert ch07.check_dropout(forward, backward).passed
    assert accepted("dropout_forward") is forward and accepted("dropout_backward") is backward


def _dropout(keep="at-least-p", scale="inverted", evaluation="identity", backward="right"):
    def forward(x, p, rng, training=True):
        if not training:
            factor = {"identity": 1.0, "scaled": 1.0 - p}[evaluation] if evaluation != "dropped" else None
            if factor is None:
                kept = rng.random(x.shape) >= p
                return x * kept / (1 - p), kept / (1 - p)
            return x * factor, np.full(x.shape, factor)
        u = rng.random(x.shape)
        kept = {"at-least-p": u >= p, "below-p": u < p, "below-1-p": u < 1 - p}[keep]
        factor = {"inverted": 1 / (1 - p), "none": 1.0, "keep": 1 - p, "divide-p": 1 / p}[scale]
        cache = {"right": kept * factor, "no-scale": kept * 1.0, "no-mask": np.full(x.shape, factor)}[backward]
        return x * kept * factor, cache

    return forward


@pytest.mark.parametrize("forward, mistake", [
    (_dropout(backward="no-scale"), "backward-scale-missing"),
    (_dropout(backward="no-mask"), "backward-mask-missing"),
    (_dropout(keep="below-p"), "keeps-with-probability-p"),
    (_dropout(keep="below-1-p"), "keeps-below-1-p"),
    (_dropout(scale="none"), "not-rescaled"),
    (_dropout(scale="keep"), "scaled-by-keep-probability"),
    (_dropout(scale="divide-p"), "divided-by-p"),
    (_dropout(evaluation="scaled"), "eval-scaled"),
    (_dropout(evaluation="dropped"), "eval-drops"),
])
def test_dropout_mistakes_are_diagnosed(forward, mistake):
    _fails(ch07.check_dropout, forward, dropout_scaled_mask_backward, message="Exercise 7.7", mistake=mistake)
    assert accepted("dropout_forward") is None


def test_dropout_delegation_in_place_and_not_done():
    def delegating(x, p, rng, training=True):
        return dropout_forward(x, p, training=training, rng=rng)

    _fails(ch07.check_dropout, delegating, lambda dout, cache: dout, message="dlcore.scratch.dropout.dropout_forward",
           mistake="delegates-to-reference")

    def in_place(x, p, rng, training=True):
        if training:
            x *= (rng.random(x.shape) >= p) / (1 - p)
        return x, None

    _fails(ch07.check_dropout, in_place, lambda dout, cache: dout, message="changed its input array in place")
    with pytest.raises(NotImplementedError, match="Exercise 7.7 is not done yet"):
        ch07.check_dropout(not_done, not_done)


# ---------------------------------------------------------------- the chapter runs on the learner's functions

def test_implementation_falls_back_to_the_references_until_the_checks_pass(capsys):
    assert implementation("batchnorm_forward", ch07.reference_batchnorm_forward, label="7.5") \
        is ch07.reference_batchnorm_forward
    assert "[using dlcore's batchnorm_forward until exercise 7.5 passes]" in capsys.readouterr().out
    ch07.check_batchnorm(bn_forward_keepdims, bn_backward_staged)
    assert implementation("batchnorm_forward", ch07.reference_batchnorm_forward, label="7.5") is bn_forward_keepdims
    assert "[using your batchnorm_forward, which passed exercise 7.5]" in capsys.readouterr().out


def test_networks_built_on_the_references_equal_dlcores_own():
    X = np.random.default_rng(0).standard_normal((40, 2))
    y = (X[:, 0] > 0).astype(int)
    kernels = LayerKernels(ch07.reference_init_weights,
                           (ch07.reference_batchnorm_forward, ch07.reference_batchnorm_backward),
                           (ch07.reference_dropout_forward, ch07.reference_dropout_backward))
    histories = []
    for chosen in (None, kernels):
        net = scratch_mlp(2, 2, hidden=8, depth=3, norm="batch", dropout=0.3, rng=np.random.default_rng(0),
                          kernels=chosen)
        histories.append(train(net, SGD(net.parameters(), lr=0.05, momentum=0.9), X, y, loss="softmax_cross_entropy",
                               num_epochs=3, batch_size=8, validation=(X, y), rng=np.random.default_rng(1)))
    assert np.allclose(histories[0].loss, histories[1].loss, rtol=1e-12, atol=0)
    assert np.allclose(histories[0].val_loss, histories[1].val_loss, rtol=1e-12, atol=0)


def test_a_learners_wrong_kernel_changes_the_network():
    """The swap is real: a network built on a different init draws different weights."""
    plain = scratch_mlp(2, 2, hidden=8, depth=2, init="he", rng=np.random.default_rng(0))
    swapped = scratch_mlp(2, 2, hidden=8, depth=2, init="he", rng=np.random.default_rng(0),
                          kernels=LayerKernels(init_weights=_init_with_std(lambda i, o, g, s: 1 / math.sqrt(o))))
    same = scratch_mlp(2, 2, hidden=8, depth=2, init="he", rng=np.random.default_rng(0),
                       kernels=LayerKernels(init_weights=init_by_std))
    assert not np.allclose(plain[0].W.value, swapped[0].W.value)
    assert np.array_equal(plain[0].W.value, same[0].W.value)
    assert measure(same, np.ones((4, 2)), np.array([0, 1, 0, 1]), loss="softmax_cross_entropy").gradient_ratio > 0


def test_kernel_layers_match_dlcores_in_both_modes():
    from dlcore.scratch.batchnorm import BatchNorm1d
    from dlcore.training.kernel_layers import KernelBatchNorm1d

    rng = np.random.default_rng(3)
    ours = KernelBatchNorm1d(4, bn_forward_keepdims, bn_backward_staged)
    theirs = BatchNorm1d(4)
    for training in (True, True, False):
        ours.train(training)
        theirs.train(training)
        x, dout = rng.standard_normal((6, 4)) * 2 + 1, rng.standard_normal((6, 4))
        assert np.allclose(ours.forward(x), theirs.forward(x), rtol=1e-12, atol=1e-12)
        assert np.allclose(ours.backward(dout), theirs.backward(dout), rtol=1e-12, atol=1e-12)
        assert np.allclose(ours.running_var, theirs.running_var, rtol=1e-12, atol=0)
    assert np.allclose(ours.gamma.grad, theirs.gamma.grad, rtol=1e-12, atol=1e-12)
    assert ours.num_batches_tracked == theirs.num_batches_tracked == 2
    with pytest.raises(RuntimeError, match="call forward first"):
        KernelBatchNorm1d(2, bn_forward_keepdims, bn_backward_staged).backward(np.ones((2, 2)))
