"""The ``fit:`` section: loss, optimizer and its options, ladder, callbacks, trainable parameters.

Checked against python-ace's keys and defaults (``pyace.generalfit``, ``pyace.lossfuncspec``):
optimizer BFGS (any ``scipy.optimize.minimize`` method that needs no Hessian; forcefit adds the
least-squares methods ``trf``, ``dogbox``, ``lm`` of ``scipy.optimize.least_squares`` and ``geodesiclm``,
which need a loss that is a sum of squares: no L1, no radial smoothness), maxiter 100,
kappa 0, no regularization, fit_cycles 1, ladder_type body_order, early_stopping_patience 200.
``fit.options`` are checked against the options scipy documents for the chosen method (for the
least-squares methods: ``LEAST_SQUARES_OPTIONS``, ``GEODESIC_LM_OPTIONS``). forcefit
adds ``loss.w_stress`` (default 0). The weighting policies are checked in ``weighting.py``.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from .schema import (
    Key,
    Where,
    check_mapping,
    check_type,
    in_range,
    one_of,
    positive_int,
    string_list,
    unknown_key_error,
)
from .sections import (HESSIAN_METHODS, LEAST_SQUARES_METHODS, SCIPY_LEAST_SQUARES_METHODS, SCIPY_MINIMIZE_METHODS,
                       FitSection, LossSpec)
from .weighting import parse_weighting_spec


def _ladder_step(value, where: Where):
    items = value if isinstance(value, list) else [value]
    if not items:
        raise where.error("an empty list; give an integer >= 1, a fraction in (0, 1), or a list of both")
    checked = []
    for k, item in enumerate(items):
        here = where.child(k) if isinstance(value, list) else where
        item = check_type(item, (int, float), here)
        if isinstance(item, float) and not 0 < item < 1:
            if item >= 1 and item == int(item):
                item = int(item)
            else:
                raise here.error(f"a fraction must lie in (0, 1), got {item!r}")
        if isinstance(item, int) and item < 1:
            raise here.error(f"a number of functions must be >= 1, got {item!r}")
        checked.append(item)
    return tuple(checked)


def _optimizer(value, where: Where):
    method = one_of(SCIPY_MINIMIZE_METHODS + LEAST_SQUARES_METHODS, case_sensitive=False)(value, where)
    if method in HESSIAN_METHODS:
        raise where.error(
            f"{method} needs the Hessian of the loss, which pacemaker fits do not provide; "
            "use BFGS, L-BFGS-B, CG, TNC, SLSQP, trust-constr or a derivative-free method"
        )
    return method


def callback_search_path(source: Optional[Path]) -> list:
    """Folders searched for callback modules before ``sys.path``: the working directory and the
    input file's folder (python-ace finds them there when started from that folder)."""
    folders = [str(Path.cwd())]
    if source is not None:
        folders.append(str(source.resolve().parent))
    return list(dict.fromkeys(folders))


def _callbacks(value, where: Where):
    import importlib.machinery
    import sys

    names = string_list(value, where)
    for k, name in enumerate(names):
        module = name.rpartition(".")[0]
        if not module:
            raise where.child(k).error(f"{name!r}: give an importable 'module.function' name")
        top = module.split(".")[0]
        search = callback_search_path(where.source) + sys.path
        if top not in sys.modules and importlib.machinery.PathFinder.find_spec(top, search) is None:
            raise where.child(k).error(
                f"{name!r}: module {top!r} not found in the working directory, next to the input file, or on PYTHONPATH"
            )
    return names


def scipy_option_names(method: str) -> Tuple[str, ...]:
    """The option names scipy documents for ``minimize(method=...)`` (empty when unknown)."""
    import re

    from scipy.optimize import show_options

    try:
        doc = show_options("minimize", method, disp=False)
    except (ValueError, TypeError):
        return ()
    section = doc.split("Options", 1)[1] if "Options" in doc else doc
    names = []
    for match in re.findall(r"^([A-Za-z_][\w, ]*?)\s*:", section, re.M):
        names.extend(name.strip() for name in match.split(","))
    return tuple(dict.fromkeys(n for n in names if n.isidentifier()))


#: options of the least-squares methods (``scipy.optimize.least_squares`` keywords; ``geodesic_lm``'s);
#: ``jacobian_chunk_mb`` bounds the working memory of one chunk of Jacobian rows (MB);
#: ``normal_equations: true`` runs geodesiclm on J^T J without the assembled Jacobian
LEAST_SQUARES_OPTIONS = ("ftol", "xtol", "gtol", "x_scale", "max_nfev", "tr_solver", "tr_options", "verbose",
                         "jacobian_chunk_mb")
GEODESIC_LM_OPTIONS = ("ftol", "xtol", "gtol", "atol", "max_nfev", "initial_lambda", "lambda_up", "lambda_down",
                       "lambda_max", "accel", "alpha", "h", "broyden", "jac_recompute", "jacobian_chunk_mb",
                       "normal_equations")


def optimizer_option_names(method: str) -> Tuple[str, ...]:
    """The options ``fit.options`` may give for ``method`` (empty when scipy's list cannot be read)."""
    if method == "geodesiclm":
        return GEODESIC_LM_OPTIONS
    if method == "lm":  # MINPACK: no trust-region sub-solver
        return tuple(n for n in LEAST_SQUARES_OPTIONS if not n.startswith("tr_"))
    if method in SCIPY_LEAST_SQUARES_METHODS:
        return LEAST_SQUARES_OPTIONS
    return scipy_option_names(method)


def least_squares_refusal(loss) -> Optional[Tuple[str, str]]:
    """(key, problem) of the first loss term that is not a sum of squares, or None: the L1 penalty and
    the radial smoothness terms (which integrate |R_nl|, as in tensorpot) cannot be residuals of a
    least-squares method. ``loss``: a ``LossSpec``."""
    methods = ", ".join(LEAST_SQUARES_METHODS)
    if float(loss.L1_coeffs) > 0:
        return "L1_coeffs", (f"the L1 penalty is not a sum of squares, so least-squares optimizers ({methods}) "
                             "cannot use it; set it to 0 or use a scipy minimize method such as BFGS")
    for name in ("w0_rad", "w1_rad", "w2_rad"):
        if float(getattr(loss, name, 0.0)) > 0:
            return name, (f"the radial smoothness terms integrate |R_nl| and are not sums of squares, so "
                          f"least-squares optimizers ({methods}) cannot use them; set them to 0 or use a scipy "
                          "minimize method such as BFGS")
    return None


def _check_options(options: Dict[str, Any], method: str, where: Where, notes: list) -> Dict[str, Any]:
    """Options of ``method`` pass; an option of another optimizer is dropped with a note (scipy
    would ignore it with a warning, python-ace runs on); anything else is an error."""
    valid = optimizer_option_names(method)
    if not valid:  # scipy's documentation could not be read: leave the check to scipy
        return options
    every = {name for m in SCIPY_MINIMIZE_METHODS + LEAST_SQUARES_METHODS for name in optimizer_option_names(m)}
    kept = {}
    for key, value in options.items():
        if key in valid:
            kept[key] = value
        elif key in every:
            notes.append(f"{where.keypath}.{key}: not an option of {method}; ignored (as scipy does)")
        else:
            raise unknown_key_error(key, valid, where)
    return kept


def _trainable(value, where: Where):
    if isinstance(value, (str, list, dict)):
        return value
    raise where.error(f"expected ALL, UNARY, ..., radial, func, a list of them, or a mapping, got {value!r}")


TRAINABLE_KINDS = ("func", "radial", "all")


def check_trainable_parameters(value, elements: Tuple[str, ...], where: Where) -> None:
    """python-ace's ``trainable_parameters``: ``func`` or ``radial`` (for all blocks); block names
    (ALL, UNARY, BINARY, ... or element combinations such as ``AlNi``) as a string or list (all
    parameters of those blocks); or a mapping block -> ``func``/``radial``/``all`` or a list.
    Element combinations must use the potential's elements (when the shape is given)."""
    import re

    from .potential_section import GROUP_KEYWORDS

    if value is None or (isinstance(value, str) and value in ("func", "radial")):
        return
    blocks = [value] if isinstance(value, str) else list(value)
    for k, block in enumerate(blocks):
        here = where.child(block) if isinstance(value, dict) else (where.child(k) if isinstance(value, list) else where)
        if not isinstance(block, str):
            raise here.error(f"expected a block name (ALL, UNARY, ..., or elements such as AlNi), got {block!r}")
        if block not in GROUP_KEYWORDS:
            from ase.data import chemical_symbols

            symbols = re.findall(r"[A-Z][a-z]?", block)
            spelled = "".join(symbols) == block.replace(" ", "").replace(",", "").strip("()")
            if not symbols or not spelled or not set(symbols) <= set(chemical_symbols[1:]):
                close = difflib.get_close_matches(block, GROUP_KEYWORDS + TRAINABLE_KINDS, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise here.error(
                    f"{block!r} is neither a block keyword ({', '.join(GROUP_KEYWORDS)}) "
                    f"nor a combination of elements{hint}"
                )
            unknown = [e for e in symbols if elements and e not in elements]
            if unknown:
                raise here.error(f"element(s) {', '.join(unknown)} not in potential.elements {list(elements)}")
        if isinstance(value, dict):
            kinds = [value[block]] if isinstance(value[block], str) else value[block]
            for kind in kinds if isinstance(kinds, list) else [kinds]:
                if kind not in TRAINABLE_KINDS:
                    raise here.error(f"expected func, radial or all (or a list of them), got {kind!r}")


LOSS_KEYS: Dict[str, Key] = {
    "kappa": Key((int, float, str), 0.0),
    "L1_coeffs": Key((int, float), 0.0, in_range(0)),
    "L2_coeffs": Key((int, float), 0.0, in_range(0)),
    "w0_rad": Key((int, float), 0.0, in_range(0)),
    "w1_rad": Key((int, float), 0.0, in_range(0)),
    "w2_rad": Key((int, float), 0.0, in_range(0)),
    "w_orth": Key((int, float), 0.0, in_range(0)),
    "w_stress": Key((int, float), 0.0, in_range(0)),
}

FIT_KEYS: Dict[str, Key] = {
    "loss": Key((dict,), None),
    "weighting": Key((dict, str), None),
    "optimizer": Key((str,), "BFGS", _optimizer),
    "options": Key((dict,), None),
    "optimizer_options": Key((dict,), None),
    "maxiter": Key((int,), 100, in_range(0)),
    "repulsion": Key((str,), None, one_of(("auto",))),
    "trainable_parameters": Key((str, list, dict), None, _trainable),
    "fit_cycles": Key((int,), 1, positive_int),
    "noise_relative_sigma": Key((int, float), 0.0, in_range(0)),
    "noise_absolute_sigma": Key((int, float), 0.0, in_range(0)),
    "randomize_func_coeffs": Key((int, float), 0.0, in_range(0)),
    "ladder_step": Key((int, float, list), None, _ladder_step),
    "ladder_type": Key((str,), "body_order", one_of(("body_order", "power_order"))),
    "callbacks": Key((str, list), (), _callbacks),
    "min_relative_train_loss_per_iter": Key((int, float), None, in_range(0)),
    "min_relative_test_loss_per_iter": Key((int, float), None, in_range(0)),
    "early_stopping_patience": Key((int,), 200, positive_int),
}


def _parse_loss(value, where: Where) -> LossSpec:
    loss = check_mapping(value, LOSS_KEYS, where)
    kappa = loss["kappa"]
    if isinstance(kappa, str):
        if kappa != "auto":
            raise where.child("kappa").error(f"expected a number in [0, 1] or 'auto', got {kappa!r}")
    else:
        in_range(0, 1)(kappa, where.child("kappa"))
        loss["kappa"] = float(kappa)
    return LossSpec(**{k: (float(v) if k != "kappa" else v) for k, v in loss.items()})


def parse_fit_section(value, where: Where, notes: list) -> FitSection:
    fit = check_mapping(value, FIT_KEYS, where)
    options = dict(fit.pop("options") or {})
    options.update(fit.pop("optimizer_options") or {})
    if "maxiter" in options:
        raise where.child("options").child("maxiter").error("set fit.maxiter instead (pacemaker passes it to scipy)")
    options = _check_options(options, fit["optimizer"], where.child("options"), notes)
    fit["loss"] = _parse_loss(fit["loss"], where.child("loss"))
    if fit["optimizer"] in LEAST_SQUARES_METHODS:
        refusal = least_squares_refusal(fit["loss"])
        if refusal is not None:
            raise where.child("loss").child(refusal[0]).error(f"{refusal[1]} (fit.optimizer is {fit['optimizer']})")
        if options.get("normal_equations"):
            for name in ("broyden", "jac_recompute"):
                if name in options:
                    raise where.child("options").child(name).error(
                        "Broyden updates change the Jacobian itself, which normal_equations: true never forms; "
                        f"remove {name} or normal_equations")
        chunk = options.get("jacobian_chunk_mb")
        if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, (int, float)) or not chunk > 0):
            raise where.child("options").child("jacobian_chunk_mb").error(
                f"expected a positive number of megabytes, got {chunk!r}")
    fit["weighting"] = parse_weighting_spec(fit["weighting"], where.child("weighting"))
    for name in ("noise_relative_sigma", "noise_absolute_sigma", "randomize_func_coeffs"):
        fit[name] = float(fit[name])
    return FitSection(options=options, **fit)


__all__ = [
    "callback_search_path",
    "check_trainable_parameters",
    "least_squares_refusal",
    "optimizer_option_names",
    "parse_fit_section",
    "scipy_option_names",
]
