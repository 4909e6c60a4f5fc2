"""``Loss``: the least-squares objective of a fit and its minimization (KLIFF's interface).

loss(x) = 1/2 * sum(residual^2), x = the optimizer's vector (``Model.get_opt_params``; in the
transformed space when the model has a ``params_transform``). KLIFF's convention, so loss values
and optima compare one to one.

Evaluation: one batch over every configuration per x. With a built-in residual function and a
C++ model the kernels evaluate loss and gradient (and, for geodesic LM, residuals and Jacobian) in
one pass without storing d(prediction)/dtheta (see ``objective.py``); otherwise through
``Calculator.compute_all``.
Derivatives are analytic for built-in models: the kernels return d(prediction)/d(theta) for the
optimized model parameters theta (``param_derivs``, ``param_indices``); the chain rule through
the selection of optimized components and the transform is the matrix ``Model.dflat_dopt()``
[P, n_opt] (one nonzero per column, applied as a gather, ``Model.opt_to_flat``). Hence
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
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np
import scipy.optimize
from scipy.optimize import OptimizeResult

from ..errors import InputError
from ..optimize.blas_threads import serial_blas
from ..optimize.geodesic_lm import geodesic_lm
from .objective import NonFinitePrediction, Objective
from .residuals import BUILTIN_RESIDUALS, energy_forces_residual, energy_residual, forces_residual

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
        self.objective = Objective(calculator, residual_fn, BUILTIN_RESIDUALS.get(residual_fn), data)

    @property
    def n_evaluations(self) -> int:
        """Number of model evaluations (batch computations) so far."""
        return self.objective.n_evaluations

    # -- public evaluation (KLIFF names too) -------------------------------------------------
    def _x_or_current(self, x):
        return self.calculator.get_opt_params() if x is None else x

    def get_residual(self, x: Optional[Any] = None) -> np.ndarray:
        """Residual vector at x (default: the model's current optimizing parameters)."""
        return self._guarded(self.objective.residual, self._x_or_current(x))

    def get_loss(self, x: Optional[Any] = None) -> float:
        """1/2 * sum(residual^2) at x."""
        return self._guarded(self.objective.loss, self._x_or_current(x))

    def get_loss_and_gradient(self, x: Optional[Any] = None) -> Tuple[float, np.ndarray]:
        """(loss, d loss/dx [n_opt]) at x, analytic."""
        return self._guarded(self.objective.loss_and_gradient, self._x_or_current(x))

    def get_jacobian(self, x: Optional[Any] = None) -> np.ndarray:
        """d residual/dx, [m, n_opt]."""
        return self._guarded(self.objective.jacobian, self._x_or_current(x))

    _get_residual = get_residual
    _get_loss = get_loss

    @staticmethod
    def _guarded(f, x):
        try:
            return f(x)
        except NonFinitePrediction as err:
            raise InputError(str(err)) from None

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
        obj = self.objective
        obj.reset_best()
        start_evals = self.n_evaluations
        logger.info("Start minimization with %s (%d parameters).", method, len(x0))
        try:
            with serial_blas():
                result = self._run(method, x0, bounds, kwargs)
        except NonFinitePrediction as err:
            if obj.best_x is None:
                raise InputError(f"loss is not finite at the start parameters: {err}") from None
            message = (f"stopped: {err}; the model keeps the best parameters found "
                       f"(loss {obj.best_loss:.10g})")
            logger.warning(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            result = OptimizeResult(x=obj.best_x.copy(), fun=obj.best_loss, success=False,
                                    status=-100, message=message)
        result.loss = obj.loss(result.x)
        result.n_model_evaluations = self.n_evaluations - start_evals
        calc.update_model_params(result.x)
        logger.info("Finish minimization with %s: loss %.10g (%s).", method, result.loss, result.get("message", ""))
        return result

    def _run(self, method: str, x0: np.ndarray, bounds, kwargs: Dict[str, Any]) -> OptimizeResult:
        if method in SCIPY_MINIMIZE_METHODS:
            obj = self.objective
            if method in _NO_GRADIENT:
                args = dict(fun=obj.loss)
            else:
                args = dict(fun=obj.loss_and_gradient, jac=True)
                if method in _NEEDS_HESSIAN:
                    args["hess"] = obj.gauss_newton_hessian
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
                # trial points are usually accepted and then need the Jacobian: evaluate them with
                # derivatives; the acceleration probe needs residuals only
                obj = self.objective
                if obj.has_one_pass:
                    # residual vector and Jacobian from the kernels' one pass, into reused buffers
                    result = geodesic_lm(obj.rows_with_derivatives, x0, jac=obj.rows_jacobian, bounds=box,
                                         fun_probe=obj.rows, **options)
                else:
                    result = geodesic_lm(obj.residual_with_derivatives, x0, jac=obj.jacobian, bounds=box,
                                         fun_probe=obj.residual, **options)
            else:
                extra = {} if box is None else {"bounds": box}
                result = scipy.optimize.least_squares(self.objective.residual_with_derivatives, x0,
                                                      jac=self.objective.jacobian,
                                                      method=method, **extra, **kwargs)
            return result
        raise AssertionError(method)  # minimize() checked the name


__all__ = ["Loss", "LossError", "SCIPY_MINIMIZE_METHODS", "LEAST_SQUARES_METHODS"]
