"""``pace_info``: describe B-basis potentials (``.yaml``) like python-ace's tool.

    pace_info pot.yaml [more.yaml ...]

Prints elements, embeddings, bonds (radial basis, cutoffs in Å, core repulsion, inner cutoff),
functions per element and body order (count, largest n and l) and the number of parameters.
Exit status 0 on success, 1 when a file cannot be read (message on stderr).
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from ..ace.info import format_info, summarize
from ..ace.yaml_io import read_bbasis_yaml
from ..errors import ForcefitError

PROG = "pace_info"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG,
                                     description="Utility to analyze PACE (.yaml) potential shape and other parameters")
    parser.add_argument("potential_file", help="B-basis file name (.yaml)", type=str, nargs="+")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    status = 0
    for name in args.potential_file:
        try:
            sys.stdout.write(format_info(summarize(read_bbasis_yaml(name), path=name)))
        except (ForcefitError, OSError) as err:
            print(f"{PROG}: error: {err}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
