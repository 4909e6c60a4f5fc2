"""``forcefit dataset ...``: look at datasets from the command line.

    forcefit dataset count PATH             files per directory, as ``kliff dataset --count``
    forcefit dataset info PATH [--format]   what a file or directory holds (counts, species,
                                            energy ranges, properties present, periodicity)

Thin layer over ``forcefit.dataset``: it reads with ``Dataset.from_path`` / ``from_pacemaker``,
summarizes with ``forcefit.dataset.summarize`` and only formats the result.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import List, Tuple

from ..dataset import Dataset, summarize
from ..dataset.dataset import FILE_EXTENSIONS, find_files
from ..dataset.pacemaker import is_pickle_file
from ..errors import DatasetError

FORMAT_NAMES = {"xyz": "extended XYZ", "pacemaker": "pacemaker DataFrame"}


def register(subparsers) -> None:
    """Add the ``dataset`` command group to the ``forcefit`` parser."""
    group = subparsers.add_parser(
        "dataset",
        help="inspect datasets (extended XYZ files, KLIFF directories, pacemaker DataFrames)",
        description="Inspect datasets: extended XYZ files (KLIFF or ASE dialect), directories of "
        "them, and pacemaker DataFrame pickles.",
    )
    commands = group.add_subparsers(dest="command", metavar="SUBCOMMAND")
    group.set_defaults(func=lambda args: _print_help(group))

    count = commands.add_parser(
        "count",
        help="count dataset files per directory",
        description="Count the dataset files in a directory tree, as `kliff dataset --count` does: "
        "each directory is shown as 'name (a/b)', a = files directly in it, b = files in it and "
        "its subdirectories. For a single file, count its configurations.",
    )
    count.add_argument("path", metavar="PATH", help="a directory (or a file)")
    count.add_argument("--format", choices=sorted(FILE_EXTENSIONS), default="xyz", help="file format to count (default: xyz)")
    count.set_defaults(func=run_count)

    info = commands.add_parser(
        "info",
        help="summarize a dataset",
        description="Read a dataset (a file, or a directory read recursively) and print the number "
        "of structures and atoms, species, energy ranges (total and per atom, eV), which reference "
        "properties are present, and the periodic boundary conditions.",
    )
    info.add_argument("path", metavar="PATH", help="extended XYZ file, directory, or pacemaker pickle")
    info.add_argument(
        "--format",
        choices=["auto", *sorted(FILE_EXTENSIONS)],
        default="auto",
        help="file format (default: auto: pickles are pacemaker DataFrames, anything else extended XYZ)",
    )
    info.set_defaults(func=run_info)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


# -- count --------------------------------------------------------------------------------------


def _count_tree(directory: Path, extensions: Tuple[str, ...], prefix: str, lines: List[str], label: str) -> int:
    """Append the tree lines of ``directory`` to ``lines``; return its recursive file count."""
    entries = sorted((e for e in os.scandir(directory) if not e.name.startswith(".")), key=lambda e: e.name)
    direct = sum(1 for e in entries if e.is_file() and e.name.endswith(extensions))
    subdirs = [e for e in entries if e.is_dir()]
    own_line = len(lines)
    lines.append("")
    total = direct
    for k, sub in enumerate(subdirs):
        last = k == len(subdirs) - 1
        connector, extension = ("└── ", "    ") if last else ("├── ", "│   ")
        total += _count_tree(Path(sub.path), extensions, prefix + extension, lines, prefix + connector + sub.name)
    lines[own_line] = f"{label} ({direct}/{total})"
    return total


def run_count(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if path.is_file():
        dataset = _read(path, args.format)
        n = len(dataset)
        print(f"{path}: {n} configuration{'s' if n != 1 else ''}, {dataset.get_num_atoms()} atoms")
        return 0
    if not path.is_dir():
        raise DatasetError("no such file or directory", path=path)
    extensions = FILE_EXTENSIONS[args.format]
    lines: List[str] = []
    total = _count_tree(path, extensions, "", lines, str(path))
    print("\n".join(lines))
    print()
    print(f"(a/b): {'/'.join(extensions)} files directly in the directory / in it and all its subdirectories")
    print(f"total: {total} files")
    return 0


# -- info ---------------------------------------------------------------------------------------


def _guess_format(path: Path) -> str:
    if path.is_file():
        return "pacemaker" if is_pickle_file(path) else "xyz"
    try:
        find_files(path, "xyz")
        return "xyz"
    except DatasetError:
        find_files(path, "pacemaker")  # raises, naming the directory, when it has neither
        return "pacemaker"


def _read(path: Path, file_format: str) -> Dataset:
    if file_format == "auto":
        file_format = _guess_format(path)
    return Dataset.from_path(path, file_format=file_format)


def _range_text(values, unit: str, digits: int) -> str:
    low, high = values
    return f"{low:.{digits}f} to {high:.{digits}f} {unit}"


def run_info(args: argparse.Namespace) -> int:
    path = Path(args.path)
    dataset = _read(path, args.format)
    summary = summarize(dataset)
    nfiles = len({str(c.path) for c in dataset})
    n = summary.num_configs
    fewest, most = summary.atoms_per_config
    per_config = f"{fewest}" if fewest == most else f"{fewest} to {most}"
    rows = [
        ("configurations", f"{n:,}"),
        ("atoms", f"{summary.num_atoms:,} ({per_config} per configuration)"),
    ]
    species = [
        f"{s}: {count:,} atoms in {summary.configs_by_species[s]} configurations"
        for s, count in summary.atoms_by_species.items()
    ]
    rows.append(("species", species[0] if species else "none"))
    rows.extend(("", line) for line in species[1:])
    present = ", ".join(f"{name} {count}/{n}" for name, count in summary.property_counts.items() if count or name != "energy_corrected")
    rows.append(("properties", present))
    if summary.energy_range:
        rows.append(("energy", _range_text(summary.energy_range, "eV", 4)))
        rows.append(("energy per atom", _range_text(summary.energy_per_atom_range, "eV/atom", 4)))
    if summary.max_force is not None:
        rows.append(("largest |force|", f"{summary.max_force:.4f} eV/Å"))
    if summary.volume_per_atom_range:
        rows.append(("volume per atom", _range_text(summary.volume_per_atom_range, "Å^3", 3)))
    rows.append(("periodicity", ", ".join(f"PBC {pattern}: {count}" for pattern, count in summary.pbc_counts.items())))
    if summary.config_types:
        rows.append(("config types", ", ".join(f"{t}: {c}" for t, c in summary.config_types.items())))
    file_format = FORMAT_NAMES.get(dataset.file_format, dataset.file_format)
    print(f"{path}  ({file_format}, {nfiles} file{'s' if nfiles != 1 else ''})")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    return 0


__all__ = ["register", "run_count", "run_info"]
