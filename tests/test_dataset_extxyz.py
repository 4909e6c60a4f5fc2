"""Extended XYZ: both dialects, round trips, comment-line parsing, and every bad-input error."""

import numpy as np
import pytest

from forcefit.dataset import Configuration, Dataset, read_extxyz, write_extxyz
from forcefit.dataset.extxyz import parse_comment_line
from forcefit.errors import FileFormatError, InputError

KLIFF_FRAME = """3
Lattice="5.0 0 0 0 5.0 0 0 0 5.0 " PBC="1 1 1" Properties=species:S:1:pos:R:3:force:R:3 Energy="-12.5" Stress="0.1 0.2 0.3 0.01 0.02 0.03"
Si 0.0 0.0 0.0  0.1 0.2 0.3
Si 1.0 1.0 1.0 -0.1 0.0 0.0
C  2.5 2.5 2.5  0.0 -0.2 -0.3
"""

ASE_FRAME = """2
Lattice="4.0 0.0 0.0 0.0 4.0 0.0 0.0 0.0 4.0" Properties=species:S:1:pos:R:3:tags:I:1:forces:R:3:mask:L:1 energy=-7.25 stress="1 6 5 6 2 4 5 4 3" config_type="bulk fcc" free_energy=-7.3 pbc="T T F"
Cu 0.0 0.0 0.0 7 0.5 0.0 0.0 T
Cu 2.0 2.0 0.0 8 -0.5 0.0 0.0 F
"""


def random_config(rng, n=5, identifier="c", stress=True, pbc=(True, True, True)):
    cell = np.diag([6.0, 7.0, 8.0]) + 0.3 * rng.standard_normal((3, 3))
    return Configuration(
        cell, rng.choice(["Si", "C"], n).tolist(), rng.random((n, 3)) @ cell, list(pbc),
        energy=float(rng.normal(-30, 3)), forces=rng.standard_normal((n, 3)),
        stress=rng.standard_normal(6) * 1e-2 if stress else None, identifier=identifier,
        metadata={"config_type": "MD \"hot\" run", "step": 12, "temperature": 300.5},
    )


def assert_same_structure(a, b):
    np.testing.assert_array_equal(a.cell, b.cell)
    np.testing.assert_array_equal(a.coords, b.coords)
    np.testing.assert_array_equal(a.PBC, b.PBC)
    assert a.species == b.species
    assert a.energy == b.energy
    np.testing.assert_array_equal(a.forces, b.forces)


def test_reads_kliff_dialect(tmp_path):
    path = tmp_path / "k.xyz"
    path.write_text(KLIFF_FRAME)
    (config,) = read_extxyz(path)
    assert config.identifier == str(path) and config.path == path
    assert config.species == ["Si", "Si", "C"]
    assert config.energy == -12.5
    np.testing.assert_array_equal(config.PBC, [True, True, True])
    np.testing.assert_array_equal(config.cell, 5.0 * np.eye(3))
    np.testing.assert_array_equal(config.forces[2], [0.0, -0.2, -0.3])
    np.testing.assert_array_equal(config.stress, [0.1, 0.2, 0.3, 0.01, 0.02, 0.03])


def test_reads_ase_dialect_with_extra_columns_and_3x3_stress(tmp_path):
    path = tmp_path / "a.xyz"
    path.write_text(ASE_FRAME + ASE_FRAME.replace("-7.25", "-7.5"))
    configs = read_extxyz(path)
    assert [c.identifier for c in configs] == [f"{path}:0", f"{path}:1"]
    assert [c.energy for c in configs] == [-7.25, -7.5]
    c = configs[0]
    np.testing.assert_array_equal(c.PBC, [True, True, False])
    np.testing.assert_array_equal(c.forces, [[0.5, 0, 0], [-0.5, 0, 0]])
    np.testing.assert_array_equal(c.coords[1], [2.0, 2.0, 0.0])
    # 3x3 row-major [[1 6 5] [6 2 4] [5 4 3]] -> Voigt xx yy zz yz xz xy
    np.testing.assert_array_equal(c.stress, [1, 2, 3, 4, 5, 6])
    assert c.metadata == {"config_type": "bulk fcc", "free_energy": -7.3}


def test_same_numbers_as_ase(tmp_path):
    ase_io = pytest.importorskip("ase.io")
    path = tmp_path / "a.xyz"
    path.write_text(ASE_FRAME)
    (ours,) = read_extxyz(path)
    (theirs,) = ase_io.read(path, ":")
    assert ours.energy == theirs.get_potential_energy()
    np.testing.assert_array_equal(ours.forces, theirs.get_forces())
    np.testing.assert_array_equal(ours.stress, theirs.get_stress(voigt=True))


def test_no_properties_infers_columns_like_kliff(tmp_path):
    path = tmp_path / "bare.xyz"
    path.write_text('2\nLattice="3 0 0 0 3 0 0 0 3" PBC="1 1 0"\nAr 0 0 0\nAr 1 1 1\n')
    (c,) = read_extxyz(path)
    assert not c.has_forces and not c.has_energy
    np.testing.assert_array_equal(c.PBC, [True, True, False])


def test_cluster_without_lattice_is_accepted_only_when_not_periodic(tmp_path):
    path = tmp_path / "cluster.xyz"
    path.write_text("2\nenergy=-1.0 pbc=\"F F F\"\nH 0 0 0\nH 0 0 0.74\n")
    (c,) = read_extxyz(path)
    np.testing.assert_array_equal(c.cell, np.zeros((3, 3)))
    assert not c.PBC.any() and c.energy == -1.0
    path.write_text("2\nenergy=-1.0\nH 0 0 0\nH 0 0 0.74\n")
    assert not read_extxyz(path)[0].PBC.any()


def test_virial_becomes_stress(tmp_path):
    path = tmp_path / "v.xyz"
    path.write_text('1\nLattice="2 0 0 0 2 0 0 0 2" virial="8 0 0 0 16 0 0 0 24" pbc="T T T"\nFe 0 0 0\n')
    (c,) = read_extxyz(path)
    np.testing.assert_allclose(c.stress, [-1, -2, -3, 0, 0, 0])  # stress = -virial / volume


@pytest.mark.parametrize(
    "line, expected",
    [
        ('a=1 b="x y" c=\'q r\'', {"a": "1", "b": "x y", "c": "q r"}),
        ('flag Lattice = "1 2 3"  s="say \\"hi\\""', {"flag": "T", "Lattice": "1 2 3", "s": 'say "hi"'}),
        ("arr={1,2,3} l=[4 5]", {"arr": "1 2 3", "l": "4 5"}),
    ],
)
def test_comment_line_tokens(line, expected):
    assert parse_comment_line(line) == expected


@pytest.mark.parametrize("dialect", ["kliff", "ase"])
def test_round_trip_both_dialects(tmp_path, dialect):
    rng = np.random.default_rng(1)
    configs = [random_config(rng, n=4 + k, identifier=f"c{k}") for k in range(3)]
    configs.append(random_config(rng, stress=False, pbc=(True, False, True)))
    path = tmp_path / f"{dialect}.xyz"
    write_extxyz(path, configs, dialect=dialect)
    back = read_extxyz(path)
    assert len(back) == len(configs)
    for a, b in zip(configs, back):
        assert_same_structure(a, b)
        assert a.has_stress == b.has_stress
        if a.has_stress:
            np.testing.assert_allclose(a.stress, b.stress, rtol=0, atol=1e-17)
    if dialect == "ase":
        assert back[0].metadata == configs[0].metadata
    else:
        assert back[0].metadata == {}
        assert "Energy=" in path.read_text() and 'PBC="1 1 1"' in path.read_text()


def test_ase_dialect_is_what_ase_reads(tmp_path):
    ase_io = pytest.importorskip("ase.io")
    config = random_config(np.random.default_rng(2))
    path = tmp_path / "for_ase.xyz"
    config.to_file(path, dialect="ase")
    (atoms,) = ase_io.read(path, ":")
    assert atoms.get_potential_energy() == config.energy
    np.testing.assert_array_equal(atoms.get_forces(), config.forces)
    np.testing.assert_allclose(atoms.get_stress(voigt=True), config.stress, atol=1e-17)
    assert atoms.info["config_type"] == config.metadata["config_type"]


def test_configuration_from_file_and_to_file(tmp_path):
    config = random_config(np.random.default_rng(3))
    config.to_file(tmp_path / "one.xyz")
    back = Configuration.from_file(tmp_path / "one.xyz")
    assert_same_structure(config, back)
    assert not list(tmp_path.glob(".*tmp")), "temporary file left behind"
    with pytest.raises(InputError, match="unsupported file_format 'cif'"):
        Configuration.from_file(tmp_path / "one.xyz", file_format="cif")


# -- bad input: each error names the file, the frame and the line -----------------------------


def write(tmp_path, text, name="bad.xyz"):
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD = KLIFF_FRAME


@pytest.mark.parametrize(
    "text, record, problem",
    [
        (GOOD + "three\n" + GOOD.split("\n", 1)[1], "frame 1, line 6", "expected the number of atoms, found 'three'"),
        (GOOD.replace("Si 1.0 1.0 1.0 -0.1 0.0 0.0", "Si 1.0 1.0 -0.1 0.0 0.0"), "frame 0, line 4", "atom line has 6 columns, expected 7"),
        (GOOD.replace('0.03"', '0.03'), "frame 0, line 2", "unterminated \" quote"),
        (GOOD.replace('Lattice="5.0 0 0 0 5.0 0 0 0 5.0 " ', ""), "frame 0, line 2", "periodic but Lattice= is missing"),
        (GOOD.replace('Lattice="5.0 0 0 0 5.0 0 0 0 5.0 "', 'Lattice="5 0 0 0 5 0 0 0"'), "frame 0, line 2", "Lattice has 8 values, expected 9"),
        (GOOD.replace("0.1 0.2 0.3\n", "nan 0.2 0.3\n", 1), "frame 0, line 3", "forces of atom 0 are not finite"),
        (GOOD.replace("2.5 2.5 2.5", "2.5 inf 2.5"), "frame 0, line 5", "positions of atom 2 are not finite"),
        (GOOD.replace("2.5 2.5 2.5", "2.5 2,5 2.5"), "frame 0, line 5", "positions value '2,5' is not a number"),
        (GOOD.replace('Energy="-12.5"', 'Energy="NaN"'), "frame 0, line 2", "energy contains a non-finite value"),
        (GOOD.replace('Stress="0.1', 'Stress="abc'), "frame 0, line 2", "is not a list of numbers"),
        (GOOD.replace('PBC="1 1 1"', 'PBC="1 1"'), "frame 0, line 2", "is not three flags"),
        (GOOD.replace("force:R:3", "force:R:2"), "frame 0, line 2", "force column must have type R and 3 columns"),
        (GOOD.replace("species:S:1:", ""), "frame 0, line 2", "has no 'species' column"),
    ],
)
def test_malformed_files(tmp_path, text, record, problem):
    path = write(tmp_path, text)
    with pytest.raises(FileFormatError) as info:
        read_extxyz(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {record}: "), message
    assert problem in message


def test_count_too_large_file_ends_early(tmp_path):
    path = write(tmp_path, GOOD.replace("3\n", "4\n", 1))
    with pytest.raises(FileFormatError, match=r"frame 0, line 5: file ends after 3 atom lines; the frame declares 4 atoms"):
        read_extxyz(path)


def test_count_too_large_runs_into_next_frame(tmp_path):
    path = write(tmp_path, GOOD.replace("3\n", "4\n", 1) + GOOD)
    with pytest.raises(FileFormatError) as info:
        read_extxyz(path)
    assert "frame 0, line 6: atom line has 1 columns, expected 7" in str(info.value)
    assert "atom count" in str(info.value)


def test_count_too_small_is_caught_at_the_leftover_line(tmp_path):
    path = write(tmp_path, GOOD.replace("3\n", "2\n", 1))
    with pytest.raises(FileFormatError, match=r"frame 1, line 5: expected the number of atoms, found 'C  2.5"):
        read_extxyz(path)


def test_empty_and_binary_files(tmp_path):
    with pytest.raises(FileFormatError, match="contains no frames"):
        read_extxyz(write(tmp_path, "\n\n"))
    binary = tmp_path / "b.xyz"
    binary.write_bytes(b"\x1f\x8b\x08\x00\xff\xfe")
    with pytest.raises(FileFormatError, match="not a text file"):
        read_extxyz(binary)


def test_dataset_names_the_bad_file_in_a_directory(tmp_path):
    write(tmp_path, GOOD, "a.xyz")
    bad = write(tmp_path, GOOD.replace("0.1 0.2 0.3\n", "0.1 0.2 inf\n", 1), "b.xyz")
    with pytest.raises(FileFormatError, match=f"{bad}: frame 0, line 3"):
        Dataset.from_path(tmp_path)


def test_reading_60k_atoms_is_fast(tmp_path):
    """Well under a second per MB: a 60,000-atom frame (about 7 MB) must read in < 1 s/MB."""
    import time

    rng = np.random.default_rng(4)
    n = 60_000
    big = Configuration(80 * np.eye(3), ["Si"] * n, rng.random((n, 3)) * 80, [True] * 3, energy=-1.0,
                        forces=rng.standard_normal((n, 3)))
    path = tmp_path / "big.xyz"
    write_extxyz(path, [big], dialect="ase")
    megabytes = path.stat().st_size / 1e6
    start = time.perf_counter()
    (back,) = read_extxyz(path)
    seconds = time.perf_counter() - start
    np.testing.assert_array_equal(back.forces, big.forces)
    assert seconds / megabytes < 1.0, f"{seconds:.2f} s for {megabytes:.1f} MB"
