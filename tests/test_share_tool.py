"""dlcore.tools.share counts the code a learner writes: solution regions, no blanks, no comments."""

import nbformat

from dlcore.tools import share
from dlcore.tools.notebooks import write_notebook


def test_counts_code_lines_inside_solution_regions_only(tmp_path, capsys):
    exercise = ("# Exercise 9.3\ndef f(x):\n    y = 1  # outside: not the learner's\n    ### BEGIN SOLUTION\n"
                "    # a comment\n\n    z = x + y\n    return z\n    ### END SOLUTION\n")
    build = "# Exercise 9.4\ndef g(x):\n    ### BEGIN SOLUTION\n" + "    x = x + 1\n" * 15 + "    ### END SOLUTION\n"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("### BEGIN SOLUTION\nwords\n### END SOLUTION"),
                                         nbformat.v4.new_code_cell(exercise), nbformat.v4.new_code_cell(build)])
    path = tmp_path / "09_demo.ipynb"
    write_notebook(nb, path)
    shares = share.exercise_shares(path)
    assert [(s.label, s.lines, s.is_build) for s in shares] == [("9.3", 2, False), ("9.4", 15, True)]
    assert share.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "09_demo" in out and "9.4 (15)" in out and "course" in out
