"""The pacemaker fitting procedure on top of a ``FitEngine``: cycles, ladder, early stopping.

Design (python-ace's ``GeneralACEFit``): the engine builds the target (and initial) potential
and evaluates loss, gradient and predictions; this module owns everything else:

* ``scipy.optimize.minimize`` with ``fit.optimizer``, ``fit.maxiter`` and ``fit.options``; the
  loss and its gradient come from one engine call (``jac=True``); derivative-free methods get
  the loss only.  ``gtol`` defaults to 1e-8 (:data:`DEFAULT_GTOL`) for methods that take it, as
  python-ace sets it for both its backends when ``fit.options`` does not: scipy's own 1e-5 would stop
  BFGS early once the loss, which is in eV^2/atom^2 and (eV/Å)^2, becomes small;
* or a least-squares method (trf, dogbox, lm, geodesiclm) on the engine's residuals and their
  Jacobian (``least_squares.py``), with the same per-iteration bookkeeping;
* after every iteration: metrics of the training set (log line, ``metrics.txt``), every
  ``display_step`` iterations the test set as well and the relative loss change, the input's
  ``callbacks``, and the interim potential ``interim_potential_<cycle>.yaml``;
* early stopping (``min_relative_train_loss_per_iter`` / ``..._test_...`` with
  ``early_stopping_patience``): stop when, over the last ``patience`` iterations, the loss never
  fell faster than the threshold (relative change per iteration);
* ``fit_cycles``: repeated minimizations, the best kept; between cycles Gaussian noise on the
  parameters (``noise_relative_sigma`` with magnitudes clipped below at 1e-2, or
  ``noise_absolute_sigma``) or fresh random coefficients (``randomize_func_coeffs``), drawn from
  numpy's legacy generator seeded with the input ``seed``;
* ladder fitting (``ladder_step``, ``ladder_type``): grow the initial potential towards the
  target by ``engine.ladder_extend`` and fit after each step; ``ladder_metrics.txt`` and
  ``interim_potential_ladder_step_<n>.yaml`` per step.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import ForcefitError
from ..optimize.blas_threads import serial_blas
from .engine import FitData, FitEngine, TrainablePotential, resolve_kappa
from .fit_section import callback_search_path, scipy_option_names
from .least_squares import run_least_squares
from .sections import LEAST_SQUARES_METHODS, PacemakerInput
from .metrics import MetricsRecorder, compute_metrics, low_energy_mask
from .preparedata import PreparedData

log = logging.getLogger(__name__)

GRADIENT_FREE = ("Nelder-Mead", "Powell", "COBYLA", "COBYQA")
#: gradient-norm tolerance given to scipy when ``fit.options`` has none (python-ace's value)
DEFAULT_GTOL = 1e-8


class EarlyStopping(StopIteration):
    """Raised inside the optimizer callback; scipy then stops and returns the current point."""


def ladder_step_size(step_spec, current: int, total: int) -> int:
    """Functions to add in one ladder step: an int n, a fraction f (of the current size, at
    least 1), or the largest of a list of both."""
    sizes = [item if isinstance(item, int) else max(1, int(round(item * current))) for item in step_spec]
    return max(1, min(max(sizes), max(total - current, 1)))


def import_callback(name: str, folders: Sequence[str] = ()) -> Callable:
    """The function ``module.attribute``; ``folders`` are added to ``sys.path`` first.

    Called as ``callback(basis_config=potential, current_fit_iteration=..., current_fit_cycle=...,
    current_ladder_step=...)`` after every iteration, as in python-ace (``basis_config`` is the
    engine's TrainablePotential here).
    """
    import sys

    for folder in folders:
        if folder not in sys.path:
            sys.path.insert(0, folder)
    module, _, attribute = name.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def minimal_distances(frame) -> Dict[Tuple[str, str], float]:
    """Shortest distance per (sorted) element pair over a data set, Å (for ``repulsion: auto``);
    pairs never closer than 6 Å are absent."""
    from ase.data import chemical_symbols

    from ..neighbor import neighbor_list_atoms

    result: Dict[Tuple[str, str], float] = {}
    for atoms in frame["ase_atoms"]:
        i, j, d = neighbor_list_atoms(atoms, 6.0, "ijd")
        if not d.size:
            continue
        numbers = atoms.get_atomic_numbers()
        zi, zj = numbers[i], numbers[j]
        pair_ids, inverse = np.unique(np.minimum(zi, zj) * 1000 + np.maximum(zi, zj), return_inverse=True)
        shortest = np.full(len(pair_ids), np.inf)
        np.minimum.at(shortest, inverse, d)
        for pair_id, dist in zip(pair_ids, shortest):
            key = tuple(sorted((chemical_symbols[pair_id // 1000], chemical_symbols[pair_id % 1000])))
            if dist < result.get(key, math.inf):
                result[key] = float(dist)
    return result


@dataclass
class _Set:
    frame: object
    data: FitData
    handle: object
    low: np.ndarray


class PacemakerFit:
    """One pacemaker fit: ``run()`` returns the fitted potential; ``predict`` gives predictions."""

    def __init__(self, inp: PacemakerInput, prepared: PreparedData, engine: FitEngine, folder: Path = Path(".")):
        self.inp, self.prepared, self.engine, self.folder = inp, prepared, engine, Path(folder)
        self.fit = inp.fit
        self.loss = resolve_kappa(inp.fit.loss, prepared.train)
        if inp.fit.loss.kappa == "auto":
            log.info(f"LossFunctionSpecification:kappa automatically selected: kappa = {self.loss.kappa:.3f}")
        self.rng = np.random.RandomState(inp.seed)
        folders = callback_search_path(inp.source)
        self.callbacks = [import_callback(name, folders) for name in inp.fit.callbacks]
        self.target, self.initial = engine.build_potentials(
            inp.potential, prepared.elements, inp.fit.trainable_parameters
        )
        if self.fit.ladder_scheme and self.initial is None:
            raise ForcefitError(f"the fitting engine {engine.name!r} returned no initial potential for a ladder fit")
        self._stamp_metadata(self.target)
        self.cutoff = inp.cutoff or self.target.cutoff
        self.train = self._make_set(prepared.train)
        self.test = self._make_set(prepared.test) if prepared.test is not None else None
        self.recorder = MetricsRecorder(self.folder, inp.backend.display_step, ladder=self.fit.ladder_scheme)
        self.cycle = 0
        self.ladder_step = 0
        self.last_train_metrics: Optional[dict] = None
        self.last_test_metrics: Optional[dict] = None

    # -- setup --------------------------------------------------------------------------------------

    def _stamp_metadata(self, potential: TrainablePotential) -> None:
        potential.metadata.update(self.inp.metadata)
        if self.prepared.reference_energy is not None:
            potential.metadata["reference_energy"] = json.dumps(self.prepared.reference_energy)

    def _make_set(self, frame) -> _Set:
        data = FitData.from_frame(frame)
        return _Set(frame, data, self.engine.prepare(data, self.cutoff), low_energy_mask(frame))

    def _metrics(self, potential, evaluation, which: _Set, iter_num: int, evals: int) -> dict:
        return compute_metrics(
            evaluation.energy,
            evaluation.forces,
            which.data.energy,
            which.data.forces,
            which.data.n_atoms,
            evaluation.components,
            which.low,
            iter_num=iter_num,
            eval_count=evals,
            eval_time=evaluation.eval_time,
            ncoefs=len(potential.get_parameters()),
            nfuncs=potential.number_of_functions,
            kappa=float(self.loss.kappa),
        )

    # -- one minimization ---------------------------------------------------------------------------

    def _minimize(self, potential: TrainablePotential) -> Tuple[TrainablePotential, float]:
        from scipy.optimize import minimize

        method = self.fit.optimizer
        use_gradient = method not in GRADIENT_FREE and method not in LEAST_SQUARES_METHODS
        evals = {"count": 0, "last": None}
        history: Dict[str, List[float]] = {"train": [], "test": []}

        def objective(x):
            evals["count"] += 1
            result = self.engine.evaluate(
                potential, x, self.train.data, self.train.handle, self.loss, gradient=use_gradient
            )
            evals["last"] = (np.array(x, copy=True), result)
            return (result.loss, result.gradient) if use_gradient else result.loss

        def evaluation_at(x):
            cached_x, result = evals["last"]
            if not np.array_equal(cached_x, x):
                result = self.engine.evaluate(
                    potential, x, self.train.data, self.train.handle, self.loss, gradient=False
                )
            return result

        def record(x, iter_num):
            train_eval = evaluation_at(x)
            metrics = self._metrics(potential, train_eval, self.train, iter_num, evals["count"])
            metrics.update(cycle_step=self.cycle, ladder_step=self.ladder_step)
            self.recorder.train_iteration(metrics)
            self.last_train_metrics = metrics
            history["train"].append(metrics["loss"])
            if self.test is not None and iter_num % self.inp.backend.display_step == 0:
                test_eval = self.engine.evaluate(
                    potential, x, self.test.data, self.test.handle, self.loss, gradient=False
                )
                test_metrics = self._metrics(potential, test_eval, self.test, iter_num, evals["count"])
                test_metrics.update(cycle_step=self.cycle, ladder_step=self.ladder_step)
                self.recorder.test_iteration(test_metrics)
                self.last_test_metrics = test_metrics
                history["test"].append(test_metrics["loss"])
            potential.set_parameters(x)
            potential.save(self.folder / f"interim_potential_{self.cycle}.yaml")  # every iteration, as python-ace
            for callback in self.callbacks:
                callback(
                    basis_config=potential,
                    current_fit_iteration=iter_num,
                    current_fit_cycle=self.cycle,
                    current_ladder_step=self.ladder_step,
                )
            if iter_num > 0 and iter_num % self.inp.backend.display_step == 0:
                self._log_loss_change(history)
            self._check_early_stopping(history)

        iteration = {"n": 0}

        def callback(xk, *args):
            iteration["n"] += 1
            record(np.asarray(xk), iteration["n"])

        x0 = potential.get_parameters()
        objective(x0)
        record(x0, 0)
        if method in LEAST_SQUARES_METHODS:
            x_best = run_least_squares(self.engine, potential, method, self.fit.maxiter, self.fit.options,
                                       self.train, self.loss, evals, record, EarlyStopping)
            potential.set_parameters(x_best)
            return potential, float(evaluation_at(x_best).loss)
        options = dict(self.fit.options)
        known = scipy_option_names(method)
        if not known or "maxiter" in known:
            options["maxiter"] = self.fit.maxiter
        elif "maxfun" in known:  # TNC counts function evaluations only
            options.setdefault("maxfun", self.fit.maxiter)
        if "gtol" in known:
            options.setdefault("gtol", DEFAULT_GTOL)
        try:
            result = minimize(
                objective, x0, jac=use_gradient or None, method=method, options=options, callback=callback
            )
            x_best = np.asarray(result.x)
            log.info(f"Minimizer ({method}) stopped after {iteration['n']} iterations: {result.message}")
        except EarlyStopping:  # older scipy versions let the exception through
            x_best = evals["last"][0]
        potential.set_parameters(x_best)
        final = evaluation_at(x_best)
        return potential, float(final.loss)

    def _relative_change(self, losses, step: int) -> np.ndarray:
        """Relative loss change per iteration over the last ``early_stopping_patience`` iterations."""
        depth = int(np.ceil(self.fit.early_stopping_patience / step))
        recent = np.asarray(losses[-depth:])
        return (recent[1:] - recent[:-1]) / recent[:-1] / step

    def _log_loss_change(self, history) -> None:
        for mode, step in (("train", 1), ("test", self.inp.backend.display_step)):
            rate = self._relative_change(history[mode], step)
            if rate.size:
                log.info(f"Last relative {mode.upper()} loss change {rate[-1]:+1.2e}/iter")

    def _check_early_stopping(self, history) -> None:
        patience = self.fit.early_stopping_patience
        for mode, threshold, step in (
            ("train", self.fit.min_relative_train_loss_per_iter, 1),
            ("test", self.fit.min_relative_test_loss_per_iter, self.inp.backend.display_step),
        ):
            losses = history[mode]
            depth = int(np.ceil(patience / step))
            if threshold is None or len(losses) - 1 < depth:
                continue
            rate = self._relative_change(losses, step)
            if rate.size and rate.min() > -abs(threshold):
                message = (
                    f"EARLY STOPPING: Too small or even positive {mode.upper()} loss change "
                    f"(best={rate.min():+1.2e}/iter, last={rate[-1]:+1.2e}/iter, threshold="
                    f"{-abs(threshold):+1.2e}/iter) within last {patience} iterations. Stopping"
                )
                log.info(message)
                raise EarlyStopping(message)

    # -- cycles and ladder -------------------------------------------------------------------------

    def _perturb(self, potential: TrainablePotential, parameters: np.ndarray) -> np.ndarray:
        fit = self.fit
        if fit.randomize_func_coeffs > 0:
            # only basis-function coefficients are redrawn when the potential can say which they are
            mask_of = getattr(potential, "function_coefficient_mask", None)
            mask = np.ones(len(parameters), dtype=bool) if mask_of is None else np.asarray(mask_of(), dtype=bool)
            log.info(
                f"Randomize all trainable functions coefficients using normal distribution "
                f"N(0;sigma = {fit.randomize_func_coeffs:>1.4e})"
            )
            parameters = parameters.copy()
            parameters[mask] = self.rng.randn(int(mask.sum())) * fit.randomize_func_coeffs
            return parameters
        if fit.noise_relative_sigma > 0:
            log.info(f"Applying Gaussian noise with relative sigma/mean = {fit.noise_relative_sigma:>1.4e}")
            scale = np.maximum(np.abs(parameters), 1e-2)
            return parameters + self.rng.randn(len(parameters)) * fit.noise_relative_sigma * scale
        if fit.noise_absolute_sigma > 0:
            log.info(f"Applying Gaussian noise with sigma = {fit.noise_absolute_sigma:>1.4e}")
            return parameters + self.rng.randn(len(parameters)) * fit.noise_absolute_sigma
        return parameters

    def cycle_fitting(self, potential: TrainablePotential) -> TrainablePotential:
        attempts = []
        current = potential.copy()
        for cycle in range(self.fit.fit_cycles):
            self.cycle = cycle
            log.info(f"Number of fit attempts: {cycle}/{self.fit.fit_cycles}")
            log.info(
                f"Total number of functions: {current.number_of_functions} / number of parameters: "
                f"{len(current.get_parameters())}"
            )
            with serial_blas():
                current, loss = self._minimize(current)
            self.recorder.cycle_end(self.last_train_metrics, self.last_test_metrics)
            if self.fit.randomize_func_coeffs > 0:
                current.save(self.folder / f"ensemble_potential_{cycle}.yaml")
            attempts.append((loss, current.copy(), self.last_train_metrics))
            best = int(np.argmin([a[0] for a in attempts]))
            log.info(f"Select best fit #{best + 1} among all available ({len(attempts)})")
            current = attempts[best][1].copy()
            if cycle + 1 < self.fit.fit_cycles:
                current.set_parameters(self._perturb(current, current.get_parameters()))
        best = int(np.argmin([a[0] for a in attempts]))
        log.info(f"Best fitting attempt is #{best + 1}")
        self.last_train_metrics = attempts[best][2]
        attempts[best][1].save(self.folder / "interim_potential_best_cycle.yaml")
        return attempts[best][1]

    def ladder_fitting(self) -> TrainablePotential:
        current = self.initial.copy()
        total = self.target.number_of_functions
        self.ladder_step = 0
        while True:
            size = ladder_step_size(self.fit.ladder_step, current.number_of_functions, total)
            log.info(f"Current basis set size: {current.number_of_functions} B-functions; ladder step size: {size}")
            current, extended = self.engine.ladder_extend(current, self.target, size, self.fit.ladder_type)
            if not extended:
                log.info("No new function added after basis extension. Stopping")
                break
            log.info(f"Extended basis set size: {current.number_of_functions} B-functions")
            current.save(self.folder / "current_extended_potential.yaml")
            current = self.cycle_fitting(current)
            metrics = dict(self.last_train_metrics, ladder_step=self.ladder_step)
            test = dict(self.last_test_metrics, ladder_step=self.ladder_step) if self.last_test_metrics else None
            self.recorder.ladder_end(metrics, test)
            current.save(self.folder / f"interim_potential_ladder_step_{self.ladder_step}.yaml")
            self.ladder_step += 1
        return current

    def run(self) -> TrainablePotential:
        """Fit and return the potential (core repulsion set when ``repulsion: auto``)."""
        self.target.save(self.folder / "target_potential.yaml")
        log.info(
            f"Fitting dataset size: {len(self.train.frame)} structures / {int(self.train.data.n_atoms.sum())} atoms"
        )
        if self.test is not None:
            log.info(
                f"Test dataset size: {len(self.test.frame)} structures / {int(self.test.data.n_atoms.sum())} atoms"
            )
        start = time.time()
        if self.fit.ladder_scheme:
            log.info("'Ladder-scheme' fitting")
            fitted = self.ladder_fitting()
        else:
            log.info("'Single-shot' fitting")
            fitted = self.cycle_fitting(self.target)
        self._stamp_metadata(fitted)
        if self.fit.repulsion == "auto":
            distances = minimal_distances(self.prepared.train)
            log.info(f"Minimal distance per bonds = {distances} A")
            self.engine.set_core_repulsion(fitted, distances)
        log.info(f"Fitting done ({time.time() - start:.1f} s)")
        self.potential = fitted
        return fitted

    def predict(self, potential: TrainablePotential, which: str = "train"):
        """(energies (S,) eV, forces (A, 3) eV/Å) of ``potential`` on the train or test set."""
        data_set = self.train if which == "train" else self.test
        result = self.engine.evaluate(
            potential, potential.get_parameters(), data_set.data, data_set.handle, self.loss, gradient=False
        )
        return result.energy, result.forces


__all__ = ["EarlyStopping", "PacemakerFit", "ladder_step_size", "minimal_distances"]
