"""PyTorch recurrent models for chapter 11: a character-level language model and a sequence regressor.

- :class:`CharLM`: embedding -> nn.LSTM / nn.GRU / nn.RNN -> linear, predicting the next character;
  :func:`train_char_lm` trains it on a text, :func:`sample_text` samples from it with a seeded generator.
- :class:`SequenceRegressor`: a recurrent layer whose final state is read by a linear layer
  (the adding problem); :func:`train_regressor` trains it.

Both use PyTorch's default layout (T, N, ...) internally: time first.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dlcore.data.sequences import build_vocabulary, encode, make_char_windows
from dlcore.errors import check_float_dtype

__all__ = ["RECURRENT", "CharLM", "train_char_lm", "sample_text", "SequenceRegressor", "train_regressor"]

RECURRENT = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class CharLM(nn.Module):
    """Next-character model: (T, N) character ids -> (T, N, V) logits, and the final recurrent state."""

    def __init__(self, vocab_size: int, kind: str = "lstm", embedding_dim: int = 16, hidden_size: int = 64) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.recurrent = RECURRENT[kind](embedding_dim, hidden_size)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids: torch.Tensor, state=None):
        out, state = self.recurrent(self.embedding(ids), state)  # (T, N, E) -> (T, N, Hh)
        return self.head(out), state


def train_char_lm(text: str, *, kind: str = "lstm", hidden_size: int = 64, seq_len: int = 32, batch_size: int = 32,
                  num_steps: int = 300, learning_rate: float = 0.01, max_norm: float = 1.0, seed: int = 0):
    """Train a CharLM on random windows of ``text`` (float64, so results do not depend on the CPU's kernels).

    Returns:
        (model, vocabulary, losses) with the training cross-entropy (nats per character) at every step.
    """
    torch.manual_seed(seed)
    vocabulary = build_vocabulary(text)
    ids = encode(text, vocabulary)
    model = CharLM(len(vocabulary), kind, hidden_size=hidden_size).double()
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(num_steps):
        x, y = make_char_windows(ids, seq_len, batch_size, seed=rng)  # (N, T) each
        logits, _ = model(torch.from_numpy(x.T.copy()))  # (T, N) time first -> (T, N, V)
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(vocabulary)), torch.from_numpy(y.T.reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        losses.append(loss.item())
    return model, vocabulary, losses


@torch.no_grad()
def sample_text(model: CharLM, vocabulary: str, prompt: str, length: int, *, temperature: float = 0.5,
                seed: int = 0) -> str:
    """Feed ``prompt``, then draw ``length`` characters one at a time from softmax(logits / temperature).

    The state is carried from character to character (within one sequence, which is right);
    the draws come from a torch.Generator seeded with ``seed``, so the text is reproducible.
    Temperature 0 means greedy: always the most likely character.
    """
    generator = torch.Generator().manual_seed(seed)
    ids = torch.from_numpy(encode(prompt, vocabulary)).view(-1, 1)  # (T, N) = (len(prompt), 1)
    logits, state = model(ids)
    chars = []
    for _ in range(length):
        last = logits[-1, 0]  # (V,) scores for the next character
        if temperature == 0:
            next_id = int(last.argmax())
        else:
            next_id = int(torch.multinomial(torch.softmax(last / temperature, dim=0), 1, generator=generator))
        chars.append(vocabulary[next_id])
        logits, state = model(torch.tensor([[next_id]]), state)
    return prompt + "".join(chars)


class SequenceRegressor(nn.Module):
    """(T, N, D) -> (N,): a recurrent layer and a linear read-out of its final hidden state.

    ``seed`` fixes the initial weights without touching the global random state; they are drawn in
    float64 whatever ``dtype`` is, then converted, so that they do not depend on the CPU's instruction
    set. ``dtype`` is torch.float32 (the default) or torch.float64.
    """

    def __init__(self, kind: str, input_size: int, hidden_size: int = 32, *, seed: int = 0,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        if kind not in RECURRENT:
            raise ValueError(f"SequenceRegressor: kind must be one of {sorted(RECURRENT)}, got {kind!r}")
        check_float_dtype("SequenceRegressor", dtype)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.recurrent = RECURRENT[kind](input_size, hidden_size, dtype=torch.float64)
            self.head = nn.Linear(hidden_size, 1, dtype=torch.float64)
        self.to(dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.recurrent(x)  # (T, N, Hh)
        return self.head(out[-1]).squeeze(-1)  # the last step: (N, Hh) -> (N,)


def train_regressor(kind: str, X: np.ndarray, y: np.ndarray, *, hidden_size: int = 32, num_steps: int = 300,
                    batch_size: int = 64, learning_rate: float = 0.01, max_norm: float = 1.0, seed: int = 0,
                    dtype: torch.dtype = torch.float32):
    """Adam on mean squared error; X (N, T, D) batch first, y (N,). Returns (model, losses per step).

    ``seed`` fixes the initial weights and the order of the mini-batches; neither reads the global random state.
    """
    model = SequenceRegressor(kind, X.shape[2], hidden_size, seed=seed, dtype=dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    inputs = torch.tensor(X.transpose(1, 0, 2), dtype=dtype)  # (N, T, D) -> (T, N, D)
    targets = torch.tensor(y, dtype=dtype)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(num_steps):
        batch = torch.from_numpy(rng.choice(len(X), size=batch_size, replace=False))
        loss = nn.functional.mse_loss(model(inputs[:, batch]), targets[batch])
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        losses.append(loss.item())
    return model, losses
