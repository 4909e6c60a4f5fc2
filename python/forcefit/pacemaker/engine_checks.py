"""Checks that a ``FitEngine`` keeps the contract of ``engine.py``; for engine tests.

``EngineCase`` bundles an engine with a potential, a prepared data set and a loss;
``gradient_error`` compares the engine's gradient with central finite differences of its loss,
``data_terms_error`` compares its energy/force/stress loss terms with ``engine.data_loss``
recomputed from its own predictions. Both return the largest relative deviation, so a test reads
``assert EngineCase(engine, potential, data, handle, loss).gradient_error() < 1e-6``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from .engine import FitData, FitEngine, TrainablePotential, data_loss

TINY = np.finfo(float).tiny


@dataclass
class EngineCase:
    """An engine, the potential and data set (with the engine's ``prepare`` handle) and the
    loss specification (``LossSpec``) at which to check it."""

    engine: FitEngine
    potential: TrainablePotential
    data: FitData
    handle: object
    loss: object

    def _point(self, parameters: Optional[np.ndarray]) -> np.ndarray:
        return self.potential.get_parameters() if parameters is None else np.asarray(parameters, dtype=float)

    def _evaluate(self, x: np.ndarray, gradient: bool):
        return self.engine.evaluate(self.potential, x, self.data, self.handle, self.loss, gradient=gradient)

    def gradient_error(
        self, parameters: Optional[np.ndarray] = None, step: float = 1e-6, indices: Optional[Sequence[int]] = None
    ) -> float:
        """max_k |g_k - (L(x + h e_k) - L(x - h e_k)) / 2h| / max_k |g_k| over ``indices`` (default
        all), at ``parameters`` (default: the potential's)."""
        x = self._point(parameters)
        gradient = self._evaluate(x, True).gradient
        if gradient is None or np.shape(gradient) != x.shape:
            raise ValueError(f"the engine returned a gradient of shape {np.shape(gradient)} for {x.shape} parameters")
        scale = max(float(np.max(np.abs(gradient))), TINY)
        worst = 0.0
        for k in range(len(x)) if indices is None else indices:
            shift = np.zeros_like(x)
            shift[k] = step
            difference = (self._evaluate(x + shift, False).loss - self._evaluate(x - shift, False).loss) / (2 * step)
            worst = max(worst, abs(gradient[k] - difference) / scale)
        return worst

    def data_terms_error(self, parameters: Optional[np.ndarray] = None) -> float:
        """Largest relative deviation of the engine's data terms (and of ``loss`` from
        ``components.total``) from ``data_loss`` of its own predictions."""
        result = self._evaluate(self._point(parameters), False)
        if result.energy.shape != (self.data.n_structures,) or result.forces.shape != self.data.forces.shape:
            raise ValueError(
                f"predictions of shape {result.energy.shape} / {result.forces.shape}, expected "
                f"({self.data.n_structures},) / {self.data.forces.shape}"
            )
        expected = data_loss(result.energy, result.forces, self.data, self.loss, result.stress)
        pairs = [
            (result.components.energy, expected.energy),
            (result.components.forces, expected.forces),
            (result.components.stress, expected.stress),
            (result.loss, result.components.total),
        ]
        return max(abs(got - want) / max(abs(want), TINY) for got, want in pairs)


__all__ = ["EngineCase"]
