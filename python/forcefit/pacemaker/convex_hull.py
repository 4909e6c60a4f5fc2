r"""Distance of each structure's energy per atom to the lower convex hull (python-ace's definition).

For a data set with elements :math:`e_1 < \dots < e_K` (sorted symbols), each structure has
concentrations :math:`c_k` and corrected energy per atom :math:`\varepsilon` (eV/atom). Its
formation energy is :math:`\varepsilon_f = \varepsilon - \sum_k c_k \varepsilon_k^0`, where
:math:`\varepsilon_k^0` is the lowest energy per atom among the pure-:math:`e_k` structures (0
when the set has none). The hull is built with ``scipy.spatial.ConvexHull`` over the points
:math:`(c_1, \dots, c_{K-1}, \varepsilon_f)` (the last concentration is dependent). Only the
lower facets count -- those whose outward normal points down in energy. For a point, each lower
facet's plane gives an energy at the point's composition; the distance to the hull is the point's
energy minus the highest such plane energy that does not lie above the point (a convex hull is
the maximum of its supporting planes).

With a single composition there is no hull: the distance is the energy per atom minus the data
set's minimum (the cohesive reference), as python-ace does.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

from ..errors import DatasetError


def composition_matrix(symbol_lists: Sequence[Sequence[str]]) -> Tuple[List[str], np.ndarray]:
    """(sorted elements, counts (S, K)) for S structures given as lists of chemical symbols."""
    elements = sorted({s for symbols in symbol_lists for s in symbols})
    index = {e: k for k, e in enumerate(elements)}
    counts = np.zeros((len(symbol_lists), len(elements)))
    for row, symbols in enumerate(symbol_lists):
        for s in symbols:
            counts[row, index[s]] += 1
    return elements, counts


def formation_energy_per_atom(concentrations: np.ndarray, energy_per_atom: np.ndarray) -> np.ndarray:
    """Formation energy per atom (S,), eV/atom, against the lowest pure-element energies."""
    reference = np.zeros(concentrations.shape[1])
    for k in range(concentrations.shape[1]):
        pure = concentrations[:, k] == 1.0
        if np.any(pure):
            reference[k] = energy_per_atom[pure].min()
    return energy_per_atom - concentrations @ reference


def convex_hull_distance(symbol_lists: Sequence[Sequence[str]], energy_per_atom: Sequence[float]) -> np.ndarray:
    """Distance above the lower convex hull, eV/atom, for each structure (S,); >= 0 up to rounding.

    Args:
        symbol_lists: the chemical symbols of each structure.
        energy_per_atom: corrected energy per atom of each structure, eV/atom.

    Raises:
        DatasetError: the compositions and energies span no hull (e.g. all points collinear).
    """
    from scipy.spatial import ConvexHull, QhullError

    energy_per_atom = np.asarray(energy_per_atom, dtype=float)
    _, counts = composition_matrix(symbol_lists)
    concentrations = counts / counts.sum(axis=1, keepdims=True)
    compositions = {tuple(np.round(c, 12)) for c in concentrations}
    if len(compositions) <= 1:
        return energy_per_atom - energy_per_atom.min()
    e_form = formation_energy_per_atom(concentrations, energy_per_atom)
    points = np.column_stack([concentrations[:, :-1], e_form])
    try:
        hull = ConvexHull(points)
    except QhullError as err:
        raise DatasetError(
            "cannot build the convex hull of compositions and energies "
            f"({str(err).splitlines()[0]}); use weighting energy: cohesive"
        ) from None
    lower = hull.equations[:, -2] < 0  # energy component of the outward normal
    normals_c = hull.equations[lower, :-2]
    normals_e = hull.equations[lower, -2]
    offsets = hull.equations[lower, -1]
    distances = np.empty(len(points))
    for row, point in enumerate(points):
        p_c, p_e = point[:-1], point[-1]
        plane_energies = (-offsets - normals_c @ p_c) / normals_e
        below = plane_energies[plane_energies < p_e + 1e-15]
        distances[row] = np.min(p_e - below) if below.size else 0.0
    return distances


__all__ = ["composition_matrix", "convex_hull_distance", "formation_energy_per_atom"]
