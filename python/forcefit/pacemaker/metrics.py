"""Fit metrics as pacemaker reports them: the iteration line, the FIT STATS block, metrics tables.

Design: ``compute_metrics`` turns predictions (arrays) into python-ace's metrics dictionary
(same key names: ``loss``, ``rmse_epa``, ``low_rmse_f_comp`` ...); ``iteration_line`` and
``stats_block`` format it exactly as ``pyace.metrics_aggregator`` does; ``MetricsRecorder`` routes
each record to the log and to ``metrics.txt``, ``test_metrics.txt``, ``cycle_metrics.txt``,
``ladder_metrics.txt`` (+ ``test_`` versions) with python-ace's columns. Table headers are written
atomically; rows are appended one line at a time (like ``log.txt``) so that a running fit can be
followed with ``tail -f`` without rewriting the file every iteration.

Units: energies per atom in eV/atom (printed in meV/atom), forces in eV/Å (printed in meV/Å);
``eval_time`` in seconds (printed as microseconds per atom). The "low" metrics use the structures
within ``de_low`` (1 eV/atom) of the convex hull (``e_chull_dist_per_atom`` when present) or of
the lowest energy per atom.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np

from ..atomic import write_text_atomically

log = logging.getLogger(__name__)

#: python-ace's table columns: a name (22 wide) or (name, width)
COLUMNS: List[Union[str, tuple]] = [
    ("ladder_step", 11),
    ("cycle_step", 11),
    ("iter_num", 8),
    "loss",
    "e_loss_contrib",
    "f_loss_contrib",
    "reg_loss",
    "rmse_epa",
    "rmse_f_comp",
    "low_rmse_epa",
    "low_rmse_f_comp",
    "mae_f_comp",
    "low_mae_f_comp",
    ("nfuncs", 6),
    ("ncoefs", 6),
    "l1_reg_contrib",
    "l2_reg_contrib",
    "smooth_orth",
    "smooth_w1",
    "smooth_w2",
    "smooth_w3",
]
CYCLE_COLUMNS = COLUMNS[:2] + COLUMNS[3:]
LADDER_COLUMNS = COLUMNS[:1] + COLUMNS[3:]


def low_energy_mask(frame, de_low: float = 1.0) -> np.ndarray:
    """(S,) True for structures within ``de_low`` eV/atom of the hull (or of the minimum)."""
    if "e_chull_dist_per_atom" in frame.columns:
        return frame["e_chull_dist_per_atom"].to_numpy(dtype=float) <= de_low
    epa = frame["energy_corrected"].to_numpy(dtype=float) / frame["NUMBER_OF_ATOMS"].to_numpy()
    return epa <= epa.min() + de_low


def _error_stats(de_pa: np.ndarray, df: np.ndarray, prefix: str) -> Dict[str, float]:
    if de_pa.size == 0:
        return {
            f"{prefix}{k}": 0.0
            for k in (
                "rmse_epa",
                "mae_epa",
                "max_abs_epa",
                "rmse_f",
                "mae_f",
                "max_abs_f",
                "rmse_f_comp",
                "mae_f_comp",
                "max_abs_f_comp",
            )
        }
    has_f = df.size > 0
    return {
        f"{prefix}rmse_epa": float(np.sqrt(np.mean(de_pa**2))),
        f"{prefix}mae_epa": float(np.mean(np.abs(de_pa))),
        f"{prefix}max_abs_epa": float(np.max(np.abs(de_pa))),
        f"{prefix}rmse_f": float(np.sqrt(np.mean(np.sum(df**2, axis=1)))) if has_f else 0.0,
        f"{prefix}mae_f": float(np.mean(np.linalg.norm(df, axis=1))) if has_f else 0.0,
        f"{prefix}max_abs_f": float(np.max(np.abs(df))) if has_f else 0.0,
        f"{prefix}rmse_f_comp": float(np.sqrt(np.mean(df**2))) if has_f else 0.0,
        f"{prefix}mae_f_comp": float(np.mean(np.abs(df))) if has_f else 0.0,
        f"{prefix}max_abs_f_comp": float(np.max(np.abs(df))) if has_f else 0.0,
    }


def compute_metrics(
    energy_pred: np.ndarray,
    forces_pred: np.ndarray,
    energy_ref: np.ndarray,
    forces_ref: np.ndarray,
    n_atoms: np.ndarray,
    components,
    low_mask: Optional[np.ndarray] = None,
    iter_num: int = 0,
    eval_count: int = 0,
    eval_time: float = 0.0,
    ncoefs: int = 0,
    nfuncs: Optional[int] = None,
    kappa: float = 0.0,
) -> Dict[str, object]:
    """python-ace's metrics dictionary for one evaluation.

    Args:
        energy_pred, energy_ref: (S,) eV. forces_pred, forces_ref: (A, 3) eV/Å.
        n_atoms: (S,) atoms per structure.
        components: ``engine.LossComponents`` of this evaluation.
        low_mask: (S,) structures counted in the "low" metrics (None: none).
        eval_time: seconds of this evaluation.
    """
    n_atoms = np.asarray(n_atoms, dtype=np.int64)
    de = np.asarray(energy_pred, dtype=float) - np.asarray(energy_ref, dtype=float)
    de_pa = de / n_atoms
    df = np.asarray(forces_pred, dtype=float).reshape(-1, 3) - np.asarray(forces_ref, dtype=float).reshape(-1, 3)
    metrics: Dict[str, object] = {
        "iter_num": int(iter_num),
        "eval_count": int(eval_count),
        "loss": float(components.total),
        "e_loss_contrib": float(components.energy),
        "f_loss_contrib": float(components.forces),
        "s_loss_contrib": float(components.stress),
        "l1_reg_contrib": float(components.l1),
        "l2_reg_contrib": float(components.l2),
        "extra_regularization_contrib": [float(x) for x in components.smoothness],
        "e_loss": float(components.e_loss),
        "f_loss": float(components.f_loss),
        "e_scale": 1.0 - float(kappa),
        "f_scale": float(kappa),
        "eval_time": float(eval_time),
        "nat": int(n_atoms.sum()),
        "ncoefs": int(ncoefs),
    }
    if nfuncs is not None:
        metrics["nfuncs"] = int(nfuncs)
    metrics.update(_error_stats(de_pa, df, ""))
    mask = np.zeros(len(de_pa), dtype=bool) if low_mask is None else np.asarray(low_mask, dtype=bool)
    metrics.update(_error_stats(de_pa[mask], df[np.repeat(mask, n_atoms)], "low_"))
    return metrics


# -- formatting ----------------------------------------------------------------------------------------


def _time_per_atom_us(metrics) -> float:
    return metrics["eval_time"] / metrics["nat"] * 1e6 if metrics["nat"] else 0.0


def iteration_line(metrics, title: str = "Iteration") -> str:
    """``Iteration   #12   (14 evals):     Loss: 1.2345e-03 | RMSE Energy(low): ... | Time/eval: ... mcs/at``."""
    evals = f"({metrics['eval_count']} evals):"
    return (
        f"{title:<12}#{metrics['iter_num']:<5}{evals:<14}{'Loss: ':>10}{metrics['loss']: >1.4e}"
        f"{' | RMSE Energy(low): ':>21}{1e3 * metrics['rmse_epa']:>.2f} ({1e3 * metrics['low_rmse_epa']:>.2f}) meV/at"
        f"{' | Forces(low): ':>16}{1e3 * metrics['rmse_f_comp']:>.2f} ({1e3 * metrics['low_rmse_f_comp']:>.2f}) meV/A"
        f" | Time/eval: {_time_per_atom_us(metrics):>6.2f} mcs/at"
    )


def _share(part: float, total: float) -> float:
    return part / total * 100 if total > 0 else 0.0


def stats_block(metrics, title: str = "FIT STATS") -> str:
    """python-ace's extended statistics block (loss terms, then RMSE/MAE/MAX_AE table)."""
    total = metrics["loss"]
    lines = ["", "-" * 44 + title + "-" * 44]
    lines.append(f"{'Iteration:':<11} #{metrics['iter_num']:<4}{'Loss:':<8}{'Total: ':>8} {total:>1.4e} ({100:3.0f}%) ")
    lines.append(
        f"{'Energy: ':>33} {metrics['e_loss_contrib']:>1.4e} ({_share(metrics['e_loss_contrib'], total):3.0f}%) "
    )
    lines.append(
        f"{'Force: ':>33} {metrics['f_loss_contrib']:>1.4e} ({_share(metrics['f_loss_contrib'], total):3.0f}%) "
    )
    if metrics.get("s_loss_contrib"):
        lines.append(
            f"{'Stress: ':>33} {metrics['s_loss_contrib']:>1.4e} ({_share(metrics['s_loss_contrib'], total):3.0f}%) "
        )
    l1, l2 = metrics["l1_reg_contrib"], metrics["l2_reg_contrib"]
    lines.append(f"{'L1: ':>33} {l1:>1.4e} ({(l1 / total * 100 if total != 0 else 0):3.0f}%) ")
    lines.append(f"{'L2: ':>33} {l2:>1.4e} ({(l2 / total * 100 if total != 0 else 0):3.0f}%) ")
    for k, comp in enumerate(metrics["extra_regularization_contrib"]):
        share = comp / total * 100 if total != 0 else 0
        lines.append(f"{f'Smooth_w{k + 1}: ':>33} {comp:>1.4e} ({share:3.0f}%) ")
    nfuncs = metrics.get("nfuncs")
    label = "Number of params.: " if nfuncs is None else "Number of params./funcs: "
    params = f"{label:>20}{metrics['ncoefs']:>6d}" + ("" if nfuncs is None else f"/{nfuncs:<6d}")
    params += f"{'Avg. time: ':>42}{_time_per_atom_us(metrics):>10.2f} {'mcs/at':<6}"
    lines.append(params)
    lines.append("-" * 97)
    header = (
        f"{'':>9}{'Energy/at, meV/at':^22}{'Energy_low/at, meV/at':^22}{'Force, meV/A':^22}{'Force_low, meV/A':^22}"
    )
    lines.append(header)
    for label, key in (("RMSE: ", "rmse"), ("MAE: ", "mae"), ("MAX_AE: ", "max_abs")):
        lines.append(
            f"{label:>9} {1e3 * metrics[f'{key}_epa']:>14.2f}{1e3 * metrics[f'low_{key}_epa']:>21.2f}"
            f"{1e3 * metrics[f'{key}_f_comp']:>21.2f}{1e3 * metrics[f'low_{key}_f_comp']:>24.2f}"
        )
    lines.append("-" * 97)
    return "\n".join(lines)


def _column_formats(columns) -> tuple:
    names, formats = [], []
    for column in columns:
        if isinstance(column, str):
            names.append(column)
            formats.append("{:<22}")
        else:
            names.append(column[0])
            formats.append("{:<" + str(min(len(column[0]), column[1])) + "}")
    return names, " ".join(formats)


def table_header(columns=COLUMNS) -> str:
    names, fmt = _column_formats(columns)
    return fmt.format(*names)


def table_row(metrics, columns=COLUMNS) -> str:
    """One row: ``reg_loss`` = L1 + L2 + extra terms; ``smooth_orth``, ``smooth_w1..3`` from the
    extra terms (orthogonality first when four are given, as python-ace)."""
    values = dict(metrics)
    extra = list(metrics.get("extra_regularization_contrib", []))
    values["reg_loss"] = metrics["l1_reg_contrib"] + metrics["l2_reg_contrib"] + sum(extra)
    if len(extra) == 0:
        extra = [0, 0, 0, 0]
    elif len(extra) == 1:
        extra = extra + [0, 0, 0]
    elif len(extra) == 3:
        extra = [0] + extra
    values.update(smooth_orth=extra[0], smooth_w1=extra[1], smooth_w2=extra[2], smooth_w3=extra[3])
    names, fmt = _column_formats(columns)
    return fmt.format(*[values.get(name, 0) for name in names])


class MetricsTable:
    """A text table: header written atomically at creation, rows appended."""

    def __init__(self, path: Path, columns=COLUMNS):
        self.path = Path(path)
        self.columns = columns
        write_text_atomically(self.path, table_header(columns) + "\n")

    def append(self, metrics) -> None:
        with open(self.path, "a") as handle:
            handle.write(table_row(metrics, self.columns) + "\n")


class MetricsRecorder:
    """Routes metrics to the log and the tables, as python-ace's MetricsAggregator.

    Files (in ``folder``): metrics.txt, test_metrics.txt, cycle_metrics.txt,
    test_cycle_metrics.txt, test_ladder_metrics.txt, and ladder_metrics.txt for ladder fits.
    """

    def __init__(self, folder: Path = Path("."), display_step: int = 20, ladder: bool = False):
        folder = Path(folder)
        self.display_step = display_step
        self.train = MetricsTable(folder / "metrics.txt")
        self.test = MetricsTable(folder / "test_metrics.txt")
        self.cycle = MetricsTable(folder / "cycle_metrics.txt", CYCLE_COLUMNS)
        self.test_cycle = MetricsTable(folder / "test_cycle_metrics.txt", CYCLE_COLUMNS)
        self.test_ladder = MetricsTable(folder / "test_ladder_metrics.txt", LADDER_COLUMNS)
        self.ladder = MetricsTable(folder / "ladder_metrics.txt", LADDER_COLUMNS) if ladder else None

    def train_iteration(self, metrics) -> None:
        self.train.append(metrics)
        if metrics["iter_num"] == 0:
            log.info(iteration_line(metrics, "Initial state:"))
            log.info(stats_block(metrics, "INIT STATS"))
        elif metrics["iter_num"] % self.display_step == 0:
            log.info(stats_block(metrics, "FIT STATS"))
        else:
            log.info(iteration_line(metrics, "Iteration"))

    def test_iteration(self, metrics) -> None:
        self.test.append(metrics)
        if metrics["iter_num"] == 0:
            log.info(iteration_line(metrics, "Initial(TEST):"))
            log.info(stats_block(metrics, "INIT TEST STATS"))
        elif metrics["iter_num"] % self.display_step == 0:
            log.info(stats_block(metrics, "TEST STATS"))

    def cycle_end(self, metrics, test_metrics=None) -> None:
        log.info(stats_block(metrics, "Cycle last iteration:"))
        self.cycle.append(metrics)
        if test_metrics:
            log.info(stats_block(test_metrics, "TEST Cycle last iteration:"))
            self.test_cycle.append(test_metrics)

    def ladder_end(self, metrics, test_metrics=None) -> None:
        log.info(stats_block(metrics, "LADDER STEP"))
        if self.ladder is not None:
            self.ladder.append(metrics)
        if test_metrics:
            log.info(stats_block(test_metrics, "TEST LADDER STEP"))
            self.test_ladder.append(test_metrics)


__all__ = [
    "COLUMNS",
    "MetricsRecorder",
    "MetricsTable",
    "compute_metrics",
    "iteration_line",
    "low_energy_mask",
    "stats_block",
    "table_header",
    "table_row",
]
