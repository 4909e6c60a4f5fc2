"""Metrics (values and python-ace's text formats) and output files, from prediction arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ase import Atoms

from forcefit.dataset.pacemaker import read_dataframe
from forcefit.pacemaker.engine import FitData, LossComponents, data_loss
from forcefit.pacemaker.sections import LossSpec
from forcefit.pacemaker.metrics import (
    COLUMNS,
    CYCLE_COLUMNS,
    LADDER_COLUMNS,
    MetricsRecorder,
    compute_metrics,
    iteration_line,
    stats_block,
    table_header,
    table_row,
)
from forcefit.pacemaker.outputs import REPORT_PLOTS, minimal_distance, plot_error_report, prediction_frame, write_pickle

E_REF = np.array([0.0, 0.0])
E_PRED = np.array([0.1, 0.4])  # per atom errors 0.1 and 0.2 eV/atom for N = 1, 2
F_REF = np.zeros((3, 3))
F_PRED = np.array([[0.3, 0, 0], [0, 0.4, 0], [0, 0, 0]])
N_ATOMS = np.array([1, 2])


def example_metrics(**kwargs):
    components = LossComponents(energy=1e-3, forces=2e-3, l1=1e-5, l2=2e-5, smoothness=(1e-6, 2e-6, 3e-6))
    return compute_metrics(
        E_PRED,
        F_PRED,
        E_REF,
        F_REF,
        N_ATOMS,
        components,
        low_mask=np.array([True, False]),
        iter_num=3,
        eval_count=5,
        eval_time=3e-4,
        ncoefs=10,
        nfuncs=4,
        kappa=0.3,
        **kwargs,
    )


def test_metric_values_hand_computed():
    m = example_metrics()
    assert m["rmse_epa"] == pytest.approx(np.sqrt((0.01 + 0.04) / 2))
    assert m["mae_epa"] == pytest.approx(0.15)
    assert m["max_abs_epa"] == pytest.approx(0.2)
    assert m["rmse_f"] == pytest.approx(np.sqrt(0.25 / 3))
    assert m["rmse_f_comp"] == pytest.approx(np.sqrt(0.25 / 9))
    assert m["mae_f_comp"] == pytest.approx(0.7 / 9)
    assert m["low_rmse_epa"] == pytest.approx(0.1)
    assert m["low_rmse_f_comp"] == pytest.approx(np.sqrt(0.09 / 3))
    assert m["loss"] == pytest.approx(1e-3 + 2e-3 + 3e-5 + 6e-6)
    assert m["nat"] == 3 and m["ncoefs"] == 10 and m["nfuncs"] == 4
    assert (m["e_scale"], m["f_scale"]) == (pytest.approx(0.7), pytest.approx(0.3))


def test_data_loss_definition():
    data = FitData(
        names=("a", "b"),
        structures=(None, None),
        energy=E_REF,
        forces=F_REF,
        n_atoms=N_ATOMS,
        atom_offset=np.array([0, 1, 3]),
        w_energy=np.array([0.25, 0.75]),
        w_forces=np.array([0.5, 0.25, 0.25]),
    )
    terms = data_loss(E_PRED, F_PRED, data, LossSpec(kappa=0.3))
    e_loss = 0.25 * 0.1**2 + 0.75 * 0.2**2
    f_loss = 0.5 * 0.09 + 0.25 * 0.16
    assert terms.e_loss == pytest.approx(e_loss) and terms.f_loss == pytest.approx(f_loss)
    assert terms.total == pytest.approx(0.7 * e_loss + 0.3 * f_loss)


def test_iteration_line_format():
    line = iteration_line(example_metrics())
    expected_start = "Iteration   #3    (5 evals):        Loss: "
    assert line.startswith(expected_start)
    assert " | RMSE Energy(low): 158.11 (100.00) meV/at" in line
    assert " | Forces(low): 166.67 (173.21) meV/A" in line
    assert line.endswith(" | Time/eval: 100.00 mcs/at")


def test_stats_block_layout():
    block = stats_block(example_metrics(), "FIT STATS")
    lines = block.splitlines()
    assert lines[1] == "-" * 44 + "FIT STATS" + "-" * 44
    assert lines[2].startswith("Iteration:  #3   Loss:    Total:  ")
    assert "Smooth_w3: " in block and "Number of params./funcs:     10/4" in block
    rmse = next(l for l in lines if l.strip().startswith("RMSE:"))
    assert rmse.split()[1:] == ["158.11", "100.00", "166.67", "173.21"]


def test_tables_columns(tmp_path):
    recorder = MetricsRecorder(tmp_path, display_step=2, ladder=True)
    metrics = dict(example_metrics(), cycle_step=1, ladder_step=2)
    recorder.train_iteration(metrics)
    recorder.cycle_end(metrics, metrics)
    recorder.ladder_end(metrics, metrics)
    header = (tmp_path / "metrics.txt").read_text().splitlines()[0].split()
    assert header == [c if isinstance(c, str) else c[0] for c in COLUMNS]
    row = (tmp_path / "metrics.txt").read_text().splitlines()[1].split()
    values = dict(zip(header, row))
    assert float(values["loss"]) == pytest.approx(metrics["loss"])
    assert float(values["reg_loss"]) == pytest.approx(3e-5 + 6e-6)
    assert float(values["smooth_w1"]) == pytest.approx(1e-6) and float(values["smooth_orth"]) == 0
    assert int(values["iter_num"]) == 3 and int(values["ladder_step"]) == 2
    cycle_header = (tmp_path / "cycle_metrics.txt").read_text().split("\n")[0].split()
    assert "iter_num" not in cycle_header and cycle_header[:2] == ["ladder_step", "cycle_step"]
    ladder_header = (tmp_path / "ladder_metrics.txt").read_text().split("\n")[0].split()
    assert ladder_header[0] == "ladder_step" and "cycle_step" not in ladder_header
    for name, columns in (
        ("test_metrics.txt", COLUMNS),
        ("test_cycle_metrics.txt", CYCLE_COLUMNS),
        ("test_ladder_metrics.txt", LADDER_COLUMNS),
    ):
        assert (tmp_path / name).read_text().splitlines()[0] == table_header(columns)
    assert len((tmp_path / "test_cycle_metrics.txt").read_text().splitlines()) == 2
    assert table_row(metrics).split()[0] == "2"


def prepared_frame():
    dimer = Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 2.3]], cell=np.eye(3) * 20, pbc=False)
    single = Atoms("Cu", positions=[[0, 0, 0]], cell=np.eye(3) * 2.5, pbc=True)
    return pd.DataFrame(
        {
            "name": ["dimer", "fcc"],
            "ase_atoms": [dimer, single],
            "energy": [-1.0, -3.0],
            "energy_corrected": [-1.0, -3.0],
            "forces": [np.ones((2, 3)), np.zeros((1, 3))],
            "energy_corrected_per_atom": [-0.5, -3.0],
            "NUMBER_OF_ATOMS": [2, 1],
            "pbc": [False, True],
            "w_energy": [0.5, 0.5],
            "w_forces": [np.full(2, 1 / 3), np.full(1, 1 / 3)],
            "_source": ["x", "x"],
        }
    )


def test_prediction_frame_columns_and_files(tmp_path):
    frame = prepared_frame()
    forces_pred = np.arange(9.0).reshape(3, 3)
    table = prediction_frame(frame, np.array([-1.1, -2.9]), forces_pred, is_train=True)
    expected = {
        "energy",
        "forces",
        "energy_corrected",
        "name",
        "NUMBER_OF_ATOMS",
        "pbc",
        "energy_corrected_per_atom",
        "train",
        "w_energy",
        "w_forces",
        "nn_min",
        "energy_pred",
        "forces_pred",
    }
    assert set(table.columns) == expected
    assert table["nn_min"].iloc[0] == pytest.approx(2.3) and table["nn_min"].iloc[1] == pytest.approx(2.5)
    assert np.array_equal(table["forces_pred"].iloc[0], forces_pred[:2])
    assert table["train"].all()
    write_pickle(table, tmp_path / "train_pred.pckl.gzip")
    back = read_dataframe(tmp_path / "train_pred.pckl.gzip")
    assert list(back.columns) == list(table.columns) and back["energy_pred"].tolist() == [-1.1, -2.9]
    with pytest.raises(ValueError, match="forces have 2 rows for 3 atoms"):
        prediction_frame(frame, np.zeros(2), np.zeros((2, 3)), True)


def test_minimal_distance_isolated_atom_is_nan():
    assert np.isnan(minimal_distance(Atoms("Cu", positions=[[0, 0, 0]]), 5.0))


@pytest.mark.parametrize("case", ["bulk", "rattled", "dimer", "far dimer", "small cell"])
def test_minimal_distance_equals_the_shortest_pair(case):
    from ase.build import bulk
    from ase.neighborlist import neighbor_list

    atoms = {
        "bulk": lambda: bulk("Ni", "fcc", a=3.52, cubic=True),
        "rattled": lambda: bulk("Si", "diamond", a=5.43, cubic=True).repeat(2),
        "dimer": lambda: Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 4.5]]),   # beyond the first search radius
        "far dimer": lambda: Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 9.0]]),  # beyond the cutoff
        "small cell": lambda: bulk("Li", "bcc", a=3.44),                      # nearest pairs are images
    }[case]()
    if case == "rattled":
        atoms.rattle(0.2, seed=3)
    d = neighbor_list("d", atoms, 8.0)
    expected = d.min() if d.size else np.nan
    assert minimal_distance(atoms, 8.0) == pytest.approx(expected, rel=1e-12, nan_ok=True)


def test_report_plots_are_png(tmp_path):
    table = prediction_frame(prepared_frame(), np.array([-1.1, -2.9]), np.zeros((3, 3)) + 0.9, is_train=False)
    paths = plot_error_report(table, tmp_path / "report", prefix="test_")
    assert [p.name for p in paths] == [f"test_{name}.png" for name in REPORT_PLOTS]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list((tmp_path / "report").glob("*.tmp"))


def test_kappa_auto_hand_computed():
    from forcefit.pacemaker.engine import resolve_kappa

    frame = pd.DataFrame(
        {"energy_corrected_per_atom": [1.0, 3.0], "forces": [np.array([[3.0, 4.0, 0.0]]), np.array([[0.0, 0.0, 1.0]])]}
    )
    e_var = 2.0  # sample variance of 1 and 3
    f_var = 4.0  # variance of the norms 5 and 1
    assert resolve_kappa(LossSpec(kappa="auto"), frame).kappa == pytest.approx(e_var / (e_var + f_var))
    assert resolve_kappa(LossSpec(kappa=0.2), frame).kappa == 0.2
    single = frame.iloc[:1]
    assert resolve_kappa(LossSpec(kappa="auto"), single).kappa == 0.5


def test_minimal_distances_per_element_pair_match_a_direct_search():
    import pandas as pd
    from ase.build import bulk
    from ase.neighborlist import neighbor_list

    from forcefit.pacemaker.fitloop import minimal_distances

    a = bulk("Al", "fcc", a=4.05, cubic=True).repeat(2)
    a.symbols[[0, 5, 9]] = "Ni"
    a.rattle(0.15, seed=1)
    b = bulk("Ni", "fcc", a=3.52, cubic=True)
    lone = Atoms("Al", positions=[[0, 0, 0]])
    expected = {}
    for atoms in (a, b, lone):
        i, j, d = neighbor_list("ijd", atoms, 6.0)
        s = atoms.get_chemical_symbols()
        for p, q, r in zip(i, j, d):
            key = tuple(sorted((s[p], s[q])))
            expected[key] = min(expected.get(key, np.inf), r)
    got = minimal_distances(pd.DataFrame({"ase_atoms": [a, b, lone]}))
    assert set(got) == set(expected) == {("Al", "Al"), ("Al", "Ni"), ("Ni", "Ni")}
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12)
