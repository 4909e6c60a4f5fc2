"""Reading and writing python-ace B-basis ``.yaml`` potential files."""

from __future__ import annotations

import copy
import os

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forcefit.ace.bbasis import BBasisFunction, normalized, number_of_parameters, resolve
from forcefit.ace.yaml_io import (format_bbasis_yaml, format_float, parse_bbasis_yaml,
                                  read_bbasis_yaml, write_bbasis_yaml)
from forcefit.errors import FileFormatError, ForcefitError

try:  # python-ace serves only as an optional oracle
    import pyace  # noqa: F401
    HAVE_PYACE = True
except ImportError:
    HAVE_PYACE = False

SMALL = """\
metadata:
  user: someone
  flag: yes
  when: 2021-05-15 10:56:15.281954
global:
  DeltaSplineBins: 0.001
species:
  - speciesblock: Al
    ndensityi: 2
    npoti: FinnisSinclairShiftedScaled
    parameters: [1, 1, 1, 0.5]
    nradmaxi: 2
    lmaxi: 1
    rcutij: 6.5
    dcutij: 0.01
    nradbaseij: 3
    radbase: ChebExpCos
    radparameters: [5.25]
    # flat (legacy) radcoefficients: k slowest, then n, then l fastest
    radcoefficients: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    nbody:
      - {type: Al Al, nr: [1], nl: [0], c: [0.5, -0.5]}
      - {type: Al Al Al, nr: [1, 2], nl: [1, 1], c: [1e+20, 2]}
      - {type: Al Al Al Al, nr: [1, 1, 2], nl: [1, 1, 0], lint: [0], c: [3, 4], skip: true}
"""


def potential_files(shared_dir):
    folder = shared_dir / "reference" / "pace" / "potentials"
    files = sorted(folder.glob("*.yaml"))
    if not files:
        pytest.skip(f"no .yaml potentials in {folder}")
    return files


def test_small_file_values(tmp_path):
    pot = parse_bbasis_yaml(SMALL, path="small.yaml")
    assert pot.metadata == {"user": "someone", "flag": "yes", "when": "2021-05-15 10:56:15.281954"}
    assert pot.delta_spline_bins == 0.001
    (block,) = pot.blocks
    assert block.embedding.ndensity == 2 and block.embedding.parameters == (1, 1, 1, 0.5)
    assert block.embedding.rho_core_cut is None  # absent: python-ace default applies in resolve()
    crad = block.bond.radcoefficients
    assert crad.shape == (2, 2, 3)
    # flat index j = k * nradmax * (lmax+1) + n * (lmax+1) + l  ->  crad[n][l][k] = j + 1
    for n in range(2):
        for l in range(2):
            for k in range(3):
                assert crad[n, l, k] == k * 4 + n * 2 + l + 1
    f1, f2, f3 = block.functions
    assert f1.coeffs == (0.5, -0.5) and f2.coeffs == (1e20, 2.0)
    assert f3.lint == (0,) and f3.skip and not f2.skip
    res = resolve(pot)
    assert res.embeddings[0].rho_core_cutoff == 100000 and res.embeddings[0].drho_core_cutoff == 250
    assert res.bonds[(0, 0)].inner_cutoff_type == "density" and res.bonds[(0, 0)].prehc == 0
    assert len(res.functions[0]) == 2  # the skipped function is left out
    assert number_of_parameters(pot) == (12, 6)


def test_round_trip_small_and_atomic_write(tmp_path):
    pot = parse_bbasis_yaml(SMALL)
    out = tmp_path / "out.yaml"
    write_bbasis_yaml(pot, out)
    assert sorted(os.listdir(tmp_path)) == ["out.yaml"]  # no temporary file left behind
    again = read_bbasis_yaml(out)
    assert again == pot
    assert format_bbasis_yaml(again) == out.read_text()
    # radcoefficients are written three-dimensional
    assert "radcoefficients: [[[1, 5, 9], [2, 6, 10]], [[3, 7, 11], [4, 8, 12]]]" in out.read_text()
    assert "skip: true" in out.read_text()


@pytest.mark.parametrize("value", [0.1, 1.0, -0.0, 1e20, 5e-324, 1.7976931348623157e308,
                                   8.7, 2.8315898507001703e-05, float("inf"), -float("inf")])
def test_float_format_round_trips(value):
    text = format_float(value)
    doc = SMALL.replace("c: [0.5, -0.5]", f"c: [{text}, 0]")
    if not np.isfinite(value):  # written as .inf, read back, refused as a coefficient
        assert text in (".inf", "-.inf")
        with pytest.raises(FileFormatError, match="finite"):
            parse_bbasis_yaml(doc)
        return
    got = parse_bbasis_yaml(doc).blocks[0].functions[0].coeffs[0]
    assert got == value and np.signbit(got) == np.signbit(value)
    assert format_float(8.7) == "8.6999999999999993"  # yaml-cpp's 17 significant digits


def test_round_trip_reference_files(shared_dir, tmp_path):
    for path in potential_files(shared_dir):
        pot = read_bbasis_yaml(path)
        out = tmp_path / path.name
        write_bbasis_yaml(pot, out)
        again = read_bbasis_yaml(out)
        assert again == pot, path.name
        assert format_bbasis_yaml(again) == out.read_text(), path.name


def test_reference_counts(shared_dir):
    folder = shared_dir / "reference" / "pace" / "potentials"
    counts = {"Al-Ni_opt_all.yaml": 17, "Cu-III.yaml": 62, "Al.pbe.13.2.yaml": 197, "ZBL_rep.yaml": 5,
              "DFT10B-AgCu.yaml": 120}
    for name, count in counts.items():
        pot = read_bbasis_yaml(folder / name)
        assert pot.number_of_functions() == count, name
    ms = read_bbasis_yaml(folder / "multispecies_AlNi.yaml")
    res = resolve(ms)
    assert ms.block("Ni Al").bond is None  # kept as written ...
    np.testing.assert_array_equal(res.bonds[(1, 0)].radcoefficients, res.bonds[(0, 1)].radcoefficients)
    assert res.bonds[(1, 0)].prehc == 550 and res.bonds[(1, 0)].lambdahc == 10  # ... resolved from "Al Ni"
    zbl = resolve(read_bbasis_yaml(folder / "ZBL_rep.yaml"))
    assert zbl.bonds[(0, 0)].inner_cutoff_type == "zbl" and zbl.bonds[(0, 0)].rcut_in == 3


@pytest.mark.skipif(not HAVE_PYACE, reason="python-ace (pyace) not installed")
def test_normalized_matches_python_ace_save(shared_dir, tmp_path):
    from pyace import BBasisConfiguration

    for path in potential_files(shared_dir):
        out = tmp_path / ("pyace_" + path.name)
        BBasisConfiguration(str(path)).save(str(out))
        assert format_bbasis_yaml(normalized(read_bbasis_yaml(path))) == out.read_text(), path.name


BAD_CASES = [
    ("DeltaSplineBins: 0.001", "DeltaSplineBins: -1", "DeltaSplineBins"),
    ("DeltaSplineBins: 0.001", "DeltaSplineBins: abc", "abc"),
    ("ndensityi: 2", "ndensityi: 2.5", "ndensityi"),
    ("parameters: [1, 1, 1, 0.5]", "parameters: [1, 1]", "parameters"),
    ("rcutij: 6.5", "rcutij: [6.5]", "rcutij"),
    ("radcoefficients: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]", "radcoefficients: [1, 2, 3]",
     "radcoefficients"),
    ("radcoefficients: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]", "radcoefficients: [[[1, 2, 3]]]",
     "radcoefficients"),
    ("nr: [1, 2], nl: [1, 1]", "nr: [1, 2], nl: [1, 2]", "nbody"),
    ("nr: [1, 2], nl: [1, 1]", "nr: [1, 3], nl: [1, 1]", "nradmaxi"),
    ("nr: [1, 2], nl: [1, 1]", "nr: [0, 2], nl: [1, 1]", "nr"),
    ("nr: [1, 2], nl: [1, 1]", "nr: [1, 2], nl: [2, 2]", "lmaxi"),
    ("c: [0.5, -0.5]", "c: [0.5]", "ndensityi"),
    ("lint: [0]", "lint: [1]", "lint"),
    ("lint: [0], ", "", "lint"),
    ("type: Al Al Al,", "type: Al Al Ni,", "Ni"),
    ("type: Al Al Al,", "type: Al,", "type"),
    ("skip: true", "skip: maybe", "skip"),
    ("  - speciesblock: Al", "  - speciesblok: Al", "speciesblock"),
    ("    npoti: FinnisSinclairShiftedScaled\n", "", "npoti"),
]


@pytest.mark.parametrize("old,new,needle", BAD_CASES)
def test_bad_input_names_file_key_and_value(old, new, needle):
    assert old in SMALL
    text = SMALL.replace(old, new, 1)
    with pytest.raises(FileFormatError) as info:
        parse_bbasis_yaml(text, path="bad.yaml")
    message = str(info.value)
    assert message.startswith("bad.yaml: ") and needle in message, message


def test_structural_errors():
    with pytest.raises(FileFormatError, match="not valid YAML"):
        parse_bbasis_yaml("global: [1, 2", path="x.yaml")
    with pytest.raises(FileFormatError, match="expected a mapping"):
        parse_bbasis_yaml("- 1\n- 2\n")
    with pytest.raises(FileFormatError, match="global"):
        parse_bbasis_yaml("species: []\n")
    with pytest.raises(FileFormatError, match="no species blocks"):
        parse_bbasis_yaml("global: {DeltaSplineBins: 0.001}\nspecies: []\n")
    two = SMALL + SMALL[SMALL.index("  - speciesblock"):]
    with pytest.raises(FileFormatError, match="appears twice"):
        parse_bbasis_yaml(two)


def test_missing_pair_block_and_inconsistent_duals(shared_dir):
    folder = shared_dir / "reference" / "pace" / "potentials"
    text = (folder / "Al-Ni_opt_all.yaml").read_text()
    pot = parse_bbasis_yaml(text)
    broken = copy.deepcopy(pot)
    broken.blocks = [b for b in broken.blocks if len(b.species) == 1]
    with pytest.raises(FileFormatError, match="Al-Ni"):
        resolve(broken)
    changed = copy.deepcopy(pot)
    changed.block("Ni Al").bond.rcut = 9.0
    with pytest.raises(FileFormatError, match="radial basis differs"):
        resolve(changed)


def test_unknown_keys_are_kept(tmp_path):
    text = SMALL.replace("    nbody:", "    my_note: [a, b]\n    nbody:")
    pot = parse_bbasis_yaml(text)
    assert pot.blocks[0].extra == {"my_note": ["a", "b"]}
    out = tmp_path / "x.yaml"
    write_bbasis_yaml(pot, out)
    assert read_bbasis_yaml(out) == pot


def test_function_dataclass():
    f = BBasisFunction(elements=("Al", "Al", "Ni"), ns=(1, 2), ls=(1, 1), coeffs=(1.0,))
    assert f.rank == 2 and f.central == "Al" and f.neighbours == ("Al", "Ni") and f.type == "Al Al Ni"


# ---- fuzzing: nothing but forcefit errors may come out of the reader --------------------------

_scalars = st.one_of(st.integers(-5, 40), st.floats(allow_nan=True), st.text(max_size=8), st.booleans(),
                     st.none())
_trees = st.recursive(_scalars, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                       st.dictionaries(st.text(max_size=6), kids,
                                                                       max_size=4)), max_leaves=12)
_KEYS = ["speciesblock", "ndensityi", "npoti", "parameters", "nradmaxi", "lmaxi", "rcutij", "dcutij",
         "nradbaseij", "radbase", "radparameters", "radcoefficients", "core-repulsion", "nbody", "r_in",
         "delta_in", "inner_cutoff_type", "rho_core_cut", "drho_core_cut", "NameOfCutoffFunctionij"]


def _check_reader(text: str) -> None:
    try:
        parse_bbasis_yaml(text, path="fuzz.yaml")
    except ForcefitError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_fuzz_random_text(text):
    _check_reader(text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_KEYS + ["type", "nr", "nl", "lint", "c", "skip", "DeltaSplineBins", "global"]),
       _trees, st.integers(0, 3))
def test_fuzz_mutated_valid_file(key, value, which):
    tree = yaml.safe_load(SMALL)
    block = tree["species"][0]
    if key in ("DeltaSplineBins",):
        tree["global"][key] = value
    elif key == "global":
        tree["global"] = value
    elif key in ("type", "nr", "nl", "lint", "c", "skip"):
        block["nbody"][which % 3][key] = value
    else:
        block[key] = value
    _check_reader(yaml.safe_dump(tree, allow_unicode=True))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, len(SMALL) - 1), st.integers(1, 20), st.text(max_size=5))
def test_fuzz_text_edits(start, length, insert):
    _check_reader(SMALL[:start] + insert + SMALL[start + length:])


def test_reader_on_binary_and_directory(tmp_path):
    bad = tmp_path / "bin.yaml"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FileFormatError, match="bin.yaml"):
        read_bbasis_yaml(bad)
    with pytest.raises(FileFormatError):
        read_bbasis_yaml(tmp_path)


def _one_bond_block(name: str, nbody: str, embedding: bool) -> str:
    emb = "    ndensityi: 1\n    npoti: FinnisSinclair\n    parameters: [1, 1]\n" if embedding else ""
    radial = ("    nradmaxi: 1\n    lmaxi: 0\n    rcutij: 5.0\n    dcutij: 0.01\n    nradbaseij: 1\n"
              "    radbase: ChebExpCos\n    radparameters: [3]\n    radcoefficients: [[[1]]]\n")
    return f"  - speciesblock: {name}\n{emb}{radial}    nbody:{nbody}\n"


EMPTY_AND_SKIPPED = ("global: {DeltaSplineBins: 0.001}\nspecies:\n"
                     + _one_bond_block("Al", "\n      - {type: Al Al, nr: [1], nl: [0], c: [1.0]}", True)
                     + _one_bond_block("Ni", "\n      - {type: Ni Ni, nr: [1], nl: [0], c: [1.0], skip: true}", True)
                     + _one_bond_block("Al Ni", " []", False)
                     + "  - speciesblock: Ni Al\n    nbody:\n")


def test_empty_nbody_skip_and_partner_block(tmp_path):
    pot = parse_bbasis_yaml(EMPTY_AND_SKIPPED)
    assert pot.block("Al Ni").functions == [] and pot.block("Ni Al").functions == []
    assert pot.block("Ni Al").bond is None and pot.block("Ni").functions[0].skip
    res = resolve(pot)
    assert res.functions[1] == []  # the skipped Ni function is not evaluated
    text = format_bbasis_yaml(normalized(pot))
    assert "    nbody:\n      []\n" in text and "skip: true" in text
    assert parse_bbasis_yaml(text) == normalized(pot)
    if HAVE_PYACE:
        from pyace import BBasisConfiguration

        src, out = tmp_path / "in.yaml", tmp_path / "out.yaml"
        src.write_text(EMPTY_AND_SKIPPED)
        BBasisConfiguration(str(src)).save(str(out))
        assert text == out.read_text()
