"""Fuzzing the ACE potential-file readers: no input may crash the process or escape as a non-forcefit error.

Readers: :func:`forcefit.ace.yaml_io.read_bbasis_yaml` (B-basis ``.yaml``), :func:`forcefit.ace.yace_io.read_yace`,
:func:`forcefit.ace.ace_io.read_ace`, and the C++ ``.yace`` reader of the LAMMPS plugin and the KIM driver
(``_core.AceCtildeModel.from_yace``).

Seeds are small valid files: a B-basis potential built here by :func:`construct_bbasis` and written by
:func:`write_bbasis_yaml`, its Ctilde form written by :func:`write_yace`, and the ``.ace`` text of
tests/test_ace_io_ctilde.py (forcefit writes no ``.ace``).  Hypothesis mutates them (byte flips,
truncation, deleted/duplicated/swapped lines, numbers replaced by huge, tiny, NaN, negative or
non-numeric values, list items removed or added, deep brackets, inserted garbage) or replaces them by
an empty file or binary garbage.  Each read must either succeed -- and then evaluating a three-atom
cluster gives finite numbers or raises a ForcefitError -- or raise a ForcefitError whose message names
the file.  The C++ reader runs in a subprocess (tests/ace_reader_fuzz_runner.py) so that a crash is a
test failure naming the file, not the end of pytest.

Runs are derandomized (reproducible in CI); the default run takes a few seconds, the ``slow`` one more
examples.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from forcefit.ace.ace_io import read_ace
from forcefit.ace.construct import construct_bbasis
from forcefit.ace.convert import bbasis_to_ctilde
from forcefit.ace.evaluator import ACEEvaluator
from forcefit.ace.yace_io import format_yace, read_yace
from forcefit.ace.yaml_io import format_bbasis_yaml, read_bbasis_yaml
from forcefit.errors import ForcefitError

HERE = Path(__file__).resolve().parent

SHAPE = {
    "elements": ["Al", "Ni"],
    "embeddings": {"ALL": {"npot": "FinnisSinclairShiftedScaled", "fs_parameters": [1, 1, 1, 0.5], "ndensity": 2},
                   "Ni": {"npot": "FinnisSinclair", "fs_parameters": [1, 0.8], "ndensity": 1}},
    "bonds": {"ALL": {"radbase": "ChebExpCos", "radparameters": [5.25], "rcut": 4.0, "dcut": 0.01,
                      "core-repulsion": [10.0, 2.0]},
              "BINARY": {"radbase": "SBessel", "rcut": 4.2, "r_in": 1.0, "delta_in": 0.3,
                         "inner_cutoff_type": "distance"}},
    "functions": {"UNARY": {"nradmax_by_orders": [3, 1, 1], "lmax_by_orders": [0, 1, 1], "coefs_init": "random"},
                  "BINARY": {"nradmax_by_orders": [2, 1], "lmax_by_orders": [0, 1], "coefs_init": "random"}},
}


def _seeds():
    bbasis = construct_bbasis(SHAPE, np.random.default_rng(3))
    from test_ace_io_ctilde import SMALL_ACE

    return {".yaml": format_bbasis_yaml(bbasis).encode(), ".yace": format_yace(bbasis_to_ctilde(bbasis)).encode(),
            ".ace": SMALL_ACE.encode()}


SEEDS = _seeds()

NASTY = ["1e400", "-1e400", "nan", ".nan", ".NaN", ".inf", "-.inf", "inf", "-1", "-3", "0", "-0", "1e308",
         "-1e308", "1e-320", "1e-300", "123456789", "99999999999999999999999", "2147483648", "-2147483649",
         "4294967296", "1e9", "abc", "[]", "{}", "[1, [2]]", "''", '""', "null", "~", "true", "0x1F", "1_000",
         "0.5", "2.5", "1000000", "!!binary aGVsbG8=", "&a 1", "*a", "?", ":", "- 1", "#", "'", '"', "\\",
         "\t", "[" * 300 + "]" * 300, "{a: " * 100 + "1" + "}" * 100]
NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
FLOW_LIST = re.compile(rb"\[([^\[\]\n]*)\]")


@st.composite
def mutation(draw, data: bytes) -> bytes:
    """One mutation of ``data`` (bytes)."""
    kind = draw(st.sampled_from(["flip", "truncate", "delete_line", "duplicate_line", "swap_lines", "number",
                                 "number", "number", "list_item", "deep", "insert"]))
    n = len(data)
    if n == 0:
        return draw(st.binary(max_size=64))
    if kind == "flip":
        pos = draw(st.integers(0, n - 1))
        return data[:pos] + bytes([data[pos] ^ (1 << draw(st.integers(0, 7)))]) + data[pos + 1:]
    if kind == "truncate":
        return data[:draw(st.integers(0, n - 1))]
    lines = data.split(b"\n")
    if kind in ("delete_line", "duplicate_line", "swap_lines"):
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "delete_line":
            del lines[i]
        elif kind == "duplicate_line":
            lines.insert(i, lines[i])
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    if kind == "number":
        spans = [m.span() for m in NUMBER.finditer(data)]
        if not spans:
            return data
        a, b = spans[draw(st.integers(0, len(spans) - 1))]
        new = draw(st.one_of(st.sampled_from(NASTY).map(str.encode),
                             st.integers(-2**70, 2**70).map(lambda v: str(v).encode()),
                             st.floats(allow_nan=True, allow_infinity=True).map(lambda v: repr(v).encode())))
        return data[:a] + new + data[b:]
    if kind == "list_item":
        spans = [m.span(1) for m in FLOW_LIST.finditer(data)]
        if not spans:
            return data
        a, b = spans[draw(st.integers(0, len(spans) - 1))]
        items = data[a:b].split(b",")
        if draw(st.booleans()) and len(items) > 0:
            del items[draw(st.integers(0, len(items) - 1))]
        else:
            items.insert(draw(st.integers(0, len(items))), draw(st.sampled_from([b" 1", b" -1", b" 0.5", b" 7"])))
        return data[:a] + b",".join(items) + data[b:]
    pos = draw(st.integers(0, n))
    if kind == "deep":
        depth = draw(st.sampled_from([50, 1000, 100000]))
        opener = draw(st.sampled_from([b"[", b"{", b"- "]))
        closer = {b"[": b"]", b"{": b"}", b"- ": b""}[opener]
        return data[:pos] + opener * depth + closer * depth * draw(st.integers(0, 1)) + data[pos:]
    return data[:pos] + draw(st.binary(min_size=1, max_size=32)) + data[pos:]


@st.composite
def mutant(draw, suffix: str) -> bytes:
    """A mutated seed file, an empty file or binary garbage."""
    choice = draw(st.integers(0, 19))
    if choice == 0:
        return b""
    if choice == 1:
        return draw(st.binary(max_size=4096))
    data = SEEDS[suffix]
    for _ in range(draw(st.integers(1, 3))):
        data = draw(mutation(data))
    return data


def _read(suffix: str, path: Path):
    if suffix == ".yaml":
        return bbasis_to_ctilde(read_bbasis_yaml(path), path=path)
    if suffix == ".yace":
        return read_yace(path)
    return read_ace(path)


def _check_python_reader(suffix: str, data: bytes, tmp_dir: Path) -> None:
    path = tmp_dir / f"fuzzed{suffix}"
    path.write_bytes(data)
    try:
        pot = _read(suffix, path)
    except ForcefitError as exc:
        assert path.name in str(exc), f"error does not name the file: {exc}"
        return
    try:
        ev = ACEEvaluator(pot)
        symbols = [pot.elements[k % len(pot.elements)] for k in range(3)]
        res = ev.compute(symbols, [[0, 0, 0], [2.3, 0.1, 0], [0.9, 1.9, 0.4]])
    except ForcefitError:
        return
    assert np.isfinite(res.energy) and np.all(np.isfinite(res.forces)), "non-finite energy or forces"


def _python_reader_test(suffix: str, examples: int):
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(data=mutant(suffix))
    def run(tmp_path_factory, data):
        _check_python_reader(suffix, data, tmp_path_factory.mktemp("fuzz", numbered=True))

    return run


@pytest.mark.parametrize("suffix", [".yaml", ".yace", ".ace"])
def test_seed_files_are_valid(suffix, tmp_path):
    path = tmp_path / f"seed{suffix}"
    path.write_bytes(SEEDS[suffix])
    pot = _read(suffix, path)
    res = ACEEvaluator(pot).compute([pot.elements[0]] * 3, [[0, 0, 0], [2.3, 0.1, 0], [0.9, 1.9, 0.4]])
    assert np.isfinite(res.energy) and res.energy != 0.0


test_fuzz_bbasis_yaml_reader = _python_reader_test(".yaml", 150)
test_fuzz_yace_reader = _python_reader_test(".yace", 150)
test_fuzz_ace_reader = _python_reader_test(".ace", 150)
test_fuzz_bbasis_yaml_reader_long = pytest.mark.slow(_python_reader_test(".yaml", 2000))
test_fuzz_yace_reader_long = pytest.mark.slow(_python_reader_test(".yace", 2000))
test_fuzz_ace_reader_long = pytest.mark.slow(_python_reader_test(".ace", 2000))


# ---- the C++ reader, in a subprocess


def _run_cpp_reader(files, tmp_dir: Path):
    paths = []
    for k, data in enumerate(files):
        p = tmp_dir / f"fuzzed{k:04d}.yace"
        p.write_bytes(data)
        paths.append(str(p))
    env = dict(os.environ)
    import forcefit

    env["PYTHONPATH"] = os.pathsep.join([str(Path(forcefit.__file__).parent.parent), str(HERE),
                                         env.get("PYTHONPATH", "")])
    env.setdefault("OMP_NUM_THREADS", "1")
    proc = subprocess.run([sys.executable, str(HERE / "ace_reader_fuzz_runner.py"), *paths], env=env,
                          capture_output=True, text=True, timeout=600)
    lines = proc.stdout.splitlines()
    if proc.returncode != 0:
        last = next((ln for ln in reversed(lines) if ln.startswith("START ")), "START ?")
        culprit = last[6:]
        content = Path(culprit).read_bytes()[:300] if os.path.exists(culprit) else b""
        pytest.fail(f"C++ reader crashed (exit {proc.returncode}) on {culprit}: {content!r}\n{proc.stderr[-2000:]}")
    records = [json.loads(ln) for ln in lines if ln.startswith("{")]
    assert len(records) == len(paths)
    for rec in records:
        name = os.path.basename(rec["file"])
        if rec["outcome"] == "error":
            assert rec["forcefit"], f"{name}: {rec['stage']}: {rec['type']}: {rec['message']}"
            if rec["stage"] == "read":
                assert name in rec["message"], f"{name}: error does not name the file: {rec['message']}"
        else:
            assert rec["outcome"] == "ok", f"{name}: non-finite energy or forces"


def _cpp_reader_test(batch: int, examples: int):
    # no shrinking: each example is one subprocess over a whole batch; the failure names the file
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              phases=(Phase.explicit, Phase.generate),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
    @given(files=st.lists(mutant(".yace"), min_size=batch, max_size=batch))
    def run(tmp_path_factory, files):
        _run_cpp_reader(files, tmp_path_factory.mktemp("fuzzcpp", numbered=True))

    return run


test_fuzz_cpp_yace_reader = _cpp_reader_test(100, 2)
test_fuzz_cpp_yace_reader_long = pytest.mark.slow(_cpp_reader_test(250, 8))


# ---- inputs that crashed a reader or escaped as a non-forcefit error before (kept as fixed cases)


def _yace_with(old: str, new: str) -> bytes:
    text = SEEDS[".yace"].decode()
    assert old in text
    return text.replace(old, new, 1).encode()


_BOND00 = "[0, 0]: {nradmax: 1, lmax: 1, nradbasemax: 3, radbasename: ChebExpCos, radparameters: [5.25], " \
          "radcoefficients: [[[1, 0, 0], [1, 0, 0]]]"
FOUND = {
    # PyYAML's libyaml loader overflows the C stack on deep nesting when the recursion limit is raised
    "yaml_deep_flow": (".yaml", SEEDS[".yaml"].replace(b"species:", b"x: " + b"[" * 100000 + b"]" * 100000
                                                      + b"\nspecies:", 1)),
    "yace_deep_flow": (".yace", _yace_with("E0: [0, 0]", "E0: " + "[" * 100000 + "]" * 100000)),
    "yace_deep_block": (".yace", b"a:\n" + b"".join(b" " * k + b"-\n" for k in range(1, 3000))),
    # numbers that do not fit an integer
    "yace_int_overflow": (".yace", _yace_with("mus: [0, 0, 0]", "mus: [1e400, 0, 0]")),
    "yace_float_index": (".yace", _yace_with("mus: [0, 0, 0]", "mus: [0.5, 0, 0]")),
    "yace_ndensity_inf": (".yace", _yace_with("ndensity: 2, FS", "ndensity: 1e400, FS")),
    # sizes that would allocate without bound: spline tables, rank-1 radial index, tiny spline step
    "yace_huge_nradbase": (".yace", _yace_with(_BOND00, _BOND00.replace(
        "nradmax: 1, lmax: 1, nradbasemax: 3", "nradmax: 0, lmax: 1, nradbasemax: 2000000000").replace(
        "[[[1, 0, 0], [1, 0, 0]]]", "[]"))),
    "yace_rank1_huge_n": (".yace", _yace_with("ns: [1], ls: [0]", "ns: [100000], ls: [0]")),
    "yace_tiny_spline_step": (".yace", _yace_with("deltaSplineBins: 0.001", "deltaSplineBins: 1e-300")),
    "yace_huge_rcut": (".yace", _yace_with("rcut: 4, dcut", "rcut: 1e300, dcut")),
    # non-UTF-8 bytes quoted in an error message
    "yace_non_utf8": (".yace", _yace_with("npoti: FinnisSinclair,", "npoti: Finnis\xffSinclair,")
                      .replace("Finnis\xffSinclair".encode(), b"Finnis\xffSinclair")),
    # overflowing embedding: non-finite energies must be an error, not inf forces
    "ace_exponent_overflow": (".ace", SEEDS[".ace"].replace(b"2 FS parameters:  1.000000 0.500000",
                                                             b"2 FS parameters:  1.000000 218", 1)),
    "ace_negative_count": (".ace", SEEDS[".ace"].replace(b"num_ms=1", b"num_ms=-1", 1)),
    "ace_huge_count": (".ace", SEEDS[".ace"].replace(b"num_ms=1", b"num_ms=99999999999", 1)),
    "ace_index_beyond_int64": (".ace", SEEDS[".ace"].replace(b"< 1 -1 >", b"< 9223372036854775808 -1 >", 1)),
}


@pytest.mark.parametrize("name", sorted(FOUND))
def test_found_inputs_python_readers(name, tmp_path):
    suffix, data = FOUND[name]
    assert data != SEEDS[suffix]
    _check_python_reader(suffix, data, tmp_path)


def test_found_inputs_cpp_reader(tmp_path):
    _run_cpp_reader([data for suffix, data in FOUND.values() if suffix == ".yace"], tmp_path)


@pytest.mark.parametrize("name", ["yaml_deep_flow", "yace_deep_flow", "yace_deep_block"])
def test_deep_nesting_with_raised_recursion_limit(name, tmp_path):
    """Applications (and test runners) raise the recursion limit; the YAML loaders must still not be reached."""
    suffix, data = FOUND[name]
    path = tmp_path / f"deep{suffix}"
    path.write_bytes(data)
    reader = {".yaml": "forcefit.ace.yaml_io import read_bbasis_yaml as read",
              ".yace": "forcefit.ace.yace_io import read_yace as read"}[suffix]
    code = (f"import sys; sys.setrecursionlimit(10**6)\nfrom {reader}\nfrom forcefit.errors import ForcefitError\n"
            f"try:\n    read({str(path)!r})\nexcept ForcefitError as e:\n    print('ForcefitError', e)\n")
    import forcefit

    env = dict(os.environ, PYTHONPATH=str(Path(forcefit.__file__).parent.parent))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-1000:]
    assert proc.stdout.startswith("ForcefitError") and "nesting" in proc.stdout and path.name in proc.stdout


def test_nesting_bound_is_exact_enough_for_real_files_and_catches_deep_ones():
    from forcefit.yaml_depth import MAX_NESTING, nesting_bound

    # a bond of a large potential: many lists on one line, three levels deep -- must not be over-counted
    crad = "[" + ", ".join("[" + ", ".join("[1, 2, 3]" for _ in range(9)) + "]" for _ in range(30)) + "]"
    assert nesting_bound(f"bonds:\n  [0, 0]: {{nradmax: 30, radcoefficients: {crad}}}\n") <= 10
    # brackets in quoted scalars and comments do not nest
    assert nesting_bound("a: '[[[[[['\nb: \"[[[[\\\"[[\"  # [[[[[[\nc: 'x\n[[[[[[\n'\n") <= 3
    for deep in ("x: " + "[" * 300 + "]" * 300, "x: " + "{a: " * 300, "x:\n" + "- " * 300 + "1",
                 "x: ']]]]]]' " + "[" * 300):
        assert nesting_bound(deep) > MAX_NESTING
