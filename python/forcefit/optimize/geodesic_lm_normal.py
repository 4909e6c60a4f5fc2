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

from .geodesic_lm import _check_start, _iterate


class _NormalEquations:
    """J^T J and J^T r from the caller's ``normal(x, r)``, J^T u from its ``jt(x, u)``; no Broyden updates."""

    stale = False  # always freshly evaluated

    def __init__(self, normal: Callable[[np.ndarray, np.ndarray], Tuple[np.ndarray, np.ndarray]],
                 jt: Callable[[np.ndarray, np.ndarray], np.ndarray], n: int):
        self._normal = normal
        self._jt = jt
        self._n = n
        self.njev = 0

    def refresh(self, x: np.ndarray, r: np.ndarray) -> None:
        """J^T J [n, n] and J^T r [n] at x (r = r(x))."""
        self.njev += 1
        a, b = self._normal(x, r)
        self.x = x
        self.jtj = np.asarray(a, dtype=np.float64).reshape(self._n, self._n)
        self.grad = np.asarray(b, dtype=np.float64).reshape(self._n)

    def jt_rvv(self, v: np.ndarray, r: np.ndarray, r_h: np.ndarray, h: float) -> np.ndarray:
        """J^T r_vv = (2/h) [(J^T r(x + h v) - J^T r(x)) / h - J^T J v]."""
        return (2.0 / h) * ((self._jt(self.x, r_h) - self.grad) / h - self.jtj @ v)

    def move(self, x: np.ndarray, r: np.ndarray, x_new: np.ndarray, r_new: np.ndarray) -> None:
        self.refresh(x_new, r_new)

    def result_fields(self) -> dict:
        return {"jtj": self.jtj}


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
    x, lower, upper = _check_start("geodesic_lm_normal", x0, bounds)
    return _iterate("geodesic_lm_normal", fun, fun_probe or fun, _NormalEquations(normal, jt, len(x)), x, lower,
                    upper, ftol, xtol, gtol, atol, maxiter, max_nfev, initial_lambda, lambda_up, lambda_down,
                    lambda_max, accel, alpha, h, callback)


__all__ = ["geodesic_lm_normal"]
