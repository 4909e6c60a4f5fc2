"""The ``forcefit`` command: ``forcefit <group> <command> ...``.

Each command group lives in its own module exposing ``register(subparsers)``, which adds an
argparse sub-parser whose ``func`` attribute runs the command and returns an exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional

from .. import __version__
from ..errors import ForcefitError

# Modules (relative to forcefit.cli) that each contribute one command group.
COMMAND_GROUPS = ["dataset_cmd", "model_cmd", "kim_cmd"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forcefit",
        description="Fit interatomic potentials to DFT data and run them in LAMMPS and KIM.",
    )
    parser.add_argument("-v", "--version", action="version", version=f"forcefit {__version__}")
    subparsers = parser.add_subparsers(dest="group", metavar="COMMAND")
    for name in COMMAND_GROUPS:
        importlib.import_module(f"{__package__}.{name}").register(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ForcefitError as err:
        print(f"forcefit: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
