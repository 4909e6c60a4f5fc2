"""Loss functions and their minimization (KLIFF's ``kliff.loss`` interface).

    Loss                       1/2 sum(residual^2) over a Calculator's dataset; minimize(method=...)
    energy_forces_residual, energy_residual, forces_residual   KLIFF's residual functions
"""

from .loss import LEAST_SQUARES_METHODS, SCIPY_MINIMIZE_METHODS, Loss, LossError
from .residuals import energy_forces_residual, energy_residual, forces_residual

__all__ = [
    "Loss",
    "LossError",
    "energy_forces_residual",
    "energy_residual",
    "forces_residual",
    "SCIPY_MINIMIZE_METHODS",
    "LEAST_SQUARES_METHODS",
]
