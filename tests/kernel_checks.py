"""Shared checks for the physics kernels (LJ, SW, EDIP): central finite differences of energy,
forces and stress with respect to positions, strain and every model parameter, and the
invariances every potential must have. Used by tests/test_kernels_*.py.

Every check builds a fresh NeighborBatch for displaced/strained structures, so it also tests the
batch construction. Errors are measured relative to the largest magnitude of the quantity
being compared (max-norm), which does not break near zero.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from forcefit.models.batch import NeighborBatch, run_kernel


def evaluate(model, configs, params=None, stress=False, param_derivs=False, cutoff=None):
    """BatchResult of ``model`` on a list of ase.Atoms (params: flat vector, default current)."""
    batch = NeighborBatch.from_configs(configs, model.get_supported_species(),
                                       cutoff or model.get_influence_distance())
    flat = model.get_model_params_flat() if params is None else params
    return run_kernel(model._kernel, batch, flat, stress=stress, param_derivs=param_derivs)


def rel_err(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    scale = max(np.max(np.abs(b)), 1e-12)
    return float(np.max(np.abs(a - b)) / scale)


def fd_forces(model, atoms: Atoms, h: float = 1e-5, atoms_to_check=None):
    """(analytic forces, central-difference -dE/dr) for the chosen atoms, arrays [k,3]."""
    res = evaluate(model, [atoms])
    idx = range(len(atoms)) if atoms_to_check is None else atoms_to_check
    fd = []
    for a in idx:
        row = []
        for x in range(3):
            plus, minus = atoms.copy(), atoms.copy()
            plus.positions[a, x] += h
            minus.positions[a, x] -= h
            e = evaluate(model, [plus, minus]).energy
            row.append(-(e[0] - e[1]) / (2 * h))
        fd.append(row)
    return res.forces[list(idx)], np.array(fd)


def strained(atoms: Atoms, eps: np.ndarray) -> Atoms:
    """Copy of ``atoms`` with cell and positions deformed by (1 + eps)."""
    f = np.eye(3) + eps
    out = atoms.copy()
    out.set_cell(atoms.cell.array @ f.T, scale_atoms=False)
    out.positions = atoms.positions @ f.T
    return out


VOIGT = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]


def fd_stress(model, atoms: Atoms, h: float = 1e-6):
    """(analytic stress [6], (1/V) dE/dε by central differences [6]) in Voigt order."""
    res = evaluate(model, [atoms], stress=True)
    fd = []
    for a, b in VOIGT:
        eps = np.zeros((3, 3))
        # symmetric strain; off-diagonal: engineering shear h, whose energy derivative is V σ_ab
        eps[a, b] = eps[b, a] = h if a == b else h / 2
        e = evaluate(model, [strained(atoms, eps), strained(atoms, -eps)]).energy
        fd.append((e[0] - e[1]) / (2 * h) / atoms.get_volume())
    return res.stress[0], np.array(fd)


def fd_params(model, configs, rel_h: float = 1e-6, stress=True, skip=()):
    """Analytic and central-difference derivatives of energy, forces (and stress) with respect
    to every flat parameter. Returns dict name -> (analytic, fd) with arrays [..., P]."""
    flat = model.get_model_params_flat()
    cutoff = model.get_influence_distance() + 0.01  # room for the perturbed cutoff parameters
    res = evaluate(model, configs, stress=stress, param_derivs=True, cutoff=cutoff)
    fd_e, fd_f, fd_s = [], [], []
    for k in range(len(flat)):
        h = rel_h * max(1.0, abs(flat[k]))
        if k in skip:
            fd_e.append(np.zeros_like(res.energy))
            fd_f.append(np.zeros_like(res.forces))
            fd_s.append(np.zeros_like(res.stress) if stress else None)
            continue
        p, m = flat.copy(), flat.copy()
        p[k] += h
        m[k] -= h
        rp = evaluate(model, configs, params=p, stress=stress, cutoff=cutoff)
        rm = evaluate(model, configs, params=m, stress=stress, cutoff=cutoff)
        fd_e.append((rp.energy - rm.energy) / (2 * h))
        fd_f.append((rp.forces - rm.forces) / (2 * h))
        if stress:
            fd_s.append((rp.stress - rm.stress) / (2 * h))
    out = {"energy": (res.denergy, np.stack(fd_e, axis=-1)),
           "forces": (res.dforces, np.stack(fd_f, axis=-1))}
    if stress:
        out["stress"] = (res.dstress, np.stack(fd_s, axis=-1))
    return out


def assert_param_derivs(model, configs, tol=1e-6, stress=True, skip=()):
    """fd_params, checked parameter by parameter: error relative to the largest magnitude of
    that parameter's derivative (over all configurations/atoms/components) or of the value
    itself, so a tiny derivative is compared at the scale of the quantity it changes."""
    checks = fd_params(model, configs, stress=stress, skip=skip)
    res = evaluate(model, configs, stress=stress)
    values = {"energy": res.energy, "forces": res.forces, "stress": res.stress}
    names = [f"{name}[{k}]" for name, p in model.model_params.items() for k in range(len(p))]
    worst = 0.0
    for what, (analytic, fd) in checks.items():
        for k, name in enumerate(names):
            if k in skip:
                continue
            a, f = analytic[..., k], fd[..., k]
            scale = max(np.max(np.abs(f)), 1e-8 * np.max(np.abs(values[what])), 1e-12)
            err = float(np.max(np.abs(a - f)) / scale)
            worst = max(worst, err)
            assert err < tol, f"d{what}/d{name}: relative error {err:.2e}"
    return worst


def random_rotation(rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q @ np.diag(np.sign(np.diag(r)))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


def check_invariances(model, atoms: Atoms, rng, tol=1e-10):
    """Energy invariant, forces covariant under rotation, translation and permutation;
    forces sum to zero; atom energies sum to the energy."""
    base = evaluate(model, [atoms], stress=bool(np.all(atoms.pbc)))
    e0 = base.energy[0]
    assert abs(base.atom_energy.sum() - e0) <= tol * max(1.0, abs(e0))
    assert np.max(np.abs(base.forces.sum(axis=0))) <= tol * max(1.0, np.max(np.abs(base.forces)))

    rot = random_rotation(rng)
    turned = atoms.copy()
    turned.set_cell(atoms.cell.array @ rot.T, scale_atoms=False)
    turned.positions = atoms.positions @ rot.T
    rr = evaluate(model, [turned])
    assert abs(rr.energy[0] - e0) <= tol * max(1.0, abs(e0))
    assert rel_err(rr.forces, base.forces @ rot.T) <= 1e-9

    moved = atoms.copy()
    moved.positions += rng.normal(size=3)
    rm = evaluate(model, [moved])
    assert abs(rm.energy[0] - e0) <= tol * max(1.0, abs(e0))
    assert rel_err(rm.forces, base.forces) <= 1e-9

    perm = rng.permutation(len(atoms))
    shuffled = atoms[perm]
    rp = evaluate(model, [shuffled])
    assert abs(rp.energy[0] - e0) <= tol * max(1.0, abs(e0))
    assert rel_err(rp.forces, base.forces[perm]) <= 1e-9
    assert rel_err(rp.atom_energy, base.atom_energy[perm]) <= 1e-9


def random_cluster(n: int, density: float, min_dist: float, rng, symbols="Si", pbc=True) -> Atoms:
    """Random structure (liquid-like) of n atoms at number density (Å^-3) with a minimum
    distance, periodic cubic box or a free cluster of the same density."""
    side = (n / density) ** (1.0 / 3.0)
    cell = np.eye(3) * side
    pos = []
    while len(pos) < n:
        trial = rng.uniform(0, side, size=3)
        ok = True
        for p in pos:
            d = trial - p
            if pbc:
                d -= side * np.round(d / side)
            if np.linalg.norm(d) < min_dist:
                ok = False
                break
        if ok:
            pos.append(trial)
    syms = [symbols] * n if isinstance(symbols, str) else list(symbols)
    if pbc:
        return Atoms(syms, positions=pos, cell=cell, pbc=True)
    return Atoms(syms, positions=pos, pbc=False)


def results_for_thread_counts(script: str, tmp_path, threads=("1", "2", "3")):
    """Runs the Python ``script`` (which saves an .npz to ``sys.argv[1]``) once per OpenMP thread
    count, on the forcefit under test; returns the loaded results in that order."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import forcefit

    path = tmp_path / "run.py"
    path.write_text(script)
    python_dir = Path(forcefit.__file__).resolve().parents[1]  # the forcefit this test imports
    results = []
    for n in threads:
        env = dict(os.environ, OMP_NUM_THREADS=n,
                   PYTHONPATH=os.pathsep.join([str(python_dir), os.environ.get("PYTHONPATH", "")]))
        out = tmp_path / f"t{n}.npz"
        subprocess.run([sys.executable, str(path), str(out)], env=env, check=True, timeout=120)
        results.append(np.load(out))
    return results
