"""Stillinger-Weber potential (C++ kernel ``forcefit._core.StillingerWeberKernel``).

Energy (the OpenKIM driver SW__MD_335816936951_004's form; subscripts ij are species pairs)::

    E   = Σ_i [ 1/2 Σ_j φ2_ij(r_ij) + Σ_{j<k} φ3_ijk ]
    φ2  = A [B (σ/r)^p − (σ/r)^q] exp(σ / (r − rc))                      for r < rc
    φ3  = λ_ijk (cos θ_jik − cos θ0)^2 exp(γ_ij/(r_ij − rc_ij) + γ_ik/(r_ik − rc_ik))
    λ_ijk = sqrt(|λ_ij| |λ_ik|),   cos θ0 = (cos θ0_ij + cos θ0_ik)/2

Parameters (each one value per species pair, KIM upper-triangle order): ``A`` (eV), ``B``,
``p``, ``q``, ``sigma`` (Å), ``lambda`` (eV), ``gamma`` (Å), ``costheta0``, ``cutoff`` (Å).
Defaults: SW_StillingerWeber_1985_Si__MO_405512056662_005 (ε = 2.1682 eV folded into A and λ;
LAMMPS' Si.sw uses ε = 2.1683 eV). From a LAMMPS ``.sw`` entry: A = ε A_lmp, λ = ε λ_lmp,
gamma = γ_lmp σ, cutoff = a σ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np

from .. import _core
from .kernel_model import KernelModel
from .transform import ParameterTransform

#: SW_StillingerWeber_1985_Si__MO_405512056662_005
SI_1985 = {
    "A": 15.2848479197914,
    "B": 0.6022245584,
    "p": 4.0,
    "q": 0.0,
    "sigma": 2.0951,
    "lambda": 45.5322,
    "gamma": 2.51412,
    "costheta0": -1.0 / 3.0,
    "cutoff": 3.77118,
}

_DESCRIPTIONS = {
    "A": "two-body energy scale, eV",
    "B": "repulsive prefactor, dimensionless",
    "p": "repulsive exponent",
    "q": "attractive exponent",
    "sigma": "length scale, Å",
    "lambda": "three-body energy scale, eV (λ_ijk = sqrt(λ_ij λ_ik))",
    "gamma": "three-body decay length, Å",
    "costheta0": "cosine of the ideal bond angle",
    "cutoff": "cutoff, Å",
}


class StillingerWeber(KernelModel):
    """Stillinger-Weber model (see module docstring).

    Args:
        species: chemical symbols, e.g. ``["Si"]`` or ``["Si", "C"]``.
        model_name: name shown by ``echo_model_params``.
        params_transform: optional ``ParameterTransform`` for the optimizer's space.
        **values: start values by parameter name (scalar = every species pair, or one value per
            pair in KIM order); missing ones take the Si 1985 values.
    """

    def __init__(self, species: Sequence[str] = ("Si",), model_name: Optional[str] = None,
                 params_transform: Optional[ParameterTransform] = None, **values: Any):
        self._kernel = _core.StillingerWeberKernel(len(species))
        super().__init__(species, values, model_name or "StillingerWeber", params_transform)

    def _default_values(self) -> Dict[str, np.ndarray]:
        n = len(self.species) * (len(self.species) + 1) // 2
        return {k: np.full(n, v) for k, v in SI_1985.items()}

    def _descriptions(self) -> Dict[str, str]:
        return _DESCRIPTIONS

    def write_kim_model(self, path: Optional[Union[str, Path]] = None) -> Path:
        """Write a KIM portable model for the driver SW__MD_335816936951_004 into directory
        ``path`` (default: ``./<model_name>``); returns the directory."""
        from .kim_export import write_kim_model

        return write_kim_model(self, path)

    def write_lammps(self, path: Union[str, Path]) -> Path:
        """Write a LAMMPS ``pair_style sw`` parameter file (every element triplet) to ``path``."""
        from .lammps_export import write_lammps_sw

        return write_lammps_sw(self, path)


__all__ = ["StillingerWeber", "SI_1985"]
