"""Basis construction from a pacemaker ``potential:`` section."""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
import yaml

from forcefit.ace.bbasis import resolve
from forcefit.ace.construct import (construct_bbasis, empty_like, extend_basis, independent_couplings,
                                    label_pattern, sort_functions, species_keys)
from forcefit.ace.coupling import couplings_are_valid, generalized_cg
from forcefit.ace.yaml_io import format_bbasis_yaml, parse_bbasis_yaml
from forcefit.errors import InputError

try:  # python-ace serves only as an optional oracle
    import pyace  # noqa: F401
    HAVE_PYACE = True
except ImportError:
    HAVE_PYACE = False

CU = {
    "deltaSplineBins": 0.001,
    "elements": ["Cu"],
    "embeddings": {"ALL": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1, 1, 0.5], "ndensity": 2}},
    "bonds": {"ALL": {"radbase": "ChebExpCos", "radparameters": [5.25], "rcut": 7, "dcut": 0.01,
                      "NameOfCutoffFunction": "cos"}},
    "functions": {"UNARY": {"nradmax_by_orders": [15, 3, 2, 2, 1], "lmax_by_orders": [0, 2, 2, 1, 1]}},
}

TERNARY_CONF = {
    "elements": ["Ni", "Al", "Cu"],
    "embeddings": {"ALL": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1, 1, 0.5], "ndensity": 2},
                   "Ni": {"npot": "FinnisSinclair", "fs_parameters": [1, 1], "ndensity": 1, "rho_core_cut": 3000}},
    "bonds": {"ALL": {"radbase": "SBessel", "radparameters": [5.25], "rcut": 5.0, "dcut": 0.01,
                      "NameOfCutoffFunction": "cos"},
              "BINARY": {"radbase": "ChebPow", "radparameters": [2.0], "rcut": 4.5, "dcut": 0.02,
                         "core-repulsion": [100, 5]},
              "AlNi": {"rcut": 4.0}},
    "functions": {"UNARY": {"nradmax_by_orders": [6, 3, 2, 1], "lmax_by_orders": [0, 2, 2, 1]},
                  "BINARY": {"nradmax_by_orders": [5, 2, 2, 1], "lmax_by_orders": [0, 2, 1, 1]},
                  "TERNARY": {"nradmax_by_orders": [4, 2, 1, 1], "lmax_by_orders": [0, 1, 1, 1]},
                  "ALL": {"nradmax_by_orders": [3, 1, 1], "lmax_by_orders": [0, 1, 1]},
                  "CuAlNi": {"nradmax_by_orders": [2, 1, 1, 1], "lmax_by_orders": [0, 1, 1, 0]},
                  "(Ni, Al)": {"coefs_init": "zero"}},
}


def _rank_counts(pot):
    counts = {}
    for f in pot.all_functions():
        counts[f.rank] = counts.get(f.rank, 0) + 1
    return counts


def test_cu_i_example(shared_data):
    path = shared_data / "pacemaker" / "Cu-I" / "input.yaml"
    potential = yaml.safe_load(path.read_text())["potential"]
    pot = construct_bbasis(potential)
    assert pot.number_of_functions() == 82
    assert _rank_counts(pot)[1] == 15
    (block,) = pot.blocks
    assert block.bond.nradbase == 15 and block.bond.nradmax == 3 and block.bond.lmax == 2
    crad = block.bond.radcoefficients
    assert crad.shape == (3, 3, 15)
    np.testing.assert_array_equal(crad[:, 0, :3], np.eye(3))  # delta initialization
    assert all(f.coeffs == (0.0, 0.0) for f in pot.all_functions())
    resolve(pot)  # a valid potential
    again = parse_bbasis_yaml(format_bbasis_yaml(pot))
    assert again == pot


def test_independent_couplings_are_valid_and_maximal():
    for pattern, lmax in [((0, 0, 0), 3), ((0, 0, 1), 2), ((0, 0, 0, 0), 2), ((0, 1, 1, 1), 2)]:
        chosen = independent_couplings(pattern, lmax)
        assert len(set(chosen)) == len(chosen)
        for ls, lint in chosen:
            assert couplings_are_valid(ls, lint) and max(ls) <= lmax
        # the kept functions span every candidate: total rank over all candidates == number kept
        polys = []
        for ls in itertools.product(range(lmax + 1), repeat=len(pattern)):
            for lint in itertools.product(range(2 * lmax + 1), repeat=max(len(pattern) - 2, 0)):
                if sum(ls) % 2 or not couplings_are_valid(ls, lint):
                    continue
                ms, cg = generalized_cg(ls, lint, half_basis=False)
                poly = {}
                for row, c in zip(ms.tolist(), cg.tolist()):
                    mono = tuple(sorted(zip(pattern, ls, row)))
                    poly[mono] = poly.get(mono, 0.0) + c
                polys.append(poly)
        cols = sorted({k for p in polys for k in p})
        index = {k: i for i, k in enumerate(cols)}
        matrix = np.zeros((len(polys), len(cols)))
        for i, p in enumerate(polys):
            for k, v in p.items():
                matrix[i, index[k]] = v
        assert np.linalg.matrix_rank(matrix, tol=1e-9) == len(chosen), pattern


def test_two_identical_pairs_rank2():
    # rank 2: one function per l for any pattern
    assert independent_couplings((0, 0), 3) == tuple(((l, l), ()) for l in range(4))
    assert label_pattern(("Al", "Al", "Ni"), (1, 2, 1)) == (0, 1, 2)
    assert label_pattern(("Al", "Al", "Al"), (1, 1, 2)) == (0, 0, 1)


def test_keyword_precedence():
    pot = construct_bbasis(copy.deepcopy(TERNARY_CONF))
    names = [b.name for b in pot.blocks]
    assert names[:3] == ["Al", "Cu", "Ni"] and "Al Cu Ni" in names and "Ni Al" in names
    assert pot.block("Ni").embedding.npoti == "FinnisSinclair"  # element beats ALL
    assert pot.block("Ni").embedding.rho_core_cut == 3000
    assert pot.block("Al Ni").bond.rcut == 4.0 and pot.block("Ni Al").bond.rcut == 4.0  # explicit pair, both ways
    assert pot.block("Al Cu").bond.rcut == 4.5 and pot.block("Al Cu").bond.radbase == "ChebPow"  # BINARY
    assert pot.block("Al").bond.radbase == "SBessel" and pot.block("Al").bond.rcut == 5.0  # ALL
    assert pot.block("Al").core_repulsion == (0.0, 0.0) and pot.block("Al Cu").core_repulsion == (100.0, 5.0)
    # "Cu Al Ni" block takes the explicit CuAlNi orders (4 ranks, lmax 0 at rank 4)
    cu_block = pot.block("Cu Al Ni")
    assert max(f.rank for f in cu_block.functions) == 4
    assert all(max(f.ls) == 0 for f in cu_block.functions if f.rank == 4)
    assert pot.block("Al Cu Ni").bond is None
    res = resolve(pot)
    assert res.elements == ["Al", "Cu", "Ni"]
    # functions of every block involve exactly the block's species
    for block in pot.blocks:
        for f in block.functions:
            assert set(f.elements) == set(block.species) and f.central == block.central


def test_bad_configs():
    bad = copy.deepcopy(CU)
    del bad["bonds"]
    with pytest.raises(InputError, match="bonds"):
        construct_bbasis(bad)
    bad = copy.deepcopy(CU)
    bad["functions"]["Xx"] = {"nradmax_by_orders": [1], "lmax_by_orders": [0]}
    with pytest.raises(InputError, match="Xx"):
        construct_bbasis(bad)
    bad = copy.deepcopy(CU)
    bad["functions"]["UNARY"]["coefs_init"] = "ones"
    with pytest.raises(InputError, match="coefs_init"):
        construct_bbasis(bad)
    for section, value in (("functions", [1, 2]), ("bonds", {"ALL": 7})):
        bad = copy.deepcopy(CU)
        bad[section] = value
        with pytest.raises(InputError, match=section):
            construct_bbasis(bad)
    bad = copy.deepcopy(CU)
    bad["bonds"]["ALL"]["lmax"] = 1
    with pytest.raises(InputError, match="lmax"):
        construct_bbasis(bad)


def test_random_coefficients():
    conf = copy.deepcopy(CU)
    conf["functions"]["UNARY"]["coefs_init"] = "random"
    pot = construct_bbasis(conf, rng=np.random.default_rng(1))
    coeffs = np.array([f.coeffs for f in pot.all_functions()])
    assert coeffs.shape == (82, 2) and 0 < np.abs(coeffs).max() < 1e-2 and np.all(coeffs != 0)


def test_ladder_orders_and_number_of_functions_per_element():
    pot = construct_bbasis(copy.deepcopy(CU))
    funcs = pot.all_functions()
    power = sort_functions(funcs, "power_order")
    keys = [len(f.ns) + sum(f.ns) + sum(f.ls) for f in power]
    assert keys == sorted(keys)
    body = sort_functions(funcs, "body_order")
    assert [f.rank for f in body] == sorted(f.rank for f in funcs)
    with pytest.raises(InputError):
        sort_functions(funcs, "random_order")
    conf = copy.deepcopy(CU)
    conf["functions"]["number_of_functions_per_element"] = 20
    small = construct_bbasis(conf)
    assert small.number_of_functions() == 20
    first = {(f.elements, f.ns, f.ls, f.lint) for f in power[:20]}
    assert {(f.elements, f.ns, f.ls, f.lint) for f in small.all_functions()} == first
    # a ladder step keeps existing coefficients and adds the next functions
    grown_from = copy.deepcopy(small)
    grown_from.blocks[0].functions[0].coeffs = (1.5, -2.0)
    grown = extend_basis(grown_from, pot, "power_order", 10)
    assert grown.number_of_functions() == 30
    kept = [f for f in grown.all_functions() if f.coeffs == (1.5, -2.0)]
    assert len(kept) == 1
    assert extend_basis(empty_like(pot), pot, "body_order").number_of_functions() == 82
    resolve(grown)


def test_species_keys():
    assert species_keys(["Al", "Cu", "Ni"], 2) == [("Al", "Cu"), ("Al", "Ni"), ("Cu", "Al"), ("Cu", "Ni"),
                                                  ("Ni", "Al"), ("Ni", "Cu")]
    assert species_keys(["Al", "Cu", "Ni"], 3) == [("Al", "Cu", "Ni"), ("Cu", "Al", "Ni"), ("Ni", "Al", "Cu")]


def _pyace_yaml(conf, tmp_path):
    from pyace.basisextension import construct_bbasisconfiguration

    out = tmp_path / "pyace.yaml"
    construct_bbasisconfiguration(copy.deepcopy(conf)).save(str(out))
    return out.read_text()


@pytest.mark.skipif(not HAVE_PYACE, reason="python-ace (pyace) not installed")
@pytest.mark.parametrize("name", ["cu", "ternary", "ladder"])
def test_identical_to_python_ace(name, tmp_path):
    conf = {"cu": CU, "ternary": TERNARY_CONF, "ladder": CU}[name]
    conf = copy.deepcopy(conf)
    if name == "ladder":
        conf["functions"]["number_of_functions_per_element"] = 20
    assert format_bbasis_yaml(construct_bbasis(copy.deepcopy(conf))) == _pyace_yaml(conf, tmp_path)


def test_large_single_element_basis(tmp_path):
    conf = copy.deepcopy(CU)
    conf["functions"] = {"ALL": {"nradmax_by_orders": [16, 5, 4, 3, 2, 1], "lmax_by_orders": [0, 6, 4, 3, 2, 1]}}
    pot = construct_bbasis(conf)
    assert pot.number_of_functions() == 1804
    assert _rank_counts(pot)[1] == 16
    if HAVE_PYACE:
        assert format_bbasis_yaml(pot) == _pyace_yaml(conf, tmp_path)


@pytest.mark.skipif(not HAVE_PYACE, reason="python-ace (pyace) not installed")
@pytest.mark.parametrize("ladder_type", ["body_order", "power_order"])
def test_ladder_steps_identical_to_python_ace(ladder_type, tmp_path):
    from pyace.basisextension import construct_bbasisconfiguration, extend_basis as pyace_extend
    from pyace.multispecies_basisextension import clean_bbasisconfig

    final = construct_bbasisconfiguration(copy.deepcopy(TERNARY_CONF))
    current = final.copy()
    clean_bbasisconfig(current)
    ours_final = construct_bbasis(copy.deepcopy(TERNARY_CONF))
    ours = empty_like(ours_final)
    out = tmp_path / "step.yaml"
    for _ in range(3):
        current = pyace_extend(current, final, ladder_type, 15)
        ours = extend_basis(ours, ours_final, ladder_type, 15)
        current.save(str(out))
        assert format_bbasis_yaml(ours) == out.read_text()


def test_explicit_radial_sizes_in_bonds(tmp_path):
    conf = copy.deepcopy(CU)
    conf["bonds"]["ALL"].update({"nradbase": 20, "nradmax": 4, "lmax": 3})
    pot = construct_bbasis(copy.deepcopy(conf))
    bond = pot.blocks[0].bond
    assert (bond.nradbase, bond.nradmax, bond.lmax) == (20, 4, 3)  # larger than the functions need: kept
    assert bond.radcoefficients.shape == (4, 4, 20)
    np.testing.assert_array_equal(bond.radcoefficients[:, 2, :4], np.eye(4))
    assert max(f.ns[0] for f in pot.all_functions() if f.rank == 1) == 15
    if HAVE_PYACE:
        assert format_bbasis_yaml(pot) == _pyace_yaml(conf, tmp_path)
