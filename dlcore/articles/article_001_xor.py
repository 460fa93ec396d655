"""Article 001, section 4.1: a NumPy two-layer network on XOR, as given and corrected (chapter 05).

The article's example, line by line (its names: A = pre-activation,
Z = activation, the reverse of the more common convention)::

    X = [[0,1],[1,1]];  y = [[0],[1]]                # not XOR: 2 of 4 rows, both labels wrong
    A1 = X W1 + b1;  Z1 = sigmoid(A1)                # hidden layer, (N, 3)
    A2 = Z1 W2 + b2; y_hat = sigmoid(A2)             # output, (N, 1)
    loss = -mean(y log y_hat + (1-y) log(1-y_hat))
    dA2 = -(y/y_hat - (1-y)/(1-y_hat))               # (1) dL/dy_hat, without the 1/N of the mean
    dZ1 = dA2 * sigmoid(Z1) (1 - sigmoid(Z1))        # (2) wants sigma'(A2) = y_hat (1-y_hat); sigma applied
                                                     #     to Z1 again, and (N,1)*(N,3) broadcasts to (N,3)
    dW2 = Z1.T dA2;  db2 = sum(dA2)                  # (3) skip the sigmoid's derivative: dA2, not the delta
    dA1 = dZ1 W2.T                                   # crashes: (N,3) @ (1,3)
    dZ2 = dA1 * sigmoid(A1) (1 - sigmoid(A1))        # right, but never used
    dW1 = X.T dZ1;   db1 = sum(dZ1)                  # (4) use dZ1 where the hidden delta dZ2 belongs
    W2 -= learning_rate * dW2 ...                    # learning_rate is never defined; one step, no loop

The functions ``*_as_given`` reproduce these lines exactly; ``fixes``
replaces numbered lines by their corrections one at a time, so that the
gradient checker can find each bug in turn. ``forward_fixed`` /
``backward_fixed`` are the corrected network, written the course's way.

Two adaptations, neither of which changes what the code computes: the
random weights come from an explicit ``rng`` (the article uses NumPy's
global ``np.random.randn``), and ``learning_rate`` is an argument (the
article never defines it, so as a script it would stop with a NameError).
"""

from __future__ import annotations

from typing import Collection, NamedTuple

import numpy as np

from dlcore.errors import as_float_array, expect_ndim, expect_shape
from dlcore.gradcheck import GradCheckReport, check_gradients
from dlcore.scratch.activations import sigmoid
from dlcore.scratch.losses import binary_cross_entropy_with_logits_forward

__all__ = [
    "article_data", "xor_truth_table", "FIXES", "ArticleParams", "ArticleCache", "init_params_as_given",
    "sigmoid_as_given", "forward_as_given", "output_layer_backward_as_given", "hidden_layer_backward_as_given",
    "backward_as_given", "step_as_given", "check_gradients_as_given",
    "TwoLayerCache", "init_params_fixed", "forward_fixed", "backward_fixed", "train_fixed",
]

# The article's bugs in its backward pass, each with the correction `fixes` applies.
FIXES = {
    "output_derivative": "line (2): the output delta is dA2 * y_hat (1 - y_hat) = dL/dy_hat * sigma'(A2), shape (N, 1)",
    "output_grads_use_delta": "line (3): dW2 = Z1.T @ delta, db2 = sum(delta): the sigmoid's derivative belongs in them",
    "mean": "line (1): the loss is a mean over N examples, so dL/dy_hat carries a factor 1/N",
    "hidden_grads_use_delta": "line (4): dW1 = X.T @ dZ2, db1 = sum(dZ2): the hidden delta, not the output's",
}


def article_data() -> tuple[np.ndarray, np.ndarray]:
    """The article's data: X = [[0, 1], [1, 1]], y = [[0], [1]] (two rows; XOR would give y = [[1], [0]])."""
    X = np.array([[0, 1], [1, 1]], dtype=np.float64)  # (N, D) = (2, 2)
    y = np.array([0, 1], dtype=np.float64).reshape((-1, 1))  # (N, 1)
    return X, y


def xor_truth_table() -> tuple[np.ndarray, np.ndarray]:
    """All four XOR rows: X (4, 2) and y (4, 1) float64, y = x1 XOR x2."""
    from dlcore.data import make_xor

    X, labels = make_xor()
    return X, labels.astype(np.float64).reshape(-1, 1)  # (4,) -> (4, 1), the output layer's shape


# ---------------------------------------------------------------- as given

class ArticleParams(NamedTuple):
    """The article's parameters, with its shapes: biases as (1, M) rows."""

    W1: np.ndarray  # (2, 3)
    b1: np.ndarray  # (1, 3)
    W2: np.ndarray  # (3, 1)
    b2: np.ndarray  # (1, 1)


class ArticleCache(NamedTuple):
    """Everything the article's forward pass computed, under the article's names."""

    X: np.ndarray  # (N, 2)
    y: np.ndarray  # (N, 1)
    A1: np.ndarray  # (N, 3) pre-activation
    Z1: np.ndarray  # (N, 3) sigmoid(A1)
    A2: np.ndarray  # (N, 1) pre-activation
    y_hat: np.ndarray  # (N, 1) sigmoid(A2)


def init_params_as_given(rng: np.random.Generator) -> ArticleParams:
    """W1, W2 standard normal, b1, b2 zero rows, as the article (but drawn from ``rng``)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"init_params_as_given: rng must be a numpy Generator, got {type(rng).__name__}")
    return ArticleParams(rng.standard_normal((2, 3)), np.zeros((1, 3)), rng.standard_normal((3, 1)), np.zeros((1, 1)))


def sigmoid_as_given(z: np.ndarray) -> np.ndarray:
    """The article's 1 / (1 + exp(-z)): right in value, but exp(-z) overflows (a warning) for z < -709."""
    return 1 / (1 + np.exp(-z))


def _check_fixes(func: str, fixes: Collection[str]) -> frozenset[str]:
    unknown = set(fixes) - set(FIXES)
    if isinstance(fixes, str) or unknown:
        raise ValueError(f"{func}: fixes must be a collection of names from {sorted(FIXES)}, got {fixes!r}")
    return frozenset(fixes)


def forward_as_given(X, y, W1, b1, W2, b2) -> tuple[float, ArticleCache]:
    """The article's forward pass and cross-entropy loss, unchanged. Returns (loss, cache)."""
    A1 = np.dot(X, W1) + b1  # (N, 3)
    Z1 = sigmoid_as_given(A1)
    A2 = np.dot(Z1, W2) + b2  # (N, 1)
    y_hat = sigmoid_as_given(A2)
    loss = -np.mean(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))
    return float(loss), ArticleCache(np.asarray(X), np.asarray(y), A1, Z1, A2, y_hat)


def output_layer_backward_as_given(cache: ArticleCache, fixes: Collection[str] = ()):
    """Lines (1)-(3) of the article's backward pass. Returns (dA2, dZ1, dW2, db2).

    As given, dZ1 has shape (N, 3): dA2 (N, 1) times sigmoid'(Z1) (N, 3)
    broadcasts, which no gradient of anything in the network can have.
    """
    fixes = _check_fixes("output_layer_backward_as_given", fixes)
    X, y, A1, Z1, A2, y_hat = cache
    dA2 = -(np.divide(y, y_hat) - np.divide(1 - y, 1 - y_hat))  # (1) dL/dy_hat, times N
    if "mean" in fixes:
        dA2 = dA2 / len(X)
    if "output_derivative" in fixes:
        dZ1 = dA2 * y_hat * (1 - y_hat)  # (N, 1): dL/dA2, the output delta
    else:
        dZ1 = dA2 * sigmoid_as_given(Z1) * (1 - sigmoid_as_given(Z1))  # (2) (N, 1) * (N, 3) -> (N, 3)
    if "output_grads_use_delta" in fixes:
        dW2 = np.dot(Z1.T, dZ1)  # (3, 1)
        db2 = np.sum(dZ1, axis=0, keepdims=True)  # (1, 1)
    else:
        dW2 = np.dot(Z1.T, dA2)  # (3) no sigmoid derivative
        db2 = np.sum(dA2, axis=0, keepdims=True)
    return dA2, dZ1, dW2, db2


def hidden_layer_backward_as_given(cache: ArticleCache, W2: np.ndarray, dZ1: np.ndarray,
                                   fixes: Collection[str] = ()):
    """The article's remaining lines. Returns (dA1, dZ2, dW1, db1).

    Raises:
        ValueError: from NumPy at ``np.dot(dZ1, W2.T)`` when dZ1 has the
            article's (N, 3) shape: (N, 3) @ (1, 3) does not fit.
    """
    fixes = _check_fixes("hidden_layer_backward_as_given", fixes)
    X, y, A1, Z1, A2, y_hat = cache
    dA1 = np.dot(dZ1, W2.T)  # (N, 1) @ (1, 3) -> (N, 3) once dZ1 is the output delta
    dZ2 = dA1 * sigmoid_as_given(A1) * (1 - sigmoid_as_given(A1))  # (N, 3): the hidden delta, correct
    if "hidden_grads_use_delta" in fixes:
        dW1 = np.dot(X.T, dZ2)  # (2, 3)
        db1 = np.sum(dZ2, axis=0, keepdims=True)  # (1, 3)
    else:
        dW1 = np.dot(X.T, dZ1)  # (4) dZ2 is computed, then ignored
        db1 = np.sum(dZ1, axis=0, keepdims=True)
    return dA1, dZ2, dW1, db1


def backward_as_given(cache: ArticleCache, W2: np.ndarray, fixes: Collection[str] = ()) -> ArticleParams:
    """The article's whole backward pass (with ``fixes`` applied). Returns the gradients as
    ArticleParams(dW1, db1, dW2, db2). As given it raises NumPy's ValueError (see above)."""
    _, dZ1, dW2, db2 = output_layer_backward_as_given(cache, fixes)
    _, _, dW1, db1 = hidden_layer_backward_as_given(cache, W2, dZ1, fixes)
    return ArticleParams(dW1, db1, dW2, db2)


def step_as_given(X, y, params: ArticleParams, learning_rate: float,
                  fixes: Collection[str] = ()) -> tuple[float, ArticleParams]:
    """One forward pass, backward pass and update, as the article's listing (which has no loop).

    Returns (loss before the step, new parameters); the article updates
    in place with ``-=``, here the caller's arrays are left unchanged.
    """
    loss, cache = forward_as_given(X, y, *params)
    grads = backward_as_given(cache, params.W2, fixes)
    return loss, ArticleParams(*(p - learning_rate * g for p, g in zip(params, grads)))


def check_gradients_as_given(X, y, params: ArticleParams, fixes: Collection[str] = (), *,
                             output_layer_only: bool = False, rng: np.random.Generator | None = None) -> GradCheckReport:
    """Run :func:`dlcore.gradcheck.check_gradients` on the article's backward pass.

    With ``output_layer_only`` only W2 and b2 are checked, using lines
    (1)-(3), which run even where the rest of the backward pass crashes.
    """
    names = ("W2", "b2") if output_layer_only else ArticleParams._fields
    fixed = {name: value for name, value in params._asdict().items() if name not in names}
    inputs = {name: np.array(getattr(params, name), dtype=np.float64) for name in names}

    def forward(**checked):
        return forward_as_given(X, y, **fixed, **checked)

    def backward(dout, cache):
        if output_layer_only:
            _, _, dW2, db2 = output_layer_backward_as_given(cache, fixes)
            return {"W2": dout * dW2, "b2": dout * db2}
        grads = backward_as_given(cache, params.W2, fixes)
        return {name: dout * grad for name, grad in grads._asdict().items()}

    return check_gradients(forward, backward, inputs, rng=rng)


# ---------------------------------------------------------------- corrected

class TwoLayerCache(NamedTuple):
    """What the corrected backward pass needs (course names: z pre-activation, h activation)."""

    x: np.ndarray  # (N, D)
    y: np.ndarray  # (N, 1) targets in {0, 1}
    z1: np.ndarray  # (N, Hh) hidden pre-activation x W1 + b1
    h: np.ndarray  # (N, Hh) sigmoid(z1)
    W1: np.ndarray  # (D, Hh)
    W2: np.ndarray  # (Hh, 1)
    p: np.ndarray  # (N, 1) predicted probability sigmoid(h W2 + b2)


def init_params_fixed(rng: np.random.Generator, input_size: int = 2, hidden_size: int = 3):
    """Standard normal weights (as the article) and zero biases of the course's shapes (M,)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"init_params_fixed: rng must be a numpy Generator, got {type(rng).__name__}")
    W1 = rng.standard_normal((input_size, hidden_size))
    W2 = rng.standard_normal((hidden_size, 1))
    return W1, np.zeros(hidden_size), W2, np.zeros(1)


def forward_fixed(x, y, W1, b1, W2, b2) -> tuple[float, TwoLayerCache]:
    """Sigmoid hidden layer, sigmoid output, mean binary cross-entropy.

    L = -(1/N) sum_n [y_n log p_n + (1 - y_n) log(1 - p_n)],  p = sigma(sigma(x W1 + b1) W2 + b2)

    The loss is computed from the logit s (never log of a rounded p), so it
    stays finite when the output saturates.

    Args:
        x: (N, D). y: (N, 1) in {0, 1}. W1: (D, Hh). b1: (Hh,). W2: (Hh, 1). b2: (1,).

    Returns:
        The loss and a :class:`TwoLayerCache`.

    Raises:
        ShapeError: if the shapes do not fit together.
    """
    func = "forward_fixed"
    x, y, W1, b1, W2, b2 = (as_float_array(func, name, value) for name, value in
                            (("x", x), ("y", y), ("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)))
    expect_ndim(func, "x", x, 2, "(N, D)")
    N, D = x.shape
    expect_shape(func, "W1", W1, (D, None), "(D, Hh)", f"D = x.shape[1] = {D}")
    Hh = W1.shape[1]
    expect_shape(func, "b1", b1, (Hh,), "(Hh,)", f"Hh = W1.shape[1] = {Hh}")
    expect_shape(func, "W2", W2, (Hh, 1), "(Hh, 1)", f"Hh = {Hh} and one output unit")
    expect_shape(func, "b2", b2, (1,), "(1,)")
    expect_shape(func, "y", y, (N, 1), "(N, 1)", f"N = x.shape[0] = {N}; reshape labels with y[:, None]")
    z1 = x @ W1 + b1  # (N, Hh)
    h = sigmoid(z1)
    s = h @ W2 + b2  # (N, 1) logits
    loss, loss_cache = binary_cross_entropy_with_logits_forward(s, y)
    return loss, TwoLayerCache(x, y, z1, h, W1, W2, loss_cache.prob)


def backward_fixed(cache: TwoLayerCache) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the mean cross-entropy: returns dW1 (D, Hh), db1 (Hh,), dW2 (Hh, 1), db2 (1,).

    delta2 = (p - y) / N,  dW2 = h^T delta2,  delta1 = (delta2 W2^T) * h (1 - h),  dW1 = x^T delta1
    """
    x, y, z1, h, W1, W2, p = cache
    N = x.shape[0]
    delta2 = (p - y) / N  # (N, 1) dL/ds: sigma' cancels the log's 1/(p(1-p))
    dW2 = h.T @ delta2  # (Hh, N) @ (N, 1) -> (Hh, 1)
    db2 = delta2.sum(axis=0)  # (1,): b2 is added to every example
    dh = delta2 @ W2.T  # (N, 1) @ (1, Hh) -> (N, Hh)
    delta1 = dh * h * (1.0 - h)  # (N, Hh) dL/dz1, sigma'(z1) = h (1 - h)
    dW1 = x.T @ delta1  # (D, N) @ (N, Hh) -> (D, Hh)
    db1 = delta1.sum(axis=0)  # (Hh,)
    return dW1, db1, dW2, db2


def train_fixed(x, y, params, learning_rate: float = 2.0, num_epochs: int = 2000, backward=None):
    """Full-batch gradient descent with the corrected network. Returns (params, losses per epoch).

    ``backward(cache) -> (dW1, db1, dW2, db2)`` computes the gradients (default
    :func:`backward_fixed`; chapter 05 passes the learner's version once it is checked).
    """
    backward = backward_fixed if backward is None else backward
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"train_fixed: learning_rate must be a positive number, got {learning_rate!r}")
    params = tuple(np.array(p, dtype=np.float64) for p in params)  # copies: the caller's stay as they are
    losses = []
    for _ in range(int(num_epochs)):
        loss, cache = forward_fixed(x, y, *params)
        grads = backward(cache)
        params = tuple(p - learning_rate * g for p, g in zip(params, grads))
        losses.append(loss)
    return params, np.array(losses)
