"""Helpers shared by the neighbor-list tests: ASE reference lists and order-free comparison."""

from __future__ import annotations

import numpy as np
from ase.neighborlist import primitive_neighbor_list
from hypothesis import assume
from hypothesis import strategies as st


def ase_pairs(positions, cell, pbc, cutoff, self_interaction=False):
    """ASE's (i, j, S, D, d) for the same input (zero non-periodic cell rows completed, see below)."""
    pbc = np.asarray(pbc, dtype=bool)
    return primitive_neighbor_list("ijSDd", pbc, completed_cell(cell, pbc),
                                   np.asarray(positions, dtype=float), cutoff,
                                   self_interaction=self_interaction)


def keyed(i, j, S):
    """[P, 5] int64 rows (i, j, S0, S1, S2) and the permutation that sorts them."""
    keys = np.column_stack([np.asarray(i), np.asarray(j), np.asarray(S).reshape(-1, 3)]).astype(np.int64)
    order = np.lexsort(keys.T[::-1]) if len(keys) else np.zeros(0, dtype=np.int64)
    return keys[order], order


def assert_same_pairs(ours, reference, atol=1e-9):
    """Both are (i, j, S, D, d): same set of (i, j, S), and D, d agree pairwise."""
    keys_a, order_a = keyed(*ours[:3])
    keys_b, order_b = keyed(*reference[:3])
    assert keys_a.shape == keys_b.shape, f"{len(keys_a)} pairs, ASE has {len(keys_b)}"
    np.testing.assert_array_equal(keys_a, keys_b)
    if len(ours) > 3:
        np.testing.assert_allclose(np.asarray(ours[3])[order_a], np.asarray(reference[3])[order_b], rtol=0, atol=atol)
        np.testing.assert_allclose(np.asarray(ours[4])[order_a], np.asarray(reference[4])[order_b], rtol=0, atol=atol)


def completed_cell(cell, pbc):
    """The cell with zero rows along non-periodic directions replaced by unit vectors orthogonal to the
    other rows. Pairs never shift along those directions, so the pair list is the same; ASE 3.29
    mis-bins atoms when such a zero row sits beside skewed non-zero rows, hence this for the reference.
    """
    cell = np.array(cell, dtype=float)
    for k in range(3):
        if pbc[k] or cell[k].any():
            continue
        others = [cell[m] for m in range(3) if m != k and cell[m].any()]
        candidates = ([np.cross(*others)] if len(others) == 2 else []) + list(np.eye(3))
        for v in candidates:
            if np.linalg.norm(v) > 1e-9 and np.linalg.matrix_rank(np.array(others + [v])) == len(others) + 1:
                cell[k] = v / np.linalg.norm(v)
                break
    return cell


@st.composite
def structures(draw):
    """Random triclinic (often very skewed) cells, pbc combinations, unwrapped positions, cutoffs."""
    lengths = np.array([draw(st.floats(0.7, 7.0)) for _ in range(3)])
    shear = np.array([draw(st.floats(-3.0, 3.0)) for _ in range(3)])
    cell = np.diag(lengths)
    cell[1, 0] = shear[0] * lengths[0]
    cell[2, 0] = shear[1] * lengths[0]
    cell[2, 1] = shear[2] * lengths[1]
    rotation, _ = np.linalg.qr(np.array([[draw(st.floats(-1, 1)) for _ in range(3)] for _ in range(3)])
                               + 2 * np.eye(3))
    cell = cell @ rotation.T
    pbc = np.array([draw(st.booleans()) for _ in range(3)])
    n = draw(st.integers(0, 40))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    positions = rng.uniform(-0.3, 1.3, size=(n, 3)) @ cell
    for k in range(3):  # degenerate (zero) lattice vectors along some non-periodic directions
        if not pbc[k] and draw(st.booleans()):
            cell[k] = 0.0
    cutoff = draw(st.floats(0.2, 6.0))
    volume = abs(np.linalg.det(np.where(cell.any(axis=1)[:, None], cell, np.eye(3) * 3)))
    expected_pairs = n * n * 4.19 * cutoff**3 / volume if pbc.any() else n * n
    assume(expected_pairs < 30000)
    return positions, cell, pbc, cutoff
