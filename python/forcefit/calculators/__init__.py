"""Run a model on a dataset (KLIFF's ``kliff.calculators`` interface).

    Calculator         create(configs, use_energy, use_forces, use_stress), compute, get_prediction ...
    ComputeArguments   one configuration inside a Calculator
"""

from .calculator import Calculator, ComputeArguments

__all__ = ["Calculator", "ComputeArguments"]
