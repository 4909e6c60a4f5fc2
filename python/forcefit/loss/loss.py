"""``Loss``: the least-squares objective of a fit and its minimization (KLIFF's interface).

loss(x) = 1/2 * sum(residual^2), x = the optimizer's vector (``Model.get_opt_params``; in the
transformed space when the model has a ``params_transform``). KLIFF's convention, so loss values
and optima compare one to one.

Evaluation: one ``Calculator.compute_all`` call (one batch over every configuration) per x.
Derivatives are analytic for built-in models: the kernels return d(prediction)/d(theta) for every
model parameter theta (``param_derivs``); the chain rule through the selection of optimized
components and the transform is the matrix ``Model.dflat_dopt()`` [P, n_opt]. Hence
    Jacobian   J = scale * d(prediction)/d(theta) @ dflat_dopt,  [m, n_opt]
    gradient   J^T r, computed without forming J when only the gradient is needed.

Residual functions: the three built-ins (``energy_forces_residual``, ``energy_residual``,
``forces_residual``) are evaluated for the whole dataset at once; the residual vector is then
ordered [fitted energies, fitted forces, fitted stresses] rather than configuration by
configuration (the sum of squares is the same). A custom function with KLIFF's signature is called
configuration by configuration, in KLIFF's order; its derivative with respect to the prediction is
taken by central differences along each column of d(prediction)/dx (no extra model evaluation),
which is exact up to rounding when the function is linear in the prediction (as weighted
differences are) and second-order accurate otherwise.

Methods (``minimize(method=...)``): every ``scipy.optimize.minimize`` method (gradient methods get
the analytic gradient; Newton-type and trust-region methods get the Gauss-Newton Hessian J^T J),
``scipy.optimize.least_squares`` "trf", "dogbox", "lm" (analytic Jacobian), and "geodesiclm"
(``forcefit.optimize.geodesic_lm``). Bounds come from ``set_opt_params``; methods that cannot
honour bounds raise InputError when bounds are set. Geodesic LM honours bounds by projection.

Non-finite values: if the predictions become NaN/inf during a fit, the fit stops, the model keeps
the best parameters seen, a warning names the configurations, and the returned OptimizeResult has
``success=False`` and says so. NaN at the start parameters raises ``forcefit.errors.InputError``.

``nprocs``: accepted for KLIFF compatibility. The kernels already run on threads (OpenMP over
configurations), so no process pool is started; set OMP_NUM_THREADS to choose the thread count.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import scipy.optimize
from scipy.optimize import OptimizeResult

from ..errors import ForcefitError, InputError
from ..optimize.geodesic_lm import geodesic_lm
from .residuals import (BUILTIN_RESIDUALS, builtin_scales, energy_forces_residual, energy_residual,
                        forces_residual)

logger = logging.getLogger(__name__)

SCIPY_MINIMIZE_METHODS = [
    "Nelder-Mead", "Powell", "CG", "BFGS", "Newton-CG", "L-BFGS-B", "TNC", "COBYLA", "COBYQA",
    "SLSQP", "trust-constr", "dogleg", "trust-ncg", "trust-exact", "trust-krylov",
]
LEAST_SQUARES_METHODS = ["trf", "dogbox", "lm", "geodesiclm"]
_NO_GRADIENT = {"Nelder-Mead", "Powell", "COBYLA", "COBYQA"}
_NEEDS_HESSIAN = {"Newton-CG", "dogleg", "trust-ncg", "trust-exact", "trust-krylov"}
_HONOUR_BOUNDS = {"Nelder-Mead", "Powell", "L-BFGS-B", "TNC", "COBYLA", "COBYQA", "SLSQP",
                  "trust-constr", "trf", "dogbox", "geodesiclm"}


class LossError(InputError):
    """A loss that cannot be set up or minimized as asked (kept under KLIFF's name)."""


class _NonFinitePrediction(ForcefitError):
    """Internal: the model produced NaN/inf; carries a message naming the configurations."""


class Loss:
    """Least-squares loss of a calculator's dataset, minimized with scipy or geodesic LM.

    Args:
        calculator: a ``forcefit.calculators.Calculator`` after ``create``.
        nprocs: accepted for KLIFF compatibility; the kernels use threads (see module docstring).
        residual_fn: KLIFF-style residual function; default ``energy_forces_residual`` (or the
            energy-only / forces-only one when the calculator fits only one of them).
        residual_data: dict passed to ``residual_fn``; default ``{"normalize_by_natoms": True}``.
    """

    def __init__(self, calculator, nprocs: int = 1, residual_fn: Optional[Callable] = None,
                 residual_data: Optional[Dict[str, Any]] = None):
        self.calculator = calculator
        self.refs = calculator._require_created()
        self.nprocs = int(nprocs)
        if self.nprocs > 1:
            logger.info("nprocs=%d: the kernels already run on threads (OMP_NUM_THREADS); "
                        "no process pool is started.", self.nprocs)

        data = {"normalize_by_natoms": True}
        builtin = residual_fn is None or residual_fn in BUILTIN_RESIDUALS
        for key, value in (residual_data or {}).items():
            if builtin and key not in data:   # custom residual functions may take any data
                raise LossError(f"residual_data key `{key}` not understood (built-in residual "
                                f"functions accept: {', '.join(data)})")
            data[key] = value
        self.residual_data = data

        refs = self.refs
        if residual_fn is None:
            if refs.use_energy.any() and refs.use_forces.any():
                residual_fn = energy_forces_residual
            elif refs.use_energy.any():
                residual_fn = energy_residual
            elif refs.use_forces.any():
                residual_fn = forces_residual
            elif refs.use_stress.any():
                residual_fn = energy_forces_residual
            else:
                raise LossError("the calculator fits neither energy, forces nor stress")
        self.residual_fn = residual_fn
        self._builtin_kind = BUILTIN_RESIDUALS.get(residual_fn)

        self._e_idx = np.flatnonzero(refs.use_energy)
        self._f_atoms = np.flatnonzero(refs.use_forces[refs.config_of_atom()])
        self._s_idx = np.flatnonzero(refs.use_stress)
        if self._builtin_kind is not None:
            se, sf, ss = builtin_scales(self._builtin_kind, refs, bool(data["normalize_by_natoms"]))
            self._scale_e = se[self._e_idx]
            self._scale_f = sf[self._f_atoms]
            self._scale_s = ss[self._s_idx]
            self._ref_e = refs.energy[self._e_idx]
            self._ref_f = refs.forces[self._f_atoms]
            self._ref_s = refs.stress[self._s_idx]

        self.n_evaluations = 0          # model evaluations (batch computations)
        self._last: Optional[Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]] = None
        self._best_x: Optional[np.ndarray] = None
        self._best_loss = np.inf

    # -- evaluation --------------------------------------------------------------------------
    def _predict(self, x: np.ndarray, derivs: bool):
        self.calculator.update_model_params(x)
        result = self.calculator.compute_all(param_derivs=derivs)
        self.n_evaluations += 1
        return result

    def _check_finite(self, result, x: np.ndarray) -> None:
        refs = self.refs
        bad = np.zeros(refs.n_configs, dtype=bool)
        bad[self._e_idx] |= ~np.isfinite(result.energy[self._e_idx])
        if len(self._f_atoms):
            rows = ~np.all(np.isfinite(result.forces[self._f_atoms]), axis=1)
            bad[refs.config_of_atom()[self._f_atoms[rows]]] = True
        if len(self._s_idx):
            bad[self._s_idx] |= ~np.all(np.isfinite(result.stress[self._s_idx]), axis=1)
        if bad.any():
            names = [refs.identifiers[i] for i in np.flatnonzero(bad)[:5]]
            more = f" and {int(bad.sum()) - 5} more" if bad.sum() > 5 else ""
            params = ", ".join(f"{k}={np.array2string(p.value, precision=6)}"
                               for k, p in self.calculator.model.get_model_params().items())
            raise _NonFinitePrediction(
                f"the model predicts NaN/inf for configuration(s) {', '.join(names)}{more} "
                f"at parameters {params}")

    def _evaluate(self, x: Any, derivs: bool) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """(residual [m], Jacobian [m, n_opt] or None) at x, cached for the last x."""
        x = np.array(x, dtype=np.float64).reshape(-1)
        if self._last is not None and np.array_equal(self._last[0], x) and (self._last[2] is not None or not derivs):
            return self._last[1], self._last[2]
        result = self._predict(x, derivs)
        self._check_finite(result, x)
        if self._builtin_kind is not None:
            r, jac = self._builtin_residual(result, derivs)
        else:
            r, jac = self._custom_residual(result, derivs)
        if not np.all(np.isfinite(r)):
            raise _NonFinitePrediction("the residual function returned NaN/inf")
        loss = 0.5 * float(r @ r)
        if loss < self._best_loss:
            self._best_loss, self._best_x = loss, x.copy()
        self._last = (x, r, jac)
        return r, jac

    def _builtin_residual(self, res, derivs: bool):
        parts = [self._scale_e * (res.energy[self._e_idx] - self._ref_e)]
        if len(self._f_atoms):
            parts.append((self._scale_f * (res.forces[self._f_atoms] - self._ref_f)).reshape(-1))
        if len(self._s_idx):
            parts.append((self._scale_s * (res.stress[self._s_idx] - self._ref_s)).reshape(-1))
        r = np.concatenate(parts)
        if not derivs:
            return r, None
        m = self.calculator.model.dflat_dopt()
        blocks = [self._scale_e[:, None] * (res.denergy[self._e_idx] @ m)]
        if len(self._f_atoms):
            df = res.dforces[self._f_atoms] @ m                       # [Nf, 3, n_opt]
            blocks.append((self._scale_f[:, :, None] * df).reshape(-1, m.shape[1]))
        if len(self._s_idx):
            ds = res.dstress[self._s_idx] @ m
            blocks.append((self._scale_s[:, :, None] * ds).reshape(-1, m.shape[1]))
        return r, np.concatenate(blocks, axis=0)

    def _config_prediction_blocks(self, res, m: Optional[np.ndarray]):
        """Per configuration: (prediction, d prediction/dx or None), KLIFF's layout."""
        refs = self.refs
        de = res.denergy @ m if m is not None else None
        for i in range(refs.n_configs):
            lo, hi = refs.atom_offset[i], refs.atom_offset[i + 1]
            pred, dpred = [], []
            if refs.use_energy[i]:
                pred.append(res.energy[i:i + 1])
                if m is not None:
                    dpred.append(de[i:i + 1])
            if refs.use_forces[i]:
                pred.append(res.forces[lo:hi].reshape(-1))
                if m is not None:
                    dpred.append((res.dforces[lo:hi] @ m).reshape(-1, m.shape[1]))
            if refs.use_stress[i]:
                pred.append(res.stress[i])
                if m is not None:
                    dpred.append(res.dstress[i] @ m)
            yield i, np.concatenate(pred), (np.concatenate(dpred) if m is not None else None)

    def _custom_residual(self, res, derivs: bool):
        refs = self.refs
        calc = self.calculator
        m = calc.model.dflat_dopt() if derivs else None
        rs: List[np.ndarray] = []
        js: List[np.ndarray] = []
        for i, pred, dpred in self._config_prediction_blocks(res, m):
            ca = calc.compute_arguments[i]
            ref = calc.get_reference(ca)
            conf = ca.conf
            args = (refs.identifiers[i], int(refs.natoms[i]), getattr(conf, "weight", None))

            def fn(p):
                return np.asarray(self.residual_fn(*args, p, ref, self.residual_data), dtype=np.float64).reshape(-1)

            r0 = fn(pred)
            rs.append(r0)
            if derivs:
                jc = np.zeros((len(r0), dpred.shape[1]))
                scale = 1e-5 * (1.0 + np.max(np.abs(pred)))
                for k in range(dpred.shape[1]):
                    d = dpred[:, k]
                    dmax = np.max(np.abs(d))
                    if dmax == 0.0:
                        continue
                    t = scale / dmax
                    jc[:, k] = (fn(pred + t * d) - fn(pred - t * d)) / (2.0 * t)
                js.append(jc)
        r = np.concatenate(rs)
        return r, (np.concatenate(js, axis=0) if derivs else None)

    # -- public evaluation (KLIFF names too) -------------------------------------------------
    def get_residual(self, x: Optional[Any] = None) -> np.ndarray:
        """Residual vector at x (default: the model's current optimizing parameters)."""
        x = self.calculator.get_opt_params() if x is None else x
        return self._guarded(lambda: self._evaluate(x, False)[0])

    def get_loss(self, x: Optional[Any] = None) -> float:
        """1/2 * sum(residual^2) at x."""
        r = self.get_residual(x)
        return 0.5 * float(r @ r)

    def get_loss_and_gradient(self, x: Optional[Any] = None) -> Tuple[float, np.ndarray]:
        """(loss, d loss/dx [n_opt]) at x, analytic."""
        x = self.calculator.get_opt_params() if x is None else x
        return self._guarded(lambda: self._loss_and_grad(x))

    def get_jacobian(self, x: Optional[Any] = None) -> np.ndarray:
        """d residual/dx, [m, n_opt]."""
        x = self.calculator.get_opt_params() if x is None else x
        return self._guarded(lambda: self._evaluate(x, True)[1])

    _get_residual = get_residual
    _get_loss = get_loss

    def _guarded(self, f):
        try:
            return f()
        except _NonFinitePrediction as err:
            raise InputError(str(err)) from None

    def _loss_and_grad(self, x):
        r, jac = self._evaluate(x, True)
        return 0.5 * float(r @ r), jac.T @ r

    def _loss_only(self, x):
        r, _ = self._evaluate(x, False)
        return 0.5 * float(r @ r)

    def _gauss_newton_hessian(self, x):
        _, jac = self._evaluate(x, True)
        return jac.T @ jac

    def _residual_only(self, x):
        return self._evaluate(x, False)[0]

    def _jacobian_only(self, x):
        return self._evaluate(x, True)[1]

    # -- minimization ------------------------------------------------------------------------
    def minimize(self, method: str = "L-BFGS-B", **kwargs) -> OptimizeResult:
        """Minimize the loss; the model ends with the optimized (or best) parameters.

        Args:
            method: a ``scipy.optimize.minimize`` method, "trf", "dogbox", "lm" or "geodesiclm".
            kwargs: passed to the optimizer (``options={...}`` for minimize; ``max_nfev``,
                ``ftol`` ... for least squares; ``geodesic_lm`` keywords for "geodesiclm").
                Bounds come from ``set_opt_params`` and must not be passed here.
        """
        if method not in SCIPY_MINIMIZE_METHODS and method not in LEAST_SQUARES_METHODS:
            raise LossError(f"minimization method `{method}` not supported; choose one of "
                            f"{', '.join(SCIPY_MINIMIZE_METHODS + LEAST_SQUARES_METHODS)}")
        if "bounds" in kwargs:
            raise LossError("pass bounds through model.set_opt_params, not to minimize()")
        calc = self.calculator
        x0 = calc.get_opt_params()
        bounds = calc.get_opt_params_bounds() if calc.has_opt_params_bounds() else None
        if bounds is not None and method not in _HONOUR_BOUNDS:
            bounded = [calc.model.get_opt_param_name_value_and_indices(k)[0]
                       for k, (lo, up) in enumerate(bounds) if lo is not None or up is not None]
            raise LossError(f"method `{method}` cannot handle bounds, but parameter(s) "
                            f"{', '.join(dict.fromkeys(bounded))} have bounds")
        self._best_x, self._best_loss = None, np.inf
        start_evals = self.n_evaluations
        logger.info("Start minimization with %s (%d parameters).", method, len(x0))
        try:
            result = self._run(method, x0, bounds, kwargs)
        except _NonFinitePrediction as err:
            if self._best_x is None:
                raise InputError(f"loss is not finite at the start parameters: {err}") from None
            message = (f"stopped: {err}; the model keeps the best parameters found "
                       f"(loss {self._best_loss:.10g})")
            logger.warning(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            result = OptimizeResult(x=self._best_x.copy(), fun=self._best_loss, success=False,
                                    status=-100, message=message)
        result.loss = 0.5 * float(np.sum(np.square(self._residual_at_best_or(result.x))))
        result.n_model_evaluations = self.n_evaluations - start_evals
        calc.update_model_params(result.x)
        logger.info("Finish minimization with %s: loss %.10g (%s).", method, result.loss, result.get("message", ""))
        return result

    def _residual_at_best_or(self, x):
        try:
            return self._evaluate(x, False)[0]
        except _NonFinitePrediction:
            return np.array([np.inf])

    def _run(self, method: str, x0: np.ndarray, bounds, kwargs: Dict[str, Any]) -> OptimizeResult:
        if method in SCIPY_MINIMIZE_METHODS:
            if method in _NO_GRADIENT:
                args = dict(fun=self._loss_only)
            else:
                args = dict(fun=self._loss_and_grad, jac=True)
                if method in _NEEDS_HESSIAN:
                    args["hess"] = self._gauss_newton_hessian
            if bounds is not None:
                kwargs["bounds"] = bounds
            return scipy.optimize.minimize(x0=x0, method=method, **args, **kwargs)

        if method in LEAST_SQUARES_METHODS:
            box = None
            if bounds is not None:
                box = ([-np.inf if lo is None else lo for lo, _ in bounds],
                       [np.inf if up is None else up for _, up in bounds])
            if method == "geodesiclm":
                options = dict(kwargs.pop("options", {}) or {})
                options.update(kwargs)
                options.pop("method", None)
                result = geodesic_lm(self._residual_only, x0, jac=self._jacobian_only, bounds=box, **options)
            else:
                extra = {} if box is None else {"bounds": box}
                result = scipy.optimize.least_squares(self._residual_only, x0, jac=self._jacobian_only,
                                                      method=method, **extra, **kwargs)
            return result
        raise AssertionError(method)  # minimize() checked the name


__all__ = ["Loss", "LossError", "SCIPY_MINIMIZE_METHODS", "LEAST_SQUARES_METHODS"]
