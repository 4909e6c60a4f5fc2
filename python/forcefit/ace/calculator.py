"""ASE calculator for python-ace/pacemaker potentials, evaluated by forcefit's C++ core.

``ACECalculator("Cu.yace")`` (alias ``PyACECalculator`` for drop-in use) accepts a ``.yace``, old ``.ace``
or B-basis ``.yaml`` file, or an in-memory :class:`~forcefit.ace.ctilde.CtildePotential`.  It reproduces
python-ace's numbers (same spline tables and conventions, see :mod:`forcefit.ace.evaluator`).

Implemented properties: ``energy``, ``free_energy`` (eV), ``forces`` (eV/Å), ``energies`` (per atom, eV)
and, for cells periodic in all three directions, ``stress`` (eV/Å^3, ASE sign and Voigt order
xx yy zz yz xz xy).
"""

from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes

from .evaluator import ACEEvaluator


class ACECalculator(Calculator):
    """ASE calculator of a Ctilde ACE potential.

    Args:
        potential: path to ``.yace``/``.ace``/``.yaml`` or a ``CtildePotential``; ``basis_set`` is accepted
            as a synonym (python-ace's keyword).
        num_threads: OpenMP threads (0: default).
        splines: radial functions from python-ace's spline tables (default) or analytic.
        fast: use the shared-product evaluator (default) rather than the plain product one.
    """

    implemented_properties = ["energy", "free_energy", "forces", "stress", "energies"]

    def __init__(self, potential=None, *, basis_set=None, num_threads: int = 0, splines: bool = True,
                 fast: bool = True, **kwargs):
        super().__init__(**kwargs)
        source = potential if potential is not None else basis_set
        if source is None:
            raise TypeError("ACECalculator needs a potential (file path or CtildePotential)")
        self.evaluator = ACEEvaluator(source, share_products=fast, splines=splines, num_threads=num_threads)

    @property
    def cutoff(self) -> float:
        return self.evaluator.cutoff

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        if "stress" in properties and not np.all(atoms.pbc):
            raise PropertyNotImplementedError("stress needs a cell periodic in all three directions")
        res = self.evaluator.compute(atoms.get_chemical_symbols(), atoms.positions, atoms.cell.array, atoms.pbc)
        self.results = {
            "energy": res.energy,
            "free_energy": res.energy,
            "energies": res.energies.copy(),
            "forces": res.forces.copy(),
        }
        if res.stress is not None:
            self.results["stress"] = res.stress


PyACECalculator = ACECalculator

__all__ = ["ACECalculator", "PyACECalculator"]
