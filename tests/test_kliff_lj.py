"""KLIFF's Lennard-Jones tutorial reproduced: same start loss, same result after 10 L-BFGS-B
iterations (KLIFF: epsilon 1.5614863, sigma 2.06290476, loss 6.40974 -> 2.9720424e-3)."""

import numpy as np
import pytest

from forcefit.calculators import Calculator
from forcefit.dataset import Dataset
from forcefit.loss import Loss
from forcefit.models import LennardJones

KLIFF_START_LOSS = 6.40974
KLIFF_FINAL_LOSS = 2.9720423776281963e-3
KLIFF_SIGMA, KLIFF_EPSILON = 2.06290476, 1.5614863


@pytest.fixture
def lj_setup(examples_dir):
    configs = Dataset.from_path(examples_dir / "data" / "kliff_Si_4_configs").get_configs()
    assert len(configs) == 4
    model = LennardJones()
    model.set_opt_params(sigma=[["default"]], epsilon=[["default"]])
    calc = Calculator(model)
    calc.create(configs)
    return model, calc, Loss(calc, nprocs=1)


def test_lj_tutorial_matches_kliff(lj_setup):
    model, calc, loss = lj_setup
    assert loss.get_loss() == pytest.approx(KLIFF_START_LOSS, rel=1e-5)
    result = loss.minimize(method="L-BFGS-B", options={"maxiter": 10})
    assert result.nit == 10
    # KLIFF differentiates by finite differences, forcefit analytically: the 10-iteration paths
    # agree to ~1e-6 in the parameters
    sigma, epsilon = calc.get_opt_params()
    assert sigma == pytest.approx(KLIFF_SIGMA, rel=1e-5)
    assert epsilon == pytest.approx(KLIFF_EPSILON, rel=1e-5)
    assert result.loss == pytest.approx(KLIFF_FINAL_LOSS, rel=1e-4)
    assert model.get_model_params()["sigma"][0] == sigma


def test_lj_gradient_matches_finite_differences(lj_setup):
    model, calc, loss = lj_setup
    x = np.array([2.05, 1.5])
    f, g = loss.get_loss_and_gradient(x)
    fd = []
    for k in range(2):
        h = 1e-6 * np.eye(2)[k]
        fd.append((loss.get_loss(x + h) - loss.get_loss(x - h)) / 2e-6)
    np.testing.assert_allclose(g, fd, rtol=1e-6)
