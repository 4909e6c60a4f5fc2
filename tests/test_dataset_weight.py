"""Weight and MagnitudeInverseWeight against hand-computed values; custom subclasses."""

import numpy as np
import pytest

from forcefit.dataset import Configuration, Dataset, MagnitudeInverseWeight, Weight
from forcefit.errors import InputError


def make_config(weight=None, stress=True):
    cell = 4.0 * np.eye(3)
    coords = np.array([[0.0, 0.0, 0.0], [2.0, 2.0, 0.0]])
    forces = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0]])
    return Configuration(
        cell, ["Si", "Si"], coords, [True] * 3, energy=-8.0, forces=forces,
        stress=np.array([1.0, 2.0, 2.0, 1.0, 0.0, 0.0]) if stress else None, weight=weight,
    )


def test_uniform_weight_defaults_and_values():
    config = make_config()
    w = config.weight
    assert isinstance(w, Weight)
    assert (w.config_weight, w.energy_weight, w.forces_weight, w.stress_weight) == (1.0, 1.0, 1.0, 1.0)
    assert w.is_uniform()
    w2 = Weight(config_weight=2.0, energy_weight=0.5, forces_weight=3.0, stress_weight=0.0)
    assert (w2.config_weight, w2.energy_weight, w2.forces_weight, w2.stress_weight) == (2.0, 0.5, 3.0, 0.0)
    assert not w2.is_uniform()


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_weight_rejects_negative_and_non_finite(bad):
    with pytest.raises(InputError, match="energy_weight must be finite and non-negative"):
        Weight(energy_weight=bad)


def test_magnitude_inverse_weight_by_hand():
    c = {"energy_weight_params": [0.1, 0.5], "forces_weight_params": [0.2, 0.3], "stress_weight_params": [0.4, 2.0]}
    config = make_config(MagnitudeInverseWeight(config_weight=3.0, weight_params=c))
    w = config.weight
    assert w.config_weight == 3.0
    assert w.energy_weight == pytest.approx(1 / np.sqrt(0.1**2 + (0.5 * 8.0) ** 2))
    atom0 = 1 / np.sqrt(0.2**2 + (0.3 * 5.0) ** 2)  # |F| = 5 for (3, 4, 0)
    atom1 = 1 / 0.2
    np.testing.assert_allclose(w.forces_weight, [atom0] * 3 + [atom1] * 3)
    norm = np.sqrt(1 + 4 + 4 + 2 * 1)  # Frobenius norm of the symmetric tensor
    assert w.stress_weight == pytest.approx(1 / np.sqrt(0.4**2 + (2.0 * norm) ** 2))


def test_magnitude_inverse_weight_defaults_give_ones_and_scalar_sets_c1():
    w = make_config(MagnitudeInverseWeight()).weight
    assert w.energy_weight == 1.0 and w.stress_weight == 1.0
    np.testing.assert_array_equal(w.forces_weight, np.ones(6))
    assert MagnitudeInverseWeight.default_weight_params["energy_weight_params"] == (1.0, 0.0)
    w = make_config(MagnitudeInverseWeight(weight_params={"energy_weight_params": 0.5})).weight
    assert w.energy_weight == pytest.approx(2.0)
    # the class defaults are not changed by an instance's parameters
    assert MagnitudeInverseWeight().weight_params["energy_weight_params"] == (1.0, 0.0)


def test_magnitude_inverse_weight_bad_params():
    with pytest.raises(InputError, match="unknown key 'energy_params'"):
        MagnitudeInverseWeight(weight_params={"energy_params": [1, 0]})
    with pytest.raises(InputError, match="number c1 or a pair"):
        MagnitudeInverseWeight(weight_params={"forces_weight_params": [1, 2, 3]})
    with pytest.raises(InputError, match="forces weight is infinite"):
        make_config(MagnitudeInverseWeight(weight_params={"forces_weight_params": [0.0, 1.0]}))


def test_weight_is_computed_on_attach_and_copied_per_configuration(tmp_path):
    class EnergyPerAtom(Weight):
        """Energy weight 1/N^2, so that the loss sees energy per atom."""

        def compute_weight(self, config):
            self._energy_weight = 1.0 / config.get_num_atoms() ** 2

    config = make_config()
    config.weight = EnergyPerAtom()
    assert config.weight.energy_weight == pytest.approx(0.25)
    for n in (1, 3):
        (tmp_path / f"c{n}.xyz").write_text(
            f"{n}\nLattice=\"5 0 0 0 5 0 0 0 5\" Energy=-1.0\n" + "Si 0 0 0\n" * 1 + "Si 1 1 1\n" * (n - 1)
        )
    dataset = Dataset.from_path(tmp_path, weight=EnergyPerAtom())
    weights = sorted(c.weight.energy_weight for c in dataset)
    assert weights == pytest.approx([1 / 9, 1.0])
    assert dataset[0].weight is not dataset[1].weight
