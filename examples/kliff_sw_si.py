"""KLIFF's tutorial "Train a Stillinger-Weber potential" (kim_SW_Si), run on forcefit.

The body below is KLIFF's tutorial script; only the imports differ (forcefit's modules in place
of kliff's) and the data comes from a path instead of ``download_dataset``:

    python examples/kliff_sw_si.py [DATA_DIR] [--out OUTPUT_DIR] [--kim [KIM_MODEL_NAME]]

KLIFF's tutorial fits the KIM model SW_StillingerWeber_1985_Si__MO_405512056662_006 through
kimpy. By default this script uses forcefit's built-in ``StillingerWeber`` (the same functional
form and parameter names as the KIM SW driver, with analytic parameter derivatives) bound to the
name ``KIMModel``, so the tutorial lines stay unchanged; ``--kim`` uses the real KIM model
instead (needs kimpy and the model installed; KLIFF's tip: use the version you have installed,
e.g. ..._005).

DATA_DIR defaults to ``../shared/data/kliff/Si_training_set`` next to the project when present
(1000 configurations, as in KLIFF), else to the 4-configuration copy in ``examples/data``.
KLIFF's optimum on the 1000-configuration set: loss 0.6940780, A 14.938635, B 0.587403,
gamma 2.201461.
"""

import argparse
import os
from pathlib import Path

from forcefit.calculators import Calculator
from forcefit.dataset import Dataset
from forcefit.dataset.weight import Weight
from forcefit.loss import Loss
from forcefit.models import KIMModel, StillingerWeber

HERE = Path(__file__).resolve().parent
FULL_SET = HERE.parent.parent / "shared" / "data" / "kliff" / "Si_training_set"
SMALL_SET = HERE / "data" / "kliff_Si_4_configs"
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("data", nargs="?", default=str(FULL_SET if FULL_SET.is_dir() else SMALL_SET),
                    help="directory of KLIFF extended XYZ files")
parser.add_argument("--out", default=".", help="directory for the saved and exported model (default: .)")
parser.add_argument("--kim", nargs="?", const="SW_StillingerWeber_1985_Si__MO_405512056662_005",
                    default=None, help="fit this installed KIM model through kimpy instead")
args = parser.parse_args()
dataset_path = os.path.abspath(args.data)
os.makedirs(args.out, exist_ok=True)
os.chdir(args.out)
if args.kim is None:
    def KIMModel(model_name):  # noqa: F811 - the built-in model stands in for the KIM one
        return StillingerWeber(model_name=model_name)
kim_model_name = args.kim or "SW_StillingerWeber_1985_Si__MO_405512056662_006"

# --- KLIFF's tutorial from here on ------------------------------------------------------------

model = KIMModel(model_name=kim_model_name)
model.echo_model_params()

model.set_opt_params(
    A=[[5.0, 1.0, 20]], B=[["default"]], sigma=[[2.0951, "fix"]], gamma=[[1.5]]
)
model.echo_opt_params()

weight = Weight(energy_weight=1.0, forces_weight=0.1)
tset = Dataset.from_path(dataset_path, weight)
configs = tset.get_configs()

calc = Calculator(model)
_ = calc.create(configs)

steps = 100
loss = Loss(calc, nprocs=2)
loss.minimize(method="L-BFGS-B", options={"disp": True, "maxiter": steps})

model.echo_opt_params()
model.save("kliff_model.yaml")
model.write_kim_model()
