"""One atomic configuration with its reference data (KLIFF's ``Configuration``).

Design: an immutable-in-shape record of one structure -- cell, species, positions, periodicity --
plus optional reference energy, forces and stress, a ``Weight`` and free-form ``metadata``.
Everything is validated once, in the constructor: shapes, types and finiteness, so code that
receives a ``Configuration`` never re-checks. Reading and writing files lives in ``extxyz.py``;
this module only converts to and from ``ase.Atoms`` (imported lazily, when used).

Units and conventions: lengths in Å, energy in eV, forces in eV/Å, stress in eV/Å^3 with ASE's
sign (tensile positive) in Voigt order xx, yy, zz, yz, xz, xy. ``cell`` rows are the lattice
vectors a1, a2, a3.

As in KLIFF, reading ``energy``, ``forces`` or ``stress`` when the configuration has none raises
(here ``DatasetError``); ``has_energy`` / ``has_forces`` / ``has_stress`` ask first.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

from ..errors import DatasetError, InputError
from .weight import Weight

PathLike = Union[str, "os.PathLike[str]"]


def voigt_from_tensor(stress: np.ndarray) -> np.ndarray:
    """Voigt vector (6,) ``[xx, yy, zz, yz, xz, xy]`` of a 3x3 stress; off-diagonals averaged."""
    s = np.asarray(stress, dtype=float).reshape(3, 3)
    return np.array(
        [s[0, 0], s[1, 1], s[2, 2], 0.5 * (s[1, 2] + s[2, 1]), 0.5 * (s[0, 2] + s[2, 0]), 0.5 * (s[0, 1] + s[1, 0])]
    )


def tensor_from_voigt(voigt: Sequence[float]) -> np.ndarray:
    """Symmetric 3x3 tensor of a Voigt vector ``[xx, yy, zz, yz, xz, xy]``."""
    xx, yy, zz, yz, xz, xy = np.asarray(voigt, dtype=float)
    return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])


class Configuration:
    """An atomic configuration and its reference data.

    Args:
        cell: (3, 3) lattice vectors as rows, Å. All zeros is allowed for a non-periodic cluster.
        species: N chemical symbols.
        coords: (N, 3) Cartesian positions, Å.
        PBC: 3 flags, periodic along a1, a2, a3.
        energy: total (potential) energy, eV, or None.
        forces: (N, 3) forces, eV/Å, or None.
        stress: (6,) Voigt stress xx yy zz yz xz xy, eV/Å^3, tensile positive (ASE), or None.
        weight: a ``Weight``; computed for this configuration on attachment. Default: ``Weight()``.
        identifier: a name for the configuration (files: the path, or ``"path:frame"``).
        metadata: extra per-configuration data (``config_type``, pacemaker's
            ``energy_corrected`` ...), kept as given.

    Raises:
        InputError: wrong shapes or types, or a non-finite value (the message names the
            configuration and the field).
    """

    def __init__(
        self,
        cell,
        species: Sequence[str],
        coords,
        PBC,
        energy: Optional[float] = None,
        forces=None,
        stress=None,
        weight: Optional[Weight] = None,
        identifier: Optional[Union[str, Path]] = None,
        metadata: Optional[Dict[str, Any]] = None,
    ):
        self._identifier = None if identifier is None else str(identifier)
        self._path: Optional[Path] = None
        self._species = self._check_species(species)
        natoms = len(self._species)
        self._cell = self._check_array("cell", cell, (3, 3))
        self._coords = self._check_array("coords", coords, (natoms, 3))
        self._PBC = self._check_pbc(PBC)
        self._energy = None if energy is None else float(self._check_array("energy", energy, ()))
        self._forces = None if forces is None else self._check_array("forces", forces, (natoms, 3))
        self._stress = None if stress is None else self._check_array("stress", stress, (6,))
        self._metadata: Dict[str, Any] = dict(metadata or {})
        self._weight = Weight() if weight is None else weight
        self._weight.compute_weight(self)

    # -- validation ---------------------------------------------------------------------------

    def _fail(self, problem: str) -> InputError:
        where = f"configuration {self._identifier!r}" if self._identifier else "configuration"
        return InputError(problem, record=where)

    def _check_species(self, species) -> List[str]:
        if isinstance(species, (str, bytes)):
            raise self._fail("species must be a sequence of chemical symbols, not one string")
        species = [str(s) for s in species]
        if any(not s or not s.isalpha() for s in species):
            bad = next(s for s in species if not s or not s.isalpha())
            raise self._fail(f"species contains {bad!r}, which is not a chemical symbol")
        return species

    def _check_array(self, name: str, value, shape: tuple) -> np.ndarray:
        try:
            array = np.array(value, dtype=float)
        except (TypeError, ValueError) as err:
            raise self._fail(f"{name} is not numeric ({err})") from None
        if array.shape != shape:
            if name == "energy" and array.size == 1:  # ASE calculators may store energy as shape (1,)
                array = array.reshape(())
            else:
                raise self._fail(f"{name} has shape {array.shape}, expected {shape}")
        bad = ~np.isfinite(array)
        if np.any(bad):
            where = np.argwhere(bad)[0]
            at = f" at index {tuple(int(i) for i in where)}" if array.ndim else ""
            raise self._fail(f"{name} contains a non-finite value ({array[tuple(where)]}){at}")
        return array

    def _check_pbc(self, PBC) -> np.ndarray:
        flags = np.asarray(PBC)
        if flags.shape != (3,):
            raise self._fail(f"PBC has shape {flags.shape}, expected (3,)")
        if flags.dtype != bool:
            if not np.all(np.isin(flags, (0, 1))):
                raise self._fail(f"PBC must be three booleans, got {PBC!r}")
        pbc = flags.astype(bool)
        if np.any(pbc) and abs(np.linalg.det(self._cell)) < 1e-12:
            raise self._fail("the cell is singular (zero volume) but PBC is periodic along some direction")
        return pbc

    # -- files and ASE ------------------------------------------------------------------------

    @classmethod
    def from_file(cls, filename: PathLike, file_format: str = "xyz", weight: Optional[Weight] = None) -> "Configuration":
        """Read the single configuration in ``filename`` (extended XYZ; KLIFF or ASE dialect).

        Raises:
            DatasetError: the file holds more than one frame (use ``Dataset.from_path``).
        """
        from .extxyz import read_extxyz  # extxyz builds Configurations: import here, not at top

        _check_format(file_format, filename)
        configs = read_extxyz(filename, weight=weight)
        if len(configs) != 1:
            raise DatasetError(
                f"holds {len(configs)} frames; Configuration.from_file reads one (use Dataset.from_path)",
                path=filename,
            )
        return configs[0]

    def to_file(self, filename: PathLike, file_format: str = "xyz", dialect: str = "kliff") -> None:
        """Write this configuration as extended XYZ (``dialect`` "kliff" or "ase"; see extxyz)."""
        from .extxyz import write_extxyz

        _check_format(file_format, filename)
        write_extxyz(filename, [self], dialect=dialect)

    @classmethod
    def from_ase_atoms(
        cls,
        atoms,
        weight: Optional[Weight] = None,
        energy_key: str = "energy",
        forces_key: str = "forces",
        stress_key: str = "stress",
        identifier: Optional[str] = None,
    ) -> "Configuration":
        """Build a configuration from an ``ase.Atoms``.

        Energy, forces and stress come from the attached calculator's stored results (a
        SinglePointCalculator, as ``ase.io.read`` creates); without them, from
        ``atoms.info[energy_key]``, ``atoms.arrays[forces_key]`` and ``atoms.info[stress_key]``
        (6 Voigt or 9 / 3x3 values). Other scalar and string ``atoms.info`` entries go to
        ``metadata``. No calculation is ever triggered.
        """
        results = dict(getattr(atoms.calc, "results", {}) or {}) if atoms.calc is not None else {}
        energy = results.get("energy", atoms.info.get(energy_key))
        forces = results.get("forces", atoms.arrays.get(forces_key))
        stress = results.get("stress", atoms.info.get(stress_key))
        if stress is not None and np.size(stress) == 9:
            stress = voigt_from_tensor(stress)
        skip = {energy_key, stress_key}
        metadata = {k: v for k, v in atoms.info.items() if k not in skip and isinstance(v, (str, int, float, bool))}
        return cls(
            np.array(atoms.cell),
            atoms.get_chemical_symbols(),
            atoms.get_positions(),
            atoms.get_pbc(),
            energy=energy,
            forces=forces,
            stress=stress,
            weight=weight,
            identifier=identifier,
            metadata=metadata,
        )

    def to_ase_atoms(self):
        """An ``ase.Atoms`` with a SinglePointCalculator holding energy, forces and stress."""
        import ase
        from ase.calculators.singlepoint import SinglePointCalculator

        atoms = ase.Atoms(symbols=self._species, positions=self._coords, cell=self._cell, pbc=self._PBC)
        atoms.info.update({k: v for k, v in self._metadata.items() if isinstance(v, (str, int, float, bool))})
        results = {}
        if self._energy is not None:
            results["energy"] = self._energy
        if self._forces is not None:
            results["forces"] = self._forces.copy()
        if self._stress is not None:
            results["stress"] = self._stress.copy()
        if results:
            atoms.calc = SinglePointCalculator(atoms, **results)
        return atoms

    # -- properties ---------------------------------------------------------------------------

    @property
    def cell(self) -> np.ndarray:
        """(3, 3) lattice vectors as rows, Å."""
        return self._cell

    @property
    def species(self) -> List[str]:
        """Chemical symbols of the N atoms."""
        return self._species

    @property
    def coords(self) -> np.ndarray:
        """(N, 3) Cartesian positions, Å."""
        return self._coords

    @property
    def PBC(self) -> np.ndarray:
        """(3,) booleans: periodic along a1, a2, a3."""
        return self._PBC

    @property
    def has_energy(self) -> bool:
        return self._energy is not None

    @property
    def has_forces(self) -> bool:
        return self._forces is not None

    @property
    def has_stress(self) -> bool:
        return self._stress is not None

    @property
    def energy(self) -> float:
        """Total potential energy, eV. Raises DatasetError when absent."""
        if self._energy is None:
            raise self._missing("energy")
        return self._energy

    @property
    def forces(self) -> np.ndarray:
        """(N, 3) forces, eV/Å. Raises DatasetError when absent."""
        if self._forces is None:
            raise self._missing("forces")
        return self._forces

    @property
    def stress(self) -> np.ndarray:
        """(6,) Voigt stress xx yy zz yz xz xy, eV/Å^3, tensile positive. Raises DatasetError when absent."""
        if self._stress is None:
            raise self._missing("stress")
        return self._stress

    def _missing(self, name: str) -> DatasetError:
        where = f"configuration {self._identifier!r}" if self._identifier else "configuration"
        return DatasetError(f"has no {name}", record=where)

    @property
    def weight(self) -> Weight:
        """The ``Weight`` of this configuration; assigning one computes it for this configuration."""
        return self._weight

    @weight.setter
    def weight(self, weight: Weight) -> None:
        weight.compute_weight(self)
        self._weight = weight

    @property
    def identifier(self) -> Optional[str]:
        return self._identifier

    @identifier.setter
    def identifier(self, identifier: str) -> None:
        self._identifier = str(identifier)

    @property
    def path(self) -> Optional[Path]:
        """The file this configuration was read from, or None."""
        return self._path

    @property
    def metadata(self) -> Dict[str, Any]:
        """Extra data: extxyz comment keys, pacemaker columns such as ``energy_corrected`` (eV)."""
        return self._metadata

    # -- derived quantities -------------------------------------------------------------------

    def get_num_atoms(self) -> int:
        return len(self._species)

    def get_num_atoms_by_species(self) -> Dict[str, int]:
        return self.count_atoms_by_species()

    def get_volume(self) -> float:
        """Cell volume |a1 . (a2 x a3)|, Å^3 (0 for a cluster without a cell)."""
        return float(abs(np.linalg.det(self._cell)))

    def count_atoms_by_species(self, symbols: Optional[Sequence[str]] = None) -> Dict[str, int]:
        """Atoms per species, for ``symbols`` (zero when absent) or for the species present, sorted."""
        unique, counts = np.unique(np.asarray(self._species, dtype=str), return_counts=True)
        present = {str(s): int(c) for s, c in zip(unique, counts)}
        if symbols is None:
            return present
        return {s: present.get(s, 0) for s in symbols}

    def order_by_species(self) -> None:
        """Reorder atoms so that each species is contiguous (stable sort by symbol)."""
        order = np.argsort(np.asarray(self._species, dtype=str), kind="stable")
        self._species = [self._species[i] for i in order]
        self._coords = self._coords[order]
        if self._forces is not None:
            self._forces = self._forces[order]
        self._weight.compute_weight(self)

    def __repr__(self) -> str:
        props = [p for p in ("energy", "forces", "stress") if getattr(self, f"has_{p}")]
        return (
            f"Configuration({self._identifier!r}, natoms={self.get_num_atoms()}, "
            f"pbc={self._PBC.tolist()}, properties={props})"
        )


SUPPORTED_FORMATS = {"xyz": (".xyz", ".extxyz")}


def _check_format(file_format: str, path: PathLike) -> None:
    if file_format not in SUPPORTED_FORMATS:
        raise InputError(
            f"unsupported file_format {file_format!r}; expected one of {sorted(SUPPORTED_FORMATS)}",
            path=path,
        )


__all__ = ["Configuration", "voigt_from_tensor", "tensor_from_voigt"]
