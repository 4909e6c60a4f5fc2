"""Parameter transforms: let the optimizer work on, e.g., log(A) instead of A (KLIFF's classes).

A transform maps the model's own parameters ("original space", what the kernels use) to the space
the optimizer works in ("transformed space") and back. Like KLIFF, ``transform`` and
``inverse_transform`` take a ``{name: Parameter}`` dict and may change its Parameters in place
(callers pass copies). Start values and bounds given to ``Model.set_opt_params`` are in the
transformed space.

For analytic gradients the model also needs d(original)/d(transformed) for each component:
``inverse_transform_derivative``. Transforms here act component by component, so that derivative is
a diagonal and is returned as one array per parameter. The base class differentiates
``inverse_transform`` by central finite differences, so a user subclass that defines only
``transform`` and ``inverse_transform`` still gets (approximate) chain-rule gradients.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

import numpy as np

from ..errors import InputError
from .parameter import Parameter


class ParameterTransform:
    """Identity transform; subclass and override ``transform`` and ``inverse_transform``."""

    def transform(self, model_params: Dict[str, Parameter]) -> Dict[str, Parameter]:
        """Original -> transformed space (in place; returns the dict)."""
        return model_params

    def inverse_transform(self, model_params: Dict[str, Parameter]) -> Dict[str, Parameter]:
        """Transformed -> original space (in place; returns the dict)."""
        return model_params

    def __call__(self, model_params: Dict[str, Parameter]) -> Dict[str, Parameter]:
        return self.transform(model_params)

    def inverse_transform_derivative(self, transformed: Dict[str, Parameter]) -> Dict[str, np.ndarray]:
        """d(original value)/d(transformed value), component by component, at ``transformed``.

        Returns ``{name: 1-D array}`` with one entry per component. This default uses central
        finite differences of ``inverse_transform`` (relative step 1e-6).
        """
        base = {k: p.copy() for k, p in transformed.items()}
        out: Dict[str, np.ndarray] = {}
        for name, p in base.items():
            d = np.empty(len(p))
            for c in range(len(p)):
                h = 1e-6 * max(1.0, abs(p[c]))
                plus = {k: q.copy() for k, q in base.items()}
                minus = {k: q.copy() for k, q in base.items()}
                plus[name][c] = p[c] + h
                minus[name][c] = p[c] - h
                up = self.inverse_transform(plus)[name][c]
                down = self.inverse_transform(minus)[name][c]
                d[c] = (up - down) / (2 * h)
            out[name] = d
        return out

    def as_dict(self) -> Dict[str, Any]:
        """Plain data naming the transform (saved with a model)."""
        return {"name": type(self).__name__}


class LogParameterTransform(ParameterTransform):
    """Optimize the natural log of the named parameters.

    ``x = log(theta)``; bounds set on those parameters are in log space too. Parameter values (and
    bounds) must be positive to be transformed.

    Args:
        param_names: names of the parameters to transform (a subset of the model's parameters).
    """

    def __init__(self, param_names: Sequence[str]):
        self.param_names: List[str] = list(param_names)

    def _check_names(self, model_params: Dict[str, Parameter]) -> None:
        unknown = [n for n in self.param_names if n not in model_params]
        if unknown:
            raise InputError(
                f"LogParameterTransform: parameter(s) {', '.join(unknown)} not in the model "
                f"(it has: {', '.join(model_params)})")

    def transform(self, model_params: Dict[str, Parameter]) -> Dict[str, Parameter]:
        self._check_names(model_params)
        for name in self.param_names:
            p = model_params[name]
            if np.any(p.value <= 0):
                raise InputError(
                    f"cannot log-transform parameter `{name}`: its value {p.value.tolist()} is not positive")
            p.value = np.log(p.value)
            for c in range(len(p)):
                lo, up = p.lower_bound[c], p.upper_bound[c]
                p.set_lower_bound(c, np.log(lo) if lo is not None and lo > 0 else None)
                if up is not None and up <= 0:
                    raise InputError(f"cannot log-transform parameter `{name}`: upper bound {up} is not positive")
                p.set_upper_bound(c, np.log(up) if up is not None else None)
        return model_params

    def inverse_transform(self, model_params: Dict[str, Parameter]) -> Dict[str, Parameter]:
        self._check_names(model_params)
        for name in self.param_names:
            p = model_params[name]
            p.value = np.exp(p.value)
            for c in range(len(p)):
                lo, up = p.lower_bound[c], p.upper_bound[c]
                p.set_lower_bound(c, float(np.exp(lo)) if lo is not None else None)
                p.set_upper_bound(c, float(np.exp(up)) if up is not None else None)
        return model_params

    def inverse_transform_derivative(self, transformed: Dict[str, Parameter]) -> Dict[str, np.ndarray]:
        # d exp(x)/dx = exp(x) for the transformed names, 1 elsewhere.
        out = {k: np.ones(len(p)) for k, p in transformed.items()}
        for name in self.param_names:
            out[name] = np.exp(transformed[name].value)
        return out

    def as_dict(self) -> Dict[str, Any]:
        return {"name": type(self).__name__, "param_names": list(self.param_names)}


__all__ = ["ParameterTransform", "LogParameterTransform"]
