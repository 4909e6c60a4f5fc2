"""Generalized Clebsch-Gordan coefficients of ACE B-basis functions (any rank), python-ace's way.

Design
------
A B-basis function of rank r couples r atomic-base functions A_{n_t l_t m_t} (complex spherical
harmonics, Condon-Shortley phase) to total angular momentum L = 0 (Drautz, PRB 99, 014104 (2019),
Eq. 26-29):

    B = sum_{m_1..m_r}  C^{l_1..l_r; lint}_{m_1..m_r}  prod_t A_{n_t l_t m_t}

The generalized coefficient C is the product of ordinary Clebsch-Gordan coefficients
<l_a m_a l_b m_b | L M> along a binary *coupling tree*; ``lint`` holds the angular momenta of the
inner nodes.  python-ace builds the tree the same way for every rank (``generate_coupling_tree``):

1. pair neighbouring leaves: (0,1) -> node r, (2,3) -> node r+1, ...;
2. pair the resulting nodes in order of creation, each pair -> the next node, until one is left
   or the node labels run out;
3. for odd rank, couple the last node with the remaining (last) leaf.
The last coupling produces the root, L = M = 0.  Inner nodes r .. 2r-3 carry ``lint[0..r-3]``.
For example rank 3: (l0 l1)lint0, (lint0 l2)0, so lint0 = l2; rank 4: (l0 l1)lint0, (l2 l3)lint1,
(lint0 lint1)0, so lint0 = lint1; rank 5: ..., (lint0 lint1)lint2, (lint2 l4)0.

m-combinations are enumerated with m_1 varying fastest; those with sum(m) != 0, with an inner
|M| > L, or with a vanishing product are dropped.  In the *half basis* (python-ace's default)
only combinations whose first non-zero m is positive (or all zero) are kept, and those with a
positive first m get a factor 2: for real coefficients and parity-even ls, the dropped
combination -m contributes the complex conjugate, so ``2 Re(...)`` over the kept half equals
the full sum.  All of this is a convention of python-ace; :mod:`.convert` relies on it.

Clebsch-Gordan coefficients are computed from Racah's formula in exact integer arithmetic and
rounded once, so they agree with python-ace's (Wigner-3j based) values to about 1e-16
(python-ace 0.4.0rc1 wheels are compiled with -Ofast, so theirs are off by an ulp now and then).
Conventions: complex spherical harmonics with the Condon-Shortley phase, Y_{l,-m} =
(-1)^m conj(Y_{lm}); <j1 m1 j2 m2 | J M> = (-1)^(j2-j1-M) sqrt(2J+1) (j1 j2 J; m1 m2 -M).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from math import copysign, factorial, sqrt
from typing import List, Sequence, Tuple

import numpy as np


@lru_cache(maxsize=None)
def clebsch_gordan(j1: int, m1: int, j2: int, m2: int, J: int, M: int) -> float:
    """<j1 m1 j2 m2 | J M> for integer angular momenta (Condon-Shortley convention).

    Returns 0 outside the selection rules (m1 + m2 != M, triangle, |m| > j).
    """
    if m1 + m2 != M or abs(m1) > j1 or abs(m2) > j2 or abs(M) > J:
        return 0.0
    if J < abs(j1 - j2) or J > j1 + j2:
        return 0.0
    f = factorial
    prefactor = Fraction((2 * J + 1) * f(j1 + j2 - J) * f(j1 - j2 + J) * f(-j1 + j2 + J)
                         * f(J + M) * f(J - M) * f(j1 + m1) * f(j1 - m1) * f(j2 + m2) * f(j2 - m2),
                         f(j1 + j2 + J + 1))
    total = Fraction(0)
    zmin = max(0, j2 - J - m1, j1 - J + m2)
    zmax = min(j1 + j2 - J, j1 - m1, j2 + m2)
    for z in range(zmin, zmax + 1):
        term = Fraction(1, f(z) * f(j1 + j2 - J - z) * f(j1 - m1 - z) * f(j2 + m2 - z)
                        * f(J - j2 + m1 + z) * f(J - j1 - m2 + z))
        total += -term if z % 2 else term
    # sqrt(prefactor) * total, with one rounding: sign * sqrt(prefactor * total^2)
    value = sqrt(prefactor * total * total)
    return value if total >= 0 else -value


# ---- python-ace's floating-point Clebsch-Gordan values ----------------------------------------
#
# python-ace evaluates Clebsch-Gordan coefficients in floating point from Wigner 3j symbols, which it
# obtains for all J at once from the Schulten-Gordon three-term recurrence in J, solved with the
# Luscombe-Luban scheme (J. Math. Phys. 16, 1961 (1975); Phys. Rev. E 57, 7274 (1998)).  Where a
# coefficient vanishes *accidentally* (not by a selection rule) that scheme sometimes yields
# ~1e-17 instead of 0, and python-ace then keeps the m-combination until compression drops it;
# whether that happens decides whether python-ace compresses a function (see :mod:`.convert`).
# The functions below evaluate that recurrence in double precision.  Their zero/non-zero pattern
# equals python-ace 0.4's for every coefficient with l <= 4 (and almost all above; the values
# themselves may differ in the last bit).  They serve only that decision: where it comes out
# differently (hand-made files with unsorted (mu, n, l) labels and l >= 5) the Ctilde function is
# listed in the other of two equivalent forms, with the same energy.

_TINY = sqrt(sqrt(2.2250738585072014e-308))  # fourth root of the smallest normal double


def _div(a: float, b: float) -> float:
    """IEEE-754 division (inf or nan for b == 0), as C++ does it."""
    if b != 0.0:
        return a / b
    if a == 0.0 or a != a:
        return float("nan")
    return copysign(float("inf"), a) * copysign(1.0, b)


def _luscombe_luban(nmin: int, nmax: int, X, Y, Z) -> List[float]:
    """Solve X(n) f(n+1) + Y(n) f(n) + Z(n) f(n-1) = 0 on [nmin, nmax] up to normalization."""
    size = nmax - nmin + 1
    f = [0.0] * size
    # backward two-term recursion for ratios r(n) = f(n) / f(n-1) while |r| <= 1
    i2 = size - 1
    n2 = float(nmax)
    y_top = Y(float(nmax))
    if abs(y_top) < _TINY:
        f[i2] = 1.0
    else:
        ratio = _div(-Z(float(nmax)), y_top)
        f[i2] = ratio
        i2 -= 1
        while i2 > 0:
            n2 -= 1.0
            ratio = _div(-Z(n2), Y(n2) + X(n2) * ratio)
            if abs(ratio) > 1.0:
                break
            f[i2] = ratio
            i2 -= 1
        f[i2] = 1.0
        for k in range(i2 + 1, size - 1):
            f[k + 1] *= f[k]
    if i2 == 0:
        return f
    # forward two-term recursion for ratios s(n) = f(n) / f(n+1) while |s| <= 1
    i1 = 0
    n1 = float(nmin)
    y_bottom = Y(float(nmin))
    if abs(y_bottom) < _TINY:
        f[0] = 1.0
    else:
        ratio = _div(-X(float(nmin)), y_bottom)
        f[0] = ratio
        i1 += 1
        while i1 < i2:
            n1 += 1.0
            ratio = _div(-X(n1), Y(n1) + Z(n1) * ratio)
            if abs(ratio) > 1.0:
                break
            f[i1] = ratio
            i1 += 1
        f[i1] = 1.0
        for k in range(i1, 0, -1):
            f[k - 1] *= f[k]
    if i1 < i2:
        # three-term recursion through the classical region, then match at i2
        n = n1
        if i1 == 0:
            f[1] = _div(-Y(n) * f[0], X(n))
            n += 1.0
            i1 = 1
        for k in range(i1, i2):
            f[k + 1] = _div(-Y(n) * f[k] - Z(n) * f[k - 1], X(n))
            n += 1.0
        scale = _div(1.0, f[i2])
        for k in range(i2 + 1):
            f[k] *= scale
    return f


@lru_cache(maxsize=None)
def _float_wigner3j_series(j1: int, j2: int, m1: int, m2: int) -> Tuple[int, Tuple[float, ...]]:
    """(jmin, values of (j1 j2 J; m1 m2 -m1-m2) for J = jmin..j1+j2) in python-ace's arithmetic."""
    jmin = max(abs(j1 - j2), abs(m1 + m2))
    jmax = j1 + j2
    parity = j1 - j2 + m1 + m2
    weight = float(2 * jmin + 1)
    if jmin == jmax:
        return jmin, ((-1.0 if parity & 1 else 1.0) / sqrt(weight),)
    if jmin == 0:
        a2, b1 = float(j1 + j2 + 1), float(m2 - m1)

        def Z(j):
            return j * sqrt((a2 + j) * (a2 - j))

        def X(j):
            return Z(j + 1.0)

        def Y(j):
            return (2.0 * j + 1.0) * b1
    else:
        a1, a2, a3 = float(j1 - j2), float(j1 + j2 + 1), float(-m1 - m2)
        b1 = float(m2 - m1)
        b2 = a3 * (float(j1) * float(j1 + 1) - float(j2) * float(j2 + 1))

        def aux(j):
            return sqrt((a1 + j) * (a1 - j) * (a2 + j) * (a2 - j) * (a3 - j) * (a3 + j))

        def X(j):
            return j * aux(j + 1.0)

        def Y(j):
            return (2.0 * j + 1.0) * (j * (j + 1.0) * b1 - b2)

        def Z(j):
            return (j + 1.0) * aux(j)
    f = _luscombe_luban(jmin, jmax, X, Y, Z)
    total = 0.0
    for v in f:
        total += weight * (v * v)
        weight += 2.0
    if f[-1] < 0.0:
        parity += 1
    scale = (-1.0 if parity & 1 else 1.0) / sqrt(total)
    return jmin, tuple(v * scale for v in f)


@lru_cache(maxsize=None)
def float_clebsch_gordan(j1: int, m1: int, j2: int, m2: int, J: int, M: int) -> float:
    """<j1 m1 j2 m2 | J M> as python-ace's floating-point evaluation yields it (see above)."""
    if m1 + m2 != M or J < abs(j1 - j2) or J > j1 + j2 or abs(m1) > j1 or abs(m2) > j2 or abs(M) > J:
        return 0.0
    jmin, values = _float_wigner3j_series(j1, j2, m1, m2)
    if J < jmin:
        return 0.0
    factor = -1.0 if (-j1 + j2 - M) % 2 else 1.0
    return factor * sqrt(2.0 * J + 1.0) * values[J - jmin]


@lru_cache(maxsize=None)
def coupling_tree(rank: int) -> Tuple[Tuple[int, int, int], ...]:
    """python-ace's coupling tree: ``rank - 1`` triples (child a, child b, parent).

    Leaves are 0..rank-1, inner nodes rank..2*rank-3 (holding ``lint``), the root is 2*rank-2.
    """
    if rank < 2:
        return ()
    leaves = list(range(rank))
    labels = list(range(rank, 2 * rank - 2))  # inner-node labels, consumed in order
    root = 2 * rank - 2
    triples: List[Tuple[int, int, int]] = []
    queue: List[int] = []
    parent = None
    for _ in range(rank // 2):
        a, b = leaves.pop(0), leaves.pop(0)
        parent = labels.pop(0) if labels else root
        triples.append((a, b, parent))
        queue.append(parent)
    while len(queue) > 1 and parent != root:
        a, b = queue.pop(0), queue.pop(0)
        parent = labels.pop(0) if labels else root
        triples.append((a, b, parent))
        queue.append(parent)
    if parent != root:
        triples.append((queue.pop(0), leaves.pop(0), root))
    if len(triples) != rank - 1 or leaves or labels:
        raise AssertionError(f"coupling tree for rank {rank} is incomplete")
    return tuple(triples)


def couplings_are_valid(ls: Sequence[int], lint: Sequence[int]) -> bool:
    """True when every node of the tree satisfies the triangle rule and the root is L = 0."""
    rank = len(ls)
    if rank == 1:
        return ls[0] == 0
    lsL = list(ls) + list(lint) + [0]
    if len(lsL) != 2 * rank - 1:
        return False
    for a, b, p in coupling_tree(rank):
        if not abs(lsL[a] - lsL[b]) <= lsL[p] <= lsL[a] + lsL[b]:
            return False
    return True


def generalized_cg(ls: Sequence[int], lint: Sequence[int] = (), half_basis: bool = True,
                   keep_accidental_zeros: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """ms-combinations and generalized Clebsch-Gordan coefficients of one B function.

    Args:
        ls: angular momenta l_1..l_r of the A's (rank r = len(ls)).
        lint: intermediate couplings, ``r - 2`` values for r > 2 (none otherwise).
        half_basis: python-ace's half basis (see module docstring); ``False`` gives all m.
        keep_accidental_zeros: also return (with coefficient 0) the combinations whose exact
            coefficient vanishes accidentally but python-ace's floating-point one does not
            (:func:`float_clebsch_gordan`); python-ace counts them before compression.

    Returns:
        ``ms`` int array ``[ncomb, r]`` (python-ace's order: m_1 fastest) and ``cg`` float array
        ``[ncomb]``; combinations with a zero coefficient are left out.

    Raises:
        ValueError: wrong number of ``lint`` values.
    """
    ls = [int(l) for l in ls]
    lint = [int(l) for l in lint]
    rank = len(ls)
    if rank < 1:
        raise ValueError("rank must be >= 1")
    if len(lint) != max(rank - 2, 0):
        raise ValueError(f"rank {rank} needs {max(rank - 2, 0)} lint values, got {lint}")
    if rank == 1:
        if ls[0] != 0:
            return np.zeros((0, 1), dtype=np.int64), np.zeros(0)
        return np.zeros((1, 1), dtype=np.int64), np.ones(1)
    # all m-tuples, m_1 fastest (python-ace's enumeration order)
    grids = np.meshgrid(*[np.arange(-l, l + 1) for l in reversed(ls)], indexing="ij")
    ms = np.stack([g.ravel() for g in reversed(grids)], axis=1).astype(np.int64)
    ms = ms[ms.sum(axis=1) == 0]
    if half_basis:
        sign = _first_nonzero_sign(ms)
        ms = ms[sign >= 0]
    lsL = ls + lint + [0]
    node_m = np.zeros((len(ms), 2 * rank - 1), dtype=np.int64)
    node_m[:, :rank] = ms
    coeff = np.ones(len(ms))
    allowed = np.ones(len(ms), dtype=bool)
    float_nonzero = np.ones(len(ms), dtype=bool)
    for a, b, p in coupling_tree(rank):
        ma, mb = node_m[:, a], node_m[:, b]
        node_m[:, p] = ma + mb
        table = _cg_table(lsL[a], lsL[b], lsL[p])
        # an inner node's M may leave [-L, L]; such rows are zeroed (and their lookups clipped)
        inside = (np.abs(ma) <= lsL[a]) & (np.abs(mb) <= lsL[b]) & (np.abs(node_m[:, p]) <= lsL[p])
        values = table[np.clip(ma + lsL[a], 0, 2 * lsL[a]), np.clip(mb + lsL[b], 0, 2 * lsL[b])]
        coeff *= np.where(inside, values, 0.0)
        allowed &= inside
        if keep_accidental_zeros:
            ftable = _cg_table(lsL[a], lsL[b], lsL[p], python_ace_float=True)
            fvalues = ftable[np.clip(ma + lsL[a], 0, 2 * lsL[a]), np.clip(mb + lsL[b], 0, 2 * lsL[b])]
            float_nonzero &= inside & (fvalues != 0.0)
    keep = (coeff != 0.0) | (float_nonzero if keep_accidental_zeros else False)
    ms, coeff = ms[keep], coeff[keep]
    if half_basis:
        coeff = np.where(_first_nonzero_sign(ms) > 0, 2.0 * coeff, coeff)
    return ms, coeff


def _first_nonzero_sign(ms: np.ndarray) -> np.ndarray:
    """Sign of the first non-zero entry of each row (0 for an all-zero row)."""
    nz = ms != 0
    first = np.argmax(nz, axis=1)
    return np.sign(ms[np.arange(len(ms)), first]) * nz.any(axis=1)


@lru_cache(maxsize=4096)
def _cg_table(la: int, lb: int, lp: int, python_ace_float: bool = False) -> np.ndarray:
    """<la ma lb mb | lp ma+mb> as an array [ma + la, mb + lb] (0 where |ma+mb| > lp).

    ``python_ace_float``: python-ace's floating-point values instead of the exact ones.
    """
    cg = float_clebsch_gordan if python_ace_float else clebsch_gordan
    table = np.zeros((2 * la + 1, 2 * lb + 1))
    for ma in range(-la, la + 1):
        for mb in range(-lb, lb + 1):
            if abs(ma + mb) <= lp:
                table[ma + la, mb + lb] = cg(la, ma, lb, mb, lp, ma + mb)
    table.setflags(write=False)
    return table


__all__ = ["clebsch_gordan", "coupling_tree", "couplings_are_valid", "float_clebsch_gordan", "generalized_cg"]
