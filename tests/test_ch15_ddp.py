"""Chapter 15: the DDP script, launched the standard way with two gloo processes on loopback.

Slow by nature (three Python processes import PyTorch), so it has its file to itself.
"""

from __future__ import annotations

from dlcore.practice.ddp import launch, launch_command


def test_the_launch_line_is_the_standard_one():
    command = launch_command(2)
    assert command[1:6] == ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m"]
    assert command[6] == "dlcore.practice.ddp"


def test_ddp_script_averages_to_the_combined_batch_gradient():
    result = launch(2)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "world size 2, 16 examples per process, combined batch 32, backend gloo" in result.stdout
    assert "DDP's averaged gradient equals the combined batch's gradient: True" in result.stdout
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith(("0.", "2.", "4."))]
    assert len(rows) == 6 and all(row[-1] == "1e-12" for row in rows)
    assert all(float(row[-3]) > 1e-3 for row in rows)  # one shard's gradient alone is different: the test can fail
