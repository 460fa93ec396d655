"""The exercise-check engine: generic diagnoses, recording, and not-implemented handling."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.exercises import Case, ExerciseFailed, check_array_function, check_value, results
from dlcore.scratch import sigmoid

CASES = [Case((np.array([-1000.0, 0.0, 1000.0]),), description="x = [-1000, 0, 1000]"), Case((np.linspace(-3, 3, 7),))]


def test_reference_passes_and_is_recorded(capsys):
    before = len(results)
    result = check_array_function("9.1", sigmoid, sigmoid, CASES, success="stable")
    assert result.passed and capsys.readouterr().out.strip() == "Exercise 9.1 passed: stable"
    assert results[before:] == [result]


def test_not_implemented_is_reported_as_not_implemented():
    def stub(x):
        raise NotImplementedError("Exercise 9.1: replace this line with your code")

    with pytest.raises(NotImplementedError, match="Exercise 9.1 is not done yet"):
        check_array_function("9.1", stub, sigmoid, CASES)


def test_extra_axis_is_diagnosed_with_a_hint():
    with pytest.raises(ExerciseFailed) as info:
        check_array_function("9.1", lambda x: sigmoid(x)[:, None], sigmoid, CASES)
    assert "your output has shape (3, 1), expected (3,)" in str(info.value)
    assert "extra axis of size 1" in info.value.hint


def test_overflow_warning_fails_even_when_values_happen_to_be_right():
    with pytest.raises(ExerciseFailed, match='warned "overflow encountered in exp" on x = \\[-1000, 0, 1000\\]'):
        check_array_function("9.1", lambda x: 1 / (1 + np.exp(-x)), sigmoid, CASES, warning_hint="use the stable form")
    assert results[-1].passed is False


def test_none_exception_and_mutation_are_diagnosed():
    with pytest.raises(ExerciseFailed, match="returned None"):
        check_array_function("9.1", lambda x: None, sigmoid, CASES)
    with pytest.raises(ExerciseFailed, match="raised ZeroDivisionError"):
        check_array_function("9.1", lambda x: 1 / 0, sigmoid, CASES)

    def mutates(x):
        x *= 0
        return sigmoid(x)

    with pytest.raises(ExerciseFailed, match="changed its input array in place"):
        check_array_function("9.1", mutates, sigmoid, CASES)


def test_specific_diagnosis_wins_over_generic_message():
    derivative_instead = lambda x: sigmoid(x) * (1 - sigmoid(x))  # noqa: E731
    diagnose = lambda got, expected, case: "you returned the derivative" if np.allclose(got, derivative_instead(*case.args)) else None  # noqa: E731
    with pytest.raises(ExerciseFailed, match="you returned the derivative"):
        check_array_function("9.1", derivative_instead, sigmoid, CASES, diagnoses=[diagnose])
    with pytest.raises(ExerciseFailed, match=r"wrong values on .* at index \(\d,\) you return"):
        check_array_function("9.1", lambda x: sigmoid(x) + 0.1, sigmoid, CASES, diagnoses=[diagnose])


def test_check_value_for_predictions():
    check_value("9.2", 0.25, 0.25)
    check_value("9.2", "Overfitting ", "overfitting")
    with pytest.raises(NotImplementedError, match="Exercise 9.2 is not done yet"):
        check_value("9.2", ..., 0.25)
    with pytest.raises(ExerciseFailed, match="is not right"):
        check_value("9.2", 0.5, 0.25)
    with pytest.raises(ExerciseFailed, match="off by a factor of 2"):
        check_value("9.2", 0.5, 0.25, diagnoses=[lambda got, want: "off by a factor of 2" if got == 2 * want else None])
    with pytest.raises(ExerciseFailed, match=r"has shape \(2,\), expected \(\)"):
        check_value("9.2", [0.25, 0.25], 0.25)


def test_public_fail_and_passed_record_results(capsys):
    from dlcore.exercises import fail, passed

    result = passed("9.3", "well done")
    assert capsys.readouterr().out == "Exercise 9.3 passed: well done\n" and results[-1] == result
    with pytest.raises(ExerciseFailed, match="Exercise 9.3: wrong sign\nHint: look at the minus"):
        fail("9.3", "wrong sign", "look at the minus")
    assert results[-1].passed is False and results[-1].label == "9.3"


def test_matches_recognises_a_mistake_and_ignores_one_that_cannot_be_computed():
    from dlcore.exercises.core import matches

    got = np.array([1.0, np.nan])
    assert matches(lambda: np.array([1.0 + 1e-12, np.nan]), got)
    assert not matches(lambda: np.array([1.1, np.nan]), got)
    assert not matches(lambda: np.array([[1.0, np.nan]]), got), "a different shape is a different mistake"
    assert not matches(lambda: 1 / 0, got)


def test_mistake_diagnosis_names_the_first_mistake_that_reproduces_the_answer():
    from dlcore.exercises.core import mistake_diagnosis

    diagnose = mistake_diagnosis([(lambda x: x * 3, "tripled"), (lambda x: x * 2, "doubled"),
                                  (lambda x: x + x, "also doubled")])
    case = Case((np.array([1.0, 2.0]),), description="x = [1, 2]")
    assert diagnose(np.array([2.0, 4.0]), None, case) == "doubled (on x = [1, 2])"
    assert diagnose(np.array([5.0, 5.0]), None, case) is None
