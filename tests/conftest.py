"""Shared test fixtures.

The reference data (real DFT sets, python-ace/LAMMPS/KIM reference values) lives in ``../shared``
next to the project root, or wherever ``FORCEFIT_SHARED`` points. Tests that need it take the
``shared_dir`` fixture and skip, saying why, when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = PROJECT_ROOT / "examples"


def _shared_path() -> Path:
    env = os.environ.get("FORCEFIT_SHARED")
    return Path(env) if env else PROJECT_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = _shared_path()
    if not (path / "data").is_dir():
        pytest.skip(f"reference data not found at {path} (set FORCEFIT_SHARED to the shared/ folder)")
    return path


@pytest.fixture(scope="session")
def shared_data(shared_dir: Path) -> Path:
    return shared_dir / "data"


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES_DIR
