"""Statistics of a dataset for reports and the ``forcefit dataset info`` command.

Design: one pass over the configurations fills a frozen ``DatasetSummary`` of plain numbers and
dicts; printing is the caller's job. Energies in eV, volumes in Å^3.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Dict, Iterable, Optional, Tuple

import numpy as np

from .configuration import Configuration

Range = Optional[Tuple[float, float]]


@dataclass(frozen=True)
class DatasetSummary:
    """What a dataset holds.

    Fields:
        num_configs, num_atoms: totals.
        atoms_per_config: (min, max) atoms in one configuration.
        atoms_by_species: atoms of each species over the dataset, sorted by symbol.
        configs_by_species: configurations containing each species.
        property_counts: configurations with "energy", "forces", "stress", and with
            "energy_corrected" in metadata (pacemaker).
        energy_range, energy_per_atom_range: (min, max) total energy and energy per atom, eV,
            over configurations with an energy; None when none has one.
        max_force: largest force-vector norm, eV/Å, or None.
        volume_per_atom_range: (min, max) over periodic configurations, Å^3, or None.
        pbc_counts: number of configurations per PBC pattern, e.g. {"T T T": 30, "F F F": 1}.
        config_types: configurations per ``metadata["config_type"]`` (empty if none has one).
    """

    num_configs: int
    num_atoms: int
    atoms_per_config: Tuple[int, int]
    atoms_by_species: Dict[str, int]
    configs_by_species: Dict[str, int]
    property_counts: Dict[str, int]
    energy_range: Range
    energy_per_atom_range: Range
    max_force: Optional[float]
    volume_per_atom_range: Range
    pbc_counts: Dict[str, int]
    config_types: Dict[str, int]


def _range(values) -> Range:
    return (float(min(values)), float(max(values))) if values else None


def summarize(configs: Iterable[Configuration]) -> DatasetSummary:
    """Collect a ``DatasetSummary`` of ``configs`` (a Dataset or any iterable of Configurations)."""
    configs = list(configs)
    atoms_by_species: Counter = Counter()
    configs_by_species: Counter = Counter()
    pbc_counts: Counter = Counter()
    config_types: Counter = Counter()
    props = Counter({"energy": 0, "forces": 0, "stress": 0, "energy_corrected": 0})
    energies, per_atom, volumes, max_force = [], [], [], None
    for config in configs:
        counts = config.count_atoms_by_species()
        atoms_by_species.update(counts)
        configs_by_species.update(counts.keys())
        pbc_counts[" ".join("T" if p else "F" for p in config.PBC)] += 1
        if "config_type" in config.metadata:
            config_types[str(config.metadata["config_type"])] += 1
        if "energy_corrected" in config.metadata:
            props["energy_corrected"] += 1
        natoms = config.get_num_atoms()
        if config.has_energy:
            props["energy"] += 1
            energies.append(config.energy)
            if natoms:
                per_atom.append(config.energy / natoms)
        if config.has_forces:
            props["forces"] += 1
            if natoms:
                largest = float(np.max(np.linalg.norm(config.forces, axis=1)))
                max_force = largest if max_force is None else max(max_force, largest)
        if config.has_stress:
            props["stress"] += 1
        if np.all(config.PBC) and natoms:
            volumes.append(config.get_volume() / natoms)
    sizes = [c.get_num_atoms() for c in configs]
    return DatasetSummary(
        num_configs=len(configs),
        num_atoms=int(sum(sizes)),
        atoms_per_config=(min(sizes), max(sizes)) if sizes else (0, 0),
        atoms_by_species=dict(sorted(atoms_by_species.items())),
        configs_by_species=dict(sorted(configs_by_species.items())),
        property_counts=dict(props),
        energy_range=_range(energies),
        energy_per_atom_range=_range(per_atom),
        max_force=max_force,
        volume_per_atom_range=_range(volumes),
        pbc_counts=dict(pbc_counts.most_common()),
        config_types=dict(sorted(config_types.items())),
    )


__all__ = ["DatasetSummary", "summarize"]
