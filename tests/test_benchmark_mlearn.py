"""benchmarks/mlearn.py: its option parsing, per-type energy weights and staged fits."""

from __future__ import annotations

import sys
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest

from forcefit.dataset.pacemaker import read_dataframe

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def mlearn():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import mlearn

        yield mlearn
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_parse_stages_and_energy_weights(mlearn):
    assert mlearn.parse_stages("0.3:400,0.01:200") == [(0.3, 400), (0.01, 200)]
    for bad in ("0.3", "0.3:x", "1.5:10", "0.1:0"):
        with pytest.raises(SystemExit, match="--stages"):
            mlearn.parse_stages(bad)
    assert mlearn.parse_energy_weights("Surface=10,Vacancy=2") == {"Surface": 10.0, "Vacancy": 2.0}
    assert mlearn.parse_energy_weights(None) is None
    with pytest.raises(SystemExit, match="--energy-weights"):
        mlearn.parse_energy_weights("Surface")


def test_kappa_or_maxiter_on_the_command_line_replace_the_stages(mlearn):
    names = ("optimizer", "functions", "rcut", "kappa", "maxiter", "fit_cycles", "radbase", "radparameter",
             "nradmax", "lmax", "fs_parameters", "stages")
    args = Namespace(**{n: None for n in names})
    assert mlearn.settings_for("Ni", args).get("stages") == mlearn.DEFAULTS["Ni"].get("stages")
    args.maxiter = 5
    assert mlearn.settings_for("Ni", args)["stages"] is None
    args.stages = "0.2:3,0.01:2"
    assert mlearn.settings_for("Ni", args)["stages"] == [(0.2, 3), (0.01, 2)]


def test_energy_weights_by_config_type(mlearn, shared_data, tmp_path):
    target = tmp_path / "train.pckl.gzip"
    mlearn.write_split(shared_data / "mlearn" / "Ni_train.xyz", target, stride=10, energy_weights={"Surface": 10})
    table = read_dataframe(target)
    weights = np.asarray(table["w_energy"], dtype=float)
    assert set(np.unique(weights)) <= {1.0, 10.0} and (weights == 10.0).any() and (weights == 1.0).any()
    for w, n in zip(table["w_forces"], table["ase_atoms"].map(len)):
        assert np.array_equal(w, np.ones(n))


@pytest.mark.slow
def test_two_stage_fit_starts_from_the_first_stages_potential(mlearn, shared_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # main() sets it; monkeypatch restores the session's value after
    status = mlearn.main(["--elements", "Ni", "--stride", "40", "--stages", "0.3:2,0.01:2", "--threads", "1",
                          "--functions", "12", "--shared", str(shared_dir), "--keep", str(tmp_path)])
    assert status == 0
    folder = tmp_path / "Ni"
    for k in (1, 2):
        assert (folder / f"output_potential_stage{k}.yaml").is_file()
        assert (folder / f"log_stage{k}.txt").is_file()
    stage2 = (folder / "input_stage2.yaml").read_text()
    assert f"potential: {folder.resolve() / 'output_potential_stage1.yaml'}" in stage2
    assert "kappa: 0.01" in stage2 and "kappa: 0.3" in (folder / "input_stage1.yaml").read_text()

    # stage 2 begins with stage 1's final energies and forces (its RMSE columns)
    end1 = (folder / "log_stage1.txt").read_text().split("Iteration   #2 ")[1].split("RMSE")[1].split("Time")[0]
    start2 = (folder / "log_stage2.txt").read_text().split("Initial state")[1].split("RMSE")[1].split("Time")[0]
    assert end1 == start2
    assert (folder / "test_pred.pckl.gzip").is_file()
