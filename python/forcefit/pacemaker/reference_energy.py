r"""Corrected energies: total energy minus single-atom reference energies (pacemaker's ``energy_corrected``).

pacemaker fits :math:`E^\mathrm{corr} = E - \sum_k n_k \varepsilon_k + N\,\delta`, where
:math:`n_k` counts the atoms of element :math:`k`, :math:`\varepsilon_k` is its single-atom
reference energy (eV) and :math:`\delta` an optional ``shift`` (eV/atom). ``data.reference_energy``
gives the :math:`\varepsilon_k`:

* a mapping ``{Al: -0.12, Ni: -0.45, shift: 0.1}`` (missing elements count 0);
* a number: the same :math:`\varepsilon` for every element;
* ``auto`` (python-ace's ``compute_shifted_scaled_corrected_energy``): the least-squares
  :math:`\varepsilon = \mathrm{pinv}(n)\,E` over all structures (minimum-norm solution,
  ``rcond=1e-10``), then :math:`\delta` such that the structure with the largest volume per
  atom (the most isolated one; the first such in data order) gets corrected energy 0.

Without ``reference_energy`` the data's ``energy_corrected`` column is used as it is.
"""

from __future__ import annotations

from typing import Dict, Sequence

import numpy as np

from .convex_hull import composition_matrix


def corrected_energies(
    energies: Sequence[float], symbol_lists: Sequence[Sequence[str]], reference: Dict[str, float]
) -> np.ndarray:
    """:math:`E - \\sum_k n_k \\varepsilon_k + N \\delta` for each structure (S,), eV.

    ``reference``: element -> eV (missing elements count 0), optional ``"shift"`` (eV/atom).
    """
    elements, counts = composition_matrix(symbol_lists)
    eps = np.array([reference.get(e, 0.0) for e in elements])
    natoms = counts.sum(axis=1)
    return np.asarray(energies, dtype=float) - counts @ eps + reference.get("shift", 0.0) * natoms


def fit_reference_energies(
    energies: Sequence[float], symbol_lists: Sequence[Sequence[str]], volumes_per_atom: Sequence[float]
) -> Dict[str, float]:
    """python-ace's ``reference_energy: auto``: least-squares single-atom energies plus a shift.

    Args:
        energies: total energies (S,), eV.
        symbol_lists: chemical symbols of each structure.
        volumes_per_atom: (S,) Å^3/atom (0 for structures without a cell).

    Returns:
        {element: eV, ..., "shift": eV/atom} (plain floats).
    """
    energies = np.asarray(energies, dtype=float)
    elements, counts = composition_matrix(symbol_lists)
    eps = np.linalg.pinv(counts, rcond=1e-10) @ energies
    reference = {e: float(v) for e, v in zip(elements, eps)}
    corrected_per_atom = (energies - counts @ eps) / counts.sum(axis=1)
    volumes = np.asarray(volumes_per_atom, dtype=float)
    shift = 0.0
    if volumes.max() > 0:
        shift = -float(corrected_per_atom[int(np.argmax(volumes >= volumes.max()))])
    reference["shift"] = shift
    return reference


def volume_per_atom(atoms) -> float:
    """Cell volume per atom, Å^3 (0 when the structure has no 3D cell), as python-ace computes it."""
    try:
        return float(atoms.get_volume()) / len(atoms)
    except Exception:  # ase raises for cells of rank < 3
        return 0.0


__all__ = ["corrected_energies", "fit_reference_energies", "volume_per_atom"]
