"""Evaluate Ctilde ACE potentials (python-ace ``.yace``/``.ace``) with forcefit's C++ core.

Design: :class:`ACEEvaluator` compiles a :class:`~forcefit.ace.ctilde.CtildePotential` once into the
C++ ``AceCtildeModel`` (radial spline tables + product DAG per species) and evaluates structures from
a CSR full neighbour list built by :func:`csr_neighbors`.  The kernel never sees image atoms: each pair
stores the owner atom index and ``r_ij = r_j + S @ cell - r_i``; the forces on images go to their owners
and the virial is ``W = -sum_pairs r_ij (x) dE_i/dr_ij``.

Conventions of python-ace 0.4 (learned from its source and its numbers; all reproduced here and checked
against python-ace to ~1e-11 eV on the reference set):

* spherical harmonics are sqrt(4 pi) times the orthonormal ones (Condon-Shortley phase), so Y_00 = 1 and
  the rank-1 atomic base is ``A1_k = sum_j g_k(r_ij)`` without a 1/sqrt(4 pi);
* ``E_i = E0[mu_i] + F(rho_i) f_cut(rho_core_i) + rho_core_i``, with ``rho_core_i`` the full (not halved)
  sum of the pair core repulsion over neighbours j and ``f_cut`` switching off above
  ``rho_core_cutoff - drho_core_cutoff``;
* radial functions are cubic-Hermite splines through analytic values and slopes at
  ``r_n = n rcut / nlut``, ``nlut = int(rcut / deltaSplineBins)``; zero from the last node on; a distance
  below the first node is an error (python-ace stops there too).  python-ace evaluates these splines, not
  the analytic functions, so that is the default; ``splines=False`` gives the analytic ones (fitting);
* a missing ``inner_cutoff_type`` means ``"density"`` (core repulsion everywhere, cut by ``rho_core_cutoff``);
  ``"distance"`` multiplies the basis by a rising polynomial switch over ``[rcut_in - dcut_in, rcut_in]``
  and the core repulsion by the falling one; ``"zbl"`` uses ZBL as the pair term and hands the energy
  over per atom by the nearest neighbour: ``E = F f + core (1 - f)`` with ``f`` the polynomial switch of
  ``r_min`` over ``[rcut_in - dcut_in, rcut_in]`` (python-ace applies one inner-cutoff type to all bonds);
* rank-1 functions may index every g_k up to the largest ``nradbasemax`` of all bonds, as python-ace's
  global ``nradbase``;
* a neighbour with ``r >= rcut(mu_i, mu_j)`` is ignored even if it is inside the list's cutoff.

Units: positions Å, energy eV, forces eV/Å, stress eV/Å^3 in ASE's convention (``-W/V``, tensile positive,
Voigt order xx yy zz yz xz xy).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from ..errors import InputError
from .ctilde import CtildePotential


def load_potential(source) -> CtildePotential:
    """A :class:`CtildePotential` from a ``.yace``/``.ace``/``.yaml`` path or an in-memory potential.

    ``.yaml`` (B-basis) files are converted with :func:`forcefit.ace.convert.bbasis_to_ctilde`.
    """
    if isinstance(source, CtildePotential):
        return source
    if hasattr(source, "to_ctilde"):
        return source.to_ctilde()
    if type(source).__name__ == "BBasisPotential":
        from .convert import bbasis_to_ctilde
        return bbasis_to_ctilde(source)
    path = os.fspath(source)
    lower = path.lower()
    if lower.endswith(".yace"):
        from .yace_io import read_yace
        return read_yace(path)
    if lower.endswith(".ace"):
        from .ace_io import read_ace
        return read_ace(path)
    if lower.endswith(".yaml") or lower.endswith(".yml"):
        try:
            from .convert import bbasis_to_ctilde
            from .yaml_io import read_bbasis_yaml
        except ImportError as exc:
            raise InputError(f"B-basis .yaml potentials need forcefit.ace.convert ({exc})", path=path) from None
        return bbasis_to_ctilde(read_bbasis_yaml(path))
    raise InputError("unknown ACE potential file type (expected .yace, .ace or .yaml)", path=path)


@dataclass
class NeighborCSR:
    """Full neighbour list in CSR form: pairs of atom i are ``first[i]:first[i+1]``."""

    first: np.ndarray   # int64 [N+1]
    neigh: np.ndarray   # int64 [P], owner atom of each neighbour
    rij: np.ndarray     # float64 [P, 3], r_j + S @ cell - r_i (Å)


def csr_neighbors(positions, cell, pbc, cutoff: float) -> NeighborCSR:
    """Full neighbour list within ``cutoff`` (Å) as CSR, periodic images resolved to their owners."""
    from ..neighbor import neighbor_list

    positions = np.ascontiguousarray(positions, dtype=float)
    n = len(positions)
    i, j, D = neighbor_list(positions, np.asarray(cell, dtype=float), np.asarray(pbc, dtype=bool),
                            float(cutoff), quantities="ijD")
    i = np.asarray(i, dtype=np.int64)
    if np.any(i[1:] < i[:-1]):  # the core's list is sorted by i; keep the CSR valid whatever the source
        order = np.argsort(i, kind="stable")
        i, j, D = i[order], np.asarray(j)[order], np.asarray(D)[order]
    j = np.asarray(j, dtype=np.int64)
    D = np.asarray(D, dtype=float)
    first = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(i, minlength=n), out=first[1:])
    return NeighborCSR(first=first, neigh=np.ascontiguousarray(j), rij=np.ascontiguousarray(D.reshape(-1, 3)))


@dataclass
class ACEResult:
    """Energies (eV), forces (eV/Å), virial W (eV) and stress (eV/Å^3, Voigt, ASE sign) of one structure."""

    energy: float
    energies: np.ndarray
    forces: Optional[np.ndarray]
    virial: Optional[np.ndarray]
    stress: Optional[np.ndarray]


class ACEEvaluator:
    """Compiled Ctilde ACE potential.

    Args:
        potential: path (``.yace``, ``.ace``, ``.yaml``) or :class:`CtildePotential`.
        share_products: use the shared-product DAG (fast) or one product chain per m-tuple (reference).
        splines: evaluate radial functions on python-ace's spline tables (default, matches python-ace)
            or analytically.
        num_threads: OpenMP threads (0: ``OMP_NUM_THREADS``/all cores).
    """

    def __init__(self, potential, share_products: bool = True, splines: bool = True, num_threads: int = 0):
        from .. import _core
        from ase.data import atomic_numbers

        self.potential = load_potential(potential)
        self.potential.validate()
        z = [int(atomic_numbers.get(e, 0)) for e in self.potential.elements]
        self.model = _core.AceCtildeModel(self.potential, z, bool(share_products))
        self.splines = bool(splines)
        self.num_threads = int(num_threads)
        self.element_index = {e: k for k, e in enumerate(self.potential.elements)}

    @property
    def cutoff(self) -> float:
        """Largest pair cutoff (Å)."""
        return float(self.model.cutoff)

    def species_of(self, symbols: Sequence[str]) -> np.ndarray:
        try:
            return np.array([self.element_index[s] for s in symbols], dtype=np.int32)
        except KeyError as exc:
            raise InputError(f"element {exc.args[0]!r} is not in the potential "
                             f"(elements: {', '.join(self.potential.elements)})") from None

    def compute_csr(self, species, nl: NeighborCSR, forces: bool = True):
        """Raw kernel call: (energies [N], forces [N,3] or None, virial [3,3] or None)."""
        return self.model.compute(np.asarray(species, dtype=np.int32), nl.first, nl.neigh, nl.rij,
                                  forces=forces, splines=self.splines, num_threads=self.num_threads)

    def compute(self, symbols, positions, cell=None, pbc=False, forces: bool = True) -> ACEResult:
        """Energy, per-atom energies, forces, virial and stress of one structure."""
        positions = np.asarray(positions, dtype=float).reshape(-1, 3)
        cell = np.zeros((3, 3)) if cell is None else np.asarray(cell, dtype=float).reshape(3, 3)
        pbc = np.broadcast_to(np.asarray(pbc, dtype=bool), (3,))
        species = self.species_of(list(symbols))
        nl = csr_neighbors(positions, cell, pbc, self.cutoff)
        energies, f, vir = self.compute_csr(species, nl, forces)
        stress = None
        if forces and np.all(pbc):
            volume = abs(np.linalg.det(cell))
            s = -0.5 * (vir + vir.T) / volume
            stress = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
        return ACEResult(energy=float(np.sum(energies)), energies=energies, forces=f, virial=vir, stress=stress)

    def radial_functions(self, mu_i: int, mu_j: int, r, splines: Optional[bool] = None):
        """Values and derivatives of [g_k, R_nl, core] of bond (mu_i, mu_j) at distances r (Å)."""
        use = self.splines if splines is None else bool(splines)
        return self.model.radial(int(mu_i), int(mu_j), np.atleast_1d(np.asarray(r, dtype=float)), use)


__all__ = ["ACEEvaluator", "ACEResult", "NeighborCSR", "csr_neighbors", "load_potential"]
