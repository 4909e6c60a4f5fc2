"""Checking a YAML mapping against a table of allowed keys: unknown keys, types, ranges.

Design: every section of a pacemaker input file is described by a ``dict`` of key name ->
``Key`` (accepted Python types, default, optional converter). ``check_mapping`` walks a mapping,
rejects unknown keys with the closest valid name (``difflib``), checks each value's type and runs
the converter. Every error is an ``InputError`` whose record is the dotted key path, so messages
read ``input.yaml: fit.loss.kapa: unknown key; did you mean 'kappa'?``.

Numbers: python-ace reads its input with a YAML 1.2 parser, where ``1e-8`` is a float. PyYAML
follows YAML 1.1 and reads ``1e-8`` (no dot) as a string, so ``load_yaml`` adds the YAML 1.2
float pattern to a private SafeLoader subclass.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Sequence, Tuple

import yaml

from ..errors import FileFormatError, InputError

MISSING = object()

_YAML12_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-8`` (YAML 1.2 style) as a float."""


_Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:float", _YAML12_FLOAT, list("-+0123456789."))


def load_yaml(path: Path) -> Any:
    """Parse a YAML file (YAML 1.2 numbers); FileFormatError with the line on a syntax error."""
    try:
        text = path.read_text()
    except OSError as err:
        raise InputError(f"cannot read the input file ({err.strerror})", path=path) from None
    try:
        return yaml.load(text, Loader=_Yaml12Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(err, "problem", None) or str(err)
        if "{{" in text:
            problem += " (the file still holds template placeholders such as {{...}})"
        raise FileFormatError(f"not valid YAML: {problem}", path=path, record=where) from None


@dataclass(frozen=True)
class Key:
    """One allowed key: accepted types, default (``MISSING``: required) and a converter.

    ``convert(value, where)`` receives the type-checked value and the ``Where`` of this key; it
    returns the value to keep or raises through ``where.error``.
    """

    types: Tuple[type, ...]
    default: Any = None
    convert: Optional[Callable[[Any, "Where"], Any]] = None
    help: str = ""


@dataclass(frozen=True)
class Where:
    """A position in the input: the file and the dotted key path (``fit.loss.kappa``)."""

    source: Optional[Path]
    keypath: str = ""

    def child(self, key: Any) -> "Where":
        """The position of ``key`` below this one (a list index reads ``ladder_step[1]``)."""
        if isinstance(key, int) and not isinstance(key, bool):
            return Where(self.source, f"{self.keypath}[{key}]")
        key = str(key)
        return Where(self.source, f"{self.keypath}.{key}" if self.keypath else key)

    def error(self, problem: str) -> InputError:
        return InputError(problem, path=self.source, record=self.keypath or None)


def type_name(types: Iterable[type]) -> str:
    names = {
        bool: "true/false",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }
    return " or ".join(names.get(t, t.__name__) for t in types)


def check_type(value: Any, types: Tuple[type, ...], where: Where) -> Any:
    """``value`` if it is one of ``types`` (ints count as floats; bools never count as numbers)."""
    if isinstance(value, bool) and bool not in types:
        raise where.error(f"expected {type_name(types)}, got {value!r}")
    if float in types and isinstance(value, int) and not isinstance(value, bool):
        return float(value) if int not in types else value
    if isinstance(value, types):
        return value
    raise where.error(f"expected {type_name(types)}, got {type(value).__name__} {value!r}")


def unknown_key_error(key: Any, valid: Iterable[str], where: Where) -> InputError:
    """``where.child(key): unknown key; did you mean 'x'?`` (or the list of valid keys)."""
    valid = sorted(valid)
    close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.6)
    if not close:  # case slips such as L1_Coeffs
        close = [v for v in valid if v.lower() == str(key).lower()]
    hint = f"did you mean {close[0]!r}?" if close else f"valid keys: {', '.join(valid)}"
    return where.child(key).error(f"unknown key; {hint}")


def check_mapping(mapping: Any, spec: Mapping[str, Key], where: Where, fill_defaults: bool = True) -> Dict[str, Any]:
    """Validate ``mapping`` against ``spec``; return a new dict (defaults filled in when asked).

    Raises:
        InputError: not a mapping, an unknown key, a missing required key, a wrong type, or a
            converter's complaint; the record is the key path.
    """
    if mapping is None:
        mapping = {}
    if not isinstance(mapping, dict):
        raise where.error(f"expected a mapping (key: value lines), got {type(mapping).__name__} {mapping!r}")
    for key in mapping:
        if key not in spec:
            raise unknown_key_error(key, spec, where)
    result: Dict[str, Any] = {}
    for name, key in spec.items():
        here = where.child(name)
        if name not in mapping or mapping[name] is None:
            if key.default is MISSING:
                raise here.error("required key is missing" + (f" ({key.help})" if key.help else ""))
            if fill_defaults:
                result[name] = key.default
            continue
        value = check_type(mapping[name], key.types, here)
        result[name] = key.convert(value, here) if key.convert else value
    return result


# -- converters used by several sections ------------------------------------------------------


def in_range(
    low: Optional[float] = None, high: Optional[float] = None, low_open: bool = False, high_open: bool = False
):
    """Converter: a number within [low, high] (open ends when asked)."""

    def convert(value, where: Where):
        ok = True
        if low is not None:
            ok &= value > low if low_open else value >= low
        if high is not None:
            ok &= value < high if high_open else value <= high
        if not ok or value != value:
            lo = "(" if low_open else "["
            hi = ")" if high_open else "]"
            interval = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
            raise where.error(f"must lie in {interval}, got {value!r}")
        return value

    return convert


def positive_int(value, where: Where):
    """Converter: an integer >= 1."""
    return in_range(1)(value, where)


def one_of(choices: Sequence[str], case_sensitive: bool = True):
    """Converter: one of ``choices`` (returned in the spelling of ``choices``)."""

    def convert(value, where: Where):
        for choice in choices:
            if value == choice or (not case_sensitive and str(value).lower() == choice.lower()):
                return choice
        close = difflib.get_close_matches(str(value), list(choices), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise where.error(f"unknown value {value!r}; expected one of {', '.join(choices)}{hint}")

    return convert


def string_list(value, where: Where) -> Tuple[str, ...]:
    """Converter: a string or a list of strings, as a tuple."""
    items = [value] if isinstance(value, str) else value
    for k, item in enumerate(items):
        if not isinstance(item, str):
            raise where.child(k).error(f"expected a string, got {item!r}")
    return tuple(items)


__all__ = [
    "MISSING",
    "Key",
    "Where",
    "check_mapping",
    "check_type",
    "in_range",
    "load_yaml",
    "one_of",
    "positive_int",
    "string_list",
    "unknown_key_error",
]
