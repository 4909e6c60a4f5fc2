"""``Calculator``: runs a model on a dataset (KLIFF's names and behaviour, one batch underneath).

KLIFF keeps one "compute arguments" object per configuration and calls the model configuration by
configuration. Here ``create`` prepares ONE batch for all configurations (``model.create_batch``:
a NeighborBatch for built-in models) plus flat reference arrays (``ReferenceData``); every
evaluation is one ``model.compute_batch`` call over the whole dataset. The KLIFF per-configuration
interface is kept on top: ``create`` returns one ``ComputeArguments`` per configuration, and
``compute(ca)``, ``get_energy(ca)``, ``get_forces(ca)``, ``get_prediction(ca)`` ... read that
configuration's slice of the batch result. Results are cached per parameter vector, so looping
over all configurations costs one batch evaluation.

Prediction/reference layout per configuration (KLIFF): ``[energy, forces (3n, atom-major),
stress (6, Voigt xx yy zz yz xz xy)]`` with the parts not requested left out. Units: eV, eV/Å,
eV/Å^3 (ASE sign convention: tensile positive).
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

from ..errors import InputError
from .references import ReferenceData, check_species, gather_references

logger = logging.getLogger(__name__)


class ComputeArguments:
    """One configuration inside a Calculator (what KLIFF scripts get from ``create``).

    Attributes:
        conf: the configuration. index: its position in the dataset.
        compute_energy, compute_forces, compute_stress: what is fitted for it.
        results: ``{"energy", "forces", "stress"}`` after ``compute``.
    """

    def __init__(self, calculator: "Calculator", index: int, conf: Any,
                 compute_energy: bool, compute_forces: bool, compute_stress: bool):
        self._calculator = calculator
        self.index = index
        self.conf = conf
        self.compute_energy = bool(compute_energy)
        self.compute_forces = bool(compute_forces)
        self.compute_stress = bool(compute_stress)
        self.results: Dict[str, Any] = {"energy": None, "forces": None, "stress": None}

    def compute(self, params: Any = None) -> Dict[str, Any]:
        """Compute with the model's current parameters (``params`` is accepted for KLIFF
        compatibility and ignored: the model holds its parameters)."""
        return self._calculator.compute(self)

    def get_energy(self) -> float:
        return self.results["energy"]

    def get_forces(self) -> np.ndarray:
        return self.results["forces"]

    def get_stress(self) -> np.ndarray:
        return self.results["stress"]

    def get_prediction(self) -> np.ndarray:
        return self._calculator.get_prediction(self)

    def get_reference(self) -> np.ndarray:
        return self._calculator.get_reference(self)


class Calculator:
    """Compute energies, forces and stress of a dataset with a model.

    Args:
        model: a ``forcefit.models.Model`` (built-in or ``KIMModel``).
    """

    def __init__(self, model):
        self.model = model
        self.compute_arguments: Optional[List[ComputeArguments]] = None
        self.configs: List[Any] = []
        self.batch = None
        self.refs: Optional[ReferenceData] = None
        self.use_energy: Any = True
        self.use_forces: Any = True
        self.use_stress: Any = False
        self._cache_key = None
        self._cache = None
        self._batch_cutoff = np.inf

    # -- setup -----------------------------------------------------------------------------
    def create(self, configs: Union[Any, Sequence[Any]], use_energy: Union[bool, Sequence[bool]] = True,
               use_forces: Union[bool, Sequence[bool]] = True,
               use_stress: Union[bool, Sequence[bool]] = False) -> List[ComputeArguments]:
        """Prepare the batch and reference data for ``configs``.

        Args:
            configs: configurations (``forcefit.dataset.Configuration`` or any object with
                KLIFF's attribute names) or a single one.
            use_energy, use_forces, use_stress: fit these properties; a bool for all
                configurations or a list with one bool per configuration.

        Returns:
            one ``ComputeArguments`` per configuration.

        Raises:
            DatasetError: a species the model does not support, or a requested property missing.
        """
        if hasattr(configs, "species") or hasattr(configs, "get_chemical_symbols"):
            configs = [configs]
        configs = list(configs)
        self.use_energy, self.use_forces, self.use_stress = use_energy, use_forces, use_stress
        check_species(configs, self.model.get_supported_species())
        refs = gather_references(configs, use_energy, use_forces, use_stress)
        self.batch = self.model.create_batch(configs)
        self._batch_cutoff = float(self.model.get_influence_distance())
        self.configs = configs
        self.refs = refs
        self._cache_key = None
        self._cache = None
        self.compute_arguments = [
            ComputeArguments(self, i, conf, refs.use_energy[i], refs.use_forces[i], refs.use_stress[i])
            for i, conf in enumerate(configs)
        ]
        logger.info("Calculator created for %d configurations (%d atoms).", len(configs), int(refs.natoms.sum()))
        return self.compute_arguments

    def _require_created(self) -> ReferenceData:
        if self.refs is None:
            raise InputError("Calculator.create(configs) must be called first")
        return self.refs

    def get_compute_arguments(self) -> List[ComputeArguments]:
        self._require_created()
        return self.compute_arguments

    # -- batch evaluation ------------------------------------------------------------------
    def compute_all(self, forces: Optional[bool] = None, stress: Optional[bool] = None,
                    param_derivs: bool = False):
        """Evaluate the model on every configuration with its current parameters.

        ``forces``/``stress``: compute them (default: when some configuration fits them).
        Returns the model's ``BatchResult`` (energy [C], forces [N,3], stress [C,6] and, with
        ``param_derivs``, denergy [C,K], dforces [N,3,K], dstress [C,6,K]): K = every model
        parameter, or only the optimized components when the model accepts ``param_indices``;
        ``derivative_columns()`` says which. Cached: calling again with the same parameters
        (and optimized selection) returns the same object.
        """
        refs = self._require_created()
        self._check_cutoff()
        want_f = bool(refs.use_forces.any()) if forces is None else bool(forces)
        want_s = bool(refs.use_stress.any()) if stress is None else bool(stress)
        params = self.model.get_model_params_flat()
        opt_index = self.model.opt_to_flat()[0] if param_derivs else None
        if self._cache is not None:
            key_params, has_f, has_s, has_d, columns = self._cache_key
            if (np.array_equal(key_params, params) and (has_f or not want_f) and (has_s or not want_s)
                    and (has_d or not param_derivs)
                    and (not param_derivs or columns is None or np.array_equal(columns, opt_index))):
                return self._cache
        columns = None
        kwargs = {}
        if param_derivs and self._model_selects_columns():
            # only the optimized components' derivative columns, in the optimizer's order
            columns = opt_index
            kwargs["param_indices"] = columns
        result = self.model.compute_batch(self.batch, energy=True, forces=want_f, stress=want_s,
                                          param_derivs=param_derivs, **kwargs)
        self._cache_key = (params.copy(), want_f, want_s, param_derivs, columns)
        self._cache = result
        return result

    def supports_loss_gradient(self) -> bool:
        """True when the model computes least-squares losses and gradients in one pass
        (``compute_loss_gradient``; the built-in C++ models)."""
        return self.batch is not None and hasattr(self.model, "compute_loss_gradient")

    def compute_loss_gradient(self, residuals, gradient: bool = True, rows: bool = False, jacobian: bool = False):
        """Loss 1/2 sum(residual^2) of ``residuals`` (a ``forcefit.models.batch.LossResiduals``
        in this calculator's batch layout) with the model's current parameters and, with
        ``gradient`` (or ``jacobian``), its derivative with respect to the optimized components,
        before the transform's chain factor (in the optimizer's order); ``rows``/``jacobian``:
        also the residual vector and its Jacobian. Returns the model's ``LossEvaluation``, whose
        arrays (but the gradient) are buffers that the next call reuses. Not cached and not stored
        as ``compute_all``'s result."""
        self._require_created()
        self._check_cutoff()
        derivs = gradient or jacobian
        columns = self.model.opt_to_flat()[0] if derivs else np.zeros(0, dtype=np.int64)
        return self.model.compute_loss_gradient(self.batch, residuals, param_indices=columns, rows=rows,
                                                jacobian=jacobian)

    def _check_cutoff(self) -> None:
        # The neighbor data were built once, at the influence distance of create(); a larger
        # one now (a cutoff parameter changed) would silently miss pairs.
        current = float(self.model.init_influence_distance())
        if current > self._batch_cutoff * (1.0 + 1e-12):
            raise InputError(
                f"the model's influence distance grew from {self._batch_cutoff} Å (when "
                f"Calculator.create built the neighbor lists) to {current} Å: a cutoff parameter "
                "changed. Keep cutoffs fixed during a fit, or call create(configs) again.")

    def _model_selects_columns(self) -> bool:
        try:
            return "param_indices" in inspect.signature(self.model.compute_batch).parameters
        except (TypeError, ValueError):
            return False

    def derivative_columns(self) -> np.ndarray:
        """Positions, in the derivative arrays of the last ``compute_all(param_derivs=True)``
        result, of the optimizer's components (in the optimizer's order): the flat parameter
        indices when the model returned every column, 0..n_opt-1 when it returned only those."""
        columns = self._cache_key[4] if self._cache_key is not None else None
        if columns is None:
            return self.model.opt_to_flat()[0]
        return np.arange(len(columns))

    # -- KLIFF per-configuration interface -------------------------------------------------
    def compute(self, compute_arguments: ComputeArguments) -> Dict[str, Any]:
        """Fill and return ``compute_arguments.results`` (energy, forces, stress) for its
        configuration (one batch evaluation serves every configuration)."""
        refs = self._require_created()
        ca = compute_arguments
        res = self.compute_all(forces=True if ca.compute_forces else None,
                               stress=True if ca.compute_stress else None)
        i = ca.index
        lo, hi = refs.atom_offset[i], refs.atom_offset[i + 1]
        ca.results["energy"] = float(res.energy[i])
        forces = getattr(res, "forces", None)
        ca.results["forces"] = None if forces is None else np.array(forces[lo:hi])
        stress_arr = getattr(res, "stress", None)
        ca.results["stress"] = None if stress_arr is None or not ca.compute_stress else np.array(stress_arr[i])
        return ca.results

    def get_energy(self, compute_arguments: ComputeArguments) -> float:
        """Energy of the configuration, eV."""
        return self.compute(compute_arguments)["energy"]

    def get_forces(self, compute_arguments: ComputeArguments) -> np.ndarray:
        """Forces on the configuration's atoms, [n, 3] eV/Å."""
        refs = self._require_created()
        i = compute_arguments.index
        return np.array(self.compute_all(forces=True).forces[refs.atom_offset[i]:refs.atom_offset[i + 1]])

    def get_stress(self, compute_arguments: ComputeArguments) -> np.ndarray:
        """Stress of the configuration, [6] eV/Å^3, Voigt xx yy zz yz xz xy, tensile positive."""
        return np.array(self.compute_all(stress=True).stress[compute_arguments.index])

    def get_prediction(self, compute_arguments: ComputeArguments) -> np.ndarray:
        """``[energy, forces (3n), stress (6)]`` of the configuration, parts not fitted left out."""
        ca = compute_arguments
        self.compute(ca)
        parts = []
        if ca.compute_energy:
            parts.append([ca.results["energy"]])
        if ca.compute_forces:
            parts.append(ca.results["forces"].reshape(-1))
        if ca.compute_stress:
            parts.append(ca.results["stress"].reshape(-1))
        return np.concatenate(parts) if parts else np.zeros(0)

    def get_reference(self, compute_arguments: ComputeArguments) -> np.ndarray:
        """Reference values in the layout of ``get_prediction``."""
        refs = self._require_created()
        ca = compute_arguments
        i = ca.index
        parts = []
        if ca.compute_energy:
            parts.append([refs.energy[i]])
        if ca.compute_forces:
            parts.append(refs.forces[refs.atom_offset[i]:refs.atom_offset[i + 1]].reshape(-1))
        if ca.compute_stress:
            parts.append(refs.stress[i])
        return np.concatenate(parts) if parts else np.zeros(0)

    # -- parameters ------------------------------------------------------------------------
    def get_opt_params(self) -> np.ndarray:
        """Start vector for an optimizer (transformed space)."""
        return self.model.get_opt_params()

    def get_num_opt_params(self) -> int:
        return self.model.get_num_opt_params()

    def has_opt_params_bounds(self) -> bool:
        return self.model.has_opt_params_bounds()

    def get_opt_params_bounds(self):
        return self.model.get_opt_params_bounds()

    def update_model_params(self, opt_params: Sequence[float]) -> None:
        """Give the model new optimizing-parameter values (transformed space)."""
        self.model.update_model_params(opt_params)


__all__ = ["Calculator", "ComputeArguments"]
