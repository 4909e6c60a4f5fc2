"""The pace_yaml2yace and pace_info command-line tools."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from forcefit.ace.yace_io import read_yace
from forcefit.cli import pace_yaml2yace


def _reference(shared_dir, name):
    path = shared_dir / "reference" / "pace" / "potentials" / name
    if not path.exists():
        pytest.skip(f"{path} missing")
    return path


def test_yaml2yace_default_output_name(shared_dir, tmp_path, capsys):
    src = tmp_path / "yaml_dir" / "pot.yaml"
    src.parent.mkdir()
    shutil.copy(_reference(shared_dir, "Al-Ni_opt_all.yaml"), src)
    assert pace_yaml2yace.main([str(src)]) == 0
    out = capsys.readouterr().out
    assert f"Loading B-basis from '{src}'" in out and "Converting to Ctilde-basis" in out
    produced = tmp_path / "yaml_dir" / "pot.yace"  # only the suffix changes
    assert f"Saving Ctilde-basis to '{produced}'" in out
    ref = read_yace(_reference(shared_dir, "Al-Ni_opt_all.yace"))
    got = read_yace(produced)
    assert got.elements == ref.elements
    for mu in ref.functions:
        for a, b in zip(got.functions[mu], ref.functions[mu]):
            np.testing.assert_array_equal(a.ms_combs, b.ms_combs)
            np.testing.assert_allclose(a.ctildes, b.ctildes, rtol=1e-13)


def test_yaml2yace_explicit_output_and_errors(shared_dir, tmp_path, capsys):
    out = tmp_path / "x.yace"
    assert pace_yaml2yace.main([str(_reference(shared_dir, "Cu-III.yaml")), "-o", str(out)]) == 0
    assert sum(len(f) for f in read_yace(out).functions.values()) == 62
    bad = tmp_path / "bad.yaml"
    bad.write_text("global: {DeltaSplineBins: 0.001}\nspecies: [{speciesblock: Al}]\n")
    assert pace_yaml2yace.main([str(bad)]) == 1
    err = capsys.readouterr().err
    assert "pace_yaml2yace: error:" in err and "bad.yaml" in err
    assert pace_yaml2yace.main([str(bad), str(bad), "-o", str(out)]) == 2
    assert pace_yaml2yace.output_name("a.yml") == "a.yace" and pace_yaml2yace.output_name("a.txt") == "a.txt.yace"
