"""``forcefit dataset count|info``: in-process with capsys, and once as ``python -m forcefit``."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import forcefit
from forcefit.cli.main import main
from forcefit.dataset import Configuration, Dataset


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def small_tree(root: Path):
    config = Configuration(4 * np.eye(3), ["Ar"], [[0, 0, 0]], [True] * 3, energy=-0.1, forces=[[0, 0, 0]])
    (root / "a" / "deep").mkdir(parents=True)
    (root / "b").mkdir()
    for path in ("top.xyz", "a/one.xyz", "a/deep/two.xyz", "a/deep/three.xyz", "b/four.extxyz"):
        config.to_file(root / path)
    (root / "a" / "notes.txt").write_text("not counted")


def test_count_tree(tmp_path, capsys):
    small_tree(tmp_path)
    status, out, _ = run(capsys, "dataset", "count", str(tmp_path))
    assert status == 0
    lines = out.splitlines()
    assert lines[:4] == [f"{tmp_path} (1/5)", "├── a (1/3)", "│   └── deep (2/2)", "└── b (1/1)"]
    assert "total: 5 files" in out


def test_count_single_file(tmp_path, capsys):
    small_tree(tmp_path)
    status, out, _ = run(capsys, "dataset", "count", str(tmp_path / "top.xyz"))
    assert status == 0 and out.strip() == f"{tmp_path / 'top.xyz'}: 1 configuration, 1 atoms"


def test_info_example(examples_dir, capsys):
    path = examples_dir / "data" / "mlearn_Cu" / "Cu_test.xyz"
    status, out, err = run(capsys, "dataset", "info", str(path))
    assert status == 0 and err == ""
    fields = {line[:19].strip(): line[19:].strip() for line in out.splitlines()[1:] if line[:19].strip()}
    assert out.splitlines()[0] == f"{path}  (extended XYZ, 1 file)"
    assert fields["configurations"] == "31"
    assert fields["atoms"].startswith("3,178 (")
    assert fields["species"] == "Cu: 3,178 atoms in 31 configurations"
    assert fields["properties"] == "energy 31/31, forces 31/31, stress 31/31"
    assert fields["periodicity"] == "PBC T T T: 31"
    configs = Dataset.from_path(path)
    per_atom = [c.energy / c.get_num_atoms() for c in configs]
    assert fields["energy per atom"] == f"{min(per_atom):.4f} to {max(per_atom):.4f} eV/atom"
    assert fields["config types"].startswith("AIMD-NVT: ")


def test_info_pacemaker_detected_and_forced(tmp_path, capsys):
    rng = np.random.default_rng(0)
    configs = [
        Configuration(3 * np.eye(3), ["Al", "Ni"], rng.random((2, 3)), [True] * 3, energy=-9.0, forces=np.zeros((2, 3)),
                      metadata={"energy_corrected": -1.0})
    ]
    Dataset(configs).to_pacemaker(tmp_path / "df.pckl.gzip")
    for extra in ([], ["--format", "pacemaker"]):
        status, out, _ = run(capsys, "dataset", "info", str(tmp_path / "df.pckl.gzip"), *extra)
        assert status == 0
        assert "(pacemaker DataFrame, 1 file)" in out
        assert "energy_corrected 1/1" in out and "Al: 1 atoms in 1 configurations" in out


def test_errors_go_to_stderr_with_status_1(tmp_path, capsys):
    status, out, err = run(capsys, "dataset", "info", str(tmp_path / "missing.xyz"))
    assert status == 1 and out == ""
    assert err.strip() == f"forcefit: error: {tmp_path / 'missing.xyz'}: no such file or directory"
    bad = tmp_path / "bad.xyz"
    bad.write_text('2\nLattice="1 0 0 0 1 0 0 0 1"\nH 0 0 0\n')
    status, _, err = run(capsys, "dataset", "info", str(bad))
    assert status == 1 and f"{bad}: frame 0, line 3: file ends after 1 atom lines" in err
    status, _, err = run(capsys, "dataset", "count", str(tmp_path / "nowhere"))
    assert status == 1 and "no such file or directory" in err


@pytest.mark.parametrize("argv", [["dataset", "--help"], ["dataset", "info", "--help"], ["dataset", "count", "--help"]])
def test_help(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    assert "usage: forcefit dataset" in capsys.readouterr().out


def test_group_without_subcommand_prints_help(capsys):
    status, out, _ = run(capsys, "dataset")
    assert status == 2 and "count" in out and "info" in out


def test_python_dash_m(examples_dir):
    env = dict(os.environ, PYTHONPATH=str(Path(forcefit.__file__).parents[1]))
    path = examples_dir / "data" / "mlearn_Cu" / "Cu_test.xyz"
    result = subprocess.run(
        [sys.executable, "-m", "forcefit", "dataset", "info", str(path)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "configurations   31" in result.stdout and "Cu: 3,178 atoms" in result.stdout
