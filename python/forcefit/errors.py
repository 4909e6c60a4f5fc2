"""The exceptions forcefit raises.

Every error derives from ``ForcefitError``, so ``except ForcefitError`` catches anything forcefit
raises on purpose. Errors about user input also derive from ``ValueError``; their message names
where the problem is (file, frame or line, key) and what is wrong, in the form
``"<path>: <record>: <problem>"``.
"""

from __future__ import annotations

import os
from typing import Optional, Union

PathLike = Union[str, "os.PathLike[str]"]


class ForcefitError(Exception):
    """Base class of every exception raised by forcefit."""


class InputError(ForcefitError, ValueError):
    """Invalid input: a bad argument, file, record or value.

    Args:
        problem: what is wrong, in words.
        path: the file (or directory) the input came from, if any.
        record: where in that file: ``"frame 3"``, ``"line 17"``, ``"key 'cutoff'"``.
    """

    def __init__(self, problem: str, path: Optional[PathLike] = None, record: Optional[str] = None):
        self.problem = problem
        self.path = None if path is None else os.fspath(path)
        self.record = record
        parts = [p for p in (self.path, record, problem) if p]
        super().__init__(": ".join(parts))


class FileFormatError(InputError):
    """A file that cannot be parsed as the format it claims to be."""


class DatasetError(InputError):
    """A dataset that is empty, inconsistent, or lacks a required property."""


class NotCompiledError(ForcefitError, RuntimeError):
    """A feature missing from this build (for example CUDA kernels in a CPU-only build)."""


__all__ = ["ForcefitError", "InputError", "FileFormatError", "DatasetError", "NotCompiledError"]
