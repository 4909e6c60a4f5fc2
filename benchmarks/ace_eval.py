"""Speed of forcefit's ACE evaluator against python-ace, side by side.

Structure: fcc Cu, a = 3.597 Å, 4x4x4 conventional cells (256 atoms).  Potentials:

* ``Cu-III.yaml`` from ../shared/reference/pace/potentials (B-basis; converted to Ctilde by
  forcefit.ace.convert when present, else by python-ace);
* a single-element potential with nradmax_by_orders [16,5,4,3,2,1], lmax_by_orders [0,6,4,3,2,1],
  rcut 7 Å and random coefficients (forcefit.ace.construct when present, else python-ace's
  create_multispecies_basis_config); the number of functions is printed.

Timed: energy + forces + virial of the kernel on a prebuilt neighbour list (median of --repeat runs),
forcefit on 1 and 2 threads, python-ace's product (ACECTildeEvaluator) and recursive
(ACERecursiveEvaluator) evaluators on one core.  Wall-clock and, because shared machines make
wall-clock noisy, the CPU time of the calling thread; the ratio uses CPU times.  KB/atom: working memory
that grows with the number of atoms (neighbour list + per-pair gradient buffer).

Run:  PYTHONPATH=python python benchmarks/ace_eval.py [--repeat 5] [--shared ../shared]
Single-shot, not for loops: it uses both cores for the two-thread timing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from ase.build import bulk


def _median_time(fn, repeat, clock=time.perf_counter):
    """Median time of ``fn`` after one warm-up call (seconds); ``clock=time.thread_time`` gives the CPU
    time of the calling thread, robust on a shared machine."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return float(np.median(times))


def _ctilde_via_pyace(yaml_path: Path, out: Path) -> Path:
    from pyace.basis import ACEBBasisSet
    ACEBBasisSet(str(yaml_path)).to_ACECTildeBasisSet().save_yaml(str(out))
    return out


def _potential_cu3(shared: Path, tmp: Path):
    """(forcefit potential or path, python-ace .yace path or None)."""
    src = shared / "reference" / "pace" / "potentials" / "Cu-III.yaml"
    pyace_yace = None
    try:
        pyace_yace = _ctilde_via_pyace(src, tmp / "Cu-III.yace")
    except ImportError:
        pass
    try:
        from forcefit.ace.convert import bbasis_to_ctilde  # noqa: F401
        return src, pyace_yace
    except ImportError:
        return pyace_yace, pyace_yace


LARGE_SPEC = {
    "deltaSplineBins": 0.001, "elements": ["Cu"],
    "embeddings": {"ALL": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1, 1, 0.5], "ndensity": 2}},
    "bonds": {"ALL": {"radbase": "ChebExpCos", "radparameters": [5.25], "rcut": 7.0, "dcut": 0.01}},
    "functions": {"ALL": {"nradmax_by_orders": [16, 5, 4, 3, 2, 1], "lmax_by_orders": [0, 6, 4, 3, 2, 1],
                          "coefs_init": "random"}},
}


def _potential_large(tmp: Path):
    """(path of a .yace both codes read, who built it)."""
    out = tmp / "large.yace"
    try:
        from forcefit.ace.construct import construct_bbasis
        from forcefit.ace.convert import bbasis_to_ctilde
        from forcefit.ace.yace_io import write_yace
        write_yace(bbasis_to_ctilde(construct_bbasis(LARGE_SPEC, np.random.default_rng(42))), out)
        return out, "forcefit.ace.construct"
    except Exception as exc:  # construction not available or not working: build it with python-ace
        reason = f"{type(exc).__name__}: {exc}"
    from pyace.basis import ACEBBasisSet
    from pyace.multispecies_basisextension import create_multispecies_basis_config
    spec = {k: v for k, v in LARGE_SPEC.items()}
    cfg = create_multispecies_basis_config(spec)
    rng = np.random.default_rng(42)
    cfg.set_all_coeffs(list(rng.normal(size=len(cfg.get_all_coeffs())) * 0.1))
    ACEBBasisSet(cfg).to_ACECTildeBasisSet().save_yaml(str(out))
    return out, f"python-ace (forcefit construction failed: {reason[:120]})"


def bench_forcefit(potential, atoms, repeat):
    from forcefit.ace.evaluator import ACEEvaluator, csr_neighbors
    out = {}
    ev = ACEEvaluator(potential)
    nl = csr_neighbors(atoms.positions, atoms.cell.array, atoms.pbc, ev.cutoff)
    species = ev.species_of(atoms.get_chemical_symbols())
    nfunc = sum(len(v) for v in ev.potential.functions.values())
    out["functions"] = nfunc
    out["nodes"] = ev.model.num_nodes(0)
    out["neighbours"] = len(nl.neigh) / len(atoms)
    for threads in (1, 2):
        ev.num_threads = threads
        t = _median_time(lambda: ev.compute_csr(species, nl, True), repeat)
        out[f"ff_{threads}"] = t / len(atoms) * 1e6
    ev.num_threads = 1
    out["ff_cpu"] = _median_time(lambda: ev.compute_csr(species, nl, True), repeat, time.thread_time) / len(atoms) * 1e6
    # working memory that grows with the system: CSR list (owner 8 B + r_ij 24 B per pair), the per-pair
    # gradient buffer (24 B), per-atom species/energy/force; model tables and per-thread workspaces are fixed
    pairs_per_atom = len(nl.neigh) / len(atoms)
    out["ff_bytes_per_atom"] = pairs_per_atom * (8 + 24 + 24) + 8 + 4 + 8 + 24
    ev.num_threads = 1
    t = _median_time(lambda: ev.compute(atoms.get_chemical_symbols(), atoms.positions, atoms.cell.array,
                                        atoms.pbc), repeat)
    out["ff_full_1"] = t / len(atoms) * 1e6
    e = ev.compute_csr(species, nl, True)
    out["energy"] = float(np.sum(e[0]))
    return out


def bench_pyace(yace_path, atoms, repeat):
    from pyace.atomicenvironment import aseatoms_to_atomicenvironment
    from pyace.basis import ACECTildeBasisSet
    from pyace.calculator import ACECalculator
    from pyace.evaluator import ACECTildeEvaluator, ACERecursiveEvaluator
    basis = ACECTildeBasisSet(str(yace_path))
    ae = aseatoms_to_atomicenvironment(atoms, cutoff=basis.cutoffmax)
    out = {}
    for name, cls in (("product", ACECTildeEvaluator), ("recursive", ACERecursiveEvaluator)):
        evaluator = cls()
        evaluator.set_basis(basis)
        calc = ACECalculator()
        calc.set_evaluator(evaluator)
        t = _median_time(lambda: calc.compute(ae), repeat)
        out[name] = t / len(atoms) * 1e6
        out[name + "_cpu"] = _median_time(lambda: calc.compute(ae), repeat, time.thread_time) / len(atoms) * 1e6
        out[f"energy_{name}"] = calc.energy
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    atoms = bulk("Cu", "fcc", a=3.597, cubic=True) * (4, 4, 4)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        cu3_ff, cu3_py = _potential_cu3(Path(args.shared), tmp)
        large, built_by = _potential_large(tmp)
        rows = [("Cu-III", cu3_ff, cu3_py), ("large", large, large)]
        print(f"fcc Cu 4x4x4 ({len(atoms)} atoms); µs/atom for energy+forces+virial, median of {args.repeat}")
        print(f"large potential built by {built_by}")
        print("wall-clock: ff 1thr, ff 2thr, ff+NL (with neighbour list), pyace prod/rec;"
              " CPU time of one thread: ff cpu, rec cpu; ratio = ff cpu / best pyace cpu")
        print(f"{'potential':10s} {'funcs':>6s} {'nodes':>7s} {'ff 1thr':>8s} {'ff 2thr':>8s} {'ff+NL':>7s} "
              f"{'pyace prod':>10s} {'pyace rec':>9s} {'ff cpu':>7s} {'rec cpu':>7s} {'ratio':>6s} "
              f"{'KB/atom':>8s} {'dE':>9s}")
        for name, ff_pot, py_pot in rows:
            ff = bench_forcefit(ff_pot, atoms, args.repeat)
            py = {}
            if py_pot is not None:
                try:
                    py = bench_pyace(py_pot, atoms, args.repeat)
                except ImportError:
                    py = {}
            best = min(py.get("product_cpu", np.inf), py.get("recursive_cpu", np.inf))
            de = ff["energy"] - py["energy_recursive"] if "energy_recursive" in py else float("nan")
            print(f"{name:10s} {ff['functions']:6d} {ff['nodes']:7d} {ff['ff_1']:8.1f} {ff['ff_2']:8.1f} "
                  f"{ff['ff_full_1']:7.1f} {py.get('product', float('nan')):10.1f} "
                  f"{py.get('recursive', float('nan')):9.1f} {ff['ff_cpu']:7.1f} "
                  f"{py.get('recursive_cpu', float('nan')):7.1f} {ff['ff_cpu'] / best:6.2f} "
                  f"{ff['ff_bytes_per_atom'] / 1024:8.2f} {de:9.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
