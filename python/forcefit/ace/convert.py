"""Convert a B-basis potential (``.yaml``) into the Ctilde form (``.yace``), as ``pace_yaml2yace`` does.

Design
------
Each B function  B = sum_ms C_ms prod_t A_{mu_t n_t l_t m_t}  with coefficients c_p (one per
density p) contributes  c_p * C_ms  to the Ctilde coefficient of each of its m-combinations.
python-ace's conversion (``ACEBBasisSet`` -> ``ACECTildeBasisSet``), reproduced step by step:

1. resolve the file (:func:`.bbasis.resolve`): sorted element list, bonds, embeddings; functions
   with ``skip: true`` are left out;
2. for every B function, the half-basis generalized Clebsch-Gordan list
   (:func:`.coupling.generalized_cg`; factor 2 on combinations whose first non-zero m is > 0);
3. *compression* (``order_and_compress_b_basis_function``): the product of A's is symmetric
   under swapping two A's with the same (mu, n, l), so every m-combination is brought to a
   canonical form by sorting the (mu, n, l, m) tuples; coefficients of equal canonical forms are
   added and sums below 1e-15 dropped.  python-ace keeps the compressed form only when it is
   shorter than the original list; otherwise the function stays as generated.  The original list
   counts combinations whose coefficient python-ace's floating-point CG makes tiny but non-zero;
   an "accidental" zero of a Clebsch-Gordan coefficient (allowed by all selection rules) that
   python-ace's arithmetic turns into ~1e-17 is therefore counted as a combination that
   compression removes (see ``accidental_zeros`` and :func:`.coupling.float_clebsch_gordan`).
   Whether a function is compressed changes how it is listed, never what it evaluates to;
4. B functions with the same (mu0, mus, ns, ls), i.e. differing only in ``lint``, become one
   Ctilde function: c_p * C_ms are summed per m-combination, kept in lexicographic order of ms;
5. Ctilde functions of each central species are sorted by (rank, mus, ns, ls).

Radial coefficients, cutoffs, core repulsion and embeddings are copied; ``E0`` is 0 for every
element (B-basis files carry none).  Units: eV and Å throughout.

Agreement with python-ace 0.4.0rc1 (``pace_yaml2yace``): identical functions, ms_combs and
ctildes (to 1e-15 relative) for all reference potentials, for pacemaker-constructed bases up to
1804 functions (l <= 8 at rank 2, 6 at rank 3, 4 at rank 4) and for random hand-made 1-3 element
potentials with l <= 3.  With larger l in hand-made files whose (species, n, l) labels are not
sorted, a few functions per hundred come out in the other (compressed / uncompressed) form,
because python-ace's -Ofast Clebsch-Gordan arithmetic is not reproduced bit for bit; energies
and forces are the same.  A 1804-function basis converts in about 3 s.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Dict, List, Tuple

import numpy as np

from ..errors import InputError
from .bbasis import BBasisFunction, BBasisPotential, ResolvedBBasis, resolve
from .coupling import couplings_are_valid, generalized_cg
from .ctilde import CtildeFunction, CtildePotential

#: python-ace drops compressed m-combinations whose summed coefficient is below this.
COMPRESSION_ZERO = 1e-15


class _BFunction:
    """A B function in python-ace's evaluation form: species ids, ms list, coefficients."""

    __slots__ = ("rank", "mus", "ns", "ls", "ms", "cg", "coeffs")

    def __init__(self, mus, ns, ls, ms, cg, coeffs):
        self.rank = len(ns)
        self.mus, self.ns, self.ls = tuple(mus), tuple(ns), tuple(ls)
        self.ms = [tuple(int(x) for x in row) for row in ms]
        self.cg = [float(c) for c in cg]
        self.coeffs = coeffs

    def key(self) -> Tuple:
        return (self.mus, self.ns, self.ls)

    def sort_key(self) -> Tuple:
        # python-ace's ``compare``: rank, (mu0), mus, ns, ls, num_ms_combs, ms_combs
        return (self.rank, self.mus, self.ns, self.ls, len(self.ms), [m for row in self.ms for m in row])


def accidental_zeros(ls, lint) -> int:
    """Number of m-combinations (half basis) allowed by every selection rule whose coefficient
    nevertheless vanishes because one Clebsch-Gordan factor is an accidental zero."""
    ms_all, _ = generalized_cg(ls, lint, half_basis=True, keep_accidental_zeros=True)
    ms_nz, _ = generalized_cg(ls, lint, half_basis=True)
    return len(ms_all) - len(ms_nz)


def b_function_terms(func: BBasisFunction, index: Dict[str, int]) -> _BFunction:
    """Half-basis ms-combinations and coefficients of one B function after python-ace's compression."""
    ls, lint = func.ls, func.lint
    if not couplings_are_valid(ls, lint):
        raise InputError(f"the couplings nl {list(ls)}, lint {list(lint)} violate the triangle rule "
                         "(no m-combination couples to L = 0)", record=func.label())
    ms, cg = generalized_cg(ls, lint, half_basis=True)
    n_original = len(ms) + accidental_zeros(ls, lint)
    mus = [index[e] for e in func.neighbours]
    ns = list(func.ns)
    ls = list(ls)
    labels = list(zip(mus, ns, ls))
    order = sorted(range(len(labels)), key=lambda t: labels[t])
    # canonical form: sort (mu, n, l, m, position); equal (mu, n, l) get their m's sorted
    merged: Dict[Tuple[int, ...], float] = {}
    for row, c in zip(ms.tolist(), cg.tolist()):
        canon = tuple(sorted((labels[t] + (row[t], t) for t in range(len(row)))))
        key = tuple(item[3] for item in canon)
        merged[key] = merged.get(key, 0.0) + c
    merged = {k: v for k, v in merged.items() if abs(v) >= COMPRESSION_ZERO}
    if len(merged) < n_original:
        sorted_labels = [labels[t] for t in order]
        keys = sorted(merged)
        return _BFunction([x[0] for x in sorted_labels], [x[1] for x in sorted_labels],
                          [x[2] for x in sorted_labels], keys, [merged[k] for k in keys], func.coeffs)
    return _BFunction(mus, ns, ls, ms, cg, func.coeffs)


def _ctilde_functions(mu0: int, bfuncs: List[_BFunction], ndensity: int) -> List[CtildeFunction]:
    groups: Dict[Tuple, List[_BFunction]] = defaultdict(list)
    for bf in sorted(bfuncs, key=_BFunction.sort_key):
        groups[bf.key()].append(bf)
    out = []
    for (mus, ns, ls), members in groups.items():
        sums: Dict[Tuple[int, ...], List[float]] = {}
        for bf in members:
            for row, cg in zip(bf.ms, bf.cg):
                acc = sums.setdefault(row, [0.0] * ndensity)
                for p in range(ndensity):
                    acc[p] += bf.coeffs[p] * cg
        keys = sorted(sums)
        rank = len(ns)
        out.append(CtildeFunction(
            mu0=mu0, rank=rank, ndensity=ndensity, num_ms_combs=len(keys), mus=list(mus), ns=list(ns),
            ls=list(ls), ms_combs=np.array(keys, dtype=np.int64).reshape(len(keys), rank),
            ctildes=np.array([sums[k] for k in keys], dtype=float).reshape(len(keys), ndensity)))
    out.sort(key=lambda f: (f.rank, f.mus, f.ns, f.ls))
    return out


def resolved_to_ctilde(res: ResolvedBBasis) -> CtildePotential:
    """Ctilde potential of an already resolved B-basis (see :func:`bbasis_to_ctilde`)."""
    index = {e: i for i, e in enumerate(res.elements)}
    functions: Dict[int, List[CtildeFunction]] = {}
    for mu0, funcs in res.functions.items():
        ndensity = res.embeddings[mu0].ndensity
        bfuncs = []
        for f in funcs:
            try:
                bfuncs.append(b_function_terms(f, index))
            except InputError as exc:
                raise InputError(exc.problem, record=f"functions of {res.elements[mu0]}: {exc.record}") from None
        functions[mu0] = _ctilde_functions(mu0, bfuncs, ndensity)
    return CtildePotential(elements=list(res.elements), E0=[0.0] * len(res.elements),
                           deltaSplineBins=res.delta_spline_bins, embeddings=dict(res.embeddings),
                           bonds=dict(res.bonds), functions=functions)


def bbasis_to_ctilde(pot: BBasisPotential, path=None) -> CtildePotential:
    """Convert a B-basis potential to python-ace's Ctilde form (the content of the ``.yace`` file).

    ``path`` (optional) names the source file in error messages.  Raises
    :class:`forcefit.errors.InputError` (``FileFormatError`` for inconsistent files).
    """
    try:
        return resolved_to_ctilde(resolve(pot, path=path))
    except InputError as exc:
        if exc.path is None and path is not None:
            raise type(exc)(exc.problem, path=path, record=exc.record) from None
        raise


__all__ = ["COMPRESSION_ZERO", "accidental_zeros", "b_function_terms", "bbasis_to_ctilde",
           "resolved_to_ctilde"]
