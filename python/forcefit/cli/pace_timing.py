"""``pace_timing``: time an ACE potential with forcefit's evaluator, like python-ace's tool.

    pace_timing POT.(yaml|yace|ace) [-n 10] [--threads 1] [--seed 42]

Builds random fcc and bcc cells of 16 and 32 atoms (lattice constants of Al, 4.05 and 3.24 Å,
species drawn from the potential's elements, atoms rattled by 0.05 Å, seeded), evaluates energy,
forces and stress ``-n`` times each and prints the median time per atom (µs) for each cell and
overall.  The neighbour list is built once per cell and not timed.  Exit status 1 when the potential
cannot be read (message on stderr).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import List, Optional

import numpy as np

from ..errors import ForcefitError

PROG = "pace_timing"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Timing of an ACE potential (energy + forces).")
    parser.add_argument("potential_file", help="potential file (.yaml, .yace or .ace)")
    parser.add_argument("-n", "--repeat", type=int, default=10, help="evaluations per structure (default 10)")
    parser.add_argument("--threads", type=int, default=1, help="OpenMP threads (default 1)")
    parser.add_argument("--seed", type=int, default=42, help="random seed of the structures (default 42)")
    return parser


def timing_structures(elements: List[str], seed: int = 42):
    """Rattled fcc/bcc cells of 16 and 32 atoms with random species from ``elements``."""
    from ase.build import bulk

    rng = np.random.default_rng(seed)
    cells = [("fcc", bulk("Al", "fcc", a=4.05, cubic=True), [(2, 2, 1), (2, 2, 2)]),
             ("bcc", bulk("Al", "bcc", a=3.24, cubic=True), [(2, 2, 2), (2, 2, 4)])]
    out = []
    for name, unit, reps in cells:
        for rep in reps:
            atoms = unit * rep
            atoms.set_chemical_symbols(list(rng.choice(elements, len(atoms))))
            atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
            out.append((f"{name} {len(atoms)} atoms", atoms))
    return out


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    from ..ace.evaluator import ACEEvaluator, csr_neighbors

    try:
        ev = ACEEvaluator(args.potential_file, num_threads=args.threads)
    except (ForcefitError, OSError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
    nfunc = sum(len(v) for v in ev.potential.functions.values())
    print(f"{args.potential_file}: {len(ev.potential.elements)} element(s) {' '.join(ev.potential.elements)}, "
          f"{nfunc} Ctilde functions, cutoff {ev.cutoff:g} Å, {args.threads} thread(s)")
    per_atom = []
    for label, atoms in timing_structures(ev.potential.elements, args.seed):
        species = ev.species_of(atoms.get_chemical_symbols())
        nl = csr_neighbors(atoms.positions, atoms.cell.array, atoms.pbc, ev.cutoff)
        ev.compute_csr(species, nl, True)
        times = []
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            ev.compute_csr(species, nl, True)
            times.append(time.perf_counter() - t0)
        us = float(np.median(times)) / len(atoms) * 1e6
        per_atom.append(us)
        print(f"  {label:16s} {len(nl.neigh) / len(atoms):6.1f} neighbours/atom  {us:9.2f} µs/atom")
    print(f"median over structures: {np.median(per_atom):.2f} µs/atom (energy + forces + stress)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
