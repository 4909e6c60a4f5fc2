"""``pacemaker input.yaml`` end to end with forcefit's ACE engine on a tiny data set: the log, the
metrics, the fitted potential (loaded by ACECalculator, reproducing the reported predictions),
resuming with ``-p``, interim potentials, ladder fitting."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from forcefit.cli.pacemaker import main
from forcefit.dataset.pacemaker import read_dataframe

from pacemaker_helpers import PAIR_SHAPE_INPUT, make_frame, random_structures, write_frame


@pytest.fixture
def fit_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_frame(make_frame(random_structures(14, ("Cu",), seed=11)), tmp_path / "toy.pckl.gzip")
    doc = yaml.safe_load(PAIR_SHAPE_INPUT.format(elements="Cu", data="toy.pckl.gzip"))
    doc["data"]["test_size"] = 3
    doc["fit"]["maxiter"] = 25
    (tmp_path / "input.yaml").write_text(yaml.safe_dump(doc))
    return tmp_path


def _losses(path):
    rows = [line.split() for line in path.read_text().splitlines()]
    column = rows[0].index("loss")
    return [float(r[column]) for r in rows[1:]]


def test_fit_writes_pacemaker_outputs_and_a_usable_potential(fit_dir, capsys):
    from forcefit.ace.calculator import ACECalculator

    assert main(["input.yaml"]) == 0
    out = capsys.readouterr().out
    assert "Fitting engine: forcefit ACE" in out
    log = (fit_dir / "log.txt").read_text()
    assert "Initial state:" in log and "Iteration   #" in log and "FIT STATS" in log
    losses = _losses(fit_dir / "metrics.txt")
    assert len(losses) >= 10 and losses[-1] < 0.2 * losses[0]
    for name in ("output_potential.yaml", "interim_potential_0.yaml", "interim_potential_best_cycle.yaml",
                 "target_potential.yaml", "train_pred.pckl.gzip", "test_pred.pckl.gzip"):
        assert (fit_dir / name).is_file(), name
    # the saved potential reproduces the reported predictions (fits use analytic radial functions)
    exact = ACECalculator("output_potential.yaml", splines=False)
    splined = ACECalculator("output_potential.yaml")
    for label, info in (("train", "fitting_data_info"), ("test", "test_data_info")):
        table = read_dataframe(fit_dir / f"{label}_pred.pckl.gzip")
        structures = read_dataframe(fit_dir / f"{info}.pckl.gzip").set_index("name")["ase_atoms"]
        for name, e_pred, f_pred in zip(table["name"], table["energy_pred"], table["forces_pred"]):
            atoms = structures[name]
            atoms = atoms.copy()
            atoms.calc = exact
            assert atoms.get_potential_energy() == pytest.approx(e_pred, abs=1e-9)
            assert np.allclose(atoms.get_forces(), f_pred, atol=1e-9)
            atoms.calc = splined
            assert atoms.get_potential_energy() == pytest.approx(e_pred, abs=1e-4 * len(atoms))
        assert np.sqrt(np.mean((table["energy_pred"] - table["energy_corrected"]) ** 2)) < 0.1


def test_resume_with_p_continues_from_the_fitted_potential(fit_dir):
    assert main(["input.yaml", "--no-predict"]) == 0
    first = _losses(fit_dir / "metrics.txt")
    (fit_dir / "metrics.txt").rename(fit_dir / "first_metrics.txt")
    fitted = (fit_dir / "output_potential.yaml").read_text()
    assert main(["input.yaml", "-p", "output_potential.yaml", "-o", "resumed.yaml", "--no-predict"]) == 0
    second = _losses(fit_dir / "metrics.txt")
    # the second fit starts where the first ended (the best point of the first)
    assert second[0] == pytest.approx(min(first), rel=1e-9)
    assert second[-1] <= second[0]
    assert (fit_dir / "resumed.yaml").read_text() != fitted


def test_ladder_fit_with_interim_potentials(fit_dir):
    doc = yaml.safe_load((fit_dir / "input.yaml").read_text())
    doc["fit"].update(ladder_step=3, ladder_type="power_order", maxiter=5)
    doc["potential"]["functions"]["number_of_functions_per_element"] = 7
    (fit_dir / "input.yaml").write_text(yaml.safe_dump(doc))
    assert main(["input.yaml", "--no-predict"]) == 0
    steps = sorted(fit_dir.glob("interim_potential_ladder_step_*.yaml"))
    assert len(steps) == 3  # 3 + 3 + 1 functions
    rows = (fit_dir / "ladder_metrics.txt").read_text().splitlines()
    assert len(rows) == 4
    from forcefit.ace.yaml_io import read_bbasis_yaml

    assert read_bbasis_yaml(fit_dir / "output_potential.yaml").number_of_functions() == 7


def test_shipped_cu_example_is_a_valid_pacemaker_run(examples_dir, tmp_path, monkeypatch):
    """examples/pacemaker_Cu: input and data check out, and a few iterations lower the loss."""
    import shutil

    source = examples_dir / "pacemaker_Cu"
    for name in ("input.yaml", "Cu_mlearn_subset.pckl.gzip"):
        shutil.copy(source / name, tmp_path)
    monkeypatch.chdir(tmp_path)
    doc = yaml.safe_load((tmp_path / "input.yaml").read_text())
    assert doc["fit"]["maxiter"] >= 100 and doc["data"]["reference_energy"] == "auto"
    doc["fit"]["maxiter"] = 3
    doc["fit"].pop("repulsion")
    (tmp_path / "input.yaml").write_text(yaml.safe_dump(doc))
    assert main(["input.yaml", "--no-predict"]) == 0
    losses = _losses(tmp_path / "metrics.txt")
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert "55 B-functions" in (tmp_path / "log.txt").read_text() or "/55" in (tmp_path / "log.txt").read_text()
