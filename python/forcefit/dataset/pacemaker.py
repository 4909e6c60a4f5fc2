"""pacemaker (python-ace) reference DataFrames: read and write.

Design: pacemaker keeps its training data as a pickled pandas DataFrame (usually gzip-compressed,
``*.pckl.gzip``), one row per structure. forcefit reads these columns:

==================== ===========================================================================
``ase_atoms``        required: the structure (``ase.Atoms``), possibly with a SinglePointCalculator
``energy``           total DFT energy, eV (optional; else the calculator's energy)
``energy_corrected`` energy minus the isolated-atom reference energies, eV: what pacemaker fits
``forces``           per-atom forces (N, 3), eV/Å (optional; else the calculator's forces)
``stress``           stress, eV/Å^3, ASE convention, 6 Voigt or 3x3 (optional)
``w_energy``         per-structure energy weight (optional)
``w_forces``         per-atom force weights, shape (N,) (optional)
``name``             structure name (optional), used as the identifier
==================== ===========================================================================

A ``Configuration`` keeps the total energy in ``energy``; ``energy_corrected`` (and any other
scalar or string column, e.g. ``energy_corrected_per_atom``) goes to ``metadata``. A fit that
follows pacemaker must use ``metadata["energy_corrected"]``. Weight columns become a ``Weight``
with ``energy_weight = w_energy`` and ``forces_weight`` = ``w_forces`` repeated per component.

Compression is recognised by the file's first bytes (gzip, bz2, xz), not by its name. Pickles can
run code when loaded, so forcefit unpickles with an allow-list of modules (numpy, pandas, ase and
a few builtins). That stops a pickle from calling ``os`` or ``subprocess`` directly, but it is not a
sandbox: load only files you trust. pacemaker's own ``DataFrameWithMetadata`` (module ``pyace``) is read as a plain
``pandas.DataFrame`` so that python-ace need not be installed.

``write_pacemaker`` writes ``name``, ``ase_atoms`` (with a SinglePointCalculator), ``energy``,
``energy_corrected`` (the metadata value, else the energy), ``forces``, ``stress`` (Voigt, when
every structure has one) and ``w_energy`` / ``w_forces`` when a weight is not uniform; gzip when the
file name ends in ``.gz`` or ``.gzip``; atomically.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import pickle
from pathlib import Path
from typing import Any, BinaryIO, Dict, List, Optional, Sequence

import numpy as np

from ..errors import DatasetError, FileFormatError, InputError
from ..atomic import atomic_output
from .configuration import Configuration, PathLike, voigt_from_tensor
from .weight import Weight

_MAGIC = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ\x00": lzma.open}
_ALLOWED_MODULES = ("numpy", "pandas", "ase", "collections", "datetime", "copyreg", "_codecs", "scipy")
_ALLOWED_BUILTINS = {"slice", "complex", "set", "frozenset", "bytearray", "range", "list", "dict", "tuple", "object", "bool", "int", "float", "str", "bytes", "getattr"}


def _pandas():
    import pandas

    return pandas


def _unpickler_base():
    try:  # pandas' own unpickler maps class paths of older pandas versions to current ones
        from pandas.compat.pickle_compat import Unpickler

        return Unpickler
    except ImportError:  # pragma: no cover - depends on the pandas version
        return pickle.Unpickler


def _restricted_unpickler(handle: BinaryIO, path: Path):
    base = _unpickler_base()

    class RestrictedUnpickler(base):
        def find_class(self, module: str, name: str):
            root = module.split(".")[0]
            if module.startswith("numpy.core") and hasattr(np, "_core"):
                # numpy 2 renamed numpy.core; pickles written with numpy 1 still name it
                module = "numpy._core" + module[len("numpy.core") :]
            if root == "pyace" and name == "DataFrameWithMetadata":
                return _pandas().DataFrame
            allowed = root in _ALLOWED_MODULES or (module, name) == ("functools", "partial")
            if allowed or (root == "builtins" and name in _ALLOWED_BUILTINS):
                return super().find_class(module, name)
            raise DatasetError(
                f"refusing to unpickle {module}.{name}: pacemaker files need only numpy, pandas and ase objects",
                path=path,
            )

    return RestrictedUnpickler(handle)


def _open_maybe_compressed(path: Path) -> BinaryIO:
    with open(path, "rb") as raw:
        head = raw.read(6)
    for magic, opener in _MAGIC.items():
        if head.startswith(magic):
            return opener(path, "rb")
    return open(path, "rb")


def is_pickle_file(path: PathLike) -> bool:
    """True when ``path`` starts like a (possibly compressed) pickle rather than text."""
    try:
        with _open_maybe_compressed(Path(path)) as handle:
            head = handle.read(2)
    except (OSError, EOFError, lzma.LZMAError):
        return False
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def read_dataframe(path: PathLike):
    """Load the (possibly compressed) pickled DataFrame in ``path`` with the restricted unpickler."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError("no such file", path=path)
    try:
        with _open_maybe_compressed(path) as handle:
            frame = _restricted_unpickler(handle, path).load()
    except DatasetError:
        raise
    except Exception as err:  # corrupt pickles fail in many ways (KeyError for an unknown opcode...)
        raise FileFormatError(f"not a readable pickled DataFrame ({type(err).__name__}: {err})", path=path) from None
    if not isinstance(frame, _pandas().DataFrame):
        raise DatasetError(f"holds a pickled {type(frame).__name__}, expected a pandas DataFrame", path=path)
    return frame


def _is_missing(value) -> bool:
    """True for None and for a scalar NaN/NA (how pandas fills a column absent from some rows)."""
    if value is None:
        return True
    if np.ndim(value) != 0:
        return False
    try:
        return bool(_pandas().isna(value))
    except (TypeError, ValueError):
        return False


def _column(row, columns, key):
    return None if key not in columns or _is_missing(row[key]) else row[key]


def read_pacemaker(path: PathLike, weight: Optional[Weight] = None) -> List[Configuration]:
    """Configurations of a pacemaker DataFrame file (see the module docstring for the columns).

    Args:
        path: pickled DataFrame, optionally gzip/bz2/xz compressed.
        weight: attached (a copy each) where the file has no ``w_energy``/``w_forces`` columns.

    Raises:
        DatasetError: a required column is missing (the message lists the columns present).
        FileFormatError: the file is not a pickled DataFrame, or a row cannot be converted
            (the message names the row and its ``name``).
    """
    path = Path(path)
    frame = read_dataframe(path)
    if "ase_atoms" not in frame.columns:
        raise DatasetError(
            f"has no 'ase_atoms' column; columns present: {', '.join(map(str, frame.columns))}", path=path
        )
    columns = set(frame.columns)
    skip = {"ase_atoms", "energy", "forces", "stress", "w_energy", "w_forces", "name"}
    configs = []
    for row_no, (index, row) in enumerate(frame.iterrows()):
        name = str(row["name"]) if "name" in columns else f"{path}:{index}"
        try:
            configs.append(_row_configuration(row, columns, skip, name, weight))
        except InputError as err:
            raise FileFormatError(
                getattr(err, "problem", str(err)), path=path, record=f"row {row_no} (name {name!r})"
            ) from None
        except (ValueError, TypeError, AttributeError) as err:
            raise FileFormatError(str(err), path=path, record=f"row {row_no} (name {name!r})") from None
        configs[-1]._path = path
    return configs


def _row_configuration(row, columns, skip, name: str, weight: Optional[Weight]) -> Configuration:
    atoms = row["ase_atoms"]
    if not hasattr(atoms, "get_chemical_symbols"):
        raise ValueError(f"ase_atoms holds a {type(atoms).__name__}, not an ase.Atoms")
    results = dict(getattr(atoms.calc, "results", {}) or {}) if atoms.calc is not None else {}
    energy = _column(row, columns, "energy")
    energy = results.get("energy") if energy is None else energy
    forces = _column(row, columns, "forces")
    forces = results.get("forces") if forces is None else forces
    stress = _column(row, columns, "stress")
    stress = results.get("stress") if stress is None else stress
    if stress is not None and np.size(stress) == 9:
        stress = voigt_from_tensor(stress)
    metadata: Dict[str, Any] = {}
    for key in columns - skip:
        value = row[key]
        if isinstance(value, (str, bool, int, float, np.integer, np.floating)) and not _is_missing(value):
            metadata[key] = value.item() if isinstance(value, np.generic) else value
    natoms = len(atoms)
    row_weight = weight.copy() if weight is not None else None
    if "w_energy" in columns or "w_forces" in columns:
        w_forces = 1.0 if "w_forces" not in columns else np.asarray(row["w_forces"], dtype=float).ravel()
        if np.ndim(w_forces) and w_forces.shape != (natoms,):
            raise ValueError(f"w_forces has {w_forces.size} values for {natoms} atoms")
        row_weight = Weight(
            energy_weight=1.0 if "w_energy" not in columns else float(row["w_energy"]),
            forces_weight=np.repeat(w_forces, 3) if np.ndim(w_forces) else w_forces,
        )
    return Configuration(
        np.array(atoms.cell),
        atoms.get_chemical_symbols(),
        atoms.get_positions(),
        atoms.get_pbc(),
        energy=energy,
        forces=None if forces is None else np.asarray(forces, dtype=float).reshape(-1, 3),
        stress=stress,
        weight=row_weight,
        identifier=name,
        metadata=metadata,
    )


def _per_atom_forces_weight(config: Configuration) -> np.ndarray:
    w = config.weight.config_weight * np.broadcast_to(config.weight.forces_weight, (3 * config.get_num_atoms(),))
    per_atom = w.reshape(-1, 3)
    if not np.all(per_atom == per_atom[:, :1]):
        raise DatasetError(
            "pacemaker stores one force weight per atom, but the weight differs between components",
            record=f"configuration {config.identifier!r}",
        )
    return per_atom[:, 0].copy()


def write_pacemaker(path: PathLike, configs: Sequence[Configuration]) -> None:
    """Write ``configs`` as a pacemaker DataFrame pickle (gzip when the name ends .gz/.gzip).

    Raises:
        DatasetError: a configuration lacks energy or forces (pacemaker needs both).
    """
    pd = _pandas()
    path = Path(path)
    rows = []
    for config in configs:
        if not (config.has_energy and config.has_forces):
            raise DatasetError(
                "pacemaker needs energy and forces for every structure",
                path=path,
                record=f"configuration {config.identifier!r}",
            )
        row = {
            "name": config.identifier,
            "ase_atoms": config.to_ase_atoms(),
            "energy": config.energy,
            "energy_corrected": float(config.metadata.get("energy_corrected", config.energy)),
            "forces": config.forces.copy(),
        }
        if config.has_stress:
            row["stress"] = config.stress.copy()
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else ["name", "ase_atoms", "energy", "energy_corrected", "forces"])
    if "stress" in frame.columns and frame["stress"].isna().any():
        frame = frame.drop(columns="stress")
    if any(not c.weight.is_uniform() for c in configs):
        frame["w_energy"] = [c.weight.config_weight * float(c.weight.energy_weight) for c in configs]
        frame["w_forces"] = [_per_atom_forces_weight(c) for c in configs]
    compression = "gzip" if path.name.endswith((".gz", ".gzip")) else None
    with atomic_output(path) as tmp:
        frame.to_pickle(tmp, compression=compression)


__all__ = ["read_pacemaker", "write_pacemaker", "read_dataframe", "is_pickle_file"]
