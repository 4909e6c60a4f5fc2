"""Loss: KLIFF's loss value, analytic gradients/Jacobians against finite differences, every
minimization method, bounds, custom residual functions, NaN handling."""

import warnings

import numpy as np
import pytest

from forcefit.calculators import Calculator
from forcefit.dataset.weight import Weight
from forcefit.errors import InputError
from forcefit.loss import (LEAST_SQUARES_METHODS, SCIPY_MINIMIZE_METHODS, Loss, energy_forces_residual,
                           energy_residual, forces_residual)
from forcefit.models import LogParameterTransform
from toy_pair_model import ToyPair, ToyPairSelecting, make_configs


def setup(transform=None, use_stress=False, weight=None, bounds=True, model_class=ToyPair, **loss_kwargs):
    configs = make_configs(3, weight=weight or Weight(energy_weight=1.0, forces_weight=0.1, stress_weight=2.0))
    model = model_class(params_transform=transform)
    if transform is None:
        a = [[10.0, 1.0, 20.0]] if bounds else [[10.0]]
        model.set_opt_params(A=a, alpha=[["default"]], e0=[["default"], [-2.0, "fix"]])
    else:
        model.set_opt_params(A=[[np.log(10.0)]], alpha=[["default"]], e0=[["default"], [-2.0, "fix"]])
    calc = Calculator(model)
    calc.create(configs, use_stress=use_stress)
    return model, calc, Loss(calc, **loss_kwargs)


def kliff_loop_loss(calc, residual_fn, data):
    """The loss exactly as KLIFF computes it: residual_fn per configuration, 1/2 sum of squares."""
    total = 0.0
    for ca in calc.get_compute_arguments():
        conf = ca.conf
        r = residual_fn(conf.identifier, conf.get_num_atoms(), conf.weight,
                        calc.get_prediction(ca), calc.get_reference(ca), data)
        total += float(r @ r)
    return 0.5 * total


@pytest.mark.parametrize("use_stress", [False, True])
@pytest.mark.parametrize("normalize", [True, False])
def test_builtin_loss_equals_kliff_per_config_loop(use_stress, normalize):
    model, calc, loss = setup(use_stress=use_stress, residual_data={"normalize_by_natoms": normalize})
    expected = kliff_loop_loss(calc, energy_forces_residual, {"normalize_by_natoms": normalize})
    assert loss.get_loss() == pytest.approx(expected, rel=1e-13)
    # hand-written value for one configuration's energy term
    ca = calc.get_compute_arguments()[0]
    de = calc.get_prediction(ca)[0] - calc.get_reference(ca)[0]
    n = ca.conf.get_num_atoms() if normalize else 1
    assert loss.get_residual()[0] == pytest.approx(de / n)


@pytest.mark.parametrize("fn, flags", [(energy_residual, dict(use_forces=False)),
                                       (forces_residual, dict(use_energy=False))])
def test_energy_only_and_forces_only_defaults(fn, flags):
    configs = make_configs(2, weight=Weight(energy_weight=2.0, forces_weight=0.3))
    model = ToyPair()
    model.set_opt_params(A=[["default"]])
    calc = Calculator(model)
    calc.create(configs, **flags)
    loss = Loss(calc)
    assert loss.residual_fn is fn
    assert loss.get_loss() == pytest.approx(kliff_loop_loss(calc, fn, {"normalize_by_natoms": True}), rel=1e-13)


def fd_gradient(loss, x, h=1e-6):
    g = np.zeros_like(x)
    for k in range(len(x)):
        step = h * max(1.0, abs(x[k])) * np.eye(len(x))[k]
        g[k] = (loss.get_loss(x + step) - loss.get_loss(x - step)) / (2 * step[k])
    return g


def fd_jacobian(loss, x, h=1e-6):
    cols = []
    for k in range(len(x)):
        step = h * max(1.0, abs(x[k])) * np.eye(len(x))[k]
        cols.append((loss.get_residual(x + step) - loss.get_residual(x - step)) / (2 * step[k]))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("model_class", [ToyPair, ToyPairSelecting])
@pytest.mark.parametrize("transform", [None, LogParameterTransform(["A", "alpha"])])
@pytest.mark.parametrize("use_stress", [False, True])
def test_gradient_and_jacobian_match_finite_differences(transform, use_stress, model_class):
    model, calc, loss = setup(transform=transform, use_stress=use_stress, model_class=model_class)
    x = calc.get_opt_params()
    f, g = loss.get_loss_and_gradient(x)
    assert f == pytest.approx(loss.get_loss(x))
    np.testing.assert_allclose(g, fd_gradient(loss, x), rtol=1e-6, atol=1e-9)
    jac = loss.get_jacobian(x)
    np.testing.assert_allclose(jac, fd_jacobian(loss, x), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(jac.T @ loss.get_residual(x), g, rtol=1e-12, atol=1e-14)


def weighted_cubic_residual(identifier, natoms, weight, prediction, reference, data):
    """A nonlinear custom residual: cubic penalty plus a linear part."""
    d = (prediction - reference) / natoms
    return d + 0.5 * d**3


def linear_custom_residual(identifier, natoms, weight, prediction, reference, data):
    w = np.full(len(prediction), 0.2)
    w[0] = 1.5
    return w * (prediction - reference) / np.sqrt(natoms)


@pytest.mark.parametrize("model_class", [ToyPair, ToyPairSelecting])
@pytest.mark.parametrize("fn", [linear_custom_residual, weighted_cubic_residual])
def test_custom_residual_function_value_and_gradient(fn, model_class):
    model, calc, loss = setup(residual_fn=fn, model_class=model_class)
    x = calc.get_opt_params()
    assert loss.get_loss(x) == pytest.approx(kliff_loop_loss(calc, fn, loss.residual_data), rel=1e-13)
    f, g = loss.get_loss_and_gradient(x)
    np.testing.assert_allclose(g, fd_gradient(loss, x), rtol=1e-6, atol=1e-9)


def test_custom_residual_with_builtin_semantics_reaches_same_optimum():
    def same_as_builtin(identifier, natoms, weight, prediction, reference, data):
        return energy_forces_residual(identifier, natoms, weight, prediction, reference, data)

    _, _, builtin = setup()
    rb = builtin.minimize("L-BFGS-B", options={"ftol": 1e-14, "gtol": 1e-10})
    _, calc, custom = setup(residual_fn=same_as_builtin)
    rc = custom.minimize("L-BFGS-B", options={"ftol": 1e-14, "gtol": 1e-10})
    assert rc.loss == pytest.approx(rb.loss, rel=1e-6)
    np.testing.assert_allclose(rc.x, rb.x, rtol=1e-4)


def test_every_method_lowers_the_loss():
    for method in SCIPY_MINIMIZE_METHODS + LEAST_SQUARES_METHODS:
        bounded = method not in {"CG", "BFGS", "Newton-CG", "dogleg", "trust-ncg", "trust-exact",
                                 "trust-krylov", "lm"}
        model, calc, loss = setup(bounds=bounded)
        start = loss.get_loss()
        options = {"options": {"maxiter": 200}} if method in SCIPY_MINIMIZE_METHODS else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = loss.minimize(method, **options)
        assert res.loss < 0.5 * start, method
        # the model ends at the returned parameters
        np.testing.assert_allclose(calc.get_opt_params(), res.x)
        assert res.loss == pytest.approx(loss.get_loss(), rel=1e-12), method


def test_least_squares_methods_agree():
    results = {}
    for method in ["trf", "geodesiclm", "L-BFGS-B"]:
        _, _, loss = setup()
        kw = {"options": {"ftol": 1e-15, "gtol": 1e-12}} if method == "L-BFGS-B" else {}
        results[method] = loss.minimize(method, **kw)
    ref = results["trf"]
    for method, res in results.items():
        assert res.loss == pytest.approx(ref.loss, rel=1e-6), method
        np.testing.assert_allclose(res.x, ref.x, rtol=1e-4)


def test_bounds_errors_and_bounds_respected():
    _, _, loss = setup()
    with pytest.raises(InputError, match=r"method `BFGS` cannot handle bounds.*\bA\b"):
        loss.minimize("BFGS")
    with pytest.raises(InputError, match="`lm` cannot handle bounds"):
        loss.minimize("lm")
    with pytest.raises(InputError, match="set_opt_params"):
        loss.minimize("L-BFGS-B", bounds=[(0, 1)])
    with pytest.raises(InputError, match="not supported"):
        loss.minimize("simulated-annealing")
    # a bound that excludes the optimum (A* ~ 10.4) is honoured
    model = ToyPair()
    model.set_opt_params(A=[[9.0, 1.0, 9.5]], alpha=[["default"]])
    calc = Calculator(model)
    calc.create(make_configs(3))
    for method in ["L-BFGS-B", "trf", "geodesiclm"]:
        model.set_opt_params(A=[[9.0, 1.0, 9.5]], alpha=[[1.2]])
        res = Loss(calc).minimize(method)
        assert res.x[0] <= 9.5 + 1e-12, method


def test_residual_data_keys_checked():
    configs = make_configs(1)
    model = ToyPair()
    model.set_opt_params(A=[["default"]])
    calc = Calculator(model)
    calc.create(configs)
    with pytest.raises(InputError, match="normalise_by_natoms"):
        Loss(calc, residual_data={"normalise_by_natoms": False})


def test_nan_during_fit_stops_and_keeps_best_parameters(caplog):
    model, calc, loss = setup()
    model.nan_above_alpha = 1.25   # the model breaks when alpha grows past 1.25
    model.set_opt_params(A=[[10.0, 1.0, 20.0]], alpha=[[1.2]])
    start = loss.get_loss()
    with pytest.warns(RuntimeWarning, match=r"NaN/inf for configuration\(s\) toy0"):
        res = loss.minimize("L-BFGS-B")
    assert not res.success and "best parameters" in res.message
    assert np.all(np.isfinite(res.x)) and model.model_params["alpha"][0] <= 1.25
    assert res.loss <= start and np.isfinite(loss.get_loss())
    assert any("NaN" in rec.message for rec in caplog.records)


def test_nan_at_start_raises():
    model, calc, loss = setup()
    model.nan_above_alpha = 0.5
    with pytest.raises(InputError, match=r"not finite at the start.*toy0.*alpha="):
        loss.minimize("L-BFGS-B")
    with pytest.raises(InputError, match="toy0"):
        loss.get_loss()


def test_nprocs_accepted():
    _, _, loss = setup(nprocs=4)
    assert loss.nprocs == 4 and np.isfinite(loss.get_loss())


def test_changing_the_optimized_set_does_not_reuse_stale_derivative_columns():
    model, calc, loss = setup(model_class=ToyPairSelecting)
    loss.get_loss_and_gradient()
    # same parameter values, different optimized components
    model.set_opt_params(alpha=[["default", "fix"]], e0=[["default"], ["default"]])
    fresh = Loss(calc)
    x = calc.get_opt_params()
    f, g = fresh.get_loss_and_gradient(x)
    np.testing.assert_allclose(g, fd_gradient(fresh, x), rtol=1e-6, atol=1e-9)


def test_per_atom_force_weights_match_kliff_loop():
    from forcefit.dataset import MagnitudeInverseWeight

    weight = MagnitudeInverseWeight(config_weight=0.7, weight_params={
        "energy_weight_params": [0.1, 0.01], "forces_weight_params": [0.05, 0.5]})
    model, calc, loss = setup(weight=weight)
    fw = calc.get_compute_arguments()[0].conf.weight.forces_weight
    assert np.ndim(fw) == 1 and len(fw) == 3 * 8 and np.ptp(fw) > 0
    expected = kliff_loop_loss(calc, energy_forces_residual, {"normalize_by_natoms": True})
    assert loss.get_loss() == pytest.approx(expected, rel=1e-13)
    x = calc.get_opt_params()
    np.testing.assert_allclose(loss.get_loss_and_gradient(x)[1], fd_gradient(loss, x), rtol=1e-6, atol=1e-9)


def test_changing_fixed_values_between_calls_is_seen():
    model, calc, loss = setup()
    x = calc.get_opt_params()
    before = loss.get_loss(x)
    # same optimizer vector, different value of the fixed component e0[1]
    model.set_opt_params(e0=[["default"], [-2.4, "fix"]])
    after = loss.get_loss(x)
    assert after != before
    assert after == pytest.approx(kliff_loop_loss(calc, energy_forces_residual, {"normalize_by_natoms": True}))


def test_minimize_runs_blas_on_one_thread_and_restores_it():
    # numpy's BLAS worker threads left spinning after a product slow the OpenMP kernels down
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [m["num_threads"] for m in threadpool_info() if m["user_api"] == "blas"]

    before = blas_threads()
    seen = []
    _, _, loss = setup()
    loss.minimize("L-BFGS-B", callback=lambda x: seen.append(blas_threads()), options={"maxiter": 3})
    _, _, loss = setup()
    loss.minimize("geodesiclm", callback=lambda x, cost: seen.append(blas_threads()), maxiter=3)
    assert seen and all(all(n == 1 for n in threads) for threads in seen)
    assert blas_threads() == before
