"""The perceptron and hand-built multilayer perceptrons (chapter 02).

Labels. The course writes binary labels as y in {0, 1} and the prediction as
y_hat = step(w . x + b) in {0, 1}, with step(0) = 0 (a point exactly on the
line counts as class 0). The rule is then

    w <- w + lr (y - y_hat) x,    b <- b + lr (y - y_hat)

and y - y_hat is +1, -1 or 0 (no change when the point is right). Labels in
{-1, +1} are accepted everywhere and mean the same classes (-1 is class 0).
Written literally with {-1, +1} labels and y_hat = sign(z), the rule takes
steps of 2 lr x: the same algorithm, since from w = 0, b = 0 the learning
rate only rescales (w, b) and never changes a prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlcore.errors import as_float_array, expect_ndim, expect_positive_int, expect_real, expect_shape

__all__ = [
    "as_binary_labels", "perceptron_predict", "perceptron_update", "PerceptronHistory",
    "perceptron_train", "novikoff_bound", "make_separable", "GATES", "make_gate",
    "xor_step_weights", "xor_relu_weights", "relu_interpolation_weights",
]


def as_binary_labels(func: str, y: np.ndarray) -> np.ndarray:
    """Return labels as int64 in {0, 1}; accepts {0, 1} or {-1, +1} (never a mix).

    Raises:
        ValueError: for other values, or for 0 and -1 in the same array.
    """
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":  # complex, text or objects: not class labels
        raise TypeError(f"{func}: y must hold numeric labels in {{0, 1}} or {{-1, +1}}, got dtype {y.dtype}")
    values = set(np.unique(y).tolist())
    if not (values <= {0, 1} or values <= {-1, 1}):
        raise ValueError(
            f"{func}: y must hold labels in {{0, 1}} or in {{-1, +1}}, got the values {sorted(values)}"
        )
    return (y > 0).astype(np.int64)


def _check_data(func: str, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = as_float_array(func, "X", X)
    expect_ndim(func, "X", X, 2, "(N, D): one row per example")
    y = np.asarray(y)
    expect_shape(func, "y", y, (X.shape[0],), "(N,)", f"N = X.shape[0] = {X.shape[0]}")
    return X, as_binary_labels(func, y)


def _check_weights(func: str, w: np.ndarray, b: float, D: int) -> tuple[np.ndarray, float]:
    w = as_float_array(func, "w", w)
    expect_shape(func, "w", w, (D,), "(D,)", f"D = {D} input features")
    if np.ndim(b) != 0:
        raise ValueError(f"{func}: b must be a scalar (one bias for one neuron), got shape {np.shape(b)}")
    return w, expect_real(func, "b", b)


def perceptron_predict(X: np.ndarray, w: np.ndarray, b: float, signed: bool = False) -> np.ndarray:
    """Classify a batch with one threshold unit.

    y_hat = step(X w + b), step(z) = 1 if z > 0 else 0

    Args:
        X: (N, D) inputs. w: (D,) weights. b: scalar bias.
        signed: return labels in {-1, +1} instead of {0, 1}.

    Returns:
        (N,) int64 labels.

    Raises:
        ShapeError: if X is not 2-D or w does not have D entries.
    """
    X = as_float_array("perceptron_predict", "X", X)
    expect_ndim("perceptron_predict", "X", X, 2, "(N, D): one row per example")
    w, b = _check_weights("perceptron_predict", w, b, X.shape[1])
    y_hat = (X @ w + b > 0).astype(np.int64)  # (N,)
    return 2 * y_hat - 1 if signed else y_hat


def perceptron_update(x: np.ndarray, y: int, w: np.ndarray, b: float,
                      learning_rate: float = 1.0) -> tuple[np.ndarray, float]:
    """One step of the perceptron rule on one example; inputs are not modified.

    w' = w + lr (y - y_hat) x,  b' = b + lr (y - y_hat),  y_hat = step(w . x + b)

    Args:
        x: (D,) one example. y: its label, 0/1 (or -1/+1). w: (D,). b: scalar.

    Returns:
        (w', b'): equal to (w, b) when the example is already right.

    Raises:
        ShapeError: if x is not 1-D or w does not match it; ValueError for a label not in {0, 1, -1}.
    """
    x = as_float_array("perceptron_update", "x", x)
    expect_ndim("perceptron_update", "x", x, 1, "(D,): a single example")
    w, b = _check_weights("perceptron_update", w, b, x.shape[0])
    learning_rate = expect_real("perceptron_update", "learning_rate", learning_rate)
    target = int(as_binary_labels("perceptron_update", np.array([y]))[0])
    error = target - int(x @ w + b > 0)  # +1, -1 or 0
    return w + learning_rate * error * x, b + learning_rate * error


@dataclass
class PerceptronHistory:
    """What :func:`perceptron_train` did, epoch by epoch.

    weights: (E + 1, D) w before the first epoch and after each one.
    biases: (E + 1,) the same for b.
    mistakes: (E,) updates made in each epoch (each mistake is one update).
    converged: True if the last epoch made no mistake (then every point is right).
    """

    weights: np.ndarray
    biases: np.ndarray
    mistakes: np.ndarray
    converged: bool

    @property
    def w(self) -> np.ndarray:
        return self.weights[-1]

    @property
    def b(self) -> float:
        return float(self.biases[-1])

    @property
    def epochs(self) -> int:
        return len(self.mistakes)

    @property
    def total_updates(self) -> int:
        return int(self.mistakes.sum())


def perceptron_train(X: np.ndarray, y: np.ndarray, *, learning_rate: float = 1.0, max_epochs: int = 100,
                     rng: np.random.Generator | None = None, w0: np.ndarray | None = None, b0: float = 0.0,
                     fit_bias: bool = True) -> PerceptronHistory:
    """Rosenblatt's perceptron: sweep the data, update on every mistake, stop after a clean epoch.

    Args:
        X: (N, D) inputs. y: (N,) labels in {0, 1} or {-1, +1}.
        learning_rate: lr > 0 (irrelevant from w0 = 0, b0 = 0; see the module docstring).
        max_epochs: give up after this many sweeps (on data no line separates, it never stops).
        rng: a Generator shuffles the order in every epoch; None visits rows in the given order.
        w0, b0: the start (default zeros).
        fit_bias: False keeps b at b0, so the boundary is w . x = -b0 (through the origin for b0 = 0).

    Returns:
        A :class:`PerceptronHistory`.
    """
    X, y = _check_data("perceptron_train", X, y)
    N, D = X.shape
    expect_real("perceptron_train", "learning_rate", learning_rate, positive=True)
    max_epochs = expect_positive_int("perceptron_train", "max_epochs", max_epochs)
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"perceptron_train: rng must be a numpy Generator or None, got {type(rng).__name__}")
    w, b = _check_weights("perceptron_train", np.zeros(D) if w0 is None else w0, b0, D)
    w = w.astype(np.float64, copy=True)
    weights, biases, mistakes = [w.copy()], [b], []
    for _ in range(max_epochs):
        order = rng.permutation(N) if rng is not None else np.arange(N)
        count = 0
        for i in order:
            error = y[i] - int(X[i] @ w + b > 0)
            if error != 0:
                w += learning_rate * error * X[i]
                if fit_bias:
                    b += learning_rate * error
                count += 1
        weights.append(w.copy())
        biases.append(b)
        mistakes.append(count)
        if count == 0:
            break
    return PerceptronHistory(np.array(weights), np.array(biases), np.array(mistakes, dtype=np.int64),
                             converged=mistakes[-1] == 0)


def novikoff_bound(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> tuple[float, float, float]:
    """The convergence bound for a separator (w, b), with the bias folded into the vectors.

    u = (w, b) / ||(w, b)||,  x~ = (x, 1),  s = +1/-1 for class 1/0,
    R = max ||x~||,  gamma = min s u . x~,  updates <= (R / gamma)^2 from u_0 = 0.

    Returns:
        (R, gamma, bound). Any separator gives a valid bound; a larger margin a tighter one.

    Raises:
        ValueError: if (w, b) does not put every point strictly on its side (gamma <= 0).
    """
    X, y = _check_data("novikoff_bound", X, y)
    w, b = _check_weights("novikoff_bound", w, b, X.shape[1])
    X_tilde = np.column_stack([X, np.ones(len(X))])  # (N, D + 1)
    u = np.append(w, b)
    norm = np.linalg.norm(u)
    if norm == 0:
        raise ValueError("novikoff_bound: (w, b) is all zeros, which separates nothing")
    signs = 2 * y - 1
    gamma = float(np.min(signs * (X_tilde @ u)) / norm)
    if gamma <= 0:
        raise ValueError(f"novikoff_bound: (w, b) does not separate the data (margin {gamma:.3g} <= 0)")
    R = float(np.max(np.linalg.norm(X_tilde, axis=1)))
    return R, gamma, (R / gamma) ** 2


def make_separable(n_samples: int, margin: float, *, rng: np.random.Generator, w: np.ndarray = (1.0, 1.0),
                   b: float = 0.0, low: float = -1.0, high: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [low, high]^2 labelled by a planted line, none closer to it than ``margin``.

    Class 1 where w . x + b > 0. Rejection sampling: points inside the margin band are redrawn.
    Returns X (N, 2) float64 and y (N,) int64.
    """
    w = as_float_array("make_separable", "w", w)
    expect_shape("make_separable", "w", w, (2,), "(2,)")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"make_separable: rng must be a numpy Generator, got {type(rng).__name__}")
    expect_real("make_separable", "margin", margin, minimum=0.0)
    kept = np.empty((0, 2))
    for _ in range(1000):
        candidates = rng.uniform(low, high, size=(2 * n_samples, 2))
        distance = (candidates @ w + b) / np.linalg.norm(w)  # signed distance to the line
        kept = np.vstack([kept, candidates[np.abs(distance) >= max(margin, 1e-12)]])
        if len(kept) >= n_samples:
            break
    else:
        raise ValueError(f"make_separable: margin {margin} leaves (almost) no room in the box [{low}, {high}]^2")
    X = kept[:n_samples]
    return X, (X @ w + b > 0).astype(np.int64)


# The four corners of the unit square and the label of each two-input gate on them.
GATES = {
    "AND": (0, 0, 0, 1), "OR": (0, 1, 1, 1), "NAND": (1, 1, 1, 0),
    "NOR": (1, 0, 0, 0), "XOR": (0, 1, 1, 0), "XNOR": (1, 0, 0, 1),
}


def make_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Truth table of a logic gate: X (4, 2) rows (0,0), (0,1), (1,0), (1,1); y (4,) int64."""
    key = str(name).upper()
    if key not in GATES:
        raise ValueError(f"make_gate: unknown gate {name!r}; choose one of {', '.join(GATES)}")
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array(GATES[key], dtype=np.int64)


def xor_step_weights() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A 2-2-1 network of step units computing XOR: XOR = AND(OR, NAND).

    h = step(x W1 + b1) with h1 = OR(x1, x2), h2 = NAND(x1, x2); out = step(h W2 + b2) = AND(h1, h2).
    Every pre-activation is at least 0.5 away from 0, so the convention for step(0) never matters.
    Returns W1 (2, 2), b1 (2,), W2 (2, 1), b2 (1,).
    """
    W1 = np.array([[1.0, -1.0], [1.0, -1.0]])  # columns: the OR unit, the NAND unit
    b1 = np.array([-0.5, 1.5])
    W2 = np.array([[1.0], [1.0]])
    b2 = np.array([-1.5])
    return W1, b1, W2, b2


def xor_relu_weights() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A 2-2-1 network with ReLU hidden units and a linear output computing XOR exactly on {0,1}^2.

    h1 = relu(x1 + x2), h2 = relu(x1 + x2 - 1), out = h1 - 2 h2.
    Returns W1 (2, 2), b1 (2,), W2 (2, 1), b2 (1,).
    """
    W1 = np.array([[1.0, 1.0], [1.0, 1.0]])
    b1 = np.array([0.0, -1.0])
    W2 = np.array([[1.0], [-2.0]])
    b2 = np.array([0.0])
    return W1, b1, W2, b2


def relu_interpolation_weights(knots: np.ndarray, values: np.ndarray
                               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weights of a 1-K-1 ReLU network equal to the broken line through (knots, values).

    f(x) = v_0 + sum_k c_k relu(x - t_k),  c_k = change of slope at knot t_k (k = 0..K-1);
    exact on [t_0, t_K]; constant (v_0) left of t_0 and a straight line right of t_K. Returns W1 (1, K), b1 (K,), W2 (K, 1), b2 (1,).

    Raises:
        ValueError: unless knots are strictly increasing and there are at least two.
    """
    t = as_float_array("relu_interpolation_weights", "knots", knots)
    v = as_float_array("relu_interpolation_weights", "values", values)
    expect_ndim("relu_interpolation_weights", "knots", t, 1, "(K + 1,)")
    expect_shape("relu_interpolation_weights", "values", v, t.shape, "(K + 1,)", "one value per knot")
    if len(t) < 2 or np.any(np.diff(t) <= 0):
        raise ValueError("relu_interpolation_weights: knots must be at least two, strictly increasing")
    slopes = np.diff(v) / np.diff(t)  # (K,) slope of each piece
    changes = np.diff(slopes, prepend=0.0)  # (K,) the first unit starts the first slope
    K = len(slopes)
    W1 = np.ones((1, K))
    b1 = -t[:-1]
    W2 = changes.reshape(K, 1)  # (K, 1)
    b2 = np.array([v[0]])
    return W1, b1, W2, b2
