"""Training and test data for a pacemaker fit: read, correct energies, split, weight, cache.

Design: the prepared data are two pandas DataFrames (train and test) with python-ace's columns,
so the prediction files and the weighting policies see what they see in python-ace:

========================= =====================================================================
``name``                  structure name (``<file>:<row>`` when the file has none)
``ase_atoms``             the structure (``ase.Atoms``)
``energy``                total DFT energy, eV (when the data have it)
``energy_corrected``      the energy pacemaker fits, eV (see ``reference_energy.py``)
``energy_corrected_per_atom`` eV/atom
``forces``                (N, 3) eV/Å
``NUMBER_OF_ATOMS``, ``pbc`` atom count; True when periodic along all three cell vectors
``w_energy``, ``w_forces`` weights (one per structure, one per atom); each set sums to 1
``e_chull_dist_per_atom`` energy above the convex hull, eV/atom (energy-based weighting only)
========================= =====================================================================

Steps, in python-ace's order (``pyace.preparedata.ACEDataset``): read and concatenate the files
(through ``forcefit.dataset.pacemaker.read_dataframe``, the restricted unpickler); check the
columns; compute ``energy_corrected`` when ``reference_energy`` is given (``auto`` is fitted on
the training files; the result also serves the test files); if corrected energies per atom fall
outside [-20, 250] eV/atom and no reference was given, switch to ``auto`` (as python-ace);
split off ``test_size`` structures with numpy's legacy generator seeded with ``data.seed``
(default: the top-level ``seed``)
(the same split as python-ace); weight train and test together, then apply ``aug_factor`` and
normalize each set.

Cache: the prepared frames are saved as one gzip pickle named
``<data file>.forcefit-<key>.pckl.gzip`` in the working directory of the fit (never next to the
data: data folders are often shared or read-only, and root ignores permission bits). ``<key>`` hashes the data files (path, size,
modification time) and every setting that changes the result, so a stale cache is never read;
``rebuild=True`` (``--rebuild``) ignores it. Written atomically; caches of the same data file
with other keys are removed then. (python-ace has no such cache for data files; its older
versions cached structure-database queries as ``df-<calculator>-<element>-ref.pckl.gzip``.)
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..atomic import atomic_output
from ..dataset.pacemaker import read_dataframe
from ..errors import DatasetError, InputError
from .datafiles import resolve_data_files
from .sections import PacemakerInput
from .reference_energy import corrected_energies, fit_reference_energies, volume_per_atom
from .schema import Where
from .weighting import adjust_augmented_weights, apply_weights, normalize_weights

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
EXTREME_ENERGY_PER_ATOM = (-20.0, 250.0)  # eV/atom; python-ace's sanity range


@dataclass
class PreparedData:
    """The data a fit uses. ``test`` is None without a test set.

    ``reference_energy``: the single-atom energies used ({element: eV, "shift": eV/atom}), or
    None when the data's ``energy_corrected`` was used. ``cache_path``: where the prepared data
    are cached; ``from_cache``: whether they were read from there.
    """

    train: "object"
    test: Optional["object"]
    reference_energy: Optional[Dict[str, float]]
    elements: Tuple[str, ...]
    cache_path: Optional[Path] = None
    from_cache: bool = False

    @property
    def n_train(self) -> int:
        return len(self.train)

    @property
    def n_test(self) -> int:
        return 0 if self.test is None else len(self.test)


# -- reading ---------------------------------------------------------------------------------------


def read_frames(paths: Sequence[Path]):
    """Concatenate the DataFrames of ``paths`` (index reset to 0..S-1); add ``name`` where absent."""
    import pandas as pd

    frames = []
    for k, path in enumerate(paths):
        frame = read_dataframe(path)
        log.info(f"#{k + 1}/{len(paths)}: {path}: {len(frame)} structures found")
        if "ase_atoms" not in frame.columns:
            raise DatasetError(
                f"has no 'ase_atoms' column; columns present: {', '.join(map(str, frame.columns))}", path=path
            )
        frame = frame.copy()
        if "name" not in frame.columns:
            frame["name"] = [f"{path}:{i}" for i in frame.index]
        frame["_source"] = str(path)
        frames.append(frame)
    return pd.concat(frames, axis=0).reset_index(drop=True)


def _calc_result(atoms, key):
    calc = getattr(atoms, "calc", None)
    results = getattr(calc, "results", None) or {}
    return results.get(key)


def _fill_from_calculator(frame, column: str, needed_for: str):
    """Use the structures' calculator results for a missing ``energy``/``forces`` column."""
    if column in frame.columns and not frame[column].isna().any():
        return frame
    values = [_calc_result(a, column) for a in frame["ase_atoms"]]
    if column in frame.columns:
        values = [v if (np.ndim(v) or v == v) and v is not None else c for v, c in zip(frame[column], values)]
    missing = [i for i, v in enumerate(values) if v is None]
    if missing:
        row = frame.iloc[missing[0]]
        raise DatasetError(
            f"has no {column!r} column (nor calculator results) but {needed_for}; columns present: "
            f"{', '.join(c for c in frame.columns if not c.startswith('_'))}",
            path=row["_source"],
            record=f"structure {row['name']!r}",
        )
    frame[column] = values
    return frame


def process_frame(frame, reference, where: Where):
    """Check columns and shapes; set NUMBER_OF_ATOMS, pbc, energy_corrected(_per_atom).

    Returns (frame, reference used): ``auto`` comes back as the fitted dict.
    """
    frame = frame.copy()
    frame = _fill_from_calculator(frame, "forces", "pacemaker fits forces")
    frame["forces"] = frame["forces"].map(lambda f: np.asarray(f, dtype=float))
    frame["NUMBER_OF_ATOMS"] = frame["ase_atoms"].map(len).astype(int)
    for i, (forces, natoms) in enumerate(zip(frame["forces"], frame["NUMBER_OF_ATOMS"])):
        if forces.shape != (natoms, 3):
            row = frame.iloc[i]
            raise DatasetError(
                f"forces have shape {forces.shape}, expected ({natoms}, 3)",
                path=row["_source"],
                record=f"structure {row['name']!r}",
            )
        if not np.all(np.isfinite(forces)):
            row = frame.iloc[i]
            raise DatasetError("forces contain NaN or inf", path=row["_source"], record=f"structure {row['name']!r}")
    frame["pbc"] = frame["ase_atoms"].map(lambda atoms: bool(np.all(atoms.pbc)))
    symbols = [atoms.get_chemical_symbols() for atoms in frame["ase_atoms"]]

    if reference is not None:
        frame = _fill_from_calculator(frame, "energy", "data.reference_energy needs total energies")
        energies = frame["energy"].to_numpy(dtype=float)
        if reference == "auto":
            log.info("Computing least-square energy shift and correction")
            volumes = [volume_per_atom(a) for a in frame["ase_atoms"]]
            reference = fit_reference_energies(energies, symbols, volumes)
            log.info(f"Computed single-atom reference energy: {reference}")
        elif isinstance(reference, float):
            log.info(f"Using constant reference energy {reference}")
            elements = sorted({s for row in symbols for s in row})
            reference = {e: reference for e in elements}
        else:
            log.info(f"Using {reference} as single-atom energies")
            missing = sorted({e for row in symbols for e in row} - set(reference))
            if missing:
                log.warning(f"data::reference_energy has no value for {', '.join(missing)}; 0 eV is used")
        frame["energy_corrected"] = corrected_energies(energies, symbols, reference)
    elif "energy_corrected" not in frame.columns:
        sources = ", ".join(sorted(set(frame["_source"])))
        raise DatasetError(
            f"{sources}: no 'energy_corrected' column; set data.reference_energy (a number, a mapping of "
            "single-atom energies, or auto) to compute it from 'energy'",
            path=where.source,
            record=where.keypath,
        )
    corrected = frame["energy_corrected"].to_numpy(dtype=float)
    if not np.all(np.isfinite(corrected)):
        bad = int(np.argmin(np.isfinite(corrected)))
        raise DatasetError(
            "energy_corrected is NaN or inf",
            path=frame["_source"].iloc[bad],
            record=f"structure {frame['name'].iloc[bad]!r}",
        )
    frame["energy_corrected"] = corrected
    frame["energy_corrected_per_atom"] = corrected / frame["NUMBER_OF_ATOMS"].to_numpy()
    epa = frame["energy_corrected_per_atom"]
    log.info(f"Min/max energy per atom: [{epa.min():.3f}, {epa.max():.3f}] eV/atom")
    low, high = EXTREME_ENERGY_PER_ATOM
    if epa.min() < low or epa.max() > high:
        has_energy = "energy" in frame.columns or all(_calc_result(a, "energy") is not None for a in frame["ase_atoms"])
        if reference is None and has_energy:
            log.warning(
                f"Some values of corrected energy ({epa.min():.3g} eV/atom) are outside [{low:g}, {high:g}] "
                "eV/atom; reference_energy will be computed automatically (as python-ace does)."
            )
            return process_frame(frame, "auto", where)
        log.warning(
            f"Some values of corrected energy are outside [{low:g}, {high:g}] eV/atom. "
            "Correct your energy or use data::reference_energy: auto option !!!"
        )
    return frame, reference


# -- splitting ------------------------------------------------------------------------------------


def n_test_structures(n_structures: int, test_size, where: Where) -> int:
    """Number of test structures for ``test_size`` (fraction: ``int(n * f)``, as python-ace).

    Raises:
        InputError: the test set would be empty or would leave no training structure.
    """
    count = int(test_size) if isinstance(test_size, int) else int(n_structures * test_size)
    if count >= n_structures:
        raise where.error(f"test_size {test_size} leaves no training structures: the data hold {n_structures}")
    if count == 0:
        raise where.error(f"test_size {test_size} of {n_structures} structures selects no test structure")
    return count


def split_train_test(frame, test_size, seed: int, where: Where):
    """python-ace's ``train_test_split`` after ``np.random.seed(seed)``: shuffle 0..S-1, the first
    S - n_test (sorted) train, the rest (sorted) test. Index labels are kept."""
    n_test = n_test_structures(len(frame), test_size, where)
    order = np.arange(len(frame))
    np.random.RandomState(seed).shuffle(order)
    n_train = len(frame) - n_test
    return frame.iloc[np.sort(order[:n_train])].copy(), frame.iloc[np.sort(order[n_train:])].copy()


# -- cache ----------------------------------------------------------------------------------------


def cache_key(inp: PacemakerInput, train_files: Sequence[Path], test_files: Sequence[Path]) -> str:
    """Hash of the data files (path, size, mtime) and every setting the prepared data depend on."""

    def stat(path: Path):
        info = path.stat()
        return [str(path.resolve()), info.st_size, info.st_mtime_ns]

    weighting = dict(inp.fit.weighting.params)
    if weighting.get("filename"):
        weighting["filename_stat"] = stat(Path(weighting["filename"]))
    payload = {
        "format": CACHE_FORMAT,
        "train": [stat(p) for p in train_files],
        "test": [stat(p) for p in test_files],
        "data": {k: v for k, v in asdict(inp.data).items() if k not in ("filenames", "test_filenames", "datapath")},
        "weighting": [inp.fit.weighting.type, weighting],
        "seed": inp.seed,  # stands in for a missing weighting seed
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _strip_suffixes(name: str) -> str:
    for suffix in (".pckl.gzip", ".pkl.gzip", ".pckl.gz", ".pkl.gz", ".pckl", ".pkl", ".gzip", ".gz"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def cache_path_for(train_files: Sequence[Path], key: str) -> Path:
    """``<data>.forcefit-<key>.pckl.gzip`` in the working directory."""
    name = f"{_strip_suffixes(train_files[0].name)}.forcefit-{key}.pckl.gzip"
    return Path.cwd() / name


def write_cache(path: Path, prepared: PreparedData, key: str) -> None:
    """Save train and test frames as one DataFrame (``train`` column) atomically."""
    import pandas as pd

    parts = [prepared.train.assign(train=True)]
    if prepared.test is not None:
        parts.append(prepared.test.assign(train=False))
    joint = pd.concat(parts, axis=0, ignore_index=True)
    joint.attrs = {
        "forcefit_cache_key": key,
        "reference_energy": prepared.reference_energy,
        "elements": list(prepared.elements),
    }
    with atomic_output(path) as tmp:
        joint.to_pickle(tmp, compression="gzip", protocol=4)
    log.info(f"Prepared data cached in {path}")
    stem = path.name.split(".forcefit-")[0]
    for stale in path.parent.glob(f"{stem}.forcefit-*.pckl.gzip"):
        if stale != path:  # caches of older data or settings are never read again
            stale.unlink()


def read_cache(path: Path, key: str) -> Optional[PreparedData]:
    """The cached data at ``path`` if it exists and carries ``key``; None otherwise."""
    if not path.is_file():
        return None
    try:
        joint = read_dataframe(path)
    except (DatasetError, InputError) as err:
        log.warning(f"Ignoring unreadable cache {path}: {err}")
        return None
    if joint.attrs.get("forcefit_cache_key") != key:
        return None
    train = joint[joint["train"]].drop(columns="train").reset_index(drop=True)
    test = joint[~joint["train"]].drop(columns="train").reset_index(drop=True)
    return PreparedData(
        train,
        test if len(test) else None,
        joint.attrs.get("reference_energy"),
        tuple(joint.attrs.get("elements", ())),
        cache_path=path,
        from_cache=True,
    )


# -- the whole preparation ------------------------------------------------------------------------


def _elements(frames) -> Tuple[str, ...]:
    found = set()
    for frame in frames:
        if frame is not None:
            for atoms in frame["ase_atoms"]:
                found.update(atoms.get_chemical_symbols())
    return tuple(sorted(found))


def check_elements(inp: PacemakerInput, elements: Sequence[str]) -> None:
    """InputError when the data hold an element the potential shape lacks."""
    if inp.potential.elements:
        extra = sorted(set(elements) - set(inp.potential.elements))
        if extra:
            raise Where(inp.source, "potential.elements").error(
                f"the data contain element(s) {', '.join(extra)} missing from {list(inp.potential.elements)}"
            )


def prepare_data(inp: PacemakerInput, rebuild: bool = False, use_cache: bool = True) -> PreparedData:
    """Prepare (or read from the cache) the training and test data of ``inp``.

    Args:
        rebuild: ignore an existing cache (``--rebuild``).
        use_cache: read and write the cache at all.

    Raises:
        InputError / DatasetError: a file is missing, lacks a column, or the split is impossible.
    """
    import pandas as pd

    train_files, test_files = resolve_data_files(inp)
    key = cache_key(inp, train_files, test_files)
    cache = cache_path_for(train_files, key)
    if use_cache and not rebuild:
        cached = read_cache(cache, key)
        if cached is not None:
            log.info(
                f"Prepared data read from cache {cache} ({cached.n_train} train / {cached.n_test} test structures)"
            )
            check_elements(inp, cached.elements)
            return cached

    data_where = Where(inp.source, "data")
    log.info(f"Search for dataset file(s): {[str(p) for p in train_files]}")
    train = read_frames(train_files)
    train, reference = process_frame(train, inp.data.reference_energy, data_where)
    test = None
    if test_files:
        test = read_frames(test_files)
        test, _ = process_frame(test, reference, data_where)
        # distinct labels for the joint weighting (python-ace would repeat 0..S-1 here)
        test.index = test.index + len(train)
    elif inp.data.test_size is not None:
        log.info(
            f"Splitting out test dataset (test_size = {inp.data.test_size}) from main dataset({len(train)} samples)"
        )
        train, test = split_train_test(train, inp.data.test_size, inp.data.seed, data_where.child("test_size"))

    spec, ignore = inp.fit.weighting, inp.data.ignore_weights
    seed = inp.seed  # stands in for a missing weighting seed
    if test is not None:
        joint = pd.concat([train.assign(train=True), test.assign(train=False)], axis=0)
        joint = apply_weights(joint, spec, ignore, seed)
        train = joint[joint["train"]].drop(columns="train").reset_index(drop=True)
        test = joint[~joint["train"]].drop(columns="train").reset_index(drop=True)
        if len(test) == 0:
            log.warning("The weighting policy removed every test structure; no test set is used")
            test = None
    else:
        train = apply_weights(train, spec, ignore, seed).reset_index(drop=True)
    if len(train) == 0:
        raise DatasetError("the weighting policy removed every training structure")

    train = adjust_augmented_weights(train, inp.data.aug_factor)
    normalize_weights(train)
    if test is not None:
        test = adjust_augmented_weights(test, inp.data.aug_factor)
        normalize_weights(test)
    elements = _elements([train, test])
    check_elements(inp, elements)
    prepared = PreparedData(train, test, reference if isinstance(reference, dict) else None, elements, cache_path=cache)
    if use_cache:
        try:
            write_cache(cache, prepared, key)
        except OSError as err:
            log.warning(f"Could not write the data cache {cache}: {err.strerror}")
    return prepared


def data_columns_report(prepared: PreparedData) -> List[str]:
    """Lines describing the prepared data, for logs and ``--dry-run``."""
    lines = []
    for label, frame in (("train", prepared.train), ("test", prepared.test)):
        if frame is None:
            continue
        epa = frame["energy_corrected_per_atom"]
        fnorm = np.linalg.norm(np.vstack(frame["forces"].to_list()), axis=1)
        lines.append(
            f"{label}: {len(frame)} structures, {int(frame['NUMBER_OF_ATOMS'].sum())} atoms; "
            f"energy_corrected/atom [{epa.min():.4f}, {epa.max():.4f}] eV/atom; "
            f"|F| max {fnorm.max():.4f} eV/A"
        )
    return lines


__all__ = [
    "PreparedData",
    "cache_key",
    "data_columns_report",
    "prepare_data",
    "process_frame",
    "read_frames",
    "split_train_test",
    "n_test_structures",
]
