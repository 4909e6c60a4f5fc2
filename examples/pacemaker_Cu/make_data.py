"""Make ``Cu_mlearn_subset.pckl.gzip`` (pacemaker's DataFrame format) from the mlearn Cu training set.

    python make_data.py [path/to/Cu_train.xyz]

Source: the Cu training split of the mlearn benchmark, Y. Zuo et al., "Performance and Cost Assessment
of Machine Learning Interatomic Potentials", J. Phys. Chem. A 124, 731 (2020),
github.com/materialsvirtuallab/mlearn (BSD-3-Clause, see LICENSE): VASP PBE energies (eV), forces
(eV/Å) and stresses of fcc Cu (AIMD snapshots, strained cells, vacancies, surfaces).

The subset keeps every surface structure and every ``STRIDE``-th structure of each other kind (in file
order), so the example fits in about a minute. ``energy_corrected`` is left equal to the total DFT
energy: ``input.yaml`` sets ``reference_energy`` (see README.md).
"""

import os
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd

from forcefit.dataset import Dataset

STRIDE = {"AIMD-NVT": 27, "Elastic": 27, "Vacancy": 9, "Surface": 1}
SOURCE = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../../../shared/data/mlearn/Cu_train.xyz")


def main() -> None:
    data = Dataset.from_path(SOURCE)
    seen = defaultdict(int)
    kept = []
    for config in data:
        kind = str(config.metadata.get("config_type", "other"))
        if seen[kind] % STRIDE.get(kind, 1) == 0:
            kept.append(config)
        seen[kind] += 1
    subset = Dataset(kept)
    target = Path(__file__).with_name("Cu_mlearn_subset.pckl.gzip")
    subset.to_pacemaker(target)
    # short structure names (mlearn kind and index in the source file) instead of the source path
    frame = pd.read_pickle(target, compression="gzip")
    frame["name"] = [f"Cu_train_{config.identifier.rsplit(':', 1)[-1]}_{config.metadata.get('config_type', '')}"
                     for config in kept]
    tmp = target.with_name(target.name + ".tmp")
    frame.to_pickle(tmp, compression="gzip", protocol=4)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    print(f"{len(subset)} structures, {subset.get_num_atoms()} atoms written")


if __name__ == "__main__":
    main()
