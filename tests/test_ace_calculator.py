"""The ASE calculator for ACE potentials (ACECalculator / PyACECalculator)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.calculator import PropertyNotImplementedError

from forcefit.ace import ACECalculator, PyACECalculator
from forcefit.ace.yace_io import write_yace
from test_ace_eval import random_potential, rattled_alloy

HAVE_PYACE = importlib.util.find_spec("pyace") is not None


def test_properties_from_in_memory_potential():
    at = rattled_alloy(seed=21)
    at.calc = ACECalculator(random_potential(seed=21))
    e = at.get_potential_energy()
    assert e == pytest.approx(at.get_potential_energies().sum(), abs=1e-12)
    assert at.get_potential_energy(force_consistent=True) == e
    assert at.get_forces().shape == (len(at), 3)
    assert at.get_stress().shape == (6,)
    assert PyACECalculator is ACECalculator
    assert set(ACECalculator.implemented_properties) >= {"energy", "free_energy", "forces", "stress", "energies"}


def test_file_and_memory_give_same_numbers(tmp_path):
    pot = random_potential(seed=22)
    write_yace(pot, tmp_path / "p.yace")
    at = rattled_alloy(seed=22)
    a, b = at.copy(), at.copy()
    a.calc = ACECalculator(pot)
    b.calc = ACECalculator(str(tmp_path / "p.yace"))
    assert a.get_potential_energy() == b.get_potential_energy()
    np.testing.assert_array_equal(a.get_forces(), b.get_forces())


def test_recalculates_after_moving_atoms():
    at = rattled_alloy(seed=23)
    at.calc = ACECalculator(random_potential(seed=23))
    e0 = at.get_potential_energy()
    at.positions[0] += [0.05, 0, 0]
    assert at.get_potential_energy() != e0


def test_stress_of_non_periodic_system_is_refused():
    at = rattled_alloy(seed=24)[:5]
    at.pbc = False
    at.calc = ACECalculator(random_potential(seed=24))
    assert np.isfinite(at.get_potential_energy())
    with pytest.raises(PropertyNotImplementedError):
        at.get_stress()


def test_needs_a_potential():
    with pytest.raises(TypeError):
        ACECalculator()


@pytest.mark.skipif(not HAVE_PYACE, reason="python-ace (pyace) not installed")
@pytest.mark.parametrize("options", [
    dict(),
    dict(radbase="SBessel", inner="distance", prehc=5.0),
    dict(radbase="ChebPow", prehc=3.0),
    dict(radbase="ChebLinear"),
    dict(radbase="SBessel", inner="zbl", prehc=1.0),
])
def test_agrees_with_pyace_calculator(tmp_path, options):
    from pyace import PyACECalculator as Reference
    path = tmp_path / "p.yace"
    pot = random_potential(seed=25, **options)
    if options.get("inner") == "zbl":
        for bond in pot.bonds.values():
            bond.rcut_in, bond.dcut_in = 2.2, 0.4
    write_yace(pot, path)
    at = rattled_alloy(seed=25, a=3.3, amplitude=0.3)
    ours, ref = at.copy(), at.copy()
    ours.calc = ACECalculator(str(path))
    ref.calc = Reference(str(path))
    assert ours.get_potential_energy() == pytest.approx(ref.get_potential_energy(), abs=1e-9)
    np.testing.assert_allclose(ours.get_forces(), ref.get_forces(), atol=1e-8)
    np.testing.assert_allclose(ours.get_stress(), ref.get_stress(), atol=1e-10)


HAVE_CONVERTER = importlib.util.find_spec("forcefit.ace.convert") is not None


@pytest.mark.skipif(not HAVE_CONVERTER, reason="forcefit.ace.convert (B-basis -> Ctilde) not present")
def test_bbasis_yaml_file_and_in_memory_bbasis(shared_dir):
    from forcefit.ace.yaml_io import read_bbasis_yaml
    path = shared_dir / "reference" / "pace" / "potentials" / "Cu-III.yaml"
    at = bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 2, 2)
    at.rattle(0.05, seed=1)
    a, b = at.copy(), at.copy()
    a.calc = ACECalculator(str(path))
    b.calc = ACECalculator(read_bbasis_yaml(path))
    assert a.get_potential_energy() == b.get_potential_energy()
    np.testing.assert_array_equal(a.get_forces(), b.get_forces())
