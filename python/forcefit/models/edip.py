"""Environment-Dependent Interatomic Potential, one species (C++ kernel ``forcefit._core.EDIPKernel``).

Justo, Bazant, Kaxiras, Bulatov, Yip, PRB 58, 2539 (1998)::

    E_i = Σ_{j, r<a} V2(r_ij, Z_i) + Σ_{j<k, r<b} g(r_ij) g(r_ik) h(cos θ_jik, Z_i)
    Z_i = Σ_m f(r_im),  f = 1 (r<c), exp(alp/(1 − x^−3)), x = (r−c)/(b−c) (c<r<b), 0 beyond b
    V2  = A [(B/r)^rh − exp(−bet Z²)] exp(sig/(r − a)),   g(r) = exp(gam/(r − b))
    h   = lam [1 − exp(−Q (l+τ)²) + eta Q (l+τ)²],  Q = Qo exp(−mu Z),
    τ   = u1 + u2 (u3 exp(−u4 Z) − exp(−2 u4 Z))

The paper (and LAMMPS) has one cutoff a = b; as in the OpenKIM driver EDIP__MD_506186535567_002,
``a`` cuts the two-body term and ``b`` the three-body term and the coordination.
Parameter names and order are those of that driver:
``a`` (Å), ``A`` (eV), ``B`` (Å), ``rh``, ``sig`` (Å), ``lam`` (eV), ``gam`` (Å), ``b`` (Å),
``c`` (Å), ``mu``, ``Qo``, ``eta``, ``bet``, ``alp``, ``u1``, ``u2``, ``u3``, ``u4`` (all scalars).
Defaults: the published Si parameters (EDIP_JustoBazantKaxiras_1998_Si__MO_958932894036_002;
LAMMPS Si.edip).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np

from ..errors import InputError
from .. import _core
from .kernel_model import KernelModel
from .transform import ParameterTransform

#: Justo et al. 1998, Si
SI_1998 = {
    "a": 3.1213820, "A": 7.9821730, "B": 1.5075463, "rh": 1.2085196, "sig": 0.5774108,
    "lam": 1.4533108, "gam": 1.1247945, "b": 3.1213820, "c": 2.5609104, "mu": 0.6966326,
    "Qo": 312.1341346, "eta": 0.2523244, "bet": 0.0070975, "alp": 3.1083847,
    "u1": -0.165799, "u2": 32.557, "u3": 0.286198, "u4": 0.66,
}

_DESCRIPTIONS = {
    "a": "two-body cutoff, Å", "A": "two-body energy scale, eV",
    "B": "repulsive length, Å", "rh": "repulsive exponent", "sig": "two-body decay length, Å",
    "lam": "three-body energy scale, eV", "gam": "three-body decay length, Å",
    "b": "three-body and coordination cutoff, Å", "c": "start of the coordination cutoff, Å",
    "mu": "Q(Z) decay", "Qo": "Q(Z) prefactor", "eta": "second three-body term factor",
    "bet": "bond-order exponent", "alp": "coordination cutoff steepness",
    "u1": "τ(Z) constant", "u2": "τ(Z) factor", "u3": "τ(Z) positive term factor", "u4": "τ(Z) decay",
}


class EDIP(KernelModel):
    """EDIP model for one species (see module docstring).

    Args:
        species: one chemical symbol, e.g. ``["Si"]``.
        model_name, params_transform: as ``Model``.
        **values: start values by parameter name; missing ones take the Si values.
    """

    def __init__(self, species: Sequence[str] = ("Si",), model_name: Optional[str] = None,
                 params_transform: Optional[ParameterTransform] = None, **values: Any):
        if len(species) != 1:
            raise InputError(f"EDIP supports exactly one species, got {list(species)}")
        self._kernel = _core.EDIPKernel()
        super().__init__(species, values, model_name or "EDIP", params_transform)

    def _default_values(self) -> Dict[str, np.ndarray]:
        return {k: np.array([v]) for k, v in SI_1998.items()}

    def _descriptions(self) -> Dict[str, str]:
        return _DESCRIPTIONS

    def write_kim_model(self, path: Optional[Union[str, Path]] = None) -> Path:
        """Write a KIM portable model for the driver EDIP__MD_506186535567_002 into ``path``."""
        from .kim_export import write_kim_model

        return write_kim_model(self, path)

    def write_lammps(self, path: Union[str, Path]) -> Path:
        """Write a LAMMPS ``pair_style edip`` parameter file to ``path`` (needs a == b)."""
        from .lammps_export import write_lammps_edip

        return write_lammps_edip(self, path)


__all__ = ["EDIP", "SI_1998"]
