"""Chapter 09: the benchmark rows for conv2d and max pooling run and report ratios (speed is judged by the report)."""

from __future__ import annotations

from dlcore.tools.benchmarks import conv, modules


def test_conv_rows_are_discovered_and_report_ratios():
    assert conv in modules()
    rows = conv.run(1)
    assert [row.budget for row in rows] == ["<= 3.0x", "<= 2.5x", "<= 1.2x"]
    for row in rows:
        assert row.measured.endswith("x") and float(row.measured[:-1]) > 0
        assert "NumPy" in row.what and "fp32" in row.what
