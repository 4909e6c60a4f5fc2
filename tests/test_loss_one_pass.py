"""One-pass loss and gradient of the C++ kernels (``Potential::loss_gradient``): equal to the
contraction of the stored derivative arrays for SW, LJ and EDIP (energy, forces, stress, zero
weights, selected columns), independent of the thread count, and behind ``Loss`` equal to the
residual path and to finite differences."""

import numpy as np
import pytest
from ase.build import bulk

from forcefit.calculators import Calculator
from forcefit.dataset import Configuration
from forcefit.dataset.weight import Weight
from forcefit.errors import InputError
from forcefit.loss import Loss
from forcefit.models import EDIP, LennardJones, LogParameterTransform, StillingerWeber
from forcefit.models.batch import LossResiduals, NeighborBatch
from kernel_checks import results_for_thread_counts


def si_structures(n, seed=0, symbols=None):
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        atoms = bulk("Si", "diamond", a=5.3 + 0.05 * k, cubic=True)
        atoms.rattle(0.12, seed=int(rng.integers(1 << 30)))
        if symbols is not None:
            atoms.symbols[[1, 4]] = symbols
        out.append(atoms)
    return out


def models():
    return [
        ("SW", StillingerWeber(), si_structures(3)),
        ("SW-SiC", StillingerWeber(["Si", "C"], A=[15.28, 14.0, 16.5], gamma=[2.51, 2.3, 2.4],
                                   **{"lambda": [45.5, 40.0, 50.0]}), si_structures(3, symbols="C")),
        ("LJ", LennardJones(["Si"], epsilon=0.5, sigma=2.2, cutoff=5.0), si_structures(2)),
        ("EDIP", EDIP(), si_structures(2)),
    ]


def random_residuals(batch, rng, stress=True):
    C, N = batch.n_configs, batch.n_atoms
    es, fs, ss = rng.uniform(0.5, 2.0, C), rng.uniform(0.05, 0.2, (N, 3)), rng.uniform(1, 3, (C, 6))
    es[0] = 0.0          # an energy that is not fitted
    fs[1:3] = 0.0        # forces of two atoms not fitted
    return LossResiduals(es, rng.normal(0, 5, C), fs, rng.normal(0, 1, (N, 3)),
                         ss if stress else None, rng.normal(0, 0.01, (C, 6)) if stress else None)


def stored_contraction(model, batch, res, cols):
    """(loss, gradient) from compute_batch's derivative arrays, contracted in numpy."""
    out = model.compute_batch(batch, stress=res.stress_scale is not None, param_derivs=True, param_indices=cols)
    loss, grad = 0.0, 0.0
    parts = [(res.energy_scale, res.energy_ref, out.energy, out.denergy),
             (res.forces_scale, res.forces_ref, out.forces, out.dforces)]
    if res.stress_scale is not None:
        parts.append((res.stress_scale, res.stress_ref, out.stress, out.dstress))
    for scale, ref, pred, dpred in parts:
        r = scale * (pred - ref)
        loss += 0.5 * float(np.sum(r * r))
        grad = grad + (r * scale).reshape(-1) @ dpred.reshape(r.size, -1)
    return loss, grad, out


@pytest.mark.parametrize("name, model, structures", models(), ids=[m[0] for m in models()])
@pytest.mark.parametrize("stress", [False, True])
def test_one_pass_equals_contraction_of_stored_derivatives(name, model, structures, stress):
    rng = np.random.default_rng(3)
    batch = NeighborBatch.from_configs(structures, model.get_supported_species(), model.get_influence_distance())
    n_params = len(model.get_model_params_flat())
    for cols in (None, list(range(n_params))[::-2], [0]):
        res = random_residuals(batch, rng, stress)
        loss, grad, pred, _, _ = model.compute_loss_gradient(batch, res, param_indices=cols)
        want_loss, want_grad, out = stored_contraction(model, batch, res, cols)
        assert loss == pytest.approx(want_loss, rel=1e-13)
        np.testing.assert_allclose(grad, want_grad, rtol=1e-11, atol=1e-11 * np.abs(want_grad).max())
        np.testing.assert_array_equal(pred.energy, out.energy)
        np.testing.assert_array_equal(pred.forces, out.forces)
        if stress:
            np.testing.assert_allclose(pred.stress, out.stress, rtol=1e-14, atol=1e-16)
    # an empty selection gives the loss alone
    loss0, grad0, _, _, _ = model.compute_loss_gradient(batch, res, param_indices=[])
    assert grad0.shape == (0,) and loss0 == pytest.approx(loss, rel=1e-14)


def test_zero_weight_hides_values_and_buffers_are_reused():
    model = StillingerWeber()
    batch = NeighborBatch.from_configs(si_structures(2), model.get_supported_species(), model.get_influence_distance())
    rng = np.random.default_rng(1)
    res = random_residuals(batch, rng, stress=False)
    ref_f = res.forces_ref.copy()
    ref_f[1:3] = np.nan      # NaN references of values with weight 0 do not reach the loss
    res2 = LossResiduals(res.energy_scale, res.energy_ref, res.forces_scale, ref_f)
    l1, g1, p1, _, _ = model.compute_loss_gradient(batch, res)
    l2, g2, p2, _, _ = model.compute_loss_gradient(batch, res2)
    assert np.isfinite(l2) and l2 == pytest.approx(l1, rel=1e-14)
    np.testing.assert_allclose(g2, g1, rtol=1e-14)
    # the same buffer object is filled by the next call
    p3 = model.compute_loss_gradient(batch, res2).predictions
    assert p3.forces is p2.forces


def test_one_pass_errors():
    model = StillingerWeber()
    batch = NeighborBatch.from_configs(si_structures(1), model.get_supported_species(), model.get_influence_distance())
    C, N = batch.n_configs, batch.n_atoms
    with pytest.raises(InputError, match="given together"):
        LossResiduals(np.ones(C), None)
    k = model._kernel
    args = (batch.atom_offset, batch.species, batch.first, batch.neigh, batch.rij, batch.volume, batch.cutoff,
            model.get_model_params_flat())
    with pytest.raises(InputError, match="its output buffer"):
        k.loss_gradient(*args, energy_scale=np.ones(C), energy_ref=np.zeros(C))
    with pytest.raises(InputError, match="forces must have shape"):
        k.loss_gradient(*args, forces_scale=np.ones((N, 3)), forces_ref=np.zeros((N, 3)), forces=np.zeros((N, 2)))
    with pytest.raises(InputError, match="writable C-contiguous float64"):
        k.loss_gradient(*args, energy_scale=np.ones(C), energy_ref=np.zeros(C), energy=np.zeros(C, np.float32))
    with pytest.raises(InputError, match="out of range"):
        k.loss_gradient(*args, selected=np.array([99], np.int32), energy_scale=np.ones(C),
                        energy_ref=np.zeros(C), energy=np.zeros(C))


def test_one_pass_does_not_depend_on_thread_count(tmp_path):
    results = results_for_thread_counts(
        "import sys, numpy as np\n"
        "from ase.build import bulk\n"
        "from forcefit.models.stillinger_weber import StillingerWeber\n"
        "from forcefit.models.batch import LossResiduals, NeighborBatch\n"
        "m = StillingerWeber()\n"
        "configs = [bulk('Si', 'diamond', a=5.3 + 0.01 * k, cubic=True).repeat(2) for k in range(24)]\n"
        "for k, a in enumerate(configs):\n"
        "    a.rattle(0.1, seed=k)\n"
        "b = NeighborBatch.from_configs(configs, m.get_supported_species(), m.get_influence_distance())\n"
        "rng = np.random.default_rng(0)\n"
        "C, N = b.n_configs, b.n_atoms\n"
        "res = LossResiduals(np.ones(C), rng.normal(-300, 5, C), np.full((N, 3), 0.1), rng.normal(0, 1, (N, 3)),\n"
        "                    np.ones((C, 6)), rng.normal(0, 0.01, (C, 6)))\n"
        "loss, grad = m.compute_loss_gradient(b, res)[:2]\n"
        "np.savez(sys.argv[1], loss=loss, grad=grad)\n", tmp_path)
    for other in results[1:]:
        for key in ("loss", "grad"):
            assert np.array_equal(results[0][key], other[key]), key


def sw_fit(transform=None, use_stress=False, use_forces=True):
    configs = []
    for k, atoms in enumerate(si_structures(4, seed=5)):
        ref = StillingerWeber(A=14.0 + k, gamma=2.3)
        batch = NeighborBatch.from_configs([atoms], ref.get_supported_species(), ref.get_influence_distance())
        out = ref.compute_batch(batch, stress=True)
        configs.append(Configuration(atoms.cell.array, list(atoms.get_chemical_symbols()), atoms.positions,
                                     [True] * 3, energy=float(out.energy[0]), forces=out.forces,
                                     stress=out.stress[0], identifier=f"c{k}",
                                     weight=Weight(energy_weight=1.0, forces_weight=0.1, stress_weight=3.0)))
    model = StillingerWeber(params_transform=transform)
    if transform is None:
        model.set_opt_params(A=[[5.0, 1.0, 20.0]], B=[["default"]], gamma=[[1.5]])
    else:
        model.set_opt_params(A=[[np.log(5.0)]], B=[["default"]], gamma=[[np.log(1.5)]])
    calc = Calculator(model)
    calc.create(configs, use_stress=use_stress, use_forces=use_forces)
    return calc, Loss(calc)


@pytest.mark.parametrize("transform", [None, LogParameterTransform(["A", "gamma"])])
@pytest.mark.parametrize("use_stress", [False, True])
def test_loss_one_pass_equals_residual_path_and_finite_differences(transform, use_stress):
    calc, loss = sw_fit(transform, use_stress)
    assert loss.objective._loss_residuals is not None
    x = calc.get_opt_params() * 1.01
    value, grad = loss.get_loss_and_gradient(x)
    # the residual path (Jacobian^T residual) gives the same numbers
    r = loss.get_residual(x)
    jac = loss.get_jacobian(x)
    assert value == pytest.approx(0.5 * float(r @ r), rel=1e-13)
    np.testing.assert_allclose(grad, jac.T @ r, rtol=1e-11)
    fd = []
    for k in range(len(x)):
        h = 1e-6 * max(1.0, abs(x[k]))
        e = h * np.eye(len(x))[k]
        fd.append((loss.get_loss(x + e) - loss.get_loss(x - e)) / (2 * h))
    np.testing.assert_allclose(grad, fd, rtol=1e-6)


def test_loss_one_pass_cache_sees_fixed_values_and_selection():
    calc, loss = sw_fit()
    model = calc.model
    x = calc.get_opt_params()
    v1, g1 = loss.get_loss_and_gradient(x)
    # same optimizer vector, another value of a fixed parameter
    model.set_opt_params(sigma=[[2.0, "fix"]])
    v2, g2 = loss.get_loss_and_gradient(x)
    assert v2 != v1 and not np.array_equal(g1, g2)
    # same parameter values, B no longer optimized: the gradient has the new components
    model.set_opt_params(B=[["default", "fix"]])
    x2 = calc.get_opt_params()
    v3, g3 = loss.get_loss_and_gradient(x2)
    assert v3 == v2 and g3.shape == (2,)
    np.testing.assert_array_equal(g3, g2[[0, 2]])


@pytest.mark.parametrize("use_stress", [False, True])
def test_residual_rows_and_jacobian_for_least_squares(use_stress):
    calc, loss = sw_fit(LogParameterTransform(["A", "gamma"]), use_stress, use_forces=[True, False, True, True])
    obj = loss.objective
    x = calc.get_opt_params() * 1.02
    rows = obj.rows(x, derivs=True)
    jac = obj.rows_jacobian(x)
    r = loss.get_residual(x)
    j = loss.get_jacobian(x)
    # configuration 1's forces are not fitted: their rows are 0, the rest is the residual vector
    natoms = calc.refs.natoms
    n_c, lo = len(natoms), len(natoms) + 3 * natoms[0]
    hi = lo + 3 * natoms[1]
    assert len(rows) == len(r) + 3 * natoms[1]
    assert not rows[lo:hi].any() and not jac[lo:hi].any()
    kept = np.r_[0:lo, hi:len(rows)]
    np.testing.assert_allclose(rows[kept], r, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(jac[kept], j, rtol=1e-11, atol=1e-13 * np.abs(j).max())
    assert n_c == 4
    # rows without derivatives, then the Jacobian at the same x: one more pass, same numbers
    x2 = x * 1.01
    r2 = obj.rows(x2).copy()
    n = loss.n_evaluations
    j2 = obj.rows_jacobian(x2)
    assert loss.n_evaluations == n + 1
    np.testing.assert_array_equal(obj.rows(x2), r2)
    h = 1e-6
    for k in range(len(x2)):
        e = h * max(1.0, abs(x2[k])) * np.eye(len(x2))[k]
        fd = (obj.rows(x2 + e) - obj.rows(x2 - e)) / (2 * e[k])
        np.testing.assert_allclose(j2[:, k], fd, rtol=1e-5, atol=1e-7 * np.abs(j2[:, k]).max())


def test_geodesic_lm_one_pass_equals_residual_path():
    calc, loss = sw_fit()
    res = loss.minimize("geodesiclm")
    one_pass = calc.get_opt_params().copy()
    # the same fit through the residual path (the one used for custom residual functions)
    calc2, loss2 = sw_fit()
    loss2.objective._loss_residuals = None
    res2 = loss2.minimize("geodesiclm")
    np.testing.assert_allclose(one_pass, calc2.get_opt_params(), rtol=1e-7)
    assert res.loss == pytest.approx(res2.loss, rel=1e-10)


def test_one_pass_non_finite_predictions_name_the_configurations():
    calc, loss = sw_fit()
    x = calc.get_opt_params().copy()
    x[2] = -2000.0   # gamma < 0: exp(gamma / (r - rc)) overflows
    for evaluate in (loss.get_loss, loss.get_loss_and_gradient):
        with pytest.raises(InputError, match="predicts NaN/inf for configuration.s. c0, c1"):
            evaluate(x)
