"""KLIFF's tutorial "Train a Lennard-Jones potential", run on forcefit.

The body below is KLIFF's tutorial script; only the imports differ (forcefit's modules in place
of kliff's) and the data comes from a path instead of ``download_dataset``:

    python examples/kliff_lj.py [DATA_DIR] [--out OUTPUT_DIR]

DATA_DIR defaults to the 4-configuration silicon set shipped in
``examples/data/kliff_Si_4_configs`` (from github.com/openkim/kliff, LGPL-2.1). KLIFF reaches
epsilon 1.561486, sigma 2.062905 (loss 6.4097 -> 0.0029721) after 10 L-BFGS-B iterations.
"""

import argparse
import os
from pathlib import Path

from forcefit.calculators import Calculator
from forcefit.dataset import Dataset
from forcefit.loss import Loss
from forcefit.models import LennardJones

HERE = Path(__file__).resolve().parent
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("data", nargs="?", default=str(HERE / "data" / "kliff_Si_4_configs"),
                    help="directory of KLIFF extended XYZ files")
parser.add_argument("--out", default=".", help="directory for kliff_model.yaml (default: .)")
args = parser.parse_args()
dataset_path = os.path.abspath(args.data)
os.makedirs(args.out, exist_ok=True)
os.chdir(args.out)

# --- KLIFF's tutorial from here on ------------------------------------------------------------

# training set
tset = Dataset.from_path(dataset_path)
configs = tset.get_configs()

# calculator
model = LennardJones()
model.echo_model_params()

# fitting parameters
model.set_opt_params(sigma=[["default"]], epsilon=[["default"]])
model.echo_opt_params()

calc = Calculator(model)
calc.create(configs)

# loss
loss = Loss(calc, nprocs=1)
result = loss.minimize(method="L-BFGS-B", options={"disp": True, "maxiter": 10})


# print optimized parameters
model.echo_opt_params()
model.save("kliff_model.yaml")
