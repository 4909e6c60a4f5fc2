"""KIM-API portable models of forcefit ACE potentials, for forcefit's KIM model driver.

The driver ``forcefit_ACE__MD_000000000000_000`` (C++, ``kim-driver/`` in the source tree, shipped as
``forcefit/kim_driver/`` in the wheel) evaluates python-ace Ctilde ``.yace`` and B-basis ``.yaml``
parameter files (the latter converted in C++ when the model is created) with forcefit's C++ core:
energy, forces, particle energy, virial, particle virial, in the length and energy units the simulator
requests.

* :func:`write_driver` writes a self-contained copy of the driver (its sources plus the core's);
* :func:`write_model` writes a parameterized portable model: the potential (a B-basis ``.yaml`` file
  copied as ``potential.yaml``, anything else as ``potential.yace``) plus the ``CMakeLists.txt`` that
  names the driver.

Install both with ``kim-api-collections-management install user DIR`` (driver first).  Directories are
written completely or not at all (built in a temporary sibling, then renamed).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from .errors import InputError
from .models.kim_export import portable_model_cmakelists

DRIVER_NAME = "forcefit_ACE__MD_000000000000_000"
PARAMETER_FILE = "potential.yace"
BBASIS_PARAMETER_FILE = "potential.yaml"
_MODEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*__MO_\d{12}_\d{3}$")


def _driver_sources() -> tuple[Path, Path]:
    """(driver source folder, core folder holding include/ and src/), installed or source tree."""
    here = Path(__file__).resolve().parent
    installed = here / "kim_driver"
    if (installed / "forcefit_kim_driver.cpp").is_file() and (installed / "forcefit-core" / "include").is_dir():
        return installed, installed / "forcefit-core"
    root = here.parents[1]
    if (root / "kim-driver" / "forcefit_kim_driver.cpp").is_file() and (root / "cpp" / "include").is_dir():
        return root / "kim-driver", root / "cpp"
    raise InputError("the KIM driver sources are not part of this forcefit installation")


def _write_dir_atomically(directory: Path, fill) -> Path:
    directory = Path(directory)
    if directory.exists():
        raise InputError("already exists; choose a new folder", path=directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        fill(tmp)
        os.replace(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def write_driver(directory) -> Path:
    """Write the KIM model driver ``forcefit_ACE__MD_000000000000_000`` (sources) into ``directory``."""
    src, core = _driver_sources()

    def fill(tmp: Path):
        for name in ("CMakeLists.txt", "forcefit_kim_driver.cpp"):
            shutil.copy2(src / name, tmp / name)
        for part in ("include", "src"):
            shutil.copytree(core / part, tmp / "forcefit-core" / part,
                            ignore=shutil.ignore_patterns("*.cu", "cuda", "__pycache__"))

    return _write_dir_atomically(Path(directory), fill)


def write_model(potential, directory, name: str, parameter_format: str = "auto") -> Path:
    """Write a KIM portable model for forcefit's ACE driver.

    Args:
        potential: ``.yace``/``.ace``/``.yaml`` path, :class:`forcefit.ace.CtildePotential` or
            :class:`forcefit.ace.bbasis.BBasisPotential`.
        directory: folder to create (must not exist).
        name: KIM model name, ``<Text>__MO_<12 digits>_<3 digits>``.
        parameter_format: ``"auto"`` keeps a B-basis potential (``.yaml`` file, copied unchanged, or
            ``BBasisPotential``) as ``potential.yaml`` and writes everything else as ``potential.yace``;
            ``"yace"`` always writes the Ctilde ``potential.yace``.

    The potential is read (and so checked) in any case; a ``.yaml`` file also by the C++ reader that the
    driver runs.
    """
    if not _MODEL_NAME.match(name):
        raise InputError(f"KIM model name {name!r} must look like Name__MO_000000000000_000")
    if parameter_format not in ("auto", "yace"):
        raise InputError(f"parameter_format must be 'auto' or 'yace', got {parameter_format!r}")
    from .ace.bbasis import BBasisPotential
    from .ace.evaluator import load_potential
    from .ace.yace_io import write_yace
    from .ace.yaml_io import write_bbasis_yaml

    pot = load_potential(potential)
    yaml_source = None
    if parameter_format == "auto":
        if isinstance(potential, BBasisPotential):
            yaml_source = potential
        elif isinstance(potential, (str, os.PathLike)) and Path(potential).suffix.lower() in (".yaml", ".yml"):
            yaml_source = Path(potential)
    param_file = PARAMETER_FILE if yaml_source is None else BBASIS_PARAMETER_FILE
    if isinstance(yaml_source, Path):
        from . import _core

        _core.ace_read_potential_spec(str(yaml_source))  # the driver's own reader: fail now, not in KIM

    def fill(tmp: Path):
        if yaml_source is None:
            write_yace(pot, tmp / param_file)
        elif isinstance(yaml_source, Path):
            shutil.copyfile(yaml_source, tmp / param_file)
        else:
            write_bbasis_yaml(yaml_source, tmp / param_file)
        (tmp / "CMakeLists.txt").write_text(portable_model_cmakelists(name, DRIVER_NAME, param_file))

    return _write_dir_atomically(Path(directory), fill)


__all__ = ["BBASIS_PARAMETER_FILE", "DRIVER_NAME", "PARAMETER_FILE", "write_driver", "write_model"]
