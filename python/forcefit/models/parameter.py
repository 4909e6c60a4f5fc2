"""Model parameters and the subset of them an optimizer changes (KLIFF's names and behaviour).

Design:
    ``Parameter``  one named parameter of a physics model: a 1-D float64 array ``value`` (a scalar
                   parameter has one component) plus, per component, whether it is ``fixed`` and its
                   ``lower_bound`` / ``upper_bound`` (``None`` = unbounded). Units are those of the
                   model (eV, Å, dimensionless); the model's docstring states them.
    ``OptimizingParameters``  the components an optimizer sees. Built over a model's
                   ``{name: Parameter}`` dict; ``set``/``set_one``/``read`` choose start values, fixed
                   components and bounds with KLIFF's settings syntax::

                       [[value_or_"default"], ...]                   start value
                       [[value_or_"default", "fix"], ...]            keep this component fixed
                       [[value_or_"default", lower, upper], ...]    bounds, "inf"/None = unbounded

                   The optimizer's flat vector ``x`` lists the free components in the order they were
                   set (the order of ``set`` calls, then component order). ``get_opt_params`` gives
                   ``x``; ``update_opt_params(x)`` writes it back. ``opt_slots()`` maps each entry of
                   ``x`` to (parameter name, component, flat position in the model's parameter vector)
                   so analytic derivatives can be chained onto ``x``.

Everything wrong in the settings (an unknown name, a wrong number of components, a start value
outside its bounds, bounds on a fixed component, text that is not a number) raises
``forcefit.errors.InputError`` naming the parameter and the component.
"""

from __future__ import annotations

import logging
import math
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, TextIO, Tuple, Union

import numpy as np

from ..errors import InputError

Bound = Optional[float]
logger = logging.getLogger(__name__)


class ParameterError(InputError):
    """A parameter setting that cannot be applied (kept under KLIFF's name)."""


def _as_1d_floats(value: Any, what: str) -> np.ndarray:
    arr = np.array(value, dtype=np.float64, copy=True)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ParameterError(f"{what} must be a scalar or a 1-D sequence, got shape {arr.shape}")
    return arr


def _per_component(values: Optional[Sequence[Any]], size: int, default: Any, what: str) -> list:
    if values is None:
        return [default] * size
    values = list(values)
    if len(values) != size:
        raise ParameterError(f"{what} has {len(values)} entries, expected {size} (one per component)")
    return values


class Parameter:
    """One parameter of a model: a 1-D float64 array plus fixed flags and bounds per component.

    Args:
        value: scalar or 1-D sequence (model units).
        fixed: per component, ``True`` to keep it out of the fit (default all free).
        lower_bound, upper_bound: per component, a float or ``None`` for no bound.
        name: the parameter's name in the model.
        index: position of the parameter in the model's parameter dict.
        description: free text (units, meaning).
    """

    def __init__(
        self,
        value: Any,
        fixed: Optional[Sequence[bool]] = None,
        lower_bound: Optional[Sequence[Bound]] = None,
        upper_bound: Optional[Sequence[Bound]] = None,
        name: Optional[str] = None,
        index: Optional[int] = None,
        description: Optional[str] = None,
    ):
        self.name = name
        self.index = index
        self.description = description
        self._value = _as_1d_floats(value, self._label("value"))
        n = len(self._value)
        self._fixed = [bool(f) for f in _per_component(fixed, n, False, self._label("fixed"))]
        self._lower_bound = [_bound_or_none(b) for b in _per_component(lower_bound, n, None, self._label("lower_bound"))]
        self._upper_bound = [_bound_or_none(b) for b in _per_component(upper_bound, n, None, self._label("upper_bound"))]

    def _label(self, what: str) -> str:
        return f"parameter `{self.name}` {what}" if self.name else f"parameter {what}"

    # -- value -------------------------------------------------------------------------------
    @property
    def value(self) -> np.ndarray:
        """The values, 1-D float64 array (a view: writing to it changes the parameter)."""
        return self._value

    @value.setter
    def value(self, v: Any) -> None:
        arr = _as_1d_floats(v, self._label("value"))
        if len(arr) != len(self._value):
            raise ParameterError(f"{self._label('value')} needs {len(self._value)} components, got {len(arr)}")
        self._value = arr

    @property
    def size(self) -> int:
        """Number of components."""
        return len(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __getitem__(self, i: int) -> float:
        return float(self._value[i])

    def __setitem__(self, i: int, v: float) -> None:
        self._value[i] = float(v)

    def get_value(self) -> np.ndarray:
        """A copy of the values."""
        return self._value.copy()

    def get_size(self) -> int:
        return len(self._value)

    def set_value(self, index: int, v: float) -> None:
        """Set component ``index`` to ``v``."""
        self._value[index] = float(v)

    # -- fixed flags and bounds ----------------------------------------------------------------
    @property
    def fixed(self) -> List[bool]:
        return self._fixed

    def set_fixed(self, index: int, v: bool) -> None:
        self._fixed[index] = bool(v)

    @property
    def lower_bound(self) -> List[Bound]:
        return self._lower_bound

    def set_lower_bound(self, index: int, v: Bound) -> None:
        self._lower_bound[index] = _bound_or_none(v)

    @property
    def upper_bound(self) -> List[Bound]:
        return self._upper_bound

    def set_upper_bound(self, index: int, v: Bound) -> None:
        self._upper_bound[index] = _bound_or_none(v)

    # -- copies and plain-data form -----------------------------------------------------------
    def copy(self) -> "Parameter":
        return Parameter(
            self._value, list(self._fixed), list(self._lower_bound), list(self._upper_bound),
            name=self.name, index=self.index, description=self.description,
        )

    def __deepcopy__(self, memo) -> "Parameter":
        return self.copy()

    def as_dict(self) -> Dict[str, Any]:
        """Plain data (lists, floats, None) for YAML."""
        return {
            "name": self.name,
            "value": [float(v) for v in self._value],
            "fixed": list(self._fixed),
            "lower_bound": list(self._lower_bound),
            "upper_bound": list(self._upper_bound),
        }

    @classmethod
    def from_dict(cls, d: Dict[str, Any], index: Optional[int] = None) -> "Parameter":
        return cls(d["value"], d.get("fixed"), d.get("lower_bound"), d.get("upper_bound"),
                   name=d.get("name"), index=index)

    def __repr__(self) -> str:
        return f"Parameter(name={self.name!r}, value={self._value.tolist()!r})"


def _bound_or_none(b: Any) -> Bound:
    """A finite float, or None for "no bound" (None, "none", "inf", ±inf)."""
    if b is None:
        return None
    if isinstance(b, str):
        if b.strip().lower() in ("none", "inf", "+inf", "-inf", "infinity"):
            return None
        b = float(b)
    b = float(b)
    if math.isinf(b):
        return None
    if math.isnan(b):
        raise ParameterError("a bound is NaN")
    return b


@dataclass(frozen=True)
class OptSlot:
    """Where one entry of the optimizer's vector lives.

    name: parameter name; component: component index inside the parameter; flat: position in the
    model's flat parameter vector (every parameter's values concatenated in dict order).
    """

    name: str
    component: int
    flat: int


class OptimizingParameters:
    """The components of a model's parameters that an optimizer changes.

    Args:
        model_params: ``{name: Parameter}`` of the model (in the space the optimizer works in:
            the transformed space when the model has a parameter transform). The ``Parameter``
            objects are shared, not copied: settings and updates change them in place.
    """

    def __init__(self, model_params: Dict[str, Parameter]):
        self.model_params = model_params
        self._params: List[str] = []          # names set to optimize, in the order they were set
        self._slots: List[OptSlot] = []       # free components, the optimizer's vector order

    # -- choosing what to optimize -----------------------------------------------------------
    def read(self, filename: Union[str, Path]) -> None:
        """Read settings from a text file in KLIFF's format.

        A parameter name on its own line, then one line per component holding 1, 2 or 3 items::

            A
            DEFAULT  1.0  20.0
            sigma
            2.0951   FIX

        ``#`` starts a comment. See ``set_one`` for what the items mean.
        """
        path = Path(filename)
        try:
            raw = path.read_text().splitlines()
        except OSError as err:
            raise InputError(f"cannot read optimizing-parameter file: {err.strerror}", path=path) from err
        lines: List[Tuple[int, str]] = []
        for lineno, line in enumerate(raw, start=1):
            line = line.split("#", 1)[0].strip()
            if line:
                lines.append((lineno, line))
        k = 0
        while k < len(lines):
            lineno, name = lines[k]
            k += 1
            if name not in self.model_params:
                raise ParameterError(self._unknown(name), path=path, record=f"line {lineno}")
            size = len(self.model_params[name])
            if k + size > len(lines):
                raise ParameterError(
                    f"parameter `{name}` needs {size} component lines, file ends after {len(lines) - k}",
                    path=path, record=f"line {lineno}")
            settings = [lines[k + j][1].split() for j in range(size)]
            try:
                self.set_one(name, settings)
            except ParameterError as err:
                raise ParameterError(err.problem, path=path, record=f"line {lines[k][0]}") from err
            k += size

    def set(self, **kwargs: List[List[Any]]) -> None:
        """Set several parameters: ``set(A=[[5.0, 1.0, 20.0]], sigma=[[2.0951, "fix"]])``."""
        for name in kwargs:
            if name not in self.model_params:
                raise ParameterError(self._unknown(name))
        for name, settings in kwargs.items():
            self.set_one(name, settings)

    def set_one(self, name: str, settings: List[List[Any]]) -> None:
        """Set start values, fixed flags and bounds of one parameter.

        ``settings`` holds one list per component with 1, 2 or 3 items:
            ``[v]``: start value ``v`` (a number, or ``"default"`` to keep the model's value);
            ``[v, "fix"]``: keep the component at ``v``, out of the fit;
            ``[v, lower, upper]``: bounds; ``"inf"`` or ``None`` means unbounded on that side.

        Raises ParameterError (an InputError) for an unknown name, a wrong number of components,
        unparsable items, bounds that exclude the start value, or bounds on a fixed component.
        """
        if name not in self.model_params:
            raise ParameterError(self._unknown(name))
        param = self.model_params[name]
        settings = _as_settings_rows(settings, name)
        if len(settings) != len(param):
            raise ParameterError(
                f"parameter `{name}` has {len(param)} component(s), got settings for {len(settings)}")
        if name in self._params:
            logger.info("parameter `%s` already set to optimize; its settings are replaced", name)

        # Parse everything first so that a bad line leaves the parameter unchanged.
        parsed = [_parse_component(name, j, row, param[j]) for j, row in enumerate(settings)]
        for j, (value, fixed, lower, upper) in enumerate(parsed):
            param.set_value(j, value)
            param.set_fixed(j, fixed)
            param.set_lower_bound(j, lower)
            param.set_upper_bound(j, upper)
        if "cut" in name.lower() and not all(f for _, f, _, _ in parsed):
            warnings.warn(
                f"parameter `{name}` looks like a cutoff; optimizing a cutoff changes the neighbor "
                "lists, which are built once per dataset. Fix it instead.", stacklevel=3)
        if name not in self._params:
            self._params.append(name)
        self._rebuild_slots()

    def _unknown(self, name: str) -> str:
        return f"parameter `{name}` is not a parameter of the model (it has: {', '.join(self.model_params)})"

    def _rebuild_slots(self) -> None:
        offsets: Dict[str, int] = {}
        total = 0
        for pname, p in self.model_params.items():
            offsets[pname] = total
            total += len(p)
        slots = []
        for pname in self._params:
            p = self.model_params[pname]
            for c in range(len(p)):
                if not p.fixed[c]:
                    slots.append(OptSlot(pname, c, offsets[pname] + c))
        self._slots = slots

    # -- what the optimizer sees -------------------------------------------------------------
    @property
    def names(self) -> List[str]:
        """Names of the parameters set to optimize, in order."""
        return list(self._params)

    def opt_slots(self) -> List[OptSlot]:
        """One OptSlot per entry of the optimizer's vector."""
        return list(self._slots)

    def get_num_opt_params(self) -> int:
        """Number of free components (the length of the optimizer's vector)."""
        return len(self._slots)

    def get_opt_params(self) -> np.ndarray:
        """The optimizer's vector: free components in order, float64 array."""
        if not self._slots:
            raise ParameterError("no parameters are set to optimize (call set_opt_params first)")
        return np.array([self.model_params[s.name][s.component] for s in self._slots], dtype=np.float64)

    def update_opt_params(self, params: Sequence[float]) -> Dict[str, Parameter]:
        """Write the optimizer's vector back into the parameters; returns ``model_params``."""
        params = np.asarray(params, dtype=np.float64).reshape(-1)
        if len(params) != len(self._slots):
            raise ParameterError(f"expected {len(self._slots)} optimizing parameter values, got {len(params)}")
        for s, v in zip(self._slots, params):
            self.model_params[s.name].set_value(s.component, v)
        return self.model_params

    def get_opt_param_name_value_and_indices(self, index: int) -> Tuple[str, float, int, int]:
        """(name, value, parameter index, component index) of entry ``index`` of the vector."""
        s = self._slots[index]
        p = self.model_params[s.name]
        p_idx = list(self.model_params).index(s.name)
        return s.name, p[s.component], p_idx, s.component

    def get_opt_params_bounds(self) -> List[List[Bound]]:
        """``[[lower, upper], ...]`` per entry of the vector, ``None`` for no bound (scipy's form)."""
        out = []
        for s in self._slots:
            p = self.model_params[s.name]
            out.append([p.lower_bound[s.component], p.upper_bound[s.component]])
        return out

    def has_opt_params_bounds(self) -> bool:
        """Whether any free component has a bound."""
        return any(lo is not None or up is not None for lo, up in self.get_opt_params_bounds())

    # -- display and plain data --------------------------------------------------------------
    def echo_opt_params(self, filename: Union[str, Path, TextIO, None] = sys.stdout,
                        echo_size: bool = True) -> str:
        """The optimizing parameters in the text format ``read`` accepts; also written to
        ``filename`` (a path or an open stream; ``None`` = only return the text)."""
        s = "#" + "=" * 80 + "\n# Model parameters that are optimized.\n" + "#" + "=" * 80 + "\n\n"
        for name in self._params:
            p = self.model_params[name]
            s += f"{name} {len(p)}\n" if echo_size else f"{name}\n"
            for i in range(len(p)):
                s += f"{p[i]:24.16e} "
                if p.fixed[i]:
                    s += "fix "
                lb, ub = p.lower_bound[i], p.upper_bound[i]
                if lb is not None or ub is not None:
                    s += (f"{lb:24.16e} " if lb is not None else "None ")
                    s += (f"{ub:24.16e} " if ub is not None else "None ")
                s += "\n"
            s += "\n"
        _write_text(s, filename)
        return s

    def as_dict(self) -> Dict[str, Any]:
        """Plain data: every parameter (with fixed flags and bounds) and the names being optimized."""
        return {
            "model_params": {k: v.as_dict() for k, v in self.model_params.items()},
            "opt_params": list(self._params),
        }

    def load_dict(self, d: Dict[str, Any]) -> None:
        """Restore values, flags, bounds and the optimized names from ``as_dict()`` output.

        The parameter names and sizes must match this model's.
        """
        saved = d.get("model_params", {})
        for name, pd in saved.items():
            if name not in self.model_params:
                raise ParameterError(self._unknown(name))
            restored = Parameter.from_dict(pd)
            if len(restored) != len(self.model_params[name]):
                raise ParameterError(
                    f"parameter `{name}` has {len(self.model_params[name])} component(s), "
                    f"the saved one {len(restored)}")
        for name, pd in saved.items():
            target = self.model_params[name]
            restored = Parameter.from_dict(pd)
            target.value = restored.value
            for j in range(len(target)):
                target.set_fixed(j, restored.fixed[j])
                target.set_lower_bound(j, restored.lower_bound[j])
                target.set_upper_bound(j, restored.upper_bound[j])
        names = list(d.get("opt_params", []))
        for name in names:
            if name not in self.model_params:
                raise ParameterError(self._unknown(name))
        self._params = names
        self._rebuild_slots()


def _write_text(s: str, filename: Union[str, Path, TextIO, None]) -> None:
    if filename is None:
        return
    if isinstance(filename, (str, Path)):
        Path(filename).write_text(s)
    else:
        filename.write(s)


def _as_settings_rows(settings: Any, name: str) -> List[List[Any]]:
    if isinstance(settings, (str, bytes)) or not isinstance(settings, Iterable):
        raise ParameterError(
            f"settings of parameter `{name}` must be a list with one list per component, "
            f"e.g. [[1.0]] or [['default', 0.0, 10.0]]; got {settings!r}")
    rows = []
    for j, row in enumerate(settings):
        if isinstance(row, (str, bytes)) or not isinstance(row, Iterable):
            raise ParameterError(
                f"component {j} of parameter `{name}`: expected a list of 1-3 items, got {row!r}")
        rows.append(list(row))
    return rows


def _is_word(item: Any, word: str) -> bool:
    return isinstance(item, str) and item.strip().lower() == word


def _parse_component(name: str, j: int, row: List[Any], current: float) -> Tuple[float, bool, Bound, Bound]:
    """(value, fixed, lower, upper) of component ``j`` from one settings row."""
    where = f"component {j} of parameter `{name}`"
    if not 1 <= len(row) <= 3:
        raise ParameterError(f"{where}: expected 1 to 3 items (value, 'fix' or bounds), got {len(row)}: {row!r}")

    first = row[0]
    if _is_word(first, "default"):
        value = float(current)
    else:
        try:
            value = float(first)
        except (TypeError, ValueError):
            raise ParameterError(f"{where}: start value must be a number or 'default', got {first!r}") from None
    if not math.isfinite(value):
        raise ParameterError(f"{where}: start value must be finite, got {value}")

    fixed, lower, upper = False, None, None
    if len(row) == 2:
        if not _is_word(row[1], "fix"):
            raise ParameterError(f"{where}: second item must be 'fix' (or give both bounds), got {row[1]!r}")
        fixed = True
    elif len(row) == 3:
        if any(_is_word(item, "fix") for item in row[1:]):
            raise ParameterError(f"{where}: a fixed component cannot have bounds: {row!r}")
        try:
            lower = _bound_or_none(row[1])
            upper = _bound_or_none(row[2])
        except (TypeError, ValueError):
            raise ParameterError(f"{where}: bounds must be numbers, 'inf' or None, got {row[1:]!r}") from None
        if lower is not None and upper is not None and lower > upper:
            raise ParameterError(f"{where}: lower bound {lower} is above upper bound {upper}")
        if lower is not None and value < lower:
            raise ParameterError(f"{where}: start value {value} is below its lower bound {lower}")
        if upper is not None and value > upper:
            raise ParameterError(f"{where}: start value {value} is above its upper bound {upper}")
    return value, fixed, lower, upper


__all__ = ["Parameter", "OptimizingParameters", "OptSlot", "ParameterError"]
