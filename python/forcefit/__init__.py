"""forcefit: fit interatomic potentials to DFT data and run them where simulations run.

Units everywhere: energies in eV, lengths in Å, forces in eV/Å, stress in eV/Å^3 with ASE's sign
convention (tensile positive) and Voigt order xx, yy, zz, yz, xz, xy.

Modules:
    forcefit.errors   - the exception hierarchy (one base class, ForcefitError)
    forcefit.neighbor - neighbor lists (compiled core): ASE-style pair lists and KLIFF-style padding lists
    forcefit.dataset  - configurations and datasets (extended XYZ, ASE, pacemaker DataFrames), weights
"""

__version__ = "0.1.0"

from .errors import ForcefitError  # noqa: E402

__all__ = ["ForcefitError", "__version__"]
