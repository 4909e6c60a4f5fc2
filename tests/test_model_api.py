"""Model base class: KLIFF's parameter API, transforms, chain-rule matrix, YAML save/load."""

import io

import numpy as np
import pytest
import yaml

from forcefit.errors import FileFormatError, InputError
from forcefit.models import LogParameterTransform, Model, ParameterTransform
from toy_pair_model import ToyPair


def test_hooks_give_params_species_and_cutoff():
    m = ToyPair()
    assert list(m.model_params) == ["A", "alpha", "e0"]
    assert [p.name for p in m.model_params.values()] == ["A", "alpha", "e0"]
    assert [p.index for p in m.model_params.values()] == [0, 1, 2]
    np.testing.assert_array_equal(m.get_model_params_flat(), [10.0, 1.2, -1.0, -2.0])
    assert m.get_supported_species() == {"Si": 0, "C": 1}
    assert m.get_influence_distance() == 3.5


def test_base_class_hooks_must_be_implemented():
    with pytest.raises(NotImplementedError, match="init_model_params"):
        Model()


def test_set_opt_params_updates_model_and_echo():
    m = ToyPair()
    m.set_opt_params(A=[[5.0, 1.0, 20.0]], alpha=[["default"]], e0=[[-1.5, "fix"], ["default"]])
    np.testing.assert_array_equal(m.get_opt_params(), [5.0, 1.2, -2.0])
    assert m.get_num_opt_params() == 3
    assert m.model_params["A"][0] == 5.0 and m.model_params["e0"][0] == -1.5
    out = io.StringIO()
    text = m.echo_opt_params(out)
    assert out.getvalue() == text and "fix" in text
    text = m.echo_model_params(None)
    assert "name: A" in text and "Model: ToyPair" in text
    m.update_model_params([6.0, 1.1, -2.2])
    np.testing.assert_array_equal(m.get_model_params_flat(), [6.0, 1.1, -1.5, -2.2])
    m.set_one_opt_param("alpha", [[1.3, "fix"]])
    np.testing.assert_array_equal(m.get_opt_params(), [6.0, -2.2])


def test_log_transform_works_in_log_space():
    m = ToyPair(params_transform=LogParameterTransform(["A", "alpha"]))
    assert m.echo_model_params(None, params_space="transformed").count("name:") == 3
    m.set_opt_params(A=[[np.log(5.0), np.log(1.0), np.log(20.0)]], alpha=[["default"]])
    np.testing.assert_allclose(m.get_opt_params(), [np.log(5.0), np.log(1.2)])
    (lo, up), free = m.get_opt_params_bounds()
    assert lo == 0.0 and up == pytest.approx(np.log(20.0)) and free == [None, None]
    # model space holds the real values
    np.testing.assert_allclose(m.get_model_params_flat(), [5.0, 1.2, -1.0, -2.0])
    m.update_model_params([np.log(7.0), np.log(0.9)])
    np.testing.assert_allclose(m.get_model_params_flat(), [7.0, 0.9, -1.0, -2.0])
    # e0 is negative: it cannot be log-transformed
    with pytest.raises(InputError, match="cannot log-transform parameter `e0`"):
        ToyPair(params_transform=LogParameterTransform(["e0"]))
    with pytest.raises(InputError, match="not in the model"):
        ToyPair(params_transform=LogParameterTransform(["gamma"]))
    with pytest.raises(InputError, match="needs a model created with params_transform"):
        ToyPair().echo_model_params(None, params_space="transformed")


class SquareTransform(ParameterTransform):
    """x = theta^2 on A, only transform / inverse_transform defined (FD derivative fallback)."""

    def transform(self, params):
        params["A"].value = params["A"].value ** 2
        return params

    def inverse_transform(self, params):
        params["A"].value = np.sqrt(params["A"].value)
        return params


@pytest.mark.parametrize("transform", [None, LogParameterTransform(["A", "alpha"]), SquareTransform()])
def test_dflat_dopt_matches_finite_differences(transform):
    m = ToyPair(params_transform=transform)
    m.set_opt_params(e0=[["default"], [-2.0, "fix"]], alpha=[["default"]], A=[["default"]])
    x0 = m.get_opt_params()
    analytic = m.dflat_dopt()
    assert analytic.shape == (4, 3)
    numeric = np.zeros_like(analytic)
    for k in range(len(x0)):
        h = 1e-6 * max(1.0, abs(x0[k]))
        m.update_model_params(x0 + h * np.eye(len(x0))[k])
        up = m.get_model_params_flat()
        m.update_model_params(x0 - h * np.eye(len(x0))[k])
        down = m.get_model_params_flat()
        numeric[:, k] = (up - down) / (2 * h)
    m.update_model_params(x0)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_save_load_plain_yaml_round_trip(tmp_path):
    m = ToyPair(params_transform=LogParameterTransform(["A"]))
    m.set_opt_params(A=[[np.log(5.0), 0.0, np.log(20.0)]], e0=[[-1.1], [-2.2, "fix"]])
    m.update_model_params([np.log(8.0), -1.3])
    path = tmp_path / "sub" / "model.yaml"
    m.save(path)
    text = path.read_text()
    assert "!!python" not in text
    d = yaml.safe_load(text)
    assert d["model"] == "ToyPair" and d["opt_params"] == ["A", "e0"]

    fresh = ToyPair(params_transform=LogParameterTransform(["A"]))
    fresh.load(path)
    np.testing.assert_allclose(fresh.get_model_params_flat(), m.get_model_params_flat())
    np.testing.assert_allclose(fresh.get_opt_params(), m.get_opt_params())
    assert fresh.get_opt_params_bounds() == m.get_opt_params_bounds()
    assert fresh.model_params["e0"].fixed == [False, True]

    with pytest.raises(InputError, match="params_transform"):
        ToyPair().load(path)
    (tmp_path / "bad.yaml").write_text("{not: [valid")
    with pytest.raises(FileFormatError):
        fresh.load(tmp_path / "bad.yaml")
    (tmp_path / "other.yaml").write_text("a: 1\n")
    with pytest.raises(FileFormatError, match="not a forcefit model file"):
        fresh.load(tmp_path / "other.yaml")


def test_parameter_list_must_be_parameters():
    class Bad(ToyPair):
        def init_model_params(self):
            return {"A": 1.0}

    with pytest.raises(TypeError, match="dict of Parameter"):
        Bad()


def test_cli_model_params_prints_parameters(capsys):
    from forcefit.cli.main import main

    assert main(["model", "params", "SW"]) == 0
    out = capsys.readouterr().out
    assert "name: A" in out and "name: gamma" in out and "Model: StillingerWeber" in out
    assert main(["model", "params", "LennardJones", "--species", "Si", "C"]) == 0
    out = capsys.readouterr().out
    assert "size: 3" in out  # three species pairs


def test_cli_model_params_unknown_name_is_an_error(capsys, tmp_path, monkeypatch):
    from forcefit.cli.main import main

    monkeypatch.chdir(tmp_path)  # the KIM API, when present, writes kim.log into the working directory

    assert main(["model", "params", "NoSuchModel__MO_000000000000_000"]) == 1
    assert "NoSuchModel__MO_000000000000_000" in capsys.readouterr().err


def test_read_opt_params_and_echo_to_files(tmp_path):
    m = ToyPair(params_transform=LogParameterTransform(["A"]))
    (tmp_path / "opt.txt").write_text(f"A\n{np.log(5.0)} {np.log(1.0)} {np.log(20.0)}\ne0\n-1.2\n-2.2 fix\n")
    m.read_opt_params(tmp_path / "opt.txt")
    np.testing.assert_allclose(m.get_opt_params(), [np.log(5.0), -1.2])
    np.testing.assert_allclose(m.get_model_params_flat(), [5.0, 1.2, -1.2, -2.2])
    m.echo_model_params(tmp_path / "params.txt")
    m.echo_opt_params(tmp_path / "opt_echo.txt")
    assert "name: e0" in (tmp_path / "params.txt").read_text()
    assert "fix" in (tmp_path / "opt_echo.txt").read_text()
