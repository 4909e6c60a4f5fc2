"""Atomic writes: complete files only, permissions as a plain open() would give, nothing left behind."""

import os

import pytest

from forcefit.atomic import atomic_output, write_text_atomically


def test_written_file_has_umask_permissions(tmp_path):
    path = tmp_path / "out.txt"
    write_text_atomically(path, "data\n")
    assert path.read_text() == "data\n"
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask
    assert os.listdir(tmp_path) == ["out.txt"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_output(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]
