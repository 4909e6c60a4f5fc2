"""The ``pacemaker`` command: python-ace's fitting tool, on forcefit.

    pacemaker [input.yaml] [-o output_potential.yaml] [-p pot.yaml] [-ip initial.yaml]
              [-b evaluator] [-d data.pckl.gzip] [-l log.txt] [--dry-run] [--prepare-data]
              [--rebuild] [--no-fit] [--no-predict] [-c] [-t] [-v] [--query-data]

Order of work (python-ace's): options that end at once (``-v``, ``-c``, ``-t``); logging to
``log.txt`` (appended) and standard output; the input file is read and checked entirely, with
every file it names; the fitting engine is looked up *before* any long work, so a build without
the ACE engine stops in seconds with a clear message (``--dry-run`` and ``--prepare-data`` need
no engine); then the data are prepared (or read from the cache), the fit runs, and the
predictions and the ``report/`` plots are written.

Exit status: 0 on success, 1 on a forcefit error (bad input or data, no engine), 2 on bad
command-line usage.
"""

from __future__ import annotations

import argparse
import getpass
import glob
import logging
import os
import shutil
import socket
import sys
from pathlib import Path
from typing import List, Optional

from .. import __version__
from ..errors import ForcefitError, InputError

LOG_FORMAT = "%(asctime)s %(levelname).1s - %(message)s"
LOG_DATEFMT = "%Y/%m/%d %H:%M:%S"

#: what ``--clean`` removes (python-ace's list) plus interim/ensemble potentials
GENERATED_FILES = (
    "fitting_data_info.csv",
    "fitting_data_info.pckl.gzip",
    "test_data_info.pckl.gzip",
    "log.txt",
    "nohup.out",
    "target_potential.yaml",
    "current_extended_potential.yaml",
    "output_potential.yaml",
    "ladder_metrics.txt",
    "cycle_metrics.txt",
    "metrics.txt",
    "test_ladder_metrics.txt",
    "test_cycle_metrics.txt",
    "test_metrics.txt",
    "train_pred.pckl.gzip",
    "test_pred.pckl.gzip",
    "test_ef-distributions.png",
    "train_ef-distributions.png",
    "report",
)

log = logging.getLogger("forcefit.pacemaker")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pacemaker",
        description=f"Fitting utility for atomic cluster expansion potentials (forcefit {__version__}; "
        "reads python-ace input files and data).",
    )
    parser.add_argument("input", nargs="?", default="input.yaml", help="input YAML file, default: input.yaml")
    parser.add_argument("-c", "--clean", action="store_true", help="remove all generated data/files")
    parser.add_argument(
        "-o",
        "--output",
        default="output_potential.yaml",
        help="output B-basis YAML file name, default: output_potential.yaml",
    )
    parser.add_argument(
        "-p",
        "--potential",
        default=None,
        help="input potential YAML file name, will override input file 'potential' section",
    )
    parser.add_argument(
        "-ip",
        "--initial-potential",
        default=None,
        help="initial potential YAML file name, will override 'potential::initial_potential'",
    )
    parser.add_argument(
        "-b",
        "--backend",
        default=None,
        help="backend evaluator (tensorpot, pyace or forcefit: all run forcefit's engine), "
        "will override 'backend::evaluator'",
    )
    parser.add_argument(
        "-d", "--data", default=None, help="data file, will override 'data::filename' (and drop 'data::test_filename')"
    )
    parser.add_argument(
        "--query-data", action="store_true", help="python-ace: query the structure database; not available in forcefit"
    )
    parser.add_argument("--prepare-data", action="store_true", help="prepare and cache the training data only")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the prepared data even if a cache exists")
    parser.add_argument("-l", "--log", default="log.txt", help="log filename, default: log.txt")
    parser.add_argument(
        "-dr", "--dry-run", action="store_true", help="check the input and prepare the data, then stop without fitting"
    )
    parser.add_argument("-t", "--template", action="store_true", help="generate a template 'input.yaml' file by dialog")
    parser.add_argument("-v", "--version", action="store_true", help="show version info")
    parser.add_argument("--no-fit", action="store_true", help="do not fit the potential")
    parser.add_argument("--no-predict", action="store_true", help="do not compute and save the predictions")
    parser.add_argument(
        "--verbose-tf", action="store_true", help="python-ace's TensorFlow verbosity; accepted, no effect"
    )
    return parser


def configure_logging(log_file: Optional[str]) -> List[logging.Handler]:
    """Log records of ``forcefit`` to stdout and (appending) to ``log_file``; returns the handlers."""
    formatter = logging.Formatter(LOG_FORMAT, datefmt=LOG_DATEFMT)
    console = logging.StreamHandler(sys.stdout)
    # the final error goes to stderr once; the console handler skips its log record
    console.addFilter(lambda record: getattr(record, "console", True))
    handlers: List[logging.Handler] = [console]
    if log_file:
        handlers.append(logging.FileHandler(log_file, "a"))
    root = logging.getLogger("forcefit")
    root.setLevel(logging.INFO)
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.propagate = False
    return handlers


def remove_logging(handlers: List[logging.Handler]) -> None:
    root = logging.getLogger("forcefit")
    for handler in handlers:
        root.removeHandler(handler)
        handler.close()
    if not root.handlers:
        # back to a library's defaults, so a program that ran pacemaker in-process sees forcefit's records again
        root.propagate = True
        root.setLevel(logging.NOTSET)


def clean(folder: Path = Path(".")) -> List[str]:
    """Remove the files pacemaker generates in ``folder``; returns what was removed."""
    removed = []
    extra = glob.glob(str(folder / "interim_potential*.yaml")) + glob.glob(str(folder / "ensemble_potential*.yaml"))
    for name in sorted(set([str(folder / f) for f in GENERATED_FILES] + extra)):
        path = Path(name)
        if path.is_file():
            path.unlink()
            removed.append(path.name)
        elif path.is_dir():
            shutil.rmtree(path)
            removed.append(path.name + " (folder)")
    return removed


def _gpu_visible() -> bool:
    return os.path.exists("/dev/nvidia0") or os.path.exists("/dev/nvidiactl")


def _log_backend(inp) -> None:
    evaluator = inp.backend.evaluator
    if evaluator == "forcefit":
        log.info("Evaluator: forcefit")
    else:
        log.info(
            f"backend::evaluator '{evaluator}' is served by forcefit's own ACE engine "
            "(tensorpot, pyace and forcefit are accepted and run the same engine)"
        )
    if inp.backend.gpu_requested and not _gpu_visible():
        log.warning(
            f"backend::gpu_config asks for a GPU ({inp.backend.gpu_config}) but none is visible; running on the CPU"
        )


def _summary(inp, prepared) -> List[str]:
    from ..pacemaker.preparedata import data_columns_report

    potential = inp.potential
    lines = [f"Input file: {inp.source}"]
    if potential.shape is not None:
        lines.append(
            f"Potential: basis shape for elements {list(potential.elements)}, rcut max {potential.max_rcut:g} A"
            + (
                f", {potential.number_of_functions_per_element} functions per element"
                if potential.number_of_functions_per_element
                else ""
            )
        )
    else:
        lines.append(f"Potential: file {potential.filename}")
    if potential.initial_potential:
        lines.append(f"Initial potential: {', '.join(map(str, potential.initial_potential))}")
    fit = inp.fit
    lines.append(
        f"Loss: kappa={fit.loss.kappa}, L1={fit.loss.L1_coeffs:g}, L2={fit.loss.L2_coeffs:g}, "
        f"w_rad=({fit.loss.w0_rad:g}, {fit.loss.w1_rad:g}, {fit.loss.w2_rad:g}), w_stress={fit.loss.w_stress:g}"
    )
    lines.append(f"Weighting: {fit.weighting.type} {fit.weighting.params or ''}".rstrip())
    lines.append(
        f"Optimizer: {fit.optimizer}, maxiter={fit.maxiter}, fit_cycles={fit.fit_cycles}"
        + (f", ladder_step={list(fit.ladder_step)} ({fit.ladder_type})" if fit.ladder_scheme else "")
    )
    if prepared is not None:
        if fit.loss.kappa == "auto":
            from ..pacemaker.engine import resolve_kappa

            lines.append(f"kappa (auto, from the training data): {resolve_kappa(fit.loss, prepared.train).kappa:.4f}")
        lines.extend(data_columns_report(prepared))
        if prepared.reference_energy is not None:
            lines.append(f"Reference energies: {prepared.reference_energy}")
    return lines


def run(args) -> int:
    from ..pacemaker.engine import get_fit_engine
    from ..pacemaker.datafiles import check_input_files, with_reference_energy_from_potential
    from ..pacemaker.inputfile import load_input

    if args.query_data:
        raise InputError(
            "--query-data queries python-ace's structure database (structdb), which forcefit does not "
            "have; give the data as pickled pandas DataFrames in data::filename (or -d)"
        )
    log.info("Start pacemaker")
    log.info(f"Hostname: {socket.gethostname()}")
    try:
        log.info(f"Username: {getpass.getuser()}")
    except (KeyError, OSError):
        pass
    log.info(f"pacemaker/forcefit version: {__version__}")
    if args.dry_run:
        log.info("====== DRY RUN ======")
    log.info(f"Loading {args.input}... ")
    inp = load_input(
        args.input,
        potential=args.potential,
        initial_potential=args.initial_potential,
        data=args.data,
        backend=args.backend,
    )
    check_input_files(inp)
    inp = with_reference_energy_from_potential(inp)
    for note in inp.notes:
        log.warning(note)
    _log_backend(inp)

    only_data = args.dry_run or args.prepare_data
    engine = None
    if not only_data and not (args.no_fit and args.no_predict):
        engine = get_fit_engine(inp.backend)  # fails fast when the build has no ACE engine
        log.info(f"Fitting engine: {engine.name}")

    from ..pacemaker.preparedata import prepare_data

    prepared = prepare_data(inp, rebuild=args.rebuild)
    if args.prepare_data:
        for line in _summary(inp, prepared):
            log.info(line)
        log.info(f"Prepared data saved in {prepared.cache_path}")
        log.info("Done, now stopping")
        return 0

    from ..pacemaker import outputs

    outputs.write_data_info(prepared.train, Path("fitting_data_info.pckl.gzip"))
    outputs.plot_data_distributions(prepared.train, Path("train_ef-distributions.png"))
    if prepared.test is not None:
        outputs.write_data_info(prepared.test, Path("test_data_info.pckl.gzip"))
        outputs.plot_data_distributions(prepared.test, Path("test_ef-distributions.png"))
    if args.dry_run:
        for line in _summary(inp, prepared):
            log.info(line)
        log.info("Dry run is finished")
        return 0
    if engine is None:
        log.info("Nothing to do (--no-fit and --no-predict)")
        return 0

    from ..pacemaker.fitloop import PacemakerFit

    fit = PacemakerFit(inp, prepared, engine)
    potential = fit.target
    if not args.no_fit:
        potential = fit.run()
        potential.save(Path(args.output))
        log.info(f"Final potential is saved to {args.output}")
    if not args.no_predict:
        log.info("Making predictions")
        sets = [("train", prepared.train, True)] + (
            [("test", prepared.test, False)] if prepared.test is not None else []
        )
        for label, frame, is_train in sets:
            log.info(f"For {label} data")
            energy, forces = fit.predict(potential, label)
            table = outputs.prediction_frame(frame, energy, forces, is_train, nn_cutoff=fit.cutoff)
            outputs.write_pickle(table, Path(f"{label}_pred.pckl.gzip"))
            log.info("Ploting validation graphs")
            outputs.plot_error_report(table, Path("report"), prefix=f"{label}_", imagetype=inp.backend.imagetype)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.version:
        from ..pacemaker.engine import engine_available

        print(f"pacemaker/forcefit version: {__version__}")
        print(f"ACE fitting engine: {'available' if engine_available() else 'not available in this build'}")
        return 0
    if args.clean:
        print("Cleaning working directory. Removing files/folders:")
        for name in clean():
            print(" - ", name)
        print("Done")
        return 0
    try:
        if args.template:
            from ..pacemaker.template import generate_template

            generate_template(Path("input.yaml"))
            return 0
        handlers = configure_logging(args.log)
    except (ForcefitError, OSError) as err:
        print(f"pacemaker: error: {err}", file=sys.stderr)
        return 1
    try:
        return run(args)
    except ForcefitError as err:
        log.error(str(err), extra={"console": False})
        print(f"pacemaker: error: {err}", file=sys.stderr)
        return 1
    finally:
        remove_logging(handlers)


if __name__ == "__main__":
    raise SystemExit(main())
