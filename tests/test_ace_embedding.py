"""ACE embedding functions: python-ace's numbers, derivatives, edge densities, and the names files may use.

python-ace has two embeddings, ``npoti: FinnisSinclair`` and ``npoti: FinnisSinclairShiftedScaled``,
computed by its C++ functions ``Fexp`` and ``FexpShiftedScaled``.  Those function names are not
embedding names: python-ace 0.4.0rc1 leaves F unset for any other ``npoti`` (energies of ~1e-309 eV
and zero forces, checked when the fixture was made), so forcefit rejects them with a hint to the name
the file needs.

The reference numbers come from ``tests/fixtures/ace_embedding_pyace.json``, written by
``tests/fixtures/make_ace_embedding_pyace.py`` with python-ace 0.4.0rc1 (see that script): the
function values on a grid of densities from 0 to 1e5 for exponents 0.25 .. 2, and energies, forces
and stresses of one-element potentials with three densities (exponents below, at and above 1) on
structures with densities near zero, of both signs and large.  Units: eV, Å, eV/Å, eV/Å^3.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms

from forcefit import _core
from forcefit.ace.calculator import ACECalculator
from forcefit.ace.construct import construct_bbasis
from forcefit.ace.convert import bbasis_to_ctilde
from forcefit.ace.ctilde import KNOWN_EMBEDDINGS
from forcefit.ace.evaluator import ACEEvaluator
from forcefit.ace.ace_io import read_ace
from forcefit.ace.yace_io import read_yace, write_yace
from forcefit.ace.yaml_io import read_bbasis_yaml
from forcefit.errors import ForcefitError, InputError

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "ace_embedding_pyace.json").read_text())
POTENTIALS = FIXTURE["potentials"]


def _atoms(rec) -> Atoms:
    return Atoms(rec["symbols"], positions=rec["positions"], cell=rec["cell"], pbc=rec["pbc"])


def _yaml(tmp_path, k: int) -> Path:
    path = tmp_path / f"pot{k}.yaml"
    path.write_text(POTENTIALS[k]["yaml"])
    return path


@pytest.mark.parametrize("entry", FIXTURE["functions"], ids=lambda e: f"{e['npoti']}-m{e['mexp']}")
def test_embedding_values_match_python_ace(entry):
    rho = np.array(entry["rho"])
    f, df, d2f = _core.ace_embedding(entry["npoti"], rho, entry["mexp"])
    np.testing.assert_allclose(f, entry["f"], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(df, entry["df"], rtol=1e-12, atol=1e-300)
    assert np.all(np.isfinite(d2f))


@pytest.mark.parametrize("npoti", KNOWN_EMBEDDINGS)
@pytest.mark.parametrize("mexp", [0.25, 0.5, 0.75, 1.0, 1.5, 2.0])
def test_embedding_derivatives_against_finite_differences(npoti, mexp):
    # away from rho = 0 (FinnisSinclair switches to linear within |rho| ~ 3e-6; both have odd symmetry,
    # so d2f jumps there)
    rho = np.concatenate([-np.geomspace(1e-3, 300, 25), np.geomspace(1e-3, 300, 25)])
    h = 1e-6 * np.maximum(1.0, np.abs(rho))
    fp, dfp, _ = _core.ace_embedding(npoti, rho + h, mexp)
    fm, dfm, _ = _core.ace_embedding(npoti, rho - h, mexp)
    _, df, d2f = _core.ace_embedding(npoti, rho, mexp)
    np.testing.assert_allclose(df, (fp - fm) / (2 * h), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(d2f, (dfp - dfm) / (2 * h), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("npoti", KNOWN_EMBEDDINGS)
@pytest.mark.parametrize("mexp", [0.01, 0.25, 0.5, 0.999999, 1.0, 1.000001, 2.0, 3.0])
def test_embedding_finite_from_zero_to_large_densities(npoti, mexp):
    mags = np.concatenate([[0.0, 5e-324, 1e-300, 1e-200], np.geomspace(1e-100, 1e60, 200)])
    rho = np.concatenate([mags, -mags])
    f, df, d2f = _core.ace_embedding(npoti, rho, mexp)
    assert np.all(np.isfinite(f)) and np.all(np.isfinite(df)) and np.all(np.isfinite(d2f))
    # odd in rho, monotone for positive exponents
    np.testing.assert_array_equal(f[: len(mags)], -f[len(mags):])
    assert np.all(df >= 0)


@pytest.mark.parametrize("k", range(len(POTENTIALS)), ids=[p["npoti"] + str(k) for k, p in enumerate(POTENTIALS)])
def test_energies_forces_stress_match_python_ace(tmp_path, k):
    calc = ACECalculator(_yaml(tmp_path, k))
    for rec in POTENTIALS[k]["structures"]:
        at = _atoms(rec)
        at.calc = calc
        assert at.get_potential_energy() == pytest.approx(rec["energy"], abs=1e-8), rec["name"]
        np.testing.assert_allclose(at.get_forces(), rec["forces"], rtol=0, atol=1e-7, err_msg=rec["name"])
        if "stress" in rec:
            np.testing.assert_allclose(at.get_stress(), rec["stress"], rtol=0, atol=1e-8, err_msg=rec["name"])


def test_fixture_densities_cover_the_edge_cases(tmp_path):
    """The fixture structures reach the regions the comparison is meant for (so the test above can fail there)."""
    ev = ACEEvaluator(_yaml(tmp_path, 0), splines=False)
    energies = {rec["name"]: ev.compute(rec["symbols"], rec["positions"], rec["cell"], rec["pbc"]).energies
                for rec in POTENTIALS[0]["structures"]}
    assert energies["sparse_cluster"][3] == 0.0  # isolated atom: rho = 0, F(0) = 0
    assert np.abs(energies["fcc_compressed"]).max() > 10  # large densities


@pytest.mark.parametrize("k", range(len(POTENTIALS)), ids=[p["npoti"] + str(k) for k, p in enumerate(POTENTIALS)])
def test_forces_and_stress_against_finite_differences(tmp_path, k):
    ev = ACEEvaluator(_yaml(tmp_path, k), splines=False)
    h = 1e-5
    for rec in POTENTIALS[k]["structures"]:
        if rec["name"] == "sparse_cluster":
            continue  # pairs within 0.1 Å of the cutoff: FD steps there are dominated by the cutoff switch
        pos, cell, pbc = np.array(rec["positions"]), np.array(rec["cell"]), rec["pbc"]
        res = ev.compute(rec["symbols"], pos, cell, pbc)
        fd = np.zeros_like(pos)
        for i in range(len(pos)):
            for a in range(3):
                d = np.zeros_like(pos)
                d[i, a] = h
                fd[i, a] = -(ev.compute(rec["symbols"], pos + d, cell, pbc, forces=False).energy
                             - ev.compute(rec["symbols"], pos - d, cell, pbc, forces=False).energy) / (2 * h)
        scale = max(1.0, np.abs(res.forces).max())
        np.testing.assert_allclose(res.forces, fd, rtol=0, atol=1e-6 * scale, err_msg=rec["name"])
        if res.stress is None:
            continue
        volume = abs(np.linalg.det(cell))
        voigt = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]
        fd_stress = np.zeros(6)
        for v, (a, b) in enumerate(voigt):
            eps = np.zeros((3, 3))
            eps[a, b] = eps[b, a] = h / 2 if a != b else h
            e = []
            for sgn in (1, -1):
                strain = np.eye(3) + sgn * eps
                e.append(ev.compute(rec["symbols"], pos @ strain, cell @ strain, pbc, forces=False).energy)
            fd_stress[v] = (e[0] - e[1]) / (2 * h) / volume
        np.testing.assert_allclose(res.stress, fd_stress, rtol=0, atol=1e-6 * max(1.0, np.abs(fd_stress).max()))


@pytest.mark.parametrize("k", range(len(POTENTIALS)), ids=[p["npoti"] + str(k) for k, p in enumerate(POTENTIALS)])
def test_yaml_to_yace_round_trip_keeps_the_embedding(tmp_path, k):
    path = _yaml(tmp_path, k)
    pot = bbasis_to_ctilde(read_bbasis_yaml(path))
    write_yace(pot, tmp_path / "pot.yace")
    back = read_yace(tmp_path / "pot.yace")
    assert back.embeddings[0].npoti == POTENTIALS[k]["npoti"]
    assert back.embeddings[0].FS_parameters == pot.embeddings[0].FS_parameters
    cpp = _core.AceCtildeModel.from_yace(str(tmp_path / "pot.yace"))
    rec = POTENTIALS[k]["structures"][0]
    at = _atoms(rec)
    e_py = ACEEvaluator(back).compute(rec["symbols"], at.positions, at.cell.array, at.pbc).energies
    from forcefit.ace.evaluator import csr_neighbors
    nl = csr_neighbors(at.positions, at.cell.array, at.pbc, cpp.cutoff)
    e_cpp, _, _ = cpp.compute(np.zeros(len(at), np.int32), nl.first, nl.neigh, nl.rij)
    np.testing.assert_allclose(e_cpp, e_py, rtol=0, atol=1e-12)
    assert sum(e_py) == pytest.approx(rec["energy"], abs=1e-8)


# ---- names and parameters a file may not use


def _swap(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize("name", ["FexpShiftedScaled", "Fexp"])
def test_python_ace_function_names_are_rejected_with_a_hint(tmp_path, name):
    target = "FinnisSinclairShiftedScaled" if name == "FexpShiftedScaled" else "FinnisSinclair"
    src = POTENTIALS[2 if target.endswith("Scaled") else 0]
    yaml_path = tmp_path / "p.yaml"
    yaml_path.write_text(_swap(src["yaml"], f"npoti: {target}\n", f"npoti: {name}\n"))
    with pytest.raises(InputError, match=rf"p\.yaml.*npoti.*{name}.*behind npoti {target}"):
        read_bbasis_yaml(yaml_path)

    write_yace(bbasis_to_ctilde(read_bbasis_yaml(_yaml(tmp_path, 2 if target.endswith("Scaled") else 0))),
               tmp_path / "good.yace")
    text = (tmp_path / "good.yace").read_text()
    (tmp_path / "p.yace").write_text(_swap(text, f"npoti: {target},", f"npoti: {name},"))
    with pytest.raises(InputError, match=rf"p\.yace.*npoti.*behind npoti {target}"):
        read_yace(tmp_path / "p.yace")
    with pytest.raises(InputError, match=rf"p\.yace.*npoti.*behind npoti {target}"):
        _core.AceCtildeModel.from_yace(str(tmp_path / "p.yace"))

    conf = {"elements": ["Al"], "embeddings": {"ALL": {"npot": name, "fs_parameters": [1, 1], "ndensity": 1}},
            "bonds": {"ALL": {"radbase": "ChebExpCos", "radparameters": [5.25], "rcut": 4.0, "dcut": 0.01}},
            "functions": {"UNARY": {"nradmax_by_orders": [2, 1], "lmax_by_orders": [0, 1]}}}
    with pytest.raises(InputError, match=rf"embeddings.*behind npoti {target}"):
        construct_bbasis(conf, np.random.default_rng(0))


def test_pacemaker_input_rejects_python_ace_function_name(tmp_path):
    from forcefit.pacemaker.inputfile import parse_input

    doc = {"potential": {"elements": ["Al"],
                         "embeddings": {"ALL": {"npot": "FexpShiftedScaled", "fs_parameters": [1, 1], "ndensity": 1}},
                         "bonds": {"ALL": {"radbase": "ChebExpCos", "radparameters": [5.25], "rcut": 5.0,
                                           "dcut": 0.01}},
                         "functions": {"ALL": {"nradmax_by_orders": [4, 2], "lmax_by_orders": [0, 1]}}},
           "data": {"filename": "data.pckl.gzip"}, "fit": {}, "backend": {"evaluator": "tensorpot"}}
    with pytest.raises(ForcefitError, match=r"input\.yaml.*npot.*behind npoti FinnisSinclairShiftedScaled"):
        parse_input(doc, source=tmp_path / "input.yaml")


def test_ace_file_rejects_python_ace_function_name(tmp_path):
    from test_ace_io_ctilde import SMALL_ACE

    (tmp_path / "p.ace").write_text(_swap(SMALL_ACE, "embedding-function: FinnisSinclairShiftedScaled",
                                          "embedding-function: FexpShiftedScaled"))
    with pytest.raises(InputError, match=r"p\.ace.*npoti.*behind npoti FinnisSinclairShiftedScaled"):
        read_ace(tmp_path / "p.ace")


@pytest.mark.parametrize("mexp", ["0", "-0.5"])
def test_shifted_scaled_needs_positive_exponents(tmp_path, mexp):
    src = POTENTIALS[2]["yaml"]
    path = tmp_path / "p.yaml"
    path.write_text(_swap(src, "parameters: [1.0, 0.5,", f"parameters: [1.0, {mexp},"))
    with pytest.raises(InputError, match=r"p\.yaml.*exponents > 0"):
        read_bbasis_yaml(path)
    # FinnisSinclair is defined for these exponents (python-ace evaluates it) and stays accepted
    path.write_text(_swap(POTENTIALS[0]["yaml"], "parameters: [1.0, 0.5,", f"parameters: [1.0, {mexp},"))
    read_bbasis_yaml(path)
    # the C++ model checks the same (the LAMMPS plugin and KIM driver read .yace without Python)
    pot = bbasis_to_ctilde(read_bbasis_yaml(_yaml(tmp_path, 2)))
    write_yace(pot, tmp_path / "good.yace")
    text = (tmp_path / "good.yace").read_text()
    (tmp_path / "bad.yace").write_text(_swap(text, "FS_parameters: [1, 0.5,", f"FS_parameters: [1, {mexp},"))
    with pytest.raises(InputError, match="exponents > 0"):
        _core.AceCtildeModel.from_yace(str(tmp_path / "bad.yace"))
