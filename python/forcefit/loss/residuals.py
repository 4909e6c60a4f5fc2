"""Residual functions (KLIFF's signature and semantics) and their vectorized form.

A residual function turns one configuration's prediction and reference into residuals::

    residual_fn(identifier, natoms, weight, prediction, reference, data) -> 1-D array

``prediction``/``reference`` are laid out as ``[energy, forces (3n), stress (6)]`` with the parts
not fitted left out (see ``Calculator.get_prediction``); ``weight`` has ``config_weight``,
``energy_weight``, ``forces_weight``, ``stress_weight``; ``data`` is ``Loss(residual_data=...)``,
by default ``{"normalize_by_natoms": True}``. The loss is 1/2 * sum(residual^2) (KLIFF's value).

Built-in functions:
    ``energy_forces_residual``: config_weight * w * (prediction - reference), w = energy_weight
        for the energy, forces_weight for forces and stress_weight for stress (KLIFF's legacy
        function applies forces_weight to stress too; here stress has its own weight);
    ``energy_residual``: config_weight * energy_weight * (prediction - reference);
    ``forces_residual``: config_weight * forces_weight * (prediction - reference);
    all divided by natoms when ``data["normalize_by_natoms"]``.

The ``Loss`` recognizes these three and evaluates them for the whole dataset at once through
``builtin_scales``: the residual of every fitted value is scale * (prediction - reference).
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

from ..calculators.references import ReferenceData


def _weights(weight: Any) -> Tuple[float, float, Any, Any]:
    def get(name):
        v = getattr(weight, name, None) if weight is not None else None
        return 1.0 if v is None else v
    return get("config_weight"), get("energy_weight"), get("forces_weight"), get("stress_weight")


def _per_component(forces_weight: Any, natoms: int):
    """A scalar, or a [3n] array from a per-atom ([n], [n, 3]) or flat ([3n]) weight."""
    w = np.asarray(forces_weight, dtype=np.float64)
    if w.size == 1:
        return float(w.reshape(-1)[0])
    return np.broadcast_to(w.reshape(natoms, -1), (natoms, 3)).reshape(-1)


def _split(prediction_size: int, natoms: int) -> Tuple[bool, bool]:
    """(has energy, has stress) for a prediction of this size, assuming forces are present."""
    rest = prediction_size - 3 * natoms
    return rest in (1, 7), rest in (6, 7)


def energy_forces_residual(identifier: str, natoms: int, weight: Any, prediction: np.ndarray,
                           reference: np.ndarray, data: Dict[str, Any]) -> np.ndarray:
    """Residual of energy and forces (and stress when fitted); see the module docstring."""
    cw, ew, fw, sw = _weights(weight)
    residual = cw * (np.asarray(prediction, dtype=np.float64) - np.asarray(reference, dtype=np.float64))
    has_e, has_s = _split(len(residual), natoms)
    start = 1 if has_e else 0
    if has_e:
        residual[0] *= ew
    stop = start + 3 * natoms
    residual[start:stop] *= _per_component(fw, natoms)
    if has_s:
        residual[stop:] *= sw
    if data.get("normalize_by_natoms", True):
        residual /= natoms
    return residual


def _uniformly_weighted(factor: float, natoms: int, prediction: np.ndarray, reference: np.ndarray,
                        data: Dict[str, Any]) -> np.ndarray:
    residual = factor * (np.asarray(prediction, dtype=np.float64) - np.asarray(reference, dtype=np.float64))
    if data.get("normalize_by_natoms", True):
        residual /= natoms
    return residual


def energy_residual(identifier: str, natoms: int, weight: Any, prediction: np.ndarray,
                    reference: np.ndarray, data: Dict[str, Any]) -> np.ndarray:
    """config_weight * energy_weight * (prediction - reference), / natoms when normalizing."""
    cw, ew, _, _ = _weights(weight)
    return _uniformly_weighted(cw * ew, natoms, prediction, reference, data)


def forces_residual(identifier: str, natoms: int, weight: Any, prediction: np.ndarray,
                    reference: np.ndarray, data: Dict[str, Any]) -> np.ndarray:
    """config_weight * forces_weight * (prediction - reference), / natoms when normalizing
    (a per-atom forces_weight contributes its first value)."""
    cw, _, fw, _ = _weights(weight)
    return _uniformly_weighted(cw * float(np.asarray(fw).reshape(-1)[0]), natoms, prediction, reference, data)


BUILTIN_RESIDUALS = {
    energy_forces_residual: "energy_forces",
    energy_residual: "energy",
    forces_residual: "forces",
}


def builtin_scales(kind: str, refs: ReferenceData, normalize_by_natoms: bool
                   ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scales (energy [C], forces [N, 3], stress [C, 6]) of a built-in residual function.

    ``kind``: "energy_forces", "energy" or "forces". residual = scale * (prediction - reference).
    """
    norm = 1.0 / refs.natoms if normalize_by_natoms else np.ones(refs.n_configs)
    atom_cfg = refs.config_of_atom()
    cw = refs.config_weight * norm
    if kind == "energy_forces":
        se = cw * refs.energy_weight
        sf = cw[atom_cfg, None] * refs.forces_weight
        ss = cw[:, None] * refs.stress_weight
    elif kind == "energy":
        per_cfg = cw * refs.energy_weight
        se, sf, ss = per_cfg, np.repeat(per_cfg[atom_cfg, None], 3, axis=1), np.repeat(per_cfg[:, None], 6, axis=1)
    elif kind == "forces":
        # forces_weight of each configuration's first atom stands for the whole configuration
        first = refs.forces_weight[refs.atom_offset[:-1], 0]
        per_cfg = cw * first
        se, sf, ss = per_cfg, np.repeat(per_cfg[atom_cfg, None], 3, axis=1), np.repeat(per_cfg[:, None], 6, axis=1)
    else:
        raise ValueError(f"unknown built-in residual kind {kind!r}")
    return np.ascontiguousarray(se), np.ascontiguousarray(sf), np.ascontiguousarray(ss)


__all__ = ["energy_forces_residual", "energy_residual", "forces_residual", "BUILTIN_RESIDUALS", "builtin_scales"]
