"""Root-mean-square errors of energies and forces (KLIFF's ``EnergyForcesRMSE``).

KLIFF's definitions, per configuration m with N_m atoms (division by N_m only when
``normalize=True``):
    energy difference norm   e_m = |E_pred - E_ref| / N_m                 (eV/atom)
    forces difference norm   f_m = ||F_pred - F_ref||_2 / N_m            ((eV/Å)/atom)
    e_RMSE = sqrt(mean_m e_m^2),  f_RMSE = sqrt(mean_m f_m^2)
where ||.||_2 is the norm of the configuration's whole 3N_m force-difference vector.

Because KLIFF's f_RMSE mixes a per-configuration norm with a division by N_m, it is not the force
RMSE most papers quote; ``run`` therefore also reports the conventional ones:
    energy RMSE per atom      sqrt(mean_m ((E_pred - E_ref)/N_m)^2)                 (eV/atom)
    force component RMSE      sqrt(mean over all atoms and x,y,z of (F_pred - F_ref)^2)  (eV/Å)

The model is evaluated once for the whole dataset (``Calculator.compute_all``).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, Dict, Optional, TextIO, Union

import numpy as np

from ..errors import InputError

logger = logging.getLogger(__name__)


class EnergyForcesRMSE:
    """Energy and force errors of a calculator's dataset.

    Args:
        calculator: a created ``forcefit.calculators.Calculator``.
        energy, forces: analyze energies / forces.
    """

    def __init__(self, calculator, energy: bool = True, forces: bool = True):
        self.calculator = calculator
        self.compute_energy = bool(energy)
        self.compute_forces = bool(forces)

    def compute(self, normalize: bool = True) -> Dict[str, Any]:
        """The numbers without writing anything.

        Returns a dict with ``identifiers`` [C], ``energy_norm`` [C], ``forces_norm`` [C],
        ``energy_rmse``, ``forces_rmse`` (KLIFF's definitions) and ``energy_rmse_per_atom``,
        ``forces_component_rmse`` (conventional ones). Configurations without reference energy
        (forces) have NaN norms and are left out of the energy (force) averages.
        """
        calc = self.calculator
        refs = calc._require_created()
        res = calc.compute_all(forces=self.compute_forces)
        natoms = refs.natoms.astype(float)
        div = natoms if normalize else np.ones_like(natoms)
        out: Dict[str, Any] = {"identifiers": list(refs.identifiers), "normalize": normalize}

        ref_e = np.array([_ref_energy(ca.conf) for ca in calc.get_compute_arguments()])
        e_diff = res.energy - ref_e
        out["energy_diff"] = e_diff
        out["energy_norm"] = np.abs(e_diff) / div
        has_e = np.isfinite(out["energy_norm"])
        out["energy_rmse"] = _rms(out["energy_norm"][has_e]) if self.compute_energy else None
        out["energy_rmse_per_atom"] = _rms((e_diff / natoms)[has_e]) if self.compute_energy else None

        if self.compute_forces:
            ref_f = np.full((refs.atom_offset[-1], 3), np.nan)
            for i, ca in enumerate(calc.get_compute_arguments()):
                f = _ref_forces(ca.conf)
                if f is not None:
                    ref_f[refs.atom_offset[i]:refs.atom_offset[i + 1]] = f
            f_diff = res.forces - ref_f
            per_config_sq = np.add.reduceat((f_diff ** 2).sum(axis=1), refs.atom_offset[:-1])
            norms = np.sqrt(per_config_sq) / div
            has_f = np.isfinite(norms)
            out["forces_diff"] = f_diff
            out["forces_norm"] = norms
            out["forces_rmse"] = _rms(norms[has_f])
            rows = np.all(np.isfinite(f_diff), axis=1)
            out["forces_component_rmse"] = _rms(f_diff[rows].reshape(-1))
        else:
            out["forces_norm"] = np.full(refs.n_configs, np.nan)
            out["forces_rmse"] = out["forces_component_rmse"] = None
        return out

    def run(self, normalize: bool = True, sort: Optional[str] = None,
            path: Union[str, Path, TextIO, None] = None, verbose: int = 1) -> Dict[str, Any]:
        """Compute and write the report (to ``path``, a file name or stream; stdout when None).

        Args:
            normalize: divide per-configuration norms by the number of atoms.
            sort: order per-configuration lines by ``"energy"`` or ``"forces"`` norm.
            verbose: 0 = dataset RMSEs only; 1 = also one line per configuration;
                2 = also write each configuration's energy/force differences as extended XYZ
                files under ``analysis_energy_forces_RMSE-difference/``.

        Returns:
            the dict of ``compute``.
        """
        if sort not in (None, "energy", "forces"):
            raise InputError(f"sort must be None, 'energy' or 'forces', got {sort!r}")
        r = self.compute(normalize)
        order = np.arange(len(r["identifiers"]))
        if sort == "energy" and self.compute_energy:
            order = np.argsort(r["energy_norm"])
        elif sort == "forces" and self.compute_forces:
            order = np.argsort(r["forces_norm"])

        unit = "/atom" if normalize else ""
        lines = ["#" * 80, "# Root-mean-square errors for energy and forces", "#",
                 f"# Norms are per configuration{' and divided by its number of atoms' if normalize else ''}:",
                 f"# energy in eV{unit}, forces in (eV/Å){unit}.", "#" * 80, ""]
        if verbose >= 1:
            header = "# config    "
            header += "energy difference norm    " if self.compute_energy else ""
            header += "forces difference norm    " if self.compute_forces else ""
            lines += ["#" * 80, "Per configuration quantity", "", header + "config identifier"]
            for k in order:
                line = f"{k:<10d}  "
                if self.compute_energy:
                    line += f"{r['energy_norm'][k]:.10e}          "
                if self.compute_forces:
                    line += f"{r['forces_norm'][k]:.10e}          "
                lines.append(line + str(r["identifiers"][k]))
            lines.append("")
        lines += ["#" * 80, "RMSE for the dataset (all configurations)."]
        if self.compute_energy:
            lines.append(f"{r['energy_rmse']:.10e}    # energy RMSE (KLIFF definition)")
            lines.append(f"{r['energy_rmse_per_atom']:.10e}    # energy RMSE per atom, eV/atom")
        if self.compute_forces:
            lines.append(f"{r['forces_rmse']:.10e}    # forces RMSE (KLIFF definition)")
            lines.append(f"{r['forces_component_rmse']:.10e}    # force component RMSE, eV/Å")
        text = "\n".join(lines) + "\n"
        if path is None:
            sys.stdout.write(text)
        elif isinstance(path, (str, Path)):
            Path(path).write_text(text)
        else:
            path.write(text)
        if verbose >= 2:
            self._write_differences(r)
        logger.info("Energy/forces RMSE analysis done for %d configurations.", len(order))
        return r

    def _write_differences(self, r: Dict[str, Any], folder: str = "analysis_energy_forces_RMSE-difference") -> None:
        from ..dataset.configuration import Configuration

        calc = self.calculator
        refs = calc.refs
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for i, ca in enumerate(calc.get_compute_arguments()):
            conf = ca.conf
            forces = r["forces_diff"][refs.atom_offset[i]:refs.atom_offset[i + 1]] if self.compute_forces else None
            diff = Configuration(cell=conf.cell, species=conf.species, coords=conf.coords, PBC=conf.PBC,
                                 energy=r["energy_diff"][i],
                                 forces=forces if forces is not None and np.all(np.isfinite(forces)) else None,
                                 identifier=conf.identifier)
            diff.to_file(out / f"config_{i:06d}.xyz")


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(values)))) if len(values) else float("nan")


def _ref_energy(conf: Any) -> float:
    if getattr(conf, "has_energy", True) is False:
        return np.nan
    e = getattr(conf, "energy", None)
    return np.nan if e is None else float(e)


def _ref_forces(conf: Any) -> Optional[np.ndarray]:
    if getattr(conf, "has_forces", True) is False:
        return None
    return getattr(conf, "forces", None)


__all__ = ["EnergyForcesRMSE"]
