"""What the playground trains, without any widget: data, the MLP, training steps, the boundary grid (chapter 08).

The MLP (:class:`MLP`, :func:`build_mlp`) is defined with the course's other MLPs in :mod:`dlcore.models.mlp`.

    data = make_playground_data("spirals", noise=0.1)
    session = PlaygroundSession(build_mlp(2, 6, "tanh"), learning_rate=0.03)
    session.set_data(data)
    session.train(num_steps=10, batch_size=10)       # a bounded amount of work
    grid = boundary_grid(session.model, data.extent)  # (60, 60) probabilities of class 1

Any ``nn.Module`` that maps (N, 2) inputs to (N, K) logits can be trained
(K = 1: one logit, binary cross-entropy; K >= 2: softmax cross-entropy); the
data follow the model's dtype and device. Importing this module imports torch.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dlcore.errors import ShapeError
from dlcore.models.mlp import ACTIVATIONS, MLP, build_mlp  # the playground's model, kept importable from here

__all__ = ["DATASETS", "ACTIVATIONS", "EXTENT", "PlaygroundData", "MLP", "build_mlp", "make_playground_data",
           "check_model", "data_loss", "class1_probability", "boundary_grid", "first_layer_maps", "PlaygroundSession"]

DATASETS = ("xor", "moons", "circles", "spirals", "blobs")
_ACTIVATION_TYPES = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.Identity, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Softplus)
EXTENT = 1.6  # every data set lies in about [-1.5, 1.5]^2; the plots show [-EXTENT, EXTENT]^2


@dataclass(frozen=True)
class PlaygroundData:
    """A two-class problem in the plane, split half and half: x (N, 2) float64, y (N,) int64 in {0, 1}."""

    name: str
    noise: float
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    extent: float = EXTENT


def make_playground_data(name: str = "xor", noise: float = 0.0, n_samples: int = 200, seed: int = 0) -> PlaygroundData:
    """One of :data:`DATASETS` from ``dlcore.data``, scaled into about [-1.5, 1.5]^2, with ``noise`` in [0, 0.5]."""
    from dlcore.data import make_blobs, make_circles, make_moons, make_spirals, make_xor, train_test_split

    if name not in DATASETS:
        raise ValueError(f"make_playground_data: name must be one of {DATASETS}, got {name!r}")
    noise = float(np.clip(noise, 0.0, 0.5))  # a slider's extreme values stay meaningful
    if name == "xor":
        X, y = make_xor(n_samples, noise=noise, seed=seed)
        X = 1.4 * X
    elif name == "moons":
        X, y = make_moons(n_samples, noise=noise, seed=seed)
        X = (X - np.array([0.5, 0.25])) * 1.3  # centre the two half circles
    elif name == "circles":
        X, y = make_circles(n_samples, noise=noise, factor=0.5, seed=seed)
        X = 1.4 * X
    elif name == "spirals":
        X, y = make_spirals(n_samples, n_classes=2, noise=noise, turns=1.0, seed=seed)
        X = 1.4 * X
    else:
        X, y = make_blobs(n_samples, centers=np.array([[-0.7, -0.7], [0.7, 0.7]]), spread=0.3 + noise, seed=seed)
    x_train, x_test, y_train, y_test = train_test_split(X, y, test_fraction=0.5, seed=seed + 1)
    return PlaygroundData(name, noise, x_train, y_train, x_test, y_test)


def _placement(model: nn.Module) -> tuple[torch.dtype, torch.device]:
    parameter = next(model.parameters(), None)
    if parameter is None:
        return torch.float32, torch.device("cpu")
    return parameter.dtype, parameter.device


def check_model(model: nn.Module) -> int:
    """Return K, the number of logits ``model`` gives for (N, 2) inputs; raise a clear error otherwise."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"Playground: model must be a torch.nn.Module, got {type(model).__name__}")
    if next(model.parameters(), None) is None:
        raise ValueError("Playground: the model has no parameters to train")
    dtype, device = _placement(model)
    with torch.no_grad():
        out = model(torch.zeros(3, 2, dtype=dtype, device=device))
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != 3:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ShapeError(f"Playground: the model maps a (3, 2) input to {shape}; expected (3, K) logits, "
                         f"e.g. end with nn.Linear(hidden, 2)")
    return int(out.shape[1])


def _loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if logits.shape[1] == 1:  # one logit: the probability of class 1
        return F.binary_cross_entropy_with_logits(logits[:, 0], y.to(logits.dtype))
    return F.cross_entropy(logits, y)


def _tensors(model: nn.Module, x: np.ndarray, y: np.ndarray | None = None):
    dtype, device = _placement(model)
    xt = torch.as_tensor(x, dtype=dtype, device=device)
    return xt if y is None else (xt, torch.as_tensor(y, dtype=torch.long, device=device))


def data_loss(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy of ``model`` on (x, y), in evaluation mode, without a graph."""
    xt, yt = _tensors(model, x, y)
    model.eval()
    with torch.no_grad():
        return float(_loss(model(xt), yt))


def class1_probability(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """(N,) probability of class 1 for x (N, 2); a non-finite output reads as 0.5 (undecided)."""
    model.eval()
    with torch.no_grad():
        logits = model(_tensors(model, x))
        p = torch.sigmoid(logits[:, 0]) if logits.shape[1] == 1 else torch.softmax(logits, dim=1)[:, 1]
    return np.nan_to_num(p.double().cpu().numpy(), nan=0.5)


def _grid(extent: float, resolution: int) -> np.ndarray:
    ticks = np.linspace(-extent, extent, resolution)
    g1, g2 = np.meshgrid(ticks, ticks)  # row i is x2 = ticks[i]: imshow with origin="lower"
    return np.column_stack([g1.ravel(), g2.ravel()])  # (resolution**2, 2)


def boundary_grid(model: nn.Module, extent: float = EXTENT, resolution: int = 60) -> np.ndarray:
    """(resolution, resolution) probability of class 1 on a grid over [-extent, extent]^2 (row = x2, column = x1)."""
    return class1_probability(model, _grid(extent, resolution)).reshape(resolution, resolution)


def _first_hidden(model: nn.Module):
    """The first Linear taking 2 inputs and the activation module right after it (or None), if it is not the last Linear."""
    modules = list(model.modules())
    linears = [i for i, m in enumerate(modules) if isinstance(m, nn.Linear)]
    first = next((i for i in linears if modules[i].in_features == 2), None)
    if first is None or first == linears[-1]:
        return None, None
    following = modules[first + 1] if first + 1 < len(modules) else None
    return modules[first], following if isinstance(following, _ACTIVATION_TYPES) else None


def first_layer_maps(model: nn.Module, extent: float = EXTENT, resolution: int = 24,
                     max_units: int = 8) -> tuple[np.ndarray | None, str]:
    """The first hidden layer's units over the plane: (U, resolution, resolution), U <= max_units, and a label.

    Each unit's map is divided by its largest |value| (so it reads in [-1, 1]).
    Returns (None, reason) for a model without a hidden layer taking the two inputs.
    """
    linear, activation = _first_hidden(model)
    if linear is None:
        return None, "no hidden layer"
    with torch.no_grad():
        z = linear(_tensors(model, _grid(extent, resolution)))  # (r*r, units)
        h = activation(z) if activation is not None else z
    h = np.nan_to_num(h[:, :max_units].double().cpu().numpy(), nan=0.0, posinf=0.0, neginf=0.0)
    scale = np.maximum(np.abs(h).max(axis=0), 1e-12)
    maps = (h / scale).T.reshape(-1, resolution, resolution)  # (r*r, U) -> (U, r, r)
    return maps, ("activations" if activation is not None else "pre-activations")


@dataclass
class PlaygroundSession:
    """A model, its SGD optimizer and its data, trained a few steps at a time; ``reset`` restores the initial weights.

    The L2 penalty 0.5 * l2 * sum(w^2) covers the weight matrices (parameters with 2 or more
    dimensions), not the biases. A step whose loss is not finite ends the call and restores the
    weights from its start (``diverged`` is set): the model never holds NaN.
    """

    model: nn.Module
    learning_rate: float = 0.03
    l2: float = 0.0
    seed: int = 0
    data: PlaygroundData | None = None
    steps: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    diverged: bool = False

    def __post_init__(self) -> None:
        self.num_outputs = check_model(self.model)
        self.initial_state = copy.deepcopy(self.model.state_dict())
        self.reset()

    def reset(self) -> None:
        """Back to the initial weights, a fresh optimizer, an empty history."""
        self.model.load_state_dict(self.initial_state)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=self.learning_rate)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.steps, self.train_loss, self.test_loss, self.diverged = [], [], [], False
        self.step_count = 0
        if self.data is not None:
            self._record()

    def set_data(self, data: PlaygroundData) -> None:
        num_classes = int(max(data.y_train.max(), data.y_test.max())) + 1
        if self.num_outputs != 1 and self.num_outputs < num_classes:
            raise ValueError(f"Playground: the model gives {self.num_outputs} logits but the data have "
                             f"{num_classes} classes")
        self.data = data
        self.reset()

    def set_learning_rate(self, learning_rate: float) -> None:
        self.learning_rate = float(learning_rate)
        for group in self.optimizer.param_groups:
            group["lr"] = self.learning_rate

    def _record(self) -> None:
        self.steps.append(self.step_count)
        self.train_loss.append(data_loss(self.model, self.data.x_train, self.data.y_train))
        self.test_loss.append(data_loss(self.model, self.data.x_test, self.data.y_test))

    def train(self, num_steps: int, batch_size: int) -> None:
        """``num_steps`` SGD steps on random mini-batches of ``batch_size`` (at most the training set), then record."""
        if self.data is None:
            raise ValueError("PlaygroundSession.train: call set_data first")
        x, y = _tensors(self.model, self.data.x_train, self.data.y_train)
        batch_size = int(np.clip(batch_size, 1, len(x)))
        start, start_count = copy.deepcopy(self.model.state_dict()), self.step_count
        weights = [p for p in self.model.parameters() if p.ndim >= 2]
        self.model.train()
        for _ in range(int(num_steps)):
            index = torch.randperm(len(x), generator=self.generator)[:batch_size].to(x.device)
            self.optimizer.zero_grad()
            loss = _loss(self.model(x[index]), y[index])
            if self.l2 > 0:
                loss = loss + 0.5 * self.l2 * sum((w ** 2).sum() for w in weights)
            if not torch.isfinite(loss):
                self.model.load_state_dict(start)
                self.step_count, self.diverged = start_count, True
                return
            loss.backward()
            self.optimizer.step()
            self.step_count += 1
        self._record()
        if not (np.isfinite(self.train_loss[-1]) and np.isfinite(self.test_loss[-1])):
            self.model.load_state_dict(start)
            del self.steps[-1], self.train_loss[-1], self.test_loss[-1]
            self.step_count, self.diverged = start_count, True
