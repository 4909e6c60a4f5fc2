"""ASE-compatible full neighbor lists.

The search runs in the C++ core (linked cells in fractional coordinates, OpenMP threads); this
module only checks arguments, turns dict cutoffs into a species-pair matrix and picks the requested
arrays. The result is exactly ``ase.neighborlist.neighbor_list``'s pair set, sorted by ``i``.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from .. import _core
from ..errors import InputError

Cutoff = Union[float, Mapping[Tuple[Union[str, int], Union[str, int]], float]]

_LETTERS = "ijSDd"


def _as_positions(positions) -> np.ndarray:
    array = np.asarray(positions, dtype=np.float64)
    if array.size == 0:
        return np.zeros((0, 3))
    if array.ndim != 2 or array.shape[1] != 3:
        raise InputError(f"positions: expected shape (N, 3), got {array.shape}")
    return array


def _as_cell(cell) -> np.ndarray:
    array = np.asarray(cell, dtype=np.float64)
    if array.shape != (3, 3):
        raise InputError(f"cell: expected shape (3, 3) (rows are lattice vectors), got {array.shape}")
    return array


def _as_pbc(pbc) -> np.ndarray:
    array = np.asarray(pbc)
    if array.shape == ():
        array = np.repeat(array, 3)
    if array.shape != (3,):
        raise InputError(f"pbc: expected a bool or shape (3,), got shape {array.shape}")
    return array.astype(bool)


def _check_quantities(quantities: str) -> None:
    if not isinstance(quantities, str) or not quantities:
        raise InputError(f"quantities: expected a non-empty string of the letters {_LETTERS!r}, got {quantities!r}")
    unknown = sorted(set(quantities) - set(_LETTERS))
    if unknown:
        raise InputError(f"quantities: unknown letters {unknown} in {quantities!r}; use {_LETTERS!r}")


def _species_label(value):
    """Atomic number for element symbols and integers; other strings stay as they are."""
    from ase.data import atomic_numbers

    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, str):
        return atomic_numbers.get(value, value)
    raise InputError(f"species: expected element symbols or atomic numbers, got {value!r}")


def species_cutoff_matrix(species: Sequence, cutoff: Mapping) -> Tuple[np.ndarray, np.ndarray]:
    """Species indices [N] (int32) and a symmetric cutoff matrix [S, S] (Å) from ASE-style dict cutoffs.

    ``cutoff`` maps pairs ``(a, b)`` of element symbols or atomic numbers to a cutoff in Å; a pair
    applies to both orders, pairs missing from the dict never interact (cutoff 0).
    """
    labels = [_species_label(s) for s in np.asarray(species, dtype=object).reshape(-1)]
    unique = sorted(set(labels), key=lambda x: (isinstance(x, str), x))
    code = {label: k for k, label in enumerate(unique)}
    index = np.fromiter((code[label] for label in labels), dtype=np.int32, count=len(labels))
    matrix = np.zeros((max(1, len(unique)), max(1, len(unique))))
    seen = {}
    for key, value in cutoff.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise InputError(f"cutoff: dict keys must be pairs (a, b) of species, got {key!r}")
        rc = float(value)
        if not np.isfinite(rc) or rc <= 0:
            raise InputError(f"cutoff: entry {key!r} must be a finite number > 0, got {value!r}")
        a, b = (_species_label(s) for s in key)
        pair = frozenset((a, b))
        if pair in seen and seen[pair] != rc:
            raise InputError(f"cutoff: pair {key!r} is given twice with different values ({seen[pair]} and {rc})")
        seen[pair] = rc
        if a in code and b in code:
            matrix[code[a], code[b]] = matrix[code[b], code[a]] = rc
    if not seen:
        raise InputError("cutoff: empty dict")
    return index, matrix


def _empty(quantities: str, n_atoms: int):
    shapes = {"i": (0,), "j": (0,), "S": (0, 3), "D": (0, 3), "d": (0,)}
    kinds = {"i": np.int32, "j": np.int32, "S": np.int32, "D": np.float64, "d": np.float64}
    return tuple(np.zeros(shapes[q], dtype=kinds[q]) for q in quantities)


def neighbor_list(
    positions,
    cell,
    pbc,
    cutoff: Cutoff,
    *,
    species: Optional[Sequence] = None,
    self_interaction: bool = False,
    quantities: str = "ijS",
):
    """Full neighbor list with ASE's definition (``ase.neighborlist.neighbor_list``).

    A pair (i, j, S) has ``D = positions[j] - positions[i] + S @ cell`` and ``|D| < cutoff``
    (strict); both (i, j, S) and (j, i, -S) are listed; (i, i, 0) only with ``self_interaction``.
    S is relative to the positions as given (they need not lie inside the cell). Pairs are sorted by
    i; within one i their order is fixed (independent of the thread count) but unspecified.

    Args:
        positions: [N, 3] Cartesian positions (Å).
        cell: [3, 3] lattice vectors as rows (Å). Along non-periodic directions the vectors may be
            zero or degenerate.
        pbc: bool or [3] bools, periodic directions.
        cutoff: one cutoff (Å, > 0), or a dict ``{(a, b): rc}`` over pairs of element symbols or
            atomic numbers (needs ``species``); pairs missing from the dict never interact.
        species: [N] element symbols or atomic numbers (only used with a dict cutoff).
        self_interaction: list each atom as its own neighbor (S = 0, d = 0).
        quantities: letters of the arrays to return, in that order: ``i``, ``j`` ([P] int32),
            ``S`` ([P, 3] int32 lattice shifts), ``D`` ([P, 3] float64, Å), ``d`` ([P] float64, Å).

    Returns:
        A tuple of arrays in the order of ``quantities`` (a single array for one letter, as ASE).

    Raises:
        InputError: bad shapes, non-finite positions, cutoff <= 0, a singular cell along a
            periodic direction, unknown letters.
    """
    _check_quantities(quantities)
    positions = _as_positions(positions)
    cell = _as_cell(cell)
    pbc = _as_pbc(pbc)
    flags = dict(self_interaction=bool(self_interaction), shifts="S" in quantities,
                 vectors="D" in quantities, distances="d" in quantities)
    if isinstance(cutoff, Mapping):
        if species is None:
            raise InputError("species: required with a dict cutoff")
        if len(species) != len(positions):
            raise InputError(f"species: {len(species)} entries for {len(positions)} atoms")
        index, matrix = species_cutoff_matrix(species, cutoff)
        if not matrix.any():  # no listed species pair occurs: like ASE, no pairs
            result = dict(zip(quantities, _empty(quantities, len(positions))))
        else:
            result = _core.neighbor_list_species(positions, cell, pbc, index, matrix, **flags)
    else:
        try:
            rc = float(cutoff)
        except (TypeError, ValueError):
            raise InputError(f"cutoff: expected a number or a dict of species pairs, got {cutoff!r}") from None
        result = _core.neighbor_list(positions, cell, pbc, rc, **flags)
    out = tuple(result[q] for q in quantities)
    return out[0] if len(out) == 1 else out


def neighbor_list_atoms(atoms, cutoff: Cutoff, quantities: str = "ijS", *, self_interaction: bool = False):
    """:func:`neighbor_list` for an ``ase.Atoms`` (positions, cell, pbc and atomic numbers).

    Same arguments and result as ``ase.neighborlist.neighbor_list(quantities, atoms, cutoff)`` for
    a float or dict cutoff.
    """
    return neighbor_list(
        atoms.get_positions(), np.asarray(atoms.get_cell()), atoms.get_pbc(), cutoff,
        species=atoms.get_atomic_numbers(), self_interaction=self_interaction, quantities=quantities,
    )


__all__ = ["neighbor_list", "neighbor_list_atoms", "species_cutoff_matrix"]
