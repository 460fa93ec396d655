"""Article 001, section 4.3: a Keras regression network trained with a GradientTape, in PyTorch (chapter 08).

The article's listing, in short (California housing, which scikit-learn
downloads on first use; the course is offline, so it uses scikit-learn's
bundled diabetes set instead, see :func:`load_article_split`)::

    X_train, Y_train = data[:0.8 m], target[:0.8 m]     # no shuffling, no feature scaling
    model = Sequential([Dense(64, relu, name="first"), Dense(64, relu, name="second"),
                        Dense(1, name="output")])
    optimizer = Adam(lr=0.01)                              # 'lr': renamed learning_rate in Keras
    mse_metric = MeanSquaredError()                       # (c) never reset: a running mean over all epochs

    @tf.function
    def train_step(model, optimizer, batch):
        with GradientTape() as tape:
            loss = reduce_mean(square(model(x) - y))
        grads = tape.gradient(loss, model.weights[0:4])   # (a) first.kernel, first.bias, second.kernel,
        optimizer.apply_gradients(zip(grads, model.weights[0:4]))  #  second.bias: never the output layer
        mse_metric.update_state(y, predictions)
        return mse_metric.result().numpy(), loss.numpy()  # (b) .numpy() does not exist inside tf.function

    for epoch in range(100):
        for batch in train_dataset:
            mse, loss = train_step(model, optimizer, batch)
            avg_loss += loss / m                          # (d) m = all rows, not the number of batches; unused
        if mse_metric.result() < best_mse: best_weights = ...   # (e) chosen on the training metric; test set unused

Bug (a) is the one that changes the result: ``model.weights`` lists the
kernel and bias of every layer in order, so indices 0-3 are the two hidden
layers and the output layer's kernel and bias (indices 4 and 5) keep their
random initial values for the whole run. The network still learns, by
bending its hidden layers around a frozen random read-out, but worse.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = ["TARGET_SCALE", "RegressionData", "RegressionRun", "RunningMSE", "load_article_split", "article_model",
           "article_variables", "train_step_as_given", "train_step_fixed", "fit_article", "mse"]

TARGET_SCALE = 100.0  # diabetes targets (25..346) divided by 100: the size of California's (0.15..5, in $100k)


@dataclass(frozen=True)
class RegressionData:
    """Float32 tensors: x_train (N, D), y_train (N, 1), x_test, y_test."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def load_article_split(*, shuffle: bool = False, standardize: bool = False, seed: int = 0) -> RegressionData:
    """scikit-learn's diabetes set (bundled: no download), split as the article: the first 80% rows train.

    Args:
        shuffle: shuffle the rows before splitting (the article does not).
        standardize: z-score the features with the *training* means and stds (the article does not;
            scikit-learn's diabetes features come centred with unit norm per column, std ~0.048).
        seed: for the shuffle.

    Returns:
        RegressionData with targets divided by :data:`TARGET_SCALE`.
    """
    from dlcore.data import load_diabetes

    X, y = load_diabetes()  # (442, 10), (442,)
    if shuffle:
        order = np.random.default_rng(seed).permutation(len(X))
        X, y = X[order], y[order]
    m = X.shape[0]
    split = int(m * 0.8)
    y = (y / TARGET_SCALE).reshape(-1, 1)  # (N,) -> (N, 1), as the article's reshape((-1, 1))
    x_train, x_test = X[:split], X[split:]
    if standardize:
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    x_train, y_train, x_test, y_test = (torch.tensor(a, dtype=torch.float32)  # float32, as Keras trains
                                        for a in (x_train, y[:split], x_test, y[split:]))
    return RegressionData(x_train, y_train, x_test, y_test)


def article_model(n_inputs: int, seed: int = 0) -> nn.Sequential:
    """Dense(64, relu) "first", Dense(64, relu) "second", Dense(1) "output", with PyTorch's default init."""
    torch.manual_seed(seed)
    return nn.Sequential(OrderedDict([
        ("first", nn.Linear(n_inputs, 64)), ("relu1", nn.ReLU()),
        ("second", nn.Linear(64, 64)), ("relu2", nn.ReLU()),
        ("output", nn.Linear(64, 1)),
    ]))


def article_variables(model: nn.Sequential) -> list[torch.Tensor]:
    """``model.weights[0:4]`` in Keras' order: first kernel, first bias, second kernel, second bias."""
    return list(model.parameters())[:4]


def mse(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean squared error of ``model`` on (x, y), in evaluation mode, without building a graph."""
    model.eval()
    with torch.no_grad():
        return float(torch.mean((model(x) - y) ** 2))


class RunningMSE:
    """Keras' MeanSquaredError metric: a running mean over every example seen since the last reset."""

    def __init__(self) -> None:
        self.total, self.count = 0.0, 0

    def update_state(self, y: torch.Tensor, predictions: torch.Tensor) -> None:
        self.total += float(((predictions.detach() - y) ** 2).sum())
        self.count += y.numel()

    def result(self) -> float:
        return self.total / max(self.count, 1)

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0


def train_step_as_given(model, optimizer, x, y, metric: RunningMSE) -> tuple[float, float]:
    """The article's step: gradients for ``model.weights[0:4]`` only, so the output layer never moves."""
    model.train()
    predictions = model(x)
    loss = torch.mean((predictions - y) ** 2)
    variables = article_variables(model)
    grads = torch.autograd.grad(loss, variables)  # tape.gradient(loss, model.weights[0:4])
    for variable, grad in zip(variables, grads):  # apply_gradients(zip(grads, ...)): the others have no grad
        variable.grad = grad
    optimizer.step()
    metric.update_state(y, predictions)
    return metric.result(), float(loss.detach())


def train_step_fixed(model, optimizer, x, y, metric: RunningMSE) -> tuple[float, float]:
    """The usual PyTorch step: zero the gradients, forward, loss, backward for *every* parameter, step."""
    model.train()
    optimizer.zero_grad()
    predictions = model(x)
    loss = torch.mean((predictions - y) ** 2)
    loss.backward()
    optimizer.step()
    metric.update_state(y, predictions)
    return metric.result(), float(loss.detach())


@dataclass(frozen=True)
class RegressionRun:
    """Per epoch: the running metric as the article reports it, the true training and test MSE after the epoch."""

    reported_mse: np.ndarray
    train_mse: np.ndarray
    test_mse: np.ndarray
    output_layer_change: float  # largest |change| of the output layer's weight and bias over the run
    hidden_layer_change: float  # the same for the first layer's weight


def fit_article(data: RegressionData, *, fixed: bool, epochs: int = 100, batch_size: int = 32, lr: float = 0.01,
                seed: int = 0, reset_metric: bool = False) -> RegressionRun:
    """Train the article's network with its step (``fixed=False``) or the corrected one; Adam, shuffled batches."""
    model = article_model(data.x_train.shape[1], seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    step = train_step_fixed if fixed else train_step_as_given
    output_before = [p.detach().clone() for p in model.output.parameters()]
    first_before = model.first.weight.detach().clone()
    generator = torch.Generator().manual_seed(seed)  # tf.data's shuffle, here a full permutation each epoch
    metric, reported, train_mse, test_mse = RunningMSE(), [], [], []
    N = data.x_train.shape[0]
    for _ in range(epochs):
        if reset_metric:
            metric.reset_state()
        order = torch.randperm(N, generator=generator)
        for start in range(0, N, batch_size):
            index = order[start:start + batch_size]
            step(model, optimizer, data.x_train[index], data.y_train[index], metric)
        reported.append(metric.result())
        train_mse.append(mse(model, data.x_train, data.y_train))
        test_mse.append(mse(model, data.x_test, data.y_test))
    output_change = max(float((p.detach() - b).abs().max()) for p, b in zip(model.output.parameters(), output_before))
    first_change = float((model.first.weight.detach() - first_before).abs().max())
    return RegressionRun(np.array(reported), np.array(train_mse), np.array(test_mse), output_change, first_change)
