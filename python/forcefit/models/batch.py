"""Flat batches of configurations with neighbor lists, and the results kernels return.

Design:
    ``NeighborBatch``  every configuration of a dataset concatenated (atoms, species codes) with a
                       full neighbor list per atom in CSR form. A pair (i, j) stores the GLOBAL
                       index of the atom that owns neighbor j and the vector ``rij = r_j + S·cell
                       − r_i`` with the periodic image shift S already applied, so kernels never
                       see image atoms: the force on an image goes to its owner, and the strain
                       derivative is Σ_pairs dE/drij ⊗ rij. Built once per dataset; a fit only
                       changes parameters.
    ``BatchResult``    frozen dataclass of numpy arrays returned by ``Model.compute_batch``.

Pairs are found by one function, ``_config_pairs``, which calls forcefit's C++ neighbor list
(``forcefit.neighbor.neighbor_list``, ASE's definition).

Units: Å, eV, eV/Å, eV/Å^3 (stress in ASE convention, tensile positive, Voigt xx yy zz yz xz xy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from ..errors import InputError
from ..neighbor import neighbor_list


def _config_arrays(config: Any) -> Tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """(cell [3,3] rows = lattice vectors, positions [N,3], pbc [3], species symbols) of a
    forcefit/KLIFF Configuration (``cell``, ``coords``, ``PBC``, ``species``) or an ase.Atoms."""
    if hasattr(config, "coords") and hasattr(config, "species"):
        cell = np.asarray(config.cell, dtype=np.float64).reshape(3, 3)
        pos = np.asarray(config.coords, dtype=np.float64).reshape(-1, 3)
        pbc = np.asarray(config.PBC, dtype=bool).reshape(3)
        symbols = list(config.species)
    elif hasattr(config, "get_positions") and hasattr(config, "get_chemical_symbols"):
        cell = np.asarray(config.get_cell(), dtype=np.float64).reshape(3, 3)
        pos = np.asarray(config.get_positions(), dtype=np.float64)
        pbc = np.asarray(config.get_pbc(), dtype=bool).reshape(3)
        symbols = list(config.get_chemical_symbols())
    else:
        raise InputError(f"cannot read a configuration from a {type(config).__name__} "
                         "(need cell/coords/PBC/species or an ase.Atoms)")
    if len(symbols) != len(pos):
        raise InputError(f"configuration has {len(pos)} positions but {len(symbols)} species")
    return cell, pos, pbc, symbols


def _config_pairs(positions: np.ndarray, cell: np.ndarray, pbc: np.ndarray,
                  cutoff: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full neighbor list of one configuration: (i [P], j [P], rij [P,3]) sorted by i, every
    pair with |rij| < cutoff, rij = r_j + S·cell − r_i (Å); forcefit's C++ neighbor list."""
    i, j, d = neighbor_list(positions, cell, pbc, float(cutoff), quantities="ijD")
    return i, j, d


@dataclass(frozen=True)
class NeighborBatch:
    """Configurations concatenated with full neighbor lists (see module docstring).

    Fields (numpy, C order): ``atom_offset`` int64 [C+1]; ``species`` int32 [N] (model species
    codes); ``first`` int64 [N+1] (pairs of atom i are first[i]:first[i+1]); ``neigh`` int32 [P]
    global owner index of each neighbor; ``rij`` float64 [P,3] Å; ``volume`` float64 [C] Å^3 (0 for
    configurations that are not periodic in all three directions); ``cutoff`` Å used to build it.
    """

    atom_offset: np.ndarray
    species: np.ndarray
    first: np.ndarray
    neigh: np.ndarray
    rij: np.ndarray
    volume: np.ndarray
    cutoff: float

    @property
    def n_configs(self) -> int:
        return len(self.atom_offset) - 1

    @property
    def n_atoms(self) -> int:
        return len(self.species)

    @property
    def n_pairs(self) -> int:
        return len(self.neigh)

    @classmethod
    def from_configs(cls, configs: Sequence[Any], species_map: Dict[str, int],
                     cutoff: float) -> "NeighborBatch":
        """Build the batch of ``configs`` (forcefit Configurations or ase.Atoms).

        Args:
            species_map: chemical symbol -> the model's species code.
            cutoff: Å, neighbor-list cutoff (the model's influence distance).
        Raises InputError for an unsupported species (naming the configuration) or a bad cutoff.
        """
        if not cutoff > 0:
            raise InputError(f"neighbor-list cutoff must be > 0, got {cutoff}")
        offsets = [0]
        species, firsts, neighs, rijs, volumes = [], [], [], [], []
        pair_base = 0
        for k, config in enumerate(configs):
            cell, pos, pbc, symbols = _config_arrays(config)
            try:
                codes = np.array([species_map[s] for s in symbols], dtype=np.int32)
            except KeyError as err:
                raise InputError(f"species {err.args[0]!r} is not supported by the model "
                                 f"(supported: {sorted(species_map)})", record=f"configuration {k}") from None
            i, j, d = _config_pairs(pos, cell, pbc, cutoff)
            n = len(pos)
            counts = np.bincount(i, minlength=n)
            first = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(counts, out=first[1:])
            firsts.append(first[:-1] + pair_base)
            neighs.append(j.astype(np.int32) + offsets[-1])
            rijs.append(d)
            species.append(codes)
            volumes.append(abs(float(np.linalg.det(cell))) if np.all(pbc) else 0.0)
            pair_base += len(i)
            offsets.append(offsets[-1] + n)
        first_all = np.concatenate(firsts + [np.array([pair_base], dtype=np.int64)])
        if offsets[-1] >= 2**31:
            raise InputError("batch has more than 2^31 atoms")
        return cls(
            atom_offset=np.array(offsets, dtype=np.int64),
            species=np.concatenate(species) if species else np.zeros(0, np.int32),
            first=first_all.astype(np.int64),
            neigh=np.concatenate(neighs) if neighs else np.zeros(0, np.int32),
            rij=np.ascontiguousarray(np.concatenate(rijs)) if rijs else np.zeros((0, 3)),
            volume=np.array(volumes, dtype=np.float64),
            cutoff=float(cutoff),
        )


@dataclass(frozen=True)
class BatchResult:
    """What ``Model.compute_batch`` returns; fields not requested are None.

    ``energy`` [C] eV; ``atom_energy`` [N] eV; ``forces`` [N,3] eV/Å; ``stress`` [C,6] eV/Å^3
    (ASE sign: (1/V) dE/dε, Voigt xx yy zz yz xz xy; NaN rows for non-periodic configurations);
    with ``param_derivs``: ``denergy`` [C,P], ``dforces`` [N,3,P], ``dstress`` [C,6,P], derivatives
    with respect to the flat vector of all model parameters (``Model.get_model_params_flat()``).
    """

    energy: Optional[np.ndarray] = None
    atom_energy: Optional[np.ndarray] = None
    forces: Optional[np.ndarray] = None
    stress: Optional[np.ndarray] = None
    denergy: Optional[np.ndarray] = None
    dforces: Optional[np.ndarray] = None
    dstress: Optional[np.ndarray] = None


def run_kernel(kernel: Any, batch: NeighborBatch, params: np.ndarray, energy: bool = True,
               forces: bool = True, stress: bool = False, param_derivs: bool = False,
               param_indices: Optional[Sequence[int]] = None) -> BatchResult:
    """Evaluate a compiled kernel (``forcefit._core.*Kernel``) on ``batch`` with the flat
    parameter vector ``params``; returns a ``BatchResult``. ``param_indices`` (flat indices)
    restricts the parameter derivatives to those columns, in that order (default: all)."""
    if not isinstance(batch, NeighborBatch):
        raise InputError(f"compute_batch needs a NeighborBatch, got {type(batch).__name__}")
    selected = None if param_indices is None else np.asarray(param_indices, dtype=np.int32).reshape(-1)
    out = kernel.compute(batch.atom_offset, batch.species, batch.first, batch.neigh, batch.rij,
                         batch.volume, batch.cutoff, np.ascontiguousarray(params, dtype=np.float64),
                         energy=energy, forces=forces, stress=stress, param_derivs=param_derivs,
                         selected=selected)
    return BatchResult(**out)


@dataclass
class LossResiduals:
    """Weighted least-squares residuals in the batch layout, for ``run_loss_gradient``.

    residual = scale * (prediction - reference) per fitted value, loss = 1/2 sum(residual^2).
    ``energy_scale``/``energy_ref`` [C] (eV), ``forces_scale``/``forces_ref`` [N, 3] (eV/Å),
    ``stress_scale``/``stress_ref`` [C, 6] (eV/Å^3, ASE sign, Voigt xx yy zz yz xz xy): float64,
    C order; a scale of 0 marks a value that is not fitted, None a property that is not fitted
    at all. The kernels write the predictions into buffers kept here and reused by every call.
    """

    energy_scale: Optional[np.ndarray]
    energy_ref: Optional[np.ndarray]
    forces_scale: Optional[np.ndarray] = None
    forces_ref: Optional[np.ndarray] = None
    stress_scale: Optional[np.ndarray] = None
    stress_ref: Optional[np.ndarray] = None

    def __post_init__(self):
        for name in ("energy", "forces", "stress"):
            scale, ref = getattr(self, name + "_scale"), getattr(self, name + "_ref")
            if (scale is None) != (ref is None):
                raise InputError(f"LossResiduals: {name}_scale and {name}_ref must be given together")
            if scale is not None:
                setattr(self, name + "_scale", np.ascontiguousarray(scale, dtype=np.float64))
                setattr(self, name + "_ref", np.ascontiguousarray(ref, dtype=np.float64))
        self._buffers: Dict[Tuple[str, Tuple[int, ...]], np.ndarray] = {}

    def buffer(self, name: str, shape: Tuple[int, ...]) -> np.ndarray:
        """The reused float64 output buffer ``name`` of ``shape``."""
        key = (name, tuple(shape))
        if key not in self._buffers:
            self._buffers[key] = np.empty(shape, dtype=np.float64)
        return self._buffers[key]


class LossEvaluation(NamedTuple):
    """What ``run_loss_gradient`` returns. ``loss`` = 1/2 sum(residual^2); ``gradient`` [K];
    ``predictions`` a ``BatchResult`` with energy [C], forces [N, 3], stress [C, 6] (those
    fitted); ``residual_rows`` [R] and ``jacobian_rows`` [R, K] (when asked for) in the row order
    [energies C, forces 3N, stress 6C] of the fitted properties, 0 where a value is not fitted.
    The arrays other than ``gradient`` are buffers of the ``LossResiduals``: the next call
    overwrites them."""

    loss: float
    gradient: np.ndarray
    predictions: BatchResult
    residual_rows: Optional[np.ndarray]
    jacobian_rows: Optional[np.ndarray]


def run_loss_gradient(kernel: Any, batch: NeighborBatch, params: np.ndarray, residuals: LossResiduals,
                      param_indices: Optional[Sequence[int]] = None, rows: bool = False,
                      jacobian: bool = False) -> LossEvaluation:
    """Loss and gradient of ``residuals`` for a compiled kernel in one pass (the kernels contract
    each configuration's parameter derivatives with its residuals; no [N, 3, P] arrays), and on
    request the residual vector and its Jacobian (``rows``, ``jacobian``) for least-squares
    methods.

    The gradient [K] and Jacobian columns are with respect to the flat parameters in
    ``param_indices`` (in that order; default all; an empty selection gives the loss alone).
    Returns a ``LossEvaluation``.
    """
    if not isinstance(batch, NeighborBatch):
        raise InputError(f"loss_gradient needs a NeighborBatch, got {type(batch).__name__}")
    selected = None if param_indices is None else np.asarray(param_indices, dtype=np.int32).reshape(-1)
    r = residuals
    energy = r.buffer("energy", (batch.n_configs,)) if r.energy_scale is not None else None
    forces = r.buffer("forces", (batch.n_atoms, 3)) if r.forces_scale is not None else None
    stress = r.buffer("stress", (batch.n_configs, 6)) if r.stress_scale is not None else None
    n_rows = sum(0 if scale is None else scale.size for scale in (r.energy_scale, r.forces_scale, r.stress_scale))
    n_cols = kernel.num_params if selected is None else len(selected)
    residual_rows = r.buffer("residual_rows", (n_rows,)) if rows else None
    jacobian_rows = r.buffer("jacobian_rows", (n_rows, n_cols)) if jacobian else None
    loss, grad = kernel.loss_gradient(
        batch.atom_offset, batch.species, batch.first, batch.neigh, batch.rij, batch.volume, batch.cutoff,
        np.ascontiguousarray(params, dtype=np.float64), selected=selected,
        energy_scale=r.energy_scale, energy_ref=r.energy_ref, forces_scale=r.forces_scale,
        forces_ref=r.forces_ref, stress_scale=r.stress_scale, stress_ref=r.stress_ref,
        energy=energy, forces=forces, stress=stress, residuals=residual_rows, jacobian=jacobian_rows)
    return LossEvaluation(float(loss), grad, BatchResult(energy=energy, forces=forces, stress=stress),
                          residual_rows, jacobian_rows)


__all__ = ["NeighborBatch", "BatchResult", "LossResiduals", "LossEvaluation", "run_kernel", "run_loss_gradient"]
