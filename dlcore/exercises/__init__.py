"""The checks that run under each exercise.

A check calls the learner's code on several inputs, compares it with the
reference, and either prints a one-line success or raises
:class:`ExerciseFailed` whose message diagnoses the mistake and gives a hint.
Checks for chapter NN live in ``dlcore.exercises.chNN``.
"""

from dlcore.exercises.core import (
    CheckResult,
    Case,
    ExerciseFailed,
    Mistake,
    check_choice,
    check_value,
    fail,
    passed,
    results,
)
from dlcore.exercises.functions import check_array_function, check_function
from dlcore.exercises.learner import implementation, learner_call
from dlcore.exercises.verdicts import check_verdicts

__all__ = ["Case", "CheckResult", "ExerciseFailed", "Mistake", "check_array_function", "check_function", "check_choice",
           "check_value", "check_verdicts", "fail", "implementation", "learner_call", "passed", "results"]
