"""Finite-difference gradient checking (chapter 05, used from chapter 02 on).

The idea: for a function L(x), the central difference

    dL/dx_i ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

has error O(eps^2). A layer's backward pass computes a vector-Jacobian
product dout^T J; we check it by differencing the scalar sum(f(x) * dout)
for a random upstream gradient ``dout``. A random ``dout`` matters: with
dout = 1 everywhere, a backward pass that mixes up rows can still pass.

Everything runs in float64 (in float32 the rounding error of the
difference quotient, ~1e-7 / eps, swamps the truncation error).

Shapes are compared before values: a (1, M) bias gradient for an (M,)
parameter is a bug even though NumPy would happily broadcast it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from dlcore.errors import ShapeError, format_shape
from dlcore.report import below

__all__ = [
    "numerical_gradient",
    "numerical_vjp",
    "relative_error",
    "GradCheckRow",
    "GradCheckReport",
    "check_gradients",
    "DEFAULT_EPS",
    "DEFAULT_TOLERANCE",
    "NOISE_LEVEL",
]

# eps = 1e-6 balances truncation error (~eps^2 = 1e-12) against rounding
# error (~1e-16 / eps = 1e-10) in float64.
DEFAULT_EPS = 1e-6
# A correct float64 backward pass lands around 1e-9 or below at eps = 1e-6;
# a wrong one (a missing factor, a wrong sign, a swapped index) lands
# around 1e-2 to 1. 1e-6 separates the two with margin on both sides.
DEFAULT_TOLERANCE = 1e-6
# Below this, a relative error is rounding noise whose digits change from one
# CPU to another: the report's table prints it as "< 1e-8", not its digits.
NOISE_LEVEL = 1e-8


def _require_float64(func: str, name: str, x: np.ndarray) -> None:
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        kind = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(
            f"{func}: {name} must be a float64 NumPy array (finite differences need the "
            f"precision), got {kind}; convert with np.asarray({name}, dtype=np.float64)"
        )


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = DEFAULT_EPS) -> np.ndarray:
    """Central-difference gradient of a scalar function with respect to ``x``.

    dL/dx_i ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

    Args:
        f: a function of no arguments that reads ``x`` (and possibly other
            arrays) and returns a scalar.
        x: float64 array, nudged in place one entry at a time and always
            restored, even if ``f`` raises.
        eps: the step.

    Returns:
        An array of ``x.shape``.
    """
    _require_float64("numerical_gradient", "x", x)
    grad = np.zeros_like(x)
    flat_x = x.reshape(-1)  # a view: writing to it nudges x itself
    if not np.shares_memory(flat_x, x):
        raise ValueError("numerical_gradient: x must be contiguous so it can be nudged in place")
    flat_grad = grad.reshape(-1)
    for i in range(flat_x.size):
        original = flat_x[i]
        try:
            flat_x[i] = original + eps
            plus = float(f())
            flat_x[i] = original - eps
            minus = float(f())
        finally:
            flat_x[i] = original
        flat_grad[i] = (plus - minus) / (2 * eps)
    return grad


def numerical_vjp(
    f: Callable[[], np.ndarray], x: np.ndarray, dout: np.ndarray, eps: float = DEFAULT_EPS
) -> np.ndarray:
    """Numerical vector-Jacobian product: the gradient of sum(f() * dout) w.r.t. ``x``.

    Args:
        f: a function of no arguments returning an array of ``dout.shape``.
        x: float64 array that ``f`` reads (nudged in place, always restored).
        dout: the upstream gradient, same shape as ``f()``.

    Returns:
        dout^T (df/dx), an array of ``x.shape``.
    """
    _require_float64("numerical_vjp", "dout", np.asarray(dout, dtype=np.float64))

    def projected() -> float:
        out = np.asarray(f())
        if out.shape != np.shape(dout):
            raise ShapeError(
                f"numerical_vjp: f() returned shape {format_shape(out.shape)} but dout has "
                f"shape {format_shape(np.shape(dout))}; they must match"
            )
        return float(np.sum(out * dout))

    return numerical_gradient(projected, x, eps)


def relative_error(analytic: np.ndarray, numeric: np.ndarray, name: str = "gradient") -> float:
    """||a - n|| / max(||a|| + ||n||, 1e-12), after checking the shapes are identical.

    Raises:
        ShapeError: if the shapes differ. Comparing them anyway would let
            broadcasting hide a wrongly shaped gradient.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise ShapeError(
            f"relative_error: analytic {name} has shape {format_shape(analytic.shape)} but the "
            f"numerical one has shape {format_shape(numeric.shape)}; a gradient must have the "
            f"shape of what it differentiates"
        )
    if not np.all(np.isfinite(analytic)):
        return float("inf")
    denominator = max(np.linalg.norm(analytic) + np.linalg.norm(numeric), 1e-12)
    return float(np.linalg.norm(analytic - numeric) / denominator)


@dataclass(frozen=True)
class GradCheckRow:
    """The verdict on one input's gradient."""

    name: str
    shape: tuple[int, ...]
    analytic_shape: tuple[int, ...] | None
    error: float | None
    passed: bool
    reason: str


@dataclass
class GradCheckReport:
    """Per-input results of :func:`check_gradients`; ``str(report)`` is a table."""

    rows: list[GradCheckRow] = field(default_factory=list)
    tolerance: float = DEFAULT_TOLERANCE

    @property
    def passed(self) -> bool:
        return bool(self.rows) and all(row.passed for row in self.rows)

    def __getitem__(self, name: str) -> GradCheckRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"GradCheckReport: no row named {name!r}; rows: {[r.name for r in self.rows]}")

    def __str__(self) -> str:
        header = f"{'input':<10} {'shape':<14} {'rel. error':>11}  verdict"
        lines = [header, "-" * len(header)]
        for row in self.rows:
            if row.error is None:
                error = "-"
            else:
                error = below(row.error, NOISE_LEVEL) if row.error < NOISE_LEVEL else f"{row.error:.2e}"
            verdict = "ok" if row.passed else f"FAIL: {row.reason}"
            lines.append(f"{row.name:<10} {format_shape(row.shape):<14} {error:>11}  {verdict}")
        lines.append(f"(tolerance {self.tolerance:.0e}; {'all passed' if self.passed else 'see FAIL rows'})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def assert_ok(self) -> None:
        """Raise AssertionError with the table unless every row passed."""
        if not self.passed:
            raise AssertionError("gradient check failed:\n" + str(self))


def check_gradients(
    forward: Callable[..., object],
    backward: Callable[[np.ndarray, object], Sequence[np.ndarray] | Mapping[str, np.ndarray]],
    inputs: Mapping[str, np.ndarray],
    *,
    rng: np.random.Generator | None = None,
    eps: float = DEFAULT_EPS,
    tolerance: float = DEFAULT_TOLERANCE,
) -> GradCheckReport:
    """Check a kernel's backward pass against finite differences.

    Args:
        forward: ``forward(**inputs) -> (out, cache)`` (a bare ``out`` is allowed
            too; then ``backward`` receives ``None`` as the cache).
        backward: ``backward(dout, cache)`` returning one gradient per input,
            as a sequence in the order of ``inputs`` or a mapping by name.
        inputs: float64 arrays by argument name; each gets a gradient checked.
        rng: source of the random upstream gradient (default: seed 0).

    Returns:
        A :class:`GradCheckReport`; it never raises for a wrong gradient, it
        reports it (call ``.assert_ok()`` to raise).

    Example (chapter 05): ``check_gradients(linear_forward, linear_backward,
    {"x": x, "W": W, "b": b}).assert_ok()``
    """
    rng = np.random.default_rng(0) if rng is None else rng
    for name, value in inputs.items():
        _require_float64("check_gradients", f"inputs[{name!r}]", value)
    # Work on copies: the caller's arrays are never nudged.
    arrays = {name: np.array(value, dtype=np.float64, copy=True) for name, value in inputs.items()}

    def run() -> tuple[np.ndarray, object]:
        result = forward(**arrays)
        if isinstance(result, tuple) and len(result) == 2:
            return np.asarray(result[0]), result[1]
        return np.asarray(result), None

    out, cache = run()
    dout = rng.standard_normal(out.shape)
    grads = backward(dout, cache)
    if isinstance(grads, np.ndarray):
        grads = (grads,)
    if isinstance(grads, Mapping):
        analytic = {name: grads.get(name) for name in arrays}
    else:
        grads = list(grads)
        if len(grads) != len(arrays):
            raise ValueError(
                f"check_gradients: backward returned {len(grads)} gradients but there are "
                f"{len(arrays)} inputs ({', '.join(arrays)}); return one per input, in order"
            )
        analytic = dict(zip(arrays, grads))

    report = GradCheckReport(tolerance=tolerance)
    for name, x in arrays.items():
        grad = analytic[name]
        if grad is None:
            report.rows.append(GradCheckRow(name, x.shape, None, None, False, "no gradient returned"))
            continue
        grad = np.asarray(grad)
        if grad.shape != x.shape:
            report.rows.append(
                GradCheckRow(
                    name, x.shape, grad.shape, None, False,
                    f"gradient has shape {format_shape(grad.shape)}, expected {format_shape(x.shape)}",
                )
            )
            continue
        numeric = numerical_vjp(lambda: run()[0], x, dout, eps)
        error = relative_error(grad, numeric, name)
        passed = error <= tolerance
        reason = "" if passed else f"relative error {error:.1e} > {tolerance:.0e}"
        report.rows.append(GradCheckRow(name, x.shape, grad.shape, error, passed, reason))
    return report
