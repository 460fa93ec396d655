"""A GRU encoder-decoder, with or without attention, for the toy translation tasks (chapter 12).

    encoder:  h_1 .. h_Ts = GRU(embed(x_1 .. x_Ts))            one state per source character
    decoder:  s_t = GRU(embed(y_{t-1}), s_{t-1}),  s_0 = h_Ts   (the encoder's last state)
    no attention:   logits_t = W_o s_t                          everything passes through s_0
    attention:      alpha_t = softmax_j score(s_t, h_j),  c_t = sum_j alpha_tj h_j
                    logits_t = W_o tanh(W_c [s_t; c_t])

The attention is placed after the recurrent step (Luong et al., 2015), with either the
additive score of Bahdanau et al. (2015), v^T tanh(W_q s + W_k h), or the dot score s . h.
Placed there, the decoder's GRU never reads the context, so with teacher forcing it runs
over the whole target in one call: training costs a handful of large operations rather than
a Python loop over time steps, which is what lets the chapter train in seconds.

Teacher forcing: during training the decoder reads the true previous character y_{t-1};
greedy decoding feeds back its own most probable character instead, until <eos>.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from dlcore.data.translation import EOS, PAD, SOS, EncodedPairs, Vocabulary, encode_pairs
from dlcore.errors import check_float_dtype
from dlcore.training.torch_fit import fit

__all__ = ["AdditiveAttention", "DotAttention", "Encoder", "Decoder", "Seq2Seq", "sequence_loss", "train_seq2seq",
           "translate", "exact_match", "accuracy_by_length", "position_accuracy", "train_small_model"]


class AdditiveAttention(nn.Module):
    """score(s, h) = v^T tanh(W_q s + W_k h): queries (N, Tq, Hh), keys (N, Tk, Hh) -> (N, Tq, Tk)."""

    def __init__(self, hidden_size: int, attention_size: int | None = None, *,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        attention_size = attention_size or hidden_size
        self.query = nn.Linear(hidden_size, attention_size, bias=False, dtype=dtype)
        self.key = nn.Linear(hidden_size, attention_size, dtype=dtype)
        self.v = nn.Linear(attention_size, 1, bias=False, dtype=dtype)

    def scores(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        features = torch.tanh(self.query(queries)[:, :, None, :] + self.key(keys)[:, None, :, :])  # (N, Tq, Tk, A)
        return self.v(features).squeeze(-1)  # (N, Tq, Tk)


class DotAttention(nn.Module):
    """score(s, h) = s . h / sqrt(Hh) (scaled, as in the Transformer; Luong's dot score is unscaled)."""

    def scores(self, queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        return queries @ keys.transpose(1, 2) / math.sqrt(keys.shape[-1])  # (N, Tq, Tk)


def attend(attention: nn.Module, queries: torch.Tensor, keys: torch.Tensor,
           key_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Context (N, Tq, Hh) and weights (N, Tq, Tk); key_mask (N, Tk) is True at real (not <pad>) positions."""
    scores = attention.scores(queries, keys).masked_fill(~key_mask[:, None, :], float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # every source has >= 1 real position: no row is all -inf
    return weights @ keys, weights


class Encoder(nn.Module):
    """Embedding + one-layer GRU; <pad> positions are skipped (packed), so h_Ts is the last REAL state."""

    def __init__(self, vocab_size: int, embedding_size: int, hidden_size: int, *,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=PAD, dtype=dtype)
        self.gru = nn.GRU(embedding_size, hidden_size, batch_first=True, dtype=dtype)

    def forward(self, source: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """source (N, Ts) int64, lengths (N,) -> states (N, Ts, Hh) (zeros at <pad>), final (1, N, Hh)."""
        packed = pack_padded_sequence(self.embedding(source), lengths.cpu(), batch_first=True, enforce_sorted=False)
        states, final = self.gru(packed)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=source.shape[1])
        return states, final


class Decoder(nn.Module):
    """Embedding + GRU + (optional) attention over the encoder's states + output layer."""

    def __init__(self, vocab_size: int, embedding_size: int, hidden_size: int, attention: str | None, *,
                 dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=PAD, dtype=dtype)
        self.gru = nn.GRU(embedding_size, hidden_size, batch_first=True, dtype=dtype)
        self.attention = {None: None, "additive": AdditiveAttention, "dot": DotAttention}[attention]
        if self.attention is not None:
            self.attention = self.attention(hidden_size, dtype=dtype) if attention == "additive" else self.attention()
            self.combine = nn.Linear(2 * hidden_size, hidden_size, dtype=dtype)
        self.output = nn.Linear(hidden_size, vocab_size, dtype=dtype)

    def forward(self, inputs: torch.Tensor, hidden: torch.Tensor, encoder_states: torch.Tensor,
                source_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """inputs (N, T) previous characters, hidden (1, N, Hh) -> logits (N, T, V), hidden, weights (N, T, Ts)."""
        states, hidden = self.gru(self.embedding(inputs), hidden)  # (N, T, Hh)
        if self.attention is None:
            return self.output(states), hidden, None
        context, weights = attend(self.attention, states, encoder_states, source_mask)
        features = torch.tanh(self.combine(torch.cat([states, context], dim=-1)))  # (N, T, Hh)
        return self.output(features), hidden, weights


class Seq2Seq(nn.Module):
    """Encoder-decoder. ``attention``: None (the fixed context), "additive" or "dot".

    ``seed`` fixes the initial weights without touching the global random state.
    ``dtype`` (torch.float32, the default, or torch.float64) is the dtype of every parameter, hence
    of every computation; the tokens stay int64. A short training run is sensitive: float32
    rounding, which depends on the CPU's instruction set, changes what it prints (its exact-match
    accuracy by several points), while float64 rounding stays invisible, at about 1.7 times the
    CPU time. The initial weights are drawn in float64 whatever ``dtype`` is, then converted:
    PyTorch's initialisers round differently on different instruction sets (vectorised kernels,
    fused multiply-adds) by one unit in the last place of the dtype they draw in, 1e-7 in float32,
    enough to change a training run; 1e-16 in float64 is not. So a float32 model and its float64
    twin start from the same weights, up to the float32 conversion.

    Raises:
        ValueError: for an unknown ``attention`` or a ``dtype`` other than float32 and float64.
    """

    def __init__(self, source_vocab_size: int, target_vocab_size: int, *, embedding_size: int = 32,
                 hidden_size: int = 64, attention: str | None = "additive", seed: int = 0,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        if attention not in (None, "additive", "dot"):
            raise ValueError(f"Seq2Seq: attention must be None, 'additive' or 'dot', got {attention!r}")
        check_float_dtype("Seq2Seq", dtype)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.encoder = Encoder(source_vocab_size, embedding_size, hidden_size, dtype=torch.float64)
            self.decoder = Decoder(target_vocab_size, embedding_size, hidden_size, attention, dtype=torch.float64)
        self.to(dtype)
        self.attention = attention

    def forward(self, source: torch.Tensor, source_lengths: torch.Tensor,
                target_inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Teacher forcing: target_inputs (N, Tt) = <sos> y_1 .. y_{Tt-1} -> logits (N, Tt, V), weights."""
        states, final = self.encoder(source, source_lengths)
        logits, _, weights = self.decoder(target_inputs, final, states, source != PAD)
        return logits, weights

    @torch.no_grad()
    def greedy_decode(self, source: torch.Tensor, source_lengths: torch.Tensor,
                      max_length: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Feed back the argmax until every row has produced <eos> or max_length steps.

        Returns tokens (N, T) int64 (after <eos>: <pad>) and weights (N, T, Ts) (None without attention).
        """
        if max_length < 1:
            raise ValueError(f"greedy_decode: max_length must be >= 1, got {max_length}")
        states, hidden = self.encoder(source, source_lengths)
        mask = source != PAD
        previous = torch.full((len(source), 1), SOS, dtype=torch.int64)
        tokens, weights = [], []
        finished = torch.zeros(len(source), dtype=torch.bool)
        for _ in range(max_length):
            logits, hidden, step_weights = self.decoder(previous, hidden, states, mask)
            previous = logits.argmax(dim=-1)  # (N, 1)
            tokens.append(previous.masked_fill(finished[:, None], PAD))
            if step_weights is not None:
                weights.append(step_weights)
            finished |= previous[:, 0] == EOS
            if finished.all():
                break
        return torch.cat(tokens, dim=1), (torch.cat(weights, dim=1) if weights else None)


def _tensors(batch: EncodedPairs) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return torch.from_numpy(batch.source), torch.from_numpy(batch.source_lengths), torch.from_numpy(batch.target)


def sequence_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the real (not <pad>) target positions. logits (N, T, V), targets (N, T)."""
    return nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=PAD)


def train_seq2seq(model: Seq2Seq, data: EncodedPairs, *, num_epochs: int = 5, batch_size: int = 64,
                  learning_rate: float = 3e-3, clip: float = 1.0, seed: int = 0) -> list[float]:
    """Adam with teacher forcing and gradient clipping; returns the mean training loss of every epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

    def batch_loss(index: np.ndarray) -> torch.Tensor:
        source, lengths, target = _tensors(data.subset(index))  # trimmed to the batch's longest strings
        logits, _ = model(source, lengths, target[:, :-1])  # read y_0..y_{T-1}, predict y_1..y_T
        return sequence_loss(logits, target[:, 1:])

    history = fit(model, optimizer, batch_loss, len(data), num_epochs=num_epochs, batch_size=batch_size,
                  rng=np.random.default_rng(seed), clip_grad_norm=clip)["loss"]
    model.eval()
    return history


def translate(model: Seq2Seq, texts: Sequence[str], source_vocab: Vocabulary, target_vocab: Vocabulary,
              max_length: int = 30) -> tuple[list[str], list[np.ndarray | None]]:
    """Greedy translations of ``texts`` and, per text, its weights (output length + 1 for <eos>, input length)."""
    data = encode_pairs([(t, "") for t in texts], source_vocab, target_vocab)
    source, lengths, _ = _tensors(data)
    model.eval()
    tokens, weights = model.greedy_decode(source, lengths, max_length)
    outputs, maps = [], []
    for i, text in enumerate(texts):
        decoded = target_vocab.decode(tokens[i].tolist())
        outputs.append(decoded)
        rows = min(len(decoded) + 1, tokens.shape[1])
        maps.append(None if weights is None else weights[i, :rows, :len(text)].double().numpy())
    return outputs, maps


def exact_match(model: Seq2Seq, data: EncodedPairs, max_length: int | None = None) -> np.ndarray:
    """(N,) bool: the greedy output equals the target exactly."""
    source, lengths, target = _tensors(data)
    max_length = max_length or target.shape[1]
    model.eval()
    tokens, _ = model.greedy_decode(source, lengths, max_length)
    vocab = data.target_vocab
    return np.array([vocab.decode(tokens[i].tolist()) == vocab.decode(target[i].tolist()) for i in range(len(data))])


def accuracy_by_length(model: Seq2Seq, data: EncodedPairs) -> dict[int, float]:
    """Exact-match accuracy for every source length present in ``data``."""
    correct = exact_match(model, data)
    return {int(n): float(correct[data.source_lengths == n].mean()) for n in np.unique(data.source_lengths)}


@torch.no_grad()
def position_accuracy(model: Seq2Seq, data: EncodedPairs, *, teacher_forcing: bool) -> np.ndarray:
    """(Tt - 1,) fraction of right characters at each output position (<eos> included, <pad> excluded).

    teacher_forcing=True: each step reads the TRUE previous character (as in training);
    False: greedy decoding, each step reads the model's own previous output (as in use).
    """
    source, lengths, target = _tensors(data)
    wanted = target[:, 1:]  # (N, Tt - 1)
    model.eval()
    if teacher_forcing:
        predicted = model(source, lengths, target[:, :-1])[0].argmax(-1)
    else:
        predicted = model.greedy_decode(source, lengths, wanted.shape[1])[0]
        predicted = nn.functional.pad(predicted, (0, wanted.shape[1] - predicted.shape[1]), value=PAD)
    real = wanted != PAD
    return ((predicted == wanted) & real).sum(0).double().numpy() / np.maximum(real.sum(0).double().numpy(), 1)


def train_small_model(task: str = "reverse", *, num_pairs: int = 2000, num_epochs: int = 4, hidden_size: int = 48,
                      attention: str | None = "additive", seed: int = 0,
                      **task_options) -> tuple[Seq2Seq, EncodedPairs]:
    """A model trained for a second or two of CPU time (the default explorer's model); returns it and its data."""
    from dlcore.data.translation import make_pairs

    if task == "reverse":
        task_options = {"min_length": 3, "max_length": 8, **task_options}
    data = encode_pairs(make_pairs(task, num_pairs, seed=seed, **task_options))
    model = Seq2Seq(len(data.source_vocab), len(data.target_vocab), embedding_size=32, hidden_size=hidden_size,
                    attention=attention, seed=seed)
    train_seq2seq(model, data, num_epochs=num_epochs, batch_size=64, learning_rate=1e-2, seed=seed)
    return model, data
