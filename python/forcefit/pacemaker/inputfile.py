"""pacemaker's ``input.yaml``: load, check every section, fill python-ace's defaults.

Design: ``load_input(path, overrides)`` parses the YAML (YAML 1.2 numbers, as python-ace's
ruamel parser), applies the command-line overrides (``-p``, ``-ip``, ``-d``, ``-b``), checks each
section against a key table (``schema.py``; the potential section in ``potential_section.py``,
the weighting policies in ``weighting.py``) and returns a frozen ``PacemakerInput``. Nothing
here reads the data sets: ``check_input_files`` checks that the named files exist, and
``preparedata.py`` checks their contents. Every error names the input file and the key path:
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
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from ..errors import InputError
from .potential_section import PotentialSection, check_potential_files, parse_potential_section
from .schema import (
    MISSING,
    Key,
    Where,
    check_mapping,
    check_type,
    in_range,
    load_yaml,
    one_of,
    string_list,
    unknown_key_error,
)
from .weighting import WeightingSpec, parse_weighting_spec

DEFAULT_SEED = 42
DEFAULT_INPUT = "input.yaml"
SECTIONS = ("cutoff", "seed", "metadata", "data", "potential", "fit", "backend")

#: every method of scipy.optimize.minimize (scipy 1.17), in scipy's spelling
SCIPY_MINIMIZE_METHODS = (
    "Nelder-Mead", "Powell", "CG", "BFGS", "Newton-CG", "L-BFGS-B", "TNC", "COBYLA", "COBYQA",
    "SLSQP", "trust-constr", "dogleg", "trust-ncg", "trust-exact", "trust-krylov",
)
#: methods that need the Hessian, which the pacemaker loss does not provide (Newton-CG builds
#: Hessian-vector products from gradient differences and is accepted)
HESSIAN_METHODS = ("dogleg", "trust-ncg", "trust-exact", "trust-krylov")

EVALUATORS = ("tensorpot", "pyace", "forcefit")


# -- typed sections -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataSection:
    """``data:``. ``filenames``/``test_filenames`` are as written (see ``resolve_data_files``).

    ``reference_energy``: None (use the ``energy_corrected`` column), a number (the same
    single-atom energy for every element, eV), a dict element -> eV (optional ``shift``, eV/atom),
    or ``"auto"`` (least-squares single-atom energies, see ``reference_energy.py``).
    ``test_size``: a fraction in (0, 1) or a number of structures (>= 1).
    """

    filenames: Tuple[str, ...]
    test_filenames: Tuple[str, ...] = ()
    test_size: Optional[Union[int, float]] = None
    datapath: Optional[str] = None
    reference_energy: Any = None
    ignore_weights: bool = False
    aug_factor: float = 1e-4
    seed: int = DEFAULT_SEED


@dataclass(frozen=True)
class LossSpec:
    """``fit.loss``: loss = (1-kappa) E-term + kappa F-term + w_stress S-term + regularization.

    ``kappa`` is a number in [0, 1] or ``"auto"`` (set from the training data by
    ``resolve_kappa``). ``L1_coeffs``, ``L2_coeffs``: L1/L2 penalties on the coefficients;
    ``w0_rad``, ``w1_rad``, ``w2_rad``: radial smoothness penalties; ``w_orth``: orthogonality.
    """

    kappa: Union[float, str] = 0.0
    L1_coeffs: float = 0.0
    L2_coeffs: float = 0.0
    w0_rad: float = 0.0
    w1_rad: float = 0.0
    w2_rad: float = 0.0
    w_orth: float = 0.0
    w_stress: float = 0.0


@dataclass(frozen=True)
class FitSection:
    """``fit:`` (see the module docstring for defaults)."""

    loss: LossSpec = field(default_factory=LossSpec)
    weighting: WeightingSpec = field(default_factory=WeightingSpec)
    optimizer: str = "BFGS"
    options: Dict[str, Any] = field(default_factory=dict)
    maxiter: int = 100
    repulsion: Optional[str] = None
    trainable_parameters: Any = None
    fit_cycles: int = 1
    noise_relative_sigma: float = 0.0
    noise_absolute_sigma: float = 0.0
    randomize_func_coeffs: float = 0.0
    ladder_step: Optional[Tuple[Union[int, float], ...]] = None
    ladder_type: str = "body_order"
    callbacks: Tuple[str, ...] = ()
    min_relative_train_loss_per_iter: Optional[float] = None
    min_relative_test_loss_per_iter: Optional[float] = None
    early_stopping_patience: int = 200

    @property
    def ladder_scheme(self) -> bool:
        return self.ladder_step is not None


@dataclass(frozen=True)
class BackendSection:
    """``backend:``. ``evaluator`` is what the file asked for (tensorpot, pyace or forcefit);
    forcefit serves all three with its own engine."""

    evaluator: str = "pyace"
    batch_size: int = 10
    batch_size_reduction: bool = True
    batch_size_reduction_factor: float = 1.618
    display_step: int = 20
    parallel_mode: Optional[str] = None
    n_workers: Optional[int] = None
    gpu_config: Dict[str, Any] = field(default_factory=dict)
    imagetype: str = "png"
    given: bool = True

    @property
    def gpu_requested(self) -> bool:
        """True when ``gpu_config`` asks for a GPU (``gpu_ind`` >= 0, tensorpot's convention)."""
        if not self.gpu_config:
            return False
        return int(self.gpu_config.get("gpu_ind", 0)) >= 0


@dataclass(frozen=True)
class PacemakerInput:
    """A checked pacemaker input file.

    ``cutoff`` is the neighbour-list cutoff, Å: the largest bond ``rcut`` of the potential shape
    (as python-ace deduces it), else the top-level ``cutoff``, else None (taken from the
    potential file by the engine). ``cutoff_given`` is the top-level value as written.
    """

    source: Optional[Path]
    seed: int
    metadata: Dict[str, str]
    data: DataSection
    potential: PotentialSection
    fit: FitSection
    backend: BackendSection
    cutoff: Optional[float] = None
    cutoff_given: Optional[float] = None
    notes: Tuple[str, ...] = ()


# -- key tables -----------------------------------------------------------------------------------


def _positive_int(value, where):
    return in_range(1)(value, where)


def _test_size(value, where: Where):
    if value <= 0:
        raise where.error(f"must be a fraction in (0, 1) or a number of structures >= 1, got {value!r}")
    if isinstance(value, float) and value >= 1:
        if value != int(value):
            raise where.error(f"a test size >= 1 is a number of structures and must be whole, got {value!r}")
        return int(value)
    return value


def _reference_energy(value, where: Where):
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


def _ladder_step(value, where: Where):
    items = value if isinstance(value, list) else [value]
    if not items:
        raise where.error("an empty list; give an integer >= 1, a fraction in (0, 1), or a list of both")
    checked = []
    for k, item in enumerate(items):
        here = where.child(k) if isinstance(value, list) else where
        item = check_type(item, (int, float), here)
        if isinstance(item, float) and not 0 < item < 1:
            if item >= 1 and item == int(item):
                item = int(item)
            else:
                raise here.error(f"a fraction must lie in (0, 1), got {item!r}")
        if isinstance(item, int) and item < 1:
            raise here.error(f"a number of functions must be >= 1, got {item!r}")
        checked.append(item)
    return tuple(checked)


def _optimizer(value, where: Where):
    method = one_of(SCIPY_MINIMIZE_METHODS, case_sensitive=False)(value, where)
    if method in HESSIAN_METHODS:
        raise where.error(
            f"{method} needs the Hessian of the loss, which pacemaker fits do not provide; "
            "use BFGS, L-BFGS-B, CG, TNC, SLSQP, trust-constr or a derivative-free method"
        )
    return method


def callback_search_path(source: Optional[Path]) -> list:
    """Folders searched for callback modules before ``sys.path``: the working directory and the
    input file's folder (python-ace finds them there when started from that folder)."""
    folders = [str(Path.cwd())]
    if source is not None:
        folders.append(str(source.resolve().parent))
    return list(dict.fromkeys(folders))


def _callbacks(value, where: Where):
    import importlib.machinery
    import sys

    names = string_list(value, where)
    for k, name in enumerate(names):
        module = name.rpartition(".")[0]
        if not module:
            raise where.child(k).error(f"{name!r}: give an importable 'module.function' name")
        top = module.split(".")[0]
        search = callback_search_path(where.source) + sys.path
        if top not in sys.modules and importlib.machinery.PathFinder.find_spec(top, search) is None:
            raise where.child(k).error(
                f"{name!r}: module {top!r} not found in the working directory, next to the input file, or on PYTHONPATH"
            )
    return names


def scipy_option_names(method: str) -> Tuple[str, ...]:
    """The option names scipy documents for ``minimize(method=...)`` (empty when unknown)."""
    import re

    from scipy.optimize import show_options

    try:
        doc = show_options("minimize", method, disp=False)
    except (ValueError, TypeError):
        return ()
    section = doc.split("Options", 1)[1] if "Options" in doc else doc
    names = []
    for match in re.findall(r"^([A-Za-z_][\w, ]*?)\s*:", section, re.M):
        names.extend(name.strip() for name in match.split(","))
    return tuple(dict.fromkeys(n for n in names if n.isidentifier()))


def _check_options(options: Dict[str, Any], method: str, where: Where, notes: list) -> Dict[str, Any]:
    """Options of ``method`` pass; an option of another scipy method is dropped with a note (scipy
    would ignore it with a warning, python-ace runs on); anything else is an error."""
    valid = scipy_option_names(method)
    if not valid:  # scipy's documentation could not be read: leave the check to scipy
        return options
    every = {name for m in SCIPY_MINIMIZE_METHODS for name in scipy_option_names(m)}
    kept = {}
    for key, value in options.items():
        if key in valid:
            kept[key] = value
        elif key in every:
            notes.append(f"{where.keypath}.{key}: not an option of {method}; ignored (as scipy does)")
        else:
            raise unknown_key_error(key, valid, where)
    return kept


def _trainable(value, where: Where):
    if isinstance(value, (str, list, dict)):
        return value
    raise where.error(f"expected ALL, UNARY, ..., radial, func, a list of them, or a mapping, got {value!r}")


TRAINABLE_KINDS = ("func", "radial", "all")


def check_trainable_parameters(value, elements: Tuple[str, ...], where: Where) -> None:
    """python-ace's ``trainable_parameters``: ``func`` or ``radial`` (for all blocks); block names
    (ALL, UNARY, BINARY, ... or element combinations such as ``AlNi``) as a string or list (all
    parameters of those blocks); or a mapping block -> ``func``/``radial``/``all`` or a list.
    Element combinations must use the potential's elements (when the shape is given)."""
    import re

    from .potential_section import GROUP_KEYWORDS

    if value is None or (isinstance(value, str) and value in ("func", "radial")):
        return
    blocks = [value] if isinstance(value, str) else list(value)
    for k, block in enumerate(blocks):
        here = where.child(block) if isinstance(value, dict) else (where.child(k) if isinstance(value, list) else where)
        if not isinstance(block, str):
            raise here.error(f"expected a block name (ALL, UNARY, ..., or elements such as AlNi), got {block!r}")
        if block not in GROUP_KEYWORDS:
            from ase.data import chemical_symbols

            symbols = re.findall(r"[A-Z][a-z]?", block)
            spelled = "".join(symbols) == block.replace(" ", "").replace(",", "").strip("()")
            if not symbols or not spelled or not set(symbols) <= set(chemical_symbols[1:]):
                close = difflib.get_close_matches(block, GROUP_KEYWORDS + TRAINABLE_KINDS, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise here.error(f"{block!r} is neither a block keyword ({', '.join(GROUP_KEYWORDS)}) "
                                 f"nor a combination of elements{hint}")
            unknown = [e for e in symbols if elements and e not in elements]
            if unknown:
                raise here.error(f"element(s) {', '.join(unknown)} not in potential.elements {list(elements)}")
        if isinstance(value, dict):
            kinds = [value[block]] if isinstance(value[block], str) else value[block]
            for kind in kinds if isinstance(kinds, list) else [kinds]:
                if kind not in TRAINABLE_KINDS:
                    raise here.error(f"expected func, radial or all (or a list of them), got {kind!r}")


DATA_KEYS: Dict[str, Key] = {
    "filename": Key((str, list), MISSING, string_list, help="the training data file(s)"),
    "test_filename": Key((str, list), (), string_list),
    "test_size": Key((int, float), None, _test_size),
    "datapath": Key((str,), None),
    "reference_energy": Key((int, float, str, dict), None, _reference_energy),
    "ignore_weights": Key((bool,), False),
    "aug_factor": Key((int, float), 1e-4, in_range(0)),
    "seed": Key((int,), None),
}

LOSS_KEYS: Dict[str, Key] = {
    "kappa": Key((int, float, str), 0.0),
    "L1_coeffs": Key((int, float), 0.0, in_range(0)),
    "L2_coeffs": Key((int, float), 0.0, in_range(0)),
    "w0_rad": Key((int, float), 0.0, in_range(0)),
    "w1_rad": Key((int, float), 0.0, in_range(0)),
    "w2_rad": Key((int, float), 0.0, in_range(0)),
    "w_orth": Key((int, float), 0.0, in_range(0)),
    "w_stress": Key((int, float), 0.0, in_range(0)),
}

FIT_KEYS: Dict[str, Key] = {
    "loss": Key((dict,), None),
    "weighting": Key((dict, str), None),
    "optimizer": Key((str,), "BFGS", _optimizer),
    "options": Key((dict,), None),
    "optimizer_options": Key((dict,), None),
    "maxiter": Key((int,), 100, in_range(0)),
    "repulsion": Key((str,), None, one_of(("auto",))),
    "trainable_parameters": Key((str, list, dict), None, _trainable),
    "fit_cycles": Key((int,), 1, _positive_int),
    "noise_relative_sigma": Key((int, float), 0.0, in_range(0)),
    "noise_absolute_sigma": Key((int, float), 0.0, in_range(0)),
    "randomize_func_coeffs": Key((int, float), 0.0, in_range(0)),
    "ladder_step": Key((int, float, list), None, _ladder_step),
    "ladder_type": Key((str,), "body_order", one_of(("body_order", "power_order"))),
    "callbacks": Key((str, list), (), _callbacks),
    "min_relative_train_loss_per_iter": Key((int, float), None, in_range(0)),
    "min_relative_test_loss_per_iter": Key((int, float), None, in_range(0)),
    "early_stopping_patience": Key((int,), 200, _positive_int),
}

BACKEND_KEYS: Dict[str, Key] = {
    "evaluator": Key((str,), "pyace", one_of(EVALUATORS)),
    "batch_size": Key((int,), 10, _positive_int),
    "batch_size_reduction": Key((bool,), True),
    "batch_size_reduction_factor": Key((int, float), 1.618, in_range(1, low_open=True)),
    "display_step": Key((int,), 20, _positive_int),
    "parallel_mode": Key((str,), None, one_of(("serial", "process"))),
    "n_workers": Key((int,), None, _positive_int),
    "gpu_config": Key((dict,), None),
    "imagetype": Key((str,), "png", one_of(("png", "pdf", "svg", "jpg"))),
}


# -- parsing --------------------------------------------------------------------------------------


def _parse_loss(value, where: Where) -> LossSpec:
    loss = check_mapping(value, LOSS_KEYS, where)
    kappa = loss["kappa"]
    if isinstance(kappa, str):
        if kappa != "auto":
            raise where.child("kappa").error(f"expected a number in [0, 1] or 'auto', got {kappa!r}")
    else:
        in_range(0, 1)(kappa, where.child("kappa"))
        loss["kappa"] = float(kappa)
    return LossSpec(**{k: (float(v) if k != "kappa" else v) for k, v in loss.items()})


def _parse_fit(value, where: Where, notes: list) -> FitSection:
    fit = check_mapping(value, FIT_KEYS, where)
    options = dict(fit.pop("options") or {})
    options.update(fit.pop("optimizer_options") or {})
    if "maxiter" in options:
        raise where.child("options").child("maxiter").error("set fit.maxiter instead (pacemaker passes it to scipy)")
    options = _check_options(options, fit["optimizer"], where.child("options"), notes)
    fit["loss"] = _parse_loss(fit["loss"], where.child("loss"))
    fit["weighting"] = parse_weighting_spec(fit["weighting"], where.child("weighting"))
    for name in ("noise_relative_sigma", "noise_absolute_sigma", "randomize_func_coeffs"):
        fit[name] = float(fit[name])
    return FitSection(options=options, **fit)


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
        cutoff_given = float(in_range(0, low_open=True)(check_type(cutoff_given, (int, float), root.child("cutoff")), root.child("cutoff")))
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

    fit_section = _parse_fit(document.get("fit"), root.child("fit"), notes)
    check_trainable_parameters(fit_section.trainable_parameters, potential_section.elements,
                               root.child("fit").child("trainable_parameters"))
    backend_given = document.get("backend") is not None
    backend_section = _parse_backend(document.get("backend"), root.child("backend"), backend_given)
    if not backend_given:
        notes.append("'backend' is not specified, default settings will be used")
    if backend is not None:
        backend_section = replace(backend_section, evaluator=one_of(EVALUATORS)(backend, Where(None, "-b/--backend")))

    cutoff = potential_section.max_rcut if potential_section.max_rcut is not None else cutoff_given
    if cutoff_given is not None and potential_section.max_rcut is not None and cutoff_given != potential_section.max_rcut:
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


# -- files named by the input ---------------------------------------------------------------------


def resolve_data_file(name: str, data: DataSection, source: Optional[Path], key: str) -> Path:
    """Where a data file is: as written (relative to the working directory, as pacemaker), else
    under ``datapath`` (or ``$PACEMAKERDATAPATH``), else next to the input file.

    Raises:
        InputError: found nowhere; the message lists the places searched.
    """
    datapath = data.datapath or os.environ.get("PACEMAKERDATAPATH")
    candidates = [Path(name)]
    if datapath:
        candidates.append(Path(datapath) / name)
    if source is not None and not Path(name).is_absolute():
        candidates.append(source.parent / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    searched = ", ".join(dict.fromkeys(str(c) for c in candidates))
    hint = "" if datapath else " (set data.datapath or $PACEMAKERDATAPATH for a data folder)"
    raise Where(source, f"data.{key}").error(f"data file {name!r} not found; searched {searched}{hint}")


def resolve_data_files(inp: PacemakerInput) -> Tuple[Tuple[Path, ...], Tuple[Path, ...]]:
    """(training files, test files) as paths that exist."""
    train = tuple(resolve_data_file(n, inp.data, inp.source, "filename") for n in inp.data.filenames)
    test = tuple(resolve_data_file(n, inp.data, inp.source, "test_filename") for n in inp.data.test_filenames)
    return train, test


def with_reference_energy_from_potential(inp: PacemakerInput) -> PacemakerInput:
    """python-ace's upfit rule: without ``data.reference_energy``, use the ``reference_energy``
    stored in the metadata of the potential file being continued (if it has one)."""
    import json

    import yaml

    if inp.data.reference_energy is not None or inp.potential.filename is None or not inp.potential.filename.is_file():
        return inp
    try:
        document = yaml.safe_load(inp.potential.filename.read_text())
        stored = (document.get("metadata") or {}).get("reference_energy") if isinstance(document, dict) else None
    except (OSError, yaml.YAMLError):
        return inp  # the engine reports an unreadable potential file with its own message
    if stored is None:
        return inp
    where = Where(inp.potential.filename, "metadata.reference_energy")
    try:
        value = json.loads(stored) if isinstance(stored, str) else stored
    except json.JSONDecodeError:
        raise where.error(f"not a JSON mapping of single-atom energies: {stored!r}") from None
    reference = _reference_energy(check_type(value, (int, float, dict), where), where)
    notes = inp.notes + (f"Loading 'reference_energy' from potential metadata ({inp.potential.filename}): {reference}",)
    return replace(inp, data=replace(inp.data, reference_energy=reference), notes=notes)


def check_input_files(inp: PacemakerInput) -> None:
    """InputError when a data, potential or weights file named by the input does not exist."""
    resolve_data_files(inp)
    check_potential_files(inp.potential, Where(inp.source, "potential"))
    filename = inp.fit.weighting.params.get("filename")
    if filename is not None and not Path(filename).is_file():
        raise Where(inp.source, "fit.weighting.filename").error(f"weights file {filename!r} not found")


__all__ = [
    "BackendSection",
    "DataSection",
    "FitSection",
    "LossSpec",
    "PacemakerInput",
    "SCIPY_MINIMIZE_METHODS",
    "check_input_files",
    "with_reference_energy_from_potential",
    "load_input",
    "parse_input",
    "resolve_data_files",
]
