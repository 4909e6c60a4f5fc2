"""Helpers shared by the LAMMPS plugin and KIM driver tests: structures, data files, references.

Units: Å, eV, eV/Å; virials W in eV (LAMMPS sign: W = sum r (x) f, so stress = -W/V), component
order xx yy zz xy xz yz.
"""

from __future__ import annotations

import numpy as np
import pytest

NKTV2P_METAL = 1.6021765e6  # LAMMPS force->nktv2p for units metal (bar * Å^3 per eV)
RTOL = 1e-10


def write_data(path, cell, positions, types, ntypes, masses):
    """LAMMPS data file for a cell in LAMMPS's form (a along x, b in the xy plane; rows a, b, c)."""
    cell = np.asarray(cell, float)
    assert abs(cell[0, 1]) < 1e-14 and abs(cell[0, 2]) < 1e-14 and abs(cell[1, 2]) < 1e-14
    lines = ["forcefit test structure", "", f"{len(positions)} atoms", f"{ntypes} atom types", "",
             f"0.0 {cell[0, 0]:.17g} xlo xhi", f"0.0 {cell[1, 1]:.17g} ylo yhi", f"0.0 {cell[2, 2]:.17g} zlo zhi",
             f"{cell[1, 0]:.17g} {cell[2, 0]:.17g} {cell[2, 1]:.17g} xy xz yz", "", "Masses", ""]
    lines += [f"{t + 1} {m:.17g}" for t, m in enumerate(masses)]
    lines += ["", "Atoms # atomic", ""]
    lines += [f"{i + 1} {t} {p[0]:.17g} {p[1]:.17g} {p[2]:.17g}" for i, (t, p) in enumerate(zip(types, positions))]
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def fcc_cell(a: float, reps: int, displacement: float, elements, seed: int):
    """Sheared fcc supercell (rows a, b, c with a || x, b in xy) with random displacements and species."""
    rng = np.random.default_rng(seed)
    cell = reps * a * np.eye(3)
    cell[1, 0], cell[2, 0], cell[2, 1] = 0.07 * a, -0.05 * a, 0.04 * a
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    frac = np.array([(b + [i, j, k]) / reps for i in range(reps) for j in range(reps) for k in range(reps)
                     for b in basis])
    pos = frac @ cell + rng.normal(0.0, displacement, (len(frac), 3))
    types = rng.integers(1, len(elements) + 1, len(pos))
    types[: len(elements)] = np.arange(1, len(elements) + 1)  # every element present
    from ase import Atoms

    atoms = Atoms([elements[t - 1] for t in types], positions=pos, cell=cell, pbc=True)
    atoms.wrap()
    return atoms, types


def reference(atoms, potential):
    from forcefit.ace import ACECalculator

    atoms = atoms.copy()
    atoms.calc = ACECalculator(potential)
    W = -atoms.get_stress(voigt=False) * atoms.get_volume()
    return {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces(),
            "energies": atoms.get_potential_energies(),
            "virial": np.array([W[0, 0], W[1, 1], W[2, 2], W[0, 1], W[0, 2], W[1, 2]])}


def assert_close(res, ref, rtol=RTOL):
    assert res["energy"] == pytest.approx(ref["energy"], rel=rtol, abs=rtol)
    fscale = max(1.0, np.abs(ref["forces"]).max())
    np.testing.assert_allclose(res["forces"], ref["forces"], rtol=0, atol=rtol * fscale)
    escale = max(1.0, np.abs(ref["energies"]).max())
    np.testing.assert_allclose(res["energies"], ref["energies"], rtol=0, atol=rtol * escale)
    wscale = max(1.0, np.abs(ref["virial"]).max())
    np.testing.assert_allclose(res["virial"], ref["virial"], rtol=0, atol=rtol * wscale)
