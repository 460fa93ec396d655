"""The test surfaces: analytic gradients against finite differences, vectorisation, descend."""

from __future__ import annotations

import numpy as np
import pytest

from dlcore.gradcheck import DEFAULT_TOLERANCE, numerical_gradient, relative_error
from dlcore.scratch.benchmark_surfaces import SURFACES, elongated_quadratic, get_surface, rosenbrock
from dlcore.scratch.surfaces import Surface, descend

ALL = [factory() for factory in SURFACES.values()] + [
    elongated_quadratic(condition=50.0, angle=0.6),
    rosenbrock(a=0.5, b=10.0),
]


def _sample_points(surface: Surface, rng, count: int = 6) -> np.ndarray:
    low = np.array([surface.xlim[0], surface.ylim[0]])
    high = np.array([surface.xlim[1], surface.ylim[1]])
    return rng.uniform(low, high, size=(count, 2))  # (count, 2)


@pytest.mark.parametrize("surface", ALL, ids=lambda s: repr(s))
def test_gradient_matches_finite_differences(surface, rng):
    for point in _sample_points(surface, rng):
        x = point.copy()
        numeric = numerical_gradient(lambda: surface.value_at(x), x)
        analytic = surface.gradient_at(point)
        assert analytic.shape == (2,)
        assert relative_error(analytic, numeric) < DEFAULT_TOLERANCE, (surface, point, analytic, numeric)


@pytest.mark.parametrize("surface", ALL, ids=lambda s: repr(s))
def test_vectorised_equals_pointwise(surface, rng):
    points = _sample_points(surface, rng, count=12).reshape(3, 4, 2)  # a (3, 4) grid of points
    xs, ys = points[..., 0], points[..., 1]
    values = surface.value(xs, ys)
    gx, gy = surface.gradient(xs, ys)
    assert values.shape == gx.shape == gy.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            assert values[i, j] == pytest.approx(surface.value_at(points[i, j]), rel=1e-12)
            np.testing.assert_allclose([gx[i, j], gy[i, j]], surface.gradient_at(points[i, j]), rtol=1e-12)


@pytest.mark.parametrize("surface", ALL, ids=lambda s: repr(s))
def test_minima_are_stationary_with_the_stated_value(surface):
    for minimum in surface.minima:
        assert surface.value_at(minimum) == pytest.approx(surface.minimum_value, abs=1e-10)
        np.testing.assert_allclose(surface.gradient_at(minimum), 0.0, atol=1e-9)
    if surface.minimum_value is not None:
        _, _, zz = surface.grid(120)
        assert zz.min() >= surface.minimum_value - 1e-12


def test_grid_shapes_and_window():
    surface = get_surface("beale")
    xx, yy, zz = surface.grid(30)
    assert xx.shape == yy.shape == zz.shape == (30, 30)
    assert xx.min() == surface.xlim[0] and yy.max() == surface.ylim[1]


def test_condition_number_is_the_hessian_ratio():
    # The Hessian, from differencing the analytic gradient, has eigenvalues 1 and condition.
    surface = elongated_quadratic(condition=25.0, angle=0.4)
    eps = 1e-5
    hessian = np.column_stack([
        (surface.gradient_at(np.eye(2)[k] * eps) - surface.gradient_at(-np.eye(2)[k] * eps)) / (2 * eps)
        for k in range(2)
    ])
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(hessian)), [1.0, 25.0], rtol=1e-8)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="unknown surface 'banana'"):
        get_surface("banana")
    with pytest.raises(ValueError, match="condition must be"):
        elongated_quadratic(condition=0.5)
    surface = get_surface("saddle")
    with pytest.raises(ValueError, match=r"x has shape \(3,\) but y has shape \(2,\)"):
        surface.value(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match=r"point must have shape \(2,\)"):
        surface.value_at([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="resolution"):
        surface.grid(1)


class _PlainGD:
    """Gradient descent written out here, so descend is tested independently of dlcore.scratch.optim."""

    def __init__(self, params, lr):
        self.params, self.lr = params, lr

    def zero_grad(self):
        for p in self.params:
            p.grad[...] = 0.0

    def step(self):
        for p in self.params:
            p.value -= self.lr * p.grad


def test_descend_records_gradient_descent():
    surface = elongated_quadratic(condition=10.0)
    path = descend(surface, lambda params: _PlainGD(params, 0.05), start=(2.0, 1.0), num_steps=30)
    assert path.points.shape == (31, 2) and path.values.shape == (31,)
    assert not path.diverged and path.steps_taken == 30
    # On f = (x^2 + 10 y^2) / 2, each GD step multiplies x by (1 - lr) and y by (1 - 10 lr).
    steps = np.arange(31)
    np.testing.assert_allclose(path.points[:, 0], 2.0 * 0.95**steps, rtol=1e-12)
    np.testing.assert_allclose(path.points[:, 1], 1.0 * 0.5**steps, rtol=1e-12, atol=1e-300)
    assert np.all(np.diff(path.values) < 0)


def test_descend_stops_on_divergence_with_finite_output():
    surface = elongated_quadratic(condition=10.0)
    # lr = 0.5 > 2 / 10: the steep direction is multiplied by -4 every step.
    path = descend(surface, lambda params: _PlainGD(params, 0.5), num_steps=200, bound=1e3)
    assert path.diverged and path.steps_taken < 200
    assert np.all(np.isfinite(path.points)) and np.all(np.isfinite(path.values))
    assert np.max(np.abs(path.points)) <= 1e3
    with pytest.raises(ValueError, match="num_steps"):
        descend(surface, lambda params: _PlainGD(params, 0.1), num_steps=-1)
