r"""pacemaker's weighting policies: per-structure energy weights and per-atom force weights.

Design: a policy takes the prepared structures table (a pandas DataFrame with python-ace's
columns ``ase_atoms``, ``forces`` (N, 3) eV/Å, ``energy_corrected`` eV,
``energy_corrected_per_atom`` eV/atom, ``NUMBER_OF_ATOMS``, ``pbc``) and returns it, possibly
with fewer rows, with ``w_energy`` (one number per structure) and ``w_forces`` (one number per
atom, shape (N,)). Definitions follow ``pyace.preparedata``:

``UniformWeightingPolicy``
    :math:`w_E = 1/S` for S structures; :math:`w_{F,i} = w_E`; then normalized so that
    :math:`\sum_s w_{E,s} = 1` and :math:`\sum_{s,i} w_{F,s,i} = 1` (every atom weighs
    :math:`1/N_\mathrm{atoms}`).

``EnergyBasedWeightingPolicy`` (nfit, n_lower, n_upper, DElow, DEup, DFup, DE, DF, wlow, energy,
reftype, seed)
    1. keep bulk (all periodic), cluster or all structures (``reftype``);
    2. reference energy per atom :math:`\Delta E`: distance to the convex hull
       (``energy: convex_hull``, see ``convex_hull.py``) or to the minimum (``cohesive``);
    3. drop structures with an atomic force longer than ``DFup`` eV/Å and with
       :math:`\Delta E \ge` ``DEup``;
    4. select up to ``nfit`` structures: first those with :math:`\Delta E <` ``DElow`` (a random
       subset if too many), then random ones from the upper tier (numpy's legacy generator seeded
       with ``seed``: the same subset as python-ace);
    5. :math:`w_E \propto 1/(\Delta E + DE)^2`, normalized; with ``wlow``, rescaled so that the
       lower tier carries ``wlow`` and the upper ``1 - wlow`` of the total;
    6. :math:`w_{F,i} \propto w_E / (|F_i|^2 + DF)`, normalized to sum 1.

``ExternalWeightingPolicy`` (filename)
    ``w_energy``/``w_forces`` from a pickled DataFrame whose index matches the data's index;
    structures absent from it are dropped; then normalized.

Difference from python-ace: with no ``seed`` in the weighting, python-ace reseeds numpy from the
operating system (a different selection every run); forcefit uses the input file's top-level
``seed`` so that runs repeat.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np

from ..errors import DatasetError, InputError
from .convex_hull import convex_hull_distance
from .schema import Key, Where, check_mapping, in_range, one_of

log = logging.getLogger(__name__)

UNIFORM = "UniformWeightingPolicy"
ENERGY_BASED = "EnergyBasedWeightingPolicy"
EXTERNAL = "ExternalWeightingPolicy"
POLICY_TYPES = (UNIFORM, ENERGY_BASED, EXTERNAL)

W_ENERGY = "w_energy"
W_FORCES = "w_forces"
EFFECTIVE_ENERGY = "effective_energy"
E_CHULL_DIST_PER_ATOM = "e_chull_dist_per_atom"


def _wlow(value, where: Where):
    if isinstance(value, str):
        if value.lower() == "none":
            return None
        raise where.error(f"expected a number in [0, 1] or None, got {value!r}")
    return in_range(0, 1)(float(value), where)


ENERGY_BASED_KEYS: Dict[str, Key] = {
    "type": Key((str,), ENERGY_BASED),
    "nfit": Key((int,), None, in_range(1)),
    "n_lower": Key((int,), None, in_range(0)),
    "n_upper": Key((int,), None, in_range(0)),
    "cutoff": Key((int, float), None),
    "DElow": Key((int, float), 1.0),
    "DEup": Key((int, float), 10.0),
    "DE": Key((int, float), 1.0),
    "DF": Key((int, float), 1.0),
    "wlow": Key((int, float, str), None, _wlow),
    "DFup": Key((int, float), None, in_range(0, low_open=True)),
    "reftype": Key((str,), "all", one_of(("all", "bulk", "cluster"))),
    "seed": Key((int,), None),
    "energy": Key((str,), "convex_hull", one_of(("convex_hull", "cohesive"))),
}
EXTERNAL_KEYS: Dict[str, Key] = {"type": Key((str,), EXTERNAL), "filename": Key((str,), None)}
UNIFORM_KEYS: Dict[str, Key] = {"type": Key((str,), UNIFORM)}


@dataclass(frozen=True)
class WeightingSpec:
    """``fit.weighting``: the policy name and its checked parameters (python-ace names)."""

    type: str = UNIFORM
    params: Dict[str, Any] = field(default_factory=dict)


def parse_weighting_spec(value: Any, where: Where) -> WeightingSpec:
    """Check ``fit.weighting`` (None means uniform). Raises InputError naming the key path."""
    if value is None:
        return WeightingSpec()
    if not isinstance(value, dict):
        raise where.error(f"expected a mapping with a 'type' ({', '.join(POLICY_TYPES)}), got {value!r}")
    if "type" not in value:
        raise where.child("type").error(f"required key is missing; one of {', '.join(POLICY_TYPES)}")
    kind = one_of(POLICY_TYPES)(value["type"], where.child("type"))
    keys = {UNIFORM: UNIFORM_KEYS, ENERGY_BASED: ENERGY_BASED_KEYS, EXTERNAL: EXTERNAL_KEYS}[kind]
    params = check_mapping(dict(value, type=kind), keys, where)
    params.pop("type")
    if kind == EXTERNAL and params["filename"] is None:
        raise where.child("filename").error("required key is missing (the pickled DataFrame of weights)")
    if kind == ENERGY_BASED:
        if params["nfit"] is not None and (params["n_lower"] is not None or params["n_upper"] is not None):
            raise where.error("give nfit, or n_lower and n_upper, not both")
        if (params["n_lower"] is None) != (params["n_upper"] is None):
            raise where.error("n_lower and n_upper go together")
        if params["DEup"] <= params["DElow"]:
            raise where.error(f"DEup ({params['DEup']}) must exceed DElow ({params['DElow']})")
    return WeightingSpec(kind, params)


# -- normalization ---------------------------------------------------------------------------------


def normalize_weights(frame) -> None:
    """Scale ``w_energy`` to sum 1 over structures and ``w_forces`` to sum 1 over all atoms (in place)."""
    if W_ENERGY not in frame.columns or W_FORCES not in frame.columns:
        raise DatasetError(f"cannot normalize weights: the data lack the {W_ENERGY}/{W_FORCES} columns")
    sizes = frame[W_FORCES].map(len).to_numpy()
    if not np.array_equal(sizes, frame["NUMBER_OF_ATOMS"].to_numpy()):
        bad = int(np.argmax(sizes != frame["NUMBER_OF_ATOMS"].to_numpy()))
        raise DatasetError(
            f"w_forces of structure {frame['name'].iloc[bad]!r} has {sizes[bad]} values for "
            f"{frame['NUMBER_OF_ATOMS'].iloc[bad]} atoms"
        )
    e_total = frame[W_ENERGY].sum()
    f_total = frame[W_FORCES].map(np.sum).sum()
    if not (e_total > 0 and f_total > 0):
        raise DatasetError("all energy weights or all force weights are zero; nothing to fit")
    frame[W_ENERGY] = frame[W_ENERGY] / e_total
    frame[W_FORCES] = frame[W_FORCES].map(lambda w: np.asarray(w, dtype=float) / f_total)


# -- policies --------------------------------------------------------------------------------------


class UniformWeightingPolicy:
    """Every structure and every atom weighs the same (see the module docstring)."""

    def __str__(self) -> str:
        return "UniformWeightingPolicy()"

    def generate_weights(self, frame):
        frame = frame.copy()
        frame[W_ENERGY] = 1.0 / len(frame)
        frame[W_FORCES] = frame["forces"].map(lambda f: np.full(len(f), 1.0 / len(frame)))
        normalize_weights(frame)
        return frame


class EnergyBasedWeightingPolicy:
    """Selection and weights from the energy above the hull (or minimum); see the module docstring."""

    def __init__(
        self,
        nfit=None,
        n_lower=None,
        n_upper=None,
        cutoff=None,
        DElow=1.0,
        DEup=10.0,
        DE=1.0,
        DF=1.0,
        wlow=None,
        DFup=None,
        reftype="all",
        seed=None,
        energy="convex_hull",
    ):
        self.nfit, self.n_lower, self.n_upper = nfit, n_lower, n_upper
        self.DElow, self.DEup, self.DE, self.DF = float(DElow), float(DEup), float(DE), float(DF)
        self.wlow = None if wlow is None else float(wlow)
        self.DFup = DFup
        self.reftype, self.seed, self.energy = reftype, seed, energy

    def __str__(self) -> str:
        return (
            f"EnergyBasedWeightingPolicy(nfit={self.nfit}, n_lower={self.n_lower}, n_upper={self.n_upper}, "
            f"energy={self.energy}, DElow={self.DElow}, DEup={self.DEup}, DFup={self.DFup}, DE={self.DE}, "
            f"DF={self.DF}, wlow={self.wlow}, reftype={self.reftype},seed={self.seed})"
        )

    def _effective_energy(self, frame) -> np.ndarray:
        epa = frame["energy_corrected_per_atom"].to_numpy(dtype=float)
        if self.energy == "convex_hull":
            symbols = [atoms.get_chemical_symbols() for atoms in frame["ase_atoms"]]
            return convex_hull_distance(symbols, epa)
        return epa - epa.min()

    @staticmethod
    def _nonempty(frame, stage: str):
        if len(frame) == 0:
            raise DatasetError(f"EnergyBasedWeightingPolicy: no structures left after {stage}; relax DEup/DFup/reftype")
        return frame

    def generate_weights(self, frame):
        nfit = self.nfit
        if nfit is None:
            nfit = len(frame) if self.n_lower is None else self.n_lower + self.n_upper
        if self.reftype == "bulk":
            frame = frame[frame["pbc"]]
        elif self.reftype == "cluster":
            frame = frame[~frame["pbc"]]
        frame = self._nonempty(frame, f"keeping reftype={self.reftype}").copy()
        frame[EFFECTIVE_ENERGY] = self._effective_energy(frame)
        if self.energy == "convex_hull":
            frame[E_CHULL_DIST_PER_ATOM] = frame[EFFECTIVE_ENERGY]
        if self.DFup is not None:
            fmax = frame["forces"].map(lambda f: np.max(np.linalg.norm(np.asarray(f), axis=1)))
            removed = int((fmax > self.DFup).sum())
            frame = self._nonempty(frame[fmax <= self.DFup], f"removing forces above DFup={self.DFup}")
            log.info(
                f"{removed} structures with higher than DFup forces are removed. Current size: {len(frame)} structures"
            )
        frame = self._nonempty(frame[frame[EFFECTIVE_ENERGY] < self.DEup], f"removing energies above DEup={self.DEup}")
        low = frame[EFFECTIVE_ENERGY] < self.DElow
        low_candidates, up_candidates = frame.index[low], frame.index[~low]
        n_low, n_up = len(low_candidates), len(up_candidates)
        log.info(f"{n_low} structures below DElow={self.DElow} eV/atom")
        log.info(f"{n_up} structures between DElow={self.DElow} eV/atom and DEup={self.DEup} eV/atom")

        # the same calls, in the same order, as python-ace, so that the selection is the same
        rng = np.random.RandomState(self.seed)
        low_cap = self.n_lower if self.n_lower is not None else nfit
        low_selected = (
            np.asarray(low_candidates) if n_low <= low_cap else rng.choice(low_candidates, low_cap, replace=False)
        )
        if self.n_upper is not None:
            up_selected = (
                rng.choice(up_candidates, self.n_upper, replace=False)
                if self.n_upper < n_up
                else np.asarray(up_candidates)
            )
        else:
            remain = nfit - len(low_selected)
            up_selected = (
                rng.choice(up_candidates, remain, replace=False) if remain <= n_up else np.asarray(up_candidates)
            )
        take = np.hstack([low_selected, up_selected]).astype(frame.index.dtype)
        rng.shuffle(take)
        frame = self._nonempty(frame.loc[take].copy(), "selecting structures")
        log.info(f"{len(frame)} structures were selected")
        low = (frame[EFFECTIVE_ENERGY] < self.DElow).to_numpy()

        wlow = self.wlow
        if len(up_selected) == 0 and wlow is not None and wlow != 1.0:
            log.warning(
                f"All structures were taken from low-tier, but relative weight of low-tier (wlow={wlow}) "
                "is less than one. It will be adjusted to one"
            )
            wlow = 1.0
        w_energy = 1.0 / (frame[EFFECTIVE_ENERGY].to_numpy() + abs(self.DE)) ** 2
        w_energy /= w_energy.sum()
        w_low_now = w_energy[low].sum()
        if wlow is not None:
            if 0.0 < w_low_now < 1.0:
                w_energy[low] *= wlow / w_low_now
                w_energy[~low] *= (1.0 - wlow) / (1.0 - w_low_now)
            else:
                log.warning("No weights adjustment possible")
        frame[W_ENERGY] = w_energy
        forces = frame["forces"].map(np.asarray)
        frame[W_FORCES] = [we / (np.sum(f**2, axis=1) + abs(self.DF)) for we, f in zip(w_energy, forces)]
        normalize_weights(frame)
        return frame


class ExternalWeightingPolicy:
    """Weights read from a pickled DataFrame with ``w_energy``/``w_forces`` and the data's index."""

    def __init__(self, filename: str):
        self.filename = filename

    def __str__(self) -> str:
        return f"ExternalWeightingPolicy(filename={self.filename})"

    def generate_weights(self, frame):
        import pandas as pd

        from ..dataset.pacemaker import read_dataframe

        weights = read_dataframe(self.filename)
        for column in (W_ENERGY, W_FORCES):
            if column not in weights.columns:
                raise DatasetError(f"has no {column!r} column", path=Path(self.filename))
        missing = [i for i in weights.index if i not in frame.index]
        if missing:
            raise DatasetError(
                f"{len(missing)} index value(s) of the weights (first: {missing[0]!r}) are not in the data",
                path=Path(self.filename),
            )
        merged = pd.merge(
            frame.drop(columns=[c for c in (W_ENERGY, W_FORCES) if c in frame.columns]),
            weights[[W_ENERGY, W_FORCES]],
            left_index=True,
            right_index=True,
        )
        merged[W_FORCES] = merged[W_FORCES].map(lambda w: np.asarray(w, dtype=float))
        normalize_weights(merged)
        return merged


def make_policy(spec: WeightingSpec, default_seed: Optional[int] = None):
    """The policy object of a WeightingSpec; ``default_seed`` stands in for a missing ``seed``."""
    if spec.type == UNIFORM:
        return UniformWeightingPolicy()
    if spec.type == EXTERNAL:
        return ExternalWeightingPolicy(spec.params["filename"])
    if spec.type == ENERGY_BASED:
        params = dict(spec.params)
        if params.get("seed") is None:
            params["seed"] = default_seed
        return EnergyBasedWeightingPolicy(**params)
    raise InputError(f"unknown weighting type {spec.type!r}")


def apply_weights(frame, spec: WeightingSpec, ignore_weights: bool = False, default_seed: Optional[int] = None):
    """Weights for ``frame``: its own ``w_energy``/``w_forces`` columns when it has both (unless
    ``ignore_weights``), else the policy's. Structures whose weights are missing (a weighted training
    file joined with an unweighted test file) get the policy's, augmented ones excepted (see
    ``adjust_augmented_weights``). Returns the (possibly reduced) frame."""
    if W_ENERGY in frame.columns and W_FORCES in frame.columns and not ignore_weights:
        missing = _missing_weights(frame)
        if not missing.all():
            log.info(
                f"Both weighting columns ({W_ENERGY} and {W_FORCES}) are found, no another weighting policy will be applied"
            )
            frame = frame.copy()
            missing &= ~_augmented(frame)  # adjust_augmented_weights gives those the median of the real ones
            if missing.any():
                import pandas as pd

                policy = make_policy(spec, default_seed)
                log.info(f"{int(missing.sum())} structures have no weights in the data; they get {policy}'s")
                filled = policy.generate_weights(frame[missing].drop(columns=[W_ENERGY, W_FORCES]))
                frame = pd.concat([frame[~missing], filled], axis=0).sort_index()
            frame[W_FORCES] = frame[W_FORCES].map(lambda w: np.asarray(w, dtype=float))
            return frame
        frame = frame.drop(columns=[W_ENERGY, W_FORCES])
    if ignore_weights and (W_ENERGY in frame.columns or W_FORCES in frame.columns):
        log.info("Existing weights are ignored, weighting policy calculation is forced")
        frame = frame.drop(columns=[c for c in (W_ENERGY, W_FORCES) if c in frame.columns])
    policy = make_policy(spec, default_seed)
    log.info(f"Apply weights policy: {policy}")
    return policy.generate_weights(frame)


def _missing_weights(frame) -> np.ndarray:
    """Rows whose energy weight or force weights are absent (NaN or None after a join)."""

    def absent(w) -> bool:
        return w is None or (np.ndim(w) == 0 and bool(np.isnan(w)))

    return np.array([absent(e) or absent(f) for e, f in zip(frame[W_ENERGY], frame[W_FORCES])], dtype=bool)


def _augmented(frame) -> np.ndarray:
    """Rows of structures named ``augmented...`` (python-ace's convention for augmented data)."""
    if "name" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame["name"].astype(str).str.startswith("augmented").to_numpy()


def adjust_augmented_weights(frame, aug_factor: float):
    """Scale the weights of structures named ``augmented...`` by ``aug_factor`` (python-ace's
    ``aug_factor``); missing weights of augmented structures get the median of the real ones."""
    if frame is None:
        return frame
    augmented = _augmented(frame)
    if not augmented.any():
        return frame
    frame = frame.copy()
    log.info(f"{augmented.sum()} augmented structures found in dataset")
    w_e = np.array(frame[W_ENERGY], dtype=float)  # writable copy (pandas copy-on-write)
    if _missing_weights(frame)[augmented].any():
        real_e = float(np.median(w_e[~augmented]))
        real_f = float(np.median(np.hstack(frame.loc[~augmented, W_FORCES].to_list())))
        w_e[augmented] = real_e
        frame[W_FORCES] = [
            np.full(n, real_f) if aug else w for aug, n, w in zip(augmented, frame["NUMBER_OF_ATOMS"], frame[W_FORCES])
        ]
    w_e[augmented] *= aug_factor
    frame[W_ENERGY] = w_e
    frame[W_FORCES] = [
        np.asarray(w, dtype=float) * (aug_factor if aug else 1.0) for aug, w in zip(augmented, frame[W_FORCES])
    ]
    return frame


__all__ = [
    "EnergyBasedWeightingPolicy",
    "ExternalWeightingPolicy",
    "UniformWeightingPolicy",
    "WeightingSpec",
    "adjust_augmented_weights",
    "apply_weights",
    "make_policy",
    "normalize_weights",
    "parse_weighting_spec",
]
