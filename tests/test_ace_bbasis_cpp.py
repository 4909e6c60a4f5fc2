"""The C++ B-basis ``.yaml`` reader and converter (what the LAMMPS plugin and the KIM driver use) against
forcefit's Python path (``read_bbasis_yaml`` + ``bbasis_to_ctilde`` + the same C++ evaluator).

Both paths end in the same evaluator, so energies, forces and stresses must agree to ~1e-12 relative; the
C++ converter may list a function's m-combinations in another (compressed) form than the Python one,
which changes only the summation order.  Structures: sheared fcc cells with random displacements and
random species.  Units: eV, Å, stress eV/Å^3 (ASE sign).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from lammps_helpers import fcc_cell  # noqa: E402

from forcefit import _core  # noqa: E402
from forcefit.ace.construct import construct_bbasis  # noqa: E402
from forcefit.ace.convert import bbasis_to_ctilde  # noqa: E402
from forcefit.ace.coupling import generalized_cg  # noqa: E402
from forcefit.ace.evaluator import ACEEvaluator, csr_neighbors  # noqa: E402
from forcefit.ace.yaml_io import format_bbasis_yaml, read_bbasis_yaml  # noqa: E402
from forcefit.errors import InputError  # noqa: E402

RTOL = 1e-12
SHARED_YAML = ["Al-Ni_opt_all.yaml", "Al-r1l0.yaml", "Al-r234.yaml", "Al.pbe.13.2.yaml", "Al_r3_test_exp_hole.yaml",
               "Cu-III.yaml", "DFT10B-AgCu.yaml", "ZBL_rep.yaml", "multispecies_AlNi.yaml"]
LATTICE = {"Al": 4.05, "Ni": 3.52, "Cu": 3.63, "Ag": 4.09, "H": 2.2}


def _potentials_dir(shared_dir: Path) -> Path:
    return shared_dir / "reference" / "pace" / "potentials"


def _evaluate(model, atoms, species, cutoff):
    nl = csr_neighbors(atoms.positions, atoms.cell.array, atoms.pbc, cutoff)
    e, f, w = model.compute(np.asarray(species, np.int32), nl.first, nl.neigh, nl.rij)
    return e.sum(), f, -w / atoms.get_volume()


def _assert_same(cpp_model, python_eval: ACEEvaluator, elements, seed, scale=1.0):
    a = scale * float(np.mean([LATTICE.get(e, 4.0) for e in elements]))
    atoms, types = fcc_cell(a, 2, 0.1 * scale, elements, seed=seed)
    species = types - 1
    cutoff = python_eval.cutoff
    assert cpp_model.cutoff == cutoff
    e_cpp, f_cpp, s_cpp = _evaluate(cpp_model, atoms, species, cutoff)
    e_py, f_py, s_py = _evaluate(python_eval.model, atoms, species, cutoff)
    assert e_py != 0.0
    assert e_cpp == pytest.approx(e_py, rel=RTOL, abs=0)
    np.testing.assert_allclose(f_cpp, f_py, rtol=0, atol=RTOL * np.abs(f_py).max())
    np.testing.assert_allclose(s_cpp, s_py, rtol=0, atol=RTOL * np.abs(s_py).max())
    return e_cpp


def _assert_same_parameters(spec: dict, pot):
    """Elements, embeddings and bonds of the C++ spec equal the Python conversion's exactly."""
    assert spec["elements"] == list(pot.elements)
    assert spec["E0"] == [0.0] * len(pot.elements)
    assert spec["deltaSplineBins"] == pot.deltaSplineBins
    nel = len(pot.elements)
    for mu, emb in enumerate(spec["embeddings"]):
        ref = pot.embeddings[mu]
        assert (emb["npoti"], emb["ndensity"], emb["FS_parameters"]) == (ref.npoti, ref.ndensity,
                                                                       list(ref.FS_parameters))
        assert (emb["rho_core_cutoff"], emb["drho_core_cutoff"]) == (ref.rho_core_cutoff, ref.drho_core_cutoff)
    for k, bond in enumerate(spec["bonds"]):
        ref = pot.bonds[(k // nel, k % nel)]
        for key in ("radbasename", "nradmax", "lmax", "nradbasemax", "prehc", "lambdahc", "rcut", "dcut",
                    "rcut_in", "dcut_in", "inner_cutoff_type"):
            assert bond[key] == getattr(ref, key), key
        np.testing.assert_array_equal(bond["radcoefficients"], np.asarray(ref.radcoefficients).reshape(
            bond["radcoefficients"].shape))


# ---- Clebsch-Gordan coefficients ----------------------------------------------------------------------

@pytest.mark.parametrize("ls, lint", [((0,), ()), ((8, 8), ()), ((20, 20), ()), ((5, 4, 3), (3,)),
                                      ((10, 9, 7), (7,)), ((3, 3, 2, 2), (2, 2)), ((4, 4, 4, 4), (6, 6)),
                                      ((2, 2, 2, 2, 2), (2, 2, 2)), ((1, 2, 1, 2, 1, 1), (3, 1, 2, 2))])
def test_generalized_cg_matches_exact_python(ls, lint):
    for half in (True, False):
        ms, cg = _core.ace_generalized_cg(list(ls), list(lint), half)
        ms_ref, cg_ref = generalized_cg(ls, lint, half_basis=half)
        np.testing.assert_array_equal(ms, ms_ref)
        np.testing.assert_allclose(cg, cg_ref, rtol=0, atol=2e-15 * np.abs(cg_ref).max())


def test_generalized_cg_of_invalid_couplings_is_empty():
    ms, cg = _core.ace_generalized_cg([1, 1, 4], [4], True)  # (1 1) cannot couple to 4
    assert ms.shape == (0, 3) and cg.shape == (0,)
    with pytest.raises(InputError, match="needs 1 lint values"):
        _core.ace_generalized_cg([1, 1, 2], [], True)


# ---- python-ace's potential files ---------------------------------------------------------------------

@pytest.mark.parametrize("name", SHARED_YAML)
def test_shared_yaml_potentials_match_python_conversion(name, shared_dir, tmp_path):
    path = _potentials_dir(shared_dir) / name
    text = path.read_text()
    if "c: 0.}" in text:  # a test file whose coefficients are all zero: give them values
        counter = iter(range(1, 10000))
        path = tmp_path / name
        path.write_text(re.sub(r"c: 0\.}", lambda m: f"c: {0.1 * (-1) ** next(counter) * next(counter)}}}", text))
    python_eval = ACEEvaluator(path)
    _assert_same_parameters(_core.ace_read_potential_spec(str(path)), python_eval.potential)
    _assert_same(_core.ace_model_from_file(str(path)), python_eval, python_eval.potential.elements, seed=len(name))


def test_file_kind_is_found_by_content(shared_dir, tmp_path):
    src = _potentials_dir(shared_dir)
    for name in ("Al-Ni_opt_all.yaml", "Al-Ni_opt_all.yace"):
        plain = tmp_path / (name.replace(".", "_") + ".txt")
        plain.write_bytes((src / name).read_bytes())
        by_content = _core.ace_read_potential_spec(str(plain))
        by_name = _core.ace_read_potential_spec(str(src / name))
        assert by_content["elements"] == by_name["elements"] == ["Al", "Ni"]
        assert by_content["E0"] == by_name["E0"]
        assert [len(f) for f in by_content["functions"]] == [len(f) for f in by_name["functions"]]


def test_yaml_layout_variants_read_the_same(shared_dir, tmp_path):
    """python-ace's block-style files: sequence items at the key's indentation, comments, quoted scalars,
    flat (older) radcoefficients, an explicit 'skip: false'."""
    src = _potentials_dir(shared_dir) / "Al-Ni_opt_all.yaml"
    text = src.read_text()
    variant = text.replace("    nbody:\n      - ", "    nbody:\n    - ").replace("\n      - {", "\n    - {")
    variant = variant.replace("radbase: ChebExpCos", "radbase: 'ChebExpCos'  # quoted")
    variant = variant.replace("c: [ -1.5158666430168033 ] }", "c: [ -1.5158666430168033 ], skip: false }")
    nested = "[ [ [ -6.2399276210067107 ], [ 0.021090326146293255 ] ], [ [ 2 ], [ 2.5167897981916529 ] ] ]"
    assert nested in variant
    # flat layout: k slowest, then n, then l (nradbase 1 here, so n-major)
    variant = variant.replace(nested, "[-6.2399276210067107, 0.021090326146293255, 2, 2.5167897981916529]")
    assert variant != text
    alt = tmp_path / "variant.yaml"
    alt.write_text(variant)
    a, b = _core.ace_read_potential_spec(str(src)), _core.ace_read_potential_spec(str(alt))
    assert a["elements"] == b["elements"]
    for fa, fb in zip(a["functions"], b["functions"]):
        assert len(fa) == len(fb)
        for x, y in zip(fa, fb):
            np.testing.assert_array_equal(x["ctildes"], y["ctildes"])
    for x, y in zip(a["bonds"], b["bonds"]):
        np.testing.assert_array_equal(x["radcoefficients"], y["radcoefficients"])


def test_sequence_at_the_parent_indentation_reads_the_same(shared_dir, tmp_path):
    """'species:' followed by '- speciesblock: ...' at column 0 (and nbody items at their key's column)."""
    src = _potentials_dir(shared_dir) / "multispecies_AlNi.yaml"
    lines = src.read_text().splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("species:"))
    dedented = lines[:start + 1] + [line[2:] if line.startswith("  ") else line for line in lines[start + 1:]]
    assert any(line.startswith("- speciesblock:") for line in dedented)
    alt = tmp_path / "dedented.yaml"
    alt.write_text("\n".join(dedented) + "\n")
    a, b = _core.ace_read_potential_spec(str(src)), _core.ace_read_potential_spec(str(alt))
    assert a["elements"] == b["elements"] and len(a["elements"]) > 1
    for fa, fb in zip(a["functions"], b["functions"]):
        assert len(fa) == len(fb) > 0
        for x, y in zip(fa, fb):
            np.testing.assert_array_equal(x["ms_combs"], y["ms_combs"])
            np.testing.assert_array_equal(x["ctildes"], y["ctildes"])


def test_flat_radcoefficients_use_python_aces_order(tmp_path):
    pot = _constructed(["Al"], {"ALL": {"nradmax_by_orders": [3, 2, 1], "lmax_by_orders": [0, 2, 1]}}, seed=3)
    crad = pot.blocks[0].bond.radcoefficients  # [nradmax, lmax+1, nradbase]
    assert crad.shape[0] > 1 and crad.shape[1] > 1 and crad.shape[2] > 1
    text = format_bbasis_yaml(pot)
    line = next(l for l in text.splitlines() if l.strip().startswith("radcoefficients:"))
    flat = ", ".join(repr(float(x)) for x in crad.transpose(2, 0, 1).ravel())
    (tmp_path / "nested.yaml").write_text(text)
    (tmp_path / "flat.yaml").write_text(text.replace(line, f"    radcoefficients: [{flat}]"))
    nested = _core.ace_read_potential_spec(str(tmp_path / "nested.yaml"))
    flat = _core.ace_read_potential_spec(str(tmp_path / "flat.yaml"))
    np.testing.assert_array_equal(flat["bonds"][0]["radcoefficients"], crad)
    np.testing.assert_array_equal(nested["bonds"][0]["radcoefficients"], crad)


# ---- forcefit-constructed potentials ------------------------------------------------------------------

EMBEDDINGS = {"ALL": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1, 1, 0.5], "ndensity": 2},
              "Ni": {"npot": "FinnisSinclair", "fs_parameters": [1, 1], "ndensity": 1}}
BONDS = {"ALL": {"radbase": "ChebExpCos", "radparameters": [5.25], "rcut": 5.0, "dcut": 0.01},
         "BINARY": {"radbase": "ChebPow", "radparameters": [2.0], "rcut": 4.6, "dcut": 0.02,
                    "core-repulsion": [100, 5]}}


def _constructed(elements, functions, seed):
    """A constructed B-basis potential with random O(1) function and radial coefficients."""
    embeddings = {k: v for k, v in EMBEDDINGS.items() if k == "ALL" or k in elements}
    bonds = {k: v for k, v in BONDS.items() if k == "ALL" or len(elements) > 1}
    conf = {"elements": elements, "embeddings": embeddings, "bonds": bonds, "functions": functions}
    rng = np.random.default_rng(seed)
    pot = construct_bbasis(conf, rng)
    for block in pot.blocks:
        for f in block.functions:
            f.coeffs = tuple(rng.normal(0.0, 0.5, len(f.coeffs)))
        if block.bond is not None:
            block.bond.radcoefficients = rng.normal(0.0, 1.0, block.bond.radcoefficients.shape)
    # python-ace keeps the "A B" and "B A" radial bases identical
    by_key = {tuple(b.element_list): b for b in pot.blocks}
    for b in pot.blocks:
        if len(b.species) == 2 and b.bond is not None and b.species[0] > b.species[1]:
            b.bond.radcoefficients = by_key[(b.species[1], b.species[0])].bond.radcoefficients.copy()
    return pot


CONSTRUCTED = {
    "Cu rank<=5, l<=8": (["Cu"], {"ALL": {"nradmax_by_orders": [4, 2, 2, 1, 1], "lmax_by_orders": [0, 8, 4, 2, 1]}}),
    "AlNi rank<=4, l<=6": (["Al", "Ni"], {"ALL": {"nradmax_by_orders": [3, 2, 1, 1], "lmax_by_orders": [0, 6, 3, 2]}}),
    "AlCuNi rank<=3, l<=5": (["Al", "Cu", "Ni"], {"ALL": {"nradmax_by_orders": [2, 1, 1], "lmax_by_orders": [0, 5, 3]}}),
}


@pytest.mark.parametrize("case", list(CONSTRUCTED))
def test_constructed_potentials_match_python_conversion(case, tmp_path):
    elements, functions = CONSTRUCTED[case]
    pot = _constructed(elements, functions, seed=len(case))
    path = tmp_path / "pot.yaml"
    path.write_text(format_bbasis_yaml(pot))
    python_eval = ACEEvaluator(bbasis_to_ctilde(read_bbasis_yaml(path)))
    _assert_same_parameters(_core.ace_read_potential_spec(str(path)), python_eval.potential)
    _assert_same(_core.ace_model_from_file(str(path)), python_eval, python_eval.potential.elements, seed=7, scale=0.9)


def test_skipped_functions_are_left_out(tmp_path):
    elements, functions = CONSTRUCTED["AlNi rank<=4, l<=6"]
    pot = _constructed(elements, functions, seed=11)
    full = tmp_path / "full.yaml"
    full.write_text(format_bbasis_yaml(pot))
    for block in pot.blocks:
        for f in block.functions[1::3]:
            f.skip = True
    skipped = tmp_path / "skipped.yaml"
    skipped.write_text(format_bbasis_yaml(pot))
    assert "skip: true" in skipped.read_text()
    python_eval = ACEEvaluator(bbasis_to_ctilde(read_bbasis_yaml(skipped)))
    e_skip = _assert_same(_core.ace_model_from_file(str(skipped)), python_eval, elements, seed=5, scale=0.9)
    e_full = _assert_same(_core.ace_model_from_file(str(full)), ACEEvaluator(bbasis_to_ctilde(read_bbasis_yaml(full))),
                          elements, seed=5, scale=0.9)
    assert abs(e_skip - e_full) > 1e-6 * abs(e_full)


def test_functions_differing_only_in_lint_are_merged(tmp_path):
    """Rank-4 functions with the same (mus, ns, ls) and several lint become one Ctilde function."""
    pot = _constructed(["Cu"], {"ALL": {"nradmax_by_orders": [1, 1, 1, 1], "lmax_by_orders": [0, 2, 2, 2]}}, seed=2)
    lints = {}
    for f in pot.all_functions():
        if f.rank == 4:
            lints.setdefault((f.ns, f.ls), []).append(f.lint)
    assert any(len(v) > 1 for v in lints.values())
    path = tmp_path / "pot.yaml"
    path.write_text(format_bbasis_yaml(pot))
    spec = _core.ace_read_potential_spec(str(path))
    keys = [(tuple(f["mus"]), tuple(f["ns"]), tuple(f["ls"])) for f in spec["functions"][0]]
    assert len(keys) == len(set(keys))
    assert len(keys) < pot.number_of_functions()
    python_eval = ACEEvaluator(bbasis_to_ctilde(read_bbasis_yaml(path)))
    _assert_same(_core.ace_model_from_file(str(path)), python_eval, ["Cu"], seed=9, scale=0.9)


# ---- broken files ---------------------------------------------------------------------------------------

def _broken(shared_dir, tmp_path, old, new, count=1):
    text = (_potentials_dir(shared_dir) / "Al-Ni_opt_all.yaml").read_text()
    assert text.count(old) >= count, old
    path = tmp_path / "broken.yaml"
    path.write_text(text.replace(old, new, count))
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(k for k, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


BROKEN = [
    # (old, new, message pattern, line marker or None)
    ("    nradbaseij: 1\n", "", r"species\[1\] \('Al Ni'\): radial basis misses key 'nradbaseij'", "speciesblock: Al Ni"),
    ("radcoefficients: [ [ [ -6.2399276210067107 ], [ 0.021090326146293255 ] ], [ [ 2 ], [ 2.5167897981916529 ] ] ]",
     "radcoefficients: [ [ [ -6.2399276210067107 ], [ 0.021090326146293255 ] ] ]",
     r"species\[1\] \('Al Ni'\): radcoefficients: needs shape \[nradmaxi, lmaxi\+1, nradbaseij\] = \[2, 2, 1\]",
     "radcoefficients: [ [ [ -6.23"),
    ("radcoefficients: [ [ [ -6.2399276210067107 ], [ 0.021090326146293255 ] ], [ [ 2 ], [ 2.5167897981916529 ] ] ]",
     "radcoefficients: [ [ [ -6.2399276210067107 ], [ 0.021090326146293255 ] ], [ [ 2, 3 ], [ 2.5167897981916529 ] ] ]",
     r"radcoefficients\[1\]\[0\]: needs nradbaseij = 1 values, got 2", "radcoefficients: [ [ [ -6.23"),
    ("radbase: ChebPow", "radbase: ChebFoo", r"speciesblock 'Ni': radbase: unknown ACE radial basis 'ChebFoo'", "radbase: ChebFoo"),
    ("npoti: FinnisSinclairShiftedScaled", "npoti: Exponential", r"npoti: unknown ACE embedding 'Exponential'",
     "npoti: Exponential"),
    ("parameters: [ 1, 1, 1, 0.5 ]", "parameters: [ 1, 1, 1 ]", r"parameters: needs 2\*ndensityi = 4 values",
     "parameters: [ 1, 1, 1 ]"),
    ("lint: [ 0 ], c: [ 0.98259238491514977 ]", "c: [ 0.98259238491514977 ]", r"nbody\[3\]: rank-3 function needs 'lint'",
     "c: [ 0.98259238491514977 ]"),
    ("nl: [ 1, 1, 0 ], lint: [ 0 ], c: [ 0.98259238491514977 ]", "nl: [ 0, 0, 2 ], lint: [ 2 ], c: [ 0.98259238491514977 ]",
     r"violate the triangle rule", "nl: [ 0, 0, 2 ]"),
    ("c: [ -1.5158666430168033 ]", "c: [ -1.5158666430168033, 2 ]", r"'c' has|c: 2 values but Al has ndensityi = 1",
     "c: [ -1.5158666430168033, 2 ]"),
    ("nr: [ 2 ], nl: [ 0 ], c: [ 7.8678535658440847 ]", "nr: [ 2 ], nl: [ 0 ], c: [ 7.8678535658440847 ], cc: 1",
     r"nbody\[1\]: cc: unknown key", "cc: 1"),
    ("  DeltaSplineBins: 0.001\n", "  Delta: 0.001\n", r"global: missing key 'DeltaSplineBins'", "  Delta:"),
    ("rcutij: 8.75", "rcutij: eight", r"rcutij: expected a finite number, got 'eight'", "rcutij: eight"),
    ("    npoti: FinnisSinclair\n", "", r"single-species block misses key 'npoti'", None),
]


@pytest.mark.parametrize("old, new, pattern, marker", BROKEN, ids=[b[2][:40] for b in BROKEN])
def test_broken_yaml_names_file_line_and_key(shared_dir, tmp_path, old, new, pattern, marker):
    path = _broken(shared_dir, tmp_path, old, new)
    with pytest.raises(InputError, match=pattern) as err:
        _core.ace_read_potential_spec(str(path))
    message = str(err.value)
    assert message.startswith(f"{path}: line ")
    if marker is not None:
        assert f": line {_line_of(path, marker)}: " in message, message


def test_unparsable_or_missing_yaml_is_an_input_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("global:\n  DeltaSplineBins: [0.001\nspecies: []\n")
    with pytest.raises(InputError, match=re.escape(str(bad)) + ": line"):
        _core.ace_read_potential_spec(str(bad))
    with pytest.raises(InputError, match="cannot open"):
        _core.ace_read_potential_spec(str(tmp_path / "missing.yaml"))
    empty = tmp_path / "empty.yaml"
    empty.write_text("global:\n  DeltaSplineBins: 0.001\nspecies: []\n")
    with pytest.raises(InputError, match="no species blocks"):
        _core.ace_read_potential_spec(str(empty))
