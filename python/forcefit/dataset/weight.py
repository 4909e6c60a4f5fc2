"""Weights of a configuration's energy, forces and stress in the loss (KLIFF's weight API).

Design: a ``Weight`` holds four numbers -- ``config_weight`` scales every residual of the
configuration, ``energy_weight``, ``forces_weight`` and ``stress_weight`` scale the residuals of
one property. A weight is *computed* when it is attached to a configuration
(``Configuration(..., weight=w)`` or ``config.weight = w``), which calls ``compute_weight(config)``;
subclasses override that method to derive per-property weights from the reference data, as
``MagnitudeInverseWeight`` does. Because computed weights belong to one configuration, datasets
give every configuration its own shallow copy of the weight object they are handed.

Shapes: ``energy_weight`` and ``stress_weight`` are scalars; ``forces_weight`` is a scalar or, once
computed per atom, an array of shape ``(3N,)`` in the order of ``forces.ravel()`` (KLIFF's layout).
The loss uses them as ``config_weight * property_weight * residual**2`` for each component.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, Optional, Sequence, Union

import numpy as np

from ..errors import InputError

WeightValue = Union[float, np.ndarray]


def _checked_weight(name: str, value: Any) -> WeightValue:
    """Return ``value`` as a float (or float array) after checking it is finite and >= 0."""
    array = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise InputError(f"{name} must be finite and non-negative, got {value!r}")
    return float(array) if array.ndim == 0 else array


class Weight:
    """Uniform weights for one configuration's residuals.

    Args:
        config_weight: multiplies every residual of the configuration (dimensionless).
        energy_weight: weight of the energy residual (1/eV^2 when the loss is in eV^2 units).
        forces_weight: weight of each force component residual.
        stress_weight: weight of each Voigt stress component residual.

    Subclasses override :meth:`compute_weight`, which receives the configuration the weight is
    attached to and may set ``self._energy_weight``, ``self._forces_weight`` (scalar or ``(3N,)``)
    and ``self._stress_weight``.
    """

    def __init__(
        self,
        config_weight: float = 1.0,
        energy_weight: float = 1.0,
        forces_weight: float = 1.0,
        stress_weight: float = 1.0,
    ):
        self._config_weight = _checked_weight("config_weight", config_weight)
        self._energy_weight = _checked_weight("energy_weight", energy_weight)
        self._forces_weight = _checked_weight("forces_weight", forces_weight)
        self._stress_weight = _checked_weight("stress_weight", stress_weight)

    def compute_weight(self, config) -> None:
        """Compute the weights for ``config``; uniform weights need nothing from it."""

    @property
    def config_weight(self) -> float:
        return self._config_weight

    @property
    def energy_weight(self) -> float:
        return self._energy_weight

    @property
    def forces_weight(self) -> WeightValue:
        return self._forces_weight

    @property
    def stress_weight(self) -> float:
        return self._stress_weight

    def is_uniform(self) -> bool:
        """True when every weight is exactly 1 (the default)."""
        values = (self._config_weight, self._energy_weight, self._forces_weight, self._stress_weight)
        return all(np.all(np.asarray(v) == 1.0) for v in values)

    def copy(self) -> "Weight":
        """A shallow copy to attach to another configuration."""
        return copy.copy(self)

    def __repr__(self) -> str:
        def show(value: WeightValue) -> str:
            return f"array(shape={np.shape(value)})" if np.ndim(value) else f"{value:g}"

        return (
            f"{type(self).__name__}(config_weight={show(self._config_weight)}, "
            f"energy_weight={show(self._energy_weight)}, forces_weight={show(self._forces_weight)}, "
            f"stress_weight={show(self._stress_weight)})"
        )


class MagnitudeInverseWeight(Weight):
    r"""Weights inversely proportional to the size of the reference data (Lenosky et al. 1997).

    For each property with magnitude :math:`m` the weight is

    .. math:: w = 1 / \sqrt{c_1^2 + (c_2\, m)^2},

    where :math:`m` is :math:`|E|` for the energy (eV), the norm of each atom's force vector for
    the forces (eV/Å; the atom's weight is repeated for its three components, giving shape
    ``(3N,)``), and the Frobenius norm of the stress tensor,
    :math:`\sqrt{\sigma_{xx}^2+\sigma_{yy}^2+\sigma_{zz}^2 + 2(\sigma_{yz}^2+\sigma_{xz}^2+\sigma_{xy}^2)}`,
    for the stress (eV/Å^3).

    Args:
        config_weight: multiplies every residual of the configuration.
        weight_params: ``{"energy_weight_params": ..., "forces_weight_params": ...,
            "stress_weight_params": ...}``; each value is ``[c1, c2]`` or a single number that
            sets ``c1`` (``c2`` stays at its default). Defaults: ``[1.0, 0.0]`` for every
            property, i.e. uniform weights of 1.
    """

    default_weight_params: Dict[str, Sequence[float]] = {
        "energy_weight_params": (1.0, 0.0),
        "forces_weight_params": (1.0, 0.0),
        "stress_weight_params": (1.0, 0.0),
    }

    def __init__(self, config_weight: float = 1.0, weight_params: Optional[Dict[str, Any]] = None):
        super().__init__(config_weight=config_weight, energy_weight=0.0, forces_weight=0.0, stress_weight=0.0)
        self._weight_params = self._merged_params(weight_params)

    @property
    def weight_params(self) -> Dict[str, tuple]:
        """The ``(c1, c2)`` pair used for each property."""
        return dict(self._weight_params)

    def compute_weight(self, config) -> None:
        if config.has_energy:
            self._energy_weight = self._inverse_magnitude(abs(config.energy), "energy")
        if config.has_forces:
            per_atom = self._inverse_magnitude(np.linalg.norm(config.forces, axis=1), "forces")
            self._forces_weight = np.repeat(per_atom, 3)
        if config.has_stress:
            stress = np.asarray(config.stress)
            norm = np.sqrt(np.sum(stress[:3] ** 2) + 2.0 * np.sum(stress[3:] ** 2))
            self._stress_weight = self._inverse_magnitude(norm, "stress")

    def _inverse_magnitude(self, magnitude, prop: str):
        c1, c2 = self._weight_params[f"{prop}_weight_params"]
        sigma = np.sqrt(c1**2 + (c2 * np.asarray(magnitude, dtype=float)) ** 2)
        if np.any(sigma <= 0.0):
            raise InputError(
                f"MagnitudeInverseWeight: {prop} weight is infinite (c1 = 0 and a zero {prop}); "
                f"give {prop}_weight_params a positive c1"
            )
        weight = 1.0 / sigma
        return float(weight) if np.ndim(weight) == 0 else weight

    @classmethod
    def _merged_params(cls, weight_params: Optional[Dict[str, Any]]) -> Dict[str, tuple]:
        merged = {key: tuple(value) for key, value in cls.default_weight_params.items()}
        for key, value in (weight_params or {}).items():
            if key not in merged:
                raise InputError(
                    f"MagnitudeInverseWeight: unknown key {key!r} in weight_params; "
                    f"expected some of {', '.join(merged)}"
                )
            if np.ndim(value) == 0:
                merged[key] = (float(value), merged[key][1])
            elif np.shape(value) == (2,):
                merged[key] = (float(value[0]), float(value[1]))
            else:
                raise InputError(f"MagnitudeInverseWeight: {key} must be a number c1 or a pair [c1, c2], got {value!r}")
            if not all(np.isfinite(merged[key])) or min(merged[key]) < 0:
                raise InputError(f"MagnitudeInverseWeight: {key} must be finite and non-negative, got {value!r}")
        return merged


__all__ = ["Weight", "MagnitudeInverseWeight"]
