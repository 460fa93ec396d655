"""The build-exercise machinery: named outputs, known mistakes, the delegation guard,
running later cells on the learner's code, short messages without tracebacks."""

import numpy as np
import pytest

from dlcore.exercises import learner
from dlcore.exercises.core import Case, ExerciseFailed, Mistake, check_choice, check_value, not_done, results
from dlcore.exercises.functions import check_function
from dlcore.scratch.linear import linear_backward, linear_forward

RNG = np.random.default_rng(0)
X, W, B = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2)), RNG.standard_normal(2)
DOUT = RNG.standard_normal((3, 2))
CASES = [Case((DOUT, X, W), description="a batch of 3, 4 inputs, 2 outputs")]


def reference(dout, x, w):
    return linear_backward(dout, linear_forward(x, w, np.zeros(w.shape[1]))[1])


def own(dout, x, w):
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


MISTAKES = [Mistake("dW-transposed", lambda dout, x, w: (dout @ w.T, (x.T @ dout).T, dout.sum(axis=0)),
                    "dW is transposed"),
            Mistake("db-mean", lambda dout, x, w: (dout @ w.T, x.T @ dout, dout.mean(axis=0)),
                    "db averages the batch")]


def check(function, **options):
    return check_function("5.9", function, reference, CASES, name="affine_backward", outputs=("dx", "dW", "db"),
                          mistakes=MISTAKES, **options)


def test_a_correct_function_passes_and_is_accepted_for_later_cells(capsys):
    assert check(own).passed
    assert learner.accepted("affine_backward") is own
    chosen = learner.implementation("affine_backward", reference, label="5.9")
    assert chosen is own
    assert "[using your affine_backward, which passed exercise 5.9]" in capsys.readouterr().out


def test_until_a_check_passes_later_cells_use_the_reference_and_say_so(capsys):
    with pytest.raises(ExerciseFailed):
        check(lambda dout, x, w: (dout @ w.T, x.T @ dout, dout.mean(axis=0)))
    assert learner.implementation("affine_backward", reference, label="5.9") is reference
    assert "[using dlcore's affine_backward until exercise 5.9 passes]" in capsys.readouterr().out


def test_a_known_mistake_is_named_with_its_output_and_id():
    with pytest.raises(ExerciseFailed, match="dW is transposed") as caught:
        check(lambda dout, x, w: (dout @ w.T, (x.T @ dout).T, dout.sum(axis=0)))
    assert caught.value.mistake == "dW-transposed"
    assert results[-1].mistake == "dW-transposed" and not results[-1].passed


def test_an_unknown_error_names_the_output_and_an_index_in_the_learners_array():
    def off(dout, x, w):
        dx, dW, db = own(dout, x, w)
        dW = dW.copy()
        dW[2, 1] += 1.0
        return dx, dW, db
    with pytest.raises(ExerciseFailed, match=r"wrong values in dW .* at index \(2, 1\)"):
        check(off)


def test_wrong_number_of_outputs_and_wrong_shape_are_explained():
    with pytest.raises(ExerciseFailed, match="returned 2 values; expected 3: dx, dW, db"):
        check(lambda dout, x, w: own(dout, x, w)[:2])
    with pytest.raises(ExerciseFailed, match=r"db has shape \(1, 2\), expected \(2,\)"):
        check(lambda dout, x, w: (dout @ w.T, x.T @ dout, dout.sum(axis=0, keepdims=True)))


def test_a_function_that_delegates_to_the_reference_fails_however_it_was_imported():
    from dlcore.scratch import linear as renamed
    with pytest.raises(ExerciseFailed, match="calls dlcore.scratch.linear.linear_backward") as caught:
        check_function("5.9", lambda dout, cache: renamed.linear_backward(dout, cache), linear_backward,
                       [Case((DOUT, linear_forward(X, W, B)[1]))], name="affine_backward",
                       outputs=("dx", "dW", "db"))
    assert caught.value.mistake == "delegates-to-reference"
    assert learner.accepted("affine_backward") is None


def test_forbidden_builtins_are_caught_too():
    import torch
    with pytest.raises(ExerciseFailed, match="calls"):
        check(lambda dout, x, w: tuple(t.numpy() for t in (torch.matmul(torch.tensor(dout), torch.tensor(w).T),
                                                           torch.tensor(x.T @ dout), torch.tensor(dout.sum(0)))),
              forbid=[torch.matmul])


def test_the_stub_is_reported_as_not_done_in_one_line():
    def stub(dout, x, w):
        raise NotImplementedError("Exercise 5.9: replace this line with your code")
    with pytest.raises(NotImplementedError, match="Exercise 5.9 is not done yet") as caught:
        check(stub)
    assert caught.value._render_traceback_() == ["\x1b[31m" + str(caught.value) + "\x1b[0m"]


def test_learner_call_turns_errors_into_verdicts():
    with pytest.raises(NotImplementedError, match="not done yet"):
        learner.learner_call("3.5", lambda: (_ for _ in ()).throw(NotImplementedError("replace this line")))
    with pytest.raises(ExerciseFailed, match="your guess raised ZeroDivisionError"):
        learner.learner_call("3.5", lambda: 1 / 0, name="guess")
    with pytest.raises(ExerciseFailed, match="expected a function, got int"):
        learner.learner_call("3.5", 3)
    assert learner.learner_call("3.5", lambda a, b=0: a + b, 2, b=3) == 5


def test_failures_render_as_the_message_alone():
    error = ExerciseFailed("4.2", "you divided by K instead of N", "average over the batch")
    lines = error._render_traceback_()
    assert len(lines) == 2 and "4.2" in lines[0] and "Hint: average over the batch" in lines[1]
    assert not any("File" in line or ".py" in line for line in lines)
    assert "not done yet" in str(not_done("4.2"))


def test_check_value_names_known_wrong_answers_and_shows_numbers_plainly():
    mistakes = [Mistake("per-class", lambda: 10, "that is the count per class, not per example")]
    with pytest.raises(ExerciseFailed, match="per class") as caught:
        check_value("15.3", np.int64(10), 9936, mistakes=mistakes)
    assert caught.value.mistake == "per-class"
    with pytest.raises(ExerciseFailed, match=r"your answer \(12\) is not right"):
        check_value("15.3", np.int64(12), 9936, mistakes=mistakes)
    assert check_value("15.3", 9936, 9936, mistakes=mistakes).passed


def test_check_choice():
    options = {"a": "ReLU", "b": "sigmoid", "c": "tanh"}
    why_not = {"b": "its slope is at most 1/4", "c": "it saturates on both sides"}
    assert check_choice("3.6", "A ", options, "a", why_not=why_not).passed
    with pytest.raises(ExerciseFailed, match=r"not \(b\): its slope is at most 1/4") as caught:
        check_choice("3.6", "b", options, "a", why_not=why_not)
    assert caught.value.mistake == "chose-b"
    with pytest.raises(ExerciseFailed, match="not one of the options"):
        check_choice("3.6", "d", options, "a", why_not=why_not)
    with pytest.raises(NotImplementedError, match="not done yet"):
        check_choice("3.6", ..., options, "a", why_not=why_not)
    with pytest.raises(ValueError, match="need a why_not entry"):
        check_choice("3.6", "a", options, "a", why_not={"b": "x"})


def test_numpy_dispatchers_are_seen_through():
    with pytest.raises(ExerciseFailed, match="calls numpy.*vander, a library function") as caught:
        check_function("1.1", lambda t, degree: np.vander(t, degree + 1, increasing=True),
                       lambda t, degree: np.stack([t**j for j in range(degree + 1)], axis=1),
                       [Case((np.linspace(0, 1, 5), 3))], forbid=[np.vander])
    assert caught.value.mistake == "delegates-to-reference"


def test_a_wrong_scalar_output_is_reported_without_an_index():
    with pytest.raises(ExerciseFailed) as caught:
        check_function("0.9", lambda x: float(x.sum()) + 1, lambda x: float(x.sum()), [Case((np.ones(3),))],
                       name="total", guard_reference=False)
    message = str(caught.value)
    assert "you return 4, expected 3" in message and "index" not in message
