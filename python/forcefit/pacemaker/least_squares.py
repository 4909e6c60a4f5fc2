"""Least-squares optimizers for pacemaker fits: ``fit.optimizer`` trf, dogbox, lm, geodesiclm.

Design: the engine's ``residuals`` (``engine.ResidualEvaluation``) gives residuals r with
``sum(r**2) == loss`` and their Jacobian over the trainable parameters; the optimizers minimize
``1/2 |r|^2`` over those parameters (the others stay fixed):

* ``trf``, ``dogbox``, ``lm``: ``scipy.optimize.least_squares`` with the analytic Jacobian;
* ``geodesiclm``: :func:`forcefit.optimize.geodesic_lm` (Transtrum and Sethna's geodesic
  acceleration, one extra residual evaluation per step).

Trial points get residuals only (one energy+force pass); the Jacobian, which costs as much as many
gradient evaluations, is computed only at accepted points, where the methods ask for it.  One
iteration is one accepted step: scipy's methods evaluate the Jacobian once per accepted step (and
once at the start), geodesic_lm calls back after each; the pacemaker loop then records the
iteration (log line, metrics, interim potential, callbacks, early stopping) exactly as for the
minimize methods.  ``fit.maxiter`` caps the accepted steps; geodesic_lm's own trial-step limit is
ten times that.  The fit stops early through the same ``EarlyStopping`` exception and keeps the last
accepted point (these methods never accept a step that raises the loss).

``fit.options`` go to the method (``fit_section.optimizer_option_names`` lists them);
``jacobian_chunk_mb`` is the engine's memory bound for one chunk of Jacobian rows.  The optimizers
hold the assembled Jacobian [residuals x parameters]; ``geodesiclm`` with ``normal_equations: true``
(:func:`forcefit.optimize.geodesic_lm_normal`, the same iterates) holds only J^T J, which the engine
accumulates chunk by chunk, and forms its acceleration from one vector-Jacobian product per step:
memory n^2 plus one chunk, for data sets whose Jacobian would not fit.
"""

from __future__ import annotations

import logging
from typing import Callable, Dict

import numpy as np

from ..errors import ForcefitError
from .sections import SCIPY_LEAST_SQUARES_METHODS

log = logging.getLogger(__name__)

#: geodesic_lm's limit on trial steps (accepted or rejected), in units of fit.maxiter
GEODESIC_TRIAL_STEPS_PER_ITERATION = 10


class _IterationLimit(Exception):
    """fit.maxiter accepted steps were taken."""


def run_least_squares(engine, potential, method: str, maxiter: int, options: Dict, train, loss, evals: Dict,
                      record: Callable[[np.ndarray, int], None], stop: type) -> np.ndarray:
    """Minimize the loss of ``potential`` on ``train`` (``fitloop._Set``) with a least-squares ``method``.

    ``evals``: the fit loop's {"count": evaluations, "last": (x, Evaluation)} cache, kept current;
    ``record(x, iteration)``: the loop's per-iteration bookkeeping (may raise ``stop``, the loop's
    early-stopping exception).  Returns the parameters reached (full vector).
    """
    from scipy.optimize import least_squares

    if not hasattr(engine, "residuals"):
        raise ForcefitError(f"the fitting engine {engine.name!r} provides no residual Jacobian, which "
                            f"fit.optimizer {method} needs; use a scipy minimize method such as BFGS")
    options = dict(options)
    chunk_mb = options.pop("jacobian_chunk_mb", None)
    normal_equations = bool(options.pop("normal_equations", False))
    if normal_equations and not hasattr(engine, "residual_normal_equations"):
        raise ForcefitError(f"the fitting engine {engine.name!r} provides no normal equations; "
                            "remove fit.options.normal_equations")
    x_start = np.asarray(potential.get_parameters(), dtype=float)
    state = {"iteration": 0, "x": x_start.copy(), "z": None, "jacobian": None}

    def full(z):
        x = x_start.copy()
        x[columns] = z
        return x

    def evaluate(z, jacobian: bool):
        x = full(z)
        result = engine.residuals(potential, x, train.data, train.handle, loss, jacobian=jacobian,
                                  chunk_mb=chunk_mb)
        evals["count"] += 1
        evals["last"] = (x, result.evaluation)
        if not np.all(np.isfinite(result.residual)):
            raise ForcefitError(f"the residuals are not finite at loss {result.evaluation.loss:.6g}")
        return result

    def accepted(z):
        state["iteration"] += 1
        state["x"] = full(z)
        record(state["x"], state["iteration"])
        if state["iteration"] >= maxiter:
            raise _IterationLimit

    first = engine.residuals(potential, x_start, train.data, train.handle, loss, jacobian=False, chunk_mb=chunk_mb)
    columns = first.columns
    if maxiter <= 0 or len(columns) == 0:
        return x_start
    if normal_equations:
        log.info(f"{method} on the normal equations: {len(first.residual)} residuals, {len(columns)} trainable "
                 f"parameters, J^T J {8e-6 * len(columns)**2:.1f} MB")
    else:
        # the optimizers hold the assembled Jacobian; the engine's chunks bound only the work beyond it
        log.info(f"{method}: {len(first.residual)} residuals, {len(columns)} trainable parameters, Jacobian "
                 f"{8e-6 * len(first.residual) * len(columns):.1f} MB")
    z0 = x_start[columns]

    def residual(z):
        return evaluate(z, False).residual

    def jacobian_at_accepted(z):
        # scipy asks for the Jacobian at the start and after every accepted step ('lm' asks twice at
        # the start: the repeated point is neither an iteration nor worth a second Jacobian)
        z = np.array(z, dtype=float, copy=True)
        if state.get("z") is not None and np.array_equal(z, state["z"]):
            return state["jacobian"]
        if state.get("z") is not None:
            accepted(z)
        state["z"], state["jacobian"] = z, evaluate(z, True).jacobian
        return state["jacobian"]

    try:
        if method in SCIPY_LEAST_SQUARES_METHODS:
            if method == "lm" and len(first.residual) < len(columns):
                raise ForcefitError(f"fit.optimizer lm needs at least as many residuals as trainable parameters "
                                    f"({len(first.residual)} < {len(columns)}); use trf, dogbox or geodesiclm")
            result = least_squares(residual, z0, jac=jacobian_at_accepted, method=method, **options)
        elif normal_equations:
            from ..optimize.geodesic_lm_normal import geodesic_lm_normal

            def normal(z, r):
                x = full(z)
                res, jtj, jtr = engine.residual_normal_equations(potential, x, train.data, train.handle, loss,
                                                                 chunk_mb=chunk_mb)
                evals["last"] = (x, res.evaluation)
                return jtj, jtr

            def jt(z, u):
                return engine.residual_vjp(potential, full(z), train.data, train.handle, loss, u)

            result = geodesic_lm_normal(residual, z0, normal, jt,
                                        maxiter=GEODESIC_TRIAL_STEPS_PER_ITERATION * maxiter,
                                        callback=lambda z, cost: accepted(z), **options)
        else:
            from ..optimize.geodesic_lm import geodesic_lm

            result = geodesic_lm(residual, z0, jac=lambda z: evaluate(z, True).jacobian,
                                 maxiter=GEODESIC_TRIAL_STEPS_PER_ITERATION * maxiter,
                                 callback=lambda z, cost: accepted(z), **options)
        log.info(f"{method}: {result.message} (cost {result.cost:.6e}, {result.nfev} residual evaluations)")
        # the methods return their best point, which is the last accepted one
        return full(np.asarray(result.x))
    except _IterationLimit:
        log.info(f"{method}: maximum number of iterations ({maxiter}) reached")
    except stop:
        pass
    return state["x"]


__all__ = ["run_least_squares"]
