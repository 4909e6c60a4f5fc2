"""In-memory Ctilde ACE potential: the content of a python-ace ``.yace`` file.

The atomic cluster expansion (Drautz, PRB 99, 014104 (2019)) in its "Ctilde" (product) form,
as evaluated by python-ace/ML-PACE (Lysogorskiy et al., npj Comput Mater 7, 97 (2021)):

    A_{i, mu n l m} = sum_j delta(mu_j, mu) R^{mu_i mu}_{n l}(r_ij) Y_{l m}(r_hat_ij)
    rho_{i,p}       = sum_nu  Ctilde_{nu, p}  prod_{t=1..rank} A_{i, mu_t n_t l_t m_t}
    E_i             = E0[mu_i] + F_emb(rho_{i,1..ndensity}) (+ core repulsion, rho_core_cut)

Everything here mirrors the ``.yace`` file 1:1 (names as in the file) so that reading and
writing are loss-free.  Species are integer indices into ``elements``.  Units: eV and Å.

Shapes
------
* ``Bond.radcoefficients``: float array ``[nradmax, lmax + 1, nradbasemax]``
  (``crad[n][l][k]``; R_{n+1, l}(r) = sum_k crad[n][l][k] g_k(r)).
* ``CtildeFunction.ms_combs``: int array ``[num_ms_combs, rank]``.
* ``CtildeFunction.ctildes``: float array ``[num_ms_combs, ndensity]``.
* ``ns`` are 1-based (as in the file), ``ls`` and ``mus`` 0-based.

``validate()`` on each dataclass checks shapes, ranges and finiteness and raises
:class:`forcefit.errors.FileFormatError` (an ``InputError``) naming the offending key and value;
the readers call it with the file path so messages read ``"<file>: <key>: <problem>"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..errors import FileFormatError

#: Radial bases the evaluator knows (``Bond.radbasename``).
KNOWN_RADIAL_BASES = ("ChebExpCos", "ChebPow", "ChebLinear", "SBessel")
#: Embedding functions the evaluator knows (``Embedding.npoti``).
KNOWN_EMBEDDINGS = ("FinnisSinclair", "FinnisSinclairShiftedScaled")
#: Inner-cutoff types (``Bond.inner_cutoff_type``).
KNOWN_INNER_CUTOFF_TYPES = ("density", "distance", "zbl")


#: python-ace's C++ names of the embedding functions, which are not embedding names in a file (python-ace
#: leaves F unset for them and returns garbage energies); mapped to the name the file needs.
_FUNCTION_NAMES = {"Fexp": "FinnisSinclair", "FexpShiftedScaled": "FinnisSinclairShiftedScaled"}


def embedding_problem(npoti, parameters) -> Optional[str]:
    """What is wrong with embedding ``npoti`` and its ``parameters`` (prefactor, exponent per density), or None.

    Unknown names are rejected (python-ace's function names with a hint to the file name); so are
    non-finite parameters and, for FinnisSinclairShiftedScaled, exponents <= 0 (its offsets use
    1/exponent, so such exponents give NaN energies).  The parameter count is not checked here.
    """
    if npoti not in KNOWN_EMBEDDINGS:
        hint = ""
        if npoti in _FUNCTION_NAMES:
            hint = f"; {npoti!r} is python-ace's function behind npoti {_FUNCTION_NAMES[npoti]}"
        return f"unknown embedding {npoti!r} (known: {', '.join(KNOWN_EMBEDDINGS)}){hint}"
    try:
        values = np.asarray(parameters, dtype=float).ravel()
    except (TypeError, ValueError):
        return f"parameters must be numbers, got {parameters!r}"
    if not np.all(np.isfinite(values)):
        return f"non-finite parameter {values[~np.isfinite(values)][0]!r}"
    if npoti == "FinnisSinclairShiftedScaled":
        bad = [float(m) for m in values[1::2] if not m > 0]
        if bad:
            return f"FinnisSinclairShiftedScaled needs exponents > 0 (its offsets use 1/exponent), got {bad[0]!r}"
    return None


def _fail(problem: str, path, record: str):
    raise FileFormatError(problem, path=path, record=record)


def _check_finite(values, path, record: str) -> None:
    arr = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].ravel()[0]
        _fail(f"non-finite value {bad!r}", path, record)


@dataclass
class Embedding:
    """Embedding function of one central species.

    ``F(rho_1..rho_ndensity) = sum_p FS_parameters[2p] * f(rho_p, FS_parameters[2p+1])`` with ``f``
    chosen by ``npoti``; ``rho_core_cutoff``/``drho_core_cutoff`` switch the energy off smoothly
    where the core-repulsion density exceeds the cutoff (python-ace's ``rho_core_cut``).
    """

    ndensity: int
    FS_parameters: List[float]
    npoti: str = "FinnisSinclairShiftedScaled"
    rho_core_cutoff: float = 100000.0
    drho_core_cutoff: float = 250.0

    def validate(self, path=None, where: str = "embeddings") -> None:
        if int(self.ndensity) < 1:
            _fail(f"ndensity must be >= 1, got {self.ndensity!r}", path, f"{where}: ndensity")
        if self.npoti not in KNOWN_EMBEDDINGS:
            _fail(embedding_problem(self.npoti, []), path, f"{where}: npoti")
        if len(self.FS_parameters) != 2 * int(self.ndensity):
            _fail(f"needs 2*ndensity = {2 * int(self.ndensity)} values, got {len(self.FS_parameters)}",
                  path, f"{where}: FS_parameters")
        problem = embedding_problem(self.npoti, self.FS_parameters)
        if problem:
            _fail(problem, path, f"{where}: FS_parameters")
        _check_finite([self.rho_core_cutoff, self.drho_core_cutoff], path,
                      f"{where}: rho_core_cutoff/drho_core_cutoff")


@dataclass
class Bond:
    """Radial functions of one ordered species pair (mu_i, mu_j), lengths in Å.

    ``radcoefficients``: ``[nradmax, lmax + 1, nradbasemax]``.  ``prehc``/``lambdahc``: core
    repulsion ``prehc * exp(-lambdahc * r^2) / r`` (eV).  ``rcut_in``/``dcut_in``: inner cutoff
    (0 means none), applied to the density or the distance per ``inner_cutoff_type``.
    """

    nradmax: int
    lmax: int
    nradbasemax: int
    radbasename: str
    radparameters: List[float]
    radcoefficients: np.ndarray
    prehc: float = 0.0
    lambdahc: float = 1.0
    rcut: float = 5.0
    dcut: float = 0.01
    rcut_in: float = 0.0
    dcut_in: float = 0.0
    inner_cutoff_type: str = "density"

    def __post_init__(self):
        self.radcoefficients = np.asarray(self.radcoefficients, dtype=float)

    def validate(self, path=None, where: str = "bonds") -> None:
        for key in ("nradmax", "lmax", "nradbasemax"):
            if int(getattr(self, key)) < 0:
                _fail(f"must be >= 0, got {getattr(self, key)!r}", path, f"{where}: {key}")
        if self.radbasename not in KNOWN_RADIAL_BASES:
            _fail(f"unknown radial basis {self.radbasename!r} (known: {', '.join(KNOWN_RADIAL_BASES)})",
                  path, f"{where}: radbasename")
        if self.inner_cutoff_type not in KNOWN_INNER_CUTOFF_TYPES:
            _fail(f"unknown inner cutoff type {self.inner_cutoff_type!r}", path,
                  f"{where}: inner_cutoff_type")
        shape = (int(self.nradmax), int(self.lmax) + 1, int(self.nradbasemax))
        if self.nradmax > 0 and self.radcoefficients.shape != shape:
            _fail(f"shape {self.radcoefficients.shape} != [nradmax, lmax+1, nradbasemax] = {list(shape)}",
                  path, f"{where}: radcoefficients")
        _check_finite(self.radcoefficients, path, f"{where}: radcoefficients")
        _check_finite(self.radparameters, path, f"{where}: radparameters")
        for key in ("prehc", "lambdahc", "rcut", "dcut", "rcut_in", "dcut_in"):
            _check_finite([getattr(self, key)], path, f"{where}: {key}")
        if not self.rcut > 0:
            _fail(f"must be > 0, got {self.rcut!r}", path, f"{where}: rcut")


@dataclass
class CtildeFunction:
    """One Ctilde basis function: product of ``rank`` A's summed over ``num_ms_combs`` m-tuples.

    ``ms_combs``: int ``[num_ms_combs, rank]``; ``ctildes``: float ``[num_ms_combs, ndensity]``.
    ``ns`` 1-based, ``ls``/``mus`` 0-based; ``mu0`` is the central species.
    """

    mu0: int
    rank: int
    ndensity: int
    num_ms_combs: int
    mus: List[int]
    ns: List[int]
    ls: List[int]
    ms_combs: np.ndarray
    ctildes: np.ndarray

    def __post_init__(self):
        self.ms_combs = np.asarray(self.ms_combs, dtype=np.int64).reshape(int(self.num_ms_combs), int(self.rank))
        self.ctildes = np.asarray(self.ctildes, dtype=float).reshape(int(self.num_ms_combs), int(self.ndensity))
        self.mus = [int(x) for x in self.mus]
        self.ns = [int(x) for x in self.ns]
        self.ls = [int(x) for x in self.ls]

    def validate(self, path=None, where: str = "functions", nelements: Optional[int] = None) -> None:
        r = int(self.rank)
        if r < 1:
            _fail(f"rank must be >= 1, got {self.rank!r}", path, f"{where}: rank")
        for key in ("mus", "ns", "ls"):
            if len(getattr(self, key)) != r:
                _fail(f"needs rank = {r} values, got {getattr(self, key)!r}", path, f"{where}: {key}")
        if any(n < 1 for n in self.ns):
            _fail(f"radial indices are 1-based, got {self.ns!r}", path, f"{where}: ns")
        if any(l < 0 for l in self.ls):
            _fail(f"negative l in {self.ls!r}", path, f"{where}: ls")
        if nelements is not None and any(not 0 <= m < nelements for m in list(self.mus) + [self.mu0]):
            _fail(f"species index out of range [0, {nelements}) in mus={self.mus!r}, mu0={self.mu0!r}",
                  path, f"{where}: mus")
        ls = np.asarray(self.ls)
        if self.ms_combs.size and np.any(np.abs(self.ms_combs) > ls[None, :]):
            _fail("|m| > l in ms_combs", path, f"{where}: ms_combs")
        _check_finite(self.ctildes, path, f"{where}: ctildes")


@dataclass
class CtildePotential:
    """A whole Ctilde ACE potential (``.yace`` content).

    ``embeddings[mu]``, ``bonds[(mu_i, mu_j)]``, ``functions[mu]`` are keyed by species index.
    ``E0[mu]``: reference energy per atom of species mu (eV).  ``deltaSplineBins``: radial spline
    step (Å) used by python-ace's evaluators.
    """

    elements: List[str]
    E0: List[float]
    deltaSplineBins: float
    embeddings: Dict[int, Embedding]
    bonds: Dict[Tuple[int, int], Bond]
    functions: Dict[int, List[CtildeFunction]] = field(default_factory=dict)

    @property
    def nelements(self) -> int:
        return len(self.elements)

    @property
    def cutoff(self) -> float:
        """Largest bond cutoff (Å): the neighbour-list cutoff the evaluator needs."""
        return max(float(b.rcut) for b in self.bonds.values())

    def validate(self, path=None) -> None:
        n = len(self.elements)
        if n < 1:
            _fail("no elements", path, "elements")
        if len(self.E0) != n:
            _fail(f"needs {n} values (one per element), got {list(self.E0)!r}", path, "E0")
        _check_finite(self.E0, path, "E0")
        if not (np.isfinite(self.deltaSplineBins) and self.deltaSplineBins > 0):
            _fail(f"must be a positive number, got {self.deltaSplineBins!r}", path, "deltaSplineBins")
        for mu in range(n):
            if mu not in self.embeddings:
                _fail(f"missing embedding for species {mu} ({self.elements[mu]})", path, "embeddings")
            self.embeddings[mu].validate(path, f"embeddings: {mu}")
        for mu_i in range(n):
            for mu_j in range(n):
                if (mu_i, mu_j) not in self.bonds:
                    _fail(f"missing bond [{mu_i}, {mu_j}]", path, "bonds")
        for key, bond in self.bonds.items():
            bond.validate(path, f"bonds: {list(key)}")
        nradbase_global = max(int(b.nradbasemax) for b in self.bonds.values())
        for mu, funcs in self.functions.items():
            if not 0 <= int(mu) < n:
                _fail(f"species index {mu!r} out of range", path, "functions")
            for i, f in enumerate(funcs):
                where = f"functions: {mu}: {i}"
                f.validate(path, where, nelements=n)
                if f.mu0 != mu:
                    _fail(f"mu0 = {f.mu0} under species {mu}", path, f"{where}: mu0")
                if f.ndensity != self.embeddings[mu].ndensity:
                    _fail(f"ndensity {f.ndensity} != embedding ndensity {self.embeddings[mu].ndensity}",
                          path, f"{where}: ndensity")
                for t in range(f.rank):
                    bond = self.bonds[(f.mu0, f.mus[t])]
                    if f.rank > 1 and (f.ns[t] > bond.nradmax or f.ls[t] > bond.lmax):
                        _fail(f"(n, l) = ({f.ns[t]}, {f.ls[t]}) outside bond [{f.mu0}, {f.mus[t]}] "
                              f"(nradmax {bond.nradmax}, lmax {bond.lmax})", path, where)
                    # rank-1 functions index g_k up to python-ace's global nradbase (max over bonds)
                    if f.rank == 1 and (f.ns[t] > nradbase_global or f.ls[t] != 0):
                        _fail(f"rank-1 function needs l = 0 and n <= {nradbase_global}, got "
                              f"(n, l) = ({f.ns[t]}, {f.ls[t]})", path, where)


__all__ = ["CtildePotential", "Embedding", "Bond", "CtildeFunction",
           "KNOWN_RADIAL_BASES", "KNOWN_EMBEDDINGS", "KNOWN_INNER_CUTOFF_TYPES"]
