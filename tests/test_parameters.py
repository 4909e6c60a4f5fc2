"""Parameter and OptimizingParameters: KLIFF's settings syntax, text format and errors."""

import numpy as np
import pytest

from forcefit.errors import InputError
from forcefit.models import OptimizingParameters, Parameter


def make_params():
    params = {"A": Parameter([15.0]), "B": Parameter([0.6, 0.7, 0.8]), "sigma": Parameter(2.0951)}
    for i, (k, p) in enumerate(params.items()):
        p.name, p.index = k, i
    return params


def test_parameter_value_is_float64_1d_and_shape_checked():
    p = Parameter(3)
    assert p.value.dtype == np.float64 and p.value.shape == (1,)
    p = Parameter([1, 2])
    p[1] = 5
    assert p.value.tolist() == [1.0, 5.0] and len(p) == 2 and p.size == 2
    with pytest.raises(InputError):
        Parameter([[1.0, 2.0]])
    with pytest.raises(InputError):
        p.value = [1.0, 2.0, 3.0]
    q = p.copy()
    q[0] = 9.0
    assert p[0] == 1.0


def test_set_values_fix_bounds_and_order():
    params = make_params()
    opt = OptimizingParameters(params)
    opt.set(B=[["default"], [1.0, "fix"], [0.5, 0.1, "inf"]], A=[[5.0, 1.0, 20.0]])
    # order: B (free components 0 and 2) then A
    np.testing.assert_array_equal(opt.get_opt_params(), [0.6, 0.5, 5.0])
    assert opt.get_opt_params_bounds() == [[None, None], [0.1, None], [1.0, 20.0]]
    assert opt.has_opt_params_bounds()
    assert params["B"].fixed == [False, True, False]
    assert params["B"][1] == 1.0
    slots = opt.opt_slots()
    assert [(s.name, s.component, s.flat) for s in slots] == [("B", 0, 1), ("B", 2, 3), ("A", 0, 0)]
    opt.update_opt_params([0.65, 0.55, 6.0])
    assert params["A"][0] == 6.0 and params["B"].value.tolist() == [0.65, 1.0, 0.55]
    assert opt.get_opt_param_name_value_and_indices(2) == ("A", 6.0, 0, 0)


@pytest.mark.parametrize("settings, match", [
    ([[25.0, 1.0, 20.0]], "above its upper bound 20"),
    ([[0.5, 1.0, 20.0]], "below its lower bound 1"),
    ([[5.0, 30.0, 20.0]], "lower bound 30.0 is above upper bound"),
    ([[5.0, "fix", 20.0]], "fixed component cannot have bounds"),
    ([[5.0, "fox"]], "second item must be 'fix'"),
    ([["five"]], "must be a number or 'default'"),
    ([[5.0], [6.0]], "has 1 component"),
    ([[1, 2, 3, 4]], "expected 1 to 3 items"),
    (5.0, "one list per component"),
])
def test_bad_settings_name_the_parameter(settings, match):
    opt = OptimizingParameters(make_params())
    with pytest.raises(InputError, match=match) as err:
        opt.set_one("A", settings)
    assert "`A`" in str(err.value)


def test_unknown_parameter_is_named():
    opt = OptimizingParameters(make_params())
    with pytest.raises(InputError, match="`gamma` is not a parameter of the model"):
        opt.set(A=[[5.0]], gamma=[[1.0]])
    # nothing was applied
    assert opt.get_num_opt_params() == 0
    with pytest.raises(InputError, match="no parameters are set to optimize"):
        opt.get_opt_params()


def test_bad_row_leaves_parameter_unchanged():
    params = make_params()
    opt = OptimizingParameters(params)
    with pytest.raises(InputError):
        opt.set_one("B", [[0.1], [0.2], [0.3, 1.0, 2.0]])
    assert params["B"].value.tolist() == [0.6, 0.7, 0.8]


def test_inf_and_none_mean_unbounded():
    opt = OptimizingParameters(make_params())
    opt.set_one("A", [[5.0, "INF", None]])
    assert opt.get_opt_params_bounds() == [[None, None]]
    assert not opt.has_opt_params_bounds()
    opt.set_one("A", [[5.0, "-inf", 7.0]])
    assert opt.get_opt_params_bounds() == [[None, 7.0]]


def test_read_kliff_text_format_and_echo_round_trip(tmp_path):
    text = """# parameters to fit
A
DEFAULT  1.0  20.0   # bounded
B
0.1
0.2  FIX
DEFAULT  INF  2.1
sigma
2.0951   fix
"""
    path = tmp_path / "opt.txt"
    path.write_text(text)
    params = make_params()
    opt = OptimizingParameters(params)
    opt.read(path)
    np.testing.assert_array_equal(opt.get_opt_params(), [15.0, 0.1, 0.8])
    assert opt.get_opt_params_bounds() == [[1.0, 20.0], [None, None], [None, 2.1]]
    echoed = opt.echo_opt_params(None)
    assert "A 1" in echoed and "fix" in echoed

    # the echoed text (without the size after the name) reads back to the same settings
    again = tmp_path / "again.txt"
    again.write_text(opt.echo_opt_params(None, echo_size=False))
    params2 = make_params()
    opt2 = OptimizingParameters(params2)
    opt2.read(again)
    np.testing.assert_array_equal(opt2.get_opt_params(), opt.get_opt_params())
    assert opt2.get_opt_params_bounds() == opt.get_opt_params_bounds()


def test_read_errors_name_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("A\n5.0\nC\n1.0\n")
    opt = OptimizingParameters(make_params())
    with pytest.raises(InputError, match=r"bad.txt: line 3: parameter `C`"):
        opt.read(path)
    path.write_text("A\n30.0 1.0 20.0\n")
    with pytest.raises(InputError, match=r"bad.txt: line 2: .*above its upper bound"):
        opt.read(path)
    path.write_text("B\n1.0\n")
    with pytest.raises(InputError, match=r"needs 3 component lines"):
        opt.read(path)
    with pytest.raises(InputError, match="cannot read"):
        opt.read(tmp_path / "missing.txt")
