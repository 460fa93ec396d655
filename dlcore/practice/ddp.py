"""Data-parallel training with DistributedDataParallel: averaged gradients = the big batch's gradient (chapter 15).

Run it the standard way, from the repository or anywhere dlcore is installed:

    python -m torch.distributed.run --standalone --nproc_per_node=2 -m dlcore.practice.ddp

``torch.distributed.run`` (the ``torchrun`` command) starts one process per
``nproc_per_node`` and gives each its RANK, WORLD_SIZE, LOCAL_RANK and the
address of a rendezvous (``--standalone``: a free port on this machine). Each
process holds a full copy of the model and a different shard of the batch;
during ``backward`` DDP all-reduces (sums, then divides by the world size) every
gradient, so all copies take the same step. On GPUs the same script runs with
``backend="nccl"`` and one device per process; on several machines, launch it on
each with ``--nnodes=M --node_rank=i --rdzv_endpoint=host:port`` instead of
``--standalone``.

The script checks that claim on a fixed random batch of 64-pixel inputs: rank 0
also computes, in the ordinary single-process way, the gradient of the mean
loss over the *combined* batch, and compares. Everything is float64 so the
comparison is at round-off level.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


__all__ = ["main", "launch_command", "launch"]


def _combined_batch(batch_size: int, world_size: int, seed: int):
    """The same (world_size * B, 64) float64 inputs and (world_size * B,) labels in every process (from ``seed``)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    n = batch_size * world_size
    return torch.rand(n, 64, generator=generator, dtype=torch.float64), torch.randint(0, 10, (n,), generator=generator)


def _gradients(model) -> list:
    return [p.grad.detach().clone() for p in model.parameters()]


def main(argv: list[str] | None = None) -> None:
    import torch
    import torch.distributed as dist
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel

    from dlcore.practice.common import make_mlp

    parser = argparse.ArgumentParser(description="DDP gradients vs the single-process gradient of the combined batch")
    parser.add_argument("--batch-size", type=int, default=16, help="examples per process")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    use_cuda = torch.cuda.is_available()
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")  # reads RANK, WORLD_SIZE, MASTER_ADDR/PORT
    rank, world_size = dist.get_rank(), dist.get_world_size()
    device = torch.device(f"cuda:{rank % torch.cuda.device_count()}") if use_cuda else torch.device("cpu")
    x, y = _combined_batch(args.batch_size, world_size, args.seed)
    shard = slice(rank * args.batch_size, (rank + 1) * args.batch_size)  # this process's part of the batch
    model = make_mlp(seed=args.seed).double().to(device)  # the same seed: identical copies
    ddp_model = DistributedDataParallel(model, device_ids=[device.index] if use_cuda else None)
    nn.functional.cross_entropy(ddp_model(x[shard].to(device)), y[shard].to(device)).backward()
    averaged = _gradients(model)  # after backward: all-reduced and divided by world_size
    local = torch.autograd.grad(nn.functional.cross_entropy(model(x[shard].to(device)), y[shard].to(device)),
                                list(model.parameters()))  # this shard alone, without communication
    if rank == 0:
        reference = make_mlp(seed=args.seed).double().to(device)
        nn.functional.cross_entropy(reference(x.to(device)), y.to(device)).backward()
        print(f"world size {world_size}, {args.batch_size} examples per process, combined batch "
              f"{args.batch_size * world_size}, backend {dist.get_backend()}")
        print("parameter  shape      |rank-0 shard grad - combined|  |DDP grad - combined|")
        for (name, parameter), ours, own, single in zip(reference.named_parameters(), averaged, local,
                                                       _gradients(reference)):
            own_gap = float((own - single).abs().max())
            gap = float((ours - single).abs().max())
            print(f"{name:<10} {str(tuple(parameter.shape)):<10} {own_gap:>29.4f}  "
                  f"{'< 1e-12' if gap < 1e-12 else f'{gap:.1e}'}")
        equal = all(torch.allclose(a, b, rtol=0, atol=1e-12) for a, b in zip(averaged, _gradients(reference)))
        print(f"DDP's averaged gradient equals the combined batch's gradient: {equal}")
    dist.barrier()
    dist.destroy_process_group()


def launch_command(nproc: int = 2, *args: str) -> list[str]:
    """The standard launch line: ``python -m torch.distributed.run --standalone --nproc_per_node=N -m ...``."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
            "-m", "dlcore.practice.ddp", *args]


def launch(nproc: int = 2, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    """Run :func:`launch_command` and return the finished process (its stdout is rank 0's report)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(launch_command(nproc, *args), capture_output=True, text=True, timeout=timeout, env=env)


if __name__ == "__main__":
    main()
