"""Build a B-basis potential from a pacemaker ``potential:`` section, as python-ace does.

Design
------
The ``potential:`` section of a pacemaker input names the elements and gives ``embeddings``,
``bonds`` and ``functions`` specifications, each under keywords that apply to many species
combinations or under explicit combinations (more specific wins, later entries update earlier)::

    embeddings: ALL < UNARY < element ("Al")
    bonds:      ALL < UNARY (A-A) < BINARY (A-B) < explicit pair ("AlNi" sets Al-Ni and Ni-Al)
    functions:  ALL < UNARY < BINARY < TERNARY < QUATERNARY < QUINARY < explicit ("AlNi", "(Al,Ni,Cu)")

A function *species key* is (central element, sorted distinct other elements): ("Al",),
("Al", "Ni"), ("Al", "Cu", "Ni"), ...; every key with a specification becomes one species block.
For each block and body order (rank) r = 1, 2, ... the functions are enumerated exactly as
python-ace's ``create_species_block`` does:

* neighbour species: combinations with replacement of the block's species whose union with the
  central species is the whole block;
* radial indices ``ns`` in 1..``nradmax_by_orders[r-1]`` (itertools.product order), one
  representative per multiset of (species, n) pairs (the first met, which is sorted);
* angular parts (``ls``, ``lint``) with max(ls) <= ``lmax_by_orders[r-1]`` from the list of
  linearly independent couplings for that pattern of equal (species, n) pairs
  (:func:`independent_couplings`).  python-ace reads that list from a precomputed table; here it
  is computed: candidates in lexicographic order of ``ls`` then ``lint`` are kept when their
  generalized-CG polynomial in the A's (with A's of equal (species, n, l) interchangeable) raises
  the rank of those kept before.  This reproduces python-ace's table entry for entry (it covers
  l <= 10 for rank 2, <= 6 for rank 3, and smaller l for higher ranks; beyond it python-ace
  silently stops, while this module keeps going).

Radial bases are then sized to what the functions use (``nradbase`` = max rank-1 n, ``nradmax``
= max n of higher ranks, ``lmax``; symmetric for A-B / B-A) with the "delta" initial radial
coefficients crad[n][l][k] = delta_nk; function coefficients start at zero (``coefs_init:
zero``) or small random numbers (``random``: N(0, 1e-4)).

``number_of_functions_per_element`` keeps only the first functions of each block in the
*ladder* order (:func:`sort_functions`): ``power_order`` sorts by p = len(ns) + sum(ns) +
sum(ls); ``body_order`` by (rank, ns, ls, lint, elements); both stable.  Ladder fitting grows a
basis the same way with :func:`extend_basis`.
"""

from __future__ import annotations

import copy
import itertools
import re
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import InputError
from .bbasis import BBasisBond, BBasisEmbedding, BBasisFunction, BBasisPotential, SpeciesBlock
from .coupling import couplings_are_valid, generalized_cg

ALL, UNARY, BINARY, TERNARY, QUATERNARY, QUINARY = "ALL", "UNARY", "BINARY", "TERNARY", "QUATERNARY", "QUINARY"
NARY = {UNARY: 1, BINARY: 2, TERNARY: 3, QUATERNARY: 4, QUINARY: 5}
KEYWORDS = (ALL,) + tuple(NARY) + ("number_of_functions_per_element",)
_ELEMENT_RE = re.compile(r"([A-Z][a-z]?)")


# ---- independent angular couplings ------------------------------------------------------------

def _lint_candidates(ls: Sequence[int]) -> List[Tuple[int, ...]]:
    rank = len(ls)
    if rank <= 2:
        return [()]
    top = 2 * max(ls)
    return [lint for lint in itertools.product(range(top + 1), repeat=rank - 2) if couplings_are_valid(ls, lint)]


@lru_cache(maxsize=None)
def independent_couplings(pattern: Tuple[int, ...], lmax: int) -> Tuple[Tuple[Tuple[int, ...], Tuple[int, ...]], ...]:
    """Linearly independent (ls, lint) for A's whose (species, n) labels follow ``pattern``.

    ``pattern`` gives each position's label class (non-decreasing, e.g. (0, 0, 1): two equal
    (species, n) pairs and a third one).  Returns python-ace's ordered list restricted to
    ``max(ls) <= lmax``.
    """
    rank = len(pattern)
    kept: Dict[tuple, List[Dict[tuple, float]]] = {}
    basis_rows: Dict[tuple, np.ndarray] = {}
    columns: Dict[tuple, Dict[tuple, int]] = {}
    out = []
    for ls in itertools.product(range(lmax + 1), repeat=rank):
        if sum(ls) % 2 or (rank == 1 and ls[0] != 0):
            continue
        label = tuple(sorted(zip(pattern, ls)))
        for lint in _lint_candidates(ls):
            ms, cg = generalized_cg(ls, lint, half_basis=False)
            poly: Dict[tuple, float] = {}
            for row, c in zip(ms.tolist(), cg.tolist()):
                mono = tuple(sorted(zip(pattern, ls, row)))
                poly[mono] = poly.get(mono, 0.0) + c
            poly = {k: v for k, v in poly.items() if abs(v) > 1e-12}
            if not poly:
                continue
            group = kept.setdefault(label, [])
            cols = columns.setdefault(label, {})
            for mono in poly:
                cols.setdefault(mono, len(cols))
            matrix = np.zeros((len(group) + 1, len(cols)))
            for i, p in enumerate(group + [poly]):
                for mono, v in p.items():
                    matrix[i, cols[mono]] = v
            if np.linalg.matrix_rank(matrix) > len(group):
                group.append(poly)
                out.append((tuple(ls), tuple(lint)))
    return tuple(out)


def label_pattern(mus: Sequence, ns: Sequence[int]) -> Tuple[int, ...]:
    """Label classes of (species, n) pairs in order of appearance of their sorted values."""
    pairs = list(zip(mus, ns))
    order = {p: i for i, p in enumerate(sorted(set(pairs)))}
    return tuple(order[p] for p in pairs)


# ---- potential-config expansion ----------------------------------------------------------------

def _key_elements(key) -> Tuple[str, ...]:
    if isinstance(key, str):
        return tuple(_ELEMENT_RE.findall(key))
    return tuple(str(k) for k in key)


def species_keys(elements: Sequence[str], order: int) -> List[Tuple[str, ...]]:
    """Species-block keys with ``order`` distinct species: (central, sorted others)."""
    keys = set()
    for el in elements:
        others = [e for e in elements if e != el]
        for rest in itertools.combinations(sorted(others), order - 1):
            keys.add((el,) + rest)
    return sorted(keys)


def all_species_keys(elements: Sequence[str]) -> List[Tuple[str, ...]]:
    return [k for r in range(1, len(elements) + 1) for k in species_keys(elements, r)]


def _expand_functions(elements, functions: dict) -> Dict[Tuple[str, ...], dict]:
    ext: Dict[Tuple[str, ...], dict] = {}
    if ALL in functions:
        for key in all_species_keys(elements):
            ext.setdefault(key, {}).update(functions[ALL])
    for word, order in NARY.items():
        if word in functions:
            for key in species_keys(elements, order):
                ext.setdefault(key, {}).update(functions[word])
    for key, spec in functions.items():
        if key in KEYWORDS:
            continue
        elems = _key_elements(key)
        if not elems or any(e not in elements for e in elems):
            raise InputError(f"functions key {key!r} names elements outside {list(elements)}",
                             record="potential: functions")
        ext.setdefault(elems, {}).update(spec)
    return {k: v for k, v in ext.items() if v}


def _expand_bonds(elements, bonds: dict) -> Dict[Tuple[str, str], dict]:
    ext: Dict[Tuple[str, str], dict] = {pair: {} for pair in itertools.product(elements, repeat=2)}
    if ALL in bonds:
        for pair in ext:
            ext[pair].update(bonds[ALL])
    if UNARY in bonds:
        for el in elements:
            ext[(el, el)].update(bonds[UNARY])
    if BINARY in bonds:
        for pair in itertools.permutations(elements, 2):
            ext[pair].update(bonds[BINARY])
    for key, spec in bonds.items():
        if key in KEYWORDS:
            continue
        pair = _key_elements(key)
        if len(pair) == 1:
            pair = (pair[0], pair[0])
        if len(pair) != 2 or any(e not in elements for e in pair):
            raise InputError(f"bonds key {key!r} is not a pair of elements of {list(elements)}",
                             record="potential: bonds")
        ext[pair].update(spec)
        ext[pair[::-1]].update(spec)
    return {k: v for k, v in ext.items() if v}


def _expand_embeddings(elements, embeddings: dict) -> Dict[str, dict]:
    ext: Dict[str, dict] = {el: {} for el in elements}
    for word in (ALL, UNARY):
        if word in embeddings:
            for el in elements:
                ext[el].update(embeddings[word])
    for key, spec in embeddings.items():
        if key in (ALL, UNARY):
            continue
        if key not in elements:
            raise InputError(f"embeddings key {key!r} is not one of the elements {list(elements)}",
                             record="potential: embeddings")
        ext[key].update(spec)
    return {k: v for k, v in ext.items() if v}


def _bonds_of_key(key: Tuple[str, ...]) -> List[Tuple[str, str]]:
    if len(key) == 1:
        return [(key[0], key[0])]
    return [p for other in key[1:] for p in ((key[0], other), (other, key[0]))]


def _size_bonds(bonds: Dict[Tuple[str, str], dict], functions: Dict[Tuple[str, ...], dict]) -> None:
    """Give each bond the nradbase / nradmax / lmax its functions need (python-ace's rules)."""
    if not bonds:
        return
    given = copy.deepcopy(bonds)
    for key, spec in functions.items():
        nrad = _orders(spec, "nradmax_by_orders", key)
        lmaxes = _orders(spec, "lmax_by_orders", key)
        need = {"nradbase": max(nrad[:1]), "nradmax": max(nrad[1:]) if len(nrad) > 1 else 0, "lmax": max(lmaxes)}
        for pair in _bonds_of_key(key):
            if pair not in bonds:
                raise InputError(f"no bond specification for {'-'.join(pair)} (needed by functions {key})",
                                 record="potential: bonds")
            for name, value in need.items():
                if name in given[pair]:
                    if given[pair][name] < value:
                        raise InputError(f"{name} = {given[pair][name]} for bond {'-'.join(pair)} is less than "
                                         f"{value} needed by functions {key}", record="potential: bonds")
                elif bonds[pair].get(name, 0) < value:
                    bonds[pair][name] = value


def _orders(spec: dict, name: str, key) -> List[int]:
    if name not in spec:
        raise InputError(f"functions {key} need '{name}'", record="potential: functions")
    values = spec[name]
    if not isinstance(values, (list, tuple)) or not values or not all(isinstance(v, int) and v >= 0 for v in values):
        raise InputError(f"'{name}' must be a list of non-negative integers, got {values!r}",
                         record=f"potential: functions: {key}")
    return list(values)


# ---- block construction ----------------------------------------------------------------------

def _delta_crad(nradmax: int, lmax: int, nradbase: int) -> np.ndarray:
    crad = np.zeros((nradmax, lmax + 1, nradbase))
    for n in range(min(nradmax, nradbase)):
        crad[n, :, n] = 1.0
    return crad


def _make_block(key: Tuple[str, ...], spec: dict, ndensity: int, rng) -> SpeciesBlock:
    where = f"potential: block {' '.join(key)}"
    block = SpeciesBlock(name=" ".join(key))
    if len(key) == 1:
        missing = [k for k in ("npot", "fs_parameters") if k not in spec]
        if missing:
            raise InputError(f"embedding of {key[0]} needs '{missing[0]}'", record="potential: embeddings")
        block.embedding = BBasisEmbedding(ndensity=ndensity, npoti=str(spec["npot"]),
                                          parameters=spec["fs_parameters"],
                                          rho_core_cut=float(spec.get("rho_core_cut", 100000.0)),
                                          drho_core_cut=float(spec.get("drho_core_cut", 250.0)))
        if len(block.embedding.parameters) != 2 * ndensity:
            raise InputError(f"fs_parameters needs 2*ndensity = {2 * ndensity} values, got {spec['fs_parameters']!r}",
                             record="potential: embeddings")
    if len(key) <= 2:
        for name in ("rcut", "radparameters"):
            if name not in spec:
                raise InputError(f"bond {'-'.join(key if len(key) == 2 else key * 2)} needs '{name}'",
                                 record="potential: bonds")
        nradmax, lmax, nradbase = int(spec.get("nradmax", 0)), int(spec.get("lmax", 0)), int(spec.get("nradbase", 0))
        block.bond = BBasisBond(nradmax=nradmax, lmax=lmax, nradbase=nradbase,
                                radbase=str(spec.get("radbase", "ChebExpCos")),
                                radparameters=[float(x) for x in spec["radparameters"]],
                                radcoefficients=_delta_crad(nradmax, lmax, nradbase),
                                rcut=float(spec["rcut"]), dcut=float(spec.get("dcut", 0.0)),
                                cutoff_function=str(spec.get("NameOfCutoffFunction", "")))
        block.core_repulsion = tuple(float(x) for x in spec.get("core-repulsion", (0.0, 0.0)))
        block.r_in = float(spec.get("r_in", 0.0))
        block.delta_in = float(spec.get("delta_in", 0.0))
        block.inner_cutoff_type = str(spec.get("inner_cutoff_type", "distance"))
    block.functions = list(_block_functions(key, spec, ndensity, rng, where))
    return block


def _block_functions(key, spec, ndensity, rng, where) -> Iterable[BBasisFunction]:
    if "nradmax_by_orders" not in spec or "lmax_by_orders" not in spec:
        return
    nrad = _orders(spec, "nradmax_by_orders", key)
    lmaxes = _orders(spec, "lmax_by_orders", key)
    if len(nrad) != len(lmaxes):
        raise InputError(f"nradmax_by_orders {nrad} and lmax_by_orders {lmaxes} differ in length", record=where)
    init = spec.get("coefs_init", "zero")
    if init not in ("zero", "random"):
        raise InputError(f"coefs_init must be 'zero' or 'random', got {init!r}", record=where)
    central = key[0]
    species = tuple(sorted(set(key)))
    seen = set()
    for rank, (nmax, lmax) in enumerate(zip(nrad, lmaxes), start=1):
        for mus in itertools.combinations_with_replacement(species, rank):
            if len(set((central,) + mus)) != len(species):
                continue
            for ns in itertools.product(range(1, nmax + 1), repeat=rank):
                multiset = tuple(sorted(zip(mus, ns)))
                if multiset in seen:
                    continue
                seen.add(multiset)
                for ls, lint in independent_couplings(label_pattern(mus, ns), lmax):
                    coeffs = np.zeros(ndensity) if init == "zero" else rng.standard_normal(ndensity) * 1e-4
                    yield BBasisFunction(elements=(central,) + mus, ns=ns, ls=ls, lint=lint, coeffs=coeffs)


def _fit_radial_sizes(pot: BBasisPotential) -> None:
    """Raise each bond's nradbase / nradmax / lmax to what the functions use (symmetric in A-B)."""
    need: Dict[Tuple[str, str], Dict[str, int]] = {}
    for func in pot.all_functions():
        for el, n, l in zip(func.neighbours, func.ns, func.ls):
            d = need.setdefault((func.central, el), {"nradbase": 0, "nradmax": 0, "lmax": 0})
            d["nradbase" if func.rank == 1 else "nradmax"] = max(d["nradbase" if func.rank == 1 else "nradmax"], n)
            d["lmax"] = max(d["lmax"], l)
    for (a, b), d in list(need.items()):
        other = need.setdefault((b, a), {"nradbase": 0, "nradmax": 0, "lmax": 0})
        for name in d:
            d[name] = other[name] = max(d[name], other[name])
    for block in pot.blocks:
        if len(block.species) > 2:
            block.bond = None
            continue
        pair = (block.species[0], block.species[-1])
        if pair not in need:
            raise InputError(f"block {block.name!r} has a bond that no function uses", record="potential: functions")
        bond = block.bond
        d = need[pair]
        nradbase = max(bond.nradbase, d["nradbase"], bond.radcoefficients.shape[2])
        nradmax = max(bond.nradmax, d["nradmax"], bond.radcoefficients.shape[0])
        lmax = max(bond.lmax, d["lmax"], bond.radcoefficients.shape[1] - 1)
        crad = _delta_crad(nradmax, lmax, nradbase)
        old = bond.radcoefficients
        crad[:old.shape[0], :old.shape[1], :old.shape[2]] = old
        bond.nradbase, bond.nradmax, bond.lmax = nradbase, nradmax, lmax
        bond.radcoefficients = crad


def _check_mapping_of_mappings(section, name: str) -> None:
    if section is None:
        return
    if not isinstance(section, dict):
        raise InputError(f"expected a mapping, got {section!r}", record=f"potential: {name}")
    for key, value in section.items():
        if key == "number_of_functions_per_element":
            if not isinstance(value, int) or value < 1:
                raise InputError(f"must be a positive integer, got {value!r}", record=f"potential: {name}: {key}")
            continue
        if not isinstance(value, dict):
            raise InputError(f"expected a mapping, got {value!r}", record=f"potential: {name}: {key}")


def construct_bbasis(potential: dict, rng: Optional[np.random.Generator] = None) -> BBasisPotential:
    """B-basis potential for a pacemaker ``potential:`` section (see module docstring).

    ``potential``: dict with ``elements``, ``embeddings``, ``bonds``, ``functions`` and optionally
    ``deltaSplineBins``; keys of the sub-sections as in pacemaker input files.  ``rng`` draws
    ``coefs_init: random`` coefficients.  Raises :class:`forcefit.errors.InputError`.
    """
    rng = rng if rng is not None else np.random.default_rng()
    if not isinstance(potential, dict):
        raise InputError(f"expected a mapping, got {type(potential).__name__}", record="potential")
    for section in ("elements", "embeddings", "bonds", "functions"):
        if section not in potential:
            raise InputError(f"missing '{section}'", record="potential")
        if section != "elements":
            _check_mapping_of_mappings(potential[section], section)
    if not isinstance(potential["elements"], (list, tuple)):
        raise InputError(f"'elements' must be a list, got {potential['elements']!r}", record="potential")
    elements = sorted(str(e) for e in potential["elements"])
    if not elements or len(set(elements)) != len(elements):
        raise InputError(f"'elements' must list distinct element symbols, got {potential['elements']!r}",
                         record="potential")
    functions = dict(potential["functions"] or {})
    n_per_element = functions.get("number_of_functions_per_element")
    functions = _expand_functions(elements, functions)
    bonds = _expand_bonds(elements, dict(potential["bonds"] or {}))
    embeddings = _expand_embeddings(elements, dict(potential["embeddings"] or {}))
    _size_bonds(bonds, functions)
    ndensity = {}
    for el, spec in embeddings.items():
        if "ndensity" not in spec:
            raise InputError(f"embedding of {el} needs 'ndensity'", record="potential: embeddings")
        ndensity[el] = int(spec["ndensity"])
    blocks = []
    for key, spec in functions.items():
        spec = dict(spec)
        if len(key) == 1:
            spec.update(embeddings.get(key[0], {}))
        if len(key) <= 2:
            spec.update(bonds.get((key[0], key[-1]), {}))
        if key[0] not in ndensity:
            raise InputError(f"no embedding (ndensity) for {key[0]}", record="potential: embeddings")
        blocks.append(_make_block(key, spec, ndensity[key[0]], rng))
    pot = BBasisPotential(blocks=blocks, delta_spline_bins=float(potential.get("deltaSplineBins", 0.001)))
    _fit_radial_sizes(pot)
    if n_per_element is not None:
        step = int(n_per_element) * len(elements) // len(blocks)
        pot = extend_basis(empty_like(pot), pot, "power_order", step)
    return pot


# ---- ladder ---------------------------------------------------------------------------------

def sort_functions(funcs: Sequence[BBasisFunction], ladder_type: str) -> List[BBasisFunction]:
    """Functions in ladder order (stable): ``power_order`` or ``body_order`` (module docstring)."""
    if ladder_type == "power_order":
        return sorted(funcs, key=lambda f: len(f.ns) + sum(f.ns) + sum(f.ls))
    if ladder_type == "body_order":
        return sorted(funcs, key=lambda f: (len(f.ns), f.ns, f.ls, f.lint, f.elements))
    raise InputError(f"unknown ladder type {ladder_type!r} (use power_order or body_order)")


def empty_like(pot: BBasisPotential) -> BBasisPotential:
    """The same blocks with no functions (the start of a ladder fit)."""
    out = copy.deepcopy(pot)
    for block in out.blocks:
        block.functions = []
        if block.bond is not None:
            block.bond.nradmax = block.bond.lmax = block.bond.nradbase = 0
            block.bond.radcoefficients = np.zeros((0, 1, 0))
    return out


def _same_function(a: BBasisFunction, b: BBasisFunction) -> bool:
    return (a.elements, a.ns, a.ls, a.lint) == (b.elements, b.ns, b.ls, b.lint)


def extend_basis(initial: BBasisPotential, final: BBasisPotential, ladder_type: str,
                 num_funcs: Optional[int] = None) -> BBasisPotential:
    """One ladder step: add to each block of ``initial`` up to ``num_funcs`` functions of ``final``.

    New functions are taken in ladder order, existing ones keep their coefficients and radial
    coefficients; the block's functions are then kept in ``body_order``.
    """
    if num_funcs == 0:
        return copy.deepcopy(initial)
    init_blocks = {tuple(b.element_list): b for b in initial.blocks}
    out_blocks = []
    for fblock in final.blocks:
        key = tuple(fblock.element_list)
        iblock = copy.deepcopy(init_blocks[key]) if key in init_blocks else empty_like(
            BBasisPotential(blocks=[fblock])).blocks[0]
        candidates = [f for f in sort_functions(fblock.functions, ladder_type)
                      if not any(_same_function(f, g) for g in iblock.functions)]
        if num_funcs is not None:
            candidates = candidates[:num_funcs]
        if candidates:
            iblock.functions = sort_functions(iblock.functions + copy.deepcopy(candidates), "body_order")
            if len(fblock.species) <= 2:
                iblock.core_repulsion = fblock.core_repulsion
                _shrink_radial_to_functions(iblock)
            if len(fblock.species) == 1 and fblock.embedding is not None and iblock.embedding is not None:
                iblock.embedding.rho_core_cut = fblock.embedding.rho_core_cut
                iblock.embedding.drho_core_cut = fblock.embedding.drho_core_cut
        out_blocks.append(iblock)
    for key, block in init_blocks.items():
        if key not in {tuple(b.element_list) for b in final.blocks}:
            out_blocks.append(copy.deepcopy(block))
    out = BBasisPotential(blocks=out_blocks, delta_spline_bins=final.delta_spline_bins,
                          metadata=dict(final.metadata), auxdata=copy.deepcopy(final.auxdata))
    _fit_radial_sizes(out)
    return out


def _shrink_radial_to_functions(block: SpeciesBlock) -> None:
    """python-ace's ``validate_radial_shape_from_funcs`` + delta re-initialization keeping old crad."""
    bond = block.bond
    nradbase = max([f.ns[0] for f in block.functions if f.rank == 1], default=0)
    nradmax = max([max(f.ns) for f in block.functions if f.rank > 1], default=0)
    lmax = max([max(f.ls) for f in block.functions], default=0)
    old = bond.radcoefficients
    nradmax, lmax, nradbase = max(nradmax, old.shape[0]), max(lmax, old.shape[1] - 1), max(nradbase, old.shape[2])
    crad = _delta_crad(nradmax, lmax, nradbase)
    crad[:old.shape[0], :old.shape[1], :old.shape[2]] = old
    bond.nradmax, bond.lmax, bond.nradbase = nradmax, lmax, nradbase
    bond.radcoefficients = crad


__all__ = ["ALL", "BINARY", "KEYWORDS", "NARY", "QUATERNARY", "QUINARY", "TERNARY", "UNARY", "all_species_keys",
           "construct_bbasis", "empty_like", "extend_basis", "independent_couplings", "label_pattern",
           "sort_functions", "species_keys"]
