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


def test_pace_info_output(shared_dir, capsys):
    from forcefit.cli import pace_info

    path = _reference(shared_dir, "Al-Ni_opt_all.yaml")
    assert pace_info.main([str(path)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Available element(s): Al Ni"
    assert "Total number of functions:  17" in lines
    assert "Maximum cutoff:  8.75 Ang" in lines
    assert "Al -Ni  ChebExpCos  8.710    0.000    0.000   550.000   10.000  density " in lines
    # Al: 3 rank-1 (two Al-Al, one Al-Ni), 2 of rank 2, 3 and 4
    i = lines.index("Al")
    assert lines[i + 1] == "order  :\t1\t2\t3\t4\t"
    assert lines[i + 2] == "nradmax:\t2\t2\t1\t1\t"
    assert lines[i + 4] == "nfuncs :\t3\t2\t2\t2\tsum= 9"
    # radial: Al-Al 1*3*2 + Al-Ni 2*2*1 + Ni-Ni 1*3*1 = 13; functions: 9 (Al, 1 density) + 8*2 (Ni) = 25
    assert lines[-1] == "Number of parameters: 38 (radial coefficients 13, basis-function coefficients 25)"


def test_pace_info_rank1_only_and_errors(shared_dir, tmp_path, capsys):
    from forcefit.cli import pace_info

    assert pace_info.main([str(_reference(shared_dir, "ZBL_rep.yaml"))]) == 0
    out = capsys.readouterr().out
    assert " H - H   SBessel    5.000    3.000    1.000    1.000    1.000     zbl   " in out.splitlines()
    assert "nfuncs :\t5\tsum= 5" in out.splitlines()
    assert pace_info.main([str(tmp_path / "missing.yaml")]) == 1
    assert "missing.yaml" in capsys.readouterr().err


def test_pace_info_matches_python_ace_layout(shared_dir):
    pytest.importorskip("pyace", reason="python-ace not installed")
    pyace_info = shutil.which("pace_info")
    if pyace_info is None or "forcefit" in open(pyace_info).read():
        pytest.skip("python-ace's pace_info not installed")
    import subprocess
    import sys

    path = _reference(shared_dir, "DFT10B-AgCu.yaml")
    ref = subprocess.run([pyace_info, str(path)], capture_output=True, text=True, check=True).stdout
    mine = subprocess.run([sys.executable, "-m", "forcefit.cli.pace_info", str(path)], capture_output=True,
                          text=True, check=True).stdout
    assert mine.splitlines()[:-1] == ref.splitlines()  # ours adds the number of parameters
