"""Parameter vector-Jacobian product of the Ctilde ACE model (``AceCtildeModel.parameter_vjp``).

Design: small potentials are built from pacemaker ``potential:`` sections (random coefficients, random
radial coefficients), compiled with ``keep_zero_terms=True`` and evaluated on small periodic cells and
clusters.  With random adjoints the scalar L = dL_dE.E + dL_dF.F + dL_dW.W is differentiated by central
finite differences along random parameter directions restricted to one kind at a time (the ctildes of one
rank, the radial coefficients), moving the parameters with ``set_parameters`` on the analytic radial path;
``set_parameters`` itself is checked against a model rebuilt from the changed potential.  The energies,
forces and virials the call returns are compared with the plain evaluator.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.data import atomic_numbers

from forcefit import _core
from forcefit.ace.construct import construct_bbasis
from forcefit.ace.convert import bbasis_to_ctilde
from forcefit.ace.evaluator import csr_neighbors
from forcefit.errors import InputError


def _functions(nrad, lmax):
    return {"nradmax_by_orders": nrad, "lmax_by_orders": lmax, "coefs_init": "random"}


def _potential(conf, seed):
    """Ctilde potential with random ctildes and radial coefficients perturbed away from the delta init."""
    rng = np.random.default_rng(seed)
    pot = bbasis_to_ctilde(construct_bbasis(conf, rng))
    for bond in pot.bonds.values():
        crad = np.asarray(bond.radcoefficients, dtype=float)
        bond.radcoefficients = crad + 0.3 * rng.normal(size=crad.shape)
    return pot


def _model(pot, keep_zero_terms=True):
    z = [atomic_numbers[e] for e in pot.elements]
    return _core.AceCtildeModel(pot, z, True, keep_zero_terms)


UNARY_CHEBEXPCOS = {
    "elements": ["Cu"],
    "embeddings": {"ALL": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1, 1, 0.5], "ndensity": 2}},
    "bonds": {"ALL": {"radbase": "ChebExpCos", "radparameters": [5.25], "rcut": 4.6, "dcut": 0.01,
                      "core-repulsion": [50.0, 1.0], "r_in": 1.6, "delta_in": 0.3,
                      "inner_cutoff_type": "density"}},
    "functions": {"UNARY": _functions([4, 2, 2, 1, 1], [0, 2, 2, 1, 1])},
}

UNARY_CHEBPOW_FS = {
    "elements": ["Al"],
    "embeddings": {"ALL": {"npot": "FinnisSinclair", "fs_parameters": [1, 0.8], "ndensity": 1}},
    "bonds": {"ALL": {"radbase": "ChebPow", "radparameters": [2.0], "rcut": 4.8, "dcut": 0.02,
                      "core-repulsion": [100.0, 2.0], "r_in": 2.2, "delta_in": 0.4,
                      "inner_cutoff_type": "distance"}},
    "functions": {"UNARY": _functions([4, 2, 2, 1], [0, 2, 1, 1])},
}

# core repulsion strong enough that rho_core lies inside the switching window of every atom
BINARY_SBESSEL = {
    "elements": ["Al", "Ni"],
    "embeddings": {"ALL": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1, 1, 0.5], "ndensity": 2,
                           "rho_core_cut": 200.0, "drho_core_cut": 199.0}},
    "bonds": {"ALL": {"radbase": "SBessel", "radparameters": [5.25], "rcut": 4.5, "dcut": 0.01,
                      "core-repulsion": [100.0, 0.5], "inner_cutoff_type": "density"},
              "AlNi": {"rcut": 4.2}},
    "functions": {"UNARY": _functions([3, 2, 1, 1], [0, 2, 1, 1]),
                  "BINARY": _functions([3, 2, 1, 1], [0, 1, 1, 0])},
}

TERNARY_CHEBLINEAR_ZBL = {
    "elements": ["Al", "Cu", "Ni"],
    "embeddings": {"ALL": {"npot": "FinnisSinclair", "fs_parameters": [1, 1, 1, 0.5], "ndensity": 2},
                   "Cu": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 0.75, 0.5, 1.5],
                          "ndensity": 2}},
    "bonds": {"ALL": {"radbase": "ChebLinear", "radparameters": [1.0], "rcut": 4.4, "dcut": 0.01,
                      "r_in": 2.5, "delta_in": 0.5, "inner_cutoff_type": "zbl", "core-repulsion": [1.0, 1.0]}},
    "functions": {"UNARY": _functions([3, 2, 1], [0, 1, 1]),
                  "BINARY": _functions([2, 1, 1], [0, 1, 1]),
                  "TERNARY": _functions([2, 1, 1], [0, 1, 0])},
}


def _structures(elements, seed, periodic=True, cluster=True):
    rng = np.random.default_rng(seed)
    out = []
    if periodic:
        at = bulk("Cu", "fcc", a=3.6, cubic=True)
        at.set_cell(at.cell.array @ (np.eye(3) + 0.03 * rng.normal(size=(3, 3))), scale_atoms=True)
        at.rattle(0.12, seed=seed)
        at.set_chemical_symbols(rng.choice(elements, len(at)))
        out.append(at)
    if cluster:
        base = bulk("Cu", "fcc", a=3.55).repeat(2)
        at = Atoms(positions=base.positions[:7] + 0.1 * rng.normal(size=(7, 3)), pbc=False)
        at.set_chemical_symbols(rng.choice(elements, len(at)))
        out.append(at)
    return out


class Batch:
    """Several structures as one global CSR list with random adjoints."""

    def __init__(self, model, pot, structures, seed, virial=True):
        rng = np.random.default_rng(seed)
        index = {e: k for k, e in enumerate(pot.elements)}
        firsts, neighs, rijs, species, offsets = [], [], [], [], [0]
        npairs = 0
        for at in structures:
            nl = csr_neighbors(at.positions, at.cell.array, at.pbc, model.cutoff)
            firsts.append(nl.first[:-1] + npairs)
            neighs.append(nl.neigh + offsets[-1])
            rijs.append(nl.rij)
            species.append([index[s] for s in at.get_chemical_symbols()])
            npairs += len(nl.neigh)
            offsets.append(offsets[-1] + len(at))
        self.structures = structures
        self.first = np.append(np.concatenate(firsts), npairs).astype(np.int64)
        self.neigh = np.concatenate(neighs).astype(np.int64)
        self.rij = np.concatenate(rijs)
        self.species = np.concatenate(species).astype(np.int32)
        self.offset = np.array(offsets, dtype=np.int64)
        nc, n = len(structures), offsets[-1]
        self.dE = rng.normal(size=nc)
        self.dF = rng.normal(size=(n, 3))
        self.dW = rng.normal(size=(nc, 6)) if virial else None

    splines = False

    def vjp(self, model):
        return model.parameter_vjp(self.species, self.first, self.neigh, self.rij, self.offset, self.dE, self.dF,
                                   self.dW, splines=self.splines)

    def loss(self, model):
        e, f, w, _, _ = self.vjp(model)
        total = self.dE @ e + np.sum(self.dF * f)
        return total + (np.sum(self.dW * w) if self.dW is not None else 0.0)


def _rank_masks(pot, model):
    """Boolean masks over the flat ctilde vector, one per rank present."""
    lay = model.parameter_layout()
    masks = {}
    g = 0
    for mu in range(len(pot.elements)):
        for func in pot.functions.get(mu, []):
            lo, hi = lay["ctilde_offsets"][g], lay["ctilde_offsets"][g + 1]
            mask = masks.setdefault(func.rank, np.zeros(lay["n_ctilde"], dtype=bool))
            mask[lo:hi] = True
            g += 1
    assert g == len(lay["ctilde_offsets"]) - 1
    return masks


def _direction(rng, values, mask):
    """Random direction on the masked parameters, each entry of the size of the parameters it moves."""
    typical = np.mean(np.abs(values[mask] if np.any(values[mask]) else values))
    return np.where(mask, rng.normal(size=len(values)) * (np.abs(values) + typical), 0.0)


def _directional_fd(model, batch, c0, r0, vc, vr, h=1e-4):
    """Five-point central difference of L along (vc, vr), step h relative (directions are sized like the
    parameters): truncation O(h^4) and rounding O(1e-16 |L| / h) both stay far below 1e-6."""
    vals = []
    for s in (2.0, 1.0, -1.0, -2.0):
        model.set_parameters(c0 + s * h * vc, r0 + s * h * vr, rebuild_splines=batch.splines)
        vals.append(batch.loss(model))
    model.set_parameters(c0, r0)
    return (-vals[0] + 8.0 * vals[1] - 8.0 * vals[2] + vals[3]) / (12.0 * h)


def _check_all_kinds(pot, structures, seed, virial=True, expected_ranks=None, tol=1e-6):
    model = _model(pot)
    batch = Batch(model, pot, structures, seed, virial)
    _, _, _, gc, gr = batch.vjp(model)
    c0, r0 = model.get_parameters()
    rng = np.random.default_rng(seed + 1)
    masks = _rank_masks(pot, model)
    if expected_ranks is not None:
        assert sorted(masks) == expected_ranks
    kinds = [(f"ctilde rank {r}", m, np.zeros(len(r0), dtype=bool)) for r, m in sorted(masks.items())]
    kinds.append(("crad", np.zeros(len(c0), dtype=bool), np.ones(len(r0), dtype=bool)))
    for name, mc, mr in kinds:
        vc, vr = _direction(rng, c0, mc), _direction(rng, r0, mr)
        analytic = gc @ vc + gr @ vr
        fd = _directional_fd(model, batch, c0, r0, vc, vr)
        assert abs(analytic - fd) <= tol * max(abs(fd), 1e-3), (name, analytic, fd)
        assert abs(fd) > 1e-6, (name, "direction has no effect: the check would be empty")
    return model, batch, gc, gr


def _check_outputs(model, batch):
    """Energies, forces, virials of parameter_vjp against the evaluator's analytic compute."""
    e, f, w, _, _ = batch.vjp(model)
    for c, at in enumerate(batch.structures):
        lo, hi = batch.offset[c], batch.offset[c + 1]
        nl = csr_neighbors(at.positions, at.cell.array, at.pbc, model.cutoff)
        ea, fa, wa = model.compute(batch.species[lo:hi], nl.first, nl.neigh, nl.rij, True, False)
        np.testing.assert_allclose(e[c], ea.sum(), rtol=1e-12, atol=1e-10)
        np.testing.assert_allclose(f[lo:hi], fa, rtol=1e-10, atol=1e-10)
        voigt = [wa[0, 0], wa[1, 1], wa[2, 2], wa[1, 2], wa[0, 2], wa[0, 1]]
        np.testing.assert_allclose(w[c], voigt, rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(wa, wa.T, atol=1e-9)


def test_unary_chebexpcos_ranks_1_to_5_shifted_scaled_two_densities():
    pot = _potential(UNARY_CHEBEXPCOS, 1)
    model, batch, _, _ = _check_all_kinds(pot, _structures(["Cu"], 2), 3, expected_ranks=[1, 2, 3, 4, 5])
    _check_outputs(model, batch)


def test_unary_chebpow_finnis_sinclair_distance_inner_cutoff_cluster():
    pot = _potential(UNARY_CHEBPOW_FS, 4)
    _check_all_kinds(pot, _structures(["Al"], 5, periodic=False), 6, virial=False, expected_ranks=[1, 2, 3, 4])


def _rho_core(model, batch):
    """Core-repulsion density of every atom (last radial function of each bond, summed over neighbours)."""
    rho = np.zeros(len(batch.species))
    for i in range(len(rho)):
        for p in range(batch.first[i], batch.first[i + 1]):
            a, b = batch.species[i], batch.species[batch.neigh[p]]
            r = np.linalg.norm(batch.rij[p])
            if r < model.bond_cutoff(a, b):
                rho[i] += model.radial(int(a), int(b), np.array([r]), False)[0][0, -1]
    return rho


def test_binary_sbessel_rho_core_switch_active():
    pot = _potential(BINARY_SBESSEL, 7)
    model, batch, _, _ = _check_all_kinds(pot, _structures(["Al", "Ni"], 8), 9, expected_ranks=[1, 2, 3, 4])
    _check_outputs(model, batch)
    rho = _rho_core(model, batch)
    assert np.all((rho > 1.0) & (rho < 200.0)), "rho_core must lie inside the switching window"


def test_ternary_cheblinear_zbl_mixed_embeddings():
    pot = _potential(TERNARY_CHEBLINEAR_ZBL, 10)
    structures = _structures(["Al", "Cu", "Ni"], 11)
    for at in structures:  # one pair inside the ZBL hand-over [rcut_in - dcut_in, rcut_in] = [2.0, 2.5]
        d = at.positions[1] - at.positions[0]
        at.positions[1] = at.positions[0] + 2.25 * d / np.linalg.norm(d)
    model, batch, _, _ = _check_all_kinds(pot, structures, 12, expected_ranks=[1, 2, 3])
    _check_outputs(model, batch)
    rmin = [min(np.linalg.norm(batch.rij[batch.first[i]:batch.first[i + 1]], axis=1)) for i in range(len(batch.species))]
    assert sum(2.0 < r < 2.5 for r in rmin) >= 2 * len(structures)


def test_energy_only_and_force_only_parts_are_separate():
    """Zero adjoints give zero gradients; each part alone matches its own finite difference."""
    pot = _potential(UNARY_CHEBEXPCOS, 13)
    model = _model(pot)
    batch = Batch(model, pot, _structures(["Cu"], 14, cluster=False), 15)
    batch.dE[:] = 0.0
    batch.dF[:] = 0.0
    batch.dW[:] = 0.0
    _, _, _, gc, gr = batch.vjp(model)
    assert not np.any(gc) and not np.any(gr)
    c0, r0 = model.get_parameters()
    rng = np.random.default_rng(16)
    vc, vr = _direction(rng, c0, np.ones(len(c0), bool)), _direction(rng, r0, np.ones(len(r0), bool))
    for part in ("dE", "dF", "dW"):
        b = copy.copy(batch)
        b.dE, b.dF, b.dW = np.zeros_like(batch.dE), np.zeros_like(batch.dF), np.zeros_like(batch.dW)
        setattr(b, part, rng.normal(size=getattr(batch, part).shape))
        _, _, _, gc, gr = b.vjp(model)
        fd = _directional_fd(model, b, c0, r0, vc, vr)
        assert abs(gc @ vc + gr @ vr - fd) <= 1e-6 * abs(fd), part


def test_set_parameters_matches_a_rebuilt_model_and_layout_follows_the_potential():
    pot = _potential(BINARY_SBESSEL, 17)
    model = _model(pot)
    lay = model.parameter_layout()
    c0, r0 = model.get_parameters()
    # layout: ctildes species-major, list order; crad bond (mu_i, mu_j) row-major
    expected_c = np.concatenate([np.ravel(f.ctildes) for mu in range(2) for f in pot.functions[mu]])
    expected_r = np.concatenate([np.ravel(pot.bonds[(a, b)].radcoefficients) for a in range(2) for b in range(2)])
    np.testing.assert_array_equal(c0, expected_c)
    np.testing.assert_array_equal(r0, expected_r)
    assert lay["n_ctilde"] == len(c0) and lay["n_crad"] == len(r0)
    assert list(lay["function_first"]) == [0, len(pot.functions[0]), len(pot.functions[0]) + len(pot.functions[1])]

    rng = np.random.default_rng(18)
    c1, r1 = c0 + 0.1 * rng.normal(size=len(c0)), r0 + 0.1 * rng.normal(size=len(r0))
    changed = copy.deepcopy(pot)
    g = 0
    for mu in range(2):
        for f in changed.functions[mu]:
            f.ctildes = c1[lay["ctilde_offsets"][g]:lay["ctilde_offsets"][g + 1]].reshape(np.shape(f.ctildes))
            g += 1
    for b, key in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        bond = changed.bonds[key]
        bond.radcoefficients = r1[lay["crad_offsets"][b]:lay["crad_offsets"][b + 1]].reshape(
            np.shape(bond.radcoefficients))
    rebuilt = _model(changed)
    model.set_parameters(c1, r1)
    at = _structures(["Al", "Ni"], 19, cluster=False)[0]
    nl = csr_neighbors(at.positions, at.cell.array, at.pbc, model.cutoff)
    species = np.array([0 if s == "Al" else 1 for s in at.get_chemical_symbols()], dtype=np.int32)
    for splines in (False, True):
        a = model.compute(species, nl.first, nl.neigh, nl.rij, True, splines)
        b = rebuilt.compute(species, nl.first, nl.neigh, nl.rij, True, splines)
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)
    model.set_parameters(c0, r0, rebuild_splines=False)
    with pytest.raises(InputError, match="stale"):
        model.compute(species, nl.first, nl.neigh, nl.rij, True, True)


def test_zero_coefficients_need_keep_zero_terms():
    pot = _potential(UNARY_CHEBPOW_FS, 20)
    for f in pot.functions[0]:
        if f.rank == 3:
            f.ctildes = np.zeros_like(np.asarray(f.ctildes, dtype=float))
    dropped = _model(pot, keep_zero_terms=False)
    batch = Batch(dropped, pot, _structures(["Al"], 21, periodic=False), 22, virial=False)
    with pytest.raises(InputError, match="keep_zero_terms"):
        batch.vjp(dropped)
    c0, r0 = dropped.get_parameters()
    with pytest.raises(InputError, match="keep_zero_terms"):
        dropped.set_parameters(c0 + 1.0, r0)
    # kept: the zero rank-3 coefficients still get (non-zero) gradients, checked by finite differences
    kept = _model(pot)
    _, _, _, gc, _ = batch.vjp(kept)
    mask = _rank_masks(pot, kept)[3]
    assert np.any(gc[mask] != 0.0)
    vc = _direction(np.random.default_rng(23), c0, mask)
    fd = _directional_fd(kept, batch, c0, r0, vc, np.zeros(len(r0)))
    assert abs(gc @ vc - fd) <= 1e-6 * abs(fd)


def test_results_do_not_depend_on_thread_count():
    pot = _potential(UNARY_CHEBEXPCOS, 24)
    model = _model(pot)
    batch = Batch(model, pot, _structures(["Cu"], 25), 26)
    args = (batch.species, batch.first, batch.neigh, batch.rij, batch.offset, batch.dE, batch.dF, batch.dW)
    one = model.parameter_vjp(*args, num_threads=1)
    two = model.parameter_vjp(*args, num_threads=2)
    for x, y in zip(one, two):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12 * np.max(np.abs(x)))


def test_rejects_neighbours_across_configurations():
    pot = _potential(UNARY_CHEBPOW_FS, 27)
    model = _model(pot)
    batch = Batch(model, pot, _structures(["Al"], 28), 29)
    bad = batch.neigh.copy()
    bad[0] = batch.offset[1]  # first pair of config 0 points into config 1
    with pytest.raises(InputError, match="another configuration"):
        model.parameter_vjp(batch.species, batch.first, bad, batch.rij, batch.offset, batch.dE, batch.dF, batch.dW)


def test_no_virial_adjoint_equals_zero_virial_adjoint():
    pot = _potential(UNARY_CHEBPOW_FS, 30)
    model = _model(pot)
    batch = Batch(model, pot, _structures(["Al"], 31), 32)
    args = (batch.species, batch.first, batch.neigh, batch.rij, batch.offset, batch.dE, batch.dF)
    none = model.parameter_vjp(*args, None)
    zero = model.parameter_vjp(*args, np.zeros_like(batch.dW))
    for x, y in zip(none, zero):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(InputError, match="dL_dW"):
        model.parameter_vjp(*args, np.zeros((len(batch.dE), 5)))


def test_outputs_false_gives_the_same_gradient():
    pot = _potential(BINARY_SBESSEL, 33)
    model = _model(pot)
    batch = Batch(model, pot, _structures(["Al", "Ni"], 34), 35)
    args = (batch.species, batch.first, batch.neigh, batch.rij, batch.offset, batch.dE, batch.dF, batch.dW)
    full = model.parameter_vjp(*args)
    lean = model.parameter_vjp(*args, outputs=False)
    assert lean[:3] == (None, None, None)
    np.testing.assert_array_equal(full[3], lean[3])
    np.testing.assert_array_equal(full[4], lean[4])


def test_spline_path_gradients_are_exact_for_the_spline_model():
    """The Hermite tables are linear in crad (R_nl's table is crad times the g_k tables), so on the spline
    path the gradient is that of the spline model itself."""
    pot = _potential(UNARY_CHEBEXPCOS, 36)
    model = _model(pot)
    batch = Batch(model, pot, _structures(["Cu"], 37, cluster=False), 38)
    batch.splines = True
    _, _, _, gc, gr = batch.vjp(model)
    c0, r0 = model.get_parameters()
    rng = np.random.default_rng(39)
    vc, vr = _direction(rng, c0, np.ones(len(c0), bool)), _direction(rng, r0, np.ones(len(r0), bool))
    fd = _directional_fd(model, batch, c0, r0, vc, vr)
    assert abs(gc @ vc + gr @ vr - fd) <= 1e-6 * abs(fd)
    e, f, _, _, _ = batch.vjp(model)
    ea, fa, _ = model.compute(batch.species, batch.first, batch.neigh, batch.rij, True, True)
    np.testing.assert_allclose(e[0], ea.sum(), rtol=1e-12)
    np.testing.assert_allclose(f, fa, atol=1e-10)


@pytest.mark.parametrize("npot", ["FinnisSinclair", "FinnisSinclairShiftedScaled"])
@pytest.mark.parametrize("fs_parameters", [[1.0, 0.25, 0.7, 0.75, -0.4, 2.0], [0.8, 1.5, 1.2, 1.0, 0.5, 3.0]],
                         ids=["m0.25-0.75-2", "m1.5-1-3"])
def test_both_embeddings_three_densities_exponents_below_at_above_one(npot, fs_parameters):
    # the force and virial parts of the gradient go through the embedding's second derivative
    conf = copy.deepcopy(UNARY_CHEBPOW_FS)
    conf["embeddings"] = {"ALL": {"npot": npot, "fs_parameters": fs_parameters, "ndensity": 3}}
    conf["functions"] = {"UNARY": _functions([3, 2, 1], [0, 1, 1])}
    pot = _potential(conf, 7)
    _check_all_kinds(pot, _structures(["Al"], 8), 9, expected_ranks=[1, 2, 3])
