"""Lennard-Jones 6-12 potential (C++ kernel ``forcefit._core.LennardJonesKernel``).

Energy::

    E = Σ_{pairs i<j, r_ij < rc} φ(r_ij),   φ(r) = 4ε [(σ/r)^12 − (σ/r)^6] − shift
    shift = 4ε [(σ/rc)^12 − (σ/rc)^6] if ``shifted`` else 0

``shifted=False`` is LAMMPS ``pair_style lj/cut`` (no ``pair_modify shift yes``); ``shifted=True``
is KIM's LennardJones612 driver with shift flag 1. Parameters, one value per species pair in KIM
upper-triangle order: ``epsilon`` (eV), ``sigma`` (Å), ``cutoff`` (Å). Defaults are KLIFF's
(epsilon 1.0, sigma 2.0, cutoff 5.0). The derivative with respect to ``cutoff`` is the smooth
part only (zero when unshifted).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np

from .. import _core
from .kernel_model import KernelModel
from .transform import ParameterTransform

_DEFAULTS = {"epsilon": 1.0, "sigma": 2.0, "cutoff": 5.0}
_DESCRIPTIONS = {"epsilon": "well depth, eV", "sigma": "zero-crossing distance, Å", "cutoff": "cutoff, Å"}


class LennardJones(KernelModel):
    """Lennard-Jones model (see module docstring).

    Args:
        species: chemical symbols, e.g. ``["Ar"]``.
        shifted: shift each pair energy to zero at its cutoff.
        model_name, params_transform: as ``Model``.
        **values: ``epsilon``, ``sigma``, ``cutoff`` start values (scalar = every pair).
    """

    def __init__(self, species: Sequence[str] = ("Si",), shifted: bool = False,
                 model_name: Optional[str] = None, params_transform: Optional[ParameterTransform] = None,
                 **values: Any):
        self.shifted = bool(shifted)
        self._kernel = _core.LennardJonesKernel(len(species), self.shifted)
        super().__init__(species, values, model_name or "LennardJones", params_transform)

    def _default_values(self) -> Dict[str, np.ndarray]:
        n = len(self.species) * (len(self.species) + 1) // 2
        return {k: np.full(n, v) for k, v in _DEFAULTS.items()}

    def _descriptions(self) -> Dict[str, str]:
        return _DESCRIPTIONS

    def write_kim_model(self, path: Optional[Union[str, Path]] = None) -> Path:
        """Write a KIM portable model for LennardJones612__MD_414112407348_003 into ``path``."""
        from .kim_export import write_kim_model

        return write_kim_model(self, path)


__all__ = ["LennardJones"]
