"""Geodesic Levenberg-Marquardt on the normal equations: the method of :mod:`forcefit.optimize.geodesic_lm`
for problems whose Jacobian J [m, n] is too large to hold, given J^T J and J^T r instead of J.

Every quantity geodesic_lm takes from J is a normal-equation quantity or a vector-Jacobian product:

* the velocity solves (J^T J + lambda D^T D) v = -J^T r, D^T D the running maximum of diag(J^T J);
* the acceleration needs J^T r_vv with r_vv = (2/h) [(r(x + h v) - r(x)) / h - J v], i.e.
  J^T r_vv = (2/h) [(J^T r(x + h v) - J^T r(x)) / h - J^T J v]: one product J(x)^T r(x + h v);
* the gradient test max |J^T r| <= gtol, the cost 1/2 |r|^2 and the step tests are unchanged.

So the iterates are geodesic_lm's (up to rounding) while memory is O(n^2) plus what the caller needs to
form J^T J (for ACE fits: one chunk of configurations).  Not available here: Broyden updates (they update
J itself) and bounds are projected as in geodesic_lm.

Returns a ``scipy.optimize.OptimizeResult`` like geodesic_lm (``jac`` is absent; ``jtj`` holds J^T J at x).
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence, Tuple

import numpy as np
from scipy.optimize import OptimizeResult

from .geodesic_lm import _STATUS_MESSAGES, _solve_damped


def geodesic_lm_normal(
    fun: Callable[[np.ndarray], np.ndarray],
    x0: Sequence[float],
    normal: Callable[[np.ndarray, np.ndarray], Tuple[np.ndarray, np.ndarray]],
    jt: Callable[[np.ndarray, np.ndarray], np.ndarray],
    bounds: Optional[Tuple[Sequence[float], Sequence[float]]] = None,
    ftol: float = 1e-12,
    xtol: float = 1e-12,
    gtol: float = 1e-10,
    atol: float = 0.0,
    maxiter: int = 1000,
    max_nfev: Optional[int] = None,
    initial_lambda: float = 1e-3,
    lambda_up: float = 2.0,
    lambda_down: float = 3.0,
    lambda_max: float = 1e16,
    accel: bool = True,
    alpha: float = 0.75,
    h: float = 0.1,
    callback: Optional[Callable[[np.ndarray, float], object]] = None,
    fun_probe: Optional[Callable[[np.ndarray], np.ndarray]] = None,
) -> OptimizeResult:
    """Minimize 1/2 |fun(x)|^2 by geodesic Levenberg-Marquardt on the normal equations.

    Args:
        fun: residuals, ``fun(x) -> [m]``.
        normal: ``normal(x, r) -> (J^T J [n, n], J^T r [n])`` at x, r = fun(x).
        jt: ``jt(x, u) -> J(x)^T u [n]`` for any u [m] (the acceleration's product).
        The other arguments are geodesic_lm's.
    """
    x = np.array(x0, dtype=np.float64).reshape(-1)
    n = len(x)
    max_nfev = 100 * max(maxiter, 1) if max_nfev is None else max_nfev
    lower = upper = None
    if bounds is not None:
        lower = np.broadcast_to(np.asarray(bounds[0], dtype=np.float64), (n,))
        upper = np.broadcast_to(np.asarray(bounds[1], dtype=np.float64), (n,))
        if np.any(x < lower) or np.any(x > upper):
            raise ValueError("geodesic_lm_normal: x0 is outside the bounds")
    counts = {"nfev": 0, "njev": 0}

    def residual(y, f=fun):
        counts["nfev"] += 1
        return np.asarray(f(y), dtype=np.float64).reshape(-1)

    def normal_at(y, ry):
        counts["njev"] += 1
        a, b = normal(y, ry)
        return np.asarray(a, dtype=np.float64).reshape(n, n), np.asarray(b, dtype=np.float64).reshape(n)

    r = residual(x)
    if not np.all(np.isfinite(r)):
        raise FloatingPointError("geodesic_lm_normal: residuals at the start point are not finite")
    cost = 0.5 * float(r @ r)
    jtj, grad = normal_at(x, r)
    dtd = np.maximum(np.diag(jtj).copy(), np.finfo(float).tiny)
    lam = float(initial_lambda)
    status, nit = 0, 0

    while nit < maxiter and counts["nfev"] < max_nfev:
        if np.max(np.abs(grad), initial=0.0) <= gtol:
            status = 1
            break
        if cost <= atol:
            status = 4
            break
        nit += 1
        v = _solve_damped(jtj, dtd, lam, -grad)
        trial, ok = v, True
        if accel:
            probe = x + h * v if lower is None else np.clip(x + h * v, lower, upper)
            r_h = residual(probe, fun_probe or fun)
            ok = bool(np.all(np.isfinite(r_h)))
            if ok:
                jt_rvv = (2.0 / h) * ((jt(x, r_h) - grad) / h - jtj @ v)
                a = _solve_damped(jtj, dtd, lam, -jt_rvv)
                v_size = np.sqrt(np.sum(dtd * v * v))
                ok = not (v_size > 0 and 2.0 * np.sqrt(np.sum(dtd * a * a)) / v_size > alpha)
                trial = v + 0.5 * a
        if ok:
            x_new = x + trial if lower is None else np.clip(x + trial, lower, upper)
            r_new = residual(x_new)
            cost_new = 0.5 * float(r_new @ r_new) if np.all(np.isfinite(r_new)) else np.inf
            ok = cost_new < cost
        if not ok:
            lam *= lambda_up
            if lam > lambda_max:
                status = -1
                break
            continue

        dx = x_new - x
        reduction = cost - cost_new
        x, r, cost = x_new, r_new, cost_new
        jtj, grad = normal_at(x, r)
        dtd = np.maximum(dtd, np.diag(jtj))
        lam /= lambda_down
        if callback is not None:
            callback(x.copy(), cost)
        if reduction <= ftol * cost:
            status = 2
            break
        if np.linalg.norm(dx) <= xtol * (xtol + np.linalg.norm(x)):
            status = 3
            break

    return OptimizeResult(
        x=x, cost=cost, fun=r, jtj=jtj, grad=grad, optimality=float(np.max(np.abs(grad), initial=0.0)),
        nfev=counts["nfev"], njev=counts["njev"], nit=nit, status=status, message=_STATUS_MESSAGES[status],
        success=status > 0,
    )


__all__ = ["geodesic_lm_normal"]
