"""B-basis -> Ctilde conversion, checked against python-ace's .yace files and from first principles."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from forcefit.ace.bbasis import BBasisFunction, resolve
from forcefit.ace.convert import b_function_terms, bbasis_to_ctilde
from forcefit.ace.coupling import generalized_cg
from forcefit.ace.yace_io import read_yace
from forcefit.ace.yaml_io import parse_bbasis_yaml, read_bbasis_yaml
from forcefit.errors import InputError

try:  # python-ace serves only as an optional oracle
    import pyace  # noqa: F401
    HAVE_PYACE = True
except ImportError:
    HAVE_PYACE = False


def _potentials(shared_dir) -> Path:
    folder = shared_dir / "reference" / "pace" / "potentials"
    if not folder.is_dir():
        pytest.skip(f"{folder} missing")
    return folder


def assert_same_ctilde(mine, ref, rtol=1e-13):
    assert mine.elements == ref.elements
    assert mine.deltaSplineBins == ref.deltaSplineBins
    for mu, emb in ref.embeddings.items():
        got = mine.embeddings[mu]
        assert (got.ndensity, got.npoti, list(got.FS_parameters), got.rho_core_cutoff, got.drho_core_cutoff) == \
            (emb.ndensity, emb.npoti, list(emb.FS_parameters), emb.rho_core_cutoff, emb.drho_core_cutoff)
    for key, bond in ref.bonds.items():
        got = mine.bonds[key]
        for attr in ("nradmax", "lmax", "nradbasemax", "radbasename", "prehc", "lambdahc", "rcut", "dcut",
                     "rcut_in", "dcut_in", "inner_cutoff_type"):
            assert getattr(got, attr) == getattr(bond, attr), (key, attr)
        np.testing.assert_array_equal(got.radcoefficients, bond.radcoefficients)
    assert sorted(mine.functions) == sorted(ref.functions)
    for mu, funcs in ref.functions.items():
        got = mine.functions[mu]
        assert len(got) == len(funcs)
        for a, b in zip(got, funcs):
            assert (a.rank, a.mus, a.ns, a.ls, a.ndensity) == (b.rank, b.mus, b.ns, b.ls, b.ndensity)
            np.testing.assert_array_equal(a.ms_combs, b.ms_combs)
            np.testing.assert_allclose(a.ctildes, b.ctildes, rtol=rtol, atol=1e-14 * np.abs(b.ctildes).max())


def test_matches_reference_yace(shared_dir):
    folder = _potentials(shared_dir)
    mine = read_bbasis_yaml(folder / "Al-Ni_opt_all.yaml").to_ctilde()
    assert_same_ctilde(mine, read_yace(folder / "Al-Ni_opt_all.yace"))
    assert sum(len(f) for f in mine.functions.values()) == 17


@pytest.mark.skipif(not HAVE_PYACE, reason="python-ace (pyace) not installed")
def test_matches_python_ace_for_all_reference_files(shared_dir, tmp_path):
    from pyace import ACEBBasisSet

    for path in sorted(_potentials(shared_dir).glob("*.yaml")):
        out = tmp_path / (path.stem + ".yace")
        ACEBBasisSet(str(path)).to_ACECTildeBasisSet().save_yaml(str(out))
        assert_same_ctilde(bbasis_to_ctilde(read_bbasis_yaml(path)), read_yace(out))


def test_hand_computed_rank2_and_rank4():
    # rank 2, ls [1, 1]: C(1 0 1 0|00) = -1/sqrt(3), C(1 1 1 -1|00) = 1/sqrt(3) doubled (half basis)
    text = (_POT.replace("FUNCS", "      - {type: Al Al Al, nr: [1, 1], nl: [1, 1], c: [2.0]}"))
    (f,) = bbasis_to_ctilde(parse_bbasis_yaml(text)).functions[0]
    np.testing.assert_array_equal(f.ms_combs, [[0, 0], [1, -1]])
    np.testing.assert_allclose(f.ctildes[:, 0], [-2 / np.sqrt(3), 4 / np.sqrt(3)], rtol=1e-15)
    # two rank-4 functions that differ only in lint merge into one Ctilde function
    text = _POT.replace("FUNCS", "      - {type: Al Al Al Al Al, nr: [1, 1, 1, 1], nl: [1, 1, 1, 1], lint: [0, 0], c: [1.0]}\n"
                                 "      - {type: Al Al Al Al Al, nr: [1, 1, 1, 1], nl: [1, 1, 1, 1], lint: [2, 2], c: [3.0]}")
    (f,) = bbasis_to_ctilde(parse_bbasis_yaml(text)).functions[0]
    # direct sum over all m of c * C^{lint}_ms, folded onto sorted ms with m and -m combined
    full = {}
    for lint, c in (((0, 0), 1.0), ((2, 2), 3.0)):
        ms, cg = generalized_cg([1, 1, 1, 1], lint, half_basis=False)
        for row, value in zip(ms, cg):
            key = tuple(sorted(row))
            full[key] = full.get(key, 0.0) + c * value
    # Ctilde rows with ms and -ms folded: ctilde(ms) == full(ms) + full(-ms) unless ms == -ms
    for row, ct in zip(f.ms_combs, f.ctildes[:, 0]):
        key = tuple(row)
        neg = tuple(sorted(-np.array(row)))
        expected = full.get(key, 0.0) + (full.get(neg, 0.0) if neg != key else 0.0)
        assert ct == pytest.approx(expected, abs=1e-14)
    assert {tuple(r) for r in f.ms_combs} | {tuple(sorted(-r)) for r in f.ms_combs} >= \
        {k for k, v in full.items() if abs(v) > 1e-14}


def test_skip_and_sorting():
    text = _POT.replace("FUNCS", "      - {type: Al Al Al, nr: [1, 1], nl: [1, 1], c: [1.0]}\n"
                                 "      - {type: Al Al, nr: [2], nl: [0], c: [5.0]}\n"
                                 "      - {type: Al Al, nr: [1], nl: [0], c: [4.0], skip: true}")
    funcs = bbasis_to_ctilde(parse_bbasis_yaml(text)).functions[0]
    assert [(f.rank, f.ns) for f in funcs] == [(1, [2]), (2, [1, 1])]  # rank first, skipped one gone
    assert funcs[0].ctildes[0, 0] == 5.0 and funcs[0].ms_combs.tolist() == [[0]]


def test_compression_merges_permutations():
    func = BBasisFunction(elements=("Al", "Al", "Al", "Al"), ns=(1, 1, 1), ls=(2, 2, 2), lint=(2,), coeffs=(1.0,))
    ms, _ = generalized_cg([2, 2, 2], [2])
    terms = b_function_terms(func, {"Al": 0})
    assert len(terms.ms) < len(ms)
    assert all(list(row) == sorted(row) for row in terms.ms)  # canonical (sorted) m's


def test_invalid_coupling_is_an_input_error():
    text = _POT.replace("FUNCS", "      - {type: Al Al Al Al, nr: [1, 1, 1], nl: [0, 0, 2], lint: [2], c: [1.0]}")
    with pytest.raises(InputError, match="triangle"):
        bbasis_to_ctilde(parse_bbasis_yaml(text), path="tri.yaml")


_POT = """\
global: {DeltaSplineBins: 0.001}
species:
  - speciesblock: Al
    ndensityi: 1
    npoti: FinnisSinclair
    parameters: [1, 1]
    nradmaxi: 1
    lmaxi: 2
    rcutij: 5.0
    dcutij: 0.01
    nradbaseij: 2
    radbase: ChebExpCos
    radparameters: [3]
    radcoefficients: [[[1, 0], [1, 0], [1, 0]]]
    nbody:
FUNCS
"""


def test_resolve_indices_follow_sorted_elements():
    text = _POT.replace("FUNCS", "      - {type: Al Al, nr: [1], nl: [0], c: [1.0]}")
    assert resolve(parse_bbasis_yaml(text)).elements == ["Al"]


def _random_atomic_base(rng, nspecies, nmax, lmax):
    """Random A_{mu n l m} with the symmetry of real radial functions: A_{l,-m} = (-1)^m conj(A_{l,m})."""
    A = {}
    for mu in range(nspecies):
        for n in range(1, nmax + 1):
            for l in range(lmax + 1):
                for m in range(0, l + 1):
                    z = complex(rng.normal(), rng.normal()) if m else complex(rng.normal(), 0.0)
                    A[mu, n, l, m] = z
                    A[mu, n, l, -m] = (-1) ** m * z.conjugate()
    return A


def _stress_potential(rng):
    """Two species, ranks 1-4, unsorted and repeated (species, n, l) labels, several lint per ls."""
    from forcefit.ace.coupling import couplings_are_valid
    funcs = ["      - {type: Al Al, nr: [1], nl: [0], c: [0.3, -0.2]}"]
    mixed = []
    for ns in ((2, 1), (1, 1)):
        for l in range(3):
            mixed.append(f"      - {{type: Al Al Ni, nr: {list(ns)}, nl: [{l}, {l}], c: [{rng.normal()}, {rng.normal()}]}}")
    mixed.append(f"      - {{type: Al Ni Al Ni, nr: [1, 1, 2], nl: [1, 1, 2], lint: [2], c: [{rng.normal()}, 0.5]}}")
    for ns in ((2, 1, 1), (1, 1, 1), (1, 2, 1)):
        for ls in itertools.product(range(3), repeat=3):
            if sum(ls) % 2 == 0 and couplings_are_valid(ls, (ls[2],)):
                funcs.append(f"      - {{type: Al Al Al Al, nr: {list(ns)}, nl: {list(ls)}, lint: [{ls[2]}], "
                             f"c: [{rng.normal()}, {rng.normal()}]}}")
    for ls in itertools.product(range(3), repeat=4):
        for L in range(5):
            if sum(ls) % 2 == 0 and couplings_are_valid(ls, (L, L)):
                funcs.append(f"      - {{type: Al Al Al Al Al, nr: [1, 1, 2, 1], nl: {list(ls)}, lint: [{L}, {L}], "
                             f"c: [{rng.normal()}, {rng.normal()}]}}")
    return _TWO_SPECIES.replace("FUNCS", "\n".join(funcs)).replace("MIXED", "\n".join(mixed))


def test_ctilde_densities_equal_b_basis_densities():
    """Oracle-free: sum_B c_B B(A) == Re sum_Ctilde ctilde prod A for random A's (compression, merging,
    half basis and lint summation all included)."""
    rng = np.random.default_rng(11)
    pot = parse_bbasis_yaml(_stress_potential(rng))
    res = resolve(pot)
    index = {e: i for i, e in enumerate(res.elements)}
    ctilde = bbasis_to_ctilde(pot)
    for trial in range(2):
        A = _random_atomic_base(rng, 2, 2, 2)
        rho_b = np.zeros(2)
        for f in res.functions[index["Al"]]:
            ms, cg = generalized_cg(f.ls, f.lint, half_basis=False)
            mus = [index[e] for e in f.neighbours]
            total = 0j
            for row, c in zip(ms.tolist(), cg):
                prod = 1 + 0j
                for mu, n, l, m in zip(mus, f.ns, f.ls, row):
                    prod *= A[mu, n, l, m]
                total += c * prod
            assert abs(total.imag) < 1e-9 * max(1.0, abs(total))
            rho_b += np.array(f.coeffs) * total.real
        rho_c = np.zeros(2)
        for f in ctilde.functions[index["Al"]]:
            for row, ct in zip(f.ms_combs.tolist(), f.ctildes):
                prod = 1 + 0j
                for mu, n, l, m in zip(f.mus, f.ns, f.ls, row):
                    prod *= A[mu, n, l, m]
                rho_c += ct * prod.real
        np.testing.assert_allclose(rho_c, rho_b, rtol=1e-11, atol=1e-11)


_RADIAL = """\
    nradmaxi: 2
    lmaxi: 2
    rcutij: 5.0
    dcutij: 0.01
    nradbaseij: 2
    radbase: ChebExpCos
    radparameters: [3]
    radcoefficients: [[[1, 0], [1, 0], [1, 0]], [[0, 1], [0, 1], [0, 1]]]
"""

_TWO_SPECIES = ("global: {DeltaSplineBins: 0.001}\nspecies:\n"
                "  - speciesblock: Al\n    ndensityi: 2\n    npoti: FinnisSinclairShiftedScaled\n"
                "    parameters: [1, 1, 1, 0.5]\n" + _RADIAL + "    nbody:\nFUNCS\n"
                "  - speciesblock: Ni\n    ndensityi: 1\n    npoti: FinnisSinclair\n    parameters: [1, 1]\n"
                + _RADIAL + "    nbody:\n      - {type: Ni Ni, nr: [1], nl: [0], c: [1.0]}\n"
                "  - speciesblock: Al Ni\n" + _RADIAL + "    nbody:\nMIXED\n"
                "  - speciesblock: Ni Al\n    nbody: []\n")
