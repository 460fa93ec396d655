"""A from-scratch sequence classifier: a recurrent layer and a linear read-out at every step (chapter 11).

    h_1..h_T = recurrent layer(x_1..x_T);   logits_t = h_t W + b;   L = mean_t,n CE(logits_t, y_t)

Training runs backpropagation through time with the scratch kernels, clips the
total gradient norm (dlcore.scratch.clipping) and steps with the scratch Adam.
"""

from __future__ import annotations

import numpy as np

from dlcore.errors import (ShapeError, as_float_array, expect_generator, expect_positive_int, expect_real,
                           expect_shape, format_shape)
from dlcore.scratch.gru import GRU
from dlcore.scratch.linear import Linear
from dlcore.scratch.losses import softmax_cross_entropy_backward, softmax_cross_entropy_forward
from dlcore.scratch.lstm import LSTM
from dlcore.scratch.module import Module
from dlcore.scratch.optim import Adam
from dlcore.scratch.rnn import RNN
from dlcore.scratch.clipping import clip_grad_norm

__all__ = ["LAYERS", "SequenceClassifier", "train_sequence_classifier", "per_step_accuracy"]

LAYERS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


class SequenceClassifier(Module):
    """(T, N, D) inputs -> (T, N, K) logits: a recurrent layer, then the same Linear(Hh, K) at every step."""

    def __init__(self, kind: str, input_size: int, hidden_size: int, num_classes: int, *,
                 rng: np.random.Generator) -> None:
        super().__init__()
        if not isinstance(kind, str) or kind not in LAYERS:
            raise ValueError(f"SequenceClassifier: kind must be one of {sorted(LAYERS)}, got {kind!r}")
        expect_positive_int("SequenceClassifier", "num_classes", num_classes)
        self.recurrent = LAYERS[kind](input_size, hidden_size, rng=rng)
        self.head = Linear(hidden_size, num_classes, rng=rng)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array("SequenceClassifier", "x", x)
        if x.ndim != 3:
            raise ShapeError(f"SequenceClassifier: x has shape {format_shape(x.shape)} but expected (T, N, D)")
        hidden = self.recurrent.forward(x)  # (T, N, Hh)
        T, N, Hh = hidden.shape
        return self.head.forward(hidden.reshape(T * N, Hh)).reshape(T, N, -1)  # (T*N, K) -> (T, N, K)

    def backward(self, dlogits: np.ndarray) -> np.ndarray:
        if self.head._cache is None:
            raise RuntimeError("SequenceClassifier.backward: call forward first")
        dlogits = as_float_array("SequenceClassifier.backward", "dlogits", dlogits)
        T, N = self.recurrent._cache.x.shape[:2]
        expect_shape("SequenceClassifier.backward", "dlogits", dlogits, (T, N, self.head.W.shape[1]), "(T, N, K)",
                     "the shape of the last forward's logits")
        K = dlogits.shape[2]
        dhidden = self.head.backward(dlogits.reshape(T * N, K))  # (T*N, Hh)
        return self.recurrent.backward(dhidden.reshape(T, N, -1))


def _check_data(func: str, X, y) -> tuple[np.ndarray, np.ndarray]:
    """X (N, T, D) float and y (N, T) integer labels, batch first, or a named error."""
    X = as_float_array(func, "X", X)
    if X.ndim != 3 or 0 in X.shape[:2]:
        raise ShapeError(f"{func}: X has shape {format_shape(X.shape)} but expected (N, T, D) (batch first) with "
                         f"N, T >= 1")
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{func}: y must hold integer class labels, got dtype {y.dtype}")
    expect_shape(func, "y", y, X.shape[:2], "(N, T)", "N, T = X.shape[:2]")
    return X, y


def per_step_accuracy(model: SequenceClassifier, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(T,) accuracy at each step; X (N, T, D) batch first, y (N, T) labels."""
    X, y = _check_data("per_step_accuracy", X, y)
    logits = model.forward(X.transpose(1, 0, 2))  # (N, T, D) -> (T, N, D)
    return (logits.argmax(axis=2) == y.T).mean(axis=1)


def train_sequence_classifier(model: SequenceClassifier, X: np.ndarray, y: np.ndarray, *, num_steps: int = 300,
                              batch_size: int = 32, learning_rate: float = 0.01, max_norm: float | None = 1.0,
                              rng: np.random.Generator) -> dict[str, list[float]]:
    """Minibatch Adam on per-step cross-entropy; X (N, T, D) batch first, y (N, T) int labels.

    Returns:
        {"loss": per step, "grad_norm": the total gradient norm before clipping, per step}.
    """
    func = "train_sequence_classifier"
    X, y = _check_data(func, X, y)
    num_steps = expect_positive_int(func, "num_steps", num_steps)
    batch_size = expect_positive_int(func, "batch_size", batch_size)
    if batch_size > len(X):
        raise ValueError(f"{func}: batch_size = {batch_size} is more than the N = {len(X)} sequences in X "
                         f"(batches are drawn without replacement)")
    expect_real(func, "learning_rate", learning_rate, positive=True)
    if max_norm is not None:
        expect_real(func, "max_norm", max_norm, minimum=0.0)  # 0 or None: no clipping
    expect_generator(func, rng)
    optimizer = Adam(model.parameters(), lr=learning_rate)
    history = {"loss": [], "grad_norm": []}
    for _ in range(num_steps):
        batch = rng.choice(len(X), size=batch_size, replace=False)
        xb, yb = X[batch].transpose(1, 0, 2), y[batch].T  # (T, B, D) and (T, B): time first
        logits = model.forward(xb)
        T, B, K = logits.shape
        loss, cache = softmax_cross_entropy_forward(logits.reshape(T * B, K), yb.reshape(T * B))
        optimizer.zero_grad()
        model.backward(softmax_cross_entropy_backward(cache).reshape(T, B, K))
        norm = clip_grad_norm(model.parameters(), max_norm) if max_norm else float("nan")
        optimizer.step()
        history["loss"].append(float(loss))
        history["grad_norm"].append(float(norm))
    return history
