"""Read python-ace's old plain-text Ctilde potential format (``.ace``), still read by LAMMPS and pyace.

The format is a fixed sequence of ``key=value`` and ``key: values`` items (python-ace
``ACECTildeBasisSet::load``)::

    nelements=1
    elements: Al
    lmax=5
    embedding-function: FinnisSinclairShiftedScaled        (optional; default FinnisSinclair)
    4 FS parameters:  1 1 1 0.5
    core energy-cutoff parameters: <rho_core_cut drho_core_cut> per element
    E0: <one per element>                                  (optional; default 0)
    radbasename=ChebExpCos
    nradbase=12
    nradmax=4
    cutoffmax=8.7
    deltaSplineBins=0.001
    core repulsion parameters: <prehc lambdahc> per ordered pair
    radparameter= <per ordered pair>
    cutoff= <per ordered pair>
    dcut= <per ordered pair>
    crad= <per pair: for k < nradbase, for n < nradmax, for l <= lmax>   (note the k-outermost order)
    rankmax=5
    ndensitymax=2
    num_c_tilde_max=60
    num_ms_combinations_max=43
    total_basis_size_rank1: <per element>
    ctilde_basis_func: rank=1 ndens=2 mu0=0 mu=( 0 ) n=( 1 ) l=( 0 ) num_ms=1 < 0 >: c_1 c_2
    total_basis_size: <per element>
    ctilde_basis_func: ...

Conventions (as python-ace reads it): one radial basis, lmax, nradbase, nradmax and embedding for
all species and pairs; files without an inner cutoff use ``inner_cutoff_type = "density"`` (core
repulsion switched off through the ``rho_core_cutoff`` energy cutoff, never by distance).
"""

from __future__ import annotations

import os
from typing import List

import numpy as np

from ..errors import FileFormatError
from .ctilde import Bond, CtildeFunction, CtildePotential, Embedding


class _Tokens:
    """Whitespace tokens of the file, with ``=`` and ``:`` split off so ``nradbase=12`` reads as two tokens."""

    def __init__(self, text: str, path):
        self.tok = text.replace("=", "= ").replace(":", ": ").split()
        self.pos = 0
        self.path = path

    def fail(self, problem: str, record: str):
        raise FileFormatError(problem, path=self.path, record=record)

    def peek(self, k: int = 0):
        i = self.pos + k
        return self.tok[i] if i < len(self.tok) else None

    def take(self, record: str) -> str:
        if self.pos >= len(self.tok):
            self.fail("unexpected end of file", record)
        t = self.tok[self.pos]
        self.pos += 1
        return t

    def expect(self, words: str) -> None:
        for w in words.split():
            got = self.take(words)
            if got != w:
                self.fail(f"expected {w!r}, got {got!r}", words)

    def accept(self, words: str) -> bool:
        ws = words.split()
        if [self.peek(k) for k in range(len(ws))] == ws:
            self.pos += len(ws)
            return True
        return False

    def integer(self, record: str) -> int:
        t = self.take(record)
        try:
            v = int(t)
        except ValueError:
            self.fail(f"expected an integer, got {t!r}", record)
        # indices and counts are C ints in python-ace; larger values only come from corrupt files
        if abs(v) > 2**31 - 1:
            self.fail(f"integer out of range: {t!r}", record)
        return v

    def count(self, record: str, minimum: int = 0, tokens_each: int = 1) -> int:
        """A count of items that follow, each ``tokens_each`` tokens or more: bounded by what is left."""
        v = self.integer(record)
        if v < minimum:
            self.fail(f"must be >= {minimum}, got {v}", record)
        self.need(v * tokens_each, record)
        return v

    def need(self, ntokens: int, record: str) -> None:
        """Fail unless at least ``ntokens`` tokens are left (sizes announced by a truncated file)."""
        if ntokens > len(self.tok) - self.pos:
            self.fail("unexpected end of file (the sizes given need more values than the file has)", record)

    def number(self, record: str) -> float:
        t = self.take(record)
        try:
            x = float(t)
        except ValueError:
            self.fail(f"expected a number, got {t!r}", record)
        if not np.isfinite(x):
            self.fail(f"non-finite value {t!r}", record)
        return x

    def numbers(self, n: int, record: str) -> List[float]:
        return [self.number(record) for _ in range(n)]


def _read_function(tk: _Tokens, where: str) -> CtildeFunction:
    tk.expect("ctilde_basis_func:")
    tk.expect("rank=")
    rank = tk.count(f"{where}: rank", 1, 3)
    tk.expect("ndens=")
    ndens = tk.count(f"{where}: ndens", 1)
    tk.expect("mu0=")
    mu0 = tk.integer(f"{where}: mu0")
    lists = {}
    for key in ("mu", "n", "l"):
        tk.expect(f"{key}= (")
        lists[key] = [tk.integer(f"{where}: {key}") for _ in range(rank)]
        tk.expect(")")
    tk.expect("num_ms=")
    num_ms = tk.count(f"{where}: num_ms", 0, rank + ndens + 2)
    ms = np.zeros((num_ms, rank), dtype=np.int64)
    ct = np.zeros((num_ms, ndens))
    for i in range(num_ms):
        tk.expect("<")
        ms[i] = [tk.integer(f"{where}: ms") for _ in range(rank)]
        tk.expect(">:")
        ct[i] = tk.numbers(ndens, f"{where}: ctildes")
    return CtildeFunction(mu0=mu0, rank=rank, ndensity=ndens, num_ms_combs=num_ms, mus=lists["mu"],
                          ns=lists["n"], ls=lists["l"], ms_combs=ms, ctildes=ct)


def read_ace(path) -> CtildePotential:
    """Read an old-format ``.ace`` potential into a validated :class:`CtildePotential`.

    Raises:
        FileFormatError: missing or malformed item, unknown radial basis/embedding, non-finite
            numbers; the message names the file and the item.
    """
    path = os.fspath(path)
    try:
        with open(path, "r", encoding="utf-8") as fh:
            tk = _Tokens(fh.read(), path)
    except OSError as exc:
        raise FileFormatError(f"cannot read: {exc.strerror}", path=path) from None
    except UnicodeDecodeError:
        raise FileFormatError("not a text file", path=path) from None

    while tk.peek() is not None and tk.peek() != "nelements=":
        tk.pos += 1  # python-ace skips leading comment lines
    tk.expect("nelements=")
    nel = tk.count("nelements", 1)
    tk.need(5 * nel * nel, "nelements")  # per pair: core repulsion (2), radparameter, cutoff, dcut
    tk.expect("elements:")
    elements = [tk.take("elements") for _ in range(nel)]
    tk.expect("lmax=")
    lmax = tk.count("lmax", 0)
    npoti = "FinnisSinclair"
    if tk.accept("embedding-function:"):
        npoti = tk.take("embedding-function")
    nfs = tk.count("FS parameters", 0)
    tk.expect("FS parameters:")
    fs = tk.numbers(nfs, "FS parameters")
    tk.expect("core energy-cutoff parameters:")
    core_cut = [tk.numbers(2, "core energy-cutoff parameters") for _ in range(nel)]
    E0 = [0.0] * nel
    if tk.accept("E0:"):
        E0 = tk.numbers(nel, "E0")
    tk.expect("radbasename=")
    radbasename = tk.take("radbasename")
    tk.expect("nradbase=")
    nradbase = tk.count("nradbase", 0)
    tk.expect("nradmax=")
    nradmax = tk.count("nradmax", 0)
    tk.need(nradbase * nradmax * (lmax + 1) * nel * nel, "nradbase, nradmax, lmax")
    tk.expect("cutoffmax=")
    tk.number("cutoffmax")
    tk.expect("deltaSplineBins=")
    delta = tk.number("deltaSplineBins")
    pairs = [(i, j) for i in range(nel) for j in range(nel)]
    tk.expect("core repulsion parameters:")
    hc = {p: tk.numbers(2, "core repulsion parameters") for p in pairs}
    tk.expect("radparameter=")
    lam = {p: tk.number("radparameter") for p in pairs}
    tk.expect("cutoff=")
    cut = {p: tk.number("cutoff") for p in pairs}
    tk.expect("dcut=")
    dcut = {p: tk.number("dcut") for p in pairs}
    tk.expect("crad=")
    crad = {}
    for p in pairs:
        vals = np.asarray(tk.numbers(nradbase * nradmax * (lmax + 1), "crad"))
        # stored k-outermost: [k][n][l] -> ours [n][l][k]
        crad[p] = vals.reshape(nradbase, nradmax, lmax + 1).transpose(1, 2, 0).copy()
    tk.expect("rankmax=")
    tk.integer("rankmax")
    tk.expect("ndensitymax=")
    ndens = tk.count("ndensitymax", 1)
    tk.expect("num_c_tilde_max=")
    tk.integer("num_c_tilde_max")
    tk.expect("num_ms_combinations_max=")
    tk.integer("num_ms_combinations_max")

    functions = {mu: [] for mu in range(nel)}
    for section in ("total_basis_size_rank1:", "total_basis_size:"):
        tk.expect(section)
        sizes = [tk.count(section, 0, 12) for _ in range(nel)]
        for mu in range(nel):
            for i in range(sizes[mu]):
                functions[mu].append(_read_function(tk, f"{section[:-1]}: species {mu}: function {i}"))
    if tk.peek() is not None:
        tk.fail(f"unexpected trailing content {tk.peek()!r}", "end of file")

    embeddings = {mu: Embedding(ndensity=ndens, FS_parameters=list(fs), npoti=npoti,
                                rho_core_cutoff=core_cut[mu][0], drho_core_cutoff=core_cut[mu][1])
                  for mu in range(nel)}
    bonds = {p: Bond(nradmax=nradmax, lmax=lmax, nradbasemax=nradbase, radbasename=radbasename,
                     radparameters=[lam[p]], radcoefficients=crad[p], prehc=hc[p][0], lambdahc=hc[p][1],
                     rcut=cut[p], dcut=dcut[p], rcut_in=0.0, dcut_in=0.0, inner_cutoff_type="density")
             for p in pairs}
    pot = CtildePotential(elements=elements, E0=list(E0), deltaSplineBins=delta, embeddings=embeddings,
                          bonds=bonds, functions=functions)
    pot.validate(path)
    return pot


__all__ = ["read_ace"]
