"""pacemaker input files: real inputs load with python-ace's defaults; bad inputs fail early and clearly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forcefit.errors import FileFormatError, InputError
from forcefit.pacemaker.datafiles import check_input_files, resolve_data_files
from forcefit.pacemaker.inputfile import load_input, parse_input
from forcefit.pacemaker.schema import load_yaml

import yaml

BASE = {
    "seed": 7,
    "potential": {
        "deltaSplineBins": 0.001,
        "elements": ["Al", "Ni"],
        "embeddings": {"ALL": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1, 1, 0.5], "ndensity": 2}},
        "bonds": {
            "ALL": {"radbase": "ChebExpCos", "radparameters": [5.25], "rcut": 5.0, "dcut": 0.01},
            "BINARY": {"rcut": 5.5},
        },
        "functions": {
            "number_of_functions_per_element": 50,
            "UNARY": {"nradmax_by_orders": [15, 3, 2], "lmax_by_orders": [0, 2, 2]},
            "(Al, Ni)": {"nradmax_by_orders": [15, 2], "lmax_by_orders": [0, 2]},
        },
    },
    "data": {"filename": "data.pckl.gzip"},
    "fit": {"loss": {"kappa": 0.3}},
    "backend": {"evaluator": "tensorpot"},
}


def document(**changes):
    doc = yaml.safe_load(yaml.safe_dump(BASE))
    for path, value in changes.items():
        keys = path.split("__")
        node = doc
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
    return doc


def test_cu_input_from_python_ace_examples(shared_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for f in (shared_data / "pacemaker" / "Cu-I").iterdir():
        shutil.copy(f, tmp_path)
    inp = load_input("input.yaml")
    assert inp.seed == 42
    assert inp.cutoff == 7.0 and inp.cutoff_given == 7.0
    assert inp.potential.elements == ("Cu",)
    assert inp.fit.loss.kappa == pytest.approx(0.35)
    assert inp.fit.loss.L1_coeffs == pytest.approx(1e-8)  # YAML 1.2 number written as 1e-8
    assert inp.fit.ladder_step == (15,) and inp.fit.ladder_type == "body_order"
    assert inp.fit.optimizer == "BFGS" and inp.fit.maxiter == 1000
    assert inp.backend.evaluator == "tensorpot" and inp.backend.batch_size == 100 and inp.backend.display_step == 50
    assert inp.metadata["comment"].startswith("Example")
    assert "starttime" in inp.metadata and "user" in inp.metadata
    check_input_files(inp)


def test_python_ace_defaults():
    inp = parse_input(document(fit=None, backend=None, seed=None))
    assert inp.seed == 42 and any("seed" in n for n in inp.notes)
    fit = inp.fit
    assert (fit.optimizer, fit.maxiter, fit.fit_cycles, fit.early_stopping_patience) == ("BFGS", 100, 1, 200)
    assert fit.loss.kappa == 0.0 and fit.loss.L1_coeffs == 0.0 and fit.loss.w_stress == 0.0
    assert fit.weighting.type == "UniformWeightingPolicy"
    assert fit.ladder_step is None and not fit.ladder_scheme
    assert inp.backend.evaluator == "pyace" and inp.backend.display_step == 20 and not inp.backend.given
    assert inp.data.aug_factor == pytest.approx(1e-4) and inp.data.seed == 42


def test_potential_shape_details():
    inp = parse_input(document())
    assert inp.potential.max_rcut == 5.5 and inp.cutoff == 5.5
    assert inp.potential.number_of_functions_per_element == 50
    assert inp.potential.shape["functions"]["(Al, Ni)"]["lmax_by_orders"] == [0, 2]


def test_accepted_variants():
    inp = parse_input(
        document(
            fit={
                "loss": {"kappa": "auto"},
                "ladder_step": [10, 0.02],
                "ladder_type": "power_order",
                "optimizer": "l-bfgs-b",
                "options": {"maxcor": 100},
                "weighting": {
                    "type": "EnergyBasedWeightingPolicy",
                    "DElow": 1.0,
                    "DEup": 10.0,
                    "DFup": 50.0,
                    "wlow": 0.75,
                    "energy": "cohesive",
                    "seed": 3,
                },
            },
            data={
                "filename": ["a.pckl.gzip", "b.pckl.gzip"],
                "test_size": 0.1,
                "reference_energy": {"Al": -0.1, "Ni": -0.2, "shift": 0.05},
            },
        )
    )
    assert inp.fit.loss.kappa == "auto"
    assert inp.fit.ladder_step == (10, 0.02)
    assert inp.fit.optimizer == "L-BFGS-B" and inp.fit.options == {"maxcor": 100}
    assert inp.fit.weighting.params["DFup"] == 50.0 and inp.fit.weighting.params["energy"] == "cohesive"
    assert inp.data.filenames == ("a.pckl.gzip", "b.pckl.gzip") and inp.data.test_size == 0.1
    assert inp.data.reference_energy == {"Al": -0.1, "Ni": -0.2, "shift": 0.05}
    assert parse_input(document(data__test_size=20)).data.test_size == 20
    assert parse_input(document(data__reference_energy="auto")).data.reference_energy == "auto"
    assert parse_input(document(data__reference_energy=0)).data.reference_energy == 0.0
    assert parse_input(document(potential="pot.yaml")).potential.filename == Path("pot.yaml")
    file_mapping = {"filename": "pot.yaml", "initial_potential": ["a.yaml", "b.yaml"], "reset": True}
    section = parse_input(document(potential=file_mapping)).potential
    assert section.initial_potential == (Path("a.yaml"), Path("b.yaml")) and section.reset


def test_option_of_another_method_is_dropped_with_a_note():
    inp = parse_input(document(fit__optimizer="BFGS", fit__options={"maxcor": 100, "gtol": 1e-6}))
    assert inp.fit.options == {"gtol": 1e-6}
    assert any("fit.options.maxcor: not an option of BFGS" in note for note in inp.notes)


def test_command_line_overrides():
    inp = parse_input(document(), potential="other.yaml", data="d.pckl.gzip", backend="pyace")
    assert inp.potential.filename == Path("other.yaml") and inp.potential.shape is None
    assert inp.data.filenames == ("d.pckl.gzip",)
    assert inp.backend.evaluator == "pyace"
    inp = parse_input(document(), initial_potential="start.yaml")
    assert inp.potential.initial_potential == (Path("start.yaml"),)
    with pytest.raises(InputError, match="-b/--backend"):
        parse_input(document(), backend="jax")


BAD_INPUTS = [
    ({"fit__loss__kapa": 0.3}, r"fit\.loss\.kapa: unknown key; did you mean 'kappa'\?"),
    ({"fitt": {}}, r"fitt: unknown key; did you mean 'fit'\?"),
    ({"data__filenme": "x"}, r"data\.filenme: unknown key; did you mean 'filename'\?"),
    ({"fit__loss__kappa": 1.5}, r"fit\.loss\.kappa: must lie in \[0, 1\]"),
    ({"fit__loss__kappa": "big"}, r"fit\.loss\.kappa: expected a number in \[0, 1\] or 'auto'"),
    ({"fit__loss__L1_coeffs": -1}, r"fit\.loss\.L1_coeffs: must lie in"),
    ({"fit__maxiter": "many"}, r"fit\.maxiter: expected an integer"),
    ({"fit__maxiter": 10.5}, r"fit\.maxiter: expected an integer"),
    ({"fit__optimizer": "BFGZ"}, r"fit\.optimizer: unknown value 'BFGZ'.*did you mean 'BFGS'"),
    ({"fit__optimizer": "trust-ncg"}, r"fit\.optimizer: trust-ncg needs the Hessian"),
    ({"fit__options": {"maxiter": 3}}, r"fit\.options\.maxiter: set fit\.maxiter"),
    (
        {"fit__optimizer": "L-BFGS-B", "fit__options": {"maxcorr": 3}},
        r"fit\.options\.maxcorr: unknown key; did you mean 'maxcor'",
    ),
    ({"fit__options": {"gtoll": 1e-3}}, r"fit\.options\.gtoll: unknown key; did you mean 'gtol'"),
    ({"fit__ladder_step": 1.5}, r"fit\.ladder_step: a fraction must lie in \(0, 1\)"),
    ({"fit__ladder_step": [10, -2]}, r"fit\.ladder_step\[1\]: a number of functions must be >= 1"),
    ({"fit__ladder_type": "bodyorder"}, r"fit\.ladder_type: unknown value.*did you mean 'body_order'"),
    ({"fit__repulsion": "manual"}, r"fit\.repulsion: unknown value"),
    ({"fit__fit_cycles": 0}, r"fit\.fit_cycles: must lie in"),
    ({"fit__callbacks": ["no_such_module_xyz.cb"]}, r"fit\.callbacks\[0\]: .*module .no_such_module_xyz. not found"),
    ({"fit__weighting": {"type": "EnergyBased"}}, r"fit\.weighting\.type: unknown value.*EnergyBasedWeightingPolicy"),
    ({"fit__weighting": {"DElow": 1}}, r"fit\.weighting\.type: required key is missing"),
    (
        {"fit__weighting": {"type": "EnergyBasedWeightingPolicy", "DEupp": 3}},
        r"fit\.weighting\.DEupp: unknown key; did you mean 'DEup'",
    ),
    (
        {"fit__weighting": {"type": "EnergyBasedWeightingPolicy", "energy": "hull"}},
        r"fit\.weighting\.energy: unknown value",
    ),
    (
        {"fit__weighting": {"type": "EnergyBasedWeightingPolicy", "DElow": 5, "DEup": 2}},
        r"DEup \(2\) must exceed DElow",
    ),
    (
        {"fit__weighting": {"type": "EnergyBasedWeightingPolicy", "nfit": 10, "n_lower": 3, "n_upper": 3}},
        r"nfit, or n_lower",
    ),
    ({"fit__weighting": {"type": "ExternalWeightingPolicy"}}, r"fit\.weighting\.filename: required key"),
    ({"data__test_size": 0}, r"data\.test_size: must be a fraction"),
    ({"data__test_size": 2.5}, r"data\.test_size: .*must be whole"),
    ({"data__test_filename": "t.pckl.gzip", "data__test_size": 0.1}, r"data: give either test_filename or test_size"),
    ({"data__reference_energy": "VASP_PBE"}, r"data\.reference_energy: 'VASP_PBE' is not supported"),
    ({"data__reference_energy": {"Al": "x"}}, r"data\.reference_energy\.Al: expected"),
    ({"data__ignore_weights": "yes"}, r"data\.ignore_weights: expected true/false"),
    ({"data": None}, r"data: section is missing"),
    ({"data__filename": None}, r"data\.filename: required key is missing"),
    ({"potential": None}, r"potential: section is missing"),
    ({"potential__elements": None}, r"potential: a basis shape needs elements"),
    ({"potential__elements": ["Al", "Nix"]}, r"potential\.elements\[1\]: not a chemical symbol"),
    ({"potential__embedings": {}}, r"potential\.embedings: unknown key; did you mean 'embeddings'"),
    ({"potential__bonds__ALL__rcutt": 5}, r"potential\.bonds\.ALL\.rcutt: unknown key; did you mean 'rcut'"),
    ({"potential__bonds__ALL__rcut": -1}, r"potential\.bonds\.ALL\.rcut: must lie in"),
    (
        {"potential__functions__UNARI": {"nradmax_by_orders": [1]}},
        r"potential\.functions\.UNARI: not a block name.*did you mean 'UNARY'",
    ),
    ({"potential__bonds__AlCu": {"rcut": 5}}, r"potential\.bonds\.AlCu: element\(s\) Cu not in potential\.elements"),
    (
        {"potential__functions__UNARY__lmax_by_orders": [0, 2]},
        r"potential\.functions\.UNARY: nradmax_by_orders and lmax_by_orders must have the same length",
    ),
    ({"potential__embeddings__ALL__ndensity": 3}, r"fs_parameters: needs 2 \* ndensity = 6 numbers"),
    (
        {"fit__trainable_parameters": "UNARI"},
        r"fit\.trainable_parameters: 'UNARI' is neither a block keyword.*did you mean 'UNARY'",
    ),
    (
        {"fit__trainable_parameters": ["AlCu"]},
        r"fit\.trainable_parameters\[0\]: element\(s\) Cu not in potential\.elements",
    ),
    ({"fit__trainable_parameters": {"ALL": "funcs"}}, r"fit\.trainable_parameters\.ALL: expected func, radial or all"),
    ({"backend__evaluator": "tensorflow"}, r"backend\.evaluator: unknown value 'tensorflow'.*tensorpot"),
    ({"backend__batch_size": 0}, r"backend\.batch_size: must lie in"),
    ({"backend__gpu_config": {"gpu_index": 0}}, r"backend\.gpu_config\.gpu_index: unknown key; did you mean 'gpu_ind'"),
    ({"seed": "abc"}, r"seed: expected an integer"),
    ({"cutoff": -3}, r"cutoff: must lie in"),
    ({"metadata": ["a"]}, r"metadata: expected a mapping"),
]


@pytest.mark.parametrize("changes, message", BAD_INPUTS, ids=[m[:40] for _, m in BAD_INPUTS])
def test_bad_inputs_name_file_and_key(tmp_path, changes, message):
    path = tmp_path / "input.yaml"
    path.write_text(yaml.safe_dump(document(**changes)))
    with pytest.raises(InputError, match=message) as info:
        load_input(path)
    assert str(info.value).startswith(str(path) + ": ")


def test_yaml_syntax_error_names_line(tmp_path):
    path = tmp_path / "input.yaml"
    path.write_text("seed: 1\nfit: {loss: {kappa: 0.3}\ndata: x\n")
    with pytest.raises(FileFormatError, match=r"input\.yaml: line \d+: not valid YAML"):
        load_input(path)


def test_template_placeholders_are_explained(shared_data, tmp_path):
    path = tmp_path / "input.yaml"
    shutil.copy(shared_data / "pacemaker" / "input_template.yaml", path)
    with pytest.raises(FileFormatError, match="template placeholders"):
        load_input(path)


def test_missing_input_file(tmp_path):
    with pytest.raises(InputError, match="input file not found"):
        load_input(tmp_path / "nope.yaml")


def test_yaml12_numbers(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 1e-8\nb: 5E+3\nc: 1.0e-3\nd: 12\ne: abc\n")
    assert load_yaml(path) == {"a": 1e-8, "b": 5e3, "c": 1e-3, "d": 12, "e": "abc"}


def test_data_file_search(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "data.pckl.gzip").write_bytes(b"x")
    inp = parse_input(document(), source=tmp_path / "sub" / "input.yaml")
    monkeypatch.delenv("PACEMAKERDATAPATH", raising=False)
    with pytest.raises(InputError, match=r"data\.filename: data file 'data\.pckl\.gzip' not found; searched"):
        resolve_data_files(inp)
    monkeypatch.setenv("PACEMAKERDATAPATH", str(tmp_path / "store"))
    assert resolve_data_files(inp)[0] == (tmp_path / "store" / "data.pckl.gzip",)
    monkeypatch.delenv("PACEMAKERDATAPATH")
    inp = parse_input(document(data__datapath=str(tmp_path / "store")), source=tmp_path / "sub" / "input.yaml")
    assert resolve_data_files(inp)[0] == (tmp_path / "store" / "data.pckl.gzip",)
    # next to the input file
    (tmp_path / "sub" / "data.pckl.gzip").write_bytes(b"x")
    inp = parse_input(document(), source=tmp_path / "sub" / "input.yaml")
    assert resolve_data_files(inp)[0] == (tmp_path / "sub" / "data.pckl.gzip",)


def test_missing_potential_and_weights_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.pckl.gzip").write_bytes(b"x")
    with pytest.raises(InputError, match=r"potential\.filename: potential file 'pot\.yaml' not found"):
        check_input_files(parse_input(document(potential="pot.yaml")))
    with pytest.raises(InputError, match=r"potential\.initial_potential: initial potential file"):
        check_input_files(parse_input(document(potential__initial_potential="start.yaml")))
    weighting = {"type": "ExternalWeightingPolicy", "filename": "w.pckl.gzip"}
    with pytest.raises(InputError, match=r"fit\.weighting\.filename: weights file"):
        check_input_files(parse_input(document(fit__weighting=weighting)))


def test_reference_energy_taken_from_continued_potential(tmp_path, monkeypatch):
    from forcefit.pacemaker.datafiles import with_reference_energy_from_potential

    monkeypatch.chdir(tmp_path)
    (tmp_path / "pot.yaml").write_text('metadata: {reference_energy: \'{"Al": -0.5, "shift": 0.1}\'}\nelements: [Al]\n')
    inp = with_reference_energy_from_potential(parse_input(document(potential="pot.yaml")))
    assert inp.data.reference_energy == {"Al": -0.5, "shift": 0.1}
    assert any("potential metadata" in note for note in inp.notes)
    given = with_reference_energy_from_potential(parse_input(document(potential="pot.yaml", data__reference_energy=0)))
    assert given.data.reference_energy == 0.0  # the input file wins
    (tmp_path / "pot.yaml").write_text("metadata: {reference_energy: 'garbage'}\n")
    with pytest.raises(InputError, match=r"pot\.yaml: metadata\.reference_energy: not a JSON mapping"):
        with_reference_energy_from_potential(parse_input(document(potential="pot.yaml")))


def test_trainable_parameters_forms():
    for value in (
        "func",
        "radial",
        "ALL",
        ["UNARY", "AlNi"],
        {"BINARY": "func", "Al": ["func", "radial"], "ALL": "all"},
    ):
        assert parse_input(document(fit__trainable_parameters=value)).fit.trainable_parameters == value


def test_legacy_data_keys():
    with pytest.raises(InputError, match=r"data\.config: python-ace's structure-database \(structdb\)"):
        parse_input(document(data__config={"element": "Al"}))
    inp = parse_input(document(data__cache_ref_df=True))
    assert any("data.cache_ref_df: obsolete" in note for note in inp.notes)
    assert parse_input(document(data__seed=5)).data.seed == 5
    assert parse_input(document()).data.seed == 7  # the top-level seed


def test_single_species_shape_of_pacemaker_1():
    legacy = {
        "element": "Al",
        "deltaSplineBins": 0.001,
        "npot": "FinnisSinclair",
        "fs_parameters": [1, 1],
        "ndensity": 1,
        "rcut": 6.2,
        "dcut": 0.01,
        "radbase": "ChebExpCos",
        "radparameters": [3.0],
        "nradmax": [5, 2],
        "lmax": [0, 1],
        "func_coefs_init": "zero",
    }
    section = parse_input(document(potential=legacy)).potential
    assert section.elements == ("Al",) and section.max_rcut == 6.2
    assert section.shape["functions"] == {
        "Al": {"nradmax_by_orders": [5, 2], "lmax_by_orders": [0, 1], "coefs_init": "zero"}
    }
    assert section.shape["embeddings"]["Al"]["ndensity"] == 1
    with pytest.raises(InputError, match=r"potential\.rcutt: unknown key; did you mean 'rcut'"):
        parse_input(document(potential=dict(legacy, rcutt=5)))


def test_every_element_and_bond_is_covered():
    with pytest.raises(
        InputError, match=r"potential\.embeddings: no block \(ALL, UNARY or Ni\) sets the embedding of Ni"
    ):
        parse_input(document(potential__embeddings={"Al": {"ndensity": 1, "fs_parameters": [1, 1]}}))
    bonds = {"UNARY": {"rcut": 5.0}}
    with pytest.raises(InputError, match=r"potential\.bonds: no block \(ALL, BINARY or AlNi\) sets rcut .* Al-Ni bond"):
        parse_input(document(potential__bonds=bonds))
    bonds = {"UNARY": {"rcut": 5.0}, "NiAl": {"rcut": 6.5}}
    assert parse_input(document(potential__bonds=bonds)).potential.max_rcut == 6.5
    bonds = {"ALL": {"rcut": 5.0}, "BINARY": {"rcut": 4.0}}
    assert parse_input(document(potential__bonds=bonds)).potential.max_rcut == 5.0
    single = document(
        potential__elements=["Al"],
        potential__functions={"ALL": {"nradmax_by_orders": [5], "lmax_by_orders": [0]}},
        potential__bonds={"ALL": {"rcut": 5.0}, "BINARY": {"rcut": 9.0}},
    )
    assert parse_input(single).potential.max_rcut == 5.0  # no Al-X bond with another element
