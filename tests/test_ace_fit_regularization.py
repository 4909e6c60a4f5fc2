"""Regularization terms of the ACE fit: L1/L2 on function coefficients only, and tensorpot's radial
smoothness sums checked against the evaluator's own radial functions R_nl(r)."""

from __future__ import annotations

import numpy as np

from forcefit.ace.fit_engine import AceFitEngine
from forcefit.ace.regularization import GRID_END_OFFSET, GRID_POINTS, GRID_START, coefficient_penalties

from ace_fit_helpers import random_point, tiny_section


def test_coefficient_penalties_skip_radial_coefficients():
    x = np.array([3.0, -2.0, 0.5, -0.25, 0.0])
    mask = np.array([False, False, True, True, True])
    l1, l2, grad = coefficient_penalties(x, mask, 0.1, 0.01)
    assert l1 == 0.1 * 0.75 and l2 == 0.01 * (0.25 + 0.0625)
    assert np.allclose(grad, [0, 0, 0.1 + 0.01, -0.1 - 0.005, 0.0])


def test_radial_smoothness_is_tensorpots_integral_of_the_model_radial_functions():
    elements = ["Al", "Ni"]
    engine = AceFitEngine(num_threads=1)
    pot, _ = engine.build_potentials(tiny_section(elements, 1, rcut=4.5), elements)
    x = random_point(pot, seed=7)
    model = engine._model(pot)
    ctilde, crad = pot.map.ctilde_coefficients(x)
    model.set_parameters(ctilde, crad, rebuild_splines=False)
    values, _ = engine._smoothness(pot, model).terms(crad, want_gradient=False)
    expected = np.zeros(2)
    nbonds = 0
    for (i, j) in pot.map.crad_full_slices:
        nradmax, nl, nradbase = pot.map.bond_shapes[(min(i, j), max(i, j))]
        rcut = pot.map.skeleton.bonds[(i, j)].rcut
        r = np.linspace(GRID_START, rcut - GRID_END_OFFSET, GRID_POINTS)
        v, d = model.radial(i, j, r, False)
        rnl, drnl = v[:, nradbase:nradbase + nradmax * nl], d[:, nradbase:nradbase + nradmax * nl]
        for k, f in enumerate((rnl, drnl)):
            expected[k] += np.sum(r**2 * np.sum(np.abs(f), axis=1)) * (r[1] - r[0]) / rcut**2
        nbonds += 1
    expected /= nbonds
    assert np.allclose(values[:2], expected, rtol=1e-12)
    # the second-derivative sum: finite differences of the analytic first derivative, to ~1e-6
    h = 1e-4
    total = 0.0
    for (i, j) in pot.map.crad_full_slices:
        nradmax, nl, nradbase = pot.map.bond_shapes[(min(i, j), max(i, j))]
        rcut = pot.map.skeleton.bonds[(i, j)].rcut
        r = np.linspace(GRID_START, rcut - GRID_END_OFFSET, GRID_POINTS)[1:]
        cols = slice(nradbase, nradbase + nradmax * nl)
        d2 = (model.radial(i, j, r + 0.5 * h, False)[1][:, cols] - model.radial(i, j, r - 0.5 * h, False)[1][:, cols]) / h
        total += np.sum(r**2 * np.sum(np.abs(d2), axis=1)) * (r[1] - r[0]) / rcut**2
    assert abs(values[2] - total / nbonds) < 1e-5 * abs(values[2])
