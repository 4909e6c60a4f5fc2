"""KLIFF's Stillinger-Weber tutorial on forcefit's built-in SW: derivatives through the whole
front end on the 4-configuration set, and KLIFF's optimum on the 1000-configuration set."""

import numpy as np
import pytest

from forcefit.calculators import Calculator
from forcefit.dataset import Dataset
from forcefit.dataset.weight import Weight
from forcefit.loss import Loss
from forcefit.models import LogParameterTransform, StillingerWeber

KLIFF_OPTIMUM = {"loss": 0.6940780, "A": 14.938635, "B": 0.587403, "gamma": 2.201461}


def sw_loss(path, transform=None, **loss_kwargs):
    configs = Dataset.from_path(path, Weight(energy_weight=1.0, forces_weight=0.1)).get_configs()
    model = StillingerWeber(params_transform=transform)
    if transform is None:
        model.set_opt_params(A=[[5.0, 1.0, 20]], B=[["default"]], sigma=[[2.0951, "fix"]], gamma=[[1.5]])
    else:
        model.set_opt_params(A=[[np.log(5.0), np.log(1.0), np.log(20)]], B=[["default"]],
                             sigma=[[np.log(2.0951), "fix"]], gamma=[[np.log(1.5)]])
    calc = Calculator(model)
    calc.create(configs)
    return model, calc, Loss(calc, **loss_kwargs)


@pytest.mark.parametrize("transform", [None, LogParameterTransform(["A", "B", "sigma", "gamma"])])
def test_sw_gradient_and_jacobian_match_finite_differences(examples_dir, transform):
    model, calc, loss = sw_loss(examples_dir / "data" / "kliff_Si_4_configs", transform)
    x = calc.get_opt_params()
    f, g = loss.get_loss_and_gradient(x)
    jac = loss.get_jacobian(x)
    fd_g, fd_j = [], []
    for k in range(len(x)):
        h = 1e-6 * max(1.0, abs(x[k]))
        step = h * np.eye(len(x))[k]
        fd_g.append((loss.get_loss(x + step) - loss.get_loss(x - step)) / (2 * h))
        fd_j.append((loss.get_residual(x + step) - loss.get_residual(x - step)) / (2 * h))
    np.testing.assert_allclose(g, fd_g, rtol=1e-6)
    np.testing.assert_allclose(jac, np.stack(fd_j, axis=1), rtol=1e-5, atol=1e-7 * np.abs(jac).max())


def test_sw_methods_agree_on_small_set(examples_dir):
    optima = {}
    for method in ["L-BFGS-B", "geodesiclm", "trf"]:
        model, calc, loss = sw_loss(examples_dir / "data" / "kliff_Si_4_configs")
        if method == "L-BFGS-B":
            # unbounded, its first line search sends gamma below zero, where SW is not finite
            model.set_opt_params(gamma=[[1.5, 1.0, 3.0]])
        kwargs = {"options": {"ftol": 1e-15, "gtol": 1e-10}} if method == "L-BFGS-B" else {}
        res = loss.minimize(method, **kwargs)
        optima[method] = (res.loss, calc.get_opt_params())
    # the 4-configuration set is fitted almost exactly (loss ~1e-11): compare parameters, and
    # allow the gradient method the looser stop its relative tolerances give near zero
    ref_loss, ref_x = optima["trf"]
    assert ref_loss < 1e-8
    assert optima["geodesiclm"][0] < 1e-8
    np.testing.assert_allclose(optima["geodesiclm"][1], ref_x, rtol=1e-6)
    assert optima["L-BFGS-B"][0] < 1e-6
    np.testing.assert_allclose(optima["L-BFGS-B"][1], ref_x, rtol=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["L-BFGS-B", "geodesiclm"])
def test_sw_reaches_kliff_optimum_on_1000_configs(shared_data, method):
    model, calc, loss = sw_loss(shared_data / "kliff" / "Si_training_set")
    assert len(calc.get_compute_arguments()) == 1000
    res = loss.minimize(method)
    p = model.get_model_params()
    got = {"loss": res.loss, "A": p["A"][0], "B": p["B"][0], "gamma": p["gamma"][0]}
    for key, expected in KLIFF_OPTIMUM.items():
        assert got[key] == pytest.approx(expected, rel=1e-5), key
    assert p["sigma"][0] == 2.0951
