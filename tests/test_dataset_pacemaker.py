"""pacemaker DataFrames: round trips (gzip and plain), weights, compression by magic bytes, errors."""

import gzip
import pickle
import shutil

import numpy as np
import pandas as pd
import pytest

from forcefit.dataset import Configuration, Dataset, MagnitudeInverseWeight, read_pacemaker
from forcefit.dataset.pacemaker import is_pickle_file
from forcefit.errors import DatasetError, FileFormatError


def configs(rng, with_stress=True):
    out = []
    for k, n in enumerate((1, 3, 4)):
        cell = 3.0 * np.eye(3) + 0.1 * rng.standard_normal((3, 3))
        out.append(Configuration(
            cell, ["Al"] * (n - 1) + ["Ni"], rng.random((n, 3)) @ cell, [True] * 3,
            energy=-4.0 * n + rng.normal(), forces=rng.standard_normal((n, 3)),
            stress=rng.standard_normal(6) if with_stress else None,
            identifier=f"s{k}", metadata={"energy_corrected": -0.5 * n},
        ))
    return out


@pytest.mark.parametrize("name", ["data.pckl.gzip", "data.pkl.gz", "data.pckl"])
def test_round_trip(tmp_path, name):
    original = Dataset(configs(np.random.default_rng(0)))
    path = tmp_path / name
    original.to_pacemaker(path)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(("gz", "gzip"))
    frame = pd.read_pickle(path, compression="gzip" if name.endswith(("gz", "gzip")) else None)
    assert {"ase_atoms", "energy", "energy_corrected", "forces", "stress", "name"} <= set(frame.columns)
    assert "w_energy" not in frame.columns  # uniform weights are not written
    back = Dataset.from_pacemaker(path)
    assert len(back) == 3
    for a, b in zip(original, back):
        assert b.identifier == a.identifier and b.path == path
        assert b.species == a.species and b.energy == a.energy
        assert b.metadata["energy_corrected"] == a.metadata["energy_corrected"]
        np.testing.assert_array_equal(b.coords, a.coords)
        np.testing.assert_array_equal(b.cell, a.cell)
        np.testing.assert_array_equal(b.forces, a.forces)
        np.testing.assert_array_equal(b.stress, a.stress)
    assert not list(tmp_path.glob(".*tmp"))


def test_weights_round_trip(tmp_path):
    data = configs(np.random.default_rng(1), with_stress=False)
    params = {"energy_weight_params": [0.1, 0.0], "forces_weight_params": [0.5, 1.0]}
    dataset = Dataset(data)
    for config in dataset:
        config.weight = MagnitudeInverseWeight(config_weight=2.0, weight_params=params)
    dataset.to_pacemaker(tmp_path / "w.pckl.gzip")
    frame = pd.read_pickle(tmp_path / "w.pckl.gzip", compression="gzip")
    assert "stress" not in frame.columns
    np.testing.assert_allclose(frame["w_energy"], 2.0 / 0.1)
    expected = 2.0 / np.sqrt(0.5**2 + np.linalg.norm(data[2].forces, axis=1) ** 2)
    np.testing.assert_allclose(frame["w_forces"][2], expected)
    back = Dataset.from_pacemaker(tmp_path / "w.pckl.gzip")
    assert back[2].weight.energy_weight == pytest.approx(20.0)
    np.testing.assert_allclose(back[2].weight.forces_weight, np.repeat(expected, 3))


def test_compression_is_detected_by_content_not_name(tmp_path):
    Dataset(configs(np.random.default_rng(2))).to_pacemaker(tmp_path / "a.pckl.gzip")
    misnamed = tmp_path / "plain_name.pckl"
    shutil.copy(tmp_path / "a.pckl.gzip", misnamed)
    assert is_pickle_file(misnamed)
    assert len(read_pacemaker(misnamed)) == 3
    assert not is_pickle_file(__file__)


def test_calculator_results_and_missing_energy_column(tmp_path):
    ase = pytest.importorskip("ase")
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms = ase.Atoms("Cu", cell=2.5 * np.eye(3), pbc=True)
    atoms.calc = SinglePointCalculator(atoms, energy=np.array([-3.7]), forces=np.zeros((1, 3)))
    frame = pd.DataFrame({"name": ["A1"], "ase_atoms": [atoms], "energy_corrected": [-3.5], "note": ["x"]})
    frame.to_pickle(tmp_path / "cu.pckl.gzip", compression="gzip")
    (config,) = read_pacemaker(tmp_path / "cu.pckl.gzip")
    assert config.energy == -3.7  # from the calculator, stored as shape (1,)
    assert config.metadata == {"energy_corrected": -3.5, "note": "x"}
    assert config.identifier == "A1"


def test_missing_ase_atoms_column(tmp_path):
    path = tmp_path / "no_atoms.pckl.gzip"
    pd.DataFrame({"energy": [1.0], "forces": [[[0, 0, 0]]]}).to_pickle(path, compression="gzip")
    with pytest.raises(DatasetError) as info:
        Dataset.from_pacemaker(path)
    assert str(info.value) == f"{path}: has no 'ase_atoms' column; columns present: energy, forces"


def test_bad_rows_and_bad_files(tmp_path):
    ase = pytest.importorskip("ase")
    atoms = ase.Atoms("Al2", positions=[[0, 0, 0], [1, 1, 1]], cell=4 * np.eye(3), pbc=True)
    path = tmp_path / "bad.pckl"
    pd.DataFrame({"name": ["ok", "broken"], "ase_atoms": [atoms, atoms], "energy": [1.0, np.inf],
                  "forces": [np.zeros((2, 3)), np.zeros((2, 3))]}).to_pickle(path)
    with pytest.raises(FileFormatError, match=r"bad.pckl: row 1 \(name 'broken'\): energy contains a non-finite value"):
        read_pacemaker(path)
    text = tmp_path / "text.pckl.gzip"
    text.write_text("not a pickle")
    with pytest.raises(FileFormatError, match="not a readable pickled DataFrame"):
        read_pacemaker(text)
    with gzip.open(tmp_path / "list.pkl.gz", "wb") as handle:
        pickle.dump([1, 2], handle)
    with pytest.raises(DatasetError, match="holds a pickled list, expected a pandas DataFrame"):
        read_pacemaker(tmp_path / "list.pkl.gz")
    with pytest.raises(DatasetError, match="no such file"):
        read_pacemaker(tmp_path / "absent.pckl.gzip")


class _Sneaky:
    def __reduce__(self):
        import os

        return (os.getcwd, ())


def test_unpickling_refuses_foreign_code(tmp_path):
    path = tmp_path / "evil.pckl"
    path.write_bytes(pickle.dumps(_Sneaky()))
    with pytest.raises(DatasetError, match="refusing to unpickle posix.getcwd"):
        read_pacemaker(path)


def test_write_requires_energy_and_forces(tmp_path):
    config = Configuration(np.eye(3) * 3, ["Al"], [[0, 0, 0]], [True] * 3, energy=-1.0, identifier="no_f")
    with pytest.raises(DatasetError, match="configuration 'no_f': pacemaker needs energy and forces"):
        Dataset([config]).to_pacemaker(tmp_path / "x.pckl.gzip")
    assert not (tmp_path / "x.pckl.gzip").exists()
