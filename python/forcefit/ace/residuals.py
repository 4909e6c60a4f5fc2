"""Residuals of the pacemaker loss and their Jacobian for ACE potentials (least-squares fitting).

Design
------
The residual vector ``r(x)`` has ``sum(r**2) == loss`` exactly; its rows (``forcefit.pacemaker.engine
.data_residuals``) are energies, forces, stresses, then ``sqrt(L2) c_p`` for every function coefficient
when ``L2_coeffs > 0``.  The Jacobian ``J = dr/dx[columns]`` (columns: the trainable parameters) is::

    energy rows   sqrt((1-kappa) w_E,s) / N_s            dE_s/dtheta
    force rows    sqrt(kappa w_F,i)                      dF_i/dtheta
    stress rows   -sqrt(w_stress w_E,s) / V_s            dW_s/dtheta     (sigma = -W/V)
    L2 rows       sqrt(L2) on the coefficient's own column

with ``dX/dx = dX/dctilde M + dX/dcrad R`` (``ParameterMap``'s linear maps) and ``dX/dtheta`` the C++ Jacobian
blocks (``AceCtildeModel.parameter_jacobian``, analytic radial functions).

Normal equations: ``data_normal_equations`` accumulates J^T J and J^T r chunk by chunk and ``data_vjp``
gives J^T u by one vector-Jacobian product, so that a Levenberg-Marquardt method needs memory n^2 plus
one chunk whatever the number of residuals (``AceFitEngine.residual_normal_equations``, ``residual_vjp``).

Chunks: the C++ blocks are [7 C + 3 N, n_ctilde + n_crad] for C configurations of N atoms, and the pull-back
to x needs as much again; configurations are taken in consecutive chunks whose blocks stay below
``chunk_mb`` megabytes (at least one configuration per chunk), so the working memory beyond the assembled
[m, n] Jacobian is bounded whatever the size of the data set.  Threads work on the configurations of a
chunk (``OMP_NUM_THREADS``): chunks of many small configurations keep every core busy.

Not sums of squares, hence refused (``InputError``) for least-squares optimizers: the L1 penalty
``L1 sum |c|`` and the radial smoothness terms ``w*_rad``, which (as in tensorpot) integrate ``|R_nl|``.
(A square-root residual sqrt(L1 |c|) would reproduce the loss but its Jacobian diverges at c = 0, where
new and zero-initialised functions start.)  Use a ``scipy.optimize.minimize`` method for those.

Units: residuals carry the square root of the loss units (energies eV, forces eV/Å, stress eV/Å^3 times
the square roots of their weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional, Tuple

import numpy as np

from ..errors import InputError

#: default working-memory bound of one Jacobian chunk, MB
DEFAULT_CHUNK_MB = 256.0


def check_least_squares_loss(loss) -> None:
    """Raise InputError when the loss has terms that are not sums of squares."""
    from ..pacemaker.fit_section import least_squares_refusal

    refusal = least_squares_refusal(loss)
    if refusal is not None:
        raise InputError(f"fit.loss.{refusal[0]}: {refusal[1]}")


def config_chunks(atom_offset: np.ndarray, n_theta: int, chunk_mb: float) -> Iterator[Tuple[int, int]]:
    """Consecutive ranges [s0, s1) of configurations whose Jacobian blocks ((7 + 3 N_s) rows of n_theta
    doubles each, twice: the C++ block and its pull-back) stay below chunk_mb megabytes."""
    budget_rows = max(1, int(chunk_mb * 2**20 / (16.0 * max(n_theta, 1))))
    n_conf = len(atom_offset) - 1
    s0 = 0
    while s0 < n_conf:
        s1, rows = s0, 0
        while s1 < n_conf:
            extra = 7 + 3 * int(atom_offset[s1 + 1] - atom_offset[s1])
            if s1 > s0 and rows + extra > budget_rows:
                break
            rows += extra
            s1 += 1
        yield s0, s1
        s0 = s1


@dataclass(frozen=True)
class RowScales:
    """d residual / d prediction for every data row: energies [S], forces [3A], stresses of the structures
    ``stressed`` (indices, empty without a stress term) as d r / d W (eV^-1 ... per the loss weights)."""

    energy: np.ndarray
    forces: np.ndarray
    stressed: np.ndarray
    stress: np.ndarray  # [S], zero where a structure has no stress rows

    @classmethod
    def of(cls, data, loss, stress_pred: Optional[np.ndarray], volume: np.ndarray) -> "RowScales":
        from ..pacemaker.engine import stress_rows

        kappa = float(loss.kappa)
        stressed = stress_rows(data, loss, stress_pred)
        stressed = np.zeros(0, dtype=np.int64) if stressed is None else stressed
        s_scale = np.zeros(data.n_structures)
        s_scale[stressed] = -np.sqrt(loss.w_stress * data.w_energy[stressed]) / volume[stressed]
        return cls(energy=np.sqrt((1.0 - kappa) * data.w_energy) / data.n_atoms,
                   forces=np.repeat(np.sqrt(kappa * data.w_forces), 3), stressed=stressed, stress=s_scale)


def jacobian_blocks(model, pmap, columns: np.ndarray, species: np.ndarray, handle, scales: RowScales,
                    chunk_mb: Optional[float] = None, num_threads: int = 0) -> Iterator[Tuple[slice, np.ndarray]]:
    """The rows of the data Jacobian (``data_residuals`` by ``x[columns]``) chunk by chunk, as
    (rows of the residual vector, block [rows, len(columns)]).

    ``model`` must hold the parameters (``set_parameters``); ``handle`` is the engine's ``PreparedSet``.
    """
    chunk_mb = DEFAULT_CHUNK_MB if chunk_mb is None else float(chunk_mb)
    if not chunk_mb > 0:
        raise InputError(f"jacobian_chunk_mb must be positive, got {chunk_mb!r}")
    n_conf, n_atoms = len(handle.atom_offset) - 1, len(species)
    stress_index = np.full(n_conf, -1)
    stress_index[scales.stressed] = np.arange(len(scales.stressed))
    mt = pmap._MT[columns]
    rt = pmap._RT[columns]
    n_ctilde = pmap.n_ctilde
    f0, s0_row = n_conf, n_conf + 3 * n_atoms

    def pulled_back(block: np.ndarray, scale: np.ndarray) -> np.ndarray:
        out = scale[:, None] * np.asarray(mt @ block[:, :n_ctilde].T + rt @ block[:, n_ctilde:].T).T
        if not np.all(np.isfinite(out)):
            raise InputError(f"the residual Jacobian is not finite ({int(np.sum(~np.isfinite(out)))} entries)")
        return out

    offset, first = handle.atom_offset, handle.first
    for s0, s1 in config_chunks(offset, n_ctilde + pmap.n_crad_full, chunk_mb):
        a0, a1 = int(offset[s0]), int(offset[s1])
        p0, p1 = int(first[a0]), int(first[a1])
        _, _, _, je, jf, jv = model.parameter_jacobian(
            species[a0:a1], first[a0:a1 + 1] - p0, handle.neigh[p0:p1] - a0, handle.rij[p0:p1],
            offset[s0:s1 + 1] - a0, splines=False, num_threads=num_threads)
        yield slice(s0, s1), pulled_back(je, scales.energy[s0:s1])
        del je
        yield slice(f0 + 3 * a0, f0 + 3 * a1), pulled_back(jf, scales.forces[3 * a0:3 * a1])
        del jf
        here = np.flatnonzero(stress_index[s0:s1] >= 0)
        if here.size:
            rows = (6 * here[:, None] + np.arange(6)).ravel()
            k0 = int(stress_index[s0 + here[0]])
            yield (slice(s0_row + 6 * k0, s0_row + 6 * (k0 + here.size)),
                   pulled_back(jv[rows], scales.stress[s0 + here].repeat(6)))


def data_jacobian(model, pmap, columns, species, handle, scales: RowScales, chunk_mb=None,
                  num_threads: int = 0) -> np.ndarray:
    """The data Jacobian assembled, [m_data, len(columns)] (arguments as ``jacobian_blocks``)."""
    n_rows = len(scales.energy) + len(scales.forces) + 6 * len(scales.stressed)
    out = np.zeros((n_rows, len(columns)))
    for rows, block in jacobian_blocks(model, pmap, columns, species, handle, scales, chunk_mb, num_threads):
        out[rows] = block
    return out


def data_normal_equations(model, pmap, columns, species, handle, scales: RowScales, residual: np.ndarray,
                          chunk_mb=None, num_threads: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """(J^T J [n, n], J^T r [n]) of the data rows, accumulated chunk by chunk (J never assembled);
    ``residual``: the data residuals (at least the data rows, in order)."""
    n = len(columns)
    jtj, jtr = np.zeros((n, n)), np.zeros(n)
    for rows, block in jacobian_blocks(model, pmap, columns, species, handle, scales, chunk_mb, num_threads):
        jtj += block.T @ block
        jtr += block.T @ residual[rows]
    return jtj, jtr


def data_vjp(model, pmap, columns, species, handle, scales: RowScales, u: np.ndarray,
             num_threads: int = 0) -> np.ndarray:
    """J^T u for the data rows (u: [m_data]) by one vector-Jacobian product, [len(columns)]."""
    n_conf, n_atoms = len(scales.energy), len(species)
    de = scales.energy * u[:n_conf]
    df = (scales.forces * u[n_conf:n_conf + 3 * n_atoms]).reshape(n_atoms, 3)
    dw = None
    if len(scales.stressed):
        dw = np.zeros((n_conf, 6))
        dw[scales.stressed] = scales.stress[scales.stressed, None] * u[n_conf + 3 * n_atoms:].reshape(-1, 6)
    _, _, _, g_ctilde, g_crad = model.parameter_vjp(
        species, handle.first, handle.neigh, handle.rij, handle.atom_offset, np.ascontiguousarray(de),
        np.ascontiguousarray(df), dw, splines=False, num_threads=num_threads, outputs=False)
    return pmap.pullback(g_ctilde, g_crad)[columns]


def l2_rows(x: np.ndarray, function_mask: np.ndarray, l2: float, columns: np.ndarray, jacobian: bool):
    """Residuals sqrt(L2) c_p over all function coefficients and (if ``jacobian``) their Jacobian rows."""
    if not l2 > 0:
        return np.zeros(0), (np.zeros((0, len(columns))) if jacobian else None)
    coefficients = np.flatnonzero(function_mask)
    residual = np.sqrt(l2) * np.asarray(x, dtype=float)[coefficients]
    if not jacobian:
        return residual, None
    jac = np.zeros((len(coefficients), len(columns)))
    position = np.full(len(function_mask), -1)
    position[columns] = np.arange(len(columns))
    rows = np.flatnonzero(position[coefficients] >= 0)
    jac[rows, position[coefficients[rows]]] = np.sqrt(l2)
    return residual, jac


__all__ = ["DEFAULT_CHUNK_MB", "RowScales", "check_least_squares_loss", "config_chunks", "data_jacobian",
           "data_normal_equations", "data_vjp", "jacobian_blocks", "l2_rows"]
