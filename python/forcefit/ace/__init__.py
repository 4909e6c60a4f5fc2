"""Atomic cluster expansion (ACE): python-ace/pacemaker compatible potentials.

* :mod:`.ctilde` -- in-memory Ctilde potential (``.yace`` content).
* :mod:`.yace_io`, :mod:`.ace_io` -- readers/writers of ``.yace`` and old ``.ace`` files.
* :mod:`.evaluator`, :mod:`.calculator` -- C++ evaluation and the ASE calculator.
* B-basis side (:mod:`.bbasis`, :mod:`.yaml_io`, :mod:`.convert`, ...): B-basis ``.yaml`` potentials.
"""

from .ctilde import Bond, CtildeFunction, CtildePotential, Embedding

__all__ = ["Bond", "CtildeFunction", "CtildePotential", "Embedding",
           "read_yace", "write_yace", "read_ace", "ACEEvaluator", "ACECalculator", "PyACECalculator"]


def __getattr__(name):
    # Lazy imports keep ``import forcefit.ace`` light (no ASE / compiled core needed for the dataclasses).
    if name in ("read_yace", "write_yace"):
        from . import yace_io
        return getattr(yace_io, name)
    if name == "read_ace":
        from .ace_io import read_ace
        return read_ace
    if name == "ACEEvaluator":
        from .evaluator import ACEEvaluator
        return ACEEvaluator
    if name in ("ACECalculator", "PyACECalculator"):
        from . import calculator
        return getattr(calculator, name)
    if name in ("BBasisPotential", "read_bbasis_yaml", "write_bbasis_yaml", "bbasis_to_ctilde", "construct_bbasis"):
        module = {"BBasisPotential": "bbasis", "bbasis_to_ctilde": "convert",
                  "construct_bbasis": "construct"}.get(name, "yaml_io")
        import importlib
        return getattr(importlib.import_module(f".{module}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
