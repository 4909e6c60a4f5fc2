"""``KernelModel``: the part shared by the models whose kernels live in forcefit's C++ core
(LennardJones, StillingerWeber, EDIP).

A subclass names its compiled kernel and its default parameter values; this class turns user
overrides into ``Parameter`` objects in the kernel's flat layout (per-species-pair parameters in
KIM/KLIFF upper-triangle order: for species [s0, s1, ...] the pairs (s0,s0), (s0,s1), ...,
(s1,s1), ...), checks them, and evaluates ``compute_batch`` through the kernel.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import InputError
from .batch import BatchResult, LossEvaluation, LossResiduals, NeighborBatch, run_kernel, run_loss_gradient
from .model import Model
from .parameter import Parameter
from .transform import ParameterTransform


def species_pairs(species: Sequence[str]) -> List[Tuple[str, str]]:
    """Unordered species pairs in KIM's upper-triangle order."""
    return [(species[a], species[b]) for a in range(len(species)) for b in range(a, len(species))]


class KernelModel(Model):
    """Base of the C++-kernel models.

    Subclasses set ``_kernel`` (a ``forcefit._core`` kernel) and implement
    ``_default_values() -> {name: np.ndarray}`` (every block of ``_kernel.parameter_blocks()``)
    and ``_descriptions() -> {name: str}`` before calling ``KernelModel.__init__``.

    Args:
        species: chemical symbols, in the order of the species codes.
        overrides: ``{name: value}``; a scalar is broadcast to every species pair.
    """

    def __init__(self, species: Sequence[str], overrides: Dict[str, Any], model_name: Optional[str],
                 params_transform: Optional[ParameterTransform]):
        species = [str(s) for s in species]
        if not species:
            raise InputError(f"{type(self).__name__} needs at least one species")
        if len(set(species)) != len(species):
            raise InputError(f"species must be distinct, got {species}")
        self.species = species
        blocks = self._kernel.parameter_blocks()
        values = {name: np.array(v, dtype=np.float64) for name, v in self._default_values().items()}
        for name, v in overrides.items():
            if v is None:
                continue
            size = dict(blocks).get(name)
            if size is None:
                raise InputError(f"{type(self).__name__} has no parameter {name!r} "
                                 f"(parameters: {[b[0] for b in blocks]})")
            arr = np.array(v, dtype=np.float64).reshape(-1)
            if arr.size == 1:
                arr = np.full(size, arr[0])
            if arr.size != size:
                raise InputError(f"parameter {name!r} needs {size} values (one per species pair "
                                 f"{species_pairs(species)}), got {arr.size}")
            values[name] = arr
        self._initial = values
        flat = np.concatenate([values[name] for name, _ in blocks])
        self._check(flat)
        super().__init__(model_name=model_name, params_transform=params_transform)

    # -- Model hooks ------------------------------------------------------------------------
    def init_model_params(self) -> Dict[str, Parameter]:
        descriptions = self._descriptions()
        return {name: Parameter(self._initial[name].copy(), description=descriptions.get(name))
                for name, _ in self._kernel.parameter_blocks()}

    def init_influence_distance(self) -> float:
        return float(self._kernel.influence_distance(self.get_model_params_flat()))

    def init_supported_species(self) -> Dict[str, int]:
        return {s: k for k, s in enumerate(self.species)}

    def compute_batch(self, batch: NeighborBatch, energy: bool = True, forces: bool = True,
                      stress: bool = False, param_derivs: bool = False,
                      param_indices: Optional[Sequence[int]] = None) -> BatchResult:
        """Energies, forces, stress and (``param_derivs``) their derivatives with respect to every
        model parameter for a ``NeighborBatch`` built with this model's species codes. See
        ``BatchResult`` for shapes and units.

        ``param_indices``: optional flat parameter indices (``get_model_params_flat`` order); the
        derivative arrays then hold only those columns, in that order, and the kernels skip the
        work for the others (a fit passes its free parameters)."""
        return run_kernel(self._kernel, batch, self.get_model_params_flat(), energy=energy,
                          forces=forces, stress=stress, param_derivs=param_derivs,
                          param_indices=param_indices)

    def compute_loss_gradient(self, batch: NeighborBatch, residuals: LossResiduals,
                              param_indices: Optional[Sequence[int]] = None, rows: bool = False,
                              jacobian: bool = False) -> LossEvaluation:
        """Least-squares loss of ``residuals`` and its gradient with respect to the flat
        parameters ``param_indices`` (default all; empty = loss only) in one kernel pass, without
        storing the derivative arrays; with ``rows``/``jacobian`` also the residual vector and its
        Jacobian. See ``forcefit.models.batch.run_loss_gradient``."""
        return run_loss_gradient(self._kernel, batch, self.get_model_params_flat(), residuals, param_indices,
                                 rows=rows, jacobian=jacobian)

    # -- helpers ----------------------------------------------------------------------------
    def _check(self, flat: np.ndarray) -> None:
        # The kernel validates parameter values; run it on an empty batch.
        self._kernel.compute(np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(1, np.int64),
                             np.zeros(0, np.int32), np.zeros((0, 3)), np.zeros(0), 0.0, flat)

    def species_pairs(self) -> List[Tuple[str, str]]:
        """Species pairs in the order of the per-pair parameter components."""
        return species_pairs(self.species)

    def param_values(self) -> Dict[str, np.ndarray]:
        """Current values (original space), ``{name: float64 array}``."""
        return {name: p.value.copy() for name, p in self.model_params.items()}


__all__ = ["KernelModel", "species_pairs"]
