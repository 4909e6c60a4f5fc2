"""Optimizers that scipy does not provide.

    geodesic_lm          geodesic Levenberg-Marquardt (Transtrum & Sethna 2012) for least squares
    geodesic_lm_normal   the same on the normal equations (J^T J, J^T r, J^T u; no m x n Jacobian)
"""

from .geodesic_lm import geodesic_lm
from .geodesic_lm_normal import geodesic_lm_normal

__all__ = ["geodesic_lm", "geodesic_lm_normal"]
