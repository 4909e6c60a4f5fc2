"""Reading and writing Ctilde potentials: python-ace ``.yace`` (YAML) and the old ``.ace`` text format."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from forcefit.ace.ace_io import read_ace
from forcefit.ace.yace_io import format_yace, read_yace, write_yace
from forcefit.errors import FileFormatError

HAVE_PYACE = importlib.util.find_spec("pyace") is not None

SMALL_YACE = textwrap.dedent("""\
    elements: [Al, Ni]
    E0: [-0.5, 0]
    deltaSplineBins: 0.001
    embeddings:
      0: {ndensity: 1, FS_parameters: [1, 1], npoti: FinnisSinclair, rho_core_cutoff: 100000, drho_core_cutoff: 250}
      1: {ndensity: 1, FS_parameters: [1, 0.5], npoti: FinnisSinclairShiftedScaled, rho_core_cutoff: 100000, drho_core_cutoff: 250}
    bonds:
      [0, 0]: {nradmax: 1, lmax: 1, nradbasemax: 2, radbasename: ChebExpCos, radparameters: [3], radcoefficients: [[[1, 0.5], [0.25, -1]]], prehc: 0, lambdahc: 1, rcut: 5, dcut: 0.01}
      [0, 1]: {nradmax: 1, lmax: 1, nradbasemax: 2, radbasename: SBessel, radparameters: [3], radcoefficients: [[[1, 0.5], [0.25, -1]]], prehc: 0, lambdahc: 1, rcut: 5.5, dcut: 0.01, rcut_in: 1.0, dcut_in: 0.5, inner_cutoff_type: distance}
      [1, 0]: {nradmax: 1, lmax: 1, nradbasemax: 2, radbasename: SBessel, radparameters: [3], radcoefficients: [[[1, 0.5], [0.25, -1]]], prehc: 0, lambdahc: 1, rcut: 5.5, dcut: 0.01, rcut_in: 1.0, dcut_in: 0.5, inner_cutoff_type: distance}
      [1, 1]: {nradmax: 1, lmax: 1, nradbasemax: 2, radbasename: ChebPow, radparameters: [2], radcoefficients: [[[1, 0.5], [0.25, -1]]], prehc: 10, lambdahc: 2, rcut: 6, dcut: 0.01}
    functions:
      0:
        - {mu0: 0, rank: 1, ndensity: 1, num_ms_combs: 1, mus: [0], ns: [1], ls: [0], ms_combs: [0], ctildes: [-1.5]}
        - {mu0: 0, rank: 2, ndensity: 1, num_ms_combs: 2, mus: [0, 1], ns: [1, 1], ls: [1, 1], ms_combs: [0, 0, 1, -1], ctildes: [0.3, -0.6]}
      1:
        - {mu0: 1, rank: 1, ndensity: 1, num_ms_combs: 1, mus: [1], ns: [2], ls: [0], ms_combs: [0], ctildes: [0.7]}
    """)


@pytest.fixture()
def small(tmp_path):
    path = tmp_path / "small.yace"
    path.write_text(SMALL_YACE)
    return path


def test_read_small_yace(small):
    pot = read_yace(small)
    assert pot.elements == ["Al", "Ni"]
    assert pot.E0 == [-0.5, 0.0]
    assert set(pot.bonds) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert pot.bonds[(0, 0)].inner_cutoff_type == "density"  # python-ace's default when absent
    assert pot.bonds[(0, 1)].inner_cutoff_type == "distance"
    assert pot.bonds[(0, 1)].rcut_in == 1.0
    assert pot.bonds[(1, 1)].radcoefficients.shape == (1, 2, 2)
    f = pot.functions[0][1]
    assert f.ms_combs.tolist() == [[0, 0], [1, -1]]
    assert f.ctildes.shape == (2, 1)
    assert pot.embeddings[1].npoti == "FinnisSinclairShiftedScaled"


def test_yace_round_trip_is_exact(small, tmp_path):
    pot = read_yace(small)
    pot.bonds[(0, 0)].radcoefficients[0, 0, 0] = 0.1 + 0.2  # a float with a long repr
    out = tmp_path / "out.yace"
    write_yace(pot, out)
    again = read_yace(out)
    assert format_yace(again) == format_yace(pot)
    assert again.bonds[(0, 0)].radcoefficients[0, 0, 0] == 0.1 + 0.2
    assert not list(tmp_path.glob(".tmp-*"))


def test_shared_yace_round_trip(shared_dir, tmp_path):
    src = shared_dir / "reference" / "pace" / "potentials" / "Al-Ni_opt_all.yace"
    pot = read_yace(src)
    write_yace(pot, tmp_path / "x.yace")
    again = read_yace(tmp_path / "x.yace")
    for key, b in pot.bonds.items():
        np.testing.assert_array_equal(again.bonds[key].radcoefficients, b.radcoefficients)
    for mu, fl in pot.functions.items():
        for f, g in zip(fl, again.functions[mu]):
            np.testing.assert_array_equal(f.ctildes, g.ctildes)
            np.testing.assert_array_equal(f.ms_combs, g.ms_combs)


@pytest.mark.skipif(not HAVE_PYACE, reason="python-ace (pyace) not installed")
def test_written_yace_loads_in_python_ace(small, tmp_path):
    out = tmp_path / "for_pyace.yace"
    write_yace(read_yace(small), out)
    code = ("from pyace.basis import ACECTildeBasisSet; b = ACECTildeBasisSet(%r); "
            "print(b.nelements, b.lmax, b.nradmax, b.cutoffmax)" % str(out))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[-4:] == ["2", "1", "1", "6.0"]


def _broken(tmp_path, old, new):
    assert old in SMALL_YACE
    path = tmp_path / "broken.yace"
    path.write_text(SMALL_YACE.replace(old, new, 1))
    return path


@pytest.mark.parametrize("old, new, words", [
    ("deltaSplineBins: 0.001\n", "", ["deltaSplineBins", "missing key"]),
    ("radbasename: ChebPow", "radbasename: Gauss", ["bonds: [1, 1]", "radbasename", "Gauss"]),
    ("npoti: FinnisSinclair,", "npoti: Tanh,", ["embeddings: 0", "npoti", "Tanh"]),
    ("radcoefficients: [[[1, 0.5], [0.25, -1]]], prehc: 10", "radcoefficients: [[[1, 0.5]]], prehc: 10",
     ["bonds: [1, 1]", "radcoefficients", "shape"]),
    ("ctildes: [0.3, -0.6]", "ctildes: [0.3, .nan]", ["functions: 0: 1", "ctildes", "nan"]),
    ("ms_combs: [0, 0, 1, -1]", "ms_combs: [0, 0, 1]", ["functions: 0: 1", "ms_combs"]),
    ("rcut: 6,", "rcut: six,", ["bonds: [1, 1]", "rcut", "six"]),
    ("[1, 1]: {", "[1, 5]: {", ["bonds", "5"]),
])
def test_bad_yace_names_file_key_and_value(tmp_path, old, new, words):
    path = _broken(tmp_path, old, new)
    with pytest.raises(FileFormatError) as err:
        read_yace(path)
    message = str(err.value)
    assert str(path) in message
    for w in words:
        assert w.lower() in message.lower(), message


def test_unreadable_yace(tmp_path):
    with pytest.raises(FileFormatError, match="cannot read"):
        read_yace(tmp_path / "missing.yace")
    bad = tmp_path / "bad.yace"
    bad.write_text("elements: [Al\n  - :")
    with pytest.raises(FileFormatError, match="YAML"):
        read_yace(bad)


SMALL_ACE = textwrap.dedent("""\
    nelements=1
    elements: Al

    lmax=1

    embedding-function: FinnisSinclairShiftedScaled
    2 FS parameters:  1.000000 0.500000
    core energy-cutoff parameters: 40.0 20.0
    E0: -0.25

    radbasename=ChebExpCos
    nradbase=2
    nradmax=1
    cutoffmax=5.000000
    deltaSplineBins=0.001
    core repulsion parameters:80.0 0.5
    radparameter= 5.25
    cutoff= 5.0
    dcut= 0.01
    crad= 1.0 2.0
     3.0 4.0

    rankmax=2
    ndensitymax=1

    num_c_tilde_max=2
    num_ms_combinations_max=2
    total_basis_size_rank1: 1
    ctilde_basis_func: rank=1 ndens=1 mu0=0 mu=( 0 )
    n=( 2 )
    l=( 0 )
    num_ms=1
    < 0 >:  0.5
    total_basis_size: 1
    ctilde_basis_func: rank=2 ndens=1 mu0=0 mu=( 0 0 )
    n=( 1 1 )
    l=( 1 1 )
    num_ms=2
    < 0 0 >:  1.5
    < 1 -1 >:  -3.0
    """)


def test_read_small_ace(tmp_path):
    path = tmp_path / "small.ace"
    path.write_text(SMALL_ACE)
    pot = read_ace(path)
    assert pot.elements == ["Al"] and pot.E0 == [-0.25]
    b = pot.bonds[(0, 0)]
    # stored k-outermost ([k][n][l]): k=0 -> (1, 2) for l = 0, 1; k=1 -> (3, 4)
    np.testing.assert_array_equal(b.radcoefficients, [[[1.0, 3.0], [2.0, 4.0]]])
    assert (b.prehc, b.lambdahc, b.rcut, b.inner_cutoff_type) == (80.0, 0.5, 5.0, "density")
    assert pot.embeddings[0].FS_parameters == [1.0, 0.5]
    assert pot.embeddings[0].rho_core_cutoff == 40.0
    assert [f.rank for f in pot.functions[0]] == [1, 2]
    assert pot.functions[0][1].ms_combs.tolist() == [[0, 0], [1, -1]]


@pytest.mark.parametrize("old, new, word", [
    ("nradmax=1", "nradmax=x", "nradmax"),
    ("crad= 1.0 2.0\n 3.0 4.0", "crad= 1.0 2.0\n 3.0", "crad"),
    ("embedding-function: FinnisSinclairShiftedScaled", "embedding-function: Foo", "npoti"),
    ("< 1 -1 >:  -3.0", "< 1 -1 >:  nan", "non-finite"),
])
def test_bad_ace_names_item(tmp_path, old, new, word):
    path = tmp_path / "bad.ace"
    path.write_text(SMALL_ACE.replace(old, new))
    with pytest.raises(FileFormatError) as err:
        read_ace(path)
    assert str(path) in str(err.value) and word in str(err.value)


def test_ace_and_yace_of_same_potential_agree(shared_dir, tmp_path):
    from forcefit.ace.evaluator import ACEEvaluator
    from ase.build import bulk
    src = shared_dir / "reference" / "pace" / "potentials" / "Al.pbe.rhocore.ace"
    pot = read_ace(src)
    write_yace(pot, tmp_path / "rhocore.yace")
    at = bulk("Al", "fcc", a=4.0) * (2, 2, 2)
    at.rattle(0.1, seed=3)
    a = ACEEvaluator(src).compute(at.get_chemical_symbols(), at.positions, at.cell.array, at.pbc)
    b = ACEEvaluator(tmp_path / "rhocore.yace").compute(at.get_chemical_symbols(), at.positions, at.cell.array,
                                                       at.pbc)
    assert a.energy == b.energy
    assert np.array_equal(a.forces, b.forces)


def test_functions_in_block_style_fall_back_to_yaml(small, tmp_path):
    """The one-line-per-function fast path and a block-style file give the same potential."""
    block = SMALL_YACE.replace(
        "    - {mu0: 1, rank: 1, ndensity: 1, num_ms_combs: 1, mus: [1], ns: [2], ls: [0], ms_combs: [0], ctildes: [0.7]}",
        "    - mu0: 1\n      rank: 1\n      ndensity: 1\n      num_ms_combs: 1\n      mus: [1]\n      ns: [2]\n"
        "      ls: [0]\n      ms_combs: [0]\n      ctildes: [0.7]")
    assert block != SMALL_YACE
    path = tmp_path / "block.yace"
    path.write_text(block)
    assert format_yace(read_yace(path)) == format_yace(read_yace(small))


HAVE_CONVERTER = importlib.util.find_spec("forcefit.ace.convert") is not None


@pytest.mark.skipif(not (HAVE_PYACE and HAVE_CONVERTER), reason="needs python-ace and forcefit.ace.convert")
def test_written_yace_reproduces_reference_in_python_ace(shared_dir, tmp_path):
    """B-basis .yaml -> forcefit Ctilde -> write_yace -> python-ace: the reference energies and forces."""
    import json

    from ase import Atoms
    from pyace import PyACECalculator

    from forcefit.ace.evaluator import load_potential
    ref = json.loads((shared_dir / "reference" / "pace" / "pyace_reference.json").read_text())["cases"]
    seen = set()
    for case in ref:
        name = case["potential"]
        if not name.endswith(".yaml") or name in seen:
            continue
        seen.add(name)
        out = tmp_path / name.replace(".yaml", ".yace")
        write_yace(load_potential(shared_dir / "reference" / "pace" / "potentials" / name), out)
        atoms = Atoms(case["symbols"], positions=case["positions"], cell=case["cell"], pbc=case["pbc"])
        atoms.calc = PyACECalculator(str(out))
        assert atoms.get_potential_energy() == pytest.approx(case["energy"], abs=1e-8, rel=1e-12), name
        np.testing.assert_allclose(atoms.get_forces(), case["forces"], atol=1e-7, err_msg=name)
    assert len(seen) >= 5
