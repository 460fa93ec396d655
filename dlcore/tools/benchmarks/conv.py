"""Convolution and pooling (chapter 09): from scratch against PyTorch, fp32, same inputs.

The shapes are those of a small CNN's middle layers: a batch of 32, 3x3
kernels with padding 1, 2x2 max pooling. PyTorch runs on 2 threads, and so
does NumPy's BLAS (``seed_everything`` and the benchmark runner fix both).
"""

from __future__ import annotations

from dlcore.tools.benchmarks.common import Row, ratio_row

CONV_FORWARD_BUDGET = 3.0
CONV_FORWARD_BACKWARD_BUDGET = 2.5
MAXPOOL_BUDGET = 1.2

CONV_SHAPE = (32, 32, 16, 16)  # (N, C, H, W)
CONV_FILTERS = 64  # F, 3x3 kernels, padding 1
POOL_SHAPE = (32, 32, 32, 32)  # (N, C, H, W)


def _conv_rows(repeat: int) -> list[Row]:
    import numpy as np
    import torch
    import torch.nn.functional as F

    from dlcore.scratch.conv import conv2d_backward, conv2d_forward

    rng = np.random.default_rng(0)
    x = rng.standard_normal(CONV_SHAPE).astype(np.float32)
    w = (rng.standard_normal((CONV_FILTERS, CONV_SHAPE[1], 3, 3)) * 0.1).astype(np.float32)
    b = rng.standard_normal(CONV_FILTERS).astype(np.float32)
    dout = rng.standard_normal((CONV_SHAPE[0], CONV_FILTERS) + CONV_SHAPE[2:]).astype(np.float32)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tdout = torch.tensor(dout)

    def ours_forward():
        conv2d_forward(x, w, b, padding=1)

    def theirs_forward():
        with torch.no_grad():
            F.conv2d(tx, tw, tb, padding=1)

    def ours_both():
        out, cache = conv2d_forward(x, w, b, padding=1)
        conv2d_backward(dout, cache)

    def theirs_both():
        F.conv2d(tx, tw, tb, padding=1).backward(tdout)
        tx.grad = tw.grad = tb.grad = None

    label = "x".join(map(str, CONV_SHAPE)) + f", {CONV_FILTERS} 3x3 filters, fp32"
    return [
        ratio_row(f"conv2d fwd, NumPy im2col / PyTorch ({label})", ours_forward, theirs_forward,
                  CONV_FORWARD_BUDGET, repeat),
        ratio_row(f"conv2d fwd+bwd, NumPy im2col / PyTorch ({label})", ours_both, theirs_both,
                  CONV_FORWARD_BACKWARD_BUDGET, repeat),
    ]


def _pool_row(repeat: int) -> Row:
    import numpy as np
    import torch
    import torch.nn.functional as F

    from dlcore.scratch.pooling import maxpool2d_backward, maxpool2d_forward

    rng = np.random.default_rng(1)
    x = rng.standard_normal(POOL_SHAPE).astype(np.float32)
    N, C, H, W = POOL_SHAPE
    dout = rng.standard_normal((N, C, H // 2, W // 2)).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    tdout = torch.tensor(dout)

    def ours():
        out, cache = maxpool2d_forward(x, 2)
        maxpool2d_backward(dout, cache)

    def theirs():
        F.max_pool2d(tx, 2).backward(tdout)
        tx.grad = None

    label = "x".join(map(str, POOL_SHAPE)) + ", fp32"
    return ratio_row(f"2x2 max-pool fwd+bwd, NumPy / PyTorch ({label})", ours, theirs, MAXPOOL_BUDGET, repeat)


def run(repeat: int) -> list[Row]:
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(2)
    with threadpool_limits(2):  # NumPy's BLAS on as many threads as PyTorch
        return _conv_rows(repeat) + [_pool_row(repeat)]
