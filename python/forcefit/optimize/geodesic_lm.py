"""Geodesic Levenberg-Marquardt for nonlinear least squares, min_x C(x) = 1/2 |r(x)|^2.

Follows M. K. Transtrum and J. P. Sethna, "Improvements to the Levenberg-Marquardt algorithm for
nonlinear least-squares minimization", arXiv:1201.5885 (2012):

* LM step ("velocity"): (J^T J + lambda D^T D) v = -J^T r, with D^T D the running maximum of
  diag(J^T J) (Marquardt's scale-invariant damping).
* Geodesic acceleration: the second directional derivative of the residuals along v is taken by
  finite differences, r_vv ~ (2/h) [ (r(x + h v) - r(x)) / h - J v ] (one extra evaluation of r,
  h = 0.1 by default), and a = -(J^T J + lambda D^T D)^{-1} J^T r_vv. The trial step is v + a/2.
* Acceptance: a step whose acceleration is too large compared with its velocity,
  2 |a|_D / |v|_D > alpha (alpha = 0.75), is rejected before r is evaluated at the trial point;
  otherwise the step is accepted when it lowers the cost.
* Delayed gratification: lambda is raised by a small factor (2) after a rejected step and lowered
  by a larger one (3) after an accepted step, so the method stays in the well-damped regime.
* Jacobian updates: recomputed after every accepted step, or (``broyden=True``) updated by
  Broyden's rank-one formula and recomputed every ``jac_recompute`` accepted steps.

Bounds (optional) are enforced by projecting trial points into the box: a simple device, enough
when the minimum is inside the box; use scipy's "trf" for problems whose solution sits on a bound.

The linear systems are n x n (n = number of parameters) and solved by Cholesky, falling back to
least squares when J^T J + lambda D^T D is singular.

Returns a ``scipy.optimize.OptimizeResult`` with ``x``, ``cost`` (= 1/2 |r|^2), ``fun`` (r),
``jac``, ``grad`` (J^T r), ``nfev``, ``njev``, ``nit``, ``status``, ``message``, ``success``.

The iteration itself (:func:`_iterate`) sees the Jacobian only through a small "linear algebra at x"
object: J^T J, J^T r, the product J^T r_vv for the acceleration, and what to do after an accepted step.
:class:`_ExplicitJacobian` builds these from J (and alone supports Broyden updates);
:mod:`forcefit.optimize.geodesic_lm_normal` supplies them from the normal equations.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional, Sequence, Tuple

import numpy as np
import scipy.linalg
from scipy.optimize import OptimizeResult

logger = logging.getLogger(__name__)

# status codes (positive = converged)
_STATUS_MESSAGES = {
    0: "maximum number of iterations or function evaluations reached",
    1: "gradient norm below gtol",
    2: "relative cost reduction below ftol",
    3: "relative step size below xtol",
    4: "cost below atol",
    -1: "damping grew beyond its limit: no acceptable step could be found",
}


def _finite_difference_jac(fun: Callable[[np.ndarray], np.ndarray], x: np.ndarray, r: np.ndarray,
                           eps: float) -> np.ndarray:
    """Forward-difference Jacobian, [m, n]."""
    jac = np.empty((len(r), len(x)))
    for k in range(len(x)):
        h = eps * max(1.0, abs(x[k]))
        xp = x.copy()
        xp[k] += h
        jac[:, k] = (fun(xp) - r) / h
    return jac


def _solve_damped(jtj: np.ndarray, dtd: np.ndarray, lam: float, rhs: np.ndarray) -> np.ndarray:
    """Solve (J^T J + lam diag(dtd)) y = rhs."""
    g = jtj + lam * np.diag(dtd)
    try:
        c = scipy.linalg.cho_factor(g, lower=True, check_finite=False)
        return scipy.linalg.cho_solve(c, rhs, check_finite=False)
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        return np.linalg.lstsq(g, rhs, rcond=None)[0]


def _check_start(name: str, x0: Sequence[float],
                bounds: Optional[Tuple[Sequence[float], Sequence[float]]]):
    """Start point [n] as float64 and the box ``(lower, upper)`` ([n] each, or None, None)."""
    x = np.array(x0, dtype=np.float64).reshape(-1)
    n = len(x)
    if bounds is None:
        return x, None, None
    lower = np.broadcast_to(np.asarray(bounds[0], dtype=np.float64), (n,))
    upper = np.broadcast_to(np.asarray(bounds[1], dtype=np.float64), (n,))
    if np.any(x < lower) or np.any(x > upper):
        raise ValueError(f"{name}: x0 is outside the bounds")
    return x, lower, upper


class _ExplicitJacobian:
    """J^T J, J^T r and J^T u from an explicit Jacobian J [m, n]; Broyden updates of J.

    ``stale`` is True while J is a Broyden update rather than a fresh evaluation.
    """

    def __init__(self, jacobian: Callable[[np.ndarray, np.ndarray], np.ndarray], broyden: bool,
                 jac_recompute: int):
        self._jacobian = jacobian
        self._broyden = broyden
        self._jac_recompute = jac_recompute
        self._accepted_since_recompute = 0
        self.njev = 0

    @property
    def stale(self) -> bool:
        return self._accepted_since_recompute > 0

    def _set(self, J: np.ndarray, r: np.ndarray) -> None:
        self.J = J
        self.jtj = J.T @ J
        self.grad = J.T @ r

    def refresh(self, x: np.ndarray, r: np.ndarray) -> None:
        """Evaluate J at x (r = r(x))."""
        self.njev += 1
        self._set(self._jacobian(x, r), r)
        self._accepted_since_recompute = 0

    def jt_rvv(self, v: np.ndarray, r: np.ndarray, r_h: np.ndarray, h: float) -> np.ndarray:
        """J^T r_vv, r_vv = (2/h) [(r(x + h v) - r(x)) / h - J v]."""
        rvv = (2.0 / h) * ((r_h - r) / h - self.J @ v)
        return self.J.T @ rvv

    def move(self, x: np.ndarray, r: np.ndarray, x_new: np.ndarray, r_new: np.ndarray) -> None:
        """Follow an accepted step x -> x_new: Broyden's rank-one update, or a fresh J."""
        if self._broyden and self._accepted_since_recompute + 1 < self._jac_recompute:
            dx = x_new - x
            J = self.J + np.outer(r_new - r - self.J @ dx, dx) / float(dx @ dx)
            self._set(J, r_new)
            self._accepted_since_recompute += 1
        else:
            self.refresh(x_new, r_new)

    def result_fields(self) -> dict:
        return {"jac": self.J}


def _iterate(name: str, residual: Callable[[np.ndarray], np.ndarray],
             probe: Callable[[np.ndarray], np.ndarray], algebra: Any, x: np.ndarray,
             lower: Optional[np.ndarray], upper: Optional[np.ndarray], ftol: float, xtol: float, gtol: float,
             atol: float, maxiter: int, max_nfev: Optional[int], initial_lambda: float, lambda_up: float,
             lambda_down: float, lambda_max: float, accel: bool, alpha: float, h: float,
             callback: Optional[Callable[[np.ndarray, float], Any]]) -> OptimizeResult:
    """The geodesic LM iteration (module docstring) from x, shared by geodesic_lm and geodesic_lm_normal.

    ``residual(y)`` / ``probe(y)``: residuals [m] at y (probe: at the acceleration's point).
    ``algebra``: ``refresh(x, r)``, ``move(x, r, x_new, r_new)``, ``jt_rvv(v, r, r_h, h)``, ``stale``,
    ``result_fields()``, ``njev`` and the current ``jtj`` [n, n] and ``grad`` (J^T r) [n].
    """
    max_nfev = 100 * max(maxiter, 1) if max_nfev is None else max_nfev

    def project(y: np.ndarray) -> np.ndarray:
        return y if lower is None else np.clip(y, lower, upper)

    nfev = 0

    def evaluate(y: np.ndarray, f: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        nonlocal nfev
        nfev += 1
        return np.asarray(f(y), dtype=np.float64).reshape(-1)

    r = evaluate(x, residual)
    if not np.all(np.isfinite(r)):
        raise FloatingPointError(f"{name}: residuals at the start point are not finite")
    cost = 0.5 * float(r @ r)
    algebra.refresh(x, r)
    dtd = np.maximum(np.diag(algebra.jtj).copy(), np.finfo(float).tiny)
    lam = float(initial_lambda)
    status = 0
    nit = 0

    def refreshed_at_x() -> np.ndarray:
        # a fresh Jacobian at x, and the running maximum of diag(J^T J)
        algebra.refresh(x, r)
        return np.maximum(dtd, np.diag(algebra.jtj))

    while nit < maxiter and nfev < max_nfev:
        jtj, grad = algebra.jtj, algebra.grad
        if np.max(np.abs(grad), initial=0.0) <= gtol:
            status = 1
            break
        if cost <= atol:
            status = 4
            break
        nit += 1

        v = _solve_damped(jtj, dtd, lam, -grad)
        step, acceptable = v, True
        if accel:
            r_h = evaluate(project(x + h * v), probe)
            acceptable = bool(np.all(np.isfinite(r_h)))
            if acceptable:
                a = _solve_damped(jtj, dtd, lam, -algebra.jt_rvv(v, r, r_h, h))
                v_norm = np.sqrt(np.sum(dtd * v * v))
                a_norm = np.sqrt(np.sum(dtd * a * a))
                # the acceleration must stay small next to the velocity (the step is then a
                # reliable second-order move along the geodesic)
                acceptable = not (v_norm > 0 and 2.0 * a_norm / v_norm > alpha)
                step = v + 0.5 * a
        if acceptable:
            x_new = project(x + step)
            r_new = evaluate(x_new, residual)
            cost_new = 0.5 * float(r_new @ r_new) if np.all(np.isfinite(r_new)) else np.inf
            acceptable = cost_new < cost

        if not acceptable:
            lam *= lambda_up
            if algebra.stale:
                # A rejected step with a Broyden Jacobian: first suspect the Jacobian.
                dtd = refreshed_at_x()
            if lam > lambda_max:
                status = -1
                break
            continue

        dx = x_new - x
        reduction = cost - cost_new
        algebra.move(x, r, x_new, r_new)
        x, r, cost = x_new, r_new, cost_new
        dtd = np.maximum(dtd, np.diag(algebra.jtj))
        lam /= lambda_down
        if callback is not None:
            callback(x.copy(), cost)
        logger.debug("%s iteration %d: cost %.12e, lambda %.3e", name, nit, cost, lam)
        small_cost_change = reduction <= ftol * cost
        small_step = np.linalg.norm(dx) <= xtol * (xtol + np.linalg.norm(x))
        if (small_cost_change or small_step) and algebra.stale:
            # A Broyden Jacobian may only be stale: refresh it before declaring convergence.
            dtd = refreshed_at_x()
            continue
        if small_cost_change:
            status = 2
            break
        if small_step:
            status = 3
            break

    grad = algebra.grad
    return OptimizeResult(
        x=x, cost=cost, fun=r, **algebra.result_fields(), grad=grad,
        optimality=float(np.max(np.abs(grad), initial=0.0)), nfev=nfev, njev=algebra.njev, nit=nit,
        status=status, message=_STATUS_MESSAGES[status], success=status > 0,
    )


def geodesic_lm(
    fun: Callable[..., np.ndarray],
    x0: Sequence[float],
    jac: Optional[Callable[..., np.ndarray]] = None,
    args: Tuple[Any, ...] = (),
    kwargs: Optional[dict] = None,
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
    broyden: bool = False,
    jac_recompute: int = 10,
    fd_eps: float = 1.5e-8,
    callback: Optional[Callable[[np.ndarray, float], Any]] = None,
    fun_probe: Optional[Callable[..., np.ndarray]] = None,
) -> OptimizeResult:
    """Minimize 1/2 |fun(x)|^2 by geodesic Levenberg-Marquardt.

    Args:
        fun: residuals, ``fun(x, *args, **kwargs) -> [m]``.
        x0: start point, [n].
        jac: Jacobian of the residuals, ``jac(x, *args, **kwargs) -> [m, n]``; forward finite
            differences when None.
        bounds: ``(lower, upper)`` arrays (use +-inf for no bound); trial points are projected.
        ftol: stop when an accepted step lowers the cost by less than ``ftol * cost``.
        xtol: stop when an accepted step is shorter than ``xtol * (xtol + |x|)``.
        gtol: stop when max |J^T r| <= gtol.
        atol: stop when the cost falls to ``atol`` or below.
        maxiter: maximum number of iterations (accepted or rejected steps).
        max_nfev: maximum number of evaluations of ``fun`` (default ``100 * maxiter``).
        initial_lambda, lambda_up, lambda_down, lambda_max: damping start value, factors after
            a rejected / accepted step, and the value at which the search gives up.
        accel: use geodesic acceleration. alpha: largest accepted 2|a|/|v|. h: finite-difference
            step (in units of the velocity) for the second directional derivative.
        broyden: Broyden rank-one Jacobian updates, recomputing every ``jac_recompute`` accepted steps.
        fd_eps: relative step of the finite-difference Jacobian when ``jac`` is None.
        callback: called as ``callback(x, cost)`` after every accepted step.
        fun_probe: residual function for the acceleration probe r(x + h v) (default ``fun``);
            lets a caller whose ``fun`` also prepares the Jacobian skip that work there.
    """
    kwargs = kwargs or {}
    x, lower, upper = _check_start("geodesic_lm", x0, bounds)
    n = len(x)

    def residual_of(f: Callable[..., np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
        return lambda y: f(y, *args, **kwargs)

    def jacobian(y: np.ndarray, ry: np.ndarray) -> np.ndarray:
        if jac is None:
            return _finite_difference_jac(lambda z: np.asarray(fun(z, *args, **kwargs), dtype=np.float64).reshape(-1),
                                          y, ry, fd_eps)
        return np.asarray(jac(y, *args, **kwargs), dtype=np.float64).reshape(len(ry), n)

    return _iterate("geodesic_lm", residual_of(fun), residual_of(fun_probe or fun),
                    _ExplicitJacobian(jacobian, broyden, jac_recompute), x, lower, upper, ftol, xtol, gtol, atol,
                    maxiter, max_nfev, initial_lambda, lambda_up, lambda_down, lambda_max, accel, alpha, h, callback)


__all__ = ["geodesic_lm"]
