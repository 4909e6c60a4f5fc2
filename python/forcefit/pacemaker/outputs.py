"""pacemaker's output files: prediction tables, data-info pickles and the ``report/`` plots.

Everything here takes predictions as arrays, so it works (and is tested) without an engine:

* ``prediction_frame`` -> python-ace's ``train_pred.pckl.gzip``/``test_pred.pckl.gzip`` table: the
  prepared data without ``ase_atoms`` plus ``nn_min`` (shortest interatomic distance, Å),
  ``energy_pred`` (eV) and ``forces_pred`` ((N, 3) eV/Å per structure);
* ``write_data_info`` -> ``fitting_data_info.pckl.gzip``/``test_data_info.pckl.gzip`` (the
  prepared data, as python-ace saves them before fitting);
* ``plot_data_distributions`` -> ``train_ef-distributions.png`` (histograms of the reference data);
* ``plot_error_report`` -> ``report/<prefix>EF-pairplots``, ``E-dE-dist``, ``Fi-dFi-dist``,
  ``F-dF-dist``, ``E-dE-nn`` (python-ace's names): parity plots and error distributions.

Plots use matplotlib's Agg backend through the object API (no global pyplot state), so they work
without a display. Every file is written atomically (temporary file + rename).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from ..atomic import atomic_output

log = logging.getLogger(__name__)

DROP_COLUMNS = ("ase_atoms", "atomic_env", "tp_atoms", "_source")
REPORT_PLOTS = ("EF-pairplots", "E-dE-dist", "Fi-dFi-dist", "F-dF-dist", "E-dE-nn")


def minimal_distance(atoms, cutoff: float = 8.0) -> float:
    """Shortest interatomic distance in ``atoms`` (periodic images included), Å; NaN when no pair
    lies within ``cutoff``."""
    from ..neighbor import neighbor_list_atoms

    if len(atoms) == 0:
        return float("nan")
    # a short search finds the nearest pair in condensed matter; the radius grows only when it finds none
    radius = min(3.0, cutoff)
    while True:
        distances = neighbor_list_atoms(atoms, radius, "d")
        if distances.size:
            return float(distances.min())
        if radius >= cutoff:
            return float("nan")
        radius = min(2.0 * radius, cutoff)


def split_per_structure(forces: np.ndarray, n_atoms: Sequence[int]):
    """(A, 3) -> list of (N_s, 3) arrays."""
    forces = np.asarray(forces, dtype=float).reshape(-1, 3)
    offsets = np.concatenate([[0], np.cumsum(n_atoms)])
    if offsets[-1] != len(forces):
        raise ValueError(f"forces have {len(forces)} rows for {offsets[-1]} atoms")
    return [forces[a:b].copy() for a, b in zip(offsets[:-1], offsets[1:])]


def prediction_frame(frame, energy_pred: np.ndarray, forces_pred: np.ndarray, is_train: bool, nn_cutoff: float = 8.0):
    """python-ace's prediction table (see the module docstring).

    Args:
        frame: the prepared data (train or test).
        energy_pred: (S,) predicted energies, eV.
        forces_pred: (A, 3) predicted forces, eV/Å, in the frame's atom order.
        is_train: value of the ``train`` column.
        nn_cutoff: search radius for ``nn_min``, Å.
    """
    energy_pred = np.asarray(energy_pred, dtype=float)
    if energy_pred.shape != (len(frame),):
        raise ValueError(f"energy_pred has shape {energy_pred.shape}, expected ({len(frame)},)")
    table = frame.copy()
    table["nn_min"] = [minimal_distance(atoms, nn_cutoff) for atoms in frame["ase_atoms"]]
    table["train"] = bool(is_train)
    table = table.drop(columns=[c for c in DROP_COLUMNS if c in table.columns])
    table["energy_pred"] = energy_pred
    table["forces_pred"] = split_per_structure(forces_pred, frame["NUMBER_OF_ATOMS"].to_numpy())
    return table


def write_pickle(table, path: Path) -> None:
    """Gzip pickle (protocol 4, as python-ace), atomically."""
    with atomic_output(Path(path)) as tmp:
        table.to_pickle(tmp, compression="gzip", protocol=4)
    log.info(f"Saved {path}")


def write_data_info(frame, path: Path) -> None:
    """The prepared data without neighbour lists, as python-ace's ``fitting_data_info.pckl.gzip``."""
    write_pickle(frame.drop(columns=[c for c in ("atomic_env", "tp_atoms", "_source") if c in frame.columns]), path)


def _figure(**kwargs):
    from matplotlib.figure import Figure

    return Figure(dpi=150, **kwargs)


def _save(fig, path: Path) -> None:
    path = Path(path)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip("."))


def plot_data_distributions(frame, path: Path) -> None:
    """Histograms of energy_corrected per atom (eV/atom) and force norms (eV/Å), log counts."""
    fig = _figure(figsize=(7, 2))
    ax_e, ax_f = fig.subplots(1, 2)
    ax_e.hist(frame["energy_corrected_per_atom"].to_numpy(dtype=float), bins=100)
    ax_e.set_yscale("log")
    ax_e.set_title("DFT energy distribution")
    ax_e.set_xlabel("E, eV/atom")
    norms = np.linalg.norm(np.vstack(frame["forces"].to_list()), axis=1)
    ax_f.hist(norms, bins=100)
    ax_f.set_yscale("log")
    ax_f.set_title("DFT forces norm distribution")
    ax_f.set_xlabel("|F|, eV/A")
    fig.tight_layout()
    _save(fig, path)


def _parity(ax, reference, predicted, xlabel, ylabel, title):
    ax.scatter(reference, predicted, s=3)
    low = min(np.min(reference), np.min(predicted))
    high = max(np.max(reference), np.max(predicted))
    pad = 0.05 * (high - low) if high > low else 1e-3
    lims = (low - pad, high + pad)
    ax.plot(lims, lims, color="gray", lw=0.8, ls="--")
    ax.set_xlim(lims)
    ax.set_ylim(lims)
    ax.set_aspect(1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)


def _binned_rmse(x: np.ndarray, err: np.ndarray, bins: int = 50):
    edges = np.linspace(x.min(), x.max(), bins + 1) if x.max() > x.min() else np.array([x.min(), x.min() + 1e-12])
    index = np.clip(np.digitize(x, edges) - 1, 0, len(edges) - 2)
    centers = 0.5 * (edges[:-1] + edges[1:])
    rmse = np.array(
        [np.sqrt(np.mean(err[index == k] ** 2)) if np.any(index == k) else np.nan for k in range(len(centers))]
    )
    return centers, rmse


def _error_distribution(path: Path, x, err_milli, xlabel, ylabel):
    """Top: histogram of x; middle: error vs x with binned RMSE; right: error histogram + normal fit."""
    from scipy import stats

    fig = _figure(figsize=(7, 4))
    grid = fig.add_gridspec(2, 2, width_ratios=[7, 1], height_ratios=[1, 3], wspace=0.0, hspace=0.0)
    ax_top = fig.add_subplot(grid[0, 0])
    ax_main = fig.add_subplot(grid[1, 0], sharex=ax_top)
    ax_side = fig.add_subplot(grid[1, 1], sharey=ax_main)
    ax_top.hist(x, bins=100, color="gray")
    ax_top.axis("off")
    ax_main.scatter(x, err_milli, s=3, color="lightsteelblue", label="samples")
    bins = int(min(50, max(5, len(x) // 10)))  # about ten samples per bin, 5 to 50 bins
    centers, rmse = _binned_rmse(np.asarray(x), np.asarray(err_milli), bins)
    filled = np.isfinite(rmse)
    ax_main.plot(centers[filled], rmse[filled], "o-", ms=3, color="red", lw=2, label="RMSE")
    ax_main.set_xlabel(xlabel)
    ax_main.set_ylabel(ylabel)
    ax_main.legend()
    counts, edges, _ = ax_side.hist(err_milli, bins=100, density=True, color="gray", orientation="horizontal")
    std = float(np.std(err_milli))
    if std > 0:
        ax_side.plot(stats.norm.pdf(edges, loc=float(np.mean(err_milli)), scale=std), edges, color="orange", ls="--")
    ax_side.axis("off")
    _save(fig, path)


def plot_error_report(table, folder: Path, prefix: str = "train_", imagetype: str = "png") -> list:
    """python-ace's five report plots for a prediction table; returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n_atoms = table["NUMBER_OF_ATOMS"].to_numpy()
    e_ref = table["energy_corrected"].to_numpy(dtype=float) / n_atoms
    e_pred = table["energy_pred"].to_numpy(dtype=float) / n_atoms
    de_pa = e_pred - e_ref
    forces = np.vstack(table["forces"].to_list())
    forces_pred = np.vstack(table["forces_pred"].to_list())
    dforces = forces_pred - forces
    paths = [folder / f"{prefix}{name}.{imagetype}" for name in REPORT_PLOTS]

    fig = _figure(figsize=(8, 4))
    ax_e, ax_f = fig.subplots(1, 2)
    _parity(ax_e, e_ref, e_pred, "E(DFT), eV/at", "E, eV/at", "Energy")
    _parity(ax_f, forces.ravel(), forces_pred.ravel(), "F$_i$(DFT), eV/$\\AA$", "F$_i$, eV/$\\AA$", "Force components")
    fig.tight_layout()
    _save(fig, paths[0])

    _error_distribution(paths[1], e_ref, de_pa * 1e3, "E(DFT), eV/atom", "dE, meV/atom")
    _error_distribution(paths[2], forces.ravel(), dforces.ravel() * 1e3, "F$_i$, eV/$\\AA$", "dF$_i$, meV/$\\AA$")
    _error_distribution(
        paths[3],
        np.linalg.norm(forces, axis=1),
        np.linalg.norm(dforces, axis=1) * 1e3,
        "|F|, eV/$\\AA$",
        "|dF|, meV/$\\AA$",
    )

    fig = _figure(figsize=(7, 4))
    ax_top, ax_bottom = fig.subplots(2, 1, sharex=True)
    nn_min = table["nn_min"].to_numpy(dtype=float) if "nn_min" in table.columns else np.full(len(table), np.nan)
    ax_top.scatter(nn_min, e_ref, s=3)
    ax_top.set_ylabel("E(DFT), eV/atom")
    ax_bottom.scatter(nn_min, de_pa * 1e3, s=3)
    ax_bottom.set_xlabel("d$_{NN}$, $\\AA$")
    ax_bottom.set_ylabel("dE, meV/atom")
    fig.tight_layout()
    _save(fig, paths[4])
    return paths


__all__ = [
    "REPORT_PLOTS",
    "minimal_distance",
    "plot_data_distributions",
    "plot_error_report",
    "prediction_frame",
    "split_per_structure",
    "write_data_info",
    "write_pickle",
]
