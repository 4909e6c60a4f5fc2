"""The typed result of reading a pacemaker input file: one frozen dataclass per section.

``inputfile.load_input`` fills them (python-ace's defaults are the field defaults here, see
``inputfile.py``). Units: energies eV, ``kappa`` dimensionless, cutoffs Å.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

from .potential_section import PotentialSection
from .weighting import WeightingSpec

DEFAULT_SEED = 42
SECTIONS = ("cutoff", "seed", "metadata", "data", "potential", "fit", "backend")

#: every method of scipy.optimize.minimize (scipy 1.17), in scipy's spelling
SCIPY_MINIMIZE_METHODS = (
    "Nelder-Mead",
    "Powell",
    "CG",
    "BFGS",
    "Newton-CG",
    "L-BFGS-B",
    "TNC",
    "COBYLA",
    "COBYQA",
    "SLSQP",
    "trust-constr",
    "dogleg",
    "trust-ncg",
    "trust-exact",
    "trust-krylov",
)
#: methods that need the Hessian, which the pacemaker loss does not provide (Newton-CG builds
#: Hessian-vector products from gradient differences and is accepted)
HESSIAN_METHODS = ("dogleg", "trust-ncg", "trust-exact", "trust-krylov")
#: least-squares methods on the loss as a sum of squared residuals with their analytic Jacobian:
#: scipy.optimize.least_squares's methods and forcefit's geodesic Levenberg-Marquardt
SCIPY_LEAST_SQUARES_METHODS = ("trf", "dogbox", "lm")
LEAST_SQUARES_METHODS = SCIPY_LEAST_SQUARES_METHODS + ("geodesiclm",)

EVALUATORS = ("tensorpot", "pyace", "forcefit")


# -- typed sections -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataSection:
    """``data:``. ``filenames``/``test_filenames`` are as written (see ``resolve_data_files``).

    ``reference_energy``: None (use the ``energy_corrected`` column), a number (the same
    single-atom energy for every element, eV), a dict element -> eV (optional ``shift``, eV/atom),
    or ``"auto"`` (least-squares single-atom energies, see ``reference_energy.py``).
    ``test_size``: a fraction in (0, 1) or a number of structures (>= 1).
    """

    filenames: Tuple[str, ...]
    test_filenames: Tuple[str, ...] = ()
    test_size: Optional[Union[int, float]] = None
    datapath: Optional[str] = None
    reference_energy: Any = None
    ignore_weights: bool = False
    aug_factor: float = 1e-4
    seed: int = DEFAULT_SEED


@dataclass(frozen=True)
class LossSpec:
    """``fit.loss``: loss = (1-kappa) E-term + kappa F-term + w_stress S-term + regularization.

    ``kappa`` is a number in [0, 1] or ``"auto"`` (set from the training data by
    ``resolve_kappa``). ``L1_coeffs``, ``L2_coeffs``: L1/L2 penalties on the coefficients;
    ``w0_rad``, ``w1_rad``, ``w2_rad``: radial smoothness penalties; ``w_orth``: orthogonality.
    """

    kappa: Union[float, str] = 0.0
    L1_coeffs: float = 0.0
    L2_coeffs: float = 0.0
    w0_rad: float = 0.0
    w1_rad: float = 0.0
    w2_rad: float = 0.0
    w_orth: float = 0.0
    w_stress: float = 0.0


@dataclass(frozen=True)
class FitSection:
    """``fit:`` (see the module docstring for defaults)."""

    loss: LossSpec = field(default_factory=LossSpec)
    weighting: WeightingSpec = field(default_factory=WeightingSpec)
    optimizer: str = "BFGS"
    options: Dict[str, Any] = field(default_factory=dict)
    maxiter: int = 100
    repulsion: Optional[str] = None
    trainable_parameters: Any = None
    fit_cycles: int = 1
    noise_relative_sigma: float = 0.0
    noise_absolute_sigma: float = 0.0
    randomize_func_coeffs: float = 0.0
    ladder_step: Optional[Tuple[Union[int, float], ...]] = None
    ladder_type: str = "body_order"
    callbacks: Tuple[str, ...] = ()
    min_relative_train_loss_per_iter: Optional[float] = None
    min_relative_test_loss_per_iter: Optional[float] = None
    early_stopping_patience: int = 200

    @property
    def ladder_scheme(self) -> bool:
        return self.ladder_step is not None


@dataclass(frozen=True)
class BackendSection:
    """``backend:``. ``evaluator`` is what the file asked for (tensorpot, pyace or forcefit);
    forcefit serves all three with its own engine."""

    evaluator: str = "pyace"
    batch_size: int = 10
    batch_size_reduction: bool = True
    batch_size_reduction_factor: float = 1.618
    display_step: int = 20
    parallel_mode: Optional[str] = None
    n_workers: Optional[int] = None
    gpu_config: Dict[str, Any] = field(default_factory=dict)
    imagetype: str = "png"
    given: bool = True

    @property
    def gpu_requested(self) -> bool:
        """True when ``gpu_config`` asks for a GPU (``gpu_ind`` >= 0, tensorpot's convention)."""
        if not self.gpu_config:
            return False
        return int(self.gpu_config.get("gpu_ind", 0)) >= 0


@dataclass(frozen=True)
class PacemakerInput:
    """A checked pacemaker input file.

    ``cutoff`` is the neighbour-list cutoff, Å: the largest bond ``rcut`` of the potential shape
    (as python-ace deduces it), else the top-level ``cutoff``, else None (taken from the
    potential file by the engine). ``cutoff_given`` is the top-level value as written.
    """

    source: Optional[Path]
    seed: int
    metadata: Dict[str, str]
    data: DataSection
    potential: PotentialSection
    fit: FitSection
    backend: BackendSection
    cutoff: Optional[float] = None
    cutoff_given: Optional[float] = None
    notes: Tuple[str, ...] = ()


__all__ = [
    "BackendSection",
    "DataSection",
    "FitSection",
    "LossSpec",
    "PacemakerInput",
    "DEFAULT_SEED",
    "EVALUATORS",
    "SCIPY_MINIMIZE_METHODS",
    "SCIPY_LEAST_SQUARES_METHODS",
    "LEAST_SQUARES_METHODS",
]
