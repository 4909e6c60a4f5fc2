"""Jacobian blocks of the Ctilde ACE model (``AceCtildeModel.parameter_jacobian``).

Design: the potentials, structures and batches of ``test_ace_param_gradients`` (every embedding kind with
one and two densities, the ChebExpCos, ChebPow, SBessel and ChebLinear radial bases, density, distance and
ZBL inner cutoffs, one to three elements, periodic cells and clusters).  For each parameter kind (the
ctildes of one rank, the radial coefficients) J v along a random direction v is compared with five-point
central differences of the energies, forces and virials; J^T a equals ``parameter_vjp`` for random
adjoints a; the outputs equal the plain evaluator; configurations passed one by one give the same rows as
one call; the thread count does not change a bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from forcefit.errors import InputError

from test_ace_param_gradients import (BINARY_SBESSEL, TERNARY_CHEBLINEAR_ZBL, UNARY_CHEBEXPCOS, UNARY_CHEBPOW_FS,
                                      Batch, _check_outputs, _direction, _model, _potential, _rank_masks,
                                      _structures)

UNARY_SBESSEL_SHIFTED_SCALED_ONE_DENSITY = {
    "elements": ["Cu"],
    "embeddings": {"ALL": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 0.5], "ndensity": 1}},
    "bonds": {"ALL": {"radbase": "SBessel", "radparameters": [5.25], "rcut": 4.3, "dcut": 0.01}},
    "functions": {"UNARY": {"nradmax_by_orders": [3, 2, 2, 1], "lmax_by_orders": [0, 2, 1, 1],
                            "coefs_init": "random"}},
}


def _jacobian(model, batch, **kwargs):
    return model.parameter_jacobian(batch.species, batch.first, batch.neigh, batch.rij, batch.offset, **kwargs)


def _outputs(model, batch):
    """(E [C], F [3N], W [6C]) as flat vectors."""
    e, f, w, _, _ = batch.vjp(model)
    return np.asarray(e), np.asarray(f).ravel(), np.asarray(w).ravel()


def _directional_fd(model, batch, c0, r0, vc, vr, h=1e-4):
    """Five-point central differences of (E, F, W) along (vc, vr), step h relative."""
    vals = []
    for s in (2.0, 1.0, -1.0, -2.0):
        model.set_parameters(c0 + s * h * vc, r0 + s * h * vr)
        vals.append(_outputs(model, batch))
    model.set_parameters(c0, r0)
    return [(-a + 8.0 * b - 8.0 * c + d) / (12.0 * h) for a, b, c, d in zip(*vals)]


def _check_jacobian(pot, structures, seed, expected_ranks, tol=1e-6):
    model = _model(pot)
    batch = Batch(model, pot, structures, seed, virial=True)
    e, f, w, je, jf, jv = _jacobian(model, batch)
    c0, r0 = model.get_parameters()
    n_ctilde = len(c0)
    assert je.shape == (len(structures), n_ctilde + len(r0))
    assert jf.shape == (3 * len(batch.species), n_ctilde + len(r0))
    assert jv.shape == (6 * len(structures), n_ctilde + len(r0))

    # J^T a is the vector-Jacobian product
    _, _, _, gc, gr = batch.vjp(model)
    g = je.T @ batch.dE + jf.T @ batch.dF.ravel() + jv.T @ batch.dW.ravel()
    np.testing.assert_allclose(g, np.concatenate([gc, gr]), rtol=1e-10, atol=1e-10 * np.max(np.abs(g)))

    # the outputs are the evaluator's
    e_ref, f_ref, w_ref = _outputs(model, batch)
    np.testing.assert_allclose(e, e_ref, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(np.ravel(f), f_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.ravel(w), w_ref, rtol=1e-10, atol=1e-9)

    # J v against finite differences, one parameter kind at a time
    rng = np.random.default_rng(seed + 1)
    masks = _rank_masks(pot, model)
    assert sorted(masks) == expected_ranks
    kinds = [(f"ctilde rank {r}", m, np.zeros(len(r0), dtype=bool)) for r, m in sorted(masks.items())]
    kinds.append(("crad", np.zeros(n_ctilde, dtype=bool), np.ones(len(r0), dtype=bool)))
    for name, mc, mr in kinds:
        vc, vr = _direction(rng, c0, mc), _direction(rng, r0, mr)
        v = np.concatenate([vc, vr])
        for block, jac, fd in zip(("energy", "forces", "virial"), (je, jf, jv),
                                  _directional_fd(model, batch, c0, r0, vc, vr)):
            scale = np.max(np.abs(fd))
            assert scale > 1e-6, (name, block, "direction has no effect: the check would be empty")
            err = np.max(np.abs(jac @ v - fd))
            assert err <= tol * scale, (name, block, err, scale)
    return model, batch


def test_unary_chebexpcos_ranks_1_to_5_shifted_scaled_two_densities():
    _check_jacobian(_potential(UNARY_CHEBEXPCOS, 1), _structures(["Cu"], 2), 3, [1, 2, 3, 4, 5])


def test_unary_sbessel_shifted_scaled_one_density():
    _check_jacobian(_potential(UNARY_SBESSEL_SHIFTED_SCALED_ONE_DENSITY, 21), _structures(["Cu"], 22), 23,
                    [1, 2, 3, 4])


def test_unary_chebpow_finnis_sinclair_one_density_cluster_only():
    _check_jacobian(_potential(UNARY_CHEBPOW_FS, 4), _structures(["Al"], 5, periodic=False), 6, [1, 2, 3, 4])


def test_binary_sbessel_rho_core_switch_active():
    _check_jacobian(_potential(BINARY_SBESSEL, 7), _structures(["Al", "Ni"], 8), 9, [1, 2, 3, 4])


def test_ternary_cheblinear_zbl_finnis_sinclair_two_densities():
    structures = _structures(["Al", "Cu", "Ni"], 11)
    for at in structures:  # one pair inside the ZBL hand-over [rcut_in - dcut_in, rcut_in] = [2.0, 2.5]
        d = at.positions[1] - at.positions[0]
        at.positions[1] = at.positions[0] + 2.25 * d / np.linalg.norm(d)
    _check_jacobian(_potential(TERNARY_CHEBLINEAR_ZBL, 10), structures, 12, [1, 2, 3])


def test_jacobian_check_can_fail():
    """A wrong Jacobian (one crad column scaled) is caught by the finite-difference comparison."""
    pot = _potential(UNARY_CHEBEXPCOS, 13)
    model = _model(pot)
    batch = Batch(model, pot, _structures(["Cu"], 14, cluster=False), 15)
    _, _, _, je, jf, jv = _jacobian(model, batch)
    c0, r0 = model.get_parameters()
    vr = np.zeros(len(r0))
    vr[np.argmax(np.abs(jf[:, len(c0):]).sum(axis=0))] = 1.0
    fd = _directional_fd(model, batch, c0, r0, np.zeros(len(c0)), vr)
    v = np.concatenate([np.zeros(len(c0)), vr])
    assert np.max(np.abs(jf @ v - fd[1])) <= 1e-6 * np.max(np.abs(fd[1]))
    assert np.max(np.abs(1.001 * (jf @ v) - fd[1])) > 1e-6 * np.max(np.abs(fd[1]))


def test_configurations_one_by_one_give_the_same_rows_and_threads_change_nothing():
    pot = _potential(BINARY_SBESSEL, 16)
    model = _model(pot)
    structures = _structures(["Al", "Ni"], 17)
    batch = Batch(model, pot, structures, 18)
    _, _, _, je, jf, jv = _jacobian(model, batch, num_threads=2)
    for c, at in enumerate(structures):
        single = Batch(model, pot, [at], 18)
        _, _, _, je1, jf1, jv1 = _jacobian(model, single, num_threads=1)
        lo, hi = batch.offset[c], batch.offset[c + 1]
        np.testing.assert_array_equal(je[c], je1[0])
        np.testing.assert_array_equal(jf[3 * lo:3 * hi], jf1)
        np.testing.assert_array_equal(jv[6 * c:6 * c + 6], jv1)
    for threads in (1, 3):
        again = _jacobian(model, batch, num_threads=threads)
        for a, b in zip(again[3:], (je, jf, jv)):
            np.testing.assert_array_equal(a, b)


def test_refuses_models_without_zero_terms_and_linked_configurations():
    pot = _potential(UNARY_CHEBPOW_FS, 20)
    for f in pot.functions[0]:
        if f.rank == 3:
            f.ctildes = np.zeros_like(np.asarray(f.ctildes, dtype=float))
    dropped = _model(pot, keep_zero_terms=False)
    batch = Batch(dropped, pot, _structures(["Al"], 21), 22)
    with pytest.raises(InputError, match="keep_zero_terms"):
        _jacobian(dropped, batch)
    bad = batch.neigh.copy()
    bad[0] = batch.offset[1]  # first pair of config 0 points into config 1
    with pytest.raises(InputError, match="another configuration"):
        _model(pot).parameter_jacobian(batch.species, batch.first, bad, batch.rij, batch.offset)
