"""EDIP kernel: published Si energetics, finite differences (positions, strain, all 18
parameters) on structures that reach every branch (coordination switching region included),
invariances, clusters."""

import numpy as np
import pytest
from ase.build import bulk

from forcefit.errors import InputError
from forcefit.models.edip import EDIP, SI_1998
from kernel_checks import (assert_param_derivs, check_invariances, evaluate, fd_forces, fd_stress,
                           random_cluster, rel_err)


def dense_liquid(seed, n=40):
    # density and minimum distance chosen so many pairs fall between c and a (f switching)
    return random_cluster(n, 0.055, 2.0, np.random.default_rng(seed))


def test_switching_region_is_exercised():
    from ase.neighborlist import neighbor_list

    d = neighbor_list("d", dense_liquid(1), SI_1998["a"])
    assert np.sum((d > SI_1998["c"]) & (d < SI_1998["a"])) > 20


def test_diamond_cohesive_energy_and_lattice_constant():
    # Justo et al. 1998: diamond Si E_coh = -4.650 eV/atom at a = 5.430 Å
    model = EDIP()
    a_values = np.linspace(5.38, 5.48, 11)
    configs = [bulk("Si", "diamond", a=a, cubic=True) for a in a_values]
    res = evaluate(model, configs, stress=True)
    per_atom = res.energy / 8
    assert per_atom.min() == pytest.approx(-4.650, abs=1e-3)
    assert a_values[np.argmin(per_atom)] == pytest.approx(5.430, abs=0.011)
    # pressure changes sign across the minimum
    assert res.stress[0, 0] < 0 < res.stress[-1, 0]
    assert np.max(np.abs(res.forces)) < 1e-10


def test_forces_and_stress_finite_differences():
    model = EDIP()
    for atoms in (dense_liquid(2), _rattled_diamond(3)):
        analytic, fd = fd_forces(model, atoms, atoms_to_check=[0, 1, 2])
        assert rel_err(analytic, fd) < 1e-6
        analytic, fd = fd_stress(model, atoms)
        assert rel_err(analytic, fd) < 1e-6


def test_parameter_derivatives_all_18():
    # b different from a so both cutoffs have their own derivative
    model = EDIP(b=3.0)
    assert_param_derivs(model, [dense_liquid(4, n=30), _rattled_diamond(5)])


def test_invariances_and_cluster():
    rng = np.random.default_rng(6)
    check_invariances(EDIP(), dense_liquid(7), rng)
    cluster = random_cluster(25, 0.05, 2.0, rng, pbc=False)
    check_invariances(EDIP(), cluster, rng)
    analytic, fd = fd_forces(EDIP(), cluster, atoms_to_check=[0, 1])
    assert rel_err(analytic, fd) < 1e-6
    res = evaluate(EDIP(), [cluster], stress=True)
    assert np.all(np.isnan(res.stress))


def test_supercell_energy_is_extensive():
    cell = _rattled_diamond(8, repeat=1)
    res = evaluate(EDIP(), [cell, cell.repeat((2, 1, 2))])
    assert res.energy[1] == pytest.approx(4 * res.energy[0], rel=1e-12)


def test_errors_and_names():
    with pytest.raises(InputError, match="one species"):
        EDIP(["Si", "C"])
    with pytest.raises(InputError, match="c < b"):
        EDIP(c=3.5)
    assert list(EDIP().model_params) == list(SI_1998)


def _rattled_diamond(seed, repeat=2):
    atoms = bulk("Si", "diamond", a=5.3) * (repeat, repeat, repeat)
    atoms.rattle(0.2, seed=seed)
    return atoms


def test_selected_parameter_columns():
    from forcefit.models.batch import NeighborBatch

    model = EDIP()
    atoms = dense_liquid(9, n=20)
    batch = NeighborBatch.from_configs([atoms], model.get_supported_species(), model.get_influence_distance())
    full = model.compute_batch(batch, stress=True, param_derivs=True)
    part = model.compute_batch(batch, stress=True, param_derivs=True, param_indices=[17, 1, 5])
    assert np.allclose(part.dforces, full.dforces[..., [17, 1, 5]], rtol=1e-13, atol=1e-14)
    assert np.allclose(part.dstress, full.dstress[..., [17, 1, 5]], rtol=1e-13, atol=1e-14)
