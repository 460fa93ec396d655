"""The grader and the progress page, on chapter 01 submitted five ways.

A folder of submissions is graded once per module: a correct notebook (the
solution), a partly wrong one (two exercise cells edited to plausible wrong
answers), a not-done one (the student version) and a broken one (an unrelated
error, and an exercise cell that does not compile). Small notebooks made from
the chapter's cells then loop forever or kill their kernel, under a short time
limit. Each must give the right table, JSON and CSV, and the batch must go on.
"""

from __future__ import annotations

import csv
import re
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from dlcore.tools import grade, grade_report, progress

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "01_landscape.ipynb"
SOLUTION = ROOT / "solutions" / CHAPTER
STUDENT = ROOT / "chapters" / CHAPTER
# Generous: a notebook takes ~10 s; a loaded CI machine may take several times that.
TIMEOUT_S = 300
# For the notebook that loops: what runs before the loop takes ~2 s.
SHORT_TIMEOUT_S = 20

WRONG_ANSWERS = {
    # The highest power first: a mistake the check diagnoses. The fit (1.4) and the cross-validation (1.7)
    # are built on these features, so their checks fail too.
    "1.1": "# Exercise 1.1\ndef polynomial_features(t, degree):\n"
           "    return np.stack([t**j for j in range(degree, -1, -1)], axis=1)\n",
    # The degree with the lowest training error, not test error.
    "1.5": "# Exercise 1.5\ndef my_prediction():\n    return 15, True\n",
}
LABELS = ["1.1", "1.3", "1.4", "1.5", "1.6", "1.7"]  # the chapter's code exercises, in order
BOB = {"1.1": "wrong", "1.3": "passed", "1.4": "wrong", "1.5": "wrong", "1.6": "passed", "1.7": "wrong"}


def _exercise_cell(nb, label: str):
    return next(cell for cell in nb.cells if cell.cell_type == "code" and cell.source.startswith(f"# Exercise {label}\n"))


def _check_cell(nb, label: str):
    cells = nb.cells
    start = cells.index(_exercise_cell(nb, label))
    return next(cell for cell in cells[start:] if "exercise-check" in cell.metadata.get("tags", []))


def _write(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def _small_notebook(middle: str):
    """Imports, exercise 1.1 and its check, then ``middle``, then exercise 1.3 and its check."""
    solution = nbformat.read(str(SOLUTION), as_version=4)
    nb = nbformat.v4.new_notebook()
    nb.metadata = solution.metadata
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np\nfrom dlcore.exercises import ch01"),
                _exercise_cell(solution, "1.1"), _check_cell(solution, "1.1"),
                nbformat.v4.new_code_cell(middle),
                _exercise_cell(solution, "1.3"), _check_cell(solution, "1.3")]
    for index, cell in enumerate(nb.cells):  # nbformat 4.5 wants an id on every cell
        cell["id"] = f"cell-{index}"
    return nb


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("submissions")
    (folder / "alice").mkdir()
    shutil.copy(SOLUTION, folder / "alice" / CHAPTER)

    partly_wrong = nbformat.read(str(SOLUTION), as_version=4)
    for label, source in WRONG_ANSWERS.items():
        _exercise_cell(partly_wrong, label).source = source
    _write(partly_wrong, folder / "bob" / CHAPTER)

    (folder / "carol").mkdir()
    shutil.copy(STUDENT, folder / "carol" / CHAPTER)

    broken = nbformat.read(str(SOLUTION), as_version=4)
    at = broken.cells.index(_check_cell(broken, "1.1")) + 1
    broken.cells.insert(at, nbformat.v4.new_code_cell("raise RuntimeError('an unrelated mistake')"))
    _exercise_cell(broken, "1.6").source = "# Exercise 1.6\ndef bias_variance(predictions, truth)\n    return 0, 0\n"
    _write(broken, folder / "dave" / CHAPTER)
    return folder


@pytest.fixture(scope="module")
def graded(submissions) -> dict[str, grade.NotebookGrade]:
    grades = grade.grade_paths([submissions], timeout=TIMEOUT_S, echo=lambda *args, **kwargs: None, jobs=2)
    return {g.student: g for g in grades}


def _statuses(notebook_grade: grade.NotebookGrade) -> dict[str, str]:
    return {exercise.label: exercise.status for exercise in notebook_grade.exercises}


def test_correct_notebook_passes_every_exercise(graded):
    alice = graded["alice"]
    assert alice.status == "completed" and not alice.errors
    assert _statuses(alice) == dict.fromkeys(LABELS, "passed")
    assert alice.notebook == CHAPTER


def test_wrong_answers_are_reported_with_the_checks_diagnosis(graded):
    bob = graded["bob"]
    assert _statuses(bob) == BOB
    messages = {exercise.label: exercise.message for exercise in bob.exercises}
    mistakes = {exercise.label: exercise.mistake for exercise in bob.exercises}
    assert "reverse order" in messages["1.1"] and mistakes["1.1"] == "features-reversed"
    assert "TRAINING error" in messages["1.5"] and mistakes["1.5"]
    assert mistakes["1.3"] == ""
    assert bob.status == "completed" and not bob.errors  # a wrong answer is not an error elsewhere


def test_student_version_is_not_done(graded):
    carol = graded["carol"]
    assert _statuses(carol) == dict.fromkeys(LABELS, "not done")
    assert all("not done yet" in exercise.message for exercise in carol.exercises)
    assert carol.status == "completed" and not carol.errors


def test_unrelated_errors_are_listed_and_a_failed_exercise_cell_makes_its_check_an_error(graded):
    dave = graded["dave"]
    assert dave.status == "completed", (dave.status, dave.problem)
    assert _statuses(dave) == {**dict.fromkeys(LABELS, "passed"), "1.6": "error"}
    errors = {(error["ename"], error["evalue"]) for error in dave.errors}
    assert ("RuntimeError", "an unrelated mistake") in errors
    assert any(name == "SyntaxError" for name, _ in errors)
    assert next(e for e in dave.exercises if e.label == "1.6").message.startswith("NameError")


def test_table_has_a_row_per_student_and_a_column_per_exercise(graded):
    text = grade_report.table(list(graded.values()))
    lines = text.splitlines()
    assert lines[0] == CHAPTER
    header = lines[2].split()
    assert header[:7] == ["student", *LABELS]
    rows = {line.split()[0]: line for line in lines[3:7]}
    assert rows["alice"].split()[1:8] == ["passed"] * 6 + ["6/6"]
    assert rows["bob"].split()[1:8] == [*BOB.values(), "2/6"]
    assert "not done  not done  not done" in rows["carol"]
    assert "other cell error" in rows["dave"]
    assert "bob / 01_landscape.ipynb / 1.1: wrong" in text  # the details name who and what


def test_json_and_csv_reports(graded, tmp_path):
    grades = list(graded.values())
    grade_report.write_json(grades, tmp_path / "grades.json", TIMEOUT_S)
    report = json.loads((tmp_path / "grades.json").read_text())
    by_student = {entry["student"]: entry for entry in report["notebooks"]}
    assert set(by_student) == {"alice", "bob", "carol", "dave"}
    assert by_student["bob"]["passed"] == 2 and by_student["bob"]["total"] == 6
    assert [e["status"] for e in by_student["bob"]["exercises"]] == list(BOB.values())
    assert report["timeout_s"] == TIMEOUT_S
    grade_report.write_csv(grades, tmp_path / "grades.csv")
    rows = list(csv.DictReader(open(tmp_path / "grades.csv", encoding="utf-8")))
    assert len(rows) == 4 * len(LABELS)
    assert {(r["student"], r["exercise"], r["status"]) for r in rows if r["student"] == "carol"} == {
        ("carol", label, "not done") for label in LABELS}


def test_a_notebook_that_never_ends_is_stopped_and_reported(tmp_path):
    path = _write(_small_notebook("while True:\n    pass"), tmp_path / "erin" / CHAPTER)
    looping = grade.grade_notebook(path, "erin", CHAPTER, timeout=SHORT_TIMEOUT_S)
    assert looping.status == "timed out"
    assert "cell 3" in looping.problem and f"{SHORT_TIMEOUT_S}" in looping.problem
    assert _statuses(looping) == {"1.1": "passed", "1.3": "not run"}
    assert looping.seconds < SHORT_TIMEOUT_S + 60


def test_a_crashing_kernel_is_reported_and_the_batch_goes_on(tmp_path, capsys):
    _write(_small_notebook("import os\nos._exit(1)"), tmp_path / "batch" / "frank" / CHAPTER)
    _write(_small_notebook("x = 1"), tmp_path / "batch" / "grace" / CHAPTER)
    output = tmp_path / "out" / "grades.json"
    status = grade.main([str(tmp_path / "batch"), "--output", str(output), "--csv", str(tmp_path / "out" / "g.csv"),
                         "--timeout", "120", "--no-cache"])
    assert status == 0
    report = {entry["student"]: entry for entry in json.loads(output.read_text())["notebooks"]}
    assert report["frank"]["status"] == "kernel died"
    assert [e["status"] for e in report["frank"]["exercises"]] == ["passed", "not run"]
    assert report["grace"]["status"] == "completed"
    assert [e["status"] for e in report["grace"]["exercises"]] == ["passed", "passed"]
    printed = capsys.readouterr().out
    assert "KERNEL DIED" in printed and "grace" in printed


def _without_time(notebook_grade: grade.NotebookGrade) -> dict:
    data = notebook_grade.to_json()
    data.pop("seconds")
    data.pop("position")  # in its batch
    return data


def test_parallel_grades_equal_sequential_ones_in_the_order_found(submissions, graded):
    """The module's grades ran 2 at a time in worker processes; one notebook graded alone gives the same."""
    assert list(graded) == ["alice", "bob", "carol", "dave"]  # the order find_notebooks gives, not finishing order
    alone = grade.grade_paths([submissions / "bob" / CHAPTER], timeout=TIMEOUT_S, echo=lambda *a, **k: None, jobs=1)
    assert _without_time(alone[0]) == _without_time(graded["bob"])


def test_every_kernel_runs_on_one_thread(tmp_path):
    check = ("import os, torch\nassert torch.get_num_threads() == 1, torch.get_num_threads()\n"
             "assert os.environ['OMP_NUM_THREADS'] == '1'")
    path = _write(_small_notebook(check), tmp_path / "henry" / CHAPTER)
    result = grade.grade_notebook(path, "henry", CHAPTER, timeout=TIMEOUT_S)
    assert result.status == "completed" and result.errors == [], result.errors


def test_jobs_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="jobs must be a positive int"):
        grade.grade_paths([tmp_path], jobs=0)
    with pytest.raises(SystemExit):
        grade.main([str(tmp_path), "--jobs", "0"])


def test_the_grader_never_writes_the_notebooks(submissions, graded):
    assert (submissions / "alice" / CHAPTER).read_bytes() == SOLUTION.read_bytes()
    assert (submissions / "carol" / CHAPTER).read_bytes() == STUDENT.read_bytes()


def test_find_notebooks_names_students_by_folder(tmp_path):
    for name in ("alice/01_a.ipynb", "alice/.ipynb_checkpoints/01_a-checkpoint.ipynb", "bob.ipynb"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    found = [(student, notebook) for _, student, notebook in grade.find_notebooks(tmp_path)]
    assert found == [("alice", "01_a.ipynb"), ("bob", "bob.ipynb")]
    single = grade.find_notebooks(tmp_path / "alice" / "01_a.ipynb")
    assert [(s, n) for _, s, n in single] == [("alice", "01_a.ipynb")]


def test_a_check_without_its_exercise_cell_and_an_exercise_without_a_check():
    nb = nbformat.v4.new_notebook()
    check = nbformat.v4.new_code_cell("check()")
    check.metadata["tags"] = ["exercise-check"]
    nb.cells = [check, nbformat.v4.new_code_cell("# Exercise 9.1\ndef f(): pass")]
    exercises, checks = grade._exercises(nb)
    assert [e.label for e in exercises] == ["cell 0", "9.1"]
    assert list(checks) == [0] and exercises[1].cell is None


def test_an_unreadable_file_is_reported(tmp_path):
    path = tmp_path / "zoe" / "broken.ipynb"
    path.parent.mkdir()
    path.write_text("not json")
    result = grade.grade_notebook(path)
    assert result.status == "could not run" and "not a readable notebook" in result.problem


def test_progress_page_and_summary(graded, tmp_path):
    grades = [graded["bob"], graded["carol"]]
    page = progress.render_html(grades)
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page
    assert "Your progress: 2 of 12 exercises pass" in page
    assert "reverse order" in page and "replace this line" not in page
    text = progress.summary(grades)
    listed = ", ".join(f"{label} {status}" for label, status in BOB.items())
    assert f"01_landscape.ipynb: 2/6 passed ({listed})" in text
    assert text.splitlines()[-1] == "In all: 2 of 12 exercises pass."


def test_progress_command_writes_the_page(tmp_path, capsys):
    folder = tmp_path / "chapters"
    _write(_small_notebook("x = 1"), folder / CHAPTER)
    output = tmp_path / "progress.html"
    assert progress.main([str(folder), "--output", str(output), "--timeout", "120"]) == 0
    assert "2 of 2 exercises pass" in output.read_text()
    assert "In all: 2 of 2 exercises pass." in capsys.readouterr().out


def _report_without_times(path: Path) -> dict:
    report = json.loads(path.read_text())
    for entry in report["notebooks"]:
        entry.pop("seconds")
    return report


def test_two_shards_merge_into_the_report_of_one_run(submissions, graded, tmp_path):
    one_run = tmp_path / "one.json"
    grade_report.write_json(list(graded.values()), one_run, TIMEOUT_S)
    cache = tmp_path / "cache"
    for index in (1, 2):
        assert grade.main([str(submissions), "--shard", f"{index}/2", "--output", str(tmp_path / f"shard-{index}.json"),
                           "--timeout", str(TIMEOUT_S), "--cache", str(cache), "--jobs", "2"]) == 0
    shard_1 = json.loads((tmp_path / "shard-1.json").read_text())
    assert shard_1["shard"] == "1/2" and shard_1["batch_size"] == 4
    assert [entry["student"] for entry in shard_1["notebooks"]] == ["alice", "carol"]  # positions 0 and 2
    merged = tmp_path / "merged.json"
    assert grade.main(["merge", str(tmp_path / "shard-2.json"), str(tmp_path / "shard-1.json"),
                       "--output", str(merged), "--csv", str(tmp_path / "merged.csv")]) == 0
    assert _report_without_times(merged) == _report_without_times(one_run)

    # re-grading the unchanged class starts no kernel: every grade comes from the cache
    def no_kernel(*args, **kwargs):
        raise AssertionError("a kernel was started for an unchanged notebook")

    import unittest.mock

    with unittest.mock.patch.object(grade, "grade_notebook", no_kernel):
        again = grade.grade_paths([submissions], TIMEOUT_S, echo=lambda *a, **k: None, jobs=2,
                                  cache=_cache(cache))
    assert [g.to_json() | {"seconds": 0} for g in again] == [g.to_json() | {"seconds": 0} for g in graded.values()]


def _cache(folder):
    from dlcore.tools.grade_cache import GradeCache

    return GradeCache(folder, TIMEOUT_S)


def test_the_cache_runs_only_what_changed(tmp_path):
    from dlcore.tools.grade_cache import GradeCache

    for name in ("ann", "ben", "cat"):
        _write(_small_notebook(f"x = '{name}'"), tmp_path / "class" / name / CHAPTER)
    ran = []

    def fake(path, student, notebook, timeout):
        ran.append(student)
        return grade.NotebookGrade(str(path), student, notebook, exercises=[grade.ExerciseGrade("1.1", "passed")])

    cache = GradeCache(tmp_path / "cache", 60, fingerprint="course-v1")
    quiet = dict(echo=lambda *a, **k: None, jobs=1)
    import unittest.mock

    with unittest.mock.patch.object(grade, "grade_notebook", fake):
        grade.grade_paths([tmp_path / "class"], 60, cache=cache, **quiet)
        assert ran == ["ann", "ben", "cat"]
        _write(_small_notebook("x = 'late change'"), tmp_path / "class" / "ben" / CHAPTER)
        grades = grade.grade_paths([tmp_path / "class"], 60, cache=cache, **quiet)
        assert ran[3:] == ["ben"] and [g.student for g in grades] == ["ann", "ben", "cat"]
        grade.grade_paths([tmp_path / "class"], 60, cache=GradeCache(tmp_path / "cache", 60, "course-v2"), **quiet)
        assert ran[4:] == ["ann", "ben", "cat"]  # the course changed: every notebook runs again
        grade.grade_paths([tmp_path / "class"], 90, cache=GradeCache(tmp_path / "cache", 90, "course-v1"), **quiet)
        assert ran[7:] == ["ann", "ben", "cat"]  # so did the time limit


def test_the_cache_keeps_only_completed_runs_and_the_fingerprint_follows_the_code(tmp_path):
    from dlcore.tools.grade_cache import GradeCache, course_fingerprint

    path = _write(_small_notebook("x = 1"), tmp_path / "ann" / CHAPTER)
    cache = GradeCache(tmp_path / "cache", 60, fingerprint="f")
    cache.put(path, grade.NotebookGrade(str(path), "ann", CHAPTER, status="timed out"))
    assert cache.get(path, "ann", CHAPTER) is None
    cache.put(path, grade.NotebookGrade(str(path), "ann", CHAPTER, exercises=[grade.ExerciseGrade("1.1", "wrong")]))
    twin = _write(_small_notebook("x = 1"), tmp_path / "bo" / CHAPTER)  # the same bytes, another student
    hit = cache.get(twin, "bo", CHAPTER)
    assert hit.student == "bo" and hit.path == str(twin) and hit.exercises[0].status == "wrong"
    copy = tmp_path / "course"
    shutil.copytree(ROOT / "dlcore", copy / "dlcore", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    before = course_fingerprint(copy)
    assert before == course_fingerprint(ROOT)
    (copy / "dlcore" / "exercises" / "ch01.py").write_text("# changed\n", encoding="utf-8")
    assert course_fingerprint(copy) != before


@pytest.mark.parametrize("shards, problem", [
    (["1/2"], "missing ['2/2']"),
    (["1/2", "1/2", "2/2"], "repeated ['1/2']"),
])
def test_merge_refuses_an_incomplete_set_of_shards(tmp_path, shards, problem):
    paths = []
    for number, shard in enumerate(shards):
        index = int(shard.split("/")[0])
        entry = grade.NotebookGrade("p", f"s{index}", CHAPTER, position=index - 1)
        paths.append(tmp_path / f"{number}.json")
        grade_report.write_json([entry], paths[-1], 60, (index, 2), 2)
    with pytest.raises(ValueError, match=re.escape(problem)):
        grade_report.merge_shards(paths)
    grade_report.write_json([], tmp_path / "plain.json", 60)
    with pytest.raises(ValueError, match="not a shard report"):
        grade_report.merge_shards([tmp_path / "plain.json"])


def test_shard_arguments():
    assert grade.parse_shard("2/5") == (2, 5)
    for text in ("0/2", "3/2", "2", "a/b"):
        with pytest.raises(ValueError, match="shard"):
            grade.parse_shard(text)


def _fake(student, statuses, notebook=CHAPTER):
    exercises = [grade.ExerciseGrade(label, status, message=f"{student}'s message on {label}", mistake=mistake)
                 for label, (status, mistake) in statuses.items()]
    return grade.NotebookGrade(f"{student}/{notebook}", student, notebook, exercises=exercises)


def test_class_report_groups_wrong_answers_by_mistake_id_not_by_message():
    from dlcore.tools import class_report

    grades = [_fake("ann", {"1.1": ("wrong", "reversed-powers"), "1.3": ("passed", "")}),
              _fake("ben", {"1.1": ("wrong", "reversed-powers"), "1.3": ("wrong", "")}),
              _fake("cat", {"1.1": ("wrong", "missing-constant"), "1.3": ("not done", "")}),
              _fake("dan", {"1.1": ("passed", ""), "1.3": ("timed out", "")})]
    groups = class_report.common_mistakes(grades)
    assert [(g.label, g.mistake, g.students, g.attempted) for g in groups] == [
        ("1.1", "reversed-powers", ["ann", "ben"], 4), ("1.1", "missing-constant", ["cat"], 4),
        ("1.3", class_report.UNRECOGNISED, ["ben"], 4)]
    counts = class_report.exercise_counts(grades)[CHAPTER]
    assert counts["1.1"] == {"passed": 1, "wrong": 3} and counts["1.3"] == {"passed": 1, "wrong": 1,
                                                                           "not done": 1, "other": 1}
    page = class_report.render_html(grades)
    assert "4 students, 4 notebooks" in page and "2 of 4" in page and "ann, ben" in page
    assert page.index("most common mistakes") < page.index("Per exercise")
    assert "<script" not in page and "http" not in page


def test_gradebook_has_a_row_per_student_and_a_column_per_exercise(tmp_path):
    from dlcore.tools import class_report

    grades = [_fake("ann", {"1.1": ("passed", ""), "1.3": ("wrong", "x")}),
              _fake("ann", {"2.1": ("passed", "")}, notebook="02_neurons.ipynb"),
              _fake("ben", {"1.1": ("not done", "")})]
    class_report.write_gradebook(grades, tmp_path / "gradebook.csv")
    rows = list(csv.reader(open(tmp_path / "gradebook.csv", encoding="utf-8")))
    assert rows == [["student", "01_landscape 1.1", "01_landscape 1.3", "02_neurons 2.1", "passed", "exercises"],
                    ["ann", "1", "0", "1", "2", "3"], ["ben", "0", "0", "0", "0", "3"]]


def test_the_command_writes_the_class_report_of_a_real_class(submissions, graded, tmp_path):
    merged = grade.main([str(submissions / "bob" / CHAPTER), "--output", str(tmp_path / "g.json"),
                         "--html", str(tmp_path / "grades.html"), "--gradebook", str(tmp_path / "gb.csv"),
                         "--cache", str(tmp_path / "cache"), "--timeout", str(TIMEOUT_S)])
    assert merged == 0
    page = (tmp_path / "grades.html").read_text()
    bob = graded["bob"]
    for exercise in bob.exercises:
        if exercise.status == "wrong" and exercise.mistake:
            assert exercise.mistake in page  # the checks' ids, as the grader recorded them
    assert "1 student, 1 notebook" in page
