"""Write forcefit models as KIM portable models for the OpenKIM model drivers.

A portable model is a directory with a ``CMakeLists.txt`` naming the driver and the parameter
file(s); ``kim-api-collections-management install user DIR`` builds and installs it. The
directory's name is the model's KIM name (a C identifier).

Drivers and parameter files (formats as the drivers read them):
    StillingerWeber -> SW__MD_335816936951_004: line ``N`` (species count), then one line per
        species pair ``s1 s2 A B p q sigma lambda gamma costheta0 cutoff``.
        The driver takes cos θ0 of pair (i, j) for a triplet (i; j, k) where forcefit takes the
        mean of (i, j) and (i, k): the two agree, and export is allowed, only when cos θ0 is
        the same for all pairs that share a centre species.
    LennardJones -> LennardJones612__MD_414112407348_003: line ``N shift``, then one line per
        species pair ``s1 s2 cutoff epsilon sigma``.
    EDIP -> EDIP__MD_506186535567_002: the species on the first line, then the 18 parameters
        one per line in the driver's order (a A B rh sig lam gam b c mu Qo eta bet alp u1..u4).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional, Tuple, Union

from ..errors import InputError
from .lammps_export import _num, atomic_write

SW_DRIVER = "SW__MD_335816936951_004"
LJ_DRIVER = "LennardJones612__MD_414112407348_003"
EDIP_DRIVER = "EDIP__MD_506186535567_002"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def portable_model_cmakelists(name: str, driver: str, param_file: str) -> str:
    """``CMakeLists.txt`` of a KIM portable model ``name`` for ``driver`` with one parameter file."""
    return f"""# KIM portable model written by forcefit; install with
#   kim-api-collections-management install user <this directory>
cmake_minimum_required(VERSION 3.10)

list(APPEND CMAKE_PREFIX_PATH $ENV{{KIM_API_CMAKE_PREFIX_DIR}})
find_package(KIM-API-ITEMS 2.2 REQUIRED CONFIG)

kim_api_items_setup_before_project(ITEM_TYPE "portableModel")
project({name})
kim_api_items_setup_after_project(ITEM_TYPE "portableModel")

add_kim_api_model_library(
  NAME            ${{PROJECT_NAME}}
  DRIVER_NAME     "{driver}"
  PARAMETER_FILES "{param_file}"
  )
"""


def _sw_file(model) -> str:
    values = model.param_values()
    species, n = model.species, len(model.species)
    c0 = values["costheta0"]
    for a in range(n):
        row = [c0[min(a, b) * n + max(a, b) - (min(a, b) ** 2 + min(a, b)) // 2] for b in range(n)]
        if max(row) != min(row):
            raise InputError(f"the KIM SW driver takes cos θ0 of one pair per triplet: cos θ0 must be equal "
                             f"for all pairs around {species[a]!r}, got {row}")
    lines = ["# Stillinger-Weber model written by forcefit for " + SW_DRIVER,
             "# species1 species2 A B p q sigma lambda gamma costheta0 cutoff (eV, Angstrom)",
             str(n)]
    order = ["A", "B", "p", "q", "sigma", "lambda", "gamma", "costheta0", "cutoff"]
    for k, (s1, s2) in enumerate(model.species_pairs()):
        lines.append(f"{s1} {s2} " + " ".join(_num(values[name][k]) for name in order))
    return "\n".join(lines) + "\n"


def _lj_file(model) -> str:
    values = model.param_values()
    lines = ["# Lennard-Jones model written by forcefit for " + LJ_DRIVER,
             "# first line: number of species, shift flag; then species1 species2 cutoff epsilon sigma",
             f"{len(model.species)} {1 if model.shifted else 0}"]
    for k, (s1, s2) in enumerate(model.species_pairs()):
        lines.append(f"{s1} {s2} {_num(values['cutoff'][k])} {_num(values['epsilon'][k])} {_num(values['sigma'][k])}")
    return "\n".join(lines) + "\n"


def _edip_file(model) -> str:
    values = model.param_values()
    lines = [model.species[0]] + [_num(values[name][0]) for name in values]
    lines += ["", "# EDIP model written by forcefit for " + EDIP_DRIVER,
              "# parameters above, in order: " + " ".join(values)]
    return "\n".join(lines) + "\n"


def _driver_and_file(model) -> Tuple[str, str]:
    from .edip import EDIP
    from .lennard_jones import LennardJones
    from .stillinger_weber import StillingerWeber

    if isinstance(model, StillingerWeber):
        return SW_DRIVER, _sw_file(model)
    if isinstance(model, LennardJones):
        return LJ_DRIVER, _lj_file(model)
    if isinstance(model, EDIP):
        return EDIP_DRIVER, _edip_file(model)
    raise InputError(f"no KIM model driver for {type(model).__name__}")


def write_kim_model(model, path: Optional[Union[str, Path]] = None) -> Path:
    """Write ``model`` as a KIM portable model directory and return its path.

    Args:
        path: the directory to create (its name becomes the KIM model name and must be a C
            identifier); default ``./<model_name>_<species>``.
    """
    if path is None:
        path = Path.cwd() / f"{model.model_name}_{''.join(model.species)}"
    path = Path(path)
    name = path.name
    if not _IDENTIFIER.match(name):
        raise InputError(f"the KIM model name (the directory name) must be a C identifier, got {name!r}")
    driver, text = _driver_and_file(model)
    param_file = f"{name}.params"
    path.mkdir(parents=True, exist_ok=True)
    atomic_write(path / param_file, text)
    atomic_write(path / "CMakeLists.txt", portable_model_cmakelists(name, driver, param_file))
    return path


__all__ = ["write_kim_model", "SW_DRIVER", "LJ_DRIVER", "EDIP_DRIVER"]
