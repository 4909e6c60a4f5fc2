"""KLIFF's tutorial "Parameter transformation for the Stillinger-Weber potential", on forcefit.

The body below is KLIFF's tutorial script; only the imports differ (forcefit's modules in place
of kliff's) and the data comes from a path instead of ``download_dataset``:

    python examples/kliff_sw_log_transform.py [DATA_DIR] [--kim [KIM_MODEL_NAME]]

The optimizer works on log(A), log(B), log(sigma), log(gamma); start values and bounds are given
in log space, as in KLIFF. As in ``kliff_sw_si.py``, forcefit's built-in ``StillingerWeber``
stands in for the KIM model unless ``--kim`` is given. DATA_DIR defaults to
``../shared/data/kliff/Si_training_set`` when present, else the 4-configuration copy.
"""

import argparse
import os
from pathlib import Path

import numpy as np

from forcefit.calculators import Calculator
from forcefit.dataset import Dataset
from forcefit.dataset.weight import Weight
from forcefit.loss import Loss
from forcefit.models import KIMModel, StillingerWeber
from forcefit.models.parameter import Parameter  # noqa: F401 - imported by KLIFF's tutorial
from forcefit.models.transform import LogParameterTransform

HERE = Path(__file__).resolve().parent
FULL_SET = HERE.parent.parent / "shared" / "data" / "kliff" / "Si_training_set"
SMALL_SET = HERE / "data" / "kliff_Si_4_configs"
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("data", nargs="?", default=str(FULL_SET if FULL_SET.is_dir() else SMALL_SET),
                    help="directory of KLIFF extended XYZ files")
parser.add_argument("--kim", nargs="?", const="SW_StillingerWeber_1985_Si__MO_405512056662_005",
                    default=None, help="fit this installed KIM model through kimpy instead")
args = parser.parse_args()
dataset_path = os.path.abspath(args.data)
if args.kim is None:
    def KIMModel(model_name, params_transform=None):  # noqa: F811 - built-in stand-in
        return StillingerWeber(model_name=model_name, params_transform=params_transform)
kim_model_name = args.kim or "SW_StillingerWeber_1985_Si__MO_405512056662_006"

# --- KLIFF's tutorial from here on ------------------------------------------------------------

transform = LogParameterTransform(param_names=["A", "B", "sigma", "gamma"])
model = KIMModel(
    model_name=kim_model_name,
    params_transform=transform,
)
model.echo_model_params(params_space="original")

model.echo_model_params(params_space="transformed")

model.set_opt_params(
    A=[[np.log(5.0), np.log(1.0), np.log(20)]],
    B=[["default"]],
    sigma=[[np.log(2.0951), "fix"]],
    gamma=[[np.log(1.5)]],
)
model.echo_opt_params()

# Training set
weight = Weight(energy_weight=1.0, forces_weight=0.1)
tset = Dataset.from_path(dataset_path, weight)
configs = tset.get_configs()

# Calculator
calc = Calculator(model)
_ = calc.create(configs)

# Loss function and model training
steps = 100
loss = Loss(calc, nprocs=2)
loss.minimize(method="L-BFGS-B", options={"disp": True, "maxiter": steps})

model.echo_model_params(params_space="original")
