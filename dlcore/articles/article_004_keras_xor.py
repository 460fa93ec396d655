"""Article 004, section 5(1)-(2): a TensorFlow 1 XOR network and a Keras "deep belief network", in PyTorch (chapter 08).

The two listings, in short::

    # 5(1) TensorFlow 1
    W1 ~ N(0, 1) (2, 2); b1 = 0; W2 ~ N(0, 1) (2, 1); b2 = 0
    y = sigmoid(relu(x W1 + b1) W2 + b2)
    cross_entropy = -reduce_sum(y_ * log(y))          # (a) half a cross-entropy: the y_ = 0 rows count for nothing
    GradientDescentOptimizer(0.01), 1000 full-batch steps

    # 5(2) Keras, called a "deep belief network"      # (b) it is a 2-2-1 MLP; no RBM, no layer-wise pre-training
    Dense(2, input_dim=2), Activation('relu'), Dropout(0.5), Dense(1)   # (c) linear output ...
    compile(loss='binary_crossentropy', optimizer='adam')               # ... fed to a loss that wants probabilities
    fit(X, Y, epochs=1000)                                              # batch_size 32 > 4 rows: one step per epoch
    score = evaluate(X, Y); score[0], score[1]        # (d) no metrics compiled: score is one float, score[0] fails

(c) in detail: with ``from_logits=False`` Keras clips the prediction to
``[eps, 1 - eps]`` (eps = 1e-7) before taking logs. A linear output below
``eps`` or above ``1 - eps`` is clipped, and the clip passes no gradient,
so an example whose output left (0, 1) on the wrong side stops learning.
Dropout 0.5 on a layer of two units removes, half of the time, one of the
two units XOR needs.

To measure how often a recipe works, :func:`train_xor` trains S
independent networks at once: every parameter has a leading dimension S,
each network's loss is its own mean (or sum) over the four rows, and the
S losses are added, which keeps their gradients apart (Adam and SGD act
element by element, so the S runs are exactly S separate runs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["XOR_X", "XOR_Y", "KERAS_EPSILON", "Recipe", "RECIPES", "XorRun", "xor_data", "half_cross_entropy",
           "keras_binary_crossentropy", "keras_model", "keras_evaluate_as_given", "train_xor"]

KERAS_EPSILON = 1e-7  # keras.backend.epsilon(): the clip of binary_crossentropy on probabilities
XOR_X = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
XOR_Y = (0.0, 1.0, 1.0, 0.0)


def xor_data(dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """The article's X (4, 2) and Y (4, 1)."""
    return torch.tensor(XOR_X, dtype=dtype), torch.tensor(XOR_Y, dtype=dtype).reshape(4, 1)  # (4,) -> (4, 1)


def half_cross_entropy(prob: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The article's loss, -sum(y log p): only the term of the positive examples (reduced over the last two dims).

    d/ds of -y log sigma(s) is -y (1 - sigma(s)): zero for every y = 0 row and never
    positive, so it asks every output to rise or stay. That holds per output, not per
    parameter step: the rows share the weights, and a step can lower some outputs (see
    ``XorRun.outputs_per_step``). The loss ignores the y = 0 rows; that the trained
    networks end up near 1 on them too is an empirical finding (chapter 08 counts the runs).
    """
    return -(target * torch.log(prob)).sum(dim=(-2, -1))


def keras_binary_crossentropy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Keras' binary_crossentropy on *probabilities*: clip to [eps, 1 - eps], then the mean cross-entropy.

    Given a linear output (the article's last Dense layer), values outside
    (eps, 1 - eps) are clipped and get no gradient.
    """
    p = output.clamp(KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    return -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean(dim=(-2, -1))


def keras_model(hidden: int = 2, dropout: float = 0.5) -> nn.Sequential:
    """The Keras listing as an nn.Sequential (one network; :func:`train_xor` trains many at once)."""
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 1))


def keras_evaluate_as_given(loss: float, metrics: tuple[str, ...] = ()):
    """What Keras' ``model.evaluate`` returns: a single float without compiled metrics, else a list."""
    return float(loss) if not metrics else [float(loss), *([math.nan] * len(metrics))]


@dataclass(frozen=True)
class Recipe:
    """One way to build and train the XOR network."""

    name: str
    hidden: int = 2
    init: str = "normal"  # "normal": N(0, 1) as tf.random_normal; "glorot": Keras' glorot_uniform
    output: str = "sigmoid"  # "sigmoid" or "linear"
    loss: str = "half"  # "half" (article 5(1)), "keras_clip" (article 5(2)), "bce" (correct)
    dropout: float = 0.0
    optimizer: str = "sgd"  # "sgd" or "adam"
    lr: float = 0.01
    steps: int = 1000
    inputs: str = "01"  # "01": the article's 0/1 inputs; "pm1": the same four points as -1/+1 (centred)


RECIPES = {
    "tf1_as_given": Recipe("5(1) as given: half cross-entropy, 2 hidden units, SGD 0.01"),
    "tf1_full_loss": Recipe("5(1) with the full cross-entropy, otherwise as given", loss="bce"),
    "tf1_fixed": Recipe("5(1) fixed: full cross-entropy, 8 hidden units, SGD 0.1", loss="bce", hidden=8, lr=0.1),
    "tf1_centred": Recipe("5(1) as given, but with inputs -1/+1 instead of 0/1", inputs="pm1"),
    "keras_as_given": Recipe("5(2) as given: linear output, clipped loss, dropout 0.5, Adam 0.001",
                             init="glorot", output="linear", loss="keras_clip", dropout=0.5, optimizer="adam",
                             lr=0.001),
    "keras_sigmoid": Recipe("5(2) with a sigmoid output, otherwise as given", init="glorot", loss="bce",
                            dropout=0.5, optimizer="adam", lr=0.001),
    "keras_no_dropout": Recipe("5(2) with a sigmoid output and no dropout", init="glorot", loss="bce",
                               optimizer="adam", lr=0.001),
    "keras_fixed": Recipe("5(2) fixed: sigmoid output, no dropout, 16 units, Adam 0.05", init="glorot", loss="bce",
                          hidden=16, optimizer="adam", lr=0.05),
}


@dataclass(frozen=True)
class XorRun:
    """S trained networks: outputs (S, 4) after training (probabilities, or the raw linear output), losses (steps, S).

    ``outputs_per_step`` (steps, S, 4): the outputs of the training forward pass before each step (with dropout,
    the dropped-out pass), so ``outputs_per_step[t + 1] - outputs_per_step[t]`` is what step t changed.
    """

    recipe: Recipe
    outputs: torch.Tensor
    losses: torch.Tensor
    outputs_per_step: torch.Tensor | None = None

    @property
    def predictions(self) -> torch.Tensor:
        """(S, 4) labels 0/1: output > 0.5, as tf.round and Keras' binary accuracy."""
        return (self.outputs > 0.5).long()

    @property
    def solved(self) -> torch.Tensor:
        """(S,) bool: all four rows right."""
        return (self.predictions == torch.tensor(XOR_Y).long()).all(dim=1)

    @property
    def success_rate(self) -> float:
        return float(self.solved.float().mean())


def _init(recipe: Recipe, num_runs: int, generator: torch.Generator,
          dtype: torch.dtype = torch.float32) -> list[torch.Tensor]:
    H = recipe.hidden
    if recipe.init == "normal":  # tf.random_normal: N(0, 1) whatever the layer size
        W1 = torch.randn(num_runs, 2, H, generator=generator, dtype=dtype)
        W2 = torch.randn(num_runs, H, 1, generator=generator, dtype=dtype)
    else:  # glorot_uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out))
        W1 = (torch.rand(num_runs, 2, H, generator=generator, dtype=dtype) * 2 - 1) * math.sqrt(6 / (2 + H))
        W2 = (torch.rand(num_runs, H, 1, generator=generator, dtype=dtype) * 2 - 1) * math.sqrt(6 / (H + 1))
    params = [W1, torch.zeros(num_runs, 1, H, dtype=dtype), W2, torch.zeros(num_runs, 1, 1, dtype=dtype)]
    return [p.requires_grad_() for p in params]


def _forward(recipe: Recipe, params, x: torch.Tensor, training: bool, generator: torch.Generator) -> torch.Tensor:
    W1, b1, W2, b2 = params
    h = torch.relu(x @ W1 + b1)  # (4, 2) @ (S, 2, H) -> (S, 4, H)
    if training and recipe.dropout > 0:  # inverted dropout, as Keras and PyTorch: scale the kept units by 1/(1-p)
        keep = torch.rand(h.shape, generator=generator, dtype=h.dtype) >= recipe.dropout
        h = h * keep / (1 - recipe.dropout)
    return h @ W2 + b2  # (S, 4, 1): the logit, or the article's linear output


def _loss(recipe: Recipe, score: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(S,) losses, one per network."""
    if recipe.loss == "keras_clip":
        return keras_binary_crossentropy(score, y)
    if recipe.loss == "half":
        return half_cross_entropy(torch.sigmoid(score), y)
    reduction_sum = recipe.optimizer == "sgd"  # the TF1 listing sums over rows; Keras means
    per_row = F.binary_cross_entropy_with_logits(score, y.expand_as(score), reduction="none")
    return per_row.sum(dim=(-2, -1)) if reduction_sum else per_row.mean(dim=(-2, -1))


def train_xor(recipe: Recipe | str, num_runs: int = 1, seed: int = 0, dtype: torch.dtype = torch.float32) -> XorRun:
    """Train ``num_runs`` independent networks by ``recipe`` (a Recipe or a key of :data:`RECIPES`) on XOR.

    Full batch (the four rows) for ``recipe.steps`` steps. Deterministic given ``seed`` (and ``dtype``:
    torch.float64 draws other initial weights than the default float32).
    """
    recipe = RECIPES[recipe] if isinstance(recipe, str) else recipe
    if not isinstance(num_runs, int) or num_runs < 1:
        raise ValueError(f"train_xor: num_runs must be a positive int, got {num_runs!r}")
    generator = torch.Generator().manual_seed(seed)
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"train_xor: dtype must be torch.float32 or torch.float64, got {dtype!r}")
    x, y = xor_data(dtype)
    if recipe.inputs == "pm1":
        x = 2 * x - 1
    params = _init(recipe, num_runs, generator, dtype)
    optimizer = (torch.optim.SGD(params, lr=recipe.lr) if recipe.optimizer == "sgd"
                 else torch.optim.Adam(params, lr=recipe.lr, eps=KERAS_EPSILON))  # Keras' Adam epsilon
    losses, per_step = [], []
    for _ in range(recipe.steps):
        optimizer.zero_grad()
        score = _forward(recipe, params, x, True, generator)
        loss = _loss(recipe, score, y)  # (S,)
        loss.sum().backward()  # the sum keeps each network's gradient its own
        optimizer.step()
        losses.append(loss.detach())
        per_step.append((score if recipe.output == "linear" else torch.sigmoid(score)).detach()[..., 0])
    with torch.no_grad():
        score = _forward(recipe, params, x, False, generator)[..., 0]  # (S, 4)
        outputs = score if recipe.output == "linear" else torch.sigmoid(score)
    return XorRun(recipe, outputs, torch.stack(losses), torch.stack(per_step))
