"""forcefit's KIM-API model driver, through Debian's LAMMPS (``kim init`` / ``kim interactions``).

The driver and portable models are written by :mod:`forcefit.kim`, installed with
``kim-api-collections-management`` into a user collection inside the test's temporary folder
(``KIM_API_CONFIGURATION_FILE``), and evaluated by ``/usr/bin/lmp`` on periodic, sheared, two-element
cells; energies, forces, per-atom energies and the virial must equal forcefit's ACECalculator to 1e-10
relative, and per-atom virials must add up to the virial.  Needs apt packages ``libkim-api-dev``
(kim-api-collections-management, KIM-API-ITEMS CMake config), ``lammps`` (built with KIM), ``cmake``
and a C++17 compiler; skips otherwise.  Building the driver takes a while: those tests are marked slow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from lammps_helpers import NKTV2P_METAL, assert_close, fcc_cell, reference, write_data  # noqa: E402

from forcefit.errors import InputError  # noqa: E402
from forcefit.kim import DRIVER_NAME, write_driver, write_model  # noqa: E402

DEBIAN_LMP = Path("/usr/bin/lmp")
KIM_CM = shutil.which("kim-api-collections-management")


def _debian_lmp_has_kim() -> bool:
    if not DEBIAN_LMP.exists():
        return False
    out = subprocess.run([str(DEBIAN_LMP), "-h"], capture_output=True, text=True, timeout=60).stdout
    return " KIM " in out or "\nKIM " in out or " KIM\n" in out


@pytest.fixture(scope="module")
def kim_collection(tmp_path_factory):
    if KIM_CM is None or not _debian_lmp_has_kim():
        pytest.skip("needs apt packages libkim-api-dev and lammps (with KIM): kim-api-collections-management, "
                    "/usr/bin/lmp")
    root = tmp_path_factory.mktemp("kim")
    for sub in ("md", "pm", "sm"):
        (root / sub).mkdir()
    conf = root / "kim-api.conf"
    conf.write_text(f"model-drivers-dir = {root / 'md'}\nportable-models-dir = {root / 'pm'}\n"
                    f"simulator-models-dir = {root / 'sm'}\n")
    env = dict(os.environ, KIM_API_CONFIGURATION_FILE=str(conf))
    driver = write_driver(root / "driver")
    proc = subprocess.run([KIM_CM, "install", "user", str(driver)], capture_output=True, text=True, env=env,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root, env


def install_model(kim_collection, potential, name):
    root, env = kim_collection
    model = write_model(potential, root / name, name)
    proc = subprocess.run([KIM_CM, "install", "user", str(model)], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return model


def run_kim(kim_collection, name, atoms, types, elements, workdir: Path, units: str = "metal", extra: str = ""):
    _, env = kim_collection
    workdir.mkdir(exist_ok=True)
    write_data(workdir / "data", atoms.cell.array, atoms.positions, types, len(elements), [30.0] * len(elements))
    (workdir / "in.kim").write_text(f"""kim init {name} {units}
atom_style atomic
boundary p p p
atom_modify map array sort 0 0
read_data {workdir / 'data'}
kim interactions {' '.join(elements)}
{extra}
compute peatom all pe/atom
compute vir all pressure NULL virial
compute satom all stress/atom NULL virial
thermo_style custom pe vol c_vir[1] c_vir[2] c_vir[3] c_vir[4] c_vir[5] c_vir[6]
thermo_modify format float %.17g
dump d all custom 1 {workdir / 'dump'} id fx fy fz c_peatom c_satom[1] c_satom[2] c_satom[3] c_satom[4] c_satom[5] c_satom[6]
dump_modify d format float %.17g sort id
run 0
""")
    proc = subprocess.run([str(DEBIAN_LMP), "-in", str(workdir / "in.kim"), "-log", "none"], capture_output=True,
                          text=True, env=env, cwd=workdir, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    head = max(k for k, line in enumerate(lines) if line.split()[:2] == ["PotEng", "Volume"])
    vals = [float(v) for v in lines[head + 1].split()[:8]]
    dump = np.loadtxt(workdir / "dump", skiprows=9)
    vol = vals[1]
    return {"energy": vals[0], "virial": np.array(vals[2:8]) * vol / NKTV2P_METAL, "forces": dump[:, 1:4],
            "energies": dump[:, 4], "atom_virial": -dump[:, 5:11] / NKTV2P_METAL}


@pytest.mark.slow
@pytest.mark.parametrize("potential", ["Al-Ni_opt_all.yace", "Al.pbe.rhocore.ace", "DFT10B-AgCu.yaml"])
def test_kim_model_matches_forcefit(kim_collection, shared_dir, potential, tmp_path):
    src = shared_dir / "reference" / "pace" / "potentials" / potential
    name = "T_" + src.stem.replace("-", "_").replace(".", "_") + "__MO_000000000000_000"
    model = install_model(kim_collection, src, name)
    from forcefit.ace.evaluator import load_potential
    (param,) = model.glob("potential.*")
    assert param.suffix == (".yaml" if src.suffix == ".yaml" else ".yace")  # B-basis files stay B-basis
    elements = load_potential(param).elements
    atoms, types = fcc_cell(4.0, 2, 0.1, elements, seed=11)
    res = run_kim(kim_collection, name, atoms, types, elements, tmp_path / "run")
    assert_close(res, reference(atoms, param))
    np.testing.assert_allclose(res["atom_virial"].sum(axis=0), res["virial"], rtol=0,
                               atol=1e-10 * max(1.0, np.abs(res["virial"]).max()))
    # per-atom virials: the same half-half split as the LAMMPS plugin, when that is available
    import importlib.util
    from forcefit import lammps_plugin
    if importlib.util.find_spec("lammps") is not None and lammps_plugin.is_available():
        from test_lammps_plugin import run_lammps
        plug = run_lammps(tmp_path, atoms, types, ["pair_style pace", f"pair_coeff * * {param} " + " ".join(elements)],
                          tag="plugin")
        assert isinstance(plug, dict), plug.stderr[-2000:]
        np.testing.assert_allclose(res["atom_virial"], plug["atom_virial"], rtol=0,
                                   atol=1e-10 * max(1.0, np.abs(plug["atom_virial"]).max()))


@pytest.mark.slow
def test_kim_model_from_yaml_equals_model_from_yace(kim_collection, shared_dir, tmp_path):
    """The same potential as a B-basis .yaml parameter file (converted by the driver in C++) and as the
    .yace that forcefit's Python converter writes: the same energies, forces and virials through KIM."""
    src = shared_dir / "reference" / "pace" / "potentials" / "multispecies_AlNi.yaml"
    from forcefit.ace.evaluator import load_potential
    models = {"yaml": "MultiYaml__MO_000000000000_000", "yace": "MultiYace__MO_000000000000_000"}
    install_model(kim_collection, src, models["yaml"])
    install_model(kim_collection, load_potential(src), models["yace"])
    root, _ = kim_collection
    assert (root / models["yaml"] / "potential.yaml").read_text() == src.read_text()
    elements = load_potential(src).elements
    atoms, types = fcc_cell(3.8, 2, 0.1, elements, seed=13)
    res = {k: run_kim(kim_collection, name, atoms, types, elements, tmp_path / k) for k, name in models.items()}
    assert_close(res["yaml"], res["yace"])
    assert_close(res["yaml"], reference(atoms, src))
    np.testing.assert_allclose(res["yaml"]["atom_virial"], res["yace"]["atom_virial"], rtol=0,
                               atol=1e-10 * max(1.0, np.abs(res["yace"]["atom_virial"]).max()))


def _kimpy_model(kim_collection, name, length_unit, energy_unit):
    """A kimpy model of an installed portable model, in the given KIM units."""
    kimpy = pytest.importorskip("kimpy")
    accepted, model = kimpy.model.create(kimpy.numbering.zeroBased, getattr(kimpy.length_unit, length_unit),
                                         getattr(kimpy.energy_unit, energy_unit), kimpy.charge_unit.e,
                                         kimpy.temperature_unit.K, kimpy.time_unit.ps, name)
    assert accepted
    return kimpy, model


def _kimpy_energy_forces(kimpy, model, atoms, elements, length_factor):
    """Energy and forces (requested units) of ``atoms`` (Å) through kimpy, with forcefit's KIM padding."""
    from types import SimpleNamespace

    from forcefit.models.kim_model import _KIMConfig
    conf = SimpleNamespace(cell=atoms.cell.array * length_factor, PBC=atoms.pbc,
                           coords=atoms.positions * length_factor, species=atoms.get_chemical_symbols())
    cutoffs, _ = model.get_neighbor_list_cutoffs_and_hints()
    run = _KIMConfig(kimpy, model, conf, {e: k for k, e in enumerate(elements)}, model.get_influence_distance(),
                     cutoffs)
    model.compute(run.compute_args, False)
    return float(run.energy[0]), run.folded_forces()


@pytest.mark.slow
@pytest.mark.parametrize("units", [("A", "eV"), ("nm", "kcal_mol")])
def test_kim_parameters_edited_through_kimpy(kim_collection, shared_dir, tmp_path, monkeypatch, units):
    """E0, FS_parameters, prehc and lambdahc set with set_parameter + clear_then_refresh give forcefit's
    Python evaluation of the potential edited the same way; published values are in the requested units."""
    from forcefit.ace import ACECalculator
    from forcefit.ace.evaluator import load_potential
    root, env = kim_collection
    monkeypatch.setenv("KIM_API_CONFIGURATION_FILE", env["KIM_API_CONFIGURATION_FILE"])
    monkeypatch.chdir(tmp_path)  # kim.log
    src = shared_dir / "reference" / "pace" / "potentials" / "Al-Ni_opt_all.yaml"
    name = "Params__MO_000000000000_000"
    if not (root / name).exists():
        install_model(kim_collection, src, name)
    kimpy, model = _kimpy_model(kim_collection, name, *units)
    pot = load_potential(src)
    elements, nel = pot.elements, len(pot.elements)
    meta = [model.get_parameter_metadata(i) for i in range(model.get_number_of_parameters())]
    names = [str(m[2]) for m in meta]
    assert names == ["E0", "FS_parameters", "prehc", "lambdahc"]
    index = {n: i for i, n in enumerate(names)}
    fs = [x for mu in range(nel) for x in pot.embeddings[mu].FS_parameters]
    assert [m[1] for m in meta] == [nel, len(fs), nel * nel, nel * nel]
    get = model.get_parameter_double
    # unit factors (eV -> requested, Å -> requested) from published values whose eV/Å value is known
    ef = get(index["FS_parameters"], 0) / fs[0]
    lf = np.sqrt(pot.bonds[(0, 0)].lambdahc / get(index["lambdahc"], 0))
    expect_ef, expect_lf = (1.0, 1.0) if units == ("A", "eV") else (23.0605, 0.1)
    assert ef == pytest.approx(expect_ef, rel=1e-5) and lf == pytest.approx(expect_lf, rel=1e-12)
    for k in range(nel * nel):
        bond = pot.bonds[(k // nel, k % nel)]
        assert get(index["prehc"], k) == pytest.approx(ef * lf * bond.prehc, rel=1e-14)
        assert get(index["lambdahc"], k) == pytest.approx(bond.lambdahc / lf ** 2, rel=1e-14)
    for k, value in enumerate(fs):
        assert get(index["FS_parameters"], k) == pytest.approx(value * (ef if k % 2 == 0 else 1.0), rel=1e-14)
    assert [get(index["E0"], k) for k in range(nel)] == [0.0] * nel

    atoms, _ = fcc_cell(3.8, 2, 0.1, elements, seed=17)
    e_before, _ = _kimpy_energy_forces(kimpy, model, atoms, elements, lf)
    # the same edits, in eV and Å, to the Python potential and (converted) to the KIM model
    pot.E0 = [-3.1, -5.7]
    edits = {("E0", 0): -3.1 * ef, ("E0", 1): -5.7 * ef}
    pot.embeddings[0].FS_parameters[1] = 0.8                  # Al exponent
    edits[("FS_parameters", 1)] = 0.8
    pot.embeddings[1].FS_parameters[2] = 0.7                  # Ni second-density prefactor
    edits[("FS_parameters", 4)] = 0.7 * ef
    for pair, k in (((0, 1), 1), ((1, 0), 2)):                 # Al-Ni core repulsion, both directions
        pot.bonds[pair].prehc = 300.0
        edits[("prehc", k)] = 300.0 * ef * lf
    pot.bonds[(0, 0)].lambdahc = 6.0
    edits[("lambdahc", 0)] = 6.0 / lf ** 2
    for (pname, k), value in edits.items():
        assert model.set_parameter(index[pname], k, float(value)) in (None, False, 0)
    model.clear_then_refresh()
    energy, forces = _kimpy_energy_forces(kimpy, model, atoms, elements, lf)
    ref = atoms.copy()
    ref.calc = ACECalculator(pot)
    e_ref, f_ref = ref.get_potential_energy(), ref.get_forces()
    assert abs(e_ref - e_before / ef) > 1.0
    assert energy / ef == pytest.approx(e_ref, rel=1e-10)
    np.testing.assert_allclose(forces * lf / ef, f_ref, rtol=0, atol=1e-10 * np.abs(f_ref).max())


@pytest.mark.slow
def test_kim_param_set_in_lammps_real_units(kim_collection, shared_dir, tmp_path):
    """LAMMPS's ``kim param set`` reaches the driver; E0 is in the simulator's energy unit (kcal/mol)."""
    src = shared_dir / "reference" / "pace" / "potentials" / "Al-Ni_opt_all.yaml"
    root, _ = kim_collection
    name = "Params__MO_000000000000_000"
    if not (root / name).exists():
        install_model(kim_collection, src, name)
    atoms, types = fcc_cell(3.8, 2, 0.1, ["Al", "Ni"], seed=19)
    plain = run_kim(kim_collection, name, atoms, types, ["Al", "Ni"], tmp_path / "plain", units="real")
    shifted = run_kim(kim_collection, name, atoms, types, ["Al", "Ni"], tmp_path / "shifted", units="real",
                      extra="kim param set E0 1:2 -70.5 -120.25")
    shift = np.where(types == 1, -70.5, -120.25)
    assert shifted["energy"] == pytest.approx(plain["energy"] + shift.sum(), rel=1e-12)
    np.testing.assert_allclose(shifted["energies"], plain["energies"] + shift, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(shifted["forces"], plain["forces"])


def test_write_model_keeps_bbasis_yaml_unless_asked(tmp_path, shared_dir):
    src = shared_dir / "reference" / "pace" / "potentials" / "Al-Ni_opt_all.yaml"
    kept = write_model(src, tmp_path / "kept", "Kept__MO_000000000000_000")
    assert (kept / "potential.yaml").read_bytes() == src.read_bytes()
    assert '"potential.yaml"' in (kept / "CMakeLists.txt").read_text()
    converted = write_model(src, tmp_path / "conv", "Conv__MO_000000000000_000", parameter_format="yace")
    assert not (converted / "potential.yaml").exists() and (converted / "potential.yace").is_file()
    from forcefit.ace.yaml_io import read_bbasis_yaml
    written = write_model(read_bbasis_yaml(src), tmp_path / "mem", "Mem__MO_000000000000_000")
    assert read_bbasis_yaml(written / "potential.yaml") == read_bbasis_yaml(src)
    with pytest.raises(InputError, match="parameter_format"):
        write_model(src, tmp_path / "bad", "Bad__MO_000000000000_000", parameter_format="ace")
    broken = tmp_path / "broken.yaml"
    broken.write_text(src.read_text().replace("radbase: ChebPow", "radbase: ChebFoo"))
    with pytest.raises(InputError):  # the potential is read (and so checked) before anything is written
        write_model(broken, tmp_path / "never", "Never__MO_000000000000_000")
    assert not (tmp_path / "never").exists()
    from forcefit.cli.main import main
    assert main(["kim", "write", str(src), str(tmp_path / "cli"), "--name", "Cli__MO_000000000000_000",
                 "--format", "yace"]) == 0
    assert (tmp_path / "cli" / "potential.yace").is_file()


def test_write_model_rejects_bad_names(tmp_path, shared_dir):
    src = shared_dir / "reference" / "pace" / "potentials" / "Al-Ni_opt_all.yace"
    with pytest.raises(InputError, match="must look like"):
        write_model(src, tmp_path / "m", "not-a-kim-name")
    write_model(src, tmp_path / "m", "Good__MO_000000000000_000")
    with pytest.raises(InputError, match="already exists"):
        write_model(src, tmp_path / "m", "Good__MO_000000000000_000")
    text = (tmp_path / "m" / "CMakeLists.txt").read_text()
    assert DRIVER_NAME in text and "potential.yace" in text


def test_cli_writes_model_and_driver(tmp_path, shared_dir):
    from forcefit.cli.main import main
    src = shared_dir / "reference" / "pace" / "potentials" / "Al.pbe.in-rank1.ace"
    assert main(["kim", "write", str(src), str(tmp_path / "model"), "--name", "Al1__MO_000000000000_000"]) == 0
    from forcefit.ace import read_ace, read_yace
    written, original = read_yace(tmp_path / "model" / "potential.yace"), read_ace(src)
    assert written.elements == original.elements
    assert [len(f) for f in written.functions.values()] == [len(f) for f in original.functions.values()]
    assert main(["kim", "driver", str(tmp_path / "drv")]) == 0
    assert (tmp_path / "drv" / "forcefit_kim_driver.cpp").is_file()
    assert (tmp_path / "drv" / "forcefit-core" / "src" / "ace" / "yace_reader.cpp").is_file()
    assert main(["kim", "write", str(src), str(tmp_path / "bad"), "--name", "x"]) == 1


@pytest.mark.slow
def test_kim_model_with_broken_parameter_file_fails_cleanly(kim_collection, shared_dir, tmp_path):
    root, env = kim_collection
    src = shared_dir / "reference" / "pace" / "potentials" / "Al-Ni_opt_all.yace"
    name = "Broken__MO_000000000000_000"
    model = write_model(src, root / name, name)
    (model / "potential.yace").write_text("elements: [Al, Ni]\nE0: [0, 0]\n")
    proc = subprocess.run([KIM_CM, "install", "user", str(model)], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    work = tmp_path / "run"
    work.mkdir()
    (work / "in.kim").write_text(f"kim init {name} metal\n")
    proc = subprocess.run([str(DEBIAN_LMP), "-in", "in.kim", "-log", "none"], capture_output=True, text=True,
                          env=env, cwd=work, timeout=300)
    assert proc.returncode > 0, f"LAMMPS died by signal {-proc.returncode}" if proc.returncode < 0 else "accepted"
    assert "ERROR" in proc.stdout + proc.stderr
    assert "missing key 'deltaSplineBins'" in (work / "kim.log").read_text()


@pytest.mark.slow
def test_kim_model_in_real_units(kim_collection, shared_dir, tmp_path):
    """LAMMPS "real" units (Å, kcal/mol): the driver converts; results are the metal ones times one factor."""
    src = shared_dir / "reference" / "pace" / "potentials" / "Al-Ni_opt_all.yace"
    name = "Units__MO_000000000000_000"
    install_model(kim_collection, src, name)
    atoms, types = fcc_cell(3.9, 2, 0.1, ["Al", "Ni"], seed=12)
    metal = run_kim(kim_collection, name, atoms, types, ["Al", "Ni"], tmp_path / "metal")
    real = run_kim(kim_collection, name, atoms, types, ["Al", "Ni"], tmp_path / "real", units="real")
    factor = real["energy"] / metal["energy"]
    assert factor == pytest.approx(23.0605, rel=1e-5)  # kcal/mol per eV
    np.testing.assert_allclose(real["forces"], factor * metal["forces"], rtol=0,
                               atol=1e-10 * factor * np.abs(metal["forces"]).max())
    np.testing.assert_allclose(real["energies"], factor * metal["energies"], rtol=0,
                               atol=1e-10 * factor * np.abs(metal["energies"]).max())
