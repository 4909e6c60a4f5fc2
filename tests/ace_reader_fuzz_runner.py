"""Subprocess side of the C++ ``.yace`` reader fuzz test (tests/test_ace_reader_fuzz.py).

Usage: ``python ace_reader_fuzz_runner.py FILE...``.  For each file it prints ``START <file>``, reads it
with the C++ reader (``AceCtildeModel.from_yace``, the reader of the LAMMPS plugin and the KIM driver),
evaluates a three-atom cluster of species 0 when the read succeeds, and prints one JSON line
``{"file", "stage": "read" | "evaluate", "outcome": "ok" | "nonfinite" | "error", "type", "forcefit",
"message"}``.  A crash (segfault, abort)
leaves ``START`` as the last line, which names the file that caused it.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def _evaluate(model):
    from forcefit.ace.evaluator import csr_neighbors

    pos = np.array([[0.0, 0.0, 0.0], [2.3, 0.1, 0.0], [0.9, 1.9, 0.4]])
    nl = csr_neighbors(pos, np.zeros((3, 3)), [False] * 3, min(float(model.cutoff), 8.0))
    e, f, w = model.compute(np.zeros(3, np.int32), nl.first, nl.neigh, nl.rij)
    return bool(np.all(np.isfinite(e)) and np.all(np.isfinite(f)) and np.all(np.isfinite(w)))


def main(paths) -> int:
    from forcefit import _core
    from forcefit.errors import ForcefitError

    for path in paths:
        print(f"START {path}", flush=True)
        rec = {"file": path, "stage": "read"}
        try:
            model = _core.AceCtildeModel.from_yace(path)
            rec["stage"] = "evaluate"
            rec["outcome"] = "ok" if _evaluate(model) else "nonfinite"
        except Exception as exc:  # reported to the parent, which decides what is acceptable
            rec.update(outcome="error", type=f"{type(exc).__module__}.{type(exc).__qualname__}",
                       forcefit=isinstance(exc, ForcefitError), message=str(exc)[:500])
        print(json.dumps(rec), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
