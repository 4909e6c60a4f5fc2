"""Physics-based models with KLIFF's interface.

    Parameter, OptimizingParameters   parameters and the subset an optimizer changes
    ParameterTransform, LogParameterTransform   optimize in a transformed space (e.g. log)
    Model                             base class (hooks: init_model_params, init_influence_distance,
                                      init_supported_species, compute_batch)
"""

from .model import Model
from .parameter import OptimizingParameters, OptSlot, Parameter, ParameterError
from .transform import LogParameterTransform, ParameterTransform

__all__ = [
    "Model",
    "Parameter",
    "OptimizingParameters",
    "OptSlot",
    "ParameterError",
    "ParameterTransform",
    "LogParameterTransform",
]
