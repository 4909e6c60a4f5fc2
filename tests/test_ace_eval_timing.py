"""The pace_timing command."""

from __future__ import annotations

from forcefit.ace.yace_io import write_yace
from forcefit.cli import pace_timing
from test_ace_eval import random_potential


def test_pace_timing_runs_and_reports(tmp_path, capsys):
    path = tmp_path / "p.yace"
    write_yace(random_potential(seed=31), path)
    assert pace_timing.main([str(path), "-n", "1"]) == 0
    out = capsys.readouterr().out
    assert "fcc 16 atoms" in out and "bcc 32 atoms" in out
    assert "µs/atom" in out and "Al Ni" in out


def test_pace_timing_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.yace"
    bad.write_text("elements: [Al]\n")
    assert pace_timing.main([str(bad)]) == 1
    assert "pace_timing: error" in capsys.readouterr().err
