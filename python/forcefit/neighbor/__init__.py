"""Neighbor lists (compiled core): ASE-style pair lists and KLIFF/KIM-style padding lists.

Two views of the same search, both linear in the number of atoms:

* :func:`neighbor_list` returns the full pair list with ASE's definition and letters
  (``i``, ``j``, ``S``, ``D``, ``d``): ``D = positions[j] - positions[i] + S @ cell`` and a pair
  needs ``|D| < cutoff``. :func:`neighbor_list_atoms` does the same for an ``ase.Atoms``.
* :class:`NeighborList` follows KLIFF: periodic images near the cell become padding atoms appended
  to the contributing ones, and neighbor indices refer to that extended array;
  :func:`assemble_forces` and :func:`assemble_stress` fold results back.

Units: positions, cells, cutoffs and distances in Å; forces eV/Å; stress eV/Å^3 (Voigt order xx yy
zz yz xz xy). Bad input raises :class:`forcefit.errors.InputError`.
"""

from .padding import NeighborList, assemble_forces, assemble_stress
from .pairs import neighbor_list, neighbor_list_atoms

__all__ = ["NeighborList", "assemble_forces", "assemble_stress", "neighbor_list", "neighbor_list_atoms"]
