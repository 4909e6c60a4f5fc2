"""``Model``: base class of physics-based potentials (KLIFF's names and behaviour).

A subclass supplies four hooks:
    ``init_model_params() -> {name: Parameter}``   parameters in the model's own units;
    ``init_influence_distance() -> float``          cutoff of the neighbor lists, Å;
    ``init_supported_species() -> {symbol: int}``   species and their integer codes;
    ``compute_batch(batch, energy=True, forces=True, stress=False, param_derivs=False)``
        energies/forces/stress (and derivatives with respect to every model parameter) for a
        ``forcefit.models.batch.NeighborBatch``; see PHYSICS_CONTRACT / ``BatchResult``.
and may override ``create_batch(configs)`` (default: one NeighborBatch over all configurations).

Two parameter spaces (KLIFF's convention):
    ``model_params``              original space, what the kernels use;
    ``model_params_transformed``  the optimizer's space (the same objects when there is no
                                  ``params_transform``). ``opt_params`` (OptimizingParameters)
                                  lives here; ``set_opt_params`` values and bounds are in this space.

After every change in the transformed space the original space is rebuilt by the inverse
transform. ``dflat_dopt()`` gives the chain-rule matrix d(flat original parameters)/d(optimizer
vector) that turns the kernels' ``param_derivs`` into gradients for the optimizer.

Saved models are plain YAML (no Python tags): class name, model name, transform, every parameter
(value, fixed flags, bounds, in the transformed space) and the names being optimized.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, TextIO, Tuple, Union

import numpy as np
import yaml

from ..atomic import write_text_atomically
from ..errors import FileFormatError, InputError
from .parameter import Bound, OptimizingParameters, Parameter, ParameterError
from .transform import ParameterTransform


class Model:
    """Base class of physics-based models.

    Args:
        model_name: name of the model (shown by ``echo_model_params``, stored by ``save``).
        params_transform: optional ``ParameterTransform`` (e.g. ``LogParameterTransform``); the
            optimizer then works in the transformed space.
    """

    def __init__(self, model_name: Optional[str] = None,
                 params_transform: Optional[ParameterTransform] = None):
        self.model_name = model_name.rstrip("/") if model_name else model_name
        self.params_transform = params_transform

        params = self.init_model_params()
        if not isinstance(params, dict) or not all(isinstance(p, Parameter) for p in params.values()):
            raise TypeError(f"{type(self).__name__}.init_model_params must return a dict of Parameter")
        for i, (name, p) in enumerate(params.items()):
            p.name = name
            p.index = i
        self.model_params: Dict[str, Parameter] = params
        if params_transform is not None:
            self.model_params_transformed = params_transform.transform({k: p.copy() for k, p in params.items()})
        else:
            self.model_params_transformed = params
        self.opt_params = OptimizingParameters(self.model_params_transformed)
        self.influence_distance = self.init_influence_distance()
        self.supported_species = self.init_supported_species()

    # -- hooks for subclasses ----------------------------------------------------------------
    def init_model_params(self) -> Dict[str, Parameter]:
        """Return ``{name: Parameter}``, all parameters of the model in its own units."""
        raise NotImplementedError(f"{type(self).__name__} does not implement init_model_params")

    def init_influence_distance(self) -> float:
        """Return the neighbor-list cutoff, Å."""
        raise NotImplementedError(f"{type(self).__name__} does not implement init_influence_distance")

    def init_supported_species(self) -> Dict[str, int]:
        """Return ``{chemical symbol: integer code}``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement init_supported_species")

    def create_batch(self, configs: Sequence[Any]):
        """Prepare the per-dataset data ``compute_batch`` needs: by default one
        ``forcefit.models.batch.NeighborBatch`` over all ``configs`` with this model's species map
        and influence distance. Models that build their own neighbor data (KIM) override it."""
        from .batch import NeighborBatch  # the kernels' module; imported when first needed

        return NeighborBatch.from_configs(list(configs), self.get_supported_species(),
                                          float(self.get_influence_distance()))

    def compute_batch(self, batch, energy: bool = True, forces: bool = True, stress: bool = False,
                      param_derivs: bool = False):
        """Compute a ``BatchResult`` for a ``NeighborBatch`` with the current ``model_params``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement compute_batch")

    def write_kim_model(self, path: Optional[Union[str, Path]] = None):
        raise NotImplementedError(f"{type(self).__name__} cannot be written as a KIM model")

    # -- model parameters ----------------------------------------------------------------------
    def get_influence_distance(self) -> float:
        return self.influence_distance

    def get_supported_species(self) -> Dict[str, int]:
        return self.supported_species

    def get_model_params(self) -> Dict[str, Parameter]:
        """All parameters in the original space."""
        return self.model_params

    def get_model_params_flat(self) -> np.ndarray:
        """Every parameter value (original space) concatenated in ``model_params`` order, float64 [P]."""
        if not self.model_params:
            return np.zeros(0)
        return np.concatenate([p.value for p in self.model_params.values()]).astype(np.float64, copy=False)

    def get_model_params_sizes(self) -> List[int]:
        return [len(p) for p in self.model_params.values()]

    def echo_model_params(self, filename: Union[str, Path, TextIO, None] = sys.stdout,
                          params_space: str = "original") -> str:
        """Text listing every parameter (name, value, size); written to ``filename`` (path or
        stream; ``None`` = only return it). ``params_space``: ``"original"`` or ``"transformed"``."""
        if params_space == "original":
            params = self.model_params
        elif params_space == "transformed":
            if self.params_transform is None:
                raise InputError("params_space='transformed' needs a model created with params_transform")
            params = self.model_params_transformed
        else:
            raise InputError(f"params_space must be 'original' or 'transformed', got {params_space!r}")
        name = self.model_name or type(self).__name__
        s = "#" + "=" * 80 + "\n# Available parameters to optimize.\n"
        s += f"# Parameters in `{params_space}` space.\n# Model: {name}\n" + "#" + "=" * 80 + "\n\n"
        for pname, p in params.items():
            s += f"name: {pname}\nvalue: {np.array2string(p.value, precision=8)}\nsize: {len(p)}\n"
            if p.description:
                s += f"description: {p.description}\n"
            s += "\n"
        if filename is not None:
            if isinstance(filename, (str, Path)):
                write_text_atomically(filename, s)
            else:
                print(s, file=filename)
        return s

    # -- optimizing parameters -----------------------------------------------------------------
    def read_opt_params(self, filename: Union[str, Path]) -> None:
        """Read optimizing-parameter settings from KLIFF's text format (see
        ``OptimizingParameters.read``); values and bounds in the transformed space."""
        self.opt_params.read(filename)
        self._after_opt_params_changed()

    def set_opt_params(self, **kwargs: List[List[Any]]) -> None:
        """Choose parameters to optimize: ``set_opt_params(A=[[5.0, 1.0, 20.0]], B=[["default"]],
        sigma=[[2.0951, "fix"]])``. Each list holds one row per component: ``[value]``,
        ``[value, "fix"]`` or ``[value, lower, upper]`` (``"default"`` keeps the current value,
        ``"inf"``/None = unbounded). Values and bounds are in the transformed space."""
        self.opt_params.set(**kwargs)
        self._after_opt_params_changed()

    def set_one_opt_param(self, name: str, settings: List[List[Any]]) -> None:
        """Like ``set_opt_params`` for one parameter."""
        self.opt_params.set_one(name, settings)
        self._after_opt_params_changed()

    def echo_opt_params(self, filename: Union[str, Path, TextIO, None] = sys.stdout) -> str:
        """The optimizing parameters (transformed space) in KLIFF's text format."""
        return self.opt_params.echo_opt_params(filename)

    def get_num_opt_params(self) -> int:
        return self.opt_params.get_num_opt_params()

    def get_opt_params(self) -> np.ndarray:
        """The optimizer's vector (transformed space), float64 [n_opt]."""
        return self.opt_params.get_opt_params()

    def update_model_params(self, params: Sequence[float]) -> None:
        """Take the optimizer's vector (transformed space) and update the model parameters."""
        self.opt_params.update_opt_params(params)
        self._sync_original_space()

    def get_opt_param_name_value_and_indices(self, index: int) -> Tuple[str, float, int, int]:
        return self.opt_params.get_opt_param_name_value_and_indices(index)

    def get_opt_params_bounds(self) -> List[List[Bound]]:
        """``[[lower, upper], ...]`` per optimizing component, ``None`` = unbounded (transformed space)."""
        return self.opt_params.get_opt_params_bounds()

    def has_opt_params_bounds(self) -> bool:
        return self.opt_params.has_opt_params_bounds()

    def opt_to_flat(self) -> Tuple[np.ndarray, np.ndarray]:
        """Where each optimizer component lives in the flat model vector, and its chain factor.

        Returns ``(flat_index int64 [n_opt], factor float64 [n_opt])``: component k of the
        optimizer's vector x moves ``theta_flat[flat_index[k]]`` (``get_model_params_flat()``,
        original space) with d theta/d x_k = ``factor[k]`` (1 without a transform).
        """
        slots = self.opt_params.opt_slots()
        if self.params_transform is None:
            factor = np.ones(len(slots))
        else:
            scale = self.params_transform.inverse_transform_derivative(self.model_params_transformed)
            factor = np.array([scale[s.name][s.component] for s in slots], dtype=np.float64)
        return np.array([s.flat for s in slots], dtype=np.int64), factor

    def dflat_dopt(self) -> np.ndarray:
        """Chain-rule matrix d(theta_flat)/d(x), float64 [P, n_opt] (the dense form of
        ``opt_to_flat``: one nonzero per column)."""
        index, factor = self.opt_to_flat()
        m = np.zeros((sum(self.get_model_params_sizes()), len(index)))
        m[index, np.arange(len(index))] = factor
        return m

    def _sync_original_space(self) -> None:
        if self.params_transform is not None:
            copies = {k: p.copy() for k, p in self.model_params_transformed.items()}
            self.model_params = self.params_transform.inverse_transform(copies)

    def _after_opt_params_changed(self) -> None:
        self._sync_original_space()
        # The cutoff may depend on parameters (it is fixed during a fit; see OptimizingParameters).
        self.influence_distance = self.init_influence_distance()

    # -- save / load ---------------------------------------------------------------------------
    def save(self, filename: Union[str, Path] = "trained_model.yaml") -> None:
        """Write the model's parameters and optimizing settings to plain YAML (atomically)."""
        d = {
            "model": type(self).__name__,
            "model_name": self.model_name,
            "params_transform": None if self.params_transform is None else self.params_transform.as_dict(),
            "params_space": "original" if self.params_transform is None else "transformed",
        }
        d.update(self.opt_params.as_dict())
        write_text_atomically(filename, yaml.safe_dump(d, sort_keys=False))

    def load(self, filename: Union[str, Path] = "trained_model.yaml") -> None:
        """Restore parameters and optimizing settings written by ``save``."""
        path = Path(filename)
        try:
            d = yaml.safe_load(path.read_text())
        except OSError as err:
            raise InputError(f"cannot read model file: {err.strerror}", path=path) from err
        except yaml.YAMLError as err:
            raise FileFormatError(f"not valid YAML: {err}", path=path) from err
        if not isinstance(d, dict) or "model_params" not in d:
            raise FileFormatError("not a forcefit model file (no `model_params` key)", path=path)
        if d.get("model") not in (None, type(self).__name__):
            raise InputError(f"file holds a {d['model']} model, this is a {type(self).__name__}", path=path)
        mine = None if self.params_transform is None else self.params_transform.as_dict()
        if d.get("params_transform") != mine:
            raise InputError(
                f"file was saved with params_transform {d.get('params_transform')}, this model has {mine}",
                path=path)
        try:
            self.opt_params.load_dict(d)
        except ParameterError as err:
            raise InputError(err.problem, path=path) from err
        self._after_opt_params_changed()


__all__ = ["Model"]
