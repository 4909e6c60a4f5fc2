"""KIM-API portable models of forcefit ACE potentials, for forcefit's KIM model driver.

The driver ``forcefit_ACE__MD_000000000000_000`` (C++, ``kim-driver/`` in the source tree, shipped as
``forcefit/kim_driver/`` in the wheel) evaluates python-ace Ctilde ``.yace`` parameter files with
forcefit's C++ core: energy, forces, particle energy, virial, particle virial, in the length and energy
units the simulator requests.

* :func:`write_driver` writes a self-contained copy of the driver (its sources plus the core's);
* :func:`write_model` writes a parameterized portable model: the potential as ``.yace`` plus the
  ``CMakeLists.txt`` that names the driver.

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


def write_model(potential, directory, name: str) -> Path:
    """Write a KIM portable model for forcefit's ACE driver.

    Args:
        potential: ``.yace``/``.ace``/``.yaml`` path or :class:`forcefit.ace.CtildePotential`.
        directory: folder to create (must not exist).
        name: KIM model name, ``<Text>__MO_<12 digits>_<3 digits>``.
    """
    if not _MODEL_NAME.match(name):
        raise InputError(f"KIM model name {name!r} must look like Name__MO_000000000000_000")
    from .ace.evaluator import load_potential
    from .ace.yace_io import write_yace

    pot = load_potential(potential)

    def fill(tmp: Path):
        write_yace(pot, tmp / PARAMETER_FILE)
        (tmp / "CMakeLists.txt").write_text(portable_model_cmakelists(name, DRIVER_NAME, PARAMETER_FILE))

    return _write_dir_atomically(Path(directory), fill)


__all__ = ["DRIVER_NAME", "write_driver", "write_model"]
