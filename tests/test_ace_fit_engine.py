"""The ACE fitting engine: parameter map, loss gradient against finite differences, trainable masks,
predictions against the ASE calculator, ladder steps and the ZBL core."""

from __future__ import annotations

import numpy as np
import pytest

from forcefit.ace.construct import construct_bbasis
from forcefit.ace.convert import bbasis_to_ctilde
from forcefit.ace.fit_engine import AceFitEngine, AceTrainablePotential
from forcefit.ace.fit_params import ParameterMap, expand_trainable_parameters
from forcefit.pacemaker.engine_checks import EngineCase
from forcefit.pacemaker.sections import LossSpec

from ace_fit_helpers import random_point, tiny_data, tiny_section, tiny_shape

FULL_LOSS = LossSpec(kappa=0.4, L1_coeffs=1e-3, L2_coeffs=2e-3, w0_rad=1e-2, w1_rad=1e-2, w2_rad=1e-3, w_stress=0.5)


def _same_ctilde(a, b):
    worst = 0.0
    for mu in a.functions:
        assert len(a.functions[mu]) == len(b.functions[mu])
        for fa, fb in zip(a.functions[mu], b.functions[mu]):
            assert (fa.mus, fa.ns, fa.ls) == (fb.mus, fb.ns, fb.ls)
            assert np.array_equal(fa.ms_combs, fb.ms_combs)
            worst = max(worst, float(np.max(np.abs(fa.ctildes - fb.ctildes))))
    for key, bond in a.bonds.items():
        if bond.radcoefficients.size:
            worst = max(worst, float(np.max(np.abs(bond.radcoefficients - b.bonds[key].radcoefficients))))
    return worst


@pytest.mark.parametrize("elements,ndensity", [(["Cu"], 1), (["Al", "Ni"], 2)])
def test_parameter_map_is_the_conversion(elements, ndensity):
    pot = construct_bbasis(tiny_shape(elements, ndensity), rng=np.random.default_rng(0))
    pmap = ParameterMap(pot)
    x = pmap.initial + np.random.default_rng(2).normal(size=pmap.n_parameters)
    # the linear map agrees with python-ace's conversion of the potential with those parameters
    assert _same_ctilde(bbasis_to_ctilde(pmap.bbasis(x)), pmap.ctilde_potential(x)) < 1e-13
    assert np.array_equal(ParameterMap(pmap.bbasis(x)).initial, x)
    assert pmap.n_radial + sum(s.ndensity for s in pmap.slots) == pmap.n_parameters
    # A-B and B-A share their radial coefficients
    if len(elements) == 2:
        ct = pmap.ctilde_potential(x)
        assert np.array_equal(ct.bonds[(0, 1)].radcoefficients, ct.bonds[(1, 0)].radcoefficients)


def test_parameter_map_of_reference_potentials(shared_data):
    from forcefit.ace.yaml_io import read_bbasis_yaml

    folder = shared_data.parent / "reference" / "pace" / "potentials"
    for name in ("Cu-III.yaml", "DFT10B-AgCu.yaml", "Al-Ni_opt_all.yaml"):
        pot = read_bbasis_yaml(folder / name)
        pmap = ParameterMap(pot)
        assert _same_ctilde(bbasis_to_ctilde(pot), pmap.ctilde_potential(pmap.initial)) < 1e-14, name


@pytest.mark.parametrize("elements,ndensity", [(["Cu"], 1), (["Cu"], 2), (["Al", "Ni"], 1), (["Al", "Ni"], 2)])
def test_loss_gradient_matches_finite_differences(elements, ndensity):
    engine = AceFitEngine(num_threads=1)
    target, _ = engine.build_potentials(tiny_section(elements, ndensity), elements)
    data = tiny_data(elements)
    case = EngineCase(engine, target, data, engine.prepare(data, 4.0), FULL_LOSS)
    x = random_point(target)
    n = len(x)
    # every radial parameter of the first bond, and function coefficients spread over the vector
    indices = sorted(set(range(0, target.map.n_radial, 3)) | set(range(target.map.n_radial, n, max(1, n // 25))))
    assert case.gradient_error(x, step=1e-6, indices=indices) < 1e-6
    assert case.data_terms_error(x) < 1e-12
    result = engine.evaluate(target, x, data, case.handle, FULL_LOSS)
    parts = result.components
    assert parts.stress > 0 and parts.l1 > 0 and parts.l2 > 0 and all(s > 0 for s in parts.smoothness)


def test_gradient_check_can_fail():
    """A wrong gradient (one term's weight doubled) is caught by the same check."""

    class Wrong(AceFitEngine):
        def evaluate(self, potential, parameters, data, handle, loss, gradient=True):
            result = super().evaluate(potential, parameters, data, handle, loss, gradient)
            if result.gradient is not None:
                g = result.gradient.copy()
                g[potential.map.n_radial:] *= 1.05
                from dataclasses import replace

                result = replace(result, gradient=g)
            return result

    engine = Wrong(num_threads=1)
    target, _ = engine.build_potentials(tiny_section(["Cu"]), ["Cu"])
    data = tiny_data(["Cu"])
    x = random_point(target)
    case = EngineCase(engine, target, data, engine.prepare(data, 4.0), FULL_LOSS)
    assert case.gradient_error(x, indices=[target.map.n_radial, target.map.n_radial + 3]) > 1e-3


def test_trainable_parameters_mask_the_gradient():
    elements = ["Al", "Ni"]
    engine = AceFitEngine(num_threads=1)
    data = tiny_data(elements)
    handle = engine.prepare(data, 4.0)
    full, _ = engine.build_potentials(tiny_section(elements), elements)
    x = random_point(full)
    g_full = engine.evaluate(full, x, data, handle, FULL_LOSS).gradient
    nrad = full.map.n_radial
    for spec in ("func", "radial", ["UNARY"], {"AlNi": "func", "NiAl": "func"}):
        pot, _ = engine.build_potentials(tiny_section(elements), elements, spec)
        g = engine.evaluate(pot, x, data, handle, FULL_LOSS).gradient
        frozen = ~pot.mask
        assert frozen.any() and (~frozen).any(), spec
        assert np.all(g[frozen] == 0.0) and np.allclose(g[~frozen], g_full[~frozen], rtol=1e-12, atol=0), spec
    func_only, _ = engine.build_potentials(tiny_section(elements), elements, "func")
    assert not func_only.mask[:nrad].any() and func_only.mask[nrad:].all()
    unary = expand_trainable_parameters(elements, ["UNARY"])
    assert set(unary) == {("Al",), ("Ni",)} and unary[("Al",)] == {"func", "radial"}
    ternary = expand_trainable_parameters(["Al", "Cu", "Ni"], "ALL")
    assert ternary[("Al", "Cu", "Ni")] == {"func"}


def test_predictions_match_the_calculator_of_the_saved_potential(tmp_path):
    from forcefit.ace.calculator import ACECalculator

    elements = ["Al", "Ni"]
    engine = AceFitEngine(num_threads=1)
    target, _ = engine.build_potentials(tiny_section(elements, 2), elements)
    data = tiny_data(elements)
    x = random_point(target, scale=0.1)
    target.set_parameters(x)
    result = engine.evaluate(target, x, data, engine.prepare(data, 4.0), FULL_LOSS, gradient=False)
    target.save(tmp_path / "pot.yaml")
    calc = ACECalculator(str(tmp_path / "pot.yaml"), splines=False)
    for s, atoms in enumerate(data.structures):
        atoms = atoms.copy()
        atoms.calc = calc
        assert atoms.get_potential_energy() == pytest.approx(result.energy[s], abs=1e-9)
        rows = slice(data.atom_offset[s], data.atom_offset[s + 1])
        assert np.allclose(atoms.get_forces(), result.forces[rows], atol=1e-9)
        assert np.allclose(atoms.get_stress(), result.stress[s], atol=1e-10)


def test_ladder_extension_and_number_of_functions():
    from forcefit.pacemaker.potential_section import parse_potential_section
    from forcefit.pacemaker.schema import Where

    elements = ["Cu"]
    engine = AceFitEngine(num_threads=1)
    target, initial = engine.build_potentials(tiny_section(elements), elements)
    assert initial.number_of_functions == 0 and len(initial.get_parameters()) == 0
    current, grew = engine.ladder_extend(initial, target, 4, "body_order")
    assert grew and current.number_of_functions == 4
    x = current.get_parameters()
    x[current.map.n_radial:] = 0.5
    current.set_parameters(x)
    bigger, grew = engine.ladder_extend(current, target, 100, "power_order")
    assert grew and bigger.number_of_functions == target.number_of_functions
    # coefficients of the functions already fitted are kept
    kept = [f.coeffs for f in bigger.bbasis().all_functions() if f.coeffs != (0.0,)]
    assert len(kept) == 4 and all(c == (0.5,) for c in kept)
    _, grew = engine.ladder_extend(bigger, target, 5, "body_order")
    assert not grew
    shape = tiny_shape(elements)
    shape["functions"]["number_of_functions_per_element"] = 5
    capped, _ = engine.build_potentials(parse_potential_section(shape, Where("potential")), elements)
    assert capped.number_of_functions == 5


def test_core_repulsion_auto_sets_zbl(tmp_path):
    from forcefit.ace.yaml_io import read_bbasis_yaml

    elements = ["Al", "Ni"]
    engine = AceFitEngine(num_threads=1)
    target, _ = engine.build_potentials(tiny_section(elements), elements)
    x = random_point(target)
    target.set_parameters(x)
    engine.set_core_repulsion(target, {("Al", "Al"): 2.1, ("Al", "Ni"): 2.3})
    assert np.array_equal(target.get_parameters(), x)
    target.save(tmp_path / "zbl.yaml")
    pot = read_bbasis_yaml(tmp_path / "zbl.yaml")
    r_in = {b.name: b.r_in for b in pot.blocks}
    assert r_in["Al"] == 2.1 and r_in["Al Ni"] == 2.3 and r_in["Ni"] == 2.1  # Ni-Ni absent: smallest found
    assert all(b.inner_cutoff_type == "zbl" for b in pot.blocks)
    with pytest.raises(Exception, match="closer than 6"):
        engine.set_core_repulsion(target, {})
    # a potential with the ZBL core (e.g. resumed with -p) is fitted with exact gradients as well
    data = tiny_data(elements)  # shortest distances 1.8-2.1 Å: the ZBL switch is active
    case = EngineCase(engine, target, data, engine.prepare(data, 4.0), FULL_LOSS)
    assert case.gradient_error(x, indices=list(range(0, len(x), 9))) < 1e-6


def test_orthogonality_weight_is_refused():
    from forcefit.errors import InputError

    engine = AceFitEngine(num_threads=1)
    target, _ = engine.build_potentials(tiny_section(["Cu"]), ["Cu"])
    data = tiny_data(["Cu"])
    with pytest.raises(InputError, match="w_orth"):
        engine.evaluate(target, target.get_parameters(), data, engine.prepare(data, 4.0), LossSpec(w_orth=1.0))


def test_trainable_potential_round_trip(tmp_path):
    from forcefit.ace.yaml_io import read_bbasis_yaml

    engine = AceFitEngine(num_threads=1)
    target, _ = engine.build_potentials(tiny_section(["Al", "Ni"], 2), ["Al", "Ni"])
    x = random_point(target)
    target.set_parameters(x)
    target.metadata["comment"] = "round trip"
    target.save(tmp_path / "p.yaml")
    again = AceTrainablePotential(read_bbasis_yaml(tmp_path / "p.yaml"))
    assert np.allclose(again.get_parameters(), x, rtol=1e-15, atol=0)
    assert again.metadata["comment"] == "round trip"
    copy = target.copy()
    copy.set_parameters(x * 2)
    assert np.array_equal(target.get_parameters(), x)


def test_potentials_from_files_reset_and_initial_potential(tmp_path):
    from forcefit.pacemaker.potential_section import PotentialSection

    elements = ["Al", "Ni"]
    engine = AceFitEngine(num_threads=1)
    fitted, _ = engine.build_potentials(tiny_section(elements), elements)
    x = random_point(fitted)
    fitted.set_parameters(x)
    fitted.save(tmp_path / "fitted.yaml")
    # potential: fitted.yaml -> continue from its parameters
    again, empty = engine.build_potentials(PotentialSection(filename=tmp_path / "fitted.yaml"), elements)
    assert np.allclose(again.get_parameters(), x, rtol=1e-15, atol=0) and empty.number_of_functions == 0
    # reset: function coefficients zero, crad = delta
    reset, _ = engine.build_potentials(PotentialSection(filename=tmp_path / "fitted.yaml", reset=True), elements)
    fresh, _ = engine.build_potentials(tiny_section(elements), elements)
    assert np.array_equal(reset.get_parameters(), fresh.get_parameters())
    # a shape with initial_potential: the target starts from the initial potential's coefficients
    _, nothing = engine.build_potentials(tiny_section(elements), elements)
    small, _ = engine.ladder_extend(nothing, fitted, 3, "body_order")
    small.set_parameters(random_point(small, seed=5))
    small.save(tmp_path / "small.yaml")
    section = tiny_section(elements)
    from dataclasses import replace

    target, initial = engine.build_potentials(replace(section, initial_potential=(tmp_path / "small.yaml",)), elements)
    assert initial.number_of_functions == small.number_of_functions
    assert target.number_of_functions == fresh.number_of_functions
    start = {f.elements + f.ns + f.ls + f.lint: f.coeffs for f in target.bbasis().all_functions()}
    for f in small.bbasis().all_functions():
        assert start[f.elements + f.ns + f.ls + f.lint] == f.coeffs
