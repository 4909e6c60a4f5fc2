"""Calculator: one batch for the dataset, KLIFF's per-configuration interface, input errors."""

import numpy as np
import pytest

from forcefit.calculators import Calculator
from forcefit.dataset.configuration import Configuration
from forcefit.errors import DatasetError, InputError
from toy_pair_model import ToyPair, make_configs


class CountingToy(ToyPair):
    calls = 0

    def compute_batch(self, *args, **kwargs):
        CountingToy.calls += 1
        return super().compute_batch(*args, **kwargs)


def test_per_config_interface_matches_single_config_evaluation():
    configs = make_configs(3)
    model = CountingToy()
    calc = Calculator(model)
    cas = calc.create(configs, use_stress=True)
    assert len(cas) == 3 and calc.get_compute_arguments() is cas
    CountingToy.calls = 0
    for ca in cas:
        calc.compute(ca)
    assert CountingToy.calls == 1, "one batch evaluation must serve every configuration"

    for ca, conf in zip(cas, configs):
        single = model.compute_batch(model.create_batch([conf]), stress=True)
        assert calc.get_energy(ca) == pytest.approx(single.energy[0], rel=1e-14)
        np.testing.assert_allclose(calc.get_forces(ca), single.forces, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(calc.get_stress(ca), single.stress[0], rtol=1e-13)
        pred = calc.get_prediction(ca)
        ref = calc.get_reference(ca)
        n = conf.get_num_atoms()
        assert pred.shape == ref.shape == (1 + 3 * n + 6,)
        assert pred[0] == pytest.approx(single.energy[0])
        np.testing.assert_allclose(ref[1:1 + 3 * n], conf.forces.ravel())
        np.testing.assert_allclose(ref[1 + 3 * n:], conf.stress)
        assert ca.get_prediction().shape == pred.shape


def test_prediction_layout_follows_flags():
    configs = make_configs(2)
    calc = Calculator(ToyPair())
    cas = calc.create(configs, use_energy=[True, False], use_forces=[False, True])
    assert calc.get_prediction(cas[0]).shape == (1,)
    assert calc.get_reference(cas[1]).shape == (3 * configs[1].get_num_atoms(),)


def test_cache_follows_parameter_changes():
    configs = make_configs(2)
    model = ToyPair()
    model.set_opt_params(A=[["default"]])
    calc = Calculator(model)
    cas = calc.create(configs)
    e1 = calc.get_energy(cas[0])
    calc.update_model_params([2 * model.model_params["A"][0]])
    e2 = calc.get_energy(cas[0])
    assert e1 != e2
    np.testing.assert_array_equal(calc.get_opt_params(), [20.0])
    assert calc.get_num_opt_params() == 1 and not calc.has_opt_params_bounds()


def test_unsupported_species_names_configuration():
    configs = make_configs(2)
    bad = Configuration(cell=np.eye(3) * 5, species=["Si", "Ge"], coords=[[0, 0, 0], [1, 1, 1]],
                        PBC=[True] * 3, energy=1.0, forces=np.zeros((2, 3)), identifier="germanium_cell")
    with pytest.raises(DatasetError, match=r"germanium_cell.*species Ge not supported"):
        Calculator(ToyPair()).create(configs + [bad])


def test_missing_forces_named_and_energy_only_allowed():
    configs = make_configs(2, with_forces=False)
    with pytest.raises(DatasetError, match=r"toy0.*no reference forces"):
        Calculator(ToyPair()).create(configs)
    cas = Calculator(ToyPair()).create(configs, use_forces=False)
    assert len(cas) == 2


def test_flag_list_length_checked_and_create_required():
    calc = Calculator(ToyPair())
    with pytest.raises(InputError, match="create"):
        calc.get_compute_arguments()
    with pytest.raises(DatasetError, match="use_energy"):
        calc.create(make_configs(2), use_energy=[True])


def test_stress_needs_reference_stress():
    conf = Configuration(cell=np.eye(3) * 5, species=["Si"], coords=[[0, 0, 0]], PBC=[True] * 3,
                         energy=1.0, forces=np.zeros((1, 3)), identifier="nostress")
    with pytest.raises(DatasetError, match="nostress.*no reference stress"):
        Calculator(ToyPair()).create([conf], use_stress=True)


def test_growing_cutoff_after_create_is_an_error():
    from forcefit.models import LennardJones

    model = LennardJones(cutoff=4.0)
    calc = Calculator(model)
    calc.create(_si_configs())
    calc.compute_all()
    model.set_opt_params(cutoff=[[4.5, "fix"]])
    with pytest.raises(InputError, match="influence distance grew from 4.0"):
        calc.compute_all()
    model.set_opt_params(cutoff=[[3.5, "fix"]])
    calc.compute_all()   # smaller is fine: the lists hold every pair the model needs


def _si_configs():
    return [Configuration(cell=np.eye(3) * 5.43, species=["Si"] * 2, coords=[[0, 0, 0], [1.36, 1.36, 1.36]],
                          PBC=[True] * 3, energy=-8.0, forces=np.zeros((2, 3)), identifier="si2")]
