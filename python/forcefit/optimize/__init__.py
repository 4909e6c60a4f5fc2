"""Optimizers that scipy does not provide.

    geodesic_lm   geodesic Levenberg-Marquardt (Transtrum & Sethna 2012) for least squares
"""

from .geodesic_lm import geodesic_lm

__all__ = ["geodesic_lm"]
