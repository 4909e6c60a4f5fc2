"""forcefit's basis construction against python-ace's, stored in ``tests/data/pyace_basis_shapes.json``.

The fixture (made by ``tests/data/make_pyace_basis_fixture.py`` with python-ace 0.4.0rc1) holds, per
``potential:`` section, python-ace's blocks with their bond sizes [nradmax, lmax, nradbase] and
functions [elements, ns, ls, lint] in python-ace's order -- including the cuts of
``number_of_functions_per_element`` (python-ace keeps the first functions of each block in power
order) and ladder steps from the empty basis.  python-ace is not needed to run these tests.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from forcefit.ace.construct import construct_bbasis, empty_like, extend_basis

FIXTURE = json.loads((Path(__file__).parent / "data" / "pyace_basis_shapes.json").read_text())
SHAPES = FIXTURE["shapes"]


def _blocks(pot):
    out = []
    for block in pot.blocks:
        bond = block.bond
        sizes = [bond.nradmax, bond.lmax, bond.nradbase] if bond is not None else [0, 0, 0]
        out.append({"name": block.name, "sizes": sizes,
                    "functions": [[list(f.elements), list(f.ns), list(f.ls), list(f.lint)] for f in block.functions]})
    return out


def _assert_same_blocks(ours, theirs, where):
    assert [b["name"] for b in ours] == [b["name"] for b in theirs], where
    for mine, ref in zip(ours, theirs):
        assert mine["sizes"] == ref["sizes"], f"{where}: bond sizes of block {ref['name']}"
        assert mine["functions"] == ref["functions"], f"{where}: functions of block {ref['name']}"


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_basis_as_python_ace(name):
    shape = SHAPES[name]
    pot = construct_bbasis(copy.deepcopy(shape["potential"]))
    _assert_same_blocks(_blocks(pot), shape["blocks"], name)
    for block in pot.blocks:  # delta-initialized radial coefficients of the stated shape
        if block.bond is not None:
            assert block.bond.radcoefficients.shape == (block.bond.nradmax, block.bond.lmax + 1, block.bond.nradbase)


def test_alni_benchmark_shape():
    """pacemaker's template cut to 30 functions per element (benchmarks/pacemaker_alni.py): 60
    functions; radial coefficients 48 + 48 + 30 (A-B and B-A share theirs) + 120 function
    coefficients = 246 parameters, the number python-ace 0.4.0rc1's pyace backend trains."""
    from forcefit.ace.fit_params import ParameterMap

    pot = construct_bbasis(copy.deepcopy(SHAPES["binary_template_30"]["potential"]))
    assert pot.number_of_functions() == 60
    assert [len(b.functions) for b in pot.blocks] == [15, 15, 15, 15]
    assert len(ParameterMap(pot).initial) == 246


@pytest.mark.parametrize("ladder_type", ["power_order", "body_order"])
@pytest.mark.parametrize("name", sorted(n for n in SHAPES if "ladder" in SHAPES[n]))
def test_ladder_steps_as_python_ace(name, ladder_type):
    shape = SHAPES[name]
    target = construct_bbasis(copy.deepcopy(shape["potential"]))
    current = empty_like(target)
    for step, reference in zip(FIXTURE["ladder_steps"], shape["ladder"][ladder_type]):
        current = extend_basis(current, target, ladder_type, step)
        _assert_same_blocks(_blocks(current), reference, f"{name} {ladder_type} step {step}")
