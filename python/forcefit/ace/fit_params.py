"""The trainable parameters of a B-basis ACE potential and their linear map to the Ctilde form.

Design
------
A pacemaker fit adjusts python-ace's trainable set: the radial coefficients ``crad`` of every
species pair and the expansion coefficients ``c`` of every B function (one per density).  The flat
parameter vector follows python-ace's (tensorpot's) layout::

    x = [crad of bond (mu_i <= mu_j), pairs in itertools.combinations_with_replacement order,
         each [nradmax][lmax+1][nradbase] row-major;
         c of every B function, blocks and functions in file order, ndensity values each]

The A-B and B-A bonds share one set of radial coefficients (python-ace keeps them equal).

The evaluator works on the Ctilde form.  Both maps are linear and fixed by the basis *structure*
(never by the coefficient values), so they are built once as sparse matrices:

* ``ctilde = M @ x``: every Ctilde coefficient (CtildePotential order: species, functions, ms
  combination, density) is a sum of B coefficients times generalized Clebsch-Gordan weights
  (:func:`forcefit.ace.convert.b_function_terms` gives each B function's compressed m-combinations
  and weights; B functions differing only in ``lint`` share a Ctilde function, exactly as
  :func:`forcefit.ace.convert.resolved_to_ctilde` groups them);
* ``crad_full = R @ x``: radial coefficients of all nel*nel ordered bonds (mu_i, mu_j), row-major,
  each [nradmax][lmax+1][nradbasemax] -- a 0/1 selection.

Gradients then follow as ``dL/dx = M^T dL/dctilde + R^T dL/dcrad_full``.  Skipped B functions
(``skip: true``) keep their coefficients in ``x`` but do not enter ``M``.
"""

from __future__ import annotations

import copy
import itertools
from collections import defaultdict
from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np

from .bbasis import BBasisPotential, resolve
from .convert import b_function_terms, resolved_to_ctilde
from .ctilde import CtildeFunction, CtildePotential


@dataclass(frozen=True)
class FunctionSlot:
    """Where the coefficients of one B function live: ``x[offset:offset + ndensity]``."""

    block: int
    function: int
    offset: int
    ndensity: int


class ParameterMap:
    """Flat parameter vector <-> B-basis potential <-> Ctilde potential (module docstring).

    Attributes:
        elements: sorted chemical symbols (species index order).
        bond_slices: unique bond (mu_i <= mu_j) -> slice of its crad in ``x``.
        bond_shapes: unique bond -> (nradmax, lmax + 1, nradbase).
        slots: one :class:`FunctionSlot` per B function (skipped ones included).
        n_radial, n_parameters: sizes.
        M: scipy CSR (n_ctilde, n_parameters); R: scipy CSR (n_crad_full, n_parameters).
    """

    def __init__(self, potential: BBasisPotential):
        from scipy.sparse import csr_matrix

        self.template = copy.deepcopy(potential)
        resolved = resolve(self.template)
        self.elements: List[str] = list(resolved.elements)
        nel = len(self.elements)
        index = {e: k for k, e in enumerate(self.elements)}

        # -- radial block of x
        self.bond_slices: Dict[Tuple[int, int], slice] = {}
        self.bond_shapes: Dict[Tuple[int, int], Tuple[int, int, int]] = {}
        start = 0
        initial = []
        for pair in itertools.combinations_with_replacement(range(nel), 2):
            crad = np.asarray(resolved.bonds[pair].radcoefficients, dtype=float)
            shape = (int(resolved.bonds[pair].nradmax), int(resolved.bonds[pair].lmax) + 1,
                     int(resolved.bonds[pair].nradbasemax))
            crad = crad.reshape(shape) if crad.size else np.zeros(shape)
            self.bond_slices[pair] = slice(start, start + crad.size)
            self.bond_shapes[pair] = shape
            initial.append(crad.ravel())
            start += crad.size
        self.n_radial = start

        # -- function coefficients
        self.slots: List[FunctionSlot] = []
        per_species: Dict[int, list] = defaultdict(list)
        for b, block in enumerate(self.template.blocks):
            for f, func in enumerate(block.functions):
                slot = FunctionSlot(b, f, start, len(func.coeffs))
                self.slots.append(slot)
                initial.append(np.asarray(func.coeffs, dtype=float))
                start += slot.ndensity
                if not func.skip:
                    per_species[index[func.central]].append((b_function_terms(func, index), slot.offset))
        self.n_parameters = start
        self.initial = np.concatenate(initial) if initial else np.zeros(0)

        # -- Ctilde structure and M
        self.skeleton: CtildePotential = resolved_to_ctilde(resolved)
        rows, cols, vals = [], [], []
        flat = 0
        functions: Dict[int, List[CtildeFunction]] = {}
        for mu in range(nel):
            ndensity = resolved.embeddings[mu].ndensity
            groups: Dict[tuple, Dict[tuple, list]] = defaultdict(lambda: defaultdict(list))
            for terms, offset in per_species.get(mu, []):
                group = groups[terms.key()]
                for ms, cg in zip(terms.ms, terms.cg):
                    group[ms].append((offset, cg))
            funcs = []
            for key in sorted(groups, key=lambda k: (len(k[1]), k[0], k[1], k[2])):
                mus, ns, ls = key
                group = groups[key]
                ms_rows = sorted(group)
                for r, ms in enumerate(ms_rows):
                    for offset, cg in group[ms]:
                        for p in range(ndensity):
                            rows.append(flat + r * ndensity + p)
                            cols.append(offset + p)
                            vals.append(cg)
                funcs.append(CtildeFunction(
                    mu0=mu, rank=len(ns), ndensity=ndensity, num_ms_combs=len(ms_rows), mus=list(mus),
                    ns=list(ns), ls=list(ls), ms_combs=np.array(ms_rows, dtype=np.int64).reshape(len(ms_rows), len(ns)),
                    ctildes=np.zeros((len(ms_rows), ndensity))))
                flat += len(ms_rows) * ndensity
            functions[mu] = funcs
        self.skeleton.functions = functions
        self.n_ctilde = flat
        self.M = csr_matrix((vals, (rows, cols)), shape=(flat, self.n_parameters))

        # -- R: all ordered bonds, row-major
        rows, cols = [], []
        flat = 0
        self.crad_full_slices: Dict[Tuple[int, int], slice] = {}
        for i in range(nel):
            for j in range(nel):
                unique = (min(i, j), max(i, j))
                src = self.bond_slices[unique]
                size = src.stop - src.start
                rows.extend(range(flat, flat + size))
                cols.extend(range(src.start, src.stop))
                self.crad_full_slices[(i, j)] = slice(flat, flat + size)
                flat += size
        self.n_crad_full = flat
        self.R = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(flat, self.n_parameters))
        # transposes kept in CSR form: the pullback runs once per loss evaluation
        self._MT = self.M.T.tocsr()
        self._RT = self.R.T.tocsr()

    # -- masks -----------------------------------------------------------------------------------

    def function_mask(self) -> np.ndarray:
        """(P,) True for B-function coefficients, False for radial coefficients."""
        mask = np.zeros(self.n_parameters, dtype=bool)
        mask[self.n_radial:] = True
        return mask

    def trainable_mask(self, trainable: Dict[Tuple[str, ...], set]) -> np.ndarray:
        """(P,) True for parameters that a fit adjusts, from an expanded ``trainable_parameters``
        mapping (block key -> {"func", "radial"}; see :func:`expand_trainable_parameters`)."""
        mask = np.zeros(self.n_parameters, dtype=bool)
        for (i, j), sl in self.bond_slices.items():
            keys = [(self.elements[i],)] if i == j else [(self.elements[i], self.elements[j]),
                                                          (self.elements[j], self.elements[i])]
            if any("radial" in trainable.get(k, ()) for k in keys):
                mask[sl] = True
        for slot in self.slots:
            block = self.template.blocks[slot.block]
            key = block_key(block.element_list)
            if "func" in trainable.get(key, ()):
                mask[slot.offset:slot.offset + slot.ndensity] = True
        return mask

    # -- maps ------------------------------------------------------------------------------------

    def ctilde_coefficients(self, x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(ctilde (n_ctilde,), crad_full (n_crad_full,)) at parameters ``x``."""
        x = np.asarray(x, dtype=float)
        return self.M @ x, self.R @ x

    def ctilde_potential(self, x: np.ndarray) -> CtildePotential:
        """The Ctilde potential at parameters ``x`` (a fresh object sharing nothing mutable)."""
        ctilde, crad = self.ctilde_coefficients(x)
        pot = copy.copy(self.skeleton)
        pot.bonds = {key: copy.copy(bond) for key, bond in self.skeleton.bonds.items()}
        for key, bond in pot.bonds.items():
            sl = self.crad_full_slices[key]
            bond.radcoefficients = crad[sl].reshape(self.bond_shapes[(min(key), max(key))])
        functions = {}
        start = 0
        for mu, funcs in self.skeleton.functions.items():
            out = []
            for f in funcs:
                g = copy.copy(f)
                size = f.num_ms_combs * f.ndensity
                g.ctildes = ctilde[start:start + size].reshape(f.num_ms_combs, f.ndensity)
                start += size
                out.append(g)
            functions[mu] = out
        pot.functions = functions
        return pot

    def pullback(self, grad_ctilde: np.ndarray, grad_crad_full: np.ndarray) -> np.ndarray:
        """dL/dx from dL/dctilde (n_ctilde,) and dL/dcrad_full (n_crad_full,)."""
        return self._MT @ np.asarray(grad_ctilde, dtype=float) + self._RT @ np.asarray(grad_crad_full, dtype=float)

    def bbasis(self, x: np.ndarray) -> BBasisPotential:
        """The B-basis potential (file content) with parameters ``x``."""
        x = np.asarray(x, dtype=float)
        pot = copy.deepcopy(self.template)
        for slot in self.slots:
            pot.blocks[slot.block].functions[slot.function].coeffs = tuple(
                float(v) for v in x[slot.offset:slot.offset + slot.ndensity])
        index = {e: k for k, e in enumerate(self.elements)}
        for block in pot.blocks:
            species = block.species
            if block.bond is None or len(species) > 2:
                continue
            i, j = index[species[0]], index[species[-1]]
            pair = (min(i, j), max(i, j))
            block.bond.radcoefficients = x[self.bond_slices[pair]].reshape(self.bond_shapes[pair]).copy()
        return pot


def block_key(elements) -> Tuple[str, ...]:
    """python-ace's key of a species block or combination: central element, then the others sorted."""
    elements = tuple(elements)
    return elements[:1] + tuple(sorted(elements[1:]))


def expand_trainable_parameters(elements, trainable=None) -> Dict[Tuple[str, ...], set]:
    """python-ace's ``trainable_parameters`` as block key -> {"func", "radial"}.

    ``None`` or empty: everything.  ``"func"``/``"radial"``: that kind in every block.  A block
    name (``ALL``, ``UNARY``, ``BINARY``, ... or an element combination such as ``AlNi``) or a
    list of them: all parameters of those blocks.  A mapping block -> ``func``/``radial``/``all``
    (or a list): those kinds.  Radial coefficients exist only in one- and two-element blocks.
    """
    import re

    from .construct import NARY

    elements = sorted(elements)
    if trainable is None or (not isinstance(trainable, str) and len(trainable) == 0):
        trainable = ["ALL"]
    if isinstance(trainable, str):
        trainable = {"ALL": trainable} if trainable in ("func", "radial") else [trainable]
    as_dict = isinstance(trainable, dict)

    def kinds(name):
        value = trainable[name] if as_dict else ["func", "radial"]
        value = [value] if isinstance(value, str) else list(value)
        out = set()
        for v in value:
            out |= {"func", "radial"} if v == "all" else {v}
        return out

    def combos(r):
        keys = set()
        for perm in itertools.permutations(elements, r):
            keys.add(block_key(perm))
        return sorted(keys)

    result: Dict[Tuple[str, ...], set] = {}
    if "ALL" in trainable:
        for r in range(1, len(elements) + 1):
            for key in combos(r):
                result[key] = kinds("ALL")
    for word, r in NARY.items():
        if word in trainable and r <= len(elements):
            for key in combos(r):
                result[key] = kinds(word)
    for name in trainable:
        if name == "ALL" or name in NARY:
            continue
        symbols = tuple(re.findall(r"[A-Z][a-z]?", str(name)))
        result[block_key(symbols)] = kinds(name)
    for key in result:
        if len(key) > 2:
            result[key] = result[key] - {"radial"}
    return result


__all__ = ["FunctionSlot", "ParameterMap", "block_key", "expand_trainable_parameters"]
