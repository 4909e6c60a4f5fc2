"""Atomic cluster expansion (ACE): python-ace/pacemaker compatible potentials.

* :mod:`.ctilde` -- in-memory Ctilde potential (``.yace`` content).
* :mod:`.yace_io`, :mod:`.ace_io` -- readers/writers of ``.yace`` and old ``.ace`` files.
* :mod:`.evaluator`, :mod:`.calculator` -- C++ evaluation and the ASE calculator.
"""

from .ctilde import Bond, CtildeFunction, CtildePotential, Embedding

__all__ = ["Bond", "CtildeFunction", "CtildePotential", "Embedding"]
