"""KIMModel (kimpy) against forcefit's built-in Stillinger-Weber: the KIM SW model with the same
parameters must give the same energies, forces, stress, loss gradient and fit."""

import os

import numpy as np
import pytest

from forcefit.calculators import Calculator
from forcefit.dataset import Dataset
from forcefit.dataset.weight import Weight
from forcefit.errors import InputError
from forcefit.loss import Loss
from forcefit.models import KIMModel, StillingerWeber

kimpy = pytest.importorskip("kimpy", reason="kimpy not installed (optional extra forcefit[kim])")

KIM_SW = "SW_StillingerWeber_1985_Si__MO_405512056662_005"


@pytest.fixture(scope="module", autouse=True)
def in_scratch_directory(tmp_path_factory):
    """The KIM API writes kim.log into the working directory: keep it out of the source tree."""
    old = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("kim"))
    yield
    os.chdir(old)


@pytest.fixture(scope="module")
def kim_sw():
    try:
        return KIMModel(KIM_SW)
    except InputError as err:
        pytest.skip(f"KIM model {KIM_SW} not installed: {err}")


@pytest.fixture(scope="module")
def configs(examples_dir):
    return Dataset.from_path(examples_dir / "data" / "kliff_Si_4_configs",
                             Weight(energy_weight=1.0, forces_weight=0.1)).get_configs()


def start(model):
    model.set_opt_params(A=[[5.0, 1.0, 20]], B=[["default"]], sigma=[[2.0951, "fix"]], gamma=[[1.5]])


def test_kim_parameters_and_species(kim_sw):
    params = kim_sw.get_model_params()
    assert {"A", "B", "sigma", "gamma", "lambda", "costheta0", "cutoff"} <= set(params)
    assert params["sigma"][0] == pytest.approx(2.0951)
    assert kim_sw.get_supported_species() == {"Si": 0}
    assert kim_sw.get_influence_distance() == pytest.approx(3.77118)


def test_kim_matches_builtin_sw(kim_sw, configs):
    builtin = StillingerWeber()
    results = []
    for model in (kim_sw, builtin):
        start(model)
        calc = Calculator(model)
        calc.create(configs)
        res = calc.compute_all(stress=True)
        loss = Loss(calc)
        results.append((res, loss.get_loss_and_gradient()))
    (rk, (fk, gk)), (rb, (fb, gb)) = results
    np.testing.assert_allclose(rk.energy, rb.energy, rtol=1e-10)
    np.testing.assert_allclose(rk.forces, rb.forces, atol=1e-10)
    np.testing.assert_allclose(rk.stress, rb.stress, rtol=1e-8, atol=1e-12)
    assert fk == pytest.approx(fb, rel=1e-10)
    # KIMModel differentiates by central finite differences
    np.testing.assert_allclose(gk, gb, rtol=1e-5)


def test_kim_fit_matches_builtin_fit(kim_sw, configs):
    optima = []
    for model in (kim_sw, StillingerWeber()):
        start(model)
        calc = Calculator(model)
        calc.create(configs)
        res = Loss(calc).minimize("geodesiclm", maxiter=40)
        optima.append((res.loss, calc.get_opt_params()))
    assert optima[0][0] == pytest.approx(optima[1][0], rel=1e-3, abs=1e-9)
    # A and B are well determined by the 4 configurations; gamma only weakly (flat loss)
    np.testing.assert_allclose(optima[0][1][:2], optima[1][1][:2], rtol=1e-5)
    np.testing.assert_allclose(optima[0][1][2], optima[1][1][2], rtol=1e-3)


def test_unknown_kim_model_is_an_input_error():
    with pytest.raises(InputError, match="NoSuchModel"):
        KIMModel("NoSuchModel__MO_000000000000_000")


def test_integer_parameters_and_cli_echo(capsys):
    from forcefit.cli.main import main

    name = "LennardJones612_UniversalShifted__MO_959249795837_003"
    try:
        model = KIMModel(name)
    except InputError as err:
        pytest.skip(f"KIM model {name} not installed: {err}")
    params = model.get_model_params()
    assert params["shift"].value.tolist() == [1.0]
    assert len(params["sigmas"]) == len(params["epsilons"]) > 1
    assert main(["model", "params", name]) == 0
    assert "name: shift" in capsys.readouterr().out


def test_write_kim_model_writes_current_parameters(kim_sw, tmp_path):
    kim_sw.set_opt_params(A=[[16.5]])
    out = kim_sw.write_kim_model(tmp_path / "SW_fitted_Si")
    files = {p.name for p in out.iterdir()}
    assert "CMakeLists.txt" in files
    params_file = next(p for p in out.iterdir() if p.suffix == ".params")
    numbers = [float(t) for t in params_file.read_text().split() if t[0].isdigit() or t[0] == "-"]
    assert 16.5 in numbers
    with pytest.raises(InputError, match="C identifiers"):
        kim_sw.write_kim_model(tmp_path / "not-an-identifier")
