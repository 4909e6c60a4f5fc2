"""Configurations and datasets: extended XYZ (KLIFF and ASE dialects), ASE, pacemaker DataFrames.

Units: Å, eV, eV/Å, stress eV/Å^3 (ASE sign, tensile positive; Voigt xx yy zz yz xz xy).

    from forcefit.dataset import Dataset, MagnitudeInverseWeight
    train = Dataset.from_path("Si_training_set", weight=MagnitudeInverseWeight())
    ace = Dataset.from_pacemaker("data.pckl.gzip")

Modules: ``configuration`` (one structure), ``dataset`` (many, from paths), ``extxyz`` and
``pacemaker`` (file formats), ``weight`` (loss weights), ``summary`` (statistics for reports).
"""

from .configuration import Configuration, tensor_from_voigt, voigt_from_tensor
from .dataset import Dataset, find_files
from .extxyz import read_extxyz, write_extxyz
from .pacemaker import read_pacemaker, write_pacemaker
from .summary import DatasetSummary, summarize
from .weight import MagnitudeInverseWeight, Weight

__all__ = [
    "Configuration",
    "Dataset",
    "DatasetSummary",
    "MagnitudeInverseWeight",
    "Weight",
    "find_files",
    "read_extxyz",
    "read_pacemaker",
    "summarize",
    "tensor_from_voigt",
    "voigt_from_tensor",
    "write_extxyz",
    "write_pacemaker",
]
