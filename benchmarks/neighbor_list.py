"""Time full neighbor lists (i, j, S, d) per atom: forcefit (1 and 2 OpenMP threads), vesin, matscipy, ASE.

System: fcc Cu, a = 3.61 Å, cubic supercells of about 100, 1k, 10k and 100k atoms, cutoffs 5 and 7 Å.
Each entry is the best of a few repeats in µs per atom. forcefit's thread counts run in subprocesses
(OpenMP reads OMP_NUM_THREADS once at start). ASE is skipped at 100k atoms (minutes and many GB).

    PYTHONPATH=python python benchmarks/neighbor_list.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
from ase.build import bulk

SIZES = {"~100": (3, 3, 3), "~1k": (6, 6, 7), "~10k": (14, 14, 13), "~100k": (29, 29, 30)}
CUTOFFS = (5.0, 7.0)


def system(reps):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(reps)
    atoms.rattle(0.01, seed=0)
    return atoms.positions, atoms.cell.array, np.array([True, True, True])


def best_time(function, n_atoms):
    repeats = 5 if n_atoms < 20000 else 2
    function()  # warm-up (allocations, imports)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return 1e6 * best / n_atoms


def run_forcefit(sizes):
    from forcefit.neighbor import neighbor_list

    out = {}
    for label in sizes:
        positions, cell, pbc = system(SIZES[label])
        for rc in CUTOFFS:
            out[f"{label}/{rc}"] = best_time(lambda: neighbor_list(positions, cell, pbc, rc, quantities="ijSd"),
                                             len(positions))
    return out


def forcefit_in_subprocess(threads, sizes):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    done = subprocess.run([sys.executable, __file__, "--forcefit-only", *sizes], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout)


def run_others(label, rc):
    import vesin
    from ase.neighborlist import neighbor_list as ase_neighbor_list
    from ase import Atoms
    from matscipy.neighbours import neighbour_list

    positions, cell, pbc = system(SIZES[label])
    n = len(positions)
    atoms = Atoms("Cu%d" % n, positions=positions, cell=cell, pbc=True)
    calculator = vesin.NeighborList(cutoff=rc, full_list=True)
    row = {"vesin": best_time(lambda: calculator.compute(positions, cell, True, quantities="ijSd"), n),
           "matscipy": best_time(lambda: neighbour_list("ijSd", atoms, rc), n)}
    row["ase"] = None if n > 20000 else best_time(lambda: ase_neighbor_list("ijSd", atoms, rc), n)
    return n, row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forcefit-only", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="skip the 100k-atom systems")
    args = parser.parse_args()
    if args.forcefit_only is not None:
        print(json.dumps(run_forcefit(args.forcefit_only)))
        return
    sizes = [s for s in SIZES if not (args.quick and s == "~100k")]
    ours = {t: forcefit_in_subprocess(t, sizes) for t in (1, 2)}
    print(f"Full neighbor list i,j,S,d of fcc Cu (a = 3.61 Å); best time per atom in µs "
          f"(machine: {os.cpu_count()} cores; vesin, matscipy, ASE single-threaded)")
    header = f"{'atoms':>7} {'rc/Å':>5} {'forcefit 1 thr':>15} {'forcefit 2 thr':>15} {'vesin':>8} {'matscipy':>9} {'ase':>9}"
    print(header)
    print("-" * len(header))
    for label in sizes:
        for rc in CUTOFFS:
            n, row = run_others(label, rc)
            key = f"{label}/{rc}"
            ase = "skipped" if row["ase"] is None else f"{row['ase']:.2f}"
            print(f"{n:>7} {rc:>5.1f} {ours[1][key]:>15.3f} {ours[2][key]:>15.3f} {row['vesin']:>8.3f} "
                  f"{row['matscipy']:>9.3f} {ase:>9}")
    print("ASE skipped above 20k atoms (minutes per call and several GB of memory).")


if __name__ == "__main__":
    main()
