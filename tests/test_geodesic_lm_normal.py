"""Geodesic Levenberg-Marquardt on the normal equations takes geodesic_lm's accepted iterates."""

import numpy as np
import pytest

from forcefit.optimize.geodesic_lm import geodesic_lm
from forcefit.optimize.geodesic_lm_normal import geodesic_lm_normal

T = np.linspace(0.0, 6.0, 60)
Y = 2.5 * np.exp(-1.3 * T) + 0.4 * np.sin(0.7 * T) + 0.01 * np.random.default_rng(3).standard_normal(T.size)


def residual(x):
    return x[0] * np.exp(-x[1] * T) + x[2] * np.sin(x[3] * T) - Y


def jacobian(x):
    e, s = np.exp(-x[1] * T), np.sin(x[3] * T)
    return np.column_stack([e, -x[0] * T * e, s, x[2] * T * np.cos(x[3] * T)])


def normal(x, r):
    j = jacobian(x)
    return j.T @ j, j.T @ r


def jt(x, u):
    return jacobian(x).T @ u


@pytest.mark.parametrize("accel", [True, False])
@pytest.mark.parametrize("bounds", [None, ([0, 0, 0, 0], [10, 10, 10, 0.75])])
def test_same_iterates_as_geodesic_lm(accel, bounds):
    x0 = [1.0, 0.5, 1.0, 0.3]
    seen_full, seen_normal = [], []
    full = geodesic_lm(residual, x0, jac=jacobian, accel=accel, bounds=bounds, maxiter=60,
                       callback=lambda x, c: seen_full.append(x))
    compact = geodesic_lm_normal(residual, x0, normal, jt, accel=accel, bounds=bounds, maxiter=60,
                                 callback=lambda x, c: seen_normal.append(x))
    assert len(seen_full) == len(seen_normal) > 3
    np.testing.assert_allclose(np.array(seen_normal), np.array(seen_full), rtol=1e-8, atol=1e-10)
    # J^T r_vv is formed from J^T r(x + h v) - J^T r(x) here, from r(x + h v) - r(x) there: rounding may
    # flip a rejection near convergence, never an accepted step
    assert compact.status == full.status and abs(compact.nit - full.nit) <= 2
    assert compact.success and compact.cost == pytest.approx(full.cost, rel=1e-10)
    np.testing.assert_allclose(compact.jtj, full.jac.T @ full.jac, rtol=1e-10)


def test_refuses_a_start_outside_the_bounds_and_non_finite_residuals():
    with pytest.raises(ValueError, match="outside the bounds"):
        geodesic_lm_normal(residual, [1.0, 0.5, 1.0, 0.9], normal, jt, bounds=([0] * 4, [10, 10, 10, 0.75]))
    with pytest.raises(FloatingPointError):
        geodesic_lm_normal(lambda x: np.full(T.size, np.nan), [1.0, 0.5, 1.0, 0.3], normal, jt)


def test_shares_geodesic_lm_defaults():
    # the two entry points spell out the same iteration settings; they must not drift apart
    import inspect

    explicit = inspect.signature(geodesic_lm).parameters
    normal = inspect.signature(geodesic_lm_normal).parameters
    shared = [name for name in normal if name in explicit and name not in ("fun", "x0")]
    assert len(shared) >= 15
    for name in shared:
        assert normal[name].default == explicit[name].default, name
