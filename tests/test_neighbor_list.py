"""forcefit.neighbor.neighbor_list reproduces ase.neighborlist.neighbor_list exactly (pair sets, D, d)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from ase.neighborlist import neighbor_list as ase_neighbor_list
from hypothesis import HealthCheck, Phase, given, settings
from neighbor_reference import assert_same_pairs, ase_pairs, structures

from forcefit.errors import InputError
from forcefit.neighbor import neighbor_list, neighbor_list_atoms


def ours(positions, cell, pbc, cutoff, **kw):
    return neighbor_list(positions, cell, pbc, cutoff, quantities="ijSDd", **kw)


# No "explain" phase: its tracing of ASE's numpy code needs gigabytes after a failure.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink)


@settings(max_examples=180, deadline=None, derandomize=True, phases=PHASES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(structures())
def test_random_cells_match_ase(structure):
    positions, cell, pbc, cutoff = structure
    assert_same_pairs(ours(positions, cell, pbc, cutoff), ase_pairs(positions, cell, pbc, cutoff))


@settings(max_examples=40, deadline=None, derandomize=True, phases=PHASES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(structures())
def test_self_interaction_matches_ase(structure):
    positions, cell, pbc, cutoff = structure
    assert_same_pairs(ours(positions, cell, pbc, cutoff, self_interaction=True),
                      ase_pairs(positions, cell, pbc, cutoff, self_interaction=True))


def test_full_list_is_symmetric_and_sorted():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 2))
    atoms.rattle(0.1, seed=1)
    i, j, S, D = neighbor_list_atoms(atoms, 5.0, "ijSD")
    assert np.all(np.diff(i) >= 0)
    forward = {(a, b, *s) for a, b, s in zip(i.tolist(), j.tolist(), S.tolist())}
    backward = {(b, a, *(-np.array(s))) for a, b, s in zip(i.tolist(), j.tolist(), S.tolist())}
    assert forward == backward
    np.testing.assert_allclose(D, atoms.positions[j] - atoms.positions[i] + S @ atoms.cell.array, atol=1e-12)


def test_one_atom_in_tiny_cell_sees_its_images():
    cell = np.array([[0.9, 0.0, 0.0], [0.3, 1.1, 0.0], [0.2, -0.4, 0.8]])
    positions = np.array([[5.0, -3.0, 2.0]])  # far outside the cell: S refers to these positions
    result = ours(positions, cell, True, 4.0)
    reference = ase_pairs(positions, cell, [True] * 3, 4.0)
    assert len(result[0]) > 100 and set(result[1].tolist()) == {0}
    assert_same_pairs(result, reference)


def test_pairs_exactly_at_the_cutoff_are_excluded():
    cell = 2.0 * np.eye(3)
    i, j, S, d = neighbor_list(np.zeros((1, 3)), cell, True, 2.0, quantities="ijSd")
    assert len(i) == 0  # six images at exactly 2.0, not < 2.0
    i, d = neighbor_list(np.zeros((1, 3)), cell, True, np.nextafter(2.0, 3.0), quantities="id")
    assert len(i) == 6 and np.all(d == 2.0)
    assert_same_pairs(ours([[0.5, 0.25, 1.0]], cell, True, 2.0), ase_pairs([[0.5, 0.25, 1.0]], cell, [True] * 3, 2.0))


@pytest.mark.parametrize("pbc", [[True, True, False], [False, True, True], [True, False, False], [False, False, True]])
def test_two_and_one_dimensional_periodicity(pbc):
    atoms = bulk("Si", "diamond", a=5.43, cubic=True)
    atoms.rattle(0.05, seed=3)
    atoms.pbc = pbc
    assert_same_pairs(ours(atoms.positions, atoms.cell.array, pbc, 4.0),
                      ase_pairs(atoms.positions, atoms.cell.array, pbc, 4.0))


def test_slab_with_zero_vacuum_vector():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 2))
    cell = atoms.cell.array.copy()
    cell[2] = 0.0
    assert_same_pairs(ours(atoms.positions, cell, [True, True, False], 4.5),
                      ase_pairs(atoms.positions, cell, [True, True, False], 4.5))


def test_molecule_with_zero_cell():
    mol = molecule("C6H6")
    assert np.all(mol.cell.array == 0) and not mol.pbc.any()
    result = ours(mol.positions, np.zeros((3, 3)), False, 2.0)
    assert_same_pairs(result, ase_pairs(mol.positions, np.eye(3), [False] * 3, 2.0))
    assert np.all(result[2] == 0)


def test_zero_row_beside_skewed_rows_matches_brute_force():
    # ASE 3.29 itself loses pairs here (its binning mixes the zero row with the skewed ones).
    cell = np.array([[0.0, 0.0, 0.0], [-0.0787, -3.674, 0.300], [-1.350, -1.897, 1.839]])
    rng = np.random.default_rng(7)
    positions = rng.uniform(-0.3, 1.3, size=(30, 3)) @ np.array([[2.0, 0.3, 0.1], *cell[1:]])
    i, j, S, d = neighbor_list(positions, cell, False, 2.4, quantities="ijSd")
    distances = np.linalg.norm(positions[None, :] - positions[:, None], axis=2)
    expected_i, expected_j = np.nonzero((distances < 2.4) & ~np.eye(30, dtype=bool))
    assert sorted(zip(i.tolist(), j.tolist())) == sorted(zip(expected_i.tolist(), expected_j.tolist()))
    assert np.all(S == 0)
    np.testing.assert_allclose(d, distances[i, j], atol=1e-12)


def test_empty_and_single_atom():
    for n in (0, 1):
        i, j, S, D, d = ours(np.zeros((n, 3)), np.eye(3) * 10, True, 3.0)
        assert len(i) == len(j) == len(S) == len(D) == len(d) == 0
        assert S.shape == (0, 3) and D.shape == (0, 3)
    i, j = neighbor_list([], np.zeros((3, 3)), False, 3.0, quantities="ij")
    assert i.shape == (0,) and j.shape == (0,)
    i, S = neighbor_list([[0.0, 0.0, 0.0]], np.zeros((3, 3)), False, 3.0, quantities="iS", self_interaction=True)
    assert i.tolist() == [0] and S.tolist() == [[0, 0, 0]]


def test_single_letter_returns_an_array_like_ase():
    atoms = bulk("Al", "fcc", a=4.05)
    d = neighbor_list_atoms(atoms, 3.0, "d")
    assert isinstance(d, np.ndarray) and d.shape == (12,)
    np.testing.assert_allclose(np.sort(d), np.sort(ase_neighbor_list("d", atoms, 3.0)))


@pytest.mark.parametrize("species_as", ["symbols", "numbers"])
def test_species_pair_cutoffs_match_ase_dict(species_as):
    atoms = bulk("NaCl", "rocksalt", a=5.64, cubic=True).repeat((2, 1, 1))
    atoms.rattle(0.1, seed=5)
    cutoffs = {("Na", "Cl"): 3.2, ("Cl", "Cl"): 4.5, ("Na", "Na"): 4.1}
    species = atoms.get_chemical_symbols() if species_as == "symbols" else atoms.numbers
    if species_as == "numbers":
        cutoffs = {(11, 17): 3.2, (17, 17): 4.5, (11, 11): 4.1}
    result = neighbor_list(atoms.positions, atoms.cell.array, True, cutoffs, species=species, quantities="ijSDd")
    assert_same_pairs(result, ase_neighbor_list("ijSDd", atoms, cutoffs))
    # pairs missing from the dict never interact
    only_cl = neighbor_list_atoms(atoms, {("Cl", "Cl"): 4.5}, "ijSDd")
    assert_same_pairs(only_cl, ase_neighbor_list("ijSDd", atoms, {("Cl", "Cl"): 4.5}))
    assert set(atoms.numbers[only_cl[0]]) == {17}
    i = neighbor_list_atoms(atoms, {("Cu", "Cu"): 4.5}, "i")
    assert len(i) == 0


def test_output_does_not_depend_on_thread_count(tmp_path):
    script = (
        "import numpy as np, sys; from ase.build import bulk; from forcefit.neighbor import neighbor_list_atoms\n"
        "a = bulk('Cu', 'fcc', a=3.61, cubic=True).repeat((7, 7, 7)); a.rattle(0.2, seed=2)\n"
        "np.savez(sys.argv[1], *neighbor_list_atoms(a, 5.0, 'ijSDd'))\n"
    )
    results = []
    for threads in ("1", "2"):
        out = tmp_path / f"t{threads}.npz"
        env = dict(os.environ, OMP_NUM_THREADS=threads)
        subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env)
        with np.load(out) as data:
            results.append([data[k] for k in sorted(data.files)])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(cutoff=0.0), "cutoff"),
        (dict(cutoff=-1.0), "cutoff"),
        (dict(cutoff=float("nan")), "cutoff"),
        (dict(cell=np.array([[1.0, 0, 0], [2.0, 0, 0], [0, 0, 1.0]])), "singular"),
        (dict(cell=np.zeros((3, 3))), "zero"),
        (dict(cell=np.eye(2)), "cell"),
        (dict(positions=np.zeros((4, 2))), "positions"),
        (dict(positions=np.array([[0.0, np.nan, 0.0]])), "positions"),
        (dict(positions=np.array([[np.inf, 0.0, 0.0]])), "positions"),
        (dict(pbc=[True, False]), "pbc"),
        (dict(quantities="ijX"), "quantities"),
    ],
)
def test_bad_input_raises_input_error(kwargs, message):
    args = dict(positions=np.zeros((2, 3)) + [[0, 0, 0], [1, 1, 1]], cell=np.eye(3) * 4, pbc=True, cutoff=3.0,
                quantities="ij")
    args.update(kwargs)
    with pytest.raises(InputError, match=message):
        neighbor_list(args.pop("positions"), args.pop("cell"), args.pop("pbc"), args.pop("cutoff"), **args)


def test_bad_species_cutoffs_raise_input_error():
    atoms = Atoms("H2O", positions=[[0, 0, 0], [1, 0, 0], [0, 1, 0]])
    with pytest.raises(InputError, match="species"):
        neighbor_list(atoms.positions, np.zeros((3, 3)), False, {("H", "O"): 1.2})
    with pytest.raises(InputError, match="species"):
        neighbor_list(atoms.positions, np.zeros((3, 3)), False, {("H", "O"): 1.2}, species=["H", "O"])
    with pytest.raises(InputError, match="cutoff"):
        neighbor_list_atoms(atoms, {("H", "O"): -1.0})
    with pytest.raises(InputError, match="twice"):
        neighbor_list_atoms(atoms, {("H", "O"): 1.0, ("O", "H"): 1.5})
