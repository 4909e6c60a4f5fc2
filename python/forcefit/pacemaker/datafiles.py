"""Files named by a pacemaker input: where the data files are, whether every file exists, and
the reference energies stored in a potential being continued."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Optional, Tuple

from .inputfile import parse_reference_energy
from .potential_section import check_potential_files
from .schema import Where, check_type
from .sections import DataSection, PacemakerInput


def resolve_data_file(name: str, data: DataSection, source: Optional[Path], key: str) -> Path:
    """Where a data file is: as written (relative to the working directory, as pacemaker), else
    under ``datapath`` (or ``$PACEMAKERDATAPATH``), else next to the input file.

    Raises:
        InputError: found nowhere; the message lists the places searched.
    """
    datapath = data.datapath or os.environ.get("PACEMAKERDATAPATH")
    candidates = [Path(name)]
    if datapath:
        candidates.append(Path(datapath) / name)
    if source is not None and not Path(name).is_absolute():
        candidates.append(source.parent / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    searched = ", ".join(dict.fromkeys(str(c) for c in candidates))
    hint = "" if datapath else " (set data.datapath or $PACEMAKERDATAPATH for a data folder)"
    raise Where(source, f"data.{key}").error(f"data file {name!r} not found; searched {searched}{hint}")


def resolve_data_files(inp: PacemakerInput) -> Tuple[Tuple[Path, ...], Tuple[Path, ...]]:
    """(training files, test files) as paths that exist."""
    train = tuple(resolve_data_file(n, inp.data, inp.source, "filename") for n in inp.data.filenames)
    test = tuple(resolve_data_file(n, inp.data, inp.source, "test_filename") for n in inp.data.test_filenames)
    return train, test


def with_reference_energy_from_potential(inp: PacemakerInput) -> PacemakerInput:
    """python-ace's upfit rule: without ``data.reference_energy``, use the ``reference_energy``
    stored in the metadata of the potential file being continued (if it has one)."""
    import json

    import yaml

    if inp.data.reference_energy is not None or inp.potential.filename is None or not inp.potential.filename.is_file():
        return inp
    try:
        document = yaml.safe_load(inp.potential.filename.read_text())
        stored = (document.get("metadata") or {}).get("reference_energy") if isinstance(document, dict) else None
    except (OSError, yaml.YAMLError):
        return inp  # the engine reports an unreadable potential file with its own message
    if stored is None:
        return inp
    where = Where(inp.potential.filename, "metadata.reference_energy")
    try:
        value = json.loads(stored) if isinstance(stored, str) else stored
    except json.JSONDecodeError:
        raise where.error(f"not a JSON mapping of single-atom energies: {stored!r}") from None
    reference = parse_reference_energy(check_type(value, (int, float, dict), where), where)
    notes = inp.notes + (f"Loading 'reference_energy' from potential metadata ({inp.potential.filename}): {reference}",)
    return replace(inp, data=replace(inp.data, reference_energy=reference), notes=notes)


def check_input_files(inp: PacemakerInput) -> None:
    """InputError when a data, potential or weights file named by the input does not exist."""
    resolve_data_files(inp)
    check_potential_files(inp.potential, Where(inp.source, "potential"))
    filename = inp.fit.weighting.params.get("filename")
    if filename is not None and not Path(filename).is_file():
        raise Where(inp.source, "fit.weighting.filename").error(f"weights file {filename!r} not found")


__all__ = ["check_input_files", "resolve_data_file", "resolve_data_files", "with_reference_energy_from_potential"]
