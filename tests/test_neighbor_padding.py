"""KLIFF/KIM-style padding lists: they reproduce ASE's full list, and forces/stress fold back correctly."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk, molecule
from hypothesis import HealthCheck, Phase, given, settings
from neighbor_reference import ase_pairs, completed_cell, keyed, structures

from forcefit.errors import InputError
from forcefit.neighbor import NeighborList, assemble_forces, assemble_stress, neighbor_list


class Config:
    """The attributes NeighborList reads from a forcefit Configuration (KLIFF names)."""

    def __init__(self, coords, species, cell, pbc):
        self.coords, self.species, self.cell, self.PBC = coords, species, cell, pbc


def mapped_back_pairs(nl: NeighborList, n: int):
    """(i, image, S) of every contributing atom's neighbors; S of contributing atoms is 0."""
    numneigh, neighlist = nl.get_numneigh_and_neighlist_1D()
    i = np.repeat(np.arange(n), numneigh)
    shifts = np.concatenate([np.zeros((n, 3), dtype=np.int64), nl.padding_shifts]).reshape(-1, 3)
    return i, nl.get_image()[neighlist], shifts[neighlist]


def kliff_padding_rule(coords, cell, pbc, rc):
    """KLIFF's padding selection, written out with numpy: (shift, atom) in KLIFF's order."""
    frac = coords @ np.linalg.inv(cell)
    fmin, fmax = frac.min(axis=0) - 1e-10, frac.max(axis=0) + 1e-10
    inv = np.linalg.inv(cell)
    ratio = rc * np.linalg.norm(inv, axis=0)
    size = np.where(pbc, np.ceil(ratio), 0).astype(int)
    margin = np.ceil(ratio) - ratio
    kept = []
    for s0 in range(-size[0], size[0] + 1):
        for s1 in range(-size[1], size[1] + 1):
            for s2 in range(-size[2], size[2] + 1):
                s = np.array([s0, s1, s2])
                if not s.any():
                    continue
                for a in range(len(coords)):
                    low = (s == -size) & (size > 0) & (frac[a] - fmin < margin)
                    high = (s == size) & (size > 0) & (fmax - frac[a] < margin)
                    if not (low.any() or high.any()):
                        kept.append((a, *s))
    return kept


@settings(max_examples=60, deadline=None, derandomize=True,
          phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(structures())
def test_padding_lists_reproduce_ase(structure):
    positions, cell, pbc, cutoff = structure
    species = ["Si"] * len(positions)
    nl = NeighborList(Config(positions, species, cell, pbc), cutoff)
    n = len(positions)
    ours = keyed(*mapped_back_pairs(nl, n))[0]
    reference = keyed(*ase_pairs(positions, cell, pbc, cutoff)[:3])[0]
    # Padding coordinates carry their own rounding: pairs within 1e-9 Å of the cutoff may differ.
    def off_boundary(keys):
        d = np.linalg.norm(positions[keys[:, 1]] - positions[keys[:, 0]] + keys[:, 2:] @ cell, axis=1)
        return keys[np.abs(d - cutoff) > 1e-9]
    np.testing.assert_array_equal(off_boundary(ours), off_boundary(reference))
    # padding coordinates are images of their contributing atoms
    np.testing.assert_allclose(nl.get_padding_coords(),
                               positions[nl.get_padding_image()] + nl.padding_shifts @ cell, atol=1e-9)


@pytest.mark.parametrize("pbc", [[True, True, True], [True, False, True], [False, False, False]])
def test_padding_follows_kliff_rule_and_order(pbc):
    atoms = bulk("Si", "diamond", a=5.43).repeat((2, 1, 1))
    atoms.rattle(0.1, seed=4)
    cell = atoms.cell.array
    nl = NeighborList(Config(atoms.positions, atoms.get_chemical_symbols(), cell, pbc), 4.5)
    expected = kliff_padding_rule(atoms.positions, cell, np.array(pbc), 4.5)
    got = [(int(a), *map(int, s)) for a, s in zip(nl.padding_image, nl.padding_shifts)]
    assert got == expected
    if not any(pbc):
        assert len(got) == 0


def test_accepts_ase_atoms_and_kliff_accessors():
    atoms = bulk("NaCl", "rocksalt", a=5.64)
    nl = NeighborList(atoms, 4.0, padding_need_neigh=True)
    n, n_all = len(atoms), len(nl.get_coords())
    assert n_all > n
    assert nl.get_species().tolist()[:n] == atoms.get_chemical_symbols()
    np.testing.assert_array_equal(nl.get_image()[:n], np.arange(n))
    np.testing.assert_array_equal(nl.get_image()[n:], nl.get_padding_image())
    assert nl.get_padding_species().tolist() == [atoms.get_chemical_symbols()[k] for k in nl.get_padding_image()]
    codes = nl.get_species_code({"Na": 0, "Cl": 1})
    assert codes.dtype == np.intc and set(codes.tolist()) == {0, 1}
    np.testing.assert_array_equal(nl.get_padding_species_code({"Na": 0, "Cl": 1}), codes[n:])
    with pytest.raises(InputError, match="mapping"):
        nl.get_species_code({"Na": 0})
    coords = nl.get_coords()
    for index in (0, 1, n_all - 1):  # padding atoms have lists too with padding_need_neigh
        neigh, neigh_coords, neigh_species = nl.get_neigh(index)
        d = np.linalg.norm(coords - coords[index], axis=1)
        expected = np.nonzero((d < 4.0) & (np.arange(n_all) != index))[0]
        np.testing.assert_array_equal(np.sort(neigh), expected)
        np.testing.assert_array_equal(neigh_coords, coords[neigh])
        np.testing.assert_array_equal(neigh_species, nl.get_species()[neigh])
    numneigh, neighlist = nl.get_numneigh_and_neighlist_1D(request_padding=True)
    assert len(numneigh) == n_all and len(neighlist) == numneigh.sum()
    without = NeighborList(atoms, 4.0)
    with pytest.raises(InputError, match="padding_need_neigh"):
        without.get_numneigh_and_neighlist_1D(request_padding=True)
    with pytest.raises(InputError, match="index"):
        without.get_neigh(n)


def test_molecule_has_no_padding():
    mol = molecule("CH4")
    nl = NeighborList(mol, 1.5)
    assert len(nl.get_padding_image()) == 0
    numneigh, _ = nl.get_numneigh_and_neighlist_1D()
    assert numneigh.tolist() == [4, 1, 1, 1, 1]


def pair_energy_forces(coords, n, first_neighbors, rc):
    """E = 1/2 sum over contributing i and neighbors j of (rc - r)^3, and partial forces on all atoms."""
    numneigh, neighlist = first_neighbors
    i = np.repeat(np.arange(n), numneigh)
    D = coords[neighlist] - coords[i]
    r = np.linalg.norm(D, axis=1)
    energy = 0.5 * np.sum((rc - r) ** 3)
    g = (-1.5 * (rc - r) ** 2 / r)[:, None] * D  # dE/dr_j for each pair
    forces = np.zeros_like(coords)
    np.add.at(forces, neighlist, -g)
    np.add.at(forces, i, g)
    return energy, forces


def energy_of(atoms, rc):
    d = neighbor_list(atoms.positions, atoms.cell.array, atoms.pbc, rc, quantities="d")
    return 0.5 * np.sum((rc - d) ** 3)


def test_assembled_forces_and_stress_are_energy_derivatives():
    rc = 4.2
    atoms = bulk("Cu", "fcc", a=3.61).repeat((2, 2, 1))
    atoms.set_cell(atoms.cell.array + [[0, 0, 0], [0.3, 0, 0], [0.2, -0.4, 0.1]], scale_atoms=True)
    atoms.rattle(0.15, seed=11)
    nl = NeighborList(atoms, rc)
    n = len(atoms)
    energy, partial = pair_energy_forces(nl.get_coords(), n, nl.get_numneigh_and_neighlist_1D(), rc)
    assert energy == pytest.approx(energy_of(atoms, rc), rel=1e-12)
    forces = assemble_forces(partial, n, nl.get_padding_image())
    h = 1e-5
    for a in range(n):
        for c in range(3):
            plus, minus = atoms.copy(), atoms.copy()
            plus.positions[a, c] += h
            minus.positions[a, c] -= h
            numeric = -(energy_of(plus, rc) - energy_of(minus, rc)) / (2 * h)
            assert forces[a, c] == pytest.approx(numeric, rel=1e-6, abs=1e-8)
    stress = assemble_stress(nl.get_coords(), partial, atoms.get_volume())
    voigt = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]
    for v, (a, b) in enumerate(voigt):
        values = []
        for sign in (1, -1):
            strain = np.eye(3)
            strain[a, b] += sign * h / (1 if a == b else 2)
            strain[b, a] += 0 if a == b else sign * h / 2
            deformed = atoms.copy()
            deformed.set_cell(atoms.cell.array @ strain, scale_atoms=True)
            values.append(energy_of(deformed, rc))
        numeric = (values[0] - values[1]) / (2 * h) / atoms.get_volume()
        assert stress[v] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_assemble_functions_match_numpy_sums():
    rng = np.random.default_rng(3)
    n, n_pad = 5, 12
    forces = rng.normal(size=(n + n_pad, 3))
    coords = rng.normal(size=(n + n_pad, 3))
    image = rng.integers(0, n, size=n_pad).astype(np.int32)
    expected = forces[:n].copy()
    np.add.at(expected, image, forces[n:])
    np.testing.assert_allclose(assemble_forces(forces, n, image), expected, rtol=1e-14, atol=1e-14)
    virial = coords.T @ forces
    expected_stress = -np.array([virial[0, 0], virial[1, 1], virial[2, 2], virial[1, 2], virial[2, 0],
                                 virial[0, 1]]) / 7.5
    np.testing.assert_allclose(assemble_stress(coords, forces, 7.5), expected_stress, rtol=1e-13)
    with pytest.raises(InputError, match="padding_image"):
        assemble_forces(forces, n, np.full(n_pad, n, dtype=np.int32))
    with pytest.raises(InputError, match="forces"):
        assemble_forces(forces, n + 1, image)
    with pytest.raises(InputError, match="volume"):
        assemble_stress(coords, forces, 0.0)
    with pytest.raises(InputError, match="forces"):
        assemble_stress(coords, forces[:-1], 1.0)


def test_bad_padding_input_raises_input_error():
    atoms = bulk("Cu", "fcc", a=3.61)
    with pytest.raises(InputError, match="infl_dist"):
        NeighborList(atoms, 0.0)
    with pytest.raises(InputError, match="cell"):
        NeighborList(Config(atoms.positions, ["Cu"], np.zeros((3, 3)), [True, True, True]), 3.0)
    with pytest.raises(InputError, match="config"):
        NeighborList(object(), 3.0)
    with pytest.raises(InputError, match="species"):
        NeighborList(Config(atoms.positions, ["Cu", "Cu"], atoms.cell.array, [True] * 3), 3.0)
