"""Analyses of a fitted model on a dataset (KLIFF's ``kliff.analyzers``).

    EnergyForcesRMSE   KLIFF's energy and force error norms and RMSEs, plus per-component RMSEs
    Fisher             Fisher information of the forces with respect to the optimizing parameters
"""

from .energy_forces_rmse import EnergyForcesRMSE
from .fisher import Fisher

__all__ = ["EnergyForcesRMSE", "Fisher"]
