"""``pace_yaml2yace``: convert B-basis potentials (``.yaml``) to Ctilde potentials (``.yace``).

Same arguments and messages as python-ace's tool::

    pace_yaml2yace in.yaml [more.yaml ...] [-o out.yace]

Without ``-o`` each ``X.yaml`` (or ``X.yml``) is written to ``X.yace`` next to it (any other
name gets ``.yace`` appended).  Unlike python-ace, only the suffix is replaced (python-ace also
rewrites "yaml" inside folder names), and ``-o`` with several inputs is refused instead of
overwriting the same file several times.  Exit status 0 on success, 1 on bad input (message on
stderr), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from ..ace.convert import bbasis_to_ctilde
from ..ace.yace_io import write_yace
from ..ace.yaml_io import read_bbasis_yaml
from ..errors import ForcefitError

PROG = "pace_yaml2yace"


def output_name(input_name: str) -> str:
    """Default ``.yace`` name for an input file name."""
    for suffix in ("yaml", "yml"):
        if input_name.endswith(suffix):
            return input_name[: -len(suffix)] + "yace"
    return input_name + ".yace"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Conversion utility from B-basis (.yaml file) to new-style Ctilde-basis (.yace file)")
    parser.add_argument("input", help="input B-basis file name (.yaml)", type=str, nargs="+")
    parser.add_argument("-o", "--output", help="output Ctilde-basis file name (.yace)", type=str, default="")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.output and len(args.input) > 1:
        print(f"{PROG}: error: -o/--output needs a single input file, got {len(args.input)}", file=sys.stderr)
        return 2
    try:
        for name in args.input:
            out = args.output or output_name(name)
            print(f"Loading B-basis from '{name}'")
            pot = read_bbasis_yaml(name)
            print("Converting to Ctilde-basis")
            ctilde = bbasis_to_ctilde(pot, path=name)
            print(f"Saving Ctilde-basis to '{out}'")
            write_yace(ctilde, out)
    except ForcefitError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
