"""Generalized Clebsch-Gordan coefficients: values, tree, orthonormality, rotation invariance."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from scipy.special import sph_harm_y

from forcefit.ace.coupling import (clebsch_gordan, coupling_tree, couplings_are_valid, float_clebsch_gordan,
                                   generalized_cg)


def test_clebsch_gordan_against_sympy():
    sympy_cg = pytest.importorskip("sympy.physics.quantum.cg")
    for j1, j2 in [(1, 1), (2, 1), (2, 3), (4, 4)]:
        for J in range(abs(j1 - j2), j1 + j2 + 1):
            for m1 in range(-j1, j1 + 1):
                for m2 in range(-j2, j2 + 1):
                    if abs(m1 + m2) > J:
                        continue
                    ref = float(sympy_cg.CG(j1, m1, j2, m2, J, m1 + m2).doit())
                    assert clebsch_gordan(j1, m1, j2, m2, J, m1 + m2) == pytest.approx(ref, abs=1e-15)


def test_clebsch_gordan_selection_rules_and_float_version():
    assert clebsch_gordan(1, 1, 1, 0, 2, 0) == 0.0  # m1 + m2 != M
    assert clebsch_gordan(1, 0, 1, 0, 3, 0) == 0.0  # triangle
    assert clebsch_gordan(1, 0, 1, 0, 1, 0) == 0.0  # parity zero
    assert clebsch_gordan(1, 1, 1, -1, 0, 0) == pytest.approx(1 / np.sqrt(3), abs=2e-16)
    for j1, j2, m1, m2 in itertools.product(range(4), range(4), range(-3, 4), range(-3, 4)):
        if abs(m1) > j1 or abs(m2) > j2:
            continue
        for J in range(abs(j1 - j2), j1 + j2 + 1):
            exact = clebsch_gordan(j1, m1, j2, m2, J, m1 + m2)
            assert float_clebsch_gordan(j1, m1, j2, m2, J, m1 + m2) == pytest.approx(exact, abs=1e-15)


@pytest.mark.parametrize("rank", range(2, 9))
def test_coupling_tree_shape(rank):
    tree = coupling_tree(rank)
    assert len(tree) == rank - 1
    root = 2 * rank - 2
    assert tree[-1][2] == root
    children = [c for a, b, _ in tree for c in (a, b)]
    assert sorted(children) == list(range(2 * rank - 2))  # every leaf and inner node used once
    made = set(range(rank))
    for a, b, p in tree:  # children exist before their parent
        assert a in made and b in made
        made.add(p)
    if rank >= 2:
        assert tree[0] == (0, 1, rank if rank > 2 else root)


def test_known_trees():
    assert coupling_tree(3) == ((0, 1, 3), (3, 2, 4))
    assert coupling_tree(4) == ((0, 1, 4), (2, 3, 5), (4, 5, 6))
    assert coupling_tree(5) == ((0, 1, 5), (2, 3, 6), (5, 6, 7), (7, 4, 8))
    assert coupling_tree(6) == ((0, 1, 6), (2, 3, 7), (4, 5, 8), (6, 7, 9), (8, 9, 10))


def _lint_choices(ls):
    """All lint making a valid tree for ls (brute force)."""
    rank = len(ls)
    if rank <= 2:
        return [()]
    return [lint for lint in itertools.product(range(2 * max(ls) + 1), repeat=rank - 2)
            if couplings_are_valid(ls, lint)]


@pytest.mark.parametrize("ls", [(1, 1), (2, 2), (1, 1, 2), (2, 2, 2), (1, 1, 1, 1), (2, 1, 2, 1), (1, 1, 1, 1, 2),
                                (1, 1, 1, 1, 1, 1), (1, 1, 1, 1, 1, 1, 2)])
def test_orthonormal_over_lint(ls):
    choices = _lint_choices(ls)
    assert choices
    vectors = []
    for lint in choices:
        ms, cg = generalized_cg(ls, lint, half_basis=False)
        vec = {tuple(row): c for row, c in zip(ms.tolist(), cg)}
        vectors.append(vec)
    for i, a in enumerate(vectors):
        for j, b in enumerate(vectors):
            dot = sum(v * b.get(k, 0.0) for k, v in a.items())
            assert dot == pytest.approx(1.0 if i == j else 0.0, abs=1e-12)


def _atomic_base(positions, lmax, radial):
    """A_{n l m} = sum_j R_n(r_j) Y_lm(r_hat_j) for n = 0..len(radial)-1 (complex, Condon-Shortley)."""
    r = np.linalg.norm(positions, axis=1)
    theta = np.arccos(positions[:, 2] / r)
    phi = np.arctan2(positions[:, 1], positions[:, 0])
    A = {}
    for n, rad in enumerate(radial):
        weights = rad(r)
        for l in range(lmax + 1):
            for m in range(-l, l + 1):
                A[n, l, m] = np.sum(weights * sph_harm_y(l, m, theta, phi))
    return A


def _b_value(A, ns, ls, lint, half_basis):
    ms, cg = generalized_cg(ls, lint, half_basis=half_basis)
    total = 0.0 + 0.0j
    for row, c in zip(ms.tolist(), cg):
        prod = 1.0 + 0.0j
        for n, l, m in zip(ns, ls, row):
            prod *= A[n, l, m]
        total += c * prod
    return total


@pytest.mark.parametrize("ls,lint,ns", [((2, 2), (), (0, 1)), ((1, 2, 1), (1,), (0, 1, 1)),
                                        ((1, 1, 2, 2), (2, 2), (0, 1, 0, 1)), ((2, 1, 1, 2, 2), (1, 3, 2), (0, 0, 1, 1, 0)),
                                        ((1, 1, 1, 1, 1, 1), (2, 1, 1, 1), (0, 1, 0, 1, 0, 1)),
                                        ((1, 1, 1, 1, 1, 1, 2), (2, 0, 2, 2, 2), (0,) * 7)])
def test_rotation_invariance_and_half_basis(ls, lint, ns):
    assert couplings_are_valid(ls, lint)
    rng = np.random.default_rng(7)
    positions = rng.normal(size=(9, 3)) * 1.7
    radial = [lambda r: np.exp(-r), lambda r: r * np.exp(-0.5 * r)]
    lmax = max(ls)
    A = _atomic_base(positions, lmax, radial)
    full = _b_value(A, ns, ls, lint, half_basis=False)
    half = _b_value(A, ns, ls, lint, half_basis=True)
    assert abs(full) > 1e-8
    assert abs(full.imag) < 1e-10 * abs(full)  # real for parity-even couplings
    assert half.real == pytest.approx(full.real, rel=1e-10)  # python-ace's half basis: Re over half the ms
    for seed in range(3):
        rot = Rotation.random(random_state=seed)
        A_rot = _atomic_base(rot.apply(positions), lmax, radial)
        assert _b_value(A_rot, ns, ls, lint, half_basis=False) == pytest.approx(full, rel=1e-10, abs=1e-12)


def test_generalized_cg_details():
    ms, cg = generalized_cg([0])
    assert ms.tolist() == [[0]] and cg.tolist() == [1.0]
    ms, cg = generalized_cg([1, 1])
    assert ms.tolist() == [[1, -1], [0, 0]]  # m_1 fastest: (1,-1) comes before (0,0)
    np.testing.assert_allclose(cg, [2 / np.sqrt(3), -1 / np.sqrt(3)], rtol=1e-15)
    with pytest.raises(ValueError, match="lint"):
        generalized_cg([1, 1, 0], [])
    assert not couplings_are_valid([0, 0, 2], [2])
    ms, cg = generalized_cg([0, 0, 2], [2])
    assert len(ms) == 0
