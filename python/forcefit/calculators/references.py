"""Reference data and weights of a list of configurations, gathered into flat arrays.

The loss works on whole datasets at once, so the per-configuration reference values (KLIFF
``Configuration`` attributes ``energy``, ``forces``, ``stress``, ``weight``) are copied once into
arrays laid out like the kernels' results: energies [C], forces [N, 3] (atoms of configuration c
are rows ``atom_offset[c]:atom_offset[c+1]``), stress [C, 6] (Voigt xx yy zz yz xz xy, eV/Å^3).
Values that are not used are NaN. Weights (KLIFF ``Weight``: ``config_weight``, ``energy_weight``,
``forces_weight``, ``stress_weight``; all 1 when a configuration has none) are gathered the same
way; ``forces_weight`` may be a scalar or per atom ([n], [n, 3] or [3n]).

Everything a fit cannot work with raises ``forcefit.errors.DatasetError`` naming the configuration:
a species the model does not support, missing or non-finite energies/forces/stress that were
requested, stress requested for a non-periodic configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ..errors import DatasetError


@dataclass
class ReferenceData:
    """Flat reference arrays for C configurations with N atoms in total."""

    identifiers: List[str]
    paths: List[Optional[str]]
    natoms: np.ndarray          # int64 [C]
    atom_offset: np.ndarray     # int64 [C+1]
    use_energy: np.ndarray      # bool [C]
    use_forces: np.ndarray      # bool [C]
    use_stress: np.ndarray      # bool [C]
    energy: np.ndarray          # float64 [C], eV (NaN where not used)
    forces: np.ndarray          # float64 [N, 3], eV/Å
    stress: np.ndarray          # float64 [C, 6], eV/Å^3
    config_weight: np.ndarray   # float64 [C]
    energy_weight: np.ndarray   # float64 [C]
    forces_weight: np.ndarray   # float64 [N, 3]
    stress_weight: np.ndarray   # float64 [C, 6]

    @property
    def n_configs(self) -> int:
        return len(self.natoms)

    def config_of_atom(self) -> np.ndarray:
        """int64 [N]: the configuration each atom belongs to."""
        return np.repeat(np.arange(self.n_configs), self.natoms)


def config_identifier(conf: Any, index: int) -> str:
    ident = getattr(conf, "identifier", None)
    return str(ident) if ident is not None else f"configuration {index}"


def config_natoms(conf: Any) -> int:
    if hasattr(conf, "get_num_atoms"):
        return int(conf.get_num_atoms())
    return len(conf.species) if hasattr(conf, "species") else len(conf)


def _config_species(conf: Any) -> List[str]:
    if hasattr(conf, "species"):
        return list(conf.species)
    return list(conf.get_chemical_symbols())  # ase.Atoms


def _property(conf: Any, name: str) -> Any:
    """conf.<name>, or None when the configuration has none (``has_<name>`` False / missing)."""
    has = getattr(conf, f"has_{name}", None)
    if has is False:
        return None
    try:
        return getattr(conf, name, None)
    except DatasetError:
        return None


def _weight_value(weight: Any, name: str) -> Any:
    value = getattr(weight, name, None) if weight is not None else None
    return 1.0 if value is None else value


def _error(problem: str, conf: Any, index: int) -> DatasetError:
    return DatasetError(problem, path=getattr(conf, "path", None), record=config_identifier(conf, index))


def _as_flags(flag: Any, n: int, name: str) -> np.ndarray:
    if isinstance(flag, (bool, np.bool_)):
        return np.full(n, bool(flag))
    flags = np.asarray(list(flag), dtype=bool)
    if flags.shape != (n,):
        raise DatasetError(f"`{name}` has {flags.size} entries for {n} configurations")
    return flags


def check_species(configs: Sequence[Any], supported: Optional[Dict[str, int]]) -> None:
    """Raise DatasetError naming the first configuration holding a species outside ``supported``."""
    if supported is None:
        return
    for i, conf in enumerate(configs):
        unknown = sorted(set(_config_species(conf)) - set(supported))
        if unknown:
            raise _error(f"species {', '.join(unknown)} not supported by the model "
                         f"(it supports: {', '.join(supported)})", conf, i)


def gather_references(configs: Sequence[Any], use_energy: Any = True, use_forces: Any = True,
                      use_stress: Any = False) -> ReferenceData:
    """Copy reference values and weights of ``configs`` into a ``ReferenceData``.

    ``use_energy``/``use_forces``/``use_stress``: a bool for all configurations or one per
    configuration (KLIFF's ``Calculator.create`` arguments).
    """
    n = len(configs)
    if n == 0:
        raise DatasetError("no configurations given")
    ue = _as_flags(use_energy, n, "use_energy")
    uf = _as_flags(use_forces, n, "use_forces")
    us = _as_flags(use_stress, n, "use_stress")

    natoms = np.array([config_natoms(c) for c in configs], dtype=np.int64)
    offset = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(natoms, out=offset[1:])
    n_total = int(offset[-1])

    energy = np.full(n, np.nan)
    forces = np.full((n_total, 3), np.nan)
    stress = np.full((n, 6), np.nan)
    cw = np.ones(n)
    ew = np.ones(n)
    fw = np.ones((n_total, 3))
    sw = np.ones((n, 6))

    for i, conf in enumerate(configs):
        lo, hi = offset[i], offset[i + 1]
        if ue[i]:
            e = _property(conf, "energy")
            if e is None or not np.isfinite(float(e)):
                raise _error(f"no finite reference energy (got {e!r}) but use_energy is on", conf, i)
            energy[i] = float(e)
        if uf[i]:
            f = _property(conf, "forces")
            if f is None:
                raise _error("no reference forces but use_forces is on "
                             "(pass use_forces=False to Calculator.create to fit energies only)", conf, i)
            f = np.asarray(f, dtype=np.float64)
            if f.shape != (hi - lo, 3):
                raise _error(f"reference forces have shape {f.shape}, expected ({hi - lo}, 3)", conf, i)
            if not np.all(np.isfinite(f)):
                raise _error("reference forces contain NaN or inf", conf, i)
            forces[lo:hi] = f
        if us[i]:
            s = _property(conf, "stress")
            if s is None:
                raise _error("no reference stress but use_stress is on", conf, i)
            pbc = getattr(conf, "PBC", getattr(conf, "pbc", None))
            if pbc is not None and not np.all(pbc):
                raise _error("stress requested for a configuration that is not periodic in 3D", conf, i)
            s = np.asarray(s, dtype=np.float64).reshape(-1)
            if s.shape != (6,) or not np.all(np.isfinite(s)):
                raise _error(f"reference stress must be 6 finite Voigt components, got {s.tolist()}", conf, i)
            stress[i] = s

        weight = getattr(conf, "weight", None)
        cw[i] = float(_weight_value(weight, "config_weight"))
        ew[i] = float(_weight_value(weight, "energy_weight"))
        sw[i] = np.broadcast_to(np.asarray(_weight_value(weight, "stress_weight"), dtype=np.float64), (6,))
        fw_raw = np.asarray(_weight_value(weight, "forces_weight"), dtype=np.float64)
        try:
            if fw_raw.ndim == 1 and fw_raw.size == 3 * (hi - lo) and hi - lo != 1:
                fw_raw = fw_raw.reshape(-1, 3)
            elif fw_raw.ndim == 1 and fw_raw.size == hi - lo:
                fw_raw = fw_raw[:, None]
            fw[lo:hi] = np.broadcast_to(fw_raw, (hi - lo, 3))
        except ValueError:
            raise _error(f"forces_weight of shape {fw_raw.shape} does not fit {hi - lo} atoms", conf, i) from None

    return ReferenceData(
        identifiers=[config_identifier(c, i) for i, c in enumerate(configs)],
        paths=[getattr(c, "path", None) for c in configs],
        natoms=natoms, atom_offset=offset, use_energy=ue, use_forces=uf, use_stress=us,
        energy=energy, forces=forces, stress=stress,
        config_weight=cw, energy_weight=ew, forces_weight=fw, stress_weight=sw,
    )


__all__ = ["ReferenceData", "gather_references", "check_species", "config_identifier", "config_natoms"]
