"""The student-notebook generator: markers, tags, cleaning, byte stability and check mode."""

from __future__ import annotations

import nbformat
import pytest

from dlcore.tools import student
from dlcore.tools.notebooks import notebook_bytes, write_notebook

EXERCISE = '''# Exercise 4.2
def my_sigmoid(x):
    """The logistic function."""
    ### BEGIN SOLUTION
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))
    ### END SOLUTION'''

CHECK = '''from dlcore.exercises import ch04
ch04.check_sigmoid(my_sigmoid)
### BEGIN HIDDEN TESTS
assert my_sigmoid(0) == 0.5
### END HIDDEN TESTS'''


def make_solution():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    exercise = nbformat.v4.new_code_cell(EXERCISE, execution_count=3)
    exercise.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    exercise.metadata["execution"] = {"iopub.execute_input": "2026-01-01"}
    check = nbformat.v4.new_code_cell(CHECK)
    check.metadata["tags"] = ["exercise-check"]
    answer = nbformat.v4.new_markdown_cell("Derivation:\n### BEGIN SOLUTION\n$s' = s(1-s)$\n### END SOLUTION")
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), exercise, check, answer]
    return nb


def test_solution_region_becomes_a_labelled_raise_at_the_right_indentation():
    nb = student.studentize(make_solution(), "04_x.ipynb")
    source = nb.cells[2].source
    assert source == (
        '# Exercise 4.2\ndef my_sigmoid(x):\n    """The logistic function."""\n'
        '    raise NotImplementedError("Exercise 4.2: replace this line with your code")'
    )
    compile(source, "cell", "exec")  # still valid Python


def test_outputs_counts_and_volatile_metadata_are_cleared():
    nb = student.studentize(make_solution(), "04_x.ipynb")
    exercise = nb.cells[2]
    assert exercise.outputs == [] and exercise.execution_count is None
    assert "execution" not in exercise.metadata
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_hidden_tests_removed_and_check_cells_tagged():
    check = student.studentize(make_solution(), "04_x.ipynb").cells[3]
    assert "HIDDEN" not in check.source and "assert my_sigmoid" not in check.source
    assert check.metadata["tags"] == ["exercise-check", "raises-exception"]


def test_markdown_answers_are_replaced_and_a_note_is_added():
    nb = student.studentize(make_solution(), "04_x.ipynb")
    assert nb.cells[4].source == "Derivation:\n*Write your answer here.*"
    assert "solutions/04_x.ipynb" in nb.cells[0].source


def test_solution_is_not_modified():
    solution = make_solution()
    before = notebook_bytes(solution)
    student.studentize(solution)
    assert notebook_bytes(solution) == before


@pytest.mark.parametrize("source, message", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", "must start with a line '# Exercise NN.k'"),
    ("# Exercise 1.1\n### BEGIN SOLUTION\nx = 1", "is never closed"),
    ("# Exercise 1.1\nx = 1\n### END SOLUTION", "without a matching ### BEGIN SOLUTION"),
    ("# Exercise 1.1\n### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
])
def test_malformed_markers_name_the_cell(source, message):
    nb = make_solution()
    nb.cells.append(nbformat.v4.new_code_cell(source))
    with pytest.raises(student.MarkerError, match=message) as info:
        student.studentize(nb, "04_x.ipynb")
    assert "04_x.ipynb, cell 4" in str(info.value)


def test_generate_then_check_detects_drift_missing_and_stray(tmp_path, capsys):
    solutions, chapters = tmp_path / "solutions", tmp_path / "chapters"
    solutions.mkdir()
    write_notebook(make_solution(), solutions / "04_x.ipynb")
    assert student.main([str(solutions), str(chapters)]) == 0
    first = (chapters / "04_x.ipynb").read_bytes()
    assert student.main([str(solutions), str(chapters)]) == 0
    assert (chapters / "04_x.ipynb").read_bytes() == first  # byte-stable
    assert student.main([str(solutions), str(chapters), "--check"]) == 0

    (chapters / "04_x.ipynb").write_bytes(first.replace(b"Title", b"Edited"))
    assert student.main([str(solutions), str(chapters), "--check"]) == 1
    assert "differs from what" in capsys.readouterr().err

    (chapters / "04_x.ipynb").unlink()
    (chapters / "99_orphan.ipynb").write_bytes(first)
    assert student.main([str(solutions), str(chapters), "--check"]) == 1
    err = capsys.readouterr().err
    assert "04_x.ipynb is missing" in err and "99_orphan.ipynb has no solution notebook" in err


def test_stream_outputs_split_by_timing_are_stored_as_one():
    import nbformat

    from dlcore.tools.notebooks import coalesce_streams

    cell = nbformat.v4.new_code_cell("print('a'); print('b')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="a\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="b\n"),
                    nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
                    nbformat.v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=1),
                    nbformat.v4.new_output("stream", name="stdout", text="c\n")]
    nb = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_markdown_cell("text")])
    coalesce_streams(nb)
    assert [(o.output_type, o.get("name"), o.get("text")) for o in cell.outputs] == [
        ("stream", "stdout", "a\nb\n"), ("stream", "stderr", "warning\n"), ("execute_result", None, None),
        ("stream", "stdout", "c\n")]
