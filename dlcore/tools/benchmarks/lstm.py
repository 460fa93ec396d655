"""LSTM (chapter 11): the from-scratch layer against nn.LSTM, forward + backward over a sequence, fp32.

Both sides get the same weights and inputs and compute the gradients of every
parameter and of the input. The NumPy side projects the inputs of all T steps
in one matrix product and loops over time only for the recurrent part, as
PyTorch does.
"""

from __future__ import annotations

from dlcore.tools.benchmarks.common import Row, ratio_row

BUDGET = 1.5
T, N, D, HIDDEN = 32, 64, 256, 256  # 32 steps of 64 sequences, 256 units: a realistic small model, large enough that
# the timing measures the arithmetic rather than Python overhead on a busy machine


def run(repeat: int) -> list[Row]:
    import numpy as np
    import torch
    from threadpoolctl import threadpool_limits

    from dlcore.scratch.lstm import lstm_backward, lstm_forward

    torch.set_num_threads(2)
    torch.manual_seed(0)
    module = torch.nn.LSTM(D, HIDDEN)  # float32, batch_first=False: x is (T, N, D) on both sides
    weights = [module.state_dict()[key].numpy().copy()
               for key in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, N, D)).astype(np.float32)
    dout = rng.standard_normal((T, N, HIDDEN)).astype(np.float32)
    zeros = np.zeros((N, HIDDEN), dtype=np.float32)

    def ours():
        out, cache = lstm_forward(x, zeros, zeros, *weights)
        lstm_backward(dout, cache)

    tx = torch.tensor(x, requires_grad=True)
    tdout = torch.tensor(dout)

    def theirs():
        out, _ = module(tx)
        out.backward(tdout)
        tx.grad = None
        module.zero_grad(set_to_none=True)

    with threadpool_limits(2):
        return [ratio_row(f"LSTM fwd+bwd, NumPy / PyTorch (T={T}, N={N}, D=Hh={HIDDEN}, fp32)", ours, theirs,
                          BUDGET, repeat)]
