"""pacemaker's ``input.yaml``: load, check every section, fill python-ace's defaults.

Design: ``load_input(path, overrides)`` parses the YAML (YAML 1.2 numbers, as python-ace's
ruamel parser), applies the command-line overrides (``-p``, ``-ip``, ``-d``, ``-b``), checks each
section against a key table (``schema.py``; the potential section in ``potential_section.py``,
the weighting policies in ``weighting.py``) and returns a frozen ``PacemakerInput``. Nothing
here reads the data sets: ``datafiles.check_input_files`` checks that the named files exist,
and ``preparedata.py`` checks their contents. The dataclasses are in ``sections.py``, the
``fit`` section in ``fit_section.py``. Every error names the input file and the key path:
``input.yaml: fit.loss.kapa: unknown key; did you mean 'kappa'?``.

Defaults are python-ace's (``pyace.generalfit``, ``pyace.preparedata``, ``pyace.lossfuncspec``,
``pyace/cli/pacemaker.py``): seed 42, optimizer BFGS, maxiter 100, loss kappa 0 and no
regularization, uniform weighting, fit_cycles 1, early_stopping_patience 200, ladder_type
body_order, aug_factor 1e-4, display_step 20, batch_size 10. forcefit adds ``fit.loss.w_stress``
(weight of the stress residuals, default 0: pacemaker fits energies and forces only).

Units: energies eV, ``kappa`` dimensionless, ``DE``/``DElow``/``DEup`` eV/atom, ``DF``/``DFup``
eV/Å, cutoffs Å.
"""

from __future__ import annotations

import difflib
import getpass
import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

from ..errors import InputError
from .fit_section import check_trainable_parameters, parse_fit_section
from .potential_section import parse_potential_section
from .schema import (
    MISSING,
    Key,
    Where,
    check_mapping,
    check_type,
    in_range,
    load_yaml,
    one_of,
    positive_int,
    string_list,
    unknown_key_error,
)
from .sections import (
    DEFAULT_SEED,
    EVALUATORS,
    SECTIONS,
    BackendSection,
    DataSection,
    PacemakerInput,
)


def _test_size(value, where: Where):
    if value <= 0:
        raise where.error(f"must be a fraction in (0, 1) or a number of structures >= 1, got {value!r}")
    if isinstance(value, float) and value >= 1:
        if value != int(value):
            raise where.error(f"a test size >= 1 is a number of structures and must be whole, got {value!r}")
        return int(value)
    return value


def parse_reference_energy(value, where: Where):
    if isinstance(value, str):
        if value == "auto":
            return value
        close = difflib.get_close_matches(value, ["auto"], n=1)
        hint = " did you mean 'auto'?" if close else ""
        raise where.error(
            f"{value!r} is not supported: give a number (eV, every element), a mapping "
            f"{{element: eV, shift: eV/atom}} or 'auto' (least-squares fit).{hint} "
            "Named DFT presets of python-ace are not built into forcefit; copy the single-atom "
            "energies as a mapping instead"
        )
    if isinstance(value, dict):
        for key, energy in value.items():
            check_type(energy, (int, float), where.child(key))
            if key != "shift" and not (isinstance(key, str) and key[:1].isupper()):
                raise where.child(key).error("keys are chemical symbols or 'shift'")
        return {str(k): float(v) for k, v in value.items()}
    return float(value)


DATA_KEYS: Dict[str, Key] = {
    "filename": Key((str, list), MISSING, string_list, help="the training data file(s)"),
    "test_filename": Key((str, list), (), string_list),
    "test_size": Key((int, float), None, _test_size),
    "datapath": Key((str,), None),
    "reference_energy": Key((int, float, str, dict), None, parse_reference_energy),
    "ignore_weights": Key((bool,), False),
    "aug_factor": Key((int, float), 1e-4, in_range(0)),
    "seed": Key((int,), None),
}


BACKEND_KEYS: Dict[str, Key] = {
    "evaluator": Key((str,), "pyace", one_of(EVALUATORS)),
    "batch_size": Key((int,), 10, positive_int),
    "batch_size_reduction": Key((bool,), True),
    "batch_size_reduction_factor": Key((int, float), 1.618, in_range(1, low_open=True)),
    "display_step": Key((int,), 20, positive_int),
    "parallel_mode": Key((str,), None, one_of(("serial", "process"))),
    "n_workers": Key((int,), None, positive_int),
    "gpu_config": Key((dict,), None),
    "imagetype": Key((str,), "png", one_of(("png", "pdf", "svg", "jpg"))),
}


# -- parsing ------------------------------------------------------------------------------------------


def _parse_backend(value, where: Where, given: bool) -> BackendSection:
    backend = check_mapping(value, BACKEND_KEYS, where)
    gpu = backend.pop("gpu_config") or {}
    for key in gpu:
        if key not in ("gpu_ind", "mem_limit"):
            raise unknown_key_error(key, ("gpu_ind", "mem_limit"), where.child("gpu_config"))
    return BackendSection(gpu_config=gpu, given=given, **backend)


#: data keys of older python-ace versions: structure-database queries (not available) and
#: settings that no longer change anything
STRUCTDB_DATA_KEYS = ("config", "calculator", "element", "query_limit", "db_conn_string")
OBSOLETE_DATA_KEYS = ("cache_ref_df", "force_rebuild", "parallel")


def _parse_data(value, where: Where, seed: int, notes: list) -> DataSection:
    if isinstance(value, str):  # python-ace accepts `data: file.pckl.gzip`
        value = {"filename": value}
    if isinstance(value, dict):
        for key in value:
            if key in STRUCTDB_DATA_KEYS:
                raise where.child(key).error(
                    "python-ace's structure-database (structdb) query settings are not supported: forcefit reads "
                    "pickled pandas DataFrames only; give them in data.filename"
                )
        obsolete = [k for k in value if k in OBSOLETE_DATA_KEYS]
        for key in obsolete:
            notes.append(f"data.{key}: obsolete python-ace setting; ignored")
        value = {k: v for k, v in value.items() if k not in OBSOLETE_DATA_KEYS}
    data = check_mapping(value, DATA_KEYS, where)
    if data["test_filename"] and data["test_size"] is not None:
        raise where.error("give either test_filename or test_size, not both")
    if data["seed"] is None:
        data["seed"] = seed
    return DataSection(
        filenames=data["filename"],
        test_filenames=data["test_filename"],
        test_size=data["test_size"],
        datapath=data["datapath"],
        reference_energy=data["reference_energy"],
        ignore_weights=data["ignore_weights"],
        aug_factor=float(data["aug_factor"]),
        seed=data["seed"],
    )


def _automatic_metadata(metadata: Mapping[str, Any], where: Where) -> Dict[str, str]:
    if not isinstance(metadata, dict):
        raise where.error(f"expected a mapping of key: value strings, got {metadata!r}")
    result = {str(k): str(v) for k, v in metadata.items()}
    result["starttime"] = str(datetime.now())
    try:
        result["user"] = getpass.getuser()
    except (KeyError, OSError):  # no user name in containers without a passwd entry
        pass
    return result


def parse_input(
    document: Any,
    source: Optional[Path] = None,
    potential: Optional[str] = None,
    initial_potential: Optional[str] = None,
    data: Optional[str] = None,
    backend: Optional[str] = None,
) -> PacemakerInput:
    """Check an already parsed input document and apply command-line overrides.

    Args:
        document: the YAML mapping.
        source: the input file, for messages.
        potential: ``-p``: a potential file replacing the ``potential`` section.
        initial_potential: ``-ip``: replaces ``potential.initial_potential``.
        data: ``-d``: a data file replacing ``data.filename``.
        backend: ``-b``: replaces ``backend.evaluator``.

    Raises:
        InputError: the first problem found, naming the file and key path.
    """
    root = Where(source)
    if not isinstance(document, dict):
        raise root.error(f"expected a mapping of sections ({', '.join(SECTIONS)}), got {type(document).__name__}")
    for key in document:
        if key not in SECTIONS:
            raise unknown_key_error(key, SECTIONS, root)
    notes = []
    seed = document.get("seed")
    if seed is None:
        seed = DEFAULT_SEED
        notes.append(f"No 'seed' provided in YAML file, default value seed = {seed} will be used.")
    seed = check_type(seed, (int,), root.child("seed"))
    cutoff_given = document.get("cutoff")
    if cutoff_given is not None:
        cutoff_given = float(
            in_range(0, low_open=True)(
                check_type(cutoff_given, (int, float), root.child("cutoff")), root.child("cutoff")
            )
        )
    metadata = _automatic_metadata(document.get("metadata") or {}, root.child("metadata"))

    data_value = document.get("data")
    if data is not None:
        data_value = dict(data_value) if isinstance(data_value, dict) else {}
        data_value["filename"] = data
        for key in ("test_filename",):
            data_value.pop(key, None)
    if data_value is None:
        raise root.child("data").error("section is missing (and no -d/--data given)")
    data_section = _parse_data(data_value, root.child("data"), seed, notes)

    potential_value = document.get("potential")
    if potential is not None:
        potential_value = potential
    if potential_value is None:
        raise root.child("potential").error("section is missing (and no -p/--potential given)")
    potential_section = parse_potential_section(potential_value, root.child("potential"))
    if initial_potential is not None:
        if potential is not None or isinstance(document.get("potential"), str):
            raise root.child("potential").error(
                "-ip/--initial-potential needs a 'potential' mapping (a shape or filename), not a bare potential file"
            )
        potential_section = replace(potential_section, initial_potential=(Path(initial_potential),))
    potential_section = replace(potential_section, metadata=metadata)

    fit_section = parse_fit_section(document.get("fit"), root.child("fit"), notes)
    check_trainable_parameters(
        fit_section.trainable_parameters, potential_section.elements, root.child("fit").child("trainable_parameters")
    )
    backend_given = document.get("backend") is not None
    backend_section = _parse_backend(document.get("backend"), root.child("backend"), backend_given)
    if not backend_given:
        notes.append("'backend' is not specified, default settings will be used")
    if backend is not None:
        backend_section = replace(backend_section, evaluator=one_of(EVALUATORS)(backend, Where(None, "-b/--backend")))

    cutoff = potential_section.max_rcut if potential_section.max_rcut is not None else cutoff_given
    if (
        cutoff_given is not None
        and potential_section.max_rcut is not None
        and cutoff_given != potential_section.max_rcut
    ):
        notes.append(
            f"Top-level 'cutoff' ({cutoff_given:g} A) differs from the largest potential::bonds::rcut "
            f"({potential_section.max_rcut:g} A); as in pacemaker, the neighbour lists use the bonds' rcut."
        )
    return PacemakerInput(
        source=source,
        seed=seed,
        metadata=metadata,
        data=data_section,
        potential=potential_section,
        fit=fit_section,
        backend=backend_section,
        cutoff=cutoff,
        cutoff_given=cutoff_given,
        notes=tuple(notes),
    )


def load_input(path: Union[str, os.PathLike], **overrides) -> PacemakerInput:
    """Read and check a pacemaker input file (see ``parse_input`` for the overrides).

    Raises:
        InputError: the file is missing or unreadable, or a section is wrong.
        FileFormatError: the file is not valid YAML.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("input file not found (run `pacemaker -t` to write a template)", path=path)
    return parse_input(load_yaml(path), source=path, **overrides)


__all__ = ["load_input", "parse_input", "parse_reference_energy"]
