"""``pacemaker -t``: write a starting ``input.yaml`` from a few answers.

The questions are python-ace's: training data file, test set size, elements (default: read from
the data), number of functions per element (700), outer cutoff ``rcut`` (7 Å), weighting
(uniform or energy-based). On a terminal they are asked interactively; otherwise each answer is
one line read from standard input, and a missing line (end of input) takes the default, so
``pacemaker -t < /dev/null`` writes a template with defaults (the data file then defaults to the
only ``*.pckl.gzip`` in the working directory). Unlike python-ace, a data set without
``energy_corrected`` is never rewritten: the template sets ``reference_energy: auto`` instead
(or leaves it out if the answer is "no").
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Callable, List, Optional, Sequence

from ..atomic import write_text_atomically
from ..errors import InputError

ENERGY_WEIGHTING = (
    "{ type: EnergyBasedWeightingPolicy, DElow: 1.0, DEup: 10.0, DFup: 50.0, DE: 1.0, DF: 1.0, "
    "wlow: 0.75, energy: convex_hull, reftype: all, seed: 42 }"
)

FUNCTIONS_BY_ORDER = """    UNARY:   { nradmax_by_orders: [ 15, 6, 4, 3, 2, 2 ], lmax_by_orders: [ 0, 3, 3, 2, 2, 1 ] }
    BINARY:  { nradmax_by_orders: [ 15, 6, 3, 2, 2, 1 ], lmax_by_orders: [ 0, 3, 2, 1, 1, 0 ] }
    TERNARY: { nradmax_by_orders: [ 15, 3, 3, 2, 1 ],    lmax_by_orders: [ 0, 2, 2, 1, 1 ] }
    ALL:     { nradmax_by_orders: [ 15, 3, 2, 1, 1 ],    lmax_by_orders: [ 0, 2, 2, 1, 1 ] }"""


def _enable_filename_completion() -> None:
    """[TAB] completes file names in interactive answers, as in python-ace (when readline exists)."""
    try:
        import readline
    except ImportError:  # e.g. Windows without pyreadline
        return
    import glob

    def complete(text: str, state: int):
        matches = sorted(glob.glob(text + "*"))
        return matches[state] if state < len(matches) else None

    readline.set_completer_delims(" \t\n")
    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")


def make_asker(interactive: bool, stream=None, echo=print) -> Callable[[str, str], str]:
    """``ask(question, default)``: interactive ``input()`` or one line of ``stream`` (default on EOF)."""
    stream = sys.stdin if stream is None else stream
    if interactive:
        _enable_filename_completion()

    def ask(question: str, default: str) -> str:
        if interactive:
            answer = input(question)
        else:
            line = stream.readline()
            answer = line.strip()
            echo(f"{question}{answer if line else '(default)'}")
        return answer.strip() or default

    return ask


def _default_data_file() -> str:
    found = sorted(p.name for p in Path.cwd().glob("*.pckl.gzip") if ".forcefit-" not in p.name)
    return found[0] if len(found) == 1 else ""


def render_template(
    data_file: str,
    elements: Sequence[str],
    test_size: float,
    n_functions: int,
    rcut: float,
    weighting: Optional[str],
    reference_energy_auto: bool,
) -> str:
    """The input file text."""
    data_lines = [f"  filename: {data_file}"]
    if test_size > 0:
        data_lines.append(f"  test_size: {int(test_size) if test_size >= 1 else test_size}")
    if reference_energy_auto:
        data_lines.append("  reference_energy: auto    # the data have no energy_corrected column")
    weighting_line = f"  weighting: {weighting}\n" if weighting else ""
    element_list = "[" + ", ".join(elements) + "]"
    return f"""# pacemaker input file (written by forcefit's `pacemaker -t`)
seed: 42  # random seed (test split, weighting, noise)

metadata:
  origin: "Automatically generated input"

potential:
  deltaSplineBins: 0.001
  elements: {element_list}

  embeddings:
    ALL: {{ npot: 'FinnisSinclairShiftedScaled', fs_parameters: [ 1, 1, 1, 0.5 ], ndensity: 2 }}

  bonds:
    ALL: {{ radbase: SBessel, radparameters: [ 5.25 ], rcut: {rcut:g}, dcut: 0.01, NameOfCutoffFunction: cos }}

  functions:
    number_of_functions_per_element: {n_functions}
{FUNCTIONS_BY_ORDER}

data:
{chr(10).join(data_lines)}

fit:
  loss: {{ kappa: auto, L1_coeffs: 1e-8, L2_coeffs: 1e-8 }}
{weighting_line}  optimizer: BFGS
  maxiter: 2000
  repulsion: auto
  # ladder_step: 100
  # ladder_type: power_order
  # min_relative_train_loss_per_iter: 5e-5
  # min_relative_test_loss_per_iter: 1e-5
  # early_stopping_patience: 200

backend:
  evaluator: tensorpot   # tensorpot, pyace and forcefit all run forcefit's engine
  batch_size: 100
  display_step: 50
"""


def _elements_of(data_file: str) -> List[str]:
    from ..dataset.pacemaker import read_dataframe

    frame = read_dataframe(data_file)
    if "ase_atoms" not in frame.columns:
        raise InputError("has no 'ase_atoms' column, cannot determine the elements", path=data_file)
    found = set()
    for atoms in frame["ase_atoms"]:
        found.update(atoms.get_chemical_symbols())
    return sorted(found)


def _has_energy_corrected(data_file: str) -> bool:
    from ..dataset.pacemaker import read_dataframe

    return "energy_corrected" in read_dataframe(data_file).columns


def generate_template(
    path: Path = Path("input.yaml"), interactive: Optional[bool] = None, stream=None, echo=print
) -> Path:
    """Ask the questions and write ``path`` (atomically). Returns the path.

    Raises:
        InputError: an answer is not a number where one is needed, or no data file is known
            and the elements cannot be determined.
    """
    if interactive is None:
        interactive = sys.stdin.isatty()
    ask = make_asker(interactive, stream, echo)
    echo(f"Generating '{path}'")
    data_file = ask(
        "Enter training dataset filename (ex.: data.pckl.gzip, [TAB] - autocompletion): ", _default_data_file()
    )

    def number(answer: str, what: str, kind=float):
        try:
            return kind(answer)
        except ValueError:
            raise InputError(f"{what}: expected a number, got {answer!r}") from None

    test_size = number(ask("Enter test set fraction or size (ex.: 0.05 or [ENTER] - no test set): ", "0"), "test size")
    elements_text = ask('Please enter list of elements (ex.: "Cu", "AlNi", [ENTER] - determine from dataset): ', "")
    if elements_text:
        elements = sorted(set(re.findall(r"[A-Z][a-z]?", elements_text)))
    elif data_file and Path(data_file).is_file():
        elements = _elements_of(data_file)
        echo(f"Found elements: {elements}")
    else:
        raise InputError(
            "no elements given and no training data file to read them from "
            f"({data_file or 'none given'}); answer the elements question"
        )
    n_functions = number(
        ask("Enter number of functions per element ([ENTER] - default 700): ", "700"), "number of functions", int
    )
    rcut = number(ask("Enter outer cutoff `rcut` (Angstrom, default:7.0): ", "7.0"), "rcut")
    while True:
        choice = ask("Enter weighting scheme type - `uniform` or `energy` ([ENTER] - `uniform`): ", "uniform")
        if choice in ("uniform", "energy"):
            break
        if not interactive:
            raise InputError(f"weighting scheme: expected 'uniform' or 'energy', got {choice!r}")
    reference_auto = False
    if data_file and Path(data_file).is_file() and not _has_energy_corrected(data_file):
        answer = ask("No `energy_corrected` column found; use `reference_energy: auto`? (yes/no, default yes): ", "yes")
        reference_auto = answer.lower().startswith("y")
    text = render_template(
        data_file or "data.pckl.gzip",
        elements,
        test_size,
        n_functions,
        rcut,
        ENERGY_WEIGHTING if choice == "energy" else None,
        reference_auto,
    )
    write_text_atomically(path, text)
    echo(f"Input file is written into `{path}`")
    return Path(path)


__all__ = ["generate_template", "render_template"]
