"""Weighting policies and the convex-hull distance, against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ase import Atoms

from forcefit.errors import DatasetError
from forcefit.pacemaker.convex_hull import convex_hull_distance, formation_energy_per_atom
from forcefit.pacemaker.weighting import (
    EnergyBasedWeightingPolicy,
    ExternalWeightingPolicy,
    UniformWeightingPolicy,
    adjust_augmented_weights,
    apply_weights,
    WeightingSpec,
)


def frame_of(epa, natoms, force_scale=None, symbols=None, pbc=True):
    """A prepared-data frame: structure s has natoms[s] atoms, energy per atom epa[s], forces
    (f, 0, 0) with f = force_scale[s]."""
    rows = []
    for s, (e, n) in enumerate(zip(epa, natoms)):
        syms = symbols[s] if symbols else ["Cu"] * n
        atoms = Atoms(syms, positions=np.arange(3 * n).reshape(n, 3) * 1.5, cell=np.eye(3) * 10, pbc=pbc)
        f = 0.0 if force_scale is None else force_scale[s]
        forces = np.zeros((n, 3))
        forces[:, 0] = f
        rows.append(
            {
                "name": f"s{s}",
                "ase_atoms": atoms,
                "forces": forces,
                "energy_corrected": e * n,
                "energy_corrected_per_atom": e,
                "NUMBER_OF_ATOMS": n,
                "pbc": pbc,
            }
        )
    return pd.DataFrame(rows)


def test_uniform_weights_hand_computed():
    frame = UniformWeightingPolicy().generate_weights(frame_of([0, 0, 0], [1, 2, 3]))
    assert np.allclose(frame["w_energy"], 1 / 3)
    for w in frame["w_forces"]:
        assert np.allclose(w, 1 / 6)  # every atom weighs 1/total atoms


def test_energy_based_cohesive_hand_computed():
    epa = [-3.0, -2.5, -1.0]  # effective energies 0, 0.5, 2.0 eV/atom
    forces = [0.0, 1.0, 2.0]
    policy = EnergyBasedWeightingPolicy(energy="cohesive", DElow=1.0, DEup=10.0, DE=1.0, DF=1.0, seed=1)
    frame = policy.generate_weights(frame_of(epa, [1, 1, 1], forces)).sort_values("name")
    raw = np.array([1.0, 1 / 1.5**2, 1 / 3.0**2])
    assert np.allclose(frame["w_energy"], raw / raw.sum())
    raw_f = raw / raw.sum() / (np.array(forces) ** 2 + 1.0)
    assert np.allclose(np.hstack(frame["w_forces"]), raw_f / raw_f.sum())


def test_energy_based_wlow_and_filters():
    epa = [-3.0, -2.5, -1.0, -1.5, 9.0]  # effective 0, 0.5, 2, 1.5, 12 (> DEup)
    forces = [0.0, 0.0, 0.0, 60.0, 0.0]  # structure 3 exceeds DFup
    policy = EnergyBasedWeightingPolicy(energy="cohesive", DElow=1.0, DEup=10.0, DFup=50.0, wlow=0.75, seed=1)
    frame = policy.generate_weights(frame_of(epa, [1] * 5, forces)).sort_values("name")
    assert list(frame["name"]) == ["s0", "s1", "s2"]
    w = frame["w_energy"].to_numpy()
    assert w[:2].sum() == pytest.approx(0.75) and w[2] == pytest.approx(0.25)
    assert w[0] / w[1] == pytest.approx(1.5**2)  # ratio within the low tier kept
    assert np.hstack(frame["w_forces"]).sum() == pytest.approx(1.0)


def test_energy_based_selection_matches_python_ace_draws():
    epa = [-3.0, -2.9, -2.8, -2.7, -1.0, -0.5]  # 4 low, 2 upper
    policy = EnergyBasedWeightingPolicy(nfit=3, energy="cohesive", seed=5)
    frame = policy.generate_weights(frame_of(epa, [1] * 6))
    # python-ace: np.random.seed(seed); choice(low, nfit, replace=False); nothing left for the upper
    # tier, so choice(up, 0); then shuffle(take)
    np.random.seed(5)
    low = np.random.choice(np.arange(4), 3, replace=False)
    up = np.random.choice(np.arange(4, 6), 0, replace=False)
    take = np.hstack([low, up]).astype(int)
    np.random.shuffle(take)
    assert list(frame.index) == list(take)
    assert frame["w_energy"].sum() == pytest.approx(1.0)


def test_energy_based_n_lower_n_upper_and_reftype():
    epa = [-3.0, -2.9, -2.8, -1.0, -0.5, -0.2]
    frame = EnergyBasedWeightingPolicy(n_lower=1, n_upper=2, energy="cohesive", seed=0).generate_weights(
        frame_of(epa, [1] * 6)
    )
    assert len(frame) == 3
    assert (frame["effective_energy"] < 1.0).sum() == 1
    clusters = frame_of(epa, [1] * 6, pbc=False)
    with pytest.raises(DatasetError, match="no structures left"):
        EnergyBasedWeightingPolicy(reftype="bulk", energy="cohesive").generate_weights(clusters)


def test_convex_hull_distance_binary_hand_computed():
    # pure references: Al -3 eV/atom, Ni -2 eV/atom
    structures = [
        (["Al"], -3.0),  # on hull
        (["Ni"], -2.0),  # on hull
        (["Al", "Ni"], -3.0),  # e_form = -3 - (-2.5) = -0.5: on hull
        (["Al", "Ni"], -2.8),  # e_form = -0.3: 0.2 above
        (["Al", "Al", "Al", "Ni"], -2.85),  # e_form = -2.85 + 2.75 = -0.1; hull at c=0.75: -0.25 -> 0.15
        (["Al"], -2.8),  # pure Al, 0.2 above
    ]
    symbols = [s for s, _ in structures]
    epa = [e for _, e in structures]
    assert np.allclose(convex_hull_distance(symbols, epa), [0, 0, 0, 0.2, 0.15, 0.2], atol=1e-12)


def test_formation_energy_without_pure_element_uses_zero():
    conc = np.array([[0.5, 0.5], [1.0, 0.0]])
    assert np.allclose(formation_energy_per_atom(conc, np.array([-1.0, -2.0])), [-1.0 + 1.0, 0.0])


def test_single_composition_falls_back_to_cohesive():
    assert np.allclose(convex_hull_distance([["Cu"], ["Cu", "Cu"]], [-3.0, -2.5]), [0.0, 0.5])


def test_convex_hull_policy_on_binary_data():
    epa = [-3.0, -2.0, -3.0, -2.8]
    symbols = [["Al"], ["Ni"], ["Al", "Ni"], ["Al", "Ni"]]
    frame = EnergyBasedWeightingPolicy(seed=0).generate_weights(frame_of(epa, [1, 1, 2, 2], symbols=symbols))
    frame = frame.sort_values("name")
    assert np.allclose(frame["e_chull_dist_per_atom"], [0, 0, 0, 0.2])
    raw = 1 / (np.array([0, 0, 0, 0.2]) + 1) ** 2
    assert np.allclose(frame["w_energy"], raw / raw.sum())


def test_external_weights(tmp_path):
    frame = frame_of([0, 0, 0], [1, 2, 1])
    weights = pd.DataFrame({"w_energy": [2.0, 6.0], "w_forces": [np.array([1.0, 3.0]), np.array([4.0])]}, index=[1, 2])
    path = tmp_path / "w.pckl.gzip"
    weights.to_pickle(path, compression="gzip")
    result = ExternalWeightingPolicy(str(path)).generate_weights(frame)
    assert list(result.index) == [1, 2]
    assert np.allclose(result["w_energy"], [0.25, 0.75])
    assert np.allclose(np.hstack(result["w_forces"]), [0.125, 0.375, 0.5])
    bad = pd.DataFrame({"w_energy": [1.0], "w_forces": [np.ones(1)]}, index=[7])
    bad.to_pickle(path, compression="gzip")
    with pytest.raises(DatasetError, match="not in the data"):
        ExternalWeightingPolicy(str(path)).generate_weights(frame)


def test_existing_weight_columns_and_ignore_weights():
    frame = frame_of([0, 0], [1, 1])
    frame["w_energy"] = [3.0, 1.0]
    frame["w_forces"] = [np.array([1.0]), np.array([1.0])]
    kept = apply_weights(frame, WeightingSpec())
    assert list(kept["w_energy"]) == [3.0, 1.0]
    forced = apply_weights(frame, WeightingSpec(), ignore_weights=True)
    assert np.allclose(forced["w_energy"], 0.5)


def test_augmented_structures_scaled():
    frame = UniformWeightingPolicy().generate_weights(frame_of([0, 0], [1, 1]))
    frame["name"] = ["real", "augmented_1"]
    result = adjust_augmented_weights(frame, 1e-4)
    assert result["w_energy"].iloc[1] == pytest.approx(0.5e-4)
    assert result["w_energy"].iloc[0] == pytest.approx(0.5)
    assert result["w_forces"].iloc[1][0] == pytest.approx(0.5e-4)


def test_structures_without_weights_get_the_policys():
    # a weighted training table joined with an unweighted test table: NaN weights in the test rows
    train = frame_of([0, 0], [1, 2])
    train["w_energy"] = [3.0, 1.0]
    train["w_forces"] = [np.array([2.0]), np.array([1.0, 1.0])]
    joint = pd.concat([train, frame_of([0, 0], [2, 1]).set_axis([2, 3])], axis=0)
    result = apply_weights(joint, WeightingSpec())
    assert list(result.index) == [0, 1, 2, 3]
    assert list(result["w_energy"].iloc[:2]) == [3.0, 1.0]
    assert np.allclose(result["w_energy"].iloc[2:], 0.5)  # uniform over the two unweighted structures
    assert np.allclose(np.hstack(result["w_forces"].iloc[2:]), 1 / 3)
    assert all(w.dtype == float for w in result["w_forces"])
    # no structure weighted: the policy for all
    none = joint.iloc[2:].assign(w_energy=np.nan, w_forces=None)
    assert np.allclose(apply_weights(none, WeightingSpec())["w_energy"], 0.5)


def test_augmented_structures_without_weights_keep_the_median_rule():
    frame = frame_of([0, 0, 0], [1, 1, 1])
    frame["name"] = ["real_a", "real_b", "augmented_1"]
    frame["w_energy"] = [3.0, 1.0, np.nan]
    frame["w_forces"] = [np.array([2.0]), np.array([4.0]), None]
    weighted = apply_weights(frame, WeightingSpec())
    assert np.isnan(weighted["w_energy"].iloc[2])  # left for adjust_augmented_weights
    result = adjust_augmented_weights(weighted, 0.5)
    assert result["w_energy"].iloc[2] == pytest.approx(0.5 * 2.0)  # median of 3 and 1, scaled
    assert result["w_forces"].iloc[2][0] == pytest.approx(0.5 * 3.0)
