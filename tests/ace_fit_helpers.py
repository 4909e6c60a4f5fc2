"""Small ACE fitting problems for the fit-engine tests: basis shapes, data sets, loss settings."""

from __future__ import annotations

import numpy as np

from forcefit.pacemaker.engine import FitData
from forcefit.pacemaker.potential_section import parse_potential_section
from forcefit.pacemaker.schema import Where

from pacemaker_helpers import make_frame, random_structures


def tiny_shape(elements, ndensity=1, radbase="SBessel", rcut=4.0):
    """A pacemaker ``potential:`` mapping with ranks 1-3 and l <= 1 (a few dozen parameters)."""
    return {
        "elements": list(elements),
        "embeddings": {"ALL": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1, 1, 0.5][: 2 * ndensity],
                               "ndensity": ndensity}},
        "bonds": {"ALL": {"radbase": radbase, "radparameters": [5.25], "rcut": rcut, "dcut": 0.01}},
        "functions": {"ALL": {"nradmax_by_orders": [3, 2, 1], "lmax_by_orders": [0, 1, 1]}},
    }


def tiny_section(elements, ndensity=1, **kwargs):
    return parse_potential_section(tiny_shape(elements, ndensity, **kwargs), Where("potential"))


def tiny_data(elements, n=4, seed=3, with_stress=True) -> FitData:
    """Random periodic cells (3-5 atoms) with toy pair-model energies/forces and made-up stresses,
    non-uniform weights (sums 1)."""
    frame = make_frame(random_structures(n, tuple(elements), seed=seed, natoms=(3, 5)))
    rng = np.random.default_rng(seed)
    frame["NUMBER_OF_ATOMS"] = [len(a) for a in frame["ase_atoms"]]
    w = rng.uniform(0.5, 1.5, size=len(frame))
    frame["w_energy"] = w / w.sum()
    wf = [rng.uniform(0.5, 1.5, size=k) for k in frame["NUMBER_OF_ATOMS"]]
    total = sum(x.sum() for x in wf)
    frame["w_forces"] = [x / total for x in wf]
    if with_stress:
        frame["stress"] = [rng.normal(size=6) * 0.01 for _ in range(len(frame))]
    return FitData.from_frame(frame)


def random_point(potential, seed=1, scale=0.3):
    """Parameters near the potential's (delta crad), with every coefficient non-zero."""
    x = potential.get_parameters()
    return x + np.random.default_rng(seed).normal(size=len(x)) * scale
