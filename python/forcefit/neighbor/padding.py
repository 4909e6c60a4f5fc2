"""KLIFF/KIM-style neighbor lists with padding atoms.

The atoms of a configuration are *contributing* atoms; their periodic images within the influence
distance of them become *padding* atoms appended after them (the way LAMMPS ghosts and KIM padding
work). Neighbor lists are plain non-periodic lists over the extended array, so a neighbor index
``n >= N`` is padding atom ``n - N``, an image of contributing atom ``padding_image[n - N]``.
Method names and results follow ``kliff.neighbor.NeighborList``; all loops run in the C++ core.
"""

from __future__ import annotations

from typing import Dict, Tuple

import numpy as np

from .. import _core
from ..errors import InputError


def _configuration_arrays(config) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """coords [N,3] Å, species [N] str, cell [3,3] Å, pbc [3] bool from a Configuration or ase.Atoms."""
    if all(hasattr(config, name) for name in ("coords", "species", "cell", "PBC")):
        coords, species, cell, pbc = config.coords, config.species, config.cell, config.PBC
    elif hasattr(config, "get_chemical_symbols") and hasattr(config, "get_positions"):
        coords, species = config.get_positions(), config.get_chemical_symbols()
        cell, pbc = np.asarray(config.get_cell()), config.get_pbc()
    else:
        raise InputError(
            f"config: expected a forcefit Configuration (coords, species, cell, PBC) or an ase.Atoms, "
            f"got {type(config).__name__}"
        )
    coords = np.asarray(coords, dtype=np.float64)
    if coords.size == 0:
        coords = np.zeros((0, 3))
    species = np.asarray(list(species), dtype=str)
    if coords.ndim != 2 or coords.shape[1] != 3:
        raise InputError(f"config.coords: expected shape (N, 3), got {coords.shape}")
    if species.shape != (coords.shape[0],):
        raise InputError(f"config.species: {species.size} entries for {coords.shape[0]} atoms")
    cell = np.asarray(cell, dtype=np.float64)
    if cell.shape != (3, 3):
        raise InputError(f"config.cell: expected shape (3, 3), got {cell.shape}")
    pbc = np.asarray(pbc, dtype=bool).reshape(-1)
    if pbc.shape != (3,):
        raise InputError(f"config.PBC: expected 3 bools, got {pbc.shape}")
    return coords, species, cell, pbc


class NeighborList:
    """Neighbor lists of contributing atoms among contributing + padding atoms (KLIFF's NeighborList).

    Args:
        config: a ``forcefit.dataset.Configuration`` (attributes ``coords`` [N,3] Å, ``species``
            [N] str, ``cell`` [3,3] Å rows = lattice vectors, ``PBC`` [3] bool) or an ``ase.Atoms``.
        infl_dist: influence distance (cutoff) in Å, > 0. Neighbors are atoms closer than it (strict).
        padding_need_neigh: also build neighbor lists for the padding atoms.

    Attributes:
        coords: [N + P, 3] coordinates of contributing then padding atoms (Å).
        species: [N + P] species symbols.
        image: [N + P] contributing atom each atom images (``image[i] = i`` for i < N).
        padding_coords: [P, 3]; padding_species: [P]; padding_image: [P] int32.
        padding_shifts: [P, 3] int32 lattice shift S of each padding atom:
            ``padding_coords[p] = coords[padding_image[p]] + padding_shifts[p] @ cell``.

    Note:
        The total force on a contributing atom is its own force plus the forces on all padding atoms
        that image it (:func:`assemble_forces`).
    """

    def __init__(self, config, infl_dist: float, padding_need_neigh: bool = False):
        self.conf = config
        self.infl_dist = float(infl_dist)
        self.padding_need_neigh = bool(padding_need_neigh)
        coords, species, cell, pbc = _configuration_arrays(config)
        n = coords.shape[0]
        self.padding_coords, self.padding_image, self.padding_shifts = _core.create_padding(
            coords, cell, pbc, self.infl_dist
        )
        self.padding_species = species[self.padding_image]
        self.coords = np.concatenate((coords, self.padding_coords))
        self.species = np.concatenate((species, self.padding_species))
        self.image = np.concatenate((np.arange(n, dtype=np.int32), self.padding_image)).astype(np.intc)
        self._n_contributing = n
        n_centers = len(self.coords) if self.padding_need_neigh else n
        lists = _core.neighbor_list(
            self.coords, np.zeros((3, 3)), np.zeros(3, dtype=bool), self.infl_dist,
            shifts=False, n_centers=n_centers,
        )
        self._first = lists["first"]
        self._neighbors = lists["j"]

    def get_neigh(self, index: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Neighbors of atom ``index`` (as KLIFF's ``get_neigh``; the count is ``len(neigh_indices)``).

        Returns:
            neigh_indices: [M] int32 indices into :attr:`coords` / :attr:`species`.
            neigh_coords: [M, 3] their coordinates (Å).
            neigh_species: [M] their species symbols.
        """
        index = int(index)
        if not 0 <= index < len(self._first) - 1:
            extra = "" if self.padding_need_neigh else " (padding atoms have none: padding_need_neigh=False)"
            raise InputError(f"index: {index} is outside the {len(self._first) - 1} atoms with neighbor lists{extra}")
        neigh_indices = self._neighbors[self._first[index]:self._first[index + 1]].copy()
        return neigh_indices, self.coords[neigh_indices], self.species[neigh_indices]

    def get_numneigh_and_neighlist_1D(self, request_padding: bool = False) -> Tuple[np.ndarray, np.ndarray]:
        """Neighbor counts and the concatenated neighbor indices of all atoms.

        Args:
            request_padding: include padding atoms (needs ``padding_need_neigh=True``).

        Returns:
            numneigh: [N] (or [N + P]) int32 neighbor counts.
            neighlist: [sum(numneigh)] int32 neighbor indices, atom 0's first.
        """
        if request_padding:
            if not self.padding_need_neigh:
                raise InputError(
                    "request_padding: neighbors of padding atoms were requested, but the list was built "
                    "with padding_need_neigh=False"
                )
            n = len(self.coords)
        else:
            n = self._n_contributing
        numneigh = np.diff(self._first[: n + 1]).astype(np.intc)
        neighlist = self._neighbors[: self._first[n]].astype(np.intc)
        return numneigh, neighlist

    def get_coords(self) -> np.ndarray:
        """[N + P, 3] coordinates of contributing and padding atoms (Å), a copy."""
        return self.coords.copy()

    def get_species(self) -> np.ndarray:
        """[N + P] species symbols of contributing and padding atoms, a copy."""
        return self.species.copy()

    def get_species_code(self, mapping: Dict[str, int]) -> np.ndarray:
        """[N + P] int32 species codes of contributing and padding atoms, from ``mapping`` symbol -> code."""
        return self._codes(self.species, mapping)

    def get_image(self) -> np.ndarray:
        """[N + P] int32: the contributing atom each atom images (itself for contributing atoms)."""
        return self.image.copy()

    def get_padding_coords(self) -> np.ndarray:
        """[P, 3] coordinates of the padding atoms (Å), a copy."""
        return self.padding_coords.copy()

    def get_padding_species(self) -> np.ndarray:
        """[P] species symbols of the padding atoms, a copy."""
        return self.padding_species.copy()

    def get_padding_species_code(self, mapping: Dict[str, int]) -> np.ndarray:
        """[P] int32 species codes of the padding atoms."""
        return self._codes(self.padding_species, mapping)

    def get_padding_image(self) -> np.ndarray:
        """[P] int32: the contributing atom each padding atom images, a copy."""
        return self.padding_image.astype(np.intc)

    @staticmethod
    def _codes(species: np.ndarray, mapping: Dict[str, int]) -> np.ndarray:
        missing = sorted(set(species.tolist()) - set(mapping))
        if missing:
            raise InputError(f"mapping: no code for species {missing}")
        return np.asarray([mapping[s] for s in species.tolist()], dtype=np.intc)


def assemble_forces(forces, n: int, padding_image) -> np.ndarray:
    """Fold forces on padding atoms back onto the contributing atoms they image.

    Args:
        forces: [N + P, 3] partial forces on contributing then padding atoms (eV/Å).
        n: number of contributing atoms N.
        padding_image: [P] contributing atom each padding atom images.

    Returns:
        [N, 3] total forces on the contributing atoms (eV/Å).
    """
    return _core.assemble_forces(np.asarray(forces, dtype=np.float64), int(n),
                                 np.asarray(padding_image, dtype=np.int32))


def assemble_stress(coords, forces, volume: float) -> np.ndarray:
    """Virial stress of contributing + padding atoms, KLIFF's "negative f dot r" definition.

    ``stress[v] = -sum_n coords[n, a] * forces[n, b] / volume`` with (a, b) = (x,x), (y,y), (z,z),
    (y,z), (z,x), (x,y) for Voigt entries xx, yy, zz, yz, xz, xy. For pair-additive forces this is
    ASE's stress (tensile positive).

    Args:
        coords: [N + P, 3] coordinates (Å). forces: [N + P, 3] partial forces (eV/Å).
        volume: cell volume (Å^3), > 0.

    Returns:
        [6] stress in eV/Å^3.
    """
    return _core.assemble_stress(np.asarray(coords, dtype=np.float64), np.asarray(forces, dtype=np.float64),
                                 float(volume))


__all__ = ["NeighborList", "assemble_forces", "assemble_stress"]
