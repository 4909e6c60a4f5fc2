"""``forcefit kim``: KIM-API models of forcefit potentials (see :mod:`forcefit.kim`).

    forcefit kim write POT DIR --name NAME__MO_000000000000_000 [--format auto|yace]   # portable model
    forcefit kim driver DIR                                        # the driver's sources
"""

from __future__ import annotations


def _write(args) -> int:
    from ..kim import write_model
    out = write_model(args.potential, args.directory, args.name, parameter_format=args.format)
    print(f"wrote KIM portable model {args.name} to {out}; install it with "
          f"kim-api-collections-management install user {out}")
    return 0


def _driver(args) -> int:
    from ..kim import DRIVER_NAME, write_driver
    out = write_driver(args.directory)
    print(f"wrote KIM model driver {DRIVER_NAME} to {out}; install it with "
          f"kim-api-collections-management install user {out}")
    return 0


def register(subparsers) -> None:
    kim = subparsers.add_parser("kim", help="KIM-API models of forcefit potentials")
    sub = kim.add_subparsers(dest="kim_command", metavar="COMMAND")
    w = sub.add_parser("write", help="write a KIM portable model of an ACE potential")
    w.add_argument("potential", help=".yace, .ace or .yaml ACE potential (a B-basis .yaml stays the model's "
                   "parameter file, read by the driver; .ace is converted to .yace)")
    w.add_argument("directory", help="model folder to create")
    w.add_argument("--name", required=True, help="KIM model name, e.g. MyCu__MO_000000000000_000")
    w.add_argument("--format", choices=("auto", "yace"), default="auto",
                   help="parameter file: auto (B-basis .yaml kept as potential.yaml, others as .yace) or "
                        "yace (always the Ctilde potential.yace)")
    w.set_defaults(func=_write)
    d = sub.add_parser("driver", help="write the sources of forcefit's KIM ACE model driver")
    d.add_argument("directory", help="driver folder to create")
    d.set_defaults(func=_driver)
