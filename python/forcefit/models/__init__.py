"""Physics-based models with KLIFF's interface.

    Parameter, OptimizingParameters   parameters and the subset an optimizer changes
    ParameterTransform, LogParameterTransform   optimize in a transformed space (e.g. log)
    Model                             base class (hooks: init_model_params, init_influence_distance,
                                      init_supported_species, compute_batch)
    LennardJones, StillingerWeber, EDIP   built-in models (C++ kernels, analytic derivatives)
    KIMModel                          any installed KIM portable model, through kimpy (optional)
"""

from .edip import EDIP
from .kim_model import KIMModel
from .lennard_jones import LennardJones
from .model import Model
from .parameter import OptimizingParameters, OptSlot, Parameter, ParameterError
from .stillinger_weber import StillingerWeber
from .transform import LogParameterTransform, ParameterTransform

__all__ = [
    "Model",
    "LennardJones",
    "StillingerWeber",
    "EDIP",
    "KIMModel",
    "Parameter",
    "OptimizingParameters",
    "OptSlot",
    "ParameterError",
    "ParameterTransform",
    "LogParameterTransform",
]
