"""check_verdicts: predictions made of one word per case."""

from __future__ import annotations

import pytest

from dlcore.exercises.core import ExerciseFailed, Mistake, results
from dlcore.exercises.verdicts import check_verdicts

WORDS = ("small", "medium", "large")
TRUTH = ("small", "large", "medium")
CASES = ["n = 1", "n = 10", "n = 5"]
IDS = ["one", "ten", "five"]


def verdict(got, **options):
    settings = dict(cases=CASES, ids=IDS, vocabulary=WORDS)
    settings.update(options)
    return check_verdicts("0.1", got, TRUTH, **settings)


def failure(got, **options) -> ExerciseFailed:
    with pytest.raises(ExerciseFailed) as caught:
        verdict(got, **options)
    return caught.value


def test_right_answers_pass_in_any_case_and_spacing():
    assert verdict(("small", "large", "medium")).passed
    assert verdict([" Small", "LARGE", "medium "]).passed
    assert results[-1].passed and results[-1].label == "0.1"


def test_a_dict_answer_is_read_in_the_order_of_its_keys():
    assert verdict({10: "large", 1: "small", 5: "medium"}, keys=(1, 10, 5)).passed
    assert failure({1: "small", 10: "large"}, keys=(1, 10, 5)).mistake == "prediction-wrong-form"
    with pytest.raises(NotImplementedError, match="replace the ... for n = 10"):
        verdict({1: "small", 10: ..., 5: "medium"}, keys=(1, 10, 5))


def test_not_done_and_wrong_forms():
    with pytest.raises(NotImplementedError, match="not done yet"):
        verdict(...)
    assert failure(("small", "large")).mistake == "prediction-wrong-form"
    assert failure("small large medium").mistake == "prediction-wrong-form"
    assert failure(("small", 3, "medium")).mistake == "prediction-wrong-form"
    error = failure(("small", "huge", "medium"))
    assert error.mistake == "unknown-word" and "'huge' is not one of" in str(error)


def test_every_wrong_entry_is_listed_with_its_reason_and_the_first_names_the_mistake():
    error = failure(("large", "large", "small"), reasons=["r1", "r10", "r5"], measured="1 / 100 / 10")
    assert error.mistake == "one-large"
    text = str(error)
    assert "n = 1: you said large, measured small (r1)" in text and "n = 5: you said small, measured medium (r5)" in text
    assert "n = 10" not in text.split("Measured")[0]  # the right entry is not mentioned
    assert "Measured: 1 / 100 / 10" in text


def test_a_whole_answer_mistake_comes_before_confusions():
    mistakes = [Mistake("reversed", lambda: ("medium", "large", "small"), "you read the table backwards")]
    confusions = {("medium", "small"): ("too-big", "a single case cannot be medium")}
    error = failure(("medium", "large", "small"), mistakes=mistakes, confusions=confusions)
    assert error.mistake == "reversed" and "backwards" in str(error)
    error = failure(("medium", "large", "medium"), mistakes=mistakes, confusions=confusions)
    assert error.mistake == "too-big" and "cannot be medium" in str(error)


def test_reveal_false_does_not_name_the_measured_word():
    error = failure(("small", "medium", "medium"), reveal=False, reasons=["", "how big is 10?", ""],
                    measured="secret numbers")
    text = str(error)
    assert "the measurement disagrees (how big is 10?)" in text
    assert "large" not in text and "secret" not in text


def test_inconsistent_setup_is_a_programming_error():
    with pytest.raises(ValueError, match="one entry per verdict"):
        check_verdicts("0.1", TRUTH, TRUTH, cases=CASES[:2], ids=IDS, vocabulary=WORDS)
