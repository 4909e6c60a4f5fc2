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


def data_jacobian(model, pmap, columns: np.ndarray, species: np.ndarray, handle, data, loss,
                  stress_pred: Optional[np.ndarray], chunk_mb: Optional[float] = None,
                  num_threads: int = 0) -> np.ndarray:
    """Jacobian of ``data_residuals`` with respect to ``x[columns]``, [m_data, len(columns)].

    ``model`` must hold the parameters (``set_parameters``); ``handle`` is the engine's ``PreparedSet``;
    ``stress_pred``: the predicted stress (S, 6) or None, which with the loss decides the stress rows.
    """
    from ..pacemaker.engine import stress_rows

    chunk_mb = DEFAULT_CHUNK_MB if chunk_mb is None else float(chunk_mb)
    if not chunk_mb > 0:
        raise InputError(f"jacobian_chunk_mb must be positive, got {chunk_mb!r}")
    kappa = float(loss.kappa)
    n_conf, n_atoms = data.n_structures, len(species)
    e_scale = np.sqrt((1.0 - kappa) * data.w_energy) / data.n_atoms
    f_scale = np.repeat(np.sqrt(kappa * data.w_forces), 3)
    stressed = stress_rows(data, loss, stress_pred)
    n_stress = 0 if stressed is None else len(stressed)
    stress_index = np.full(n_conf, -1)
    if stressed is not None:
        stress_index[stressed] = np.arange(n_stress)
    s_scale = np.zeros(n_conf)
    if stressed is not None:
        s_scale[stressed] = -np.sqrt(loss.w_stress * data.w_energy[stressed]) / handle.volume[stressed]

    mt = pmap._MT[columns]
    rt = pmap._RT[columns]
    n_ctilde = pmap.n_ctilde
    f0, s0_row = n_conf, n_conf + 3 * n_atoms
    out = np.zeros((s0_row + 6 * n_stress, len(columns)))

    def pulled_back(block: np.ndarray) -> np.ndarray:
        return np.asarray(mt @ block[:, :n_ctilde].T + rt @ block[:, n_ctilde:].T).T

    offset, first = handle.atom_offset, handle.first
    for s0, s1 in config_chunks(offset, n_ctilde + pmap.n_crad_full, chunk_mb):
        a0, a1 = int(offset[s0]), int(offset[s1])
        p0, p1 = int(first[a0]), int(first[a1])
        _, _, _, je, jf, jv = model.parameter_jacobian(
            species[a0:a1], first[a0:a1 + 1] - p0, handle.neigh[p0:p1] - a0, handle.rij[p0:p1],
            offset[s0:s1 + 1] - a0, splines=False, num_threads=num_threads)
        out[s0:s1] = e_scale[s0:s1, None] * pulled_back(je)
        del je
        out[f0 + 3 * a0:f0 + 3 * a1] = f_scale[3 * a0:3 * a1, None] * pulled_back(jf)
        del jf
        here = np.flatnonzero(stress_index[s0:s1] >= 0)
        if here.size:
            rows = (6 * here[:, None] + np.arange(6)).ravel()
            block = s_scale[s0 + here].repeat(6)[:, None] * pulled_back(jv[rows])
            k0 = stress_index[s0 + here[0]]
            out[s0_row + 6 * k0:s0_row + 6 * (k0 + here.size)] = block
    if not np.all(np.isfinite(out)):
        raise InputError(f"the residual Jacobian is not finite ({int(np.sum(~np.isfinite(out)))} entries)")
    return out


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


__all__ = ["DEFAULT_CHUNK_MB", "check_least_squares_loss", "config_chunks", "data_jacobian", "l2_rows"]
