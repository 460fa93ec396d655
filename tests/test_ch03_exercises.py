"""Chapter 03's exercise checks: right answers pass (two ways each), typical mistakes get their own diagnosis,
and an answer that calls the course's own function fails."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import erf

from dlcore.exercises import ch03, learner
from dlcore.scratch import activations as course
from tests.helpers import fails_with, not_done


# ---------------------------------------------------------------- 3.1 (derived) and 3.2 (coded)

def tanh_slope(x, out):
    return 1.0 - out**2


def elu_slope(x, out, alpha=1.0):
    return np.where(x > 0, 1.0, out + alpha)


@pytest.mark.parametrize("name, derivative, mistake", [
    ("tanh", lambda x, out: 1 - out, "tanh-no-square"),
    ("tanh", lambda x, out: out * (1 - out), "tanh-sigmoid-pattern"),
    ("tanh", lambda x, out: out**2 - 1, "tanh-sign"),
    ("elu", lambda x, out, alpha=1.0: np.where(x > 0, 1.0, alpha), "elu-left-alpha"),
    ("elu", lambda x, out, alpha=1.0: out, "elu-returns-output"),
    ("elu", lambda x, out, alpha=1.0: np.where(x > 0, 1.0, out + 1.0), "elu-forgot-alpha"),
])
def test_derived_slopes_mistakes_are_named(name, derivative, mistake):
    fails_with(ch03.check_activation_kernels, with_entry(name, derivative=derivative), mistake=mistake)


def test_derived_slopes_overflow_and_delegation():
    fails_with(ch03.check_activation_kernels, with_entry("tanh", derivative=lambda x, out: 1 / np.cosh(x) ** 2),
               fragments=("overflow", "in terms of out"))
    fails_with(ch03.check_activation_kernels,
               with_entry("elu", derivative=lambda x, out, alpha=1.0: course._elu_derivative(x, out, alpha)),
               mistake="delegates-to-reference")


# ---------------------------------------------------------------- 3.2

def solution_table():
    def sigmoid(x):
        z = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))

    def gelu(x):
        return x * 0.5 * (1.0 + erf(x / np.sqrt(2.0)))

    def gelu_derivative(x, out):
        return 0.5 * (1.0 + erf(x / np.sqrt(2.0))) + x * np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi)

    return {
        "sigmoid": (sigmoid, lambda x, out: out * (1 - out)),
        "tanh": (np.tanh, tanh_slope),
        "relu": (lambda x: np.maximum(x, 0.0), lambda x, out: (x > 0).astype(float)),
        "leaky_relu": (lambda x, negative_slope=0.01: np.where(x > 0, x, negative_slope * x),
                       lambda x, out, negative_slope=0.01: np.where(x > 0, 1.0, negative_slope)),
        "elu": (lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))), elu_slope),
        "gelu": (gelu, gelu_derivative),
    }


def other_table():
    def sigmoid(x):
        out = np.empty_like(x, dtype=float)
        positive = x >= 0
        out[positive] = 1 / (1 + np.exp(-x[positive]))
        e = np.exp(x[~positive])
        out[~positive] = e / (1 + e)
        return out

    def cdf(x):
        return np.vectorize(lambda v: 0.5 * math.erfc(-v / math.sqrt(2)))(x)

    return {
        "sigmoid": (sigmoid, lambda x, out: out - out**2),
        "tanh": (np.tanh, lambda x, out: (1 - out) * (1 + out)),
        "relu": (lambda x: x * (x > 0), lambda x, out: np.heaviside(x, 0.0)),
        "leaky_relu": (lambda x, negative_slope=0.01: np.maximum(x, 0) + negative_slope * np.minimum(x, 0),
                       lambda x, out, negative_slope=0.01: np.where(x > 0, 1.0, negative_slope)),
        "elu": (lambda x, alpha=1.0: np.maximum(x, 0) + alpha * (np.exp(np.minimum(x, 0)) - 1),
                lambda x, out, alpha=1.0: np.where(out > 0, 1.0, out + alpha)),
        "gelu": (lambda x: x * cdf(x), lambda x, out: cdf(x) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)),
    }


@pytest.mark.parametrize("table", [solution_table, other_table])
def test_activation_kernels_pass_and_the_chapter_runs_on_them(table, capsys):
    functions = table()
    assert ch03.check_activation_kernels(functions).passed
    used = learner.implementation("activations", course.ACTIVATIONS, label="3.2")
    assert used["relu"].function is functions["relu"][0] and used["step"] is course.ACTIVATIONS["step"]
    assert "[using your activations, which passed exercise 3.2]" in capsys.readouterr().out
    assert dict(used["gelu"].defaults) == {}  # the learner's GELU takes no `approximate`
    assert dict(used["elu"].defaults) == {"alpha": 1.0}


def _sig(x):
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


def _softmax_axis0(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def with_entry(name, function=None, derivative=None):
    table = solution_table()
    old_function, old_derivative = table[name]
    table[name] = (function or old_function, derivative or old_derivative)
    return table


@pytest.mark.parametrize("table, mistake", [
    (with_entry("sigmoid", lambda x: _sig(-x)), "sigmoid-sign"),
    (with_entry("sigmoid", derivative=lambda x, out: _sig(out) * (1 - _sig(out))),
     "sigmoid-derivative-of-output"),
    (with_entry("relu", derivative=lambda x, out: (x >= 0).astype(float)), "relu-derivative-at-zero"),
    (with_entry("relu", lambda x: np.abs(x)), "relu-abs"),
    (with_entry("leaky_relu", lambda x, negative_slope=0.01: np.where(x > 0, x, 0.01 * x)), "leaky-default-slope"),
    (with_entry("leaky_relu", derivative=lambda x, out, negative_slope=0.01: np.where(x > 0, 1.0, negative_slope * x)),
     "leaky-derivative-times-x"),
    (with_entry("elu", lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0)))), "elu-no-minus-one"),
    (with_entry("gelu", _gelu_tanh), "gelu-tanh-approximation"),
    (with_entry("gelu", derivative=lambda x, out: 0.5 * (1 + erf(x / np.sqrt(2)))), "gelu-derivative-cdf-only"),
])
def test_activation_kernel_mistakes_are_named(table, mistake):
    fails_with(ch03.check_activation_kernels, table, mistake=mistake)
    assert learner.accepted("activations") is None


def test_overflow_traps_are_explained():
    fails_with(ch03.check_activation_kernels, with_entry("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
               fragments=("warned", "overflow", "np.where(c, a, b) computes both"))
    fails_with(ch03.check_activation_kernels,
               with_entry("elu", lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x) - 1))),
               fragments=("your elu warned", "overflow"))


def test_kernels_that_call_the_course_fail():
    fails_with(ch03.check_activation_kernels, with_entry("sigmoid", lambda x: course.sigmoid(x)),
               mistake="delegates-to-reference", fragments=("dlcore.scratch.activations.sigmoid",))
    fails_with(ch03.check_activation_kernels,
               with_entry("relu", derivative=lambda x, out: course.ACTIVATIONS["relu"].derivative(x, out)),
               mistake="delegates-to-reference")


def test_kernels_input_problems():
    fails_with(ch03.check_activation_kernels, [1, 2], fragments=("expected the dict my_activations",))
    table = solution_table()
    del table["gelu"]
    fails_with(ch03.check_activation_kernels, table, fragments=("lacks gelu",))
    with pytest.raises(NotImplementedError, match="Exercise 3.2 is not done yet"):
        ch03.check_activation_kernels(with_entry("relu", not_done))


# ---------------------------------------------------------------- 3.3

def test_chain_measurement_is_the_product_of_local_slopes():
    assert ch03.measure_sigmoid_chain_gradient(1, 1.0) == pytest.approx(0.25, rel=1e-12)
    assert ch03.measure_sigmoid_chain_gradient(10, 1.0) == pytest.approx(0.25**10, rel=1e-12)
    assert ch03.measure_sigmoid_chain_gradient(3, 8.0) == pytest.approx(8.0, rel=1e-12)


def test_chain_prediction_passes_two_ways():
    assert ch03.check_sigmoid_chain_prediction(lambda k, w: (w / 4) ** k).passed
    assert ch03.check_sigmoid_chain_prediction(lambda k, w: math.prod([w * 0.25] * k)).passed


@pytest.mark.parametrize("wrong, mistake", [
    (lambda k, w: 0.25**k, "ignores-w"),
    (lambda k, w: 0.5**k, "value-not-slope"),
    (lambda k, w: (w / 4) ** (k - 1), "off-by-one-low"),
    (lambda k, w: k * w / 4, "adds-factors"),
    (lambda k, w: w**k, "no-sigmoid-slope"),
    (lambda k, w: w * 0.25**k, "w-once"),
])
def test_chain_prediction_mistakes(wrong, mistake):
    fails_with(ch03.check_sigmoid_chain_prediction, wrong, mistake=mistake)


def test_chain_prediction_not_done_and_errors():
    with pytest.raises(NotImplementedError, match="Exercise 3.3 is not done yet"):
        ch03.check_sigmoid_chain_prediction(not_done)
    fails_with(ch03.check_sigmoid_chain_prediction, lambda k, w: "small", fragments=("expected a number",))


# ---------------------------------------------------------------- 3.4

def stack_statistics(x, weights, biases, f, f_derivative, dout):
    h, slopes, means, stds, saturated = x, [], [], [], []
    for W, b in zip(weights, biases):
        z = h @ W + b
        h = f(z)
        slopes.append(f_derivative(z, h))
        means.append(h.mean())
        stds.append(h.std())
        saturated.append(np.mean(np.abs(slopes[-1]) < 0.01))
    grad, norms = dout, []
    for W, slope in zip(weights[::-1], slopes[::-1]):
        norms.append(np.linalg.norm(grad))
        grad = (grad * slope) @ W.T
    return np.array(means), np.array(stds), np.array(norms[::-1]), np.array(saturated)


def other_stack_statistics(x, weights, biases, f, f_derivative, dout):
    """Keeps z and h and computes every statistic afterwards; the backward pass by index."""
    zs, hs = [], [x]
    for W, b in zip(weights, biases):
        zs.append(hs[-1] @ W + b)
        hs.append(f(zs[-1]))
    slopes = [f_derivative(z, h) for z, h in zip(zs, hs[1:])]
    norms = np.zeros(len(weights))
    grad = dout
    for l in range(len(weights) - 1, -1, -1):
        norms[l] = np.sqrt(np.sum(grad**2))
        grad = np.einsum("nm,dm->nd", grad * slopes[l], weights[l])
    mean = np.array([h.mean() for h in hs[1:]])
    std = np.array([np.sqrt(np.mean((h - h.mean()) ** 2)) for h in hs[1:]])
    saturated = np.array([np.count_nonzero(np.abs(s) < 0.01) / s.size for s in slopes])
    return mean, std, norms, saturated


@pytest.mark.parametrize("answer", [stack_statistics, other_stack_statistics])
def test_stack_statistics_passes_two_ways_and_the_chapter_runs_on_it(answer, capsys):
    assert ch03.check_stack_statistics(answer).passed
    assert learner.implementation("stack_statistics", ch03.course_stack_statistics, label="3.4") is answer
    assert "[using your stack_statistics, which passed exercise 3.4]" in capsys.readouterr().out


def test_the_course_stack_statistics_is_depth_statistics_on_given_weights():
    from dlcore.scratch.depth_statistics import depth_statistics, random_stack
    x = np.random.default_rng(0).standard_normal((16, 6))
    weights, biases = random_stack(7, 9, in_features=6, rng=np.random.default_rng(1), weight_scale=1.7, bias=0.1)
    spec = course.ACTIVATIONS["tanh"]
    ours = ch03.course_stack_statistics(x, weights, biases, spec.function, spec.derivative, np.ones((16, 9)) / 16)
    theirs = depth_statistics(x, 7, 9, "tanh", rng=np.random.default_rng(1), weight_scale=1.7, bias=0.1)
    for got, key in zip(ours, ("mean", "std", "grad_norm", "saturated")):
        np.testing.assert_allclose(got, getattr(theirs, key), rtol=1e-12, atol=1e-15, err_msg=key)


def _stack_with(**mistake):
    def wrong(x, weights, biases, f, f_derivative, dout):
        return ch03._stack_variant(x, weights, biases, f, f_derivative, dout, **mistake)
    return wrong


def _stack_without_transpose(x, weights, biases, f, f_derivative, dout):
    h, slopes = x, []
    for W, b in zip(weights, biases):
        z = h @ W + b
        h = f(z)
        slopes.append(f_derivative(z, h))
    grad, norms = dout, []
    for W, slope in zip(weights[::-1], slopes[::-1]):
        norms.append(np.linalg.norm(grad))
        grad = (grad * slope) @ W
    mean, std, _, saturated = stack_statistics(x, weights, biases, f, f_derivative, dout)
    return mean, std, np.array(norms[::-1]), saturated


@pytest.mark.parametrize("wrong, mistake", [
    (_stack_with(slope=False), "stack-no-activation-slope"),
    (_stack_without_transpose, "stack-w-not-transposed"),
    (_stack_with(measured_after=True), "stack-gradient-after-block"),
    (_stack_with(block_order=False), "stack-norms-in-backward-order"),
    (_stack_with(last_slope=True), "stack-last-slope-everywhere"),
    (_stack_with(std_per_unit=True), "stack-std-per-unit"),
    (_stack_with(saturated_count=True), "stack-saturated-count"),
    (_stack_with(statistics_of_z=True), "stack-statistics-of-z"),
    (_stack_with(std_ddof=1), "stack-std-ddof-1"),
    (_stack_with(slope_from_output=True), "stack-slope-from-output"),
])
def test_stack_statistics_mistakes_are_named(wrong, mistake):
    error = fails_with(ch03.check_stack_statistics, wrong, mistake=mistake)
    assert "square" in str(error) or mistake != "stack-w-not-transposed"
    assert learner.accepted("stack_statistics") is None


def test_stack_statistics_that_calls_the_course_fails():
    from dlcore.scratch.depth_statistics import network_statistics
    from dlcore.scratch.activations import ActivationSpec, SpecActivation
    from dlcore.scratch.linear import Linear
    from dlcore.scratch.module import Sequential

    def via_network_statistics(x, weights, biases, f, f_derivative, dout):
        layers = []
        for W, b in zip(weights, biases):
            linear = Linear(*W.shape, rng=np.random.default_rng(0))
            linear.W.value[...], linear.b.value[...] = W, b
            layers += [linear, SpecActivation(ActivationSpec("f", f, f_derivative, "", ""))]
        s = network_statistics(Sequential(*layers), x, dout=dout)
        return s.mean, s.std, s.grad_norm, s.saturated

    fails_with(ch03.check_stack_statistics, via_network_statistics, mistake="delegates-to-reference",
               fragments=("network_statistics",))
    fails_with(ch03.check_stack_statistics, lambda *args: ch03.course_stack_statistics(*args),
               mistake="delegates-to-reference")


def test_stack_statistics_shape_and_not_done():
    def one_output(x, weights, biases, f, f_derivative, dout):
        return stack_statistics(x, weights, biases, f, f_derivative, dout)[:3]

    fails_with(ch03.check_stack_statistics, one_output, fragments=("returned 3 values; expected 4",))
    fails_with(ch03.check_stack_statistics, lambda *args: tuple(a[:, None] for a in stack_statistics(*args)),
               fragments=("shape",))
    with pytest.raises(NotImplementedError, match="Exercise 3.4 is not done yet"):
        ch03.check_stack_statistics(not_done)


# ---------------------------------------------------------------- 3.5

def test_dead_relu_measurement():
    minus, zero, plus = ch03.measure_dead_relu_shares()
    assert minus > 0.95 and zero == 0.0 and plus == 0.0


def test_dead_relu_passes_two_ways():
    assert ch03.check_dead_relu_prediction(lambda: (1.0, 0.0, 0.0)).passed
    assert ch03.check_dead_relu_prediction(lambda: [0.98, 0.01, 0]).passed


@pytest.mark.parametrize("wrong, fragment", [
    (lambda: (1.0, 0.5, 0.0), "inactive on all 256"),
    (lambda: (0.0, 0.0, 1.0), "positive bias pushes pre-activations up"),
    (lambda: (0.3, 0.0, 0.0), "on at least one of 256"),
    (lambda: (1.0, 0.0), "expected 3"),
    (lambda: "dead", "expected three numbers"),
])
def test_dead_relu_mistakes(wrong, fragment):
    fails_with(ch03.check_dead_relu_prediction, wrong, fragments=(fragment,))


def test_dead_relu_not_done_is_one_friendly_line():
    with pytest.raises(NotImplementedError, match="Exercise 3.5 is not done yet") as info:
        ch03.check_dead_relu_prediction(not_done)
    assert "replace this line" not in str(info.value)


# ---------------------------------------------------------------- 3.6

def softmax(logits):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_backward(dout, s):
    return s * (dout - np.sum(dout * s, axis=-1, keepdims=True))


def test_softmax_kernels_pass_two_ways(capsys):
    assert ch03.check_softmax_kernels(softmax, log_softmax, softmax_backward).passed

    def other_softmax(logits):
        return np.exp(log_softmax(logits))

    def other_backward(dout, s):
        return s * dout - s * np.einsum("...k,...k->...", dout, s)[..., None]

    assert ch03.check_softmax_kernels(other_softmax, log_softmax, other_backward).passed
    assert learner.implementation("softmax_backward", ch03.course_softmax_backward, label="3.6") is other_backward


@pytest.mark.parametrize("answers, mistake", [
    ((_softmax_axis0, log_softmax, softmax_backward), "softmax-axis-0"),
    ((lambda z: np.exp(z - z.max(axis=-1, keepdims=True)) / np.exp(z - z.max(axis=-1, keepdims=True)).sum(axis=-1),
      log_softmax, softmax_backward), "softmax-no-keepdims"),
    ((lambda z: np.exp(z - z.max(axis=-1, keepdims=True)), log_softmax, softmax_backward), "softmax-unnormalised"),
    ((softmax, lambda z: z - z.max(axis=-1, keepdims=True), softmax_backward), "log-softmax-no-normaliser"),
    ((softmax, log_softmax, lambda dout, s: dout * s * (1 - s)), "softmax-backward-diagonal"),
    ((softmax, log_softmax, lambda dout, s: s * (dout - dout.sum(axis=-1, keepdims=True))),
     "softmax-backward-no-s-in-sum"),
    ((softmax, log_softmax, lambda dout, s: -softmax_backward(dout, s)), "softmax-backward-sign"),
])
def test_softmax_mistakes_are_named(answers, mistake):
    fails_with(ch03.check_softmax_kernels, *answers, mistake=mistake)


def test_softmax_numerics_and_delegation():
    fails_with(ch03.check_softmax_kernels, softmax, lambda z: np.log(softmax(z)), softmax_backward,
               fragments=("warned", "never as the log of softmax"))
    fails_with(ch03.check_softmax_kernels, lambda z: np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True),
               log_softmax, softmax_backward, fragments=("overflow",))
    fails_with(ch03.check_softmax_kernels, lambda z: course.softmax(z), log_softmax, softmax_backward,
               mistake="delegates-to-reference")
    fails_with(ch03.check_softmax_kernels, softmax, log_softmax,
               lambda dout, s: ch03.course_softmax_backward(dout, s), mistake="delegates-to-reference")
    with pytest.raises(NotImplementedError, match="Exercise 3.6 is not done yet"):
        ch03.check_softmax_kernels(softmax, not_done, softmax_backward)
