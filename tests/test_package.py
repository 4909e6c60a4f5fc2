"""The package imports, reports its build, and maps core errors to forcefit.errors."""

import forcefit
from forcefit import _core, errors


def test_version_matches_core():
    assert forcefit.__version__ == _core.core_version()


def test_build_info_is_consistent():
    assert isinstance(_core.has_openmp(), bool)
    assert isinstance(_core.has_cuda(), bool)
    assert _core.default_num_threads() >= 1
    if not _core.has_openmp():
        assert _core.default_num_threads() == 1


def test_error_hierarchy():
    err = errors.FileFormatError("forces block has 3 rows, expected 4", path="a.xyz", record="frame 2")
    assert isinstance(err, errors.InputError)
    assert isinstance(err, errors.ForcefitError)
    assert isinstance(err, ValueError)
    assert str(err) == "a.xyz: frame 2: forces block has 3 rows, expected 4"
    assert err.path == "a.xyz" and err.record == "frame 2"
