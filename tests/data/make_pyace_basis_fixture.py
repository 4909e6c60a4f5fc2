"""Write ``pyace_basis_shapes.json``: python-ace's B-basis for a few pacemaker ``potential:`` sections.

The fixture lets ``tests/test_ace_construct_fixture.py`` compare forcefit's basis construction with
python-ace's without python-ace installed.  It holds, for every shape in ``SHAPES``:

* ``potential``: the ``potential:`` section given to both programs;
* ``blocks``: python-ace's species blocks in order, each with ``sizes`` = [nradmax, lmax, nradbase]
  of its bond (zeros for blocks of three or more species) and ``functions`` in python-ace's order,
  each [elements, ns, ls, lint];
* ``ladder`` (some shapes): the blocks after each of the ladder steps ``LADDER_STEPS`` from the
  empty basis towards the whole shape, for ``power_order`` and ``body_order``.

The ``number_of_functions_per_element`` cuts follow pacemaker's template shape (the AlNi benchmark
is ``binary_template_30``).  Made with python-ace 0.4.0rc1 (``pyace``), run as

    PYTHONPATH=python python tests/data/make_pyace_basis_fixture.py

from the project root; it needs python-ace and rewrites the JSON file beside this script.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

EMBEDDINGS = {"ALL": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1, 1, 0.5], "ndensity": 2}}
BONDS = {"ALL": {"radbase": "SBessel", "radparameters": [5.25], "rcut": 5.0, "dcut": 0.01,
                 "NameOfCutoffFunction": "cos"}}
#: pacemaker's input template (``pacemaker -t``)
TEMPLATE = {
    "UNARY": {"nradmax_by_orders": [15, 6, 4, 3, 2, 2], "lmax_by_orders": [0, 3, 3, 2, 2, 1]},
    "BINARY": {"nradmax_by_orders": [15, 6, 3, 2, 2, 1], "lmax_by_orders": [0, 3, 2, 1, 1, 0]},
    "TERNARY": {"nradmax_by_orders": [15, 3, 3, 2, 1], "lmax_by_orders": [0, 2, 2, 1, 1]},
    "ALL": {"nradmax_by_orders": [15, 3, 2, 1, 1], "lmax_by_orders": [0, 2, 2, 1, 1]},
}
LADDER_STEPS = (5, 7, 11)
LADDER_SHAPES = ("binary_full", "ternary_template_15")


def _potential(elements, functions):
    return {"deltaSplineBins": 0.001, "elements": list(elements), "embeddings": EMBEDDINGS, "bonds": BONDS,
            "functions": functions}


SHAPES = {
    "unary_template_30": _potential(["Cu"], dict(TEMPLATE, number_of_functions_per_element=30)),
    "unary_mlearn_80": _potential(["Cu"], {"number_of_functions_per_element": 80,
                                          "ALL": {"nradmax_by_orders": [10, 4, 3, 2], "lmax_by_orders": [0, 3, 2, 1]}}),
    "unary_full": _potential(["Cu"], {"ALL": {"nradmax_by_orders": [6, 3, 2], "lmax_by_orders": [0, 2, 1]}}),
    "binary_template_30": _potential(["Al", "Ni"], dict(TEMPLATE, number_of_functions_per_element=30)),
    "binary_template_7": _potential(["Al", "Ni"], dict(TEMPLATE, number_of_functions_per_element=7)),
    "binary_full": _potential(["Ag", "Cu"], {"UNARY": {"nradmax_by_orders": [5, 2, 2], "lmax_by_orders": [0, 2, 1]},
                                             "BINARY": {"nradmax_by_orders": [4, 2, 1], "lmax_by_orders": [0, 1, 1]}}),
    "ternary_template_15": _potential(["Cu", "Al", "Ni"], dict(TEMPLATE, number_of_functions_per_element=15)),
}


def _blocks(conf):
    return [{"name": b.block_name, "sizes": [b.nradmaxi, b.lmaxi, b.nradbaseij],
             "functions": [[list(f.elements), list(f.ns), list(f.ls), list(f.LS)] for f in b.funcspecs]}
            for b in conf.funcspecs_blocks]


def main() -> None:
    from pyace import __version__ as pyace_version

    from forcefit.atomic import write_text_atomically
    from pyace.multispecies_basisextension import (clean_bbasisconfig, create_multispecies_basis_config,
                                                   extend_multispecies_basis)

    out = {"generator": f"tests/data/make_pyace_basis_fixture.py with python-ace {pyace_version}",
           "ladder_steps": list(LADDER_STEPS), "shapes": {}}
    for name, potential in SHAPES.items():
        target = create_multispecies_basis_config(copy.deepcopy(potential))
        entry = {"potential": potential, "blocks": _blocks(target)}
        if name in LADDER_SHAPES:
            entry["ladder"] = {}
            for ladder_type in ("power_order", "body_order"):
                current = target.copy()
                clean_bbasisconfig(current)
                steps = []
                for step in LADDER_STEPS:
                    current = extend_multispecies_basis(current, target, ladder_type, step)
                    steps.append(_blocks(current))
                entry["ladder"][ladder_type] = steps
        out["shapes"][name] = entry
    write_text_atomically(Path(__file__).with_name("pyace_basis_shapes.json"),
                          json.dumps(out, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
