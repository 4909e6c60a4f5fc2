"""Lennard-Jones kernel: the fcc Ar reference energy, the analytic pair minimum, finite
differences (positions, strain, parameters), shift, invariances, mixtures, clusters."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from forcefit.errors import InputError
from forcefit.models.lennard_jones import LennardJones
from kernel_checks import (assert_param_derivs, check_invariances, evaluate, fd_forces, fd_stress,
                           random_cluster, rel_err)

AR = dict(epsilon=0.0104, sigma=3.405, cutoff=8.5)


def fcc_ar256():
    return bulk("Ar", "fcc", a=5.26, cubic=True).repeat(4)


def rattled(atoms, amount=0.1, seed=0):
    out = atoms.copy()
    out.rattle(amount, seed=seed)
    return out


def test_reference_energy_fcc_ar_is_unshifted():
    res = evaluate(LennardJones(["Ar"], **AR), [fcc_ar256()])
    # LAMMPS pair_style lj/cut 8.5 without pair_modify shift: -21.556765425897 eV
    assert res.energy[0] == pytest.approx(-21.556765425897, rel=1e-12)
    shifted = evaluate(LennardJones(["Ar"], shifted=True, **AR), [fcc_ar256()])
    assert shifted.energy[0] > res.energy[0] + 1.0  # the shift moves it by ~1.7 eV: not the reference


def test_shift_is_pair_count_times_cutoff_energy():
    atoms = fcc_ar256()
    plain = evaluate(LennardJones(["Ar"], **AR), [atoms])
    shifted = evaluate(LennardJones(["Ar"], shifted=True, **AR), [atoms])
    x6 = (AR["sigma"] / AR["cutoff"]) ** 6
    phi_rc = 4 * AR["epsilon"] * (x6 * x6 - x6)
    from ase.neighborlist import neighbor_list
    n_pairs = len(neighbor_list("i", atoms, AR["cutoff"])) // 2
    assert shifted.energy[0] - plain.energy[0] == pytest.approx(-n_pairs * phi_rc, rel=1e-10)
    assert np.array_equal(plain.forces, shifted.forces)


def test_dimer_minimum_and_well_depth():
    rmin = 2 ** (1 / 6) * AR["sigma"]
    dimer = Atoms("Ar2", positions=[[0, 0, 0], [rmin, 0, 0]])
    res = evaluate(LennardJones(["Ar"], **AR), [dimer])
    assert res.energy[0] == pytest.approx(-AR["epsilon"], rel=1e-13)
    assert np.max(np.abs(res.forces)) < 1e-15
    assert res.atom_energy == pytest.approx([-AR["epsilon"] / 2] * 2, rel=1e-13)


@pytest.mark.parametrize("shifted", [False, True])
def test_finite_differences(shifted):
    model = LennardJones(["Ar"], shifted=shifted, **AR)
    atoms = rattled(bulk("Ar", "fcc", a=5.26) * (3, 3, 3), 0.2, seed=1)
    analytic, fd = fd_forces(model, atoms, atoms_to_check=[0, 7])
    assert rel_err(analytic, fd) < 1e-6
    analytic, fd = fd_stress(model, atoms)
    assert rel_err(analytic, fd) < 1e-6
    # the unshifted cutoff derivative is zero away from pairs exactly at rc (FD would see jumps)
    skip = () if shifted else (2,)
    assert_param_derivs(model, [atoms], skip=skip)


def test_mixture_parameter_derivatives_and_forces():
    model = LennardJones(["Ar", "Kr"], shifted=True, epsilon=[0.0104, 0.0125, 0.0140],
                         sigma=[3.405, 3.5, 3.65], cutoff=[8.0, 8.3, 8.6])
    atoms = rattled(bulk("Ar", "fcc", a=5.4) * (2, 2, 2), 0.2, seed=2)
    atoms.symbols[::3] = "Kr"
    assert_param_derivs(model, [atoms])
    analytic, fd = fd_forces(model, atoms, atoms_to_check=[0, 1])
    assert rel_err(analytic, fd) < 1e-6


def test_identical_species_equal_one_species():
    atoms = rattled(fcc_ar256(), 0.1, seed=3)
    mixed = atoms.copy()
    mixed.symbols[::2] = "Ne"
    one = evaluate(LennardJones(["Ar"], **AR), [atoms], stress=True)
    two = evaluate(LennardJones(["Ar", "Ne"], **AR), [mixed], stress=True)
    assert two.energy[0] == pytest.approx(one.energy[0], rel=1e-13)
    assert rel_err(two.forces, one.forces) < 1e-12
    assert rel_err(two.stress, one.stress) < 1e-12


def test_invariances_supercell_cluster():
    rng = np.random.default_rng(4)
    model = LennardJones(["Ar"], **AR)
    check_invariances(model, rattled(bulk("Ar", "fcc", a=5.26) * (3, 3, 3), 0.2, 5), rng)
    cluster = random_cluster(25, 0.02, 3.0, rng, symbols="Ar", pbc=False)
    check_invariances(model, cluster, rng)
    res = evaluate(model, [cluster], stress=True)
    assert np.all(np.isnan(res.stress))
    cell = rattled(bulk("Ar", "fcc", a=5.26, cubic=True), 0.1, seed=6)
    res = evaluate(model, [cell, cell.repeat((3, 2, 2))])
    assert res.energy[1] == pytest.approx(12 * res.energy[0], rel=1e-12)


def test_bad_parameters():
    with pytest.raises(InputError, match="sigma"):
        LennardJones(["Ar"], sigma=0.0)
    with pytest.raises(InputError, match="cutoff"):
        LennardJones(["Ar"], cutoff=-1.0)
    assert list(LennardJones(["Ar", "Kr"]).model_params) == ["epsilon", "sigma", "cutoff"]


def test_selected_parameter_columns():
    from forcefit.models.batch import NeighborBatch

    model = LennardJones(["Ar", "Kr"], shifted=True)
    atoms = rattled(bulk("Ar", "fcc", a=3.0) * (2, 2, 2), 0.1, seed=7)
    atoms.symbols[::2] = "Kr"
    batch = NeighborBatch.from_configs([atoms], model.get_supported_species(), model.get_influence_distance())
    full = model.compute_batch(batch, stress=True, param_derivs=True)
    part = model.compute_batch(batch, stress=True, param_derivs=True, param_indices=[8, 0, 4])
    assert np.allclose(part.denergy, full.denergy[:, [8, 0, 4]], rtol=1e-13, atol=1e-14)
    assert np.allclose(part.dforces, full.dforces[..., [8, 0, 4]], rtol=1e-13, atol=1e-14)
