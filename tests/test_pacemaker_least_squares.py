"""``fit.optimizer`` least-squares methods (trf, dogbox, lm, geodesiclm) in pacemaker fits: input checks,
short fits on a tiny data set that lower the loss while writing the usual log, metrics, interim potentials
and calling callbacks, the iteration cap and early stopping."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from forcefit.cli.pacemaker import main
from forcefit.errors import InputError
from forcefit.pacemaker.fit_section import optimizer_option_names
from forcefit.pacemaker.inputfile import parse_input

from pacemaker_helpers import PAIR_SHAPE_INPUT, make_frame, random_structures, write_frame

CALLBACK_MODULE = '''
CALLS = []
def record(basis_config, current_fit_iteration, current_fit_cycle, current_ladder_step):
    CALLS.append(current_fit_iteration)
    with open("callback_calls.txt", "a") as out:
        out.write(f"{current_fit_iteration}\\n")
'''


def _document(**fit):
    doc = yaml.safe_load(PAIR_SHAPE_INPUT.format(elements="Cu", data="toy.pckl.gzip"))
    doc["fit"]["loss"] = {"kappa": 0.5, "L2_coeffs": 1e-8}  # safe_load reads 1e-8 as a string
    doc["fit"].update(fit)
    return doc


@pytest.fixture
def ls_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_frame(make_frame(random_structures(10, ("Cu",), seed=11)), tmp_path / "toy.pckl.gzip")
    (tmp_path / "ls_callbacks.py").write_text(CALLBACK_MODULE)
    return tmp_path


def _run(folder, **fit):
    doc = _document(**fit)
    doc["data"]["test_size"] = 2
    (folder / "input.yaml").write_text(yaml.safe_dump(doc))
    assert main(["input.yaml", "--no-predict"]) == 0
    rows = [line.split() for line in (folder / "metrics.txt").read_text().splitlines()]
    column = rows[0].index("loss")
    return [float(r[column]) for r in rows[1:]]


@pytest.mark.parametrize("method", ["geodesiclm", "trf"])
def test_least_squares_fit_lowers_the_loss_with_the_usual_outputs(ls_dir, method):
    losses = _run(ls_dir, optimizer=method, maxiter=6, callbacks=["ls_callbacks.record"])
    assert 2 <= len(losses) <= 7  # the start and at most maxiter accepted steps
    assert losses[-1] < 0.5 * losses[0]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(losses, losses[1:])), "accepted steps never raise the loss"
    log = (ls_dir / "log.txt").read_text()
    assert "Iteration   #" in log and "FIT STATS" in log
    for name in ("output_potential.yaml", "interim_potential_0.yaml", "interim_potential_best_cycle.yaml"):
        assert (ls_dir / name).is_file(), name
    calls = [int(v) for v in (ls_dir / "callback_calls.txt").read_text().split()]
    assert calls == list(range(len(losses)))


@pytest.mark.parametrize("method", ["dogbox", "lm"])
def test_maxiter_caps_the_accepted_steps(ls_dir, method):
    losses = _run(ls_dir, optimizer=method, maxiter=2)
    assert len(losses) == 3 and losses[2] < losses[1] < losses[0]


def test_early_stopping_stops_a_least_squares_fit(ls_dir):
    losses = _run(ls_dir, optimizer="geodesiclm", maxiter=30, min_relative_train_loss_per_iter=0.9,
                  early_stopping_patience=2)
    assert len(losses) < 30
    assert "EARLY STOPPING" in (ls_dir / "log.txt").read_text()


def test_input_checks_for_least_squares_methods():
    inp = parse_input(_document(optimizer="GeodesicLM", options={"initial_lambda": 10.0, "jacobian_chunk_mb": 64}))
    assert inp.fit.optimizer == "geodesiclm" and inp.fit.options == {"initial_lambda": 10.0, "jacobian_chunk_mb": 64}
    assert parse_input(_document(optimizer="trf", options={"x_scale": "jac"})).fit.options == {"x_scale": "jac"}
    assert "tr_solver" not in optimizer_option_names("lm") and "tr_solver" in optimizer_option_names("trf")
    with pytest.raises(InputError, match=r"fit\.loss\.L1_coeffs: the L1 penalty is not a sum of squares"):
        parse_input(_document(optimizer="lm", loss={"kappa": 0.5, "L1_coeffs": 1e-5}))
    with pytest.raises(InputError, match=r"fit\.loss\.w2_rad: .*not sums of squares"):
        parse_input(_document(optimizer="trf", loss={"kappa": 0.5, "w2_rad": 1e-5}))
    with pytest.raises(InputError, match=r"fit\.options.*initial_lambda"):
        parse_input(_document(optimizer="trf", options={"initial_lambdaa": 1.0}))
    with pytest.raises(InputError, match=r"fit\.options\.jacobian_chunk_mb: expected a positive"):
        parse_input(_document(optimizer="trf", options={"jacobian_chunk_mb": -1}))
    with pytest.raises(InputError, match=r"fit\.optimizer: unknown value 'geodesic'"):
        parse_input(_document(optimizer="geodesic"))


@pytest.mark.parametrize("method", ["trf", "lm"])
def test_a_converged_fit_ends_its_log_at_the_returned_potential(ls_dir, method):
    from forcefit.ace.fit_engine import AceTrainablePotential
    from forcefit.ace.yaml_io import read_bbasis_yaml

    losses = _run(ls_dir, optimizer=method, maxiter=50, options={"ftol": 1e-3, "xtol": 1e-3, "gtol": 1e-3})
    assert len(losses) < 51
    assert "termination condition is satisfied" in (ls_dir / "log.txt").read_text()
    last_recorded = AceTrainablePotential(read_bbasis_yaml(ls_dir / "interim_potential_0.yaml"))
    final = AceTrainablePotential(read_bbasis_yaml(ls_dir / "output_potential.yaml"))
    np.testing.assert_array_equal(last_recorded.get_parameters(), final.get_parameters())


def test_geodesiclm_on_the_normal_equations_takes_the_same_steps(ls_dir):
    plain = _run(ls_dir, optimizer="geodesiclm", maxiter=4)
    compact = _run(ls_dir, optimizer="geodesiclm", maxiter=4, options={"normal_equations": True})
    assert len(compact) == len(plain) == 5
    np.testing.assert_allclose(compact, plain, rtol=1e-6)
    assert "on the normal equations" in (ls_dir / "log.txt").read_text()
    with pytest.raises(InputError, match=r"fit\.options\.broyden: Broyden updates"):
        parse_input(_document(optimizer="geodesiclm", options={"normal_equations": True, "broyden": True}))
