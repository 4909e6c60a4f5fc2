"""Read and write python-ace's Ctilde ``.yace`` files (YAML).

Layout (keys exactly as python-ace writes them; see :mod:`forcefit.ace.ctilde`)::

    elements: [Al, Ni]
    E0: [0, 0]
    deltaSplineBins: 0.001
    embeddings:
      0: {ndensity: 1, FS_parameters: [1, 1], npoti: FinnisSinclair, rho_core_cutoff: 100000, drho_core_cutoff: 250}
    bonds:
      [0, 1]: {nradmax: 2, lmax: 1, nradbasemax: 1, radbasename: ChebExpCos, radparameters: [3.2],
               radcoefficients: [[[..]]], prehc: 550, lambdahc: 10, rcut: 8.71, dcut: 0.01,
               rcut_in: 0, dcut_in: 0, inner_cutoff_type: distance}
    functions:
      0:
        - {mu0: 0, rank: 2, ndensity: 1, num_ms_combs: 2, mus: [0, 0], ns: [1, 1], ls: [1, 1],
           ms_combs: [0, 0, 1, -1], ctildes: [16.77, -33.54]}

Conventions learned from python-ace's loader (ace_c_basis.cpp / ace_abstract_basis.h):

* bond keys are YAML flow sequences ``[mu_i, mu_j]``, which ``yaml.safe_load`` rejects as unhashable;
  the loader here turns sequence keys into tuples;
* ``rcut_in``/``dcut_in`` default to 0 and ``inner_cutoff_type`` to ``"density"`` when absent (files
  written before the inner cutoff existed);
* ``ms_combs`` and ``ctildes`` are flat, row-major ``[num_ms_combs][rank]`` and ``[num_ms_combs][ndensity]``.

Reading: the ``functions`` section (nearly all of a large file) is parsed line by line when it has
python-ace's one-flow-mapping-per-line layout, the rest with a YAML loader; any other layout is read
with the YAML loader whole.  :func:`write_yace` emits the same flow style with shortest round-trip float formatting, so a
read/write cycle is loss-free, and writes atomically (temporary file + ``os.replace``).
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict, List

import numpy as np
import yaml

from ..atomic import write_text_atomically
from ..errors import FileFormatError
from ..yaml_depth import nesting_problem
from .ctilde import Bond, CtildeFunction, CtildePotential, Embedding

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _YaceLoader(_Base):  # type: ignore[misc, valid-type]
    """Safe loader that accepts flow-sequence mapping keys (``[0, 1]:``) as tuples."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
        mapping = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.SequenceNode):
                key = tuple(self.construct_sequence(key_node, deep=True))
            else:
                key = self.construct_object(key_node, deep=True)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


_YaceLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    lambda loader, node: loader.construct_mapping(node, deep=True),
)


#: Largest integer a count or index in a file may have (python-ace reads them as C ints).
_MAX_INT = 2**31 - 1


class _Section:
    """A mapping from the file plus where it sits, so every error names file and key."""

    def __init__(self, data: Any, path, where: str):
        if not isinstance(data, dict):
            raise FileFormatError(f"expected a mapping, got {type(data).__name__}", path=path, record=where)
        self.data, self.path, self.where = data, path, where

    def _rec(self, key: str) -> str:
        return f"{self.where}: {key}" if self.where else key

    def raw(self, key: str, default: Any = ...):
        if key not in self.data:
            if default is ...:
                raise FileFormatError("missing key", path=self.path, record=self._rec(key))
            return default
        return self.data[key]

    def _convert(self, key: str, value, kind, what: str):
        try:
            if isinstance(value, bool):
                raise TypeError
            return kind(value)
        except (TypeError, ValueError):
            raise FileFormatError(f"expected {what}, got {value!r}", path=self.path,
                                  record=self._rec(key)) from None

    def integer(self, key: str, default: Any = ...) -> int:
        value = self.raw(key, default)
        out = self._convert(key, value, float, "an integer")
        if not (np.isfinite(out) and out == int(out) and abs(out) <= _MAX_INT):
            raise FileFormatError(f"expected an integer, got {value!r}", path=self.path, record=self._rec(key))
        return int(out)

    def number(self, key: str, default: Any = ...) -> float:
        out = self._convert(key, self.raw(key, default), float, "a number")
        if not np.isfinite(out):
            raise FileFormatError(f"non-finite value {out!r}", path=self.path, record=self._rec(key))
        return out

    def text(self, key: str, default: Any = ...) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str):
            raise FileFormatError(f"expected a string, got {value!r}", path=self.path, record=self._rec(key))
        return value

    def array(self, key: str, dtype, default: Any = ...) -> np.ndarray:
        value = self.raw(key, default)
        if not isinstance(value, (list, tuple)):
            value = [value]  # python-ace writes one-element lists as scalars in some versions
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError, OverflowError):
            raise FileFormatError(f"expected a (nested) list of numbers, got {str(value)[:80]}",
                                  path=self.path, record=self._rec(key)) from None
        if not np.all(np.isfinite(arr)):
            bad = arr[~np.isfinite(arr)].ravel()[0]
            raise FileFormatError(f"non-finite value {bad!r}", path=self.path, record=self._rec(key))
        if dtype is float:
            return arr
        # integers: never truncate 1.5 to 1 or wrap 1e30 around, as a plain conversion would
        if np.any(arr != np.round(arr)) or np.any(np.abs(arr) > _MAX_INT):
            raise FileFormatError(f"expected integers, got {str(value)[:80]}", path=self.path,
                                  record=self._rec(key))
        return arr.astype(dtype)


def _species_key(key, path, where: str, n: int) -> int:
    if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < n:
        raise FileFormatError(f"species index {key!r} is not in [0, {n})", path=path, record=where)
    return key


def _read_bond(sec: _Section) -> Bond:
    nradmax = sec.integer("nradmax")
    lmax = sec.integer("lmax")
    nradbasemax = sec.integer("nradbasemax")
    crad = sec.array("radcoefficients", float)
    shape = (nradmax, lmax + 1, nradbasemax)
    if crad.size == 0 and nradmax == 0:
        crad = np.zeros(shape)
    if crad.shape != shape:
        raise FileFormatError(f"shape {list(crad.shape)} != [nradmax, lmax+1, nradbasemax] = {list(shape)}",
                              path=sec.path, record=sec._rec("radcoefficients"))
    return Bond(
        nradmax=nradmax, lmax=lmax, nradbasemax=nradbasemax,
        radbasename=sec.text("radbasename"),
        radparameters=[float(x) for x in sec.array("radparameters", float).ravel()],
        radcoefficients=crad,
        prehc=sec.number("prehc"), lambdahc=sec.number("lambdahc"),
        rcut=sec.number("rcut"), dcut=sec.number("dcut"),
        rcut_in=sec.number("rcut_in", 0.0), dcut_in=sec.number("dcut_in", 0.0),
        inner_cutoff_type=sec.text("inner_cutoff_type", "density"),
    )


def _read_function(sec: _Section) -> CtildeFunction:
    rank = sec.integer("rank")
    ndensity = sec.integer("ndensity")
    num_ms = sec.integer("num_ms_combs")
    ms = sec.array("ms_combs", np.int64).ravel()
    ct = sec.array("ctildes", float).ravel()
    if ms.size != rank * num_ms:
        raise FileFormatError(f"has {ms.size} values, needs rank*num_ms_combs = {rank * num_ms}",
                              path=sec.path, record=sec._rec("ms_combs"))
    if ct.size != ndensity * num_ms:
        raise FileFormatError(f"has {ct.size} values, needs ndensity*num_ms_combs = {ndensity * num_ms}",
                              path=sec.path, record=sec._rec("ctildes"))
    lists = {}
    for key in ("mus", "ns", "ls"):
        arr = sec.array(key, np.int64).ravel()
        if arr.size != rank:
            raise FileFormatError(f"has {arr.size} values, needs rank = {rank}", path=sec.path, record=sec._rec(key))
        lists[key] = arr.tolist()
    return CtildeFunction(mu0=sec.integer("mu0"), rank=rank, ndensity=ndensity, num_ms_combs=num_ms,
                          mus=lists["mus"], ns=lists["ns"], ls=lists["ls"], ms_combs=ms, ctildes=ct)


def potential_from_dict(data: Dict[str, Any], path=None) -> CtildePotential:
    """Build and validate a :class:`CtildePotential` from the parsed YAML mapping of a ``.yace`` file."""
    top = _Section(data, path, "")
    elements = top.raw("elements")
    if not isinstance(elements, list) or not all(isinstance(e, str) for e in elements) or not elements:
        raise FileFormatError(f"expected a list of element symbols, got {elements!r}", path=path, record="elements")
    n = len(elements)
    E0 = top.array("E0", float).ravel().tolist() if "E0" in data else [0.0] * n
    emb_sec = top.raw("embeddings")
    if not isinstance(emb_sec, dict):
        raise FileFormatError("expected a mapping", path=path, record="embeddings")
    embeddings = {}
    for key, value in emb_sec.items():
        mu = _species_key(key, path, f"embeddings: {key!r}", n)
        sec = _Section(value, path, f"embeddings: {mu}")
        embeddings[mu] = Embedding(ndensity=sec.integer("ndensity"),
                                   FS_parameters=sec.array("FS_parameters", float).ravel().tolist(),
                                   npoti=sec.text("npoti"),
                                   rho_core_cutoff=sec.number("rho_core_cutoff"),
                                   drho_core_cutoff=sec.number("drho_core_cutoff"))
    bond_sec = top.raw("bonds")
    if not isinstance(bond_sec, dict):
        raise FileFormatError("expected a mapping", path=path, record="bonds")
    bonds = {}
    for key, value in bond_sec.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise FileFormatError(f"bond key must be [mu_i, mu_j], got {key!r}", path=path, record="bonds")
        pair = tuple(_species_key(k, path, f"bonds: {list(key)}", n) for k in key)
        bonds[pair] = _read_bond(_Section(value, path, f"bonds: {list(pair)}"))
    func_sec = top.raw("functions", {})
    if not isinstance(func_sec, dict):
        raise FileFormatError("expected a mapping", path=path, record="functions")
    functions: Dict[int, List[CtildeFunction]] = {}
    for key, value in func_sec.items():
        mu = _species_key(key, path, f"functions: {key!r}", n)
        if not isinstance(value, list):
            raise FileFormatError("expected a list of functions", path=path, record=f"functions: {mu}")
        functions[mu] = [_read_function(_Section(f, path, f"functions: {mu}: {i}")) for i, f in enumerate(value)]
    pot = CtildePotential(elements=list(elements), E0=E0, deltaSplineBins=top.number("deltaSplineBins"),
                          embeddings=embeddings, bonds=bonds, functions=functions)
    pot.validate(path)
    return pot


# The functions section holds almost all of a large file, one flow mapping of numbers per line as
# python-ace writes it.  Those lines are read with a regular expression (about 10x faster than YAML);
# a file laid out any other way goes through the YAML loader whole.
_FUNCTION_LINE = re.compile(r"^\s*-\s*\{(.*)\}\s*$")
_SPECIES_LINE = re.compile(r"^\s*(\d+)\s*:\s*$")
_ENTRY = re.compile(r"(\w+)\s*:\s*(\[[^\]]*\]|[^,\[\]]+?)\s*(?:,|$)")
_SPECIAL_FLOATS = {".nan": float("nan"), ".NaN": float("nan"), ".inf": float("inf"), "-.inf": float("-inf"),
                   ".Inf": float("inf"), "-.Inf": float("-inf")}


def _scalar(text: str):
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return _SPECIAL_FLOATS.get(text, text)


def _fast_functions(lines):
    """The ``functions`` mapping from python-ace's one-line-per-function layout, or None if it is not."""
    functions, current = {}, None
    for line in lines:
        if not line.strip():
            continue
        m = _SPECIES_LINE.match(line)
        if m:
            current = functions.setdefault(int(m.group(1)), [])
            continue
        m = _FUNCTION_LINE.match(line)
        if not m or current is None:
            return None
        entry = {}
        for key, value in _ENTRY.findall(m.group(1)):
            if value.startswith("["):
                inner = value[1:-1].strip()
                entry[key] = [_scalar(v) for v in inner.split(",")] if inner else []
            else:
                entry[key] = _scalar(value)
        current.append(entry)
    return functions


def read_yace(path) -> CtildePotential:
    """Read a python-ace ``.yace`` file into a validated :class:`CtildePotential`.

    Raises:
        FileFormatError: unreadable YAML, a missing key, a wrong array shape, an unknown radial
            basis or embedding, or a non-finite coefficient; the message names file and key.
    """
    path = os.fspath(path)
    try:
        with open(path, "r", encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise FileFormatError(f"cannot read: {exc.strerror}", path=path) from None
    except UnicodeDecodeError:
        raise FileFormatError("not a text file", path=path) from None
    problem = nesting_problem(text)
    if problem:
        raise FileFormatError(problem, path=path)
    lines = text.split("\n")
    head_end = next((k for k, line in enumerate(lines) if line.rstrip() == "functions:"), None)
    functions = _fast_functions(lines[head_end + 1:]) if head_end is not None else None
    try:
        if functions is None:
            data = yaml.load(text, Loader=_YaceLoader)
        else:
            data = yaml.load("\n".join(lines[:head_end]), Loader=_YaceLoader)
            if isinstance(data, dict):
                data["functions"] = functions
    except yaml.YAMLError as exc:
        raise FileFormatError(f"not valid YAML: {exc}", path=path) from None
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. NUL bytes, unhashable keys
        raise FileFormatError(f"not valid YAML: {exc}", path=path) from None
    return potential_from_dict(data, path)


# ---------------------------------------------------------------------------------------------- writer

def _num(x) -> str:
    x = float(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _flow(values, fmt) -> str:
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if isinstance(values, (list, tuple)):
        return "[" + ", ".join(_flow(v, fmt) for v in values) + "]"
    return fmt(values)


def _int(x) -> str:
    return str(int(x))


def format_yace(pot: CtildePotential) -> str:
    """The ``.yace`` text of ``pot`` (python-ace's layout, flow style per entry)."""
    lines = [f"elements: [{', '.join(pot.elements)}]",
             f"E0: {_flow(list(pot.E0), _num)}",
             f"deltaSplineBins: {_num(pot.deltaSplineBins)}",
             "embeddings:"]
    for mu in sorted(pot.embeddings):
        e = pot.embeddings[mu]
        lines.append(f"  {mu}: {{ndensity: {int(e.ndensity)}, FS_parameters: {_flow(list(e.FS_parameters), _num)}, "
                     f"npoti: {e.npoti}, rho_core_cutoff: {_num(e.rho_core_cutoff)}, "
                     f"drho_core_cutoff: {_num(e.drho_core_cutoff)}}}")
    lines.append("bonds:")
    for key in sorted(pot.bonds):
        b = pot.bonds[key]
        lines.append(
            f"  [{key[0]}, {key[1]}]: {{nradmax: {int(b.nradmax)}, lmax: {int(b.lmax)}, nradbasemax: {int(b.nradbasemax)}, "
            f"radbasename: {b.radbasename}, radparameters: {_flow(list(b.radparameters), _num)}, "
            f"radcoefficients: {_flow(np.asarray(b.radcoefficients), _num)}, prehc: {_num(b.prehc)}, "
            f"lambdahc: {_num(b.lambdahc)}, rcut: {_num(b.rcut)}, dcut: {_num(b.dcut)}, rcut_in: {_num(b.rcut_in)}, "
            f"dcut_in: {_num(b.dcut_in)}, inner_cutoff_type: {b.inner_cutoff_type}}}")
    lines.append("functions:")
    for mu in sorted(pot.functions):
        lines.append(f"  {mu}:")
        for f in pot.functions[mu]:
            lines.append(
                f"    - {{mu0: {int(f.mu0)}, rank: {int(f.rank)}, ndensity: {int(f.ndensity)}, "
                f"num_ms_combs: {int(f.num_ms_combs)}, mus: {_flow(f.mus, _int)}, ns: {_flow(f.ns, _int)}, "
                f"ls: {_flow(f.ls, _int)}, ms_combs: {_flow(np.asarray(f.ms_combs).ravel(), _int)}, "
                f"ctildes: {_flow(np.asarray(f.ctildes).ravel(), _num)}}}")
    return "\n".join(lines) + "\n"


def write_yace(pot: CtildePotential, path) -> None:
    """Validate ``pot`` and write it as a python-ace ``.yace`` file (atomically)."""
    pot.validate(os.fspath(path))
    write_text_atomically(path, format_yace(pot))


__all__ = ["read_yace", "write_yace", "format_yace", "potential_from_dict"]
