"""Real reference sets in ../shared: counts from their SOURCES.md, values against ASE and pandas."""

import re

import numpy as np
import pandas as pd
import pytest

from forcefit.dataset import Dataset, read_extxyz, summarize

pytestmark = pytest.mark.shared_data


def mlearn_table(sources_md):
    """{file name: (structures, atoms)} from the table in mlearn's SOURCES.md."""
    counts = {}
    for element, train, test in re.findall(r"^\| (\w\w?) \| ([\d,]+ / [\d,]+) \| ([\d,]+ / [\d,]+) \|$", sources_md, re.M):
        for split, cell in (("train", train), ("test", test)):
            counts[f"{element}_{split}.xyz"] = tuple(int(x.replace(",", "")) for x in cell.split(" / "))
    return counts


def test_mlearn_counts_match_sources(shared_data):
    folder = shared_data / "mlearn"
    expected = mlearn_table((folder / "SOURCES.md").read_text())
    files = sorted(p.name for p in folder.glob("*.xyz"))
    assert len(expected) == 8 and sorted(expected) == files
    for name, (structures, atoms) in expected.items():
        configs = read_extxyz(folder / name)
        assert (len(configs), sum(c.get_num_atoms() for c in configs)) == (structures, atoms), name
        assert all(c.has_energy and c.has_forces and c.has_stress for c in configs), name


@pytest.mark.parametrize("name", ["Cu_test.xyz", "Si_test.xyz"])
def test_mlearn_values_match_ase(shared_data, name):
    ase_io = pytest.importorskip("ase.io")
    ours = read_extxyz(shared_data / "mlearn" / name)
    theirs = ase_io.read(shared_data / "mlearn" / name, ":")
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.species == b.get_chemical_symbols()
        np.testing.assert_array_equal(a.coords, b.positions)
        np.testing.assert_array_equal(a.cell, b.cell[:])
        assert a.energy == b.get_potential_energy()
        np.testing.assert_array_equal(a.forces, b.get_forces())
        np.testing.assert_allclose(a.stress, b.get_stress(voigt=True), rtol=0, atol=1e-15)
        assert a.metadata["config_type"] == b.info["config_type"]


@pytest.mark.parametrize(
    "folder, configs, atoms, species",
    [
        ("Si_training_set", 1000, 58_400, {"Si": 58_400}),
        ("Si_training_set_4_configs", 4, 256, {"Si": 256}),
        ("SiC_training_set", 10, 640, None),
    ],
)
def test_kliff_directories(shared_data, folder, configs, atoms, species):
    dataset = Dataset.from_path(shared_data / "kliff" / folder)
    assert (len(dataset), dataset.get_num_atoms()) == (configs, atoms)
    summary = summarize(dataset)
    assert summary.property_counts == {"energy": configs, "forces": configs, "stress": 0, "energy_corrected": 0}
    assert summary.pbc_counts == {"T T T": configs}
    if species:
        assert summary.atoms_by_species == species
    else:
        assert set(summary.atoms_by_species) == {"Si", "C"}
    paths = [str(c.path) for c in dataset]
    assert paths == sorted(paths) and len(set(paths)) == configs  # one file per configuration


def test_kliff_file_values(shared_data):
    path = shared_data / "kliff" / "SiC_training_set" / "T300_step5000.xyz"
    lines = path.read_text().splitlines()
    config = Dataset.from_path(path)[0]
    assert config.energy == -272.98168
    first = lines[2].split()
    assert config.species[0] == first[0]
    np.testing.assert_array_equal(config.coords[0], [float(x) for x in first[1:4]])
    np.testing.assert_array_equal(config.forces[0], [float(x) for x in first[4:7]])
    np.testing.assert_array_equal(config.cell, 10.862 * np.eye(3))


@pytest.mark.filterwarnings("ignore:numpy.core.numeric is deprecated:DeprecationWarning")  # pandas' own loader
def test_pacemaker_example_matches_pandas(shared_data):
    path = shared_data / "pacemaker" / "exmpl_df.pckl.gzip"
    frame = pd.read_pickle(path, compression="gzip")
    dataset = Dataset.from_pacemaker(path)
    assert len(dataset) == len(frame) == 174
    assert dataset.get_num_atoms() == sum(len(a) for a in frame["ase_atoms"]) == 449
    np.testing.assert_array_equal([c.energy for c in dataset], frame["energy"].to_numpy())
    np.testing.assert_array_equal([c.metadata["energy_corrected"] for c in dataset], frame["energy_corrected"].to_numpy())
    for config, forces in zip(dataset, frame["forces"]):
        np.testing.assert_array_equal(config.forces, np.asarray(forces))
    assert summarize(dataset).atoms_by_species.keys() == {"Al", "Ni"}


def test_pacemaker_dataframe_with_metadata_needs_no_pyace(shared_data):
    """Cu-I is a pyace.preparedata.DataFrameWithMetadata: plain pandas cannot load it without pyace."""
    path = shared_data / "pacemaker" / "Cu-I" / "Cu_df1_A1_A2_A3_EV_elast_phon.pckl.gzip"
    dataset = Dataset.from_pacemaker(path)
    assert (len(dataset), dataset.get_num_atoms()) == (105, 368)
    first = dataset[0]
    assert first.identifier == "A1:FHI-aims/PBE/tight:elastic:s_e_0"
    # no 'energy' column: the energy comes from the ASE calculator
    assert first.energy == pytest.approx(first.metadata["energy_corrected"])
    per_atom = [c.metadata["energy_corrected_per_atom"] for c in dataset]
    np.testing.assert_allclose(per_atom, [c.metadata["energy_corrected"] / c.get_num_atoms() for c in dataset])


def test_all_pacemaker_files_under_shared(shared_data):
    files = sorted((shared_data / "pacemaker").rglob("*.pckl.gzip"))
    assert len(files) == 2
    dataset = Dataset.from_pacemaker(shared_data / "pacemaker")
    assert (len(dataset), dataset.get_num_atoms()) == (174 + 105, 449 + 368)


def test_pacemaker_real_round_trip(shared_data, tmp_path):
    original = Dataset.from_pacemaker(shared_data / "pacemaker" / "exmpl_df.pckl.gzip")
    original.to_pacemaker(tmp_path / "copy.pckl.gzip")
    back = Dataset.from_pacemaker(tmp_path / "copy.pckl.gzip")
    for a, b in zip(original, back):
        assert a.energy == b.energy and a.metadata == b.metadata
        np.testing.assert_array_equal(a.forces, b.forces)
        np.testing.assert_array_equal(a.coords, b.coords)
