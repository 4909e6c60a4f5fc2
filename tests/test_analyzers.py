"""EnergyForcesRMSE and Fisher against direct per-configuration computations."""

import io

import numpy as np
import pytest

from forcefit.analyzers import EnergyForcesRMSE, Fisher
from forcefit.calculators import Calculator
from forcefit.errors import InputError
from forcefit.models import LogParameterTransform
from toy_pair_model import ToyPair, ToyPairSelecting, make_configs


@pytest.fixture
def calc():
    model = ToyPair(A=11.0, alpha=1.1)
    model.set_opt_params(A=[["default"]], alpha=[["default"]])
    c = Calculator(model)
    c.create(make_configs(4))
    return c


@pytest.mark.parametrize("normalize", [True, False])
def test_rmse_matches_kliff_definitions(calc, normalize):
    enorms, fnorms, sq, count, eper = [], [], 0.0, 0, []
    for ca in calc.get_compute_arguments():
        n = ca.conf.get_num_atoms()
        de = calc.get_energy(ca) - ca.conf.energy
        df = calc.get_forces(ca) - ca.conf.forces
        enorms.append(abs(de) / (n if normalize else 1))
        fnorms.append(np.linalg.norm(df) / (n if normalize else 1))
        sq += np.sum(df**2)
        count += df.size
        eper.append(de / n)
    out = io.StringIO()
    r = EnergyForcesRMSE(calc).run(normalize=normalize, path=out, verbose=1, sort="forces")
    assert r["energy_rmse"] == pytest.approx(np.sqrt(np.mean(np.square(enorms))), rel=1e-12)
    assert r["forces_rmse"] == pytest.approx(np.sqrt(np.mean(np.square(fnorms))), rel=1e-12)
    assert r["forces_component_rmse"] == pytest.approx(np.sqrt(sq / count), rel=1e-12)
    assert r["energy_rmse_per_atom"] == pytest.approx(np.sqrt(np.mean(np.square(eper))), rel=1e-12)
    text = out.getvalue()
    assert "force component RMSE" in text and "toy3" in text
    # per-configuration lines sorted by forces norm
    lines = [ln for ln in text.splitlines() if ln.rstrip().endswith(tuple(f"toy{k}" for k in range(4)))]
    order = [int(ln.split()[0]) for ln in lines]
    assert order == list(np.argsort(fnorms))


def test_rmse_writes_difference_files(calc, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    EnergyForcesRMSE(calc).run(path=tmp_path / "rmse.txt", verbose=2)
    assert (tmp_path / "rmse.txt").read_text().count("RMSE") >= 2
    assert len(list((tmp_path / "analysis_energy_forces_RMSE-difference").glob("*.xyz"))) == 4
    with pytest.raises(InputError):
        EnergyForcesRMSE(calc).run(sort="stress")


@pytest.mark.parametrize("model_class", [ToyPair, ToyPairSelecting])
@pytest.mark.parametrize("transform", [None, LogParameterTransform(["A", "alpha"])])
def test_fisher_matches_finite_difference_force_jacobian(transform, tmp_path, model_class):
    model = model_class(A=11.0, alpha=1.1, params_transform=transform)
    model.set_opt_params(A=[["default"]], alpha=[["default"]])
    calc = Calculator(model)
    cas = calc.create(make_configs(3))
    x0 = calc.get_opt_params()
    blocks = []
    for ca in cas:
        cols = []
        for k in range(len(x0)):
            h = 1e-6 * max(1, abs(x0[k]))
            calc.update_model_params(x0 + h * np.eye(len(x0))[k])
            up = calc.get_forces(ca).ravel()
            calc.update_model_params(x0 - h * np.eye(len(x0))[k])
            down = calc.get_forces(ca).ravel()
            cols.append((up - down) / (2 * h))
        calc.update_model_params(x0)
        j = np.stack(cols, axis=1)
        blocks.append(j.T @ j)
    expected = np.mean(blocks, axis=0)
    expected_std = np.std(blocks, axis=0)
    F, std = Fisher(calc).run(verbose=1, path=tmp_path / "fisher.txt")
    np.testing.assert_allclose(F, expected, rtol=1e-6)
    np.testing.assert_allclose(std, expected_std, rtol=1e-5, atol=1e-10 * np.abs(expected).max())
    assert "Fisher information matrix, shape(2, 2)" in (tmp_path / "fisher.txt").read_text()
