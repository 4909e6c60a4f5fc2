"""Configuration validation, derived quantities, ASE conversion and Dataset containers."""

import numpy as np
import pytest

from forcefit.dataset import Configuration, Dataset, tensor_from_voigt, voigt_from_tensor
from forcefit.errors import DatasetError, InputError


def si2(**kwargs):
    args = dict(
        cell=5.43 * np.eye(3), species=["Si", "Si"], coords=[[0, 0, 0], [1.3575, 1.3575, 1.3575]],
        PBC=[True, True, True], identifier="si2",
    )
    args.update(kwargs)
    return Configuration(**args)


@pytest.mark.parametrize(
    "kwargs, problem",
    [
        ({"cell": np.eye(2)}, "cell has shape (2, 2), expected (3, 3)"),
        ({"coords": [[0, 0, 0]]}, "coords has shape (1, 3), expected (2, 3)"),
        ({"forces": np.zeros((3, 3))}, "forces has shape (3, 3), expected (2, 3)"),
        ({"stress": np.zeros(9)}, "stress has shape (9,), expected (6,)"),
        ({"forces": [[0, 0, 0], [0, np.nan, 0]]}, "forces contains a non-finite value (nan) at index (1, 1)"),
        ({"energy": np.inf}, "energy contains a non-finite value (inf)"),
        ({"coords": [[0, 0, 0], [0, 0, -np.inf]]}, "coords contains a non-finite value"),
        ({"PBC": [True, False]}, "PBC has shape (2,), expected (3,)"),
        ({"PBC": [2, 0, 0]}, "PBC must be three booleans"),
        ({"cell": np.zeros((3, 3))}, "the cell is singular"),
        ({"species": "SiSi"}, "not one string"),
        ({"species": ["Si", "1"]}, "species contains '1'"),
        ({"energy": "abc"}, "energy is not numeric"),
    ],
)
def test_validation_names_configuration_and_field(kwargs, problem):
    with pytest.raises(InputError) as info:
        si2(**kwargs)
    assert str(info.value).startswith("configuration 'si2': ")
    assert problem in str(info.value)


def test_missing_properties_raise_like_kliff():
    config = si2()
    assert not (config.has_energy or config.has_forces or config.has_stress)
    for name in ("energy", "forces", "stress"):
        with pytest.raises(DatasetError, match=f"configuration 'si2': has no {name}"):
            getattr(config, name)


def test_derived_quantities():
    cell = np.array([[3.0, 0, 0], [1.0, 4.0, 0], [0.5, 0.5, 5.0]])
    config = Configuration(cell, ["Ni", "Al", "Ni"], np.zeros((3, 3)), [1, 1, 0], forces=np.arange(9.0).reshape(3, 3))
    assert config.get_num_atoms() == 3
    assert config.get_volume() == pytest.approx(60.0)
    assert config.get_num_atoms_by_species() == {"Al": 1, "Ni": 2}
    assert config.count_atoms_by_species(["Ni", "Cu"]) == {"Ni": 2, "Cu": 0}
    np.testing.assert_array_equal(config.PBC, [True, True, False])
    config.order_by_species()
    assert config.species == ["Al", "Ni", "Ni"]
    np.testing.assert_array_equal(config.forces[:, 0], [3.0, 0.0, 6.0])


def test_voigt_conversion():
    voigt = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    tensor = tensor_from_voigt(voigt)
    np.testing.assert_array_equal(tensor, [[1, 6, 5], [6, 2, 4], [5, 4, 3]])
    np.testing.assert_array_equal(voigt_from_tensor(tensor), voigt)


def test_ase_round_trip():
    ase = pytest.importorskip("ase")
    from ase.calculators.singlepoint import SinglePointCalculator

    rng = np.random.default_rng(0)
    atoms = ase.Atoms("Cu3Ni", positions=rng.random((4, 3)) * 3, cell=[[3.6, 0, 0], [0.2, 3.6, 0], [0, 0, 3.6]], pbc=[1, 1, 0])
    atoms.info["config_type"] = "alloy"
    stress = rng.standard_normal(6)
    atoms.calc = SinglePointCalculator(atoms, energy=-14.2, forces=rng.standard_normal((4, 3)), stress=stress)
    dataset = Dataset.from_ase([atoms, atoms.copy()])
    assert len(dataset) == 2 and dataset[0].identifier == "ase:0"
    assert not dataset[1].has_energy  # Atoms.copy() drops the calculator
    config = dataset[0]
    assert config.energy == -14.2 and config.metadata == {"config_type": "alloy"}
    np.testing.assert_array_equal(config.stress, stress)
    back = config.to_ase_atoms()
    assert back.get_chemical_symbols() == atoms.get_chemical_symbols()
    np.testing.assert_array_equal(back.cell, atoms.cell)
    np.testing.assert_array_equal(back.pbc, atoms.pbc)
    np.testing.assert_array_equal(back.positions, atoms.positions)
    assert back.get_potential_energy() == -14.2
    np.testing.assert_array_equal(back.get_forces(), atoms.get_forces())
    np.testing.assert_array_equal(back.get_stress(), stress)
    assert back.info["config_type"] == "alloy"


def test_from_ase_reads_info_and_arrays_without_calculator():
    ase = pytest.importorskip("ase")
    atoms = ase.Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]])
    atoms.info["dft_energy"] = -31.5
    atoms.info["dft_stress"] = np.arange(9.0).reshape(3, 3)
    atoms.arrays["dft_forces"] = np.ones((2, 3))
    config = Configuration.from_ase_atoms(atoms, energy_key="dft_energy", forces_key="dft_forces", stress_key="dft_stress")
    assert config.energy == -31.5
    np.testing.assert_array_equal(config.forces, np.ones((2, 3)))
    np.testing.assert_array_equal(config.stress, [0, 4, 8, 6, 4, 2])


def test_dataset_container_behaviour(tmp_path):
    configs = [si2(identifier=f"s{k}", energy=float(k)) for k in range(4)]
    dataset = Dataset(configs)
    assert len(dataset) == dataset.get_num_configs() == 4
    assert [c.energy for c in dataset] == [0, 1, 2, 3]
    assert dataset.get_num_atoms() == 8
    assert isinstance(dataset[1:3], Dataset) and [c.identifier for c in dataset[1:3]] == ["s1", "s2"]
    assert dataset.get_configs() is dataset.configs
    with pytest.raises(InputError, match="got a str"):
        Dataset(["not a configuration"])
    dataset.to_file(tmp_path / "all.xyz")
    again = Dataset(str(tmp_path / "all.xyz"))  # KLIFF < 1.0 style: Dataset(path)
    assert [c.energy for c in again] == [0, 1, 2, 3]
    again.add_configs(tmp_path / "all.xyz")
    assert len(again) == 8


def test_dataset_path_errors(tmp_path):
    with pytest.raises(DatasetError) as info:
        Dataset.from_path(tmp_path / "missing")
    assert str(info.value) == f"{tmp_path / 'missing'}: no such file or directory"
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "README").write_text("no data here")
    with pytest.raises(DatasetError) as info:
        Dataset.from_path(tmp_path / "empty")
    assert str(info.value).startswith(f"{tmp_path / 'empty'}: directory holds no xyz files")
    with pytest.raises(InputError, match="unknown file_format 'cif'"):
        Dataset.from_path(tmp_path, file_format="cif")
