"""``write_kim_model``: the written KIM portable models install with
``kim-api-collections-management install user DIR`` into a collection under tmp_path and, run
through Debian's LAMMPS (``kim init MODEL metal`` + ``kim interactions``), reproduce forcefit's
energies, forces and stress. The install tests skip, saying why, without libkim-api-dev,
openkim-models (the drivers) or LAMMPS; the file-format tests always run."""

import shutil
import subprocess

import numpy as np
import pytest
from ase.build import bulk

from forcefit.errors import InputError
from forcefit.models.edip import EDIP
from forcefit.models.kim_export import EDIP_DRIVER, LJ_DRIVER, SW_DRIVER
from forcefit.models.lennard_jones import LennardJones
from forcefit.models.stillinger_weber import StillingerWeber
from kernel_checks import evaluate, random_cluster, rel_err
from lammps_runner import run_lammps


@pytest.fixture
def kim_env(tmp_path):
    """Environment of a KIM user collection inside tmp_path."""
    tool = shutil.which("kim-api-collections-management")
    if tool is None:
        pytest.skip("kim-api-collections-management not found (Debian: apt-get install libkim-api-dev openkim-models)")
    conf = tmp_path / "kim-api.conf"
    dirs = {key: tmp_path / "collection" / key for key in ("md", "pm", "sm")}
    for d in dirs.values():
        d.mkdir(parents=True)
    conf.write_text(f"model-drivers-dir = {dirs['md']}\nportable-models-dir = {dirs['pm']}\n"
                    f"simulator-models-dir = {dirs['sm']}\n")
    env = {"KIM_API_CONFIGURATION_FILE": str(conf)}
    listing = subprocess.run([tool, "list"], env=_with(env), cwd=tmp_path, capture_output=True, text=True).stdout
    for driver in (SW_DRIVER, LJ_DRIVER, EDIP_DRIVER):
        if driver not in listing:
            pytest.skip(f"KIM model driver {driver} not installed (Debian: apt-get install openkim-models)")
    env["FORCEFIT_TEST_TMP"] = str(tmp_path)
    return env


def _with(env):
    import os

    full = dict(os.environ)
    full.update(env)
    return full


def install(model_dir, env):
    # cwd in tmp: the KIM tools write kim.log into the working directory
    proc = subprocess.run(["kim-api-collections-management", "install", "user", str(model_dir)],
                          env=_with(env), cwd=env["FORCEFIT_TEST_TMP"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def compare_through_lammps(model, atoms, species, tmp_path, env, name):
    model_dir = model.write_kim_model(tmp_path / name)
    install(model_dir, env)
    ref = run_lammps(atoms, species, [f"kim init {name} metal", "kim interactions " + " ".join(species)],
                     tmp_path / f"run_{name}", env=env)
    res = evaluate(model, [atoms], stress=bool(atoms.pbc.all()))
    assert res.energy[0] == pytest.approx(ref["energy"], rel=1e-11)
    assert rel_err(res.forces, ref["forces"]) < 1e-10
    if atoms.pbc.all():
        assert rel_err(res.stress[0], ref["stress"]) < 1e-10


def rattled_si(seed=1, a=5.431):
    atoms = bulk("Si", "diamond", a=a, cubic=True).repeat(2)
    atoms.rattle(0.12, seed=seed)
    return atoms


def test_sw_si_reproduced_by_kim(kim_env, tmp_path):
    compare_through_lammps(StillingerWeber(), rattled_si(), ["Si"], tmp_path, kim_env, "forcefit_SW_Si")


def test_sw_two_species_reproduced_by_kim(kim_env, tmp_path):
    model = StillingerWeber(["Si", "C"], A=[15.28, 14.0, 16.5], B=[0.60, 0.7, 0.55], p=[4.0, 4.2, 3.9],
                            q=[0.0, 0.1, 0.2], sigma=[2.0951, 2.0, 1.9], gamma=[2.51, 2.3, 2.4],
                            cutoff=[3.77, 3.6, 3.5], **{"lambda": [45.5, 40.0, 50.0]})
    atoms = rattled_si(2, a=5.3)
    atoms.symbols[::5] = "C"
    compare_through_lammps(model, atoms, ["Si", "C"], tmp_path, kim_env, "forcefit_SW_SiC")


@pytest.mark.parametrize("shifted", [False, True])
def test_lj_reproduced_by_kim(kim_env, tmp_path, shifted):
    model = LennardJones(["Ar", "Kr"], shifted=shifted, epsilon=[0.0104, 0.0125, 0.0140],
                         sigma=[3.405, 3.5, 3.65], cutoff=[8.0, 8.3, 8.6])
    atoms = bulk("Ar", "fcc", a=5.4, cubic=True).repeat(3)
    atoms.rattle(0.15, seed=3)
    atoms.symbols[::3] = "Kr"
    compare_through_lammps(model, atoms, ["Ar", "Kr"], tmp_path, kim_env, f"forcefit_LJ_{int(shifted)}")


def test_edip_reproduced_by_kim(kim_env, tmp_path):
    model = EDIP(A=7.5, lam=1.6, u2=30.0, b=3.0)  # not the published set, b != a
    atoms = random_cluster(64, 0.05, 2.0, np.random.default_rng(4))
    compare_through_lammps(model, atoms, ["Si"], tmp_path, kim_env, "forcefit_EDIP_Si")


def test_sw_parameter_file_round_trip(tmp_path):
    model = StillingerWeber(["Si", "Ge"], A=[15.0, 14.0, 13.0], costheta0=-0.3)
    path = model.write_kim_model(tmp_path / "SW_SiGe")
    lines = [line.split() for line in (path / "SW_SiGe.params").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == ["2"]
    assert [line[:2] for line in lines[1:]] == [["Si", "Si"], ["Si", "Ge"], ["Ge", "Ge"]]
    table = np.array([[float(v) for v in line[2:]] for line in lines[1:]])
    names = ["A", "B", "p", "q", "sigma", "lambda", "gamma", "costheta0", "cutoff"]
    for col, name in enumerate(names):
        assert np.array_equal(table[:, col], model.model_params[name].value)
    text = (path / "CMakeLists.txt").read_text()
    assert SW_DRIVER in text and "project(SW_SiGe)" in text


def test_kim_export_errors(tmp_path):
    with pytest.raises(InputError, match="cos θ0"):
        StillingerWeber(["Si", "C"], costheta0=[-1 / 3, -0.3, -1 / 3]).write_kim_model(tmp_path / "bad")
    with pytest.raises(InputError, match="C identifier"):
        StillingerWeber().write_kim_model(tmp_path / "not-a-name")
