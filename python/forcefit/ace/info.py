"""Summaries of B-basis potentials: what ``pace_info`` prints.

:func:`summarize` collects, for a :class:`.bbasis.BBasisPotential`, the elements, embeddings,
bonds (radial basis, cutoffs in Å, core repulsion, inner cutoff), and per element and body order
(rank + 1) the number of functions with their largest n and l, plus the number of fitted
parameters.  :func:`format_info` lays that out like python-ace's ``pace_info`` (same sections,
same column layout); unlike python-ace it also lists rank 1 in potentials that only have rank-1
functions, and it ends with the number of parameters.  Skipped functions (``skip: true``) are
not counted, as python-ace does not evaluate them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Tuple

from .bbasis import BBasisPotential, number_of_parameters, resolve


@dataclass
class OrderStats:
    """Functions of one rank on one element: count, largest n, largest l."""

    nfuncs: int = 0
    nradmax: int = 0
    lmax: int = 0


@dataclass
class PotentialSummary:
    elements: List[str]
    embeddings: List[Tuple[str, int, str, List[float]]]  # element, ndensity, npoti, FS parameters
    bonds: List[Tuple[str, str, str, float, float, float, float, float, str, int, int, int]]
    # (el_i, el_j, radbase, rcut, r_in, delta_in, prehc, lambdahc, inner type, nradmax, lmax, nradbase)
    orders: Dict[str, Dict[int, OrderStats]] = field(default_factory=dict)  # element -> rank -> stats
    n_radial_parameters: int = 0
    n_function_parameters: int = 0

    @property
    def number_of_functions(self) -> int:
        return sum(s.nfuncs for per in self.orders.values() for s in per.values())

    @property
    def cutoff(self) -> float:
        return max(b[3] for b in self.bonds)


def summarize(pot: BBasisPotential, path=None) -> PotentialSummary:
    """Collect the numbers ``pace_info`` shows (raises ``FileFormatError`` if ``pot`` is inconsistent)."""
    res = resolve(pot, path=path)
    embeddings = [(el, res.embeddings[mu].ndensity, res.embeddings[mu].npoti,
                   [float(x) for x in res.embeddings[mu].FS_parameters]) for mu, el in enumerate(res.elements)]
    bonds = []
    for (mu_i, mu_j) in sorted(res.bonds):
        b = res.bonds[(mu_i, mu_j)]
        bonds.append((res.elements[mu_i], res.elements[mu_j], b.radbasename, float(b.rcut), float(b.rcut_in),
                      float(b.dcut_in), float(b.prehc), float(b.lambdahc), b.inner_cutoff_type,
                      int(b.nradmax), int(b.lmax), int(b.nradbasemax)))
    orders: Dict[str, Dict[int, OrderStats]] = {}
    for mu, el in enumerate(res.elements):
        per: Dict[int, OrderStats] = {}
        for f in res.functions[mu]:
            s = per.setdefault(f.rank, OrderStats())
            s.nfuncs += 1
            s.nradmax = max(s.nradmax, max(f.ns))
            s.lmax = max(s.lmax, max(f.ls))
        orders[el] = dict(sorted(per.items()))
    n_rad, n_func = number_of_parameters(pot)
    return PotentialSummary(elements=res.elements, embeddings=embeddings, bonds=bonds, orders=orders,
                            n_radial_parameters=n_rad, n_function_parameters=n_func)


def format_info(summary: PotentialSummary) -> str:
    """``pace_info``-style text of a summary."""
    lines = ["Available element(s): " + " ".join(summary.elements), "=" * 80, " " * 10 + " Embeddings", "=" * 80,
             "Element\tndens\tFSfunc\t\t\tFS_params", "=" * 80]
    for el, ndens, npoti, params in summary.embeddings:
        lines.append(f"{el:3}\t{ndens}\t{npoti}\t{params}")
    lines += ["=" * 80, f"Total number of functions:  {summary.number_of_functions}", "",
              f"Maximum cutoff:  {summary.cutoff} Ang", "=" * 40, " " * 10 + " Bonds", "=" * 40,
              " Bond    radbase     rcut     r_in   delta_in  prehc   lambdahc core-rep", "=" * 40]
    for el_i, el_j, radbase, rcut, r_in, delta_in, prehc, lambdahc, inner, *_ in summary.bonds:
        numbers = "".join(f"{x:^8.3f} " for x in (rcut, r_in, delta_in, prehc, lambdahc))
        lines.append(f"{el_i:^3}-{el_j:^3}{radbase:^12}{numbers}{inner:^8}")
    lines += ["=" * 40, "", "", "=" * 40, " " * 10 + " Functions (per order)", "=" * 40]
    for el, per in summary.orders.items():
        ranks = list(range(1, max(per, default=0) + 1))
        stats = [per.get(r, OrderStats()) for r in ranks]
        lines.append(el)
        lines.append("order  :\t" + "".join(f"{r}\t" for r in ranks))
        lines.append("nradmax:\t" + "".join(f"{s.nradmax}\t" for s in stats))
        lines.append("lmax   :\t" + "".join(f"{s.lmax}\t" for s in stats))
        lines.append("nfuncs :\t" + "".join(f"{s.nfuncs}\t" for s in stats) + f"sum= {sum(s.nfuncs for s in stats)}")
        lines += ["", "-" * 20]
    lines.append("=" * 40)
    total = summary.n_radial_parameters + summary.n_function_parameters
    lines.append(f"Number of parameters: {total} (radial coefficients {summary.n_radial_parameters}, "
                 f"basis-function coefficients {summary.n_function_parameters})")
    return "\n".join(lines) + "\n"


__all__ = ["OrderStats", "PotentialSummary", "format_info", "summarize"]
