"""``forcefit model ...``: look at models from the command line.

    forcefit model params NAME [--species S ...]   print every parameter of a model (name, value,
                                                   size, description), as
                                                   ``kliff model --echo-params NAME`` does

NAME is a built-in model (LennardJones, StillingerWeber, EDIP; case-insensitive, also "LJ", "SW")
or the name of an installed KIM portable model (needs kimpy: the ``forcefit[kim]`` extra).
Thin layer over ``forcefit.models``: it creates the model and prints ``echo_model_params``.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import InputError, NotCompiledError

_BUILTIN = {
    "lennardjones": "LennardJones", "lj": "LennardJones", "lj6-12": "LennardJones",
    "stillingerweber": "StillingerWeber", "sw": "StillingerWeber",
    "edip": "EDIP",
}


def register(subparsers) -> None:
    """Add the ``model`` command group to the ``forcefit`` parser."""
    group = subparsers.add_parser(
        "model",
        help="inspect models (built-in or installed KIM models)",
        description="Inspect models: forcefit's built-in models and installed KIM portable models.",
    )
    commands = group.add_subparsers(dest="command", metavar="SUBCOMMAND")
    group.set_defaults(func=lambda args: (group.print_help(), 2)[1])

    params = commands.add_parser(
        "params",
        help="print a model's parameters",
        description="Print every parameter of a model that can be optimized (name, value, size, "
        "description), as `kliff model --echo-params` does.",
    )
    params.add_argument("name", metavar="NAME",
                        help="LennardJones, StillingerWeber, EDIP, or an installed KIM model name")
    params.add_argument("--species", nargs="+", default=None,
                        help="species of a built-in model (default: the model's default, Si)")
    params.set_defaults(func=run_params)


def create_model(name: str, species=None):
    """A model by name: built-in (species optional) or KIM."""
    from .. import models

    builtin = _BUILTIN.get(name.lower())
    if builtin is not None:
        cls = getattr(models, builtin)
        return cls(species=species) if species else cls()
    if species:
        raise InputError("--species applies to built-in models only (a KIM model fixes its species)")
    try:
        return models.KIMModel(name)
    except NotCompiledError as err:
        raise NotCompiledError(f"`{name}` is not a built-in model (LennardJones, StillingerWeber, EDIP) "
                               f"and KIM models are unavailable: {err}") from err


def run_params(args: argparse.Namespace) -> int:
    model = create_model(args.name, args.species)
    model.echo_model_params(sys.stdout)
    return 0


__all__ = ["register", "create_model", "run_params"]
