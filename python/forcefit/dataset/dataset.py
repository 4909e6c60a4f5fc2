"""A list of configurations read from files, ASE objects or pacemaker DataFrames (KLIFF's ``Dataset``).

Design: ``Dataset`` is a thin ordered container of ``Configuration`` objects; the readers live in
``extxyz.py`` and ``pacemaker.py``. A path is a file (every frame of it is read) or a directory,
read recursively like KLIFF: every file whose name ends in the format's extension, in sorted path
order. Each configuration gets its own copy of the ``Weight`` passed in, because computed weights
belong to one configuration.

Formats (``file_format``): ``"xyz"`` (extended XYZ, KLIFF or ASE dialect; directories: ``*.xyz``
and ``*.extxyz``) and ``"pacemaker"`` (pickled DataFrames; directories: ``*.pckl.gzip``,
``*.pkl.gz``, ``*.pckl``, ``*.pkl`` and similar).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Union, overload

from ..errors import DatasetError, InputError
from .configuration import Configuration, PathLike
from .extxyz import read_extxyz, write_extxyz
from .pacemaker import read_pacemaker, write_pacemaker
from .weight import Weight

FILE_EXTENSIONS = {
    "xyz": (".xyz", ".extxyz"),
    "pacemaker": (".pckl.gzip", ".pkl.gzip", ".pckl.gz", ".pkl.gz", ".pckl", ".pkl", ".pickle"),
}


def find_files(path: PathLike, file_format: str = "xyz") -> List[Path]:
    """The files a Dataset reads for ``path``: the file itself, or a directory's matching files.

    Raises:
        DatasetError: the path does not exist, or a directory holds no file of the format.
        InputError: unknown ``file_format``.
    """
    if file_format not in FILE_EXTENSIONS:
        raise InputError(f"unknown file_format {file_format!r}; expected one of {sorted(FILE_EXTENSIONS)}")
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DatasetError("no such file or directory", path=path)
    extensions = FILE_EXTENSIONS[file_format]
    files = sorted(
        Path(root) / name
        for root, _dirs, names in os.walk(path)
        for name in names
        if name.endswith(extensions) and not name.startswith(".")
    )
    if not files:
        raise DatasetError(
            f"directory holds no {file_format} files (searched recursively for {', '.join(extensions)})",
            path=path,
        )
    return files


def read_path(path: PathLike, weight: Optional[Weight] = None, file_format: str = "xyz") -> List[Configuration]:
    """All configurations under ``path`` (see ``find_files``), in file order then frame order."""
    reader = read_extxyz if file_format == "xyz" else read_pacemaker
    configs: List[Configuration] = []
    for file in find_files(path, file_format):
        configs.extend(reader(file, weight=weight))
    return configs


class Dataset:
    """An ordered collection of configurations.

    Args:
        configurations: configurations to hold, or (as in KLIFF before 1.0) a path to read.
        weight: with a path, attached (a copy each) to every configuration read.
        file_format: with a path, "xyz" or "pacemaker".

    ``len(dataset)``, iteration and indexing (an int gives a Configuration, a slice a Dataset)
    work as for a list.
    """

    def __init__(
        self,
        configurations: Union[Iterable[Configuration], PathLike, None] = None,
        weight: Optional[Weight] = None,
        file_format: str = "xyz",
    ):
        self.file_format = file_format
        if configurations is None:
            self.configs: List[Configuration] = []
        elif isinstance(configurations, (str, os.PathLike)):
            self.configs = read_path(configurations, weight, file_format)
        else:
            self.configs = list(configurations)
            bad = next((c for c in self.configs if not isinstance(c, Configuration)), None)
            if bad is not None:
                raise InputError(f"Dataset holds Configuration objects, got a {type(bad).__name__}")

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def from_path(cls, path: PathLike, weight: Optional[Weight] = None, file_format: str = "xyz") -> "Dataset":
        """Read a file, or every file of the format under a directory (recursively)."""
        return cls(read_path(path, weight, file_format), file_format=file_format)

    @classmethod
    def from_ase(
        cls,
        atoms_list,
        weight: Optional[Weight] = None,
        energy_key: str = "energy",
        forces_key: str = "forces",
        stress_key: str = "stress",
    ) -> "Dataset":
        """Configurations from ``ase.Atoms`` objects (one, or an iterable of them).

        Reference data come from each Atoms' SinglePointCalculator results, else from
        ``atoms.info`` / ``atoms.arrays`` under the given keys (see
        ``Configuration.from_ase_atoms``). Identifiers are ``"ase:<index>"``.
        """
        if hasattr(atoms_list, "get_positions"):
            atoms_list = [atoms_list]
        configs = [
            Configuration.from_ase_atoms(
                atoms,
                weight=None if weight is None else weight.copy(),
                energy_key=energy_key,
                forces_key=forces_key,
                stress_key=stress_key,
                identifier=f"ase:{k}",
            )
            for k, atoms in enumerate(atoms_list)
        ]
        return cls(configs)

    @classmethod
    def from_pacemaker(cls, path: PathLike, weight: Optional[Weight] = None) -> "Dataset":
        """Read a pacemaker DataFrame file (or a directory of them); see ``forcefit.dataset.pacemaker``."""
        return cls(read_path(path, weight, "pacemaker"), file_format="pacemaker")

    # -- adding and writing -------------------------------------------------------------------

    def add_from_path(self, path: PathLike, weight: Optional[Weight] = None, file_format: Optional[str] = None) -> None:
        """Read configurations from ``path`` and append them."""
        self.configs.extend(read_path(path, weight, file_format or self.file_format))

    def add_configs(self, path: PathLike, weight: Optional[Weight] = None) -> None:
        """KLIFF's name for ``add_from_path`` (with this dataset's file_format)."""
        self.add_from_path(path, weight)

    def to_pacemaker(self, path: PathLike) -> None:
        """Write a pacemaker DataFrame pickle (gzip when the name ends .gz/.gzip), atomically."""
        write_pacemaker(path, self.configs)

    def to_file(self, path: PathLike, dialect: str = "ase") -> None:
        """Write all configurations into one multi-frame extended XYZ file, atomically."""
        write_extxyz(path, self.configs, dialect=dialect)

    # -- access -------------------------------------------------------------------------------

    def get_configs(self) -> List[Configuration]:
        return self.configs

    def get_num_configs(self) -> int:
        return len(self.configs)

    def get_num_atoms(self) -> int:
        """Total number of atoms over all configurations."""
        return sum(c.get_num_atoms() for c in self.configs)

    def __len__(self) -> int:
        return len(self.configs)

    def __iter__(self) -> Iterator[Configuration]:
        return iter(self.configs)

    @overload
    def __getitem__(self, index: int) -> Configuration: ...

    @overload
    def __getitem__(self, index: slice) -> "Dataset": ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(self.configs[index], file_format=self.file_format)
        return self.configs[index]

    def __repr__(self) -> str:
        return f"Dataset({len(self.configs)} configurations, {self.get_num_atoms()} atoms)"


__all__ = ["Dataset", "find_files", "read_path", "FILE_EXTENSIONS"]
