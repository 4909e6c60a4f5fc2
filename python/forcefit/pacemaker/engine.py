r"""The narrow interface between the pacemaker front end and an ACE fitting engine.

The front end (input file, data, weights, optimizer loop, metrics, outputs) is independent of
how a potential is evaluated. An engine plugs in by implementing ``FitEngine`` and the potential
it returns by implementing ``TrainablePotential``; the front end calls nothing else.

Data layout (``FitData``, built once per data set by ``FitData.from_frame``): S structures with
A atoms in total, atoms of structure s at rows ``atom_offset[s]:atom_offset[s+1]``.

The loss (python-ace's, ``pyace`` tensorpot backend; forcefit adds the stress term):

.. math::

    L = (1-\kappa) \sum_s w_{E,s} \Big(\frac{E_s^\mathrm{pred} - E_s}{N_s}\Big)^2
      + \kappa \sum_{i} w_{F,i} \,|\mathbf F_i^\mathrm{pred} - \mathbf F_i|^2
      + w_\sigma \sum_s w_{E,s} \,|\boldsymbol\sigma_s^\mathrm{pred} - \boldsymbol\sigma_s|^2
      + L_1 \sum_p |c_p| + L_2 \sum_p c_p^2 + \text{(radial smoothness and orthogonality terms)}

with :math:`E` the corrected energy (eV), :math:`N_s` the atom count, forces in eV/Å, stress in
eV/Å^3 (Voigt, six components, ASE sign), weights normalized (``weighting.py``), :math:`c_p` the
basis-function coefficients. ``data_loss`` computes the data terms from predictions; an engine
adds the regularization terms (it knows which parameters are function coefficients) and the
gradient with respect to the flat parameter vector.

Until an engine is installed, ``get_fit_engine`` raises ``NotCompiledError``: forcefit never
pretends to fit. The ACE engine registers itself by providing a module
``forcefit.ace.fit_engine`` with a function ``create_fit_engine(backend) -> FitEngine``; tests
and other engines may call ``register_fit_engine(factory)``.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Protocol, Sequence, Tuple, runtime_checkable

import numpy as np

from ..errors import NotCompiledError

ENGINE_MODULE = "forcefit.ace.fit_engine"


@dataclass(frozen=True)
class FitData:
    """One data set (train or test) as flat arrays.

    Attributes:
        names: (S,) structure names.
        structures: (S,) ``ase.Atoms`` (cell rows = lattice vectors, Å; positions Å; pbc).
        energy: (S,) corrected reference energies, eV.
        forces: (A, 3) reference forces, eV/Å, structures concatenated in order.
        n_atoms: (S,) atoms per structure.
        atom_offset: (S+1,) int64; atoms of structure s are rows atom_offset[s]:atom_offset[s+1].
        w_energy: (S,) energy weights (sum 1).
        w_forces: (A,) per-atom force weights (sum 1).
        stress: (S, 6) reference stress, eV/Å^3, Voigt xx yy zz yz xz xy, ASE sign (tensile
            positive), NaN rows where absent; None when no structure has one.
    """

    names: Tuple[str, ...]
    structures: Tuple[object, ...]
    energy: np.ndarray
    forces: np.ndarray
    n_atoms: np.ndarray
    atom_offset: np.ndarray
    w_energy: np.ndarray
    w_forces: np.ndarray
    stress: Optional[np.ndarray] = None

    @property
    def n_structures(self) -> int:
        return len(self.names)

    @classmethod
    def from_frame(cls, frame) -> "FitData":
        """Build from a prepared DataFrame (``preparedata.py`` columns)."""
        n_atoms = frame["NUMBER_OF_ATOMS"].to_numpy(dtype=np.int64)
        offset = np.zeros(len(n_atoms) + 1, dtype=np.int64)
        np.cumsum(n_atoms, out=offset[1:])
        stress = None
        if "stress" in frame.columns:
            rows = [np.full(6, np.nan) if np.ndim(s) == 0 else _voigt(s) for s in frame["stress"]]
            stress = np.array(rows) if rows else None
        return cls(
            names=tuple(str(n) for n in frame["name"]),
            structures=tuple(frame["ase_atoms"]),
            energy=frame["energy_corrected"].to_numpy(dtype=float),
            forces=np.vstack([np.asarray(f, dtype=float).reshape(-1, 3) for f in frame["forces"]]),
            n_atoms=n_atoms,
            atom_offset=offset,
            w_energy=frame["w_energy"].to_numpy(dtype=float),
            w_forces=np.concatenate([np.asarray(w, dtype=float) for w in frame["w_forces"]]),
            stress=stress,
        )


def _voigt(stress) -> np.ndarray:
    s = np.asarray(stress, dtype=float)
    if s.size == 9:
        s = s.reshape(3, 3)
        return np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
    return s.reshape(6)


@dataclass(frozen=True)
class LossComponents:
    """The terms of the loss (see the module docstring), each already multiplied by its weight
    (``energy`` includes 1-kappa, ``forces`` kappa, ``stress`` w_stress).

    ``e_loss``/``f_loss`` are the unscaled sums (python-ace's metrics report both).
    ``smoothness``: radial smoothness (w0, w1, w2) and orthogonality contributions, in that order.
    """

    energy: float
    forces: float
    stress: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    smoothness: Tuple[float, ...] = ()
    e_loss: float = 0.0
    f_loss: float = 0.0

    @property
    def total(self) -> float:
        return self.energy + self.forces + self.stress + self.l1 + self.l2 + float(sum(self.smoothness))


@dataclass(frozen=True)
class Evaluation:
    """What an engine returns for one parameter vector and one data set.

    Attributes:
        loss: the total loss (``components.total``).
        gradient: (P,) dL/dparameters, or None when not requested.
        energy: (S,) predicted energies, eV (comparable with ``FitData.energy``).
        forces: (A, 3) predicted forces, eV/Å.
        components: the loss terms.
        stress: (S, 6) predicted stress, eV/Å^3 (Voigt, ASE sign), or None.
        eval_time: seconds spent in this evaluation (for "Time/eval ... mcs/at").
    """

    loss: float
    gradient: Optional[np.ndarray]
    energy: np.ndarray
    forces: np.ndarray
    components: LossComponents
    stress: Optional[np.ndarray] = None
    eval_time: float = 0.0


@dataclass(frozen=True)
class ResidualEvaluation:
    """Residuals and their Jacobian for least-squares optimizers (``FitEngine.residuals``).

    ``sum(residual**2)`` is the loss. Rows, in this order (see ``data_residuals``): S energy rows,
    3A force rows (atom-major, x y z), 6 stress rows per structure with a reference stress (when
    ``w_stress > 0``), then the engine's regularization rows (sums of squares only).

    Attributes:
        residual: (m,) dimensionless (square root of loss units).
        jacobian: (m, n) d residual / d parameters[columns], or None when not requested.
        columns: (n,) int64 indices of the parameters the Jacobian's columns belong to (the
            trainable ones; the others stay fixed).
        evaluation: the ``Evaluation`` at the same parameters (loss, predictions, components;
            gradient None).
    """

    residual: np.ndarray
    jacobian: Optional[np.ndarray]
    columns: np.ndarray
    evaluation: Evaluation


@runtime_checkable
class TrainablePotential(Protocol):
    """A potential whose trainable parameters form one flat vector.

    ``elements``: chemical symbols; ``cutoff``: largest bond cutoff, Å; ``metadata``: str -> str,
    saved with the potential (pacemaker stores ``reference_energy``, ``starttime``, ``user``...).
    """

    elements: Sequence[str]
    cutoff: float
    metadata: Dict[str, str]

    def get_parameters(self) -> np.ndarray:
        """(P,) the trainable parameters (a copy)."""

    def set_parameters(self, parameters: np.ndarray) -> None:
        """Set the trainable parameters from a (P,) vector."""

    @property
    def number_of_functions(self) -> int:
        """Number of basis functions (for "Number of params./funcs")."""

    def copy(self) -> "TrainablePotential":
        """An independent copy."""

    def save(self, path: Path) -> None:
        """Write the potential in python-ace's YAML format (atomically)."""

    # Optional: ``function_coefficient_mask() -> (P,) bool``, True for basis-function coefficients
    # (not radial ones); ``fit.randomize_func_coeffs`` then redraws only those.


@runtime_checkable
class FitEngine(Protocol):
    """What the pacemaker front end needs from an engine.

    ``name`` appears in the log. The front end calls, in order: ``build_potentials`` once;
    ``prepare`` once per data set (neighbour lists with the potential's cutoff); ``evaluate``
    many times (the optimizer); ``ladder_extend`` between ladder steps; ``set_core_repulsion``
    for ``fit.repulsion: auto``.
    """

    name: str

    def build_potentials(
        self, section, elements: Sequence[str], trainable_parameters=None
    ) -> Tuple[TrainablePotential, Optional[TrainablePotential]]:
        """(target, initial) from the checked ``potential`` section (``PotentialSection``):
        a shape or files, ``initial_potential`` merged, ``reset`` applied, the basis cut to
        ``number_of_functions_per_element``. ``initial`` is None outside a ladder fit (and the
        empty potential for a ladder fit without ``initial_potential``)."""

    def prepare(self, data: FitData, cutoff: float) -> object:
        """Per-data-set precomputation (neighbour lists); the returned handle is passed back to
        ``evaluate``."""

    def evaluate(
        self,
        potential: TrainablePotential,
        parameters: np.ndarray,
        data: FitData,
        handle: object,
        loss,
        gradient: bool = True,
    ) -> Evaluation:
        """Loss (``LossSpec`` ``loss``), its gradient and the predictions at ``parameters``."""

    def ladder_extend(
        self, current: TrainablePotential, target: TrainablePotential, step: int, ladder_type: str
    ) -> Tuple[TrainablePotential, bool]:
        """``current`` with up to ``step`` more functions of ``target`` in each block, in
        ``body_order`` or ``power_order`` (python-ace's ``extend_multispecies_basis``); the flag
        is False when nothing was added."""

    def set_core_repulsion(self, potential: TrainablePotential, min_distance: Dict[Tuple[str, str], float]) -> None:
        """ZBL inner core repulsion with inner cutoffs at the smallest distance per element pair, Å."""

    # Optional, for the least-squares optimizers (trf, dogbox, lm, geodesiclm):
    # ``residuals(potential, parameters, data, handle, loss, jacobian=True, chunk_mb=None)
    # -> ResidualEvaluation``; chunk_mb bounds the working memory of the Jacobian (MB).


_factories: list = []


def register_fit_engine(factory: Optional[Callable[..., FitEngine]]) -> None:
    """Make ``factory(backend) -> FitEngine`` the engine ``get_fit_engine`` returns (None: unregister)."""
    _factories.clear()
    if factory is not None:
        _factories.append(factory)


def get_fit_engine(backend=None) -> FitEngine:
    """The installed ACE fitting engine.

    Raises:
        NotCompiledError: no engine in this build (the message says so plainly).
    """
    if _factories:
        return _factories[0](backend)
    try:
        module = importlib.import_module(ENGINE_MODULE)
    except ModuleNotFoundError as err:
        if err.name is not None and ENGINE_MODULE.startswith(err.name):
            raise NotCompiledError(
                "the ACE fitting engine is not available in this build of forcefit "
                f"(no module {ENGINE_MODULE}); the input file was checked, but no potential can be fitted. "
                "Use --dry-run or --prepare-data to check inputs and prepare data without fitting."
            ) from None
        raise
    return module.create_fit_engine(backend)


def engine_available() -> bool:
    """True when ``get_fit_engine`` would find an engine."""
    if _factories:
        return True
    try:
        return importlib.util.find_spec(ENGINE_MODULE) is not None
    except ModuleNotFoundError:
        return False


# -- the data part of the loss, from predictions -----------------------------------------------------


def data_loss(
    energy_pred: np.ndarray, forces_pred: np.ndarray, data: FitData, loss, stress_pred: Optional[np.ndarray] = None
) -> LossComponents:
    """Energy, force (and stress) terms of the pacemaker loss from predictions (no regularization).

    Args:
        energy_pred: (S,) eV. forces_pred: (A, 3) eV/Å. stress_pred: (S, 6) eV/Å^3 or None.
        loss: a ``LossSpec`` with a numeric ``kappa``.
    """
    kappa = float(loss.kappa)
    de_pa = (np.asarray(energy_pred, dtype=float) - data.energy) / data.n_atoms
    df = np.asarray(forces_pred, dtype=float).reshape(-1, 3) - data.forces
    e_loss = float(np.sum(data.w_energy * de_pa**2))
    f_loss = float(np.sum(data.w_forces[:, None] * df**2))
    s_term = 0.0
    rows = stress_rows(data, loss, stress_pred)
    if rows is not None:
        ds = np.asarray(stress_pred, dtype=float)[rows] - data.stress[rows]
        s_term = float(loss.w_stress * np.sum(data.w_energy[rows] * np.sum(ds**2, axis=1)))
    return LossComponents(
        energy=(1 - kappa) * e_loss, forces=kappa * f_loss, stress=s_term, e_loss=e_loss, f_loss=f_loss
    )


def data_residuals(
    energy_pred: np.ndarray, forces_pred: np.ndarray, data: FitData, loss, stress_pred: Optional[np.ndarray] = None
) -> np.ndarray:
    """The data part of the loss as residuals r, ``sum(r**2) == data_loss(...)`` terms summed:

    * S energy rows ``sqrt((1-kappa) w_E,s) (E_s^pred - E_s) / N_s``,
    * 3A force rows ``sqrt(kappa w_F,i) (F_i^pred - F_i)`` (atom-major, x y z),
    * when ``w_stress > 0`` and both stresses are given: 6 rows per structure with a finite reference
      stress, ``sqrt(w_stress w_E,s) (sigma_s^pred - sigma_s)`` (Voigt, eV/Å^3), in structure order.

    Returns: (m,) float array.
    """
    kappa = float(loss.kappa)
    de = np.sqrt((1.0 - kappa) * data.w_energy) * (np.asarray(energy_pred, dtype=float) - data.energy) / data.n_atoms
    df = np.sqrt(kappa * data.w_forces)[:, None] * (np.asarray(forces_pred, dtype=float).reshape(-1, 3) - data.forces)
    parts = [de, df.ravel()]
    rows = stress_rows(data, loss, stress_pred)
    if rows is not None:
        ds = np.asarray(stress_pred, dtype=float)[rows] - data.stress[rows]
        parts.append((np.sqrt(loss.w_stress * data.w_energy[rows])[:, None] * ds).ravel())
    return np.concatenate(parts)


def stress_rows(data: FitData, loss, stress_pred) -> Optional[np.ndarray]:
    """Indices of the structures whose stress enters the loss (None: no stress term)."""
    if not (loss.w_stress > 0 and stress_pred is not None and data.stress is not None):
        return None
    return np.flatnonzero(np.all(np.isfinite(np.asarray(stress_pred, dtype=float) - data.stress), axis=1))


def resolve_kappa(loss, train_frame):
    """``loss`` with ``kappa: auto`` replaced as python-ace does:
    :math:`\\kappa = \\sigma_E^2 / (\\sigma_E^2 + \\sigma_F^2)`, with :math:`\\sigma_E` the
    sample standard deviation (ddof 1) of the corrected energies per atom (eV/atom) and
    :math:`\\sigma_F` the standard deviation (ddof 0) of the atomic force norms (eV/Å).
    A single structure has no energy spread (:math:`\\sigma_E = 0`); when both spreads vanish
    kappa is 0.5 (python-ace would divide 0 by 0)."""
    from dataclasses import replace

    if loss.kappa != "auto":
        return loss
    e_std = float(train_frame["energy_corrected_per_atom"].std())
    e_std = e_std if np.isfinite(e_std) else 0.0
    norms = np.linalg.norm(np.vstack(train_frame["forces"].to_list()), axis=1)
    f_std = float(np.std(norms))
    if e_std**2 + f_std**2 == 0:
        return replace(loss, kappa=0.5)
    return replace(loss, kappa=e_std**2 / (e_std**2 + f_std**2))


__all__ = [
    "Evaluation",
    "FitData",
    "FitEngine",
    "LossComponents",
    "ResidualEvaluation",
    "TrainablePotential",
    "data_loss",
    "data_residuals",
    "stress_rows",
    "engine_available",
    "resolve_kappa",
    "get_fit_engine",
    "register_fit_engine",
]
