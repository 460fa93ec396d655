"""dlcore.results: the sweeps' JSON files keep their layout byte for byte."""

import pytest

from dlcore.results import read_results, write_results

RESULTS = {"made_by": "python -m some.sweep", "runs": {"0": [0.5, 0.25]}, "seconds": 3}


@pytest.mark.parametrize("layout, text", [
    (dict(compact=True), '{"made_by":"python -m some.sweep","runs":{"0":[0.5,0.25]},"seconds":3}\n'),
    (dict(), '{"made_by": "python -m some.sweep", "runs": {"0": [0.5, 0.25]}, "seconds": 3}\n'),
    (dict(indent=1), '{\n "made_by": "python -m some.sweep",\n "runs": {\n  "0": [\n   0.5,\n   0.25\n  ]\n },\n'
                     ' "seconds": 3\n}\n'),
])
def test_each_layout_is_written_exactly_and_read_back(tmp_path, layout, text):
    path = write_results(RESULTS, tmp_path / "new folder" / "sweep.json", **layout)
    assert path == tmp_path / "new folder" / "sweep.json"
    assert path.read_text(encoding="utf-8") == text
    assert read_results(path) == RESULTS
    write_results(read_results(path), path, **layout)  # rebuilding an unchanged file changes no byte
    assert path.read_text(encoding="utf-8") == text


def test_compact_and_indent_together_are_refused(tmp_path):
    with pytest.raises(ValueError, match="indent"):
        write_results(RESULTS, tmp_path / "sweep.json", indent=1, compact=True)
    assert not (tmp_path / "sweep.json").exists()
