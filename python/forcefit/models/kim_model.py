"""``KIMModel``: fit any installed KIM portable model that exposes mutable parameters (through kimpy).

Needs the optional extra ``forcefit[kim]``: the KIM API (``apt-get install libkim-api-dev
openkim-models``) and ``pip install kimpy``. Without kimpy, creating a KIMModel raises
``forcefit.errors.NotCompiledError`` saying so; importing this module never fails.

Design:
    * Parameters are read from the KIM model (``get_parameter_metadata`` / ``get_parameter_*``)
      into ``Parameter`` objects with the KIM names and descriptions, in KIM's order.
    * ``create_batch`` builds, per configuration, a KIM compute-arguments object, padding atoms
      for periodic cells (``kimpy.neighlist.create_paddings``) and a kimpy neighbor list, with
      energy and force arrays registered once.
    * ``compute_batch`` pushes changed parameter values into the KIM model
      (``set_parameter`` + ``clear_then_refresh``), then calls the model configuration by
      configuration. Forces on padding atoms are folded back to the atoms they image.
      Stress (eV/Å^3, Voigt xx yy zz yz xz xy, tensile positive) is -(1/V) Σ r ⊗ f over every
      particle including paddings (the strain derivative of the energy); NaN for non-periodic cells.
    * Parameter derivatives are central finite differences (relative step 1e-6) with respect to
      the components currently being optimized, two extra model evaluations each; the columns of
      the other components are zero. KIM models do not provide analytic parameter derivatives.

Integer KIM parameters are stored as floats; values written back are rounded to integers.
``write_kim_model`` writes the fitted model with the KIM API's WriteParameterizedModel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

from ..errors import InputError, NotCompiledError
from .model import Model
from .parameter import Parameter
from .transform import ParameterTransform

logger = logging.getLogger(__name__)

_VOIGT = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]


def _import_kimpy():
    try:
        import kimpy  # noqa: F401
        from kimpy import neighlist  # noqa: F401
    except ImportError as err:
        raise NotCompiledError(
            "KIMModel needs kimpy and the KIM API: install the extra `forcefit[kim]` "
            "(apt-get install libkim-api-dev openkim-models; pip install kimpy)") from err
    return kimpy


@dataclass(frozen=True)
class KIMBatchResult:
    """Same fields as the kernels' BatchResult (see ``forcefit.models.batch``)."""

    energy: np.ndarray
    forces: Optional[np.ndarray]
    stress: Optional[np.ndarray]
    denergy: Optional[np.ndarray] = None
    dforces: Optional[np.ndarray] = None
    dstress: Optional[np.ndarray] = None


class _KIMConfig:
    """One configuration registered with the KIM model: padding atoms, neighbor list, arrays."""

    def __init__(self, kimpy, kim_model, conf: Any, species_map: Dict[str, int], influence: float,
                 cutoffs: np.ndarray):
        from kimpy import neighlist

        cell = np.ascontiguousarray(conf.cell, dtype=np.double)
        pbc = np.asarray(conf.PBC, dtype=np.intc)
        coords = np.ascontiguousarray(conf.coords, dtype=np.double)
        codes = np.array([species_map[s] for s in conf.species], dtype=np.intc)
        self.n_contributing = len(codes)
        self.volume = abs(float(np.linalg.det(cell))) if np.all(pbc) else 0.0
        if pbc.any():
            pad_coords, pad_codes, pad_image = neighlist.create_paddings(influence, cell, pbc, coords, codes)
            self.padding_image_of = np.asarray(pad_image, dtype=np.int64)
            self.coords = np.ascontiguousarray(np.concatenate([coords, pad_coords]), dtype=np.double)
            self.codes = np.ascontiguousarray(np.concatenate([codes, pad_codes]), dtype=np.intc)
        else:
            self.padding_image_of = np.zeros(0, dtype=np.int64)
            self.coords, self.codes = coords, codes
        n = len(self.codes)
        self.num_particles = np.array([n], dtype=np.intc)
        self.contributing = np.zeros(n, dtype=np.intc)
        self.contributing[: self.n_contributing] = 1
        need_neigh = np.ones(n, dtype=np.intc)
        self.neigh = neighlist.NeighList()
        self.neigh.build(self.coords, influence, np.asarray(cutoffs, dtype=np.double), need_neigh)
        self.energy = np.zeros(1, dtype=np.double)
        self.forces = np.zeros((n, 3), dtype=np.double)

        self.compute_args = kim_model.compute_arguments_create()
        name = kimpy.compute_argument_name
        ca = self.compute_args
        ca.set_argument_pointer(name.numberOfParticles, self.num_particles)
        ca.set_argument_pointer(name.particleSpeciesCodes, self.codes)
        ca.set_argument_pointer(name.particleContributing, self.contributing)
        ca.set_argument_pointer(name.coordinates, self.coords)
        ca.set_argument_pointer(name.partialEnergy, self.energy)
        ca.set_argument_pointer(name.partialForces, self.forces)
        ca.set_callback_pointer(kimpy.compute_callback_name.GetNeighborList,
                                neighlist.get_neigh_kim(), self.neigh)

    def folded_forces(self) -> np.ndarray:
        """[n_contributing, 3]: contributing forces plus those of their padding images."""
        f = self.forces[: self.n_contributing].copy()
        if len(self.padding_image_of):
            np.add.at(f, self.padding_image_of, self.forces[self.n_contributing:])
        return f

    def stress(self) -> np.ndarray:
        if self.volume == 0.0:
            return np.full(6, np.nan)
        virial = self.coords.T @ self.forces           # sum_i r_i (x) f_i
        return np.array([-(virial[a, b] + virial[b, a]) / (2.0 * self.volume) for a, b in _VOIGT])


class KIMBatch:
    """The per-configuration KIM objects of a dataset (what ``KIMModel.create_batch`` returns)."""

    def __init__(self, configs: List[_KIMConfig]):
        self.configs = configs
        self.n_configs = len(configs)
        self.natoms = np.array([c.n_contributing for c in configs], dtype=np.int64)
        self.atom_offset = np.concatenate([[0], np.cumsum(self.natoms)]).astype(np.int64)
        self.n_atoms = int(self.atom_offset[-1])


class KIMModel(Model):
    """A KIM portable model (see module docstring). Gradients are finite differences.

    Args:
        model_name: installed KIM model, e.g. ``"SW_StillingerWeber_1985_Si__MO_405512056662_006"``.
        params_transform: optional ``ParameterTransform``.
    """

    def __init__(self, model_name: str, params_transform: Optional[ParameterTransform] = None):
        if not model_name:
            raise InputError("KIMModel needs the name of an installed KIM model")
        self._kimpy = _import_kimpy()
        kimpy = self._kimpy
        try:
            accepted, self.kim_model = kimpy.model.create(
                kimpy.numbering.zeroBased, kimpy.length_unit.A, kimpy.energy_unit.eV,
                kimpy.charge_unit.e, kimpy.temperature_unit.K, kimpy.time_unit.ps, model_name)
        except RuntimeError as err:
            raise InputError(f"cannot create KIM model `{model_name}` (is it installed? "
                             f"see `kim-api-collections-management list`): {err}") from err
        if not accepted:
            raise InputError(f"KIM model `{model_name}` does not accept units Å, eV")
        self._is_int: List[bool] = []
        self._pushed: Optional[np.ndarray] = None
        super().__init__(model_name=model_name, params_transform=params_transform)

    # -- Model hooks -------------------------------------------------------------------------
    def init_model_params(self) -> Dict[str, Parameter]:
        params: Dict[str, Parameter] = {}
        self._is_int = []
        for i in range(self.kim_model.get_number_of_parameters()):
            dtype, extent, name, description = self.kim_model.get_parameter_metadata(i)
            is_int = dtype == self._kimpy.data_type.Integer
            getter = self.kim_model.get_parameter_int if is_int else self.kim_model.get_parameter_double
            values = [float(getter(i, j)) for j in range(extent)]
            params[str(name)] = Parameter(values, description=str(description))
            self._is_int.append(is_int)
        return params

    def init_influence_distance(self) -> float:
        return float(self.kim_model.get_influence_distance())

    def init_supported_species(self) -> Dict[str, int]:
        kimpy = self._kimpy
        out = {}
        for i in range(kimpy.species_name.get_number_of_species_names()):
            name = kimpy.species_name.get_species_name(i)
            supported, code = self.kim_model.get_species_support_and_code(name)
            if supported:
                out[str(name)] = int(code)
        return out

    def create_batch(self, configs: Sequence[Any]) -> KIMBatch:
        self._push_params()
        cutoffs, _hints = self.kim_model.get_neighbor_list_cutoffs_and_hints()
        return KIMBatch([_KIMConfig(self._kimpy, self.kim_model, c, self.supported_species,
                                    self.influence_distance, cutoffs) for c in configs])

    def compute_batch(self, batch: KIMBatch, energy: bool = True, forces: bool = True,
                      stress: bool = False, param_derivs: bool = False) -> KIMBatchResult:
        """Energies [C] eV, forces [N,3] eV/Å, stress [C,6] eV/Å^3 and (``param_derivs``)
        finite-difference derivatives with respect to the flat model parameters (only the
        optimized components' columns are filled)."""
        e, f, s = self._evaluate(batch, forces, stress)
        if not param_derivs:
            return KIMBatchResult(energy=e, forces=f if forces else None, stress=s if stress else None)
        sizes = self.get_model_params_sizes()
        n_params = sum(sizes)
        de = np.zeros((batch.n_configs, n_params))
        df = np.zeros((batch.n_atoms, 3, n_params))
        ds = np.zeros((batch.n_configs, 6, n_params))
        base = self.get_model_params_flat()
        index, _ = self.opt_to_flat()
        try:
            for k in index:
                h = 1e-6 * max(1.0, abs(base[k]))
                shifted = []
                for sign in (1.0, -1.0):
                    theta = base.copy()
                    theta[k] += sign * h
                    shifted.append(self._evaluate(batch, True, stress, theta))
                (e1, f1, s1), (e2, f2, s2) = shifted
                de[:, k] = (e1 - e2) / (2 * h)
                df[:, :, k] = (f1 - f2) / (2 * h)
                ds[:, :, k] = (s1 - s2) / (2 * h)
        finally:
            self._push_params(base)
        return KIMBatchResult(energy=e, forces=f if forces else None, stress=s if stress else None,
                              denergy=de, dforces=df, dstress=ds)

    def write_kim_model(self, path: Optional[Union[str, Path]] = None) -> Path:
        """Write the model with its current parameters as a KIM portable model (the KIM API's
        WriteParameterizedModel), into directory ``path``; default ``./<model_name>_kliff_trained``
        as KLIFF names it. Returns the directory."""
        model_name = f"{self.model_name}_kliff_trained"
        path = Path(model_name if path is None else path).resolve()
        if path.name != model_name:
            model_name = path.name
        if not model_name.isidentifier():
            raise InputError(f"KIM model names must be C identifiers, got {model_name!r} (from {path})")
        path.mkdir(parents=True, exist_ok=True)
        self._push_params()
        try:
            self.kim_model.write_parameterized_model(str(path), model_name)
        except RuntimeError as err:
            raise InputError(f"KIM model `{self.model_name}` cannot write a parameterized model: {err}",
                             path=path) from err
        logger.info("KIM model written to %s", path)
        return path

    # -- helpers -----------------------------------------------------------------------------
    def _evaluate(self, batch: KIMBatch, forces: bool, stress: bool, theta: Optional[np.ndarray] = None):
        """Energies, forces, stress with parameters ``theta`` (default: the model's)."""
        self._push_params(theta)
        e = np.empty(batch.n_configs)
        f = np.empty((batch.n_atoms, 3))
        s = np.full((batch.n_configs, 6), np.nan)
        for c, conf in enumerate(batch.configs):
            self.kim_model.compute(conf.compute_args, False)
            e[c] = conf.energy[0]
            f[batch.atom_offset[c]:batch.atom_offset[c + 1]] = conf.folded_forces()
            if stress:
                s[c] = conf.stress()
        return e, f, s

    def _push_params(self, theta: Optional[np.ndarray] = None) -> None:
        """Write parameter values that changed since the last push into the KIM model."""
        theta = self.get_model_params_flat() if theta is None else theta
        if self._pushed is not None and np.array_equal(self._pushed, theta):
            return
        k = 0
        for i, p in enumerate(self.model_params.values()):
            for j in range(len(p)):
                if self._pushed is None or theta[k] != self._pushed[k]:
                    value = int(round(theta[k])) if self._is_int[i] else float(theta[k])
                    self.kim_model.set_parameter(i, j, value)
                k += 1
        self.kim_model.clear_then_refresh()
        self._pushed = theta.copy()


__all__ = ["KIMModel", "KIMBatch", "KIMBatchResult"]
