"""Batch norm (chapter 07): from scratch against PyTorch, training mode, forward + backward."""

from __future__ import annotations

from dlcore.tools.benchmarks.common import Row, ratio_row

BUDGET = 3.0


def run(repeat: int) -> list[Row]:
    import numpy as np
    import torch

    from dlcore.scratch.batchnorm import batchnorm_backward, batchnorm_forward

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 32, 16, 16)).astype(np.float32)  # (N, C, H, W)
    gamma = rng.standard_normal(32).astype(np.float32)
    beta = rng.standard_normal(32).astype(np.float32)
    dout = rng.standard_normal(x.shape).astype(np.float32)

    def ours():
        out, cache = batchnorm_forward(x, gamma, beta)
        batchnorm_backward(dout, cache)

    tx = torch.tensor(x, requires_grad=True)
    tgamma = torch.tensor(gamma, requires_grad=True)
    tbeta = torch.tensor(beta, requires_grad=True)
    tdout = torch.tensor(dout)

    def theirs():
        out = torch.nn.functional.batch_norm(tx, None, None, tgamma, tbeta, training=True)
        out.backward(tdout)
        tx.grad = tgamma.grad = tbeta.grad = None

    return [ratio_row("batch norm fwd+bwd, NumPy / PyTorch (64x32x16x16, fp32)", ours, theirs, BUDGET, repeat)]
