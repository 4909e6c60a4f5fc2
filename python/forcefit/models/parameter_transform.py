"""KLIFF's module name for parameter transforms (``kliff.models.parameter_transform``), so that
scripts only change ``kliff`` to ``forcefit`` in their imports. The classes live in
``forcefit.models.transform``."""

from .transform import LogParameterTransform, ParameterTransform

__all__ = ["ParameterTransform", "LogParameterTransform"]
