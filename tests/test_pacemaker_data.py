"""Data preparation: reference energies, train/test split, weights, caching, data errors."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from forcefit.errors import DatasetError, InputError
from forcefit.pacemaker.inputfile import parse_input
from forcefit.pacemaker.preparedata import prepare_data, split_train_test, n_test_structures
from forcefit.pacemaker.reference_energy import corrected_energies, fit_reference_energies
from forcefit.pacemaker.schema import Where

from pacemaker_helpers import make_frame, random_structures, write_frame

SHAPE = {
    "elements": ["Al", "Cu", "Ni"],
    "embeddings": {"ALL": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1], "ndensity": 1}},
    "bonds": {"ALL": {"radbase": "SBessel", "radparameters": [5.25], "rcut": 5.0, "dcut": 0.01}},
    "functions": {"ALL": {"nradmax_by_orders": [5, 2], "lmax_by_orders": [0, 1]}},
}


def make_input(tmp_path, data, fit=None, seed=42):
    doc = {"seed": seed, "potential": SHAPE, "data": data, "fit": fit or {}}
    path = tmp_path / "input.yaml"
    path.write_text(yaml.safe_dump(doc))
    return parse_input(doc, source=path)


def test_corrected_energies_hand_computed():
    symbols = [["Al", "Al", "Ni"], ["Ni"]]
    result = corrected_energies([-10.0, -3.0], symbols, {"Al": -1.0, "Ni": -2.0, "shift": 0.5})
    assert np.allclose(result, [-10.0 + 2.0 + 2.0 + 1.5, -3.0 + 2.0 + 0.5])
    assert np.allclose(corrected_energies([-1.0], [["Cu"]], {"Al": -1.0}), [-1.0])  # missing element counts 0


def test_auto_reference_energies_least_squares_and_shift():
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 4, size=(12, 2)) + np.array([[1, 0]])
    symbols = [["Al"] * a + ["Ni"] * b for a, b in counts]
    energies = counts @ np.array([-3.0, -5.0]) + rng.normal(0, 0.05, size=12)
    volumes = rng.uniform(10, 20, size=12)
    reference = fit_reference_energies(energies, symbols, volumes)
    eps = np.array([reference["Al"], reference["Ni"]])
    residual = energies - counts @ eps
    assert np.allclose(counts.T @ residual, 0, atol=1e-9)  # least-squares normal equations
    corrected = corrected_energies(energies, symbols, reference)
    assert corrected[np.argmax(volumes)] == pytest.approx(0.0, abs=1e-12)  # most isolated structure at zero


def test_split_matches_python_ace_definition():
    frame = pd.DataFrame({"x": np.arange(20)})
    train, test = split_train_test(frame, 0.25, seed=3, where=Where(None, "data.test_size"))
    np.random.seed(3)  # python-ace: global seed, then shuffle of 0..n-1; first n_train are train
    order = np.arange(20)
    np.random.shuffle(order)
    assert list(train["x"]) == sorted(order[:15]) and list(test["x"]) == sorted(order[15:])
    assert n_test_structures(20, 5, Where(None)) == 5
    assert n_test_structures(20, 0.26, Where(None)) == 5  # int(20 * 0.26)


@pytest.mark.parametrize("size, message", [(20, "leaves no training structures"), (0.01, "selects no test structure")])
def test_split_impossible(size, message):
    with pytest.raises(InputError, match=message):
        n_test_structures(20, size, Where(None, "data.test_size"))


def test_prepare_with_test_size_and_cache(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    structures = random_structures(20, elements=("Al", "Ni"), seed=2)
    write_frame(make_frame(structures), tmp_path / "data.pckl.gzip")
    inp = make_input(tmp_path, {"filename": "data.pckl.gzip", "test_size": 0.2})
    prepared = prepare_data(inp)
    assert (prepared.n_train, prepared.n_test) == (16, 4)
    assert set(prepared.train["name"]).isdisjoint(prepared.test["name"])
    for frame in (prepared.train, prepared.test):
        assert frame["w_energy"].sum() == pytest.approx(1.0)
        assert sum(w.sum() for w in frame["w_forces"]) == pytest.approx(1.0)
        assert all(len(w) == n for w, n in zip(frame["w_forces"], frame["NUMBER_OF_ATOMS"]))
        assert np.allclose(frame["energy_corrected_per_atom"], frame["energy_corrected"] / frame["NUMBER_OF_ATOMS"])
    assert prepared.elements == ("Al", "Ni")
    assert prepared.cache_path.is_file() and not prepared.from_cache
    again = prepare_data(inp)
    assert again.from_cache and list(again.test["name"]) == list(prepared.test["name"])
    assert np.allclose(again.train["w_energy"], prepared.train["w_energy"])
    assert not prepare_data(inp, rebuild=True).from_cache
    other = prepare_data(make_input(tmp_path, {"filename": "data.pckl.gzip", "test_size": 0.3}))
    assert not other.from_cache and other.n_test == 6
    # a changed data file invalidates the cache
    write_frame(make_frame(structures[:18]), tmp_path / "data.pckl.gzip")
    assert prepare_data(inp).n_train + prepare_data(inp).n_test == 18


def test_reference_energy_from_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    e0 = {"Al": -3.0, "Ni": -5.0}
    structures = random_structures(6, elements=("Al", "Ni"), seed=4)
    write_frame(make_frame(structures, e0=e0, with_corrected=False), tmp_path / "data.pckl.gzip")
    with pytest.raises(DatasetError, match="no 'energy_corrected' column; set data.reference_energy"):
        prepare_data(make_input(tmp_path, {"filename": "data.pckl.gzip"}), use_cache=False)
    prepared = prepare_data(
        make_input(tmp_path, {"filename": "data.pckl.gzip", "reference_energy": e0}), use_cache=False
    )
    plain = make_frame(structures)
    assert np.allclose(sorted(prepared.train["energy_corrected"]), sorted(plain["energy"]))
    assert prepared.reference_energy == e0
    constant = prepare_data(
        make_input(tmp_path, {"filename": "data.pckl.gzip", "reference_energy": -4.0}), use_cache=False
    )
    n = constant.train["NUMBER_OF_ATOMS"].to_numpy()
    energies = np.array([a.calc.results["energy"] for a in constant.train["ase_atoms"]])
    assert np.allclose(constant.train["energy_corrected"], energies + 4.0 * n)
    auto = prepare_data(
        make_input(tmp_path, {"filename": "data.pckl.gzip", "reference_energy": "auto"}), use_cache=False
    )
    assert set(auto.reference_energy) == {"Al", "Ni", "shift"}


def test_test_file_uses_training_reference(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_frame(make_frame(random_structures(8, ("Al",), seed=5), with_corrected=False), tmp_path / "train.pckl.gzip")
    write_frame(make_frame(random_structures(3, ("Al",), seed=6), with_corrected=False), tmp_path / "test.pckl.gzip")
    prepared = prepare_data(
        make_input(
            tmp_path, {"filename": "train.pckl.gzip", "test_filename": "test.pckl.gzip", "reference_energy": "auto"}
        ),
        use_cache=False,
    )
    assert (prepared.n_train, prepared.n_test) == (8, 3)
    reference = prepared.reference_energy
    energies = np.array([a.calc.results["energy"] for a in prepared.test["ase_atoms"]])
    n = prepared.test["NUMBER_OF_ATOMS"].to_numpy()
    assert np.allclose(prepared.test["energy_corrected"], energies - n * reference["Al"] + n * reference["shift"])


def test_extreme_energies_switch_to_auto(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    frame = make_frame(random_structures(6, ("Al",), seed=7), e0={"Al": -100.0})  # -100 eV/atom
    write_frame(frame, tmp_path / "data.pckl.gzip")
    prepared = prepare_data(make_input(tmp_path, {"filename": "data.pckl.gzip"}), use_cache=False)
    assert prepared.reference_energy is not None
    assert prepared.train["energy_corrected_per_atom"].abs().max() < 1.0


def test_data_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    structures = random_structures(4, ("Al",), seed=8)
    frame = make_frame(structures).drop(columns=["forces"])
    for atoms in frame["ase_atoms"]:
        atoms.calc = None
    write_frame(frame, tmp_path / "noforces.pckl.gzip")
    with pytest.raises(DatasetError, match=r"noforces\.pckl\.gzip: structure 's0': has no 'forces' column"):
        prepare_data(make_input(tmp_path, {"filename": "noforces.pckl.gzip"}), use_cache=False)
    pd.DataFrame({"energy": [1.0]}).to_pickle(tmp_path / "noatoms.pckl.gzip", compression="gzip")
    with pytest.raises(DatasetError, match="has no 'ase_atoms' column"):
        prepare_data(make_input(tmp_path, {"filename": "noatoms.pckl.gzip"}), use_cache=False)
    write_frame(make_frame(structures), tmp_path / "ok.pckl.gzip")
    with pytest.raises(InputError, match=r"data\.test_size: test_size 4 leaves no training structures"):
        prepare_data(make_input(tmp_path, {"filename": "ok.pckl.gzip", "test_size": 4}), use_cache=False)
    bad = make_frame(structures)
    bad.at[1, "forces"] = np.zeros((7, 3))
    write_frame(bad, tmp_path / "badshape.pckl.gzip")
    with pytest.raises(DatasetError, match=r"structure 's1': forces have shape \(7, 3\)"):
        prepare_data(make_input(tmp_path, {"filename": "badshape.pckl.gzip"}), use_cache=False)
    doc_elements = dict(SHAPE, elements=["Ni"])
    inp = parse_input({"potential": doc_elements, "data": {"filename": "ok.pckl.gzip"}}, source=tmp_path / "in.yaml")
    with pytest.raises(InputError, match=r"potential\.elements: the data contain element\(s\) Al missing"):
        prepare_data(inp, use_cache=False)


def test_energy_based_weighting_on_example_data(shared_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(shared_data / "pacemaker" / "exmpl_df.pckl.gzip", tmp_path)
    weighting = {
        "type": "EnergyBasedWeightingPolicy",
        "DElow": 0.05,
        "DEup": 10.0,
        "DE": 1.0,
        "DF": 1.0,
        "wlow": 0.75,
        "energy": "convex_hull",
        "seed": 42,
    }
    inp = make_input(tmp_path, {"filename": "exmpl_df.pckl.gzip", "test_size": 0.1}, fit={"weighting": weighting})
    prepared = prepare_data(inp, use_cache=False)
    assert prepared.n_train + prepared.n_test == 174 and prepared.n_test == 17
    joint = pd.concat([prepared.train, prepared.test])
    assert (joint["e_chull_dist_per_atom"] >= -1e-12).all()
    assert joint["e_chull_dist_per_atom"].min() == pytest.approx(0.0, abs=1e-12)
    low = prepared.train["e_chull_dist_per_atom"] < 0.05
    assert 0 < low.sum() < prepared.n_train
    # wlow is applied on train+test together, then each set is normalized again
    for frame in (prepared.train, prepared.test):
        assert frame["w_energy"].sum() == pytest.approx(1.0)
        assert sum(w.sum() for w in frame["w_forces"]) == pytest.approx(1.0)
    w = prepared.train["w_energy"].to_numpy()
    e = prepared.train["e_chull_dist_per_atom"].to_numpy()
    lo = e < 0.05
    assert np.allclose(w[lo] * (e[lo] + 1) ** 2, (w[lo] * (e[lo] + 1) ** 2)[0])  # 1/(dE+DE)^2 within a tier


def test_cu_data_uniform(shared_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(shared_data / "pacemaker" / "Cu-I" / "Cu_df1_A1_A2_A3_EV_elast_phon.pckl.gzip", tmp_path)
    doc = dict(SHAPE, elements=["Cu"])
    inp = parse_input(
        {"potential": doc, "data": {"filename": "Cu_df1_A1_A2_A3_EV_elast_phon.pckl.gzip"}},
        source=tmp_path / "input.yaml",
    )
    prepared = prepare_data(inp, use_cache=False)
    assert prepared.n_train == 105 and prepared.test is None
    total_atoms = prepared.train["NUMBER_OF_ATOMS"].sum()
    assert np.allclose(np.hstack(prepared.train["w_forces"]), 1 / total_atoms)
    assert np.allclose(prepared.train["w_energy"], 1 / 105)


def test_stale_caches_are_removed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_frame(make_frame(random_structures(6, ("Al",), seed=9)), tmp_path / "data.pckl.gzip")
    first = prepare_data(make_input(tmp_path, {"filename": "data.pckl.gzip", "test_size": 1})).cache_path
    second = prepare_data(make_input(tmp_path, {"filename": "data.pckl.gzip", "test_size": 2})).cache_path
    assert first != second and second.is_file() and not first.exists()
    assert [p.name for p in tmp_path.glob("data.forcefit-*")] == [second.name]


def test_cache_key_covers_every_setting(tmp_path, monkeypatch):
    from forcefit.pacemaker.preparedata import cache_key
    from forcefit.pacemaker.datafiles import resolve_data_files

    monkeypatch.chdir(tmp_path)
    write_frame(make_frame(random_structures(3, ("Al",), seed=1)), tmp_path / "data.pckl.gzip")
    energy_based = {"type": "EnergyBasedWeightingPolicy", "DElow": 1.0}
    variants = [
        make_input(tmp_path, {"filename": "data.pckl.gzip"}),
        make_input(tmp_path, {"filename": "data.pckl.gzip"}, seed=1),
        make_input(tmp_path, {"filename": "data.pckl.gzip", "test_size": 1}),
        make_input(tmp_path, {"filename": "data.pckl.gzip", "reference_energy": "auto"}),
        make_input(tmp_path, {"filename": "data.pckl.gzip", "ignore_weights": True}),
        make_input(tmp_path, {"filename": "data.pckl.gzip", "aug_factor": 1e-3}),
        make_input(tmp_path, {"filename": "data.pckl.gzip"}, fit={"weighting": energy_based}),
    ]
    keys = {cache_key(inp, *resolve_data_files(inp)) for inp in variants}
    assert len(keys) == len(variants)


def test_several_training_files_are_concatenated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_frame(make_frame(random_structures(3, ("Al",), seed=1), names=False), tmp_path / "a.pckl.gzip")
    write_frame(make_frame(random_structures(2, ("Ni",), seed=2), names=False), tmp_path / "b.pckl.gzip")
    prepared = prepare_data(make_input(tmp_path, {"filename": ["a.pckl.gzip", "b.pckl.gzip"]}), use_cache=False)
    assert prepared.n_train == 5 and prepared.elements == ("Al", "Ni")
    assert list(prepared.train["name"]) == [
        "a.pckl.gzip:0",
        "a.pckl.gzip:1",
        "a.pckl.gzip:2",
        "b.pckl.gzip:0",
        "b.pckl.gzip:1",
    ]
