"""Geodesic Levenberg-Marquardt against known minima and scipy's least_squares."""

import numpy as np
import pytest
from scipy.optimize import least_squares

from forcefit.optimize import geodesic_lm


def rosenbrock(x):
    return np.array([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]])


def rosenbrock_jac(x):
    return np.array([[-20.0 * x[0], 10.0], [-1.0, 0.0]])


@pytest.mark.parametrize("use_jac", [True, False])
@pytest.mark.parametrize("accel", [True, False])
def test_rosenbrock_reaches_minimum(use_jac, accel):
    res = geodesic_lm(rosenbrock, [-1.2, 1.0], jac=rosenbrock_jac if use_jac else None, accel=accel)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, [1.0, 1.0], rtol=1e-7)
    assert res.cost < 1e-16
    assert res.nfev < 200


def test_geodesic_acceleration_does_not_cost_more_iterations_on_rosenbrock():
    plain = geodesic_lm(rosenbrock, [-1.2, 1.0], jac=rosenbrock_jac, accel=False)
    accel = geodesic_lm(rosenbrock, [-1.2, 1.0], jac=rosenbrock_jac, accel=True)
    assert accel.njev <= plain.njev


@pytest.fixture
def exponential_data():
    rng = np.random.default_rng(7)
    t = np.linspace(0.0, 6.0, 80)
    y = 2.5 * np.exp(-1.3 * t) + 0.4 * np.exp(-0.2 * t) + 0.01 * rng.standard_normal(t.size)
    return t, y


def test_exponential_fit_matches_scipy_least_squares(exponential_data):
    t, y = exponential_data

    def fun(p):
        return p[0] * np.exp(-p[1] * t) + p[2] * np.exp(-p[3] * t) - y

    def jac(p):
        e1, e2 = np.exp(-p[1] * t), np.exp(-p[3] * t)
        return np.stack([e1, -p[0] * t * e1, e2, -p[2] * t * e2], axis=1)

    x0 = [1.0, 2.0, 1.0, 0.05]
    ref = least_squares(fun, x0, jac, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15)
    for broyden in (False, True):
        res = geodesic_lm(fun, x0, jac, broyden=broyden, maxiter=2000)
        assert res.success, res.message
        np.testing.assert_allclose(res.cost, ref.cost, rtol=1e-9)
        np.testing.assert_allclose(res.x, ref.x, rtol=1e-5)
        np.testing.assert_allclose(res.grad, jac(res.x).T @ fun(res.x), atol=1e-12)


def test_args_kwargs_and_callback_are_passed(exponential_data):
    t, y = exponential_data
    seen = []

    def fun(p, tt, *, yy):
        return p[0] * np.exp(-p[1] * tt) - yy

    res = geodesic_lm(fun, [1.0, 1.0], args=(t,), kwargs={"yy": y},
                      callback=lambda x, c: seen.append(c))
    assert res.nfev > 0 and seen
    assert all(b <= a for a, b in zip(seen, seen[1:])), "accepted steps must lower the cost"
    assert seen[-1] == pytest.approx(res.cost)


def test_bounds_are_respected():
    # unconstrained minimum at x = 3; the box stops at 2
    def fun(x):
        return np.array([x[0] - 3.0, 0.1 * (x[0] - 3.0) ** 2])

    res = geodesic_lm(fun, [0.0], bounds=([-1.0], [2.0]))
    assert -1.0 <= res.x[0] <= 2.0
    assert res.x[0] == pytest.approx(2.0, abs=1e-6)
    with pytest.raises(ValueError, match="outside the bounds"):
        geodesic_lm(fun, [5.0], bounds=([-1.0], [2.0]))


def test_nonfinite_trial_points_are_rejected_not_accepted():
    # residual undefined (NaN) for x < 0; minimum at x = 0.5 from a start where the full LM step
    # would overshoot into the NaN region
    def fun(x):
        with np.errstate(invalid="ignore"):
            return np.array([np.sqrt(x[0]) - np.sqrt(0.5), 0.0])

    res = geodesic_lm(fun, [4.0])
    assert np.isfinite(res.cost)
    assert res.x[0] == pytest.approx(0.5, rel=1e-6)


def test_nonfinite_start_raises():
    with pytest.raises(FloatingPointError):
        geodesic_lm(lambda x: np.array([np.nan]), [1.0])
