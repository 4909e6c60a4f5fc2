"""The ``potential:`` section of a pacemaker input file: a basis shape, or potential files.

A pacemaker potential is given in one of three ways:

* a file name (``potential: pot.yaml``) -- fit (continue) that potential;
* a mapping with ``filename`` (target potential from a file), optionally ``initial_potential``
  (one file or a list, merged; starts a ladder fit) and ``reset`` (zero the function
  coefficients, radial coefficients set to delta_nk);
* a basis *shape*: ``elements``, ``embeddings``, ``bonds``, ``functions`` (plus
  ``deltaSplineBins``), with block keys ``ALL``/``UNARY``/``BINARY``/... or element combinations,
  and optionally ``functions: {number_of_functions_per_element: N}``; ``initial_potential`` may
  be given as well.

This module checks the structure and types, so that a typo fails in seconds; the ACE engine
builds the basis from the checked mapping (``PotentialSection.shape``), which keeps python-ace's
key names. Units: ``rcut``, ``dcut``, ``r_in``, ``delta_in`` in Å.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from ..ace.ctilde import KNOWN_EMBEDDINGS, embedding_problem
from .schema import Key, Where, check_mapping, check_type, in_range, string_list, unknown_key_error

GROUP_KEYWORDS = ("ALL", "UNARY", "BINARY", "TERNARY", "QUATERNARY", "QUINARY")
_ELEMENT = re.compile(r"[A-Z][a-z]?")

_NUMBER = (int, float)
_NUMBER_LIST = (list,)

EMBEDDING_KEYS = {
    "npot": Key((str,), "FinnisSinclairShiftedScaled"),
    "fs_parameters": Key(_NUMBER_LIST, None),
    "ndensity": Key((int,), None, in_range(1)),
    "rho_core_cut": Key(_NUMBER, None, in_range(0)),
    "drho_core_cut": Key(_NUMBER, None, in_range(0)),
}

BOND_KEYS = {
    "radbase": Key((str,), None),
    "radparameters": Key(_NUMBER_LIST, None),
    "radcoefficients": Key(_NUMBER_LIST, None),
    "rcut": Key(_NUMBER, None, in_range(0, low_open=True)),
    "dcut": Key(_NUMBER, None, in_range(0)),
    "r_in": Key(_NUMBER, None, in_range(0)),
    "delta_in": Key(_NUMBER, None, in_range(0)),
    "core-repulsion": Key(_NUMBER_LIST, None),
    "NameOfCutoffFunction": Key((str,), None),
    "inner_cutoff_type": Key((str,), None),
    "nradbase": Key((int,), None, in_range(1)),
}

FUNCTION_KEYS = {
    "nradmax_by_orders": Key(_NUMBER_LIST, None),
    "lmax_by_orders": Key(_NUMBER_LIST, None),
    "coefs_init": Key((str,), None),
    "func_coefs_init": Key((str,), None),
    "nradmax": Key((int,), None),
    "lmax": Key((int,), None),
}

SHAPE_KEYS = ("deltaSplineBins", "elements", "element", "embeddings", "bonds", "functions", "rankmax", "metadata")
FILE_KEYS = ("filename", "initial_potential", "reset")


@dataclass(frozen=True)
class PotentialSection:
    """The checked ``potential:`` section.

    Attributes:
        shape: the basis shape mapping (python-ace key names), or None when the target comes
            from ``filename``.
        filename: target potential file (``potential: file.yaml`` or ``potential.filename``).
        initial_potential: initial potential file(s) for a ladder fit (merged in order).
        reset: reset the target potential's coefficients before fitting.
        elements: chemical symbols of the shape (sorted as given), empty for a file.
        max_rcut: the largest bond ``rcut`` of the shape, Å (None for a file): pacemaker's
            neighbour-list cutoff.
        number_of_functions_per_element: cap on the basis size per element, or None.
    """

    shape: Optional[Dict[str, Any]] = None
    filename: Optional[Path] = None
    initial_potential: Tuple[Path, ...] = ()
    reset: bool = False
    elements: Tuple[str, ...] = ()
    max_rcut: Optional[float] = None
    number_of_functions_per_element: Optional[int] = None
    metadata: Dict[str, str] = field(default_factory=dict)


def _check_number_list(value, where: Where, integer: bool = False):
    for k, item in enumerate(value):
        check_type(item, (int,) if integer else (int, float), where.child(k))
        if integer and item < 0:
            raise where.child(k).error(f"must be >= 0, got {item}")
    return value


def _check_block_key(key: Any, where: Where, elements: Tuple[str, ...], max_species: Optional[int]) -> None:
    """A block key is a group keyword or a combination of the shape's elements."""
    if str(key) in GROUP_KEYWORDS:
        return
    from ase.data import chemical_symbols

    text = str(key).strip("() ")
    symbols = _ELEMENT.findall(text)
    rest = _ELEMENT.sub("", text).replace(",", "").replace(" ", "")
    if not symbols or rest or not set(symbols) <= set(chemical_symbols[1:]):
        close = difflib.get_close_matches(str(key), GROUP_KEYWORDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise where.child(key).error(
            f"not a block name: expected one of {', '.join(GROUP_KEYWORDS)} or a combination of elements{hint}"
        )
    unknown = [s for s in symbols if s not in elements]
    if unknown:
        raise where.child(key).error(f"element(s) {', '.join(unknown)} not in potential.elements {list(elements)}")
    if max_species is not None and len(symbols) > max_species:
        raise where.child(key).error(f"a block here names at most {max_species} element(s)")


def _blocks_for(species: Tuple[str, ...], blocks: Dict[str, Any]) -> list:
    """The blocks that apply to an element (``(a,)``) or a bond (``(a, b)``), least specific first:
    ALL, then UNARY (same elements) or BINARY (two different), then the named combination (either
    order for a bond) -- python-ace's precedence ALL < UNARY < BINARY < (Al, Ni)."""
    group = "UNARY" if len(set(species)) == 1 else "BINARY"
    found = [blocks[k] for k in ("ALL", group) if k in blocks]
    for key, block in blocks.items():
        if key in GROUP_KEYWORDS or not isinstance(block, dict):
            continue
        symbols = tuple(_ELEMENT.findall(str(key)))
        if symbols in (species, species[::-1]) or (
            len(species) == 2 and species[0] == species[1] and symbols == species[:1]
        ):
            found.append(block)
    return found


def _check_blocks(value: Any, spec: Dict[str, Key], where: Where, elements, max_species, extra=()) -> Dict[str, Any]:
    if not isinstance(value, dict):
        raise where.error(f"expected a mapping of blocks (ALL, UNARY, ...), got {value!r}")
    checked: Dict[str, Any] = {}
    for key, block in value.items():
        if key in extra:
            checked[key] = block
            continue
        _check_block_key(key, where, elements, max_species)
        checked[key] = check_mapping(block, spec, where.child(key), fill_defaults=False)
        for name in ("fs_parameters", "radparameters", "core-repulsion"):
            if name in checked[key]:
                _check_number_list(checked[key][name], where.child(key).child(name))
        for name in ("nradmax_by_orders", "lmax_by_orders"):
            if name in checked[key]:
                _check_number_list(checked[key][name], where.child(key).child(name), integer=True)
        block_checked = checked[key]
        if "npot" in block_checked and block_checked["npot"] not in KNOWN_EMBEDDINGS:
            raise where.child(key).child("npot").error(embedding_problem(block_checked["npot"], []))
        if "nradmax_by_orders" in block_checked and "lmax_by_orders" in block_checked:
            if len(block_checked["nradmax_by_orders"]) != len(block_checked["lmax_by_orders"]):
                raise where.child(key).error(
                    "nradmax_by_orders and lmax_by_orders must have the same length (one entry per body order)"
                )
        fs = block_checked.get("fs_parameters")
        if fs is not None and "ndensity" in block_checked and len(fs) != 2 * block_checked["ndensity"]:
            raise where.child(key).child("fs_parameters").error(
                f"needs 2 * ndensity = {2 * block_checked['ndensity']} numbers, got {len(fs)}"
            )
    return checked


LEGACY_EMBEDDING_KEYS = tuple(EMBEDDING_KEYS)
LEGACY_BOND_KEYS = ("NameOfCutoffFunction", "core-repulsion", "dcut", "rcut", "radbase", "radparameters")
LEGACY_FUNCTION_KEYS = ("nradmax_by_orders", "lmax_by_orders", "nradmax", "lmax", "func_coefs_init")


def single_species_shape(value: Dict[str, Any], where: Where) -> Dict[str, Any]:
    """python-ace 1.0's single-element shape (``element: Al``, ``nradmax_by_orders``, ``rcut`` ...
    at the top of ``potential``) as the multi-element form, the way python-ace converts it."""
    valid = (
        ("element", "deltaSplineBins", "rankmax", "metadata")
        + FILE_KEYS
        + LEGACY_EMBEDDING_KEYS
        + LEGACY_BOND_KEYS
        + LEGACY_FUNCTION_KEYS
    )
    for key in value:
        if key not in valid:
            raise unknown_key_error(key, valid, where)
    element = check_type(value["element"], (str,), where.child("element"))
    functions = {k: value[k] for k in ("nradmax_by_orders", "lmax_by_orders") if k in value}
    for old, new in (("nradmax", "nradmax_by_orders"), ("lmax", "lmax_by_orders")):
        if old in value and new not in functions:  # python-ace's deprecated names
            functions[new] = value[old]
    if "func_coefs_init" in value:
        functions["coefs_init"] = value["func_coefs_init"]
    shape = {k: value[k] for k in ("deltaSplineBins", "metadata") + FILE_KEYS if k in value}
    shape.update(
        elements=[element],
        embeddings={element: {k: value[k] for k in LEGACY_EMBEDDING_KEYS if k in value}},
        bonds={element: {k: value[k] for k in LEGACY_BOND_KEYS if k in value}},
        functions={element: functions},
    )
    return shape


def parse_potential_section(value: Any, where: Where) -> PotentialSection:
    """Check the ``potential:`` value (a file name or a mapping) and return a PotentialSection.

    File names stay as given (relative to the working directory, as pacemaker reads them);
    ``check_potential_files`` checks that they exist.
    """
    if isinstance(value, str):
        return PotentialSection(filename=Path(value))
    if not isinstance(value, dict):
        raise where.error(f"expected a potential file name or a mapping, got {value!r}")
    if "element" in value and not any(k in value for k in ("elements", "embeddings", "bonds", "functions")):
        value = single_species_shape(value, where)
    valid = SHAPE_KEYS + FILE_KEYS
    for key in value:
        if key not in valid:
            raise unknown_key_error(key, valid, where)
    initial: Tuple[Path, ...] = ()
    if value.get("initial_potential") is not None:
        initial = tuple(Path(p) for p in string_list(value["initial_potential"], where.child("initial_potential")))
    reset = check_type(value.get("reset", False), (bool,), where.child("reset"))
    metadata = value.get("metadata") or {}
    if value.get("filename") is not None:
        filename = Path(check_type(value["filename"], (str,), where.child("filename")))
        return PotentialSection(filename=filename, initial_potential=initial, reset=reset, metadata=metadata)
    if "element" in value and "elements" not in value:
        value = dict(value, elements=value["element"])
    missing = [k for k in ("elements", "bonds", "functions", "embeddings") if k not in value]
    if missing:
        raise where.error(f"a basis shape needs {', '.join(missing)} (or give potential.filename / a potential file)")
    elements = string_list(value["elements"], where.child("elements"))
    for k, symbol in enumerate(elements):
        if not _ELEMENT.fullmatch(symbol):
            raise where.child("elements").child(k).error(f"not a chemical symbol: {symbol!r}")
    if len(set(elements)) != len(elements):
        raise where.child("elements").error("an element is listed twice")
    if "deltaSplineBins" in value:
        in_range(0, low_open=True)(
            check_type(value["deltaSplineBins"], (int, float), where.child("deltaSplineBins")),
            where.child("deltaSplineBins"),
        )
    embeddings = _check_blocks(value["embeddings"], EMBEDDING_KEYS, where.child("embeddings"), elements, 1)
    bonds = _check_blocks(value["bonds"], BOND_KEYS, where.child("bonds"), elements, 2)
    functions = _check_blocks(
        value["functions"],
        FUNCTION_KEYS,
        where.child("functions"),
        elements,
        None,
        extra=("number_of_functions_per_element",),
    )
    nfunc = functions.get("number_of_functions_per_element")
    if nfunc is not None:
        nfunc = in_range(1)(
            check_type(nfunc, (int,), where.child("functions.number_of_functions_per_element")),
            where.child("functions.number_of_functions_per_element"),
        )
    for element in elements:
        if not _blocks_for((element,), embeddings):
            raise where.child("embeddings").error(f"no block (ALL, UNARY or {element}) sets the embedding of {element}")
    rcuts = []
    for a in elements:
        for b in elements:
            merged: Dict[str, Any] = {}
            for block in _blocks_for((a, b), bonds):
                merged.update(block)
            if "rcut" not in merged:
                raise where.child("bonds").error(
                    f"no block (ALL, {'UNARY' if a == b else 'BINARY'} or {a}{b}) "
                    f"sets rcut (outer cutoff, Å) of the {a}-{b} bond"
                )
            rcuts.append(merged["rcut"])
    shape = dict(value, elements=list(elements), embeddings=embeddings, bonds=bonds, functions=functions)
    shape.pop("element", None)
    for key in FILE_KEYS:
        shape.pop(key, None)
    return PotentialSection(
        shape=shape,
        initial_potential=initial,
        reset=reset,
        elements=tuple(elements),
        max_rcut=float(max(rcuts)),
        number_of_functions_per_element=nfunc,
        metadata=metadata,
    )


def check_potential_files(section: PotentialSection, where: Where) -> None:
    """InputError when a named potential file does not exist."""
    if section.filename is not None and not section.filename.is_file():
        raise where.child("filename").error(f"potential file {str(section.filename)!r} not found")
    for k, path in enumerate(section.initial_potential):
        if not path.is_file():
            raise where.child("initial_potential").error(f"initial potential file {str(path)!r} not found")


__all__ = ["PotentialSection", "parse_potential_section", "check_potential_files", "GROUP_KEYWORDS"]
