"""Write forcefit models as LAMMPS potential files.

``write_lammps_sw``: a ``pair_style sw`` file with every element triplet spelled out. With
ε = 1 in every entry, LAMMPS' parameters map onto forcefit's (KIM-driver) ones as
A_lmp = A_ij, λ_lmp = λ_ijk = sqrt(|λ_ij λ_ik|), γ_lmp = γ_ij/σ_ij, a = rc_ij/σ_ij and
cos θ0 = (cos θ0_ij + cos θ0_ik)/2; LAMMPS takes the two-body and radial three-body parameters
of pair ij from entry (i, j, j) and λ, cos θ0 from entry (i, j, k), so the file reproduces the
model exactly, mixed species included.

``write_lammps_edip``: a ``pair_style edip`` (or ``edip/multi``) file; LAMMPS has one cutoff for
the two- and three-body terms, so the model needs a == b.

Files are written atomically (temporary file in the same folder, then renamed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Union

import numpy as np

from ..atomic import write_text_atomically
from ..errors import InputError


def _num(x: float) -> str:
    return repr(float(x))  # shortest text that reads back to the same double


def atomic_write(path: Union[str, Path], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (creating its folder); returns the path."""
    write_text_atomically(path, text)
    return Path(path)


def write_lammps_sw(model, path: Union[str, Path]) -> Path:
    """Write ``model`` (a StillingerWeber) as a LAMMPS ``.sw`` file; returns the path."""
    species = model.species
    values = model.param_values()
    n = len(species)

    def pair(name, a, b):
        lo, hi = min(a, b), max(a, b)
        return float(values[name][lo * n + hi - (lo * lo + lo) // 2])

    lines = [
        "# Stillinger-Weber parameters written by forcefit (LAMMPS pair_style sw, metal units).",
        "# element1 element2 element3 epsilon sigma a lambda gamma costheta0 A B p q tol",
        "# epsilon = 1: A and lambda are in eV; every element triplet is listed.",
    ]
    for i in range(n):
        for j in range(n):
            for k in range(n):
                sig = pair("sigma", i, j)
                lam = np.sqrt(abs(pair("lambda", i, j) * pair("lambda", i, k)))
                c0 = 0.5 * (pair("costheta0", i, j) + pair("costheta0", i, k))
                fields = [1.0, sig, pair("cutoff", i, j) / sig, lam, pair("gamma", i, j) / sig, c0,
                          pair("A", i, j), pair("B", i, j), pair("p", i, j), pair("q", i, j), 0.0]
                lines.append(f"{species[i]} {species[j]} {species[k]} " + " ".join(_num(v) for v in fields))
    return atomic_write(path, "\n".join(lines) + "\n")


def write_lammps_edip(model, path: Union[str, Path]) -> Path:
    """Write ``model`` (an EDIP) as a LAMMPS ``.edip`` file; returns the path.

    Raises InputError when the two-body cutoff ``a`` differs from the three-body cutoff ``b``
    (LAMMPS' EDIP has one cutoff)."""
    v = {k: float(p[0]) for k, p in model.param_values().items()}
    if v["a"] != v["b"]:
        raise InputError(f"LAMMPS EDIP has one cutoff; this model has a = {v['a']} and b = {v['b']}")
    s = model.species[0]
    order = ["A", "B", "a", "c", "alp", "bet", "eta", "gam", "lam", "mu", "rh", "sig", "Qo", "u1", "u2", "u3", "u4"]
    lines = [
        "# EDIP parameters written by forcefit (LAMMPS pair_style edip or edip/multi, metal units).",
        "# element1 element2 element3 A B cutoffA cutoffC alpha beta eta gamma lambda mu rho sigma Q0 u1 u2 u3 u4",
        f"{s} {s} {s} " + " ".join(_num(v[k]) for k in order),
    ]
    return atomic_write(path, "\n".join(lines) + "\n")


__all__ = ["write_lammps_sw", "write_lammps_edip", "atomic_write"]
