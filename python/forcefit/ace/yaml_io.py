"""Read and write python-ace/pacemaker B-basis potential files (``.yaml``).

Design
------
Reading parses the YAML with PyYAML's *base* loader, which keeps every scalar as the text in the
file; this module then converts each value itself (ints, floats, bools) so that

* a value is never silently re-typed (``metadata`` strings such as ``yes`` or ``1.50`` stay
  strings, as in python-ace, which stores metadata as ``map<string, string>``);
* floats written the way python-ace's yaml-cpp emitter writes them (``1e+20``, ``.inf``) parse;
* every problem raises :class:`forcefit.errors.FileFormatError` naming the file, the place
  (``species[2] ('Al Ni'): radcoefficients``) and the offending value.

The result is a :class:`.bbasis.BBasisPotential` holding exactly what the file says (absent
optional keys stay ``None``; unknown keys are kept in ``SpeciesBlock.extra``), then checked with
:func:`.bbasis.resolve` so that a file python-ace would reject is rejected here too.

Writing produces python-ace's layout (``BBasisConfiguration.save``): ``metadata``, ``auxdata``,
``global``, ``species`` with the block keys in python-ace's order and flow-style lists and
``nbody`` entries.  Floats are written with 17 significant digits (``%.17g``, as yaml-cpp does),
which round-trips every double exactly; read -> write -> read gives identical data.  The file is
written atomically (temporary file in the same folder, then ``os.replace``).

Older files store ``radcoefficients`` flat; python-ace reshapes them with ``k`` (radial base
index) slowest, then ``n``, then ``l`` fastest, i.e. ``flat[k * nradmax * (lmax+1) + n * (lmax+1)
+ l] -> [n][l][k]``; so does :func:`read_bbasis_yaml`.  They are written back three-dimensional.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import yaml

from ..errors import FileFormatError
from ..yaml_depth import nesting_problem
from .bbasis import (AuxData, BBasisBond, BBasisEmbedding, BBasisFunction, BBasisPotential,
                     SpeciesBlock, resolve)
from ..atomic import write_text_atomically

_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

_EMBEDDING_KEYS = ("ndensityi", "npoti", "parameters", "rho_core_cut", "drho_core_cut")
_RADIAL_KEYS = ("nradmaxi", "lmaxi", "nradbaseij", "radbase", "radparameters", "radcoefficients",
                "rcutij", "dcutij", "NameOfCutoffFunctionij")
_CORE_KEYS = ("core-repulsion", "r_in", "delta_in", "inner_cutoff_type")
_FUNC_KEYS = ("type", "nr", "nl", "lint", "c", "skip")
_AUX_SECTIONS = ("_int", "_int_arr", "_double", "_double_arr", "_string", "_string_arr")
_TRUE = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"}
_FALSE = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"}
_INT_RE = re.compile(r"^[-+]?[0-9]+$")


class _Reader:
    """Typed access to the base-loader tree; every failure names the file and the place."""

    def __init__(self, path):
        self.path = None if path is None else os.fspath(path)

    def fail(self, where: str, problem: str):
        raise FileFormatError(problem, path=self.path, record=where)

    def mapping(self, node, where: str) -> Dict[str, Any]:
        if not isinstance(node, dict):
            self.fail(where, f"expected a mapping, got {_show(node)}")
        return node

    def sequence(self, node, where: str, allow_empty_scalar: bool = False) -> list:
        if allow_empty_scalar and (node is None or node == ""):
            return []
        if not isinstance(node, list):
            self.fail(where, f"expected a list, got {_show(node)}")
        return node

    def string(self, node, where: str) -> str:
        if not isinstance(node, str):
            self.fail(where, f"expected a string, got {_show(node)}")
        return node

    def floating(self, node, where: str) -> float:
        text = self.string(node, where).strip()
        lowered = text.lower()
        if lowered in (".inf", "+.inf"):
            return math.inf
        if lowered == "-.inf":
            return -math.inf
        if lowered == ".nan":
            return math.nan
        try:
            if "_" in text:
                raise ValueError
            return float(text)
        except ValueError:
            self.fail(where, f"expected a number, got {text!r}")

    def finite(self, node, where: str) -> float:
        value = self.floating(node, where)
        if not math.isfinite(value):
            self.fail(where, f"expected a finite number, got {node!r}")
        return value

    def integer(self, node, where: str, minimum: Optional[int] = None) -> int:
        text = self.string(node, where).strip()
        if _INT_RE.match(text):
            value = int(text)
        else:
            value = self.floating(node, where)
            if not (math.isfinite(value) and value == int(value)):
                self.fail(where, f"expected an integer, got {text!r}")
            value = int(value)
        if minimum is not None and value < minimum:
            self.fail(where, f"must be >= {minimum}, got {text!r}")
        if abs(value) > 2 ** 31:
            self.fail(where, f"integer out of range: {text!r}")
        return value

    def boolean(self, node, where: str) -> bool:
        text = self.string(node, where).strip()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        self.fail(where, f"expected true or false, got {text!r}")

    def float_list(self, node, where: str, finite: bool = True) -> List[float]:
        conv = self.finite if finite else self.floating
        return [conv(v, f"{where}[{i}]") for i, v in enumerate(self.sequence(node, where))]

    def int_list(self, node, where: str, minimum: Optional[int] = None) -> List[int]:
        return [self.integer(v, f"{where}[{i}]", minimum) for i, v in enumerate(self.sequence(node, where))]


def _show(node) -> str:
    text = repr(node)
    return text if len(text) <= 80 else text[:77] + "..."


def parse_bbasis_yaml(text: str, path=None, validate: bool = True) -> BBasisPotential:
    """Parse the text of a B-basis ``.yaml`` file; ``path`` is used in error messages only.

    With ``validate`` (default) the potential is also checked with :func:`.bbasis.resolve`.
    Raises :class:`FileFormatError` on any problem.
    """
    try:
        return _parse_bbasis_yaml(text, path, validate)
    except RecursionError:
        raise FileFormatError("nesting too deep or self-referencing YAML aliases", path=path) from None


def _parse_bbasis_yaml(text: str, path, validate: bool) -> BBasisPotential:
    rd = _Reader(path)
    problem = nesting_problem(text)
    if problem:
        rd.fail("", problem)
    try:
        tree = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        rd.fail("", f"not valid YAML: {' '.join(str(exc).split())}")
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. NUL bytes, deep nesting
        rd.fail("", f"not valid YAML: {exc}")
    top = rd.mapping(tree, "top level")
    if "global" not in top:
        rd.fail("global", "missing section 'global' (with DeltaSplineBins)")
    glob = rd.mapping(top["global"], "global")
    if "DeltaSplineBins" not in glob:
        rd.fail("global", "missing key 'DeltaSplineBins'")
    delta = rd.finite(glob["DeltaSplineBins"], "global: DeltaSplineBins")
    if not delta > 0:
        rd.fail("global: DeltaSplineBins", f"must be > 0, got {glob['DeltaSplineBins']!r}")
    metadata = {}
    if "metadata" in top and top["metadata"] not in (None, ""):
        for key, value in rd.mapping(top["metadata"], "metadata").items():
            metadata[rd.string(key, "metadata")] = rd.string(value, f"metadata: {key}")
    auxdata = None
    if "auxdata" in top and top["auxdata"] not in (None, ""):
        auxdata = _parse_auxdata(rd, top["auxdata"])
    if "species" not in top:
        rd.fail("species", "missing section 'species'")
    blocks = [_parse_block(rd, node, i) for i, node in enumerate(rd.sequence(top["species"], "species"))]
    pot = BBasisPotential(blocks=blocks, delta_spline_bins=delta, metadata=metadata, auxdata=auxdata)
    if validate:
        resolve(pot, path=path)
    return pot


def _parse_auxdata(rd: _Reader, node) -> AuxData:
    aux = AuxData()
    section = rd.mapping(node, "auxdata")
    convert = {
        "_int": ("int_data", lambda v, w: rd.integer(v, w)),
        "_double": ("double_data", lambda v, w: rd.floating(v, w)),
        "_string": ("string_data", lambda v, w: rd.string(v, w)),
        "_int_arr": ("int_arr_data", lambda v, w: rd.int_list(v, w)),
        "_double_arr": ("double_arr_data", lambda v, w: rd.float_list(v, w, finite=False)),
        "_string_arr": ("string_arr_data",
                        lambda v, w: [rd.string(x, f"{w}[{i}]") for i, x in enumerate(rd.sequence(v, w))]),
    }
    for name, content in section.items():
        where = f"auxdata: {name}"
        if name not in convert:
            rd.fail(where, f"unknown auxdata section {name!r} (known: {', '.join(_AUX_SECTIONS)})")
        if content in (None, ""):
            continue
        attr, conv = convert[name]
        target = getattr(aux, attr)
        for key, value in rd.mapping(content, where).items():
            target[rd.string(key, where)] = conv(value, f"{where}: {key}")
    return aux


def _parse_block(rd: _Reader, node, i: int) -> SpeciesBlock:
    block = rd.mapping(node, f"species[{i}]")
    if "speciesblock" not in block:
        rd.fail(f"species[{i}]", "missing key 'speciesblock'")
    name = rd.string(block["speciesblock"], f"species[{i}]: speciesblock")
    if not name.split():
        rd.fail(f"species[{i}]: speciesblock", f"empty species list {name!r}")
    where = f"species[{i}] ({name!r})"
    species = list(dict.fromkeys(name.split()))
    out = SpeciesBlock(name=name)
    known = {"speciesblock", "nbody"} | set(_RADIAL_KEYS) | set(_CORE_KEYS)
    if len(species) == 1:
        known |= set(_EMBEDDING_KEYS)
        missing = [k for k in ("ndensityi", "npoti", "parameters") if k not in block]
        if missing:
            rd.fail(where, f"single-species block misses key {missing[0]!r}")
        ndens = rd.integer(block["ndensityi"], f"{where}: ndensityi", minimum=1)
        params = rd.float_list(block["parameters"], f"{where}: parameters")
        if len(params) != 2 * ndens:
            rd.fail(f"{where}: parameters",
                    f"needs 2*ndensityi = {2 * ndens} values, got {block['parameters']!r}")
        out.embedding = BBasisEmbedding(
            ndensity=ndens, npoti=rd.string(block["npoti"], f"{where}: npoti"), parameters=params,
            rho_core_cut=(rd.finite(block["rho_core_cut"], f"{where}: rho_core_cut")
                          if "rho_core_cut" in block else None),
            drho_core_cut=(rd.finite(block["drho_core_cut"], f"{where}: drho_core_cut")
                           if "drho_core_cut" in block else None))
    if len(species) > 2:
        # python-ace ignores radial and core-repulsion keys here: keep them verbatim
        known = {"speciesblock", "nbody"}
    else:
        out.bond = _parse_radial(rd, block, where)
    if len(species) <= 2 and "core-repulsion" in block:
        core = rd.float_list(block["core-repulsion"], f"{where}: core-repulsion")
        if len(core) != 2:
            rd.fail(f"{where}: core-repulsion", f"needs [prefactor, lambda], got {block['core-repulsion']!r}")
        out.core_repulsion = tuple(core)
    if len(species) <= 2 and "r_in" in block:
        out.r_in = rd.finite(block["r_in"], f"{where}: r_in")
    if len(species) <= 2 and "delta_in" in block:
        out.delta_in = rd.finite(block["delta_in"], f"{where}: delta_in")
    if len(species) <= 2 and "inner_cutoff_type" in block:
        out.inner_cutoff_type = rd.string(block["inner_cutoff_type"], f"{where}: inner_cutoff_type")
    nbody = rd.sequence(block.get("nbody"), f"{where}: nbody", allow_empty_scalar=True)
    out.functions = [_parse_function(rd, f, f"{where}: nbody[{j}]") for j, f in enumerate(nbody)]
    for key, value in block.items():
        if key not in known:
            out.extra[rd.string(key, where)] = value
    return out


def _parse_radial(rd: _Reader, block: dict, where: str) -> Optional[BBasisBond]:
    if "lmaxi" not in block:
        partial = [k for k in ("nradmaxi", "nradbaseij", "radbase", "radparameters", "radcoefficients")
                   if k in block]
        if partial:
            rd.fail(f"{where}: {partial[0]}", "radial basis is partially defined (no 'lmaxi')")
        return None
    missing = [k for k in _RADIAL_KEYS[:-1] if k not in block]
    if missing:
        rd.fail(where, f"radial basis misses key {missing[0]!r}")
    lmax = rd.integer(block["lmaxi"], f"{where}: lmaxi", minimum=0)
    nradmax = rd.integer(block["nradmaxi"], f"{where}: nradmaxi", minimum=0)
    nradbase = rd.integer(block["nradbaseij"], f"{where}: nradbaseij", minimum=0)
    if lmax > 100 or nradmax > 1000 or nradbase > 1000:
        rd.fail(where, f"implausible radial basis size (lmaxi {lmax}, nradmaxi {nradmax}, "
                f"nradbaseij {nradbase})")
    crad = _parse_radcoefficients(rd, block["radcoefficients"], f"{where}: radcoefficients",
                                  nradmax, lmax, nradbase)
    rcut = rd.finite(block["rcutij"], f"{where}: rcutij")
    if not rcut > 0:
        rd.fail(f"{where}: rcutij", f"must be > 0, got {block['rcutij']!r}")
    return BBasisBond(
        nradmax=nradmax, lmax=lmax, nradbase=nradbase,
        radbase=rd.string(block["radbase"], f"{where}: radbase"),
        radparameters=rd.float_list(block["radparameters"], f"{where}: radparameters"),
        radcoefficients=crad, rcut=rcut, dcut=rd.finite(block["dcutij"], f"{where}: dcutij"),
        cutoff_function=(rd.string(block["NameOfCutoffFunctionij"], f"{where}: NameOfCutoffFunctionij")
                         if "NameOfCutoffFunctionij" in block else None))


def _parse_radcoefficients(rd: _Reader, node, where: str, nradmax: int, lmax: int,
                           nradbase: int) -> np.ndarray:
    shape = (nradmax, lmax + 1, nradbase)
    items = rd.sequence(node, where, allow_empty_scalar=True)
    if any(isinstance(x, list) for x in items):
        if len(items) != nradmax:
            rd.fail(where, f"needs shape [nradmaxi, lmaxi+1, nradbaseij] = {list(shape)}, "
                    f"got {len(items)} rows")
        out = np.zeros(shape)
        for n, row in enumerate(items):
            row = rd.sequence(row, f"{where}[{n}]")
            if len(row) != lmax + 1:
                rd.fail(f"{where}[{n}]", f"needs lmaxi+1 = {lmax + 1} entries, got {len(row)}")
            for l, vals in enumerate(row):
                vals = rd.float_list(vals, f"{where}[{n}][{l}]")
                if len(vals) != nradbase:
                    rd.fail(f"{where}[{n}][{l}]", f"needs nradbaseij = {nradbase} values, got {len(vals)}")
                out[n, l, :] = vals
        return out
    flat = rd.float_list(items, where)
    if len(flat) != int(np.prod(shape)):
        rd.fail(where, f"flat list needs nradmaxi*(lmaxi+1)*nradbaseij = {int(np.prod(shape))} "
                f"values, got {len(flat)}")
    # python-ace's legacy order: k slowest, then n, then l fastest
    return np.asarray(flat, dtype=float).reshape(nradbase, nradmax, lmax + 1).transpose(1, 2, 0).copy()


def _parse_function(rd: _Reader, node, where: str) -> BBasisFunction:
    spec = rd.mapping(node, where)
    for key in spec:
        if key not in _FUNC_KEYS:
            rd.fail(f"{where}: {key}", f"unknown key (known: {', '.join(_FUNC_KEYS)})")
    for key in ("type", "nr", "nl", "c"):
        if key not in spec:
            rd.fail(where, f"missing key {key!r}")
    elements = rd.string(spec["type"], f"{where}: type").split()
    if len(elements) < 2:
        rd.fail(f"{where}: type", f"needs a central and at least one neighbour species, got {spec['type']!r}")
    coeffs = spec["c"]
    if isinstance(coeffs, list):
        coeffs = rd.float_list(coeffs, f"{where}: c")
    else:
        coeffs = [rd.finite(coeffs, f"{where}: c")]
    rank = len(elements) - 1
    lint = rd.int_list(spec["lint"], f"{where}: lint", minimum=0) if "lint" in spec else []
    if rank > 2 and "lint" not in spec:
        rd.fail(where, f"rank-{rank} function needs 'lint' ({rank - 2} values)")
    return BBasisFunction(
        elements=tuple(elements), ns=rd.int_list(spec["nr"], f"{where}: nr", minimum=1),
        ls=rd.int_list(spec["nl"], f"{where}: nl", minimum=0), lint=lint, coeffs=coeffs,
        skip=rd.boolean(spec["skip"], f"{where}: skip") if "skip" in spec else False)


def read_bbasis_yaml(path, validate: bool = True) -> BBasisPotential:
    """Read a B-basis potential ``.yaml`` file (python-ace/pacemaker format).

    Raises :class:`FileFormatError` (file, place and value in the message) on any problem, and
    :class:`FileNotFoundError` when the file does not exist.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise FileFormatError("is a directory, not a potential file", path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=path) from None
    return parse_bbasis_yaml(text, path=path, validate=validate)


# --------------------------------------------------------------------------------------------
# writing

def format_float(value: float) -> str:
    """A double as yaml-cpp writes it: 17 significant digits, ``.inf``/``.nan`` for specials."""
    value = float(value)
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return "%.17g" % value


_PLAIN_RE = re.compile(r"^[A-Za-z0-9_.+/()=\-][A-Za-z0-9_.+/()=\- :]*$")


def format_string(text: str) -> str:
    """A scalar string: plain when unambiguous for YAML, double-quoted otherwise."""
    if (text and _PLAIN_RE.match(text) and not text.endswith(" ") and ": " not in text
            and not text.startswith(("- ", "-", "?")) and text not in ("~", "null", "Null", "NULL")):
        return text
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\t", "\\t").replace("\r", "\\r"))
    escaped = "".join(c if c.isprintable() or c in "\\" else f"\\x{ord(c):02x}" if ord(c) < 256
                      else f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"
                      for c in escaped)
    return f'"{escaped}"'


def _flow(value) -> str:
    """Flow-style YAML for nested lists of numbers/strings (python-ace's ``[a, b]`` style)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{format_string(str(k))}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return format_float(value)
    if value is None:
        return '""'
    return format_string(str(value))


def _extra(value) -> str:
    """Verbatim text of an unknown key's base-loader value (all scalars are strings)."""
    if isinstance(value, list):
        return "[" + ", ".join(_extra(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{format_string(str(k))}: {_extra(v)}" for k, v in value.items()) + "}"
    return format_string(str(value)) if value not in (None, "") else '""'


def format_bbasis_yaml(pot: BBasisPotential) -> str:
    """The text of a B-basis ``.yaml`` file in python-ace's layout (see module docstring)."""
    lines: List[str] = []
    if pot.metadata:
        lines.append("metadata:")
        lines += [f"  {format_string(str(k))}: {format_string(str(v))}" for k, v in pot.metadata.items()]
    if pot.auxdata is not None and not pot.auxdata.is_empty():
        aux = pot.auxdata
        lines.append("auxdata:")
        for name, data, is_arr in (("_int", aux.int_data, False), ("_int_arr", aux.int_arr_data, True),
                                   ("_double", aux.double_data, False),
                                   ("_double_arr", aux.double_arr_data, True),
                                   ("_string", aux.string_data, False),
                                   ("_string_arr", aux.string_arr_data, True)):
            if is_arr:
                if data:
                    lines.append(f"  {name}:")
                    lines += [f"    {format_string(str(k))}: {_flow(list(v))}" for k, v in data.items()]
            else:
                lines.append(f"  {name}: {_flow(dict(data))}")
    lines.append("global:")
    lines.append(f"  DeltaSplineBins: {format_float(pot.delta_spline_bins)}")
    lines.append("species:")
    for block in pot.blocks:
        lines += _format_block(block)
    return "\n".join(lines) + "\n"


def _format_block(block: SpeciesBlock) -> List[str]:
    out = [f"  - speciesblock: {format_string(block.name)}"]

    def put(key, text):
        out.append(f"    {key}: {text}")

    emb = block.embedding
    if emb is not None:
        put("ndensityi", str(emb.ndensity))
        put("npoti", format_string(emb.npoti))
        put("parameters", _flow(list(emb.parameters)))
        if emb.rho_core_cut is not None:
            put("rho_core_cut", format_float(emb.rho_core_cut))
        if emb.drho_core_cut is not None:
            put("drho_core_cut", format_float(emb.drho_core_cut))
    bond = block.bond
    if bond is not None:
        put("nradmaxi", str(bond.nradmax))
        put("lmaxi", str(bond.lmax))
        put("rcutij", format_float(bond.rcut))
        put("dcutij", format_float(bond.dcut))
        if bond.cutoff_function is not None:
            put("NameOfCutoffFunctionij", _flow(bond.cutoff_function) if bond.cutoff_function
                else '""')
    if block.r_in is not None:
        put("r_in", format_float(block.r_in))
    if block.delta_in is not None:
        put("delta_in", format_float(block.delta_in))
    if block.inner_cutoff_type is not None:
        put("inner_cutoff_type", format_string(block.inner_cutoff_type) if block.inner_cutoff_type
            else '""')
    if bond is not None:
        put("nradbaseij", str(bond.nradbase))
        put("radbase", format_string(bond.radbase))
        put("radparameters", _flow(list(bond.radparameters)))
        put("radcoefficients", _flow(bond.radcoefficients.tolist() if bond.radcoefficients.size else []))
    if block.core_repulsion is not None:
        put("core-repulsion", _flow(list(block.core_repulsion)))
    for key, value in block.extra.items():
        put(format_string(key), _extra(value))
    if block.functions:
        out.append("    nbody:")
        for func in block.functions:
            text = (f"{{type: {format_string(func.type)}, nr: {_flow(list(func.ns))}, "
                    f"nl: {_flow(list(func.ls))}")
            if func.lint:
                text += f", lint: {_flow(list(func.lint))}"
            text += f", c: {_flow(list(func.coeffs))}"
            if func.skip:
                text += ", skip: true"
            out.append(f"      - {text}}}")
    else:
        out += ["    nbody:", "      []"]  # yaml-cpp's layout of an empty sequence
    return out


def write_bbasis_yaml(pot: BBasisPotential, path) -> None:
    """Write ``pot`` to ``path`` atomically in python-ace's ``.yaml`` layout."""
    write_text_atomically(path, format_bbasis_yaml(pot))


__all__ = ["format_bbasis_yaml", "format_float", "parse_bbasis_yaml", "read_bbasis_yaml",
           "write_bbasis_yaml"]
