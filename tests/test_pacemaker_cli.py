"""The ``pacemaker`` command: options, dry run, data preparation, the missing-engine stop, and a
complete fit (fitting loop, metrics files, predictions, report) with a toy engine."""

from __future__ import annotations

import io
import shutil
from dataclasses import replace

import numpy as np
import pytest
import yaml

from forcefit.cli.pacemaker import GENERATED_FILES, main
from forcefit.dataset.pacemaker import read_dataframe
from forcefit.pacemaker.engine import FitData, register_fit_engine
from forcefit.pacemaker.engine_checks import EngineCase
from forcefit.pacemaker.inputfile import load_input
from forcefit.pacemaker.sections import LossSpec
from forcefit.pacemaker.fitloop import ladder_step_size

from pacemaker_helpers import PAIR_SHAPE_INPUT, PairEngine, PairPotential, make_frame, random_structures, write_frame

TRUE_PARAMS = (0.3, -0.1, 0.02)


@pytest.fixture
def cu_dir(shared_data, tmp_path, monkeypatch):
    for f in (shared_data / "pacemaker" / "Cu-I").iterdir():
        shutil.copy(f, tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def toy_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_frame(make_frame(random_structures(12, ("Cu",), seed=11), params=TRUE_PARAMS), tmp_path / "toy.pckl.gzip")
    (tmp_path / "input.yaml").write_text(PAIR_SHAPE_INPUT.format(elements="Cu", data="toy.pckl.gzip"))
    return tmp_path


@pytest.fixture
def toy_engine():
    register_fit_engine(PairEngine)
    yield
    register_fit_engine(None)


def test_dry_run_checks_everything_and_stops(cu_dir, capsys):
    assert main(["--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Dry run is finished" in out and "train: 105 structures, 368 atoms" in out
    assert "served by forcefit's own ACE engine" in out
    assert (cu_dir / "fitting_data_info.pckl.gzip").is_file()
    assert "Dry run is finished" in (cu_dir / "log.txt").read_text()
    assert not (cu_dir / "output_potential.yaml").exists()


def test_without_engine_the_fit_stops_clearly(cu_dir, capsys, monkeypatch):
    # a build without the ACE engine module
    monkeypatch.setattr("forcefit.pacemaker.engine.ENGINE_MODULE", "forcefit.ace.no_such_engine")
    assert main([]) == 1
    err = capsys.readouterr().err
    assert "the ACE fitting engine is not available in this build of forcefit" in err
    assert not (cu_dir / "output_potential.yaml").exists() and not (cu_dir / "metrics.txt").exists()
    assert "not available" in (cu_dir / "log.txt").read_text()


def test_prepare_data_and_rebuild(cu_dir, capsys):
    assert main(["--prepare-data"]) == 0
    caches = list(cu_dir.glob("*.forcefit-*.pckl.gzip"))
    assert len(caches) == 1
    assert main(["--prepare-data"]) == 0
    assert "read from cache" in capsys.readouterr().out
    assert main(["--prepare-data", "--rebuild"]) == 0
    assert "read from cache" not in capsys.readouterr().out


def test_bad_input_exit_status_and_message(cu_dir, capsys):
    text = (cu_dir / "input.yaml").read_text().replace("kappa: 0.35", "kapa: 0.35")
    (cu_dir / "bad.yaml").write_text(text)
    assert main(["bad.yaml", "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "pacemaker: error: bad.yaml: fit.loss.kapa: unknown key; did you mean 'kappa'?"
    assert main(["--dry-run", "-d", "missing.pckl.gzip"]) == 1
    assert "data.filename: data file 'missing.pckl.gzip' not found" in capsys.readouterr().err
    assert main(["--dry-run", "-b", "jax"]) == 1
    assert "-b/--backend: unknown value 'jax'" in capsys.readouterr().err


def test_query_data_explains(cu_dir, capsys):
    assert main(["--query-data"]) == 1
    assert "structdb" in capsys.readouterr().err


def test_version_and_clean(cu_dir, capsys):
    assert main(["-v"]) == 0
    out = capsys.readouterr().out
    assert "pacemaker/forcefit version" in out and "ACE fitting engine: available" in out
    for name in ("metrics.txt", "interim_potential_0.yaml", "log.txt"):
        (cu_dir / name).write_text("x")
    (cu_dir / "report").mkdir()
    assert main(["-c"]) == 0
    assert not any((cu_dir / n).exists() for n in ("metrics.txt", "interim_potential_0.yaml", "log.txt", "report"))
    assert (cu_dir / "input.yaml").exists() and "metrics.txt" in GENERATED_FILES


def test_template_with_defaults_when_not_a_tty(cu_dir, monkeypatch):
    (cu_dir / "input.yaml").unlink()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["-t"]) == 0
    inp = load_input(cu_dir / "input.yaml")
    assert inp.potential.elements == ("Cu",) and inp.potential.number_of_functions_per_element == 700
    assert inp.data.filenames == ("Cu_df1_A1_A2_A3_EV_elast_phon.pckl.gzip",)
    assert inp.fit.loss.kappa == "auto" and inp.potential.max_rcut == 7.0
    monkeypatch.setattr(
        "sys.stdin", io.StringIO("Cu_df1_A1_A2_A3_EV_elast_phon.pckl.gzip\n0.1\nCu\n300\n6.5\nenergy\n")
    )
    assert main(["-t"]) == 0
    inp = load_input(cu_dir / "input.yaml")
    assert inp.data.test_size == 0.1 and inp.potential.max_rcut == 6.5
    assert inp.fit.weighting.type == "EnergyBasedWeightingPolicy"
    assert main(["--dry-run"]) == 0
    assert "kappa (auto, from the training data): " in (cu_dir / "log.txt").read_text()


def test_toy_engine_gradient_matches_finite_differences(toy_dir):
    from forcefit.pacemaker.preparedata import prepare_data

    prepared = prepare_data(load_input("input.yaml"), use_cache=False)
    data = FitData.from_frame(prepared.train)
    engine = PairEngine()
    handle = engine.prepare(data, 4.0)
    potential = PairPotential(["Cu"])
    loss = LossSpec(kappa=0.4, L2_coeffs=1e-3)
    x = np.array([0.1, 0.2, -0.05])
    case = EngineCase(engine, potential, data, handle, loss)
    assert case.gradient_error(x) < 1e-6
    assert case.data_terms_error(x) < 1e-12

    class WrongGradient(PairEngine):
        def evaluate(self, *args, **kwargs):
            result = super().evaluate(*args, **kwargs)
            if result.gradient is not None:
                result = replace(result, gradient=result.gradient * 1.01)
            return result

    assert EngineCase(WrongGradient(), potential, data, handle, loss).gradient_error(x) > 1e-3


def test_full_fit_with_toy_engine(toy_dir, toy_engine, capsys):
    doc = yaml.safe_load((toy_dir / "input.yaml").read_text())
    doc["data"]["test_size"] = 3
    doc["fit"]["repulsion"] = "auto"
    doc["fit"]["loss"]["kappa"] = "auto"
    (toy_dir / "input.yaml").write_text(yaml.safe_dump(doc))
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "Fitting engine: toy pair engine" in out and "INIT STATS" in out and "FIT STATS" in out
    assert "kappa automatically selected" in out and "Last relative TRAIN loss change" in out
    fitted = yaml.safe_load((toy_dir / "output_potential.yaml").read_text())
    assert np.allclose(fitted["params"], TRUE_PARAMS, atol=1e-3)
    assert "core_repulsion_r_in" in fitted["metadata"] and "starttime" in fitted["metadata"]
    rows = (toy_dir / "metrics.txt").read_text().splitlines()
    assert len(rows) >= 3 and float(rows[-1].split()[3]) < float(rows[1].split()[3])  # loss went down
    assert len((toy_dir / "test_metrics.txt").read_text().splitlines()) >= 2
    assert len((toy_dir / "cycle_metrics.txt").read_text().splitlines()) == 2
    for name, n, flag in (("train_pred.pckl.gzip", 9, True), ("test_pred.pckl.gzip", 3, False)):
        table = read_dataframe(toy_dir / name)
        assert len(table) == n and table["train"].eq(flag).all()
        assert np.allclose(table["energy_pred"], table["energy_corrected"], atol=1e-4)
    assert len(list((toy_dir / "report").glob("*.png"))) == 10
    for name in (
        "target_potential.yaml",
        "interim_potential_0.yaml",
        "interim_potential_best_cycle.yaml",
        "fitting_data_info.pckl.gzip",
        "test_data_info.pckl.gzip",
        "log.txt",
    ):
        assert (toy_dir / name).is_file(), name


def test_ladder_cycles_and_early_stopping(toy_dir, toy_engine, capsys):
    doc = yaml.safe_load((toy_dir / "input.yaml").read_text())
    doc["fit"].update(
        ladder_step=1,
        fit_cycles=2,
        noise_relative_sigma=1e-2,
        maxiter=200,
        min_relative_train_loss_per_iter=1e-3,
        early_stopping_patience=3,
    )
    (toy_dir / "input.yaml").write_text(yaml.safe_dump(doc))
    assert main(["--no-predict"]) == 0
    out = capsys.readouterr().out
    assert "'Ladder-scheme' fitting" in out and "No new function added" in out
    assert "EARLY STOPPING" in out
    header, *ladder_rows = (toy_dir / "ladder_metrics.txt").read_text().splitlines()
    rows = [dict(zip(header.split(), r.split())) for r in ladder_rows]
    assert [int(r["ladder_step"]) for r in rows] == [0, 1, 2]
    assert [int(r["nfuncs"]) for r in rows] == [1, 2, 3]  # one more function per ladder step
    assert len((toy_dir / "cycle_metrics.txt").read_text().splitlines()) == 1 + 2 * 3
    for step in range(3):
        assert (toy_dir / f"interim_potential_ladder_step_{step}.yaml").is_file()
    assert not (toy_dir / "train_pred.pckl.gzip").exists()


def test_no_fit_predicts_with_the_initial_potential(toy_dir, toy_engine):
    assert main(["--no-fit"]) == 0
    assert not (toy_dir / "output_potential.yaml").exists()
    table = read_dataframe(toy_dir / "train_pred.pckl.gzip")
    assert np.allclose(table["energy_pred"], 0.0)


def test_ladder_step_sizes():
    assert ladder_step_size((10,), 5, 100) == 10
    assert ladder_step_size((0.1,), 50, 100) == 5
    assert ladder_step_size((10, 0.5), 50, 100) == 25
    assert ladder_step_size((10,), 95, 100) == 5


def test_gpu_request_without_gpu_warns(cu_dir, capsys, monkeypatch):
    monkeypatch.setattr("forcefit.cli.pacemaker._gpu_visible", lambda: False)
    text = (
        (cu_dir / "input.yaml")
        .read_text()
        .replace("display_step: 50", "display_step: 50\n  gpu_config: {gpu_ind: 0, mem_limit: 0}")
    )
    (cu_dir / "input.yaml").write_text(text)
    assert main(["--dry-run"]) == 0
    assert "asks for a GPU" in capsys.readouterr().out


@pytest.mark.parametrize("optimizer", ["Nelder-Mead", "TNC", "L-BFGS-B"])
def test_other_scipy_methods(toy_dir, toy_engine, optimizer):
    doc = yaml.safe_load((toy_dir / "input.yaml").read_text())
    doc["fit"].update(optimizer=optimizer, maxiter=40)
    (toy_dir / "input.yaml").write_text(yaml.safe_dump(doc))
    assert main(["--no-predict"]) == 0
    header, *rows = (toy_dir / "metrics.txt").read_text().splitlines()
    losses = [float(dict(zip(header.split(), r.split()))["loss"]) for r in rows]
    assert len(losses) > 2 and losses[-1] < 0.5 * losses[0]


def test_callbacks_from_the_working_directory(toy_dir, toy_engine):
    (toy_dir / "pm_test_callbacks.py").write_text(
        "from threadpoolctl import threadpool_info\n"
        "def record(basis_config, current_fit_iteration, current_fit_cycle, current_ladder_step):\n"
        "    blas = max((m['num_threads'] for m in threadpool_info() if m['user_api'] == 'blas'), default=1)\n"
        "    with open('callback_calls.txt', 'a') as f:\n"
        "        f.write(f'{current_fit_iteration} {len(basis_config.get_parameters())} {blas}\\n')\n"
    )
    doc = yaml.safe_load((toy_dir / "input.yaml").read_text())
    doc["fit"]["callbacks"] = ["pm_test_callbacks.record"]
    (toy_dir / "input.yaml").write_text(yaml.safe_dump(doc))
    assert main(["--no-predict"]) == 0
    calls = (toy_dir / "callback_calls.txt").read_text().split("\n")
    assert calls[0] == "0 3 1" and calls[1].startswith("1 ")
    # the fit runs numpy's BLAS on one thread (forcefit.optimize.blas_threads)
    assert all(c.endswith(" 1") for c in calls if c)


def test_randomized_cycles_write_ensemble_potentials(toy_dir, toy_engine, monkeypatch):
    monkeypatch.setattr(
        PairPotential,
        "function_coefficient_mask",
        lambda self: np.array([True, False, True])[: len(self.params)],
        raising=False,
    )
    doc = yaml.safe_load((toy_dir / "input.yaml").read_text())
    doc["fit"].update(fit_cycles=2, randomize_func_coeffs=1e-2, maxiter=5)
    (toy_dir / "input.yaml").write_text(yaml.safe_dump(doc))
    assert main(["--no-predict"]) == 0
    assert (toy_dir / "ensemble_potential_0.yaml").is_file() and (toy_dir / "ensemble_potential_1.yaml").is_file()
    assert len((toy_dir / "cycle_metrics.txt").read_text().splitlines()) == 3


def test_perturbations_between_cycles(toy_dir):
    from dataclasses import replace

    from forcefit.pacemaker.fitloop import PacemakerFit
    from forcefit.pacemaker.preparedata import prepare_data

    inp = load_input("input.yaml")
    fit = PacemakerFit(inp, prepare_data(inp, use_cache=False), PairEngine())
    potential = PairPotential(["Cu"])
    potential.function_coefficient_mask = lambda: np.array([True, False, True])
    x = np.array([1.0, 2.0, 1e-4])
    fit.fit = replace(inp.fit, randomize_func_coeffs=1e-3)
    y = fit._perturb(potential, x)
    assert y[1] == 2.0 and y[0] != 1.0 and abs(y[0]) < 1e-2  # redrawn around 0, radial kept
    fit.fit = replace(inp.fit, noise_relative_sigma=1e-3)
    y = fit._perturb(potential, x)
    assert np.all(np.abs(y - x) < 5e-3 * np.maximum(np.abs(x), 1e-2)) and not np.array_equal(x, y)
    fit.fit = replace(inp.fit)
    assert np.array_equal(fit._perturb(potential, x), x)


def test_template_dialog_on_a_terminal(cu_dir, monkeypatch):
    from forcefit.pacemaker.template import generate_template

    answers = iter(["Cu_df1_A1_A2_A3_EV_elast_phon.pckl.gzip", "20", "", "", "5.5", "bad", "uniform"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    generate_template(cu_dir / "new.yaml", interactive=True, echo=lambda *a: None)
    inp = load_input(cu_dir / "new.yaml")
    assert inp.data.test_size == 20 and inp.potential.elements == ("Cu",) and inp.potential.max_rcut == 5.5
    assert inp.fit.weighting.type == "UniformWeightingPolicy"  # asked again after 'bad'


def test_missing_input_file_suggests_template(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([]) == 1
    assert "input.yaml: input file not found (run `pacemaker -t` to write a template)" in capsys.readouterr().err


@pytest.mark.parametrize("optimizer, options, gtol", [("BFGS", None, 1e-8), ("BFGS", {"gtol": 1e-3}, 1e-3),
                                                      ("L-BFGS-B", None, 1e-8), ("Nelder-Mead", None, None)])
def test_gradient_tolerance_defaults_to_python_aces(toy_dir, toy_engine, monkeypatch, optimizer, options, gtol):
    """scipy's gtol 1e-5 would end BFGS early on small losses; python-ace passes 1e-8 unless told."""
    import scipy.optimize

    seen = []
    real_minimize = scipy.optimize.minimize

    def recording_minimize(*args, **kwargs):
        seen.append(dict(kwargs.get("options") or {}))
        return real_minimize(*args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "minimize", recording_minimize)
    doc = yaml.safe_load((toy_dir / "input.yaml").read_text())
    doc["fit"].update(optimizer=optimizer, maxiter=5)
    if options:
        doc["fit"]["options"] = options
    (toy_dir / "input.yaml").write_text(yaml.safe_dump(doc))
    assert main(["--no-predict"]) == 0
    assert seen and all(o.get("gtol") == gtol for o in seen)
