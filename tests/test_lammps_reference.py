"""forcefit's SW and EDIP kernels against Debian's LAMMPS (pair_style sw, edip, edip/multi with
the Si.sw / Si.edip files from lammps-data) on rattled, strained and non-periodic structures.
Skips, saying why, when LAMMPS or the potential files are absent."""

from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk

from forcefit.models.edip import EDIP
from forcefit.models.stillinger_weber import StillingerWeber
from kernel_checks import evaluate, random_cluster, rel_err
from lammps_runner import potential_file, run_lammps


def structures():
    rattled = bulk("Si", "diamond", a=5.431, cubic=True).repeat(2)
    rattled.rattle(0.12, seed=1)
    strained = bulk("Si", "diamond", a=5.431, cubic=True).repeat((2, 2, 1))
    strained.set_cell(strained.cell.array @ np.diag([1.04, 0.97, 1.01]), scale_atoms=True)
    strained.rattle(0.2, seed=2)
    cluster = random_cluster(30, 0.05, 2.0, np.random.default_rng(3), pbc=False)
    liquid = random_cluster(64, 0.05, 2.0, np.random.default_rng(4))
    return {"rattled": rattled, "strained": strained, "cluster": cluster, "liquid": liquid}


def read_sw_entry(path: Path):
    """The Si Si Si entry of a LAMMPS .sw file as KIM-driver parameters."""
    tokens = " ".join(line.split("#")[0] for line in path.read_text().splitlines()).split()
    k = next(i for i in range(len(tokens) - 2) if tokens[i:i + 3] == ["Si", "Si", "Si"])
    eps, sigma, a, lam, gamma, costheta, A, B, p, q = (float(v) for v in tokens[k + 3:k + 13])
    return dict(A=eps * A, B=B, p=p, q=q, sigma=sigma, gamma=gamma * sigma, cutoff=a * sigma,
                costheta0=costheta, **{"lambda": eps * lam})


@pytest.mark.parametrize("name", ["rattled", "strained", "cluster", "liquid"])
def test_sw_matches_lammps(name, tmp_path):
    sw_file = potential_file("Si.sw")
    atoms = structures()[name]
    ref = run_lammps(atoms, ["Si"], ["pair_style sw", f"pair_coeff * * {sw_file} Si"], tmp_path)
    res = evaluate(StillingerWeber(**read_sw_entry(sw_file)), [atoms], stress=bool(atoms.pbc.all()))
    assert res.energy[0] == pytest.approx(ref["energy"], rel=1e-12)
    assert rel_err(res.forces, ref["forces"]) < 1e-10
    if atoms.pbc.all():
        assert rel_err(res.stress[0], ref["stress"]) < 1e-10


@pytest.mark.parametrize("name", ["rattled", "strained", "cluster", "liquid"])
def test_edip_matches_lammps(name, tmp_path):
    edip_file = potential_file("Si.edip")
    atoms = structures()[name]
    res = evaluate(EDIP(), [atoms], stress=bool(atoms.pbc.all()))
    # edip/multi evaluates the functions directly: agreement to rounding
    ref = run_lammps(atoms, ["Si"], ["pair_style edip/multi", f"pair_coeff * * {edip_file} Si"], tmp_path / "multi")
    assert res.energy[0] == pytest.approx(ref["energy"], rel=1e-12)
    assert rel_err(res.forces, ref["forces"]) < 1e-10
    if atoms.pbc.all():
        assert rel_err(res.stress[0], ref["stress"]) < 1e-10
    # plain edip interpolates tabulated functions: agreement to the table's accuracy
    ref = run_lammps(atoms, ["Si"], ["pair_style edip", f"pair_coeff * * {edip_file} Si"], tmp_path / "plain")
    assert res.energy[0] == pytest.approx(ref["energy"], rel=1e-7)
    assert rel_err(res.forces, ref["forces"]) < 1e-5


def test_write_lammps_sw_two_species(tmp_path):
    # every per-pair parameter distinct, cos θ0 included (the file spells out each triplet)
    from forcefit.models.stillinger_weber import StillingerWeber

    model = StillingerWeber(["Si", "C"], A=[15.28, 14.0, 16.5], B=[0.60, 0.7, 0.55], p=[4.0, 4.2, 3.9],
                            q=[0.0, 0.1, 0.2], sigma=[2.0951, 2.0, 1.9], gamma=[2.51, 2.3, 2.4],
                            costheta0=[-1 / 3, -0.3, -0.35], cutoff=[3.77, 3.6, 3.5],
                            **{"lambda": [45.5, 40.0, 50.0]})
    path = model.write_lammps(tmp_path / "SiC.sw")
    for name in ("strained", "cluster"):
        atoms = structures()[name]
        atoms.symbols[::4] = "C"
        ref = run_lammps(atoms, ["Si", "C"], ["pair_style sw", f"pair_coeff * * {path} Si C"], tmp_path / name)
        res = evaluate(model, [atoms], stress=bool(atoms.pbc.all()))
        assert res.energy[0] == pytest.approx(ref["energy"], rel=1e-12)
        assert rel_err(res.forces, ref["forces"]) < 1e-10
        if atoms.pbc.all():
            assert rel_err(res.stress[0], ref["stress"]) < 1e-10


def test_write_lammps_edip(tmp_path):
    model = EDIP(A=7.5, lam=1.6, u2=30.0, a=3.2, b=3.2)
    path = model.write_lammps(tmp_path / "Si.edip")
    atoms = structures()["liquid"]
    ref = run_lammps(atoms, ["Si"], ["pair_style edip/multi", f"pair_coeff * * {path} Si"], tmp_path / "run")
    res = evaluate(model, [atoms], stress=True)
    assert res.energy[0] == pytest.approx(ref["energy"], rel=1e-12)
    assert rel_err(res.forces, ref["forces"]) < 1e-10
    assert rel_err(res.stress[0], ref["stress"]) < 1e-10


def test_write_lammps_edip_needs_one_cutoff(tmp_path):
    from forcefit.errors import InputError

    with pytest.raises(InputError, match="one cutoff"):
        EDIP(b=3.0).write_lammps(tmp_path / "x.edip")
