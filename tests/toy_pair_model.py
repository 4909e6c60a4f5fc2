"""A small numpy pair potential implementing the Model hooks, for testing the fitting front end
(Calculator, Loss, analyzers) independently of the compiled kernels.

    E = 1/2 sum_{i != j, r_ij < rc} A exp(-alpha r_ij) (1 - r_ij/rc)^2  +  sum_i e0[species_i]

Parameters (model space): A [1] eV, alpha [1] 1/Å, e0 [2] eV (per species Si, C). rc = 3.5 Å.
Returns energies, forces, stress (1/V dE/dstrain, Voigt xx yy zz yz xz xy) and their derivatives
with respect to every parameter, in the layout of the kernels' BatchResult.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

from forcefit.models import Model, Parameter

VOIGT = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]


@dataclass(frozen=True)
class ToyResult:
    energy: np.ndarray
    forces: Optional[np.ndarray]
    stress: Optional[np.ndarray]
    denergy: Optional[np.ndarray] = None
    dforces: Optional[np.ndarray] = None
    dstress: Optional[np.ndarray] = None


class ToyPair(Model):
    RC = 3.5

    def __init__(self, A=10.0, alpha=1.2, e0=(-1.0, -2.0), params_transform=None, model_name=None):
        self._start = (A, alpha, e0)
        self.nan_above_alpha = None  # tests set this to make the model produce NaN
        super().__init__(model_name=model_name, params_transform=params_transform)

    def init_model_params(self):
        A, alpha, e0 = self._start
        return {"A": Parameter([A]), "alpha": Parameter([alpha]), "e0": Parameter(list(e0))}

    def init_influence_distance(self):
        return self.RC

    def init_supported_species(self):
        return {"Si": 0, "C": 1}

    def create_batch(self, configs):
        batch = []
        for conf in configs:
            atoms = Atoms(conf.species, positions=conf.coords, cell=conf.cell, pbc=conf.PBC)
            i, j, D = neighbor_list("ijD", atoms, self.RC)
            species = np.array([self.supported_species[s] for s in conf.species])
            vol = abs(np.linalg.det(conf.cell)) if np.all(conf.PBC) else 0.0
            batch.append((len(atoms), i, D, species, vol))
        return batch

    def compute_batch(self, batch, energy=True, forces=True, stress=False, param_derivs=False):
        A = self.model_params["A"].value[0]
        alpha = self.model_params["alpha"].value[0]
        e0 = self.model_params["e0"].value
        if self.nan_above_alpha is not None and alpha > self.nan_above_alpha:
            A = np.nan
        rc = self.RC
        C = len(batch)
        N = sum(b[0] for b in batch)
        E = np.zeros(C)
        F = np.zeros((N, 3))
        S = np.full((C, 6), np.nan)
        dE = np.zeros((C, 4))
        dF = np.zeros((N, 3, 4))
        dS = np.full((C, 6, 4), np.nan)
        off = 0
        for c, (n, i, D, species, vol) in enumerate(batch):
            r = np.linalg.norm(D, axis=1)
            x = 1.0 - r / rc
            ex = np.exp(-alpha * r)
            phi = A * ex * x**2
            dphi = A * ex * (-alpha * x**2 - 2.0 * x / rc)            # d phi / dr
            dphi_dalpha = -r * phi
            ddphi_dalpha = A * ex * (-r * (-alpha * x**2 - 2.0 * x / rc) - x**2)
            E[c] = 0.5 * phi.sum() + e0[species].sum()
            dE[c, 0] = 0.5 * (ex * x**2).sum()                           # phi is linear in A
            dE[c, 1] = 0.5 * dphi_dalpha.sum()
            dE[c, 2] = np.count_nonzero(species == 0)
            dE[c, 3] = np.count_nonzero(species == 1)
            unit = D / r[:, None]
            fij = dphi[:, None] * unit                                # force on i from pair (i, j)
            np.add.at(F, off + i, fij)
            dphi_dA = ex * (-alpha * x**2 - 2.0 * x / rc)
            np.add.at(dF[:, :, 0], off + i, dphi_dA[:, None] * unit)
            np.add.at(dF[:, :, 1], off + i, ddphi_dalpha[:, None] * unit)
            if vol > 0:
                for k, (a, b) in enumerate(VOIGT):
                    w = 0.5 * D[:, a] * D[:, b] / r
                    S[c, k] = (dphi * w).sum() / vol
                    dS[c, k, 0] = (dphi_dA * w).sum() / vol
                    dS[c, k, 1] = (ddphi_dalpha * w).sum() / vol
                    dS[c, k, 2:] = 0.0
            off += n
        return ToyResult(
            energy=E, forces=F if forces else None, stress=S if stress else None,
            denergy=dE if param_derivs else None, dforces=dF if param_derivs else None,
            dstress=dS if param_derivs else None)


class ToyPairSelecting(ToyPair):
    """ToyPair whose compute_batch returns only the requested derivative columns (param_indices),
    as the compiled kernels can."""

    def compute_batch(self, batch, energy=True, forces=True, stress=False, param_derivs=False,
                      param_indices=None):
        res = super().compute_batch(batch, energy, forces, stress, param_derivs)
        if not param_derivs or param_indices is None:
            return res
        cols = np.asarray(param_indices)
        return ToyResult(energy=res.energy, forces=res.forces, stress=res.stress,
                         denergy=res.denergy[:, cols], dforces=res.dforces[:, :, cols],
                         dstress=res.dstress[:, :, cols])


def make_configs(n=3, seed=0, with_forces=True, weight=None):
    """Small periodic Si/C cells with reference data from a 'true' ToyPair (A=12, alpha=1.0)."""
    from forcefit.dataset.configuration import Configuration

    rng = np.random.default_rng(seed)
    truth = ToyPair(A=12.0, alpha=1.0, e0=(-1.5, -2.5))
    configs = []
    for k in range(n):
        a = 5.4 + 0.05 * k
        base = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5],
                         [0.25, 0.25, 0.25], [0.75, 0.75, 0.25], [0.75, 0.25, 0.75], [0.25, 0.75, 0.75]]) * a
        coords = base + 0.08 * rng.standard_normal(base.shape)
        species = ["Si"] * 6 + ["C"] * 2
        cell = np.eye(3) * a
        probe = Configuration(cell=cell, species=species, coords=coords, PBC=[True] * 3, identifier=f"toy{k}")
        res = truth.compute_batch(truth.create_batch([probe]), stress=True)
        e = float(res.energy[0]) + 0.01 * rng.standard_normal()
        f = res.forces + 0.01 * rng.standard_normal(res.forces.shape)
        kwargs = dict(cell=cell, species=species, coords=coords, PBC=[True] * 3, energy=e,
                      forces=f if with_forces else None, stress=res.stress[0], identifier=f"toy{k}")
        if weight is not None:
            kwargs["weight"] = weight
        configs.append(Configuration(**kwargs))
    return configs
