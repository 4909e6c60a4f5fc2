"""Fisher information of the forces with respect to the optimizing parameters (KLIFF's ``Fisher``).

KLIFF's definition: for each configuration m with forces f_m (3N_m values),
    I_m = (d f_m / d x)^T (d f_m / d x),     I = mean_m I_m,     I_stdev = std_m I_m
with x the optimizer's vector (transformed space when the model has a ``params_transform``).
KLIFF differentiates numerically (Ridders); here d f/d x comes from the kernels' analytic
parameter derivatives chained through ``Model.opt_to_flat`` (KIMModel: finite differences),
from one evaluation of the whole dataset.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Tuple, Union

import numpy as np

logger = logging.getLogger(__name__)


class Fisher:
    """Fisher information matrix of a calculator's dataset.

    Args:
        calculator: a created ``forcefit.calculators.Calculator``.
    """

    def __init__(self, calculator):
        self.calculator = calculator
        self.F = None
        self.F_stdev = None

    def compute(self) -> Tuple[np.ndarray, np.ndarray]:
        """(I [n_opt, n_opt], I_stdev [n_opt, n_opt]) in (eV/Å)^2 per unit of x squared."""
        calc = self.calculator
        refs = calc._require_created()
        res = calc.compute_all(forces=True, param_derivs=True)
        factor = calc.model.opt_to_flat()[1]
        dfdx = res.dforces[:, :, calc.derivative_columns()] * factor   # [N, 3, n_opt]
        per_atom = np.einsum("akp,akq->apq", dfdx, dfdx)            # [N, n_opt, n_opt]
        per_config = np.add.reduceat(per_atom, refs.atom_offset[:-1], axis=0)
        self.F = per_config.mean(axis=0)
        self.F_stdev = per_config.std(axis=0)
        return self.F, self.F_stdev

    def run(self, verbose: int = 1,
            path: Union[str, Path] = "analysis_Fisher_info_matrix.txt") -> Tuple[np.ndarray, np.ndarray]:
        """Compute; with ``verbose > 0`` also write the matrix and its standard deviation, with
        the parameter each row belongs to, to ``path``. Returns (I, I_stdev)."""
        F, stdev = self.compute()
        model = self.calculator.model
        n = F.shape[0]
        header = ["#" * 80, "# Fisher information matrix.", "#",
                  f"# {n} optimizing parameters; rows (columns) in this order:",
                  "# row (column) index   param name    param value    param component index"]
        for i in range(n):
            name, value, _, comp = model.get_opt_param_name_value_and_indices(i)
            header.append(f"{i}    {name}    {value:23.15e}    {comp}")
        header.append("#" * 80)
        logger.info("\n".join(header))
        if verbose > 0:
            lines = header + ["", f"# Fisher information matrix, shape({n}, {n})"]
            lines += [" ".join(f"{v:23.15e}" for v in row) for row in F]
            lines += ["", f"# Standard deviation in Fisher information matrix, shape({n}, {n})"]
            lines += [" ".join(f"{v:23.15e}" for v in row) for row in stdev]
            Path(path).write_text("\n".join(lines) + "\n")
        return F, stdev


__all__ = ["Fisher"]
