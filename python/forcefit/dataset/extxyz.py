"""Extended XYZ reading and writing, for both dialects in use.

Design: one reader for KLIFF's files (``Energy=``, a ``force`` column, ``PBC="1 1 1"``, optional
``Stress=`` as 6 Voigt numbers) and ASE's (``energy=``, ``forces``, ``pbc="T T T"``, ``stress=`` as
9 numbers or 6 Voigt, or ``virial=``), with any number of frames per file. The file is read in one
go; each frame is a count line, a comment line of ``key=value`` pairs (values may be quoted with
"..." or '...', or bracketed with {} or []; a bare key means True) and one line per atom whose
columns ``Properties=name:type:ncols:...`` describes. Only species, positions and forces are
taken from the columns; other columns are checked for their count but otherwise ignored. Atom
lines are split in Python and converted to floats by numpy per frame, which keeps a 60k-atom file
well under a second.

Keys are matched without regard to case (``Energy``/``energy``, ``PBC``/``pbc``). Comment keys other
than Lattice, pbc, energy, stress, virial and Properties go to ``Configuration.metadata``. Without
``Properties``, the columns are inferred from the first atom line as KLIFF does: 4 columns are
species and positions, 7 add forces.

Missing ``Lattice``: KLIFF requires it, ASE does not. forcefit accepts a frame without a Lattice
only when it is not periodic (``pbc`` absent or all false): such a frame is a cluster and gets an
all-zero cell. A frame that says it is periodic but has no Lattice is an error. A frame with a
Lattice and no pbc is periodic in all three directions (ASE's rule).

Every error is a ``FileFormatError`` naming the file, the frame (counted from 0, like
``ase.io.read(path, index)``) and the line (counted from 1, like an editor).

Writing: ``dialect="kliff"`` writes what KLIFF's reader expects (``Lattice``, ``PBC="1 1 1"``,
``Energy``, ``Stress`` as 6 Voigt numbers, a ``force`` column); ``dialect="ase"`` writes what
``ase.io.read`` turns into a SinglePointCalculator (``energy``, ``stress`` as 9 numbers,
``forces``, ``pbc="T T T"``) plus scalar and string metadata. Floats are written with Python's
shortest round-trip repr, so reading back gives identical numbers. Files are written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import FileFormatError
from ..atomic import write_text_atomically
from .configuration import Configuration, PathLike, tensor_from_voigt, voigt_from_tensor
from .weight import Weight

_FORCE_COLUMNS = ("forces", "force", "for")  # "for" is what KLIFF's own writer emits
_KNOWN_KEYS = ("lattice", "pbc", "energy", "stress", "virial", "properties")
_TRUE = {"t", "true", "1"}
_FALSE = {"f", "false", "0"}


class _FrameError(Exception):
    """A problem inside one frame; the reader adds file, frame and line before re-raising."""

    def __init__(self, problem: str, line_offset: int = 0):
        super().__init__(problem)
        self.problem = problem
        self.line_offset = line_offset


# -- the comment line ---------------------------------------------------------------------------


def parse_comment_line(line: str) -> Dict[str, str]:
    """Split an extended-XYZ comment line into ``{key: raw value string}``, in file order.

    Quoted values lose their quotes (backslash escapes resolved); bracketed values lose their
    brackets; a bare key gets the value ``"T"``. Raises ValueError on unterminated quotes or
    brackets and on duplicate keys.
    """
    pairs: Dict[str, str] = {}
    i, n = 0, len(line)
    while True:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            return pairs
        key, i = _read_token(line, i, stop_at_equals=True)
        while i < n and line[i] in " \t":
            i += 1
        if i < n and line[i] == "=":
            i += 1
            while i < n and line[i] in " \t":
                i += 1
            value, i = _read_token(line, i, stop_at_equals=False)
        else:
            value = "T"
        if key in pairs:
            raise ValueError(f"key {key!r} appears twice")
        pairs[key] = value


def _read_token(line: str, i: int, stop_at_equals: bool) -> Tuple[str, int]:
    n = len(line)
    if i < n and line[i] in "\"'":
        quote, out, i = line[i], [], i + 1
        while i < n and line[i] != quote:
            if line[i] == "\\" and i + 1 < n:
                i += 1
                out.append("\n" if line[i] == "n" else line[i])
            else:
                out.append(line[i])
            i += 1
        if i >= n:
            raise ValueError(f"unterminated {quote} quote")
        return "".join(out), i + 1
    if not stop_at_equals and i < n and line[i] in "{[":
        close = "}" if line[i] == "{" else "]"
        end = line.find(close, i)
        if end < 0:
            raise ValueError(f"unterminated {line[i]} bracket")
        return line[i + 1 : end].replace(",", " "), end + 1
    start = i
    while i < n and not line[i].isspace() and not (stop_at_equals and line[i] == "="):
        i += 1
    if i == start:
        raise ValueError("empty key or value" if stop_at_equals else "'=' without a value")
    return line[start:i], i


def _floats(key: str, raw: str, sizes: Sequence[int]) -> np.ndarray:
    try:
        values = np.array([float(t) for t in raw.split()])
    except ValueError:
        raise _FrameError(f"{key}={raw!r} is not a list of numbers") from None
    if values.size not in sizes:
        want = " or ".join(str(s) for s in sizes)
        raise _FrameError(f"{key} has {values.size} values, expected {want}")
    if not np.all(np.isfinite(values)):
        raise _FrameError(f"{key} contains a non-finite value: {raw!r}")
    return values


def _pbc(raw: str) -> np.ndarray:
    tokens = raw.lower().split()
    if len(tokens) != 3 or not all(t in _TRUE or t in _FALSE for t in tokens):
        raise _FrameError(f"pbc={raw!r} is not three flags (T/F, True/False or 1/0)")
    return np.array([t in _TRUE for t in tokens])


def _metadata_value(raw: str) -> Any:
    tokens = raw.split()
    try:
        if len(tokens) == 1:
            return int(tokens[0]) if tokens[0].lstrip("+-").isdigit() else float(tokens[0])
        if len(tokens) > 1:
            return np.array([float(t) for t in tokens])
    except ValueError:
        pass
    if raw in ("T", "True"):
        return True
    if raw in ("F", "False"):
        return False
    return raw


# -- the atom columns ---------------------------------------------------------------------------


class _Columns:
    """Where species, positions and (optionally) forces sit among an atom line's columns."""

    def __init__(self, ncols: int, species: int, pos: int, forces: Optional[int]):
        self.ncols, self.species, self.pos, self.forces = ncols, species, pos, forces

    @classmethod
    def from_properties(cls, spec: str) -> "_Columns":
        fields = spec.split(":")
        if len(fields) % 3:
            raise _FrameError(f"Properties={spec!r} is not a list of name:type:count triples")
        offsets: Dict[str, Tuple[int, str, int]] = {}
        ncols = 0
        for k in range(0, len(fields), 3):
            name, kind, count = fields[k], fields[k + 1].upper(), fields[k + 2]
            if kind not in ("S", "R", "I", "L") or not count.isdigit() or int(count) < 1:
                raise _FrameError(f"Properties entry {name}:{fields[k + 1]}:{count} is not name:S|R|I|L:count")
            offsets.setdefault(name.lower(), (ncols, kind, int(count)))
            ncols += int(count)
        for name, kind, count in (("species", "S", 1), ("pos", "R", 3)):
            if name not in offsets:
                raise _FrameError(f"Properties={spec!r} has no {name!r} column")
            if offsets[name][1:] != (kind, count):
                raise _FrameError(f"Properties column {name!r} must be {name}:{kind}:{count}")
        forces = next((offsets[n] for n in _FORCE_COLUMNS if n in offsets), None)
        if forces is not None and forces[1:] != ("R", 3):
            raise _FrameError("Properties force column must have type R and 3 columns")
        return cls(ncols, offsets["species"][0], offsets["pos"][0], None if forces is None else forces[0])

    @classmethod
    def inferred(cls, first_atom_line: str) -> "_Columns":
        ncols = len(first_atom_line.split())
        if ncols == 4:
            return cls(4, 0, 1, None)
        if ncols == 7:
            return cls(7, 0, 1, 4)
        raise _FrameError(
            f"without Properties=, atom lines need 4 columns (species x y z) or 7 (with fx fy fz); "
            f"the first has {ncols}",
            line_offset=2,
        )


def _parse_atoms(body: List[str], columns: _Columns):
    """(species, positions (N,3), forces (N,3) or None) of the atom lines of one frame."""
    rows = [line.split() for line in body]
    for k, row in enumerate(rows):
        if len(row) != columns.ncols:
            raise _FrameError(
                f"atom line has {len(row)} columns, expected {columns.ncols}"
                + (" (is the atom count on the frame's first line right?)" if len(row) <= 1 else ""),
                line_offset=2 + k,
            )
    table = np.array(rows, dtype=str).reshape(len(rows), columns.ncols)
    species = table[:, columns.species].tolist()
    positions = _float_block(table, columns.pos, "positions")
    forces = None if columns.forces is None else _float_block(table, columns.forces, "forces")
    return species, positions, forces


def _float_block(table: np.ndarray, first: int, name: str) -> np.ndarray:
    block = table[:, first : first + 3]
    try:
        values = block.astype(float)
    except ValueError:
        for k, row in enumerate(block):
            for text in row:
                try:
                    float(text)
                except ValueError:
                    raise _FrameError(f"{name} value {str(text)!r} is not a number", line_offset=2 + k) from None
        raise
    finite = np.isfinite(values)
    if not finite.all():
        k = int(np.argwhere(~finite)[0, 0])
        raise _FrameError(f"{name} of atom {k} are not finite: {' '.join(block[k])}", line_offset=2 + k)
    return values


# -- frames -------------------------------------------------------------------------------------


def _parse_frame(count_line: str, comment: str, body: List[str]) -> Dict[str, Any]:
    try:
        keys = parse_comment_line(comment)
    except ValueError as err:
        raise _FrameError(f"comment line: {err}", line_offset=1) from None
    known: Dict[str, str] = {}
    metadata: Dict[str, Any] = {}
    for key, raw in keys.items():
        low = key.lower()
        if low in _KNOWN_KEYS:
            if low in known:
                raise _FrameError(f"key {key!r} given twice (keys are matched without case)", line_offset=1)
            known[low] = raw
        else:
            metadata[key] = _metadata_value(raw)
    try:
        frame = _frame_values(known)
    except _FrameError as err:
        err.line_offset = 1
        raise
    if "properties" in known:
        try:
            columns = _Columns.from_properties(known["properties"])
        except _FrameError as err:
            err.line_offset = 1
            raise
    else:
        columns = _Columns.inferred(body[0]) if body else _Columns(4, 0, 1, None)
    frame["species"], frame["coords"], frame["forces"] = _parse_atoms(body, columns)
    frame["metadata"] = metadata
    if "virial" in known and frame["stress"] is None:
        volume = abs(np.linalg.det(frame["cell"]))
        if volume <= 0:
            raise _FrameError("virial given for a frame without a cell volume", line_offset=1)
        frame["stress"] = -voigt_from_tensor(_floats("virial", known["virial"], (9,))) / volume
    return frame


def _frame_values(known: Dict[str, str]) -> Dict[str, Any]:
    pbc = _pbc(known["pbc"]) if "pbc" in known else None
    if "lattice" in known:
        cell = _floats("Lattice", known["lattice"], (9,)).reshape(3, 3)
        pbc = np.ones(3, dtype=bool) if pbc is None else pbc
        if np.any(pbc) and abs(np.linalg.det(cell)) < 1e-12:
            raise _FrameError("Lattice is singular (zero volume) but the frame is periodic")
    else:
        if pbc is not None and np.any(pbc):
            raise _FrameError(f"pbc={known['pbc']!r} is periodic but Lattice= is missing")
        cell, pbc = np.zeros((3, 3)), np.zeros(3, dtype=bool)
    energy = None
    if "energy" in known:
        energy = float(_floats("energy", known["energy"], (1,))[0])
    stress = None
    if "stress" in known:
        values = _floats("stress", known["stress"], (6, 9))
        stress = voigt_from_tensor(values) if values.size == 9 else values
    return {"cell": cell, "pbc": pbc, "energy": energy, "stress": stress}


def read_extxyz(path: PathLike, weight: Optional[Weight] = None) -> List[Configuration]:
    """Read every frame of an extended XYZ file.

    Args:
        path: the file.
        weight: attached (as a fresh copy) to each configuration; default ``Weight()``.

    Returns:
        One ``Configuration`` per frame; identifier ``str(path)`` for a single-frame file (as in
        KLIFF) and ``"path:frame"`` (frame counted from 0) otherwise; ``path`` set to the file.

    Raises:
        FileFormatError: naming the file, frame and line of the first problem.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except UnicodeDecodeError as err:
        raise FileFormatError(f"not a text file ({err.reason} at byte {err.start})", path=path) from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    frames: List[Dict[str, Any]] = []
    start = 0
    while start < len(lines):
        frame_no = len(frames)
        tokens = lines[start].split()
        if not tokens or not tokens[0].isdigit():
            raise FileFormatError(
                f"expected the number of atoms, found {lines[start].strip()!r}",
                path=path,
                record=f"frame {frame_no}, line {start + 1}",
            )
        natoms = int(tokens[0])
        end = start + 2 + natoms
        if end > len(lines):
            have = max(len(lines) - start - 2, 0)
            raise FileFormatError(
                f"file ends after {have} atom lines; the frame declares {natoms} atoms",
                path=path,
                record=f"frame {frame_no}, line {len(lines)}",
            )
        try:
            frames.append(_parse_frame(lines[start], lines[start + 1], lines[start + 2 : end]))
        except _FrameError as err:
            raise FileFormatError(
                err.problem, path=path, record=f"frame {frame_no}, line {start + 1 + err.line_offset}"
            ) from None
        frames[-1]["first_line"] = start + 1
        start = end
    if not frames:
        raise FileFormatError("contains no frames", path=path)
    return [_configuration(path, k, f, len(frames), weight) for k, f in enumerate(frames)]


def _configuration(path: Path, k: int, frame: Dict[str, Any], nframes: int, weight: Optional[Weight]) -> Configuration:
    identifier = str(path) if nframes == 1 else f"{path}:{k}"
    try:
        config = Configuration(
            frame["cell"],
            frame["species"],
            frame["coords"],
            frame["pbc"],
            energy=frame["energy"],
            forces=frame["forces"],
            stress=frame["stress"],
            weight=None if weight is None else weight.copy(),
            identifier=identifier,
            metadata=frame["metadata"],
        )
    except FileFormatError:
        raise
    except Exception as err:  # validation in Configuration: re-raise naming the file and frame
        problem = getattr(err, "problem", str(err))
        raise FileFormatError(problem, path=path, record=f"frame {k}, line {frame['first_line']}") from None
    config._path = path
    return config


# -- writing ------------------------------------------------------------------------------------


def _join(values) -> str:
    return " ".join(repr(float(v)) for v in np.ravel(values))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _comment_line(config: Configuration, dialect: str) -> str:
    has_cell = bool(np.any(config.cell)) or bool(np.any(config.PBC))
    if dialect == "kliff":
        parts = [f'Lattice="{_join(config.cell)}"', 'PBC="{}"'.format(" ".join(str(int(b)) for b in config.PBC))]
        if config.has_energy:
            parts.append(f"Energy={config.energy!r}")
        if config.has_stress:
            parts.append(f'Stress="{_join(config.stress)}"')
        parts.append("Properties=species:S:1:pos:R:3" + (":force:R:3" if config.has_forces else ""))
        return " ".join(parts)
    parts = [f'Lattice="{_join(config.cell)}"'] if has_cell else []
    parts.append("Properties=species:S:1:pos:R:3" + (":forces:R:3" if config.has_forces else ""))
    if config.has_energy:
        parts.append(f"energy={config.energy!r}")
    if config.has_stress:
        parts.append(f'stress="{_join(tensor_from_voigt(config.stress))}"')
    for key, value in config.metadata.items():
        if key.lower() in _KNOWN_KEYS or not key or any(c.isspace() or c in "=\"'" for c in key):
            continue
        if isinstance(value, (bool, np.bool_)):
            parts.append(f"{key}={'T' if value else 'F'}")
        elif isinstance(value, (int, np.integer)):
            parts.append(f"{key}={int(value)}")
        elif isinstance(value, (float, np.floating)):
            parts.append(f"{key}={float(value)!r}")
        elif isinstance(value, str):
            parts.append(f"{key}={_quote(value)}")
    parts.append('pbc="{}"'.format(" ".join("T" if b else "F" for b in config.PBC)))
    return " ".join(parts)


def format_extxyz(configs: Sequence[Configuration], dialect: str = "kliff") -> str:
    """The extended XYZ text of ``configs`` (see the module docstring for the dialects)."""
    if dialect not in ("kliff", "ase"):
        raise ValueError(f"dialect must be 'kliff' or 'ase', got {dialect!r}")
    out: List[str] = []
    for config in configs:
        out.append(str(config.get_num_atoms()))
        out.append(_comment_line(config, dialect))
        data = config.coords if not config.has_forces else np.hstack([config.coords, config.forces])
        for symbol, row in zip(config.species, data.tolist()):
            out.append(f"{symbol:2s} " + " ".join(map(repr, row)))
    return "\n".join(out) + "\n"


def write_extxyz(path: PathLike, configs: Sequence[Configuration], dialect: str = "kliff") -> None:
    """Write ``configs`` as one (multi-frame) extended XYZ file, atomically.

    Args:
        path: the file to write.
        configs: the configurations, one frame each.
        dialect: "kliff" (``Energy``, ``Stress`` Voigt, ``PBC="1 1 1"``, ``force`` column) or
            "ase" (``energy``, ``stress`` 3x3, ``pbc="T T T"``, ``forces`` column, metadata).
    """
    write_text_atomically(path, format_extxyz(configs, dialect))


__all__ = ["read_extxyz", "write_extxyz", "format_extxyz", "parse_comment_line"]
