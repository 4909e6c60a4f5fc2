"""Stillinger-Weber kernel: reference energies, finite differences (positions, strain, every
parameter), invariances, multi-species consistency, clusters, errors."""

import numpy as np
import pytest
from ase.build import bulk

from forcefit.errors import InputError
from forcefit.models.batch import NeighborBatch
from forcefit.models.stillinger_weber import StillingerWeber
from kernel_checks import (assert_param_derivs, check_invariances, evaluate, fd_forces, fd_stress,
                           random_cluster, rel_err, results_for_thread_counts)



def lammps_si_sw_model(species=("Si",)):
    """The model with LAMMPS' Si.sw numbers (epsilon 2.1683) mapped onto KIM's parameters."""
    eps, sigma = 2.1683, 2.0951
    return StillingerWeber(species, A=eps * 7.049556277, B=0.6022245584, p=4.0, q=0.0, sigma=sigma,
                           gamma=1.20 * sigma, cutoff=1.80 * sigma, costheta0=-1.0 / 3.0,
                           **{"lambda": eps * 21.0})


def diamond64():
    return bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)


def rattled(atoms, amount=0.1, seed=0):
    out = atoms.copy()
    out.rattle(amount, seed=seed)
    return out


def test_reference_energy_kim_parameters():
    res = evaluate(StillingerWeber(), [diamond64()], stress=True)
    assert res.energy[0] == pytest.approx(-277.529599682559, rel=1e-12)
    assert np.max(np.abs(res.forces)) < 1e-10
    # cubic symmetry: equal normal stresses, no shear
    assert np.allclose(res.stress[0, :3], res.stress[0, 0], atol=1e-12)
    assert np.max(np.abs(res.stress[0, 3:])) < 1e-12


def test_reference_energy_lammps_parameters():
    res = evaluate(lammps_si_sw_model(), [diamond64()])
    assert res.energy[0] == pytest.approx(-277.542399682545, rel=1e-12)


def test_forces_match_finite_differences_triclinic():
    atoms = rattled(bulk("Si", "diamond", a=5.431) * (2, 2, 2), 0.15, seed=1)
    analytic, fd = fd_forces(StillingerWeber(), atoms, atoms_to_check=[0, 5, 11])
    assert rel_err(analytic, fd) < 1e-6


def test_stress_matches_strain_derivative():
    model = StillingerWeber()
    for atoms in (rattled(bulk("Si", "diamond", a=5.431) * (2, 2, 2), 0.15, seed=2),
                  rattled(diamond64(), 0.1, seed=3)):
        analytic, fd = fd_stress(model, atoms)
        assert rel_err(analytic, fd) < 1e-6


def test_stress_sign_is_tensile_positive():
    # stretched lattice pulls back: positive (tensile) stress in ASE's convention
    stretched = bulk("Si", "diamond", a=5.431 * 1.03, cubic=True)
    compressed = bulk("Si", "diamond", a=5.431 * 0.97, cubic=True)
    res = evaluate(StillingerWeber(), [stretched, compressed], stress=True)
    assert np.all(res.stress[0, :3] > 0) and np.all(res.stress[1, :3] < 0)


def test_parameter_derivatives_single_species():
    configs = [rattled(bulk("Si", "diamond", a=5.431) * (2, 2, 2), 0.15, seed=4),
               rattled(bulk("Si", "diamond", a=5.2, cubic=True), 0.1, seed=5)]
    assert_param_derivs(StillingerWeber(), configs)


def test_parameter_derivatives_two_species_distinct_pairs():
    # every per-pair parameter different, so each component has its own derivative
    model = StillingerWeber(["Si", "C"], A=[15.28, 14.0, 16.5], B=[0.60, 0.7, 0.55], p=[4.0, 4.2, 3.9],
                            q=[0.0, 0.1, 0.2], sigma=[2.0951, 2.0, 1.9], gamma=[2.51, 2.3, 2.4],
                            costheta0=[-1 / 3, -0.3, -0.35], cutoff=[3.77, 3.6, 3.5],
                            **{"lambda": [45.5, 40.0, 50.0]})
    atoms = rattled(bulk("Si", "diamond", a=5.3, cubic=True), 0.15, seed=6)
    atoms.symbols[[1, 2, 6]] = "C"
    assert_param_derivs(model, [atoms])
    analytic, fd = fd_forces(model, atoms, atoms_to_check=[0, 1, 2])
    assert rel_err(analytic, fd) < 1e-6


def test_invariances_and_sums():
    rng = np.random.default_rng(7)
    check_invariances(StillingerWeber(), rattled(bulk("Si", "diamond", a=5.431) * (2, 2, 2), 0.15, 8), rng)
    check_invariances(StillingerWeber(), random_cluster(30, 0.05, 2.0, rng, pbc=False), rng)


def test_supercell_energy_is_extensive():
    cell = rattled(bulk("Si", "diamond", a=5.431, cubic=True), 0.1, seed=9)
    res = evaluate(StillingerWeber(), [cell, cell.repeat((2, 3, 1))], stress=True)
    assert res.energy[1] == pytest.approx(6 * res.energy[0], rel=1e-12)
    assert res.stress[1] == pytest.approx(res.stress[0], rel=1e-9, abs=1e-12)


def test_two_identical_species_equal_one_species():
    atoms = rattled(diamond64(), 0.1, seed=10)
    mixed = atoms.copy()
    mixed.symbols[::3] = "Ge"
    single = evaluate(StillingerWeber(["Si"]), [atoms], stress=True)
    two = evaluate(StillingerWeber(["Si", "Ge"]), [mixed], stress=True)
    assert two.energy[0] == pytest.approx(single.energy[0], rel=1e-13)
    assert rel_err(two.forces, single.forces) < 1e-12
    assert rel_err(two.stress, single.stress) < 1e-12
    assert rel_err(two.atom_energy, single.atom_energy) < 1e-12


def test_cluster_forces_and_nan_stress():
    rng = np.random.default_rng(11)
    cluster = random_cluster(20, 0.04, 2.1, rng, pbc=False)
    analytic, fd = fd_forces(StillingerWeber(), cluster, atoms_to_check=[0, 1, 2, 3])
    assert rel_err(analytic, fd) < 1e-6
    res = evaluate(StillingerWeber(), [cluster], stress=True, param_derivs=True)
    assert np.all(np.isnan(res.stress)) and np.all(np.isnan(res.dstress))
    assert np.all(np.isfinite(res.denergy))


def test_batch_of_many_configs_equals_one_by_one():
    configs = [rattled(bulk("Si", "diamond", a=a, cubic=True), 0.1, seed=k)
               for k, a in enumerate([5.3, 5.431, 5.5, 5.6])]
    together = evaluate(StillingerWeber(), configs, stress=True, param_derivs=True)
    n = 0
    for k, atoms in enumerate(configs):
        alone = evaluate(StillingerWeber(), [atoms], stress=True, param_derivs=True)
        assert together.energy[k] == alone.energy[0]
        assert np.array_equal(together.forces[n:n + len(atoms)], alone.forces)
        assert np.array_equal(together.dforces[n:n + len(atoms)], alone.dforces)
        assert np.array_equal(together.dstress[k], alone.dstress[0])
        n += len(atoms)


def test_errors():
    model = StillingerWeber()
    with pytest.raises(InputError, match="not supported"):
        NeighborBatch.from_configs([bulk("C", "diamond", a=3.57)], model.get_supported_species(), 3.8)
    small = NeighborBatch.from_configs([diamond64()], model.get_supported_species(), 3.0)
    with pytest.raises(InputError, match="cutoff"):
        model.compute_batch(small)
    with pytest.raises(InputError, match="sigma"):
        StillingerWeber(sigma=-1.0)
    with pytest.raises(InputError, match="needs 3 values"):
        StillingerWeber(["Si", "C"], A=[1.0, 2.0])
    with pytest.raises(InputError, match="no parameter"):
        StillingerWeber(epsilon=1.0)


def test_parameter_layout_matches_kim_order():
    model = StillingerWeber(["Si", "C"])
    assert list(model.model_params) == ["A", "B", "p", "q", "sigma", "lambda", "gamma", "costheta0", "cutoff"]
    assert model.species_pairs() == [("Si", "Si"), ("Si", "C"), ("C", "C")]
    assert all(len(p) == 3 for p in model.model_params.values())
    assert model.get_influence_distance() == pytest.approx(3.77118)


def test_selected_parameter_columns_equal_full_derivatives():
    model = StillingerWeber(["Si", "C"])
    atoms = rattled(bulk("Si", "diamond", a=5.3, cubic=True), 0.15, seed=12)
    atoms.symbols[[0, 5]] = "C"
    batch = NeighborBatch.from_configs([atoms], model.get_supported_species(), model.get_influence_distance())
    full = model.compute_batch(batch, stress=True, param_derivs=True)
    for chosen in ([0, 1, 18], [20, 2], [25, 15, 5, 26], list(range(27))[::-1]):
        part = model.compute_batch(batch, stress=True, param_derivs=True, param_indices=chosen)
        assert part.dforces.shape == (len(atoms), 3, len(chosen))
        assert np.allclose(part.denergy, full.denergy[:, chosen], rtol=1e-13, atol=1e-13)
        assert np.allclose(part.dforces, full.dforces[..., chosen], rtol=1e-13, atol=1e-13)
        assert np.allclose(part.dstress, full.dstress[..., chosen], rtol=1e-13, atol=1e-13)
        assert np.array_equal(part.forces, full.forces)
    with pytest.raises(InputError, match="out of range"):
        model.compute_batch(batch, param_derivs=True, param_indices=[27])
    with pytest.raises(InputError, match="repeated"):
        model.compute_batch(batch, param_derivs=True, param_indices=[1, 1])


def test_one_species_per_pair_sums_equal_term_by_term_derivatives():
    # Selections without cos θ0 and cutoff take the per-pair triplet sums; all parameters take the
    # term-by-term tangents. Both must agree, and the values must not depend on the path.
    model = StillingerWeber(gamma=2.3, **{"lambda": 40.0})
    configs = [rattled(diamond64(), 0.12, seed=s) for s in (21, 22)]
    batch = NeighborBatch.from_configs(configs, model.get_supported_species(), model.get_influence_distance())
    full = model.compute_batch(batch, stress=True, param_derivs=True)
    values = model.compute_batch(batch, stress=True)
    for chosen in ([0, 1, 6], [6], [5, 6, 0], [4, 2, 3, 5]):
        part = model.compute_batch(batch, stress=True, param_derivs=True, param_indices=chosen)
        assert np.allclose(part.denergy, full.denergy[:, chosen], rtol=1e-12, atol=1e-12)
        scale = np.abs(full.dforces[..., chosen]).max()
        assert np.allclose(part.dforces, full.dforces[..., chosen], rtol=1e-11, atol=1e-12 * scale)
        assert np.allclose(part.dstress, full.dstress[..., chosen], rtol=1e-11, atol=1e-12 * scale)
    assert np.allclose(values.forces, full.forces, rtol=1e-12, atol=1e-12 * np.abs(full.forces).max())
    assert np.allclose(values.energy, full.energy, rtol=1e-13)


def test_inconsistent_batch_is_rejected():
    import dataclasses

    model = StillingerWeber()
    configs = [rattled(bulk("Si", "diamond", a=5.431, cubic=True), 0.05, seed=k) for k in range(3)]
    batch = NeighborBatch.from_configs(configs, model.get_supported_species(), model.get_influence_distance())
    neigh = batch.neigh.copy()
    neigh[batch.first[9]] = 0  # an atom of configuration 1 pointing into configuration 0
    with pytest.raises(InputError, match="outside its configuration"):
        model.compute_batch(dataclasses.replace(batch, neigh=neigh))
    species = batch.species.copy()
    species[4] = 1
    with pytest.raises(InputError, match="species index 1"):
        model.compute_batch(dataclasses.replace(batch, species=species))
    with pytest.raises(InputError, match="rij must have shape"):
        model.compute_batch(dataclasses.replace(batch, rij=batch.rij[:-1]))


def test_results_do_not_depend_on_thread_count(tmp_path):
    results = results_for_thread_counts(
        "import sys, numpy as np\n"
        "from ase.build import bulk\n"
        "from forcefit.models.stillinger_weber import StillingerWeber\n"
        "from forcefit.models.batch import NeighborBatch\n"
        "configs = []\n"
        "for k in range(24):\n"
        "    a = bulk('Si', 'diamond', a=5.3 + 0.01 * k, cubic=True).repeat(2)\n"
        "    a.rattle(0.1, seed=k)\n"
        "    configs.append(a)\n"
        "m = StillingerWeber()\n"
        "b = NeighborBatch.from_configs(configs, m.get_supported_species(), m.get_influence_distance())\n"
        "r = m.compute_batch(b, stress=True, param_derivs=True)\n"
        "np.savez(sys.argv[1], e=r.energy, f=r.forces, s=r.stress, df=r.dforces, ds=r.dstress)\n", tmp_path)
    for other in results[1:]:
        for key in ("e", "f", "s", "df", "ds"):
            assert np.array_equal(results[0][key], other[key]), key
