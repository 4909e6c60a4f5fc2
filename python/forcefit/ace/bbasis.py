"""In-memory B-basis ACE potential: the content of a python-ace/pacemaker ``.yaml`` potential file.

Design
------
The B-basis form of the atomic cluster expansion (Drautz, PRB 99, 014104 (2019); Lysogorskiy et
al., npj Comput Mater 7, 97 (2021); Bochkarev et al., PRMaterials 6, 013804 (2022)) stores
rotation-invariant basis functions

    B_{mu0; mus, ns, ls, lint} = sum_{ms} C^{ls, lint}_{ms}  prod_t A_{mu_t n_t l_t m_t}

by their labels and their expansion coefficients ``c`` (one per density, ``ndensity``), plus the
radial basis of each species pair and the embedding of each species.  The file groups them into
*species blocks*:

* ``speciesblock: "Al"`` (one species): embedding (``ndensityi, npoti, parameters, rho_core_cut,
  drho_core_cut``), the Al-Al bond and the functions whose central atom is Al and whose
  neighbours are all Al;
* ``speciesblock: "Al Ni"`` (two species): the Al-Ni bond (may be omitted in one of "Al Ni" /
  "Ni Al"; it is then taken from the other) and the functions on Al that involve Ni;
* three or more species: functions only.

The dataclasses below keep a file's content as written (optional keys stay ``None`` when absent,
unknown keys are kept verbatim in ``SpeciesBlock.extra``), so reading and writing are loss-free.
:func:`resolve` applies python-ace's rules (sorted element list, defaults, the dual-block copying
of bonds and core repulsion, consistency checks) and returns the fully specified embeddings and
bonds as :mod:`.ctilde` dataclasses, which :mod:`.convert` turns into a Ctilde potential.

Conventions (python-ace's)
--------------------------
* ``ns`` are 1-based; ``ls`` >= 0; rank-1 functions have ``ls == [0]`` and index the radial
  *base* functions (``n <= nradbaseij``), higher ranks the radial functions (``n <= nradmaxi``).
* ``lint`` (intermediate couplings, python-ace's ``LS``) has ``rank - 2`` entries for rank > 2
  and none otherwise; see :mod:`.coupling` for the coupling tree.  The tree closes to L = 0 only
  if ``lint[-1] == nl[-1]`` (odd rank) or ``lint[-1] == lint[-2]`` (even rank).  (python-ace's
  own check asks for the even-rank rule from rank 6 on, which for rank 7 contradicts its tree;
  the tree's rule is used here.)  Files must give ``lint`` in full, as python-ace's reader
  requires; the shorthand of its Python API (rank 4 with one value) is not accepted.
* ``radcoefficients`` has shape ``[nradmax, lmax + 1, nradbase]``.
* Defaults when absent: ``rho_core_cut`` 100000, ``drho_core_cut`` 250, ``core-repulsion``
  [0, 0], ``r_in`` 0, ``delta_in`` 0, ``inner_cutoff_type`` "density".
* Units: Å for cutoffs, eV for energies (``core-repulsion`` prefactor in eV, lambda in 1/Å^2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..errors import FileFormatError
from .ctilde import Bond, Embedding

DEFAULT_RHO_CORE_CUT = 100000.0
DEFAULT_DRHO_CORE_CUT = 250.0
DEFAULT_INNER_CUTOFF_TYPE = "density"


@dataclass
class BBasisFunction:
    """One B-basis function specification (an ``nbody`` entry).

    ``elements``: the ``type`` string split, central species first, then one neighbour species
    per A (``rank + 1`` names).  ``ns`` (1-based), ``ls``: one per A.  ``lint``: intermediate
    couplings (``rank - 2`` values for rank > 2).  ``coeffs``: one coefficient per density of the
    central species.  ``skip``: python-ace leaves the function out of the evaluation.
    """

    elements: Tuple[str, ...]
    ns: Tuple[int, ...]
    ls: Tuple[int, ...]
    lint: Tuple[int, ...] = ()
    coeffs: Tuple[float, ...] = ()
    skip: bool = False

    def __post_init__(self):
        self.elements = tuple(str(e) for e in self.elements)
        self.ns = tuple(int(n) for n in self.ns)
        self.ls = tuple(int(l) for l in self.ls)
        self.lint = tuple(int(l) for l in self.lint)
        self.coeffs = tuple(float(c) for c in self.coeffs)
        self.skip = bool(self.skip)

    @property
    def rank(self) -> int:
        return len(self.elements) - 1

    @property
    def central(self) -> str:
        return self.elements[0]

    @property
    def neighbours(self) -> Tuple[str, ...]:
        return self.elements[1:]

    @property
    def type(self) -> str:
        """The ``type`` string of the file (``"Al Al Ni"``)."""
        return " ".join(self.elements)

    def label(self) -> str:
        """Short human-readable label used in error messages."""
        text = f"{{type: {self.type}, nr: {list(self.ns)}, nl: {list(self.ls)}"
        if self.lint:
            text += f", lint: {list(self.lint)}"
        return text + "}"


@dataclass
class BBasisEmbedding:
    """Embedding keys of a single-species block (``None``: key absent, python-ace default)."""

    ndensity: int
    npoti: str
    parameters: Tuple[float, ...]
    rho_core_cut: Optional[float] = None
    drho_core_cut: Optional[float] = None

    def __post_init__(self):
        self.parameters = tuple(float(p) for p in self.parameters)


@dataclass(eq=False)
class BBasisBond:
    """Radial-basis keys of a one- or two-species block; cutoffs in Å.

    ``radcoefficients``: float array ``[nradmax, lmax + 1, nradbase]``.
    ``cutoff_function``: ``NameOfCutoffFunctionij`` (python-ace ignores it; kept for round trips).
    """

    nradmax: int
    lmax: int
    nradbase: int
    radbase: str
    radparameters: Tuple[float, ...]
    radcoefficients: np.ndarray
    rcut: float
    dcut: float
    cutoff_function: Optional[str] = None

    def __post_init__(self):
        self.radparameters = tuple(float(p) for p in self.radparameters)
        self.radcoefficients = np.asarray(self.radcoefficients, dtype=float).reshape(
            int(self.nradmax), int(self.lmax) + 1, int(self.nradbase))

    def __eq__(self, other):
        if not isinstance(other, BBasisBond):
            return NotImplemented
        return (self.radial_key() == other.radial_key()
                and self.cutoff_function == other.cutoff_function)

    def radial_key(self):
        """Everything python-ace compares when checking the "A B" / "B A" blocks agree."""
        return (self.nradmax, self.lmax, self.nradbase, self.radbase, self.radparameters,
                self.radcoefficients.shape, self.radcoefficients.tobytes(), self.rcut, self.dcut)


@dataclass
class SpeciesBlock:
    """One ``species`` entry.  ``name`` is the ``speciesblock`` string ("Al", "Al Ni", ...).

    ``core_repulsion`` = (prefactor eV, lambda 1/Å^2); ``r_in``/``delta_in`` (Å) and
    ``inner_cutoff_type`` describe the inner cutoff; ``None`` means the key was absent.
    ``extra``: keys python-ace does not read, kept verbatim (strings / nested lists / dicts).
    """

    name: str
    embedding: Optional[BBasisEmbedding] = None
    bond: Optional[BBasisBond] = None
    core_repulsion: Optional[Tuple[float, float]] = None
    r_in: Optional[float] = None
    delta_in: Optional[float] = None
    inner_cutoff_type: Optional[str] = None
    functions: List[BBasisFunction] = field(default_factory=list)
    extra: Dict[str, object] = field(default_factory=dict)

    def __post_init__(self):
        if self.core_repulsion is not None:
            self.core_repulsion = tuple(float(x) for x in self.core_repulsion)

    @property
    def element_list(self) -> List[str]:
        """The block name split on whitespace ("Al Ni" -> ["Al", "Ni"])."""
        return self.name.split()

    @property
    def species(self) -> List[str]:
        """Distinct species of the block, in order of appearance."""
        return list(dict.fromkeys(self.element_list))

    @property
    def central(self) -> str:
        return self.element_list[0]


@dataclass
class AuxData:
    """python-ace's ``auxdata`` section: named ints, doubles, strings and arrays of each."""

    int_data: Dict[str, int] = field(default_factory=dict)
    int_arr_data: Dict[str, List[int]] = field(default_factory=dict)
    double_data: Dict[str, float] = field(default_factory=dict)
    double_arr_data: Dict[str, List[float]] = field(default_factory=dict)
    string_data: Dict[str, str] = field(default_factory=dict)
    string_arr_data: Dict[str, List[str]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not any((self.int_data, self.int_arr_data, self.double_data, self.double_arr_data,
                        self.string_data, self.string_arr_data))


@dataclass
class BBasisPotential:
    """A whole B-basis potential file: ``metadata`` (strings), ``auxdata``, ``global`` and blocks.

    ``delta_spline_bins``: ``global: DeltaSplineBins`` (Å), the radial spline step.
    """

    blocks: List[SpeciesBlock]
    delta_spline_bins: float = 0.001
    metadata: Dict[str, str] = field(default_factory=dict)
    auxdata: Optional[AuxData] = None

    @property
    def elements(self) -> List[str]:
        """All species of the potential in python-ace's (sorted) order; index = species id."""
        return sorted({e for b in self.blocks for e in b.element_list})

    def block(self, name: str) -> SpeciesBlock:
        """The block whose ``speciesblock`` is ``name`` (whitespace-insensitive)."""
        key = name.split()
        for b in self.blocks:
            if b.element_list == key:
                return b
        raise KeyError(name)

    def all_functions(self) -> List[BBasisFunction]:
        return [f for b in self.blocks for f in b.functions]

    def number_of_functions(self, include_skipped: bool = False) -> int:
        return sum(1 for f in self.all_functions() if include_skipped or not f.skip)

    def to_ctilde(self):
        """The equivalent Ctilde potential (:func:`forcefit.ace.convert.bbasis_to_ctilde`)."""
        from .convert import bbasis_to_ctilde  # convert imports this module

        return bbasis_to_ctilde(self)


@dataclass
class ResolvedBBasis:
    """A B-basis potential after python-ace's resolution rules, ready for conversion.

    ``elements`` sorted; ``embeddings[mu]`` and ``bonds[(mu_i, mu_j)]`` for every species and
    ordered pair (as :mod:`.ctilde` dataclasses); ``functions[mu]``: the B functions (skipped ones
    left out) whose central species is ``mu``, in file order.
    """

    elements: List[str]
    delta_spline_bins: float
    embeddings: Dict[int, Embedding]
    bonds: Dict[Tuple[int, int], Bond]
    functions: Dict[int, List[BBasisFunction]]


def check_couplings_shape(func: BBasisFunction) -> Optional[str]:
    """python-ace's checks of ``ls``/``lint`` of one function; returns the problem or ``None``.

    Rank 1: ``ls == [0]``.  Rank 2: ``ls[0] == ls[1]``.  Rank > 2: ``len(lint) == rank - 2`` and
    the last node of the coupling tree closes to L = 0: for odd rank ``lint[-1] == ls[-1]``, for
    even rank ``lint[-1] == lint[-2]``.  The sum of ``ls`` must be even (parity invariance).
    """
    rank = func.rank
    if rank < 1:
        return "needs at least one neighbour species in 'type'"
    if len(func.ns) != rank or len(func.ls) != rank:
        return f"'nr' and 'nl' need rank = {rank} values each"
    if min(func.ns) < 1:
        return "'nr' values are 1-based (>= 1)"
    if min(func.ls) < 0:
        return "'nl' values must be >= 0"
    need_lint = rank - 2 if rank > 2 else 0
    if len(func.lint) != need_lint:
        return f"'lint' needs {need_lint} values for rank {rank}"
    if func.lint and min(func.lint) < 0:
        return "'lint' values must be >= 0"
    if rank == 1 and func.ls[0] != 0:
        return "a rank-1 function needs nl: [0]"
    if rank == 2 and func.ls[0] != func.ls[1]:
        return "a rank-2 function needs equal 'nl' values"
    if rank > 2:
        if rank % 2 == 1 and func.lint[-1] != func.ls[-1]:
            return "for odd rank the last 'lint' must equal the last 'nl'"
        if rank % 2 == 0 and func.lint[-1] != func.lint[-2]:
            return "for even rank the last two 'lint' values must be equal"
    if sum(func.ls) % 2:
        return "the sum of 'nl' must be even"
    return None


def _bond_of_block(block: SpeciesBlock, dual: Optional[SpeciesBlock]) -> Tuple[BBasisBond, tuple]:
    """Radial basis and (core repulsion, r_in, delta_in, inner type) of a <=2-species block."""
    bond = block.bond
    if bond is None and dual is not None:
        bond = dual.bond
    core_source = block
    if block.core_repulsion is None and dual is not None and dual.core_repulsion is not None:
        core_source = dual
    core = core_source.core_repulsion or (0.0, 0.0)
    inner = (core_source.r_in if core_source.r_in is not None else 0.0,
             core_source.delta_in if core_source.delta_in is not None else 0.0,
             core_source.inner_cutoff_type or DEFAULT_INNER_CUTOFF_TYPE)
    return bond, (core, inner)


def resolve(pot: BBasisPotential, path=None) -> ResolvedBBasis:
    """Apply python-ace's rules; raise :class:`FileFormatError` (naming ``path``) on inconsistency.

    Returns the embeddings, bonds and functions per species index (see :class:`ResolvedBBasis`).
    """

    def fail(problem: str, record: str):
        raise FileFormatError(problem, path=path, record=record)

    if not (np.isfinite(pot.delta_spline_bins) and pot.delta_spline_bins > 0):
        fail(f"must be a positive number, got {pot.delta_spline_bins!r}", "global: DeltaSplineBins")
    if not pot.blocks:
        fail("no species blocks", "species")
    elements = pot.elements
    index = {e: i for i, e in enumerate(elements)}
    by_key: Dict[Tuple[str, ...], SpeciesBlock] = {}
    for b in pot.blocks:
        key = tuple(b.element_list)
        if not key:
            fail("empty 'speciesblock'", "species")
        if key in by_key:
            fail(f"species block {b.name!r} appears twice", f"speciesblock {b.name!r}")
        by_key[key] = b

    embeddings: Dict[int, Embedding] = {}
    bonds: Dict[Tuple[int, int], Bond] = {}
    inner_types = set()
    for b in pot.blocks:
        where = f"speciesblock {b.name!r}"
        species = b.species
        if len(species) == 1:
            if b.embedding is None:
                fail("a single-species block needs ndensityi, npoti and parameters", where)
            emb = b.embedding
            embeddings[index[species[0]]] = Embedding(
                ndensity=emb.ndensity, FS_parameters=list(emb.parameters), npoti=emb.npoti,
                rho_core_cutoff=DEFAULT_RHO_CORE_CUT if emb.rho_core_cut is None else emb.rho_core_cut,
                drho_core_cutoff=DEFAULT_DRHO_CORE_CUT if emb.drho_core_cut is None else emb.drho_core_cut)
            embeddings[index[species[0]]].validate(path, where)
        if len(species) > 2:
            continue
        mu_i = index[species[0]]
        mu_j = index[species[-1]]
        dual = by_key.get((species[1], species[0])) if len(species) == 2 else None
        radial, (core, inner) = _bond_of_block(b, dual)
        if radial is None:
            fail("radial basis (lmaxi, nradmaxi, nradbaseij, radbase, radparameters, radcoefficients,"
                 " rcutij, dcutij) is defined neither here nor in the reversed block", where)
        if dual is not None and b.bond is not None and dual.bond is not None:
            if b.bond.radial_key() != dual.bond.radial_key():
                fail(f"radial basis differs from the one of block {dual.name!r}", where)
        if dual is not None and b.core_repulsion is not None and dual.core_repulsion is not None:
            if b.core_repulsion != dual.core_repulsion:
                fail(f"core-repulsion differs from the one of block {dual.name!r}", where)
            if (b.r_in, b.delta_in) != (dual.r_in, dual.delta_in):
                fail(f"r_in/delta_in differ from those of block {dual.name!r}", where)
        inner_types.add(inner[2])
        bonds[(mu_i, mu_j)] = Bond(
            nradmax=radial.nradmax, lmax=radial.lmax, nradbasemax=radial.nradbase,
            radbasename=radial.radbase, radparameters=list(radial.radparameters),
            radcoefficients=radial.radcoefficients.copy(), prehc=core[0], lambdahc=core[1],
            rcut=radial.rcut, dcut=radial.dcut, rcut_in=inner[0], dcut_in=inner[1],
            inner_cutoff_type=inner[2])
    if len(inner_types) > 1:
        fail(f"inner_cutoff_type must be the same in all one- and two-species blocks, got "
             f"{sorted(inner_types)}", "species")
    for mu, el in enumerate(elements):
        if mu not in embeddings:
            fail(f"element {el} has no single-species block (embedding)", "species")
    for mu_i, ei in enumerate(elements):
        for mu_j, ej in enumerate(elements):
            if (mu_i, mu_j) not in bonds:
                fail(f"no radial basis for the pair {ei}-{ej} (needs a block {ei + ' ' + ej!r})",
                     "species")

    functions: Dict[int, List[BBasisFunction]] = {mu: [] for mu in range(len(elements))}
    for b in pot.blocks:
        block_species = set(b.species)
        for i, func in enumerate(b.functions):
            where = f"speciesblock {b.name!r}: nbody {i} {func.label()}"
            problem = check_couplings_shape(func)
            if problem:
                fail(problem, where)
            if func.central != b.central:
                fail(f"central species {func.central} differs from the block's {b.central}", where)
            outside = [e for e in func.neighbours if e not in block_species]
            if outside:
                fail(f"species {outside[0]} is not in the block's species {sorted(block_species)}", where)
            mu0 = index[func.central]
            emb = embeddings[mu0]
            if len(func.coeffs) != emb.ndensity:
                fail(f"'c' has {len(func.coeffs)} values but {func.central} has ndensityi = "
                     f"{emb.ndensity}", where)
            for t, el in enumerate(func.neighbours):
                bond = bonds[(mu0, index[el])]
                if func.rank == 1:
                    if func.ns[t] > bond.nradbasemax:
                        fail(f"nr = {func.ns[t]} exceeds nradbaseij = {bond.nradbasemax} of the "
                             f"{func.central}-{el} bond", where)
                else:
                    if func.ns[t] > bond.nradmax:
                        fail(f"nr = {func.ns[t]} exceeds nradmaxi = {bond.nradmax} of the "
                             f"{func.central}-{el} bond", where)
                if func.ls[t] > bond.lmax:
                    fail(f"nl = {func.ls[t]} exceeds lmaxi = {bond.lmax} of the {func.central}-{el} "
                         "bond", where)
            if not func.skip:
                functions[mu0].append(func)
    return ResolvedBBasis(elements=elements, delta_spline_bins=float(pot.delta_spline_bins),
                          embeddings=embeddings, bonds=bonds, functions=functions)


def normalized(pot: BBasisPotential) -> BBasisPotential:
    """The potential as python-ace writes it back after loading (``BBasisConfiguration.save``).

    Fills python-ace's defaults (``rho_core_cut``, ``drho_core_cut``, ``core-repulsion``, ``r_in``,
    ``delta_in``, ``inner_cutoff_type``, ``NameOfCutoffFunctionij: ""``), copies the radial
    basis and core repulsion of a two-species block from its reversed partner when absent, and
    drops keys python-ace does not read (``extra``).  Block and function order are kept.
    """
    import copy

    by_key = {tuple(b.element_list): b for b in pot.blocks}
    blocks = []
    for b in pot.blocks:
        nb = copy.deepcopy(b)
        nb.extra = {}
        species = b.species
        if nb.embedding is not None:
            if nb.embedding.rho_core_cut is None:
                nb.embedding.rho_core_cut = DEFAULT_RHO_CORE_CUT
            if nb.embedding.drho_core_cut is None:
                nb.embedding.drho_core_cut = DEFAULT_DRHO_CORE_CUT
        if len(species) <= 2:
            dual = by_key.get((species[1], species[0])) if len(species) == 2 else None
            radial, (core, inner) = _bond_of_block(b, dual)
            if radial is not None:
                nb.bond = copy.deepcopy(radial)
                if b.bond is None or nb.bond.cutoff_function is None:
                    nb.bond.cutoff_function = (b.bond.cutoff_function if b.bond is not None
                                               and b.bond.cutoff_function is not None else "")
            nb.core_repulsion = tuple(core)
            nb.r_in, nb.delta_in, nb.inner_cutoff_type = inner
        blocks.append(nb)
    return BBasisPotential(blocks=blocks, delta_spline_bins=pot.delta_spline_bins,
                           metadata=dict(pot.metadata), auxdata=copy.deepcopy(pot.auxdata))


def number_of_parameters(pot: BBasisPotential) -> Tuple[int, int]:
    """(radial coefficients, basis-function coefficients) that a fit adjusts.

    Radial coefficients are counted once per unordered species pair (python-ace keeps the
    "A B" and "B A" bonds identical); function coefficients are ``ndensity`` per function,
    skipped functions included (they stay in the file).
    """
    seen = set()
    n_rad = 0
    for b in pot.blocks:
        if b.bond is None or len(b.species) > 2:
            continue
        key = frozenset(b.species)
        if key in seen:
            continue
        seen.add(key)
        n_rad += int(b.bond.radcoefficients.size)
    n_func = sum(len(f.coeffs) for f in pot.all_functions())
    return n_rad, n_func


__all__ = ["AuxData", "BBasisBond", "BBasisEmbedding", "BBasisFunction", "BBasisPotential",
           "ResolvedBBasis", "SpeciesBlock", "check_couplings_shape", "normalized", "number_of_parameters",
           "resolve"]
