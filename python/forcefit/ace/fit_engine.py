"""The ACE fitting engine behind ``pacemaker input.yaml`` (``engine.py``'s FitEngine protocol).

Design
------
* Potentials: :class:`AceTrainablePotential` wraps a B-basis potential and its
  :class:`~forcefit.ace.fit_params.ParameterMap` (flat vector = radial coefficients + B-function
  coefficients, python-ace's trainable set).  ``trainable_parameters`` becomes a 0/1 mask on the
  gradient, as python-ace's ``jacobian_factor``: frozen parameters stay in the vector and never move.
* ``prepare``: full neighbour lists of all structures once (forcefit.neighbor), concatenated into one
  CSR list with global atom indices; species are mapped to a potential's element order on first use.
* ``evaluate``: ``ctilde = M x`` and ``crad = R x`` are loaded into a compiled C++ model kept per
  potential (built once with every coefficient slot, ``keep_zero_terms``); one energy+force pass gives
  the predictions, the loss adjoints follow from them::

      dL/dE_s = 2 (1-kappa) w_E,s (E_s - E_s^ref) / N_s^2
      dL/dF_i = 2 kappa w_F,i (F_i - F_i^ref)
      dL/dW_s = -2 w_stress w_E,s (sigma_s - sigma_s^ref) / V_s      (sigma = -W/V, Voigt)

  and the C++ vector-Jacobian product (``AceCtildeModel.parameter_vjp``) returns dL/dctilde and
  dL/dcrad, pulled back to the parameters by ``M^T``, ``R^T``.  Regularization (L1, L2 on function
  coefficients, radial smoothness) is added by :mod:`forcefit.ace.regularization`.  Radial functions
  are analytic (no splines) during fitting, as in python-ace's tensorpot backend.
* ``residuals``: the loss as a sum of squares and its Jacobian over the trainable parameters, for
  least-squares optimizers, in chunks of configurations; ``residual_normal_equations`` and
  ``residual_vjp`` give J^T J, J^T r and J^T u without assembling J (:mod:`forcefit.ace.residuals`).
* Threads: the C++ passes use ``OMP_NUM_THREADS`` threads (all cores when unset).
* ``ladder_extend``, ``number_of_functions_per_element`` and basis construction come from
  :mod:`forcefit.ace.construct`; ``set_core_repulsion`` sets python-ace's ZBL inner core.

Units: eV, Å, eV/Å, stress eV/Å^3 (ASE sign, Voigt xx yy zz yz xz xy).
"""

from __future__ import annotations

import copy
import logging
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from ..errors import ForcefitError, InputError, NotCompiledError
from ..pacemaker.engine import Evaluation, FitData, LossComponents, ResidualEvaluation
from .bbasis import BBasisPotential
from .fit_params import ParameterMap, expand_trainable_parameters
from .regularization import RadialSmoothness, coefficient_penalties

log = logging.getLogger(__name__)

#: python-ace's ZBL inner core (``setup_zbl_inner_core_repulsion``): transition width (Å) and the
#: embedding/core parameters it writes
ZBL_DELTA_IN = 0.1
ZBL_RHO_CUT = 1.0
ZBL_DRHO_CUT = 1.0
ZBL_CORE_PARAMETERS = (1.0, 1.0)
#: seed of ``coefs_init: random`` draws, so that a fit is reproducible
CONSTRUCTION_SEED = 42


class AceTrainablePotential:
    """A B-basis ACE potential with a flat parameter vector (``engine.TrainablePotential``).

    Args:
        bbasis: the potential (its coefficients are the starting parameters).
        trainable_parameters: python-ace's ``fit.trainable_parameters`` (None: everything).
        metadata: str -> str saved with the potential.
    """

    def __init__(self, bbasis: BBasisPotential, trainable_parameters=None, metadata: Optional[Dict[str, str]] = None):
        self.map = ParameterMap(bbasis)
        self.parameters = self.map.initial.copy()
        self.trainable_parameters = trainable_parameters
        self.mask = self.map.trainable_mask(expand_trainable_parameters(self.map.elements, trainable_parameters))
        self.metadata: Dict[str, str] = dict(bbasis.metadata)
        self.metadata.update(metadata or {})
        self.elements = list(self.map.elements)
        self.cutoff = float(self.map.skeleton.cutoff)
        self._smoothness: Optional[RadialSmoothness] = None

    @property
    def number_of_functions(self) -> int:
        return sum(1 for slot in self.map.slots
                   if not self.map.template.blocks[slot.block].functions[slot.function].skip)

    def get_parameters(self) -> np.ndarray:
        return self.parameters.copy()

    def set_parameters(self, parameters: np.ndarray) -> None:
        parameters = np.asarray(parameters, dtype=float)
        if parameters.shape != self.parameters.shape:
            raise InputError(f"expected {self.parameters.shape[0]} parameters, got shape {parameters.shape}")
        self.parameters = parameters.copy()

    def function_coefficient_mask(self) -> np.ndarray:
        return self.map.function_mask()

    def copy(self) -> "AceTrainablePotential":
        new = copy.copy(self)
        new.parameters = self.parameters.copy()
        new.metadata = dict(self.metadata)
        return new

    def bbasis(self) -> BBasisPotential:
        """The B-basis potential at the current parameters (with the metadata)."""
        pot = self.map.bbasis(self.parameters)
        pot.metadata = {str(k): str(v) for k, v in self.metadata.items()}
        return pot

    def save(self, path: Path) -> None:
        """python-ace's B-basis YAML, written atomically."""
        from .yaml_io import write_bbasis_yaml

        write_bbasis_yaml(self.bbasis(), path)

    def rebuilt(self, bbasis: BBasisPotential) -> "AceTrainablePotential":
        """A new potential of another basis with this one's trainable set and metadata."""
        return AceTrainablePotential(bbasis, self.trainable_parameters, self.metadata)


@dataclass
class PreparedSet:
    """Concatenated CSR full neighbour list of a data set (global atom indices)."""

    symbols: np.ndarray        # (A,) chemical symbols
    first: np.ndarray          # (A+1,) int64
    neigh: np.ndarray          # (P,) int64
    rij: np.ndarray            # (P, 3) Å
    atom_offset: np.ndarray    # (S+1,) int64
    volume: np.ndarray         # (S,) Å^3, NaN where not periodic in 3D
    cutoff: float
    _species: Dict[Tuple[str, ...], np.ndarray] = field(default_factory=dict)

    def species(self, elements: Sequence[str]) -> np.ndarray:
        key = tuple(elements)
        if key not in self._species:
            index = {e: k for k, e in enumerate(elements)}
            missing = sorted(set(self.symbols) - set(index))
            if missing:
                raise InputError(f"the data contain element(s) {', '.join(missing)} that the potential "
                                 f"(elements {', '.join(elements)}) does not describe")
            self._species[key] = np.array([index[s] for s in self.symbols], dtype=np.int32)
        return self._species[key]


class AceFitEngine:
    """forcefit's ACE fitting engine (``engine.FitEngine``); see the module docstring."""

    name = "forcefit ACE (C++ analytic parameter gradients)"

    def __init__(self, backend=None, num_threads: Optional[int] = None, jacobian_chunk_mb: Optional[float] = None):
        from .residuals import DEFAULT_CHUNK_MB

        self.backend = backend
        self.jacobian_chunk_mb = float(DEFAULT_CHUNK_MB if jacobian_chunk_mb is None else jacobian_chunk_mb)
        self.num_threads = int(num_threads if num_threads is not None else os.environ.get("OMP_NUM_THREADS", 0) or 0)
        self._models: Dict[int, tuple] = {}

    # -- potentials ------------------------------------------------------------------------------

    def build_potentials(self, section, elements: Sequence[str], trainable_parameters=None):
        from .construct import construct_bbasis, empty_like, extend_basis

        initial_bbasis = self._read_initial(section.initial_potential)
        if section.shape is not None:
            target = construct_bbasis(dict(section.shape), rng=np.random.default_rng(CONSTRUCTION_SEED))
            if initial_bbasis is not None:
                target = _add_missing_blocks(target, initial_bbasis)
        else:
            from .yaml_io import read_bbasis_yaml

            target = read_bbasis_yaml(section.filename)
            if section.reset:
                target = _reset(target)
        if section.metadata:
            target.metadata.update({str(k): str(v) for k, v in section.metadata.items()})
        if initial_bbasis is None:
            initial = empty_like(target)
        else:
            initial = initial_bbasis
            # outside a ladder fit the target starts from the initial potential's coefficients
            target = extend_basis(initial_bbasis, target, "body_order", None)
        start = (AceTrainablePotential(initial, trainable_parameters) if initial.all_functions()
                 else _EmptyPotential(initial, trainable_parameters))
        return AceTrainablePotential(target, trainable_parameters), start

    @staticmethod
    def _read_initial(paths) -> Optional[BBasisPotential]:
        from .yaml_io import read_bbasis_yaml

        merged = None
        for path in paths:
            pot = read_bbasis_yaml(path)
            merged = pot if merged is None else _merge(merged, pot)
        return merged

    def ladder_extend(self, current, target, step: int, ladder_type: str):
        from .construct import extend_basis

        base = current.bbasis()
        extended = extend_basis(base, target.bbasis(), ladder_type, int(step))
        grew = extended.number_of_functions() > base.number_of_functions()
        return current.rebuilt(extended), grew

    def set_core_repulsion(self, potential: AceTrainablePotential, min_distance: Dict[Tuple[str, str], float]) -> None:
        if not min_distance:
            raise InputError("repulsion: auto needs at least one pair of atoms closer than 6 Å in the training data")
        fallback = min(min_distance.values())
        pot = potential.bbasis()
        for block in pot.blocks:
            species = block.species
            if len(species) > 2:
                continue
            key = tuple(sorted((species[0], species[-1])))
            block.r_in = float(min_distance.get(key, fallback))
            block.delta_in = ZBL_DELTA_IN
            block.inner_cutoff_type = "zbl"
            block.core_repulsion = ZBL_CORE_PARAMETERS
            if block.embedding is not None:
                block.embedding.rho_core_cut = ZBL_RHO_CUT
                block.embedding.drho_core_cut = ZBL_DRHO_CUT
        parameters = potential.get_parameters()
        potential.__dict__.update(potential.rebuilt(pot).__dict__)
        potential.set_parameters(parameters)

    # -- data ------------------------------------------------------------------------------------

    def prepare(self, data: FitData, cutoff: float) -> PreparedSet:
        from .evaluator import csr_neighbors

        firsts, neighs, rijs, symbols, volumes = [np.zeros(1, dtype=np.int64)], [], [], [], []
        pairs = 0
        for s, atoms in enumerate(data.structures):
            start = int(data.atom_offset[s])
            nl = csr_neighbors(atoms.positions, atoms.cell.array, atoms.pbc, float(cutoff))
            firsts.append(nl.first[1:] + pairs)
            neighs.append(nl.neigh + start)
            rijs.append(nl.rij)
            pairs += len(nl.neigh)
            symbols.extend(atoms.get_chemical_symbols())
            volumes.append(abs(float(np.linalg.det(atoms.cell.array))) if np.all(atoms.pbc) else np.nan)
        return PreparedSet(
            symbols=np.array(symbols), first=np.concatenate(firsts),
            neigh=np.ascontiguousarray(np.concatenate(neighs) if neighs else np.zeros(0, dtype=np.int64)),
            rij=np.ascontiguousarray(np.vstack(rijs) if rijs else np.zeros((0, 3))),
            atom_offset=np.asarray(data.atom_offset, dtype=np.int64), volume=np.array(volumes), cutoff=float(cutoff))

    # -- evaluation ------------------------------------------------------------------------------

    def _model(self, potential: AceTrainablePotential):
        key = id(potential.map)
        entry = self._models.get(key)
        if entry is None or entry[0] is not potential.map:
            from ase.data import atomic_numbers

            from .. import _core

            if not hasattr(_core.AceCtildeModel, "parameter_vjp"):
                raise NotCompiledError("this build of forcefit has no ACE parameter gradients "
                                       "(AceCtildeModel.parameter_vjp); rebuild the compiled module")
            z = [int(atomic_numbers.get(e, 0)) for e in potential.map.elements]
            skeleton = potential.map.ctilde_potential(potential.map.initial)
            skeleton.validate()
            model = _core.AceCtildeModel(skeleton, z, True, keep_zero_terms=True)
            layout = model.parameter_layout()
            if int(layout["n_ctilde"]) != potential.map.n_ctilde or int(layout["n_crad"]) != potential.map.n_crad_full:
                raise NotCompiledError(
                    f"parameter layout mismatch: model has {layout['n_ctilde']} ctilde / {layout['n_crad']} crad, "
                    f"the B-basis map {potential.map.n_ctilde} / {potential.map.n_crad_full}")
            entry = (potential.map, model)
            if len(self._models) > 8:
                self._models.clear()
            self._models[key] = entry
        return entry[1]

    def _smoothness(self, potential: AceTrainablePotential, model) -> RadialSmoothness:
        if potential._smoothness is None or potential._smoothness.map is not potential.map:
            def basis(i, j, r):
                values, derivs = model.radial(int(i), int(j), np.asarray(r, dtype=float), False)
                return values, derivs

            potential._smoothness = RadialSmoothness(potential.map, basis)
        return potential._smoothness

    def evaluate(self, potential: AceTrainablePotential, parameters, data: FitData, handle: PreparedSet, loss,
                 gradient: bool = True) -> Evaluation:
        start = time.perf_counter()
        if float(getattr(loss, "w_orth", 0.0)) > 0:
            raise InputError("fit.loss.w_orth (orthogonality regularization) is not supported by forcefit's engine; "
                             "remove it or set it to 0")
        x = np.asarray(parameters, dtype=float)
        pmap = potential.map
        model = self._model(potential)
        ctilde, crad = pmap.ctilde_coefficients(x)
        model.set_parameters(ctilde, crad, rebuild_splines=False)
        species = handle.species(pmap.elements)
        kappa = float(loss.kappa)
        w_stress = float(getattr(loss, "w_stress", 0.0))
        want_stress = w_stress > 0 and data.stress is not None
        n_configs = data.n_structures
        stress = None
        if want_stress:
            energy, forces, virial, _, _ = model.parameter_vjp(
                species, handle.first, handle.neigh, handle.rij, handle.atom_offset, np.zeros(n_configs),
                np.zeros((len(species), 3)), None, splines=False, num_threads=self.num_threads)
            stress = -np.asarray(virial) / handle.volume[:, None]
        else:
            atom_energy, forces, _ = model.compute(species, handle.first, handle.neigh, handle.rij, forces=True,
                                                   splines=False, num_threads=self.num_threads)
            energy = np.add.reduceat(atom_energy, handle.atom_offset[:-1]) if n_configs else np.zeros(0)
        energy = np.asarray(energy, dtype=float)
        forces = np.asarray(forces, dtype=float)

        from ..pacemaker.engine import data_loss

        terms = data_loss(energy, forces, data, loss, stress)
        l1, l2, grad_penalty = coefficient_penalties(x, pmap.function_mask(), float(loss.L1_coeffs),
                                                     float(loss.L2_coeffs))
        w_rad = np.array([float(loss.w0_rad), float(loss.w1_rad), float(loss.w2_rad)])
        smooth_values = np.zeros(3)
        smooth_grad = None
        if np.any(w_rad > 0):
            smooth_values, smooth_grad = self._smoothness(potential, model).terms(crad, want_gradient=gradient)
        components = LossComponents(
            energy=terms.energy, forces=terms.forces, stress=terms.stress, l1=l1, l2=l2,
            smoothness=tuple(float(v) for v in w_rad * smooth_values) if np.any(w_rad > 0) else (),
            e_loss=terms.e_loss, f_loss=terms.f_loss)

        grad = None
        if gradient:
            de = 2.0 * (1.0 - kappa) * data.w_energy * (energy - data.energy) / data.n_atoms**2
            df = 2.0 * kappa * data.w_forces[:, None] * (forces - data.forces)
            dw = None
            if want_stress:
                ds = stress - data.stress
                has = np.all(np.isfinite(ds), axis=1)
                dw = np.zeros((n_configs, 6))
                dw[has] = -2.0 * w_stress * data.w_energy[has, None] * ds[has] / handle.volume[has, None]
            # the predictions are known: the product skips its own energy+force pass
            _, _, _, g_ctilde, g_crad = model.parameter_vjp(
                species, handle.first, handle.neigh, handle.rij, handle.atom_offset, np.ascontiguousarray(de),
                np.ascontiguousarray(df), dw, splines=False, num_threads=self.num_threads, outputs=False)
            g_crad = np.asarray(g_crad, dtype=float)
            if smooth_grad is not None:
                g_crad = g_crad + w_rad @ smooth_grad
            grad = pmap.pullback(g_ctilde, g_crad) + grad_penalty
            grad = np.where(potential.mask, grad, 0.0)
            if not np.all(np.isfinite(grad)):
                # an optimizer would stop silently on a NaN gradient
                raise ForcefitError(f"the loss gradient is not finite ({int(np.sum(~np.isfinite(grad)))} of "
                                    f"{grad.size} entries) at loss {components.total:.6g}")
        return Evaluation(loss=components.total, gradient=grad, energy=energy, forces=forces, components=components,
                          stress=stress, eval_time=time.perf_counter() - start)


    def residuals(self, potential: AceTrainablePotential, parameters, data: FitData, handle: PreparedSet, loss,
                  jacobian: bool = True, chunk_mb: Optional[float] = None) -> ResidualEvaluation:
        """Residuals r (sum r^2 = the loss) and J = dr/dx over the trainable parameters, for least-squares
        optimizers (see :mod:`forcefit.ace.residuals`: row layout, chunking, and why L1 and radial
        smoothness are refused).

        Args:
            jacobian: also compute J (else only r, at the cost of one energy+force pass).
            chunk_mb: working-memory bound of one chunk of configurations, MB (default
                ``self.jacobian_chunk_mb``); the assembled J is [m, n_trainable] on top.
        Returns: ``ResidualEvaluation`` (residual [m], jacobian [m, n] or None, columns [n], evaluation).
        """
        from .residuals import data_jacobian

        res, scales, j_l2 = self._residual_parts(potential, parameters, data, handle, loss, jacobian)
        if not jacobian:
            return res
        # the evaluation left the model at these parameters
        j_data = data_jacobian(self._model(potential), potential.map, res.columns,
                               handle.species(potential.map.elements), handle, scales, self._chunk(chunk_mb),
                               self.num_threads)
        return replace(res, jacobian=np.vstack([j_data, j_l2]))

    def residual_normal_equations(self, potential: AceTrainablePotential, parameters, data: FitData,
                                  handle: PreparedSet, loss, chunk_mb: Optional[float] = None):
        """(ResidualEvaluation without Jacobian, J^T J [n, n], J^T r [n]) for the residuals of ``residuals``,
        accumulated over chunks of configurations: memory n^2 plus one chunk, whatever the data size."""
        from .residuals import data_normal_equations

        res, scales, j_l2 = self._residual_parts(potential, parameters, data, handle, loss, True)
        n_data = len(res.residual) - len(j_l2)
        jtj, jtr = data_normal_equations(self._model(potential), potential.map, res.columns,
                                         handle.species(potential.map.elements), handle, scales,
                                         res.residual[:n_data], self._chunk(chunk_mb), self.num_threads)
        return res, jtj + j_l2.T @ j_l2, jtr + j_l2.T @ res.residual[n_data:]

    def residual_vjp(self, potential: AceTrainablePotential, parameters, data: FitData, handle: PreparedSet, loss,
                     u) -> np.ndarray:
        """J^T u [n] at ``parameters`` for a vector u [m] over the rows of ``residuals``, by one
        vector-Jacobian product (no Jacobian)."""
        from .residuals import data_vjp

        res, scales, j_l2 = self._residual_parts(potential, parameters, data, handle, loss, True)
        u = np.asarray(u, dtype=float)
        if u.shape != res.residual.shape:
            raise InputError(f"residual_vjp: expected u of shape {res.residual.shape}, got {u.shape}")
        n_data = len(u) - len(j_l2)
        g = data_vjp(self._model(potential), potential.map, res.columns, handle.species(potential.map.elements),
                     handle, scales, u[:n_data], self.num_threads)
        return g + j_l2.T @ u[n_data:]

    def _chunk(self, chunk_mb: Optional[float]) -> float:
        return self.jacobian_chunk_mb if chunk_mb is None else float(chunk_mb)

    def _residual_parts(self, potential, parameters, data, handle, loss, l2_jacobian: bool):
        """(ResidualEvaluation without Jacobian, RowScales, L2 Jacobian rows or None); leaves the model at
        ``parameters``."""
        from ..pacemaker.engine import data_residuals
        from .residuals import RowScales, check_least_squares_loss, l2_rows

        check_least_squares_loss(loss)
        evaluation = self.evaluate(potential, parameters, data, handle, loss, gradient=False)
        x = np.asarray(parameters, dtype=float)
        columns = np.flatnonzero(potential.mask).astype(np.int64)
        r_data = data_residuals(evaluation.energy, evaluation.forces, data, loss, evaluation.stress)
        r_l2, j_l2 = l2_rows(x, potential.map.function_mask(), float(loss.L2_coeffs), columns, l2_jacobian)
        scales = RowScales.of(data, loss, evaluation.stress, handle.volume)
        res = ResidualEvaluation(residual=np.concatenate([r_data, r_l2]), jacobian=None, columns=columns,
                                 evaluation=evaluation)
        return res, scales, j_l2


class _EmptyPotential(AceTrainablePotential):
    """The empty start of a ladder fit (blocks without functions): no parameters to fit yet."""

    def __init__(self, bbasis: BBasisPotential, trainable_parameters=None):
        self.bbasis_template = bbasis
        self.trainable_parameters = trainable_parameters
        self.metadata = dict(bbasis.metadata)
        self.elements = list(bbasis.elements)
        self.cutoff = max((b.bond.rcut for b in bbasis.blocks if b.bond is not None), default=0.0)
        self.parameters = np.zeros(0)

    @property
    def number_of_functions(self) -> int:
        return 0

    def copy(self):
        return _EmptyPotential(copy.deepcopy(self.bbasis_template), self.trainable_parameters)

    def bbasis(self) -> BBasisPotential:
        pot = copy.deepcopy(self.bbasis_template)
        pot.metadata = dict(self.metadata)
        return pot

    def function_coefficient_mask(self) -> np.ndarray:
        return np.zeros(0, dtype=bool)

    def save(self, path: Path) -> None:
        from .yaml_io import write_bbasis_yaml

        write_bbasis_yaml(self.bbasis(), path)


def _reset(pot: BBasisPotential) -> BBasisPotential:
    """python-ace's ``reset``: function coefficients zero, crad[n][l][k] = delta_nk."""
    out = copy.deepcopy(pot)
    for block in out.blocks:
        for func in block.functions:
            func.coeffs = tuple(0.0 for _ in func.coeffs)
        if block.bond is not None and block.bond.radcoefficients.ndim == 3:
            crad = np.zeros_like(block.bond.radcoefficients)
            for n in range(min(crad.shape[0], crad.shape[2])):
                crad[n, :, n] = 1.0
            block.bond.radcoefficients = crad
    return out


def _merge(first: BBasisPotential, second: BBasisPotential) -> BBasisPotential:
    """python-ace's ``BBasisConfiguration.__add__`` for initial potentials: blocks of both; a block present
    in both keeps the first's parameters and gains the second's new functions."""
    from .construct import extend_basis

    return extend_basis(first, second, "body_order", None)


def _add_missing_blocks(target: BBasisPotential, initial: BBasisPotential) -> BBasisPotential:
    names = {tuple(b.element_list) for b in target.blocks}
    out = copy.deepcopy(target)
    for block in initial.blocks:
        if tuple(block.element_list) not in names:
            out.blocks.append(copy.deepcopy(block))
    return out


def create_fit_engine(backend=None) -> AceFitEngine:
    """The engine ``forcefit.pacemaker.engine.get_fit_engine`` returns."""
    return AceFitEngine(backend)


__all__ = ["AceFitEngine", "AceTrainablePotential", "PreparedSet", "create_fit_engine"]
