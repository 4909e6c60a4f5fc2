"""Regularization terms of the pacemaker loss and their gradients with respect to the parameters.

With ``x`` the flat parameter vector of :class:`forcefit.ace.fit_params.ParameterMap`:

* coefficient penalties (python-ace: function coefficients only, never radial ones)::

      L1 * sum_p |c_p|  +  L2 * sum_p c_p^2

  (the L1 term's gradient is ``L1 * sign(c)``, zero at c = 0);

* radial smoothness (python-ace / tensorpot's ``compute_smoothness_reg``): for d = 0, 1, 2 and
  every ordered bond b = (mu_i, mu_j) with radial functions R_nl(r) = sum_k crad[n,l,k] g_k(r),
  on the grid r_t = linspace(1e-10, rcut - 1e-5, 100) with spacing dr::

      S_d = mean_b [ dr / rcut_b^2 * sum_t r_t^2 sum_{n,l} |d^d R_nl / dr^d (r_t)| ]

  and the loss adds ``w0_rad S_0 + w1_rad S_1 + w2_rad S_2``.  (tensorpot integrates the absolute
  values, not squares; this keeps its definition.)  The g_k and their first derivatives are the
  evaluator's analytic radial basis; second derivatives are central differences of the analytic
  first derivatives (step 1e-4 Å, error ~1e-8 relative), computed once per basis.

Units: coefficients are dimensionless multipliers of eV-valued functions; the terms carry the
units of their weights.
"""

from __future__ import annotations

from typing import Callable, Dict, Tuple

import numpy as np

from ..errors import InputError

#: tensorpot's grid: 100 points from 1e-10 to rcut - 1e-5 Å
GRID_POINTS = 100
GRID_START = 1e-10
GRID_END_OFFSET = 1e-5
SECOND_DERIVATIVE_STEP = 1e-4


def coefficient_penalties(x: np.ndarray, function_mask: np.ndarray, l1: float, l2: float):
    """(L1 term, L2 term, gradient (P,)) over the function coefficients ``x[function_mask]``."""
    c = np.where(function_mask, x, 0.0)
    grad = l1 * np.sign(c) + 2.0 * l2 * c
    return float(l1 * np.sum(np.abs(c))), float(l2 * np.sum(c * c)), grad


class RadialSmoothness:
    """The three radial smoothness sums S_0, S_1, S_2 and their crad gradients (module docstring).

    Args:
        parameter_map: the potential's :class:`~forcefit.ace.fit_params.ParameterMap`.
        radial_basis: ``(mu_i, mu_j, r) -> (g [len(r), nradbase], dg/dr)``, analytic values.
    """

    def __init__(self, parameter_map, radial_basis: Callable[[int, int, np.ndarray], Tuple[np.ndarray, np.ndarray]]):
        self.map = parameter_map
        self.tables: Dict[Tuple[int, int], tuple] = {}
        for (i, j), sl in parameter_map.crad_full_slices.items():
            bond = parameter_map.skeleton.bonds[(i, j)]
            nradmax, nl, nradbase = parameter_map.bond_shapes[(min(i, j), max(i, j))]
            if nradmax * nl * nradbase == 0:
                self.tables[(i, j)] = None
                continue
            rcut = float(bond.rcut)
            r = np.linspace(GRID_START, rcut - GRID_END_OFFSET, GRID_POINTS)
            g, dg = radial_basis(i, j, r)
            h = SECOND_DERIVATIVE_STEP
            _, dg_plus = radial_basis(i, j, r + h)
            _, dg_minus = radial_basis(i, j, np.maximum(r - h, GRID_START))
            span = (r + h) - np.maximum(r - h, GRID_START)
            d2g = (dg_plus - dg_minus) / span[:, None]
            weight = r**2 * (r[1] - r[0]) / rcut**2
            basis = [np.asarray(a, dtype=float)[:, :nradbase] for a in (g, dg, d2g)]
            for a in basis:
                if not np.all(np.isfinite(a)):
                    raise InputError(f"radial basis of bond {(i, j)} is not finite on [0, rcut]; "
                                     "radial smoothness (w0_rad, w1_rad, w2_rad) cannot be evaluated")
            self.tables[(i, j)] = (sl, (nradmax, nl, nradbase), weight, basis)
        self.nbonds = len(self.tables)

    def terms(self, crad_full: np.ndarray, want_gradient: bool = True):
        """(S (3,), dS/dcrad_full (3, n_crad_full) or None)."""
        values = np.zeros(3)
        grad = np.zeros((3, self.map.n_crad_full)) if want_gradient else None
        for table in self.tables.values():
            if table is None:
                continue
            sl, shape, weight, basis = table
            crad = crad_full[sl].reshape(shape)
            for d in range(3):
                rnl = np.einsum("tk,nlk->tnl", basis[d], crad)
                values[d] += float(np.sum(weight[:, None, None] * np.abs(rnl)))
                if want_gradient:
                    g = np.einsum("t,tnl,tk->nlk", weight, np.sign(rnl), basis[d])
                    grad[d, sl] += g.ravel()
        values /= max(self.nbonds, 1)
        if want_gradient:
            grad /= max(self.nbonds, 1)
        return values, grad


__all__ = ["RadialSmoothness", "coefficient_penalties"]
