"""Neighbor lists on every structure of the shared mlearn and KLIFF sets agree with ASE."""

from __future__ import annotations

import numpy as np
import pytest
from ase.io import read
from neighbor_reference import ase_pairs, keyed

from forcefit.neighbor import NeighborList, neighbor_list_atoms

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]


def structures_of(paths):
    for path in paths:
        for k, atoms in enumerate(read(path, ":")):
            yield f"{path.name}:{k}", atoms


def check_against_ase(name, atoms, cutoff):
    ours = neighbor_list_atoms(atoms, cutoff, "ijSDd")
    reference = ase_pairs(atoms.positions, atoms.cell.array, atoms.pbc, cutoff)
    keys_a, order_a = keyed(*ours[:3])
    keys_b, order_b = keyed(*reference[:3])
    assert np.array_equal(keys_a, keys_b), f"{name}: {len(keys_a)} pairs, ASE {len(keys_b)}"
    np.testing.assert_allclose(ours[4][order_a], reference[4][order_b], atol=1e-10, err_msg=name)


@pytest.mark.parametrize("element", ["Cu", "Li", "Ni", "Si"])
def test_mlearn_structures(shared_data, element):
    paths = sorted((shared_data / "mlearn").glob(f"{element}_*.xyz"))
    assert paths, "no mlearn files"
    count = 0
    for name, atoms in structures_of(paths):
        check_against_ase(name, atoms, 5.0)
        count += 1
    assert count > 100


def test_kliff_structures_and_padding(shared_data):
    paths = sorted((shared_data / "kliff").glob("**/*.xyz"))
    assert len(paths) > 100
    for n, (name, atoms) in enumerate(structures_of(paths)):
        check_against_ase(name, atoms, 5.0)
        if n % 25 == 0:  # padding lists map back onto the same pairs
            nl = NeighborList(atoms, 4.5)
            numneigh, neighlist = nl.get_numneigh_and_neighlist_1D()
            i = np.repeat(np.arange(len(atoms)), numneigh)
            shifts = np.concatenate([np.zeros((len(atoms), 3), dtype=np.int32), nl.padding_shifts])
            ours = keyed(i, nl.get_image()[neighlist], shifts[neighlist])[0]
            reference = keyed(*ase_pairs(atoms.positions, atoms.cell.array, atoms.pbc, 4.5)[:3])[0]
            assert np.array_equal(ours, reference), name
