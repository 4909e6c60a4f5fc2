"""Residuals and residual Jacobian of the ACE fitting engine (``AceFitEngine.residuals``).

Design: the tiny potentials and data sets of the fit-engine tests (periodic cells with stresses, one
and two elements, one and two densities).  The residuals reproduce the loss exactly (sum of squares);
their Jacobian over the trainable parameters matches central finite differences of the residuals and
J^T r equals half the loss gradient of ``evaluate``; tiny chunks give the same Jacobian as one chunk;
L1 and radial smoothness are refused with a clear error.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from forcefit.ace.fit_engine import AceFitEngine
from forcefit.ace.residuals import config_chunks
from forcefit.errors import InputError
from forcefit.pacemaker.sections import LossSpec

from ace_fit_helpers import random_point, tiny_data, tiny_section

LS_LOSS = LossSpec(kappa=0.4, L1_coeffs=0.0, L2_coeffs=2e-3, w0_rad=0.0, w1_rad=0.0, w2_rad=0.0, w_stress=0.5)


def _setup(elements, ndensity=1, trainable=None, n=4):
    engine = AceFitEngine(num_threads=1)
    target, _ = engine.build_potentials(tiny_section(elements, ndensity), elements, trainable)
    data = tiny_data(elements, n=n)
    return engine, target, data, engine.prepare(data, 4.0)


@pytest.mark.parametrize("elements,ndensity", [(["Cu"], 1), (["Al", "Ni"], 2)])
def test_residuals_give_the_loss_and_their_jacobian_matches_finite_differences(elements, ndensity):
    engine, target, data, handle = _setup(elements, ndensity)
    x = random_point(target)
    res = engine.residuals(target, x, data, handle, LS_LOSS)
    evaluation = engine.evaluate(target, x, data, handle, LS_LOSS)
    assert evaluation.components.stress > 0 and evaluation.components.l2 > 0
    np.testing.assert_allclose(np.sum(res.residual**2), evaluation.loss, rtol=1e-12)
    n_rows = data.n_structures * 7 + 3 * int(data.n_atoms.sum()) + int(target.map.function_mask().sum())
    assert res.jacobian.shape == (n_rows, len(x)) and np.array_equal(res.columns, np.arange(len(x)))
    # J^T r is half the loss gradient
    np.testing.assert_allclose(res.jacobian.T @ res.residual, 0.5 * evaluation.gradient, rtol=1e-9,
                               atol=1e-9 * np.max(np.abs(evaluation.gradient)))
    # columns against central differences: radial and function coefficients
    n_radial = target.map.n_radial
    for k in sorted({0, n_radial - 1, n_radial, len(x) // 2, len(x) - 1}):
        h = 1e-5 * max(1.0, abs(x[k]))
        step = np.zeros_like(x)
        step[k] = h
        plus = engine.residuals(target, x + step, data, handle, LS_LOSS, jacobian=False).residual
        minus = engine.residuals(target, x - step, data, handle, LS_LOSS, jacobian=False).residual
        fd = (plus - minus) / (2 * h)
        assert np.max(np.abs(fd)) > 1e-8, k
        assert np.max(np.abs(res.jacobian[:, k] - fd)) <= 1e-6 * np.max(np.abs(fd)), k


def test_tiny_chunks_give_the_same_jacobian_and_the_chunks_cover_every_configuration():
    engine, target, data, handle = _setup(["Al", "Ni"], n=5)
    x = random_point(target)
    whole = engine.residuals(target, x, data, handle, LS_LOSS, chunk_mb=1e3).jacobian
    pieces = engine.residuals(target, x, data, handle, LS_LOSS, chunk_mb=1e-6).jacobian
    np.testing.assert_allclose(pieces, whole, rtol=1e-13, atol=1e-13 * np.max(np.abs(whole)))
    offset = np.array([0, 3, 8, 12, 20])
    assert list(config_chunks(offset, 100, 1e-9)) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert list(config_chunks(offset, 100, 1e3)) == [(0, 4)]
    # 16 bytes per row and parameter; rows 7 + 3 N = 16, 22, 19, 31: a budget of 40 rows takes 16 + 22, then one each
    assert list(config_chunks(offset, 100, 40 * 1600 / 2**20)) == [(0, 2), (2, 3), (3, 4)]
    with pytest.raises(InputError, match="positive"):
        engine.residuals(target, x, data, handle, LS_LOSS, chunk_mb=0.0)


def test_jacobian_columns_are_the_trainable_parameters():
    engine, full, data, handle = _setup(["Al", "Ni"])
    _, func_only, _, _ = _setup(["Al", "Ni"], trainable="func")
    x = random_point(full)
    j_full = engine.residuals(full, x, data, handle, LS_LOSS).jacobian
    res = engine.residuals(func_only, x, data, handle, LS_LOSS)
    assert np.array_equal(res.columns, np.flatnonzero(func_only.mask)) and len(res.columns) < len(x)
    np.testing.assert_array_equal(res.jacobian, j_full[:, res.columns])


def test_terms_that_are_not_sums_of_squares_are_refused():
    engine, target, data, handle = _setup(["Cu"])
    x = target.get_parameters()
    with pytest.raises(InputError, match="L1_coeffs"):
        engine.residuals(target, x, data, handle, replace(LS_LOSS, L1_coeffs=1e-3))
    with pytest.raises(InputError, match="w1_rad"):
        engine.residuals(target, x, data, handle, replace(LS_LOSS, w1_rad=1e-3))


def test_structures_without_reference_stress_have_no_stress_rows():
    engine, target, data, handle = _setup(["Cu"])
    stress = data.stress.copy()
    stress[1] = np.nan
    partial = replace(data, stress=stress)
    x = random_point(target)
    res = engine.residuals(target, x, partial, handle, LS_LOSS)
    full = engine.residuals(target, x, data, handle, LS_LOSS)
    assert len(res.residual) == len(full.residual) - 6
    np.testing.assert_allclose(np.sum(res.residual**2), engine.evaluate(target, x, partial, handle, LS_LOSS).loss,
                               rtol=1e-12)
    # the rows of the other structures are unchanged: energy and force rows, then stress rows of 0, 2, 3
    n_before = data.n_structures + 3 * int(data.n_atoms.sum())
    keep = np.r_[0:n_before + 6, n_before + 12:len(full.residual)]
    np.testing.assert_array_equal(res.jacobian, full.jacobian[keep])
    no_stress = engine.residuals(target, x, data, handle, replace(LS_LOSS, w_stress=0.0), jacobian=False)
    assert len(no_stress.residual) == len(full.residual) - 6 * data.n_structures


def test_normal_equations_and_vjp_without_the_assembled_jacobian():
    engine, target, data, handle = _setup(["Al", "Ni"], ndensity=2, trainable="func")
    x = random_point(target)
    full = engine.residuals(target, x, data, handle, LS_LOSS)
    j, r = full.jacobian, full.residual
    res, jtj, jtr = engine.residual_normal_equations(target, x, data, handle, LS_LOSS, chunk_mb=1e-6)
    assert res.jacobian is None and np.array_equal(res.residual, r)
    np.testing.assert_allclose(jtj, j.T @ j, rtol=1e-11, atol=1e-12 * np.max(np.abs(jtj)))
    np.testing.assert_allclose(jtr, j.T @ r, rtol=1e-11, atol=1e-12 * np.max(np.abs(jtr)))
    u = np.random.default_rng(5).normal(size=len(r))
    jtu = engine.residual_vjp(target, x, data, handle, LS_LOSS, u)
    np.testing.assert_allclose(jtu, j.T @ u, rtol=1e-10, atol=1e-11 * np.max(np.abs(jtu)))
    with pytest.raises(InputError, match="shape"):
        engine.residual_vjp(target, x, data, handle, LS_LOSS, u[:-1])
