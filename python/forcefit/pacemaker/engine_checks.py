"""Checks that a ``FitEngine`` keeps the contract of ``engine.py``; for engine tests.

``gradient_error`` compares an engine's gradient with central finite differences of its loss;
``data_terms_error`` compares its energy and force loss terms with ``engine.data_loss`` recomputed
from its own predictions. Both return the largest relative deviation, so a test reads
``assert gradient_error(...) < 1e-6``.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .engine import FitData, FitEngine, TrainablePotential, data_loss


def gradient_error(engine: FitEngine, potential: TrainablePotential, data: FitData, handle, loss,
                   parameters: Optional[np.ndarray] = None, step: float = 1e-6,
                   indices: Optional[Sequence[int]] = None) -> float:
    """max_k |g_k - (L(x + h e_k) - L(x - h e_k)) / 2h| / max(|g|_inf, tiny), over ``indices``
    (default: every parameter)."""
    x = potential.get_parameters() if parameters is None else np.asarray(parameters, dtype=float)
    gradient = engine.evaluate(potential, x, data, handle, loss, gradient=True).gradient
    if gradient is None or np.shape(gradient) != x.shape:
        raise ValueError(f"the engine returned a gradient of shape {np.shape(gradient)} for {x.shape} parameters")
    worst = 0.0
    scale = max(float(np.max(np.abs(gradient))), np.finfo(float).tiny)
    for k in range(len(x)) if indices is None else indices:
        shift = np.zeros_like(x)
        shift[k] = step
        plus = engine.evaluate(potential, x + shift, data, handle, loss, gradient=False).loss
        minus = engine.evaluate(potential, x - shift, data, handle, loss, gradient=False).loss
        worst = max(worst, abs(gradient[k] - (plus - minus) / (2 * step)) / scale)
    return worst


def data_terms_error(engine: FitEngine, potential: TrainablePotential, data: FitData, handle, loss,
                     parameters: Optional[np.ndarray] = None) -> float:
    """Relative deviation of the engine's energy/force terms from ``data_loss`` of its predictions."""
    x = potential.get_parameters() if parameters is None else np.asarray(parameters, dtype=float)
    result = engine.evaluate(potential, x, data, handle, loss, gradient=False)
    if result.energy.shape != (data.n_structures,) or result.forces.shape != data.forces.shape:
        raise ValueError(f"predictions of shape {result.energy.shape} / {result.forces.shape}, expected "
                         f"({data.n_structures},) / {data.forces.shape}")
    expected = data_loss(result.energy, result.forces, data, loss, result.stress)
    worst = 0.0
    for got, want in ((result.components.energy, expected.energy), (result.components.forces, expected.forces),
                      (result.components.stress, expected.stress)):
        worst = max(worst, abs(got - want) / max(abs(want), np.finfo(float).tiny))
    total = result.components.total
    return max(worst, abs(result.loss - total) / max(abs(total), np.finfo(float).tiny))


__all__ = ["data_terms_error", "gradient_error"]
