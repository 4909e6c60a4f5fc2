"""Helpers for the pacemaker tests: small synthetic data sets and a toy fitting engine.

The toy engine is a real (if simple) model so that the fitting loop is tested end to end: a
pair potential linear in its parameters, E = sum_k p_k sum_{i<j} (rc - r_ij)^(k+2) for
r_ij < rc, forces = -dE/dr. Its loss and gradient follow ``forcefit.pacemaker.engine``'s
definition (with an L2 penalty), and the tests check the gradient by finite differences.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.neighborlist import neighbor_list

from forcefit.atomic import write_text_atomically
from forcefit.pacemaker.engine import Evaluation, LossComponents, data_loss

CUTOFF = 4.0
PAIR_SHAPE_INPUT = """
seed: 42
potential:
  elements: [{elements}]
  embeddings: {{ALL: {{npot: FinnisSinclairShiftedScaled, fs_parameters: [1, 1], ndensity: 1}}}}
  bonds: {{ALL: {{radbase: SBessel, radparameters: [5.25], rcut: 4.0, dcut: 0.01}}}}
  functions: {{ALL: {{nradmax_by_orders: [4, 2], lmax_by_orders: [0, 1]}}}}
data:
  filename: {data}
fit:
  loss: {{kappa: 0.5, L1_coeffs: 0, L2_coeffs: 1e-8}}
  optimizer: BFGS
  maxiter: 30
backend:
  evaluator: tensorpot
  display_step: 5
"""


def pair_energy_forces(atoms, params, cutoff=CUTOFF):
    """Energy (eV) and forces (N, 3) of the toy pair model."""
    i, j, d, D = neighbor_list("ijdD", atoms, cutoff)
    energy = 0.0
    forces = np.zeros((len(atoms), 3))
    for k, p in enumerate(params):
        power = k + 2
        energy += 0.5 * p * np.sum((cutoff - d) ** power)
        # dE/dr_ij along the pair vector, each pair counted twice in the full list
        dedr = -power * p * (cutoff - d) ** (power - 1)
        np.add.at(forces, i, (dedr / d)[:, None] * D)
    return energy, forces


def make_atoms(symbols, positions, cell=None, pbc=False):
    return Atoms(symbols=symbols, positions=positions, cell=cell if cell is not None else np.zeros((3, 3)), pbc=pbc)


def random_structures(n, elements=("Cu",), seed=0, natoms=(2, 5)):
    """n small periodic cells with random positions (minimum distance > 1.8 Å)."""
    rng = np.random.default_rng(seed)
    structures = []
    while len(structures) < n:
        count = int(rng.integers(natoms[0], natoms[1] + 1))
        a = rng.uniform(3.0, 4.0)
        positions = rng.uniform(0, a, size=(count, 3))
        symbols = [elements[int(rng.integers(len(elements)))] for _ in range(count)]
        atoms = make_atoms(symbols, positions, cell=np.eye(3) * a, pbc=True)
        d = neighbor_list("d", atoms, 1.8)
        if d.size == 0:
            structures.append(atoms)
    return structures


def make_frame(structures, params=(0.3, -0.1, 0.02), e0=None, with_energy=True, with_corrected=True, names=True):
    """A pacemaker DataFrame whose reference data come from the toy model (+ per-atom energies e0)."""
    rows = []
    for k, atoms in enumerate(structures):
        energy, forces = pair_energy_forces(atoms, params)
        if e0:
            energy += sum(e0[s] for s in atoms.get_chemical_symbols())
        atoms = atoms.copy()
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
        row = {"ase_atoms": atoms, "forces": forces}
        if names:
            row["name"] = f"s{k}"
        if with_energy:
            row["energy"] = energy
        if with_corrected:
            row["energy_corrected"] = energy
        rows.append(row)
    return pd.DataFrame(rows)


def write_frame(frame, path: Path) -> Path:
    frame.to_pickle(path, compression="gzip")
    return path


class PairPotential:
    """TrainablePotential of the toy model; the first ``n_active`` of ``n_total`` functions are used."""

    def __init__(self, elements, n_total=3, n_active=None, params=None):
        self.elements = list(elements)
        self.cutoff = CUTOFF
        self.metadata = {}
        self.n_total = n_total
        self.n_active = n_total if n_active is None else n_active
        self.params = np.zeros(self.n_active) if params is None else np.asarray(params, dtype=float)

    def get_parameters(self):
        return self.params.copy()

    def set_parameters(self, parameters):
        self.params = np.asarray(parameters, dtype=float).copy()

    @property
    def number_of_functions(self):
        return self.n_active

    def copy(self):
        return copy.deepcopy(self)

    def save(self, path):
        text = yaml.safe_dump({"elements": self.elements, "params": self.params.tolist(), "metadata": self.metadata})
        write_text_atomically(Path(path), text)


class PairEngine:
    """FitEngine of the toy model (design matrices precomputed per data set)."""

    name = "toy pair engine"

    def __init__(self, backend=None):
        self.backend = backend
        self.calls = 0

    def build_potentials(self, section, elements, trainable_parameters=None):
        target = PairPotential(elements)
        initial = PairPotential(elements, n_active=0)
        return target, initial

    def prepare(self, data, cutoff):
        n_total = 3
        phi = np.zeros((data.n_structures, n_total))
        grad = np.zeros((int(data.atom_offset[-1]), 3, n_total))
        for s, atoms in enumerate(data.structures):
            for k in range(n_total):
                unit = np.zeros(n_total)
                unit[k] = 1.0
                e, f = pair_energy_forces(atoms, unit)
                phi[s, k] = e
                grad[data.atom_offset[s] : data.atom_offset[s + 1], :, k] = f
        return phi, grad

    def evaluate(self, potential, parameters, data, handle, loss, gradient=True):
        start = time.perf_counter()
        self.calls += 1
        phi, grad = handle
        n = len(parameters)
        energy = phi[:, :n] @ parameters
        forces = grad[:, :, :n] @ parameters
        terms = data_loss(energy, forces, data, loss)
        l2 = loss.L2_coeffs * float(np.sum(parameters**2))
        components = LossComponents(terms.energy, terms.forces, l2=l2, e_loss=terms.e_loss, f_loss=terms.f_loss)
        g = None
        if gradient:
            kappa = float(loss.kappa)
            de_pa = (energy - data.energy) / data.n_atoms
            df = forces - data.forces
            g = 2 * (1 - kappa) * (data.w_energy * de_pa / data.n_atoms) @ phi[:, :n]
            g = g + 2 * kappa * np.einsum("a,ai,aik->k", data.w_forces, df, grad[:, :, :n])
            g = g + 2 * loss.L2_coeffs * parameters
        return Evaluation(components.total, g, energy, forces, components, eval_time=time.perf_counter() - start)

    def ladder_extend(self, current, target, step, ladder_type):
        if current.n_active >= target.n_total:
            return current, False
        new = current.copy()
        new.n_active = min(target.n_total, current.n_active + step)
        new.params = np.concatenate([current.params, np.zeros(new.n_active - current.n_active)])
        return new, True

    def set_core_repulsion(self, potential, min_distance):
        potential.metadata["core_repulsion_r_in"] = str({"-".join(k): round(v, 4) for k, v in min_distance.items()})
