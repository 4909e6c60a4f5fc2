"""Residuals, loss, gradient and Jacobian of a dataset at an optimizer vector x, with caching.

``Objective`` evaluates the model once per x (one batch over every configuration) and keeps the
last evaluation, so the value, gradient and Jacobian requested by an optimizer at the same x cost
one model call. It also remembers the lowest loss seen and its x (for NaN recovery).

Built-in residual functions (see ``residuals.py``) are handled in bulk: residual = scale *
(prediction - reference) per fitted value, where the selections (fitted energies, atoms, stresses)
are slices when every configuration is fitted (no copies). The gradient is J^T r computed as
M^T (dP/dtheta^T (scale * r)) without forming J (M = ``Model.dflat_dopt()``, applied as a column gather); the Jacobian, for
least-squares methods, is built only when asked for.

With a built-in residual function and a model that computes losses in one pass (the C++ kernels,
``Calculator.supports_loss_gradient``), ``loss`` and ``loss_and_gradient`` take that path instead:
the kernels contract each configuration's parameter derivatives with its residuals, so neither
d(prediction)/dtheta nor the residual vector is stored; predictions go into buffers reused by every
evaluation. Geodesic LM takes its residual vector and Jacobian from the same pass (``rows``,
``rows_jacobian``: every value of the fitted properties, 0 rows for values that are not fitted;
same sum of squares and normal equations). ``residual`` and ``jacobian`` (the public
``Loss.get_residual``/``get_jacobian`` and scipy's least-squares methods) go through
``compute_all``.

Custom residual functions are called configuration by configuration with KLIFF's arguments; their
Jacobian is d(prediction)/dx chained through central differences of the residual function along
each column (exact to rounding for functions linear in the prediction).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

import numpy as np

from ..errors import ForcefitError
from ..models.batch import LossResiduals
from .residuals import builtin_scales


class NonFinitePrediction(ForcefitError):
    """The model produced NaN/inf; the message names the configurations and parameters."""


def _selection(mask: np.ndarray):
    """A slice when every entry is selected (views instead of copies), else an index array."""
    return slice(None) if mask.all() else np.flatnonzero(mask)


class Objective:
    """Evaluation engine behind ``Loss``.

    Args:
        calculator: a created ``Calculator``.
        residual_fn: the residual function; ``builtin_kind`` names a built-in one ("energy_forces",
            "energy", "forces") or is None for a custom function.
        residual_data: dict passed to residual functions.
    """

    def __init__(self, calculator, residual_fn: Callable, builtin_kind: Optional[str],
                 residual_data: Dict[str, Any]):
        self.calculator = calculator
        self.refs = refs = calculator.refs
        self.residual_fn = residual_fn
        self.builtin_kind = builtin_kind
        self.residual_data = residual_data
        self._atom_cfg = refs.config_of_atom()
        self._e = _selection(refs.use_energy)
        self._f = _selection(refs.use_forces[self._atom_cfg])
        self._s = _selection(refs.use_stress)
        self._n_e = int(refs.use_energy.sum())
        self._n_f = int(refs.use_forces[self._atom_cfg].sum())
        self._n_s = int(refs.use_stress.sum())
        if builtin_kind is not None:
            se, sf, ss = builtin_scales(builtin_kind, refs, bool(residual_data.get("normalize_by_natoms", True)))
            self._scale_e, self._scale_f, self._scale_s = se[self._e], sf[self._f], ss[self._s]
            self._ref_e, self._ref_f, self._ref_s = refs.energy[self._e], refs.forces[self._f], refs.stress[self._s]
        self._loss_residuals: Optional[LossResiduals] = None
        if builtin_kind is not None and calculator.supports_loss_gradient():
            self._loss_residuals = self._one_pass_residuals(se, sf, ss)
        self._one_pass_key = None     # (flat parameters, optimized indices) of _one_pass_value
        self._one_pass_value = None   # (loss, gradient or None)
        self._r_params: Optional[np.ndarray] = None  # flat model parameters of self._r
        self.n_evaluations = 0
        self._r: Optional[np.ndarray] = None
        self._res = None
        self._has_derivs = False
        self._jac: Optional[np.ndarray] = None
        self._cols: Optional[np.ndarray] = None
        self._custom_jac: Optional[np.ndarray] = None
        self.reset_best()

    def _one_pass_residuals(self, se: np.ndarray, sf: np.ndarray, ss: np.ndarray) -> LossResiduals:
        # Full-size scales with 0 for values that are not fitted (the kernels skip those, so NaN
        # predictions there stay out of the loss), references 0 there. Energies are always
        # computed (they cost nothing extra and the NaN diagnosis reads them).
        refs = self.refs
        use_f = refs.use_forces[self._atom_cfg]

        def masked(scale, ref, mask):
            m = mask.reshape(mask.shape + (1,) * (scale.ndim - 1))
            return np.where(m, scale, 0.0), np.where(m, ref, 0.0)

        e_scale, e_ref = masked(se, refs.energy, refs.use_energy)
        f_scale = f_ref = s_scale = s_ref = None
        if self._n_f:
            f_scale, f_ref = masked(sf, refs.forces, use_f)
        if self._n_s:
            s_scale, s_ref = masked(ss, refs.stress, refs.use_stress)
        return LossResiduals(e_scale, e_ref, f_scale, f_ref, s_scale, s_ref)

    def _one_pass(self, x: np.ndarray, gradient: bool = False, rows: bool = False, jacobian: bool = False) -> dict:
        """The kernels' one-pass evaluation at x (see module docstring), cached for the last
        parameters: ``{"loss", "grad" [n_opt], "rows" [R], "jac" [R, n_opt]}`` in the optimizer's
        space, entries None where not computed. ``rows``/``jac`` hold every value of the fitted
        properties (0 rows for values that are not fitted), in the order [energies, forces, stress]."""
        calc = self.calculator
        calc.update_model_params(x)
        params = calc.model.get_model_params_flat()
        index, factor = calc.model.opt_to_flat()
        key, value = self._one_pass_key, self._one_pass_value
        if (key is not None and np.array_equal(key[0], params) and np.array_equal(key[1], index)
                and all(value[name] is not None for name, wanted in
                        (("grad", gradient), ("rows", rows), ("jac", jacobian)) if wanted)):
            return value
        ev = calc.compute_loss_gradient(self._loss_residuals, gradient or jacobian, rows=rows, jacobian=jacobian)
        self.n_evaluations += 1
        if not (np.isfinite(ev.loss) and np.all(np.isfinite(ev.gradient))):
            self._check_finite(ev.predictions)
            raise NonFinitePrediction("the loss or its gradient is not finite")
        derivs = gradient or jacobian
        # copies of the reused buffers: an optimizer keeps them across evaluations
        value = {"loss": ev.loss, "grad": ev.gradient * factor if derivs else None,
                 "rows": ev.residual_rows.copy() if rows else None,
                 "jac": np.multiply(ev.jacobian_rows, factor) if jacobian else None}
        if ev.loss < self.best_loss:
            self.best_loss, self.best_x = ev.loss, x.copy()
        self._one_pass_key = (params.copy(), index)
        self._one_pass_value = value
        return value

    @property
    def has_one_pass(self) -> bool:
        """True when the loss, gradient, residual rows and Jacobian come from the kernels' one-pass
        evaluation (built-in residual function and a C++ model)."""
        return self._loss_residuals is not None

    def rows(self, x, derivs: bool = False) -> np.ndarray:
        """Residuals at x of every value of the fitted properties (0 for values that are not
        fitted), for least-squares methods: same sum of squares and normal equations as
        ``residual``. ``derivs``: also compute the Jacobian now. Needs ``has_one_pass``."""
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        return self._one_pass(x, rows=True, jacobian=derivs)["rows"]

    def rows_with_derivatives(self, x) -> np.ndarray:
        return self.rows(x, derivs=True)

    def rows_jacobian(self, x) -> np.ndarray:
        """d rows/dx [R, n_opt] at x (see ``rows``)."""
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        return self._one_pass(x, rows=True, jacobian=True)["jac"]

    # -- bookkeeping -------------------------------------------------------------------------
    def reset_best(self) -> None:
        self.best_x: Optional[np.ndarray] = None
        self.best_loss = np.inf

    def _update(self, x: np.ndarray, derivs: bool) -> None:
        # The calculator caches its batch result by the model's full parameter vector (and the
        # optimized selection), so the same result object means nothing changed: not x, nor the
        # fixed values or the selection set on the model since.
        self.calculator.update_model_params(x)
        res = self.calculator.compute_all(param_derivs=derivs)
        if res is self._res and (self._has_derivs or not derivs):
            return
        self.n_evaluations += 1
        self._check_finite(res)
        if self.builtin_kind is not None:
            r, custom_jac = self._builtin_residual(res), None
        else:
            r, custom_jac = self._custom_residual(res, derivs)
        if not np.all(np.isfinite(r)):
            raise NonFinitePrediction("the residual function returned NaN/inf")
        self._r, self._res, self._has_derivs = r, res, derivs
        self._r_params = self.calculator.model.get_model_params_flat().copy()
        self._cols = self.calculator.derivative_columns() if derivs else None
        self._jac, self._custom_jac = None, custom_jac
        loss = 0.5 * float(r @ r)
        if loss < self.best_loss:
            self.best_loss, self.best_x = loss, x.copy()

    def _check_finite(self, res) -> None:
        refs = self.refs
        bad = np.zeros(refs.n_configs, dtype=bool)
        bad[self._e] |= ~np.isfinite(res.energy[self._e])
        if self._n_f:
            rows = ~np.all(np.isfinite(res.forces), axis=1)
            rows[~refs.use_forces[self._atom_cfg]] = False
            bad[self._atom_cfg[rows]] = True
        if self._n_s:
            bad[self._s] |= ~np.all(np.isfinite(res.stress[self._s]), axis=1)
        if bad.any():
            names = [refs.identifiers[i] for i in np.flatnonzero(bad)[:5]]
            more = f" and {int(bad.sum()) - 5} more" if bad.sum() > 5 else ""
            params = ", ".join(f"{k}={np.array2string(p.value, precision=6)}"
                               for k, p in self.calculator.model.get_model_params().items())
            raise NonFinitePrediction(
                f"the model predicts NaN/inf for configuration(s) {', '.join(names)}{more} at parameters {params}")

    # -- public: values at x -----------------------------------------------------------------
    def residual(self, x, derivs: bool = False) -> np.ndarray:
        """Residuals at x; ``derivs=True`` also computes the parameter derivatives now (one
        model call instead of two when the Jacobian at x will be asked for next)."""
        self._update(np.asarray(x, dtype=np.float64).reshape(-1), derivs)
        return self._r

    def residual_with_derivatives(self, x) -> np.ndarray:
        return self.residual(x, derivs=True)

    def loss(self, x) -> float:
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        if self._loss_residuals is not None:
            # the residuals of the last evaluation when they are at x (a least-squares fit's
            # final point), else the one-pass loss
            self.calculator.update_model_params(x)
            if self._r is not None and np.array_equal(self._r_params, self.calculator.model.get_model_params_flat()):
                return 0.5 * float(self._r @ self._r)
            return self._one_pass(x)["loss"]
        r = self.residual(x)
        return 0.5 * float(r @ r)

    def loss_and_gradient(self, x):
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        if self._loss_residuals is not None:
            value = self._one_pass(x, gradient=True)
            return value["loss"], value["grad"].copy()
        self._update(x, True)
        r = self._r
        if self.builtin_kind is None:
            grad = self._custom_jac.T @ r
        else:
            grad = self._builtin_gradient()
        return 0.5 * float(r @ r), grad

    def jacobian(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        self._update(x, True)
        if self.builtin_kind is None:
            return self._custom_jac
        if self._jac is None:
            self._jac = self._builtin_jacobian()
        return self._jac

    def gauss_newton_hessian(self, x) -> np.ndarray:
        jac = self.jacobian(x)
        return jac.T @ jac

    # -- built-in residuals ------------------------------------------------------------------
    def _builtin_residual(self, res) -> np.ndarray:
        parts = [self._scale_e * (res.energy[self._e] - self._ref_e)]
        if self._n_f:
            parts.append((self._scale_f * (res.forces[self._f] - self._ref_f)).reshape(-1))
        if self._n_s:
            parts.append((self._scale_s * (res.stress[self._s] - self._ref_s)).reshape(-1))
        return np.concatenate(parts)

    def _split_r(self):
        r = self._r
        e_end = self._n_e
        f_end = e_end + 3 * self._n_f
        return r[:e_end], r[e_end:f_end], r[f_end:]

    def _builtin_gradient(self) -> np.ndarray:
        # J^T r without forming J: one matrix-vector product per property over the derivative
        # columns the model returned (contiguous reads), then keep the optimized ones and apply
        # the chain factors. einsum rather than BLAS: right after the OpenMP kernels, BLAS
        # threads compete with the kernels' spinning threads and a 3-column product can take
        # 20x longer.
        res = self._res
        factor = self.calculator.model.opt_to_flat()[1]
        r_e, r_f, r_s = self._split_r()
        n_cols = res.denergy.shape[1]
        g = np.einsum("i,ij->j", self._scale_e * r_e, res.denergy[self._e])
        if self._n_f:
            g += np.einsum("i,ij->j", self._scale_f.reshape(-1) * r_f, res.dforces[self._f].reshape(-1, n_cols))
        if self._n_s:
            g += np.einsum("i,ij->j", self._scale_s.reshape(-1) * r_s, res.dstress[self._s].reshape(-1, n_cols))
        return g[self._cols] * factor

    def _builtin_jacobian(self) -> np.ndarray:
        res = self._res
        factor = self.calculator.model.opt_to_flat()[1]
        n_cols = res.denergy.shape[1]
        # no gather when the model returned exactly the optimized columns, in order
        cols = slice(None) if np.array_equal(self._cols, np.arange(n_cols)) else self._cols
        blocks = [(self._scale_e[:, None] * factor) * res.denergy[self._e][:, cols]]
        if self._n_f:
            blocks.append((self._scale_f.reshape(-1, 1) * factor) * res.dforces[self._f].reshape(-1, n_cols)[:, cols])
        if self._n_s:
            blocks.append((self._scale_s.reshape(-1, 1) * factor) * res.dstress[self._s].reshape(-1, n_cols)[:, cols])
        return np.concatenate(blocks, axis=0)

    # -- custom residual functions -----------------------------------------------------------
    def _config_blocks(self, res, m: Optional[np.ndarray]):
        """Per configuration: (index, prediction, d prediction/dx or None), KLIFF's layout."""
        refs = self.refs
        n_params = res.denergy.shape[1] if m is not None else 0
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
                    dpred.append(res.dforces[lo:hi].reshape(-1, n_params) @ m)
            if refs.use_stress[i]:
                pred.append(res.stress[i])
                if m is not None:
                    dpred.append(res.dstress[i] @ m)
            yield i, np.concatenate(pred), (np.concatenate(dpred) if m is not None else None)

    def _custom_residual(self, res, derivs: bool):
        refs = self.refs
        calc = self.calculator
        m = None
        if derivs:
            # chain matrix from the derivative columns the model returned to the optimizer's x
            cols, factor = calc.derivative_columns(), calc.model.opt_to_flat()[1]
            m = np.zeros((res.denergy.shape[1], len(cols)))
            m[cols, np.arange(len(cols))] = factor
        rs: List[np.ndarray] = []
        js: List[np.ndarray] = []
        for i, pred, dpred in self._config_blocks(res, m):
            ca = calc.compute_arguments[i]
            ref = calc.get_reference(ca)
            head = (refs.identifiers[i], int(refs.natoms[i]), getattr(ca.conf, "weight", None))

            def fn(p):
                out = self.residual_fn(*head, p, ref, self.residual_data)
                return np.asarray(out, dtype=np.float64).reshape(-1)

            r0 = fn(pred)
            rs.append(r0)
            if derivs:
                jc = np.zeros((len(r0), dpred.shape[1]))
                step = 1e-5 * (1.0 + np.max(np.abs(pred)))
                for k in range(dpred.shape[1]):
                    d = dpred[:, k]
                    dmax = np.max(np.abs(d))
                    if dmax > 0.0:
                        t = step / dmax
                        jc[:, k] = (fn(pred + t * d) - fn(pred - t * d)) / (2.0 * t)
                js.append(jc)
        return np.concatenate(rs), (np.concatenate(js, axis=0) if derivs else None)


__all__ = ["Objective", "NonFinitePrediction"]
