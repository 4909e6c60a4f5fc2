"""Ctilde ACE evaluator: derivatives against finite differences, invariances, spline vs analytic
radial functions, shared-product vs plain-product evaluators, thread determinism, input errors.

The potentials are generated here with rotation-invariant couplings (rank 2: sum_m (-1)^m A_m A_-m;
rank 3: Wigner 3j; rank 4: a product of two rank-2 invariants), random radial coefficients and
FinnisSinclairShiftedScaled embeddings, so these tests do not need python-ace or ../shared.
"""

from __future__ import annotations

import itertools
from math import factorial, sqrt

import numpy as np
import pytest
from ase.build import bulk

from forcefit.ace.ctilde import Bond, CtildeFunction, CtildePotential, Embedding
from forcefit.ace.evaluator import ACEEvaluator
from forcefit.errors import InputError


def wigner_3j(j1, j2, j3, m1, m2, m3) -> float:
    """Wigner 3j symbol by Racah's formula (integer arguments)."""
    if m1 + m2 + m3 != 0 or not abs(j1 - j2) <= j3 <= j1 + j2 or max(abs(m1) - j1, abs(m2) - j2, abs(m3) - j3) > 0:
        return 0.0
    tri = factorial(j1 + j2 - j3) * factorial(j1 - j2 + j3) * factorial(-j1 + j2 + j3) / factorial(j1 + j2 + j3 + 1)
    pre = sqrt(tri * factorial(j1 + m1) * factorial(j1 - m1) * factorial(j2 + m2) * factorial(j2 - m2)
               * factorial(j3 + m3) * factorial(j3 - m3))
    s = 0.0
    for k in range(0, j1 + j2 + j3 + 1):
        args = (k, j1 + j2 - j3 - k, j1 - m1 - k, j2 + m2 - k, j3 - j2 + m1 + k, j3 - j1 - m2 + k)
        if min(args) < 0:
            continue
        den = 1
        for a in args:
            den *= factorial(a)
        s += (-1) ** k / den
    return (-1) ** (j1 - j2 - m3) * pre * s


def _pair_invariant(l):
    return [((m, -m), (-1.0) ** m) for m in range(-l, l + 1)]


def _function(mu0, mus, ns, ls, terms, ndensity, rng):
    ms = [list(t) for t, _ in terms]
    weights = np.array([w for _, w in terms])
    scale = rng.normal(size=ndensity) * 0.5
    ctildes = weights[:, None] * scale[None, :]
    return CtildeFunction(mu0=mu0, rank=len(ls), ndensity=ndensity, num_ms_combs=len(ms), mus=list(mus),
                          ns=list(ns), ls=list(ls), ms_combs=np.array(ms), ctildes=ctildes)


def random_potential(elements=("Al", "Ni"), radbase="ChebExpCos", nradmax=2, lmax=2, nradbase=4,
                     ndensity=2, seed=0, inner="density", prehc=0.0) -> CtildePotential:
    rng = np.random.default_rng(seed)
    n = len(elements)
    embeddings = {mu: Embedding(ndensity=ndensity,
                                FS_parameters=[1.0, 1.0] + [0.7, 0.5] * (ndensity - 1),
                                npoti="FinnisSinclairShiftedScaled", rho_core_cutoff=200.0, drho_core_cutoff=50.0)
                  for mu in range(n)}
    bonds = {}
    for i, j in itertools.product(range(n), repeat=2):
        bonds[(i, j)] = Bond(nradmax=nradmax, lmax=lmax, nradbasemax=nradbase, radbasename=radbase,
                             radparameters=[2.0 + 0.3 * (i + j)],
                             radcoefficients=rng.normal(size=(nradmax, lmax + 1, nradbase)) * 0.5,
                             prehc=prehc, lambdahc=1.5, rcut=4.6 + 0.2 * (i + j), dcut=0.2,
                             rcut_in=1.6 if inner == "distance" else 0.0,
                             dcut_in=0.4 if inner == "distance" else 0.0, inner_cutoff_type=inner)
    functions = {}
    for mu0 in range(n):
        fl = []
        for mu in range(n):
            for k in range(1, nradbase + 1):
                fl.append(_function(mu0, [mu], [k], [0], [((0,), 1.0)], ndensity, rng))
        for mu, nn, l in itertools.product(range(n), range(1, nradmax + 1), range(lmax + 1)):
            fl.append(_function(mu0, [mu, mu], [nn, nn], [l, l], _pair_invariant(l), ndensity, rng))
        for l1, l2, l3 in [(1, 1, 0), (1, 1, 2), (2, 2, 2), (1, 2, 1)]:
            if max(l1, l2, l3) > lmax:
                continue
            terms = [((m1, m2, -m1 - m2), wigner_3j(l1, l2, l3, m1, m2, -m1 - m2))
                     for m1 in range(-l1, l1 + 1) for m2 in range(-l2, l2 + 1) if abs(m1 + m2) <= l3]
            terms = [t for t in terms if t[1] != 0.0]
            mus = [0, n - 1, 0]
            fl.append(_function(mu0, mus, [1, 1, min(2, nradmax)], [l1, l2, l3], terms, ndensity, rng))
        for la, lb in [(1, 1), (1, 2)]:
            if lb > lmax:
                continue
            terms = [((ma, -ma, mb, -mb), (-1.0) ** (ma + mb))
                     for ma in range(-la, la + 1) for mb in range(-lb, lb + 1)]
            fl.append(_function(mu0, [0, 0, n - 1, n - 1], [1, 1, 1, 1], [la, la, lb, lb], terms, ndensity, rng))
        functions[mu0] = fl
    return CtildePotential(elements=list(elements), E0=[-0.5 * (mu + 1) for mu in range(n)], deltaSplineBins=0.001,
                           embeddings=embeddings, bonds=bonds, functions=functions)


def rattled_alloy(seed=1, size=(2, 2, 2), a=3.9, amplitude=0.15):
    at = bulk("Al", "fcc", a=a, cubic=True) * size
    rng = np.random.default_rng(seed)
    symbols = np.array(at.get_chemical_symbols())
    symbols[rng.random(len(at)) < 0.4] = "Ni"
    at.set_chemical_symbols(list(symbols))
    at.positions += rng.normal(scale=amplitude, size=at.positions.shape)
    at.cell = at.cell.array @ (np.eye(3) + rng.normal(scale=0.03, size=(3, 3)))
    return at


def _energy(ev, at):
    return ev.compute(at.get_chemical_symbols(), at.positions, at.cell.array, at.pbc, forces=False).energy


def assert_forces_match_fd(ev, at, components, h=1e-5, rel=1e-6, abs_tol=1e-7):
    """Forces of ``ev`` on ``at`` against central differences of the energy, for (atom, axis) pairs."""
    res = ev.compute(at.get_chemical_symbols(), at.positions, at.cell.array, at.pbc)
    for i, c in components:
        plus, minus = at.copy(), at.copy()
        plus.positions[i, c] += h
        minus.positions[i, c] -= h
        fd = -(_energy(ev, plus) - _energy(ev, minus)) / (2 * h)
        assert res.forces[i, c] == pytest.approx(fd, rel=rel, abs=abs_tol), (i, c)
    return res


@pytest.fixture(scope="module", params=["ChebExpCos", "SBessel", "ChebPow"])
def evaluator(request):
    pot = random_potential(radbase=request.param, seed=3, prehc=2.0)
    return ACEEvaluator(pot, splines=False)


def test_forces_match_finite_differences(evaluator):
    at = rattled_alloy()
    rng = np.random.default_rng(0)
    atoms = rng.choice(len(at), 5, replace=False)
    assert_forces_match_fd(evaluator, at, [(i, c) for i in atoms for c in range(3)])


def test_stress_matches_strain_derivative(evaluator):
    at = rattled_alloy(seed=2)
    res = evaluator.compute(at.get_chemical_symbols(), at.positions, at.cell.array, at.pbc)
    h = 1e-6
    volume = at.get_volume()
    voigt = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]
    for k, (a, b) in enumerate(voigt):
        eps = np.zeros((3, 3))
        eps[a, b] = eps[b, a] = h / (1 if a == b else 2)
        values = []
        for sign in (1, -1):
            strained = at.copy()
            strained.set_cell(at.cell.array @ (np.eye(3) + sign * eps), scale_atoms=True)
            values.append(_energy(evaluator, strained))
        fd = (values[0] - values[1]) / (2 * h) / volume
        assert res.stress[k] == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_forces_sum_to_zero_and_energy_is_sum_of_atoms(evaluator):
    at = rattled_alloy(seed=4)
    res = evaluator.compute(at.get_chemical_symbols(), at.positions, at.cell.array, at.pbc)
    assert np.abs(res.forces.sum(axis=0)).max() < 1e-10
    assert res.energy == pytest.approx(res.energies.sum(), abs=1e-12)


def test_invariances(evaluator):
    at = rattled_alloy(seed=5)
    ref = evaluator.compute(at.get_chemical_symbols(), at.positions, at.cell.array, at.pbc)
    rng = np.random.default_rng(7)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    rot = evaluator.compute(at.get_chemical_symbols(), at.positions @ q.T, at.cell.array @ q.T, at.pbc)
    np.testing.assert_allclose(rot.energies, ref.energies, rtol=0, atol=1e-10)
    np.testing.assert_allclose(rot.forces, ref.forces @ q.T, atol=1e-9)
    shifted = evaluator.compute(at.get_chemical_symbols(), at.positions + [0.3, -1.7, 2.2], at.cell.array, at.pbc)
    np.testing.assert_allclose(shifted.energies, ref.energies, atol=1e-10)
    perm = rng.permutation(len(at))
    sym = np.array(at.get_chemical_symbols())
    permuted = evaluator.compute(list(sym[perm]), at.positions[perm], at.cell.array, at.pbc)
    np.testing.assert_allclose(permuted.energies, ref.energies[perm], atol=1e-10)
    np.testing.assert_allclose(permuted.forces, ref.forces[perm], atol=1e-10)
    big = at * (2, 1, 1)
    sup = evaluator.compute(big.get_chemical_symbols(), big.positions, big.cell.array, big.pbc)
    assert sup.energy == pytest.approx(2 * ref.energy, abs=1e-9)
    np.testing.assert_allclose(sup.stress, ref.stress, atol=1e-10)


def test_non_periodic_cluster_has_no_stress_and_fd_forces(evaluator):
    at = rattled_alloy(seed=6)[:7]
    at.pbc = False
    res = assert_forces_match_fd(evaluator, at, [(i, 1) for i in range(3)])
    assert res.stress is None


@pytest.mark.parametrize("radbase", ["ChebExpCos", "ChebPow", "ChebLinear", "SBessel"])
def test_spline_matches_analytic_radial_functions(radbase):
    pot = random_potential(radbase=radbase, seed=11, prehc=3.0)
    ev = ACEEvaluator(pot)
    r = np.linspace(0.7, 4.9, 777)
    for mu_i, mu_j in [(0, 0), (0, 1)]:
        v_spl, d_spl = ev.radial_functions(mu_i, mu_j, r, splines=True)
        v_ana, d_ana = ev.radial_functions(mu_i, mu_j, r, splines=False)
        scale = np.max(np.abs(v_ana), axis=0) + 1e-300
        dscale = np.max(np.abs(d_ana), axis=0) + 1e-300
        assert np.max(np.abs(v_spl - v_ana) / scale) < 1e-8
        assert np.max(np.abs(d_spl - d_ana) / dscale) < 1e-5
        rc = pot.bonds[(mu_i, mu_j)].rcut
        assert np.all(v_spl[r >= rc] == 0) and np.all(v_ana[r >= rc] == 0)


def test_analytic_derivatives_of_radial_functions():
    pot = random_potential(radbase="SBessel", seed=12, prehc=3.0, inner="distance")
    ev = ACEEvaluator(pot, splines=False)
    r = np.linspace(0.8, 4.5, 50)
    h = 1e-6
    v, d = ev.radial_functions(0, 1, r)
    vp, _ = ev.radial_functions(0, 1, r + h)
    vm, _ = ev.radial_functions(0, 1, r - h)
    np.testing.assert_allclose(d, (vp - vm) / (2 * h), rtol=1e-6, atol=1e-6 * np.abs(d).max())


def test_spline_and_analytic_energies_agree_closely():
    pot = random_potential(seed=13)
    at = rattled_alloy(seed=8)
    e_spl = ACEEvaluator(pot, splines=True).compute(at.get_chemical_symbols(), at.positions, at.cell.array, at.pbc)
    e_ana = ACEEvaluator(pot, splines=False).compute(at.get_chemical_symbols(), at.positions, at.cell.array, at.pbc)
    assert e_spl.energy != e_ana.energy  # two genuinely different paths
    assert e_spl.energy == pytest.approx(e_ana.energy, abs=1e-7 * len(at))
    np.testing.assert_allclose(e_spl.forces, e_ana.forces, atol=1e-5)


def test_inner_cutoff_distance_forces_fd():
    pot = random_potential(seed=14, prehc=5.0, inner="distance")
    ev = ACEEvaluator(pot, splines=False)
    at = rattled_alloy(seed=9, a=3.3, amplitude=0.3)
    assert_forces_match_fd(ev, at, [(i, 0) for i in range(4)])


def test_zbl_forces_fd():
    pot = random_potential(seed=20, radbase="SBessel", prehc=1.0, inner="zbl")
    for bond in pot.bonds.values():
        bond.rcut_in, bond.dcut_in = 2.4, 0.5
    ev = ACEEvaluator(pot, splines=False)
    at = rattled_alloy(seed=12, a=3.2, amplitude=0.3)
    assert_forces_match_fd(ev, at, [(i, 2) for i in range(4)], abs_tol=1e-6)


def test_shared_products_match_plain_products():
    pot = random_potential(seed=15, lmax=2, nradmax=2)
    at = rattled_alloy(seed=10)
    fast = ACEEvaluator(pot, share_products=True)
    plain = ACEEvaluator(pot, share_products=False)
    a = fast.compute(at.get_chemical_symbols(), at.positions, at.cell.array, at.pbc)
    b = plain.compute(at.get_chemical_symbols(), at.positions, at.cell.array, at.pbc)
    assert a.energy == pytest.approx(b.energy, rel=1e-13, abs=1e-11)
    np.testing.assert_allclose(a.forces, b.forces, atol=1e-11)
    np.testing.assert_allclose(a.stress, b.stress, atol=1e-12)
    assert fast.model.num_nodes(0) < plain.model.num_nodes(0)


def test_results_do_not_depend_on_thread_count():
    pot = random_potential(seed=16)
    at = rattled_alloy(seed=11, size=(3, 2, 2))
    one = ACEEvaluator(pot, num_threads=1).compute(at.get_chemical_symbols(), at.positions, at.cell.array, at.pbc)
    two = ACEEvaluator(pot, num_threads=2).compute(at.get_chemical_symbols(), at.positions, at.cell.array, at.pbc)
    assert one.energy == two.energy
    assert np.array_equal(one.forces, two.forces)
    assert np.array_equal(one.stress, two.stress)


def test_zero_coefficients_are_dropped():
    pot = random_potential(seed=17)
    ev = ACEEvaluator(pot)
    nodes = ev.model.num_nodes(0)
    for f in pot.functions[0]:
        if f.rank > 1:
            f.ctildes[:] = 0.0
    assert ACEEvaluator(pot).model.num_nodes(0) == 0 < nodes


def test_unknown_element_and_overlapping_atoms_raise():
    ev = ACEEvaluator(random_potential(seed=18))
    with pytest.raises(InputError, match="Cu"):
        ev.compute(["Al", "Cu"], [[0, 0, 0], [0, 0, 2.5]])
    with pytest.raises(InputError, match="distance"):
        ev.compute(["Al", "Al"], [[0, 0, 0], [0, 0, 1e-4]])


def test_csr_kernel_rejects_bad_lists():
    ev = ACEEvaluator(random_potential(seed=19))
    species = np.zeros(2, dtype=np.int32)
    first = np.array([0, 1, 2])
    neigh = np.array([1, 5])
    rij = np.array([[0, 0, 2.5], [0, 0, -2.5]])
    with pytest.raises(InputError, match="out of range"):
        ev.model.compute(species, first, neigh, rij)
    with pytest.raises(InputError, match="species"):
        ev.model.compute(np.array([0, 7], dtype=np.int32), first, np.array([1, 0]), rij)


def test_spherical_harmonics_convention_and_gradient():
    """Y_lm = sqrt(4 pi) x scipy's orthonormal harmonics (Condon-Shortley); gradients by differences."""
    from scipy.special import sph_harm_y

    from forcefit import _core
    rng = np.random.default_rng(3)
    u = rng.normal(size=(6, 3))
    u /= np.linalg.norm(u, axis=1)[:, None]
    lmax = 5
    y, dy = _core.ace_spherical_harmonics(lmax, u)
    theta, phi = np.arccos(u[:, 2]), np.arctan2(u[:, 1], u[:, 0])
    for l in range(lmax + 1):
        for m in range(l + 1):
            ref = np.sqrt(4 * np.pi) * sph_harm_y(l, m, theta, phi)
            np.testing.assert_allclose(y[:, l * (l + 1) // 2 + m], ref, atol=1e-12)
    h = 1e-6
    for c in range(3):
        e = np.zeros(3)
        e[c] = h
        up, um = u + e, u - e
        yp, _ = _core.ace_spherical_harmonics(lmax, up / np.linalg.norm(up, axis=1)[:, None])
        ym, _ = _core.ace_spherical_harmonics(lmax, um / np.linalg.norm(um, axis=1)[:, None])
        np.testing.assert_allclose(dy[:, :, c], (yp - ym) / (2 * h), atol=1e-7)


@pytest.mark.parametrize("ndensity", [1, 3])
def test_other_density_counts(ndensity):
    pot = random_potential(seed=40 + ndensity, ndensity=ndensity)
    at = rattled_alloy(seed=13)
    ev = ACEEvaluator(pot, splines=False)
    assert_forces_match_fd(ev, at, [(0, 0), (3, 1), (5, 2)])
    plain = ACEEvaluator(pot, splines=False, share_products=False)
    a = ev.compute(at.get_chemical_symbols(), at.positions, at.cell.array, at.pbc)
    b = plain.compute(at.get_chemical_symbols(), at.positions, at.cell.array, at.pbc)
    assert a.energy == pytest.approx(b.energy, rel=1e-13, abs=1e-11)
