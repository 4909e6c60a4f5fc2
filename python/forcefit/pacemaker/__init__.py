"""pacemaker (python-ace) front end: input file, data preparation, weights, metrics and outputs.

A pacemaker user runs ``pacemaker input.yaml`` with an existing input file and pandas data set;
forcefit reads both with python-ace's meaning and defaults and writes python-ace's outputs. The
potential itself is evaluated by a fitting engine behind one narrow interface (``engine.py``):

    inputfile.py          input.yaml -> PacemakerInput (checked, python-ace defaults)
    sections.py           the typed sections (frozen dataclasses)
    schema.py             key tables, unknown-key suggestions, YAML 1.2 numbers
    potential_section.py  the potential: section (a basis shape or potential files)
    fit_section.py        the fit: section (loss, optimizer, options, ladder, callbacks)
    datafiles.py          files named by the input: data search path, existence checks
    preparedata.py        read, correct energies, split train/test, weight, cache
    reference_energy.py   energy_corrected from single-atom energies (number, mapping, auto)
    weighting.py          Uniform/EnergyBased/External weighting policies
    convex_hull.py        distance to the lower convex hull per structure
    engine.py             FitEngine / TrainablePotential protocols, FitData, the loss terms
    engine_checks.py      finite-difference and loss-term checks for engines
    fitloop.py            optimizer loop, fit cycles, ladder, early stopping on top of an engine
    metrics.py            iteration line, FIT STATS block, metrics*.txt tables
    outputs.py            *_pred.pckl.gzip, data-info pickles, report/ plots
    template.py           ``pacemaker -t``

Units: eV, Å, eV/Å; energies per atom in eV/atom.
"""

from .engine import (
    Evaluation,
    FitData,
    FitEngine,
    LossComponents,
    TrainablePotential,
    get_fit_engine,
    register_fit_engine,
)
from .inputfile import load_input, parse_input
from .preparedata import PreparedData, prepare_data
from .sections import PacemakerInput

__all__ = [
    "Evaluation",
    "FitData",
    "FitEngine",
    "LossComponents",
    "PacemakerInput",
    "PreparedData",
    "TrainablePotential",
    "get_fit_engine",
    "load_input",
    "parse_input",
    "prepare_data",
    "register_fit_engine",
]
