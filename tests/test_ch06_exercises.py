"""Chapter 06 checks: each accepts two different right answers, diagnoses typical wrong ones by their
mistake id, and fails an answer that hands the work to dlcore's own optimizers."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from dlcore.exercises import ch06
from dlcore.exercises.core import ExerciseFailed
from dlcore.exercises.learner import accepted, implementation
from dlcore.scratch import optim_steps
from dlcore.scratch import Parameter
from dlcore.scratch.optim import SGD, Adagrad, Adam, AdamW, RMSprop, adam_update
from dlcore.scratch.schedules import WarmupCosine, cosine_annealing_lr, warmup_cosine_lr
from tests.helpers import not_done


def _from(mistake):
    return lambda *args, **kwargs: mistake.compute(*args, **kwargs)


# ---------------------------------------------------------------- 6.1 StepOptimizer

class StepOptimizerA:
    def __init__(self, params, step, lr, num_state=1, counts_steps=False, **options):
        self.params, self.rule, self.lr = list(params), step, lr
        self.num_state, self.counts_steps, self.options = num_state, counts_steps, options
        self.state = [None] * len(self.params)
        self.t = 0

    def zero_grad(self):
        for p in self.params:
            p.grad[...] = 0.0

    def step(self):
        self.t += 1
        for i, p in enumerate(self.params):
            if self.state[i] is None:
                self.state[i] = [np.zeros_like(p.value) for _ in range(self.num_state)]
            args = [*self.state[i], self.t] if self.counts_steps else self.state[i]
            new_value, *self.state[i] = self.rule(p.value, p.grad, *args, lr=self.lr, **self.options)
            p.value[...] = new_value


class StepOptimizerB:
    """State in a dict keyed by the parameter's position; grads cleared with fill; values copied with np.copyto."""

    def __init__(self, params, step, lr, num_state=1, counts_steps=False, **options):
        self.params = [p for p in params]
        self.step_function, self.lr, self.options = step, lr, dict(options)
        self.num_state, self.counts = num_state, counts_steps
        self.memory = {}
        self.calls = 0

    def zero_grad(self):
        for p in self.params:
            p.grad.fill(0.0)

    def step(self):
        self.calls += 1
        for k, p in enumerate(self.params):
            state = self.memory.setdefault(k, tuple(np.zeros(p.value.shape) for _ in range(self.num_state)))
            extra = (self.calls,) if self.counts else ()
            result = self.step_function(p.value, p.grad, *state, *extra, lr=self.lr, **self.options)
            np.copyto(p.value, result[0])
            self.memory[k] = tuple(result[1:])


@pytest.mark.parametrize("answer", [StepOptimizerA, StepOptimizerB])
def test_step_optimizer_accepts_right_answers(answer):
    assert ch06.check_step_optimizer(answer).passed
    assert accepted("StepOptimizer") is answer  # the class itself, not the check's runner
    assert implementation("StepOptimizer", optim_steps.StepOptimizer, label="6.1", quiet=True) is answer


@pytest.mark.parametrize("mistake", [m.id for m in ch06.STEP_OPTIMIZER_MISTAKES])
def test_step_optimizer_mistakes_are_diagnosed(mistake):
    with pytest.raises(ExerciseFailed) as caught:
        ch06.check_step_optimizer(partial(ch06._FlawedOptimizer, flaw=mistake))
    assert caught.value.mistake == mistake
    assert accepted("StepOptimizer") is None


def test_step_optimizer_handwritten_mistakes():
    class FrozenRate(StepOptimizerA):
        def __init__(self, params, step, lr, **kwargs):
            super().__init__(params, partial(step, lr=lr), 0.0, **kwargs)

        def step(self):
            self.t += 1
            for i, p in enumerate(self.params):
                if self.state[i] is None:
                    self.state[i] = [np.zeros_like(p.value) for _ in range(self.num_state)]
                args = [*self.state[i], self.t] if self.counts_steps else self.state[i]
                new_value, *self.state[i] = self.rule(p.value, p.grad, *args, **self.options)
                p.value[...] = new_value

    with pytest.raises(ExerciseFailed, match="learning rate it was built with") as caught:
        ch06.check_step_optimizer(FrozenRate)
    assert caught.value.mistake == "lr-fixed"

    class NoClear(StepOptimizerA):
        def zero_grad(self):
            pass

    with pytest.raises(ExerciseFailed, match="gradients of every step add up"):
        ch06.check_step_optimizer(NoClear)

    class NotDone:
        def __init__(self, *args, **kwargs):
            raise NotImplementedError("Exercise 6.1: replace this line with your code")

    with pytest.raises(NotImplementedError, match="Exercise 6.1 is not done yet"):
        ch06.check_step_optimizer(NotDone)


def test_step_optimizer_that_delegates_fails():
    from dlcore.scratch.optim import Optimizer

    class Subclass(Optimizer):
        def __init__(self, params, step, lr, num_state=1, counts_steps=False, **options):
            super().__init__(params, lr)
            self.rule, self.num_state, self.options = step, num_state, options
            self.counts_steps, self.t = counts_steps, 0

        def _initial_state(self, value):
            return [np.zeros_like(value) for _ in range(self.num_state)]

        def _update(self, value, grad, state):
            new_value, *state = self.rule(value, grad, *state, lr=self.lr, **self.options)
            return new_value, state

    with pytest.raises(ExerciseFailed, match="the course's own version") as caught:
        ch06.check_step_optimizer(Subclass)
    assert caught.value.mistake == "delegates-to-reference"
    with pytest.raises(ExerciseFailed, match="the course's own version"):
        ch06.check_step_optimizer(optim_steps.StepOptimizer)


# ---------------------------------------------------------------- 6.2 momentum_step

def momentum_right_a(theta, grad, velocity, lr, momentum=0.9, nesterov=False):
    velocity = momentum * velocity + grad
    step = grad + momentum * velocity if nesterov else velocity
    return theta - lr * step, velocity


def momentum_right_b(theta, grad, velocity, lr, momentum=0.9, nesterov=False):
    new_velocity = np.add(np.multiply(velocity, momentum), grad)
    if not nesterov:
        return theta - lr * new_velocity, new_velocity
    look_ahead = theta - lr * momentum * new_velocity  # the same step, written around the look-ahead point
    return look_ahead - lr * grad, new_velocity


@pytest.mark.parametrize("answer", [momentum_right_a, momentum_right_b])
def test_momentum_step_accepts_right_answers(answer):
    assert ch06.check_momentum_step(answer).passed
    assert accepted("momentum_step") is answer
    assert implementation("momentum_step", optim_steps.momentum_step, label="6.2", quiet=True) is answer


def momentum_in_place(theta, grad, velocity, lr, momentum=0.9, nesterov=False):
    velocity *= momentum
    velocity += grad
    return theta - lr * (grad + momentum * velocity if nesterov else velocity), velocity


@pytest.mark.parametrize("mistake", [m.id for m in ch06.MOMENTUM_MISTAKES])
def test_momentum_step_mistakes_are_diagnosed(mistake):
    table = {m.id: m for m in ch06.MOMENTUM_MISTAKES}
    with pytest.raises(ExerciseFailed) as caught:
        ch06.check_momentum_step(_from(table[mistake]))
    assert caught.value.mistake == mistake
    assert accepted("momentum_step") is None


def test_momentum_step_handwritten_mistakes():
    def moving_average(theta, grad, velocity, lr, momentum=0.9, nesterov=False):
        velocity = momentum * velocity + (1 - momentum) * grad
        return theta - lr * (grad + momentum * velocity if nesterov else velocity), velocity

    with pytest.raises(ExerciseFailed, match="moving average") as caught:
        ch06.check_momentum_step(moving_average)
    assert caught.value.mistake == "velocity-averages"
    with pytest.raises(ExerciseFailed, match="changed its input array in place"):
        ch06.check_momentum_step(momentum_in_place)
    with pytest.raises(ExerciseFailed, match=r"returned 1 value; expected 2: theta, velocity"):
        ch06.check_momentum_step(lambda theta, grad, velocity, lr, momentum=0.9, nesterov=False: theta)
    with pytest.raises(NotImplementedError, match="Exercise 6.2 is not done yet"):
        ch06.check_momentum_step(not_done)


def test_momentum_step_that_delegates_fails():
    def delegates(theta, grad, velocity, lr, momentum=0.9, nesterov=False):
        return optim_steps.momentum_step(theta, grad, velocity, lr, momentum, nesterov)

    def uses_the_class(theta, grad, velocity, lr, momentum=0.9, nesterov=False):
        point = Parameter(theta.copy())
        optimizer = SGD([point], lr=lr, momentum=momentum, nesterov=nesterov)
        point.grad[...] = grad
        optimizer.step()
        return point.value, momentum * velocity + grad

    for answer in (delegates, uses_the_class):
        with pytest.raises(ExerciseFailed, match="the course's own version") as caught:
            ch06.check_momentum_step(answer)
        assert caught.value.mistake == "delegates-to-reference"


def test_a_wrong_value_names_the_output_and_an_index_in_it():
    def wrong_velocity(theta, grad, velocity, lr, momentum=0.9, nesterov=False):
        theta, velocity = momentum_right_a(theta, grad, velocity, lr, momentum, nesterov)
        return theta, velocity + np.arange(velocity.size).reshape(velocity.shape)

    with pytest.raises(ExerciseFailed, match=r"wrong values in velocity on .*: at index \(2,\)"):
        ch06.check_momentum_step(wrong_velocity)


# ---------------------------------------------------------------- 6.3 adagrad_step_size

@pytest.mark.parametrize("answer", [
    lambda lr, g, t: lr / np.sqrt(t) + 0 * g,
    lambda lr, g, t: lr * np.abs(g) / np.sqrt(np.asarray(t, dtype=float) * g**2),
])
def test_adagrad_step_size_accepts_right_answers(answer):
    assert ch06.check_adagrad_step_size(answer).passed


@pytest.mark.parametrize("mistake", [m.id for m in ch06.ADAGRAD_SIZE_MISTAKES])
def test_adagrad_step_size_mistakes_are_diagnosed(mistake):
    table = {m.id: m for m in ch06.ADAGRAD_SIZE_MISTAKES}
    with pytest.raises(ExerciseFailed) as caught:
        ch06.check_adagrad_step_size(table[mistake].compute)
    assert caught.value.mistake == mistake


def test_adagrad_step_size_not_done_and_messages_do_not_give_the_answer():
    with pytest.raises(NotImplementedError):
        ch06.check_adagrad_step_size(not_done)
    for mistake in ch06.ADAGRAD_SIZE_MISTAKES:
        assert "√t" not in mistake.message and "sqrt(t)" not in mistake.message


def test_adagrad_step_size_matches_the_optimizer():
    p = Parameter(np.array([0.0]))
    opt = Adagrad([p], lr=0.3, eps=0.0)
    for t in range(1, 30):
        before = p.value.copy()
        p.grad[...] = -7.0
        opt.step()
        assert abs(p.value[0] - before[0]) == pytest.approx(ch06._adagrad_step_size(0.3, -7.0, t), rel=1e-12)


# ---------------------------------------------------------------- 6.4 bias_correction

@pytest.mark.parametrize("answer", [
    lambda beta, t: 1 - beta ** np.asarray(t, dtype=float),
    lambda beta, t: (1 - beta) * (1 - beta ** np.asarray(t, dtype=float)) / (1 - beta),
])
def test_bias_correction_accepts_right_answers(answer):
    assert ch06.check_bias_correction(answer).passed


@pytest.mark.parametrize("mistake", [m.id for m in ch06.BIAS_MISTAKES])
def test_bias_correction_mistakes_are_diagnosed(mistake):
    table = {m.id: m for m in ch06.BIAS_MISTAKES}
    with pytest.raises(ExerciseFailed) as caught:
        ch06.check_bias_correction(table[mistake].compute)
    assert caught.value.mistake == mistake


def test_bias_correction_messages_and_hint_do_not_give_the_answer():
    with pytest.raises(NotImplementedError):
        ch06.check_bias_correction(not_done)
    for mistake in ch06.BIAS_MISTAKES:
        assert "1 − β^t" not in mistake.message and "β^{t−1}" not in mistake.message
    with pytest.raises(ExerciseFailed) as caught:
        ch06.check_bias_correction(lambda beta, t: 0.5 + 0 * np.asarray(t, dtype=float))
    assert "1 − β^t" not in str(caught.value) and "sum the series" not in str(caught.value)


def test_bias_correction_matches_simulation():
    beta, g, m = 0.8, 3.0, 0.0
    for t in range(1, 20):
        m = beta * m + (1 - beta) * g
        assert m / g == pytest.approx(ch06._bias_correction(beta, t), rel=1e-12)


# ---------------------------------------------------------------- 6.5 adagrad_step, rmsprop_step, adam_step

def adagrad_right_a(theta, grad, sum_squares, lr, eps=1e-10):
    sum_squares = sum_squares + grad**2
    return theta - lr * grad / (np.sqrt(sum_squares) + eps), sum_squares


def adagrad_right_b(theta, grad, sum_squares, lr, eps=1e-10):
    total = sum_squares + grad * grad
    scale = lr / (total**0.5 + eps)
    return theta - scale * grad, total


def rmsprop_right_a(theta, grad, square_avg, lr, alpha=0.99, eps=1e-8):
    square_avg = alpha * square_avg + (1 - alpha) * grad**2
    return theta - lr * grad / (np.sqrt(square_avg) + eps), square_avg


def rmsprop_right_b(theta, grad, square_avg, lr, alpha=0.99, eps=1e-8):
    average = square_avg + (1 - alpha) * (grad * grad - square_avg)  # the same average, as an update towards g^2
    return theta - lr * (grad / (np.sqrt(average) + eps)), average


def adam_right_a(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    if decoupled:
        theta = theta * (1 - lr * weight_decay)
    else:
        grad = grad + weight_decay * theta
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adam_right_b(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    g = grad if decoupled else grad + weight_decay * theta
    shrunk = theta - lr * weight_decay * theta if decoupled else theta
    new_m = m + (1 - beta1) * (g - m)
    new_v = v + (1 - beta2) * (g * g - v)
    step_size = lr / (1 - beta1**t)
    denominator = np.sqrt(new_v) / np.sqrt(1 - beta2**t) + eps
    return shrunk - step_size * new_m / denominator, new_m, new_v


@pytest.mark.parametrize("answers", [(adagrad_right_a, rmsprop_right_a, adam_right_a),
                                     (adagrad_right_b, rmsprop_right_b, adam_right_b)])
def test_adaptive_steps_accept_right_answers(answers):
    assert ch06.check_adaptive_steps(*answers).passed
    assert [accepted(name) for name in ("adagrad_step", "rmsprop_step", "adam_step")] == list(answers)


def _adaptive_cases():
    for position, table in enumerate((ch06.ADAGRAD_MISTAKES, ch06.RMSPROP_MISTAKES, ch06.ADAM_MISTAKES)):
        for mistake in table:
            yield pytest.param(position, mistake, id=f"{('adagrad', 'rmsprop', 'adam')[position]}-{mistake.id}")


@pytest.mark.parametrize("position, mistake", list(_adaptive_cases()))
def test_adaptive_steps_mistakes_are_diagnosed(position, mistake):
    answers = [adagrad_right_a, rmsprop_right_a, adam_right_a]
    answers[position] = _from(mistake)
    with pytest.raises(ExerciseFailed) as caught:
        ch06.check_adaptive_steps(*answers)
    assert caught.value.mistake == mistake.id
    assert accepted("adam_step") is None


def test_adaptive_steps_handwritten_mistakes():
    def adam_in_place(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                      decoupled=False):
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad**2
        return theta - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v

    with pytest.raises(ExerciseFailed, match="changed its input array in place"):
        ch06.check_adaptive_steps(adagrad_right_a, rmsprop_right_a, adam_in_place)

    def adam_without_correction(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                                decoupled=False):
        grad = grad if decoupled else grad + weight_decay * theta
        theta = theta * (1 - lr * weight_decay) if decoupled else theta
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        return theta - lr * m / (np.sqrt(v) + eps), m, v

    with pytest.raises(ExerciseFailed, match="there is no bias correction") as caught:
        ch06.check_adaptive_steps(adagrad_right_a, rmsprop_right_a, adam_without_correction)
    assert caught.value.mistake == "no-bias-correction"
    with pytest.raises(ExerciseFailed, match=r"your adam_step returned 1 value; expected 3: theta, m, v"):
        ch06.check_adaptive_steps(adagrad_right_a, rmsprop_right_a, lambda *args, **kwargs: args[0])
    with pytest.raises(NotImplementedError, match="Exercise 6.5 is not done yet"):
        ch06.check_adaptive_steps(not_done, rmsprop_right_a, adam_right_a)


def test_adam_wrong_value_names_the_output_not_a_stacked_index():
    def wrong_v(*args, **kwargs):
        theta, m, v = adam_right_a(*args, **kwargs)
        return theta, m, v * 1.5

    with pytest.raises(ExerciseFailed, match=r"wrong values in v on .*: at index \(\d+,\)") as caught:
        ch06.check_adaptive_steps(adagrad_right_a, rmsprop_right_a, wrong_v)
    assert "stack" not in str(caught.value)


def test_adaptive_steps_that_delegate_fail():
    def adam_via_library(theta, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                         decoupled=False):
        from dlcore.scratch.optim import AdamState
        new_theta, state = adam_update(theta, grad, AdamState(t - 1, m, v, None), lr=lr, betas=(beta1, beta2),
                                       eps=eps, weight_decay=weight_decay, decoupled=decoupled)
        return new_theta, state.m, state.v

    for answers in ((optim_steps.adagrad_step, rmsprop_right_a, adam_right_a),
                    (adagrad_right_a, optim_steps.rmsprop_step, adam_right_a),
                    (adagrad_right_a, rmsprop_right_a, adam_via_library)):
        with pytest.raises(ExerciseFailed, match="the course's own version") as caught:
            ch06.check_adaptive_steps(*answers)
        assert caught.value.mistake == "delegates-to-reference"


def test_step_functions_in_the_step_optimizer_take_the_classes_steps():
    # The reference step functions, run by StepOptimizer, follow dlcore's optimizers (and so torch.optim).
    rng = np.random.default_rng(0)
    pairs = [
        (lambda p: optim_steps.StepOptimizer(p, momentum_right_a, 0.05, momentum=0.9, nesterov=True),
         lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
        (lambda p: optim_steps.StepOptimizer(p, adagrad_right_b, 0.1), lambda p: Adagrad(p, lr=0.1)),
        (lambda p: optim_steps.StepOptimizer(p, rmsprop_right_b, 0.01, alpha=0.9), lambda p: RMSprop(p, lr=0.01, alpha=0.9)),
        (lambda p: optim_steps.StepOptimizer(p, adam_right_b, 0.01, num_state=2, counts_steps=True),
         lambda p: Adam(p, lr=0.01)),
        (lambda p: optim_steps.StepOptimizer(p, adam_right_a, 0.01, num_state=2, counts_steps=True,
                                             weight_decay=0.1, decoupled=True),
         lambda p: AdamW(p, lr=0.01, weight_decay=0.1)),
    ]
    gradients = rng.standard_normal((20, 3))
    for ours, theirs in pairs:
        a, b = Parameter(np.ones(3)), Parameter(np.ones(3))
        opt_a, opt_b = ours([a]), theirs([b])
        for g in gradients:
            for p, opt in ((a, opt_a), (b, opt_b)):
                opt.zero_grad()
                p.grad += g
                opt.step()
        np.testing.assert_allclose(a.value, b.value, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- 6.6 warmup_cosine_lr

def schedule_right_a(step, base_lr, warmup_steps, total_steps, start_factor=0.1, min_lr=0.0):
    t = np.asarray(step, dtype=float)
    warm = base_lr * (start_factor + (1 - start_factor) * t / warmup_steps)
    progress = (t - warmup_steps) / (total_steps - warmup_steps)
    cosine = min_lr + (base_lr - min_lr) * (1 + np.cos(np.pi * progress)) / 2
    return np.where(t < warmup_steps, warm, cosine)


def schedule_right_b(step, base_lr, warmup_steps, total_steps, start_factor=0.1, min_lr=0.0):
    rates = []
    for t in np.atleast_1d(step):
        if t < warmup_steps:
            rates.append(base_lr * start_factor + base_lr * (1 - start_factor) * t / warmup_steps)
        else:
            angle = np.pi * (t - warmup_steps) / (total_steps - warmup_steps)
            rates.append(min_lr + 0.5 * (base_lr - min_lr) * (1 + np.cos(angle)))
    return np.array(rates).reshape(np.shape(step))


@pytest.mark.parametrize("answer", [schedule_right_a, schedule_right_b])
def test_warmup_cosine_accepts_right_answers(answer):
    assert ch06.check_warmup_cosine(answer).passed
    assert accepted("warmup_cosine_lr") is answer


@pytest.mark.parametrize("mistake", [m.id for m in ch06.SCHEDULE_MISTAKES])
def test_warmup_cosine_mistakes_are_diagnosed(mistake):
    table = {m.id: m for m in ch06.SCHEDULE_MISTAKES}
    with pytest.raises(ExerciseFailed) as caught:
        ch06.check_warmup_cosine(_from(table[mistake]))
    assert caught.value.mistake == mistake


def test_warmup_cosine_that_delegates_fails_and_not_done():
    def delegates(step, base_lr, warmup_steps, total_steps, start_factor=0.1, min_lr=0.0):
        return warmup_cosine_lr(step, base_lr, warmup_steps, total_steps, start_factor, min_lr)

    def half_delegates(step, base_lr, warmup_steps, total_steps, start_factor=0.1, min_lr=0.0):
        t = np.asarray(step)
        warm = base_lr * (start_factor + (1 - start_factor) * t / warmup_steps)
        cosine = cosine_annealing_lr(np.maximum(t - warmup_steps, 0), base_lr, total_steps - warmup_steps, min_lr)
        return np.where(t < warmup_steps, warm, cosine)

    for answer in (delegates, half_delegates):
        with pytest.raises(ExerciseFailed, match="the course's own version"):
            ch06.check_warmup_cosine(answer)
    with pytest.raises(NotImplementedError):
        ch06.check_warmup_cosine(not_done)


def test_a_learners_schedule_drives_a_scheduler_like_warmup_cosine():
    from dlcore.scratch.schedules import LRScheduler

    ours, theirs = SGD([Parameter(np.zeros(1))], lr=0.3), SGD([Parameter(np.zeros(1))], lr=0.3)
    scheduler = LRScheduler(ours, lambda t: schedule_right_a(t, 0.3, 10, 100, 0.1))
    reference = WarmupCosine(theirs, warmup_steps=10, total_steps=100, start_factor=0.1)
    for _ in range(100):
        scheduler.step()
        reference.step()
        assert ours.lr == pytest.approx(theirs.lr, rel=1e-12)


# ---------------------------------------------------------------- 6.7 the race

def test_valley_race_prediction():
    table = ch06.run_valley_race()
    assert (ch06._winner(table["aligned"]), ch06._winner(table["rotated"])) == ("RMSprop", "momentum")
    assert ch06.check_valley_race_prediction(lambda: "c").passed
    assert ch06.check_valley_race_prediction(lambda: " C ").passed
    for wrong, phrase in (("a", "gradient descent must keep"), ("b", "on the aligned valley"),
                          ("d", "bias correction"), ("e", "on the rotated valley"), ("f", "on the rotated valley")):
        with pytest.raises(ExerciseFailed, match=phrase) as caught:
            ch06.check_valley_race_prediction(lambda: wrong)
        assert caught.value.mistake == f"chose-{wrong}" and "The race gave" in str(caught.value)
    with pytest.raises(ExerciseFailed, match="not one of the options"):
        ch06.check_valley_race_prediction(lambda: "z")
    with pytest.raises(NotImplementedError, match="Exercise 6.7 is not done yet") as caught:
        ch06.check_valley_race_prediction(not_done)
    assert "replace this line" not in str(caught.value)
    with pytest.raises(NotImplementedError):
        ch06.check_valley_race_prediction(lambda: ...)
