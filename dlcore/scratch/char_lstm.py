"""A character-level language model from scratch, on any LSTM cell you hand it (chapter 11).

    ids (T, N) -> embedding (T, N, E) -> LSTM cell, step by step -> h (T, N, Hh) -> linear -> logits (T, N, V)
    L = mean over positions of cross-entropy(logits_t, next character)

The LSTM is unrolled in Python with a *cell*: ``cell_forward(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh) ->
(h, c, cache)`` and ``cell_backward(dh, dc, cache) -> (dx_t, dh_prev, dc_prev, dW_ih, dW_hh, db_ih, db_hh)``,
with nn.LSTMCell's layout (gate blocks i, f, g, o). Chapter 11 passes the learner's own cell (exercises
11.6 and 11.8), or dlcore's :func:`~dlcore.scratch.lstm.lstm_cell_forward` / ``lstm_cell_backward``.
Backpropagation through time adds every step's weight gradients; the total gradient norm is clipped
(:func:`~dlcore.scratch.clipping.clip_grad_norm`) before each Adam step. Everything is float64, so the
numbers do not depend on the CPU's vector instructions.

Public API: ``CharLSTM(vocab_size, embedding_dim, hidden_size, rng=...)``,
``train_char_lstm(text, cell_forward, cell_backward, ...) -> (model, vocabulary, losses)``,
``char_lstm_loss(model, vocabulary, text, cell_forward) -> nats per character`` and
``sample_char_lstm(model, vocabulary, prompt, length, cell_forward, ...) -> str``.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlcore.data.sequences import build_vocabulary, encode, make_char_windows
from dlcore.errors import ShapeError, expect_nonnegative_int, expect_positive_int, expect_real, format_shape
from dlcore.scratch.embedding import Embedding
from dlcore.scratch.linear import Linear
from dlcore.scratch.losses import softmax_cross_entropy_backward, softmax_cross_entropy_forward
from dlcore.scratch.module import Module, Parameter
from dlcore.scratch.optim import Adam
from dlcore.scratch.rnn import PARAMETER_NAMES, init_recurrent_weights
from dlcore.scratch.clipping import clip_grad_norm

__all__ = ["CharLSTM", "train_char_lstm", "char_lstm_loss", "sample_char_lstm"]

CellForward = Callable[..., tuple[np.ndarray, np.ndarray, Any]]
CellBackward = Callable[..., tuple[np.ndarray, ...]]
State = tuple[np.ndarray, np.ndarray]  # (h, c), each (N, Hh)


class CharLSTM(Module):
    """Embedding (V, E), one LSTM layer (nn.LSTM's parameter names and init) and a linear read-out (Hh -> V)."""

    def __init__(self, vocab_size: int, embedding_dim: int = 16, hidden_size: int = 64, *,
                 rng: np.random.Generator) -> None:
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("embedding_dim", embedding_dim), ("hidden_size", hidden_size)):
            expect_positive_int("CharLSTM", name, value)
        self.hidden_size = int(hidden_size)
        self.embedding = Embedding(vocab_size, embedding_dim, rng=rng)
        for key, value in init_recurrent_weights(embedding_dim, hidden_size, 4, rng).items():
            setattr(self, key, Parameter(value, key))
        self.head = Linear(hidden_size, vocab_size, rng=rng)

    def weights(self) -> tuple[np.ndarray, ...]:
        """(W_ih, W_hh, b_ih, b_hh), as a cell takes them."""
        return tuple(getattr(self, key).value for key in PARAMETER_NAMES)

    def run(self, ids: np.ndarray, cell_forward: CellForward,
            state: State | None = None) -> tuple[np.ndarray, State, list[Any]]:
        """Logits (T, N, V) for character ids (T, N), the final (h, c), and the per-step caches."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or ids.shape[0] == 0:
            raise ShapeError(f"CharLSTM.run: ids has shape {format_shape(ids.shape)} but expected (T, N) with T >= 1 "
                             f"(time first)")
        _check_cell("CharLSTM.run", "cell_forward", cell_forward)
        T, N = ids.shape
        h, c = state if state is not None else (np.zeros((N, self.hidden_size)), np.zeros((N, self.hidden_size)))
        inputs = self.embedding.forward(ids)  # (T, N, E)
        hidden, caches = [], []
        for t in range(T):
            h, c, cache = cell_forward(inputs[t], h, c, *self.weights())
            hidden.append(h)
            caches.append(cache)
        logits = self.head.forward(np.concatenate(hidden))  # (T*N, Hh) -> (T*N, V)
        return logits.reshape(T, N, -1), (h, c), caches

    def backward(self, dlogits: np.ndarray, caches: list[Any], cell_backward: CellBackward) -> None:
        """Backpropagation through time from dL/dlogits (T, N, V); accumulates every parameter's gradient."""
        T, N, V = dlogits.shape
        dhidden = self.head.backward(dlogits.reshape(T * N, V)).reshape(T, N, -1)  # (T, N, Hh)
        dinputs = []
        dh = dc = np.zeros((N, self.hidden_size))
        for t in range(T - 1, -1, -1):
            dx_t, dh, dc, *grads = cell_backward(dh + dhidden[t], dc, caches[t])
            for key, grad in zip(PARAMETER_NAMES, grads):
                getattr(self, key).accumulate(grad)  # the same weights at every step: gradients add up
            dinputs.append(dx_t)
        self.embedding.backward(np.stack(dinputs[::-1]))  # (T, N, E), back in time order


def _check_cell(func: str, name: str, cell) -> None:
    if not callable(cell):
        raise TypeError(f"{func}: {name} must be a function (e.g. lstm_{name}), got "
                        f"{type(cell).__name__}")


def _check_text(func: str, name: str, text, minimum: int) -> None:
    if not isinstance(text, str) or len(text) < minimum:
        raise ValueError(f"{func}: {name} must be a str of at least {minimum} characters, got "
                         f"{type(text).__name__} of length {len(text) if isinstance(text, str) else '?'}")


def _check_vocabulary(func: str, model, vocabulary, text: str, text_name: str) -> None:
    if not isinstance(model, CharLSTM):
        raise TypeError(f"{func}: model must be a CharLSTM, got {type(model).__name__}")
    V = model.embedding.weight.shape[0]
    if not isinstance(vocabulary, str) or len(vocabulary) != V:
        raise ValueError(f"{func}: vocabulary must be the str of the model's V = {V} characters (as train_char_lstm "
                         f"returns it), got {type(vocabulary).__name__} of length {len(vocabulary)}")
    unknown = sorted(set(text) - set(vocabulary))
    if unknown:
        raise ValueError(f"{func}: {text_name} has characters {''.join(unknown)!r} that are not in the vocabulary")


def train_char_lstm(text: str, cell_forward: CellForward, cell_backward: CellBackward, *, hidden_size: int = 64,
                    embedding_dim: int = 16, seq_len: int = 16, batch_size: int = 32, num_steps: int = 200,
                    learning_rate: float = 0.02, max_norm: float = 1.0, seed: int = 0,
                    vocabulary: str | None = None) -> tuple[CharLSTM, str, list[float]]:
    """Train a CharLSTM on random windows of ``text`` with the given cell; Adam, gradient norm clipped.

    ``vocabulary`` fixes the character set (e.g. :data:`dlcore.data.corpus.CHARACTERS`, so that models
    trained on different slices can be scored on the same held-out text); by default it is the text's own.

    Returns:
        (model, vocabulary, losses): the training cross-entropy (nats per character) at every step.
    """
    func = "train_char_lstm"
    for name, value in (("hidden_size", hidden_size), ("embedding_dim", embedding_dim), ("seq_len", seq_len),
                        ("batch_size", batch_size), ("num_steps", num_steps)):
        expect_positive_int(func, name, value)
    expect_real(func, "learning_rate", learning_rate, positive=True)
    expect_real(func, "max_norm", max_norm, positive=True)
    _check_cell(func, "cell_forward", cell_forward)
    _check_cell(func, "cell_backward", cell_backward)
    _check_text(func, "text", text, seq_len + 1)  # one window of seq_len inputs and the character after it
    rng = np.random.default_rng(expect_nonnegative_int(func, "seed", seed))
    vocabulary = build_vocabulary(text) if vocabulary is None else vocabulary
    if not isinstance(vocabulary, str) or set(text) - set(vocabulary):
        raise ValueError(f"{func}: vocabulary must be a str holding every character of text")
    ids = encode(text, vocabulary)
    model = CharLSTM(len(vocabulary), embedding_dim, hidden_size, rng=rng)
    optimizer = Adam(model.parameters(), lr=learning_rate)
    losses = []
    for _ in range(num_steps):
        x, y = make_char_windows(ids, seq_len, batch_size, seed=rng)  # (N, T) each
        logits, _, caches = model.run(x.T, cell_forward)  # (T, N) time first -> (T, N, V)
        T, N, V = logits.shape
        loss, loss_cache = softmax_cross_entropy_forward(logits.reshape(T * N, V), y.T.reshape(T * N))
        optimizer.zero_grad()
        model.backward(softmax_cross_entropy_backward(loss_cache).reshape(T, N, V), caches, cell_backward)
        clip_grad_norm(model.parameters(), max_norm)
        optimizer.step()
        losses.append(float(loss))
    return model, vocabulary, losses


def char_lstm_loss(model: CharLSTM, vocabulary: str, text: str, cell_forward: CellForward, *,
                   num_streams: int = 64, warmup: int = 16) -> float:
    """Mean cross-entropy (nats per character) of next-character prediction over a whole text.

    The text is cut into ``num_streams`` consecutive pieces read side by side as one batch, each carrying its
    state from character to character; the first ``warmup`` predictions of each piece (made from a nearly
    empty state) are not counted.
    """
    func = "char_lstm_loss"
    num_streams = expect_positive_int(func, "num_streams", num_streams)
    warmup = expect_nonnegative_int(func, "warmup", warmup)
    _check_text(func, "text", text, 2)
    _check_vocabulary(func, model, vocabulary, text, "text")
    ids = encode(text, vocabulary)
    T = (ids.size - 1) // num_streams  # characters per stream
    if T <= warmup:
        raise ValueError(f"char_lstm_loss: the text is too short for {num_streams} streams of more than "
                         f"{warmup} characters")
    inputs = ids[:T * num_streams].reshape(num_streams, T).T  # (T, N): stream n is row n of the cut text
    targets = ids[1:T * num_streams + 1].reshape(num_streams, T).T
    logits, _, _ = model.run(inputs, cell_forward)  # (T, N, V)
    loss, _ = softmax_cross_entropy_forward(logits[warmup:].reshape(-1, logits.shape[2]),
                                            targets[warmup:].reshape(-1))
    return float(loss)


def sample_char_lstm(model: CharLSTM, vocabulary: str, prompt: str, length: int, cell_forward: CellForward, *,
                     temperature: float = 0.5, seed: int = 0) -> str:
    """Feed ``prompt``, then draw ``length`` characters one at a time from softmax(logits / temperature).

    The state is carried from character to character; draws come from ``np.random.default_rng(seed)``.
    Temperature 0 means greedy (always the likeliest character).
    """
    func = "sample_char_lstm"
    length = expect_nonnegative_int(func, "length", length)
    temperature = expect_real(func, "temperature", temperature, minimum=0.0)
    _check_text(func, "prompt", prompt, 1)  # the first prediction needs a character to read
    _check_vocabulary(func, model, vocabulary, prompt, "prompt")
    rng = np.random.default_rng(expect_nonnegative_int(func, "seed", seed))
    logits, state, _ = model.run(encode(prompt, vocabulary).reshape(-1, 1), cell_forward)  # (T, N) = (len, 1)
    chars = []
    for _ in range(length):
        last = logits[-1, 0]  # (V,) scores for the next character
        if temperature == 0:
            next_id = int(np.argmax(last))
        else:
            scaled = last / temperature
            probabilities = np.exp(scaled - scaled.max())
            next_id = int(rng.choice(len(vocabulary), p=probabilities / probabilities.sum()))
        chars.append(vocabulary[next_id])
        logits, state, _ = model.run(np.array([[next_id]]), cell_forward, state)
    return prompt + "".join(chars)
